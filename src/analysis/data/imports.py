"""A new BKPM release in five minutes: the release template and the ledger's import area.

BKPM publishes each quarter about four weeks after it ends; the compiled sources stop at FY
2025. A user who has a newer release fills in one CSV in the release format (template:
``data/templates/bkpm_release_TEMPLATE.csv``; every column in ``data/README.md``) and runs::

    mitra data add-release my_release_Q1_2026.csv

:func:`analysis.data.intake.add_release` validates the file with the same rules as the
shipped data (:func:`read_release`, here), checks it against the ledger, and only then
stores a byte copy under ``data/imports/`` with one row in ``data/imports/index.csv`` (file,
sha256, year, period, published, source, added). From
then on :func:`analysis.data.build_ledger` reads the import area by default, so the ledger's
latest release, the data check's "as of" and every report move to the new period.

The release format: one row per published figure,

======== ===========================================================================
column   meaning
======== ===========================================================================
year     calendar year of the release (one release per file)
period   ``Q1``, ``H1``, ``9M`` or ``FY`` (the cumulative windows BKPM releases), or a
         discrete quarter ``Q2``-``Q4`` for figures published for the quarter alone
table    ``national``, ``country``, ``sector``, ``province`` or ``jobs``
item     empty for national and jobs; ISO alpha-3 code for country (``SGP``); BKPM
         sector name or code for sector; province name or ISO 3166-2 code for province
measure  ``total``, ``pma`` or ``pmdn`` (``pma`` only for country; ``jobs`` for jobs)
value    the figure as printed, ``.`` as decimal point, no thousands separators
unit     ``Rp trillion``, ``Rp billion``, ``US$ billion``, ``US$ million`` (PMA may be
         given in both rupiah and US$: two rows); ``persons`` for jobs
source   URL or title of the release
published the release date, ``YYYY-MM-DD``
note     optional
======== ===========================================================================

Checks (each failure is a :class:`~analysis.base.errors.DataValidationError` naming file, line
and column, and nothing is written):

- every cell, as for the raw files (:mod:`analysis.data.schema`): numbers, units, dates,
  known partner codes, sector names (``data/mappings/sector_names.csv``), provinces;
- one release per file, and a ``national`` ``total`` row;
- the release date falls after the period's end;
- PMA + PMDN = total within rounding (PMA in rupiah, or in US$ at the year's APBN rate within
  the ledger's exchange-rate tolerance), and PMA in rupiah agrees with PMA in US$;
- no duplicate: a release already in the import area, or whose period the shipped data
  already publish, is refused (a correction goes into a new file after removing the old one
  from ``imports/index.csv``);
- the ledger with the release added shows no identity violation that the ledger without it
  did not have (e.g. an H1 total smaller than the Q1 total already in the ledger).

Figures enter the ledger as candidates flagged ``imported_release``; in a conflict with a
press report they count as the official table (rule ``official_table``). Jobs are validated
and kept in the import area (:func:`release_rows`) but the ledger has no jobs measure.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from analysis.base import paths
from analysis.base.errors import DataValidationError
from analysis.base.vocab import is_partner_code, province_code
from analysis.data.provenance import sha256_of
from analysis.data.raw import CANDIDATE_COLUMNS
from analysis.data.releases import RELEASE_PERIODS, _period_end
from analysis.data.schema import Column, read_table
from analysis.data.sectors import load_sector_map

__all__ = [
    "IMPORTS_DIR",
    "INDEX_COLUMNS",
    "RELEASE_COLUMNS",
    "TEMPLATE",
    "imported_candidates",
    "read_release",
    "release_rows",
]

IMPORTS_DIR = "imports"
INDEX_FILE = "imports/index.csv"
TEMPLATE = "templates/bkpm_release_TEMPLATE.csv"
INDEX_COLUMNS = ("file", "sha256", "year", "period", "published", "source", "added")
RELEASE_COLUMNS = (
    "year",
    "period",
    "table",
    "item",
    "measure",
    "value",
    "unit",
    "source",
    "published",
    "note",
)
TABLES = ("national", "country", "sector", "province", "jobs")
_PERIODS = ("Q1", "Q2", "Q3", "Q4", "H1", "9M", "FY")
_MEASURES = {
    "national": ("total", "pma", "pmdn"),
    "country": ("pma",),
    "sector": ("total", "pma", "pmdn"),
    "province": ("total", "pma", "pmdn"),
    "jobs": ("jobs",),
}
_MONEY_UNITS = ("Rp trillion", "Rp billion", "US$ billion", "US$ million")
_FLAG = "imported_release"


def _is_day(text: str) -> bool:
    try:
        return len(text) == 10 and dt.date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


def _columns(root: Path) -> tuple[Column, ...]:
    return (
        Column("year", "int", bounds=(2000, 2100)),
        Column("period", check=lambda s: s in _PERIODS, expected=", ".join(_PERIODS)),
        Column("table", check=lambda s: s in TABLES, expected=", ".join(TABLES)),
        Column("item", nullable=True),
        Column(
            "measure",
            check=lambda s: s in ("total", "pma", "pmdn", "jobs"),
            expected="total, pma, pmdn (or jobs)",
        ),
        Column("value", "amount", bounds=(0, 1e12)),
        Column(
            "unit",
            check=lambda s: s in (*_MONEY_UNITS, "persons"),
            expected=", ".join((*_MONEY_UNITS, "persons")),
        ),
        Column("source"),
        Column("published", check=_is_day, expected="the release date, YYYY-MM-DD"),
        Column("note", nullable=True),
    )


def read_release(path: str | Path, root: str | Path | None = None) -> pd.DataFrame:
    """Read and validate one release file (cells and the release's own consistency).

    Returns
    -------
    pandas.DataFrame
        The validated rows (``_line`` = line in the file) with ``sector``, ``region`` and
        ``partner_iso3`` mapped to the ledger's codes.
    """
    root = Path(root) if root is not None else paths.DATA
    path = Path(path)
    label = str(path)
    if not path.is_file():
        raise DataValidationError(label, "file not found")
    raw = read_table(
        path,
        _columns(root),
        key=("year", "period", "table", "item", "measure", "unit"),
        label=label,
    )
    if raw.empty:
        raise DataValidationError(label, "no rows", row=2, expected="one row per figure")
    smap = load_sector_map(root)
    sectors, regions, partners = [], [], []
    for rec in raw.to_dict("records"):
        line, table = int(rec["_line"]), str(rec["table"])
        item = "" if rec["item"] is None or pd.isna(rec["item"]) else str(rec["item"]).strip()
        measure, unit = str(rec["measure"]), str(rec["unit"])

        def fail(
            problem: str, column: str, expected: str, value: object = None, line: int = line
        ) -> None:
            raise DataValidationError(
                label, problem, row=line, column=column, expected=expected, value=value
            )

        if measure not in _MEASURES[table]:
            fail(f"measure not used in table {table}", "measure", ", ".join(_MEASURES[table]))
        if (table == "jobs") != (unit == "persons"):
            fail("unit does not fit the table", "unit", "persons for jobs, money otherwise", unit)
        sector, region, partner = "all", "IDN", "WLD"
        if table in ("national", "jobs"):
            if item:
                fail(f"item given for table {table}", "item", "an empty cell", item)
        elif not item:
            fail(f"empty item for table {table}", "item", f"the {table} the figure is for")
        elif table == "country":
            if not is_partner_code(item) or item == "WLD":
                fail("unknown partner code", "item", "an ISO 3166 alpha-3 code (SGP)", item)
            partner = item
        elif table == "sector":
            ref = smap.resolve(item)
            if ref is None:
                fail(
                    "unknown sector",
                    "item",
                    "a sector code or a name in data/mappings/sector_names.csv",
                    item,
                )
            sector, region = ref.sector, ref.region
        elif table == "province":
            code = province_code(item)
            if code is None or code == "IDN":
                fail("unknown province", "item", "a province name (Jawa Barat) or ID-JB", item)
            region = code
        sectors.append(sector)
        regions.append(region)
        partners.append(partner)
    raw["sector"], raw["region"], raw["partner_iso3"] = sectors, regions, partners
    _check_release(raw, label)
    return raw


def _check_release(raw: pd.DataFrame, label: str) -> None:
    first = raw.iloc[0]
    for col in ("year", "period"):
        other = raw[raw[col].astype(str) != str(first[col])]
        if len(other):
            raise DataValidationError(
                label,
                f"a second release in one file ({col} {other.iloc[0][col]} after "
                f"{first[col]} on line {int(first['_line'])})",
                row=int(other.iloc[0]["_line"]),
                column=col,
                expected="one release (one year and period) per file",
            )
    year, period = int(first["year"]), str(first["period"])
    nat = raw[raw["table"] == "national"]
    if not (nat["measure"] == "total").any():
        raise DataValidationError(
            label,
            "no national total",
            row=int(raw["_line"].max()) + 1,
            column="table",
            expected="a row with table=national, measure=total (the release's headline)",
        )
    window = period if period in RELEASE_PERIODS else {"Q2": "H1", "Q3": "9M", "Q4": "FY"}[period]
    end = _period_end(year, window) if period in RELEASE_PERIODS else _quarter_end(year, period)
    for rec in raw.to_dict("records"):
        if dt.date.fromisoformat(str(rec["published"])) <= end:
            raise DataValidationError(
                label,
                f"release date before the end of {period} {year} ({end.isoformat()})",
                row=int(rec["_line"]),
                column="published",
                value=rec["published"],
                expected="the day BKPM published the figures, after the period ended",
            )


def _quarter_end(year: int, quarter: str) -> dt.date:
    month = {"Q1": 3, "Q2": 6, "Q3": 9, "Q4": 12}[quarter]
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _candidates(raw: pd.DataFrame, label: str) -> pd.DataFrame:
    money = raw[raw["table"] != "jobs"]
    dataset = money["table"].map(
        {"national": "national", "country": "country", "sector": "sector", "province": "sector"}
    )
    note = money["note"].astype("string")
    cand = pd.DataFrame(
        {
            "dataset": dataset,
            "file": label,
            "line": money["_line"].astype(int),
            "concept": "realisation",
            "year": money["year"].astype(int),
            "period": money["period"].astype(str),
            "measure": money["measure"].astype(str),
            "sector": money["sector"],
            "region": money["region"],
            "partner_iso3": money["partner_iso3"],
            "value_published": money["value"].astype(float),
            "unit_published": money["unit"].astype(str),
            "decimals": money["value_decimals"].astype(int),
            "projects": pd.array([pd.NA] * len(money), dtype="Int64"),
            "source": money["source"].astype(str),
            "published": money["published"].astype("string"),
            "note": note,
            "flags": [(_FLAG,)] * len(money),
        }
    )
    return cand[list(CANDIDATE_COLUMNS)].reset_index(drop=True)


def _index(root: Path) -> pd.DataFrame:
    path = root / INDEX_FILE
    if not path.is_file():
        return pd.DataFrame(columns=list(INDEX_COLUMNS))
    table = read_table(
        path,
        (
            Column("file"),
            Column("sha256", check=lambda s: len(s) == 64, expected="a hex sha256"),
            Column("year", "int", bounds=(2000, 2100)),
            Column("period", check=lambda s: s in _PERIODS, expected=", ".join(_PERIODS)),
            Column("published"),
            Column("source"),
            Column("added"),
        ),
        key=("file",),
        label=f"data/{INDEX_FILE}",
    )
    return table


def imported_candidates(root: str | Path | None = None) -> tuple[list[pd.DataFrame], dict]:
    """Candidate frames of every release in the import area, and the files' hashes.

    Each file's sha256 must match ``imports/index.csv`` (an edited import stops the run with
    :class:`~analysis.base.errors.ProvenanceError`).
    """
    from analysis.base.errors import ProvenanceError

    root = Path(root) if root is not None else paths.DATA
    index = _index(root)
    frames, hashes = [], {}
    for rec in index.to_dict("records"):
        rel = f"{IMPORTS_DIR}/{rec['file']}"
        path = root / rel
        if not path.is_file():
            raise ProvenanceError(
                f"data/{rel}: listed in data/{INDEX_FILE} but missing; restore it or remove "
                "its row"
            )
        actual = sha256_of(path)
        if actual != rec["sha256"]:
            raise ProvenanceError(
                f"data/{rel}: sha256 {actual[:12]}... does not match data/{INDEX_FILE} "
                f"({str(rec['sha256'])[:12]}...); imported releases are immutable: add a "
                "corrected release as a new file"
            )
        frames.append(_candidates(read_release(path, root), f"data/{rel}"))
        hashes[rel] = actual
    return frames, hashes


def release_rows(root: str | Path | None = None) -> pd.DataFrame:
    """Every validated row of the imported releases (jobs included), with its file."""
    root = Path(root) if root is not None else paths.DATA
    out = []
    for rec in _index(root).to_dict("records"):
        rel = f"{IMPORTS_DIR}/{rec['file']}"
        rows = read_release(root / rel, root).assign(file=f"data/{rel}")
        out.append(rows.rename(columns={"_line": "line"}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()
