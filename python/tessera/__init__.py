"""Tessera from Python: causal imputation, drug ranking and causal discovery on perturbation screens.

The functions run Tessera's C++ engine in this process, with the same options, defaults, checks and numbers as the
`tessera` command line. Run a script under `mpirun -np N python3 script.py` to use N ranks (mpi4py's world
communicator when mpi4py is imported, the engine's own otherwise): every rank calls the same functions, rank 0
gets the results and the other ranks get None.

Errors raise InputError (a ValueError) with the engine's message; Ctrl-C stops a long computation at its next safe
point and raises Stopped (a KeyboardInterrupt). Log lines go to the `logging` logger "tessera".
"""

from ._core import InputError, InternalError, Stopped
from ._core import rank as mpi_rank
from ._core import size as mpi_size
from ._commands import option_table
from .design import design
from .discover import DiscoverResult, discover
from .evaluate import evaluate
from .impute import ImputeResult, impute
from .io import GeneTable, as_gene_table, inspect, read_gctx, to_anndata, write_gctx
from .rank import rank
from .report import report
from .table import PerturbationTable, perturbation_table
from .simulate import SimulateDagResult, SimulateResult, read_truth, simulate, simulate_dag
from .train import TrainResult, train

__version__ = "0.1.0"

__all__ = [
    "DiscoverResult",
    "GeneTable",
    "ImputeResult",
    "PerturbationTable",
    "SimulateDagResult",
    "SimulateResult",
    "TrainResult",
    "InputError",
    "InternalError",
    "Stopped",
    "as_gene_table",
    "design",
    "discover",
    "evaluate",
    "impute",
    "inspect",
    "mpi_rank",
    "mpi_size",
    "option_table",
    "perturbation_table",
    "rank",
    "report",
    "read_gctx",
    "read_truth",
    "simulate",
    "simulate_dag",
    "to_anndata",
    "train",
    "write_gctx",
]
