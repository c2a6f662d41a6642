"""Import format for BKPM's full realisation tables (sector x country x province x period).

Staff of the ministries hold BKPM's detailed realisation tables (LKPM-based), which are not
public. Mitra reads them from one tidy CSV format, validated like every raw file:

=============  ===========================================================================
column         meaning
=============  ===========================================================================
year           calendar year, e.g. ``2024``
period         ``Q1``-``Q4``, ``H1``, ``9M`` or ``FY`` (one table may mix them)
measure        ``pma`` (foreign) or ``pmdn`` (domestic); totals are derived, not imported
sector         a canonical code (``textile``) or a BKPM sector name as printed
               (``Industri Tekstil``); names map through ``data/mappings/sector_names.csv``
partner_iso3   ISO 3166 alpha-3 country of origin for ``pma``; ``IDN`` for ``pmdn``
province       province name as BKPM prints it (``Jawa Barat``, ``DKI Jakarta``) or its
               ISO 3166-2 code (``ID-JB``)
value          amount, >= 0, plain number with ``.`` as decimal point
unit           ``US$ thousand``, ``US$ million``, ``Rp million``, ``Rp billion``, ...
projects       number of projects (optional, integer >= 0)
source         where the table comes from (optional; default: the file name)
=============  ===========================================================================

Each (year, period, measure, sector, partner_iso3, province) appears once. Bad input stops
with the file, line, column and what was expected. Rows enter the ledger at their own
detail (region = province, partner = country); with ``aggregate=True`` their national sums
by sector also enter as candidates for the published cells, flagged
``aggregated_from_import``, so press figures and the official table are compared.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.base.errors import DataValidationError
from analysis.base.vocab import UNITS, is_partner_code, province_code
from analysis.data.provenance import sha256_of
from analysis.data.raw import CANDIDATE_COLUMNS
from analysis.data.schema import Column, read_table
from analysis.data.sectors import SectorMap, load_sector_map

__all__ = ["read_realisation_table"]

_PERIODS = ("Q1", "Q2", "Q3", "Q4", "H1", "9M", "FY")


def _columns(smap: SectorMap) -> tuple[Column, ...]:
    return (
        Column("year", "int", bounds=(1967, 2100)),
        Column("period", check=lambda s: s in _PERIODS, expected="one of " + ", ".join(_PERIODS)),
        Column("measure", check=lambda s: s in ("pma", "pmdn"), expected="pma or pmdn"),
        Column(
            "sector",
            check=lambda s: smap.resolve(s) is not None,
            expected="a sector code from data/mappings/sectors.csv or a BKPM sector name "
            "listed in data/mappings/sector_names.csv",
        ),
        Column(
            "partner_iso3",
            check=lambda s: is_partner_code(s) and s not in ("WLD", "OTH"),
            expected="an ISO 3166 alpha-3 country code (IDN for pmdn)",
        ),
        Column(
            "province",
            check=lambda s: province_code(s) is not None,
            expected="an Indonesian province name (e.g. Jawa Barat, DKI Jakarta) or "
            "ISO 3166-2:ID code (ID-JB)",
        ),
        # 1e12 of any unit is beyond any real realisation figure (Indonesia's yearly total
        # is about 1.7e9 Rp million): a larger value is a typo or a hostile file.
        Column("value", "amount", bounds=(0, 1e12)),
        Column("unit", check=lambda s: s in UNITS, expected="one of " + ", ".join(UNITS)),
        Column("projects", "int", required=False, nullable=True, bounds=(0, 10**9)),
        Column("source", required=False, nullable=True),
    )


def _is_iso_day(text: str) -> bool:
    import datetime as dt
    import re

    if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def read_realisation_table(
    path: str | Path,
    *,
    published: str | None = None,
    aggregate: bool = True,
    sector_map: SectorMap | None = None,
) -> pd.DataFrame:
    """Read and validate a BKPM realisation table in Mitra's import format.

    Parameters
    ----------
    path
        CSV file in the format described in this module.
    published
        Release date of the table (``YYYY-MM-DD``), used by the conflict rule.
    aggregate
        Also return national sums per (year, period, measure, sector).
    sector_map
        Sector mapping (default: ``data/mappings``).

    Returns
    -------
    pandas.DataFrame
        Candidate rows for :func:`analysis.data.build_ledger` (``imports=[...]``).
        ``frame.attrs["hashes"]`` holds the file's sha256 for the run's provenance.

    Raises
    ------
    DataValidationError
        Naming file, line and column of the first fault.
    """
    path = Path(path)
    smap = sector_map or load_sector_map()
    label = str(path)
    if published is not None and not _is_iso_day(published):
        raise DataValidationError(
            label,
            "release date is not an ISO date",
            column="published",
            value=published,
            expected="YYYY-MM-DD, a real calendar date (e.g. 2025-01-31)",
        )
    raw = read_table(
        path,
        _columns(smap),
        key=("year", "period", "measure", "sector", "partner_iso3", "province"),
        label=label,
    )
    refs = [smap.resolve(s) for s in raw["sector"]]
    regions = [province_code(p) for p in raw["province"]]
    lines = raw["_line"].astype(int).tolist()
    for line, measure, partner, ref in zip(
        lines, raw["measure"], raw["partner_iso3"], refs, strict=True
    ):
        if measure == "pmdn" and partner != "IDN":
            raise DataValidationError(
                label,
                "domestic investment with a foreign partner",
                row=line,
                column="partner_iso3",
                value=partner,
                expected="IDN for measure pmdn",
            )
        if measure == "pma" and partner == "IDN":
            raise DataValidationError(
                label,
                "foreign investment from Indonesia",
                row=line,
                column="partner_iso3",
                value=partner,
                expected="the investor's country for measure pma",
            )
        if ref.concept != "realisation":
            raise DataValidationError(
                label,
                "sector name denotes planned investment, not realisation",
                row=line,
                column="sector",
                expected="a realisation sector",
            )
    # The key must be unique after mapping too: 'textile' and 'Industri Tekstil' (or
    # 'DKI Jakarta' and 'ID-JK') name the same cell and would otherwise be summed twice.
    seen: dict[tuple, int] = {}
    for line, year, period, measure, ref, partner, region in zip(
        lines,
        raw["year"],
        raw["period"],
        raw["measure"],
        refs,
        raw["partner_iso3"],
        regions,
        strict=True,
    ):
        key = (int(year), period, measure, ref.sector, partner, region)
        if key in seen:
            raise DataValidationError(
                label,
                f"duplicate key (same cell as line {seen[key]} once sector and province "
                "names are mapped to codes)",
                row=line,
                column="year+period+measure+sector+partner_iso3+province",
                expected="each cell once",
            )
        seen[key] = line
    source = raw["source"].fillna(path.name).astype(str)
    cand = pd.DataFrame(
        {
            "dataset": "realisation",
            "file": label,
            "line": raw["_line"].astype(int),
            "concept": "realisation",
            "year": raw["year"].astype(int),
            "period": raw["period"].astype(str),
            "measure": raw["measure"].astype(str),
            "sector": [r.sector for r in refs],
            "region": regions,
            "partner_iso3": raw["partner_iso3"].astype(str),
            "value_published": raw["value"].astype(float),
            "unit_published": raw["unit"].astype(str),
            "decimals": raw["value_decimals"].astype(int),
            "projects": raw["projects"].astype("Int64"),
            "source": source,
            "published": pd.array([published] * len(raw), dtype="string"),
            "note": pd.array([pd.NA] * len(raw), dtype="string"),
            "flags": [()] * len(raw),
        }
    )[list(CANDIDATE_COLUMNS)]
    if aggregate and len(cand):
        cand = pd.concat([cand, _national_sums(cand)], ignore_index=True)
    cand.attrs["hashes"] = {label: sha256_of(path)}
    return cand


def _national_sums(cand: pd.DataFrame) -> pd.DataFrame:
    """Sum detailed rows to national cells per (year, period, measure, sector)."""
    rows = []
    keys = ["year", "period", "measure", "sector"]
    for key, grp in cand.groupby(keys, sort=True):
        if grp["unit_published"].nunique() != 1:
            # Mixed units inside one cell: sum in the smallest unit of the cell's currency.
            unit = min(grp["unit_published"], key=lambda u: UNITS[u][1])
            if len({UNITS[u][0] for u in grp["unit_published"]}) != 1:
                raise DataValidationError(
                    str(grp["file"].iloc[0]),
                    "one cell mixes currencies",
                    row=int(grp["line"].iloc[0]),
                    column="unit",
                    expected="one currency per (year, period, measure, sector)",
                )
        else:
            unit = grp["unit_published"].iloc[0]
        values = grp["value_published"] * grp["unit_published"].map(lambda u: UNITS[u][1])
        projects = grp["projects"]
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "dataset": "realisation",
                "file": grp["file"].iloc[0],
                "line": int(grp["line"].min()),
                "concept": "realisation",
                "region": "IDN",
                "partner_iso3": "WLD",
                "value_published": float(values.sum()) / UNITS[unit][1],
                "unit_published": unit,
                "decimals": int(grp["decimals"].max()),
                "projects": int(projects.sum()) if projects.notna().all() else pd.NA,
                "source": " | ".join(sorted(set(grp["source"]))),
                "published": grp["published"].iloc[0],
                "note": f"sum of {len(grp)} rows of the imported table",
                "flags": ("aggregated_from_import",),
            }
        )
    out = pd.DataFrame(rows)
    out["projects"] = out["projects"].astype("Int64")
    return out[list(CANDIDATE_COLUMNS)]
