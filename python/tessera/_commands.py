"""Keyword arguments to `tessera <command>` options, and running a command in this process.

The options, their defaults, allowed values and error messages are the command line's own: the names come from
the engine's option declarations (``_core.options``), and the values are parsed and checked by the same parser.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from . import _core

InputError = _core.InputError


@functools.cache
def options(command: str) -> dict[str, tuple[str, str, bool]]:
    """The options of `tessera <command>` as {python_name: (default text, help, is_flag)}."""
    return {name.replace("-", "_"): (default, text, flag) for name, default, text, flag in _core.options(command)}


def option_table(command: str):
    """The options of `tessera <command>` (the keyword arguments of its function) as a DataFrame: name, default,
    help (which ends with the allowed values), switch."""
    import pandas as pd

    rows = [(name, default, text, flag) for name, (default, text, flag) in options(command).items()]
    return pd.DataFrame(rows, columns=["name", "default", "help", "switch"])


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        return ",".join(_value_text(item) for item in value)
    return str(value)


def function_name(command: str) -> str:
    """The tessera function that runs `command`: simulate-dag -> simulate_dag."""
    return command.replace("-", "_")


def to_args(command: str, knobs: Mapping[str, Any]) -> list[str]:
    """The command-line arguments for keyword arguments: dnpp_k=5 -> ['--dnpp-k', '5']; a flag True -> ['--flag'];
    a list -> a comma list; None leaves the option at its default. An unknown name raises InputError with the
    closest option."""
    known = options(command)
    args: list[str] = []
    for name, value in knobs.items():
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            listing = f"help(tessera.{function_name(command)}) lists them"
            raise InputError(f"tessera {command} has no option {name}{hint} ({listing})")
        if value is None:
            continue
        option = "--" + name.replace("_", "-")
        if known[name][2]:
            if not isinstance(value, bool):
                raise InputError(f"{name} is a switch: give True or False, not {value!r}")
            if value:
                args.append(option)
            continue
        args += [option, _value_text(value)]
    return args


@contextlib.contextmanager
def python_spelling(command: str):
    """Rewrites the command line's pointer to its help in an engine error ("run 'tessera impute --help' for the
    options") into the Python one ("help(tessera.impute) lists the options"); the rest of the message is kept."""
    try:
        yield
    except InputError as error:
        message = str(error).replace(
            f"run 'tessera {command} --help' for the options", f"help(tessera.{function_name(command)}) lists them"
        )
        raise InputError(message) from None


def run(command: str, knobs: Mapping[str, Any]) -> str:
    """Runs `tessera <command>` with the options of `knobs` on every rank of MPI_COMM_WORLD. What it printed (its
    tables) is written to sys.stdout, where a notebook shows it, and returned. A failure raises (InputError for
    bad input); a non-zero exit raises InputError too."""
    with python_spelling(command):
        code, printed = _core.run(command, to_args(command, knobs))
    if printed:
        sys.stdout.write(printed)
        sys.stdout.flush()
    if code != 0:
        raise InputError(f"tessera {command} exited with {code}; its log says why")
    return printed


def is_root() -> bool:
    return _core.rank == 0


class WorkFolder:
    """The folders of one command, under the same names on every rank: `out`, where the command writes (the `out`
    given, kept; else a temporary folder), and `inputs`, where in-memory inputs are written for it (always
    temporary). Rank 0 makes the temporary folder (under $TMPDIR: on several nodes, a shared file system) and
    removes it at the end."""

    def __init__(self, out: str | os.PathLike | None):
        made = tempfile.mkdtemp(prefix="tessera-") if is_root() else ""
        self.temporary = Path(_core.broadcast_text(made))
        self.out = Path(out) if out is not None else self.temporary / "out"
        self.inputs = self.temporary / "inputs"

    def __enter__(self) -> "WorkFolder":
        return self

    def __exit__(self, failure, *_) -> None:
        if failure is None:  # an error may have left the other ranks elsewhere: no barrier then
            _core.barrier()
        if is_root():
            shutil.rmtree(self.temporary, ignore_errors=True)


def document(command: str, summary: str):
    """Appends the command's options, as the engine declares them, to the decorated function's docstring."""

    def decorate(function):
        lines = []
        for name, (default, text, flag) in options(command).items():
            shown = "switch" if flag else (f"default {default}" if default else "no default")
            lines.append(f"    {name} ({shown}): {text}")
        function.__doc__ = (
            (function.__doc__ or summary)
            + f"\n\nOptions of `tessera {command}` (keyword arguments; same names with '_' for '-', same defaults"
            " and checks):\n"
            + "\n".join(lines)
            + "\n"
        )
        return function

    return decorate
