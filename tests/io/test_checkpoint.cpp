// io/checkpoint.h, the one checkpoint format: every kind of section entry round-trips exactly; a checkpoint of
// another format, version or problem is refused with an Error naming the file, the differing fields and the fix;
// a truncated, damaged or non-HDF5 file is refused the same way; a failed write leaves the previous checkpoint
// and no temporary.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "engine/error.h"
#include "io/checkpoint.h"
#include "io/hdf5_file.h"
#include "tests/support/full_disk.h"
#include "tests/support/test_helpers.h"

namespace tessera::io {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using testing::expect_mentions;
using testing::has_temporary_files;

constexpr const char* kFix = "delete it to start over";
const CheckpointKind kKind{"tessera-test-checkpoint", 3, "test"};

fs::path scratch(const std::string& name) { return testing::scratch_dir("tessera_checkpoint", name); }

std::string bytes_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Fingerprint problem(std::uint64_t seed = 7, double lambda = 0.125) {
  Eigen::MatrixXd probe(2, 3);
  probe << 1, 0.5, 0.25, 0.5, 1, 1.0 / 3;
  Fingerprint f;
  f.integer("n", 120).number("lambda", lambda).hash("y_hash", 0xfeedfacecafebeefULL, "hash of Y");
  f.text("prior", "mean").integer("seed", std::int64_t(seed)).matrix("kernel_probe", probe, 1e-12);
  return f;
}

void write_small(const fs::path& path, std::int64_t done = 4, const Fingerprint& fingerprint = problem()) {
  write_checkpoint(path, kKind, fingerprint, [&](CheckpointWriter& out) {
    out.put_int("progress", "done", done);
    out.put_matrix("state", "counts", Eigen::MatrixXd::Constant(2, 2, double(done)));
  });
}

TEST(Checkpoint, EverySectionEntryRoundTripsExactly) {
  const auto file = scratch("round_trip") / "all.h5";
  Eigen::MatrixXd matrix(3, 2);  // non-square: the layout's transpose would show
  matrix << 0.1, -2, 1e-300, std::numeric_limits<double>::max(), -0.0, 1.0 / 3;
  const std::vector<std::int64_t> ints{0, -1, std::numeric_limits<std::int64_t>::max(),
                                       std::numeric_limits<std::int64_t>::min()};
  const std::vector<double> numbers{0.1, std::nextafter(1.0, 2.0), -5e-324, 1e308};
  const std::vector<std::string> strings{"gene_a", "", "naïve ü", "with space"};
  const std::int64_t big = std::int64_t(1) << 53;
  write_checkpoint(file, kKind, problem(), [&](CheckpointWriter& out) {
    out.put_int("progress", "big", big);
    out.put_int("progress", "negative", -42);
    out.put_number("progress", "loss", 0.1 + 0.2);
    out.put_text("progress", "algorithm", "igsp");
    out.put_ints("state", "ints", ints);
    out.put_numbers("state", "numbers", numbers);
    out.put_matrix("state", "matrix", matrix);
    out.put_strings("state", "strings", strings);
    out.put_ints("state", "no_ints", {});
    out.put_numbers("state", "no_numbers", {});
    out.put_matrix("state", "no_columns", Eigen::MatrixXd(4, 0));
    out.put_strings("state", "no_strings", {});
    out.add_section("empty");
  });
  const CheckpointReader in(file, kKind, problem(), kFix);
  EXPECT_EQ(in.get_int("progress", "big"), big);
  EXPECT_EQ(in.get_int("progress", "negative"), -42);
  EXPECT_EQ(in.get_number("progress", "loss"), 0.1 + 0.2);
  EXPECT_EQ(in.get_text("progress", "algorithm"), "igsp");
  EXPECT_EQ(in.get_ints("state", "ints"), ints);
  EXPECT_EQ(in.get_numbers("state", "numbers"), numbers);
  const Eigen::MatrixXd back = in.get_matrix("state", "matrix");
  ASSERT_EQ(back.rows(), 3);
  ASSERT_EQ(back.cols(), 2);
  for (Eigen::Index i = 0; i < matrix.size(); ++i) EXPECT_EQ(back.data()[i], matrix.data()[i]) << i;
  EXPECT_TRUE(std::signbit(back(2, 0)));  // -0.0 stays negative: the bits round-trip
  EXPECT_EQ(in.get_strings("state", "strings"), strings);
  EXPECT_TRUE(in.get_ints("state", "no_ints").empty());
  EXPECT_TRUE(in.get_numbers("state", "no_numbers").empty());
  EXPECT_EQ(in.get_matrix("state", "no_columns").rows(), 4);
  EXPECT_EQ(in.get_matrix("state", "no_columns").cols(), 0);
  EXPECT_TRUE(in.get_strings("state", "no_strings").empty());
  EXPECT_TRUE(in.has("state", "matrix"));
  EXPECT_FALSE(in.has("state", "absent"));
  EXPECT_FALSE(in.has("empty", "anything"));
  EXPECT_EQ(in.fingerprint_text("seed"), "7");
  EXPECT_EQ(in.fingerprint_text("y_hash"), "feedfacecafebeef");
  EXPECT_EQ(in.fingerprint_text("lambda"), "0.125");
}

TEST(Checkpoint, IntegersBeyondWhatAnAttributeHoldsExactlyAreRefused) {
  const auto dir = scratch("big_int");
  const std::string message = error_of([&] {
    write_checkpoint(dir / "c.h5", kKind, problem(),
                     [](CheckpointWriter& out) { out.put_int("s", "x", (std::int64_t(1) << 53) + 1); });
  });
  expect_mentions(message, {"s/x", "2^53", "put_ints"});
  EXPECT_FALSE(fs::exists(dir / "c.h5"));
}

TEST(Checkpoint, AnotherVersionOrFormatIsRefusedNamingTheFile) {
  const auto file = scratch("version") / "c.h5";
  write_small(file);
  const std::string newer = error_of([&] { CheckpointReader(file, {kKind.format, 4, "test"}, problem(), kFix); });
  expect_mentions(newer, {file.string(), "version 3", "reads version 4", kFix});
  const std::string other = error_of([&] {
    CheckpointReader(file, {"tessera-bootstrap", 3, "bootstrap"}, problem(), kFix);
  });
  expect_mentions(other, {file.string(), "not a Tessera bootstrap checkpoint", "tessera-test-checkpoint", kFix});
}

TEST(Checkpoint, AnotherProblemIsRefusedListingEveryDifferingField) {
  const auto file = scratch("fingerprint") / "c.h5";
  write_small(file);
  const std::string message = error_of([&] { CheckpointReader(file, kKind, problem(8, 0.25), kFix); });
  expect_mentions(message, {file.string(), "another problem", "seed: 7 in the checkpoint, 8 in this run",
                            "lambda: 0.125 in the checkpoint, 0.25 in this run", kFix});
  EXPECT_EQ(message.find("prior"), std::string::npos) << "an equal field was listed: " << message;

  // Matrices within the tolerance match; beyond it they differ. Labels show instead of keys.
  Eigen::MatrixXd probe(2, 3);
  probe << 1, 0.5, 0.25, 0.5, 1, 1.0 / 3;
  Fingerprint close, far;
  close.integer("n", 120).number("lambda", 0.125).hash("y_hash", 0xfeedfacecafebeefULL, "hash of Y");
  far = close;
  close.text("prior", "mean").integer("seed", 7).matrix("kernel_probe", probe * (1 + 1e-14), 1e-12);
  far.text("prior", "mean").integer("seed", 7).matrix("kernel_probe", probe * (1 + 1e-9), 1e-12, "kernel entries");
  EXPECT_NO_THROW(CheckpointReader(file, kKind, close, kFix));
  expect_mentions(error_of([&] { CheckpointReader(file, kKind, far, kFix); }), {"kernel entries", "differ"});
  Fingerprint other_y;
  other_y.hash("y_hash", 1, "hash of Y");
  expect_mentions(error_of([&] { CheckpointReader(file, kKind, other_y, kFix); }),
                  {"hash of Y: feedfacecafebeef in the checkpoint, 0000000000000001 in this run"});
}

TEST(Checkpoint, TruncatedDamagedOrForeignFilesAreRefusedNamingTheFile) {
  const auto dir = scratch("damaged");
  const auto good = dir / "good.h5";
  write_small(good);
  const std::string bytes = bytes_of(good);
  ASSERT_GT(bytes.size(), 1024u);
  auto refused = [&](const std::string& name, const std::string& content, const std::vector<std::string>& says) {
    const auto file = dir / name;
    std::ofstream(file, std::ios::binary) << content;
    const std::string message = error_of([&] {
      const CheckpointReader in(file, kKind, problem(), kFix);
      (void)in.get_matrix("state", "counts");
      (void)in.get_int("progress", "done");
    });
    std::vector<std::string> parts{file.string(), kFix};
    parts.insert(parts.end(), says.begin(), says.end());
    expect_mentions(message, parts);
  };
  refused("truncated.h5", bytes.substr(0, bytes.size() / 2), {});
  refused("header_only.h5", bytes.substr(0, 600), {});
  std::string zeroed = bytes;  // the root group's object header and heap follow the 96-byte superblock
  std::fill(zeroed.begin() + 96, zeroed.begin() + 800, '\0');
  refused("zeroed_metadata.h5", zeroed, {});
  refused("empty.h5", "", {});
  refused("text.checkpoint", "# tessera bootstrap checkpoint: delete this file to start the bootstrap over\np 3\n",
          {"not an HDF5 file"});
  expect_mentions(error_of([&] { CheckpointReader(dir / "missing.h5", kKind, kFix); }),
                  {(dir / "missing.h5").string(), "does not exist", kFix});

  // An HDF5 file that is no checkpoint: another kind of file, not "damaged".
  {
    Hdf5Writer out(dir / "foreign.h5");
    out.write_vector("/truth/x", {1.0, 2.0});
    out.close();
  }
  expect_mentions(error_of([&] { CheckpointReader(dir / "foreign.h5", kKind, kFix); }),
                  {"foreign.h5", "not a Tessera test checkpoint", kFix});
  // A checkpoint without a section its reader needs.
  write_checkpoint(dir / "sections_only.h5", kKind, Fingerprint(), [](CheckpointWriter&) {});
  const std::string incomplete = error_of([&] {
    const CheckpointReader in(dir / "sections_only.h5", kKind, kFix);
    (void)in.get_int("progress", "done");
  });
  expect_mentions(incomplete, {"sections_only.h5", "no section 'progress'", kFix});
}

TEST(Checkpoint, AFailedWriteKeepsThePreviousCheckpointAndLeavesNoTemporary) {
  const auto dir = scratch("atomic");
  const auto file = dir / "c.h5";
  write_small(file, 4);
  const std::string before = bytes_of(file);

  const std::string message = error_of([&] {
    write_checkpoint(file, kKind, problem(), [](CheckpointWriter& out) {
      out.put_int("progress", "done", 5);
      TESSERA_FAIL("the solver gave up mid-checkpoint");
    });
  });
  expect_mentions(message, {"the solver gave up mid-checkpoint"});
  EXPECT_EQ(bytes_of(file), before);
  EXPECT_FALSE(has_temporary_files(dir));

  // The rename itself fails: the final name is a folder that is not empty.
  const auto blocked = dir / "blocked.h5";
  fs::create_directories(blocked / "inside");
  const std::string rename = error_of([&] { write_small(blocked); });
  expect_mentions(rename, {blocked.string()});
  EXPECT_TRUE(fs::is_directory(blocked));
  EXPECT_FALSE(has_temporary_files(dir));
  EXPECT_EQ(CheckpointReader(file, kKind, problem(), kFix).get_int("progress", "done"), 4);
}

TEST(Checkpoint, AFullDiskIsAnErrorNamingTheFileAndKeepsThePreviousCheckpoint) {
  testing::FullDisk disk(scratch("full") / "mnt", 256, 24);
  if (!disk.available()) GTEST_SKIP() << disk.why_not();
  const auto file = disk.path() / "c.h5";
  write_small(file, 4);
  const std::string before = bytes_of(file);
  const std::string message = error_of([&] {
    write_checkpoint(file, kKind, problem(), [](CheckpointWriter& out) {
      out.put_matrix("state", "big", Eigen::MatrixXd::Ones(200, 200));  // 320 kB: more than the disk has
    });
  });
  expect_mentions(message, {file.string(), "No space left on device"});
  EXPECT_EQ(bytes_of(file), before);
  EXPECT_FALSE(has_temporary_files(disk.path()));
}

TEST(Checkpoint, NamesCannotReachOutsideTheirSection) {
  const auto dir = scratch("names");
  const std::vector<std::pair<std::string, std::string>> bad_names{
      {"a/b", "x"}, {"state", "../x"}, {"", "x"}, {"checkpoint", "x"}, {"fingerprint", "x"}, {"state", "version"}};
  for (const auto& bad : bad_names) {
    const std::string message = error_of([&] {
      write_checkpoint(dir / "c.h5", kKind, Fingerprint(),
                       [&](CheckpointWriter& out) { out.put_int(bad.first, bad.second, 1); });
    });
    const bool says_why = message.find("must not contain '/'") != std::string::npos ||
                          message.find("is reserved for the format") != std::string::npos;
    EXPECT_TRUE(says_why) << bad.first << "/" << bad.second << ": " << message;
  }
  EXPECT_FALSE(fs::exists(dir / "c.h5"));
  expect_mentions(error_of([] { Fingerprint().integer("seed", 1).integer("seed", 2); }), {"seed", "twice"});
}

}  // namespace
}  // namespace tessera::io
