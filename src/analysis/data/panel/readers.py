"""Readers of the partner panel: every source file and the fetched values, as candidates."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.base.errors import DataValidationError
from analysis.base.i18n import count
from analysis.base.vocab import is_partner_code
from analysis.data.provenance import verify_file
from analysis.data.raw import note_flags
from analysis.data.schema import Column, decimals_of, read_table

from .mappings import (
    _MONEY_UNIT,
    _PUBLISHER_RANK,
    _SCALES,
    _SECTOR_UNITS,
    _SUSPECT,
    _VINTAGE_NOTE,
    CATALOGUE_FILE,
    EXCLUSIONS_FILE,
    FETCHED_COLUMNS,
    FILES,
    FRAME_COLUMNS,
    IGNORED_SERIES,
    RENAMED,
    SECTOR_CODES,
    SERIES,
)
from .rates import _Rates

# --- candidates ------------------------------------------------------------------------

_CAND = (
    "iso3",
    "year",
    "indicator",
    "value",
    "unit",
    "source",
    "vintage",
    "flags",
    "suspect",
    "tier",
    "rank",
    "direct",
    "half_unit",
    "line",
    "order",
)


def _iso3_ok(code: str) -> bool:
    return is_partner_code(code) and len(code) == 3 and code not in ("WLD", "OTH", "UNK")


def _vintage(source: str, note: str) -> str:
    m = _VINTAGE_NOTE.search(note or "")
    if m:
        return m.group(1)
    if "atlas-common-data" in source:
        return "2026-05"  # the package's date on the local index (ADDITIONS_NOTES.md)
    if "listenzcc/World-trade-data-I" in source:
        return "2022-11-21"  # snapshot commit of the WITS bulk file (data to 2019)
    return ""  # not recorded by the source


def _reject_first(
    frame: pd.DataFrame,
    bad: pd.Series,
    label: str,
    problem: str,
    column: str,
    expected: str,
) -> None:
    """Raise for the first row flagged ``bad``, naming its line, column and value."""
    if bad.any():
        r = frame[bad].iloc[0]
        raise DataValidationError(
            label, problem, row=int(r["line"]), column=column, value=r[column], expected=expected
        )


def _read_series_file(root: Path, key: str, catalogue_units: dict[str, str]) -> pd.DataFrame:
    rel = FILES[key]
    label = f"data/{rel}"
    verify_file(rel, root=root)
    frame = pd.read_csv(root / rel, dtype=str, keep_default_na=False)
    need = ["iso3", "year", "indicator", "value", "unit", "source", "note"]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise DataValidationError(
            label,
            f"missing {count(len(missing), 'columns_named', names=', '.join(missing))}",
            row=1,
            expected="header with " + ", ".join(need),
        )
    frame["line"] = np.arange(len(frame)) + 2
    frame = frame[~frame["indicator"].isin(IGNORED_SERIES)]
    _reject_first(
        frame,
        ~frame["indicator"].isin(SERIES),
        label,
        "unknown indicator code",
        "indicator",
        "a series mapped in analysis.data.panel.SERIES",
    )
    spec = frame["indicator"].map(SERIES)
    bad_unit = frame["unit"] != spec.str[2]
    if bad_unit.any():
        r = frame[bad_unit].iloc[0]
        raise DataValidationError(
            label,
            "unknown unit for the series",
            row=int(r["line"]),
            column="unit",
            value=r["unit"],
            expected=repr(SERIES[r["indicator"]][2]),
        )
    years = pd.to_numeric(frame["year"], errors="coerce")
    values = pd.to_numeric(frame["value"], errors="coerce")
    for col, parsed, expected in (
        ("year", years, "a year"),
        ("value", values, "a finite number"),
    ):
        bad = parsed.isna() | ~np.isfinite(parsed)
        _reject_first(frame, bad, label, f"invalid {col}", col, expected)
    _reject_first(
        frame,
        ~frame["iso3"].map(_iso3_ok),
        label,
        "unknown economy code",
        "iso3",
        "an ISO 3166 alpha-3 code",
    )
    dup = frame.duplicated(["iso3", "year", "indicator"], keep=False)
    if dup.any():
        rows = frame[dup]
        r = rows.iloc[0]
        same = rows[
            (rows["iso3"] == r["iso3"])
            & (rows["year"] == r["year"])
            & (rows["indicator"] == r["indicator"])
        ]["line"].tolist()
        raise DataValidationError(
            label,
            f"duplicate key iso3={r['iso3']}, year={r['year']}, "
            f"indicator={r['indicator']} on lines {', '.join(map(str, same))}",
            row=int(same[-1]),
            column="iso3+year+indicator",
            expected="each key once",
        )
    code = spec.str[0]
    publisher = "imf" if key == "imf_weo" else "wdi"
    # The 2013 WDI bundle is superseded (ADDITIONS_NOTES.md): flagged, a fallback only.
    old = frame["source"].str.contains("ronnywang", regex=False)
    flags = np.where(old, "old_vintage", "imf_weo" if key == "imf_weo" else "")
    vintage = [_vintage(s, n) for s, n in zip(frame["source"], frame["note"], strict=True)]
    out = pd.DataFrame(
        {
            "iso3": frame["iso3"].to_numpy(),
            "year": years.astype(int).to_numpy(),
            "indicator": code.to_numpy(),
            "value": (values * spec.str[1]).to_numpy(),
            "unit": code.map(catalogue_units).to_numpy(),
            "source": (frame["source"] + " [" + frame["indicator"] + "]").to_numpy(),
            "vintage": vintage,
            "flags": flags,
            "suspect": False,
            "tier": 0,
            "rank": _PUBLISHER_RANK[publisher],
            "direct": True,
            "half_unit": 0.0,
            "line": (label + ":" + frame["line"].astype(str)).to_numpy(),
        }
    )
    return out


def _read_sector_trade(root: Path, catalogue_units: dict[str, str]) -> pd.DataFrame:
    rel = FILES["sector_trade"]
    label = f"data/{rel}"
    verify_file(rel, root=root)
    raw = read_table(
        root / rel,
        [
            Column("reporter_iso3", check=_iso3_ok, expected="an ISO 3166 alpha-3 code"),
            Column(
                "partner_iso3",
                check=lambda s: s == "WLD",
                expected="WLD (exports to the world; bilateral rows are not supported)",
            ),
            Column("year", "int", bounds=(1960, 2100)),
            Column("flow", check=lambda s: s == "export", expected="export"),
            Column(
                "sector",
                check=lambda s: s in {k[1] for k in SECTOR_CODES},
                expected=", ".join(sorted({k[1] for k in SECTOR_CODES})),
            ),
            Column(
                "classification",
                check=lambda s: s.split()[0] in ("SITC", "WITS"),
                expected="a WITS product group or a SITC Rev.2 division",
            ),
            Column("value", "amount"),
            Column("unit", check=lambda s: s in _SECTOR_UNITS, expected=", ".join(_SECTOR_UNITS)),
            Column("source"),
            Column("licence", nullable=True),
            Column("note", nullable=True),
        ],
        key=("reporter_iso3", "partner_iso3", "year", "flow", "classification", "sector"),
        label=label,
    )
    cls = raw["classification"].str.split().str[0]
    codes = []
    for c, s, line in zip(cls, raw["sector"], raw["_line"], strict=True):
        code = SECTOR_CODES.get((str(c), str(s)))
        if code is None:
            raise DataValidationError(
                label,
                f"no panel code for sector {s} in classification {c}",
                row=int(line),
                column="sector",
                expected="a (classification, sector) pair of SECTOR_CODES",
            )
        codes.append(code)
    factor = raw["unit"].map(_SECTOR_UNITS).astype(float)
    half = [
        0.5 * 10.0 ** (-int(d)) * f for d, f in zip(raw["value_decimals"], factor, strict=True)
    ]
    pub = np.where(cls == "WITS", "wits", "atlas")
    return pd.DataFrame(
        {
            "iso3": raw["reporter_iso3"].astype(str).to_numpy(),
            "year": raw["year"].astype(int).to_numpy(),
            "indicator": codes,
            "value": (raw["value"] * factor).to_numpy(),
            "unit": [catalogue_units[c] for c in codes],
            "source": raw["source"].astype(str).to_numpy(),
            "vintage": [_vintage(str(s), "") for s in raw["source"]],
            "flags": np.where(raw["note"].astype(str).str.contains("sum computed"), "summed", ""),
            "suspect": False,
            "tier": 0,
            "rank": [_PUBLISHER_RANK[p] for p in pub],
            "direct": True,
            "half_unit": half,
            "line": (label + ":" + raw["_line"].astype(str)).to_numpy(),
        }
    )


def _read_atlas_totals(root: Path, catalogue_units: dict[str, str]) -> pd.DataFrame:
    rel = FILES["atlas_raw"]
    label = f"data/{rel}"
    verify_file(rel, root=root)
    raw = read_table(
        root / rel,
        [
            Column("iso3", check=_iso3_ok, expected="an ISO 3166 alpha-3 code"),
            Column("year", "int", bounds=(1960, 2100)),
            Column("sitc2_division", "int", bounds=(0, 99)),
            Column("export_value_usd", "amount"),
            Column("share_of_country_exports", "float", bounds=(0, 1)),
            Column("source"),
        ],
        key=("iso3", "year", "sitc2_division"),
        label=label,
    )
    raw = raw[raw["share_of_country_exports"] > 0]
    # The compiler checked value / share to 1e-6 within each country-year; the row with the
    # largest share carries the most significant digits.
    best = raw.sort_values("share_of_country_exports").groupby(["iso3", "year"]).tail(1)
    total = best["export_value_usd"] / best["share_of_country_exports"] * 1e-9
    return pd.DataFrame(
        {
            "iso3": best["iso3"].astype(str).to_numpy(),
            "year": best["year"].astype(int).to_numpy(),
            "indicator": "exports_total_sitc_usd",
            "value": total.to_numpy(),
            "unit": catalogue_units["exports_total_sitc_usd"],
            "source": "Harvard Growth Lab Atlas (SITC Rev.2 2-digit): export value / share, "
            + best["source"].astype(str).to_numpy(),
            "vintage": "",
            "flags": "derived",
            "suspect": False,
            "tier": 0,
            "rank": _PUBLISHER_RANK["atlas"],
            "direct": False,
            "half_unit": 0.0,
            "line": (label + ":" + best["_line"].astype(str)).to_numpy(),
        }
    )


def _read_compiled(
    root: Path,
    catalogue_units: dict[str, str],
    rates: _Rates,
    exclusions: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rel = FILES["indicators"]
    label = f"data/{rel}"
    verify_file(rel, root=root)
    raw = read_table(
        root / rel,
        [
            Column("iso3", check=_iso3_ok, expected="an ISO 3166 alpha-3 code"),
            Column("country", nullable=True),
            Column(
                "indicator",
                check=lambda s: RENAMED.get(s, s) in catalogue_units,
                expected=f"a code of data/{CATALOGUE_FILE}",
            ),
            Column("year", "int", bounds=(1960, 2100)),
            Column("value", "float"),
            Column("unit"),
            Column("publisher"),
            Column("source_url"),
            Column("note", nullable=True),
        ],
        key=("iso3", "indicator", "year", "unit", "value", "source_url"),
        label=label,
    )
    excl = exclusions[exclusions["file"] == rel].rename(columns={"_line": "line_no"})
    raw = raw.rename(columns={"_line": "line_no"})
    excl_keys = {
        (r.iso3, r.indicator, int(r.year), round(float(r.value), 6), r.unit): r
        for r in excl.itertuples(index=False)
    }
    used: set[tuple] = set()
    rows, conversions, excluded = [], [], []
    for r in raw.itertuples(index=False):
        code = RENAMED.get(str(r.indicator), str(r.indicator))
        line = int(r.line_no)
        where = f"{label}:{line}"
        key = (str(r.iso3), str(r.indicator), int(r.year), round(float(r.value), 6), str(r.unit))
        if key in excl_keys:
            used.add(key)
            excluded.append(
                {
                    "iso3": r.iso3,
                    "year": int(r.year),
                    "indicator": code,
                    "value": r.value,
                    "unit": r.unit,
                    "line": where,
                    "reason": excl_keys[key].reason,
                }
            )
            continue
        unit_text = str(r.unit)
        target = catalogue_units[code]
        decimals = decimals_of(f"{r.value}") if r.value_decimals is None else int(r.value_decimals)
        half = 0.5 * 10.0 ** (-decimals)
        converted = False
        if target.startswith("%"):
            if not unit_text.startswith("percent"):
                raise DataValidationError(
                    label,
                    "unknown unit for a percentage indicator",
                    row=line,
                    column="unit",
                    value=unit_text,
                    expected="percent ...",
                )
            value = float(r.value)
        else:
            m = _MONEY_UNIT.match(unit_text)
            if m is None:
                raise DataValidationError(
                    label,
                    "unknown unit",
                    row=line,
                    column="unit",
                    value=unit_text,
                    expected="'<currency> billion|million|trillion|thousand ...' with an "
                    "ISO 4217 currency or US$",
                )
            currency = "USD" if m.group(1) == "US$" else m.group(1)
            scale = _SCALES[m.group(2)]
            if currency not in rates.currencies:
                raise DataValidationError(
                    label,
                    f"unknown currency {currency}",
                    row=line,
                    column="unit",
                    value=unit_text,
                    expected="US$ or a currency of data/"
                    + FILES["fx"]
                    + ": "
                    + ", ".join(sorted(rates.currencies)),
                )
            value = float(r.value) * scale
            half *= scale
            if currency != "USD":
                rate = rates.table.get((currency, int(r.year)))
                if rate is None:
                    raise DataValidationError(
                        label,
                        f"no {currency} rate for {int(r.year)}",
                        row=line,
                        column="unit",
                        value=unit_text,
                        expected=f"a market_avg rate for {currency} {int(r.year)} in data/"
                        f"{FILES['fx']}, or a row in data/{EXCLUSIONS_FILE} saying why "
                        "the value is left out",
                    )
                per_usd, rate_src, rate_line = rate
                conversions.append(
                    {
                        "iso3": r.iso3,
                        "year": int(r.year),
                        "indicator": code,
                        "kind": "currency",
                        "value_published": float(r.value),
                        "unit_published": unit_text,
                        "currency": currency,
                        "rate_per_usd": per_usd,
                        "rate_basis": "market_avg (official annual average)",
                        "rate_source": rate_src,
                        "rate_line": rate_line,
                        "value": value / per_usd,
                        "unit": target,
                        "line": where,
                    }
                )
                value /= per_usd
                half /= per_usd
                converted = True
        flags = set(note_flags(r.note))
        text = f"{r.publisher} {r.note or ''}"
        if re.search(r"LOW CONFIDENCE", text):
            flags.add("low_confidence")
        if re.search(r"EARLIER VINTAGE", text):
            flags.add("superseded")
        if re.search(r"OLD YEAR", text):
            flags.add("old_year")
        flags.add("compiled")
        if converted:
            flags.add("converted")
        rows.append(
            {
                "iso3": str(r.iso3),
                "year": int(r.year),
                "indicator": code,
                "value": value,
                "unit": target,
                "source": f"{r.publisher} ({r.source_url})",
                "vintage": "",
                "flags": ";".join(sorted(flags)),
                "suspect": bool(flags & _SUSPECT),
                "tier": 1,
                "rank": _PUBLISHER_RANK["compiled"],
                "direct": not converted,
                "half_unit": half,
                "line": where,
            }
        )
    stale = set(excl_keys) - used
    if stale:
        k = sorted(stale)[0]
        raise DataValidationError(
            f"data/{EXCLUSIONS_FILE}",
            f"exclusion matches no row of data/{rel}",
            row=int(excl_keys[k].line_no),
            expected="iso3, indicator, year, value and unit of an existing row",
        )
    return pd.DataFrame(rows), pd.DataFrame(conversions), pd.DataFrame(excluded)


def _publisher_of(source: str) -> str:
    s = source.lower()
    if "imf" in s:
        return "imf"
    if "wits" in s:
        return "wits"
    if "atlas" in s or "growth lab" in s:
        return "atlas"
    return "wdi"  # World Bank and UN Comtrade (primary sources of their codes)


def _read_fetched(fetched: pd.DataFrame, catalogue_units: dict[str, str]) -> pd.DataFrame:
    label = "fetched values"
    need = [*FRAME_COLUMNS, *FETCHED_COLUMNS]
    missing = [c for c in need if c not in fetched.columns]
    if missing:
        raise DataValidationError(
            label,
            f"missing {count(len(missing), 'columns_named', names=', '.join(missing))}",
            expected="columns " + ", ".join(need),
        )
    rows = []
    for i, r in enumerate(fetched.itertuples(index=False)):
        row = i + 1
        if r.indicator not in catalogue_units:
            raise DataValidationError(
                label,
                "unknown indicator code",
                row=row,
                column="indicator",
                value=r.indicator,
                expected=f"a code of data/{CATALOGUE_FILE}",
            )
        if not _iso3_ok(str(r.iso3)):
            raise DataValidationError(
                label,
                "unknown economy code",
                row=row,
                column="iso3",
                value=r.iso3,
                expected="an ISO 3166 alpha-3 code",
            )
        if r.unit != catalogue_units[r.indicator]:
            raise DataValidationError(
                label,
                "unit differs from the catalogue unit",
                row=row,
                column="unit",
                value=r.unit,
                expected=repr(catalogue_units[r.indicator]),
            )
        try:
            value = float(r.value)
            year = int(r.year)
        except (TypeError, ValueError):
            raise DataValidationError(
                label,
                "non-numeric value or year",
                row=row,
                column="value",
                value=r.value,
                expected="a finite number and a year",
            ) from None
        if not math.isfinite(value):
            raise DataValidationError(
                label,
                "non-finite value",
                row=row,
                column="value",
                value=r.value,
                expected="a finite number",
            )
        vintage = str(r.vintage or "") or str(r.retrieved or "")
        flags = {f for f in str(r.flags or "").split(";") if f} | {"fetched"}
        rows.append(
            {
                "iso3": str(r.iso3),
                "year": year,
                "indicator": str(r.indicator),
                "value": value,
                "unit": str(r.unit),
                "source": f"{r.source} (fetched {r.retrieved}; query {r.query}; "
                f"sha256 {str(r.sha256)[:12]})",
                "vintage": vintage,
                "flags": ";".join(sorted(flags)),
                "suspect": False,
                "tier": 0,
                "rank": _PUBLISHER_RANK[_publisher_of(str(r.source))],
                "direct": "derived" not in flags,
                "half_unit": 0.0,
                "line": f"{label}:{row}",
            }
        )
    return pd.DataFrame(rows, columns=[c for c in _CAND if c != "order"])
