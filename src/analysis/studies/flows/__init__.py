"""The investment-flows study: nowcast, reconciled and calibrated forecasts, views, targets.

Turns plain settings and the ledger into one :class:`FlowStudy`, which the report
``notebooks/10-investment-flows.ipynb`` displays. The steps, each stated in the report:

1. **History.** National PMA, PMDN and total (Rp billion, *nominal*) from the ledger, to
   ``end_year``.
2. **Nowcast.** The latest year with a partial (Q1/H1/9M) release and no full-year figure is
   nowcast from its latest cumulative figure (:mod:`analysis.models.nowcast`); the nowcast replaces
   the first forecast year. Every info set is backtested out of sample.
3. **Base forecasts.** Each series gets its backtest-chosen model (:mod:`analysis.models.flows`).
   The backtest runs to the longest horizon shown; intervals are widened per horizon by the
   conformal factor of the chosen model's backtest errors
   (:func:`analysis.models.flows.calibrate`). Horizons with fewer than ``calibration_min_n``
   backtest forecasts are *not backtested*: they borrow the last backtested factor and are drawn
   differently.
4. **Joint paths.** ``draws`` sample paths per series on the log scale, random-walk dependent
   across horizons and correlated across series as the historical log changes are; with a
   nowcast the first year is drawn from the nowcast's interval and later years add the
   model's increments.
5. **Reconciliation.** Every path and the vector of central forecasts is projected so that
   PMA + PMDN = total (:mod:`analysis.models.reconcile`). Intervals are quantiles of the reconciled
   paths; the ``median`` column is the reconciled central forecast (coherent by construction).
6. **Views.** Real (nominal divided by Indonesia's GDP deflator, base year stated; years
   after the deflator's last one use a drift forecast of the deflator, drawn jointly) and PMA
   in US$ at one exchange rate for every year (``usd_rate_year`` on the ledger's basis), so no
   forecast moves with a rate change.
7. **Sectors.** Points flagged ``suspect`` or ``period_uncertain`` are excluded (and listed);
   a series with fewer than ``min_fan_points`` usable consecutive years gets no fan, only its
   data. A series with enough years is forecast as a share of the national series it nests
   in, so each path stays below the national path. A one-step backtest says whether pooled
   growth across sectors beats no-change.
8. **Targets.** Every dated national investment target in the ledger, against the realised
   figure or the reconciled calibrated paths (probability of reaching it).
"""

from __future__ import annotations

from analysis.models.flows.national import (
    _Base as _Base,
)
from analysis.models.flows.national import (
    _base_forecast as _base_forecast,
)
from analysis.models.flows.national import (
    _log_change_corr as _log_change_corr,
)
from analysis.models.flows.national import (
    _quantiles as _quantiles,
)

from .context import (
    _roadmap_context as _roadmap_context,
)
from .context import (
    gdp_deflator,
)
from .context import (
    measure_label as measure_label,
)
from .context import (
    model_label as model_label,
)
from .result import (
    FlowStudy,
)
from .sectors import (
    PARTNER_SECTORS_OF as PARTNER_SECTORS_OF,
)
from .sectors import (
    PROJECT_SECTORS_OF as PROJECT_SECTORS_OF,
)
from .sectors import (
    PROJECT_STATUSES as PROJECT_STATUSES,
)
from .sectors import (
    _sector_partners as _sector_partners,
)
from .sectors import (
    _sector_projects as _sector_projects,
)
from .sectors import (
    _sectors as _sectors,
)
from .sectors import (
    history_values as history_values,
)
from .sectors import (
    sector_shares as sector_shares,
)
from .settings import (
    _PERIOD_ORDER as _PERIOD_ORDER,
)
from .settings import (
    _ROADMAP_TOPICS as _ROADMAP_TOPICS,
)
from .settings import (
    EXCLUDED_FLAGS as EXCLUDED_FLAGS,
)
from .settings import (
    HISTORY_START as HISTORY_START,
)
from .settings import (
    MEASURE_LABELS as MEASURE_LABELS,
)
from .settings import (
    MEASURES as MEASURES,
)
from .settings import (
    SECTIONS as SECTIONS,
)
from .settings import (
    FlowStudySettings,
    settings,
)
from .shares import (
    SHARE_PRIOR_YEARS as SHARE_PRIOR_YEARS,
)
from .shares import (
    _sector_share_forecast as _sector_share_forecast,
)
from .shares import (
    _span as _span,
)
from .study import (
    run,
    run_flows,
)
from .targets import (
    PATH_LABELS as PATH_LABELS,
)
from .targets import (
    _limit_to_backtest as _limit_to_backtest,
)
from .targets import (
    _load_targets as _load_targets,
)
from .targets import (
    _medium_term as _medium_term,
)
from .targets import (
    _scenario_paths as _scenario_paths,
)
from .targets import (
    _target_values as _target_values,
)
from .targets import (
    _targets_within_backtest as _targets_within_backtest,
)
from .views import (
    _history_rows as _history_rows,
)
from .views import (
    _rows as _rows,
)
from .views import (
    _usd_history as _usd_history,
)
from .views import (
    _views as _views,
)

__all__ = [
    "FlowStudy",
    "FlowStudySettings",
    "gdp_deflator",
    "run",
    "run_flows",
    "settings",
]
