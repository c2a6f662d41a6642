"""Major foreign projects in the four industries (``raw/bkpm/projects.csv``), validated.

72 projects 2015-2026 in chemical, pharma, textile and footwear: company, home country,
sector, amount as published, status and years, each with its source (see
``raw/bkpm/NOTES_SECTOR_PROJECTS.md``). An investment desk tracks these; they are not BKPM
realisation and are never added to the ledger's figures.

Column mapping (source -> output): ``iso3`` -> ``home_iso3`` (``;`` -> ``+`` for joint
ventures); ``recorded_iso3`` is the country BKPM records the investment under where a
source says it differs ("recorded by BKPM as Malaysia", "BKPM records it as PMA from
Malaysia": Lotte Chemical -> ``MYS``, flag ``routing``), else the home country; a source
that only says it *may* be recorded elsewhere (Rosneft via Singapore) keeps the home country
with flag ``routing_possible``. ``status`` ``under construction`` -> ``under_construction``.
``amount``/``unit`` as published; ``amount_usd_m`` converted at the rate of the publication
year (rupiah: APBN assumption; other currencies: annual average), flagged ``fx_converted``,
or ``fx_unavailable``; a bracketed qualifier ("up to", "approx.") flags
``amount_qualified``. ``SECTOR CAVEAT`` in the note (a project that only partly fits the
industry) flags ``sector_partial``; exclude those rows for a strict sector view.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pycountry

from analysis.base import paths
from analysis.base.errors import DataValidationError
from analysis.base.vocab import is_partner_code
from analysis.data.money import MONEY_UNIT_EXPECTED, UsdConverter, parse_money_unit
from analysis.data.provenance import verify_file
from analysis.data.raw import note_flags
from analysis.data.schema import Column, read_table

__all__ = [
    "PROJECTS_FILE",
    "PROJECT_COLUMNS",
    "PROJECT_SECTORS",
    "PROJECT_STATUSES",
    "load_projects",
]

PROJECTS_FILE = "raw/bkpm/projects.csv"
PROJECT_SECTORS = ("chemical", "pharma", "textile", "footwear")
PROJECT_STATUSES = ("operating", "under_construction", "announced", "cancelled")
PROJECT_COLUMNS = (
    "company",
    "home_iso3",
    "home_country",
    "recorded_iso3",
    "sector",
    "project",
    "location",
    "amount",
    "unit",
    "amount_usd_m",
    "fx_rate",
    "fx_basis",
    "status",
    "year_announced",
    "year_status",
    "source",
    "published",
    "note",
    "flags",
    "file",
    "line",
)

_RECORDED = re.compile(
    r"recorded by BKPM as ([A-Z][a-z]+(?: [A-Z][a-z]+)*)"
    r"|BKPM records it as PMA from ([A-Z][a-z]+(?: [A-Z][a-z]+)*)"
)
_MAY_ROUTE = re.compile(r"may be recorded as|routed via", re.I)


def _partners_ok(text: str) -> bool:
    parts = [p.strip() for p in text.split(";")]
    return all(p and is_partner_code(p) and "+" not in p for p in parts)


def _status(text: str) -> str:
    return text.strip().lower().replace(" ", "_")


COLUMNS = (
    Column("company"),
    Column("home_country"),
    Column("iso3", check=_partners_ok, expected="ISO 3166 alpha-3 codes separated by ';'"),
    Column("sector", check=lambda s: s in PROJECT_SECTORS, expected=", ".join(PROJECT_SECTORS)),
    Column("project"),
    Column("location", nullable=True),
    Column("amount", "amount", nullable=True),
    Column(
        "unit",
        nullable=True,
        check=lambda s: parse_money_unit(s) is not None,
        expected=MONEY_UNIT_EXPECTED,
    ),
    Column(
        "status",
        check=lambda s: _status(s) in PROJECT_STATUSES,
        expected="operating, under construction, announced or cancelled",
    ),
    Column("year_announced", "int", nullable=True, bounds=(1950, 2100)),
    Column("year_status", "int", nullable=True, bounds=(1950, 2100)),
    Column("source_url"),
    Column("published", "date", nullable=True),
    Column("note", nullable=True),
)


def _iso3_of(name: str) -> str | None:
    try:
        return str(pycountry.countries.lookup(name).alpha_3)
    except LookupError:
        return None


def load_projects(root: str | Path | None = None) -> pd.DataFrame:
    """Load the major-projects table, validated, one row per project.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PROJECT_COLUMNS`; ``status`` one of :data:`PROJECT_STATUSES`.

    Raises
    ------
    DataValidationError
        A bad cell (file, line, column): unknown partner code, sector or status, a
        malformed year or date, a non-numeric or negative amount, an unreadable unit, an
        amount without its unit, or a status year before the announcement year.

    Examples
    --------
    >>> from analysis.data.projects import load_projects
    >>> p = load_projects()
    >>> p.loc[p["company"].str.startswith("Lotte"), ["amount", "recorded_iso3"]]
    ... # doctest: +SKIP
    """
    root = Path(root) if root is not None else paths.DATA
    verify_file(PROJECTS_FILE, root=root)
    label = f"data/{PROJECTS_FILE}"
    raw = read_table(
        root / PROJECTS_FILE, COLUMNS, key=("company", "project", "source_url"), label=label
    )
    fx = UsdConverter(root)
    records = []
    for rec in raw.to_dict("records"):
        line = int(rec["_line"])
        amount = rec["amount"]
        unit = "" if pd.isna(rec["unit"]) else str(rec["unit"])
        has_amount = amount is not None and not pd.isna(amount)
        if has_amount and not unit:
            raise DataValidationError(
                label,
                "an amount without its unit",
                row=line,
                column="unit",
                expected=MONEY_UNIT_EXPECTED,
            )
        y_ann, y_stat = rec["year_announced"], rec["year_status"]
        if not pd.isna(y_ann) and not pd.isna(y_stat) and int(y_stat) < int(y_ann):
            raise DataValidationError(
                label,
                "status year before the announcement year",
                row=line,
                column="year_status",
                value=int(y_stat),
                expected=f"a year >= year_announced ({int(y_ann)})",
            )
        home = "+".join(p.strip() for p in str(rec["iso3"]).split(";"))
        note = "" if pd.isna(rec["note"]) else str(rec["note"])
        text = f"{rec['home_country']} {note}"
        flags = set(note_flags(note))
        recorded = home
        m = _RECORDED.search(text)
        if m:
            code = _iso3_of(m.group(1) or m.group(2))
            if code is not None and code != home:
                recorded = code
                flags.add("routing")
        elif _MAY_ROUTE.search(text):
            flags.add("routing_possible")
        if "SECTOR CAVEAT" in note:
            flags.add("sector_partial")
        published = "" if pd.isna(rec["published"]) else str(rec["published"])
        year = (
            int(published[:4])
            if published
            else (int(y_stat) if not pd.isna(y_stat) else (None if pd.isna(y_ann) else int(y_ann)))
        )
        usd, rate, basis = float("nan"), float("nan"), ""
        if has_amount:
            usd, rate, basis, fx_flags = fx.to_usd(amount, parse_money_unit(unit), year)
            flags.update(fx_flags)
        records.append(
            {
                "company": str(rec["company"]),
                "home_iso3": home,
                "home_country": str(rec["home_country"]),
                "recorded_iso3": recorded,
                "sector": str(rec["sector"]),
                "project": str(rec["project"]),
                "location": "" if pd.isna(rec["location"]) else str(rec["location"]),
                "amount": amount,
                "unit": unit,
                "amount_usd_m": usd,
                "fx_rate": rate,
                "fx_basis": basis,
                "status": _status(str(rec["status"])),
                "year_announced": y_ann,
                "year_status": y_stat,
                "source": str(rec["source_url"]),
                "published": published,
                "note": note,
                "flags": ";".join(sorted(flags)),
                "file": label,
                "line": line,
            }
        )
    out = pd.DataFrame(records, columns=list(PROJECT_COLUMNS))
    for col in ("year_announced", "year_status"):
        out[col] = out[col].astype("Int64")
    out["amount"] = out["amount"].astype(float)
    return out
