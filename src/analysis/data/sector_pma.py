"""PMA by partner x sector (``raw/bkpm/pma_by_country_sector.csv``), validated.

BKPM rarely publishes foreign investment by source country *within* a sector; the compiled
file holds every such figure found for textile, footwear, chemical and pharma (see
``raw/bkpm/NOTES_SECTOR_PROJECTS.md``). Rows are of four kinds, which must never be mixed
in one sum:

- ``realised``: BKPM realisation of one partner (or one joint figure of several partners,
  ``partner_iso3`` ``KOR+TWN``) in the sector;
- ``commitment``: commitments, interest, principle licences or pipelines, NOT realisation
  (the note says so: "NOT realisation", "commitment", "interest", "pipeline", "minat",
  "izin prinsip", or a target);
- ``share_statement``: no figure, or a share (``%``): "Korea and Taiwan dominate textiles";
  ``[ROUTING]`` statements (Lotte Chemical recorded under Malaysia) are of this kind;
- ``sector_total``: the all-country sector figure (``partner_iso3`` ``WLD``) that
  denominates shares.

Column mapping (source -> output): ``iso3`` -> ``partner_iso3`` (``;`` -> ``+``);
``year`` ``2016-2020`` -> ``year`` 2020 and ``year_first`` 2016 (flag ``cumulative_window``);
``period`` is kept as published, with ``period_code`` (``H1``, ``9M``, ``FY``, ``Q1``-``Q4``)
where the text is one of BKPM's windows, else empty; ``value``/``unit`` as published and
``value_usd_m`` in US$ million (:mod:`analysis.data.money`); ``source_url`` -> ``source``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from analysis.base import paths
from analysis.base.errors import DataValidationError
from analysis.base.vocab import is_partner_code
from analysis.data.money import MONEY_UNIT_EXPECTED, UsdConverter, parse_money_unit
from analysis.data.provenance import verify_file
from analysis.data.raw import note_flags
from analysis.data.schema import Column, read_table

__all__ = [
    "PARTNER_SECTORS",
    "PARTNER_SECTOR_COLUMNS",
    "PARTNER_SECTOR_FILE",
    "PARTNER_SECTOR_KINDS",
    "load_partner_sector",
]

PARTNER_SECTOR_FILE = "raw/bkpm/pma_by_country_sector.csv"
#: Sectors of the file (``chem_pharma`` is BKPM's combined chemical and pharma sector).
PARTNER_SECTORS = ("textile", "footwear", "chemical", "pharma", "chem_pharma")
PARTNER_SECTOR_KINDS = ("realised", "commitment", "share_statement", "sector_total")
PARTNER_SECTOR_COLUMNS = (
    "year",
    "year_first",
    "period",
    "period_code",
    "partner_iso3",
    "country",
    "sector",
    "sector_published_name",
    "value",
    "unit",
    "value_usd_m",
    "fx_rate",
    "fx_basis",
    "projects",
    "kind",
    "flags",
    "source",
    "published",
    "note",
    "file",
    "line",
)

_YEAR = re.compile(r"^(\d{4})(?:-(\d{4}))?$")
# The compilers mark non-realisation in capitals ("NOT realisation") or in the period or
# sector name ("commitments", "interest", "minat investasi", "izin prinsip", "pipeline").
_NOT_REALISED = re.compile(
    r"NOT realisation|(?i:commitment|\binterest\b|pipeline|\bminat\b|izin prinsip"
    r"|principle licen|\btarget\b)"
)
_PERIOD_CODES = (
    (re.compile(r"^(S1|H1)\b", re.I), "H1"),
    (re.compile(r"^Jan-Sep$", re.I), "9M"),
    (re.compile(r"^full year$", re.I), "FY"),
    (re.compile(r"^Q([1-4])$"), None),
)


def _year_ok(text: str) -> bool:
    m = _YEAR.match(text)
    return bool(m) and (m.group(2) is None or int(m.group(1)) <= int(m.group(2)))


def _partners_ok(text: str) -> bool:
    parts = [p.strip() for p in text.split(";")]
    return all(p and is_partner_code(p) and "+" not in p for p in parts)


def _unit_ok(text: str) -> bool:
    return parse_money_unit(text) is not None or text.startswith("%")


def _period_code(text: str) -> str:
    for pattern, code in _PERIOD_CODES:
        m = pattern.match(text.strip())
        if m:
            return code or f"Q{m.group(1)}"
    return ""


COLUMNS = (
    Column("year", check=_year_ok, expected="YYYY or YYYY-YYYY (a cumulative window)"),
    Column("period", expected="the period as published (S1, Q1, full year, Jan-Sep, ...)"),
    Column("country"),
    Column(
        "iso3",
        check=_partners_ok,
        expected="ISO 3166 alpha-3 codes separated by ';' (WLD = all countries)",
    ),
    Column("sector_published_name"),
    Column("sector", check=lambda s: s in PARTNER_SECTORS, expected=", ".join(PARTNER_SECTORS)),
    Column("value", "amount", nullable=True),
    Column("unit", nullable=True, check=_unit_ok, expected=MONEY_UNIT_EXPECTED + " or a % share"),
    Column("projects", nullable=True),
    Column("source_url"),
    Column("published", "date", nullable=True),
    Column("note", nullable=True),
)


def _kind(iso3: str, value: object, unit: str, period: str, note: str, name: str) -> str:
    if value is None or pd.isna(value) or unit.startswith("%"):
        return "share_statement"
    if _NOT_REALISED.search(" ".join((period, note, name))):
        return "commitment"
    return "sector_total" if iso3 == "WLD" else "realised"


def load_partner_sector(root: str | Path | None = None) -> pd.DataFrame:
    """Load PMA by partner x sector, validated, one row per published statement.

    Parameters
    ----------
    root
        Data folder (default ``data/``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PARTNER_SECTOR_COLUMNS`: ``kind`` is ``realised``, ``commitment``,
        ``share_statement`` or ``sector_total``; ``value``/``unit`` as published;
        ``value_usd_m`` converted at the year's APBN rate for rupiah (flag
        ``fx_converted``), missing for shares and statements.

    Raises
    ------
    DataValidationError
        A bad cell (file, line, column): malformed year or date, non-numeric or negative
        value, unknown partner code, unknown sector, unreadable unit, or a value without
        its unit.

    Examples
    --------
    >>> from analysis.data.sector_pma import load_partner_sector
    >>> t = load_partner_sector()
    >>> t.query("partner_iso3 == 'KOR' and sector == 'textile' and year == 2015")["value"]
    ... # doctest: +SKIP
    0    805.46
    """
    root = Path(root) if root is not None else paths.DATA
    verify_file(PARTNER_SECTOR_FILE, root=root)
    label = f"data/{PARTNER_SECTOR_FILE}"
    raw = read_table(
        root / PARTNER_SECTOR_FILE,
        COLUMNS,
        key=("year", "period", "iso3", "sector_published_name", "source_url", "value"),
        label=label,
    )
    fx = UsdConverter(root)
    records = []
    for rec in raw.to_dict("records"):
        line = int(rec["_line"])
        value = rec["value"]
        unit = "" if pd.isna(rec["unit"]) else str(rec["unit"])
        if value is not None and not pd.isna(value) and not unit:
            raise DataValidationError(
                label,
                "a value without its unit",
                row=line,
                column="unit",
                expected=MONEY_UNIT_EXPECTED,
            )
        m = _YEAR.match(str(rec["year"]))
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        iso3 = "+".join(p.strip() for p in str(rec["iso3"]).split(";"))
        note = "" if pd.isna(rec["note"]) else str(rec["note"])
        period = str(rec["period"])
        kind = _kind(iso3, value, unit, period, note, str(rec["sector_published_name"]))
        flags = set(note_flags(note))
        if first != last:
            flags.add("cumulative_window")
        if "+" in iso3:
            flags.add("multi_partner")
        if "[ROUTING]" in note or "ROUTING:" in note:
            flags.add("routing")
        if re.search(r"UNCERTAIN", note):
            flags.add("uncertain")
        if re.search(r"applications,? not realisation", note, re.I):
            flags.add("applications_disputed")
        if re.search(r"unit typo|almost certainly US\$ million", note, re.I):
            flags.add("unit_typo_corrected")
        usd, rate, basis = float("nan"), float("nan"), ""
        if kind != "share_statement":
            usd, rate, basis, fx_flags = fx.to_usd(value, parse_money_unit(unit), last)
            flags.update(fx_flags)
        projects_text = "" if pd.isna(rec["projects"]) else str(rec["projects"])
        records.append(
            {
                "year": last,
                "year_first": first,
                "period": period,
                "period_code": _period_code(period) if first == last else "",
                "partner_iso3": iso3,
                "country": str(rec["country"]),
                "sector": str(rec["sector"]),
                "sector_published_name": str(rec["sector_published_name"]),
                "value": value,
                "unit": unit,
                "value_usd_m": usd,
                "fx_rate": rate,
                "fx_basis": basis,
                "projects": int(projects_text) if projects_text.isdigit() else pd.NA,
                "kind": kind,
                "flags": ";".join(sorted(flags)),
                "source": str(rec["source_url"]),
                "published": "" if pd.isna(rec["published"]) else str(rec["published"]),
                "note": note,
                "file": label,
                "line": line,
            }
        )
    out = pd.DataFrame(records, columns=list(PARTNER_SECTOR_COLUMNS))
    out["projects"] = out["projects"].astype("Int64")
    out["value"] = out["value"].astype(float)
    return out
