// GCTX (CMap's HDF5 format) read and write, compatible with cmapPy.
//
// Layout in the file: /0/DATA/0/matrix holds the data stored (num_signatures x num_genes), row-major;
// /0/META/ROW/<field> and /0/META/COL/<field> hold metadata, each with an `id` field. Data may be float32 or
// float64; fields may be fixed- or variable-length strings (NUL- or space-padded), floats or integers; -666
// marks a missing value.
//
// Reading is distributed: GctxReader opens the file on every rank of a Context through the MPI-IO driver,
// reads all metadata (small) on every rank, and each rank reads only the block of signatures it asks for.
// Every problem (missing file, a folder, not HDF5, missing dataset, an empty matrix, data/metadata shape
// mismatch, duplicate ids, truncated or damaged file) throws tessera::Error naming the file, the place inside it
// and what is wrong. Each dataset's length, type, filters and stored size are checked before it is read
// (io/hdf5_checks.h), so a damaged file is refused rather than read past a buffer, and HDF5 failing to read its
// internals is reported as a damaged file, never as a missing dataset. Text leaves the reader as UTF-8: values
// stored in Latin-1 (LINCS2020's pert_idose "10 \xb5M") are re-encoded (io/text_encoding.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "engine/context.h"
#include "engine/partition.h"
#include "io/gene_matrix.h"

namespace tessera::io {

class GctxReader {
 public:
  // Collective over ctx: opens the file and reads and checks all metadata.
  GctxReader(const std::filesystem::path& path, const engine::Context& ctx);
  ~GctxReader();
  GctxReader(const GctxReader&) = delete;
  GctxReader& operator=(const GctxReader&) = delete;

  const std::filesystem::path& path() const;
  std::int64_t num_genes() const;
  std::int64_t num_signatures() const;
  MetaType data_type() const;  // kFloat32 or kFloat64, as stored
  const MetaTable& rows() const;
  const MetaTable& cols() const;

  // Collective: every rank calls it, each with its own [begin, end) range of signatures (may be empty).
  // Returns genes x (end - begin), converted to Scalar if the file stores the other type.
  template <typename Scalar>
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> read_signatures(std::int64_t begin, std::int64_t end) const;

  // Collective: every rank calls it with its own signature indices (may be empty) and the same gene indices, both
  // strictly increasing and within the file. Returns genes.size() x signatures.size(): column k is signature
  // signatures[k] restricted to the genes, in their order. Only those values are read: the file selection is the
  // union of (run of consecutive signatures) x (run of consecutive genes) hyperslabs, read collectively in batches
  // of about batch_bytes of result (256 KiB; at most 1,024 signatures), so the memory HDF5 and MPI-IO use for the
  // selection's description stays small beside the result (on 10,000 x 978 of 20,000 x 12,328: peak RSS 82 MiB
  // with 200 KB batches, 146 MiB with 1 MiB, 343 MiB with 4 MB, for a 37 MiB result).
  template <typename Scalar>
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> read_selection(std::span<const std::int64_t> signatures,
                                                                       std::span<const std::int64_t> genes,
                                                                       std::int64_t batch_bytes = 256 << 10) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// This rank's block of signatures (engine::block_range over ranks) with all metadata.
template <typename Scalar>
struct LocalGctx {
  MetaTable rows;                                   // all genes
  MetaTable cols;                                   // ALL signatures, not only the local ones
  engine::BlockRange signatures;                    // which columns of `cols` this rank holds
  typename BasicGeneMatrix<Scalar>::Matrix values;  // genes x signatures.size()
};

// Collective: each rank reads its own block of signatures.
template <typename Scalar = float>
LocalGctx<Scalar> read_gctx_local(const std::filesystem::path& path, const engine::Context& ctx);

// Collective: every rank reads the whole file (for small files and tests).
template <typename Scalar = float>
BasicGeneMatrix<Scalar> read_gctx(const std::filesystem::path& path, const engine::Context& ctx);

struct GctxWriteOptions {
  int gzip_level = 0;                // 0 = no compression (fastest to read); cmapPy's default is 6
  std::int64_t max_chunk_kb = 1024;  // chunk size bound, as cmapPy
};

// Local (call on one rank): builds the file in memory, then writes it with io/atomic_file.h (temporary, checked
// writes, fsync, rename), so a failure (a full disk included) is one Error naming `path` and leaves no file
// under that name. Data is stored in Scalar's type; metadata in each field's own type; NaN numbers as -666.
template <typename Scalar>
void write_gctx(const std::filesystem::path& path, const BasicGeneMatrix<Scalar>& matrix,
                const GctxWriteOptions& options = {});

}  // namespace tessera::io
