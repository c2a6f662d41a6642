"""Preparation of the ranking: everything that does not change between draws (outliers, hubs)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.base.i18n import count

from .inputs import IndicatorSet
from .settings import KURT_LIMIT, SKEW_LIMIT, WINSOR_MAX_POINTS, RankingSettings, effective_weights

# --- preparation: everything that does not change between draws -----------------------------


@dataclass
class _Prepared:
    partners: list[str]
    codes: list[str]
    pillars: list[str]
    pillar_of: np.ndarray  # (K,) pillar index per indicator
    membership: np.ndarray  # (K, Pl) 0/1
    directions: np.ndarray  # (K,)
    weights: pd.DataFrame  # effective_weights()
    w: np.ndarray  # (K,) effective weights
    pw: np.ndarray  # (Pl,) pillar weights
    v: np.ndarray  # (K,) weights within pillar
    X_hub: np.ndarray  # (3, P, K): data under as_is / discounted / excluded (censored: lower)
    cens_idx: tuple[np.ndarray, np.ndarray]  # censored cells (partner, indicator)
    lo_hub: np.ndarray  # (3, C)
    hi_hub: np.ndarray  # (3, C)
    noisy: np.ndarray  # (K,) bool
    observed: np.ndarray  # (P, K) observed value
    censored: np.ndarray  # (P, K) censored (interval)
    hub_cells: np.ndarray  # (P, K) hub partner x hub-sensitive indicator
    hub: np.ndarray  # (P,) bool
    pillar_coverage: np.ndarray  # (P, Pl)
    coverage: np.ndarray  # (P,)
    outliers: pd.DataFrame
    caps: np.ndarray  # (2, K) winsorisation caps (-inf/inf: none)
    log_shift: np.ndarray  # (K,) NaN: no log; else log(x - shift + 1)
    treated: np.ndarray  # (K,) bool: an outlier treatment applies
    gap_cols: np.ndarray  # (K,) bool: the column can have a gap (missing or hub-excluded)
    # Routed cells (IndicatorSet.routed): their index among the censored cells, and whether
    # the upper bound is the ultimate-investor view.
    routed_cols: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    routed_upper: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    # Per-dtype constants of the evaluation (draws._constants), built on first use.
    cache: dict = field(default_factory=dict, repr=False, compare=False)


def _skew_kurt(x: np.ndarray) -> tuple[float, float]:
    if len(x) < 4 or np.ptp(x) == 0:
        return 0.0, 0.0
    return float(stats.skew(x, bias=False)), float(stats.kurtosis(x, bias=False))


def _outlying(x: np.ndarray) -> bool:
    s, k = _skew_kurt(x)
    return abs(s) > SKEW_LIMIT and k > KURT_LIMIT


def _outlier_plan(
    X: np.ndarray, codes: list[str], method: str
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """COINr's outlier rule and treatment per indicator, planned on the observed values."""
    caps = np.vstack([np.full(len(codes), -np.inf), np.full(len(codes), np.inf)])
    shift = np.full(len(codes), np.nan)
    rows = []
    for k, code in enumerate(codes):
        x = X[:, k][~np.isnan(X[:, k])]
        s, kt = _skew_kurt(x)
        # A 0/1 (or few-valued) indicator is skewed by design, not by outliers.
        flagged = abs(s) > SKEW_LIMIT and kt > KURT_LIMIT and len(np.unique(x)) > 4
        treatment, points = "none", 0
        if flagged and method == "winsorise":
            y = np.sort(x)
            high = s > 0
            while points < WINSOR_MAX_POINTS and _outlying(y):
                points += 1
                if high:
                    y[-points:] = y[-points - 1]
                else:
                    y[:points] = y[points]
            if _outlying(y):
                # COINr's fallback: five points were not enough, log-transform instead.
                treatment, points = "log (winsorising 5 points was not enough)", 0
                shift[k] = float(np.min(x))
            else:
                side = "top" if high else "bottom"
                treatment = f"winsorised {count(points, 'points')} at the {side}"
                if high:
                    caps[1, k] = y[-1]
                else:
                    caps[0, k] = y[0]
        elif flagged and method == "log":
            treatment = "log"
            shift[k] = float(np.min(x))
        elif flagged:
            treatment = "none (outliers kept: outliers = none)"
        after = _treat(X[:, k : k + 1], caps[:, k : k + 1], shift[k : k + 1])[:, 0]
        s2, k2 = _skew_kurt(after[~np.isnan(after)])
        rows.append(
            {
                "indicator": code,
                "skewness": s,
                "kurtosis": kt,
                "outlying": flagged,
                "treatment": treatment,
                "points": points,
                "skewness_after": s2,
                "kurtosis_after": k2,
            }
        )
    return pd.DataFrame(rows), caps, shift


def _treat(X: np.ndarray, caps: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Apply the planned outlier treatment; indicators on the last axis (of caps too)."""
    out = np.clip(X, caps[0], caps[1])
    logged = ~np.isnan(shift)
    if logged.any():
        # COINr's log(x - min + 1); values below the planned minimum (noise) clamp at log 1.
        lx = np.log(np.maximum(out - np.where(logged, shift, 0.0), 0.0) + 1.0)
        out = np.where(logged, lx, out)
    return out


def _prepare(data: IndicatorSet, s: RankingSettings) -> _Prepared:
    codes = list(data.values.columns)
    meta = data.meta.loc[codes]
    partners = [str(p) for p in data.values.index]
    X = data.values.to_numpy(dtype=float)
    lower = data.lower.to_numpy(dtype=float) if data.lower is not None else np.full_like(X, np.nan)
    upper = data.upper.to_numpy(dtype=float) if data.upper is not None else np.full_like(X, np.nan)
    observed = ~np.isnan(X)
    censored = ~observed & ~np.isnan(upper)
    lower = np.where(censored & np.isnan(lower), 0.0, lower)  # a top-N bound: at least zero
    if (censored & (lower > upper)).any():
        raise ValueError("a censored cell has lower > upper bound")
    empty = [c for c, k in zip(codes, range(len(codes)), strict=True) if not observed[:, k].any()]
    if empty:
        raise ValueError(f"indicators without any observed value: {empty}; drop them first")
    weights = effective_weights(meta, s)
    pillars = list(dict.fromkeys(meta["pillar"]))
    pillar_of = np.array([pillars.index(p) for p in meta["pillar"]])
    membership = np.zeros((len(codes), len(pillars)))
    membership[np.arange(len(codes)), pillar_of] = 1.0
    v = weights["weight_in_pillar"].to_numpy()
    pw = weights.drop_duplicates("pillar").set_index("pillar")["pillar_weight"]
    pw = pw.reindex(pillars).to_numpy()
    hub = np.array([p in data.hubs for p in partners])
    sensitive = (
        meta["hub_sensitive"].fillna(False).astype(bool).to_numpy()
        if "hub_sensitive" in meta
        else np.zeros(len(codes), bool)
    )
    noisy = (
        meta["noisy"].fillna(True).astype(bool).to_numpy()
        if "noisy" in meta
        else np.ones(len(codes), bool)
    )
    hub_cells = hub[:, None] & sensitive[None, :]
    base = np.where(censored, lower, X)
    # Routed cells: the nominal index takes the recorded view (as BKPM publishes it).
    routed_at, routed_upper = [], []
    for (partner, code), end in getattr(data, "routed", {}).items():
        if partner in partners and code in codes:
            i, k = partners.index(partner), codes.index(code)
            if censored[i, k]:
                routed_at.append((i, k))
                routed_upper.append(end == "upper")
                base[i, k] = lower[i, k] if end == "upper" else upper[i, k]

    def discount(x: np.ndarray, cells: np.ndarray) -> np.ndarray:
        # Only positive values shrink: halving a net disinvestment would reward it.
        return np.where(cells & (x > 0), x * s.hub_discount, x)

    X_hub = np.stack([base, discount(base, hub_cells), np.where(hub_cells, np.nan, base)])
    ci, ck = np.nonzero(censored)
    cell_pos = {(int(i), int(k)): j for j, (i, k) in enumerate(zip(ci, ck, strict=True))}
    hc = hub_cells[ci, ck]
    lo, hi = lower[ci, ck], upper[ci, ck]
    lo_hub = np.stack([lo, discount(lo, hc), np.where(hc, np.nan, lo)])
    hi_hub = np.stack([hi, discount(hi, hc), np.where(hc, np.nan, hi)])
    available = (observed | censored).astype(float)
    pcov = (available * v) @ membership
    outliers, caps, shift = _outlier_plan(X, codes, s.outliers)
    return _Prepared(
        partners=partners,
        codes=codes,
        pillars=pillars,
        pillar_of=pillar_of,
        membership=membership,
        directions=meta["direction"].to_numpy(dtype=float),
        weights=weights,
        w=weights["effective_weight"].to_numpy(),
        pw=pw,
        v=v,
        X_hub=X_hub,
        cens_idx=(ci, ck),
        lo_hub=lo_hub,
        hi_hub=hi_hub,
        noisy=noisy,
        observed=observed,
        censored=censored,
        hub_cells=hub_cells,
        hub=hub,
        pillar_coverage=pcov,
        coverage=(available * weights["effective_weight"].to_numpy()).sum(axis=1),
        outliers=outliers,
        caps=caps,
        log_shift=shift,
        treated=np.isfinite(caps).any(axis=0) | ~np.isnan(shift),
        gap_cols=(~(observed | censored)).any(axis=0) | (hub_cells.any(axis=0)),
        routed_cols=np.array([cell_pos[c] for c in routed_at], dtype=int),
        routed_upper=np.array(routed_upper, dtype=bool),
    )
