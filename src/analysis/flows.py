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

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.data.ledger import Ledger
from analysis.data.provenance import data_fingerprint
from analysis.summary import Summary

__all__ = [
    "MODELS",
    "SCENARIO_PATHS",
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
    "rw_shocks",
    "scenario_paths",
    "share_changes",
    "shrunk_share_forecast",
]

MODELS: tuple[str, ...] = ("naive", "drift", "ets", "arima", "llt")
#: Fewest points each model is fitted on. Below 8 annual points the state-space models'
#: estimates are noise, so they are not tried at all.
MIN_POINTS: dict[str, int] = {"naive": 1, "drift": 2, "ets": 8, "arima": 8, "llt": 8}
#: Fewest backtest forecasts on which a model choice is made.
MIN_BACKTEST_FORECASTS = 6
MODEL_LABELS = {
    "naive": "naive (random walk)",
    "drift": "drift (random walk with drift)",
    "ets": "ETS(A,Ad,N) on logs",
    "arima": "ARIMA(1,1,0) with drift on logs",
    "llt": "local linear trend (unobserved components) on logs",
}


# --- series -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowSeries:
    """An annual investment series from the ledger, gaps kept as NaN.

    Attributes
    ----------
    values
        Index: every year from start to end; NaN where nothing is published.
    origin
        ``published``, ``derived``, ``interpolated`` or ``missing`` per year.
    """

    sector: str
    measure: str
    unit: str
    values: pd.Series
    origin: pd.Series
    flags: pd.Series
    sources: pd.Series
    note: str = ""

    @property
    def n_observed(self) -> int:
        """Years with a value (published, derived or interpolated)."""
        return int(self.values.notna().sum())

    def sample(self) -> pd.Series:
        """The last unbroken run of years with values: what models are fitted on."""
        v = self.values
        if v.notna().sum() == 0:
            return v.iloc[0:0]
        last = v.last_valid_index()
        run = v.loc[:last]
        gaps = run[run.isna()]
        start = gaps.index.max() + 1 if len(gaps) else run.index.min()
        return run.loc[start:].astype(float)

    def to_frame(self) -> pd.DataFrame:
        """Year, value, unit, origin, flags and sources in one table."""
        return pd.DataFrame(
            {
                "year": self.values.index,
                "sector": self.sector,
                "measure": self.measure,
                "value": self.values.to_numpy(),
                "unit": self.unit,
                "origin": self.origin.to_numpy(),
                "flags": self.flags.to_numpy(),
                "sources": self.sources.to_numpy(),
            }
        )


def build_series(
    ledger: Ledger,
    sector: str,
    measure: str,
    start: int,
    end: int,
    *,
    interpolate: bool = False,
    include_derived: bool = True,
    currency: str = "auto",
) -> FlowSeries:
    """Full-year series of one sector and measure, national, from the ledger.

    Parameters
    ----------
    ledger
        The investment ledger.
    sector, measure
        Ledger codes (``chem_pharma``, ``pma``).
    start, end
        Years of the index.
    interpolate
        Fill interior gaps log-linearly (flagged ``interpolated``). Off by default: gaps
        stay gaps.
    include_derived
        Use FY values derived from quarters (flagged ``derived``).
    currency
        ``auto`` (the currency most years were printed in), ``IDR`` (Rp billion) or
        ``canonical`` (the measure's canonical unit: US$ million for PMA).
    """
    years = pd.Index(range(start, end + 1), name="year")
    obs = ledger.annual(measure, sector, include_derived=include_derived).set_index("year")
    obs = obs.reindex(years)
    canonical = str(obs["unit"].dropna().iloc[0]) if obs["unit"].notna().any() else ""
    if currency == "auto":
        # Model in the currency most years were printed in, so no exchange rate enters the
        # series (national PMA is published in rupiah, sector PMA in US$).
        printed = obs["unit_published"].dropna()
        idr = printed.str.startswith("Rp").sum()
        currency = "IDR" if idr > len(printed) / 2 else "canonical"
    if currency == "IDR":
        values = obs["value_idr_bn"].astype(float)
        unit = "Rp billion"
    elif currency == "canonical":
        values = obs["value"].astype(float)
        unit = canonical
    else:
        raise ValueError(f"currency must be 'auto', 'IDR' or 'canonical', got {currency!r}")
    values[values <= 0] = np.nan  # logs need positive values; a zero is not a flow level
    origin = obs["origin"].where(values.notna(), "missing").astype(object)
    flags = obs["flags"].fillna("").astype(object)
    sources = obs["sources"].fillna("").astype(object)
    if interpolate and values.notna().sum() >= 2:
        logs = np.log(values)
        inner = logs.loc[logs.first_valid_index() : logs.last_valid_index()]
        filled = inner.interpolate(method="index", limit_area="inside")
        new = filled.index[inner.isna() & filled.notna()]
        values.loc[new] = np.exp(filled.loc[new])
        origin.loc[new] = "interpolated"
        flags.loc[new] = "interpolated"
    return FlowSeries(sector, measure, unit, values, origin, flags, sources)


# --- models -------------------------------------------------------------------------------


def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def forecast_path(
    y_log: pd.Series, model: str, h: int, levels: Sequence[float] = (0.8, 0.95)
) -> pd.DataFrame:
    """Forecast ``h`` steps of a log series; return mean and interval bounds (log scale).

    Columns: ``mean``, and ``lo_<pct>``/``hi_<pct>`` for each level.
    """
    y = pd.Series(np.asarray(y_log, dtype=float))
    n = len(y)
    if n < MIN_POINTS[model]:
        raise ValueError(f"{model} needs at least {MIN_POINTS[model]} points, got {n}")
    steps = np.arange(1, h + 1)
    out = pd.DataFrame(index=steps)
    if model in ("naive", "drift"):
        d = np.diff(y.to_numpy())
        drift = float(d.mean()) if model == "drift" and len(d) else 0.0
        out["mean"] = y.iloc[-1] + drift * steps
        # Residual sd of the one-step method; unknown (NaN) with too few differences.
        resid = d - drift
        dof = len(d) - (1 if model == "drift" else 0)
        sigma = float(np.sqrt((resid**2).sum() / dof)) if dof >= 2 else np.nan
        if model == "naive":
            se = sigma * np.sqrt(steps)
        else:
            se = sigma * np.sqrt(steps * (1 + steps / max(len(d), 1)))
        for level in levels:
            pct = round(level * 100)
            # Student-t with the residual degrees of freedom: wider for short samples.
            q = float(stats.t.ppf(0.5 + level / 2, dof)) if dof >= 2 else np.nan
            out[f"lo_{pct}"] = out["mean"] - q * se
            out[f"hi_{pct}"] = out["mean"] + q * se
        return out
    with warnings.catch_warnings():
        # Short series make the optimisers talk; convergence is checked by the backtest.
        warnings.simplefilter("ignore")
        if model == "ets":
            from statsmodels.tsa.exponential_smoothing.ets import ETSModel

            res = ETSModel(y, error="add", trend="add", damped_trend=True).fit(disp=False)
            pred = res.get_prediction(start=n, end=n + h - 1)
            out["mean"] = np.asarray(pred.predicted_mean)
            for level in levels:
                frame = pred.summary_frame(alpha=1 - level)
                pct = round(level * 100)
                out[f"lo_{pct}"] = frame["pi_lower"].to_numpy()
                out[f"hi_{pct}"] = frame["pi_upper"].to_numpy()
            return out
        if model == "arima":
            from statsmodels.tsa.arima.model import ARIMA

            res = ARIMA(y, order=(1, 1, 0), trend="t").fit()
        elif model == "llt":
            from statsmodels.tsa.statespace.structural import UnobservedComponents

            res = UnobservedComponents(y, level="local linear trend").fit(disp=False)
        else:
            raise ValueError(f"unknown model {model!r}; expected one of {MODELS}")
        fc = res.get_forecast(h)
        out["mean"] = np.asarray(fc.predicted_mean)
        for level in levels:
            ci = np.asarray(fc.conf_int(alpha=1 - level))
            pct = round(level * 100)
            out[f"lo_{pct}"] = ci[:, 0]
            out[f"hi_{pct}"] = ci[:, 1]
    return out


def backtest_errors(
    y: pd.Series,
    models: Sequence[str] = MODELS,
    *,
    min_train: int = 6,
    horizon: int = 3,
    level: float = 0.8,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every rolling-origin forecast, scored one by one, and every failure recorded.

    For each origin t = t0, ..., n-1 every model is fitted on the first t points and
    forecasts up to ``horizon`` steps ahead; t0 = max(min_train, the largest minimum sample
    of the models), so all models are scored on the same forecasts.

    Returns
    -------
    errors
        One row per (model, origin, horizon): ``origin`` (the index label of the last training
        point: the origin year for a year-indexed series), ``horizon``, ``actual``,
        ``forecast`` (median), ``lo``/``hi``
        (the ``level`` interval), ``z`` (the log error over the interval's effective
        standard deviation, half-width / normal quantile), ``ape`` (percent) and ``ase``
        (absolute error over the mean absolute one-step naive change of the training data;
        Hyndman & Koehler 2006).
    failures
        One row per (model, origin) whose fit raised: the exception type and message. A
        failed fit is never silently dropped: the caller shows it.
    """
    years = pd.Index(y.index) if isinstance(y, pd.Series) else None
    values = np.asarray(y, dtype=float)
    n = len(values)
    z_level = _z(level)
    pct = round(level * 100)
    rows: list[dict[str, object]] = []
    failures: list[dict[str, object]] = []
    first = max(min_train, *(MIN_POINTS[m] for m in models))
    for model in models:
        for t in range(first, n):
            train = values[:t]
            origin = int(years[t - 1]) if years is not None else t
            scale = float(np.mean(np.abs(np.diff(train)))) if t > 1 else np.nan
            h = min(horizon, n - t)
            try:
                fc = forecast_path(np.log(train), model, h, levels=(level,))
            except Exception as exc:  # recorded and shown, never swallowed
                failures.append(
                    {
                        "model": model,
                        "origin": origin,
                        "error": f"{type(exc).__name__}: {exc}",
                    }
                )
                continue
            for i in range(h):
                actual = float(values[t + i])
                mean = float(fc["mean"].iloc[i])
                lo, hi = float(fc[f"lo_{pct}"].iloc[i]), float(fc[f"hi_{pct}"].iloc[i])
                sd = (hi - lo) / (2 * z_level) if np.isfinite(lo) else np.nan
                rows.append(
                    {
                        "model": model,
                        "origin": origin,
                        "horizon": i + 1,
                        "actual": actual,
                        "forecast": math.exp(mean),
                        "lo": math.exp(lo) if np.isfinite(lo) else np.nan,
                        "hi": math.exp(hi) if np.isfinite(hi) else np.nan,
                        "sd_log": sd,
                        "z": (math.log(actual) - mean) / sd if sd and sd > 0 else np.nan,
                        "ape": abs(actual - math.exp(mean)) / abs(actual) * 100,
                        "ase": abs(actual - math.exp(mean)) / scale if scale > 0 else np.nan,
                    }
                )
    cols = ["model", "origin", "horizon", "actual", "forecast", "lo", "hi", "sd_log", "z"]
    errors = pd.DataFrame(rows, columns=[*cols, "ape", "ase"])
    return errors, pd.DataFrame(failures, columns=["model", "origin", "error"])


def backtest(
    y: pd.Series,
    models: Sequence[str] = MODELS,
    *,
    min_train: int = 6,
    horizon: int = 3,
) -> pd.DataFrame:
    """Rolling-origin evaluation on the original scale, one row per model.

    Built on :func:`backtest_errors` (same origins for every model, so MASE values are
    comparable).

    Returns
    -------
    pandas.DataFrame
        One row per model: ``n_forecasts``, ``MASE``, ``MAPE`` (percent), ``coverage_80``
        (share of actuals inside the 80 % interval), ``failures`` (fits that raised) and
        ``errors`` (their messages, ``; ``-joined). A model that failed at some origins is
        scored on fewer forecasts, and these two columns say so.
    """
    errors, failures = backtest_errors(y, models, min_train=min_train, horizon=horizon)
    rows = []
    for model in models:
        e = errors[errors["model"] == model]
        f = failures[failures["model"] == model]
        inside = (e["actual"] >= e["lo"]) & (e["actual"] <= e["hi"])
        has_interval = e["lo"].notna()
        rows.append(
            {
                "model": model,
                "n_forecasts": len(e),
                "MASE": float(e["ase"].mean()) if e["ase"].notna().any() else np.nan,
                "MAPE": float(e["ape"].mean()) if len(e) else np.nan,
                "coverage_80": float(inside[has_interval].mean())
                if has_interval.any()
                else np.nan,
                "failures": len(f),
                "errors": "; ".join(
                    f"{o}: {m}" for o, m in zip(f["origin"], f["error"], strict=True)
                ),
            }
        )
    return pd.DataFrame(rows).set_index("model")


def horizon_table(errors: pd.DataFrame) -> pd.DataFrame:
    """Accuracy by model and horizon: ``n``, ``mase``, ``mape`` and ``coverage_80``.

    ``errors`` is the first output of :func:`backtest_errors` (80 % intervals).
    """
    if errors.empty:
        return pd.DataFrame(columns=["model", "horizon", "n", "mase", "mape", "coverage_80"])
    inside = ((errors["actual"] >= errors["lo"]) & (errors["actual"] <= errors["hi"])).where(
        errors["lo"].notna()
    )
    out = (
        errors.assign(inside=inside.astype(float))
        .groupby(["model", "horizon"], sort=False)
        .agg(
            n=("ape", "size"),
            mase=("ase", "mean"),
            mape=("ape", "mean"),
            coverage_80=("inside", "mean"),
        )
        .reset_index()
    )
    return out


def _conformal_quantile(values: np.ndarray, level: float) -> float:
    """Split-conformal quantile: the ceil((n+1) level)-th smallest value (max if beyond n)."""
    v = np.sort(np.asarray(values, dtype=float))
    if len(v) == 0:
        return math.nan
    k = math.ceil((len(v) + 1) * level)
    return float(v[min(k, len(v)) - 1])


def calibrate(
    errors: pd.DataFrame,
    horizons: int,
    *,
    level: float = 0.8,
    min_n: int = 3,
) -> pd.DataFrame:
    """Interval scale factors per horizon from backtest errors, with honest coverage.

    At each horizon h the factor is ``max(1, q / z)``: q is the split-conformal ``level``
    quantile of the absolute standardised log errors ``|z|`` of that horizon, z the normal
    quantile. Intervals are only widened, never narrowed: the models' own spread is a floor.
    Calibrated coverage is measured leave-one-out (each forecast is judged with the factor
    computed from the other forecasts of its horizon), so it is not scored on the errors
    that set it.

    Horizons with fewer than ``min_n`` scored forecasts are not backtested: they take the
    factor of the longest backtested horizon and are flagged ``backtested = False``.

    Parameters
    ----------
    errors
        Rows of one model from :func:`backtest_errors`.
    horizons
        Number of horizons the forecast shows.

    Returns
    -------
    pandas.DataFrame
        ``horizon``, ``n``, ``coverage_raw``, ``scale``, ``coverage_calibrated``,
        ``backtested``.

    References
    ----------
    Vovk, V., Gammerman, A. and Shafer, G. (2005), *Algorithmic Learning in a Random World*,
    Springer (split-conformal quantile).
    """
    z_level = _z(level)
    rows = []
    last_scale, last_h = 1.0, 0
    for h in range(1, horizons + 1):
        e = errors[(errors["horizon"] == h) & errors["z"].notna()] if len(errors) else errors
        absz = np.abs(e["z"].to_numpy(dtype=float)) if len(e) else np.array([])
        n = len(absz)
        if n >= min_n:
            scale = max(1.0, _conformal_quantile(absz, level) / z_level)
            loo = [
                absz[i]
                <= max(1.0, _conformal_quantile(np.delete(absz, i), level) / z_level) * z_level
                for i in range(n)
            ]
            rows.append(
                {
                    "horizon": h,
                    "n": n,
                    "coverage_raw": float(np.mean(absz <= z_level)),
                    "scale": scale,
                    "coverage_calibrated": float(np.mean(loo)),
                    "backtested": True,
                }
            )
            last_scale, last_h = scale, h
        else:
            rows.append(
                {
                    "horizon": h,
                    "n": n,
                    "coverage_raw": float(np.mean(absz <= z_level)) if n else np.nan,
                    "scale": last_scale,
                    "coverage_calibrated": np.nan,
                    "backtested": False,
                }
            )
    out = pd.DataFrame(rows)
    out.attrs["longest_backtested_horizon"] = last_h
    return out


def rw_shocks(rng: np.random.Generator, draws: int, horizons: int, corr: np.ndarray | None = None):
    """Standard-normal path shocks with random-walk dependence across horizons.

    ``w[h] = (e_1 + ... + e_h) / sqrt(h)``: each horizon is N(0, 1) and neighbouring horizons
    are correlated as the errors of a random walk's forecasts are. With ``corr`` (k x k) the
    innovations of k series are correlated; the result then has shape (draws, horizons, k).
    """
    k = 1 if corr is None else corr.shape[0]
    e = rng.standard_normal((draws, horizons, k))
    if corr is not None:
        e = e @ np.linalg.cholesky(corr).T
    w = np.cumsum(e, axis=1) / np.sqrt(np.arange(1, horizons + 1))[None, :, None]
    return w if corr is not None else w[..., 0]


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
            f"naive without backtest: {n} consecutive year(s) ({_span(sample)}); no "
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


# --- beyond the backtest: scenario paths, not intervals --------------------------------------

#: Scenario paths drawn beyond the backtested horizon (and beside the forecast inside it).
SCENARIO_PATHS: tuple[str, ...] = ("targets", "trend", "slowdown")


def scenario_paths(
    history: pd.Series,
    end_year: int,
    *,
    anchor_year: int | None = None,
    anchor_value: float | None = None,
    targets: pd.Series | None = None,
    trend_years: int = 5,
    slowdown_factor: float = 0.5,
) -> pd.DataFrame:
    """Deterministic "what if growth were ..." paths from the last known level: never intervals.

    Three paths, each a constant (or target-given) nominal growth rate from the anchor:

    - ``targets``: through every target after the anchor year, log-linearly between them (the
      growth the targets imply); it stops at the last target year;
    - ``trend``: the mean yearly log growth of the last ``trend_years`` changes of ``history``;
    - ``slowdown``: ``slowdown_factor`` times the trend growth.

    Parameters
    ----------
    history
        Full-year values by year (published; NaN gaps allowed).
    end_year
        Last year of the paths.
    anchor_year, anchor_value
        Where the paths start (default: the last year of ``history`` and its value); e.g. a
        nowcast year and its median.
    targets
        Target values by year, same unit as ``history``.

    Returns
    -------
    pandas.DataFrame
        ``path``, ``year``, ``value``, ``growth`` (the yearly rate into that year) and
        ``basis`` (a sentence saying where the growth comes from). Empty without history.
    """
    h = history.dropna().astype(float)
    h = h[h > 0]
    if h.empty:
        return pd.DataFrame(columns=["path", "year", "value", "growth", "basis"])
    a_year = int(anchor_year if anchor_year is not None else h.index.max())
    a_value = float(anchor_value if anchor_value is not None else h.loc[a_year])
    logs = np.log(h)
    d = logs.diff().dropna()
    d = d[d.index.to_series().diff().fillna(1).eq(1)]  # consecutive years only
    recent = d.iloc[-trend_years:]
    g_trend = float(recent.mean()) if len(recent) else math.nan
    years = np.arange(a_year + 1, end_year + 1)
    rows: list[dict[str, object]] = []
    if np.isfinite(g_trend):
        span = f"{int(recent.index.min()) - 1}-{int(recent.index.max())}"
        for name, g, basis in (
            (
                "trend",
                g_trend,
                f"recent trend: {math.exp(g_trend) - 1:+.1%} a year, the mean growth of "
                f"{span}",
            ),
            (
                "slowdown",
                slowdown_factor * g_trend,
                f"slowdown: {math.exp(slowdown_factor * g_trend) - 1:+.1%} a year, "
                f"{slowdown_factor:g} x the recent trend",
            ),
        ):
            for y in years:
                rows.append(
                    {
                        "path": name,
                        "year": int(y),
                        "value": a_value * math.exp(g * (y - a_year)),
                        "growth": math.exp(g) - 1,
                        "basis": basis,
                    }
                )
    if targets is not None:
        t = targets.dropna().astype(float)
        t = t[(t.index > a_year) & (t.index <= end_year) & (t > 0)].sort_index()
        if len(t):
            knots = pd.concat([pd.Series({a_year: a_value}), t])
            g_all = math.log(t.iloc[-1] / a_value) / (int(t.index[-1]) - a_year)
            basis = (
                f"growth the targets imply: {math.exp(g_all) - 1:+.1%} a year from {a_year} "
                f"to the {int(t.index[-1])} target"
            )
            for y in range(a_year + 1, int(t.index[-1]) + 1):
                after = knots[knots.index >= y].index[0]
                before = knots[knots.index < y].index[-1]
                g = math.log(knots[after] / knots[before]) / (after - before)
                rows.append(
                    {
                        "path": "targets",
                        "year": int(y),
                        "value": float(knots[before] * math.exp(g * (y - before))),
                        "growth": math.exp(g) - 1,
                        "basis": basis,
                    }
                )
    out = pd.DataFrame(rows, columns=["path", "year", "value", "growth", "basis"])
    order = {p: i for i, p in enumerate(SCENARIO_PATHS)}
    return out.sort_values(["path", "year"], key=lambda s: s.map(order) if s.name == "path" else s)


def history_extremes(history: pd.Series) -> dict[str, float]:
    """Largest one-year growth and fall of a series (consecutive years), with their years."""
    h = history.dropna().astype(float)
    h = h[h > 0]
    g = (h / h.shift(1) - 1)[h.index.to_series().diff().eq(1)].dropna()
    if g.empty:
        return {"max_growth": math.nan, "max_growth_year": math.nan}
    return {"max_growth": float(g.max()), "max_growth_year": int(g.idxmax())}


def exceeds_history(
    history: pd.Series, anchor_year: int, anchor_value: float, year: int, bound: float
) -> tuple[bool, float]:
    """Whether reaching ``bound`` in ``year`` needs yearly growth above any the series has had.

    Returns the flag and the implied yearly growth from ``anchor_value`` in ``anchor_year``.
    """
    ext = history_extremes(history)
    steps = year - anchor_year
    if steps <= 0 or not np.isfinite(bound) or anchor_value <= 0:
        return False, math.nan
    implied = (bound / anchor_value) ** (1 / steps) - 1
    return bool(np.isfinite(ext["max_growth"]) and implied > ext["max_growth"]), implied


# --- sector shares: shrinkage towards the national series -------------------------------------


def share_changes(shares: pd.Series) -> pd.Series:
    """Yearly log changes of a share series over consecutive years only (index: later year)."""
    s = shares.dropna().astype(float)
    s = s[(s > 0) & (s < 1)]
    d = np.log(s).diff()
    return d[s.index.to_series().diff().eq(1)].dropna()


def shrunk_share_forecast(
    shares: pd.Series,
    years: Sequence[int],
    *,
    pooled_sd: float,
    prior_years: float = 3.0,
    anchor: tuple[int, float] | None = None,
) -> pd.DataFrame:
    """Forecast a sector's share of its national series, its trend shrunk towards no change.

    The share starts at its latest value (or at ``anchor``, a later partial-year share, as
    ``(year, share)``) and moves by the mean yearly log change of its own
    consecutive years, multiplied by ``w = n / (n + prior_years)`` (n changes): with few
    changes the sector is assumed to grow like the national series (the share holds), with
    many it keeps its own trend. The spread is ``pooled_sd`` per year (a random walk), a
    yearly sd of share changes pooled across all sectors, since one sector's few changes
    cannot estimate it.

    Returns
    -------
    pandas.DataFrame
        ``year``, ``log_share`` (centre), ``sd_log``, with ``attrs`` ``weight``,
        ``own_drift``, ``drift``, ``n_changes``, ``anchor_year``, ``anchor_share``.
    """
    s = shares.dropna().astype(float)
    s = s[(s > 0) & (s < 1)]
    if s.empty:
        raise ValueError("no share between 0 and 1 to forecast from")
    d = share_changes(s)
    n = len(d)
    own = float(d.mean()) if n else 0.0
    w = n / (n + prior_years)
    drift = w * own
    a_year, a_share = int(s.index.max()), float(s.iloc[-1])
    if anchor is not None and anchor[0] > a_year and 0 < anchor[1] < 1:
        # A later partial-year share (e.g. January-September) is the better starting point.
        a_year, a_share = int(anchor[0]), float(anchor[1])
    steps = np.asarray(years, dtype=int) - a_year
    if np.any(steps <= 0):
        raise ValueError(f"forecast years must be after the last share ({a_year})")
    out = pd.DataFrame(
        {
            "year": np.asarray(years, dtype=int),
            "log_share": math.log(a_share) + drift * steps,
            "sd_log": pooled_sd * np.sqrt(steps),
        }
    )
    out.attrs.update(
        weight=w, own_drift=own, drift=drift, n_changes=n, anchor_year=a_year,
        anchor_share=a_share,
    )  # fmt: skip
    return out
