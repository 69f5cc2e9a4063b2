// Hardening (issue 22), options and config files, intervention search and causal inputs: each row is a bad
// input a user may give and the words its refusal must contain (tests/support/bad_input.h); the TESTs after the
// table check inputs that used to give a wrong answer with exit 0 and must now give the right one.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/device.h"
#include "io/csv.h"
#include "tests/support/bad_input.h"

namespace fs = std::filesystem;
using tessera::testing::BadInput;
using tessera::testing::file_text;
using tessera::testing::quote;
using tessera::testing::run_command;

namespace {

const std::string kTessera = TESSERA_BIN;

std::string cli(const std::string& arguments) { return kTessera + " " + arguments; }

std::string at(const fs::path& dir, const std::string& name) { return quote((dir / name).string()); }

void write(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// A GCT 1.3 file of `genes` genes (ids G<i>, symbols SYM<i>) x the given signatures, with cell_id, pert_id and
// pert_type column fields; value(g, s) gives the matrix.
template <typename Value>
void write_gct(const fs::path& path, int genes, const std::vector<std::string>& ids,
               const std::vector<std::string>& cells, const std::vector<std::string>& perts,
               const std::vector<std::string>& types, Value value, const std::string& gene_prefix = "G") {
  std::ostringstream out;
  out.precision(17);
  out << "#1.3\n" << genes << "\t" << ids.size() << "\t1\t3\nid\tpr_gene_symbol";
  for (const auto& id : ids) out << "\t" << id;
  const auto field = [&](const char* name, const std::vector<std::string>& values) {
    out << "\n" << name << "\t-666";
    for (const auto& v : values) out << "\t" << v;
  };
  field("cell_id", cells);
  field("pert_id", perts);
  field("pert_type", types);
  for (int g = 0; g < genes; ++g) {
    out << "\n" << gene_prefix << g << "\tSYM" << g;
    for (std::size_t s = 0; s < ids.size(); ++s) out << "\t" << value(g, int(s));
  }
  out << "\n";
  write(path, out.str());
}

// Three signatures of 60 genes with distinct, smooth values.
void write_library(const fs::path& path, const std::string& gene_prefix = "G") {
  write_gct(
      path, 60, {"s0", "s1", "s2"}, {"A", "A", "B"}, {"d0", "d1", "d0"}, {"trt_cp", "trt_cp", "trt_cp"},
      [](int g, int s) { return std::sin(0.37 * g * (s + 1) + s) + 0.01 * g; }, gene_prefix);
}

// A query CSV over SYM0..SYM59: value(g).
template <typename Value>
void write_query(const fs::path& path, Value value) {
  std::ostringstream out;
  out.precision(17);
  out << "gene,value\n";
  for (int g = 0; g < 60; ++g) out << "SYM" << g << "," << value(g) << "\n";
  write(path, out.str());
}

double query_value(int g) { return std::cos(0.21 * g) - 0.1; }

// Observational and interventional rows of a three-variable chain X0 -> X1 -> X2 (deterministic noise); column
// X1 times `scale`.
void write_chain_csv(const fs::path& path, double scale) {
  std::ostringstream out;
  out.precision(17);
  out << "X0,X1,X2,setting\n";
  for (int r = 0; r < 300; ++r) {
    const bool shifted = r >= 200;
    const double x0 = std::sin(1.3 * r) + 0.5 * std::cos(0.7 * r * r);
    const double x1 = 0.8 * x0 + 0.6 * std::sin(2.9 * r + 1) + (shifted ? 2.0 : 0.0);
    const double x2 = -0.7 * x1 + 0.6 * std::cos(3.7 * r + 2);
    out << x0 << "," << x1 * scale << "," << x2 << "," << (shifted ? "s1" : "obs") << "\n";
  }
  write(path, out.str());
}

// A sweep file of `command` with the given [grid] lines (the first grid line is line 5).
std::string sweep_file(const fs::path& dir, const std::string& command, const std::string& grid) {
  write(dir / "sweep.ini",
        "[sweep]\ncommand = " + command + "\nout = " + (dir / "planned").string() + "\n[grid]\n" + grid);
  return cli("sweep plan " + at(dir, "sweep.ini"));
}

}  // namespace

TEST(BadInputOptions, RefusedWithTheFileTheFieldAndTheFix) {
  const std::vector<BadInput> rows = {
      // --config
      {"--config names a folder",
       [](const fs::path& dir) {
         fs::create_directories(dir / "conf.ini");
         return cli("simulate-dag --config " + at(dir, "conf.ini") + " --out " + at(dir, "out"));
       },
       1,
       {"conf.ini", "is a folder", "the INI file itself"},
       {"out"}},
      {"--config cannot be read (a read error, not an end of file)",
       [](const fs::path& dir) { return cli("simulate-dag --config /proc/self/mem --out " + at(dir, "out")); },
       1,
       {"/proc/self/mem", "cannot be read"},
       {"out"}},
      {"unknown key in a config file gets the closest option",
       [](const fs::path& dir) {
         write(dir / "c.ini", "[simulate-dag]\nnode = 6\n");
         return cli("simulate-dag --config " + at(dir, "c.ini") + " --out " + at(dir, "out"));
       },
       1,
       {"c.ini", "node", "did you mean --nodes?"},
       {"out"}},
      {"unknown option on the command line gets the closest option",
       [](const fs::path& dir) { return cli("impute --seeds 3 --out " + at(dir, "out")); },
       1,
       {"--seeds", "did you mean --seed?"},
       {"out"}},
      // Boost's message formatting looped forever on a value holding one of its own tokens (found by fuzz_ini).
      {"an option value holding Boost's %value% token",
       [](const fs::path& dir) { return cli("simulate --seed 'x%value%' --out " + at(dir, "out.gctx")); },
       1,
       {"--seed", "x\xEF\xBC\x85value\xEF\xBC\x85"},
       {"out.gctx"}},
      {"a config value holding Boost's %value% token",
       [](const fs::path& dir) {
         write(dir / "c.ini", "seed = x%value%\n");
         return cli("simulate --config " + at(dir, "c.ini") + " --out " + at(dir, "out.gctx"));
       },
       1,
       {"c.ini", "seed"},
       {"out.gctx"}},
      // sweep plan
      {"sweep [grid] key that is no option of the command",
       [](const fs::path& dir) { return sweep_file(dir, "impute", "method = two_way_mean\nfold = 2, 3\n"); },
       1,
       {"sweep.ini", "line 6", "'fold' is no option of 'tessera impute'", "did you mean 'folds'?"},
       {"planned/points.csv", "planned/array.sbatch"}},
      {"sweep [fixed] key that is no option of the command",
       [](const fs::path& dir) {
         write(dir / "sweep.ini", "[sweep]\ncommand = impute\nout = " + (dir / "planned").string() +
                                      "\n[fixed]\nmetod = cell_mean\n[grid]\nfolds = 2, 3\n");
         return cli("sweep plan " + at(dir, "sweep.ini"));
       },
       1,
       {"sweep.ini", "line 5", "[fixed] 'metod' is no option of 'tessera impute'", "did you mean 'method'?"},
       {"planned/points.csv"}},
      {"sweep [grid] value of the wrong type",
       [](const fs::path& dir) { return sweep_file(dir, "impute", "folds = 3, three\n"); },
       1,
       {"sweep.ini", "line 5", "folds = three", "--folds"},
       {"planned/points.csv"}},
      {"sweep [grid] value outside the option's choices",
       [](const fs::path& dir) { return sweep_file(dir, "rank", "rank-by = cosine, cos\n"); },
       1,
       {"sweep.ini", "line 5", "rank-by = cos", "--rank-by 'cos' is not one of connectivity | cosine | pearson"},
       {"planned/points.csv"}},
      // rank
      {"--heldout file whose genes are not the library's",
       [](const fs::path& dir) {
         write_library(dir / "lib.gct");
         write_library(dir / "heldout_x.gct", "OTHER");
         write_query(dir / "q.csv", query_value);
         return cli("rank -q " + at(dir, "q.csv") + " -l " + at(dir, "lib.gct") + " --heldout " +
                    at(dir, "heldout_x.gct") + " --min-genes 5 --set-size 5 -o " + at(dir, "r.csv"));
       },
       1,
       {"--heldout file", "heldout_x.gct", "lacks 60 of the 60 genes", "lib.gct", "'G0'", "same `tessera impute` run"},
       {"r.csv"}},
      {"--rank-by outside its choices",
       [](const fs::path& dir) { return cli("rank -q q.csv -l lib.gct --rank-by cos -o " + at(dir, "r.csv")); },
       1,
       {"--rank-by 'cos' is not one of connectivity | cosine | pearson"},
       {"r.csv"}},
      {"--min-genes below its range",
       [](const fs::path& dir) { return cli("rank -q q.csv -l lib.gct --min-genes 0 -o " + at(dir, "r.csv")); },
       1,
       {"tessera rank: --min-genes 0 is invalid: the allowed values of min_genes are at least 1"},
       {"r.csv"}},
      {"--set-size below its range",
       [](const fs::path& dir) { return cli("rank -q q.csv -l lib.gct --set-size 0 -o " + at(dir, "r.csv")); },
       1,
       {"tessera rank: --set-size 0 is invalid: the allowed values of set_size are at least 1"},
       {"r.csv"}},
      {"--weight-power below its range",
       [](const fs::path& dir) { return cli("rank -q q.csv -l lib.gct --weight-power -1 -o " + at(dir, "r.csv")); },
       1,
       {"tessera rank: --weight-power -1 is invalid: the allowed values of weight_power are at least 0"},
       {"r.csv"}},
      {"sweep [grid] --pair-space outside its choices",
       [](const fs::path& dir) { return sweep_file(dir, "rank", "pair-space = gene, protein\n"); },
       1,
       {"sweep.ini", "line 5", "pair-space = protein", "--pair-space 'protein' is not one of gene | latent"},
       {"planned/points.csv"}},
      // design, discover, impute: lists of names, counts and choices checked while parsing, so at plan time too
      {"sweep [grid] --acquisition list with a name outside its table",
       [](const fs::path& dir) { return sweep_file(dir, "design", "acquisition = greedy, best\n"); },
       1,
       {"sweep.ini", "line 5", "acquisition = best",
        "--acquisition 'best' is not one of greedy | variance | ucb | mi | random"},
       {"planned/points.csv"}},
      {"sweep [grid] --method list with a name outside the registry",
       [](const fs::path& dir) { return sweep_file(dir, "impute", "method = cell_mean, nosuch\n"); },
       1,
       {"sweep.ini", "line 5", "method = nosuch",
        "--method 'nosuch' is not one of all | cell_mean | drug_mean | two_way_mean | dnpp"},
       {"planned/points.csv"}},
      {"--bootstrap below its range",
       [](const fs::path& dir) { return cli("discover -i d.csv --bootstrap -1 -o " + at(dir, "out")); },
       1,
       {"tessera discover: --bootstrap -1 is invalid: the allowed values of bootstrap are at least 0"},
       {"out"}},
      {"sweep [grid] --shrinkage that is neither auto nor in [0, 1]",
       [](const fs::path& dir) { return sweep_file(dir, "discover", "shrinkage = auto, 2\n"); },
       1,
       {"sweep.ini", "line 5", "shrinkage = 2",
        "--shrinkage '2' is invalid: the allowed values of shrinkage are auto or in [0, 1]"},
       {"planned/points.csv"}},
      {"sweep [grid] --center outside its choices",
       [](const fs::path& dir) { return sweep_file(dir, "impute", "center = none, always\n"); },
       1,
       {"sweep.ini", "line 5", "center = always", "--center 'always' is not one of auto | none | required"},
       {"planned/points.csv"}},
      // design
      {"pool without a column for a DAG node",
       [](const fs::path& dir) {
         write(dir / "dag.csv", "source,target\nX0,X1\nX1,X2\n");
         write(dir / "pool.csv", "perturbation,X0\nup,1\n");
         return cli("design --dag " + at(dir, "dag.csv") + " --pool " + at(dir, "pool.csv") + " -o " +
                    at(dir, "d.csv"));
       },
       1,
       {"pool.csv", "no column for DAG nodes 'X1', 'X2'", "one column per node of --dag"},
       {"d.csv"}},
      {"DAG file with a self loop",
       [](const fs::path& dir) {
         write(dir / "dag.csv", "source,target\nX0,X1\nX1,X1\n");
         return cli("design --dag " + at(dir, "dag.csv") + " -o " + at(dir, "d.csv"));
       },
       1,
       {"dag.csv", "line 3", "'X1' -> 'X1' is a self loop", "delete the line"},
       {"d.csv"}},
      {"DAG file with a cycle",
       [](const fs::path& dir) {
         write(dir / "dag.csv", "source,target\nA,B\nB,C\nC,D\nD,B\n");
         return cli("design --dag " + at(dir, "dag.csv") + " -o " + at(dir, "d.csv"));
       },
       1,
       {"dag.csv", "has a cycle: B -> C -> D -> B", "lines 3, 4, 5", "delete or reverse"},
       {"d.csv"}},
      // impute's aggregation
      {"every signature a control: the fix names --control-types",
       [](const fs::path& dir) {
         write_gct(dir / "ctl.gct", 4, {"s0", "s1"}, {"A", "A"}, {"DMSO", "DMSO"}, {"ctl_vehicle", "ctl_vehicle"},
                   [](int g, int s) { return g + s; });
         return cli("impute --input " + at(dir, "ctl.gct") + " --out " + at(dir, "out"));
       },
       1,
       {"ctl.gct", "no treated signatures", "--control-types"},
       {"out/metrics.csv"}},
  };
  tessera::testing::expect_refusals("tessera_bad_options", rows);
}

// A GPU asked for where there is none is refused before any work, so no output is left behind. (On a machine with
// a GPU the same command runs: the case skips there.)
TEST(BadInputOptions, NtkDeviceCudaWithoutAGpuIsRefusedBeforeAnyOutput) {
  if (tessera::engine::cuda_device_count() > 0) GTEST_SKIP() << "a CUDA device is visible";
  const std::vector<BadInput> rows = {
      {"--ntk-device cuda without a GPU",
       [](const fs::path& dir) { return cli("impute --method ntk --ntk-device cuda --out " + at(dir, "out")); },
       1,
       {"ntk_device=cuda", tessera::engine::cuda_built() ? "no CUDA device is visible" : "built without CUDA",
        "ntk_device=cpu"},
       {"out"}},
  };
  tessera::testing::expect_refusals("tessera_bad_options", rows);
}

// Issue 18: the config reader's list of sections was a copy of the command names that missed simulate-dag.
TEST(BadInputOptions, ConfigAcceptsASectionForEveryCommand) {
  const auto dir = tessera::testing::scratch_dir("tessera_bad_options", "sections");
  const auto help = run_command(cli("--help"));
  ASSERT_EQ(help.exit_code, 0) << help.output;
  std::istringstream lines(help.output.substr(help.output.find("Commands:")));
  std::string line, config = "seed = 3\n";
  std::vector<std::string> names;
  std::getline(lines, line);
  while (std::getline(lines, line) && line.rfind("  ", 0) == 0) {
    names.push_back(line.substr(2, line.find(' ', 2) - 2));
    config += "[" + names.back() + "]\n";
  }
  ASSERT_GE(names.size(), 10u) << help.output;
  EXPECT_NE(std::find(names.begin(), names.end(), "simulate-dag"), names.end());
  config += "[simulate-dag]\nnodes = 5\nobservational-samples = 50\nsettings = 1\nsamples-per-setting = 20\n";
  write(dir / "all.ini", config);
  const auto result = run_command(cli("simulate-dag --config " + at(dir, "all.ini") + " --out " + at(dir, "d")));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  // The [simulate-dag] keys were applied: 5 variables and a setting column.
  const auto data = tessera::io::read_csv(dir / "d" / "data.csv");
  EXPECT_EQ(data.header.size(), 6u);
  EXPECT_EQ(data.rows.size(), 70u);
}

// A sweep whose every key and value is an option the command accepts is still planned.
TEST(BadInputOptions, SweepPlanAcceptsValidOptions) {
  const auto dir = tessera::testing::scratch_dir("tessera_bad_options", "sweep_ok");
  const auto result = run_command(sweep_file(dir, "impute", "folds = 2, 3\nper-cell = true, false\n"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("Planned 4 points"), std::string::npos) << result.output;
  EXPECT_TRUE(fs::exists(dir / "planned" / "points.csv"));
}

// Query values near 1e308 gave cosine and Pearson 0 or n/a with exit 0: the scores must be those of the same
// query scaled down (--rank-by cosine ranks by one of them; the table shows all three).
TEST(BadInputOptions, RankScoresOfAHugeQueryEqualThoseOfTheScaledDownQuery) {
  const auto dir = tessera::testing::scratch_dir("tessera_bad_options", "rank_huge");
  write_library(dir / "lib.gct");
  write_query(dir / "small.csv", query_value);
  write_query(dir / "huge.csv", [](int g) { return query_value(g) * 1.5e308; });
  std::string tables[2];
  for (int big = 0; big < 2; ++big) {
    const auto out = dir / (std::to_string(big) + ".csv");
    const auto result =
        run_command(cli("rank -q " + at(dir, big ? "huge.csv" : "small.csv") + " -l " + at(dir, "lib.gct") +
                        " --min-genes 5 --set-size 5 --rank-by cosine -o " + quote(out.string())));
    ASSERT_EQ(result.exit_code, 0) << result.output;
    tables[big] = file_text(out);
  }
  EXPECT_EQ(tables[0], tables[1]);
  const auto table = tessera::io::read_csv(dir / "1.csv");
  ASSERT_EQ(table.rows.size(), 3u);
  for (const auto& row : table.rows)
    for (const char* score : {"score", "cosine", "pearson"}) {
      const auto& text = row[table.column(score, "rank")];
      EXPECT_TRUE(text != "n/a" && std::stod(text) != 0) << score << ": " << tables[1];
    }
}

// A discovery column of values near 1e300 was reported as of "zero variance": it must give the DAG of the same
// data with that column scaled down.
TEST(BadInputOptions, DiscoverTreatsAHugeColumnAsTheScaledDownOne) {
  const auto dir = tessera::testing::scratch_dir("tessera_bad_options", "discover_huge");
  write_chain_csv(dir / "small.csv", 1.0);
  write_chain_csv(dir / "huge.csv", 1e300);
  std::string edges[2];
  for (int big = 0; big < 2; ++big) {
    const auto out = dir / (big ? "huge" : "small");
    const auto result = run_command(cli("discover -i " + at(dir, big ? "huge.csv" : "small.csv") +
                                        " --targets s1:X1 --algorithm igsp -o " + quote(out.string())));
    ASSERT_EQ(result.exit_code, 0) << result.output;
    EXPECT_EQ(result.output.find("zero variance"), std::string::npos) << result.output;
    EXPECT_EQ(result.output.find("is constant"), std::string::npos) << result.output;
    edges[big] = file_text(out / "dag_edges.csv");
  }
  EXPECT_EQ(edges[0], edges[1]);
  EXPECT_NE(edges[0].find("X1"), std::string::npos) << edges[0];
}
