"""National forecasting helpers of the flows study (report 10): base forecasts, correlation of
log changes, quantiles of joint draws. Model code on plain arguments, moved here from
``analysis.studies.flows``, which imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from analysis.models.flows import (
    MIN_POINTS,
    FlowForecast,
    FlowSeries,
    ForecastSettings,
    _z,
    backtest_errors,
    calibrate,
    forecast_flows,
    forecast_path,
)

#: Interval levels of the joint draws' quantiles.
_LEVELS = (0.8, 0.95)


class BaseForecastSettings(Protocol):
    """What :func:`_base_forecast` reads of :class:`analysis.studies.flows.FlowStudySettings`."""

    horizon: int
    interpolate: bool
    calibration_min_n: int


# --- national forecasts ------------------------------------------------------------------


@dataclass
class _Base:
    """One national series' base forecast on the log scale, before reconciliation."""

    forecast: FlowForecast
    years: np.ndarray
    mean_log: np.ndarray
    sd_log_raw: np.ndarray
    sd_log: np.ndarray
    calibration: pd.DataFrame
    errors: pd.DataFrame
    failures: pd.DataFrame


def _base_forecast(series: FlowSeries, settings: BaseForecastSettings) -> _Base:
    fs = ForecastSettings(horizon_year=settings.horizon, interpolate=settings.interpolate)
    fc = forecast_flows(series, fs)
    sample = series.sample()
    last = int(sample.index.max())
    h = settings.horizon - last
    models = list(fc.backtest.index) if len(fc.backtest) else []
    # Each model is scored on every origin it can be fitted at (its own minimum sample), to
    # the longest horizon shown: the model choice above used common origins; calibration and
    # the per-horizon table use as many forecasts as each model allows.
    frames, fails = [], []
    for model in models:
        e, f = backtest_errors(
            sample, [model], min_train=max(fs.min_train, MIN_POINTS[model]), horizon=h
        )
        frames.append(e)
        fails.append(f)
    if frames:
        errors = pd.concat(frames, ignore_index=True)
        failures = pd.concat(fails, ignore_index=True)
    else:
        errors, failures = backtest_errors(sample.iloc[:0], ["naive"], horizon=h)
    chosen = fc.chosen or "naive"
    calib = calibrate(
        errors[errors["model"] == chosen], h, level=0.8, min_n=settings.calibration_min_n
    )
    path = forecast_path(np.log(sample), chosen, h, levels=(0.8,))
    sd_raw = ((path["hi_80"] - path["lo_80"]) / (2 * _z(0.8))).to_numpy(dtype=float)
    # A longer horizon is never more certain: the calibrated spread is made non-decreasing
    # (per-horizon factors from a handful of forecasts can dip).
    sd = np.fmax.accumulate(sd_raw * calib["scale"].to_numpy(dtype=float))
    years = np.arange(last + 1, last + h + 1)
    return _Base(
        fc, years, path["mean"].to_numpy(dtype=float), sd_raw, sd, calib, errors, failures
    )


def _log_change_corr(series: dict[str, FlowSeries]) -> np.ndarray:
    """Correlation of the demeaned one-year log changes of the series over common years."""
    diffs = pd.concat({m: np.log(s.sample()).diff() for m, s in series.items()}, axis=1).dropna()
    k = len(series)
    if len(diffs) < 4:
        return np.eye(k)
    c = np.corrcoef((diffs - diffs.mean()).to_numpy().T)
    if not np.all(np.isfinite(c)):
        return np.eye(k)
    # Keep it positive definite (a short sample can be near-singular).
    return 0.95 * c + 0.05 * np.eye(k)


def _quantiles(draws: np.ndarray) -> dict[str, np.ndarray]:
    out = {}
    for level in _LEVELS:
        pct = round(level * 100)
        out[f"lo_{pct}"] = np.quantile(draws, 0.5 - level / 2, axis=0)
        out[f"hi_{pct}"] = np.quantile(draws, 0.5 + level / 2, axis=0)
    return out
