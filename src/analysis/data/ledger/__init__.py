"""The investment ledger: one validated observation per published cell.

:func:`build_ledger` turns the raw candidate rows into analysable tables:

1. **Units.** Each figure is expressed in its measure's canonical unit (PMA in US$ million,
   PMDN and totals in Rp billion) and, for cross-measure identities, in Rp billion
   (``value_idr_bn``). A change of currency goes through the exchange-rate table on the
   chosen basis (:mod:`analysis.data.units`) and is flagged ``fx_converted``.
2. **Duplicates.** Candidates of one cell that agree (equal up to the rounding of the
   coarser print; across currencies, within ``fx_rtol``) form one observation that lists
   every source.
3. **Conflicts.** When a cell holds different values, one is chosen by the rule below and
   the cell is listed in :attr:`Ledger.conflicts` with every value and source.
4. **Identities.** PMA + PMDN = total and quarters adding up to H1, 9M and FY are checked
   (:attr:`Ledger.identities`); violations beyond rounding are reported, never fixed.
5. **Derivations.** Discrete quarters are derived from cumulative figures (Q2 = H1 - Q1,
   Q3 = 9M - H1, Q4 = FY - 9M) and cumulative figures from complete quarters, each flagged
   ``derived`` with its formula.
6. **Censoring.** Country lists are top-N lists: :meth:`Ledger.partner_panel` gives an
   unlisted partner an explicit upper bound (the smallest listed value), not a zero.

Conflict rule (first criterion that separates the values wins)
--------------------------------------------------------------
1. ``not_suspect``: values whose every source is flagged suspect, superseded or preliminary
   lose to any other value.
2. ``official_table``: a value from an imported BKPM realisation table, or from a release
   added to the import area (flag ``imported_release``), beats press reports.
3. ``canonical_currency``: a value printed in the measure's own currency beats one that
   had to be converted.
4. ``latest_publication``: the later publication wins (revisions supersede earlier prints;
   a prior-year comparison quoted in a later release carries the revised figure).
5. ``more_sources``: the value reported by more outlets wins.
6. ``file_order``: otherwise the first value in file order is kept and the conflict is
   flagged ``conflict_tie`` for a human to settle.
"""

from __future__ import annotations

from .censoring import (
    _censoring as _censoring,
)
from .conflicts import (
    _RULES as _RULES,
)
from .conflicts import (
    _agree as _agree,
)
from .conflicts import (
    _cluster as _cluster,
)
from .conflicts import (
    _cluster_id as _cluster_id,
)
from .conflicts import (
    _cluster_rank as _cluster_rank,
)
from .conflicts import (
    _collapse as _collapse,
)
from .conflicts import (
    _date_key as _date_key,
)
from .conflicts import (
    _deciding_rule as _deciding_rule,
)
from .conflicts import (
    _join as _join,
)
from .conflicts import (
    _latest as _latest,
)
from .conflicts import (
    _missing as _missing,
)
from .conflicts import (
    _observation as _observation,
)
from .identities import (
    _check as _check,
)
from .identities import (
    _combine as _combine,
)
from .identities import (
    _derive as _derive,
)
from .identities import (
    _groups as _groups,
)
from .identities import (
    _identity_evidence as _identity_evidence,
)
from .identities import (
    _involves as _involves,
)
from .identities import (
    _measure_identities as _measure_identities,
)
from .identities import (
    _precise_sums as _precise_sums,
)
from .identities import (
    _time_identities as _time_identities,
)
from .ledger import (
    Ledger,
    build_ledger,
)
from .settings import (
    _EPS as _EPS,
)
from .settings import (
    _INHERITED as _INHERITED,
)
from .settings import (
    _WEAK as _WEAK,
)
from .settings import (
    SERIES_COLUMNS as SERIES_COLUMNS,
)
from .settings import (
    LedgerSettings,
)
from .units import (
    _canonicalise as _canonicalise,
)

__all__ = ["Ledger", "LedgerSettings", "build_ledger"]
