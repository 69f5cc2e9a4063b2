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
  // Returns genes x queries.size(). Collective over ctx when distributes_itself(); otherwise local.
  virtual Eigen::MatrixXd impute(const engine::Context& ctx, const io::PerturbationTable& table,
                                 const std::vector<std::uint8_t>& train,
                                 const std::vector<std::int64_t>& queries) const = 0;

  // True when impute() spreads its own work over the ranks of ctx (kernel methods). Otherwise the protocol
  // runner spreads whole folds over ranks and calls impute() with a one-rank context.
  virtual bool distributes_itself() const { return false; }
};

}  // namespace tessera::solvers::imputation
