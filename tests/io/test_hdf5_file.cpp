// Hdf5Writer / Hdf5Reader: round trips of every kind of array and attribute, the on-disk layout of matrices,
// and errors that name the file and the dataset.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include "engine/context.h"
#include "engine/error.h"
#include "io/atomic_file.h"
#include "io/gctx.h"
#include "io/hdf5_file.h"
#include "tests/support/test_helpers.h"

namespace tessera::io {
namespace {

using tessera::testing::error_of;
using tessera::testing::expect_mentions;

namespace fs = std::filesystem;

class Hdf5FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("tessera_test_hdf5_" + std::to_string(::getpid()) + "_" + info->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path file(const std::string& name) const { return dir_ / name; }

 private:
  fs::path dir_;
};

TEST_F(Hdf5FileTest, MatrixRoundTripNonSquare) {
  Eigen::MatrixXd m(3, 5);
  for (int c = 0; c < 5; ++c)
    for (int r = 0; r < 3; ++r) m(r, c) = 10.0 * r + c + 0.25;
  m(2, 4) = std::numeric_limits<double>::quiet_NaN();
  {
    Hdf5Writer out(file("m.h5"));
    out.write_matrix("/truth/signatures", m);
    out.write_matrix("/truth/empty", Eigen::MatrixXd(0, 4));
  }
  const Hdf5Reader in(file("m.h5"));
  const Eigen::MatrixXd back = in.read_matrix("/truth/signatures");
  ASSERT_EQ(back.rows(), 3);
  ASSERT_EQ(back.cols(), 5);
  EXPECT_TRUE(back.topLeftCorner(3, 4).isApprox(m.topLeftCorner(3, 4), 0.0));
  EXPECT_EQ(back.block(0, 4, 2, 1), m.block(0, 4, 2, 1));
  EXPECT_TRUE(std::isnan(back(2, 4)));
  EXPECT_EQ(in.read_matrix("/truth/empty").cols(), 4);
  // The stored shape is (cols, rows): reading the matrix as a vector says it has two dimensions.
  expect_mentions(error_of([&] { in.read_vector("/truth/signatures"); }), {"has 2 dimensions, expected 1"});
}

TEST_F(Hdf5FileTest, MatrixLayoutIsColumnContiguousAsGctx) {
  // GCTX stores (signatures x genes) row-major; write_matrix of a genes x signatures matrix must produce
  // exactly that, so the GCTX reader (its own hyperslab code) sees the same values in the same places.
  Eigen::MatrixXd genes_by_signatures(4, 2);
  genes_by_signatures << 1, 5, 2, 6, 3, 7, 4, 8;
  {
    Hdf5Writer out(file("layout.gctx"));
    out.write_matrix("/0/DATA/0/matrix", genes_by_signatures);
    out.write_strings("/0/META/ROW/id", {"g1", "g2", "g3", "g4"});
    out.write_strings("/0/META/COL/id", {"s1", "s2"});
  }
  const auto gctx = read_gctx<double>(file("layout.gctx"), engine::Context(MPI_COMM_SELF));
  EXPECT_EQ(gctx.values, genes_by_signatures);
  const Eigen::MatrixXd second_signature =
      GctxReader(file("layout.gctx"), engine::Context(MPI_COMM_SELF)).read_signatures<double>(1, 2);
  EXPECT_EQ(second_signature, genes_by_signatures.col(1));
}

TEST_F(Hdf5FileTest, VectorsIntsAndStrings) {
  const std::vector<double> values = {1.5, -0.0, std::numeric_limits<double>::infinity(), 1e-300};
  const std::vector<std::int64_t> ints = {0, -1, std::numeric_limits<std::int64_t>::max(),
                                          std::numeric_limits<std::int64_t>::min()};
  const std::vector<std::string> strings = {"A549", "", "trailing space ", "µM", "a much longer string value"};
  {
    Hdf5Writer out(file("v.h5"));
    out.write_vector("/v/values", values);
    out.write_ints("/v/ints", ints);
    out.write_strings("/v/strings", strings);
    out.write_vector("/v/empty", {});
    out.write_strings("/v/no_strings", {});
  }
  const Hdf5Reader in(file("v.h5"));
  const auto values_back = in.read_vector("/v/values");
  ASSERT_EQ(values_back.size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    EXPECT_EQ(std::memcmp(&values_back[i], &values[i], sizeof(double)), 0) << i;  // -0.0 too
  EXPECT_EQ(in.read_ints("/v/ints"), ints);
  EXPECT_EQ(in.read_strings("/v/strings"), strings);
  EXPECT_TRUE(in.read_vector("/v/empty").empty());
  EXPECT_TRUE(in.read_strings("/v/no_strings").empty());
  // Integers read as numbers too.
  EXPECT_EQ(in.read_vector("/v/ints")[1], -1.0);
}

TEST_F(Hdf5FileTest, Attributes) {
  {
    Hdf5Writer out(file("a.h5"));
    out.write_vector("/model/weights", {1, 2});
    out.write_attribute("/", "version", "GCTX1.0");
    out.write_attribute("/model/weights", "lambda", 0.125);
    out.write_attribute("/model/weights", "lambda", 0.5);  // replaces
    out.write_attribute("/params", "solver", "");          // group created for it; empty string
    out.write_attribute("/params", "seed", 42.0);
  }
  const Hdf5Reader in(file("a.h5"));
  EXPECT_EQ(in.read_string_attribute("/", "version"), "GCTX1.0");
  EXPECT_EQ(in.read_number_attribute("/model/weights", "lambda"), 0.5);
  EXPECT_EQ(in.read_string_attribute("/params", "solver"), "");
  EXPECT_EQ(in.read_number_attribute("/params", "seed"), 42.0);
  expect_mentions(error_of([&] { in.read_number_attribute("/", "version"); }),
                  {"a.h5", "attribute 'version'", "expected one number"});
  expect_mentions(error_of([&] { in.read_string_attribute("/params", "absent"); }),
                  {"a.h5", "/params", "no attribute 'absent'"});
  expect_mentions(error_of([&] { in.read_string_attribute("/nowhere", "x"); }), {"a.h5", "/nowhere", "no such"});
}

// No object stores a modification time: an Hdf5Writer container and a GCTX written twice, more than a second
// apart (HDF5 keeps times in seconds), are the same bytes.
TEST_F(Hdf5FileTest, SameContentGivesTheSameBytesWhenever) {
  auto write_both = [&](const std::string& tag) {
    Hdf5Writer out(file("c" + tag + ".h5"));
    out.write_vector("/model/deep/weights", {1, 2});
    out.write_attribute("/params", "seed", 42.0);
    out.close();
    GeneMatrix matrix{Eigen::MatrixXf::Constant(3, 2, 0.5f), {{"g1", "g2", "g3"}, {}}, {{"s1", "s2"}, {}}};
    matrix.cols.set_text("cell_id", {"A549", "MCF7"});
    write_gctx(file("m" + tag + ".gctx"), matrix);
  };
  auto bytes = [&](const std::string& name) {
    std::ifstream in(file(name), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  write_both("1");
  ::usleep(1'100'000);
  write_both("2");
  EXPECT_FALSE(bytes("c1.h5").empty());
  EXPECT_TRUE(bytes("c1.h5") == bytes("c2.h5"));
  EXPECT_TRUE(bytes("m1.gctx") == bytes("m2.gctx"));
}

TEST_F(Hdf5FileTest, HasFollowsPaths) {
  {
    Hdf5Writer out(file("h.h5"));
    out.write_ints("/a/b/c", {1});
  }
  const Hdf5Reader in(file("h.h5"));
  EXPECT_TRUE(in.has("/a/b/c"));
  EXPECT_TRUE(in.has("/a/b"));
  EXPECT_TRUE(in.has("/"));
  EXPECT_FALSE(in.has("/a/x"));
  EXPECT_FALSE(in.has("/a/x/c"));  // a missing intermediate group is "no", not an error
}

TEST_F(Hdf5FileTest, ErrorsNameFileAndDataset) {
  {
    Hdf5Writer out(file("e.h5"));
    out.write_vector("/numbers", {1, 2});
    out.write_strings("/names", {"x"});
    expect_mentions(error_of([&] { out.write_vector("/numbers", {3}); }), {"e.h5", "/numbers", "already written"});
    expect_mentions(error_of([&] { out.write_vector("relative", {3}); }), {"e.h5", "relative", "absolute"});
  }
  const Hdf5Reader in(file("e.h5"));
  expect_mentions(error_of([&] { in.read_vector("/truth/missing"); }), {"e.h5", "/truth/missing", "no such dataset"});
  expect_mentions(error_of([&] { in.read_ints("/numbers"); }), {"e.h5", "/numbers", "float64", "integer"});
  expect_mentions(error_of([&] { in.read_strings("/numbers"); }), {"e.h5", "/numbers", "strings"});
  expect_mentions(error_of([&] { in.read_vector("/names"); }), {"e.h5", "/names", "fixed-length string"});

  expect_mentions(error_of([&] { Hdf5Reader(file("absent.h5")); }), {"absent.h5", "does not exist"});
  std::ofstream(file("text.h5")) << "not hdf5\n";
  expect_mentions(error_of([&] { Hdf5Reader(file("text.h5")); }), {"text.h5", "not an HDF5 file"});
  // Like every output, a missing folder is made; a path through a file is refused before any work.
  Hdf5Writer(file("new_folder") / "x.h5").close();
  EXPECT_TRUE(fs::is_regular_file(file("new_folder") / "x.h5"));
  expect_mentions(error_of([&] { Hdf5Writer(file("text.h5") / "x.h5"); }), {"text.h5", "is a file"});
}

// The file is built in memory and reaches the disk whole in close() (a full disk fails there, with the file's
// name, and leaves no HDF5 state behind): nothing is on disk before, and nothing can be added after.
TEST_F(Hdf5FileTest, CloseWritesTheWholeFileOnce) {
  Hdf5Writer out(file("c.h5"));
  out.write_vector("/x", {1, 2});
  EXPECT_FALSE(fs::exists(file("c.h5")));
  out.close();
  EXPECT_EQ(Hdf5Reader(file("c.h5")).read_vector("/x"), (std::vector<double>{1, 2}));
  expect_mentions(error_of([&] { out.write_vector("/y", {3}); }), {"c.h5", "/y", "already closed"});
  expect_mentions(error_of([&] { out.close(); }), {"c.h5", "closed twice"});
}

TEST_F(Hdf5FileTest, FolderIsNotAFile) {
  fs::create_directories(file("dir.h5"));
  expect_mentions(error_of([&] { Hdf5Reader(file("dir.h5")); }), {"dir.h5", "is a folder, not a file"});
}

TEST_F(Hdf5FileTest, TruncatedFile) {
  {
    Hdf5Writer out(file("t.h5"));
    out.write_vector("/big", std::vector<double>(4096, 1.0));
  }
  fs::resize_file(file("t.h5"), fs::file_size(file("t.h5")) / 2);
  expect_mentions(error_of([&] { Hdf5Reader(file("t.h5")); }), {"t.h5", "truncated"});
}

TEST_F(Hdf5FileTest, AtomicWriteLeavesNothingOnFailure) {
  const fs::path target = file("out.h5");
  EXPECT_THROW(write_atomically(target,
                                [](const fs::path& temporary) {
                                  Hdf5Writer out(temporary);
                                  out.write_vector("/x", {1});
                                  out.write_vector("/x", {2});  // fails: written twice
                                }),
               Error);
  EXPECT_TRUE(fs::is_empty(target.parent_path()));
  write_atomically(target, [](const fs::path& temporary) { Hdf5Writer(temporary).write_ints("/n", {7}); });
  EXPECT_EQ(Hdf5Reader(target).read_ints("/n"), std::vector<std::int64_t>{7});
}

}  // namespace
}  // namespace tessera::io
