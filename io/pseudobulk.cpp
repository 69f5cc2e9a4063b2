#include "io/pseudobulk.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "engine/agree.h"
#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/partition.h"
#include "engine/progress.h"

namespace tessera::io {

Pseudobulk pseudobulk(const engine::Context& ctx, const H5adCells& file, const std::vector<std::int64_t>& group_of_cell,
                      std::int64_t num_groups, const std::vector<std::int64_t>& genes,
                      const PseudobulkOptions& options) {
  TESSERA_ASSERT(std::int64_t(group_of_cell.size()) == file.num_cells() && num_groups >= 0);
  Pseudobulk result;
  result.means = Eigen::MatrixXd::Zero(Eigen::Index(genes.size()), Eigen::Index(num_groups));
  result.cells.assign(std::size_t(num_groups), 0);
  // Output row of each var row (-1: not kept), and, for cells whose genes are not stored in increasing order, one
  // cell's values by gene, so that repeated entries of a gene are summed before the transform (only the touched
  // genes are visited and cleared).
  std::vector<std::int64_t> row_of_gene(std::size_t(file.num_genes()), -1);
  for (std::size_t r = 0; r < genes.size(); ++r) row_of_gene[std::size_t(genes[r])] = std::int64_t(r);
  std::vector<double> cell_values(std::size_t(file.num_genes()), 0.0);
  std::vector<std::int64_t> touched;

  const engine::BlockRange mine = engine::block_range(file.num_cells(), ctx.size(), ctx.rank());
  engine::Progress progress("pseudobulk, rank 0's cells", mine.size(), "cells");
  const std::string what = "pseudobulk of '" + file.path().string() + "'";
  engine::run_agreeing(ctx, what.c_str(), [&] {
    file.for_each_cell(mine, [&](std::int64_t cell, std::span<const std::int64_t> stored_genes,
                                 std::span<const double> values) {
      if (ctx.is_root()) progress.update(cell - mine.begin + 1);
      const std::int64_t group = group_of_cell[std::size_t(cell)];
      if (group < 0) return;
      auto sums = result.means.col(Eigen::Index(group));
      double total = 0;
      for (const double v : values) total += v;
      const double scale = options.normalize_total > 0 && total > 0 ? options.normalize_total / total : 1.0;
      auto add = [&](std::int64_t gene, double value) {
        const std::int64_t row = row_of_gene[std::size_t(gene)];
        if (row < 0) return;
        value *= scale;
        if (options.log1p) {
          TESSERA_CHECK(value > -1.0, "h5ad file '", file.path().string(), "', /X: cell ", cell, " (obs '",
                        file.obs().ids[std::size_t(cell)], "') has value ", value, " for gene '",
                        file.var().ids[std::size_t(gene)],
                        "', where log1p is undefined: --log1p expects counts or normalised counts; leave it out for "
                        "data already on a log scale");
          value = std::log1p(value);
        }
        sums(Eigen::Index(row)) += value;
      };
      // Canonical CSR (and dense X) store each gene once, in increasing order: add straight into the sums.
      // Otherwise a gene may repeat, and its entries are summed first (as scipy does) in the scratch row.
      if (std::is_sorted(stored_genes.begin(), stored_genes.end(), std::less_equal<>())) {
        for (std::size_t k = 0; k < stored_genes.size(); ++k) add(stored_genes[k], values[k]);
      } else {
        for (std::size_t k = 0; k < stored_genes.size(); ++k) {
          const auto gene = std::size_t(stored_genes[k]);
          if (cell_values[gene] == 0.0) touched.push_back(stored_genes[k]);
          cell_values[gene] += values[k];
        }
        for (const std::int64_t gene : touched) {
          add(gene, cell_values[std::size_t(gene)]);
          cell_values[std::size_t(gene)] = 0.0;
        }
        touched.clear();
      }
      ++result.cells[std::size_t(group)];
    });
  });
  if (ctx.is_root()) progress.finish();
  engine::allreduce_sum(ctx, result.means);
  engine::allreduce_sum(ctx, std::span<std::int64_t>(result.cells));
  for (std::int64_t g = 0; g < num_groups; ++g)
    if (result.cells[std::size_t(g)] > 0) result.means.col(Eigen::Index(g)) /= double(result.cells[std::size_t(g)]);
  return result;
}

}  // namespace tessera::io
