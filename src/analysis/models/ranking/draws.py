"""Draws of the ranking and the one evaluation path (imputation, chunked and threaded)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .core import _aggregate, _normalise_worst, ranks_from_scores
from .preparation import _Prepared, _treat
from .settings import AGGREGATIONS, HUB_TREATMENTS, IMPUTATIONS, NORMALISATIONS, RankingSettings

# --- draws and the one evaluation path -------------------------------------------------------


@dataclass
class _Draws:
    """One row per evaluation: the choices and the data perturbations of that run."""

    norm: np.ndarray  # (n,) index into NORMALISATIONS
    agg: np.ndarray  # (n,) index into AGGREGATIONS
    imp: np.ndarray  # (n,) index into IMPUTATIONS
    hub: np.ndarray  # (n,) index into HUB_TREATMENTS
    coverage: np.ndarray  # (n,) threshold
    weights: np.ndarray  # (n, K) effective weights
    noise: np.ndarray | None = None  # (n, K, P) log multipliers
    censored_u: np.ndarray | None = None  # (n, C) or (n, 1) position in [lower, upper]
    routed_view: np.ndarray | None = None  # (n,) True: ultimate investor, False: recorded

    def __len__(self) -> int:
        return len(self.norm)


def _nominal_draws(prep: _Prepared, s: RankingSettings, weights: np.ndarray | None = None):
    w = prep.w[None, :] if weights is None else np.atleast_2d(weights)
    n = len(w)
    return _Draws(
        norm=np.full(n, NORMALISATIONS.index(s.normalisation)),
        agg=np.full(n, AGGREGATIONS.index(s.aggregation)),
        imp=np.full(n, IMPUTATIONS.index(s.imputation)),
        hub=np.full(n, HUB_TREATMENTS.index(s.hub_treatment)),
        coverage=np.full(n, s.pillar_coverage),
        weights=w,
    )


def _groups(index: np.ndarray):
    """(value, selector) per distinct value; a slice when every row shares it (no copy)."""
    values = np.unique(index)
    if len(values) == 1:
        yield int(values[0]), slice(None)
        return
    for val in values:
        yield int(val), index == val


@dataclass(frozen=True)
class _Constants:
    """What every chunk of an evaluation reads from the prepared set, in the evaluation's
    dtype: built once per prepared set and dtype, since the casts and index look-ups were a
    good part of a chunk's fixed cost (a chunk is often only some 60 draws)."""

    base: np.ndarray  # (3, P, K, 1): the data under each hub treatment
    cens: np.ndarray  # (C,) flat rows (partner * K + indicator) of the censored cells
    lo: np.ndarray  # (3, C) float64: lower bounds under each hub treatment
    span: np.ndarray  # (3, C) float64: upper - lower
    hi_cap: np.ndarray | None  # (K, 1) winsorising caps, None: no finite cap
    lo_cap: np.ndarray | None
    logged: np.ndarray  # indicators with a log treatment
    cols: np.ndarray  # indicators that can have a gap
    directions: np.ndarray  # (K, 1)
    Mt: np.ndarray  # (needed pillars, their members): the pillar sums
    members: np.ndarray  # indicators in the needed pillars
    pillar_of_col: np.ndarray  # each gap column's pillar, as a row of ``Mt``


def _constants(prep: _Prepared, dtype) -> _Constants:
    """:class:`_Constants` of ``prep`` in ``dtype`` (cached on ``prep``)."""
    key = np.dtype(dtype)
    found = prep.cache.get(key)
    if found is not None:
        return found
    ci, ck = prep.cens_idx
    lo_cap, hi_cap = prep.caps.astype(dtype)[:, :, None]
    cols = np.flatnonzero(prep.gap_cols)
    need = np.unique(prep.pillar_of[cols])
    M = prep.membership[:, need].astype(dtype)
    members = np.flatnonzero(M.any(axis=1))
    out = _Constants(
        base=prep.X_hub.astype(dtype)[..., None],
        cens=ci * len(prep.codes) + ck,
        lo=prep.lo_hub,
        span=prep.hi_hub - prep.lo_hub,
        hi_cap=hi_cap if np.isfinite(hi_cap).any() else None,
        lo_cap=lo_cap if np.isfinite(lo_cap).any() else None,
        logged=np.flatnonzero(~np.isnan(prep.log_shift)),
        cols=cols,
        directions=prep.directions.astype(dtype)[:, None],
        Mt=np.ascontiguousarray(M[members].T),
        members=members,
        pillar_of_col=np.searchsorted(need, prep.pillar_of[cols]),
    )
    prep.cache[key] = out
    return out


def _impute(
    Z: np.ndarray,
    method: str,
    prep: _Prepared,
    worst: np.ndarray | None = None,
    median: np.ndarray | None = None,
) -> np.ndarray:
    """Fill NaN cells of normalised ``Z`` (partners, indicators, draws) by ``method``, in
    place where possible.

    Only the columns that can have gaps are touched (the rest are complete by construction).
    ``worst`` and ``median`` (1, indicators, draws), when the normalisation gave them: each
    indicator's lowest and median value.
    """
    const = _constants(prep, Z.dtype)
    cols = const.cols
    if not len(cols):
        return Z
    full = len(cols) == Z.shape[1]
    if method == "worst" and full and worst is not None:
        # Every observed value is >= the worst, so fmax fills the gaps and keeps the rest.
        return np.fmax(Z, worst, out=Z)
    Zc = Z if full else Z[:, cols]
    gap = np.isnan(Zc)
    # The (partner, column) rows with a gap in some draw: the fill is computed and written
    # there only (a gap is one cell in ten; masked passes over the whole chunk cost more).
    p, c = np.nonzero(gap.any(axis=-1))
    if not len(p):
        return Z
    if worst is None:
        worst = np.fmin.reduce(Zc, axis=0, keepdims=True)
    elif not full:
        worst = worst[:, cols]
    if method == "worst":
        fill = worst[0, c]
    elif method == "median" and median is not None:
        fill = (median if full else median[:, cols])[0, c]
    elif method == "median":
        srt = np.moveaxis(Zc, 0, -1).copy()  # partners last (C order) for the sort
        srt.sort(axis=-1)  # NaN last
        cnt = (~gap).sum(axis=0)[..., None]
        lo = np.take_along_axis(srt, np.maximum(cnt - 1, 0) // 2, axis=-1)
        hi = np.take_along_axis(srt, cnt // 2, axis=-1)
        fill = ((lo + hi) / 2)[c, :, 0]
    elif method == "pillar_mean":
        # Only the pillars that hold a gap column are needed.
        Zm = Z if len(const.members) == Z.shape[1] else Z[:, const.members]
        gm = np.isnan(Zm)
        Mt = const.Mt  # (pillars, members): a matmul per partner
        sums = Mt @ np.where(gm, 0, Zm)
        counts = Mt @ (~gm).astype(Z.dtype)
        j = const.pillar_of_col[c]
        with np.errstate(invalid="ignore", divide="ignore"):
            fill = sums[p, j] / counts[p, j]
        fill = np.where(np.isnan(fill), worst[0, c], fill)  # nothing in the pillar: worst
    else:
        raise ValueError(f"imputation must be one of {IMPUTATIONS}, got {method!r}")
    Z[p, cols[c]] = np.where(gap[p, c], fill, Z[p, cols[c]])
    return Z


def _data(prep: _Prepared, h: int, d: _Draws, rows: np.ndarray | slice, dtype) -> np.ndarray:
    """The raw data of draws ``rows`` (all with hub treatment ``h``): (partners, indicators,
    draws).

    Censored cells take their position in the interval, noise multiplies, the planned
    outlier treatment applies.
    """
    return _chunk_data(prep, d, [(h, rows)], dtype)


def _chunk_data(
    prep: _Prepared, d: _Draws, segments: list[tuple[int, np.ndarray | slice]], dtype
) -> np.ndarray:
    """:func:`_data` of several (hub treatment, rows) segments, side by side along the draws:
    the exp, the caps and the logs run once on the chunk, the hub's data and the censored
    cells once per run of one hub treatment or per segment."""
    const = _constants(prep, dtype)
    sizes = [len(d.norm[rows]) for _, rows in segments]
    g = sum(sizes)
    X = np.empty((*const.base.shape[1:3], g), dtype=dtype)
    offsets = np.cumsum([0, *sizes])
    for (h, rows), a, b in zip(segments, offsets[:-1], offsets[1:], strict=True):
        # The draws' noise is (draws, indicators, partners): copied transposed, then exp in
        # place (exp on a contiguous array is faster than on a transposed view).
        if d.noise is not None:
            X[:, :, a:b] = d.noise[rows].transpose(2, 1, 0)
        else:
            X[:, :, a:b] = const.base[h]
    if d.noise is not None:
        np.exp(X, out=X)
        hubs = [h for h, _ in segments]
        for h, a, b in _runs(hubs, offsets):
            X[:, :, a:b] *= const.base[h]
    ci, ck = prep.cens_idx
    if d.censored_u is not None and len(ci):
        flat = X.reshape(-1, g)
        for (h, rows), a, b in zip(segments, offsets[:-1], offsets[1:], strict=True):
            # The value in X's dtype, then times the noise: as assigning, then multiplying in
            # place.
            cens = (const.lo[h] + d.censored_u[rows] * const.span[h]).astype(dtype)
            if d.noise is not None:
                cens *= np.exp(d.noise[rows][:, ck, ci], dtype=dtype)
            flat[const.cens, a:b] = cens.T
    # Winsorising caps, in place: a float64 cap rounded to X's dtype gives the same result as
    # clipping in float64 and rounding (rounding is monotone), without the mixed-type clip.
    if const.hi_cap is not None:
        np.minimum(X, const.hi_cap, out=X)
    if const.lo_cap is not None:
        np.maximum(X, const.lo_cap, out=X)
    logged = const.logged
    if len(logged):
        Xk = np.moveaxis(X[:, logged, :], 1, -1)  # indicators last, as _treat takes them
        X[:, logged, :] = np.moveaxis(
            _treat(Xk, prep.caps[:, logged], prep.log_shift[logged]), -1, 1
        )
    return X


def _runs(values: list, offsets: np.ndarray):
    """(value, start, stop) of each run of equal consecutive ``values``, segment ``i`` being
    ``offsets[i]:offsets[i + 1]``."""
    i = 0
    while i < len(values):
        j = i + 1
        while j < len(values) and values[j] == values[i]:
            j += 1
        yield values[i], int(offsets[i]), int(offsets[j])
        i = j


#: Draws evaluated together (see :func:`_evaluate`): 40 x 15 x 128 float32 values are 300 KB,
#: and the percentile ranks' float64 sort keys 600 KB, within a core's 1 MB L2 cache (256
#: draws measured slower, 64 too: more numpy calls).
_CHUNK_ROWS = 128
#: Below this many cells (draws x indicators x partners), one thread: threads cost more.
_THREADED_CELLS = 200_000


def _threads() -> int:
    """Threads for the Monte Carlo: the CPUs this process may use (``MITRA_THREADS`` caps)."""
    import os

    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    cap = os.environ.get("MITRA_THREADS", "")
    return max(1, min(cpus, int(cap))) if cap.isdigit() else cpus


def _evaluate(prep: _Prepared, d: _Draws, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Scores (n, P) and whether each partner qualifies (n, P) in every draw.

    Used for the nominal index (one draw), the Monte Carlo, the Sobol design and the
    indicator-removal test: one code path for all. Works on (partners, indicators, draws)
    arrays (float32 for the Monte Carlo and Sobol, float64 for the nominal index). Draws are
    sorted into groups of identical method choices (each a contiguous slice), groups of one
    normalisation are evaluated side by side in chunks, and the scores returned in the
    original order.
    """
    n = len(d)
    nn, na, ni = len(NORMALISATIONS), len(AGGREGATIONS), len(IMPUTATIONS)
    key = ((d.hub * ni + d.imp) * na + d.agg) * nn + d.norm
    runs = np.count_nonzero(np.diff(key)) + 1
    # Monte Carlo draws arrive grouped (runs of equal choices): slices, no copies. Other
    # designs (Sobol) are sorted first and the scores put back in order.
    order = np.arange(n) if runs <= 2 * len(np.unique(key)) else np.argsort(key, kind="stable")
    key = key[order]
    bounds = np.flatnonzero(np.diff(key)) + 1
    starts = np.r_[0, bounds]
    ends = np.r_[bounds, n]
    W = np.ascontiguousarray(d.weights[order].T, dtype=dtype)  # (K, n): rows along the draws
    scores = np.empty((n, len(prep.partners)), dtype=dtype)
    const = _constants(prep, dtype)  # built here, before the threads share it
    # The groups (runs of one combination of choices) and their choices.
    gk = key[starts]
    g_norm, g_agg = gk % nn, gk // nn % na
    g_imp, g_hub = gk // (nn * na) % ni, gk // (nn * na * ni)
    # Chunks: groups of one normalisation side by side, taken in the order (normalisation,
    # hub, imputation, aggregation), up to _CHUNK_ROWS draws (a larger group is split). The
    # data and the normalisation run once per chunk, the imputation once per run of one
    # imputation, the aggregation per group: a group is often only some 60 draws, and fewer,
    # larger numpy calls cost less (and hold the GIL less, for the threads).
    chunks: list[list[tuple[int, int, int]]] = []
    size = 0
    for gi in np.lexsort((g_agg, g_imp, g_hub, g_norm)):
        for a in range(starts[gi], ends[gi], _CHUNK_ROWS):
            b = min(a + _CHUNK_ROWS, ends[gi])
            if not chunks or size + b - a > _CHUNK_ROWS or g_norm[chunks[-1][0][0]] != g_norm[gi]:
                chunks.append([])
                size = 0
            chunks[-1].append((int(gi), int(a), int(b)))
            size += b - a

    def rows_of(a: int, b: int) -> np.ndarray | slice:
        rows = order[a:b]
        if rows[-1] - rows[0] == b - a - 1:  # contiguous: a slice is a view, not a copy
            return slice(int(rows[0]), int(rows[-1]) + 1)
        return rows

    def chunk(pieces: list[tuple[int, int, int]]) -> None:
        norm = NORMALISATIONS[g_norm[pieces[0][0]]]
        rows = [rows_of(a, b) for _, a, b in pieces]
        segments = [(int(g_hub[gi]), r) for (gi, _, _), r in zip(pieces, rows, strict=True)]
        X = _chunk_data(prep, d, segments, dtype)
        Z, worst, median = _normalise_worst(X, norm, const.directions, overwrite=True, median=True)
        offsets = np.cumsum([0] + [b - a for _, a, b in pieces])
        imps = [int(g_imp[gi]) for gi, _, _ in pieces]
        for im, a, b in _runs(imps, offsets):
            cut = slice(a, b)
            _impute(
                Z[:, :, cut],
                IMPUTATIONS[im],
                prep,
                None if worst is None else worst[:, :, cut],
                None if median is None else median[:, :, cut],
            )
        for (gi, a, b), r, o in zip(pieces, rows, offsets[:-1], strict=True):
            agg = AGGREGATIONS[g_agg[gi]]
            S = _aggregate(Z[:, :, o : o + b - a], W[:, a:b], agg, norm, overwrite=True)
            scores[r] = S.T

    # Chunks spread over threads (numpy releases the GIL in its loops). Every step works draw
    # by draw (column by column within a draw) and each chunk writes its own rows of
    # ``scores``, so the scores are bit-identical whatever the chunking and the number of
    # threads (a test checks).
    threads = min(_threads(), len(chunks))
    if threads > 1 and n * len(prep.codes) * len(prep.partners) >= _THREADED_CELLS:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads) as pool:
            for _ in pool.map(chunk, chunks):
                pass
    else:
        for c in chunks:
            chunk(c)
    weighted = prep.pw > 0
    worst_cov = prep.pillar_coverage[:, weighted].min(axis=1)  # (P,)
    qualifies = worst_cov[None, :] >= d.coverage[:, None] - 1e-12
    return scores, qualifies


def _ranks(scores: np.ndarray, qualifies: np.ndarray) -> np.ndarray:
    """Ranks among the partners that meet the draw's coverage rule (float; NaN: not ranked).

    A partner a stricter threshold drops is not "last" in that draw: it is not ranked, and
    the others are ranked among those that remain.
    """
    r = ranks_from_scores(np.where(qualifies, scores, -np.inf)).astype(float)
    return np.where(qualifies, r, np.nan)


def _dirichlet_weights(
    prep: _Prepared, s: RankingSettings, gp: np.ndarray, gi: np.ndarray
) -> np.ndarray:
    """Effective weights from gamma variates at pillar (n, Pl) and indicator (n, K) level."""
    pw = gp / gp.sum(axis=1, keepdims=True)
    # Each pillar's sum, indicator after indicator: the sums of ``gi @ prep.membership``
    # (its products are exact, its order the same) without a BLAS call, which on a busy
    # two-core machine can cost more in thread hand-offs than the sums themselves.
    sums = np.zeros((len(gi), prep.membership.shape[1]))
    for k, j in enumerate(prep.pillar_of):
        sums[:, j] += gi[:, k]
    v = gi / np.where(sums > 0, sums, 1.0)[:, prep.pillar_of]
    return pw[:, prep.pillar_of] * v


def _alphas(prep: _Prepared, s: RankingSettings) -> tuple[np.ndarray, np.ndarray]:
    """Dirichlet parameters centred on the nominal weights (zero weights stay zero)."""
    c = s.weight_concentration
    ap = c * len(prep.pw) * prep.pw
    sizes = prep.membership.sum(axis=0)[prep.pillar_of]
    ai = c * sizes * prep.v
    return ap, ai


def _random_draws(prep: _Prepared, s: RankingSettings, n: int, rng: np.random.Generator):
    ap, ai = _alphas(prep, s)
    gp = np.where(ap > 0, rng.standard_gamma(np.maximum(ap, 1e-9), size=(n, len(ap))), 0.0)
    gi = np.where(ai > 0, rng.standard_gamma(np.maximum(ai, 1e-9), size=(n, len(ai))), 0.0)
    P, K = len(prep.partners), len(prep.codes)
    noise = None
    if s.noise > 0:
        # Uniform on the log scale with standard deviation ``noise`` (half-width sqrt(3)
        # noise), the usual perturbation in composite-indicator uncertainty analysis
        # (Saisana, Saltelli & Tarantola 2005); uniform variates are also the cheap ones.
        width = (2 * np.sqrt(3.0) * s.noise * prep.noisy).astype(np.float32)[:, None]

        def centre(block: np.ndarray) -> None:
            block -= np.float32(0.5)
            block *= width

        noise = _uniform_f32(rng, (n, K, P), centre)
    choice = lambda options, table: np.array([table.index(o) for o in options])[  # noqa: E731
        rng.integers(len(options), size=n)
    ]
    levels = np.array(s.coverage_levels)
    norm, agg = (
        choice(s.mc_normalisations, NORMALISATIONS),
        choice(s.mc_aggregations, AGGREGATIONS),
    )
    imp, hub = choice(s.mc_imputations, IMPUTATIONS), choice(s.mc_hub_treatments, HUB_TREATMENTS)
    # Every component is drawn independently, so sorting the method choices within each
    # half keeps the distribution (and keeps the halves independent for the convergence
    # check) while letting the evaluation work on contiguous slices.
    key = ((hub * len(IMPUTATIONS) + imp) * len(AGGREGATIONS) + agg) * len(NORMALISATIONS) + norm
    half_n = n // 2
    order = np.r_[
        np.argsort(key[:half_n], kind="stable"), half_n + np.argsort(key[half_n:], kind="stable")
    ]
    return _Draws(
        norm=norm[order],
        agg=agg[order],
        imp=imp[order],
        hub=hub[order],
        coverage=levels[rng.integers(len(levels), size=n)],
        weights=_dirichlet_weights(prep, s, gp, gi),
        noise=noise,
        **_routed(prep, rng.random((n, len(prep.cens_idx[0]))), rng),
    )


def _uniform_f32(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    transform: Callable[[np.ndarray], None] | None = None,
) -> np.ndarray:
    """``rng.random(shape, dtype=np.float32)``: the same numbers, generated on threads.

    ``transform`` (in place) runs on every ``_CHUNK_ROWS`` rows as soon as they are drawn,
    while they are in cache (consecutive calls continue the same stream). A PCG64 generator
    makes a float32 from each half of a 64-bit output, so value ``i`` of the stream comes
    from output ``i // 2``: a block of rows that starts at an even value is drawn by a copy
    of the generator advanced by half that many outputs (``advance`` costs O(log n)), and
    ``rng`` then takes the state of the copy that drew the last block, the state the serial
    call leaves (a test checks both). Other bit generators, a buffered half-output, one
    thread or a small array: the serial call, in the same pieces.
    """
    out = np.empty(shape, dtype=np.float32)
    bg = rng.bit_generator
    n, step = shape[0], int(np.prod(shape[1:]))
    threads = min(_threads(), n)
    if (
        threads < 2
        or out.size < _THREADED_CELLS
        or type(bg) is not np.random.PCG64
        or bg.state["has_uint32"]
    ):
        _draw_rows(rng, out, transform)
        return out
    per = -(-n // threads)
    per += per * step % 2  # an even number of values per block
    state = bg.state

    def block(a: int) -> dict:
        copy = np.random.Generator(np.random.PCG64())
        copy.bit_generator.state = state
        copy.bit_generator.advance(a * step // 2)
        _draw_rows(copy, out[a : a + per], transform)
        return copy.bit_generator.state

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads) as pool:
        states = list(pool.map(block, range(0, n, per)))
    bg.state = states[-1]
    return out


def _draw_rows(
    rng: np.random.Generator, out: np.ndarray, transform: Callable[[np.ndarray], None] | None
) -> None:
    """Fill ``out`` from ``rng`` as ``rng.random(out=out)`` does, ``_CHUNK_ROWS`` rows at a
    time, each transformed at once."""
    for a in range(0, len(out), _CHUNK_ROWS):
        part = out[a : a + _CHUNK_ROWS]
        rng.random(out=part, dtype=np.float32)
        if transform is not None:
            transform(part)


def _routed(prep: _Prepared, censored_u: np.ndarray, u) -> dict[str, np.ndarray]:
    """Put every routed cell at the view drawn for the run (``u >= 0.5``: ultimate investor).

    ``u`` is the runs' uniform variates, or a generator to draw them from.

    A routed interval is two alternatives, not a range: Korea with Lotte's cracker and
    Malaysia without it, or the reverse, never both or neither. Nothing changes (and no
    random number is used) when the set has no routed cell.
    """
    if not len(prep.routed_cols):
        return {"censored_u": censored_u}
    if isinstance(u, np.random.Generator):
        u = u.random(len(censored_u))
    view = np.asarray(u) >= 0.5
    censored_u = np.repeat(censored_u, len(prep.cens_idx[0]) // censored_u.shape[1], axis=1)
    censored_u[:, prep.routed_cols] = np.where(prep.routed_upper, view[:, None], ~view[:, None])
    return {"censored_u": censored_u, "routed_view": view}
