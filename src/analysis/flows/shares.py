"""Sector shares: shrinkage towards the national series."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

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
