// NumPy .npy files (format versions 1-3), as DCDI and most Python causal-discovery code store data and DAGs.
//
// Reads 2-D (or 1-D, as one column) little-endian arrays of float64, float32, int64, int32, uint8 or bool, in C
// or Fortran order, into a dense double matrix. Writes float64 in C order, version 1.0, through a temporary name.
// A file that is not .npy, has another dtype or shape, or is truncated gives a tessera::Error naming the file and
// what is wrong.
#pragma once

#include <Eigen/Dense>
#include <filesystem>

namespace tessera::io {

Eigen::MatrixXd read_npy(const std::filesystem::path& path);

void write_npy(const std::filesystem::path& path, const Eigen::MatrixXd& matrix);

}  // namespace tessera::io
