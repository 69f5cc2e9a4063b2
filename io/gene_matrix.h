// The content of one GCT or GCTX file: a genes x signatures matrix with row (gene) and column (signature)
// metadata.
//
// Layout: `values` is Eigen column-major, genes x signatures, so one signature's genes are contiguous. That is
// exactly the GCTX on-disk layout (/0/DATA/0/matrix is stored ncol x nrow, row-major), so a block of signatures
// is one contiguous hyperslab. Scalar is float (CMap's own type) or double.
#pragma once

#include <Eigen/Dense>

#include "io/meta_table.h"

namespace tessera::io {

template <typename Scalar>
struct BasicGeneMatrix {
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  Matrix values;   // rows.size() x cols.size()
  MetaTable rows;  // genes
  MetaTable cols;  // signatures

  Eigen::Index num_genes() const { return values.rows(); }
  Eigen::Index num_signatures() const { return values.cols(); }
};

using GeneMatrix = BasicGeneMatrix<float>;
using GeneMatrixD = BasicGeneMatrix<double>;

}  // namespace tessera::io
