"""Sector share forecasting of the flows study: the pooled share model and the pooled growth
backtest.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.data.ledger import Ledger
from analysis.flows import (
    rw_shocks,
)
from analysis.flows.national import _quantiles
from analysis.i18n import count

from .settings import _PERIOD_ORDER, EXCLUDED_FLAGS
from .views import _rows


def _span(run: pd.Series) -> str:
    return f"{run.index.min()}-{run.index.max()}" if len(run) else "none"


#: Prior weight (in years of own data) of "the sector grows like the nation" in the share model.
SHARE_PRIOR_YEARS = 3.0


def pooled_share_sd(ledger: Ledger, end_year: int) -> float:
    """Yearly sd of sector-share log changes, pooled across every sector series in the ledger."""
    from analysis.flows import share_changes

    obs = ledger.select(region="IDN", partner_iso3="WLD", concept="realisation", period="FY")
    obs = obs[obs["year"] <= end_year]
    bad = obs["flags"].fillna("").apply(lambda f: any(x in f.split(";") for x in EXCLUDED_FLAGS))
    obs = obs[~bad & (obs["value_idr_bn"] > 0)]
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


def _sector_share_forecast(clean, national, nat_paths, years, s, rng, pooled_sd, shares):
    """Sector = national path x shrunk share path; returns the rows and a sentence."""
    from analysis.flows import shrunk_share_forecast

    v = clean.values.dropna()
    share = (v / national.reindex(v.index)).dropna()
    anchor, anchor_text = None, f"the latest full-year share ({int(share.index.max())}"
    part = shares[(shares["sector"] == clean.sector) & (shares["measure"] == clean.measure)
                  & shares["period"].isin(["H1", "9M"])]  # fmt: skip
    if len(part):
        r = part.assign(_p=part["period"].map(_PERIOD_ORDER)).sort_values(["year", "_p"]).iloc[-1]
        if int(r["year"]) > int(share.index.max()):
            anchor = (int(r["year"]), float(r["share"]))
            anchor_text = f"its latest cumulative share ({r['period']} {int(r['year'])}"
    fc = shrunk_share_forecast(
        share, years, pooled_sd=pooled_sd if np.isfinite(pooled_sd) else 0.0,
        prior_years=SHARE_PRIOR_YEARS, anchor=anchor,
    )  # fmt: skip
    a = fc.attrs
    w = rw_shocks(rng, s.draws, len(years))
    sh = np.minimum(
        np.exp(fc["log_share"].to_numpy()[None, :] + fc["sd_log"].to_numpy()[None, :] * w), 1.0
    )
    draws = sh * nat_paths
    h = len(years)
    rows = _rows(
        f"{clean.sector}_{clean.measure}", "nominal", "Rp billion (nominal)", years,
        np.median(draws, axis=0), _quantiles(draws), "forecast", np.zeros(h, dtype=bool),
        f"share of national, shrunk (w = {a['weight']:.2f})",
    )  # fmt: skip
    how = (
        f"forecast as its share of national {clean.measure.upper()}: held at {anchor_text}: "
        f"{a['anchor_share']:.2%}) and moved by its own "
        f"trend ({math.exp(a['own_drift']) - 1:+.1%} a year over "
        f"{count(a['n_changes'], 'changes')}) "
        f"shrunk towards the national series by w = n / (n + {SHARE_PRIOR_YEARS:g}) = "
        f"{a['weight']:.2f}, so a sector with few years grows like the nation; the spread is "
        f"the yearly share change pooled across all sectors (sd {pooled_sd:.2f} on the log "
        "scale). Each path stays below the national path."
    )
    return rows, how


def pooled_growth_backtest(ledger: Ledger, end_year: int, min_pairs: int = 3) -> pd.DataFrame:
    """One-step backtest of sector forecasts: no change against pooled growth.

    For every sector series (every sector in the ledger but ``all``, usable points only) and
    every pair of consecutive years (y-1, y): *no change* forecasts y by y-1; *pooled growth*
    multiplies y-1 by exp(mean log growth of every sector pair that ended before y), once at
    least ``min_pairs`` such pairs exist. Both are scored on the same forecasts.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``n``, ``mape``, ``median_ape`` (percent) and ``pooled_growth``
        (the last pooled mean log growth, as a yearly rate).
    """
    obs = ledger.select(region="IDN", partner_iso3="WLD", concept="realisation", period="FY")
    obs = obs[(obs["sector"] != "all") & (obs["year"] <= end_year)]
    bad = obs["flags"].fillna("").apply(lambda f: any(x in f.split(";") for x in EXCLUDED_FLAGS))
    obs = obs[~bad & (obs["value_idr_bn"] > 0)]
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
