#include "solvers/search/library.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <unordered_map>

#include "engine/error.h"

namespace tessera::solvers::search {

namespace {
std::vector<std::string> text_field(const io::MetaTable& cols, const char* name, const char* fallback) {
  std::vector<std::string> out(cols.size(), fallback);
  if (const auto* field = cols.find(name))
    for (std::size_t i = 0; i < cols.size(); ++i) out[i] = field->as_string(i);
  return out;
}
}  // namespace

std::string method_of_file_name(const std::string& path) {
  const std::string stem = std::filesystem::path(path).stem().string();
  const std::string prefix = "completed_";
  return stem.rfind(prefix, 0) == 0 ? stem.substr(prefix.size()) : "";
}

std::vector<int> Library::row_order(const io::MetaTable& rows, const std::string& what, const std::string& fix) const {
  std::vector<int> order(rows.size());
  if (rows_.ids.empty()) {
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = int(i);
    return order;
  }
  std::unordered_map<std::string, int> position;
  for (std::size_t i = 0; i < rows.size(); ++i) position.emplace(rows.ids[i], int(i));
  order.assign(rows_.size(), 0);
  std::vector<std::string> missing;
  for (std::size_t g = 0; g < rows_.size(); ++g) {
    const auto hit = position.find(rows_.ids[g]);
    if (hit == position.end())
      missing.push_back(rows_.ids[g]);
    else
      order[g] = hit->second;
  }
  if (!missing.empty()) {
    std::string listed;
    for (std::size_t i = 0; i < std::min<std::size_t>(missing.size(), 5); ++i)
      listed += (i ? ", '" : "'") + missing[i] + "'";
    TESSERA_FAIL(what, " lacks ", missing.size(), " of the ", rows_.size(), " genes (row ids) of the library",
                 first_source_.empty() ? "" : " file '" + first_source_ + "'", ", e.g. ", listed,
                 missing.size() > 5 ? ", ..." : "", ": ", fix);
  }
  return order;
}

std::size_t Library::add(const io::GeneMatrix& matrix, const std::string& method, const std::vector<std::string>& cells,
                         const std::string& source) {
  const auto order = row_order(matrix.rows, "library file '" + source + "'",
                               "every --library file must hold the same genes (row ids)");
  if (rows_.ids.empty()) rows_ = matrix.rows, first_source_ = source;
  const auto cell = text_field(matrix.cols, "cell_id", "");
  const auto pert = text_field(matrix.cols, "pert_id", "");
  const auto name = text_field(matrix.cols, "pert_iname", "");
  const auto pert_type = text_field(matrix.cols, "pert_type", "");
  std::vector<double> imputed(matrix.cols.size(), 0);
  if (const auto* field = matrix.cols.find("imputed")) imputed = field->as_numbers("library file '" + source + "'");
  std::vector<Eigen::Index> keep;
  for (std::size_t c = 0; c < matrix.cols.size(); ++c) {
    if (!cells.empty() && std::find(cells.begin(), cells.end(), cell[c]) == cells.end()) continue;
    const bool is_imputed = imputed[c] == 1;
    TESSERA_CHECK(!is_imputed || !method.empty(), "signature '", matrix.cols.ids[c],
                  "' is marked imputed but its file is not named completed_<method>.gctx");
    // Same id and observed: the same signature repeated by another completed_<method>.gctx.
    if (!is_imputed && !ids_.insert(matrix.cols.ids[c]).second) continue;
    // This signature becomes column size() of the library (info_ grows below).
    if (!is_imputed && !cell[c].empty()) observed_.emplace(std::make_pair(cell[c], pert[c]), size());
    keep.push_back(Eigen::Index(c));
    info_.push_back({matrix.cols.ids[c], cell[c], pert[c], is_imputed ? "imputed:" + method : "observed",
                     is_imputed ? method : "", name[c], pert_type[c]});
  }
  const Eigen::Index old = values_.cols();
  values_.conservativeResize(Eigen::Index(order.size()), old + Eigen::Index(keep.size()));
  for (std::size_t k = 0; k < keep.size(); ++k)
    for (std::size_t g = 0; g < order.size(); ++g)
      values_(Eigen::Index(g), old + Eigen::Index(k)) = matrix.values(order[g], keep[k]);
  return keep.size();
}

std::size_t Library::add_heldout(const io::GeneMatrix& heldout, const std::string& method, const std::string& source) {
  TESSERA_CHECK(!rows_.ids.empty(), "add the library signatures before the heldout predictions");
  // The heldout file is the one at fault here, not the library: say so, with the genes it lacks.
  const auto order = row_order(heldout.rows, "--heldout file '" + source + "'",
                               "give the heldout_<method>.gctx written by the same `tessera impute` run as the "
                               "library's completed_<method>.gctx");
  const auto cell = text_field(heldout.cols, "cell_id", "");
  const auto pert = text_field(heldout.cols, "pert_id", "");
  const auto fold =
      heldout.cols.require("fold", "heldout predictions of " + method).as_numbers("--heldout file '" + source + "'");
  std::size_t kept = 0;
  for (std::size_t c = 0; c < heldout.cols.size(); ++c) {
    const auto hit = observed_.find({cell[c], pert[c]});
    if (hit == observed_.end() || std::isnan(fold[c])) continue;
    auto& pool = residuals_[{method, cell[c]}];
    const Eigen::Index r = pool.values.cols();
    pool.values.conservativeResize(values_.rows(), r + 1);
    for (std::size_t g = 0; g < order.size(); ++g)
      pool.values(Eigen::Index(g), r) =
          heldout.values(order[g], Eigen::Index(c)) - values_(Eigen::Index(g), hit->second);
    pool.folds.push_back(std::int64_t(fold[c]));
    ++kept;
  }
  return kept;
}

std::int64_t Library::num_imputed() const {
  std::int64_t n = 0;
  for (const auto& i : info_) n += i.method.empty() ? 0 : 1;
  return n;
}

const Library::Residuals* Library::residuals(const std::string& method, const std::string& cell) const {
  const auto hit = residuals_.find({method, cell});
  return hit == residuals_.end() || hit->second.folds.empty() ? nullptr : &hit->second;
}

}  // namespace tessera::solvers::search
