// Bad input files and outputs, run through the real binary: malformed GCT, CSV and npy inputs refused at their
// file and line; an output path that is a file (or a folder where a file goes) refused by name; a full disk
// ending the run with exit 1, "No space left on device", and no empty file under a final name and no temporary
// left; temporaries of killed runs removed by the next run; `simulate --out x.gct` writing GCT.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/atomic_file.h"
#include "tests/support/bad_input.h"
#include "tests/support/full_disk.h"

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;

const std::string kTessera = TESSERA_BIN;

std::string write_file(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
  return quote(path.string());
}

// A valid GCT 1.3 of 3 genes x 2 signatures, one entry per line, to be broken by the rows.
// Lines: 1 version, 2 dimensions, 3 header, 4-5 column metadata, 6-8 data.
std::vector<std::string> gct_lines() {
  return {"#1.3",
          "3\t2\t1\t2",
          "id\tsymbol\tS1\tS2",
          "cell_id\t-666\tA375\tPC3",
          "pert_idose\t-666\t10 uM\t1 uM",
          "g1\tAAA\t1.5\t2",
          "g2\tBBB\t-3\tNaN",
          "g3\tCCC\t0.25\t1e-3"};
}
std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

// Observational data of a chain X0 -> X1 -> X2 (60 rows) for discover, written here rather than by simulate-dag
// to keep each row to one command.
fs::path chain_csv(const fs::path& dir) {
  std::string text = "X0,X1,X2,setting\n";
  std::uint64_t state = 12345;
  auto noise = [&] {  // a small LCG: the data only need to be varied, not good random numbers
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return double(state >> 11) / double(1ULL << 53) - 0.5;
  };
  for (int r = 0; r < 60; ++r) {
    const double x0 = noise(), x1 = x0 + 0.5 * noise(), x2 = x1 + 0.5 * noise();
    text += std::to_string(x0) + "," + std::to_string(x1) + "," + std::to_string(x2) + ",obs\n";
  }
  write_file(dir / "chain.csv", text);
  return dir / "chain.csv";
}

const std::string kSimulateSmall = " simulate --num-genes 20 --target-pool-size 10 --num-cells 3 --num-drugs 8";

std::vector<BadInput> rows() {
  const std::string npy_header = std::string("\x93NUMPY\x01\x00", 8);
  return {
      // An output folder that is a file, and a file name that is a folder.
      {"discover --out names a file",
       [](const fs::path& dir) {
         return kTessera + " discover -i " + quote(chain_csv(dir).string()) + " --out " +
                write_file(dir / "results", "x");
       },
       1,
       {"--out", "results", "is a file; give a folder"}},
      {"simulate-dag --out names a file",
       [](const fs::path& dir) { return kTessera + " simulate-dag --nodes 5 --out " + write_file(dir / "r", "x"); },
       1,
       {"--out", "is a file; give a folder"}},
      {"simulate --out inside a file",
       [](const fs::path& dir) {
         write_file(dir / "f", "x");
         return kTessera + kSimulateSmall + " --out " + quote((dir / "f" / "x.gctx").string()) + " --truth " +
                quote((dir / "t.h5").string());
       },
       1,
       {"output folder", "/f'", "is a file; give a folder"},
       {"t.h5"}},
      {"simulate --out names a folder",
       [](const fs::path& dir) {
         fs::create_directories(dir / "x.gctx");
         return kTessera + kSimulateSmall + " --out " + quote((dir / "x.gctx").string()) + " --truth " +
                quote((dir / "t.h5").string());
       },
       1,
       {"x.gctx", "a folder has that name", "give the name of a file"},
       {"t.h5"}},
      // GCT: each damage reported at its own line, when the file is read.
      {"GCT with a blank line in the data block",
       [](const fs::path& dir) {
         auto lines = gct_lines();
         lines.insert(lines.begin() + 6, "");
         return kTessera + " inspect " + write_file(dir / "blank.gct", joined(lines));
       },
       1,
       {"blank.gct", "line 7 is blank", "remove the line"}},
      {"GCT with a NUL byte in a value",
       [](const fs::path& dir) {
         auto lines = gct_lines();
         lines[6] = std::string("g2\tBBB\t-3\tN\0aN", 14);
         return kTessera + " inspect " + write_file(dir / "nul.gct", joined(lines));
       },
       1,
       {"nul.gct", "line 7", "column 4", "NUL byte", "damaged"}},
      {"GCT with a NUL byte in metadata",
       [](const fs::path& dir) {
         auto lines = gct_lines();
         lines[3] = std::string("cell_id\t-666\tA3\0\tPC3", 20);
         return kTessera + " inspect " + write_file(dir / "nulmeta.gct", joined(lines));
       },
       1,
       {"nulmeta.gct", "line 4", "column 3", "NUL byte"}},
      {"GCT of 0 x 0",
       [](const fs::path& dir) {
         return kTessera + " inspect " + write_file(dir / "empty.gct", "#1.3\n0\t0\t0\t0\nid\n");
       },
       1,
       {"empty.gct", "line 2", "0 rows (genes) x 0 columns", "nothing to read"}},
      // npy and CSV inputs of discover.
      {"DCDI data whose npy header promises 4e9 x 4e9 values",
       [npy_header](const fs::path& dir) {
         const std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (4000000000, 4000000000), }";
         std::string bytes = npy_header;
         bytes += char(header.size() + 1);
         bytes += '\0';
         bytes += header + "\n" + std::string(64, '\0');
         write_file(dir / "dcdi" / "data_interv1.npy", bytes);
         write_file(dir / "dcdi" / "intervention1.csv", "\n");
         return kTessera + " discover -i " + quote((dir / "dcdi").string()) + " --out " + quote((dir / "o").string());
       },
       1,
       {"data_interv1.npy", "truncated", "4000000000 x 4000000000"},
       {"o/dag.dot"}},
      {"CSV with a NUL byte",
       [](const fs::path& dir) {
         return kTessera + " discover -i " +
                write_file(dir / "d.csv", std::string("X0,X1,setting\n0.1,0.2,obs\n0.3,0\0.4,obs\n", 39)) + " --out " +
                quote((dir / "o").string());
       },
       1,
       {"d.csv", "line 3", "NUL byte"},
       {"o/dag.dot"}},
      {"CSV with a repeated column name",
       [](const fs::path& dir) {
         return kTessera + " discover -i " + write_file(dir / "d.csv", "X0,X1,X0,setting\n1,2,3,obs\n4,5,7,obs\n") +
                " --out " + quote((dir / "o").string());
       },
       1,
       {"d.csv", "line 1", "column 3", "'X0'", "column 1", "must be unique"},
       {"o/dag.dot"}},
  };
}

TEST(BadInputFiles, EachIsRefusedWithItsFileAndFix) { expect_refusals("tessera_bad_files", rows()); }

// Every file under dir is non-empty and no temporary is left: what a failed run must leave.
void expect_no_empty_outputs(const fs::path& dir) {
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().filename() != "filler") {
      EXPECT_GT(entry.file_size(), 0u) << entry.path() << " is empty under its final name";
    }
  EXPECT_FALSE(has_temporary_files(dir)) << "a temporary is left in " << dir;
}

// The text writers on a disk with one free page: the run ends with exit 1 and the reason, and each output is
// either whole or absent (before, dag.dot, targets.txt and the DCDI files were renamed empty).
TEST(BadInputFiles, AFullDiskLeavesNoEmptyOutput) {
  const auto dir = scratch_dir("tessera_bad_files", "full_disk");
  const auto data = chain_csv(dir);
  FullDisk disk(dir / "mnt", 256, 4);
  if (!disk.available()) GTEST_SKIP() << disk.why_not();
  const std::vector<std::string> commands = {
      kTessera + " discover -i " + quote(data.string()) + " --out " + quote((disk.path() / "discover").string()),
      kTessera + " simulate-dag --nodes 5 --format dcdi --out " + quote((disk.path() / "dcdi").string()),
  };
  for (const auto& command : commands) {
    SCOPED_TRACE(command);
    const auto result = run_command(command, 120);
    EXPECT_EQ(result.exit_code, 1) << result.output;
    expect_mentions(result.output, {"cannot write", disk.path().string(), "No space left on device", "free space"});
    EXPECT_EQ(result.output.find("internal error"), std::string::npos) << result.output;
    expect_no_empty_outputs(disk.path());
  }
}

// The checkpoint pointer: with room for the checkpoint file but not for `latest`, training ends with exit 1 and
// the reason, and `latest` is absent rather than empty (an empty one made `train --resume` refuse to start).
TEST(BadInputFiles, AFullDiskNeverLeavesAnEmptyCheckpointPointer) {
  const auto dir = scratch_dir("tessera_bad_files", "full_disk_train");
  const auto input = dir / "screen.gct";
  auto result = run_command(kTessera + kSimulateSmall + " --out " + quote(input.string()) + " --truth " +
                            quote((dir / "truth.h5").string()));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::string train = kTessera + " train --input " + quote(input.string()) + " --ae-width 4 --ae-max-epochs 1";
  // The checkpoint's size, measured on a roomy folder: the full disk gets exactly the pages it needs.
  result = run_command(train + " --out " + quote((dir / "roomy").string()));
  if (result.exit_code != 0 && result.output.find("LibTorch") != std::string::npos)
    GTEST_SKIP() << "this build has no `tessera train`: " << result.output;
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto checkpoint_size = fs::file_size(dir / "roomy" / "checkpoints" / "step-1.h5");
  const int free_kib = int((checkpoint_size + 4095) / 4096) * 4;
  FullDisk disk(dir / "mnt", 256, free_kib);
  if (!disk.available()) GTEST_SKIP() << disk.why_not();
  result = run_command(train + " --out " + quote((disk.path() / "train").string()));
  EXPECT_EQ(result.exit_code, 1) << result.output;
  expect_mentions(result.output, {"cannot write", "checkpoints/latest", "No space left on device"});
  expect_no_empty_outputs(disk.path());
}

// A run killed during a write leaves "<name>.tmp-<host>-<pid>"; the next run of the same output removes it.
TEST(BadInputFiles, TheNextRunRemovesTemporariesOfKilledRuns) {
  const auto dir = scratch_dir("tessera_bad_files", "stale");
  const auto data = chain_csv(dir);
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ::waitpid(dead, nullptr, 0);
  const std::string mine = io::temporary_path(dir / "out" / "dag.dot").string();
  const fs::path stale = mine.substr(0, mine.rfind('-') + 1) + std::to_string(dead);
  write_file(stale, "digraph causal {\n  \"X0\";\n");
  const auto result =
      run_command(kTessera + " discover -i " + quote(data.string()) + " --out " + quote((dir / "out").string()));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_FALSE(fs::exists(stale)) << stale << " was left behind";
  EXPECT_FALSE(has_temporary_files(dir));
}

// simulate --out x.gct writes GCT text (it wrote HDF5 under the .gct name, which inspect then refused).
TEST(BadInputFiles, SimulateWritesGctWhenTheNameSaysSo) {
  const auto dir = scratch_dir("tessera_bad_files", "simulate_gct");
  const auto gct = dir / "screen.gct";
  auto result = run_command(kTessera + kSimulateSmall + " --out " + quote(gct.string()) + " --truth " +
                            quote((dir / "truth.h5").string()));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::ifstream in(gct);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "#1.3");
  result = run_command(kTessera + " inspect " + quote(gct.string()));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  expect_mentions(result.output, {"20 genes x", "cell_id"});
}

// Latin-1 metadata (the real Level 5 file's "10 \xb5M") is shown as UTF-8 "10 µM".
TEST(BadInputFiles, InspectShowsLatin1MetadataAsUtf8) {
  const auto dir = scratch_dir("tessera_bad_files", "latin1");
  auto lines = gct_lines();
  lines[4] = "pert_idose\t-666\t10 \xb5M\t1 \xb5M";
  const auto result = run_command(kTessera + " inspect " + write_file(dir / "latin1.gct", joined(lines)));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  expect_mentions(result.output, {"pert_idose", "'10 \xc2\xb5M'"});
  EXPECT_EQ(result.output.find("10 \xb5M"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace tessera::testing
