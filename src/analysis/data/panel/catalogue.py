"""The partner panel's indicator catalogue and exclusions."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from analysis.data.schema import Column, read_table

from .mappings import CATALOGUE_FILE, EXCLUSIONS_FILE, _root

# --- catalogue -------------------------------------------------------------------------


def load_catalogue(root: str | Path | None = None) -> pd.DataFrame:
    """Read the indicator catalogue (one definition per code).

    Raises
    ------
    DataValidationError
        On a missing column, an empty cell, a direction other than -1/0/1, or a code
        listed twice.
    """
    root = _root(root)
    cols = [
        Column(
            "code",
            check=lambda s: re.fullmatch(r"[a-z0-9_]+", s) is not None,
            expected="a lower-case code of letters, digits and _",
        ),
        Column("label"),
        Column("definition"),
        Column("unit"),
        Column("source"),
        Column("licence"),
        Column("direction", "int", bounds=(-1, 1)),
    ]
    cat = read_table(
        root / CATALOGUE_FILE,
        cols,
        key=("code",),
        label=f"data/{CATALOGUE_FILE}",
        allow_extra=False,
    )
    cat = cat.drop(columns="_line")
    cat["direction"] = cat["direction"].astype(int)
    return cat.astype({c: object for c in cat.columns if c != "direction"})


def _load_exclusions(root: Path) -> pd.DataFrame:
    cols = [
        Column("file"),
        Column("iso3"),
        Column("indicator"),
        Column("year", "int", bounds=(1900, 2100)),
        Column("value", "float"),
        Column("unit"),
        Column("reason"),
    ]
    return read_table(
        root / EXCLUSIONS_FILE,
        cols,
        key=("file", "iso3", "indicator", "year", "value", "unit"),
        label=f"data/{EXCLUSIONS_FILE}",
    )
