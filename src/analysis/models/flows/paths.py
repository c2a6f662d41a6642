"""Beyond the backtest: scenario paths, not intervals; history extremes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

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
                f"recent trend: {math.exp(g_trend) - 1:+.1%} a year, the mean growth of {span}",
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
