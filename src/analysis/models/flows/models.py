"""Forecasting models of flows: forecast paths, backtests, horizon tables, conformal calibration,
random-walk shocks.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

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
