"""Sector shares: shrinkage towards the national series, the pooled share spread, the share
model's joint draws with a national path, and the pooled growth backtest of sector series.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.data.ledger import Ledger

from .models import rw_shocks

#: Prior weight (in years of own data) of "the sector grows like the nation" in the share model.
SHARE_PRIOR_YEARS = 3.0

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
    prior_years: float = SHARE_PRIOR_YEARS,
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


def _usable(obs: pd.DataFrame, end_year: int, excluded_flags: Sequence[str]) -> pd.DataFrame:
    """Rows up to ``end_year`` with a positive value and none of ``excluded_flags``."""
    obs = obs[obs["year"] <= end_year]
    bad = obs["flags"].fillna("").apply(lambda f: any(x in f.split(";") for x in excluded_flags))
    return obs[~bad & (obs["value_idr_bn"] > 0)]


def _sector_realisation(ledger: Ledger) -> pd.DataFrame:
    return ledger.select(region="IDN", partner_iso3="WLD", concept="realisation", period="FY")


def pooled_share_sd(ledger: Ledger, end_year: int, excluded_flags: Sequence[str]) -> float:
    """Yearly sd of sector-share log changes, pooled across every sector series in the ledger.

    Full-year realisation up to ``end_year``; a point flagged with any of ``excluded_flags``
    is left out. NaN with fewer than three changes.
    """
    obs = _usable(_sector_realisation(ledger), end_year, excluded_flags)
    nat = obs[obs["sector"] == "all"].set_index(["measure", "year"])["value_idr_bn"]
    changes = []
    for (_, m), g in obs[obs["sector"] != "all"].groupby(["sector", "measure"]):
        v = g.set_index("year")["value_idr_bn"]
        share = v / np.asarray([nat.get((m, y), np.nan) for y in v.index], dtype=float)
        changes += list(share_changes(share))
    if len(changes) < 3:
        return math.nan
    c = np.asarray(changes)
    return float(np.sqrt(np.mean((c - c.mean()) ** 2) * len(c) / (len(c) - 1)))


def sector_share_draws(
    share: pd.Series,
    years: Sequence[int],
    national_draws: np.ndarray,
    rng: np.random.Generator,
    *,
    draws: int | None = None,
    pooled_sd: float,
    anchor: tuple[int, float] | None = None,
    prior_years: float = SHARE_PRIOR_YEARS,
) -> tuple[np.ndarray, dict]:
    """Joint draws of a sector series as its shrunk share times the national path.

    ``share`` is the sector's yearly share of its national series; ``national_draws`` holds
    the national path's draws (``draws`` x years, one column per year of ``years``; ``draws``
    defaults to its number of rows and must equal it). The share
    path is :func:`shrunk_share_forecast` with random-walk shocks of ``pooled_sd`` (0 when
    not finite), capped at 1, so each sector path stays below its national path.

    Returns
    -------
    (numpy.ndarray, dict)
        The sector draws (same shape as ``national_draws``) and the share forecast's
        ``attrs`` (``weight``, ``own_drift``, ``n_changes``, ``anchor_share``, ...).
    """
    fc = shrunk_share_forecast(
        share, years, pooled_sd=pooled_sd if np.isfinite(pooled_sd) else 0.0,
        prior_years=prior_years, anchor=anchor,
    )  # fmt: skip
    n = national_draws.shape[0] if draws is None else draws
    if national_draws.shape != (n, len(years)):
        raise ValueError(
            f"national_draws has shape {national_draws.shape}, expected ({n}, {len(years)})"
        )
    w = rw_shocks(rng, n, len(years))
    sh = np.minimum(
        np.exp(fc["log_share"].to_numpy()[None, :] + fc["sd_log"].to_numpy()[None, :] * w), 1.0
    )
    return sh * national_draws, dict(fc.attrs)


def pooled_growth_backtest(
    ledger: Ledger, end_year: int, excluded_flags: Sequence[str], min_pairs: int = 3
) -> pd.DataFrame:
    """One-step backtest of sector forecasts: no change against pooled growth.

    For every sector series (every sector in the ledger but ``all``, full-year realisation up
    to ``end_year`` without ``excluded_flags``) and every pair of consecutive years (y-1, y):
    *no change* forecasts y by y-1; *pooled growth* multiplies y-1 by exp(mean log growth of
    every sector pair that ended before y), once at least ``min_pairs`` such pairs exist.
    Both are scored on the same forecasts.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``n``, ``mape``, ``median_ape`` (percent) and ``pooled_growth``
        (the last pooled mean log growth, as a yearly rate).
    """
    obs = _sector_realisation(ledger)
    obs = _usable(obs[obs["sector"] != "all"], end_year, excluded_flags)
    pairs = []
    for (_, _), g in obs.groupby(["sector", "measure"]):
        v = g.set_index("year")["value_idr_bn"].sort_index()
        for y in v.index:
            if y - 1 in v.index:
                pairs.append((int(y), float(v[y - 1]), float(v[y])))
    pairs.sort()
    rows = []
    growth = math.nan
    for y, prev, cur in pairs:
        past = [math.log(c / p) for yy, p, c in pairs if yy < y]
        if len(past) < min_pairs:
            continue
        growth = float(np.mean(past))
        rows.append(
            {
                "year": y,
                "naive": abs(prev - cur) / cur * 100,
                "pooled": abs(prev * math.exp(growth) - cur) / cur * 100,
            }
        )
    if not rows:
        return pd.DataFrame(columns=["model", "n", "mape", "median_ape", "pooled_growth"])
    f = pd.DataFrame(rows)
    return pd.DataFrame(
        [
            {
                "model": label,
                "n": len(f),
                "mape": float(f[col].mean()),
                "median_ape": float(f[col].median()),
                "pooled_growth": math.exp(growth) - 1 if col == "pooled" else np.nan,
            }
            for col, label in (("naive", "no change"), ("pooled", "pooled growth across sectors"))
        ]
    )
