"""The partner panel's columns, files and source mappings (source code -> panel code, factor,
unit), the conflict rules' order and :class:`PanelSettings`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from analysis.base import paths

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
