// H5adSlabWriter: every rank writes its own rows of X through MPI-IO. Runs at 1, 2 and 3 ranks. Each file is read
// back by python3-anndata itself (tests/io/h5ad_check.py, Debian's /usr/bin/python3), which also writes what it
// read with its own write_h5ad and finds no difference from our file but X's chunking; what anndata sees is
// compared with what was written: X bit for bit (float32, NaN, -0 and infinities included), obs and var ids, text
// obs columns as categoricals (categories in pandas' order, codes in pandas' integer type), integer and float
// columns in their types, empty uns/obsm/varm/layers/obsp/varp. The bytes of a file do not depend on which rank
// wrote which rows. Failures: a rank that throws before close(), rows never written or written twice, an
// unwritable folder, a full disk, bad tables and blocks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/collectives.h"
#include "engine/error.h"
#include "engine/partition.h"
#include "io/h5ad_writer.h"
#include "tests/io/anndata_report.h"
#include "tests/support/full_disk.h"
#include "tests/support/run_command.h"
#include "tests/support/shared_temp_dir.h"
#include "tests/support/test_helpers.h"

namespace tessera::io {
namespace {

using tessera::testing::error_of;
using tessera::testing::expect_mentions;
using tessera::testing::has_temporary_files;

namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const engine::Context& world() {
  static const engine::Context context(MPI_COMM_WORLD);
  return context;
}

struct TempDir : tessera::testing::SharedTempDir {
  TempDir() : SharedTempDir("tessera_test_h5ad_writer") {}
};

// An imputation table's shape: obs = (cell, perturbation) entries, var = genes.
struct Sample {
  Eigen::MatrixXd values;  // genes x entries
  MetaTable obs;
  MetaTable var;
};

constexpr int kGenes = 37;
constexpr int kEntries = 101;
// 1 KiB chunks: 6 rows of 37 genes each, so that blocks start and end inside chunks shared by two ranks.
const H5adWriteOptions kSmallChunks{1};

// Text with a non-ASCII value (sorted after ASCII by pandas, by code point), a missing float, both integer types.
Sample sample(int genes = kGenes, int entries = kEntries) {
  Sample s;
  s.values.resize(genes, entries);
  for (int e = 0; e < entries; ++e)
    for (int g = 0; g < genes; ++g) s.values(g, e) = std::sin(0.37 * g + 1.91 * e) * 3.0;
  s.values(0, 1) = kNaN;
  s.values(1, 1) = -0.0;
  s.values(2, entries - 1) = -std::numeric_limits<double>::infinity();
  const std::vector<std::string> cells = {"MCF7", "A549", "HT29"};
  const std::vector<std::string> perturbations = {"TP53", "BRD-K001", "10 \xc2\xb5M dose", "ctl_vehicle", "MYC"};
  MetaColumn cell{"cell", MetaType::kString, {}, {}};
  MetaColumn perturbation{"perturbation", MetaType::kString, {}, {}};
  MetaColumn fold{"fold", MetaType::kInt32, {}, {}};
  MetaColumn count{"n_ctrl", MetaType::kInt64, {}, {}};
  MetaColumn score{"score", MetaType::kFloat64, {}, {}};
  for (int e = 0; e < entries; ++e) {
    cell.text.push_back(cells[std::size_t(e % 3)]);
    perturbation.text.push_back(perturbations[std::size_t(e / 3 % 5)] + (e / 15 ? "_" + std::to_string(e / 15) : ""));
    s.obs.ids.push_back(cell.text.back() + ":" + perturbation.text.back());
    fold.numbers.push_back(double(e % 4 - 1));
    count.numbers.push_back(double((std::int64_t(1) << 40) + e));
    score.numbers.push_back(e == 2 ? kNaN : 0.1 * e);
  }
  s.obs.fields = {cell, perturbation, fold, count, score};
  MetaColumn symbol{"symbol", MetaType::kString, {}, {}};
  MetaColumn weight{"weight", MetaType::kFloat32, {}, {}};
  for (int g = 0; g < genes; ++g) {
    s.var.ids.push_back(std::to_string(5000 + 7 * g));
    symbol.text.push_back("SYM" + std::to_string(g));
    weight.numbers.push_back(double(float(0.1 * g)));
  }
  s.var.fields = {symbol, weight};
  return s;
}

template <typename Scalar = double>
Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> rows(const Sample& s, std::int64_t begin, std::int64_t end) {
  return s.values.middleCols(begin, end - begin).cast<Scalar>();
}

// --- what anndata reads (tests/io/h5ad_check.py) -------------------------------------------------------------------

// "" when /usr/bin/python3 imports anndata, else why not; asked on rank 0, the answer shared.
std::string why_no_anndata() {
  std::string why;
  if (world().is_root()) why = tessera::testing::why_no_anndata();
  engine::broadcast(world(), why);
  return why;
}

using Seen = tessera::testing::AnndataSeen;

// Rank 0 runs the check script on `path`; the other ranks get an empty report.
Seen read_with_anndata(const fs::path& path) {
  return world().is_root() ? tessera::testing::read_with_anndata(TESSERA_H5AD_CHECK, path) : Seen{};
}

std::uint32_t bits(float value) {
  std::uint32_t out;
  std::memcpy(&out, &value, sizeof out);
  return out;
}

// The numbers of a float column as anndata shows them (repr of a Python float), compared as numbers.
void expect_floats(const std::vector<std::string>& seen, const std::vector<double>& want, bool single) {
  ASSERT_EQ(seen.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double stored = single ? double(float(want[i])) : want[i];
    const double got = std::strtod(seen[i].c_str(), nullptr);
    if (std::isnan(stored))
      EXPECT_TRUE(std::isnan(got)) << i;
    else
      EXPECT_EQ(got, stored) << i << ": " << seen[i];
  }
}

std::vector<std::string> integers(const std::vector<double>& values) {
  std::vector<std::string> out;
  for (const double v : values) out.push_back(std::to_string(std::int64_t(v)));
  return out;
}

// Everything anndata reads equals `s` (on rank 0); `categories` are the expected sorted categories per column.
void expect_anndata_sees(const fs::path& path, const Sample& s,
                         const std::map<std::string, std::vector<std::string>>& categories,
                         const std::string& codes_type = "int8", std::int64_t chunk_rows = 6) {
  const Seen seen = read_with_anndata(path);
  if (!world().is_root()) return;
  const std::int64_t entries = s.values.cols(), genes = s.values.rows();
  EXPECT_EQ(seen.one("X"),
            (std::vector<std::string>{"ndarray", "float32", std::to_string(entries), std::to_string(genes)}));
  EXPECT_EQ(seen.one("X_chunks"), (std::vector<std::string>{std::to_string(chunk_rows), std::to_string(genes)}));
  const auto x_rows = seen.lines.find("X_row");
  ASSERT_TRUE(x_rows != seen.lines.end());
  ASSERT_EQ(std::int64_t(x_rows->second.size()), entries);
  for (std::int64_t e = 0; e < entries; ++e) {
    ASSERT_EQ(std::int64_t(x_rows->second[std::size_t(e)].size()), genes);
    for (std::int64_t g = 0; g < genes; ++g)
      EXPECT_EQ(x_rows->second[std::size_t(e)][std::size_t(g)], std::to_string(bits(float(s.values(g, e)))))
          << "row " << e << ", gene " << g;
  }
  EXPECT_EQ(seen.one("obs_index"), s.obs.ids);
  EXPECT_EQ(seen.one("var_index"), s.var.ids);
  for (const auto& [frame, table] : {std::pair{"obs", &s.obs}, std::pair{"var", &s.var}}) {
    std::size_t columns = 0;
    for (const auto& [key, lines] : seen.lines) columns += key.starts_with(std::string(frame) + "_column:");
    EXPECT_EQ(columns, table->fields.size()) << frame;
    for (const auto& field : table->fields) {
      const std::string key = std::string(frame) + "_column:" + field.name;
      const auto& column = seen.one(key);
      const auto& values = seen.one(std::string(frame) + "_values:" + field.name);
      switch (field.type) {
        case MetaType::kString:
          if (std::string(frame) == "obs") {
            EXPECT_EQ(column, (std::vector<std::string>{"category", codes_type, "False"})) << key;
            EXPECT_EQ(seen.one("obs_categories:" + field.name), categories.at(field.name)) << key;
            EXPECT_EQ(seen.one("obs_pandas_categories:" + field.name), categories.at(field.name)) << key;
          } else {
            EXPECT_EQ(column, std::vector<std::string>{"object"}) << key;
          }
          EXPECT_EQ(values, field.text) << key;
          break;
        case MetaType::kInt32:
        case MetaType::kInt64:
          EXPECT_EQ(column, std::vector<std::string>{field.type == MetaType::kInt32 ? "int32" : "int64"}) << key;
          EXPECT_EQ(values, integers(field.numbers)) << key;
          break;
        case MetaType::kFloat32:
        case MetaType::kFloat64:
          EXPECT_EQ(column, std::vector<std::string>{field.type == MetaType::kFloat32 ? "float32" : "float64"}) << key;
          expect_floats(values, field.numbers, field.type == MetaType::kFloat32);
          break;
      }
    }
  }
  // The file is the one anndata itself writes for what it read (but X's chunks): every element, HDF5 type, shape,
  // attribute and value.
  std::string differences;
  if (const auto it = seen.lines.find("difference"); it != seen.lines.end())
    for (const auto& line : it->second) differences += (line.empty() ? "" : line.front()) + "\n";
  EXPECT_EQ(seen.one("anndata_differences"), std::vector<std::string>{"0"}) << differences;
  for (const char* key : {"uns", "obsm", "varm", "layers", "obsp", "varp"})
    EXPECT_EQ(seen.one(std::string(key) + "_keys"), std::vector<std::string>{"0"}) << key;
}

// The distinct values of each text column of `table`, sorted bytewise (= by code point for UTF-8, pandas' order;
// the check script also reports the categories pandas itself builds from the values, compared in
// expect_anndata_sees).
std::map<std::string, std::vector<std::string>> sorted_categories(const MetaTable& table) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& field : table.fields) {
    if (field.type != MetaType::kString) continue;
    std::vector<std::string> values = field.text;
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    out[field.name] = values;
  }
  return out;
}

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// --- the tests -----------------------------------------------------------------------------------------------------

// Ragged plans: rank 0 writes its block in float pieces of 7 from the end backwards (and an empty block), rank 1
// one double block (rounded to float32 by HDF5), the last rank of 3 nothing at all. anndata reads back every value.
TEST(H5adSlabWriter, RaggedBlocksAndAnIdleRankReadBackInAnndata) {
  TempDir dir;
  const Sample s = sample();
  const fs::path path = dir / "out" / "completed.h5ad";  // a folder that does not exist yet
  const int writers = std::max(1, world().size() - 1);
  H5adSlabWriter writer(path, world(), s.obs, s.var, kSmallChunks);
  EXPECT_EQ(writer.num_obs(), kEntries);
  EXPECT_EQ(writer.num_vars(), kGenes);
  if (world().rank() < writers) {
    const engine::BlockRange block = engine::block_range(kEntries, writers, world().rank());
    if (world().rank() == 1) {
      writer.write_rows(block.begin, rows(s, block.begin, block.end));
    } else {
      for (std::int64_t end = block.end; end > block.begin; end -= 7)
        writer.write_rows(std::max(block.begin, end - 7), rows<float>(s, std::max(block.begin, end - 7), end));
      writer.write_rows(block.begin, rows<float>(s, block.begin, block.begin));
    }
  }
  writer.close();
  world().barrier();
  if (world().is_root()) {
    EXPECT_FALSE(has_temporary_files(dir.path()));
  }
  if (const std::string why = why_no_anndata(); !why.empty()) GTEST_SKIP() << why;
  const auto categories = sorted_categories(s.obs);
  // Spelled out at the ends: the digit first, "\xc2\xb5" (U+00B5) inside, lower case after upper case.
  EXPECT_EQ(categories.at("perturbation").front(), "10 \xc2\xb5M dose");
  EXPECT_EQ(categories.at("perturbation").back().substr(0, 11), "ctl_vehicle");
  expect_anndata_sees(path, s, categories);
}

// The bytes do not depend on who wrote which rows or in which precision: rank 0 writing everything in float, and
// every rank writing its block in double, give the same file. Its hash is printed so that runs at 1, 2 and 3 ranks
// can be compared too (the same hash: no time stamps, no rank-dependent layout).
TEST(H5adSlabWriter, SameBytesWhoeverWritesTheRows) {
  TempDir dir;
  const Sample s = sample();
  const fs::path one = dir / "rank0.h5ad", all = dir / "blocks.h5ad";
  {
    H5adSlabWriter writer(one, world(), s.obs, s.var, kSmallChunks);
    if (world().is_root()) writer.write_rows(0, rows<float>(s, 0, kEntries));
    writer.close();
  }
  {
    H5adSlabWriter writer(all, world(), s.obs, s.var, kSmallChunks);
    const engine::BlockRange block = engine::block_range(kEntries, world().size(), world().rank());
    writer.write_rows(block.begin, rows(s, block.begin, block.end));
    writer.close();
  }
  world().barrier();
  if (world().is_root()) {
    const std::string a = file_bytes(one), b = file_bytes(all);
    EXPECT_GT(a.size(), std::size_t(kEntries * kGenes * 4));
    EXPECT_TRUE(a == b) << "the two files differ";
    std::uint64_t hash = 1469598103934665603ull;  // FNV-1a
    for (const char c : a) hash = (hash ^ std::uint8_t(c)) * 1099511628211ull;
    std::printf("h5ad bytes: %zu, FNV-1a %016llx at %d ranks\n", a.size(), static_cast<unsigned long long>(hash),
                world().size());
  }
}

// "c1000", "c1001", ... (appended, not `"c" + std::to_string(...)`, which trips GCC 12's -Wrestrict false positive).
std::string cell_name(int k) {
  std::string name = "c";
  name += std::to_string(1000 + k);
  return name;
}

// Many categories: codes become int16 (pandas' type for 127..32766 categories); one chunk holds all rows with the
// default chunk size; a var table without fields (anndata's empty column-order).
TEST(H5adSlabWriter, ManyCategoriesAndNoVarFields) {
  TempDir dir;
  Sample s = sample(5, 300);
  s.var.fields.clear();
  s.obs.fields.resize(1);
  for (int e = 0; e < 300; ++e) s.obs.fields[0].text[std::size_t(e)] = cell_name(e % 150);
  std::vector<std::string> cells;
  for (int c = 0; c < 150; ++c) cells.push_back(cell_name(c));
  const fs::path path = dir / "many.h5ad";
  H5adSlabWriter writer(path, world(), s.obs, s.var);
  const engine::BlockRange block = engine::block_range(300, world().size(), world().rank());
  writer.write_rows(block.begin, rows(s, block.begin, block.end));
  writer.close();
  if (const std::string why = why_no_anndata(); !why.empty()) GTEST_SKIP() << why;
  expect_anndata_sees(path, s, {{"cell", cells}}, "int16", 300);
}

// The last rank throws before close(): its destructor takes part in the agreement, every other rank's close()
// throws an Error naming the file, the previous file under that name is untouched and no temporary is left.
TEST(H5adSlabWriter, RankThatThrowsBeforeCloseLeavesNoFile) {
  TempDir dir;
  const Sample s = sample();
  const fs::path path = dir / "failed.h5ad";
  if (world().is_root()) std::ofstream(path) << "the previous version";
  world().barrier();
  const int thrower = world().size() - 1;
  std::string message;
  bool own_exception = false;
  try {
    H5adSlabWriter writer(path, world(), s.obs, s.var, kSmallChunks);
    const engine::BlockRange block = engine::block_range(kEntries, world().size(), world().rank());
    writer.write_rows(block.begin, rows(s, block.begin, block.end));
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
    expect_mentions(message, {"cannot write h5ad file '" + path.string() + "'", "another rank failed"});
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

// close() checks that the writes of all ranks tile X: a gap or an overlap fails on every rank, and leaves no file.
TEST(H5adSlabWriter, RowsNeverWrittenOrWrittenTwiceAreRefusedOnEveryRank) {
  TempDir dir;
  const Sample s = sample();
  {
    const fs::path path = dir / "gap.h5ad";
    H5adSlabWriter writer(path, world(), s.obs, s.var, kSmallChunks);
    // Everyone skips row 20, in rank 0's block at every rank count.
    const engine::BlockRange block = engine::block_range(kEntries, world().size(), world().rank());
    for (std::int64_t r = block.begin; r < block.end; ++r)
      if (r != 20) writer.write_rows(r, rows(s, r, r + 1));
    expect_mentions(error_of([&] { writer.close(); }),
                    {"cannot write h5ad file '" + path.string() + "'", "rows [20, 21) of X were never written"});
    EXPECT_FALSE(fs::exists(path));
  }
  {
    const fs::path path = dir / "overlap.h5ad";
    H5adSlabWriter writer(path, world(), s.obs, s.var, kSmallChunks);
    const engine::BlockRange block = engine::block_range(kEntries, world().size(), world().rank());
    writer.write_rows(block.begin, rows(s, block.begin, block.end));
    if (world().is_root()) writer.write_rows(10, rows(s, 10, 15));
    expect_mentions(error_of([&] { writer.close(); }), {"rows [10, 15) of X were written more than once"});
    EXPECT_FALSE(fs::exists(path));
  }
  {
    const fs::path path = dir / "nothing.h5ad";
    H5adSlabWriter writer(path, world(), s.obs, s.var, kSmallChunks);
    expect_mentions(error_of([&] { writer.close(); }), {"rows [0, 101) of X were never written"});
  }
  world().barrier();
  if (world().is_root()) {
    EXPECT_FALSE(has_temporary_files(dir.path()));
  }
}

// A folder that cannot be made (a file is in the way): rank 0 names the cause, the others learn that it failed,
// nobody hangs, nothing is created.
TEST(H5adSlabWriter, UnwritableFolderFailsOnEveryRank) {
  TempDir dir;
  const Sample s = sample();
  if (world().is_root()) std::ofstream(dir / "a_file") << "not a folder";
  world().barrier();
  const fs::path path = dir / "a_file" / "out.h5ad";
  const std::string message = error_of([&] { H5adSlabWriter(path, world(), s.obs, s.var); });
  if (world().is_root())
    expect_mentions(message, {"a_file"});
  else
    expect_mentions(message, {"cannot write h5ad file '" + path.string() + "': creating it failed on another rank"});
  const std::string folder_error = error_of([&] { H5adSlabWriter(dir.path(), world(), s.obs, s.var); });
  if (world().is_root())
    expect_mentions(folder_error, {"cannot write h5ad file '" + dir.path().string() + "'", "a folder has that name"});
  world().barrier();
  if (world().is_root()) {
    EXPECT_FALSE(has_temporary_files(dir.path()));
  }
}

// A disk too small for X: every rank gets an Error naming the file, nobody hangs, no file or temporary is left.
// Needs root (a tmpfs).
TEST(H5adSlabWriter, FullDiskFailsEveryRankAndLeavesNoFile) {
  TempDir dir;
  std::unique_ptr<tessera::testing::FullDisk> disk;
  std::int64_t mounted = 0;
  std::string why_not;
  if (world().is_root()) {
    disk = std::make_unique<tessera::testing::FullDisk>(dir / "full", 1024, 200);
    mounted = disk->available();
    why_not = disk->why_not();
  }
  engine::broadcast(world(), std::span<std::int64_t>(&mounted, 1));
  engine::broadcast(world(), why_not);
  if (!mounted) GTEST_SKIP() << why_not;
  // 440 KB of X: short ids and no fields, so that the metadata fits and reserving X's space fails; then the long
  // ids and fields of sample(), so that the metadata itself does not fit.
  Sample s = sample(kGenes, 3001);
  const MetaTable long_obs = s.obs;
  for (std::size_t e = 0; e < s.obs.ids.size(); ++e) s.obs.ids[e] = std::to_string(e);
  s.obs.fields.clear();
  for (const bool metadata_fits : {true, false}) {
    if (!metadata_fits) s.obs = long_obs;
    const fs::path path = dir / "full" / "big.h5ad";
    const std::string message = error_of([&] {
      H5adSlabWriter writer(path, world(), s.obs, s.var, kSmallChunks);
      const engine::BlockRange block = engine::block_range(3001, world().size(), world().rank());
      writer.write_rows(block.begin, rows(s, block.begin, block.end));
      writer.close();
    });
    if (world().is_root()) {
      expect_mentions(message, {"cannot write h5ad file '" + path.string() + "'", "free space"});
      if (metadata_fits) expect_mentions(message, {"cannot reserve"});
      if (!metadata_fits) expect_mentions(message, {"No space left on device"});
    } else {
      expect_mentions(message, {"cannot write h5ad file '" + path.string() + "': creating it failed on another rank"});
    }
    world().barrier();
    if (world().is_root()) {
      EXPECT_FALSE(fs::exists(path));
      EXPECT_FALSE(has_temporary_files(dir / "full"));
    }
    world().barrier();
  }
  disk.reset();
}

// Bad blocks are refused locally, before anything is written, and the writer goes on.
TEST(H5adSlabWriter, BadBlocksAreRefusedAndTheWriterGoesOn) {
  TempDir dir;
  const Sample s = sample();
  const fs::path path = dir / "bad_blocks.h5ad";
  H5adSlabWriter writer(path, world(), s.obs, s.var, kSmallChunks);
  const std::string where = "cannot write h5ad file '" + path.string() + "'";
  expect_mentions(error_of([&] { writer.write_rows(0, Eigen::MatrixXd(kGenes - 1, 3)); }),
                  {where, "a block has 36 genes but the file has 37"});
  expect_mentions(error_of([&] { writer.write_rows(kEntries - 2, rows(s, 0, 3)); }),
                  {where, "rows [99, 102) are outside [0, 101)"});
  expect_mentions(error_of([&] { writer.write_rows(-1, rows(s, 0, 1)); }), {where, "rows [-1, 0)"});
  const engine::BlockRange block = engine::block_range(kEntries, world().size(), world().rank());
  writer.write_rows(block.begin, rows(s, block.begin, block.end));
  writer.close();
  EXPECT_TRUE(fs::exists(path));
  expect_mentions(error_of([&] { writer.close(); }), {where, "close() called twice"});
  expect_mentions(error_of([&] { writer.write_rows(0, rows(s, 0, 1)); }), {where, "write_rows() after close()"});
}

// Bad tables fail on every rank together (every rank checks the same arguments) and create nothing.
TEST(H5adSlabWriter, BadTablesFailOnEveryRank) {
  TempDir dir;
  const fs::path path = dir / "bad.h5ad";
  const std::string where = "cannot write h5ad file '" + path.string() + "'";
  auto refusal = [&](const Sample& s) { return error_of([&] { H5adSlabWriter(path, world(), s.obs, s.var); }); };
  {
    Sample s = sample();
    s.obs.ids[7] = s.obs.ids[3];
    expect_mentions(refusal(s), {where, "/obs/_index: duplicate id '" + s.obs.ids[3] + "' at positions 3 and 7"});
  }
  {
    Sample s = sample();
    s.obs.fields[2].numbers[5] = kNaN;
    expect_mentions(refusal(s), {where, "/obs/fold: value 5", "not a int32", "store the field as float64"});
  }
  {
    Sample s = sample();
    s.var.fields[0].name = "_index";
    expect_mentions(refusal(s), {where, "/var: field name '_index' cannot be stored"});
  }
  {
    Sample s = sample();
    s.obs.fields[3].name = ".";  // HDF5's name of the group itself
    expect_mentions(refusal(s), {where, "/obs: field name '.' cannot be stored"});
  }
  {
    Sample s = sample();
    s.obs.fields[1].name = "cell";
    expect_mentions(refusal(s), {where, "/obs: two fields are named 'cell'"});
  }
  {
    Sample s = sample();
    s.var.fields[0].text.pop_back();
    expect_mentions(refusal(s), {where, "/var/symbol: has 36 values for 37 genes"});
  }
  {
    Sample s = sample();
    s.obs.fields[0].text[4] = "10 \xb5M";  // Latin-1
    expect_mentions(refusal(s), {where, "/obs/cell: value 4 is not UTF-8 text"});
  }
  {
    Sample s = sample();
    s.obs = MetaTable{};
    expect_mentions(refusal(s), {where, "/obs: there are no obs rows"});
  }
  expect_mentions(error_of([&] { H5adSlabWriter(path, world(), sample().obs, sample().var, {0}); }),
                  {where, "max_chunk_kb 0 must be at least 1"});
  world().barrier();
  EXPECT_FALSE(fs::exists(path));
}

}  // namespace
}  // namespace tessera::io
