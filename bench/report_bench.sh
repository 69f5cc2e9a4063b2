#!/usr/bin/env bash
# tessera report: time, peak memory and page size of each kind of page, and the time headless Chromium takes to
# open it and draw every plot. A page is written by one process whatever the rank count, so there is no scaling
# over ranks to measure; the runs that make the inputs are not timed.
#
#   bash bench/report_bench.sh [build folder (default build)] [repetitions (default 5)]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
reps=${2:-5}
tessera="$(realpath "$build")/jobs/tessera"
[ -x "$tessera" ] || { echo "report_bench: no $tessera; build first (bash scripts/build.sh)" >&2; exit 2; }
data=${TESSERA_DATA_DIR:-$PWD/../shared/data}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source scripts/mpi_env.sh

# The inputs: the built-in screen with four methods; Sachs with 10 bootstrap samples and the SARS-CoV-2 ranking
# when the real data are there.
mpirun -np 2 "$tessera" impute --method cell_mean,two_way_mean,dnpp,ntk --out "$work/impute" >/dev/null 2>&1
sources=("$work/impute")
if [ -f "$data/sachs/sachs_gss.csv" ]; then
  "$tessera" discover -i "$data/sachs/sachs_gss.csv" --setting-column grp --observational 1,2 \
    --settings 1,2,3,4,5,6,7 --algorithm utigsp --bootstrap 10 -o "$work/sachs" >/dev/null 2>&1
  mpirun -np 2 "$tessera" impute --input "$data/lincs2020/lincs2020_l5_gold_24h_10uM_dev.gctx" \
    --method two_way_mean --out "$work/lincs" >/dev/null 2>&1
  mpirun -np 2 "$tessera" rank --query "$data/covid19/blancoA_l2fc.csv" \
    --library "$work/lincs/completed_two_way_mean.gctx" --heldout "$work/lincs/heldout_two_way_mean.gctx" \
    --cell NL20 -k 100 -o "$work/rank.csv" >/dev/null 2>&1
  sources+=("$work/sachs" "$work/rank.csv")
fi

printf "%-10s %12s %10s %10s %16s\n" page "report (s)" "peak MB" "page MB" "Chromium (s)"
for source in "${sources[@]}"; do
  best=999 peak=0
  for _ in $(seq "$reps"); do
    /usr/bin/time -f "%e %M" -o "$work/time" "$tessera" report "$source" --out "$work/page.html" >/dev/null
    read -r seconds kb <"$work/time"
    best=$(awk -v a="$best" -v b="$seconds" 'BEGIN { print (b < a) ? b : a }')
    peak=$(( kb > peak ? kb : peak ))
  done
  size=$(stat -c %s "$work/page.html")
  draw="n/a"
  if command -v chromium >/dev/null; then
    start=$(date +%s.%N)
    chromium --headless=new --no-sandbox --disable-gpu --proxy-server=http://127.0.0.1:9 \
      --virtual-time-budget=20000 --user-data-dir="$work/chromium" --dump-dom "file://$work/page.html" \
      2>/dev/null | grep -c 'data-drawn="yes"' >/dev/null
    draw=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  fi
  awk -v name="$(basename "$source" .csv)" -v t="$best" -v kb="$peak" -v bytes="$size" -v draw="$draw" \
    'BEGIN { printf "%-10s %12s %10.1f %10.2f %16s\n", name, t, kb / 1024, bytes / 1048576, draw }'
done
