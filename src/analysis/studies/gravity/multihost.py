"""The multi-host gravity model on cached bilateral positions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.models.gravity import fit_multihost as fit_multihost

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
    from analysis.models.partners import capital, haversine

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
        a, b = capital(h), capital(c)
        dist[(h, c)] = math.log(haversine(a[:2], b[:2])) if a and b else np.nan
    pos["ldist"] = [
        dist[(h, c)] for h, c in zip(pos["reporter_iso3"], pos["counterpart_iso3"], strict=True)
    ]
    no_dist = pos["ldist"].isna()
    dropped = pd.concat([dropped, pos[no_dist].assign(reason="no capital coordinates")])
    pos = pos[~no_dist]
    cov = pos[["reporter_iso3", "counterpart_iso3", "year", "ldist"]]
    return pos[["reporter_iso3", "counterpart_iso3", "year", "value"]], cov, dropped


# -- multi-host PPML ------------------------------------------------------------------------
