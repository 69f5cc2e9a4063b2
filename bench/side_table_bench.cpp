// Side-table parse rate (io/side_table.h) on a siginfo_beta.txt-shaped file: tab-separated, a header, 35 fields
// per row of the kinds LINCS2020 beta has (ids, names, doses, times, flags, scores), CRLF-free.
//
//   side_table_bench [--rows=1200000] [--path=/tmp/bench_siginfo.txt] [--repeats=3] [--keep]
//
// Figures: file MB / seconds and rows / second of read_side_table (reading the file included, page cache warm
// after the first repetition), the --where filter's time, and peak RSS. The file is written when missing and
// removed at the end unless --keep.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench/bench_args.h"
#include "engine/context.h"
#include "engine/error.h"
#include "engine/random.h"
#include "io/side_table.h"

namespace {

using namespace tessera;
namespace fs = std::filesystem;

void write_siginfo(const fs::path& path, std::int64_t rows) {
  std::ofstream out(path, std::ios::binary);
  const char* header[] = {"bead_batch",
                          "nearest_dose",
                          "pert_dose",
                          "pert_dose_unit",
                          "pert_idose",
                          "pert_time",
                          "pert_itime",
                          "pert_time_unit",
                          "cell_mfc_name",
                          "pert_mfc_id",
                          "nsample",
                          "cc_q75",
                          "ss_ngene",
                          "tas",
                          "pct_self_rank_q25",
                          "wt",
                          "median_recall_rank_spearman",
                          "median_recall_rank_wtcs_50",
                          "median_recall_score_spearman",
                          "median_recall_score_wtcs_50",
                          "batch_effect_tstat",
                          "batch_effect_tstat_pct",
                          "is_hiq",
                          "qc_pass",
                          "pert_id",
                          "sig_id",
                          "pert_type",
                          "cell_iname",
                          "det_wells",
                          "det_plates",
                          "distil_ids",
                          "build_name",
                          "project_code",
                          "cmap_name",
                          "is_gold"};
  for (std::size_t i = 0; i < std::size(header); ++i) out << (i ? "\t" : "") << header[i];
  out << "\n";
  engine::RandomStream random(3, "bench/siginfo");
  const char* times[] = {"6 h", "24 h", "48 h"};
  const char* types[] = {"trt_cp", "trt_sh", "ctl_vehicle", "trt_oe"};
  std::string line;
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto cell = random.uniform_int(230), pert = random.uniform_int(40000), plate = random.uniform_int(9000);
    char buffer[1024];
    const int n = std::snprintf(
        buffer, sizeof buffer,
        "b%llu\t%.4g\t%.4g\tuM\t%.3g uM\t24\t%s\th\tCELL%llu\tBRD-K%08llu\t%llu\t%.6f\t%llu\t%.6f\t%.6f\t%.6f\t%.6f"
        "\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%d\t%d\tBRD-K%08llu\tPLATE%llu_%s_X%llu:%c%02llu:%lld\t%s\tCELL%llu\t%c%02llu|"
        "%c%02llu\tPLATE%llu_X1\tPLATE%llu_X1_B1:%c%02llu|PLATE%llu_X2_B1:%c%02llu\tcmap-2020\tLINCS\tcompound %llu"
        "\t%d\n",
        (unsigned long long)(plate % 30), random.uniform(0, 20), random.uniform(0, 20), random.uniform(0, 20),
        times[r % 3], (unsigned long long)cell, (unsigned long long)pert, (unsigned long long)(1 + r % 4),
        random.uniform(), (unsigned long long)random.uniform_int(978), random.uniform(), random.uniform(),
        random.uniform(), random.uniform(), random.uniform(), random.uniform(), random.uniform(), random.normal(),
        random.uniform(), int(r % 2), int(r % 3 != 0), (unsigned long long)pert, (unsigned long long)plate,
        times[r % 3], (unsigned long long)(r % 7), char('A' + r % 16), (unsigned long long)(1 + r % 24), (long long)r,
        types[r % 4], (unsigned long long)cell, char('A' + r % 16), (unsigned long long)(r % 24), char('B' + r % 15),
        (unsigned long long)(r % 23), (unsigned long long)plate, (unsigned long long)plate, char('A' + r % 16),
        (unsigned long long)(r % 24), (unsigned long long)plate, char('A' + r % 16), (unsigned long long)(r % 24),
        (unsigned long long)pert, int(r % 5 == 0));
    TESSERA_CHECK(n > 0 && n < int(sizeof buffer), "row too long");
    out.write(buffer, n);
  }
  TESSERA_CHECK(out.good(), "cannot write ", path.string());
}

}  // namespace

int main(int argc, char** argv) {
  engine::MpiSession mpi(&argc, &argv);
  try {
    bench::BenchArgs args(argc, argv,
                          "side_table_bench [--rows=1200000] [--path=/tmp/bench_siginfo.txt] [--repeats=3] [--keep]");
    const std::int64_t rows = args.integer("rows", 1200000);
    const fs::path path = args.text("path", "/tmp/bench_siginfo.txt");
    const int repeats = int(args.integer("repeats", 3));
    const bool keep = args.flag("keep");
    args.finish();
    if (!fs::exists(path)) {
      const bench::Stopwatch time;
      write_siginfo(path, rows);
      std::printf("wrote %lld rows x 35 fields to %s in %.1f s\n", (long long)rows, path.c_str(), time.seconds());
    }
    const double megabytes = double(fs::file_size(path)) / 1e6;
    std::vector<double> seconds, filter_seconds;
    std::size_t kept = 0, read_rows = 0;
    bench::reset_peak_rss();
    for (int r = 0; r < repeats; ++r) {
      const bench::Stopwatch time;
      const io::SideTable side = io::read_side_table(path, "sig_id");
      seconds.push_back(time.seconds());
      read_rows = side.table.size();
      const auto where = io::parse_where("is_gold=1,pert_type=trt_cp,pert_itime='24 h'");
      const bench::Stopwatch filter_time;
      kept = io::filter_rows(side, where).size();
      filter_seconds.push_back(filter_time.seconds());
    }
    const double best = *std::min_element(seconds.begin(), seconds.end());
    std::printf("%s: %.0f MB, %zu rows\nread_side_table: %.0f MB/s, %.2f M rows/s, %.2f s  [", path.c_str(), megabytes,
                read_rows, megabytes / best, double(read_rows) / best / 1e6, best);
    for (double s : seconds) std::printf(" %.2f", s);
    std::printf(" ]  peak RSS %.0f MiB\nfilter_rows (3 clauses): %.3f s, kept %zu rows\n", bench::peak_rss_mib(),
                *std::min_element(filter_seconds.begin(), filter_seconds.end()), kept);
    if (!keep) fs::remove(path);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "side_table_bench: %s\n", error.what());
    return 1;
  }
  return 0;
}
