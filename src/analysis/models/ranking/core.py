"""The core of the ranking, vectorised over draws: normalise, aggregate, ranks, Kendall's tau."""

from __future__ import annotations

import warnings

import numpy as np
from scipy import special

from .settings import AGGREGATIONS, NORMALISATIONS

# --- the core, vectorised over draws (last axis) ---------------------------------------------
#
# Internally every array is (partners, indicators, draws): the per-indicator statistics of a
# draw (minimum, maximum, mean, the fill value of a gap) are reductions over the first axis and
# broadcasts along the draws, which numpy runs as long contiguous loops. With partners last,
# the same statistics were 40-element reductions per row, several times slower.


def _as_cube(X: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """(..., partners, indicators) as (partners, indicators, draws), and the leading shape."""
    X = np.asarray(X, dtype=float)
    lead = X.shape[:-2]
    cube = np.moveaxis(X.reshape(-1, *X.shape[-2:]), 0, -1)
    return cube, lead


def normalise(X: np.ndarray, method: str, directions: np.ndarray) -> np.ndarray:
    """Normalise each indicator across partners; NaN stays NaN.

    ``X`` has shape (..., partners, indicators); ``directions`` (+1 / -1) per indicator.
    The production path works on (partners, indicators, draws) through :func:`_normalise`;
    this wrapper only moves the axes.
    """
    cube, lead = _as_cube(X)
    d = np.asarray(directions, dtype=float)[:, None]
    out = _normalise(cube, method, d)
    return np.moveaxis(out, -1, 0).reshape(*lead, *out.shape[:2])


def _normalise(X: np.ndarray, method: str, directions: np.ndarray) -> np.ndarray:
    """Normalise along the first axis (partners) of (partners, indicators, draws)."""
    return _normalise_worst(X, method, directions)[0]


def _normalise_worst(
    X: np.ndarray,
    method: str,
    directions: np.ndarray,
    *,
    overwrite: bool = False,
    median: bool = False,
) -> tuple[np.ndarray, ...]:
    """:func:`_normalise`, and the worst (lowest) normalised value of each indicator where the
    normalisation gives it for free (min-max and percentile rank; else None), shape
    (1, indicators, draws), for the ``worst`` imputation. ``directions`` (indicators, 1).
    ``overwrite``: ``X`` may be used as the output (the Monte Carlo passes its own fresh
    array; fewer temporaries, the same values bit for bit). ``median``: a third value, each
    indicator's median where the normalisation gives it for free (percentile rank; else
    None), for the ``median`` imputation.
    """
    out = _normalise_stats(X, method, directions, overwrite, median)
    return out if median else out[:2]


def _normalise_stats(
    X: np.ndarray, method: str, directions: np.ndarray, overwrite: bool, median: bool
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """:func:`_normalise_worst`: always (normalised, worst or None, median or None)."""
    if X.dtype.kind != "f":
        X = X.astype(float)
    d = directions.astype(X.dtype, copy=False)
    if (d == 1).all():
        X = X if overwrite else X.copy()  # x * 1 is x: no pass
    elif overwrite:
        X *= d
    else:
        X = X * d
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "minmax":
            lo = np.fmin.reduce(X, axis=0, keepdims=True)  # fmin/fmax skip NaN
            hi = np.fmax.reduce(X, axis=0, keepdims=True)
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
            return X, worst, None
        if method == "zscore":
            gap = np.isnan(X)
            n = _sum_partners((~gap).astype(X.dtype))  # in X's dtype: no float64 temporaries
            mu = _sum_partners(np.where(gap, 0, X)) / n
            D = np.subtract(X, mu, out=X if overwrite else None)
            D0 = np.where(gap, 0, D)
            sd = np.sqrt(np.einsum("pkg,pkg->kg", D0, D0) / n)
            D /= np.where(sd > 0, sd, np.nan)
            if (sd == 0).any():
                D = np.where((sd == 0) & ~gap, 0.0, D)
            return D, None, None
        if method == "rank":
            if median:
                return _percentile_rank(X, worst=True, median=True)
            return (*_percentile_rank(X, worst=True), None)
        if method == "vector":
            norm = np.sqrt(_sum_partners(np.where(np.isnan(X), 0, X * X)))
            return X / np.where(norm > 0, norm, np.nan), None, None
    raise ValueError(f"normalisation must be one of {NORMALISATIONS}, got {method!r}")


def _sum_partners(X: np.ndarray) -> np.ndarray:
    """Sum over the partners of (partners, indicators, draws): (indicators, draws).

    ``einsum`` adds the partners one after the other whatever the shape, so the sums (and the
    scores) do not depend on how many draws are evaluated together; ``add.reduce`` switches
    to pairwise summation when only the partner axis is left (one indicator, one draw).
    """
    return np.einsum("pkg->kg", X)


#: The sort key of a gap (NaN): a finite float64 above every float32 (a SIMD sort may rewrite
#: NaN bits, so NaN itself is not used as a key).
_GAP_KEY = 2.0**1023
_INDEX_BITS = np.uint64((1 << 20) - 1)


def _gap_keys(m: int) -> np.ndarray:
    """The sort key of a gap in each of ``m`` columns: ``_GAP_KEY`` with the column number in
    bits 20-39, so gaps stay distinct (never a tie) once the index bits are cleared."""
    bits = np.full(m, _GAP_KEY).view(np.uint64)
    bits |= np.arange(m, dtype=np.uint64) << np.uint64(20)
    return bits.view(np.float64)


def _sorted_keys(X2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row of float32 ``X2`` sorted (as exact float64; gaps last, as keys of at least
    ``_GAP_KEY``) and the column each sorted value came from, by one value sort (no argsort).

    A float32 value is exact in float64 with 29 low mantissa bits zero: the column index
    written there makes every key distinct without changing the order of distinct values
    (only tied values are ordered, by column), so a plain sort of the keys (several times
    faster than an argsort) carries each column index with its value; clearing the index
    bits afterwards gives the values back exactly. Rows up to 2**20 wide, finite values.
    ``X2`` may be a transposed view: the keys are a C-ordered copy.
    """
    m = X2.shape[-1]
    keys = np.empty(X2.shape, dtype=np.float64)
    keys[...] = X2
    np.fmin(keys, _gap_keys(m), out=keys)  # fmin replaces NaN, keeps every float32 value
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


def _percentile_rank(X: np.ndarray, *, worst: bool = False, median: bool = False):
    """Percentile rank (0-1) along the first axis (partners) among available values, ties
    averaged.

    With ``worst``, also the lowest rank of each column (shape (1, ...)): (ranks, worst);
    with ``median`` too, the median rank of each column, as the ``median`` imputation takes
    it from the sorted ranks (the mean of the two middle ones): (ranks, worst, median).

    One value sort (:func:`_sorted_keys`) gives each column's values in order with their
    partners; positions are put back with one flat scatter, ties (common in 0/1 and
    winsorised indicators) get the mean position of their run, only in the columns that
    have them, and the division by the count of values runs afterwards along the draws.
    """
    m = X.shape[0]
    X2 = X.reshape(m, -1)  # (partners, columns)
    if X2.dtype != np.float32 or m > 1 << 20 or np.isinf(X2).any():
        out = _percentile_rank_argsort(X2.T).T.reshape(X.shape)
        if worst:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a column with no value
                low = np.nanmin(out, axis=0, keepdims=True)
            return (out, low, None) if median else (out, low)
        return out
    cols = X2.shape[1]
    s, col = _sorted_keys(X2.T)  # (columns, partners): sorted values in float64 (exact)
    # Position j of every sorted column, then the mean position over each run of equal
    # values (ties, common in 0/1 and winsorised indicators); gap keys differ, so gaps
    # never tie.
    pos = np.tile(np.arange(m, dtype=X.dtype), cols)
    first = np.zeros(cols, dtype=X.dtype)  # each column's lowest position
    runs = _tie_runs(s[:, 1:] == s[:, :-1], m)
    if runs is not None:
        left, run, a, b, mean = runs
        pos[left] = mean[run]  # half-integers: exact in float32
        pos[b] = mean
        at_start = a % m == 0
        first[a[at_start] // m] = mean[at_start]
    # The partner at sorted position j of column c goes to out[partner, c], flat
    # partner * cols + c: one scatter.
    col *= cols
    col += np.arange(cols)[:, None]
    out = np.empty((m, cols), dtype=X.dtype)
    out.ravel()[col.ravel()] = pos
    # Dividing by the count of values in float32 equals the float64 division rounded to
    # float32: a quotient of integers below 2**28 never lands on a float32 rounding
    # midpoint (no double rounding).
    n = m - np.add.reduce(np.isnan(X2), axis=0, dtype=X.dtype)
    denom = np.maximum(n - 1, 1)
    out /= denom
    out += X2 - X2  # x - x: 0 for a value, NaN for a gap (no mask pass)
    first /= denom
    if (n <= 1).any():
        one = n <= 1
        out[:, one] = np.where(np.isnan(X2[:, one]), np.nan, 0.5)
        first[one] = np.where(n[one] == 1, 0.5, np.nan)
    if not worst:
        return out.reshape(X.shape)
    # The first sorted position is the column's lowest rank (NaN: no value).
    stats = [out.reshape(X.shape), first.reshape((1, *X.shape[1:]))]
    if median:
        # The two middle sorted ranks, divided as the ranks were (so the mean is the one
        # the median imputation computes from the ranks, bit for bit); no value: NaN.
        pos = pos.reshape(cols, m)
        valid = n.astype(np.intp)
        lo = pos[np.arange(cols), np.maximum(valid - 1, 0) // 2] / denom
        hi = pos[np.arange(cols), valid // 2] / denom
        mid = np.where(n == 0, np.nan, np.where(n == 1, 0.5, (lo + hi) / 2))
        stats.append(mid.astype(X.dtype).reshape((1, *X.shape[1:])))
    return tuple(stats)


def _tie_runs(same: np.ndarray, m: int) -> tuple[np.ndarray, ...] | None:
    """Runs of equal values in sorted rows of width ``m``, from ``same`` (rows, m - 1): sorted
    value j equals value j + 1. Returns None without ties, else (``left``, ``run``, ``a``,
    ``b``, ``mean``): the flat cell (row * m + j) of every value equal to its right
    neighbour and the run it belongs to; each run's first and last cell and mean position
    j. A run's cells are its ``left`` cells and its last cell ``b``. The work is
    proportional to the number of ties, not to the size of the rows.
    """
    hits = np.flatnonzero(same)
    if not len(hits):
        return None
    left = hits + hits // (m - 1)  # row * (m - 1) + j -> row * m + j
    # Consecutive cells are one run (a row's last cell is never a left value, so runs do
    # not cross rows).
    new = np.empty(len(left), dtype=bool)
    new[0] = True
    np.not_equal(left[1:], left[:-1] + 1, out=new[1:])
    end = np.empty_like(new)
    end[-1] = True
    end[:-1] = new[1:]
    a, b = left[new], left[end] + 1
    run = np.cumsum(new) - 1
    return left, run, a, b, (a + b) / 2 - (a // m) * m


def _percentile_rank_argsort(X: np.ndarray) -> np.ndarray:
    """Percentile ranks along the last axis for float64, wide rows or infinite values, by one
    argsort.

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
    path is :func:`_aggregate` on (partners, indicators, draws); this wrapper only moves the
    axes.
    """
    cube, lead = _as_cube(Z)
    W = np.asarray(weights, dtype=float)
    W = W[..., 0, :] if W.ndim >= 2 else W
    W = np.broadcast_to(W, (*lead, W.shape[-1])).reshape(-1, W.shape[-1]).T  # (K, draws)
    out = _aggregate(cube, W, method, norm_method)
    return np.moveaxis(out, -1, 0).reshape(*lead, out.shape[0])


def _aggregate(
    Z: np.ndarray, W: np.ndarray, method: str, norm_method: str, *, overwrite: bool = False
) -> np.ndarray:
    """Scores (partners, draws) from Z (partners, indicators, draws) and W (indicators, draws).

    ``overwrite``: ``Z`` may be used as scratch space (the same scores bit for bit). Sums
    over the indicators are ``einsum``: one indicator after the other whatever the number of
    draws (see :func:`_sum_partners`).
    """
    Wc = W.astype(Z.dtype)
    if method == "arithmetic":
        return np.einsum("pkg,kg->pg", Z, Wc)
    if method == "geometric":
        if norm_method == "vector":
            raise ValueError("vector normalisation is for TOPSIS only")
        if not overwrite:
            L = np.log(_positive(Z, norm_method))
        else:  # _positive in place
            if norm_method == "zscore":
                special.ndtr(Z, out=Z)
            else:
                Z *= 0.99
                Z += 0.01
            L = np.log(Z, out=Z)
        return np.exp(np.einsum("pkg,kg->pg", L, Wc))
    if method == "topsis":
        V = np.multiply(Z, Wc, out=Z if overwrite else None)
        best = V.max(axis=0, keepdims=True)
        worst = V.min(axis=0, keepdims=True)
        D = V - best
        d_best = np.sqrt(np.einsum("pkg,pkg->pg", D, D))
        V -= worst
        d_worst = np.sqrt(np.einsum("pkg,pkg->pg", V, V))
        with np.errstate(invalid="ignore", divide="ignore"):
            c = d_worst / (d_best + d_worst)
        return np.where(np.isnan(c), 0.5, c)  # every partner identical: no ranking signal
    raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {method!r}")


def ranks_from_scores(scores: np.ndarray) -> np.ndarray:
    """Ranks (1 = best) along the last axis; ties broken by position (a permutation)."""
    scores = np.asarray(scores)
    m = scores.shape[-1] if scores.ndim else 0
    order = _descending_order(scores)
    if not m or not order.size:
        return np.empty(order.shape, dtype=np.intp)
    rows = order.size // m
    # One flat scatter (put_along_axis builds index arrays per axis, several times slower).
    flat = order.reshape(rows, m) + (np.arange(rows) * m)[:, None]
    ranks = np.empty(order.size, dtype=np.intp)
    ranks[flat.ravel()] = np.tile(np.arange(1, m + 1), rows)
    return ranks.reshape(order.shape)


def _descending_order(scores: np.ndarray) -> np.ndarray:
    """``argsort(-scores, kind="stable")`` along the last axis (NaN last), for float32 by one
    value sort.

    The keys are the negated scores in float64, mapped to unsigned integers in the same
    order (sign bit set for positive values, all bits flipped for negative ones), with
    the column index in the 20 low bits: a float32 value leaves those bits free, so the
    order of distinct scores is kept and equal scores follow their column, as in a stable
    argsort. +0.0 and -0.0 are one value; NaN goes last. Other dtypes and rows wider
    than 2**20 use the stable argsort.
    """
    m = scores.shape[-1] if scores.ndim else 0
    if scores.dtype != np.float32 or m > 1 << 20 or not scores.size:
        return np.argsort(-scores, axis=-1, kind="stable")
    keys = np.negative(scores, dtype=np.float64)  # exact
    keys += 0.0  # -0.0 + 0.0 is +0.0
    gap = np.isnan(keys)
    u = keys.view(np.uint64)
    flip = np.uint64(0) - (u >> np.uint64(63))  # all ones where negative, else zero
    flip |= np.uint64(1 << 63)
    u ^= flip
    u[gap] = ~np.uint64(0)  # above every value, +inf included
    u &= ~_INDEX_BITS
    u |= np.arange(m, dtype=np.uint64)
    u.sort(axis=-1)
    return (u & _INDEX_BITS).view(np.intp)


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
