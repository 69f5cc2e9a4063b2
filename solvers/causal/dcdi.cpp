#include "solvers/causal/dcdi.h"

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "engine/error.h"
#include "io/atomic_file.h"
#include "io/npy.h"

namespace tessera::solvers::causal {

namespace {

std::filesystem::path file(const std::filesystem::path& folder, const std::string& stem, int index,
                           const std::string& extension) {
  return folder / (stem + std::to_string(index) + extension);
}

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  TESSERA_CHECK(in, "cannot open '", path.string(), "'");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

// "1,4" -> "1;4" after checking every index; "" stays "".
std::string target_list(const std::string& line, int p, const std::filesystem::path& path, std::size_t line_no) {
  std::string out;
  std::stringstream items(line);
  for (std::string item; std::getline(items, item, ',');) {
    std::size_t used = 0;
    int j = -1;
    try {
      j = std::stoi(item, &used);
    } catch (const std::exception&) {
    }
    TESSERA_CHECK(used == item.size() && j >= 0 && j < p, "'", path.string(), "' line ", line_no, ": '", item,
                  "' is not a variable index in [0, ", p, ")");
    out.append(out.empty() ? "X" : ";X").append(std::to_string(j));
  }
  return out;
}

}  // namespace

InterventionalData read_dcdi(const std::filesystem::path& folder, int index) {
  const auto data_path = file(folder, "data_interv", index, ".npy");
  const auto interventions_path = file(folder, "intervention", index, ".csv");
  const auto regimes_path = file(folder, "regime", index, ".csv");
  TESSERA_CHECK(std::filesystem::exists(data_path), "DCDI folder '", folder.string(), "' has no ",
                data_path.filename().string(), " (is --dcdi-index right?)");
  const Eigen::MatrixXd samples = io::read_npy(data_path);
  const int p = int(samples.cols());
  const auto n = std::size_t(samples.rows());

  auto masks = read_lines(interventions_path);
  // csv.writer ends the file with a newline; a shorter file may simply lack the empty last lines.
  TESSERA_CHECK(masks.size() <= n, "'", interventions_path.string(), "' has ", masks.size(), " lines for ", n,
                " samples in ", data_path.filename().string());
  masks.resize(n);
  std::vector<std::string> targets(n);
  for (std::size_t r = 0; r < n; ++r) targets[r] = target_list(masks[r], p, interventions_path, r + 1);

  std::vector<std::string> regimes(n);
  if (std::filesystem::exists(regimes_path)) {
    auto lines = read_lines(regimes_path);
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    TESSERA_CHECK(lines.size() == n, "'", regimes_path.string(), "' has ", lines.size(), " lines for ", n, " samples");
    for (std::size_t r = 0; r < n; ++r) {
      regimes[r] = lines[r];
      TESSERA_CHECK(regimes[r] != "0" || targets[r].empty(), "'", interventions_path.string(), "' line ", r + 1,
                    ": regime 0 is observational but lists targets ", targets[r]);
    }
  } else {
    // Without regimes, the intervention list is the setting.
    for (std::size_t r = 0; r < n; ++r) regimes[r] = targets[r].empty() ? "0" : targets[r];
  }
  std::map<std::string, std::pair<std::string, std::size_t>> targets_of;  // regime -> (targets, first line)
  for (std::size_t r = 0; r < n; ++r) {
    const auto [it, fresh] = targets_of.emplace(regimes[r], std::make_pair(targets[r], r + 1));
    TESSERA_CHECK(fresh || it->second.first == targets[r], "'", interventions_path.string(), "' line ", r + 1,
                  ": regime ", regimes[r], " lists targets '", targets[r], "' but line ", it->second.second,
                  " of the same regime lists '", it->second.first, "'");
  }
  TESSERA_CHECK(targets_of.count("0"), "'", folder.string(),
                "': no sample is observational (regime 0 in regime<i>.csv, or an empty line of intervention<i>.csv); "
                "discovery needs observational samples");
  std::string spec;
  for (const auto& [regime, entry] : targets_of)
    if (regime != "0" && !entry.first.empty())
      spec.append(spec.empty() ? "" : ",").append(regime).append(":").append(entry.first);

  std::vector<std::string> variables;
  for (int j = 0; j < p; ++j) variables.push_back(std::string("X").append(std::to_string(j)));
  CausalCsvOptions options;
  options.observational = {"0"};
  return interventional_data_from_rows(std::move(variables), samples, regimes, spec, options, folder.string(),
                                       "the regimes");
}

std::optional<Dag> read_dcdi_dag(const std::filesystem::path& folder, int index) {
  const auto path = file(folder, "DAG", index, ".npy");
  if (!std::filesystem::exists(path)) return std::nullopt;
  const Eigen::MatrixXd adjacency = io::read_npy(path);
  TESSERA_CHECK(adjacency.rows() == adjacency.cols(), "'", path.string(), "' is ", adjacency.rows(), " x ",
                adjacency.cols(), ", not a square adjacency matrix");
  Dag dag(int(adjacency.rows()));
  for (Eigen::Index i = 0; i < adjacency.rows(); ++i)
    for (Eigen::Index j = 0; j < adjacency.cols(); ++j)
      if (adjacency(i, j) != 0) dag.add_edge(int(i), int(j));
  dag.topological_order();  // throws on a cycle
  return dag;
}

void write_dcdi(const std::filesystem::path& folder, int index, const InterventionalData& data, const Dag* truth) {
  io::make_output_folder(folder);
  io::write_npy(file(folder, "data_interv", index, ".npy"), data.samples);
  auto write_lines = [&](const std::filesystem::path& path, auto&& line_of) {
    io::write_stream_atomically(path, [&](std::ostream& out) {
      for (std::size_t r = 0; r < data.setting.size(); ++r) out << line_of(data.setting[r]) << '\n';
    });
  };
  write_lines(file(folder, "intervention", index, ".csv"), [&](int setting) {
    std::string line;
    for (int j : data.known_targets[std::size_t(setting)])
      line.append(line.empty() ? "" : ",").append(std::to_string(j));
    return line;
  });
  write_lines(file(folder, "regime", index, ".csv"), [](int setting) { return std::to_string(setting); });
  if (truth) {
    Eigen::MatrixXd adjacency = Eigen::MatrixXd::Zero(truth->num_nodes(), truth->num_nodes());
    for (const auto& [i, j] : truth->edges()) adjacency(i, j) = 1;
    io::write_npy(file(folder, "DAG", index, ".npy"), adjacency);
  }
}

}  // namespace tessera::solvers::causal
