// `tessera inspect FILE`: what is in a GCTX/GCT or AnnData (.h5ad) file, before running anything on it.
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <set>
#include <span>

#include "engine/agree.h"
#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/partition.h"
#include "io/h5ad.h"
#include "jobs/commands.h"
#include "jobs/signature_file.h"

namespace tessera::jobs {

namespace {

const char* type_name(io::MetaType type) {
  switch (type) {
    case io::MetaType::kString:
      return "string";
    case io::MetaType::kFloat32:
      return "float32";
    case io::MetaType::kFloat64:
      return "float64";
    case io::MetaType::kInt32:
      return "int32";
    case io::MetaType::kInt64:
      return "int64";
  }
  return "?";
}

void print_fields(const char* title, const io::MetaTable& table) {
  std::printf("%s metadata: %zu ids, %zu fields\n", title, table.size(), table.fields.size());
  for (const auto& field : table.fields) {
    std::set<std::string> distinct;
    std::size_t missing = 0;
    for (std::size_t i = 0; i < field.size(); ++i) {
      if (field.is_missing(i))
        ++missing;
      else if (distinct.size() < 1000)
        distinct.insert(field.as_string(i));
    }
    std::printf("  %-28s %-8s %6zu missing  %s%zu distinct  e.g. '%s'\n", field.name.c_str(), type_name(field.type),
                missing, distinct.size() >= 1000 ? ">=" : "", distinct.size(),
                field.size() ? field.as_string(0).c_str() : "");
  }
}

// Value statistics of every rank's values, combined: count, NaNs, sum, sum of squares, min, max.
struct ValueStats {
  double count = 0, nan = 0, sum = 0, squares = 0;
  double low = std::numeric_limits<double>::infinity(), high = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (std::isnan(v)) {
      nan += 1;
      return;
    }
    count += 1, sum += v, squares += v * v;
    low = std::min(low, v), high = std::max(high, v);
  }
  void combine(const engine::Context& world) {
    double totals[4] = {count, nan, sum, squares};
    engine::allreduce_sum(world, std::span<double>(totals, 4));
    count = totals[0], nan = totals[1], sum = totals[2], squares = totals[3];
    low = -engine::allreduce_max(world, -low);
    high = engine::allreduce_max(world, high);
  }
};

// An AnnData file's values a batch of cells at a time (a single-cell file may not fit in memory): the entries a
// sparse X does not store are zeros and count as values.
ValueStats h5ad_stats(const engine::Context& world, const io::H5adCells& file) {
  ValueStats stats;
  const auto mine = engine::block_range(file.num_cells(), world.size(), world.rank());
  double unstored = 0;
  engine::run_agreeing(world, "inspecting the h5ad file", [&] {
    file.for_each_cell(mine, [&](std::int64_t, std::span<const std::int64_t> genes, std::span<const double> values) {
      for (const double v : values) stats.add(v);
      unstored += double(file.num_genes()) - double(genes.size());
    });
  });
  if (unstored > 0)
    stats.count += unstored, stats.low = std::min(stats.low, 0.0), stats.high = std::max(stats.high, 0.0);
  stats.combine(world);
  return stats;
}

ValueStats block_stats(const engine::Context& world, const io::LocalGctx<float>& data) {
  ValueStats stats;
  for (Eigen::Index j = 0; j < data.values.cols(); ++j)
    for (Eigen::Index i = 0; i < data.values.rows(); ++i) stats.add(data.values(i, j));
  stats.combine(world);
  return stats;
}

}  // namespace

int run_inspect(const engine::Context& world, const std::vector<std::string>& args) {
  po::options_description options("inspect options");
  options.add_options()("file", po::value<std::string>()->required(),
                        "GCTX, GCT or AnnData (.h5ad) file (also positional)");
  std::vector<std::string> all = args;
  if (!all.empty() && all[0].rfind("-", 0) != 0) all.insert(all.begin(), "--file");
  const auto vm = parse_options(world, spec_of("inspect"), options, all);
  if (!vm) return 0;
  const std::string path = (*vm)["file"].as<std::string>();

  // An AnnData file is read a batch of cells at a time; obs and var are its metadata.
  std::optional<io::H5adCells> cells;
  io::LocalGctx<float> data;
  if (io::is_h5ad_path(path)) {
    cells.emplace(path, world);
    data.rows = cells->var();
    data.cols = cells->obs();
  } else {
    data = read_signature_file(world, path);
  }
  const char* samples = cells ? "cells" : "signatures";
  // Statistics of no values would print min inf and max -inf as if they were data.
  TESSERA_CHECK(!data.rows.ids.empty() && !data.cols.ids.empty(), "'", path, "' holds ", data.rows.size(), " genes x ",
                data.cols.size(), " ", samples, ": there is nothing to inspect; check that this is the file you meant");
  const ValueStats stats = cells ? h5ad_stats(world, *cells) : block_stats(world, data);

  if (world.is_root()) {
    std::printf("%s\n  %zu genes x %zu %s\n", path.c_str(), data.rows.size(), data.cols.size(), samples);
    const double mean = stats.count > 0 ? stats.sum / stats.count : NAN;
    const double sd =
        stats.count > 1 ? std::sqrt((stats.squares - stats.count * mean * mean) / (stats.count - 1)) : NAN;
    if (stats.count > 0)
      std::printf("  values: min %.4g, max %.4g, mean %.4g, sd %.4g, %.0f NaN\n", stats.low, stats.high, mean, sd,
                  stats.nan);
    else
      std::printf("  values: all %.0f are NaN\n", stats.nan);
    for (const char* key : {"cell_id", "pert_id", "pert_type", "pert_idose", "pert_itime"}) {
      if (const auto* field = data.cols.find(key)) {
        std::set<std::string> distinct;
        for (std::size_t i = 0; i < field->size(); ++i) distinct.insert(field->as_string(i));
        std::printf("  %zu distinct %s\n", distinct.size(), key);
      }
    }
    print_fields(cells ? "var (gene)" : "row (gene)", data.rows);
    print_fields(cells ? "obs (cell)" : "column (signature)", data.cols);
  }
  return 0;
}

}  // namespace tessera::jobs
