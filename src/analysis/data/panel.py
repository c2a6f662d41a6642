"""The partner panel: economy x year x indicator, one definition, one unit, one source per cell.

Every analysis of partner economies (ranking, gravity, flows) reads this one panel, so a
figure is the same in every report.

Inputs (each verified against ``data/provenance.csv``; mappings sit in this module):

- ``raw/partners/wdi_macro.csv.gz`` (World Bank WDI) and ``raw/partners/imf_weo_macro.csv.gz``
  (IMF WEO, which has Taiwan): GDP, growth, goods trade, population;
- ``raw/partners/wdi_sector_fdi.csv.gz``: FDI net in/outflows as % of GDP (and older WDI
  series, a fallback); FDI in US$ = % x GDP of the same cell, flagged ``derived``;
- ``raw/partners/sector_trade.csv`` and ``sector_trade_atlas_sitc2_raw.csv``: sector exports
  (WITS HS groups and Atlas SITC divisions are different classifications with separate
  codes, never added);
- ``raw/partners/indicators.csv``: compiled figures (outward FDI, sector exports, bilateral
  trade). National-currency values are converted to US$ at the year's official average
  rate (``raw/partners/exchange_rates_additions.csv``, basis ``market_avg``), the rate and
  its source recorded per value in :attr:`PartnerPanel.conversions`.

Units: money in **US$ billion** (current unless the catalogue says constant), shares and
growth in %, population in million persons. The catalogue
(``data/mappings/indicator_catalogue.csv``) gives each code one definition.

A value whose unit cannot be read, whose currency is unknown, or whose currency has no rate
for its year stops the build with the file, line and column. The only exception is a row
listed, with its reason, in ``data/mappings/indicator_exclusions.csv``: it is left out and
shown in :attr:`PartnerPanel.excluded`, never converted with an invented rate.

Conflict rule
-------------
Candidates for one cell that agree (within half a unit of the coarser print plus
``agree_rtol`` of the value) collapse into one value listing all sources (flag
``multi_source``). Between different values the first criterion that separates them
decides, as in the ledger:

1. ``not_suspect``: a value whose every source is flagged suspect (notes saying suspect,
   CONFLICT, later revised / earlier vintage, preliminary, LOW CONFIDENCE) loses;
2. ``official_source``: a statistical agency's table (WDI, IMF, WITS, Atlas, or a fetched
   value) beats a compiled press figure;
3. ``source_order``: the catalogue's primary source beats its gap-filler (WDI before IMF);
4. ``latest_vintage``: the later release wins (a fetched value newer than the snapshot wins
   here and is flagged ``fetched``);
5. ``direct_value``: a value published in the canonical unit beats a converted or derived one;
6. ``more_sources``: the value printed by more sources wins;
7. ``file_order``: otherwise the first in file order, flagged ``conflict_tie``.

The kept value is flagged ``conflict_resolved`` and every value of the cell stays in
:attr:`PartnerPanel.conflicts` with the deciding rule.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import paths
from analysis.data.provenance import data_fingerprint, verify_file
from analysis.data.raw import note_flags
from analysis.data.schema import Column, decimals_of, read_table
from analysis.errors import DataValidationError
from analysis.summary import Summary
from analysis.vocab import CANDIDATES, is_partner_code

__all__ = [
    "CANDIDATES",
    "FETCHED_COLUMNS",
    "FRAME_COLUMNS",
    "PanelSettings",
    "PartnerPanel",
    "build_panel",
    "load_catalogue",
    "load_panel",
]

#: Columns of :attr:`PartnerPanel.frame` (one row per cell).
FRAME_COLUMNS = ("iso3", "year", "indicator", "value", "unit", "source", "vintage", "flags")
#: Extra columns of a frame of fetched values passed to :func:`build_panel`.
FETCHED_COLUMNS = ("retrieved", "query", "sha256")

CATALOGUE_FILE = "mappings/indicator_catalogue.csv"
EXCLUSIONS_FILE = "mappings/indicator_exclusions.csv"
FILES = {
    "wdi_macro": "raw/partners/wdi_macro.csv.gz",
    "imf_weo": "raw/partners/imf_weo_macro.csv.gz",
    "wdi_fdi": "raw/partners/wdi_sector_fdi.csv.gz",
    "sector_trade": "raw/partners/sector_trade.csv",
    "atlas_raw": "raw/partners/sector_trade_atlas_sitc2_raw.csv",
    "indicators": "raw/partners/indicators.csv",
    "fx": "raw/partners/exchange_rates_additions.csv",
    "fx_idr": "raw/partners/exchange_rates.csv",
}

# --- source mappings (source code -> panel code, factor to the canonical unit, unit) ---------

#: Source series -> (panel code, multiplier to the catalogue unit, unit as published).
SERIES: dict[str, tuple[str, float, str]] = {
    # wdi_macro.csv.gz
    "NY.GDP.MKTP.CD": ("gdp_usd", 1e-9, "current US$"),
    "NY.GDP.MKTP.KD": ("gdp_const_usd", 1e-9, "constant 2015 US$"),
    "NY.GDP.MKTP.PP.CD": ("gdp_ppp_usd", 1e-9, "current international $"),
    "NY.GDP.PCAP.CD": ("gdp_pc_usd", 1.0, "current US$ per person"),
    "SP.POP.TOTL": ("population", 1e-6, "persons"),
    "NY.GDP.MKTP.KD.ZG": ("gdp_growth_pct", 1.0, "annual %"),
    "BX.GSR.MRCH.CD": ("exports_goods_usd", 1e-9, "current US$"),
    "BM.GSR.MRCH.CD": ("imports_goods_usd", 1e-9, "current US$"),
    "BN.CAB.XOKA.CD": ("current_account_usd", 1e-9, "current US$"),
    # imf_weo_macro.csv.gz
    "NGDPD": ("gdp_usd", 1e-9, "current US$"),
    "NGDP_RPCH": ("gdp_growth_pct", 1.0, "percent change"),
    # wdi_sector_fdi.csv.gz
    "BX.KLT.DINV.WD.GD.ZS": ("fdi_inflow_pct_gdp", 1.0, "% of GDP"),
    "BM.KLT.DINV.WD.GD.ZS": ("fdi_outflow_pct_gdp", 1.0, "% of GDP"),
    "BX.KLT.DINV.CD.WD": ("fdi_inflow_usd", 1e-9, "current US$"),
    "NV.IND.MANF.CD": ("manufacturing_va_usd", 1e-9, "current US$"),
    "NV.MNF.TXTL.ZS.UN": ("textiles_share_mva_pct", 1.0, "% of manufacturing value added"),
    "NV.MNF.CHEM.ZS.UN": ("chemicals_share_mva_pct", 1.0, "% of manufacturing value added"),
    "TX.VAL.MANF.ZS.UN": ("manufactures_share_exports_pct", 1.0, "% of merchandise exports"),
}
#: Source series deliberately not used (constant-PPP and per-person variants nobody reads).
IGNORED_SERIES = frozenset(
    {"NY.GDP.MKTP.PP.KD", "NY.GDP.PCAP.KD", "NY.GDP.PCAP.PP.CD", "NY.GDP.PCAP.PP.KD"}
)

#: sector_trade.csv (classification prefix, sector) -> panel code.
SECTOR_CODES: dict[tuple[str, str], str] = {
    ("SITC", "textiles"): "exports_textiles_usd",
    ("SITC", "clothing"): "exports_clothing_usd",
    ("SITC", "footwear"): "exports_footwear_usd",
    ("SITC", "chemicals"): "exports_chemicals_usd",
    ("SITC", "pharma"): "exports_pharma_usd",
    ("WITS", "textiles_clothing"): "exports_textiles_clothing_usd",
    ("WITS", "footwear"): "exports_footwear_hs_usd",
    ("WITS", "chemicals"): "exports_chemicals_hs_usd",
}
_SECTOR_UNITS = {"US$": 1e-9, "US$ million": 1e-3, "US$ billion": 1.0}

#: indicators.csv codes renamed in the panel (the published unit was part of the old code).
RENAMED = {"exports_pharma_extra_eu_eur": "exports_pharma_extra_eu_usd"}

#: Codes derived as pct_of_gdp / 100 x gdp_usd.
DERIVED = {
    "fdi_inflow_usd": "fdi_inflow_pct_gdp",
    "fdi_outflow_usd": "fdi_outflow_pct_gdp",
}

#: Currency of each economy whose local-currency deflator can be computed (rates from
#: exchange_rates_additions.csv; euro members from 1999 or earlier joiners among candidates).
CURRENCY_OF: dict[str, str] = {
    "IDN": "IDR", "ARE": "AED", "CHE": "CHF", "CHN": "CNY", "GBR": "GBP", "HKG": "HKD",
    "IND": "INR", "JPN": "JPY", "KOR": "KRW", "MYS": "MYR", "SGP": "SGD", "TWN": "TWD",
    "USA": "USD", "AUT": "EUR", "BEL": "EUR", "DEU": "EUR", "ESP": "EUR", "FIN": "EUR",
    "FRA": "EUR", "IRL": "EUR", "ITA": "EUR", "LUX": "EUR", "NLD": "EUR",
}  # fmt: skip

# Publishers ranked for the ``source_order`` criterion (lower wins): the catalogue's primary
# source for a code first, its gap-filler second, compiled figures last.
_PUBLISHER_RANK = {"wdi": 1, "atlas": 1, "wits": 1, "imf": 2, "compiled": 3}
_SCALES = {"trillion": 1e3, "billion": 1.0, "million": 1e-3, "thousand": 1e-6}
_MONEY_UNIT = re.compile(r"^(US\$|[A-Z]{3}) (trillion|billion|million|thousand)\b")
_SUSPECT = {"suspect", "superseded", "preliminary", "low_confidence", "conflict_noted"}
# Quality flags a derived value inherits from its inputs (source-type flags such as
# ``compiled`` or ``imf_weo`` describe an input's source, not the derived value).
_INHERITED = _SUSPECT | {"old_vintage", "old_year", "approximate", "conflict_tie", "fetched"}
_VINTAGE_NOTE = re.compile(r"(?:Last Updated Date' |commit )(\d{4}-\d{2}-\d{2})")
RULES = (
    "not_suspect",
    "official_source",
    "source_order",
    "latest_vintage",
    "direct_value",
    "more_sources",
    "file_order",
)


@dataclass(frozen=True)
class PanelSettings:
    """Settings of the panel build.

    Parameters
    ----------
    agree_rtol
        Two candidates of one cell agree when they differ by at most half a unit of the
        coarser print plus this share of the value (0.5 %: WDI and IMF revisions of one
        figure differ by more; rounding differences by less).
    """

    agree_rtol: float = 0.005

    def __post_init__(self) -> None:
        if not (isinstance(self.agree_rtol, int | float) and 0 <= self.agree_rtol < 1):
            raise ValueError(f"agree_rtol must be in [0, 1); got {self.agree_rtol!r}")


def _root(root: str | Path | None) -> Path:
    return Path(root) if root is not None else paths.DATA


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


# --- exchange rates --------------------------------------------------------------------


@dataclass(frozen=True)
class _Rates:
    """Official annual average rates: (currency, year) -> (per US$, source, file:line)."""

    table: dict[tuple[str, int], tuple[float, str, str]]

    @property
    def currencies(self) -> set[str]:
        return {c for c, _ in self.table} | {"USD"}


def _load_rates(root: Path) -> _Rates:
    rel = FILES["fx"]
    verify_file(rel, root=root)
    fx = read_table(
        root / rel,
        [
            Column(
                "currency",
                check=lambda s: re.fullmatch(r"[A-Z]{3}", s) is not None,
                expected="an ISO 4217 code",
            ),
            Column("year", "int", bounds=(1960, 2100)),
            Column(
                "basis", check=lambda s: s in ("apbn", "market_avg"), expected="apbn or market_avg"
            ),
            Column("per_usd", "float", bounds=(1e-9, 1e9), expected="units per US$ > 0"),
            Column("source_url"),
            Column("note", nullable=True),
        ],
        key=("currency", "year", "basis", "per_usd", "source_url"),
        label=f"data/{rel}",
    )
    market = fx[fx["basis"] == "market_avg"].rename(columns={"_line": "line_no"})
    dup = market.duplicated(["currency", "year"], keep=False)
    if dup.any():
        first = market[dup].iloc[0]
        raise DataValidationError(
            f"data/{rel}",
            f"two market_avg rates for {first['currency']} {first['year']}",
            row=int(market[dup]["line_no"].iloc[-1]),
            column="per_usd",
            expected="one official annual average per currency and year",
        )
    table = {
        (str(r.currency), int(r.year)): (
            float(r.per_usd),
            str(r.source_url),
            f"data/{rel}:{r.line_no}",
        )
        for r in market.itertuples(index=False)
    }
    # Rupiah market averages before 2015 come from the older IDR table (same series, the
    # compiler checked that 2015-2020 coincide).
    rel_idr = FILES["fx_idr"]
    verify_file(rel_idr, root=root)
    idr = pd.read_csv(root / rel_idr, dtype=str, keep_default_na=False)
    for i, r in idr.iterrows():
        if r["kind"] == "market_avg" and ("IDR", int(r["year"])) not in table:
            table[("IDR", int(r["year"]))] = (
                float(r["rate_idr_per_usd"]),
                str(r["source_url"]),
                f"data/{rel_idr}:{int(i) + 2}",
            )
    return _Rates(table)


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
            f"missing column(s) {', '.join(missing)}",
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
            label, f"missing column(s) {', '.join(missing)}", expected="columns " + ", ".join(need)
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


# --- conflict rule ---------------------------------------------------------------------


def _agree(a: dict, b: dict, rtol: float) -> bool:
    tol = max(a["half_unit"], b["half_unit"]) + rtol * max(abs(a["value"]), abs(b["value"]))
    return abs(a["value"] - b["value"]) <= tol + 1e-12


def _cluster_key(cl: list[dict]) -> tuple:
    return (
        all(c["suspect"] for c in cl),
        min(c["tier"] for c in cl),
        min(c["rank"] for c in cl),
        _Desc(max(c["vintage"] for c in cl)),
        not any(c["direct"] for c in cl),
        -len(cl),
        min(c["order"] for c in cl),
    )


@dataclass(frozen=True, order=False)
class _Desc:
    """Wrap a string so that later (larger) values sort first."""

    text: str

    def __lt__(self, other: _Desc) -> bool:
        return self.text > other.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.text == other.text

    def __hash__(self) -> int:
        return hash(self.text)


def _join(values: Iterable[str]) -> str:
    seen: list[str] = []
    for v in values:
        for part in str(v).split(";"):
            if part and part not in seen:
                seen.append(part)
    return ";".join(sorted(seen))


def _resolve(cand: pd.DataFrame, rtol: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Collapse candidates to one value per cell; return (cells, conflicts)."""
    key = ["iso3", "year", "indicator"]
    if cand.empty:
        return pd.DataFrame(columns=[*FRAME_COLUMNS, "n_sources", "lines"]), pd.DataFrame()
    cand = cand.reset_index(drop=True)
    size = cand.groupby(key, sort=False)["value"].transform("size")
    single = cand[size == 1]
    out = [single[list(FRAME_COLUMNS)].assign(n_sources=1, lines=single["line"].to_numpy())]
    cells, conflicts = [], []
    groups: dict[tuple, list[dict]] = {}
    for rec in cand[size > 1].to_dict("records"):
        groups.setdefault((rec["iso3"], rec["year"], rec["indicator"]), []).append(rec)
    for (iso3, year, code), members in groups.items():
        members.sort(
            key=lambda c: (
                c["suspect"],
                c["tier"],
                c["rank"],
                _Desc(c["vintage"]),
                not c["direct"],
                c["order"],
            )
        )
        clusters: list[list[dict]] = []
        for c in members:
            for cl in clusters:
                if _agree(cl[0], c, rtol):
                    cl.append(c)
                    break
            else:
                clusters.append([c])
        ranked = sorted(clusters, key=_cluster_key)
        best = ranked[0]
        rep = best[0]
        # The kept value carries its own flags; agreeing sources add only multi_source.
        flags = rep["flags"]
        extra = []
        if len(best) > 1:
            extra.append("multi_source")
        rule = ""
        if len(ranked) > 1:
            k0, k1 = _cluster_key(best), _cluster_key(ranked[1])
            rule = next((n for n, a, b in zip(RULES, k0, k1, strict=True) if a != b), RULES[-1])
            extra.append("conflict_resolved")
            if rule == "file_order":
                extra.append("conflict_tie")
            for i, cl in enumerate(ranked):
                conflicts.append(
                    {
                        "iso3": iso3,
                        "year": int(year),
                        "indicator": code,
                        "value": cl[0]["value"],
                        "unit": cl[0]["unit"],
                        "sources": " | ".join(dict.fromkeys(c["source"] for c in cl)),
                        "vintage": max(c["vintage"] for c in cl),
                        "n_sources": len(cl),
                        "kept": i == 0,
                        "rule": rule,
                        "flags": _join(c["flags"] for c in cl),
                        "lines": "; ".join(c["line"] for c in cl),
                    }
                )
        cells.append(
            {
                "iso3": iso3,
                "year": int(year),
                "indicator": code,
                "value": rep["value"],
                "unit": rep["unit"],
                "source": " | ".join(dict.fromkeys(c["source"] for c in best)),
                "vintage": rep["vintage"],
                "flags": _join([flags, *extra]),
                "n_sources": len(best),
                "lines": "; ".join(c["line"] for c in best),
            }
        )
    if cells:
        out.append(pd.DataFrame(cells))
    frame = pd.concat(out, ignore_index=True)
    conf = pd.DataFrame(conflicts)
    return frame, conf


def _derive(
    cells: pd.DataFrame, catalogue_units: dict[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """FDI in US$ = % of GDP / 100 x GDP (both resolved cells of the same economy-year)."""
    gdp = cells[cells["indicator"] == "gdp_usd"].set_index(["iso3", "year"])
    frames, conv = [], []
    for code, pct_code in DERIVED.items():
        pct = cells[cells["indicator"] == pct_code].set_index(["iso3", "year"])
        both = pct.merge(
            gdp, how="inner", left_index=True, right_index=True, suffixes=("_pct", "_gdp")
        )
        if both.empty:
            continue
        value = both["value_pct"] / 100.0 * both["value_gdp"]
        flags = [
            _join(["derived", *(set(f"{a};{b}".split(";")) & _INHERITED)])
            for a, b in zip(both["flags_pct"], both["flags_gdp"], strict=True)
        ]
        idx = both.index
        frames.append(
            pd.DataFrame(
                {
                    "iso3": idx.get_level_values(0),
                    "year": idx.get_level_values(1).astype(int),
                    "indicator": code,
                    "value": value.to_numpy(),
                    "unit": catalogue_units[code],
                    "source": (
                        "derived: "
                        + pct_code
                        + " / 100 x gdp_usd; "
                        + both["source_pct"]
                        + " x "
                        + both["source_gdp"]
                    ).to_numpy(),
                    "vintage": both["vintage_pct"].to_numpy(),
                    "flags": flags,
                    "suspect": False,
                    "tier": 0,
                    "rank": _PUBLISHER_RANK["wdi"],
                    "direct": False,
                    "half_unit": 0.0,
                    "line": (both["lines_pct"] + "; " + both["lines_gdp"]).to_numpy(),
                }
            )
        )
        conv.append(
            pd.DataFrame(
                {
                    "iso3": idx.get_level_values(0),
                    "year": idx.get_level_values(1).astype(int),
                    "indicator": code,
                    "kind": "derived",
                    "value_published": both["value_pct"].to_numpy(),
                    "unit_published": "% of GDP",
                    "currency": "USD",
                    "rate_per_usd": np.nan,
                    "rate_basis": f"{pct_code} / 100 x gdp_usd of the same cell",
                    "rate_source": both["source_gdp"].to_numpy(),
                    "rate_line": both["lines_gdp"].to_numpy(),
                    "value": value.to_numpy(),
                    "unit": catalogue_units[code],
                    "line": both["lines_pct"].to_numpy(),
                }
            )
        )
    empty = pd.DataFrame(columns=list(_CAND))
    return (
        pd.concat(frames, ignore_index=True) if frames else empty,
        pd.concat(conv, ignore_index=True) if conv else pd.DataFrame(),
    )


# --- the panel -------------------------------------------------------------------------


class PanelError(DataValidationError):
    """A request to the panel names an indicator, economy or year it does not hold."""


@dataclass
class PartnerPanel:
    """Partner economies x years x indicators, each cell with unit, source, vintage, flags.

    Attributes
    ----------
    frame
        Long table, one row per cell: ``iso3, year, indicator, value, unit, source,
        vintage, flags`` (plus ``n_sources`` and ``lines``: the file:line of every input).
    catalogue
        One row per indicator code: ``code, label, definition, unit, source, licence,
        direction``.
    conflicts
        Every value of every cell where sources disagree, the kept one marked, with the
        deciding rule.
    conversions
        Every value converted (national currency -> US$, with rate, basis and source) or
        derived (% of GDP x GDP).
    excluded
        Published rows left out, with the reason (``indicator_exclusions.csv``).
    fingerprint
        Hash of every input (files, mappings, fetched values) and the settings.
    """

    frame: pd.DataFrame
    catalogue: pd.DataFrame
    conflicts: pd.DataFrame
    conversions: pd.DataFrame
    excluded: pd.DataFrame
    fingerprint: str
    settings: PanelSettings = field(default_factory=PanelSettings)
    rates: dict[tuple[str, int], tuple[float, str, str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._codes = set(self.catalogue["code"])
        self._economies = set(self.frame["iso3"])
        self._index = {
            (i, c, int(y)): float(v)
            for i, c, y, v in zip(
                self.frame["indicator"],
                self.frame["iso3"],
                self.frame["year"],
                self.frame["value"],
                strict=True,
            )
        }

    # -- checks --
    def _check_indicator(self, indicator: str) -> None:
        if indicator not in self._codes:
            close = [c for c in sorted(self._codes) if indicator.split("_")[0] in c][:5]
            raise PanelError(
                "partner panel",
                "unknown indicator code",
                column="indicator",
                value=indicator,
                expected=f"a code of data/{CATALOGUE_FILE}"
                + (f" (e.g. {', '.join(close)})" if close else ""),
            )

    def _check_iso3(self, iso3: Iterable[str]) -> list[str]:
        codes = [iso3] if isinstance(iso3, str) else list(iso3)
        for code in codes:
            if code not in self._economies:
                raise PanelError(
                    "partner panel",
                    "unknown economy code",
                    column="iso3",
                    value=code,
                    expected="an ISO 3166 alpha-3 code of an economy in the panel "
                    f"({len(self._economies)} economies)",
                )
        return codes

    @property
    def economies(self) -> list[str]:
        """Economies with at least one value."""
        return sorted(self._economies)

    # -- access --
    def value(self, indicator: str, iso3: str, year: int) -> float:
        """Return one cell's value in the catalogue unit, NaN where nothing is published."""
        self._check_indicator(indicator)
        self._check_iso3(iso3)
        return self._index.get((indicator, iso3, int(year)), math.nan)

    def cell(self, indicator: str, iso3: str, year: int) -> pd.Series | None:
        """Return the full row of one cell (value, unit, source, vintage, flags) or None."""
        self._check_indicator(indicator)
        self._check_iso3(iso3)
        f = self.frame
        hit = f[(f["indicator"] == indicator) & (f["iso3"] == iso3) & (f["year"] == int(year))]
        return None if hit.empty else hit.iloc[0]

    def wide(
        self,
        indicator: str,
        years: Sequence[int] | None = None,
        iso3: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Return one indicator as economies x years (NaN where absent; nothing filled)."""
        self._check_indicator(indicator)
        sub = self.frame[self.frame["indicator"] == indicator]
        out = sub.pivot(index="iso3", columns="year", values="value")
        if iso3 is not None:
            out = out.reindex(self._check_iso3(iso3))
        if years is not None:
            out = out.reindex(columns=[int(y) for y in years])
        out.index.name, out.columns.name = "iso3", "year"
        return out

    def latest(
        self,
        indicator: str,
        iso3: Sequence[str] | str | None = None,
        max_year: int | None = None,
    ) -> pd.DataFrame:
        """Return each economy's latest value up to ``max_year``.

        Returns
        -------
        pandas.DataFrame
            ``iso3, year, value, source, flags``; economies without a value are absent.
        """
        self._check_indicator(indicator)
        sub = self.frame[self.frame["indicator"] == indicator]
        if iso3 is not None:
            sub = sub[sub["iso3"].isin(self._check_iso3(iso3))]
        if max_year is not None:
            sub = sub[sub["year"] <= int(max_year)]
        last = sub.sort_values(["iso3", "year"]).groupby("iso3").tail(1)
        return last[["iso3", "year", "value", "source", "flags"]].reset_index(drop=True)

    def gdp_deflator(self, iso3: str = "IDN", base_year: int = 2015) -> pd.Series:
        """Return the implicit GDP deflator in local currency (base year = 100).

        ``(gdp_usd x rate_t) / (gdp_const_usd x rate_2015)``: WDI's constant series is in
        2015 US$ at the 2015 rate, so this recovers the local-currency deflator. Years
        without an official average rate are left out (nothing is filled).

        Raises
        ------
        PanelError
            For an economy without a known currency or without the base year.
        """
        self._check_iso3(iso3)
        currency = CURRENCY_OF.get(iso3)
        if currency is None:
            raise PanelError(
                "partner panel",
                "no currency known for the deflator",
                column="iso3",
                value=iso3,
                expected=", ".join(sorted(CURRENCY_OF)),
            )
        cur = self.wide("gdp_usd", iso3=[iso3]).loc[iso3]
        const = self.wide("gdp_const_usd", iso3=[iso3]).loc[iso3]

        def rate(y: int) -> float:
            if currency == "USD":
                return 1.0
            r = self.rates.get((currency, int(y)))
            return r[0] if r else math.nan

        r2015 = rate(2015)
        years = sorted(set(cur.dropna().index) & set(const.dropna().index))
        defl = pd.Series(
            {y: cur[y] * rate(y) / (const[y] * r2015) * 100 for y in years}, dtype=float
        ).dropna()
        if int(base_year) not in defl.index:
            raise PanelError(
                "partner panel",
                f"no deflator for base year {base_year}",
                column="base_year",
                value=base_year,
                expected="a year with GDP, constant GDP and a rate: "
                + ", ".join(map(str, defl.index)),
            )
        out = defl / defl[int(base_year)] * 100
        out.index.name = "year"
        out.name = f"gdp_deflator_{iso3}_{base_year}=100"
        return out

    def coverage(
        self,
        indicators: Sequence[str] | None = None,
        iso3: Sequence[str] = CANDIDATES,
        years: Sequence[int] | None = None,
    ) -> pd.DataFrame:
        """Count economies with a value per indicator x year (default: the 40 candidates)."""
        codes = list(indicators) if indicators is not None else list(self.catalogue["code"])
        for c in codes:
            self._check_indicator(c)
        sub = self.frame[self.frame["indicator"].isin(codes) & self.frame["iso3"].isin(iso3)]
        out = sub.groupby(["indicator", "year"])["iso3"].nunique().unstack(fill_value=0)
        out = out.reindex(codes, fill_value=0)
        if years is not None:
            out = out.reindex(columns=[int(y) for y in years], fill_value=0)
        out.columns.name = "year"
        return out.astype(int)

    def to_frame(self) -> pd.DataFrame:
        """Return the long table (``FRAME_COLUMNS``)."""
        return self.frame[list(FRAME_COLUMNS)].copy()

    def summary(self) -> Summary:
        """Return a printable overview: size, coverage of the candidates, conflicts."""
        cov = self.coverage(
            [
                "gdp_usd",
                "gdp_growth_pct",
                "exports_goods_usd",
                "fdi_outflow_usd",
                "ofdi_stock_usd",
            ],
            years=range(2019, 2025),
        )
        n_conf = (
            int(self.conflicts[["iso3", "year", "indicator"]].drop_duplicates().shape[0])
            if len(self.conflicts)
            else 0
        )
        return Summary(
            title="Partner panel",
            settings={
                "cells": len(self.frame),
                "economies": len(self._economies),
                "indicators": int(self.frame["indicator"].nunique()),
                "cells with conflicting sources": n_conf,
                "values converted or derived": len(self.conversions),
                "rows excluded": len(self.excluded),
                "fingerprint": self.fingerprint,
            },
            tables=[("Candidates covered (of 40)", cov)],
            notes=[
                "Money in US$ billion at the year's official average rate; see "
                "conversions for each rate."
            ],
        )


def _hash_frame(frame: pd.DataFrame) -> str:
    data = pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy().tobytes()
    return hashlib.sha256(data).hexdigest()


def build_panel(
    root: str | Path | None = None,
    *,
    fetched: pd.DataFrame | None = None,
    settings: PanelSettings | None = None,
) -> PartnerPanel:
    """Build the partner panel from the raw files (and optionally fetched values).

    Parameters
    ----------
    root
        Data folder (default ``data/``).
    fetched
        Values fetched by the live loaders: ``iso3, year, indicator, value, unit, source,
        vintage, flags, retrieved, query, sha256``, already in the catalogue unit. They
        enter the conflict rule as official values flagged ``fetched`` and win where
        their vintage is newer than the snapshot's value of the same publisher.
    settings
        :class:`PanelSettings`.

    Raises
    ------
    DataValidationError
        For an unknown indicator code, unit, currency or economy code, a currency without
        a rate for its year, or a duplicate key, naming file, line and column.
    """
    root = _root(root)
    settings = settings or PanelSettings()
    catalogue = load_catalogue(root)
    units = dict(zip(catalogue["code"], catalogue["unit"], strict=True))
    exclusions = _load_exclusions(root)
    rates = _load_rates(root)
    hashes = {rel: verify_file(rel, root=root) for rel in FILES.values()}
    frames = [
        _read_series_file(root, "wdi_macro", units),
        _read_series_file(root, "imf_weo", units),
        _read_series_file(root, "wdi_fdi", units),
        _read_sector_trade(root, units),
        _read_atlas_totals(root, units),
    ]
    compiled, conversions, excluded = _read_compiled(root, units, rates, exclusions)
    frames.append(compiled)
    if fetched is not None:
        frames.append(_read_fetched(fetched, units))
        hashes["fetched"] = _hash_frame(fetched)
    for name in (CATALOGUE_FILE, EXCLUSIONS_FILE):
        hashes[name] = hashlib.sha256((root / name).read_bytes()).hexdigest()
    hashes["settings"] = repr(settings)
    cand = pd.concat(frames, ignore_index=True)
    cand["order"] = np.arange(len(cand))
    cand["vintage"] = cand["vintage"].fillna("").astype(str)
    cand["flags"] = cand["flags"].fillna("").astype(str)
    is_derived_code = cand["indicator"].isin(DERIVED)
    base, conf1 = _resolve(cand[~is_derived_code], settings.agree_rtol)
    derived, derived_conv = _derive(base, units)
    second = pd.concat([cand[is_derived_code], derived], ignore_index=True)
    second["order"] = np.arange(len(second))
    fdi, conf2 = _resolve(second, settings.agree_rtol)
    frame = pd.concat([base, fdi], ignore_index=True)
    frame = frame.sort_values(["indicator", "iso3", "year"], ignore_index=True)
    frame["year"] = frame["year"].astype(int)
    frame["value"] = frame["value"].astype(float)
    frame["n_sources"] = frame["n_sources"].astype(int)
    conflicts = (
        pd.concat([c for c in (conf1, conf2) if len(c)], ignore_index=True)
        if len(conf1) or len(conf2)
        else pd.DataFrame(
            columns=[
                "iso3",
                "year",
                "indicator",
                "value",
                "unit",
                "sources",
                "vintage",
                "n_sources",
                "kept",
                "rule",
                "flags",
                "lines",
            ]
        )
    )
    conv = pd.concat([c for c in (conversions, derived_conv) if len(c)], ignore_index=True)
    if len(conv):
        # Whether the converted or derived value is the one the cell kept (else it is one
        # of the values listed in conflicts).
        kept = dict(
            zip(
                zip(frame["iso3"], frame["year"], frame["indicator"], strict=True),
                frame["lines"],
                strict=True,
            )
        )
        conv["kept"] = [
            set(str(line).split("; ")) <= set(str(kept.get((i, int(y), c), "")).split("; "))
            for i, y, c, line in zip(
                conv["iso3"], conv["year"], conv["indicator"], conv["line"], strict=True
            )
        ]
    return PartnerPanel(
        frame=frame,
        catalogue=catalogue,
        conflicts=conflicts,
        conversions=conv,
        excluded=excluded,
        fingerprint=data_fingerprint(hashes),
        settings=settings,
        rates=rates.table,
    )


def fetched_values() -> pd.DataFrame | None:
    """Return the values ``mitra data fetch`` left in the fetch cache, or None if none.

    :func:`load_panel` passes them to :func:`build_panel`: they enter the conflict rule
    flagged ``fetched`` and win where their vintage is newer. ``MITRA_FETCH_CACHE=off``
    ignores the cache.
    """
    from analysis.data.loaders import fetched_frame

    frame = fetched_frame()
    return frame if len(frame) else None


@cache
def _cached(root: str, stamp: tuple) -> PartnerPanel:
    return build_panel(root, fetched=fetched_values())


def load_panel(
    root: str | Path | None = None,
    *,
    fetched: pd.DataFrame | None = None,
    settings: PanelSettings | None = None,
) -> PartnerPanel:
    """Return the partner panel (cached per data folder while its files are unchanged).

    Without ``fetched``, the values in the fetch cache (``mitra data fetch``; see
    :func:`fetched_values`) are used, so the panel prefers them where they are newer.
    See :func:`build_panel`; a call with ``fetched`` values or settings is never cached.
    """
    root = _root(root)
    if fetched is not None or settings is not None:
        fetched = fetched if fetched is not None else fetched_values()
        return build_panel(root, fetched=fetched, settings=settings)
    files = [*FILES.values(), CATALOGUE_FILE, EXCLUSIONS_FILE, "provenance.csv"]
    stamp = tuple((f, (root / f).stat().st_mtime_ns if (root / f).exists() else 0) for f in files)
    from analysis.data.loaders import FetchCache  # a new `mitra data fetch` changes the panel

    fetch = FetchCache().provenance_path
    stamp += ((str(fetch), fetch.stat().st_mtime_ns if fetch.exists() else 0),)
    return _cached(str(root.resolve()), stamp)
