#!/usr/bin/env python3
"""Tessera's GSP / UT-IGSP against the published Python code (causaldag), on identical data (issue 23).

For each p and graph seed, `tessera simulate-dag` writes one data set (ER DAG, expected degree 1.5, weights
+-U(0.25, 1), 1,000 observational rows + 5 single-node perfect interventions x 1,000 rows). On those files it runs
  - the published gsp() and unknown_target_igsp() with their partial-correlation CI tester and Gaussian invariance
    tester (memoized), alpha = alpha_inv = 1e-5, depth 4, nruns 10, their defaults otherwise, the known targets
    passed as each setting's known_interventions (what `tessera discover --targets` gets);
  - `tessera discover` GSP and UT-IGSP, with the published policy and with Tessera's defaults (same alpha, depth,
    restarts and targets).
SHD is computed here the same way for every side (directed: a missing, extra or reversed arc counts 1; checked
against Tessera's own metrics.csv). Seconds: published, the wall time of the function call (testers and their
sufficient statistics built before); Tessera, search_seconds of its timing.csv (1 rank, no mpirun).

Needs the published sources on PYTHONPATH: a checkout of uhlerlab/causaldag from before the package split
(commit c6b3822, whose gsp.py is graphical_model_learning's), plus stubs for its unused imports (sklearn, numba,
tqdm, ...). Example:

  PYTHONPATH=/path/causaldag_c6b3822:/path/stubs nice -n 10 python3 bench/causal_vs_published.py \
      --tessera build/jobs/tessera --out /tmp/causal_vs_published --p 20,50,100 --graphs 5

Options: --tessera (or $TESSERA, default build/jobs/tessera), --out work folder, --p, --graphs, --seed (first graph
seed, default 42), --search-seed (the published code's random seed and Tessera's --seed, default 1), --timeout
seconds per published call (default 600; a call over it is reported as a timeout).
"""
import argparse
import csv
import os
import random
import signal
import subprocess
import time

import numpy as np

ALPHA = ALPHA_INV = 1e-5
DEPTH, RESTARTS = 4, 10
PUBLISHED_POLICY = ["--move", "best", "--invariance-test", "wald", "--start-candidates", "2",
                    "--start-graph", "observational"]
METHODS = ["published gsp", "published utigsp", "tessera gsp, published policy", "tessera utigsp, published policy",
           "tessera gsp, defaults", "tessera utigsp, defaults"]


def shd(true_arcs, learned_arcs):
    """Directed SHD: each unordered pair adjacent in either graph counts 1 unless both have the same arc."""
    pairs = {frozenset(a) for a in true_arcs} | {frozenset(a) for a in learned_arcs}
    return sum(1 for pair in pairs if not any(a in true_arcs and a in learned_arcs
                                              for a in (tuple(pair), tuple(pair)[::-1])))


def read_rows(path):
    with open(path) as f:
        return list(csv.reader(f))


def simulate(tessera, folder, p, seed):
    if not os.path.exists(os.path.join(folder, "data.csv")):
        subprocess.run([tessera, "simulate-dag", "--nodes", str(p), "--seed", str(seed), "--graph", "er",
                        "--degree", "1.5", "--observational-samples", "1000", "--settings", "5",
                        "--samples-per-setting", "1000", "--targets-per-setting", "1", "--intervention", "perfect",
                        "--log-level", "warn", "--out", folder], check=True, stdout=subprocess.DEVNULL)
    header, *rows = read_rows(os.path.join(folder, "data.csv"))
    names = header[:-1]
    assert header[-1] == "setting"
    index = {name: k for k, name in enumerate(names)}
    values = np.array([[float(v) for v in row[:-1]] for row in rows])
    settings = np.array([row[-1] for row in rows])
    targets = {}  # setting -> [node index], from the targets.txt that Tessera is given
    for item in open(os.path.join(folder, "targets.txt")).read().strip().split(","):
        setting, nodes = item.split(":")
        targets[setting] = [index[n] for n in nodes.split(";")]
    truth = {(index[r[0]], index[r[1]]) for r in read_rows(os.path.join(folder, "truth_edges.csv"))[1:]}
    return names, index, values, settings, targets, truth


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def run_published(algorithm, values, settings, targets, timeout, seed):
    import causaldag as cd
    from causaldag.utils.ci_tests import MemoizedCI_Tester, partial_correlation_suffstat, partial_correlation_test
    from causaldag.utils.invariance_tests import (MemoizedInvarianceTester, gauss_invariance_suffstat,
                                                  gauss_invariance_test)
    obs = values[settings == "obs"]
    nodes = set(range(values.shape[1]))
    ci_tester = MemoizedCI_Tester(partial_correlation_test, partial_correlation_suffstat(obs), alpha=ALPHA)
    if algorithm == "utigsp":
        order = sorted(targets, key=int)
        inv_suffstat = gauss_invariance_suffstat(obs, [values[settings == s] for s in order])
        inv_tester = MemoizedInvarianceTester(gauss_invariance_test, inv_suffstat, alpha=ALPHA_INV)
        setting_list = [dict(known_interventions=targets[s]) for s in order]
    random.seed(seed)
    np.random.seed(seed)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    start = time.perf_counter()
    try:
        if algorithm == "gsp":
            dag = cd.gsp(nodes, ci_tester, depth=DEPTH, nruns=RESTARTS)
        else:
            dag, _ = cd.unknown_target_igsp(setting_list, nodes, ci_tester, inv_tester, depth=DEPTH, nruns=RESTARTS)
    except Timeout:
        return None, time.perf_counter() - start
    finally:
        signal.alarm(0)
    return set(dag.arcs), time.perf_counter() - start


def run_tessera(tessera, algorithm, policy, folder, out, index, seed):
    targets = open(os.path.join(folder, "targets.txt")).read().strip()
    known = ["--targets", targets] if algorithm != "gsp" else []  # gsp uses the observational rows alone
    subprocess.run([tessera, "discover", "-i", os.path.join(folder, "data.csv"), *known, "--algorithm", algorithm,
                    "--alpha", str(ALPHA), "--alpha-inv", str(ALPHA_INV), "--depth", str(DEPTH),
                    "--restarts", str(RESTARTS), "--seed", str(seed), *policy, "--log-level", "warn",
                    "--truth", os.path.join(folder, "truth_edges.csv"), "-o", out],
                   check=True, stdout=subprocess.DEVNULL)
    arcs = {(index[r[0]], index[r[1]]) for r in read_rows(os.path.join(out, "dag_edges.csv"))[1:]}
    timing = dict(zip(*read_rows(os.path.join(out, "timing.csv"))))
    metrics = dict(zip(*read_rows(os.path.join(out, "metrics.csv"))))
    return arcs, float(timing["search_seconds"]), int(metrics["shd"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tessera", default=os.environ.get("TESSERA", "build/jobs/tessera"))
    parser.add_argument("--out", default="causal_vs_published")
    parser.add_argument("--p", default="20,50,100")
    parser.add_argument("--graphs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--search-seed", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=600)
    args = parser.parse_args()

    results = []  # (p, seed, method, true arcs, learned arcs, shd, seconds)
    mismatches = 0
    print("p    seed  method                              true  learned  SHD  seconds", flush=True)
    for p in (int(v) for v in args.p.split(",")):
        for seed in range(args.seed, args.seed + args.graphs):
            folder = os.path.join(args.out, f"p{p}_seed{seed}")
            _, index, values, settings, targets, truth = simulate(args.tessera, folder, p, seed)
            for method in METHODS:
                side, algorithm = method.split(",")[0].split()
                if side == "published":
                    arcs, seconds = run_published(algorithm, values, settings, targets, args.timeout,
                                                  args.search_seed)
                else:
                    policy = PUBLISHED_POLICY if "published" in method else []
                    out = os.path.join(folder, method.replace(", ", "_").replace(" ", "_"))
                    arcs, seconds, tessera_shd = run_tessera(args.tessera, algorithm, policy, folder, out, index,
                                                            args.search_seed)
                    if tessera_shd != shd(truth, arcs):
                        mismatches += 1
                        print(f"  SHD mismatch: metrics.csv {tessera_shd}, here {shd(truth, arcs)}")
                value = None if arcs is None else shd(truth, arcs)
                results.append((p, seed, method, len(truth), None if arcs is None else len(arcs), value, seconds))
                print(f"{p:<4} {seed:<5} {method:<35} {len(truth):>4}  {'-' if arcs is None else len(arcs):>7}  "
                      f"{'timeout' if value is None else value:>3}  {seconds:8.3f}", flush=True)

    with open(os.path.join(args.out, "results.csv"), "w", newline="") as f:
        csv.writer(f).writerows([("p", "seed", "method", "true_arcs", "learned_arcs", "shd", "seconds"), *results])
    print(f"\nSHD here vs Tessera's metrics.csv: {mismatches} mismatches")
    print("\nMean SHD over the graphs / seconds summed over them (timeouts: the SHD of the graphs that finished)\n")
    print("| p | " + " | ".join(METHODS) + " |")
    print("|---" * (len(METHODS) + 1) + "|")
    for p in sorted({r[0] for r in results}):
        cells = []
        for method in METHODS:
            rows = [r for r in results if r[0] == p and r[2] == method]
            done = [r[5] for r in rows if r[5] is not None]
            mean = f"{np.mean(done):.1f}" if done else "-"
            note = f" ({len(rows) - len(done)} timeouts)" if len(done) < len(rows) else ""
            cells.append(f"{mean} / {sum(r[6] for r in rows):.3f} s{note}")
        print(f"| {p} | " + " | ".join(cells) + " |")
    print("\nSHD per graph (seeds in order)\n")
    print("| p | " + " | ".join(METHODS) + " |")
    print("|---" * (len(METHODS) + 1) + "|")
    for p in sorted({r[0] for r in results}):
        cells = [", ".join("-" if r[5] is None else str(r[5]) for r in results if r[0] == p and r[2] == method)
                 for method in METHODS]
        print(f"| {p} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
