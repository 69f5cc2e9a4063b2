// GctxSlabWriter: every rank writes its own column slabs through MPI-IO. Runs at 1, 2 and 3 ranks; each file is
// compared with write_gctx's file of the same matrix (values bit for bit, metadata, the matrix dataset's shape,
// type and chunks), with ragged slab plans (ranks with different numbers of writes, a rank with none), and the
// failures: a rank that throws before close(), a signature never written or written twice, bad slabs.
//
// Memory is bounded by construction, not measured here (no timing or memory tests): a rank holds its metadata
// tables and the one slab it passes to write(); the writer keeps only the (begin, end) pairs of its writes.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <stdexcept>

#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/partition.h"
#include "io/gctx.h"
#include "io/gctx_writer.h"
#include "tests/support/full_disk.h"
#include "tests/support/shared_temp_dir.h"
#include "tests/support/test_helpers.h"

namespace tessera::io {
namespace {

using tessera::testing::error_of;
using tessera::testing::expect_mentions;
using tessera::testing::expect_same_meta;
using tessera::testing::has_temporary_files;

namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const engine::Context& world() {
  static const engine::Context context(MPI_COMM_WORLD);
  return context;
}

// This test case's folder, shared by the ranks.
struct TempDir : tessera::testing::SharedTempDir {
  TempDir() : SharedTempDir("tessera_test_gctx_writer") {}
};

// Every kind of value and field: NaN, -0, infinities in the matrix; strings, float32, int64, int32, float64 fields
// with missing values.
GeneMatrix sample_matrix(int genes, int signatures) {
  GeneMatrix m;
  m.values.resize(genes, signatures);
  for (int s = 0; s < signatures; ++s)
    for (int g = 0; g < genes; ++g) m.values(g, s) = float(std::sin(0.37 * g + 1.91 * s) * 3.0);
  m.values(0, 1) = std::numeric_limits<float>::quiet_NaN();
  m.values(1, 1) = -0.0f;
  m.values(2, signatures - 1) = -std::numeric_limits<float>::infinity();
  MetaColumn symbol{"pr_gene_symbol", MetaType::kString, {}, {}};
  MetaColumn weight{"weight", MetaType::kFloat32, {}, {}};
  MetaColumn entrez{"entrez", MetaType::kInt64, {}, {}};
  for (int g = 0; g < genes; ++g) {
    m.rows.ids.push_back(std::to_string(5000 + 7 * g));
    symbol.text.push_back("SYM" + std::to_string(g));
    weight.numbers.push_back(g == 0 ? kNaN : double(float(0.1 * g)));
    entrez.numbers.push_back(g == 2 ? kNaN : double((std::int64_t(1) << 40) + g));
  }
  m.rows.fields = {symbol, weight, entrez};
  MetaColumn cell{"cell_iname", MetaType::kString, {}, {}};
  MetaColumn dose{"pert_dose", MetaType::kFloat64, {}, {}};
  MetaColumn replicate{"replicate", MetaType::kInt32, {}, {}};
  for (int s = 0; s < signatures; ++s) {
    m.cols.ids.push_back("SIM001_CELL00" + std::to_string(s % 3) + "_24H:BRD-K" + std::to_string(10000 + s) + ":10");
    cell.text.push_back(s % 2 ? "A549" : "MCF7");
    dose.numbers.push_back(s == 0 ? kNaN : 0.1 * s);
    replicate.numbers.push_back(s == 1 ? kNaN : double(-s));
  }
  m.cols.fields = {replicate, cell, dose};
  return m;
}

// Small chunks (4 KiB: 27 signatures x 37 genes) so that slabs start and end inside chunks shared by two ranks.
constexpr int kGenes = 37;
constexpr int kSignatures = 301;
const GctxWriteOptions kSmallChunks{0, 4};

// write_gctx's file of the same matrix, written by rank 0: the reference.
fs::path reference_file(const TempDir& dir, const GeneMatrix& m) {
  const fs::path path = dir / "reference.gctx";
  if (world().is_root()) write_gctx(path, m, kSmallChunks);
  world().barrier();
  return path;
}

struct MatrixLayout {
  hsize_t dims[2] = {0, 0};
  hsize_t chunk[2] = {0, 0};
  std::size_t element_size = 0;
  H5T_class_t type_class = H5T_NO_CLASS;
};

// The stored shape, chunk shape and type of /0/DATA/0/matrix, read with the HDF5 C API (not through io/).
MatrixLayout layout_of(const fs::path& path) {
  MatrixLayout layout;
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t dataset = H5Dopen2(file, "/0/DATA/0/matrix", H5P_DEFAULT);
  const hid_t space = H5Dget_space(dataset);
  H5Sget_simple_extent_dims(space, layout.dims, nullptr);
  const hid_t create = H5Dget_create_plist(dataset);
  H5Pget_chunk(create, 2, layout.chunk);
  const hid_t type = H5Dget_type(dataset);
  layout.element_size = H5Tget_size(type);
  layout.type_class = H5Tget_class(type);
  H5Tclose(type);
  H5Pclose(create);
  H5Sclose(space);
  H5Dclose(dataset);
  H5Fclose(file);
  return layout;
}

// The file at `path` equals `reference` as the reader sees it (values bit for bit, metadata, version) and as the
// HDF5 library stores it (shape, chunks, type).
void expect_same_file(const fs::path& path, const fs::path& reference) {
  ASSERT_TRUE(fs::exists(path)) << path;
  const GeneMatrix got = read_gctx<float>(path, world());
  const GeneMatrix want = read_gctx<float>(reference, world());
  ASSERT_EQ(got.values.rows(), want.values.rows());
  ASSERT_EQ(got.values.cols(), want.values.cols());
  // Bit for bit: NaN, -0 and infinities included; these are the bytes of /0/DATA/0/matrix.
  EXPECT_EQ(std::memcmp(got.values.data(), want.values.data(), std::size_t(want.values.size()) * sizeof(float)), 0);
  expect_same_meta(got.rows, want.rows);
  expect_same_meta(got.cols, want.cols);
  if (world().is_root()) {
    const MatrixLayout a = layout_of(path), b = layout_of(reference);
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(a.dims[i], b.dims[i]);
      EXPECT_EQ(a.chunk[i], b.chunk[i]);
    }
    EXPECT_EQ(a.element_size, b.element_size);
    EXPECT_EQ(a.type_class, b.type_class);
  }
}

template <typename Scalar = float>
Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> columns(const GeneMatrix& m, std::int64_t begin,
                                                              std::int64_t end) {
  return m.values.middleCols(begin, end - begin).cast<Scalar>();
}

TEST(GctxSlabWriter, BlocksInChunksReadBackAsWriteGctx) {
  TempDir dir;
  const GeneMatrix m = sample_matrix(kGenes, kSignatures);
  const fs::path reference = reference_file(dir, m);
  const fs::path path = dir / "out" / "slabs.gctx";  // a folder that does not exist yet
  GctxSlabWriter writer(path, world(), m.rows, m.cols, MetaType::kFloat32, kSmallChunks);
  EXPECT_EQ(writer.num_genes(), kGenes);
  EXPECT_EQ(writer.num_signatures(), kSignatures);
  // This rank's block, 50 signatures per write: memory bounded by the write size.
  const engine::BlockRange block = engine::block_range(kSignatures, world().size(), world().rank());
  for (std::int64_t begin = block.begin; begin < block.end; begin += 50)
    writer.write(begin, columns(m, begin, std::min(block.end, begin + 50)));
  writer.close();
  expect_same_file(path, reference);
  if (world().is_root()) {
    EXPECT_FALSE(has_temporary_files(dir.path()));
  }
}

// Rank 0 writes its share in pieces of 7 from the end backwards, rank 1 one double-precision slab (converted to
// float32 by HDF5), the last rank (of 3) nothing at all: different numbers of writes cannot hang anyone.
TEST(GctxSlabWriter, RaggedSlabsAndAnIdleRank) {
  TempDir dir;
  const GeneMatrix m = sample_matrix(kGenes, kSignatures);
  const fs::path reference = reference_file(dir, m);
  const fs::path path = dir / "ragged.gctx";
  const int writers = std::max(1, world().size() - 1);
  GctxSlabWriter writer(path, world(), m.rows, m.cols, MetaType::kFloat32, kSmallChunks);
  if (world().rank() < writers) {
    const engine::BlockRange block = engine::block_range(kSignatures, writers, world().rank());
    if (world().rank() == 1) {
      writer.write(block.begin, columns<double>(m, block.begin, block.end));
    } else {
      for (std::int64_t end = block.end; end > block.begin; end -= 7)
        writer.write(std::max(block.begin, end - 7), columns(m, std::max(block.begin, end - 7), end));
      writer.write(block.begin, columns(m, block.begin, block.begin));  // an empty slab is allowed
    }
  }
  writer.close();
  expect_same_file(path, reference);
}

// float64 storage: the same values as write_gctx<double> stores.
TEST(GctxSlabWriter, Float64Storage) {
  TempDir dir;
  const GeneMatrix m = sample_matrix(kGenes, kSignatures);
  GeneMatrixD md{m.values.cast<double>(), m.rows, m.cols};
  const fs::path reference = dir / "reference64.gctx";
  if (world().is_root()) write_gctx(reference, md, kSmallChunks);
  world().barrier();
  const fs::path path = dir / "slabs64.gctx";
  GctxSlabWriter writer(path, world(), m.rows, m.cols, MetaType::kFloat64, kSmallChunks);
  const engine::BlockRange block = engine::block_range(kSignatures, world().size(), world().rank());
  writer.write(block.begin, Eigen::MatrixXd(md.values.middleCols(block.begin, block.size())));
  writer.close();
  const GeneMatrixD got = read_gctx<double>(path, world());
  const GeneMatrixD want = read_gctx<double>(reference, world());
  EXPECT_EQ(std::memcmp(got.values.data(), want.values.data(), std::size_t(want.values.size()) * sizeof(double)), 0);
  expect_same_meta(got.cols, want.cols);
  if (world().is_root()) {
    EXPECT_EQ(layout_of(path).element_size, 8u);
    EXPECT_EQ(layout_of(path).chunk[0], layout_of(reference).chunk[0]);
  }
}

// The last rank throws before close(): its writer's destructor takes part in the agreement, every other rank's
// close() throws an Error naming the file, the earlier file under that name is untouched and no temporary is
// left. Nobody hangs (ctest's timeout would catch it).
TEST(GctxSlabWriter, RankThatThrowsBeforeCloseLeavesNoFile) {
  TempDir dir;
  const GeneMatrix m = sample_matrix(kGenes, kSignatures);
  const fs::path path = dir / "failed.gctx";
  if (world().is_root()) std::ofstream(path) << "the previous version";
  world().barrier();
  const int thrower = world().size() - 1;
  std::string message;
  bool own_exception = false;
  try {
    GctxSlabWriter writer(path, world(), m.rows, m.cols, MetaType::kFloat32, kSmallChunks);
    const engine::BlockRange block = engine::block_range(kSignatures, world().size(), world().rank());
    writer.write(block.begin, columns(m, block.begin, block.end));
    if (world().rank() == thrower) throw std::runtime_error("simulated failure");
    writer.close();
  } catch (const Error& error) {
    message = error.what();
  } catch (const std::runtime_error&) {
    own_exception = true;
  }
  if (world().rank() == thrower) {
    EXPECT_TRUE(own_exception);
  } else {
    expect_mentions(message, {"cannot write GCTX file '" + path.string() + "'", "another rank failed"});
  }
  world().barrier();
  std::ifstream in(path);
  std::string content;
  std::getline(in, content);
  EXPECT_EQ(content, "the previous version");
  if (world().is_root()) {
    EXPECT_FALSE(has_temporary_files(dir.path()));
  }
}

// A disk that fills during the writes: every rank gets an Error naming the file (the rank whose write failed its
// own, the others "another rank failed"), nobody hangs, and no file or temporary is left. Needs root (a tmpfs).
TEST(GctxSlabWriter, FullDiskFailsEveryRankAndLeavesNoFile) {
  TempDir dir;
  std::unique_ptr<tessera::testing::FullDisk> disk;
  std::int64_t mounted = 0;
  std::string why_not;
  if (world().is_root()) {
    // 1 MiB with about 200 KiB free: the metadata fits (short ids), the 440 KB matrix does not.
    disk = std::make_unique<tessera::testing::FullDisk>(dir / "full", 1024, 200);
    mounted = disk->available();
    why_not = disk->why_not();
  }
  engine::broadcast(world(), std::span<std::int64_t>(&mounted, 1));
  engine::broadcast(world(), why_not);
  if (!mounted) GTEST_SKIP() << why_not;
  GeneMatrix m = sample_matrix(kGenes, 3001);
  for (std::size_t s = 0; s < m.cols.ids.size(); ++s) m.cols.ids[s] = std::to_string(s);
  m.cols.fields.clear();
  const fs::path path = dir / "full" / "big.gctx";
  std::string message;
  try {
    GctxSlabWriter writer(path, world(), m.rows, m.cols, MetaType::kFloat32, kSmallChunks);
    const engine::BlockRange block = engine::block_range(3001, world().size(), world().rank());
    for (std::int64_t begin = block.begin; begin < block.end; begin += 100)
      writer.write(begin, columns(m, begin, std::min(block.end, begin + 100)));
    writer.close();
  } catch (const Error& error) {
    message = error.what();
  }
  expect_mentions(message, {"cannot write GCTX file '" + path.string() + "'"});
  world().barrier();
  if (world().is_root()) {
    EXPECT_FALSE(fs::exists(path));
    EXPECT_FALSE(has_temporary_files(dir / "full"));
  }
  world().barrier();
  disk.reset();
}

// close() checks that the writes of all ranks tile the matrix: a gap or an overlap fails on every rank, and
// leaves no file.
TEST(GctxSlabWriter, GapsAndOverlapsAreRefusedOnEveryRank) {
  TempDir dir;
  const GeneMatrix m = sample_matrix(kGenes, kSignatures);
  {
    const fs::path path = dir / "gap.gctx";
    GctxSlabWriter writer(path, world(), m.rows, m.cols, MetaType::kFloat32, kSmallChunks);
    // Everyone skips signature 100, which is in rank 0's block at every rank count.
    const engine::BlockRange block = engine::block_range(kSignatures, world().size(), world().rank());
    for (std::int64_t s = block.begin; s < block.end; ++s)
      if (s != 100) writer.write(s, columns(m, s, s + 1));
    const std::string message = error_of([&] { writer.close(); });
    expect_mentions(message,
                    {"cannot write GCTX file '" + path.string() + "'", "signatures [100, 101) were never written"});
    EXPECT_FALSE(fs::exists(path));
  }
  {
    const fs::path path = dir / "overlap.gctx";
    GctxSlabWriter writer(path, world(), m.rows, m.cols, MetaType::kFloat32, kSmallChunks);
    const engine::BlockRange block = engine::block_range(kSignatures, world().size(), world().rank());
    writer.write(block.begin, columns(m, block.begin, block.end));
    if (world().is_root()) writer.write(10, columns(m, 10, 20));
    const std::string message = error_of([&] { writer.close(); });
    expect_mentions(message, {"signatures [10, 20) were written more than once"});
    EXPECT_FALSE(fs::exists(path));
  }
  world().barrier();
  if (world().is_root()) {
    EXPECT_FALSE(has_temporary_files(dir.path()));
  }
}

// A bad slab is refused locally, before anything is written, and the writer stays usable.
TEST(GctxSlabWriter, BadSlabsAreRefusedAndTheWriterGoesOn) {
  TempDir dir;
  const GeneMatrix m = sample_matrix(kGenes, kSignatures);
  const fs::path reference = reference_file(dir, m);
  const fs::path path = dir / "bad_slabs.gctx";
  GctxSlabWriter writer(path, world(), m.rows, m.cols, MetaType::kFloat32, kSmallChunks);
  const std::string where = "cannot write GCTX file '" + path.string() + "'";
  expect_mentions(error_of([&] { writer.write(0, Eigen::MatrixXf(kGenes - 1, 3)); }),
                  {where, "a slab has 36 genes but the file has 37"});
  expect_mentions(error_of([&] { writer.write(kSignatures - 2, columns(m, 0, 3)); }),
                  {where, "signatures [299, 302) are outside [0, 301)"});
  expect_mentions(error_of([&] { writer.write(-1, columns(m, 0, 1)); }), {where, "signatures [-1, 0)"});
  const engine::BlockRange block = engine::block_range(kSignatures, world().size(), world().rank());
  writer.write(block.begin, columns(m, block.begin, block.end));
  writer.close();
  expect_mentions(error_of([&] { writer.close(); }), {where, "close() called twice"});
  expect_mentions(error_of([&] { writer.write(0, columns(m, 0, 1)); }), {where, "write() after close()"});
  expect_same_file(path, reference);
}

// Bad tables and options fail on every rank together (every rank checks the same arguments) and create nothing.
TEST(GctxSlabWriter, BadTablesAndOptionsFailOnEveryRank) {
  TempDir dir;
  GeneMatrix m = sample_matrix(kGenes, kSignatures);
  const fs::path path = dir / "bad.gctx";
  const std::string where = "cannot write GCTX file '" + path.string() + "'";
  expect_mentions(error_of([&] {
                    GctxSlabWriter(path, world(), m.rows, m.cols, MetaType::kFloat32, {6, 1024});
                  }),
                  {where, "gzip level 6", "gzip_level = 0"});
  expect_mentions(error_of([&] { GctxSlabWriter(path, world(), m.rows, m.cols, MetaType::kInt32); }),
                  {where, "float32 or float64"});
  // Rank 0 checks the path; the others learn that it failed.
  const std::string folder_error = error_of([&] { GctxSlabWriter(dir.path(), world(), m.rows, m.cols); });
  if (world().is_root())
    expect_mentions(folder_error, {"cannot write GCTX file '" + dir.path().string() + "'", "a folder has that name"});
  else
    expect_mentions(folder_error,
                    {"cannot write GCTX file '" + dir.path().string() + "': creating it failed on another rank"});
  m.cols.ids[7] = m.cols.ids[3];
  expect_mentions(error_of([&] { GctxSlabWriter(path, world(), m.rows, m.cols); }),
                  {where, "/0/META/COL/id", "duplicate id"});
  world().barrier();
  EXPECT_FALSE(fs::exists(path));
}

}  // namespace
}  // namespace tessera::io
