"""The multi-host gravity model on cached bilateral positions."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.gravity import GravityResult, fit_gravity

from .settings import GravityStudyError

OFFLINE = "offline"
#: Label of the multi-host model (used when IMF Direct Investment Positions are cached).
MULTIHOST_LABEL = (
    "Multi-host PPML on IMF Direct Investment Positions (host-year and source-year effects)"
)


def cached_positions() -> pd.DataFrame | None:
    """IMF Direct Investment Positions from the fetch cache (``mitra data fetch dip``).

    Returns None when the loaders are not installed or nothing is cached (offline); a cached
    file that was changed or no longer parses is an error, not "offline".
    """
    try:
        from analysis.data.loaders import fetched_positions
    except ImportError:
        return None
    positions = fetched_positions()
    return positions if len(positions) else None


def _positions_fingerprint(positions: pd.DataFrame | None) -> str:
    if positions is None:
        return OFFLINE
    return str(pd.util.hash_pandas_object(positions, index=False).sum())


def _multihost_inputs(positions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Positions in US$ million (>= 0), pair covariates, and the rows left out with reasons."""
    from analysis.partners import _capital, _haversine

    pos = positions.copy()
    if "indicator" in pos.columns:
        pos = pos[pos["indicator"] == "fdi_inward_position_usd"]
    # The loader's positions are in US$ billion (its `unit` column says so).
    if "unit" in pos.columns:
        bad_unit = pos[~pos["unit"].astype(str).str.startswith("US$ billion")]
        if len(bad_unit):
            raise GravityStudyError(
                f"IMF positions: unit {bad_unit['unit'].iloc[0]!r} in row {bad_unit.index[0]}; "
                "expected 'US$ billion (current)'"
            )
    pos["value"] = pd.to_numeric(pos["value"], errors="coerce") * 1000
    negative = pos["value"] < 0
    missing = pos["value"].isna()
    dropped = pd.concat(
        [
            pos[negative].assign(
                reason="negative position (net debt of the investor): PPML needs >= 0"
            ),
            pos[missing].assign(reason="no value"),
        ]
    )
    pos = pos[~negative & ~missing]
    pairs = pos[["reporter_iso3", "counterpart_iso3"]].drop_duplicates()
    dist = {}
    for h, c in pairs.itertuples(index=False):
        a, b = _capital(h), _capital(c)
        dist[(h, c)] = math.log(_haversine(a[:2], b[:2])) if a and b else np.nan
    pos["ldist"] = [
        dist[(h, c)] for h, c in zip(pos["reporter_iso3"], pos["counterpart_iso3"], strict=True)
    ]
    no_dist = pos["ldist"].isna()
    dropped = pd.concat([dropped, pos[no_dist].assign(reason="no capital coordinates")])
    pos = pos[~no_dist]
    cov = pos[["reporter_iso3", "counterpart_iso3", "year", "ldist"]]
    return pos[["reporter_iso3", "counterpart_iso3", "year", "value"]], cov, dropped


# -- multi-host PPML ------------------------------------------------------------------------


def fit_multihost(
    positions: pd.DataFrame,
    covariates: pd.DataFrame,
    *,
    x: Sequence[str] = ("ldist", "agreement"),
    pair_fe: bool | None = None,
    host: str = "IDN",
) -> tuple[GravityResult, pd.DataFrame]:
    """PPML on a multi-host FDI panel (IMF Direct Investment Positions) and the host's potential.

    Parameters
    ----------
    positions
        ``reporter_iso3`` (host), ``counterpart_iso3`` (source), ``year``, ``value`` (inward
        position, >= 0).
    covariates
        Bilateral covariates by ``reporter_iso3, counterpart_iso3, year`` (columns ``x``).
    pair_fe
        Add pair fixed effects (identifies only time-varying regressors); default: when some
        regressor varies within pairs.

    Returns
    -------
    (fit, potential)
        The PPML fit with host-year and source-year effects (plus pair effects if used), and
        the predicted positions into ``host`` by source and year from the host-year and
        source-year effects and the covariates (the pair effect left out: potential is what
        gravity predicts for the pair, not its own history).
    """
    d = positions.merge(covariates, on=["reporter_iso3", "counterpart_iso3", "year"], how="left")
    d["host_year"] = d["reporter_iso3"] + "_" + d["year"].astype(str)
    d["source_year"] = d["counterpart_iso3"] + "_" + d["year"].astype(str)
    d["pair"] = d["reporter_iso3"] + "_" + d["counterpart_iso3"]
    varying = [t for t in x if d.groupby("pair")[t].nunique().gt(1).any()]
    if pair_fe is None:
        pair_fe = bool(varying)
    base = fit_gravity(d, "value", list(x), ["host_year", "source_year"])
    fit = (
        fit_gravity(d, "value", varying, ["host_year", "source_year", "pair"])
        if pair_fe and varying
        else base
    )
    target = d[d["reporter_iso3"] == host]
    pred = base.predict(target)
    pot = (
        target[["counterpart_iso3", "year", "value"]]
        .rename(columns={"counterpart_iso3": "partner_iso3", "value": "actual"})
        .assign(
            predicted=pred["predicted"].to_numpy(),
            lo=pred["ci_low"].to_numpy(),
            hi=pred["ci_high"].to_numpy(),
        )
    )
    return fit, pot.reset_index(drop=True)
