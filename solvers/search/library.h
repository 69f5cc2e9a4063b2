// The library of drug signatures a query is ranked against: observed signatures plus those imputed by
// `tessera impute`, each labelled with where it came from, in one genes x signatures matrix.
//
// Layout: values is Eigen column-major, genes x signatures (float, as CMap stores them); every rank holds the
// whole library (978 genes x ~10^3-10^4 signatures is a few tens of MB), the candidates are what is sharded.
// Sources: a completed_<method>.gctx column with imputed = 1 is "imputed:<method>"; imputed = 0 or a plain
// signature file gives "observed". Observed signatures are not added twice
// (every completed_<method>.gctx repeats the observed signatures): an observed column whose id is
// already in the library is skipped. Later files must carry every gene of the
// first (matched by row id); their rows are reordered to the first file's.
//
// Uncertainty of imputed signatures: add_heldout() takes `tessera impute`'s heldout_<method>.gctx (predictions
// of observed signatures with a `fold` column) and stores the residuals prediction - observed per (method, cell
// type, fold). A residual bootstrap then scores imputed + residual, the residual drawn by first drawing a fold
// uniformly, then a residual of that fold uniformly. All functions are local (no MPI).
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "io/gene_matrix.h"

namespace tessera::solvers::search {

struct SignatureInfo {
  std::string id;
  std::string cell;
  std::string pert;
  std::string source;     // "observed" or "imputed:<method>"
  std::string method;     // "" for observed
  std::string name;       // pert_iname when the file has it
  std::string pert_type;  // pert_type when the file has it (trt_cp, trt_sh, ...): CMap's NCS groups by it
};

class Library {
 public:
  // Adds the columns of `matrix` whose cell_id is in `cells` (all when empty). method: the imputation method
  // that produced the file's imputed columns ("" for a file of observed signatures). source: the file, for
  // messages. Returns columns added.
  std::size_t add(const io::GeneMatrix& matrix, const std::string& method, const std::vector<std::string>& cells,
                  const std::string& source = "");

  // Adds the residuals of a heldout_<method>.gctx (needs cell_id, pert_id, fold columns); predictions whose
  // observed signature is not in the library are skipped. A heldout file that lacks genes of the library is an
  // Error naming the file (source) and the genes. Returns the residuals kept.
  std::size_t add_heldout(const io::GeneMatrix& heldout, const std::string& method, const std::string& source = "");

  std::int64_t size() const { return std::int64_t(info_.size()); }
  std::int64_t num_genes() const { return values_.rows(); }
  const io::MetaTable& rows() const { return rows_; }
  const Eigen::MatrixXf& values() const { return values_; }
  const SignatureInfo& info(std::int64_t i) const { return info_[std::size_t(i)]; }
  std::int64_t num_imputed() const;

  // Residual columns (genes x R) and their folds for (method, cell), or nullptr when none were loaded.
  struct Residuals {
    Eigen::MatrixXf values;
    std::vector<std::int64_t> folds;
  };
  const Residuals* residuals(const std::string& method, const std::string& cell) const;

 private:
  // Position in `rows` of each library gene; an Error naming `what` (the file and its role) and the missing genes.
  std::vector<int> row_order(const io::MetaTable& rows, const std::string& what, const std::string& fix) const;
  io::MetaTable rows_;
  std::string first_source_;  // the file that set the genes
  Eigen::MatrixXf values_;
  std::vector<SignatureInfo> info_;
  std::map<std::pair<std::string, std::string>, std::int64_t> observed_;  // (cell, pert) -> first column
  std::set<std::string> ids_;                                             // ids of observed columns
  std::map<std::pair<std::string, std::string>, Residuals> residuals_;
};

// "results/completed_ntk.gctx" -> "ntk"; "" when the name does not start with "completed_".
std::string method_of_file_name(const std::string& path);

}  // namespace tessera::solvers::search
