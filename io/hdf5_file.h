// A small serial HDF5 container of named arrays, for ground-truth files and (later) checkpoints.
//
// Paths are HDF5 paths ("/truth/signatures"); intermediate groups are created. Matrices are stored as Eigen
// (column-major) matrices transposed into HDF5's row-major order, i.e. dataset shape (cols, rows), so that a
// column is contiguous on disk and the file reads naturally in Python as the transpose.
// Errors name the file and the dataset path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Dense>

namespace tessera::io {

class Hdf5Writer {
 public:
  // Creates (truncates) the file at `path` directly; wrap in write_atomically() for outputs.
  explicit Hdf5Writer(const std::filesystem::path& path);
  ~Hdf5Writer();
  Hdf5Writer(const Hdf5Writer&) = delete;
  Hdf5Writer& operator=(const Hdf5Writer&) = delete;

  void write_matrix(const std::string& name, const Eigen::MatrixXd& matrix);
  void write_vector(const std::string& name, const std::vector<double>& values);
  void write_ints(const std::string& name, const std::vector<std::int64_t>& values);
  void write_strings(const std::string& name, const std::vector<std::string>& values);
  void write_attribute(const std::string& object, const std::string& name, const std::string& value);
  void write_attribute(const std::string& object, const std::string& name, double value);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class Hdf5Reader {
 public:
  explicit Hdf5Reader(const std::filesystem::path& path);
  ~Hdf5Reader();
  Hdf5Reader(const Hdf5Reader&) = delete;
  Hdf5Reader& operator=(const Hdf5Reader&) = delete;

  bool has(const std::string& name) const;
  Eigen::MatrixXd read_matrix(const std::string& name) const;
  std::vector<double> read_vector(const std::string& name) const;
  std::vector<std::int64_t> read_ints(const std::string& name) const;
  std::vector<std::string> read_strings(const std::string& name) const;
  std::string read_string_attribute(const std::string& object, const std::string& name) const;
  double read_number_attribute(const std::string& object, const std::string& name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::io
