// The one atomic writer (io/atomic_file.h): a finished write leaves exactly the final file; any failure (the
// writer throws, the disk is full) leaves the previous file untouched and no temporary; temporaries of dead
// processes are removed by the next write; an output folder that is a file is refused by name.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "engine/error.h"
#include "io/atomic_file.h"
#include "io/csv.h"
#include "io/npy.h"
#include "tests/support/full_disk.h"
#include "tests/support/test_helpers.h"

namespace tessera::io {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using testing::expect_mentions;
using testing::file_text;
using testing::has_temporary_files;

fs::path scratch(const std::string& name) { return testing::scratch_dir("tessera_atomic_file", name); }

// A pid that no process has: a child that has exited and been reaped.
pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  return child;
}

// "<path>.tmp-<host>-" as this process names its temporaries, for making those of other processes.
std::string temporary_prefix(const fs::path& path) {
  const std::string mine = temporary_path(path).string();
  return mine.substr(0, mine.size() - std::to_string(::getpid()).size());
}

TEST(AtomicFile, EachVariantWritesTheFinalFileOnly) {
  const auto dir = scratch("variants");
  write_bytes_atomically(dir / "bytes.txt", "one\ntwo\n");
  write_stream_atomically(dir / "sub" / "stream.txt", [](std::ostream& out) { out << "x " << 42 << '\n'; });
  write_atomically(
      dir / "named.txt", [](const fs::path& temporary) { std::ofstream(temporary) << "named"; }, Durability::kFolder);
  EXPECT_EQ(file_text(dir / "bytes.txt"), "one\ntwo\n");
  EXPECT_EQ(file_text(dir / "sub" / "stream.txt"), "x 42\n");
  EXPECT_EQ(file_text(dir / "named.txt"), "named");
  // A block larger than the stream's buffer goes through the direct path.
  const std::string big(300000, 'b');
  write_stream_atomically(dir / "big.bin", [&](std::ostream& out) { out << "head" << big; });
  EXPECT_EQ(file_text(dir / "big.bin"), "head" + big);
  EXPECT_FALSE(has_temporary_files(dir));
}

TEST(AtomicFile, TemporaryNamesItsHostAndProcess) {
  const std::string name = temporary_path("out/x.csv").string();
  EXPECT_TRUE(name.starts_with("out/x.csv.tmp-")) << name;
  EXPECT_TRUE(name.ends_with(std::string("-").append(std::to_string(::getpid())))) << name;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::string expected_host = host;
  for (char& c : expected_host) c = c == '-' ? '_' : c;
  EXPECT_NE(name.find(expected_host), std::string::npos) << name;
}

TEST(AtomicFile, AFailingWriterKeepsThePreviousFileAndLeavesNoTemporary) {
  const auto dir = scratch("throws");
  write_bytes_atomically(dir / "kept.csv", "old\n");
  const std::string message = error_of([&] {
    write_stream_atomically(dir / "kept.csv", [](std::ostream& out) {
      out << "half";
      TESSERA_FAIL("the writer gave up");
    });
  });
  expect_mentions(message, {"the writer gave up"});
  EXPECT_EQ(file_text(dir / "kept.csv"), "old\n");
  EXPECT_FALSE(has_temporary_files(dir));
}

// A std::filesystem error from inside a write is a user's problem with a path, not an "internal error".
TEST(AtomicFile, FilesystemErrorsBecomeErrorsNamingTheOutput) {
  const auto dir = scratch("fs_error");
  const std::string message = error_of(
      [&] { write_atomically(dir / "out.h5", [&](const fs::path&) { (void)fs::file_size(dir / "no_such_input"); }); });
  expect_mentions(message, {"cannot write", "out.h5", "No such file or directory"});
  EXPECT_FALSE(fs::exists(dir / "out.h5"));
  EXPECT_FALSE(has_temporary_files(dir));
}

TEST(AtomicFile, AFullDiskIsAnErrorNamingTheFileAndTheReason) {
  testing::FullDisk disk(scratch("full") / "mnt");
  if (!disk.available()) GTEST_SKIP() << disk.why_not();
  const fs::path target = disk.path() / "results.csv";
  write_bytes_atomically(target, "previous\n");
  const std::string big(64 * 1024, 'v');
  for (const auto& write : std::vector<std::function<void()>>{
           [&] { write_bytes_atomically(target, big); },
           [&] { write_stream_atomically(target, [&](std::ostream& out) { out << big; }); },
           [&] {
             write_csv(target, CsvTable{{"a"}, {{big}}, {2}});
           },
           [&] { write_npy(target, Eigen::MatrixXd::Ones(100, 100)); }}) {
    const std::string message = error_of(write);
    expect_mentions(message, {"cannot write", target.string(), "No space left on device", "free space"});
    EXPECT_EQ(file_text(target), "previous\n");
    EXPECT_FALSE(has_temporary_files(disk.path()));
  }
}

TEST(AtomicFile, StaleTemporariesOfDeadProcessesAreRemoved) {
  const auto dir = scratch("stale");
  const fs::path target = dir / "dag.dot";
  const std::string prefix = temporary_prefix(target);
  const fs::path dead = prefix + std::to_string(dead_pid());
  const fs::path alive = prefix + std::to_string(::getppid());  // our parent runs
  const fs::path other_host = target.string() + ".tmp-some_other_host-" + std::to_string(dead_pid());
  const fs::path other_file = temporary_prefix(dir / "other.dot") + std::to_string(dead_pid());
  for (const auto& path : {dead, alive, other_host, other_file}) std::ofstream(path) << "partial";
  write_bytes_atomically(target, "digraph {}\n");
  EXPECT_FALSE(fs::exists(dead)) << "a dead process's temporary is left";
  EXPECT_TRUE(fs::exists(alive)) << "a running process's temporary was removed";
  EXPECT_TRUE(fs::exists(other_host)) << "another host's temporary was removed (its pid means nothing here)";
  EXPECT_TRUE(fs::exists(other_file)) << "the temporary of another output was removed";
  EXPECT_EQ(file_text(target), "digraph {}\n");
  EXPECT_EQ(remove_stale_temporaries(dir / "other.dot"), 1);
  EXPECT_FALSE(fs::exists(other_file));
}

TEST(AtomicFile, AnOutputFolderThatIsAFileIsRefusedByName) {
  const auto dir = scratch("folder_is_file");
  std::ofstream(dir / "results") << "a file";
  expect_mentions(error_of([&] { make_output_folder(dir / "results", "--out"); }),
                  {"--out", (dir / "results").string(), "is a file; give a folder"});
  // Deeper: the file is above the folder to make.
  expect_mentions(error_of([&] { make_output_folder(dir / "results" / "a" / "b", "--out"); }),
                  {"--out", (dir / "results").string() + "' is a file"});
  // Through a writer, which makes its file's folder.
  expect_mentions(error_of([&] { write_bytes_atomically(dir / "results" / "metrics.csv", "x"); }),
                  {"output folder", (dir / "results").string(), "is a file; give a folder"});
  // And the other way round: a folder where a file is to be written.
  fs::create_directories(dir / "x.gctx");
  expect_mentions(error_of([&] { write_bytes_atomically(dir / "x.gctx", "x"); }),
                  {"x.gctx", "a folder has that name", "give the name of a file"});
  make_output_folder(dir / "new" / "deeper", "--out");
  EXPECT_TRUE(fs::is_directory(dir / "new" / "deeper"));
  EXPECT_FALSE(has_temporary_files(dir));
}

}  // namespace
}  // namespace tessera::io
