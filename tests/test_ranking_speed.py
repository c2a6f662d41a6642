"""The ranking Monte Carlo's fast paths change no rank (issue 24).

The draws are evaluated in float32, partners first and draws last, in chunks, on threads, and
percentile ranks order rows by a value sort instead of an argsort. Chunking, threads and the
sort are exact (bit-identical scores); float32 is not exact, so its ranks are compared with a
float64 evaluation of the same draws on the shipped data and on SYNTHETIC data (the published
bands, median, 5th and 95th percentile ranks, agree exactly, and any single-draw swap is a
near-tie in float64) and with a plain float64 reference written out one draw at a time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.models import ranking as R

# The module whose evaluation path reads the chunk and threading thresholds (patched).
from analysis.models.ranking import draws as ranking_draws

DRAWS = 2000


def synthetic(seed: int, partners: int = 40, indicators: int = 15) -> R.IndicatorSet:
    """SYNTHETIC set shaped like the real one (gaps, censored cells, hubs, ties)."""
    rng = np.random.default_rng(seed)
    X = rng.lognormal(mean=1.0, sigma=1.0, size=(partners, indicators))
    X[rng.random(X.shape) < 0.1] = np.nan
    X[:, 3] = np.round(X[:, 3])  # ties
    X[: partners // 2, 4] = 1.0
    idx = [f"P{i:02d}" for i in range(partners)]
    cols = [f"i{j:02d}" for j in range(indicators)]
    upper = pd.DataFrame(np.nan, index=idx, columns=cols)
    X[partners - 12 :, 0] = np.nan
    upper.iloc[partners - 12 :, 0] = np.nanmin(X[:, 0])
    meta = pd.DataFrame(
        {
            "pillar": [f"pillar{j % 5}" for j in range(indicators)],
            "label": cols,
            "direction": [1 if j % 4 else -1 for j in range(indicators)],
            "unit": "u",
            "source": "SYNTHETIC",
            "year": "2024",
            "hub_sensitive": [j == 0 for j in range(indicators)],
        },
        index=cols,
    )
    return R.IndicatorSet(
        pd.DataFrame(X, index=idx, columns=cols), meta, upper=upper, hubs={"P00": "a", "P01": "b"}
    )


@pytest.fixture(scope="module")
def shipped():
    from analysis.data import build_ledger
    from analysis.data.panel import load_panel
    from analysis.models.indicators import build_indicators

    panel, ledger = load_panel(), build_ledger()
    out = {}
    for sector in ("textile", "pharma"):
        data = build_indicators(panel, ledger, sector, 2024)
        s = R.RankingSettings(draws=DRAWS, seed=7)
        share = (data.values.notna() | data.upper.notna()).mean()
        out[sector] = data.drop(
            [c for c in data.values.columns if share[c] < s.min_indicator_coverage]
        )
    return out


def _prepared(data: R.IndicatorSet, seed: int):
    s = R.RankingSettings(draws=DRAWS, seed=seed)
    prep = R._prepare(data, s)
    draws = R._random_draws(prep, s, DRAWS, np.random.default_rng(seed))
    return prep, draws


def _bands(ranks: np.ndarray) -> np.ndarray:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.array(
            [np.nanquantile(ranks, p, axis=0, method="nearest") for p in (0.05, 0.5, 0.95)]
        )


def _compare_float32_float64(data: R.IndicatorSet, seed: int) -> None:
    prep, draws = _prepared(data, seed)
    s32, q = R._evaluate(prep, draws, np.float32)
    s64, q64 = R._evaluate(prep, draws, np.float64)
    assert np.array_equal(q, q64)
    r32, r64 = R._ranks(s32, q), R._ranks(s64, q)
    np.testing.assert_array_equal(_bands(r32), _bands(r64))
    # Any draw where float32 orders two partners differently is a near-tie in float64.
    for i in np.flatnonzero(((r32 != r64) & ~np.isnan(r64)).any(axis=1)):
        moved = np.flatnonzero(r32[i] != r64[i])
        gap = np.ptp(s64[i, moved])
        assert gap <= 1e-5 * max(1.0, np.abs(s64[i, moved]).max()), (i, moved, gap)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_float32_ranks_match_float64_on_synthetic_data(seed):
    _compare_float32_float64(synthetic(seed), seed)


@pytest.mark.parametrize("sector", ["textile", "pharma"])
def test_float32_ranks_match_float64_on_the_shipped_data(shipped, sector):
    _compare_float32_float64(shipped[sector], 11)


def test_chunks_and_threads_give_bit_identical_scores(monkeypatch):
    prep, draws = _prepared(synthetic(5), 5)
    monkeypatch.setattr(ranking_draws, "_CHUNK_ROWS", 10**9)
    monkeypatch.setenv("MITRA_THREADS", "1")
    whole, _ = R._evaluate(prep, draws)
    monkeypatch.setattr(ranking_draws, "_CHUNK_ROWS", 37)
    monkeypatch.setattr(ranking_draws, "_THREADED_CELLS", 0)
    monkeypatch.setenv("MITRA_THREADS", "3")
    threaded, _ = R._evaluate(prep, draws)
    assert np.array_equal(whole, threaded)


@pytest.mark.parametrize("seed", range(4))
def test_row_order_by_value_sort_equals_argsort(seed):
    rng = np.random.default_rng(seed)
    X = rng.lognormal(size=(600, 40)).astype(np.float32)
    X[rng.random(X.shape) < 0.15] = np.nan
    X[::3] *= -1
    X[:, 5] = X[:, 6]
    X[::7, 10:14] = 1.0
    X[::11, 3], X[::13, 4] = 0.0, -0.0
    X[::17] = np.nan
    X[::19, 7:9] = -np.nan
    X[::23, 20] = np.finfo(np.float32).max
    X[::29, 21] = np.finfo(np.float32).tiny / 4  # subnormal
    order = R._row_order(X)
    ref = np.argsort(X, axis=-1)
    assert np.array_equal(
        np.take_along_axis(X, order, -1), np.take_along_axis(X, ref, -1), equal_nan=True
    )
    assert sorted(order[0]) == list(range(40))
    # And the percentile ranks built on it equal scipy's average ranks.
    from scipy.stats import rankdata

    pr = R._percentile_rank(X.T).T  # partners on the first axis
    for row, out in zip(X[:50], pr[:50], strict=True):
        ok = ~np.isnan(row)
        if ok.sum() > 1:
            want = (rankdata(row[ok]) - 1) / (ok.sum() - 1)
            np.testing.assert_allclose(out[ok], want, rtol=1e-6)
        assert np.isnan(out[~ok]).all()


def test_infinite_values_fall_back_to_argsort():
    X = np.array([[1.0, np.inf, -np.inf, np.nan, 0.5]], dtype=np.float32)
    assert list(R._row_order(X)[0]) == list(np.argsort(X, axis=-1)[0])


def _awkward_rows(seed: int, dtype=np.float32) -> np.ndarray:
    """(partners, indicators, draws) with gaps, ties, constant rows, one-value and empty rows."""
    rng = np.random.default_rng(seed)
    X = rng.lognormal(size=(30, 12, 40)).astype(dtype)
    X[rng.random(X.shape) < 0.15] = np.nan
    X[:, 1] = np.round(X[:, 1])  # ties
    X[:, 2] = 3.0  # constant
    X[:, 3, 1:] = np.nan  # one value
    X[:, 4] = np.nan  # no value
    X[::3, 5] *= -1
    X[:, 6, :20] = X[:, 6, 20:]  # pairs of ties
    return np.ascontiguousarray(X.transpose(2, 1, 0))  # the evaluation's layout


@pytest.mark.parametrize("method", ["minmax", "zscore", "rank"])
@pytest.mark.parametrize("seed", range(3))
def test_fast_normalisation_equals_the_plain_one(method, seed):
    """In-place normalisation and its free 'worst' value change no bit."""
    from analysis.models.ranking.core import _normalise_worst

    X = _awkward_rows(seed)
    directions = np.where(np.arange(12) % 3 == 0, -1.0, 1.0)[:, None]
    plain = R._normalise(X.copy(), method, directions)
    fast, worst = _normalise_worst(X.copy(), method, directions, overwrite=True)
    assert fast.dtype == plain.dtype
    np.testing.assert_array_equal(fast, plain)
    if worst is not None:
        with np.errstate(invalid="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                want = np.fmin.reduce(plain, axis=0, keepdims=True)
        np.testing.assert_array_equal(worst, want)
    if method == "rank":  # the median imputation's value, from the sorted ranks
        *_, median = _normalise_worst(X.copy(), method, directions, overwrite=True, median=True)
        srt = np.sort(plain, axis=0)  # NaN last
        n = (~np.isnan(plain)).sum(axis=0)
        lo = np.take_along_axis(srt, np.maximum(n - 1, 0)[None] // 2, axis=0)
        hi = np.take_along_axis(srt, n[None] // 2, axis=0)
        np.testing.assert_array_equal(median, (lo + hi) / 2)


@pytest.mark.parametrize("seed", range(3))
def test_worst_imputation_by_fmax_equals_the_fill(seed):
    prep, _ = _prepared(synthetic(seed), seed)
    rng = np.random.default_rng(seed)
    X = rng.lognormal(size=(len(prep.partners), len(prep.codes), 30)).astype(np.float32)
    X[rng.random(X.shape) < 0.15] = np.nan
    X[:, 2] = np.nan  # no value at all: stays a gap
    plain = R._impute(X.copy(), "worst", prep)
    worst = np.fmin.reduce(X, axis=0, keepdims=True)
    np.testing.assert_array_equal(R._impute(X.copy(), "worst", prep, worst), plain)


def test_caps_in_the_data_dtype_clip_like_float64():
    """Winsorising float32 data at float32-rounded caps equals clipping in float64."""
    rng = np.random.default_rng(0)
    caps = rng.lognormal(size=200)
    x = (caps[:, None] * rng.uniform(0.999999, 1.000001, size=(200, 50))).astype(np.float32)
    x[:, :3] = caps[:, None].astype(np.float32)
    hi32 = caps.astype(np.float32)[:, None]
    np.testing.assert_array_equal(
        np.minimum(x, hi32), np.clip(x, -np.inf, caps[:, None]).astype(np.float32)
    )
    np.testing.assert_array_equal(
        np.maximum(x, hi32), np.clip(x, caps[:, None], np.inf).astype(np.float32)
    )


# --- a straightforward float64 reference, one draw at a time ---------------------------------


def _reference_scores(prep, d: R._Draws, i: int) -> np.ndarray:
    """Scores of draw ``i`` in float64 from the documented rules, written out plainly (one draw,
    partners x indicators, scipy for ranks and the normal CDF): nothing of the evaluation
    path is reused, only the prepared data and the draw."""
    from scipy import special, stats

    h = int(d.hub[i])
    X = prep.X_hub[h].copy()  # (P, K), censored cells at their lower bound
    noise = d.noise[i].T.astype(float) if d.noise is not None else np.zeros(X.shape)
    X = X * np.exp(noise)
    ci, ck = prep.cens_idx
    if len(ci):
        lo, hi = prep.lo_hub[h], prep.hi_hub[h]
        u = np.broadcast_to(d.censored_u[i], lo.shape)
        X[ci, ck] = (lo + u * (hi - lo)) * np.exp(noise[ci, ck])
    X = np.clip(X, prep.caps[0], prep.caps[1])
    for k in np.flatnonzero(~np.isnan(prep.log_shift)):
        X[:, k] = np.log(np.maximum(X[:, k] - prep.log_shift[k], 0.0) + 1.0)
    X = X * prep.directions
    norm = R.NORMALISATIONS[d.norm[i]]
    Z = np.full(X.shape, np.nan)
    for k in range(X.shape[1]):
        ok = ~np.isnan(X[:, k])
        x = X[ok, k]
        if norm == "minmax":
            span = x.max() - x.min()
            flat = span <= 1e-12 * max(abs(x.min()), abs(x.max()))
            Z[ok, k] = 0.5 if flat else (x - x.min()) / span
        elif norm == "zscore":
            Z[ok, k] = 0.0 if x.std() == 0 else (x - x.mean()) / x.std()
        else:
            Z[ok, k] = 0.5 if len(x) == 1 else (stats.rankdata(x) - 1) / (len(x) - 1)
    imp = R.IMPUTATIONS[d.imp[i]]
    filled = Z.copy()
    for p, k in zip(*np.nonzero(np.isnan(Z)), strict=True):
        if imp == "worst":
            filled[p, k] = np.nanmin(Z[:, k])
        elif imp == "median":
            filled[p, k] = np.nanmedian(Z[:, k])
        else:
            same = Z[p, prep.pillar_of == prep.pillar_of[k]]
            same = same[~np.isnan(same)]
            filled[p, k] = same.mean() if len(same) else np.nanmin(Z[:, k])
    w = d.weights[i]
    agg = R.AGGREGATIONS[d.agg[i]]
    if agg == "arithmetic":
        return filled @ w
    if agg == "geometric":
        pos = special.ndtr(filled) if norm == "zscore" else 0.01 + 0.99 * filled
        return np.exp(np.log(pos) @ w)
    V = filled * w
    best = np.sqrt(((V - V.max(axis=0)) ** 2).sum(axis=1))
    worst = np.sqrt(((V - V.min(axis=0)) ** 2).sum(axis=1))
    with np.errstate(invalid="ignore"):
        c = worst / (best + worst)
    return np.where(np.isnan(c), 0.5, c)


def _reference_ranks(prep, d: R._Draws, scores: np.ndarray) -> np.ndarray:
    """Ranks (1 = best, ties by position) among the partners that meet each draw's coverage
    rule; NaN: not ranked."""
    cov = prep.pillar_coverage[:, prep.pw > 0].min(axis=1)
    out = np.full(scores.shape, np.nan)
    for i, s in enumerate(scores):
        ok = np.flatnonzero(cov >= d.coverage[i] - 1e-12)
        order = ok[np.argsort(-s[ok], kind="stable")]
        out[i, order] = np.arange(1, len(ok) + 1)
    return out


@pytest.mark.parametrize("seed", [11, 12])
def test_monte_carlo_ranks_equal_a_plain_float64_reference(seed):
    """The production path (float32, partners-first, chunked, threaded, value sorts) against
    the plain float64 reference on every choice the Monte Carlo draws: the float64 path
    agrees to rounding, and the float32 ranks agree except where float32 cannot order two
    partners (their float64 scores within 1e-5 of each other)."""
    data = synthetic(seed)
    s = R.RankingSettings(draws=600, seed=seed)
    prep = R._prepare(data, s)
    d = R._random_draws(prep, s, 600, np.random.default_rng(seed))
    ref = np.array([_reference_scores(prep, d, i) for i in range(len(d))])
    s64, _ = R._evaluate(prep, d, np.float64)
    np.testing.assert_allclose(s64, ref, rtol=1e-9, atol=1e-12)
    s32, q = R._evaluate(prep, d)
    ranks, want = R._ranks(s32, q), _reference_ranks(prep, d, ref)
    same = (ranks == want) | (np.isnan(ranks) & np.isnan(want))
    assert same.mean() > 0.999, same.mean()
    for i in np.flatnonzero(~same.all(axis=1)):
        moved = np.flatnonzero(~same[i])
        assert np.ptp(ref[i, moved]) <= 1e-5 * max(1.0, np.abs(ref[i, moved]).max()), (i, moved)
    # Every choice was drawn: the comparison covers each method.
    assert all(len(np.unique(a)) == 3 for a in (d.norm, d.agg, d.imp, d.hub))


def test_ranks_by_value_sort_equal_the_stable_argsort():
    """Ranks from one value sort of float32 scores: ties by position, +0.0 = -0.0, NaN last."""
    from analysis.models.ranking.core import _descending_order

    rng = np.random.default_rng(0)
    S = rng.normal(size=(3000, 40)).astype(np.float32)
    S[::3, 5] = S[::3, 6]
    S[::5, :10] = 1.0
    S[::7, 3], S[::7, 4] = 0.0, -0.0
    S[::11, 8], S[::17, 12] = np.nan, -np.nan
    S[::13, 9], S[::13, 10] = -np.inf, np.inf
    S[::19] = 2.5
    S[::23, 20:] = np.finfo(np.float32).max
    S[::29, 21] = np.finfo(np.float32).tiny / 4  # subnormal
    order = np.argsort(-S, axis=-1, kind="stable")
    assert np.array_equal(_descending_order(S), order)
    want = np.empty_like(order)
    np.put_along_axis(want, order, np.arange(1, 41)[None].repeat(len(S), 0), axis=-1)
    assert np.array_equal(R.ranks_from_scores(S), want)
    assert np.array_equal(R.ranks_from_scores(S.astype(float)), want)  # the argsort path
    assert list(R.ranks_from_scores(np.array([3.0, 1.0, 3.0], np.float32))) == [1, 3, 2]


@pytest.mark.parametrize("shape", [(1000, 15, 40), (999, 3, 5), (7, 1, 1)])
@pytest.mark.parametrize("piece", [256, 37])
def test_threaded_uniforms_are_the_serial_stream(monkeypatch, shape, piece):
    """The noise drawn in blocks on threads, in pieces of rows: the same numbers, and the
    generator left where the serial call leaves it (so every later draw is the same too)."""
    monkeypatch.setattr(ranking_draws, "_threads", lambda: 3)
    monkeypatch.setattr(ranking_draws, "_THREADED_CELLS", 0)
    monkeypatch.setattr(ranking_draws, "_CHUNK_ROWS", piece)  # odd pieces of 3 x 5 values
    for buffered in (False, True):
        serial, threaded = np.random.default_rng(4), np.random.default_rng(4)
        for g in (serial, threaded):
            g.standard_gamma(2.0, size=5)
            if buffered:  # half of a 64-bit output left over: the serial path
                g.random(1, dtype=np.float32)
        want = serial.random(shape, dtype=np.float32)
        got = ranking_draws._uniform_f32(threaded, shape)
        assert np.array_equal(got, want)
        assert threaded.bit_generator.state == serial.bit_generator.state
        assert np.array_equal(threaded.random(9, dtype=np.float32), serial.random(9, np.float32))


def test_dirichlet_weights_sum_each_pillar_as_the_matmul():
    """Pillar sums indicator by indicator equal ``gi @ membership`` (same products, same order;
    the drawn weights do not change)."""
    rng = np.random.default_rng(3)
    prep, _ = _prepared(synthetic(3), 3)
    gi = rng.standard_gamma(
        rng.uniform(0.5, 50, size=len(prep.codes)), size=(5000, len(prep.codes))
    )
    gp = rng.standard_gamma(np.full(len(prep.pillars), 4.0), size=(5000, len(prep.pillars)))
    sums = gi @ prep.membership
    want = (gp / gp.sum(axis=1, keepdims=True))[:, prep.pillar_of] * (
        gi / np.where(sums > 0, sums, 1.0)[:, prep.pillar_of]
    )
    np.testing.assert_allclose(
        ranking_draws._dirichlet_weights(prep, None, gp, gi), want, rtol=1e-15
    )
