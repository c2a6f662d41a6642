"""Project paths, computed from the package location.

Importing this module has no side effects: nothing is created or read. The project root
is the checkout that holds ``src/analysis``; set ``MITRA_ROOT`` to point Mitra at another
checkout (for example a copy of ``data/`` with a ministry's own files).
"""

from __future__ import annotations

import os
from pathlib import Path

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
    "project_root",
]


def project_root() -> Path:
    """Return the project root (``MITRA_ROOT`` if set, else the checkout of this package)."""
    env = os.environ.get("MITRA_ROOT")
    if env:
        return Path(env).resolve()
    # src/analysis/paths.py -> parents[2] is the checkout root (editable install).
    return Path(__file__).resolve().parents[2]


ROOT = project_root()
DATA = ROOT / "data"
RAW = DATA / "raw"
MAPPINGS = DATA / "mappings"
EXAMPLES = DATA / "examples"
PROVENANCE = DATA / "provenance.csv"
PARAMS = ROOT / "params"
NOTEBOOKS = ROOT / "notebooks"
REPORTS = ROOT / "reports"
