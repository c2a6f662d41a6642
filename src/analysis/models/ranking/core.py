"""The core of the ranking, vectorised over draws: normalise, aggregate, ranks, Kendall's tau."""

from __future__ import annotations

import warnings

import numpy as np
from scipy import special

from .settings import AGGREGATIONS, NORMALISATIONS

# --- the core, vectorised over draws (leading axis) ------------------------------------------


def normalise(X: np.ndarray, method: str, directions: np.ndarray) -> np.ndarray:
    """Normalise each indicator across partners; NaN stays NaN.

    ``X`` has shape (..., partners, indicators); ``directions`` (+1 / -1) per indicator.
    The production path works on the transposed layout (partners last) through
    :func:`_normalise`; this wrapper only swaps the axes.
    """
    Xt = np.swapaxes(np.asarray(X, dtype=float), -1, -2)
    d = np.asarray(directions, dtype=float)[:, None]
    return np.swapaxes(_normalise(Xt, method, d), -1, -2)


def _normalise(X: np.ndarray, method: str, directions: np.ndarray) -> np.ndarray:
    """Normalise along the last axis (partners) of (..., indicators, partners)."""
    return _normalise_worst(X, method, directions)[0]


def _normalise_worst(
    X: np.ndarray, method: str, directions: np.ndarray, *, overwrite: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`_normalise`, and the worst (lowest) normalised value of each indicator where the
    normalisation gives it for free (min-max and percentile rank; else None), for the
    ``worst`` imputation. ``overwrite``: ``X`` may be used as the output (the Monte Carlo
    passes its own fresh array; fewer temporaries, the same values bit for bit).
    """
    if X.dtype.kind != "f":
        X = X.astype(float)
    if overwrite:
        X *= directions.astype(X.dtype)
    else:
        X = X * directions.astype(X.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "minmax":
            lo = np.fmin.reduce(X, axis=-1, keepdims=True)  # fmin/fmax skip NaN, fast
            hi = np.fmax.reduce(X, axis=-1, keepdims=True)
            span = hi - lo
            # A spread at rounding level (a few ulps of the values) is no signal: scaling a
            # column could otherwise turn 0/1 scores into 0.5 and back.
            flat = span <= 1e-12 * np.fmax(np.abs(lo), np.abs(hi))
            keep = (flat & ~np.isnan(X)) if flat.any() else None
            X -= lo  # the value at the minimum becomes exactly +0
            X /= np.where(flat, np.nan, span)
            if keep is not None:
                X = np.where(keep, 0.5, X)  # constant: no signal
            if not (np.isfinite(span) | np.isnan(lo)).all():
                return X, None  # infinite values: no shortcut
            # fmin over the result, without a pass: +0 at the minimum, 0.5 if constant.
            worst = np.where(np.isnan(lo), np.nan, np.where(flat, 0.5, 0.0)).astype(X.dtype)
            return X, worst
        if method == "zscore":
            gap = np.isnan(X)
            X0 = np.where(gap, 0, X)
            n = (~gap).sum(axis=-1, keepdims=True)
            mu = X0.sum(axis=-1, keepdims=True) / n
            D = X - mu
            sq = np.square(D)
            np.copyto(sq, 0, where=gap)
            sd = np.sqrt(sq.sum(axis=-1, keepdims=True) / n)
            D /= np.where(sd > 0, sd, np.nan)
            if (sd == 0).any():
                D = np.where((sd == 0) & ~gap, 0.0, D)
            return D, None
        if method == "rank":
            return _percentile_rank(X, worst=True)
        if method == "vector":
            norm = np.sqrt(np.nansum(X**2, axis=-1, keepdims=True))
            return X / np.where(norm > 0, norm, np.nan), None
    raise ValueError(f"normalisation must be one of {NORMALISATIONS}, got {method!r}")


#: The sort key of a gap (NaN): a finite float64 above every float32 (a SIMD sort may rewrite
#: NaN bits, so NaN itself is not used as a key).
_GAP_KEY = 2.0**1023
_INDEX_BITS = np.uint64((1 << 20) - 1)


def _sorted_keys(X2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row of float32 ``X2`` sorted (as exact float64; gaps last as ``_GAP_KEY``) and the
    column each sorted value came from, by one value sort (no argsort).

    A float32 value is exact in float64 with 29 low mantissa bits zero: the column index
    written there makes every key distinct without changing the order of distinct values
    (only tied values are ordered, by column), so a plain sort of the keys (several times
    faster than an argsort) carries each column index with its value; clearing the index
    bits afterwards gives the values back exactly. Rows up to 2**20 wide, finite values.
    """
    m = X2.shape[-1]
    keys = X2.astype(np.float64)
    np.copyto(keys, _GAP_KEY, where=np.isnan(X2))
    bits = keys.view(np.uint64)
    bits |= np.arange(m, dtype=np.uint64)
    keys.sort(axis=-1)
    col = (bits & _INDEX_BITS).view(np.intp)  # small non-negative: the same bits
    bits &= ~_INDEX_BITS
    return keys, col


def _row_order(X2: np.ndarray) -> np.ndarray:
    """``argsort`` of each row of float32 ``X2`` (NaN last; ties in any order), by a value sort.

    See :func:`_sorted_keys`. Other dtypes, wide rows and infinite values (whose keys would
    become NaN) use ``argsort``.
    """
    m = X2.shape[-1]
    if X2.dtype != np.float32 or m > 1 << 20 or np.isinf(X2).any():
        return np.argsort(X2, axis=-1)
    return _sorted_keys(X2)[1]


def _percentile_rank(X: np.ndarray, *, worst: bool = False):
    """Percentile rank (0-1) along the last axis among available values, ties averaged.

    With ``worst``, also the lowest rank of each row (shape (..., 1)): (ranks, worst).

    One value sort (:func:`_sorted_keys`) gives each row's values in order with their
    columns; positions are computed in sorted order (ties, common in 0/1 and winsorised
    indicators, get the mean position of their run, only in the rows that have them) and
    put back with one flat scatter.
    """
    shape = X.shape
    m = shape[-1]
    X2 = X.reshape(-1, m)
    if X2.dtype != np.float32 or m > 1 << 20 or np.isinf(X2).any():
        out = _percentile_rank_argsort(X)
        if worst:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a row with no value
                return out, np.nanmin(out, axis=-1, keepdims=True)
        return out
    rows = len(X2)
    s, col = _sorted_keys(X2)  # s: the sorted values in float64 (exact), gaps _GAP_KEY
    gap = s == _GAP_KEY
    pos = np.broadcast_to(np.arange(m, dtype=float), s.shape).copy()
    same = s[:, 1:] == s[:, :-1]
    same &= ~gap[:, 1:]  # gaps never tie
    tied = np.flatnonzero(same.any(axis=1))
    if len(tied):
        # Runs of equal values in the tied rows, on the flattened rows (row starts begin a
        # run): each position takes the mean of its run's first and last position.
        t = len(tied)
        new = np.ones((t, m), dtype=bool)
        new[:, 1:] = ~same[tied]
        new = new.ravel()
        idx = np.arange(t * m)
        first = np.maximum.accumulate(np.where(new, idx, 0))
        end = np.empty_like(new)
        end[:-1] = new[1:]
        end[-1] = True
        last = np.minimum.accumulate(np.where(end, idx, t * m)[::-1])[::-1]
        start = np.repeat(np.arange(0, t * m, m), m)
        pos[tied] = ((first + last) / 2 - start).reshape(t, m)
    n = m - gap.sum(axis=-1, keepdims=True)
    pos /= np.maximum(n - 1, 1)
    if (n <= 1).any():
        pos[np.broadcast_to(n <= 1, pos.shape)] = 0.5
    pos[gap] = np.nan
    col += np.arange(0, rows * m, m)[:, None]
    out = np.empty(rows * m, dtype=X.dtype)
    out[col.ravel()] = pos.ravel()
    if worst:  # the first sorted position is the row's lowest rank (NaN: no value)
        return out.reshape(shape), pos[:, :1].astype(X.dtype).reshape((*shape[:-1], 1))
    return out.reshape(shape)


def _percentile_rank_argsort(X: np.ndarray) -> np.ndarray:
    """:func:`_percentile_rank` for float64, wide rows or infinite values, by one argsort.

    Positions are computed in sorted order (ties, common in 0/1 and winsorised
    indicators, get the mean position of their run, only in the rows that have them) and
    put back with one scatter.
    """
    shape = X.shape
    m = shape[-1]
    X2 = X.reshape(-1, m)
    order = np.argsort(X2, axis=-1)  # NaN sorts last; ties are averaged
    s = np.take_along_axis(X2, order, axis=-1)
    pos = np.broadcast_to(np.arange(m, dtype=X.dtype), s.shape).copy()
    same = s[:, 1:] == s[:, :-1]  # NaN != NaN: gaps never tie
    rows = np.flatnonzero(same.any(axis=1))
    if len(rows):
        new = np.ones((len(rows), m), dtype=bool)
        new[:, 1:] = ~same[rows]
        idx = pos[rows]
        first = np.maximum.accumulate(np.where(new, idx, 0), axis=-1)
        end = np.ones_like(new)
        end[:, :-1] = new[:, 1:]
        last = np.minimum.accumulate(np.where(end, idx, m)[:, ::-1], axis=-1)[:, ::-1]
        pos[rows] = (first + last) / 2
    n = (~np.isnan(s)).sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore"):
        pos = np.where(n > 1, pos / np.maximum(n - 1, 1), 0.5)
    pos[np.isnan(s)] = np.nan
    out = np.empty_like(X2)
    np.put_along_axis(out, order, pos, axis=-1)
    return out.reshape(shape)


def _positive(Z: np.ndarray, method: str) -> np.ndarray:
    if method == "zscore":
        return special.ndtr(Z)
    return 0.01 + 0.99 * Z


def aggregate(
    Z: np.ndarray, weights: np.ndarray, method: str, norm_method: str = "minmax"
) -> np.ndarray:
    """Composite scores (higher is better) from complete normalised values.

    ``Z`` (..., partners, indicators); ``weights`` (summing to one) of shape (indicators,)
    or (..., 1, indicators). The matrix must be complete: impute first. The production
    path is :func:`_aggregate` (partners last); this wrapper only swaps the axes.
    """
    Zt = np.swapaxes(np.asarray(Z, dtype=float), -1, -2)
    W = np.asarray(weights, dtype=float)
    W = W[..., 0, :] if W.ndim >= 2 else W
    W = np.broadcast_to(W, Zt.shape[:-1])
    return _aggregate(Zt, W, method, norm_method)


def _aggregate(
    Z: np.ndarray, W: np.ndarray, method: str, norm_method: str, *, overwrite: bool = False
) -> np.ndarray:
    """Scores (..., partners) from Z (..., indicators, partners) and W (..., indicators).

    ``overwrite``: ``Z`` may be used as scratch space (the same scores bit for bit).
    """
    Wc = W[..., None, :].astype(Z.dtype)
    if method == "arithmetic":
        return (Wc @ Z)[..., 0, :]
    if method == "geometric":
        if norm_method == "vector":
            raise ValueError("vector normalisation is for TOPSIS only")
        if overwrite and norm_method != "zscore":
            Z *= 0.99  # _positive in place: 0.01 + 0.99 v
            Z += 0.01
            L = np.log(Z, out=Z)
        else:
            L = np.log(_positive(Z, norm_method))
        return np.exp((Wc @ L)[..., 0, :])
    if method == "topsis":
        V = Z * W[..., :, None].astype(Z.dtype)
        best = V.max(axis=-1, keepdims=True)
        worst = V.min(axis=-1, keepdims=True)
        D = V - best
        d_best = np.sqrt(np.square(D, out=D).sum(axis=-2))
        V -= worst
        d_worst = np.sqrt(np.square(V, out=V).sum(axis=-2))
        with np.errstate(invalid="ignore", divide="ignore"):
            c = d_worst / (d_best + d_worst)
        return np.where(np.isnan(c), 0.5, c)  # every partner identical: no ranking signal
    raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {method!r}")


def ranks_from_scores(scores: np.ndarray) -> np.ndarray:
    """Ranks (1 = best) along the last axis; ties broken by position (a permutation)."""
    order = np.argsort(-scores, axis=-1, kind="stable")
    ranks = np.empty_like(order)
    values = np.broadcast_to(np.arange(1, scores.shape[-1] + 1), scores.shape)
    np.put_along_axis(ranks, order, values, axis=-1)
    return ranks


def kendall_tau(reference: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Kendall's tau between a reference ranking and each row of ``ranks`` (no ties).

    Vectorised over rows: tau = (concordant - discordant) / (n (n - 1) / 2).
    """
    reference = np.asarray(reference)
    ranks = np.atleast_2d(ranks)
    ref = np.sign(reference[:, None] - reference[None, :])
    out = np.empty(len(ranks))
    for start in range(0, len(ranks), 1000):  # chunks keep memory at ~1000 x n x n
        r = ranks[start : start + 1000]
        s = np.sign(r[:, :, None] - r[:, None, :])
        out[start : start + 1000] = (s * ref[None]).sum(axis=(1, 2)) / 2
    n = reference.shape[0]
    return out / (n * (n - 1) / 2)
