"""Sector share forecasts of the flows study: the rows and the sentence of the share model
(the model itself, with the pooled spread and the pooled growth backtest, is
:mod:`analysis.models.flows.shares`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.base.i18n import count
from analysis.models.flows import (
    SHARE_PRIOR_YEARS,
    sector_share_draws,
)
from analysis.models.flows.national import _quantiles

from .settings import _PERIOD_ORDER
from .views import _rows


def _span(run: pd.Series) -> str:
    return f"{run.index.min()}-{run.index.max()}" if len(run) else "none"


def _sector_share_forecast(clean, national, nat_paths, years, s, rng, pooled_sd, shares):
    """Sector = national path x shrunk share path; returns the rows and a sentence."""
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
    draws, a = sector_share_draws(
        share, years, nat_paths, rng, draws=s.draws, pooled_sd=pooled_sd, anchor=anchor
    )
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
