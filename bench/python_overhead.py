#!/usr/bin/python3
"""What the Python package costs on top of the engine: `import tessera`, a call against the same command run as
a program, and reading a GCTX into numpy against h5py reading the same dataset.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_overhead.py [GCTX] [--tessera build/jobs/tessera]
    mpirun -np 2 ... (the calls then run on 2 ranks; rank 0 prints)

GCTX defaults to the LINCS2020 Level 5 set of ../shared/data. The call is `impute --method two_way_mean
--complete-cells NL20`, timed in-process (tessera.impute, results read back into DataFrames and AnnData) and as
`tessera impute` (a new process: MPI and LibTorch start each time). Prints seconds (best of --repeats), rate,
peak RSS.
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

start = time.perf_counter()
import tessera  # noqa: E402  (the import is what is timed)

import_seconds = time.perf_counter() - start


def best_of(repeats, function):
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        function()
        times.append(time.perf_counter() - begin)
    return min(times)


root = Path(__file__).resolve().parents[1]
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("gctx", nargs="?", default=root.parent / "shared/data/lincs2020/lincs2020_l5_gold_24h_10uM_dev.gctx")
parser.add_argument("--tessera", default=root / "build/jobs/tessera")
parser.add_argument("--repeats", type=int, default=3)
parser.add_argument("--cell", default="NL20")
args = parser.parse_args()
root_rank = tessera.mpi_rank == 0
knobs = dict(methods="two_way_mean", complete_cells=args.cell)

in_process = best_of(args.repeats, lambda: tessera.impute(args.gctx, **knobs))
if root_rank:
    table = tessera.read_gctx(args.gctx)
    values = table.values
    read = best_of(args.repeats, lambda: tessera.read_gctx(args.gctx))

    import h5py

    def h5py_read():
        with h5py.File(args.gctx) as f:
            f["0/DATA/0/matrix"][()]
            [f["0/META/COL"][name][()] for name in f["0/META/COL"]]
            [f["0/META/ROW"][name][()] for name in f["0/META/ROW"]]

    h5py_seconds = best_of(args.repeats, h5py_read)
    program = float("nan")
    if tessera.mpi_size == 1:  # a process started from an MPI rank would join that job: time it alone only
        with tempfile.TemporaryDirectory() as out:
            command = [str(args.tessera), "impute", "--input", str(args.gctx), "--method", "two_way_mean",
                       "--complete-cells", args.cell, "--out", out]
            program = best_of(args.repeats, lambda: subprocess.run(command, check=True, capture_output=True))
    mib = values.nbytes / 2**20
    print(f"import tessera: {import_seconds:.2f} s (MPI start, numpy, pandas, AnnData)")
    print(f"impute two_way_mean, {values.shape[1]} signatures: tessera.impute {in_process:.2f} s on "
          f"{tessera.mpi_size} rank(s); `tessera impute` as a program {program:.2f} s on 1 rank (nan: not timed "
          "under mpirun)")
    print(f"read_gctx {values.shape[0]} x {values.shape[1]} {values.dtype}: {read * 1e3:.1f} ms "
          f"({mib / read:.0f} MiB/s); h5py, matrix and metadata: {h5py_seconds * 1e3:.1f} ms")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
sys.stdout.flush()
