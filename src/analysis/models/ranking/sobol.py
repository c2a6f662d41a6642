"""Sobol sensitivity indices of the ranking."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .draws import _alphas, _dirichlet_weights, _Draws, _evaluate, _ranks, _routed
from .preparation import _Prepared
from .settings import AGGREGATIONS, HUB_TREATMENTS, IMPUTATIONS, NORMALISATIONS, RankingSettings

# --- Sobol -----------------------------------------------------------------------------------

SOBOL_CHOICES = (
    "normalisation",
    "aggregation",
    "imputation",
    "coverage threshold",
    "hub treatment",
    "pillar weights",
    "indicator weights",
    "indicator noise",
    "censored values",
)
_NOISE_FIELDS = 64  # the noise factor picks one of these seeded fields
#: A factor only where the set has investment routed through a third country.
ROUTED_CHOICE = "routed view (recorded or ultimate investor)"


def _choices(prep: _Prepared) -> tuple[str, ...]:
    return SOBOL_CHOICES + ((ROUTED_CHOICE,) if len(prep.routed_cols) else ())


def _sobol_problem(prep: _Prepared) -> dict:
    names, groups = [], []
    for choice in _choices(prep):
        width = {"pillar weights": len(prep.pillars), "indicator weights": len(prep.codes)}.get(
            choice, 1
        )
        for j in range(width):
            names.append(f"{choice} {j}" if width > 1 else choice)
            groups.append(choice)
    return {
        "num_vars": len(names),
        "names": names,
        "bounds": [[0.0, 1.0]] * len(names),
        "groups": groups,
    }


def _sobol_draws(prep: _Prepared, s: RankingSettings, U: np.ndarray) -> _Draws:
    """Map a unit-hypercube design onto choices: categories by floor, weights by gamma ppf."""
    col = 0

    def cat(options: Sequence[str], table: Sequence[str]) -> np.ndarray:
        nonlocal col
        u = U[:, col]
        col += 1
        idx = np.minimum((u * len(options)).astype(int), len(options) - 1)
        return np.array([table.index(o) for o in options])[idx]

    norm = cat(s.mc_normalisations, NORMALISATIONS)
    agg = cat(s.mc_aggregations, AGGREGATIONS)
    imp = cat(s.mc_imputations, IMPUTATIONS)
    levels = np.array(s.coverage_levels)
    coverage = levels[np.minimum((U[:, col] * len(levels)).astype(int), len(levels) - 1)]
    col += 1
    hub = cat(s.mc_hub_treatments, HUB_TREATMENTS)
    ap, ai = _alphas(prep, s)
    Up = np.clip(U[:, col : col + len(ap)], 1e-12, 1 - 1e-12)
    col += len(ap)
    Ui = np.clip(U[:, col : col + len(ai)], 1e-12, 1 - 1e-12)
    col += len(ai)
    gp = np.where(ap > 0, stats.gamma.ppf(Up, np.maximum(ap, 1e-9)), 0.0)
    gi = np.where(ai > 0, stats.gamma.ppf(Ui, np.maximum(ai, 1e-9)), 0.0)
    field_idx = np.minimum((U[:, col] * _NOISE_FIELDS).astype(int), _NOISE_FIELDS - 1)
    col += 1
    noise = None
    if s.noise > 0:
        rng = np.random.default_rng(s.seed + 1)
        shape = (_NOISE_FIELDS, len(prep.codes), len(prep.partners))
        half = np.float32(np.sqrt(3.0) * s.noise)  # as in the Monte Carlo: uniform, sd noise
        fields = (2 * rng.random(shape, dtype=np.float32) - 1) * half
        noise = fields[field_idx] * prep.noisy.astype(np.float32)[:, None]
    censored_u = U[:, col : col + 1]  # one common quantile for every censored cell
    routed = _routed(prep, censored_u, U[:, col + 1]) if len(prep.routed_cols) else {}
    return _Draws(
        norm, agg, imp, hub, coverage, _dirichlet_weights(prep, s, gp, gi), noise,
        **(routed or {"censored_u": censored_u}),
    )  # fmt: skip


def sobol_indices(
    Y: np.ndarray, groups: int, resamples: int, seed: int, conf: float = 0.95
) -> pd.DataFrame:
    """First-order and total Sobol indices of many outputs, pooled, with bootstrap intervals.

    ``Y`` (runs, outputs) is ordered as SALib's ``sobol.sample`` without second order:
    blocks of ``groups + 2`` rows (A, AB_1..AB_g, B). Per output, Saltelli et al. (2010)
    first-order and Jansen total-effect estimators (as SALib computes them); pooled over
    outputs as the share of the summed output variance, so partners whose rank never moves
    weigh nothing. Intervals: percentile bootstrap over the base rows.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``S1, S1_lo, S1_hi, ST, ST_lo, ST_hi``.
    """
    step = groups + 2
    Y = Y - Y.mean(axis=0)  # centred, as SALib does: the first-order estimator needs it
    A, B = Y[0::step], Y[step - 1 :: step]
    AB = np.stack([Y[j + 1 :: step] for j in range(groups)])  # (g, N, outputs)

    def pooled(idx: np.ndarray | slice):
        a, b, ab = A[idx], B[idx], AB[:, idx]
        var = np.concatenate([a, b], axis=-2).var(axis=-2).sum(axis=-1)  # (...,)
        var = np.where(var > 0, var, np.nan)
        v1 = (b[None] * (ab - a[None])).mean(axis=-2).sum(axis=-1)
        vt = 0.5 * ((a[None] - ab) ** 2).mean(axis=-2).sum(axis=-1)
        return v1 / var, vt / var

    s1, st = pooled(slice(None))
    rng = np.random.default_rng(seed)
    N = len(A)
    boot = rng.integers(N, size=(resamples, N))
    b1 = np.empty((resamples, groups))
    bt = np.empty((resamples, groups))
    for r in range(resamples):
        b1[r], bt[r] = pooled(boot[r])
    q = [(1 - conf) / 2, (1 + conf) / 2]
    if np.isnan(b1).all():  # no output varies: the indices are undefined
        lo1 = hi1 = lot = hit = np.full(groups, np.nan)
    else:
        lo1, hi1 = np.nanquantile(b1, q, axis=0)
        lot, hit = np.nanquantile(bt, q, axis=0)
    return pd.DataFrame(
        {"S1": s1, "S1_lo": lo1, "S1_hi": hi1, "ST": st, "ST_lo": lot, "ST_hi": hit}
    )


def _sobol(prep: _Prepared, s: RankingSettings, ranked: np.ndarray) -> pd.DataFrame:
    """Sobol indices of the nominally ranked partners' ranks for every choice."""
    from SALib.sample import sobol as sobol_sample

    problem = _sobol_problem(prep)
    U = sobol_sample.sample(problem, s.sobol_base, calc_second_order=False, seed=s.seed)
    scores, qual = _evaluate(prep, _sobol_draws(prep, s, U))
    # The output is every partner's rank; a partner that some coverage threshold drops has
    # no rank in those runs, so the indices pool the partners ranked in every run.
    pool = ranked & qual.all(axis=0)
    Y = _ranks(scores, qual)[:, pool]
    choices = _choices(prep)
    out = sobol_indices(Y, len(choices), s.sobol_resamples, s.seed)
    out.insert(0, "choice", choices)
    out["runs"] = len(U)
    out["partners"] = int(pool.sum())
    return out
