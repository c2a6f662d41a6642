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

from analysis.base.vocab import CANDIDATES

from .catalogue import (
    _load_exclusions as _load_exclusions,
)
from .catalogue import (
    load_catalogue,
)
from .conflict import (
    _agree as _agree,
)
from .conflict import (
    _cluster_key as _cluster_key,
)
from .conflict import (
    _derive as _derive,
)
from .conflict import (
    _Desc as _Desc,
)
from .conflict import (
    _join as _join,
)
from .conflict import (
    _resolve as _resolve,
)
from .mappings import (
    _INHERITED as _INHERITED,
)
from .mappings import (
    _MONEY_UNIT as _MONEY_UNIT,
)
from .mappings import (
    _PUBLISHER_RANK as _PUBLISHER_RANK,
)
from .mappings import (
    _SCALES as _SCALES,
)
from .mappings import (
    _SECTOR_UNITS as _SECTOR_UNITS,
)
from .mappings import (
    _SUSPECT as _SUSPECT,
)
from .mappings import (
    _VINTAGE_NOTE as _VINTAGE_NOTE,
)
from .mappings import (
    CATALOGUE_FILE as CATALOGUE_FILE,
)
from .mappings import (
    CURRENCY_OF as CURRENCY_OF,
)
from .mappings import (
    DERIVED as DERIVED,
)
from .mappings import (
    EXCLUSIONS_FILE as EXCLUSIONS_FILE,
)
from .mappings import (
    FETCHED_COLUMNS,
    FRAME_COLUMNS,
    PanelSettings,
)
from .mappings import (
    FILES as FILES,
)
from .mappings import (
    IGNORED_SERIES as IGNORED_SERIES,
)
from .mappings import (
    RENAMED as RENAMED,
)
from .mappings import (
    RULES as RULES,
)
from .mappings import (
    SECTOR_CODES as SECTOR_CODES,
)
from .mappings import (
    SERIES as SERIES,
)
from .mappings import (
    _root as _root,
)
from .panel import (
    PanelError as PanelError,
)
from .panel import (
    PartnerPanel,
    build_panel,
    load_panel,
)
from .panel import (
    _cached as _cached,
)
from .panel import (
    fetched_values as fetched_values,
)
from .rates import (
    _load_rates as _load_rates,
)
from .rates import (
    _Rates as _Rates,
)
from .readers import (
    _CAND as _CAND,
)
from .readers import (
    _iso3_ok as _iso3_ok,
)
from .readers import (
    _publisher_of as _publisher_of,
)
from .readers import (
    _read_atlas_totals as _read_atlas_totals,
)
from .readers import (
    _read_compiled as _read_compiled,
)
from .readers import (
    _read_fetched as _read_fetched,
)
from .readers import (
    _read_sector_trade as _read_sector_trade,
)
from .readers import (
    _read_series_file as _read_series_file,
)
from .readers import (
    _reject_first as _reject_first,
)
from .readers import (
    _vintage as _vintage,
)

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
