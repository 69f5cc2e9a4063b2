#include "solvers/simulation/lincs_release.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <sstream>
#include <type_traits>

#include "engine/agree.h"
#include "engine/error.h"
#include "engine/partition.h"
#include "engine/random.h"
#include "io/atomic_file.h"
#include "io/gctx_writer.h"
#include "io/hdf5_file.h"
#include "io/meta_table.h"

namespace tessera::solvers::simulation {

namespace {

namespace fs = std::filesystem;
using engine::RandomStream;

// LINCS beta's compound doses; most signatures are at 10 uM, as in the release.
constexpr std::array<const char*, 6> kDoses = {"10", "0.04", "0.12", "0.37", "1.11", "3.33"};
constexpr double kTenMicromolarShare = 0.7;  // the rest spread evenly over the other doses
constexpr double kShortTimeShare = 0.2;      // 6 h instead of 24 h
constexpr double kNonGoldQcPass = 0.5;       // gold signatures always pass QC; the others half the time

constexpr const char* kTruthGroup = "/lincs";
constexpr const char* kTruthFormat = "tessera.simulation.lincs_truth";

std::string padded(std::int64_t number, int width) {
  std::string digits = std::to_string(number);
  if (int(digits.size()) < width) digits.insert(0, std::size_t(width) - digits.size(), '0');
  return digits;
}

int digits_of(std::int64_t n) { return int(std::to_string(n).size()); }

// How many cells measure each compound: at least one each (when there are enough signatures), the rest by
// popularity, capped at the cell count. Systematic rounding of the cumulative shares makes the counts add up to
// the request exactly; compounds that would exceed the cap are capped and the rest shared again (water-filling).
std::vector<std::int64_t> cells_per_compound(const LincsReleaseParams& p) {
  const std::int64_t treated = p.treated_signatures();
  const std::int64_t compounds = p.compounds;
  std::vector<std::int64_t> counts(std::size_t(compounds), treated >= compounds ? 1 : 0);
  std::int64_t remaining = treated - std::accumulate(counts.begin(), counts.end(), std::int64_t(0));
  RandomStream random(p.seed, "lincs/popularity");
  std::vector<double> popularity(static_cast<std::size_t>(compounds));
  for (auto& w : popularity) w = std::exp(p.popularity_sd * random.normal());
  std::vector<std::int64_t> active;
  for (std::int64_t d = 0; d < compounds; ++d)
    if (counts[std::size_t(d)] < p.cells) active.push_back(d);
  std::vector<std::int64_t> extra(std::size_t(compounds), 0);
  while (remaining > 0 && !active.empty()) {
    double total = 0;
    for (auto d : active) total += popularity[std::size_t(d)];
    double cumulative = 0;
    std::int64_t previous = 0;
    std::vector<std::int64_t> capped, kept;
    for (auto d : active) {
      cumulative += popularity[std::size_t(d)];
      const std::int64_t upto = std::llround(double(remaining) * (cumulative / total));
      extra[std::size_t(d)] = upto - previous;
      previous = upto;
      const std::int64_t room = p.cells - counts[std::size_t(d)];
      (extra[std::size_t(d)] > room ? capped : kept).push_back(d);
    }
    if (capped.empty()) {
      for (auto d : active) counts[std::size_t(d)] += extra[std::size_t(d)];
      break;
    }
    for (auto d : capped) {
      remaining -= p.cells - counts[std::size_t(d)];
      counts[std::size_t(d)] = p.cells;
    }
    active = std::move(kept);
  }
  return counts;
}

// Each compound's cells: `count` of them without replacement, odds following the cell weights
// (Efraimidis-Spirakis: the largest log(u) / weight), from the compound's own stream.
std::vector<std::int32_t> cells_of_compound(const LincsReleaseParams& p, const std::vector<double>& cell_weights,
                                            int compound, std::int64_t count) {
  RandomStream random(p.seed, "lincs/cells_of_compound", std::uint64_t(compound));
  std::vector<std::pair<double, std::int32_t>> keyed(std::size_t(p.cells));
  for (int c = 0; c < p.cells; ++c) keyed[std::size_t(c)] = {std::log(1.0 - random.uniform()) / cell_weights[c], c};
  std::nth_element(keyed.begin(), keyed.begin() + count, keyed.end(), std::greater<>());
  std::vector<std::int32_t> cells;
  for (std::int64_t i = 0; i < count; ++i) cells.push_back(keyed[std::size_t(i)].second);
  return cells;
}

// The stream of one signature, named by its pair (controls after all pairs), never by a rank.
std::uint64_t pair_index(const LincsReleaseParams& p, const LincsSignature& s) {
  if (s.compound >= 0) return std::uint64_t(s.cell) * std::uint64_t(p.compounds) + std::uint64_t(s.compound);
  return std::uint64_t(p.cells) * std::uint64_t(p.compounds) + std::uint64_t(s.cell) * std::uint64_t(p.dmso_per_cell) +
         std::uint64_t(s.control);
}

void draw_signature_meta(const LincsReleaseParams& p, LincsSignature& s) {
  RandomStream random(p.seed, "lincs/signature", pair_index(p, s));
  if (s.compound >= 0) {
    // Dose 0 (10 uM) with kTenMicromolarShare, else one of the other doses, evenly.
    const double u = random.uniform();
    const double others = double(kDoses.size() - 1);
    s.dose = u < kTenMicromolarShare
                 ? 0
                 : std::uint8_t(1 + std::min(others - 1, std::floor((u - kTenMicromolarShare) /
                                                                    (1 - kTenMicromolarShare) * others)));
    s.short_time = random.bernoulli(kShortTimeShare);
  }
  s.gold = random.bernoulli(p.gold_share);
  s.qc_pass = s.gold || random.bernoulli(kNonGoldQcPass);
}

std::vector<double> cell_weights(const LincsReleaseParams& p) {
  RandomStream random(p.seed, "lincs/cell_weights");
  std::vector<double> weights(std::size_t(p.cells));
  for (auto& w : weights) w = std::exp(p.cell_weight_sd * random.normal());
  return weights;
}

// The observed values of one signature: its truth plus its own noise, as float.
void generate(const LincsModel& model, const LincsSignature& s, float* out) {
  const auto& p = model.params;
  const int genes = int(model.gene_loadings.rows());
  RandomStream noise(p.seed, "lincs/noise", pair_index(p, s));
  const double sd = s.gold ? p.noise : 2 * p.noise;
  if (s.compound < 0) {
    for (int g = 0; g < genes; ++g) out[g] = float(sd * noise.normal());
    return;
  }
  const Eigen::VectorXd truth = lincs_true_signature(model, s.cell, s.compound);
  for (int g = 0; g < genes; ++g) out[g] = float(truth[g] + sd * noise.normal());
}

io::MetaTable id_table(std::vector<std::string> ids) {
  io::MetaTable table;
  table.ids = std::move(ids);
  return table;
}

std::string feature_space(int gene) {
  if (gene < kLincsLandmarkGenes) return "landmark";
  if (gene < kLincsLandmarkGenes + kLincsBestInferredGenes) return "best inferred";
  return "inferred";
}

void write_siginfo(const fs::path& path, const LincsReleaseParams& p, const std::vector<LincsSignature>& signatures) {
  io::write_stream_atomically(path, [&](std::ostream& out) {
    out << "sig_id\tpert_id\tcmap_name\tpert_type\tcell_iname\tpert_idose\tpert_itime\tpert_dose\tpert_dose_unit\t"
           "pert_time\tpert_time_unit\tis_gold\tqc_pass\n";
    for (const auto& s : signatures) {
      const bool control = s.compound < 0;
      const std::string pert_id = control ? "DMSO" : lincs_pert_id(s.compound);
      const std::string time = s.short_time ? "6" : "24";
      out << lincs_sig_id(p, s) << '\t' << pert_id << '\t'
          << (control ? std::string("DMSO") : "sim-" + padded(s.compound + 1, 8)) << '\t'
          << (control ? "ctl_vehicle" : "trt_cp") << '\t' << lincs_cell_name(p, s.cell) << '\t'
          << (control ? std::string("-666") : std::string(kDoses[s.dose]) + " uM") << '\t' << time << " h\t"
          << (control ? "-666" : kDoses[s.dose]) << '\t' << (control ? "-666" : "uM") << '\t' << time << "\th\t"
          << int(s.gold) << '\t' << int(s.qc_pass) << '\n';
    }
  });
}

void write_geneinfo(const fs::path& path, int genes) {
  io::write_stream_atomically(path, [&](std::ostream& out) {
    out << "gene_id\tgene_symbol\tensembl_id\tgene_title\tgene_type\tsrc\tfeature_space\n";
    for (int g = 0; g < genes; ++g)
      out << lincs_gene_id(g) << "\tSIMG" << padded(g + 1, 5) << "\tENSG" << padded(g + 1, 11) << "\tsimulated gene "
          << g + 1 << "\tprotein-coding\tsimulated\t" << feature_space(g) << '\n';
  });
}

void write_truth(const fs::path& path, const LincsModel& model) {
  io::Hdf5Writer out(path);
  const std::string group = kTruthGroup;
  out.write_matrix(group + "/gene_loadings", model.gene_loadings);
  out.write_matrix(group + "/cell_factors", model.cell_factors);
  out.write_matrix(group + "/compound_factors", model.compound_factors);
  out.write_vector(group + "/compound_strength",
                   std::vector<double>(model.compound_strength.data(),
                                       model.compound_strength.data() + model.compound_strength.size()));
  out.write_attribute(group, "format", kTruthFormat);
  out.write_attribute(group, "seed", std::to_string(model.params.seed));  // text: a uint64 does not fit a double
  LincsReleaseParams params = model.params;
  engine::for_each_knob(params, [&](const auto& name, const auto& value, const auto&) {
    out.write_attribute(group, name, double(value));
  });
  out.close();
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------

void LincsReleaseParams::validate() const {
  engine::check_knobs(*this);
  TESSERA_CHECK(total_signatures() >= 1, "simulate --release: ", cells, " cells x ", compounds,
                " compounds at observed = ", observed, " give no treated signature and dmso_per_cell = ", dmso_per_cell,
                " no control; raise --observed or --dmso-per-cell");
  TESSERA_CHECK(std::int64_t(cells) * dmso_per_cell + treated_signatures() < (std::int64_t(1) << 31),
                "simulate --release: ", total_signatures(),
                " signatures is more than this simulator indexes (2^31); lower --observed or --compounds");
}

std::string LincsReleaseParams::describe() const {
  std::ostringstream out;
  out << "seed=" << seed;
  LincsReleaseParams copy = *this;
  engine::for_each_knob(copy,
                        [&](const auto& name, const auto& value, const auto&) { out << ' ' << name << '=' << value; });
  return out.str();
}

std::int64_t LincsReleaseParams::treated_signatures() const {
  return std::llround(observed * double(cells) * double(compounds));
}

LincsModel make_lincs_model(const LincsReleaseParams& p) {
  p.validate();
  LincsModel model{p, Eigen::MatrixXd(p.genes, p.factors), Eigen::MatrixXd(p.cells, p.factors),
                   Eigen::MatrixXd(p.compounds, p.factors), Eigen::VectorXd(p.compounds)};
  const double loading_sd = 1.0 / std::sqrt(double(p.factors));
  for (int g = 0; g < p.genes; ++g) {  // per gene: the first G genes are the same whatever --genes
    RandomStream random(p.seed, "lincs/gene", std::uint64_t(g));
    for (int k = 0; k < p.factors; ++k) model.gene_loadings(g, k) = loading_sd * random.normal();
  }
  for (int c = 0; c < p.cells; ++c) {
    RandomStream random(p.seed, "lincs/cell", std::uint64_t(c));
    for (int k = 0; k < p.factors; ++k) model.cell_factors(c, k) = 1.0 + p.cell_sd * random.normal();
  }
  const double mean_correction = std::exp(-0.5 * p.strength_sd * p.strength_sd);  // E[exp(sd z)] = exp(sd^2 / 2)
  for (int d = 0; d < p.compounds; ++d) {
    RandomStream random(p.seed, "lincs/compound", std::uint64_t(d));
    for (int k = 0; k < p.factors; ++k) model.compound_factors(d, k) = random.normal();
    model.compound_strength[d] = p.signal * std::exp(p.strength_sd * random.normal()) * mean_correction;
  }
  return model;
}

Eigen::VectorXd lincs_true_signature(const LincsModel& model, int cell, int compound) {
  const auto& L = model.gene_loadings;
  TESSERA_CHECK(
      cell >= 0 && cell < model.cell_factors.rows() && compound >= 0 && compound < model.compound_factors.rows(),
      "lincs_true_signature: (cell ", cell, ", compound ", compound, ") is outside the model's ",
      model.cell_factors.rows(), " cells x ", model.compound_factors.rows(), " compounds");
  const Eigen::Index factors = L.cols();
  std::vector<double> weight(static_cast<std::size_t>(factors));
  for (Eigen::Index k = 0; k < factors; ++k)
    weight[std::size_t(k)] =
        model.compound_strength[compound] * model.cell_factors(cell, k) * model.compound_factors(compound, k);
  // One scalar loop in a fixed order (k ascending for every gene): the generator calls this very function, so the
  // truth and the observed values agree to the last bit whatever the rank count or the slab size.
  Eigen::VectorXd truth = Eigen::VectorXd::Zero(L.rows());
  for (Eigen::Index k = 0; k < factors; ++k) {
    const double w = weight[std::size_t(k)];
    const double* column = L.col(k).data();
    for (Eigen::Index g = 0; g < L.rows(); ++g) truth[g] += column[g] * w;
  }
  return truth;
}

std::vector<LincsSignature> lincs_signatures(const LincsReleaseParams& p) {
  p.validate();
  const std::vector<std::int64_t> counts = cells_per_compound(p);
  const std::vector<double> weights = cell_weights(p);
  // Per cell, its observed compounds in compound order: count first, then fill (one pass over the compounds each).
  std::vector<std::int64_t> per_cell(std::size_t(p.cells) + 1, 0);
  std::vector<std::vector<std::int32_t>> chosen(std::size_t(p.compounds));
  for (int d = 0; d < p.compounds; ++d) {
    chosen[std::size_t(d)] = cells_of_compound(p, weights, d, counts[std::size_t(d)]);
    for (auto c : chosen[std::size_t(d)]) ++per_cell[std::size_t(c) + 1];
  }
  std::vector<std::int64_t> offsets(std::size_t(p.cells) + 1, 0);
  for (int c = 0; c < p.cells; ++c)
    offsets[std::size_t(c) + 1] = offsets[std::size_t(c)] + p.dmso_per_cell + per_cell[std::size_t(c) + 1];
  std::vector<LincsSignature> signatures(std::size_t(offsets.back()));
  std::vector<std::int64_t> next(offsets.begin(), offsets.end() - 1);
  for (int c = 0; c < p.cells; ++c)
    for (int k = 0; k < p.dmso_per_cell; ++k) {
      auto& s = signatures[std::size_t(next[std::size_t(c)]++)];
      s.cell = c;
      s.compound = -1;
      s.control = k;
    }
  for (int d = 0; d < p.compounds; ++d) {
    for (auto c : chosen[std::size_t(d)]) {
      auto& s = signatures[std::size_t(next[std::size_t(c)]++)];
      s.cell = c;
      s.compound = d;
    }
    std::vector<std::int32_t>().swap(chosen[std::size_t(d)]);
  }
  for (auto& s : signatures) draw_signature_meta(p, s);
  return signatures;
}

std::string lincs_cell_name(const LincsReleaseParams& p, int cell) {
  return "CELL" + padded(cell + 1, std::max(3, digits_of(p.cells)));
}

std::string lincs_pert_id(int compound) { return "BRD-K" + padded(compound + 1, 8); }

std::string lincs_sig_id(const LincsReleaseParams& p, const LincsSignature& s) {
  const std::string cell = lincs_cell_name(p, s.cell);
  if (s.compound < 0) return "CTL001_" + cell + "_24H:DMSO:" + std::to_string(s.control + 1);
  const int batch_width = std::max(3, digits_of((p.compounds - 1) / 1000 + 1));
  return "SIM" + padded(s.compound / 1000 + 1, batch_width) + "_" + cell + (s.short_time ? "_6H:" : "_24H:") +
         lincs_pert_id(s.compound) + ":" + kDoses[s.dose];
}

// Entrez-like: distinct, increasing, irregular steps.
std::int64_t lincs_gene_id(int gene) { return 1 + 5 * std::int64_t(gene) + gene % 4; }

LincsReleaseFiles lincs_release_files(const fs::path& folder, const LincsReleaseParams& p) {
  // LINCS names a file of every pert_type "all" and one of compounds only "trt_cp".
  const std::string kind = p.dmso_per_cell > 0 ? "all" : "trt_cp";
  return {folder / ("level5_beta_" + kind + "_n" + std::to_string(p.total_signatures()) + "x" +
                    std::to_string(p.genes) + ".gctx"),
          folder / "siginfo_beta.txt", folder / "geneinfo_beta.txt", folder / "truth.h5"};
}

LincsReleaseFiles write_lincs_release(const fs::path& folder, const LincsReleaseParams& params,
                                      const engine::Context& ctx,
                                      const std::function<void(std::int64_t, std::int64_t)>& progress) {
  params.validate();
  const LincsReleaseFiles files = lincs_release_files(folder, params);
  const LincsModel model = make_lincs_model(params);
  const std::vector<LincsSignature> signatures = lincs_signatures(params);
  const std::int64_t total = std::int64_t(signatures.size());
  {
    std::vector<std::string> gene_ids, sig_ids;
    for (int g = 0; g < params.genes; ++g) gene_ids.push_back(std::to_string(lincs_gene_id(g)));
    sig_ids.reserve(signatures.size());
    for (const auto& s : signatures) sig_ids.push_back(lincs_sig_id(params, s));
    // Columns carry only `id`, as LINCS beta's level 5 files do: the rest is in siginfo_beta.txt.
    io::GctxSlabWriter writer(files.gctx, ctx, id_table(std::move(gene_ids)), id_table(std::move(sig_ids)));
    const engine::BlockRange block = engine::block_range(total, ctx.size(), ctx.rank());
    Eigen::MatrixXf slab;
    for (std::int64_t begin = block.begin; begin < block.end; begin += params.write_chunk) {
      const std::int64_t end = std::min(block.end, begin + params.write_chunk);
      slab.resize(params.genes, end - begin);
      for (std::int64_t j = begin; j < end; ++j)
        generate(model, signatures[std::size_t(j)], slab.col(j - begin).data());
      writer.write(begin, slab);
      if (progress) progress((end - block.begin) * ctx.size(), total);
    }
    writer.close();
  }
  const std::string what = "writing the side tables of '" + folder.string() + "'";
  engine::run_agreeing(ctx, what.c_str(), [&] {
    if (!ctx.is_root()) return;
    write_siginfo(files.siginfo, params, signatures);
    write_geneinfo(files.geneinfo, params.genes);
    write_truth(files.truth, model);
  });
  return files;
}

LincsModel read_lincs_truth(const fs::path& path) {
  io::Hdf5Reader in(path);
  const std::string group = kTruthGroup;
  TESSERA_CHECK(
      in.has(group + "/gene_loadings") && in.read_string_attribute(group, "format") == std::string(kTruthFormat), "'",
      path.string(), "' is not a LINCS release truth file (no ", group, " with format ", kTruthFormat,
      "); give the truth.h5 that `tessera simulate --release` wrote");
  LincsModel model;
  model.params.seed = std::stoull(in.read_string_attribute(group, "seed"));
  engine::for_each_knob(model.params, [&](const auto& name, auto& value, const auto&) {
    value = static_cast<std::remove_reference_t<decltype(value)>>(in.read_number_attribute(group, name));
  });
  model.gene_loadings = in.read_matrix(group + "/gene_loadings");
  model.cell_factors = in.read_matrix(group + "/cell_factors");
  model.compound_factors = in.read_matrix(group + "/compound_factors");
  const std::vector<double> strength = in.read_vector(group + "/compound_strength");
  model.compound_strength = Eigen::Map<const Eigen::VectorXd>(strength.data(), Eigen::Index(strength.size()));
  TESSERA_CHECK(model.gene_loadings.rows() == model.params.genes && model.cell_factors.rows() == model.params.cells &&
                    model.compound_factors.rows() == model.params.compounds &&
                    model.compound_strength.size() == model.params.compounds &&
                    model.gene_loadings.cols() == model.params.factors &&
                    model.cell_factors.cols() == model.params.factors &&
                    model.compound_factors.cols() == model.params.factors,
                "'", path.string(), "': the factor matrices do not match the parameters stored with them (",
                model.params.describe(), "); the file is damaged: write it again");
  return model;
}

}  // namespace tessera::solvers::simulation
