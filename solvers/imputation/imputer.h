// The interface every imputation method implements (one file pair per method in this folder).
//
// An imputer sees the whole table but may learn only from the entries marked in `train`; it predicts the gene
// vectors of the `queries` entries. Methods are stateless between calls: one impute() is one fit + predict, so
// cross-validation folds are independent calls.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/context.h"
#include "io/perturbation_table.h"

namespace tessera::solvers::imputation {

class Imputer {
 public:
  virtual ~Imputer() = default;

  virtual std::string name() const = 0;

  // train: num_entries flags (1 = observed entry the method may use). queries: entry indices to predict.
  // Returns genes x queries.size(). Collective over ctx when distributes_itself(ctx, table); otherwise local.
  virtual Eigen::MatrixXd impute(const engine::Context& ctx, const io::PerturbationTable& table,
                                 const std::vector<std::uint8_t>& train,
                                 const std::vector<std::int64_t>& queries) const = 0;

  // True when impute() spreads its own work over the ranks of ctx for problems of this table (kernel methods,
  // FaLRTC). Otherwise cross-validation spreads whole folds over the ranks and calls impute() with ctx.alone(),
  // and the completion runs on rank 0 alone. A method may answer by size: a kernel system that fits one rank is
  // solved faster there, folds side by side, than spread over ranks that spend the time communicating. Local;
  // the callers agree on the answer over the ranks (any rank that says true decides).
  virtual bool distributes_itself(const engine::Context& ctx, const io::PerturbationTable& table) const {
    (void)ctx, (void)table;
    return false;
  }
};

}  // namespace tessera::solvers::imputation
