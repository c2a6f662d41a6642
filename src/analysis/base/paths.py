"""Project paths, computed from the package location.

Importing this module has no side effects: nothing is created or read. The project root
is the checkout that holds ``src/analysis``; set ``MITRA_ROOT`` to point Mitra at another
checkout (for example a copy of ``data/`` with a ministry's own files).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from analysis.base.errors import MitraError

__all__ = [
    "DATA",
    "EXAMPLES",
    "MAPPINGS",
    "NOTEBOOKS",
    "PARAMS",
    "PROVENANCE",
    "RAW",
    "REPORTS",
    "ROOT",
    "UnsafeNameError",
    "inside",
    "project_root",
    "safe_name",
]


def project_root() -> Path:
    """Return the project root (``MITRA_ROOT`` if set, else the checkout of this package)."""
    env = os.environ.get("MITRA_ROOT")
    if env:
        return Path(env).resolve()
    # src/analysis/base/paths.py -> parents[3] is the checkout root (editable install).
    return Path(__file__).resolve().parents[3]


ROOT = project_root()
DATA = ROOT / "data"
RAW = DATA / "raw"
MAPPINGS = DATA / "mappings"
EXAMPLES = DATA / "examples"
PROVENANCE = DATA / "provenance.csv"
PARAMS = ROOT / "params"
NOTEBOOKS = ROOT / "notebooks"
REPORTS = ROOT / "reports"


class UnsafeNameError(MitraError, ValueError):
    """A user-supplied name cannot be used as a file or folder name."""


_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_-])?")
_LOWER_NAME = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9_-])?")


def safe_name(name: object, what: str = "name", *, lower: bool = False) -> str:
    """Return ``name`` if it is safe as one file or folder name, else raise.

    The one rule for every user-supplied name that becomes a path (run id, report name from
    ``--name``, params set, table name): 1-64 characters, letters, digits, ``-``, ``_`` and
    ``.`` (``lower``: lower-case letters and no ``.``), starting with a letter or digit, not
    ending with ``.``; so no path separator, no ``..``, no control character, no
    whitespace, no trailing newline.

    Raises
    ------
    UnsafeNameError
        Naming ``what`` and the rule.
    """
    pattern = _LOWER_NAME if lower else _NAME
    if not isinstance(name, str) or ".." in name or not pattern.fullmatch(name):
        allowed = (
            "lower-case letters, digits, '-' or '_'"
            if lower
            else ("letters, digits, '-', '_' or '.'")
        )
        raise UnsafeNameError(
            f"{what} {name!r} is not a safe file name: use 1-64 {allowed}, starting with a "
            "letter or digit (no path separators, '..', spaces or control characters)"
        )
    return name


def inside(base: str | Path, *parts: str) -> Path:
    """Join ``parts`` onto ``base`` and check that the resolved path stays under ``base``.

    A second line of defence behind :func:`safe_name`: symbolic links or a name that slipped
    past it cannot lead a write outside ``base`` (``reports/``).

    Raises
    ------
    UnsafeNameError
        When the resolved path leaves ``base``.
    """
    root = Path(base).resolve()
    target = root.joinpath(*parts).resolve()
    if target != root and root not in target.parents:
        raise UnsafeNameError(f"{Path(base).joinpath(*parts)} resolves outside {root}")
    return target
