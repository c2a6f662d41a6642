"""The canonical vocabulary, declared once: columns, measures, periods, units, partners.

Loaders map every source onto these names; models and reports only ever see them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pycountry

__all__ = [
    "AGGREGATE_PARTNERS",
    "CANDIDATES",
    "CANONICAL_UNITS",
    "GRAVITY_TERMS",
    "KEY_COLUMNS",
    "MEASURES",
    "PILLAR_LABELS",
    "RANKING_INDICATORS",
    "RANKING_PILLARS",
    "REPORT_SECTORS",
    "SECTOR_FOCUS",
    "UNITS",
    "Period",
    "is_partner_code",
    "parse_period",
    "partner_name",
    "province_code",
]

#: Columns that identify one cell of the ledger (one number that can be published).
KEY_COLUMNS: tuple[str, ...] = (
    "concept",
    "year",
    "period",
    "measure",
    "sector",
    "region",
    "partner_iso3",
)

#: Covariates of the gravity study (report 20): log partner GDP, log distance, hub economy,
#: agreement in force.
#: The 40 candidate partner economies the ranking, the gravity report and the partner panel's
#: coverage checks are about (ISO 3166 alpha-3; Taiwan as TWN).
CANDIDATES: tuple[str, ...] = (
    "ARE", "AUS", "AUT", "BEL", "BGD", "BRA", "CAN", "CHE", "CHL", "CHN",
    "DEU", "DNK", "EGY", "ESP", "FIN", "FRA", "GBR", "HKG", "IND", "IRL",
    "ITA", "JPN", "KOR", "LUX", "MEX", "MYS", "NLD", "NOR", "NZL", "PAK",
    "PHL", "QAT", "SAU", "SGP", "SWE", "THA", "TUR", "TWN", "USA", "VNM",
)  # fmt: skip

GRAVITY_TERMS: tuple[str, ...] = ("lgdp", "ldist", "hub", "agreement")

#: Pillars and indicator codes of the partner ranking (built by ``analysis.models.indicators``;
#: declared here so params can validate ``ranking_weights`` before any kernel starts).
RANKING_PILLARS: tuple[str, ...] = ("sector", "capacity", "market", "presence", "ties")
#: English labels of the ranking pillars (what-if sliders, chart legends).
PILLAR_LABELS = {
    "sector": "Sector strength",
    "capacity": "Capacity to invest abroad",
    "market": "Market",
    "presence": "Presence in Indonesia",
    "ties": "Ties with Indonesia",
}
RANKING_INDICATORS: tuple[str, ...] = (
    "sector_exports",
    "sector_rca",
    "sector_value_added",
    "ofdi_stock",
    "ofdi_flow",
    "gdp",
    "gdp_growth",
    "pma_in_idn",
    "pma_momentum",
    "agreement",
    "distance",
    "same_subregion",
    "bilateral_trade",
    "relocation_push",
    "mnc_firms",
    "sector_pma",
    "project_pipeline",
    "pma_listed_share",
    "investment_treaty",
    "tax_treaty",
    "sector_named",
    "ofdi_industry_share",
)

#: pma = foreign direct investment (PMA), pmdn = domestic (PMDN), total = PMA + PMDN.
MEASURES: tuple[str, ...] = ("pma", "pmdn", "total")

#: Published unit -> (currency, multiplier to one unit of currency).
UNITS: dict[str, tuple[str, float]] = {
    "Rp trillion": ("IDR", 1e12),
    "Rp billion": ("IDR", 1e9),
    "Rp million": ("IDR", 1e6),
    "US$ billion": ("USD", 1e9),
    "US$ million": ("USD", 1e6),
    "US$ thousand": ("USD", 1e3),
}

#: Canonical unit of each measure. BKPM reports PMA in US$ and PMDN in Rp; totals are
#: only ever published in Rp.
CANONICAL_UNITS: dict[str, str] = {
    "pma": "US$ million",
    "pmdn": "Rp billion",
    "total": "Rp billion",
}

#: Which ledger sectors each report sector draws on. BKPM publishes chemicals and
#: pharmaceuticals as one sector, so both the chemical and the pharma reports use it.
SECTOR_FOCUS: dict[str, tuple[str, ...]] = {
    "textile": (
        "textile",
        "apparel",
        "leather_footwear",
        "textile_apparel",
        "textile_apparel_footwear",
    ),
    "chemical": ("chem_pharma", "chemical"),
    "pharma": ("chem_pharma", "health_pharma"),
}
#: Report sectors (one report per sector in the default batch).
REPORT_SECTORS: tuple[str, ...] = tuple(SECTOR_FOCUS)


#: Partner codes that are not ISO 3166 alpha-3 countries but appear in releases.
AGGREGATE_PARTNERS: dict[str, str] = {
    "WLD": "all origins (national or sector total)",
    "OTH": "other countries / rest of world, as listed by the source",
    "UNK": "a listed country whose name the source text dropped",
}

_COMBINED = re.compile(r"^[A-Z]{3}(\+[A-Z]{3})+$")


@cache
def _iso3() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.countries)


def partner_name(code: str) -> str:
    """Return a reader's name for an ISO alpha-3 code (``TWN`` -> ``Taiwan``), else the code."""
    c = pycountry.countries.get(alpha_3=code)
    if c is None:
        return code
    return str(getattr(c, "common_name", None) or c.name)


def is_partner_code(code: str) -> bool:
    """Return True for an ISO 3166 alpha-3 code, an aggregate code, or ``AAA+BBB``.

    ``AAA+BBB`` marks one figure published for several countries together (for example
    ``CHN+HKG``); every part must itself be an ISO alpha-3 code.
    """
    if code in AGGREGATE_PARTNERS or code in _iso3():
        return True
    if _COMBINED.match(code):
        return all(part in _iso3() for part in code.split("+"))
    return False


# --- periods -------------------------------------------------------------------------

_PERIOD = re.compile(r"^(Q[1-4]|H[12]|9M|FY|YTD|CUM_(\d{4})_(\d{4}))$")
_TARGET = re.compile(r"^FY_target(_[a-z]+)?$")

#: Months covered by each within-year period (first, last).
_MONTHS: dict[str, tuple[int, int]] = {
    "Q1": (1, 3),
    "Q2": (4, 6),
    "Q3": (7, 9),
    "Q4": (10, 12),
    "H1": (1, 6),
    "H2": (7, 12),
    "9M": (1, 9),
    "FY": (1, 12),
}

PERIOD_EXPECTED = (
    "one of Q1-Q4, H1, H2, 9M, FY, YTD (window not stated), CUM_YYYY_YYYY "
    "(multi-year cumulative window), or FY_target[_label] for targets"
)


@dataclass(frozen=True)
class Period:
    """A parsed period label.

    Attributes
    ----------
    label
        The canonical label (``Q3``, ``9M``, ``CUM_2001_2015``, ...).
    kind
        ``quarter``, ``cumulative`` (Q1, H1, 9M, FY: windows starting in January),
        ``half`` (H2), ``open`` (YTD: end month unknown), ``multi_year`` or ``target``.
    months
        (first, last) month of a within-year window, or None.
    """

    label: str
    kind: str
    months: tuple[int, int] | None = None
    first_year: int | None = None


def parse_period(label: str) -> Period | None:
    """Parse a period label; return None when it is not in the vocabulary."""
    if _TARGET.match(label):
        return Period(label, "target")
    m = _PERIOD.match(label)
    if not m:
        return None
    if label.startswith("CUM_"):
        first, last = int(m.group(2)), int(m.group(3))
        if first > last:
            return None
        return Period(label, "multi_year", first_year=first)
    if label == "YTD":
        return Period(label, "open")
    months = _MONTHS[label]
    if label.startswith("Q") and label != "Q1":
        kind = "quarter"
    elif label == "H2":
        kind = "half"
    else:
        kind = "cumulative"  # Q1, H1, 9M, FY all start in January
    return Period(label, kind, months)


#: Cumulative windows in order: C1 = Q1, C2 = H1, C3 = 9M, C4 = FY.
CUMULATIVE: tuple[str, ...] = ("Q1", "H1", "9M", "FY")
QUARTERS: tuple[str, ...] = ("Q1", "Q2", "Q3", "Q4")


# --- provinces -----------------------------------------------------------------------

# Names as BKPM writes them that differ from ISO 3166-2:ID (pycountry) spellings.
_PROVINCE_ALIASES = {
    "dki jakarta": "ID-JK",
    "jakarta": "ID-JK",
    "di yogyakarta": "ID-YO",
    "daerah istimewa yogyakarta": "ID-YO",
    "papua pegunungan": "ID-PE",
    "bangka belitung": "ID-BB",
    "kep. bangka belitung": "ID-BB",
    "kep. riau": "ID-KR",
    "ntb": "ID-NB",
    "ntt": "ID-NT",
}


@cache
def _provinces() -> dict[str, str]:
    table: dict[str, str] = {}
    for sub in pycountry.subdivisions.get(country_code="ID"):
        if sub.type == "Geographical unit":  # island groups, not provinces
            continue
        table[sub.code.casefold()] = sub.code
        table[" ".join(sub.name.casefold().split())] = sub.code
    table.update(_PROVINCE_ALIASES)
    return table


def province_code(name: str) -> str | None:
    """Return the ISO 3166-2 code of an Indonesian province name or code, else None.

    ``IDN`` (national) is returned unchanged.
    """
    if name == "IDN":
        return "IDN"
    return _provinces().get(" ".join(name.casefold().split()))


#: Defaults used by more than one layer, declared once (``analysis.config.Params`` and the
#: data and model settings read them from here).
DEFAULT_SEED = 20261127
DEFAULT_FX_BASIS = "apbn"
#: The basis for years the main one lacks.
DEFAULT_FX_FALLBACK = "market"
