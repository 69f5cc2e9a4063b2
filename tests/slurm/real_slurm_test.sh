#!/usr/bin/env bash
# A sweep on a real Slurm: starts a private single-node Slurm (Debian's slurm-wlm 22.05 + munge) on localhost,
# submits a small `tessera sweep` as a job array with an afterany collect job, preempts one array task with
# `scancel --batch --signal=USR2` and checks it requeues and resumes, lets one point fail, resubmits it with
# `tessera sweep resubmit --failed --submit`, collects, and compares the results with the same sweep run directly.
# Then checks that a rank killed with -9 under srun ends its job within 30 s.
#
# Usage: real_slurm_test.sh <tessera binary> <signal_probe binary> <slurm template folder>
# Exit 0: passed; 77: skipped (the reason is printed: no Slurm installed, not root, daemons did not start);
# anything else: failed. Installs nothing (scripts/install_deps.sh installs slurm-wlm and munge). Needs root: the
# daemons run as root with SlurmdUser=root, without systemd or cgroups. Every daemon is stopped by its PID on
# every path out of this script.
set -uo pipefail
TESSERA=$(realpath "$1"); PROBE=$(realpath "$2"); TEMPLATES=$(realpath "$3")
start=$(date +%s)
skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAILED: $*"; show_logs; exit 1; }
log() { echo "[real-slurm +$(( $(date +%s) - start ))s] $*"; }

for tool in munged mungekey slurmctld slurmd sbatch squeue scancel scontrol; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] ||
    skip "'$tool' not found: install Slurm with 'apt-get install slurm-wlm munge' (scripts/install_deps.sh does)"
done
export PATH="$PATH:/usr/sbin"
[ "$(id -u)" -eq 0 ] || skip "the private Slurm runs its daemons as root (SlurmdUser=root); run this test as root"

STATE=$(mktemp -d /tmp/tessera-slurm.XXXXXX)
chmod 755 "$STATE"  # munge's socket folder must be searchable by every user
mkdir -p "$STATE"/{munge,ctld,spool,log,run,work}

stop_daemons() {
  # Our jobs first (their slurmstepd would outlive slurmd), then the daemons in reverse order, each by its PID.
  if [ -n "${SLURM_CONF:-}" ] && [ -f "$STATE/run/slurmctld.pid" ]; then
    local jobs; jobs=$(timeout 5 squeue -h -o %A 2>/dev/null)
    [ -z "$jobs" ] || timeout 10 scancel --full --quiet $jobs 2>/dev/null
    [ -z "$jobs" ] || sleep 2
  fi
  for name in slurmd slurmctld munged; do
    local file="$STATE/run/$name.pid"
    [ -s "$file" ] || continue
    local pid; pid=$(cat "$file")
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
}
show_logs() {
  for f in "$STATE"/log/*.log "$STATE"/work/sweep/logs/*.out; do
    [ -f "$f" ] && { echo "----- tail of $f"; tail -n 25 "$f"; }
  done
}
cleanup() { [ -z "${WATCHDOG:-}" ] || kill $(pgrep -P "$WATCHDOG") "$WATCHDOG" 2>/dev/null; stop_daemons; [ "${KEEP_STATE:-0}" = 1 ] || rm -rf "$STATE"; }
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM
# The daemons detach from this script, so a runner that kills it on a timeout (ctest's TIMEOUT kills with
# SIGKILL) would leave them running. A watchdog with a shorter deadline (ctest's is 300 s) stops them itself and
# then ends the script, whatever it is waiting on.
export SLURM_CONF="$STATE/slurm.conf"
DEADLINE=${REAL_SLURM_DEADLINE:-270}
# (Its sleep writes nowhere: a sleep left holding this script's output would keep ctest waiting for it.)
( sleep "$DEADLINE" >/dev/null 2>&1; echo "[real-slurm] no verdict after $DEADLINE s: stopping the daemons"; stop_daemons
  kill -TERM $$ ) &
WATCHDOG=$!

free_port() {  # a TCP port nobody listens on, away from the usual ranges
  local port
  for _ in $(seq 100); do
    port=$(( 20000 + RANDOM % 20000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
  echo 0
}
CTLD_PORT=$(free_port); SLURMD_PORT=$(free_port)
[ "$CTLD_PORT" != 0 ] && [ "$SLURMD_PORT" != 0 ] && [ "$CTLD_PORT" != "$SLURMD_PORT" ] || skip "no free TCP port"

# --- munge: a private key and socket ---
# mungekey (munge >= 0.5.14); older munge has only create-munge-key, which writes /etc/munge: use random bytes.
mungekey -c -k "$STATE/munge/munge.key" -f >/dev/null 2>&1 ||
  dd if=/dev/urandom of="$STATE/munge/munge.key" bs=1024 count=1 status=none
chmod 600 "$STATE/munge/munge.key"
SOCKET="$STATE/munge/munge.socket"
munged -f --socket="$SOCKET" --key-file="$STATE/munge/munge.key" --pid-file="$STATE/run/munged.pid" \
  --log-file="$STATE/log/munged.log" --seed-file="$STATE/munge/seed" ||
  skip "munged did not start: $(tail -n 3 "$STATE/log/munged.log" 2>/dev/null)"

# --- slurm.conf ($SLURM_CONF): one node with this machine's CPUs, no cgroups, no accounting, pmix for Open MPI ---
cat > "$SLURM_CONF" <<CONF
ClusterName=tessera-test
SlurmctldHost=localhost
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire: a requeued job may start again only after its old credential expired (default 120 s).
AuthInfo=socket=$SOCKET,cred_expire=10
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
# No systemd and no delegated cgroup tree here: track processes by parent PID, bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=pmix
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
ReturnToService=2
JobRequeue=1
MinJobAge=600
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -i -f "$SLURM_CONF" || skip "slurmctld did not start: $(tail -n 5 "$STATE/log/slurmctld.log" 2>/dev/null)"
slurmd -N localhost -f "$SLURM_CONF" || skip "slurmd did not start: $(tail -n 5 "$STATE/log/slurmd.log" 2>/dev/null)"
for _ in $(seq 60); do
  [ "$(sinfo -h -n localhost -o %T 2>/dev/null)" = idle ] && break
  sleep 0.5
done
[ "$(sinfo -h -n localhost -o %T 2>/dev/null)" = idle ] ||
  skip "the node did not become idle in 30 s: $(sinfo -h -o '%T %E' 2>&1); $(tail -n 5 "$STATE/log/slurmd.log")"
log "Slurm $(sinfo -V) up on ports $CTLD_PORT/$SLURMD_PORT with $(nproc) CPUs"

wait_for() {  # wait_for <seconds> <what> <shell test>
  local limit=$1 what=$2; shift 2
  for _ in $(seq $(( limit * 5 ))); do eval "$@" && return 0; sleep 0.2; done
  fail "timed out after $limit s waiting for $what"
}
queue_empty() { [ -z "$(squeue -h -o %A 2>/dev/null)" ]; }
WORK="$STATE/work"; SWEEP="$WORK/sweep"

# --- the sweep: 4 points in 2 array tasks of 2 points; point 3 is made to fail (its output folder is a file) ---
# The screen: 400 genes x 12 cell types x 200 drugs, written once here. The built-in one (978 genes, simulated again
# by every point, and scored against its truth too) cost each point 4-5 times the CPU, and the test runs 9 points
# (4 in the array, 1 resubmitted, 4 directly), with every other test waiting (RUN_SERIAL).
"$TESSERA" simulate --num-genes 400 --num-drugs 200 --seed 5 --out "$WORK/screen.gctx" --log-level error \
  >/dev/null || fail "simulate of the sweep's screen failed"
cat > "$WORK/sweep.ini" <<INI
[sweep]
command = impute
combine = product
max_parallel = 2
points_per_task = 2
out = $SWEEP
[fixed]
# FaLRTC for one iteration: a point lasts several seconds (three fits of a 400-gene screen), so the USR2 sent
# after point 0 always lands while the task is still working on point 1 (with cell_mean a fast machine finished
# both first).
input = $WORK/screen.gctx
method = falrtc
falrtc-iterations = 1
folds = 2
[grid]
seed = 1, 2, 3, 4
INI
"$TESSERA" sweep plan "$WORK/sweep.ini" --template-dir "$TEMPLATES" >/dev/null || fail "sweep plan failed"
echo "in the way" > "$SWEEP/point-3"
ARRAY=$(sbatch --parsable "$SWEEP/array.sbatch") || fail "sbatch of the array failed"
ARRAY=${ARRAY%%;*}
COLLECT=$(sbatch --parsable --dependency=afterany:"$ARRAY" "$SWEEP/collect.sbatch") || fail "sbatch of collect failed"
log "submitted array $ARRAY and collect $COLLECT"

# Preempt task 0 once its first point is recorded: it must finish the point it is on, exit 75 and be requeued.
wait_for 90 "point 0 of task 0" "[ -f '$SWEEP/status/0' ]"
scancel --batch --signal=USR2 "${ARRAY}_0" || fail "scancel --signal=USR2 --batch failed"
log "sent USR2 to the batch shell of ${ARRAY}_0"
wait_for 150 "the array and collect to end" queue_empty
LOG0=$(ls "$SWEEP"/logs/*-"${ARRAY}"_0.out)
grep -q "requeueing ${ARRAY}_0" "$LOG0" || fail "task 0 was not requeued after USR2"
grep -q "restart 1" "$LOG0" || fail "task 0 did not run again with SLURM_RESTART_COUNT=1"
grep -q "point 0 is already done: skipped" "$LOG0" || fail "the requeued task 0 did not resume after point 0"
requeued_at=$(grep -m1 "requeueing" "$LOG0" | sed 's/^\[\([0-9:]*\)\].*/\1/')
restarted_at=$(grep -m1 "restart 1" "$LOG0" | sed 's/^\[\([0-9:]*\)\].*/\1/')
log "task 0: requeued at $requeued_at, running again at $restarted_at ($(( $(date -d "$restarted_at" +%s) - $(date -d "$requeued_at" +%s) )) s requeue delay)"

status=$("$TESSERA" sweep status "$SWEEP")
echo "$status" | grep -q "4 points: 3 done, 1 failed, 0 missing" || fail "unexpected status after the array: $status"
grep -q "Collected 3 of 4 points" "$SWEEP"/logs/*collect-"$COLLECT".out || fail "the afterany collect job did not collect 3 points"
grep -q "<h1>Sweep: " "$SWEEP/report.html" || fail "the collect job wrote no report.html (collect --report)"

# --- fix the fault, resubmit the failed task, collect again ---
rm "$SWEEP/point-3"
resubmit=$("$TESSERA" sweep resubmit "$SWEEP" --failed --submit) || fail "resubmit --submit failed: $resubmit"
echo "$resubmit" | grep -q -- "--array=1%2" || fail "resubmit did not submit only task 1: $resubmit"
wait_for 90 "the resubmitted task and its collect" queue_empty
status=$("$TESSERA" sweep status "$SWEEP")
echo "$status" | grep -q "4 points: 4 done, 0 failed, 0 missing" || fail "unexpected status after resubmit: $status"
log "resubmitted task 1 finished: $status"

# --- the same sweep run directly, without Slurm, gives the same table (timings aside) ---
"$TESSERA" sweep plan "$WORK/sweep.ini" --out "$WORK/direct" --template-dir "$TEMPLATES" >/dev/null
# The two tasks side by side, as the array ran them (max_parallel = 2).
"$TESSERA" sweep run "$WORK/direct" --task 0 >/dev/null 2>&1 & direct0=$!
"$TESSERA" sweep run "$WORK/direct" --task 1 >/dev/null 2>&1 || fail "direct task 1 failed"
wait "$direct0" || fail "direct task 0 failed"
"$TESSERA" sweep collect "$WORK/direct" >/dev/null || fail "direct collect failed"
without_seconds() { awk -F, 'NR==1{for(i=1;i<=NF;i++) if($i=="seconds") s=i} {$s=""; print}' OFS=, "$1"; }
diff <(without_seconds "$SWEEP/results.csv") <(without_seconds "$WORK/direct/results.csv") >/dev/null ||
  fail "results of the Slurm sweep differ from the direct run"
[ -z "$(find "$SWEEP" -name '*.tmp-*')" ] || fail "half-written files left: $(find "$SWEEP" -name '*.tmp-*')"
log "collected results match the direct run ($(( $(wc -l < "$SWEEP/results.csv") - 1 )) rows)"

# --- a rank killed with -9 under srun ends the job within 30 s ---
PIDS="$WORK/probe.pid"
KILLJOB=$(sbatch --parsable -n 2 -o "$WORK/kill9-%j.out" \
  --wrap "srun --mpi=pmix --kill-on-bad-exit=1 '$PROBE' --pid-file '$PIDS'") || fail "sbatch of the probe failed"
wait_for 60 "the probe's pid file" "[ -s '$PIDS' ]"
sleep 0.5
killed=$(date +%s.%N)
kill -9 "$(cat "$PIDS")"
wait_for 30 "the job of the killed rank to end" queue_empty
ended=$(date +%s.%N)
log "kill -9 of rank 1 under srun: job $KILLJOB ended $(awk "BEGIN{printf \"%.1f\", $ended - $killed}") s later"
grep -v '^$' "$WORK/kill9-$KILLJOB.out" | head -n 5

log "PASSED in $(( $(date +%s) - start )) s"
