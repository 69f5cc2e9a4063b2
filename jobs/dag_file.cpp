#include "jobs/dag_file.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include "engine/error.h"
#include "io/csv.h"
#include "solvers/causal/dag.h"

namespace tessera::jobs {

namespace {

bool has_column(const io::CsvTable& table, const std::string& name) {
  return std::find(table.header.begin(), table.header.end(), name) != table.header.end();
}

}  // namespace

DagFile read_dag_csv(const std::string& path, const std::vector<std::string>& nodes) {
  const auto table = io::read_csv(path);
  const bool from_to = has_column(table, "from") && !has_column(table, "source");
  const auto source = table.column(from_to ? "from" : "source", path);
  const auto target = table.column(from_to ? "to" : "target", path);
  const bool has_weight = has_column(table, "weight");
  const std::size_t weight = has_weight ? table.column("weight", path) : 0;
  DagFile out;
  out.names = nodes;
  std::map<std::string, int> index;
  for (std::size_t i = 0; i < nodes.size(); ++i) index.emplace(nodes[i], int(i));
  std::vector<double> weights;
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    auto node = [&](const std::string& name) {
      if (nodes.empty()) {
        const auto [it, added] = index.emplace(name, int(out.names.size()));
        if (added) out.names.push_back(name);
        return it->second;
      }
      const auto it = index.find(name);
      TESSERA_CHECK(it != index.end(), "DAG file '", path, "' line ", table.line_numbers[r], ": '", name,
                    "' is not a variable of the data");
      return it->second;
    };
    out.edges.emplace_back(node(table.rows[r][source]), node(table.rows[r][target]));
    double w = NAN;
    if (has_weight && !table.rows[r][weight].empty()) {
      try {
        w = std::stod(table.rows[r][weight]);
      } catch (const std::exception&) {
        TESSERA_FAIL("DAG file '", path, "' line ", table.line_numbers[r], ": weight is not a number");
      }
    }
    weights.push_back(w);
  }
  // Checked here, where the names and lines are known, rather than later by index ("edge 0 -> 0").
  for (std::size_t e = 0; e < out.edges.size(); ++e)
    TESSERA_CHECK(out.edges[e].first != out.edges[e].second, "DAG file '", path, "' line ", table.line_numbers[e],
                  ": edge '", out.names[std::size_t(out.edges[e].first)], "' -> '",
                  out.names[std::size_t(out.edges[e].second)], "' is a self loop; a DAG has none: delete the line");
  if (const auto cycle = solvers::causal::find_cycle(int(out.names.size()), out.edges); !cycle.empty()) {
    std::string arrows = out.names[std::size_t(out.edges[cycle.front()].first)], lines;
    for (const auto e : cycle) {
      arrows += " -> " + out.names[std::size_t(out.edges[e].second)];
      lines += (lines.empty() ? "" : ", ") + std::to_string(table.line_numbers[e]);
    }
    TESSERA_FAIL("DAG file '", path, "' has a cycle: ", arrows, " (lines ", lines,
                 "); a DAG has none: delete or reverse one of these edges");
  }
  const Eigen::Index p = Eigen::Index(out.names.size());
  out.weights = Eigen::MatrixXd::Constant(p, p, NAN);
  for (std::size_t e = 0; e < out.edges.size(); ++e) out.weights(out.edges[e].second, out.edges[e].first) = weights[e];
  return out;
}

std::string dot_quoted(const std::string& name) {
  std::string quoted = "\"";
  for (const char c : name) quoted += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return quoted + "\"";
}

std::vector<std::string> read_dot_nodes(const std::filesystem::path& path) {
  std::vector<std::string> nodes;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const auto open = line.find_first_not_of(' ');
    if (open == std::string::npos || line[open] != '"') continue;  // the header or the closing brace
    std::string name;
    std::size_t i = open + 1;
    for (; i < line.size() && line[i] != '"'; ++i) name += line[i] == '\\' && i + 1 < line.size() ? line[++i] : line[i];
    if (line.compare(i, std::string::npos, "\";") == 0) nodes.push_back(name);  // not an arc "a" -> "b";
  }
  return nodes;
}

}  // namespace tessera::jobs
