"""Canonical sector codes and the mapping of every published sector name onto them.

``data/mappings/sectors.csv`` declares the codes (BKPM's sector classification, its
sub-sectors, and Kemenperin's directorate scopes such as ITKAK and IKFT, which are *not*
BKPM sectors and keep codes of their own). ``data/mappings/sector_names.csv`` maps each
published name, as printed, onto a code, a region (``IDN`` for national figures, an
ISO 3166-2 province code, or ``IDN-TOP10`` for a top-10-province sum) and a concept
(``realisation`` or ``planned``).

BKPM renamed sectors around 2018. Where the renaming kept the scope (``Industri kimia
dasar, barang kimia dan farmasi`` -> ``Industri kimia dan farmasi``), both names map to one
code; where it changed the scope (metals and machinery were split), the old and the new
sectors keep separate codes so no series silently joins two scopes.

Names match after case folding and collapsing white space; nothing fuzzier, so a new
spelling is an error that asks for a mapping row rather than a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from analysis.base import paths
from analysis.base.errors import DataValidationError
from analysis.base.vocab import province_code
from analysis.data.schema import Column, read_table

__all__ = ["SectorMap", "SectorRef", "load_sector_map", "normalise_name"]

FIRST_CLASS = ("textile", "apparel", "leather_footwear", "chem_pharma")


def normalise_name(name: str) -> str:
    """Return the lookup key of a published sector name."""
    return " ".join(name.casefold().split())


@dataclass(frozen=True)
class SectorRef:
    """Where a published sector name points."""

    sector: str
    region: str
    concept: str


class SectorMap:
    """Sector vocabulary and published-name mapping."""

    def __init__(self, sectors: pd.DataFrame, names: pd.DataFrame) -> None:
        self.sectors = sectors
        self.names = names
        self._codes = frozenset(sectors["sector"])
        self._lookup: dict[str, SectorRef] = {}
        for line, name, sector, region, concept in zip(
            names["_line"],
            names["published_name"],
            names["sector"],
            names["region"],
            names["concept"],
            strict=True,
        ):
            key = normalise_name(str(name))
            ref = SectorRef(str(sector), str(region), str(concept))
            if key in self._lookup and self._lookup[key] != ref:
                raise DataValidationError(
                    "data/mappings/sector_names.csv",
                    "one name mapped two ways",
                    row=int(line),
                    column="published_name",
                    value=name,
                    expected="each published name (case and spacing ignored) mapped once",
                )
            self._lookup[key] = ref

    @property
    def codes(self) -> frozenset[str]:
        """All canonical sector codes."""
        return self._codes

    def lookup(self, name: str) -> SectorRef | None:
        """Return the mapping of a published name, or None when it is unmapped."""
        return self._lookup.get(normalise_name(name))

    def resolve(self, text: str) -> SectorRef | None:
        """Accept a canonical code (national) or a published name."""
        if text in self._codes:
            return SectorRef(text, "IDN", "realisation")
        return self.lookup(text)

    def label(self, code: str) -> str:
        """Return the English label of a code."""
        row = self.sectors[self.sectors["sector"] == code]
        return str(row["label_en"].iloc[0]) if len(row) else code


@cache
def _load(root: Path) -> SectorMap:
    sectors = read_table(
        root / "mappings/sectors.csv",
        (
            Column("sector"),
            Column("label_en"),
            Column("label_id"),
            Column("parent", nullable=True),
            Column(
                "first_class", check=lambda s: s in ("true", "false"), expected="true or false"
            ),
            Column("scope_note", nullable=True),
        ),
        key=("sector",),
        label="data/mappings/sectors.csv",
    )
    codes = set(sectors["sector"])
    bad_parent = sectors[sectors["parent"].notna() & ~sectors["parent"].isin(codes)]
    if len(bad_parent):
        row = bad_parent.iloc[0]
        raise DataValidationError(
            "data/mappings/sectors.csv",
            "unknown parent sector",
            row=int(row["_line"]),
            column="parent",
            value=row["parent"],
            expected="a code declared in this file",
        )
    names = read_table(
        root / "mappings/sector_names.csv",
        (
            Column("published_name"),
            Column(
                "sector",
                check=lambda s: s in codes,
                expected="a code declared in data/mappings/sectors.csv",
            ),
            Column(
                "region",
                check=lambda s: s == "IDN-TOP10" or province_code(s) is not None,
                expected="IDN, IDN-TOP10 or an ISO 3166-2:ID province code",
            ),
            Column(
                "concept",
                check=lambda s: s in ("realisation", "planned"),
                expected="realisation or planned",
            ),
            Column("gloss_en", nullable=True),
            Column("note", nullable=True),
        ),
        label="data/mappings/sector_names.csv",
    )
    return SectorMap(sectors, names)


def load_sector_map(root: str | Path | None = None) -> SectorMap:
    """Load the sector vocabulary and name mapping from ``data/mappings/``."""
    return _load(Path(root).resolve() if root is not None else paths.DATA.resolve())
