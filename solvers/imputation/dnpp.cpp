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
#include "engine/progress.h"
#include "solvers/imputation/training_set.h"

namespace tessera::solvers::imputation {

namespace {

// Correlations are summed as integers in units of 2^-50: |r| <= 1, so 8191 cell types fit in an int64.
constexpr double kFixedPointScale = 0x1p50;
constexpr std::int64_t kMaxCells = 8191;
// A signature whose centred norm is at most this fraction of its norm is constant: its correlation is undefined.
constexpr double kConstantTolerance = 1e-12;

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

// The drugs (table perturbations) are cut into blocks of row_block consecutive indices; the similarity is computed
// one block of rows s(a, .) at a time, so memory holds row_block x drugs sums, never drugs x drugs (7 GB for
// LINCS2020's 30,000 compounds). The block size depends on the drug count only (16 blocks, 64 to 1024 drugs each),
// never on the rank count: each correlation is one element of a product whose shape is set by the blocks (below),
// and Eigen's rounding depends on that shape, so fixed blocks keep every rank count's results bit-identical.
std::int64_t row_block_size(std::int64_t drugs) { return std::clamp<std::int64_t>((drugs + 15) / 16, 64, 1024); }

// Sums over shared cell types of r_u(a, b) for the drugs a of row block [first, last) and every drug b, in units
// of 2^-50: (last - first) x drugs, row-major, zero where a == b. For a cell type u with drugs in both blocks A
// (the rows) and B, r_u(a, b) is an element of Z_hi^T Z_lo, hi the higher-numbered of A and B: the same product
// whether the rows being computed are A's or B's, so s(a, b) == s(b, a) exactly; inside one block the strict
// lower triangle of Z_A^T Z_A is mirrored.
std::vector<std::int64_t> correlation_rows(const io::PerturbationTable& table, const TrainingLayout& layout,
                                           std::int64_t first, std::int64_t last, std::int64_t row_block) {
  const std::int64_t n_drugs = layout.num_drugs;
  std::vector<std::int64_t> sums(std::size_t((last - first) * n_drugs), 0);
  if (table.num_genes() < 2) return sums;  // every correlation undefined: all sums stay 0
  const auto add = [&](std::int64_t a, std::int64_t b, double r) {
    sums[std::size_t((a - first) * n_drugs + b)] +=
        std::int64_t(std::llround(std::clamp(r, -1.0, 1.0) * kFixedPointScale));
  };
  for (std::int64_t c = 0; c < table.num_cells(); ++c) {
    const auto& drugs = layout.drugs_of_cell[std::size_t(c)];  // increasing
    const auto in_rows = [&](std::int64_t lo, std::int64_t hi) {
      return std::pair(std::lower_bound(drugs.begin(), drugs.end(), lo) - drugs.begin(),
                       std::lower_bound(drugs.begin(), drugs.end(), hi) - drugs.begin());
    };
    const auto [a0, a1] = in_rows(first, last);
    if (a1 == a0 || drugs.size() < 2) continue;
    const Eigen::MatrixXd z = standardized_signatures(table, c, drugs);
    const auto rows = z.middleCols(a0, a1 - a0);
    for (std::int64_t b_first = 0; b_first < n_drugs; b_first += row_block) {
      const auto [b0, b1] = in_rows(b_first, b_first + row_block);
      if (b1 == b0) continue;
      const auto cols = z.middleCols(b0, b1 - b0);
      if (b0 == a0) {  // the rows' own block
        const Eigen::MatrixXd g = rows.transpose() * rows;
        for (Eigen::Index j = 0; j < g.cols(); ++j)
          for (Eigen::Index i = j + 1; i < g.rows(); ++i) {
            add(drugs[std::size_t(a0 + i)], drugs[std::size_t(a0 + j)], g(i, j));
            add(drugs[std::size_t(a0 + j)], drugs[std::size_t(a0 + i)], g(i, j));
          }
      } else if (b0 < a0) {  // rows are the higher block: Z_A^T Z_B
        const Eigen::MatrixXd g = rows.transpose() * cols;
        for (Eigen::Index j = 0; j < g.cols(); ++j)
          for (Eigen::Index i = 0; i < g.rows(); ++i)
            add(drugs[std::size_t(a0 + i)], drugs[std::size_t(b0 + j)], g(i, j));
      } else {  // B is the higher block: Z_B^T Z_A, read transposed
        const Eigen::MatrixXd g = cols.transpose() * rows;
        for (Eigen::Index j = 0; j < g.cols(); ++j)
          for (Eigen::Index i = 0; i < g.rows(); ++i)
            add(drugs[std::size_t(a0 + j)], drugs[std::size_t(b0 + i)], g(i, j));
      }
    }
  }
  return sums;
}

// s(a, b) for the rows a of one block, from the exact sums: identical on every rank.
class SimilarityRows {
 public:
  SimilarityRows(const TrainingLayout& layout, std::int64_t first, std::vector<std::int64_t> sums)
      : layout_(layout), first_(first), sums_(std::move(sums)) {}

  double operator()(std::int64_t a, std::int64_t b) const {
    if (a == b) return 0.0;
    const int shared = layout_.shared_cells(a, b);
    if (shared == 0) return 0.0;
    const double mean =
        double(sums_[std::size_t((a - first_) * layout_.num_drugs + b)]) / kFixedPointScale / double(shared);
    return std::max(0.0, mean);
  }

 private:
  const TrainingLayout& layout_;
  std::int64_t first_;
  std::vector<std::int64_t> sums_;
};

// Collective: calls rows(similarity, first, last) for every block of drugs, each block on one rank (contiguous
// blocks per rank, engine::block_range), one block per round; the ranks agree on failures and stop signals after
// each round (engine::run_agreeing_in_rounds).
template <typename Rows>
void for_each_row_block(const engine::Context& ctx, const TrainingLayout& layout, const io::PerturbationTable& table,
                        Rows&& rows) {
  const std::int64_t row_block = row_block_size(layout.num_drugs);
  const std::int64_t blocks = (layout.num_drugs + row_block - 1) / row_block;
  const auto mine = engine::block_range(blocks, ctx.size(), ctx.rank());
  const std::int64_t rounds = engine::block_range(blocks, ctx.size(), 0).size();  // the largest share
  engine::Progress progress("dnpp", blocks, "blocks of drugs");  // rank 0's rounds stand for every rank's
  engine::run_agreeing_in_rounds(
      ctx, "dnpp", rounds,
      [&](std::int64_t round) {
        const std::int64_t block = mine.begin + round;
        if (block >= mine.end) return;
        const std::int64_t first = block * row_block, last = std::min(layout.num_drugs, first + row_block);
        rows(SimilarityRows(layout, first, correlation_rows(table, layout, first, last, row_block)), first, last);
        progress.update(std::min(blocks, (round + 1) * ctx.size()));
      },
      [&](std::int64_t done) {
        return "dnpp: stopped after " + std::to_string(std::min(blocks, done * ctx.size())) + " of " +
               std::to_string(blocks) + " blocks of drugs";
      });
}

}  // namespace

Dnpp::Dnpp(const DnppParams& params) : params_(params) { params_.validate(); }

Eigen::MatrixXd dnpp_similarity(const engine::Context& ctx, const io::PerturbationTable& table,
                                const std::vector<std::uint8_t>& train) {
  check_arguments(table, train, {});
  const TrainingLayout layout(table, train);
  // Each row is computed by one rank and is zero on the others, so the sum is exact.
  Eigen::MatrixXd s = Eigen::MatrixXd::Zero(table.num_perts(), table.num_perts());
  for_each_row_block(ctx, layout, table, [&](const SimilarityRows& similarity, std::int64_t first, std::int64_t last) {
    for (std::int64_t b = 0; b < table.num_perts(); ++b)
      for (std::int64_t a = first; a < last; ++a) s(a, b) = similarity(a, b);
  });
  engine::allreduce_sum(ctx, s);
  return s;
}

Eigen::MatrixXd Dnpp::impute(const engine::Context& ctx, const io::PerturbationTable& table,
                             const std::vector<std::uint8_t>& train, const std::vector<std::int64_t>& queries) const {
  check_arguments(table, train, queries);
  const TrainingLayout layout(table, train);
  TESSERA_CHECK(layout.num_training > 0, "dnpp: no training entry (the train mask selects no observed entry)");
  const TrainingMeans means(table, train);
  // The queries of each drug, so that a block of similarity rows answers its drugs' queries and is dropped.
  std::vector<std::vector<std::int64_t>> queries_of_drug(std::size_t(table.num_perts()));
  for (std::size_t q = 0; q < queries.size(); ++q)
    queries_of_drug[std::size_t(table.pert_of(queries[q]))].push_back(std::int64_t(q));

  // Each query is predicted by one rank and is zero on the others, so the sum is exact (and bit-identical).
  Eigen::MatrixXd predicted = Eigen::MatrixXd::Zero(table.num_genes(), Eigen::Index(queries.size()));
  std::vector<std::pair<double, std::int64_t>> neighbours;  // (s(a, j), j)
  for_each_row_block(ctx, layout, table, [&](const SimilarityRows& similarity, std::int64_t first, std::int64_t last) {
    for (std::int64_t a = first; a < last; ++a)
      for (const auto q : queries_of_drug[std::size_t(a)]) {
        const auto c = table.cell_of(queries[std::size_t(q)]);
        neighbours.clear();
        for (const auto j : layout.drugs_of_cell[std::size_t(c)]) {
          if (j == a) continue;
          if (const double s = similarity(a, j); s > 0.0) neighbours.emplace_back(s, j);
        }
        auto prediction = predicted.col(Eigen::Index(q));
        if (neighbours.empty()) {
          prediction = means.drug_mean(c, a);
          continue;
        }
        const auto used = std::min<std::size_t>(std::size_t(params_.k), neighbours.size());
        std::partial_sort(neighbours.begin(), neighbours.begin() + std::ptrdiff_t(used), neighbours.end(),
                          [](const auto& x, const auto& y) {
                            return x.first > y.first || (x.first == y.first && x.second < y.second);
                          });
        double weight = 0.0;
        for (std::size_t i = 0; i < used; ++i) {
          prediction += neighbours[i].first * table.signature(table.entry(c, neighbours[i].second));
          weight += neighbours[i].first;
        }
        prediction /= weight;
      }
  });
  engine::allreduce_sum(ctx, predicted);
  return predicted;
}

}  // namespace tessera::solvers::imputation
