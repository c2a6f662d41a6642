"""Key result tables as CSV: ``reports/<run-id>/tables/<report>/<table>.csv``.

Every report writes the tables a reviewer reads (ranking, coefficients, forecasts, ...) through
:func:`write_table`, so they land in one predictable place and are listed in the run's
manifest. The batch runner tells each kernel where its tables go through the environment
variable ``MITRA_TABLES_DIR``; run interactively (JupyterLab, plain papermill), tables go to
``reports/interactive/tables/<report>/``.

Text cells that a spreadsheet would read as a formula (a leading ``=``, ``+``, ``-``, ``@``,
tab or carriage return) are prefixed with an apostrophe, the OWASP advice against CSV
injection; numbers are written as numbers.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd

from analysis.base import paths
from analysis.base.errors import MitraError

__all__ = [
    "TABLES_ENV",
    "TableError",
    "neutralise",
    "neutralise_frame",
    "tables_dir",
    "write_table",
]

#: Environment variable through which the batch runner passes a report's table folder.
TABLES_ENV = "MITRA_TABLES_DIR"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class TableError(MitraError, ValueError):
    """A table name or destination that cannot be used."""


def _check_name(name: str, what: str) -> str:
    try:
        return paths.safe_name(name, what, lower=True)
    except paths.UnsafeNameError as exc:
        raise TableError(str(exc)) from None


def tables_dir(report: str = "interactive") -> Path:
    """Folder for this report's tables: ``$MITRA_TABLES_DIR`` or ``reports/interactive/...``."""
    env = os.environ.get(TABLES_ENV)
    if env:
        return Path(env)
    return paths.REPORTS / "interactive" / "tables" / _check_name(report, "report name")


def _is_number_text(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def neutralise(value: object) -> object:
    """Return ``value`` made safe for a spreadsheet: formula-like text gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _is_number_text(value):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` with every text cell (and text index label) neutralised."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    if out.index.dtype == object:
        out.index = out.index.map(neutralise)
    return out


def write_table(frame: pd.DataFrame, table: str, *, report: str = "interactive") -> Path:
    """Write ``frame`` (no index) to ``<tables_dir>/<table>.csv`` atomically; return the path.

    Parameters
    ----------
    frame
        The table as the reader should see it: named columns, no meaningful index.
    table
        File stem, e.g. ``"ranking"``.
    report
        Report name used only outside a batch (the batch sets the folder itself).
    """
    _check_name(table, "table name")
    folder = tables_dir(report)
    folder.mkdir(parents=True, exist_ok=True)
    out = neutralise_frame(frame)
    path = folder / f"{table}.csv"
    tmp = folder / f".{table}.csv.tmp-{os.getpid()}"
    try:
        out.to_csv(tmp, index=False, lineterminator="\n")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
