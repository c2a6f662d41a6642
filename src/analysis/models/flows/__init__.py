"""Investment-flow series, forecasts with honest intervals, and rolling-origin backtests.

The history is short and gappy, so the statistics are kept honest:

- **Series** come from the ledger as published (or derived, flagged). Gaps stay gaps; a
  log-linear interpolation happens only when asked (``interpolate=True``) and every
  interpolated point is flagged. Models use the last unbroken run of years.
- **Models** are fitted on logs, so forecasts and intervals stay positive: naive (random
  walk) and drift baselines, exponential smoothing (additive damped trend, ETS AAdN),
  ARIMA(1,1,0) with drift, and a local-linear-trend unobserved-components model, all from
  statsmodels. Point forecasts are medians (``exp`` of the log forecast).
- **Choice** is by rolling-origin backtest (MASE, MAPE, and the empirical coverage of the
  80 % interval). A model that does not beat the naive baseline on MASE is never chosen:
  naive is, and the report says so.
- **Sparse series** (fewer points than a model needs) fall back to the baselines, or to no
  forecast at all, and the reason is recorded. Nothing is ever fabricated.

References
----------
Hyndman, R.J. and Koehler, A.B. (2006), "Another look at measures of forecast accuracy",
International Journal of Forecasting 22(4): 679-688 (MASE).
Hyndman, R.J. and Athanasopoulos, G. (2021), *Forecasting: Principles and Practice*, 3rd
ed., OTexts, section 5.5 (prediction intervals of the naive and drift methods).
"""

from __future__ import annotations

from .forecast import (
    FlowForecast,
    ForecastSettings,
    forecast_flows,
)
from .forecast import (
    _bound_cols as _bound_cols,
)
from .forecast import (
    _n_forecasts as _n_forecasts,
)
from .forecast import (
    _span as _span,
)
from .forecast import (
    prob_at_least as prob_at_least,
)
from .models import (
    MIN_BACKTEST_FORECASTS as MIN_BACKTEST_FORECASTS,
)
from .models import (
    MIN_POINTS as MIN_POINTS,
)
from .models import (
    MODEL_LABELS as MODEL_LABELS,
)
from .models import (
    MODELS,
    backtest,
    backtest_errors,
    calibrate,
    forecast_path,
    horizon_table,
    rw_shocks,
)
from .models import (
    _conformal_quantile as _conformal_quantile,
)
from .models import (
    _z as _z,
)
from .paths import (
    SCENARIO_PATHS,
    exceeds_history,
    history_extremes,
    scenario_paths,
)
from .series import (
    FlowSeries,
    build_series,
)
from .shares import (
    SHARE_PRIOR_YEARS,
    pooled_growth_backtest,
    pooled_share_sd,
    sector_share_draws,
    share_changes,
    shrunk_share_forecast,
)

__all__ = [
    "MODELS",
    "SCENARIO_PATHS",
    "SHARE_PRIOR_YEARS",
    "FlowForecast",
    "FlowSeries",
    "ForecastSettings",
    "backtest",
    "backtest_errors",
    "build_series",
    "calibrate",
    "exceeds_history",
    "forecast_flows",
    "forecast_path",
    "history_extremes",
    "horizon_table",
    "pooled_growth_backtest",
    "pooled_share_sd",
    "rw_shocks",
    "scenario_paths",
    "sector_share_draws",
    "share_changes",
    "shrunk_share_forecast",
]
