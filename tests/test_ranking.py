"""Partner ranking: properties of the composite index, a TOPSIS reference, uncertainty."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analysis.ranking import (
    RankingSettings,
    aggregate,
    normalise,
    rank_partners,
    ranks_from_scores,
    topsis,
)

matrices = arrays(
    np.float64, st.tuples(st.integers(3, 12), st.integers(2, 6)), elements=st.floats(0.1, 1000)
)


def _meta(k, directions=None):
    pillars = [f"p{i % 2}" for i in range(k)]
    return pd.DataFrame(
        {
            "pillar": pillars,
            "label": [f"i{i}" for i in range(k)],
            "direction": directions if directions is not None else [1] * k,
            "unit": "u",
            "source": "SYNTHETIC",
            "year": "2024",
        },
        index=[f"i{i}" for i in range(k)],
    )


def _frame(X):
    return pd.DataFrame(
        X, index=[f"P{i:02d}" for i in range(len(X))], columns=[f"i{j}" for j in range(X.shape[1])]
    )


QUICK = RankingSettings(draws=200, sobol_base=16)


@settings(max_examples=40, deadline=None)
@given(
    matrices,
    st.sampled_from(["minmax", "zscore", "rank"]),
    st.sampled_from(["arithmetic", "geometric", "topsis"]),
)
def test_ranks_are_a_permutation(X, norm, agg):
    w = np.full(X.shape[1], 1 / X.shape[1])
    r = ranks_from_scores(aggregate(normalise(X, norm, np.ones(X.shape[1])), w, agg, norm))
    assert sorted(r) == list(range(1, len(X) + 1))


@settings(max_examples=40, deadline=None)
@given(matrices, st.data())
def test_improving_an_indicator_never_worsens_the_rank_under_arithmetic(X, data):
    i = data.draw(st.integers(0, len(X) - 1))
    k = data.draw(st.integers(0, X.shape[1] - 1))
    up = data.draw(st.floats(0.0, 500.0))
    w = np.full(X.shape[1], 1 / X.shape[1])
    d = np.ones(X.shape[1])
    s1 = aggregate(normalise(X, "minmax", d), w, "arithmetic")
    X2 = X.copy()
    X2[i, k] += up
    s2 = aggregate(normalise(X2, "minmax", d), w, "arithmetic")
    # Rank with ties resolved in the partner's favour: 1 + partners strictly ahead.
    assert (s2 > s2[i] + 1e-12).sum() <= (s1 > s1[i] + 1e-12).sum()


@settings(max_examples=30, deadline=None)
@given(matrices, st.randoms(use_true_random=False), st.floats(0.01, 1e6))
def test_order_of_partners_and_units_do_not_matter_under_minmax(X, rnd, scale):
    w = np.full(X.shape[1], 1 / X.shape[1])
    d = np.ones(X.shape[1])
    base = aggregate(normalise(X, "minmax", d), w, "arithmetic")
    perm = list(range(len(X)))
    rnd.shuffle(perm)
    shuffled = aggregate(normalise(X[perm], "minmax", d), w, "arithmetic")
    np.testing.assert_allclose(shuffled, base[perm], atol=1e-12)
    Xs = X.copy()
    Xs[:, 0] *= scale
    np.testing.assert_allclose(
        aggregate(normalise(Xs, "minmax", d), w, "arithmetic"), base, rtol=1e-9, atol=1e-12
    )


def test_bands_collapse_without_uncertainty():
    rng = np.random.default_rng(1)  # SYNTHETIC
    X = _frame(rng.lognormal(size=(15, 5)))
    s = RankingSettings(
        draws=200,
        noise=0.0,
        weight_concentration=1e9,
        mc_normalisations=("minmax",),
        mc_aggregations=("arithmetic",),
        sobol_base=16,
    )
    r = rank_partners(X, _meta(5), s)
    t = r.table
    assert (t["rank_p05"] == t["rank"].astype(float)).all()
    assert (t["rank_p95"] == t["rank"].astype(float)).all()
    assert r.stability.loc["Kendall tau", "p05"] == pytest.approx(1.0)


def test_topsis_reference_example():
    # Sennaroglu (2009), Decision Analysis lecture notes after Yoon & Hwang (1995): three
    # alternatives, two criteria, weights 0.714 / 0.286. Published weighted normalised
    # matrix V (4 decimals): [[0.5703, 0.2124], [0.3355, 0.1593], [0.2684, 0.1062]].
    X = np.array([[17, 12], [10, 9], [8, 6]], dtype=float)
    w = np.array([0.714, 0.286])
    V = X / np.sqrt((X**2).sum(axis=0)) * w
    np.testing.assert_allclose(
        V, [[0.5703, 0.2124], [0.3355, 0.1593], [0.2684, 0.1062]], atol=5e-5
    )  # published to 4 decimals
    # By hand, both criteria benefits: A+ = (0.5703, 0.2124), A- = (0.2684, 0.1062);
    # S+ = (0, 0.2407, 0.3207), S- = (0.3201, 0.0856, 0); C = S- / (S+ + S-).
    expected = np.array([1.0, 0.0856 / (0.2407 + 0.0856), 0.0])
    np.testing.assert_allclose(topsis(X, w, [True, True]), expected, atol=2e-4)
    # With criterion 2 a cost: A+ = (0.5703, 0.1062), A- = (0.2684, 0.2124);
    # S+ = (0.1062, 0.2407, 0.3019), S- = (0.3019, 0.0856, 0.1062).
    np.testing.assert_allclose(
        topsis(X, w, [True, False]), [0.3019 / 0.4081, 0.0856 / 0.3263, 0.1062 / 0.4081], atol=3e-4
    )


def test_imputation_is_flagged_and_low_coverage_is_not_ranked():
    rng = np.random.default_rng(2)  # SYNTHETIC
    X = rng.lognormal(size=(10, 5))
    X[0, :4] = np.nan  # covers 20 % of the weight
    X[1, 2] = np.nan
    s = RankingSettings(draws=200, sobol_base=16, imputation="median", min_coverage=0.6)
    r = rank_partners(_frame(X), _meta(5), s)
    t = r.table.set_index("partner_iso3")
    assert t.loc["P00", "status"] == "insufficient data" and pd.isna(t.loc["P00", "rank"])
    assert t.loc["P01", "imputed"] == "i2"
    assert sorted(t.loc[t["status"] == "ranked", "rank"]) == list(range(1, 10))
    assert any("imputed" in n for n in r.notes)


def test_pillar_weights_and_their_effect():
    rng = np.random.default_rng(3)  # SYNTHETIC
    X = _frame(rng.lognormal(size=(12, 4)))
    meta = _meta(4)
    a = rank_partners(X, meta, QUICK)
    b = rank_partners(
        X, meta, RankingSettings(draws=200, sobol_base=16, weights={"p0": 10, "p1": 0.1})
    )
    assert not a.table["rank"].equals(b.table["rank"]) or not np.allclose(
        a.table["score"], b.table["score"]
    )
    with pytest.raises(ValueError, match="unknown indicator or pillar"):
        rank_partners(X, meta, RankingSettings(draws=200, weights={"nope": 1}))


def test_lower_is_better_indicators_are_turned_around():
    X = np.array([[1.0, 100.0], [2.0, 50.0], [3.0, 10.0]])
    z = normalise(X, "minmax", np.array([1.0, -1.0]))
    np.testing.assert_allclose(z[:, 1], [0.0, 0.5555555, 1.0], atol=1e-6)


def test_sobol_indices_are_reported_for_every_choice():
    rng = np.random.default_rng(4)  # SYNTHETIC
    r = rank_partners(_frame(rng.lognormal(size=(12, 4))), _meta(4), QUICK)
    assert list(r.sobol.index) == [
        "weight: p0",
        "weight: p1",
        "normalisation",
        "aggregation",
        "noise",
    ]
    assert (r.sobol["ST"] >= -0.05).all()


def test_real_indicators_for_each_sector(ledger):
    from analysis.indicators import build_indicators

    for sector in ("textile", "chemical", "pharma"):
        values, _, meta = build_indicators(ledger, sector, 2024)
        assert len(values) == 40 and set(meta["direction"]) <= {1, -1}
        assert (meta["source"].str.len() > 0).all()
        # A censored partner gets an explicit midpoint, never a zero.
        assert (values["pma_in_idn"].dropna() > 0).all()
        assert values.attrs["censored"]


def test_vectorised_kendall_tau_equals_scipy():
    from scipy import stats

    from analysis.ranking import kendall_tau

    rng = np.random.default_rng(5)  # SYNTHETIC permutations
    ref = rng.permutation(30) + 1
    R = np.array([rng.permutation(30) + 1 for _ in range(1500)])  # crosses a chunk edge
    expected = [stats.kendalltau(ref, r).statistic for r in R]
    np.testing.assert_allclose(kendall_tau(ref, R), expected, atol=1e-12)
