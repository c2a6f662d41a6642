"""Partner ranking: the production path (nominal, Monte Carlo, Sobol, audit) and its invariants.

Every reference test goes through :func:`analysis.models.ranking.rank_partners` (or the public
:func:`normalise` / :func:`aggregate`, which are thin axis-swapping wrappers of the functions
the draws use), so what is checked is what the report runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analysis.models.ranking import (
    IndicatorSet,
    RankingSettings,
    aggregate,
    effective_weights,
    kendall_tau,
    normalise,
    rank_partners,
    ranks_from_scores,
    sobol_indices,
)

matrices = arrays(
    np.float64, st.tuples(st.integers(3, 12), st.integers(2, 6)), elements=st.floats(0.1, 1000)
)
NOMINAL_ONLY = {"uncertainty": False, "sensitivity": False, "audit": False}


def _meta(k, directions=None, pillars=None):
    codes = [f"i{i}" for i in range(k)]
    return pd.DataFrame(
        {
            "pillar": pillars if pillars is not None else [f"p{i % 2}" for i in range(k)],
            "label": codes,
            "direction": directions if directions is not None else [1] * k,
            "unit": "u",
            "source": "SYNTHETIC",
            "year": "2024",
        },
        index=codes,
    )


def _frame(X):
    return pd.DataFrame(
        X, index=[f"P{i:02d}" for i in range(len(X))], columns=[f"i{j}" for j in range(X.shape[1])]
    )


def _set(X, **kw):
    X = np.asarray(X, dtype=float)
    meta = kw.pop("meta", None)
    return IndicatorSet(_frame(X), meta if meta is not None else _meta(X.shape[1]), **kw)


QUICK = RankingSettings(draws=200, sobol_base=16, sobol_resamples=20)


# --- properties of the core ----------------------------------------------------------------


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
    s = RankingSettings(outliers="none", pillar_coverage=0.0)
    r1 = rank_partners(_set(X), s, **NOMINAL_ONLY).table.set_index("partner_iso3")["score"]
    X2 = X.copy()
    X2[i, k] += up
    r2 = rank_partners(_set(X2), s, **NOMINAL_ONLY).table.set_index("partner_iso3")["score"]
    me = f"P{i:02d}"
    # Rank with ties resolved in the partner's favour: 1 + partners strictly ahead.
    assert (r2 > r2[me] + 1e-12).sum() <= (r1 > r1[me] + 1e-12).sum()


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


@settings(max_examples=40, deadline=None)
@given(matrices, st.data(), st.sampled_from(["arithmetic", "geometric"]))
def test_gaining_data_costs_rank_only_if_the_data_are_worse_than_the_imputed_value(X, data, agg):
    """Default imputation ('worst') under minmax: a new value at least as good as the worst
    observed one (the imputed value) can never cost the partner rank. (Percentile ranks are
    excluded: a value tying the minimum shifts the others' percentiles.)"""
    k = data.draw(st.integers(0, X.shape[1] - 1))
    i = data.draw(st.integers(0, len(X) - 1))
    directions = data.draw(
        st.lists(st.sampled_from([1, -1]), min_size=X.shape[1], max_size=X.shape[1])
    )
    X = X.copy()
    new_value = X[i, k]
    X[i, k] = np.nan
    others = np.delete(X[:, k], i)
    worst = others.min() if directions[k] == 1 else others.max()  # the imputed raw value
    s = RankingSettings(outliers="none", pillar_coverage=0.0, aggregation=agg)
    meta = _meta(X.shape[1], directions)
    before = rank_partners(_set(X, meta=meta), s, **NOMINAL_ONLY).table
    X2 = X.copy()
    X2[i, k] = new_value
    after = rank_partners(_set(X2, meta=meta), s, **NOMINAL_ONLY).table
    rank = lambda t: int(t.set_index("partner_iso3").loc[f"P{i:02d}", "rank"])  # noqa: E731
    not_worse = (new_value - worst) * directions[k] >= 0
    if not_worse:
        assert rank(after) <= rank(before)


@settings(max_examples=30, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(4, 10), st.just(5)), elements=st.floats(0.1, 100)),
    # Subnormal weights (below 2.2e-308) carry too few significant bits for a 1e-12 relative
    # check; no weight a user sets is subnormal.
    st.lists(st.floats(0.0, 10.0, allow_subnormal=False), min_size=3, max_size=3).filter(
        lambda w: sum(w) > 0.1
    ),
    st.sampled_from(["minmax", "zscore", "rank"]),
)
def test_pillar_weights_are_respected_exactly_without_noise(X, pw, norm):
    meta = _meta(5, pillars=["a", "a", "b", "c", "c"])
    s = RankingSettings(
        normalisation=norm, outliers="none", pillar_weights=dict(zip("abc", pw, strict=True))
    )
    w = effective_weights(meta, s)
    by_pillar = w.groupby("pillar")["effective_weight"].sum()
    np.testing.assert_allclose(by_pillar[list("abc")], np.array(pw) / sum(pw), rtol=1e-12)
    r = rank_partners(_set(X, meta=meta), s, **NOMINAL_ONLY)
    pil = r.pillar_scores.pivot(index="partner_iso3", columns="pillar", values="score")
    composite = (pil[list("abc")] * (np.array(pw) / sum(pw))).sum(axis=1)
    score = r.table.set_index("partner_iso3")["score"]
    np.testing.assert_allclose(score[composite.index], composite, rtol=1e-10, atol=1e-12)


# --- references, through the production path -----------------------------------------------

# 3 partners x 2 indicators in two pillars weighted 3:1; minmax values by hand:
# i0 = [0, 1/3, 1], i1 = [0, 1, 1/2]; effective weights 0.75 / 0.25.
HAND_X = [[1.0, 10.0], [2.0, 30.0], [4.0, 20.0]]
HAND = {
    # 0.75 z0 + 0.25 z1
    "arithmetic": [0.0, 0.25 + 0.25, 0.75 + 0.125],
    # exp(0.75 ln(0.01 + 0.99 z0) + 0.25 ln(0.01 + 0.99 z1))
    "geometric": [0.01, 0.34**0.75, 0.505**0.25],
    # V = (0.75 z0, 0.25 z1); ideal (0.75, 0.25), anti-ideal (0, 0):
    # P0: S+ = sqrt(0.625), S- = 0; P1: S+ = 0.5, S- = sqrt(0.125);
    # P2: S+ = 0.125, S- = sqrt(0.578125)
    "topsis": [
        0.0,
        np.sqrt(0.125) / (0.5 + np.sqrt(0.125)),
        np.sqrt(0.578125) / (0.125 + np.sqrt(0.578125)),
    ],
}


@pytest.mark.parametrize("agg", ["arithmetic", "geometric", "topsis"])
def test_hand_checked_scores_for_each_aggregation(agg):
    meta = _meta(2, pillars=["a", "b"])
    s = RankingSettings(aggregation=agg, pillar_weights={"a": 3, "b": 1}, outliers="none")
    r = rank_partners(_set(HAND_X, meta=meta), s, **NOMINAL_ONLY)
    score = r.table.set_index("partner_iso3")["score"]
    # Hand values to 1e-12: only floating-point rounding separates them.
    np.testing.assert_allclose(score[["P00", "P01", "P02"]], HAND[agg], rtol=1e-12, atol=1e-12)


def test_classic_topsis_reference_through_production():
    # Sennaroglu (2009), Decision Analysis lecture notes after Yoon & Hwang (1995): three
    # alternatives, two criteria, weights 0.714 / 0.286, published weighted normalised
    # matrix V = [[0.5703, 0.2124], [0.3355, 0.1593], [0.2684, 0.1062]] (4 decimals).
    # By hand, both benefits: S+ = (0, 0.2407, 0.3207), S- = (0.3201, 0.0856, 0).
    # Criterion 2 a cost: S+ = (0.1062, 0.2407, 0.3019), S- = (0.3019, 0.0856, 0.1062).
    X = [[17.0, 12.0], [10.0, 9.0], [8.0, 6.0]]
    s = RankingSettings(
        normalisation="vector",
        aggregation="topsis",
        outliers="none",
        pillar_weights={"a": 0.714, "b": 0.286},
    )
    for directions, expected in (
        ([1, 1], [1.0, 0.0856 / (0.2407 + 0.0856), 0.0]),
        ([1, -1], [0.3019 / 0.4081, 0.0856 / 0.3263, 0.1062 / 0.4081]),
    ):
        meta = _meta(2, directions, pillars=["a", "b"])
        r = rank_partners(_set(X, meta=meta), s, **NOMINAL_ONLY)
        score = r.table.set_index("partner_iso3")["score"][["P00", "P01", "P02"]]
        # 3e-4: the published intermediate values are rounded to 4 decimals.
        np.testing.assert_allclose(score, expected, atol=3e-4)


def test_percentile_ranks_equal_scipy_average_ranks():
    from scipy import stats

    rng = np.random.default_rng(7)  # SYNTHETIC, with ties and gaps
    X = rng.integers(0, 5, size=(6, 30, 4)).astype(float)
    X[rng.random(X.shape) < 0.15] = np.nan
    Z = normalise(X, "rank", np.ones(4))
    for b in range(6):
        for k in range(4):
            col = X[b, :, k]
            ok = ~np.isnan(col)
            expected = (stats.rankdata(col[ok]) - 1) / (ok.sum() - 1)
            np.testing.assert_allclose(Z[b, ok, k], expected, atol=1e-12)
            assert np.isnan(Z[b, ~ok, k]).all()


def test_sobol_estimator_matches_salib_and_the_ishigami_analytic_indices():
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample
    from SALib.test_functions import Ishigami

    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    U = sobol_sample.sample(problem, 2**12, calc_second_order=False, seed=1)
    Y = Ishigami.evaluate(U)
    ours = sobol_indices(Y[:, None], 3, resamples=100, seed=1)
    salib = sobol_analyze.analyze(problem, Y, calc_second_order=False, seed=1)
    # Same estimators (Saltelli 2010 first order, Jansen total): equal to rounding.
    np.testing.assert_allclose(ours["S1"], salib["S1"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours["ST"], salib["ST"], rtol=1e-9, atol=1e-12)
    # Analytic Ishigami indices (a = 7, b = 0.1; Saltelli et al. 2010): S1 = (0.3139,
    # 0.4424, 0), ST = (0.5576, 0.4424, 0.2437). 0.03: Monte Carlo error at N = 4096.
    np.testing.assert_allclose(ours["S1"], [0.3139, 0.4424, 0.0], atol=0.03)
    np.testing.assert_allclose(ours["ST"], [0.5576, 0.4424, 0.2437], atol=0.03)
    assert (ours["S1_lo"] <= ours["S1_hi"]).all() and (ours["ST_lo"] <= ours["ST_hi"]).all()


def test_vectorised_kendall_tau_equals_scipy():
    from scipy import stats

    rng = np.random.default_rng(5)  # SYNTHETIC permutations
    ref = rng.permutation(30) + 1
    R = np.array([rng.permutation(30) + 1 for _ in range(1500)])  # crosses a chunk edge
    expected = [stats.kendalltau(ref, r).statistic for r in R]
    np.testing.assert_allclose(kendall_tau(ref, R), expected, atol=1e-12)


# --- missing data, censoring, hubs, coverage -----------------------------------------------


def test_gaps_are_imputed_at_the_worst_value_flagged_and_low_coverage_is_not_ranked():
    rng = np.random.default_rng(2)  # SYNTHETIC
    X = rng.lognormal(size=(10, 4))
    X[0, [0, 2]] = np.nan  # no value in pillar p0: its pillar score does not exist
    X[1, 1] = np.nan
    r = rank_partners(
        _set(X), RankingSettings(outliers="none", pillar_coverage=0.5), **NOMINAL_ONLY
    )
    t = r.table.set_index("partner_iso3")
    assert t.loc["P00", "status"] == "insufficient data" and pd.isna(t.loc["P00", "rank"])
    assert t.loc["P00", "missing_pillars"] == "p0"
    assert t.loc["P01", "imputed"] == "i1"
    cell = r.cells.set_index(["partner_iso3", "indicator"]).loc[("P01", "i1")]
    assert cell["status"] == "missing" and "imputed (worst)" in cell["flags"]
    others = r.cells[(r.cells["indicator"] == "i1") & (r.cells["status"] == "observed")]
    assert cell["normalised"] == others["normalised"].min()  # never above any observed
    assert sorted(t.loc[t["status"] == "ranked", "rank"]) == list(range(1, 10))
    assert any("imputed" in n for n in r.notes)


def test_censored_values_enter_as_intervals_never_as_observed():
    rng = np.random.default_rng(3)  # SYNTHETIC
    X = rng.uniform(10, 100, size=(12, 4))
    upper = pd.DataFrame(np.nan, index=_frame(X).index, columns=_frame(X).columns)
    X[8:, 0] = np.nan
    upper.iloc[8:, 0] = 9.0  # below every listed value: a top-N bound
    data = _set(X, upper=upper)
    r = rank_partners(
        data, RankingSettings(draws=400, sobol_base=16, sobol_resamples=10, outliers="none")
    )
    cells = r.cells[r.cells["indicator"] == "i0"].set_index("partner_iso3")
    assert (cells.loc[["P08", "P09", "P10", "P11"], "status"] == "censored").all()
    assert cells.loc["P08", "flags"].startswith("interval [0, 9]")
    assert r.table.set_index("partner_iso3").loc["P08", "censored"] == "i0"
    # Nominal: the lower bound (0), so all four sit at the bottom of i0.
    assert (cells.loc[["P08", "P09", "P10", "P11"], "normalised"] == 0).all()
    assert "censored values" in set(r.sobol["choice"])


def test_hub_treatment_discounts_or_excludes_hub_sensitive_indicators():
    rng = np.random.default_rng(4)  # SYNTHETIC
    X = rng.uniform(1, 10, size=(8, 4))
    X[0, 0] = 100.0  # the hub's presence dwarfs everyone
    meta = _meta(4).assign(hub_sensitive=[True, False, False, False])
    data = _set(X, meta=meta, hubs={"P00": "known conduit"})
    base = RankingSettings(outliers="none")
    ranks = {
        h: rank_partners(
            data, RankingSettings(**{**vars(base), "hub_treatment": h}), **NOMINAL_ONLY
        )
        for h in ("as_is", "discounted", "excluded")
    }
    z = {
        h: r.cells.set_index(["partner_iso3", "indicator"]).loc[("P00", "i0")]
        for h, r in ranks.items()
    }
    assert z["as_is"]["normalised"] == 1.0
    assert "hub: excluded" in z["excluded"]["flags"] and "imputed" in z["excluded"]["flags"]
    assert z["excluded"]["normalised"] == 0.0  # excluded then imputed at the worst value
    assert ranks["as_is"].table.set_index("partner_iso3").loc["P00", "hub"] == "known conduit"
    s = [r.table.set_index("partner_iso3").loc["P00", "score"] for r in ranks.values()]
    assert s[0] >= s[1] >= s[2]


def test_weights_name_real_pillars_and_indicators():
    with pytest.raises(ValueError, match="unknown pillar or indicator"):
        rank_partners(
            _set(np.ones((4, 2)) + np.eye(4, 2)), RankingSettings(pillar_weights={"nope": 1})
        )
    with pytest.raises(ValueError, match="must be one of"):
        RankingSettings(hub_treatment="ignored")
    with pytest.raises(ValueError, match="TOPSIS"):
        RankingSettings(normalisation="vector")


# --- uncertainty and audit -----------------------------------------------------------------


def test_bands_collapse_without_uncertainty_and_converge():
    rng = np.random.default_rng(1)  # SYNTHETIC
    s = RankingSettings(
        draws=200,
        noise=0.0,
        weight_concentration=1e9,
        mc_normalisations=("minmax",),
        mc_aggregations=("arithmetic",),
        mc_imputations=("worst",),
        mc_hub_treatments=("as_is",),
        coverage_spread=0.0,
        sobol_base=16,
        sobol_resamples=10,
    )
    r = rank_partners(_set(rng.lognormal(size=(15, 5))), s)
    t = r.table
    assert (t["rank_p05"] == t["rank"].astype(float)).all()
    assert (t["rank_p95"] == t["rank"].astype(float)).all()
    assert r.stability["p05"].iloc[0] == pytest.approx(1.0)
    assert r.converged and (r.convergence["max_band_shift"] == 0).all()
    # Nothing varies, so no choice explains rank variance.
    assert r.sobol["ST"].isna().all()  # undefined, not a made-up zero


def test_monte_carlo_and_sobol_cover_every_choice():
    rng = np.random.default_rng(4)  # SYNTHETIC
    X = rng.lognormal(size=(20, 6))
    X[rng.random(X.shape) < 0.15] = np.nan
    r = rank_partners(_set(X), QUICK)
    assert list(r.sobol.columns[:7]) == ["choice", "S1", "S1_lo", "S1_hi", "ST", "ST_lo", "ST_hi"]
    assert set(r.sobol["choice"]) >= {
        "normalisation",
        "aggregation",
        "imputation",
        "coverage threshold",
        "hub treatment",
        "pillar weights",
        "indicator weights",
        "indicator noise",
    }
    ranked = r.table[r.table["status"] == "ranked"]
    assert (ranked["rank_p05"] <= ranked["median_rank"]).all()
    assert (ranked["median_rank"] <= ranked["rank_p95"]).all()
    assert r.mc_ranks.shape == (200, 20)
    assert {"p05_N", "p95_N", "p05_2N", "p95_2N", "max_band_shift"} <= set(r.convergence)


def test_audit_reliability_outliers_and_indicator_removal():
    rng = np.random.default_rng(6)  # SYNTHETIC
    base = rng.normal(size=(30, 1))
    X = np.exp(np.hstack([base + 0.01 * rng.normal(size=(30, 2)), rng.normal(size=(30, 2))]))
    X[0, 3] = 1e4  # an outlier
    meta = _meta(4, pillars=["a", "a", "b", "b"])
    r = rank_partners(
        _set(X, meta=meta),
        RankingSettings(outliers="winsorise"),
        uncertainty=False,
        sensitivity=False,
    )
    a = r.audit.pillars.set_index("pillar")
    assert a.loc["a", "cronbach_alpha"] > 0.95  # two near-copies of one signal
    assert a.loc["a", "pca_first_share"] > 0.95
    out = r.audit.outliers.set_index("indicator")
    assert out.loc["i3", "outlying"] and out.loc["i3", "treatment"].startswith("winsorised")
    assert not out.loc["i0", "outlying"]
    rem = r.audit.removal.set_index("indicator")
    assert set(rem.index) == {"i0", "i1", "i2", "i3"}
    # Dropping one of two near-copies barely moves anything.
    assert rem.loc["i0", "kendall_tau"] > 0.95


def test_a_spread_at_rounding_level_is_a_constant_column():
    # Found by hypothesis: two values one ulp apart scored 0/1, and 0.5/0.5 once scaled.
    X = np.array([[1.0, 2.0], [np.nextafter(1.0, 2.0), 3.0], [1.0, 4.0]])
    Z = normalise(X, "minmax", np.ones(2))
    np.testing.assert_allclose(Z[:, 0], 0.5)
    np.testing.assert_allclose(Z[:, 1], [0.0, 0.5, 1.0])
