#!/usr/bin/env bash
# Fuzzes Tessera's readers (GCT, CSV, INI config, npy, GCTX) with libFuzzer, N seconds per target. GCTX has two
# targets: gctx mutates a file's bytes (HDF5's parser included), gctx_fields builds valid HDF5 files whose
# datasets (shapes, types, strings, chunks, filters, lengths) the input chooses, which is Tessera's own checking.
#
#   bash scripts/fuzz.sh                     # 20 s per target
#   bash scripts/fuzz.sh 1800                # the longer run: 30 min per target, before a release or after a
#                                            # reader changes
#   bash scripts/fuzz.sh 60 gctx             # only some targets: gct csv ini npy gctx gctx_fields
#   bash scripts/fuzz.sh --replay [targets]  # no new inputs: every seed and kept input once (what CI runs for gctx)
#
# Builds the checking build (build-sanitize: clang, ASan + UBSan, libFuzzer; see scripts/test.sh --sanitize),
# makes a seed corpus from small slices of the real files in $TESSERA_DATA_DIR (default ../shared/data; tiny
# inputs written here when it is missing), and runs each target. The corpus a run grows is kept in
# build-sanitize/fuzz/corpus/<target> for the next run. A finding (crash, sanitizer report, a non-tessera::Error
# exception such as std::bad_alloc, an input slower than 10 s, an allocation over 1 GiB) is saved as
# $TESSERA_FUZZ_FINDINGS/<target>/crash-* (default build-sanitize/fuzz/findings) with its log; replay one with
# build-sanitize/tests/fuzz/fuzz_<target> <file>. Exit 0 when no target found anything, 1 otherwise.
#
# Why CI explores every target but gctx, whose seeds it only replays: the others exercise Tessera's own code, so
# whatever a run finds there is ours to fix. Byte mutations of a GCTX file reach HDF5's own metadata parser
# (superblock, object headers, B-trees) first, and a few seconds of them find HDF5 1.10 asking for absurd
# allocations on corrupt metadata (see tests/fuzz/README.md); a random draw from those would fail CI without
# saying anything about Tessera.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=20
replay=0
# The seed of libFuzzer's mutations (TESSERA_FUZZ_SEED, default 1; set another to explore elsewhere). It does not
# make two runs identical: which inputs are kept depends on the coverage each one reaches, and HDF5's caches and
# the run's speed change that, so the same seed and length can still try different inputs.
seed=${TESSERA_FUZZ_SEED:-1}
if [ $# -gt 0 ] && [ "$1" = --replay ]; then replay=1; shift
elif [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then seconds=$1; shift; fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(gct csv ini npy gctx gctx_fields)

# TESSERA_FUZZ_BUILD names a folder already built with -DTESSERA_FUZZ=ON (then nothing is built here).
build=${TESSERA_FUZZ_BUILD:-$root/build-sanitize}
data=${TESSERA_DATA_DIR:-$root/../shared/data}
findings=${TESSERA_FUZZ_FINDINGS:-$build/fuzz/findings}

[ -n "${TESSERA_FUZZ_BUILD:-}" ] || bash scripts/test.sh --sanitize --build-only
source scripts/mpi_env.sh

seeds=$build/fuzz/seeds
rm -rf "$seeds"
mkdir -p "$seeds"/{gct,csv,ini,npy,gctx,gctx_fields}

# --- seeds: small slices of the real files (never copied into the repository), else tiny written inputs ---
have() { [ -f "$data/$1" ]; }

# A GCT 1.3 file cut to R genes x C samples, all metadata kept (a valid GCT), and its first 4 KiB (a truncated one).
gct_slice() {
  awk -F'\t' -v OFS='\t' -v R="$2" -v C="$3" '
    NR == 1 { print; next }
    NR == 2 { nrm = $3; ncm = $4; print R, C, nrm, ncm; next }
    NR > 3 + ncm + R { exit }
    { line = $1; for (i = 2; i <= 1 + nrm + C; i++) line = line OFS $i; print line }' "$1"
}
for plate in GEX_n384x978 QNORM_n371x978 ZSPCQNORM_n371x978; do
  file=l1000/LJP009_A375_24H_X1_B20_$plate.gct
  have "$file" || continue
  gct_slice "$data/$file" 5 4 > "$seeds/gct/$plate.gct"
  head -c 4096 "$data/$file" > "$seeds/gct/${plate}_head.gct"
done
if have l1000/LJP009_A375_24H_X1_B20_QNORM_n371x978.gct; then
  # The same plate as GCT 1.2: Name, Description (the first row field), values.
  gct_slice "$data/l1000/LJP009_A375_24H_X1_B20_QNORM_n371x978.gct" 4 3 | awk -F'\t' -v OFS='\t' '
    NR == 1 { print "#1.2"; next }
    NR == 2 { nrm = $3; ncm = $4; print $1, $2; next }
    NR == 3 { line = "Name" OFS "Description"; for (i = 2 + nrm; i <= NF; i++) line = line OFS $i; print line; next }
    NR <= 3 + ncm { next }
    { line = $1 OFS $2; for (i = 2 + nrm; i <= NF; i++) line = line OFS $i; print line }' > "$seeds/gct/qnorm_1.2.gct"
fi
printf '#1.3\n2\t2\t1\t1\nid\tpr_gene_symbol\ts1\ts2\ncell_id\t-666\tA375\tMCF7\ng1\tTP53\t0.5\t-1.25\ng2\tEGFR\t-666\t2e3\n' \
  > "$seeds/gct/tiny_1.3.gct"
printf '#1.2\n2\t1\nName\tDescription\ts1\ng1\tTP53\t1.5\ng2\tEGFR\tNaN\n' > "$seeds/gct/tiny_1.2.gct"

for file in sachs/sachs_gss.csv covid19/blancoA_l2fc.csv lincs2020/landmark_geneinfo.csv; do
  have "$file" && head -n 12 "$data/$file" > "$seeds/csv/$(basename "$file")"
done
for file in covid19/GSE81861_log2_ppi_252nodes.csv lincs2020/basal_DMSO_modz_level3_by_cell.csv; do
  have "$file" && head -n 8 "$data/$file" | cut -d, -f1-8 > "$seeds/csv/$(basename "$file")"
done
have covid19/final_drug_target_table.tsv && head -n 6 "$data/covid19/final_drug_target_table.tsv" > "$seeds/csv/drug_targets.tsv"
printf 'cell_id,pert_id,fold\nA375,BRD-K1,0\n"MCF7, ""x""",BRD-K2,train\n' > "$seeds/csv/tiny.csv"

# npy (versions 1 and 2, every dtype the reader takes, C and Fortran order) from the first Sachs rows.
perl -e '
  use strict;
  my ($dir, $csv) = @ARGV;
  my @rows;
  if (-f $csv) {
    open(my $in, "<", $csv) or die; <$in>;
    while (@rows < 6 && defined(my $line = <$in>)) { chomp $line; push @rows, [split /,/, $line]; }
  } else {
    @rows = map { [map { $_ * 0.25 } 0 .. 11] } 1 .. 6;
  }
  sub npy {
    my ($file, $descr, $fortran, $shape, $data, $version) = @_;
    my $dict = "{\x27descr\x27: \x27$descr\x27, \x27fortran_order\x27: $fortran, \x27shape\x27: $shape, }";
    my $prefix = $version == 1 ? 10 : 12;
    $dict .= " " x ((64 - ($prefix + length($dict) + 1) % 64) % 64) . "\n";
    open(my $out, ">", "$dir/$file") or die; binmode $out;
    print $out "\x93NUMPY", chr($version), chr(0), pack($version == 1 ? "v" : "V", length $dict), $dict, $data;
    close $out;
  }
  my (@c, @f);
  for my $r (@rows) { push @c, @$r[0 .. 10]; }
  for my $j (0 .. 10) { push @f, map { $_->[$j] } @rows; }
  my $n = @rows;
  npy("sachs_f8.npy", "<f8", "False", "($n, 11)", pack("d<*", @c), 1);
  npy("sachs_f4_fortran.npy", "<f4", "True", "($n, 11)", pack("f<*", @f), 1);
  npy("sachs_grp_i8.npy", "<i8", "False", "($n,)", pack("q<*", map { $_->[11] } @rows), 1);
  npy("sachs_i4_v2.npy", "<i4", "False", "($n, 2)", pack("l<*", map { int($_->[0]), int($_->[11]) } @rows), 2);
  npy("dag_u1.npy", "|u1", "False", "(3, 3)", pack("C*", 0, 1, 0, 0, 0, 1, 0, 0, 0), 1);
  npy("dag_b1.npy", "|b1", "False", "(2, 2)", pack("C*", 0, 1, 0, 0), 1);
' "$seeds/npy" "$data/sachs/sachs_gss.csv"

cat > "$seeds/ini/readme.ini" <<'INI'
seed = 7
[simulate]
num-cells = 20
[impute]
method = two_way_mean, cell_mean
folds = 5
protocol = sparse
INI
printf '# comment\n; another\ntwo-way-weight = 0.25\nonly-imputed = true\n\n[impute]\ninput = a b.gctx\r\nnum-cells=-3\n' \
  > "$seeds/ini/comments.ini"
printf '[ impute ]\nmethod = dnpp\nmethod = falrtc\nlog-level = quiet\n' > "$seeds/ini/repeated.ini"

# GCTX: the real files cut to 4 x 4 in their own layout (cmapPy's compressed metadata), and a screen that
# Tessera's own writer made (the only GCTX seed when the data folder is missing).
for file in l1000/modzs_n272x978.gctx lincs2020/lincs2020_l5_gold_24h_10uM_dev.gctx; do
  have "$file" && "$build/tests/fuzz/gctx_slice" "$data/$file" "$seeds/gctx/$(basename "$file")" 4
done
# The cmapPy slice with its first gzip filter-pipeline message turned into a skipped type (0x0b -> 0x0a, one bit,
# as tests/io/gctx_damage.h does): the damage of the issue that was read past HDF5's buffer.
if [ -f "$seeds/gctx/modzs_n272x978.gctx" ]; then
  perl -e '
    local $/; my $b = <STDIN>;
    for (my $at = index($b, "deflate"); $at >= 24; $at = index($b, "deflate", $at + 1)) {
      next unless substr($b, $at - 8, 4) eq "\x01\x00\x08\x00" && ord(substr($b, $at - 16, 1)) == 1
                  && ord(substr($b, $at - 24, 1)) == 0x0b;
      substr($b, $at - 24, 1) = "\x0a"; print $b; exit 0;
    }
    exit 1;' < "$seeds/gctx/modzs_n272x978.gctx" > "$seeds/gctx/modzs_filter_dropped.gctx" ||
    rm -f "$seeds/gctx/modzs_filter_dropped.gctx"
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
if [ -x "$build/jobs/tessera" ]; then
  "$build/jobs/tessera" simulate --out "$scratch/sim.gctx" --truth "$scratch/truth.h5" --num-cells 2 \
    --num-drugs 3 --log-level error > /dev/null
  "$build/tests/fuzz/gctx_slice" "$scratch/sim.gctx" "$seeds/gctx/simulated.gctx" 6
fi
# gctx_fields reads its input as choices, not as a file: a few byte strings start it (any bytes are a GCTX).
printf '\x05\x04\x01\x01\x00\x02\x07\x03ab\x09cd' > "$seeds/gctx_fields/small"
head -c 512 /dev/zero | tr '\0' '\1' > "$seeds/gctx_fields/ones"
printf 'tessera gctx fields: ids, lengths, types \xb5M \xff\xfe' > "$seeds/gctx_fields/text"

for target in "${targets[@]}"; do
  [ -n "$(ls "$seeds/$target")" ] || { echo "fuzz.sh: no seeds for $target (no data, no tessera binary)"; exit 1; }
done

# --- run each target ---
found=()
for target in "${targets[@]}"; do
  corpus=$build/fuzz/corpus/$target
  mkdir -p "$corpus" "$findings/$target"
  log=$findings/$target/last_run.log
  if [ "$replay" -eq 1 ]; then
    # -runs=0: execute the inputs given, mutate nothing (the same inputs every time).
    length=(-runs=0)
    echo "fuzz.sh: fuzz_$target replaying $(ls "$seeds/$target" | wc -l) seeds and $(ls "$corpus" | wc -l) kept inputs"
  else
    length=(-max_total_time="$seconds")
    echo "fuzz.sh: fuzz_$target for ${seconds}s ($(ls "$seeds/$target" | wc -l) seeds, $(ls "$corpus" | wc -l) kept inputs)"
  fi
  if (cd "$scratch" && TMPDIR=$scratch "$build/tests/fuzz/fuzz_$target" "$corpus" "$seeds/$target" \
        -seed="$seed" "${length[@]}" -timeout=10 -malloc_limit_mb=1024 -rss_limit_mb=4096 \
        -artifact_prefix="$findings/$target/" -print_final_stats=1 > "$log" 2>&1); then
    grep -E '^(Done|stat::number_of_executed_units)' "$log" | tail -1 | sed "s/^/fuzz.sh: fuzz_$target: /"
  else
    found+=("$target")
    echo "fuzz.sh: fuzz_$target FOUND a problem (log: $log):"
    grep -E 'ERROR|SUMMARY|runtime error|terminate called|what\(\)|^    #[0-9] |Test unit written' "$log" | head -20
  fi
done

if [ ${#found[@]} -gt 0 ]; then
  echo "fuzz.sh: findings in ${found[*]}; reproducers in $findings/<target>/"
  exit 1
fi
if [ "$replay" -eq 1 ]; then
  echo "fuzz.sh: no findings (${#targets[@]} targets replayed)"
else
  echo "fuzz.sh: no findings (${#targets[@]} targets, ${seconds}s each)"
fi
