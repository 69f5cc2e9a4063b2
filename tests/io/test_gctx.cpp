// GCTX read/write: real CMap files (expected values taken independently with h5py), bit-exact round trips,
// distributed reads at any rank count, and one error per kind of bad input. Runs at 1, 2 and 3 ranks: every
// test makes the same collective calls on every rank; temporary files are written by rank 0 only.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

// The HDF5 C API and zlib write the inputs io's own writer cannot make (variable-length strings, a chunk that
// inflates short); tests/io/CMakeLists.txt puts both on this test's include path.
#include <hdf5.h>
#include <zlib.h>

#include "engine/collectives.h"
#include "engine/error.h"
#include "io/gctx.h"
#include "io/hdf5_file.h"
#include "tests/io/gctx_damage.h"
#include "tests/support/shared_temp_dir.h"
#include "tests/support/test_helpers.h"

namespace tessera::io {
namespace {

using tessera::testing::data_dir;
using tessera::testing::error_of;
using tessera::testing::expect_mentions;
using tessera::testing::expect_same_meta;

namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const engine::Context& world() {
  static const engine::Context context(MPI_COMM_WORLD);
  return context;
}

// This test case's folder, shared by the ranks.
struct TempDir : tessera::testing::SharedTempDir {
  TempDir() : SharedTempDir("tessera_test_gctx") {}
};

// Rank 0 runs `write`; everyone waits until the file is there.
template <typename Write>
void on_root(Write&& write) {
  if (world().is_root()) write();
  world().barrier();
}

template <typename Scalar>
void expect_same_values(const Eigen::Matrix<Scalar, -1, -1>& a, const Eigen::Matrix<Scalar, -1, -1>& b) {
  ASSERT_EQ(a.rows(), b.rows());
  ASSERT_EQ(a.cols(), b.cols());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), sizeof(Scalar) * std::size_t(a.size())), 0);
}

// Every metadata type, NaN numbers, an empty string, and data with NaN, -0 and infinity.
template <typename Scalar>
BasicGeneMatrix<Scalar> sample_matrix(int genes, int signatures) {
  BasicGeneMatrix<Scalar> m;
  m.values.resize(genes, signatures);
  for (int s = 0; s < signatures; ++s)
    for (int g = 0; g < genes; ++g) m.values(g, s) = Scalar(std::sin(0.37 * g + 1.91 * s) * 3.0);
  if (genes > 2 && signatures > 1) {
    m.values(0, 1) = std::numeric_limits<Scalar>::quiet_NaN();
    m.values(1, 1) = Scalar(-0.0);
    m.values(2, 0) = std::numeric_limits<Scalar>::infinity();
  }
  MetaColumn symbol{"pr_gene_symbol", MetaType::kString, {}, {}};
  MetaColumn weight{"weight", MetaType::kFloat32, {}, {}};
  MetaColumn entrez{"entrez", MetaType::kInt64, {}, {}};
  for (int g = 0; g < genes; ++g) {
    m.rows.ids.push_back("gene_" + std::to_string(g));
    symbol.text.push_back(g == 1 ? "" : "SYM" + std::to_string(g) + " x");  // an empty value, an inner space
    weight.numbers.push_back(g == 0 ? kNaN : double(float(0.1 * g)));
    entrez.numbers.push_back(g == 2 ? kNaN : double((std::int64_t(1) << 40) + g));
  }
  m.rows.fields = {symbol, weight, entrez};
  MetaColumn cell{"cell_id", MetaType::kString, {}, {}};
  MetaColumn dose{"dose_um", MetaType::kFloat64, {}, {}};
  MetaColumn replicate{"replicate", MetaType::kInt32, {}, {}};
  for (int s = 0; s < signatures; ++s) {
    m.cols.ids.push_back("CPC006_A549_6H:BRD-" + std::to_string(1000 + s));
    cell.text.push_back(s % 2 ? "A549" : "MCF7");
    dose.numbers.push_back(s == 0 ? kNaN : 0.1 * s);
    replicate.numbers.push_back(s == 1 ? kNaN : double(-s));
  }
  // Field order deliberately not alphabetical: a round trip must keep it.
  m.cols.fields = {replicate, cell, dose};
  return m;
}

// ---------------------------------------------------------------------------------------------------------
// Real files

struct RealCase {
  const char* file;
  std::int64_t signatures;
  std::vector<std::pair<std::int64_t, std::string>> col_ids, cell_ids, pert_ids;
  std::vector<std::pair<std::int64_t, std::string>> row_ids, gene_symbols;
  std::vector<std::tuple<int, int, float>> values;  // (gene, signature, value)
  double sum;                                       // of all values, in double
};

void check_real_file(const RealCase& expected) {
  const fs::path path = data_dir() / expected.file;
  TESSERA_REQUIRE_REAL_DATA(path);
  const GeneMatrix m = read_gctx<float>(path, world());
  ASSERT_EQ(m.num_genes(), 978);
  ASSERT_EQ(m.num_signatures(), expected.signatures);
  auto check_text = [](const std::vector<std::string>& got, const auto& cases, const char* what) {
    for (const auto& [i, text] : cases) EXPECT_EQ(got.at(std::size_t(i)), text) << what << "[" << i << "]";
  };
  check_text(m.cols.ids, expected.col_ids, "col id");
  check_text(m.cols.require("cell_id", "test").text, expected.cell_ids, "cell_id");
  check_text(m.cols.require("pert_id", "test").text, expected.pert_ids, "pert_id");
  check_text(m.rows.ids, expected.row_ids, "row id");
  check_text(m.rows.require("pr_gene_symbol", "test").text, expected.gene_symbols, "pr_gene_symbol");
  for (const auto& [gene, signature, value] : expected.values) EXPECT_EQ(m.values(gene, signature), value);
  EXPECT_NEAR(m.values.template cast<double>().sum(), expected.sum, 1e-9 * m.values.size());

  // Distributed: this rank's block equals the same columns of the whole read.
  const auto local = read_gctx_local<float>(path, world());
  EXPECT_EQ(local.signatures.begin, engine::block_range(expected.signatures, world().size(), world().rank()).begin);
  expect_same_values<float>(local.values, m.values.middleCols(local.signatures.begin, local.signatures.size()));
  expect_same_meta(local.cols, m.cols);
}

TEST(GctxRealData, L1000Level5SpacePadded) {
  check_real_file({"l1000/modzs_n272x978.gctx",
                   272,
                   {{0, "CPC006_A549_6H:BRD-U88459701-000-01-8:10"},
                    {137, "CPC006_OV7_6H:BRD-K56343971-001-02-3:10"},
                    {271, "CPD002_PC3_24H:BRD-A51714012-001-04-9:10"}},
                   {{0, "A549"}, {1, "A375"}, {137, "OV7"}, {271, "PC3"}},
                   {{0, "BRD-U88459701"}, {271, "BRD-A51714012"}},
                   {{0, "200814_at"}, {1, "222103_at"}, {977, "205379_at"}},
                   {{0, "PSME1"}, {137, "CD40"}, {977, "CBR3"}},
                   {{0, 0, -0x1.0c1658p-1f},
                    {977, 0, 0x1.0efdfp+0f},
                    {5, 1, -0x1.991994p-2f},
                    {977, 271, 0x1.5efecp-3f},
                    {421, 137, 0x1.95c28ep-1f},
                    {0, 271, 0x1.49f918p-1f}},
                   870.7201007109193});
}

TEST(GctxRealData, L1000FieldTypesAndBytes) {
  const fs::path path = data_dir() / "l1000/modzs_n272x978.gctx";
  TESSERA_REQUIRE_REAL_DATA(path);
  const GctxReader reader(path, world());
  EXPECT_EQ(reader.data_type(), MetaType::kFloat32);
  const auto& cc = reader.cols().require("distil_cc_q75", "test");
  EXPECT_EQ(cc.type, MetaType::kFloat32);
  EXPECT_EQ(cc.numbers[0], double(0x1.70a3d8p-3f));  // 0.18 as float32
  EXPECT_EQ(reader.cols().require("distil_nsample", "test").numbers[137], 2.0);
  EXPECT_EQ(reader.cols().require("pert_idose", "test").text[0], "10 \xc2\xb5M");  // stored Latin-1, read as UTF-8
  EXPECT_EQ(reader.cols().require("pert_iname", "test").text[137], "vemurafenib");
  EXPECT_EQ(reader.rows().require("pr_gene_title", "test").text[1], "activating transcription factor 1");
  // Fields in the file's (name) order, id excluded.
  ASSERT_EQ(reader.cols().fields.size(), 15u);
  EXPECT_EQ(reader.cols().fields.front().name, "brew_prefix");
  EXPECT_EQ(reader.cols().fields.back().name, "pool_id");
  // Double reads convert exactly.
  const Eigen::MatrixXd block = reader.read_signatures<double>(137, 139);
  EXPECT_EQ(block(421, 0), double(0x1.95c28ep-1f));
}

TEST(GctxRealData, Lincs2020NulPadded) {
  check_real_file({"lincs2020/lincs2020_l5_gold_24h_10uM_dev.gctx",
                   2433,
                   {{0, "XC.L10:ST10370:24h:10uM"}, {137, "JURKAT:ST17337:24h:10uM"}, {2432, "HEK293:ST992:24h:10uM"}},
                   {{0, "XC.L10"}, {1, "THP1"}, {2432, "HEK293"}},
                   {{0, "ST10370"}, {137, "ST17337"}, {2432, "ST992"}},
                   {{0, "16"}, {137, "2017"}, {977, "388650"}},
                   {{0, "AARS"}, {1, "ABCF1"}, {977, "DIPK1A"}},
                   {{0, 0, -0x1.9c6f0ap-3f},
                    {977, 0, -0x1.0f08b6p-1f},
                    {5, 1, 0x1.a978d4p-2f},
                    {977, 2432, 0x1.44d014p-4f},
                    {421, 137, 0x1.c64c2ep-1f},
                    {0, 2432, 0x1.e45a1cp-3f}},
                   -32394.48314027185});
}

// ---------------------------------------------------------------------------------------------------------
// Round trips

template <typename Scalar>
void round_trip(const TempDir& dir, int gzip_level) {
  const auto original = sample_matrix<Scalar>(13, 7);
  const fs::path path = dir / ("sample_gzip" + std::to_string(gzip_level) + ".gctx");
  on_root([&] { write_gctx(path, original, {gzip_level, 1}); });  // 1 KB chunks: several chunks per axis
  const auto back = read_gctx<Scalar>(path, world());
  expect_same_values<Scalar>(back.values, original.values);
  expect_same_meta(back.rows, original.rows);
  expect_same_meta(back.cols, original.cols);

  const GctxReader reader(path, world());
  EXPECT_EQ(reader.data_type(), (std::is_same_v<Scalar, float> ? MetaType::kFloat32 : MetaType::kFloat64));
  // What is on disk, seen without the GCTX reader: cmapPy's layout and markers.
  const Hdf5Reader raw(path);
  EXPECT_EQ(raw.read_string_attribute("/", "version"), "GCTX1.0");
  const Eigen::MatrixXd stored = raw.read_matrix("/0/DATA/0/matrix");  // (signatures, genes) read as genes x sigs
  EXPECT_EQ(stored(5, 3), double(original.values(5, 3)));
  EXPECT_EQ(raw.read_vector("/0/META/COL/dose_um")[0], -666.0);
  EXPECT_EQ(raw.read_ints("/0/META/COL/replicate")[1], -666);
  EXPECT_EQ(raw.read_strings("/0/META/ROW/pr_gene_symbol")[1], "");
}

TEST(GctxRoundTrip, Float32WithAndWithoutGzip) {
  TempDir dir;
  round_trip<float>(dir, 0);
  round_trip<float>(dir, 6);
}

TEST(GctxRoundTrip, Float64WithAndWithoutGzip) {
  TempDir dir;
  round_trip<double>(dir, 0);
  round_trip<double>(dir, 9);
}

TEST(GctxRoundTrip, ConvertsBetweenFloatAndDouble) {
  TempDir dir;
  const auto original = sample_matrix<float>(5, 4);
  on_root([&] { write_gctx(dir / "f.gctx", original); });
  const auto as_double = read_gctx<double>(dir / "f.gctx", world());
  expect_same_values<double>(as_double.values, original.values.cast<double>());
}

// Latin-1 text (LINCS2020's pert_idose) is read as UTF-8, so that it compares equal to what a user types.
TEST(GctxRoundTrip, Latin1TextIsReadAsUtf8) {
  TempDir dir;
  auto m = sample_matrix<float>(3, 2);
  m.cols.set_text("pert_idose", {"10 \xb5M", "10 \xc2\xb5M"});  // Latin-1, and UTF-8 already
  on_root([&] { write_gctx(dir / "latin1.gctx", m); });
  const auto back = read_gctx<float>(dir / "latin1.gctx", world());
  EXPECT_EQ(back.cols.require("pert_idose", "test").text, (std::vector<std::string>{"10 µM", "10 µM"}));
}

TEST(GctxRoundTrip, IntegerIdsBecomeText) {
  TempDir dir;
  on_root([&] {
    Hdf5Writer out(dir / "int_ids.gctx");
    out.write_matrix("/0/DATA/0/matrix", Eigen::MatrixXd::Constant(2, 3, 1.5));
    out.write_ints("/0/META/ROW/id", {16, 388650});
    out.write_strings("/0/META/COL/id", {"a", "b", "c"});
  });
  const auto m = read_gctx<double>(dir / "int_ids.gctx", world());
  EXPECT_EQ(m.rows.ids, (std::vector<std::string>{"16", "388650"}));
  EXPECT_EQ(m.values(1, 2), 1.5);
}

TEST(GctxRoundTrip, VariableLengthStrings) {
  TempDir dir;
  const fs::path path = dir / "vlen.gctx";
  on_root([&] {
    {
      Hdf5Writer out(path);
      out.write_matrix("/0/DATA/0/matrix", Eigen::MatrixXd::Zero(2, 2));
    }
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    const hsize_t dims[1] = {2};
    const hid_t space = H5Screate_simple(1, dims, nullptr);
    const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    for (const char* name : {"/0/META/ROW/id", "/0/META/COL/id"}) {
      const char* values[2] = {"first id", "µ second"};
      const hid_t dataset = H5Dcreate2(file, name, type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
      H5Dwrite(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
      H5Dclose(dataset);
    }
    H5Pclose(lcpl);
    H5Sclose(space);
    H5Tclose(type);
    H5Fclose(file);
  });
  const auto m = read_gctx<float>(path, world());
  EXPECT_EQ(m.cols.ids, (std::vector<std::string>{"first id", "µ second"}));
}

// ---------------------------------------------------------------------------------------------------------
// Distributed reads

// The local blocks of every rank, gathered in rank order, are the whole matrix.
template <typename Scalar>
void expect_blocks_make_whole(const fs::path& path) {
  const auto whole = read_gctx<Scalar>(path, world());
  const auto local = read_gctx_local<Scalar>(path, world());
  EXPECT_EQ(local.signatures.size(),
            engine::block_range(whole.num_signatures(), world().size(), world().rank()).size());
  EXPECT_EQ(local.values.cols(), local.signatures.size());
  const Eigen::MatrixXd as_double = local.values.template cast<double>();
  const auto gathered =
      engine::allgatherv(world(), std::span<const double>(as_double.data(), std::size_t(as_double.size())));
  const Eigen::MatrixXd expected = whole.values.template cast<double>();
  ASSERT_EQ(gathered.size(), std::size_t(expected.size()));
  EXPECT_EQ(std::memcmp(gathered.data(), expected.data(), gathered.size() * sizeof(double)), 0);
  expect_same_meta(local.rows, whole.rows);
  expect_same_meta(local.cols, whole.cols);
}

TEST(GctxDistributed, BlocksConcatenateToWholeFile) {
  TempDir dir;
  on_root([&] {
    write_gctx(dir / "f32.gctx", sample_matrix<float>(11, 10), {0, 1});
    write_gctx(dir / "f64.gctx", sample_matrix<double>(9, 5), {4, 1});
  });
  expect_blocks_make_whole<float>(dir / "f32.gctx");
  expect_blocks_make_whole<double>(dir / "f64.gctx");
}

TEST(GctxDistributedRealData, L1000BlocksConcatenateToWholeFile) {
  const fs::path real = data_dir() / "l1000/modzs_n272x978.gctx";
  TESSERA_REQUIRE_REAL_DATA(real);
  expect_blocks_make_whole<float>(real);
}

TEST(GctxDistributed, EmptyBlockOnSomeRanks) {
  TempDir dir;
  on_root([&] { write_gctx(dir / "two.gctx", sample_matrix<float>(4, 2)); });
  expect_blocks_make_whole<float>(dir / "two.gctx");  // at 3 ranks, rank 2 holds no signature
  // Every rank reads nothing at all, and a rank-specific range.
  const GctxReader reader(dir / "two.gctx", world());
  EXPECT_EQ(reader.read_signatures<float>(0, 0).cols(), 0);
  const int r = world().rank() % 2;
  const Eigen::MatrixXf one = reader.read_signatures<float>(r, r + 1);
  EXPECT_EQ(one(3, 0), float(std::sin(0.37 * 3 + 1.91 * r) * 3.0));
}

TEST(GctxDistributed, BadRangeOnOneRankFailsEverywhere) {
  TempDir dir;
  on_root([&] { write_gctx(dir / "f.gctx", sample_matrix<float>(4, 3)); });
  const GctxReader reader(dir / "f.gctx", world());
  const std::int64_t end = world().is_root() ? 5 : 3;  // only rank 0 is out of range
  expect_mentions(error_of([&] { reader.read_signatures<float>(0, end); }), {"f.gctx", "/0/DATA/0/matrix", "range"});
}

// ---------------------------------------------------------------------------------------------------------
// Bad input

TEST(GctxErrors, MissingFileAndNotHdf5) {
  TempDir dir;
  expect_mentions(error_of([&] { read_gctx<float>(dir / "absent.gctx", world()); }),
                  {"absent.gctx", "does not exist", "check the path"});
  on_root([&] { std::ofstream(dir / "text.gctx") << "#1.3\n2\t3\n"; });
  expect_mentions(error_of([&] { read_gctx<float>(dir / "text.gctx", world()); }),
                  {"text.gctx", "not an HDF5 file", "read_gct"});
}

TEST(GctxErrors, MissingDatasets) {
  TempDir dir;
  on_root([&] {
    Hdf5Writer no_matrix(dir / "no_matrix.gctx");
    no_matrix.write_strings("/0/META/ROW/id", {"g"});
    no_matrix.write_strings("/0/META/COL/id", {"s"});
    Hdf5Writer no_col_id(dir / "no_col_id.gctx");
    no_col_id.write_matrix("/0/DATA/0/matrix", Eigen::MatrixXd::Zero(3, 2));
    no_col_id.write_strings("/0/META/ROW/id", {"a", "b", "c"});
  });
  expect_mentions(error_of([&] { read_gctx<float>(dir / "no_matrix.gctx", world()); }),
                  {"no_matrix.gctx", "/0/DATA/0/matrix", "not found"});
  expect_mentions(error_of([&] { read_gctx<float>(dir / "no_col_id.gctx", world()); }),
                  {"no_col_id.gctx", "/0/META/COL/id", "not found"});
}

TEST(GctxErrors, ShapeMismatchAndDuplicateIds) {
  TempDir dir;
  on_root([&] {
    auto base = [&](const std::string& name, std::vector<std::string> col_ids) {
      auto out = std::make_unique<Hdf5Writer>(dir / name);
      out->write_matrix("/0/DATA/0/matrix", Eigen::MatrixXd::Zero(3, 2));  // 3 genes x 2 signatures
      out->write_strings("/0/META/ROW/id", {"a", "b", "c"});
      out->write_strings("/0/META/COL/id", col_ids);
      return out;
    };
    base("count.gctx", {"s1", "s2", "s3"});
    base("field.gctx", {"s1", "s2"})->write_strings("/0/META/COL/cell_id", {"A549"});
    base("dup.gctx", {"BRD-1", "BRD-1"});
  });
  expect_mentions(error_of([&] { read_gctx<float>(dir / "count.gctx", world()); }),
                  {"count.gctx", "/0/META/COL/id: has 3 values but /0/DATA/0/matrix has 2 signatures"});
  expect_mentions(error_of([&] { read_gctx<float>(dir / "field.gctx", world()); }),
                  {"field.gctx", "/0/META/COL/cell_id: has 1 values but /0/DATA/0/matrix has 2 signatures"});
  expect_mentions(error_of([&] { read_gctx<float>(dir / "dup.gctx", world()); }),
                  {"dup.gctx", "/0/META/COL/id", "duplicate id 'BRD-1'", "unique"});
}

// Fields longer than the matrix are refused from their shape, before a buffer is sized by them.
TEST(GctxErrors, FieldLengthsCheckedAgainstTheMatrixBeforeReading) {
  TempDir dir;
  on_root([&] {
    Hdf5Writer out(dir / "long.gctx");
    out.write_matrix("/0/DATA/0/matrix", Eigen::MatrixXd::Zero(3, 2));
    out.write_strings("/0/META/ROW/id", {"a", "b", "c"});
    out.write_strings("/0/META/COL/id", {"s1", "s2"});
    out.write_vector("/0/META/ROW/weight", std::vector<double>(1000, 1.0));
  });
  expect_mentions(
      error_of([&] { read_gctx<float>(dir / "long.gctx", world()); }),
      {"long.gctx", "/0/META/ROW/weight: has 1000 values but /0/DATA/0/matrix has 3 genes", "one value for each"});
}

TEST(GctxErrors, EmptyMatrixSaysSoPlainly) {
  TempDir dir;
  on_root([&] {
    write_gctx(dir / "no_signatures.gctx", sample_matrix<float>(4, 0));
    write_gctx(dir / "no_genes.gctx", sample_matrix<float>(0, 3));
  });
  expect_mentions(error_of([&] { read_gctx<float>(dir / "no_signatures.gctx", world()); }),
                  {"no_signatures.gctx", "holds 0 signatures x 4 genes", "nothing to read"});
  expect_mentions(error_of([&] { read_gctx<float>(dir / "no_genes.gctx", world()); }),
                  {"no_genes.gctx", "holds 3 signatures x 0 genes", "nothing to read"});
}

TEST(GctxErrors, FolderIsNotAFile) {
  TempDir dir;
  on_root([&] { fs::create_directories(dir / "x.gctx"); });
  expect_mentions(error_of([&] { read_gctx<float>(dir / "x.gctx", world()); }), {"x.gctx", "is a folder, not a file"});
}

// One bit of a cmapPy file's gzip pipeline message flipped: HDF5 would read the compressed chunk as if raw,
// past the end of its buffer (AddressSanitizer: heap-buffer-overflow in H5Dread), and hand back compressed
// bytes as metadata. It must be refused, naming the file, the dataset and the fix.
TEST(GctxErrorsRealData, DroppedFilterIsRefusedBeforeReading) {
  const fs::path real = data_dir() / "l1000/modzs_n272x978.gctx";
  TESSERA_REQUIRE_REAL_DATA(real);
  TempDir dir;
  on_root([&] { testing::copy_with_filter_dropped(real, dir / "flipped.gctx"); });
  expect_mentions(error_of([&] { read_gctx<float>(dir / "flipped.gctx", world()); }),
                  {"flipped.gctx", "/0/META/", "unfiltered chunks", "damaged", "h5dump"});
}

// Damaged HDF5 internals (here the local heaps that hold group member names) are a damaged file, not "data
// matrix not found".
TEST(GctxErrorsRealData, DamagedInternalsAreNotAMissingMatrix) {
  const fs::path real = data_dir() / "l1000/modzs_n272x978.gctx";
  TESSERA_REQUIRE_REAL_DATA(real);
  TempDir dir;
  on_root([&] { testing::copy_with_signature_damaged(real, dir / "heap.gctx", "HEAP"); });
  const std::string message = error_of([&] { read_gctx<float>(dir / "heap.gctx", world()); });
  expect_mentions(message, {"heap.gctx", "HDF5 cannot read", "damaged", "h5dump"});
  EXPECT_EQ(message.find("not found"), std::string::npos) << message;
}

// A gzip chunk that inflates to fewer bytes than its shape needs (a damaged stream that still ends cleanly):
// HDF5 1.10 would copy a whole chunk out of the short buffer (a heap-buffer-overflow found by fuzz_gctx). The
// reader decodes each compressed chunk's length first and refuses the file.
TEST(GctxErrors, CompressedChunkThatInflatesShortIsRefusedBeforeReading) {
  TempDir dir;
  const fs::path path = dir / "short_chunk.gctx";
  on_root([&] {
    write_gctx(path, sample_matrix<float>(6, 5), GctxWriteOptions{6, 1024});
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hid_t matrix = H5Dopen2(file, "/0/DATA/0/matrix", H5P_DEFAULT);
    const char short_data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    unsigned char stream[64];
    uLongf length = sizeof stream;
    ASSERT_EQ(compress(stream, &length, reinterpret_cast<const Bytef*>(short_data), sizeof short_data), Z_OK);
    const hsize_t origin[2] = {0, 0};
    ASSERT_GE(H5Dwrite_chunk(matrix, H5P_DEFAULT, 0, origin, length, stream), 0);
    H5Dclose(matrix);
    H5Fclose(file);
  });
  expect_mentions(error_of([&] { read_gctx<float>(path, world()); }),
                  {"short_chunk.gctx", "/0/DATA/0/matrix", "decompresses to 8 bytes", "damaged"});
}

TEST(GctxErrors, TruncatedFile) {
  TempDir dir;
  const fs::path path = dir / "cut.gctx";
  on_root([&] {
    write_gctx(path, sample_matrix<float>(50, 40));
    fs::resize_file(path, fs::file_size(path) / 2);
  });
  expect_mentions(error_of([&] { read_gctx<float>(path, world()); }), {"cut.gctx", "truncated", "again"});
}

TEST(GctxErrors, UnsupportedDataType) {
  TempDir dir;
  on_root([&] {
    Hdf5Writer out(dir / "ints.gctx");
    out.write_ints("/0/DATA/0/matrix", {1, 2, 3});
  });
  expect_mentions(error_of([&] { read_gctx<float>(dir / "ints.gctx", world()); }),
                  {"ints.gctx", "/0/DATA/0/matrix", "unsupported data type int64", "float32 or float64"});
}

TEST(GctxErrors, WriterRejectsBadTablesAndLeavesNoFile) {
  TempDir dir;
  on_root([&] {
    auto m = sample_matrix<float>(3, 5);
    m.cols.ids[3] = m.cols.ids[1];  // two duplicates: the one whose repeat comes first is named
    m.cols.ids[4] = m.cols.ids[0];
    expect_mentions(error_of([&] { write_gctx(dir / "dup.gctx", m); }),
                    {"dup.gctx", "duplicate id '" + m.cols.ids[1] + "' at positions 1 and 3"});
    m = sample_matrix<float>(3, 2);
    m.rows.fields[0].text.pop_back();
    expect_mentions(error_of([&] { write_gctx(dir / "short.gctx", m); }),
                    {"short.gctx", "/0/META/ROW/pr_gene_symbol", "2 values for 3 ids"});
    EXPECT_TRUE(fs::is_empty(dir / ""));
  });
}

}  // namespace
}  // namespace tessera::io
