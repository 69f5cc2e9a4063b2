#include "solvers/imputation/dnpp.h"

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <utility>

#include "engine/agree.h"
#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/partition.h"
#include "solvers/imputation/query_blocks.h"
#include "solvers/imputation/training_set.h"

namespace tessera::solvers::imputation {

namespace {

// Correlations are summed as integers in units of 2^-50: |r| <= 1, so 8191 cell types fit in an int64.
constexpr double kFixedPointScale = 0x1p50;
constexpr std::int64_t kMaxCells = 8191;
// A signature whose centred norm is at most this fraction of its norm is constant: its correlation is undefined.
constexpr double kConstantTolerance = 1e-12;
// Correlations are computed kBlockDrugs columns at a time, so a dense cell type needs n x kBlockDrugs doubles.
constexpr Eigen::Index kBlockDrugs = 512;

void check_arguments(const io::PerturbationTable& table, const std::vector<std::uint8_t>& train,
                     const std::vector<std::int64_t>& queries) {
  check_impute_arguments("dnpp", table, train, queries);
  TESSERA_CHECK(table.num_cells() <= kMaxCells, "dnpp: the table has ", table.num_cells(), " cell types; at most ",
                kMaxCells, " are supported (64-bit similarity sums)");
}

// Signatures of cell type c's training drugs, centred and scaled to unit norm (zero when constant), so that
// Z^T Z holds their Pearson correlations.
Eigen::MatrixXd standardized_signatures(const io::PerturbationTable& table, std::int64_t cell,
                                        const std::vector<std::int64_t>& drugs) {
  Eigen::MatrixXd z(table.num_genes(), Eigen::Index(drugs.size()));
  for (std::size_t i = 0; i < drugs.size(); ++i) {
    const auto column = table.signature(table.entry(cell, drugs[i]));
    auto out = z.col(Eigen::Index(i));
    out = column.array() - column.mean();
    const double centred = out.norm();
    if (centred > 0.0 && centred > kConstantTolerance * column.norm())
      out /= centred;
    else
      out.setZero();
  }
  return z;
}

// Collective: sum over shared cell types of r_u(a, b), in units of 2^-50; drugs x drugs, column-major,
// exactly symmetric, zero diagonal. Each rank adds the cell types of its block, one per round (the ranks agree on
// failures and stop signals after each: engine::run_agreeing_in_rounds); one allreduce sums them.
std::vector<std::int64_t> correlation_sums(const engine::Context& ctx, const io::PerturbationTable& table,
                                           const TrainingLayout& layout) {
  const std::int64_t n_drugs = layout.num_drugs;
  std::vector<std::int64_t> sums(std::size_t(n_drugs * n_drugs), 0);
  if (table.num_genes() < 2) return sums;  // every correlation undefined: all sums stay 0
  // One cell type per rank per round; the ranks agree after each (a round is n_u^2 x genes flops).
  const auto mine = engine::block_range(table.num_cells(), ctx.size(), ctx.rank());
  const std::int64_t rounds = engine::block_range(table.num_cells(), ctx.size(), 0).size();  // the largest block
  const auto add_cell = [&](std::int64_t round) {
    const std::int64_t c = mine.begin + round;
    if (c >= mine.end) return;
    const auto& drugs = layout.drugs_of_cell[std::size_t(c)];
    const auto n = Eigen::Index(drugs.size());
    if (n < 2) return;
    const Eigen::MatrixXd z = standardized_signatures(table, c, drugs);
    for (Eigen::Index b0 = 0; b0 < n; b0 += kBlockDrugs) {
      const Eigen::Index nb = std::min(kBlockDrugs, n - b0);
      // Rows i >= b0 only: the strict lower triangle of this column block, mirrored below.
      const Eigen::MatrixXd g = z.rightCols(n - b0).transpose() * z.middleCols(b0, nb);
      for (Eigen::Index jj = 0; jj < nb; ++jj) {
        const std::int64_t dj = drugs[std::size_t(b0 + jj)];
        for (Eigen::Index i = b0 + jj + 1; i < n; ++i) {
          const double r = std::clamp(g(i - b0, jj), -1.0, 1.0);
          const auto units = std::int64_t(std::llround(r * kFixedPointScale));
          const std::int64_t di = drugs[std::size_t(i)];
          sums[std::size_t(dj * n_drugs + di)] += units;
          sums[std::size_t(di * n_drugs + dj)] += units;
        }
      }
    }
  };
  engine::run_agreeing_in_rounds(ctx, "dnpp", rounds, add_cell, [&](std::int64_t done) {
    const std::int64_t cells = std::min(table.num_cells(), done * ctx.size());
    return "dnpp: stopped after correlating the drugs of " + std::to_string(cells) + " of " +
           std::to_string(table.num_cells()) + " cell types";
  });
  engine::allreduce_sum(ctx, std::span<std::int64_t>(sums));
  return sums;
}

// s(a, b) from the exact sums: identical on every rank.
class Similarity {
 public:
  Similarity(const TrainingLayout& layout, std::vector<std::int64_t> sums) : layout_(layout), sums_(std::move(sums)) {}

  double operator()(std::int64_t a, std::int64_t b) const {
    if (a == b) return 0.0;
    const int shared = layout_.shared_cells(a, b);
    if (shared == 0) return 0.0;
    const double mean = double(sums_[std::size_t(a * layout_.num_drugs + b)]) / kFixedPointScale / double(shared);
    return std::max(0.0, mean);
  }

 private:
  const TrainingLayout& layout_;
  std::vector<std::int64_t> sums_;
};

}  // namespace

Dnpp::Dnpp(const DnppParams& params) : params_(params) { params_.validate(); }

Eigen::MatrixXd dnpp_similarity(const engine::Context& ctx, const io::PerturbationTable& table,
                                const std::vector<std::uint8_t>& train) {
  check_arguments(table, train, {});
  const TrainingLayout layout(table, train);
  const Similarity similarity(layout, correlation_sums(ctx, table, layout));
  Eigen::MatrixXd s(table.num_perts(), table.num_perts());
  for (std::int64_t b = 0; b < table.num_perts(); ++b)
    for (std::int64_t a = 0; a < table.num_perts(); ++a) s(a, b) = similarity(a, b);
  return s;
}

Eigen::MatrixXd Dnpp::impute(const engine::Context& ctx, const io::PerturbationTable& table,
                             const std::vector<std::uint8_t>& train, const std::vector<std::int64_t>& queries) const {
  check_arguments(table, train, queries);
  const TrainingLayout layout(table, train);
  TESSERA_CHECK(layout.num_training > 0, "dnpp: no training entry (the train mask selects no observed entry)");
  const Similarity similarity(layout, correlation_sums(ctx, table, layout));
  const TrainingMeans means(table, train);

  // A query costs microseconds (its cell type's similarities and k weighted columns): agree every 1024 queries.
  return predict_in_blocks(
      ctx, "dnpp", table.num_genes(), std::int64_t(queries.size()), 1024,
      [&](std::int64_t first, std::int64_t last, Eigen::Ref<Eigen::MatrixXd> out) {
        std::vector<std::pair<double, std::int64_t>> neighbours;  // (s(a, j), j)
        for (std::int64_t q = first; q < last; ++q) {
          const auto c = table.cell_of(queries[std::size_t(q)]), a = table.pert_of(queries[std::size_t(q)]);
          neighbours.clear();
          for (const auto j : layout.drugs_of_cell[std::size_t(c)]) {
            if (j == a) continue;
            if (const double s = similarity(a, j); s > 0.0) neighbours.emplace_back(s, j);
          }
          auto prediction = out.col(Eigen::Index(q - first));
          if (neighbours.empty()) {
            prediction = means.drug_mean(c, a);
            continue;
          }
          const auto used = std::min<std::size_t>(std::size_t(params_.k), neighbours.size());
          std::partial_sort(neighbours.begin(), neighbours.begin() + std::ptrdiff_t(used), neighbours.end(),
                            [](const auto& x, const auto& y) {
                              return x.first > y.first || (x.first == y.first && x.second < y.second);
                            });
          prediction.setZero();
          double weight = 0.0;
          for (std::size_t i = 0; i < used; ++i) {
            prediction += neighbours[i].first * table.signature(table.entry(c, neighbours[i].second));
            weight += neighbours[i].first;
          }
          prediction /= weight;
        }
      });
}

}  // namespace tessera::solvers::imputation
