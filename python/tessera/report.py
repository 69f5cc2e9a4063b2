"""tessera.report: one self-contained HTML page of a command's outputs (plots, tables, the DAG, the options)."""

from __future__ import annotations

import os
from pathlib import Path

from . import _commands


@_commands.document("report", "Writes one self-contained HTML page of a command's outputs.")
def report(source: str | os.PathLike, out: str | os.PathLike | None = None) -> Path | None:
    """Writes the report page of what a command wrote, as `tessera report` does: the out folder of impute,
    discover or train (give those functions out=...), a sweep folder, or the CSV table of rank or design.

    source: the folder or table.
    out: the HTML file; None: report.html in the folder, or X.html beside a table X.csv.
    Returns the page's path on rank 0 and None on the other ranks. Open it in any browser: it needs nothing else.
    """
    source = Path(source)
    page = Path(out) if out is not None else (source / "report.html" if source.is_dir() else source.with_suffix(".html"))
    _commands.run("report", {"source": source, "out": page})
    return page if _commands.is_root() else None
