"""Partner brief: one partner and one sector on about two printed pages, in English or Bahasa.

For the investment desk preparing a meeting with a delegation: where the partner ranks and
how sure that is, its pillar profile against the top five, its investment history in
Indonesia (ledger, censoring explicit), its sector exports and trade with Indonesia, the
agreements in force and pending, its gravity potential with interval, and what would most
move its rank. Every sentence and label comes from the message catalogue
(:mod:`analysis.base.i18n`), every number from the results.

The brief reads the other studies through four small functions (:func:`_ranking`,
:func:`_gravity`, :func:`_trade`, :func:`_agreements`), so when those studies change their
interface only these need re-pointing.
"""

from __future__ import annotations

from .result import (
    PartnerBrief,
)
from .settings import (
    LEVERS as LEVERS,
)
from .settings import (
    BriefSettings,
    settings,
)
from .sources import (
    _PUBLISHERS as _PUBLISHERS,
)
from .sources import (
    _SOURCE_CUT as _SOURCE_CUT,
)
from .sources import (
    BRIEF_FILES as BRIEF_FILES,
)
from .sources import (
    FIRMS_SHOWN as FIRMS_SHOWN,
)
from .sources import (
    PARTNER_SECTOR_CODES as PARTNER_SECTOR_CODES,
)
from .sources import (
    PROJECT_STATUSES as PROJECT_STATUSES,
)
from .sources import (
    TRADE_CODES as TRADE_CODES,
)
from .sources import (
    _agreement_name as _agreement_name,
)
from .sources import (
    _digits_of_unit as _digits_of_unit,
)
from .sources import (
    _firms as _firms,
)
from .sources import (
    _gravity as _gravity,
)
from .sources import (
    _instruments as _instruments,
)
from .sources import (
    _investment_sides as _investment_sides,
)
from .sources import (
    _projects as _projects,
)
from .sources import (
    _publisher as _publisher,
)
from .sources import (
    _publishers as _publishers,
)
from .sources import (
    _ranking as _ranking,
)
from .sources import (
    _trade as _trade,
)
from .study import (
    _effects as _effects,
)
from .study import (
    _history as _history,
)
from .study import (
    _planning_ledger as _planning_ledger,
)
from .study import (
    _root_logging_kept as _root_logging_kept,
)
from .study import (
    _top as _top,
)
from .study import (
    run,
    run_brief,
    top_partners,
)

__all__ = ["BriefSettings", "PartnerBrief", "run", "run_brief", "settings", "top_partners"]
