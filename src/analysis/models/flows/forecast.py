"""The forecast result: :class:`ForecastSettings`, :class:`FlowForecast` and ``forecast_flows``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.base.i18n import count
from analysis.base.summary import Summary
from analysis.data.provenance import data_fingerprint

from .models import (
    MIN_BACKTEST_FORECASTS,
    MIN_POINTS,
    MODEL_LABELS,
    MODELS,
    _z,
    backtest,
    forecast_path,
)
from .series import FlowSeries

# --- the forecast result ---------------------------------------------------------------


@dataclass(frozen=True)
class ForecastSettings:
    """Settings of a forecast, recorded in its results."""

    horizon_year: int
    models: tuple[str, ...] = MODELS
    levels: tuple[float, ...] = (0.8, 0.95)
    min_train: int = 6
    backtest_horizon: int = 3
    interpolate: bool = False


@dataclass
class FlowForecast:
    """Forecast of one series: backtest, chosen model and why, fan-chart data.

    ``forecast`` has one row per future year: ``median`` and ``lo_80``/``hi_80``/
    ``lo_95``/``hi_95`` in the series' unit (NaN bounds when the sample is too short to
    estimate a spread).
    """

    series: FlowSeries
    settings: ForecastSettings
    backtest: pd.DataFrame
    chosen: str | None
    reason: str
    forecast: pd.DataFrame
    fingerprint: str = ""
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """Observed and forecast years in one long table."""
        obs = self.series.to_frame().rename(columns={"value": "median"})
        obs["kind"] = np.where(obs["origin"] == "missing", "missing", "observed")
        fc = self.forecast.copy()
        fc["kind"] = "forecast"
        fc["origin"] = "forecast:" + (self.chosen or "none")
        fc["sector"], fc["measure"], fc["unit"] = (
            self.series.sector,
            self.series.measure,
            self.series.unit,
        )
        return pd.concat([obs, fc], ignore_index=True)

    def summary(self) -> Summary:
        """Backtest table, chosen model and reason, forecast table."""
        s = self.series
        bt = self.backtest.copy()
        if len(bt):
            bt["chosen"] = np.where(bt.index == self.chosen, "<-", "")
        return Summary(
            title=f"Forecast: {s.sector} {s.measure.upper()} ({s.unit})",
            settings={
                "model": MODEL_LABELS.get(self.chosen or "", "none"),
                "why": self.reason,
                "sample": _span(s.sample()),
                "horizon": self.settings.horizon_year,
                "fingerprint": self.fingerprint,
            },
            tables=[
                ("Rolling-origin backtest (lower MASE is better)", bt.round(3)),
                ("Forecast (median and intervals)", self.forecast.round(1)),
            ],
            notes=[
                *self.notes,
                "Medians and intervals are exp() of log-scale forecasts: "
                "always positive, and the intervals are ordered.",
            ],
        )


def _span(sample: pd.Series) -> str:
    if sample.empty:
        return "no data"
    return f"{sample.index.min()}-{sample.index.max()} ({len(sample)} years)"


def forecast_flows(series: FlowSeries, settings: ForecastSettings) -> FlowForecast:
    """Backtest, choose and forecast one series; never crashes on sparse data.

    Rules: a model is eligible when the sample has at least ``MIN_POINTS`` points. With
    enough points for at least two backtest origins the model with the lowest MASE is
    chosen, unless it does not beat naive, in which case naive is chosen and the reason
    says so. With fewer points drift (or naive) is used without a backtest, and the reason
    says why. With no point at all there is no forecast.
    """
    sample = series.sample()
    n = len(sample)
    notes = []
    if series.note:
        notes.append(series.note)
    if "interpolated" in set(series.origin):
        notes.append(
            "Interpolated years (flagged) are part of the sample: interpolation was "
            "requested by parameter."
        )
    if "derived" in set(series.origin.loc[sample.index]) if n else False:
        notes.append("Some years are derived from quarterly figures (flagged 'derived').")
    fp = data_fingerprint(
        {"series": sample.round(6).to_json(), "settings": repr(asdict(settings))}
    )
    empty = pd.DataFrame(columns=["year", "median", *_bound_cols(settings.levels)])
    if n == 0:
        return FlowForecast(
            series,
            settings,
            pd.DataFrame(),
            None,
            "no published value: no forecast (nothing is fabricated)",
            empty,
            fp,
            notes,
        )
    last = int(sample.index.max())
    h = settings.horizon_year - last
    eligible = [m for m in settings.models if n >= MIN_POINTS[m]]
    # A model enters the backtest only if all entrants can be scored on enough forecasts.
    while len(eligible) > 2 and _n_forecasts(n, eligible, settings) < MIN_BACKTEST_FORECASTS:
        eligible = [m for m in eligible if MIN_POINTS[m] < max(MIN_POINTS[e] for e in eligible)]
    bt = pd.DataFrame()
    if _n_forecasts(n, eligible, settings) >= MIN_BACKTEST_FORECASTS:
        bt = backtest(
            sample.to_numpy(),
            eligible,
            min_train=settings.min_train,
            horizon=settings.backtest_horizon,
        )
        scored = bt["MASE"].dropna()
        best = str(scored.idxmin()) if len(scored) else "naive"
        if best != "naive" and "naive" in scored and scored[best] >= scored["naive"]:
            best = "naive"
        if best == "naive":
            reason = (
                f"naive: no model beat the naive baseline in the backtest "
                f"(naive MASE {scored.get('naive', np.nan):.2f})"
            )
        else:
            reason = (
                f"{best}: lowest backtest MASE ({scored[best]:.2f} vs naive "
                f"{scored.get('naive', np.nan):.2f})"
            )
        skipped = [m for m in settings.models if m not in eligible]
        if skipped:
            notes.append(f"Not tried ({n} points): {', '.join(skipped)}.")
    elif n >= 4:
        best = "drift"
        reason = (
            f"drift without backtest: only {n} consecutive years ({_span(sample)}); "
            f"a backtest needs {MIN_BACKTEST_FORECASTS} forecasts and the state-space "
            f"models {MIN_POINTS['ets']} years"
        )
    elif n == 3:
        best = "naive"
        reason = (
            f"naive without backtest: only 3 consecutive years ({_span(sample)}), too "
            "few to estimate a drift and its spread; the interval rests on 2 changes"
        )
    else:
        best = "naive"
        reason = (
            f"naive without backtest: {count(n, 'consecutive_years')} ({_span(sample)}); no "
            "spread can be estimated, so no interval"
        )
    if n < 4:
        notes.append(
            "Too few changes to estimate the spread reliably: intervals are missing "
            "or very uncertain."
        )
    if h <= 0:
        return FlowForecast(
            series,
            settings,
            bt,
            best,
            reason + "; horizon not after the last observation",
            empty,
            fp,
            notes,
        )
    path = forecast_path(np.log(sample), best, h, settings.levels)
    fc = pd.DataFrame(
        {"year": np.arange(last + 1, last + h + 1), "median": np.exp(path["mean"].to_numpy())}
    )
    for col in _bound_cols(settings.levels):
        fc[col] = np.exp(path[col].to_numpy())
    if len(bt) and best in bt.index and not pd.isna(bt.loc[best, "coverage_80"]):
        cov = float(bt.loc[best, "coverage_80"])
        if cov < 0.65:
            notes.append(
                f"In the backtest the 80 % interval held the actual value in only "
                f"{cov:.0%} of {int(bt.loc[best, 'n_forecasts'])} forecasts: read the "
                "intervals as too narrow."
            )
    if last < int(series.values.index.max()):
        notes.append(
            f"Last observation {last}: the forecast starts from it; later years "
            "are forecast, not observed."
        )
    return FlowForecast(series, settings, bt, best, reason, fc, fp, notes)


def _n_forecasts(n: int, models: Sequence[str], settings: ForecastSettings) -> int:
    """Number of backtest forecasts the common origins give."""
    if not models:
        return 0
    first = max(settings.min_train, *(MIN_POINTS[m] for m in models))
    return sum(min(settings.backtest_horizon, n - t) for t in range(first, n))


def _bound_cols(levels: Sequence[float]) -> list[str]:
    cols = []
    for level in levels:
        pct = round(level * 100)
        cols += [f"lo_{pct}", f"hi_{pct}"]
    return cols


def prob_at_least(fc: FlowForecast, year: int, threshold: float) -> float:
    """P(value >= threshold) in ``year`` under the forecast's log-normal predictive.

    The log-scale standard deviation is recovered from the 80 % interval; NaN when the
    forecast has no interval for that year.
    """
    row = fc.forecast[fc.forecast["year"] == year]
    if row.empty or "lo_80" not in row or pd.isna(row["lo_80"].iloc[0]):
        return math.nan
    lo, hi, med = (float(row[c].iloc[0]) for c in ("lo_80", "hi_80", "median"))
    sigma = (math.log(hi) - math.log(lo)) / (2 * _z(0.8))
    if sigma <= 0:
        return float(med >= threshold)
    return float(1 - stats.norm.cdf((math.log(threshold) - math.log(med)) / sigma))
