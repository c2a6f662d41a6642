"""The ranking Monte Carlo's fast paths change no rank (issue 24).

The draws are evaluated in float32, in chunks, on threads, and percentile ranks order rows by
a value sort instead of an argsort. Chunking, threads and the sort are exact (bit-identical
scores); float32 is not exact, so its ranks are compared with a float64 evaluation of the same
draws on the shipped data and on SYNTHETIC data: the published bands (median, 5th and 95th
percentile ranks) agree exactly, and any single-draw swap is a near-tie in float64.
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

    pr = R._percentile_rank(X)
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
    """(draws, indicators, partners) with gaps, ties, constant rows, one-value and empty rows."""
    rng = np.random.default_rng(seed)
    X = rng.lognormal(size=(30, 12, 40)).astype(dtype)
    X[rng.random(X.shape) < 0.15] = np.nan
    X[:, 1] = np.round(X[:, 1])  # ties
    X[:, 2] = 3.0  # constant
    X[:, 3, 1:] = np.nan  # one value
    X[:, 4] = np.nan  # no value
    X[::3, 5] *= -1
    X[:, 6, :20] = X[:, 6, 20:]  # pairs of ties
    return X


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
                want = np.fmin.reduce(plain, axis=-1, keepdims=True)
        np.testing.assert_array_equal(worst, want)


@pytest.mark.parametrize("seed", range(3))
def test_worst_imputation_by_fmax_equals_the_fill(seed):
    prep, _ = _prepared(synthetic(seed), seed)
    rng = np.random.default_rng(seed)
    X = rng.lognormal(size=(30, len(prep.codes), len(prep.partners))).astype(np.float32)
    X[rng.random(X.shape) < 0.15] = np.nan
    X[:, 2] = np.nan  # no value at all: stays a gap
    plain = R._impute(X.copy(), "worst", prep)
    worst = np.fmin.reduce(X, axis=-1, keepdims=True)
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
