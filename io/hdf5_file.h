// A small serial HDF5 container of named arrays, for ground-truth files and (later) checkpoints.
//
// Paths are HDF5 paths ("/truth/signatures"); intermediate groups are created. No object stores a modification
// time, so the same content gives the same bytes (a ground truth written twice is one file). Matrices are stored as
// Eigen (column-major) matrices transposed into HDF5's row-major order, i.e. dataset shape (cols, rows), so that a
// column is contiguous on disk and the file reads naturally in Python as the transpose.
// Errors name the file and the dataset path.
//
// Writing: the file is built in memory and reaches the disk only in close(), through io/atomic_file.h (temporary,
// checked writes, fsync, rename): a full disk is one Error naming the file, with no HDF5 handle left open and no
// file under the final name (io/hdf5_memory_file.h says why HDF5 is not left to write the disk itself).
//
// Reading: each dataset's type, filters and stored size are checked before it is read (io/hdf5_checks.h); a file
// whose HDF5 internals cannot be read is reported as damaged, not as missing a dataset.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "io/atomic_file.h"

namespace tessera::io {

class Hdf5Writer {
 public:
  // Starts the file for `path` in memory; `path`'s folder must exist.
  explicit Hdf5Writer(const std::filesystem::path& path);
  // Without close(): writes the file as close() does unless an exception is on its way (then nothing is
  // written), and throws what close() would. So keep a writer a local variable; prefer calling close().
  ~Hdf5Writer() noexcept(false);
  Hdf5Writer(const Hdf5Writer&) = delete;
  Hdf5Writer& operator=(const Hdf5Writer&) = delete;

  void write_matrix(const std::string& name, const Eigen::MatrixXd& matrix);
  void write_vector(const std::string& name, const std::vector<double>& values);
  void write_ints(const std::string& name, const std::vector<std::int64_t>& values);
  void write_strings(const std::string& name, const std::vector<std::string>& values);
  void write_attribute(const std::string& object, const std::string& name, const std::string& value);
  void write_attribute(const std::string& object, const std::string& name, double value);

  // Writes the file to `path` atomically (io/atomic_file.h) and ends the writer; an Error names the file and
  // the reason ("No space left on device") when the disk refuses it.
  void close(Durability durability = Durability::kFile);

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
