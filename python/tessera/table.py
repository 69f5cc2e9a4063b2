"""tessera.perturbation_table: the (cell type x perturbation) table every command builds from its input."""

from __future__ import annotations

from typing import NamedTuple

from . import _commands, _core
from ._tables import input_path
from .io import GeneTable, _frame, to_anndata


class PerturbationTable(NamedTuple):
    """The measured entries of the table and the control baselines, as AnnData (or GeneTable)."""

    signatures: object  # obs = measured (cell type, perturbation) entries: cell_id, pert_id, replicates; var = genes
    controls: object  # obs = cell types with their control count; X = the control mean subtracted from each
    source: str  # the file read, or "built-in simulated screen (seed N)"


@_commands.document("perturbation-table", "The (cell type x perturbation) table of an input.")
def perturbation_table(data=None, tables: str = "anndata", **options) -> PerturbationTable | None:
    """Builds the table that `impute`, `evaluate` and `rank` work on, without running a method: signatures pooled
    per (cell type, perturbation) over replicates, doses and times, each cell type's control mean subtracted; an
    .h5ad's cells pseudobulked as they are read (a batch of cells at a time, any size of file), with the
    single-cell options (preset, obs_context, normalize_total, log1p, var_genes, ...).

    data: a GCTX/GCT/.h5ad path, an AnnData or a GeneTable; None: the built-in simulated screen (seed=...).
    tables: "anndata" or "arrays" (GeneTable).
    Returns a PerturbationTable on rank 0 and None on the other ranks.
    """
    if tables not in ("anndata", "arrays"):
        raise _core.InputError(f"tables='{tables}' is not one of anndata | arrays")
    with _commands.WorkFolder(None) as work:
        args = _commands.to_args("perturbation-table", {"input": input_path(data, work.inputs, "data"), **options})
        with _commands.python_spelling("perturbation-table"):
            signatures, controls, source = _core.load_table(args)
    if not _commands.is_root():
        return None
    convert = to_anndata if tables == "anndata" else (lambda table: table)
    as_tables = [convert(GeneTable(values, _frame(rows), _frame(cols))) for values, rows, cols in (signatures, controls)]
    return PerturbationTable(*as_tables, source)
