"""Investor-side evidence (``raw/investor/``), validated: sector multinationals by
headquarters country, outward FDI by industry, minimum wages.

Every row keeps its source (``source``) and publication text (``published`` as compiled,
e.g. "2025-06 (Pharm Exec June issue; Chinese repost undated)") with ``published_date``, the
ISO date it starts with (empty if none). Amounts stay in their published unit; a converted
column (``value_usd_m``; ``value_usd`` for wage rates) is added where the year's rate is
shipped (:mod:`analysis.data.money`: rupiah at the APBN assumption for investment figures
and at the market average for wages, other currencies at the official annual average),
flagged ``fx_converted``, else missing with ``fx_unavailable``. A qualifier ("over", "up
to") flags ``amount_qualified``. See ``raw/investor/NOTES.md``: lists are partial (a
country absent from a list is censored, not absent), and values are comparable only within
one ``list_name``.
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
from analysis.data.schema import Column, read_table

__all__ = [
    "MULTINATIONALS_FILE",
    "OFDI_FILES",
    "WAGES_FILE",
    "load_multinationals",
    "load_ofdi_by_industry",
    "load_wages",
]

MULTINATIONALS_FILE = "raw/investor/sector_multinationals.csv"
OFDI_FILES = ("raw/investor/ofdi_by_industry.csv", "raw/investor/ofdi_supplementary.csv")
WAGES_FILE = "raw/investor/manufacturing_wages.csv"

_LEADING_DATE = re.compile(r"^(?:c\.)?(\d{4}(?:-\d{2}(?:-\d{2})?)?)\b")
_LEADING_YEAR = re.compile(r"(\d{4})")
_PERIOD = re.compile(r"\d{4}(Q[1-4]|H[12])?(-\d{4}(Q[1-4]|H[12])?)?")


def _iso3_ok(text: str) -> bool:
    return len(text) == 3 and is_partner_code(text)


_ISO3 = Column("iso3", check=_iso3_ok, expected="an ISO 3166 alpha-3 code")


def _text(v: object) -> str:
    return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


def _published_date(text: str) -> str:
    m = _LEADING_DATE.match(text.strip())
    return m.group(1) if m else ""


def _year_of(text: str) -> int | None:
    m = _LEADING_YEAR.search(text)
    return int(m.group(1)) if m else None


def _convert(
    frame: pd.DataFrame, label: str, fx: UsdConverter, year_col: str, out_col: str
) -> pd.DataFrame:
    """Add ``out_col`` (US$ million, or US$ per period for a rate) and flags to ``frame``."""
    usd, rates, flags = [], [], []
    for rec in frame.to_dict("records"):
        unit_text = _text(rec["unit"])
        value = rec["value"]
        has_value = value is not None and not pd.isna(value)
        if has_value and not unit_text:
            raise DataValidationError(
                label,
                "a value without its unit",
                row=int(rec["_line"]),
                column="unit",
                expected=MONEY_UNIT_EXPECTED,
            )
        year = rec[year_col]
        amount, rate, _basis, f = fx.to_usd(
            value, parse_money_unit(unit_text) if unit_text else None, year
        )
        usd.append(amount)
        rates.append(rate)
        flags.append(";".join(sorted(set(f))))
    frame = frame.copy()
    frame[out_col] = usd
    frame["fx_rate"] = rates
    frame["flags"] = flags
    return frame


def _finish(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    frame = frame.rename(columns={"source_url": "source", "_line": "line"})
    frame["published"] = frame["published"].map(_text)
    frame["published_date"] = frame["published"].map(_published_date)
    frame["note"] = frame["note"].map(_text)
    frame["file"] = label
    return frame.reset_index(drop=True)


def load_multinationals(root: str | Path | None = None) -> pd.DataFrame:
    """Sector league tables: one row per (list, company).

    Returns
    -------
    pandas.DataFrame
        ``list_name, list_year, sector, rank, company, hq_country, iso3, metric, value,
        unit, value_usd_m, fx_rate, flags, source, published, published_date, note, file,
        line``. ``rank`` and ``value`` may be missing ("rank only"); compare values only
        within one ``list_name``.

    Raises
    ------
    DataValidationError
        A bad cell (file, line, column): unknown ``iso3`` or sector, a non-numeric or
        negative value, a rank that is not a whole number >= 1, an unreadable unit, a value
        without its unit.
    """
    root = Path(root) if root is not None else paths.DATA
    verify_file(MULTINATIONALS_FILE, root=root)
    label = f"data/{MULTINATIONALS_FILE}"
    raw = read_table(
        root / MULTINATIONALS_FILE,
        (
            Column("list_name"),
            Column("list_year", "int", nullable=True, bounds=(1950, 2100)),
            Column(
                "sector",
                check=lambda s: s in ("chemical", "pharma", "textile"),
                expected="chemical, pharma or textile",
            ),
            Column("rank", "int", nullable=True, bounds=(1, 10_000)),
            Column("company"),
            Column("hq_country"),
            _ISO3,
            Column("metric"),
            Column("value", "amount", nullable=True),
            Column(
                "unit",
                nullable=True,
                check=lambda s: parse_money_unit(s) is not None,
                expected=MONEY_UNIT_EXPECTED,
            ),
            Column("source_url"),
            Column("published", nullable=True),
            Column("note", nullable=True),
        ),
        key=("list_name", "company", "metric", "source_url"),
        label=label,
    )
    raw["_year"] = raw["list_year"].map(lambda y: None if pd.isna(y) else int(y))
    out = _convert(raw, label, UsdConverter(root), "_year", "value_usd_m").drop(columns="_year")
    out["unit"] = out["unit"].map(_text)
    return _finish(out, label)


def load_ofdi_by_industry(
    root: str | Path | None = None, *, supplementary: bool = True
) -> pd.DataFrame:
    """Outward FDI by industry as the reporters (or BKPM, host side) publish it.

    Parameters
    ----------
    supplementary
        Include ``ofdi_supplementary.csv`` (regional and income rows, all-source sector
        totals; ``file`` says which).

    Returns
    -------
    pandas.DataFrame
        ``reporter, reporter_iso3`` (``WLD`` for all reporters), ``counterpart, industry,
        period`` (as published: ``2023Q1``, ``2019-2024Q3``), ``year`` (its first year),
        ``measure`` (flow, position, income), ``value, unit, value_usd_m, fx_rate, flags``,
        ``side`` (``source_side``, ``host_side``, ``third_party`` from the note), ``source,
        published, published_date, note, file, line``.
    """
    root = Path(root) if root is not None else paths.DATA
    fx = UsdConverter(root)
    frames = []
    for rel in OFDI_FILES if supplementary else OFDI_FILES[:1]:
        verify_file(rel, root=root)
        label = f"data/{rel}"
        raw = read_table(
            root / rel,
            (
                Column("reporter"),
                Column(
                    "reporter_iso3",
                    nullable=True,
                    check=_iso3_ok,
                    expected="an ISO 3166 alpha-3 code (empty for all reporters)",
                ),
                Column("counterpart"),
                Column("industry"),
                Column(
                    "year",
                    check=lambda s: _PERIOD.fullmatch(s) is not None,
                    expected="YYYY, YYYYQn, YYYYHn or a range YYYY-YYYYQn",
                ),
                Column(
                    "measure",
                    check=lambda s: s in ("flow", "position", "income"),
                    expected="flow, position or income",
                ),
                Column("value", "float"),
                Column(
                    "unit",
                    check=lambda s: parse_money_unit(s) is not None,
                    expected=MONEY_UNIT_EXPECTED,
                ),
                Column("source_url"),
                Column("published", nullable=True),
                Column("note", nullable=True),
            ),
            key=("reporter_iso3", "counterpart", "industry", "year", "measure", "source_url"),
            label=label,
        )
        raw = raw.rename(columns={"year": "period"})
        # An empty reporter is "all foreign investors" (BKPM's all-source totals).
        raw["reporter_iso3"] = raw["reporter_iso3"].map(lambda s: _text(s) or "WLD")
        raw["year"] = raw["period"].map(lambda s: int(str(s)[:4]))
        out = _convert(raw, label, fx, "year", "value_usd_m")
        note = out["note"].map(_text)
        out["side"] = [
            "source_side"
            if re.search(r"SOURCE-SIDE", n)
            else ("host_side" if re.search(r"HOST-SIDE", n) else "third_party")
            for n in note
        ]
        frames.append(_finish(out, label))
    return pd.concat(frames, ignore_index=True)


def load_wages(root: str | Path | None = None) -> pd.DataFrame:
    """Statutory minimum wages (and Indonesia's BPS manufacturing wage).

    Returns
    -------
    pandas.DataFrame
        ``iso3, year`` (first year in the published text, or missing), ``year_published``
        (the text: "2025 (from 1 Apr 2025)"), ``measure, value, unit`` (``USD/month``,
        ``EUR/hour``...), ``value_usd`` (US$ per the same period where a rate exists),
        ``fx_rate, flags`` (``compiler_conversion`` where the note says the compiler
        converted), ``source, published, published_date, note, file, line``. Rows with no
        value say why in ``measure`` ("No national statutory minimum wage").
    """
    root = Path(root) if root is not None else paths.DATA
    verify_file(WAGES_FILE, root=root)
    label = f"data/{WAGES_FILE}"
    raw = read_table(
        root / WAGES_FILE,
        (
            _ISO3,
            Column("year", nullable=True),
            Column("measure"),
            Column("value", "amount", nullable=True),
            Column(
                "unit",
                nullable=True,
                check=lambda s: (u := parse_money_unit(s)) is not None and bool(u.per),
                expected="a currency per period: USD/month, EUR/hour, IDR/month ...",
            ),
            Column("source_url", nullable=True),
            Column("published", nullable=True),
            Column("note", nullable=True),
        ),
        key=("iso3", "year", "measure", "source_url"),
        label=label,
    )
    for rec in raw.to_dict("records"):
        if rec["value"] is not None and not pd.isna(rec["value"]) and not _text(rec["source_url"]):
            raise DataValidationError(
                label,
                "empty cell",
                row=int(rec["_line"]),
                column="source_url",
                expected="the source of every figure",
            )
    raw = raw.rename(columns={"year": "year_published"})
    raw["year_published"] = raw["year_published"].map(_text)
    raw["year"] = raw["year_published"].map(_year_of).astype("Int64")
    # Wages are market prices: rupiah at the market average, not BKPM's APBN rate.
    out = _convert(raw, label, UsdConverter(root, idr_basis="market"), "year", "value_usd")
    conv = out["note"].map(_text).str.contains(r"conver", case=False)
    approx = ~out["year_published"].str.match(r"^(FY)?\d{4}")
    out["flags"] = [
        ";".join(
            sorted(
                filter(
                    None,
                    {
                        *f.split(";"),
                        "compiler_conversion" if c else "",
                        "year_approximate" if a else "",
                    },
                )
            )
        )
        for f, c, a in zip(out["flags"], conv, approx, strict=True)
    ]
    out["unit"] = out["unit"].map(_text)
    out["source_url"] = out["source_url"].map(_text)
    return _finish(out, label)
