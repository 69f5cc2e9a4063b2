// `tessera inspect FILE`: what is in a GCTX/GCT file, before running anything on it.
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

#include "engine/collectives.h"
#include "engine/error.h"
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

}  // namespace

int run_inspect(const engine::Context& world, const std::vector<std::string>& args) {
  po::options_description options("inspect options");
  options.add_options()("file", po::value<std::string>()->required(), "GCTX or GCT file (also positional)");
  std::vector<std::string> all = args;
  if (!all.empty() && all[0].rfind("-", 0) != 0) all.insert(all.begin(), "--file");
  const auto vm = parse_options(world, spec_of("inspect"), options, all);
  if (!vm) return 0;
  const std::string path = (*vm)["file"].as<std::string>();

  const auto data = read_signature_file(world, path);
  // Statistics of no values would print min inf and max -inf as if they were data.
  TESSERA_CHECK(!data.rows.ids.empty() && !data.cols.ids.empty(), "'", path, "' holds ", data.rows.size(), " genes x ",
                data.cols.size(),
                " signatures: there is nothing to inspect; check that this is the "
                "file you meant");
  // Value statistics over every rank's block: count, NaNs, min, max, sum, sum of squares.
  double stats[4] = {0, 0, 0, 0};  // count, nan, sum, sum of squares
  double low = std::numeric_limits<double>::infinity(), high = -low;
  for (Eigen::Index j = 0; j < data.values.cols(); ++j) {
    for (Eigen::Index i = 0; i < data.values.rows(); ++i) {
      const double v = data.values(i, j);
      if (std::isnan(v)) {
        stats[1] += 1;
        continue;
      }
      stats[0] += 1;
      stats[2] += v;
      stats[3] += v * v;
      low = std::min(low, v);
      high = std::max(high, v);
    }
  }
  engine::allreduce_sum(world, std::span<double>(stats, 4));
  low = -engine::allreduce_max(world, -low);
  high = engine::allreduce_max(world, high);

  if (world.is_root()) {
    std::printf("%s\n  %zu genes x %zu signatures\n", path.c_str(), data.rows.size(), data.cols.size());
    const double mean = stats[0] > 0 ? stats[2] / stats[0] : NAN;
    const double sd = stats[0] > 1 ? std::sqrt((stats[3] - stats[0] * mean * mean) / (stats[0] - 1)) : NAN;
    if (stats[0] > 0)
      std::printf("  values: min %.4g, max %.4g, mean %.4g, sd %.4g, %.0f NaN\n", low, high, mean, sd, stats[1]);
    else
      std::printf("  values: all %.0f are NaN\n", stats[1]);
    for (const char* key : {"cell_id", "pert_id", "pert_type", "pert_idose", "pert_itime"}) {
      if (const auto* field = data.cols.find(key)) {
        std::set<std::string> distinct;
        for (std::size_t i = 0; i < field->size(); ++i) distinct.insert(field->as_string(i));
        std::printf("  %zu distinct %s\n", distinct.size(), key);
      }
    }
    print_fields("row (gene)", data.rows);
    print_fields("column (signature)", data.cols);
  }
  return 0;
}

}  // namespace tessera::jobs
