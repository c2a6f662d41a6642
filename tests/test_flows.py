"""Investment-flow models: reference, property and behaviour tests; scenarios; targets."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis.models.flows import (
    FlowSeries,
    ForecastSettings,
    backtest,
    build_series,
    forecast_flows,
    forecast_path,
)
from analysis.models.scenarios import (
    Scenario,
    Shock,
    Uplift,
    apply_scenario,
    partner_shares,
    scenario_from_mapping,
    targets_gap,
)

# National total realisation 2013-2024 (Rp trillion), as the ledger reproduces it.
TOTAL = [398.6, 463.1, 545.4, 612.8, 692.8, 721.3, 809.6, 826.3, 901.02, 1207.2, 1418.9, 1714.2]
# Same estimator, same data, same library: only floating-point order may differ.
RTOL_SAME_LIBRARY = 1e-8


def _series(values, start=2013, sector="all", measure="total") -> FlowSeries:
    idx = pd.Index(range(start, start + len(values)), name="year")
    v = pd.Series(values, index=idx, dtype=float)
    origin = pd.Series(np.where(v.isna(), "missing", "published"), index=idx, dtype=object)
    empty = pd.Series("", index=idx, dtype=object)
    return FlowSeries(sector, measure, "Rp billion", v, origin, empty, empty)


# --- reference tests: our paths equal statsmodels called directly ---------------------------


def test_ets_matches_statsmodels_directly():
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = pd.Series(np.log(TOTAL))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ETSModel(y, error="add", trend="add", damped_trend=True).fit(disp=False)
        frame = ref.get_prediction(start=len(y), end=len(y) + 2).summary_frame(alpha=0.2)
    ours = forecast_path(np.log(TOTAL), "ets", 3, levels=(0.8,))
    np.testing.assert_allclose(ours["mean"], frame["mean"], rtol=RTOL_SAME_LIBRARY)
    np.testing.assert_allclose(ours["lo_80"], frame["pi_lower"], rtol=RTOL_SAME_LIBRARY)


@pytest.mark.parametrize("model", ["arima", "llt"])
def test_state_space_models_match_statsmodels_directly(model):
    from statsmodels.tsa.arima.model import ARIMA
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    y = pd.Series(np.log(TOTAL))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if model == "arima":
            ref = ARIMA(y, order=(1, 1, 0), trend="t").fit()
        else:
            ref = UnobservedComponents(y, level="local linear trend").fit(disp=False)
        fc = ref.get_forecast(3)
        ci = np.asarray(fc.conf_int(alpha=0.05))
    ours = forecast_path(np.log(TOTAL), model, 3, levels=(0.95,))
    np.testing.assert_allclose(ours["mean"], np.asarray(fc.predicted_mean), rtol=RTOL_SAME_LIBRARY)
    np.testing.assert_allclose(ours["hi_95"], ci[:, 1], rtol=RTOL_SAME_LIBRARY)


def test_drift_and_naive_follow_the_textbook_formulas():
    # Hyndman & Athanasopoulos (2021), FPP3 section 5.5, with Student-t quantiles.
    y = np.log(TOTAL)
    d = np.diff(y)
    h = np.arange(1, 4)
    drift = forecast_path(y, "drift", 3, levels=(0.8,))
    np.testing.assert_allclose(drift["mean"], y[-1] + d.mean() * h)
    sigma = np.sqrt(((d - d.mean()) ** 2).sum() / (len(d) - 1))
    se = sigma * np.sqrt(h * (1 + h / len(d)))
    q = stats.t.ppf(0.9, len(d) - 1)
    np.testing.assert_allclose(drift["hi_80"], drift["mean"] + q * se)
    naive = forecast_path(y, "naive", 3, levels=(0.8,))
    np.testing.assert_allclose(naive["mean"], np.full(3, y[-1]))
    sigma_n = np.sqrt((d**2).sum() / len(d))
    np.testing.assert_allclose(
        naive["lo_80"], y[-1] - stats.t.ppf(0.9, len(d)) * sigma_n * np.sqrt(h)
    )


# --- properties --------------------------------------------------------------------------


positive_series = st.lists(st.floats(min_value=1.0, max_value=1e6), min_size=2, max_size=14)


@settings(max_examples=40, deadline=None)
@given(positive_series, st.integers(min_value=2025, max_value=2035))
def test_forecasts_and_intervals_are_positive_and_ordered(values, horizon):
    fc = forecast_flows(
        _series(values, start=2024 - len(values) + 1),
        ForecastSettings(horizon_year=horizon, models=("naive", "drift")),
    )
    f = fc.forecast
    assert len(f) == horizon - 2024
    assert (f["median"] > 0).all()
    for lo, hi in (
        ("lo_95", "lo_80"),
        ("lo_80", "median"),
        ("median", "hi_80"),
        ("hi_80", "hi_95"),
    ):
        ok = f[[lo, hi]].dropna()
        assert (ok[lo] <= ok[hi] * (1 + 1e-12)).all()


@settings(max_examples=30, deadline=None)
@given(positive_series)
def test_zero_uplift_scenario_equals_the_baseline(values):
    fc = forecast_flows(
        _series(values, start=2024 - len(values) + 1),
        ForecastSettings(horizon_year=2030, models=("naive", "drift")),
    )
    zero = Scenario(
        "zero", uplifts=(Uplift("all", 2025, 2030, 0.0),), shocks=(Shock("all", 2026, 0.0),)
    )
    res = apply_scenario(fc, zero)
    pd.testing.assert_frame_equal(res.path, fc.forecast)
    assert (res.factors["factor"] == 1).all()


def test_uplift_compounds_and_persists_and_shock_is_one_year():
    fc = forecast_flows(
        _series(TOTAL), ForecastSettings(horizon_year=2030, models=("naive", "drift"))
    )
    sc = Scenario(
        "s", uplifts=(Uplift("all", 2026, 2027, 10.0),), shocks=(Shock("all", 2029, -20.0),)
    )
    f = apply_scenario(fc, sc).factors.set_index("year")["factor"]
    assert f[2025] == pytest.approx(1.0)
    assert f[2026] == pytest.approx(1.1)
    assert f[2027] == pytest.approx(1.21)
    assert f[2028] == pytest.approx(1.21)  # the level reached persists
    assert f[2029] == pytest.approx(1.21 * 0.8)  # shock: that year only
    assert f[2030] == pytest.approx(1.21)


def test_uplift_for_another_sector_does_not_apply():
    fc = forecast_flows(
        _series(TOTAL, sector="chem_pharma"),
        ForecastSettings(horizon_year=2027, models=("naive", "drift")),
    )
    res = apply_scenario(fc, Scenario("s", uplifts=(Uplift("textile", 2025, 2027, 50.0),)))
    assert (res.factors["factor"] == 1).all()
    res = apply_scenario(fc, Scenario("s", uplifts=(Uplift("pharma", 2025, 2025, 50.0),)))
    assert res.factors.set_index("year")["factor"][2025] == pytest.approx(1.5)


def test_agreement_effect_is_a_range_when_partners_are_censored(ledger):
    shares = partner_shares(ledger, ["SGP", "KOR", "JPN"], 2015, 2024)
    lo, hi = shares.group_share(["KOR", "JPN"])  # 2024: both censored (below the 5th)
    assert lo == 0.0 and hi > 0
    fc = forecast_flows(
        build_series(ledger, "all", "pma", 2010, 2024), ForecastSettings(horizon_year=2028)
    )
    sc = scenario_from_mapping(
        {
            "name": "a",
            "agreements": [{"partners": ["KOR", "JPN"], "from": 2026, "pma_growth_pct": 10}],
        }
    )
    res = apply_scenario(fc, sc, shares=shares)
    p = res.path.set_index("year")
    assert p.loc[2025, "median"] == pytest.approx(
        fc.forecast.set_index("year").loc[2025, "median"]
    )
    assert p.loc[2028, "median_low"] <= p.loc[2028, "median"] <= p.loc[2028, "median_high"]
    assert p.loc[2028, "median_high"] > p.loc[2028, "median_low"]


def test_partner_shares_sum_to_one_with_the_buckets(ledger):
    t = partner_shares(ledger, ["SGP", "CHN", "JPN"], 2015, 2024).to_frame()
    for year, grp in t.groupby("year"):
        if grp["share"].isna().all():
            continue  # e.g. 2022: no exchange rate on any basis, so no shares
        listed = grp[grp["status"].isin(["observed", "bucket"])]["share"].sum()
        assert listed == pytest.approx(1.0), year
        censored = grp[grp["status"] == "censored"]
        assert (censored["share_upper"] > 0).all()  # a bound, never a zero share


# --- backtest behaviour on synthetic series with known structure ---------------------------


def test_a_trend_model_does_not_beat_a_random_walk_in_expectation():
    rng = np.random.default_rng(20261127)  # SYNTHETIC series, seeded
    mase = np.array(
        [
            backtest(np.exp(5 + np.cumsum(rng.normal(0, 0.1, 20))), ["naive", "drift"])["MASE"]
            for _ in range(200)
        ]
    )
    naive, drift = mase.mean(axis=0)
    assert drift >= naive  # estimating a drift that is not there only adds error


def test_a_trend_model_does_beat_naive_on_a_trending_series():
    rng = np.random.default_rng(7)  # SYNTHETIC
    y = np.exp(5 + 0.08 * np.arange(20) + rng.normal(0, 0.02, 20))
    bt = backtest(y, ["naive", "drift"])
    assert bt.loc["drift", "MASE"] < bt.loc["naive", "MASE"]


def test_naive_is_chosen_when_no_model_beats_it():
    rng = np.random.default_rng(3)  # SYNTHETIC random walk where naive wins
    for _ in range(20):
        y = np.exp(5 + np.cumsum(rng.normal(0, 0.1, 16)))
        fc = forecast_flows(_series(list(y), start=2009), ForecastSettings(horizon_year=2026))
        bt = fc.backtest["MASE"]
        if bt.idxmin() == "naive":
            assert fc.chosen == "naive"
            assert "no model beat the naive baseline" in fc.reason
            return
    pytest.fail("no synthetic series where naive wins")  # pragma: no cover


# --- sparse data ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "chosen", "has_interval"),
    [
        ([np.nan, np.nan], None, False),
        ([100.0], "naive", False),
        ([100.0, 120.0], "naive", False),
        ([100.0, 120.0, 130.0], "naive", True),
        ([100.0, 110.0, 125.0, 130.0, 150.0], "drift", True),
        ([100.0, np.nan, 125.0, 130.0, 150.0, 160.0], "drift", True),
    ],
)
def test_sparse_series_fall_back_and_say_why(values, chosen, has_interval):
    fc = forecast_flows(_series(values, start=2019), ForecastSettings(horizon_year=2027))
    assert fc.chosen == chosen
    assert fc.reason
    if chosen is None:
        assert fc.forecast.empty  # nothing fabricated
        return
    assert fc.forecast["lo_80"].notna().all() == has_interval
    if fc.backtest.empty:
        assert "without backtest" in fc.reason


def test_gaps_stay_gaps_unless_interpolation_is_asked(ledger):
    plain = build_series(ledger, "chem_pharma", "pma", 2015, 2024)
    assert plain.values[[2020, 2021]].isna().all()
    assert list(plain.sample().index) == [2022]
    filled = build_series(ledger, "chem_pharma", "pma", 2015, 2024, interpolate=True)
    assert filled.values[[2020, 2021]].notna().all()
    assert (filled.origin[[2020, 2021]] == "interpolated").all()
    assert (filled.flags[[2020, 2021]] == "interpolated").all()
    # Log-linear between the published 2019 and 2022 values.
    g = (filled.values[2022] / filled.values[2019]) ** (1 / 3)
    assert filled.values[2020] == pytest.approx(filled.values[2019] * g)
    fc = forecast_flows(filled, ForecastSettings(horizon_year=2026, interpolate=True))
    assert any("Interpolated" in n for n in fc.notes)


def test_national_pma_is_modelled_in_the_currency_it_is_printed_in(ledger):
    s = build_series(ledger, "all", "pma", 2010, 2024)
    assert s.unit == "Rp billion"  # no exchange rate enters the national series
    assert s.sample().index.min() == 2015
    usd = build_series(ledger, "chem_pharma", "pma", 2010, 2024)
    assert usd.unit == "US$ million"


# --- targets and scenario validation ------------------------------------------------------


def test_gap_to_published_targets_uses_the_paths_and_the_realised_figures(ledger):
    frame = pd.DataFrame(
        {
            "year": [2025, 2026],
            "median": [1.9e6, 2.1e6],
            "lo_80": [1.8e6, 1.9e6],
            "hi_80": [2.0e6, 2.3e6],
        }
    )
    # 10 paths: 7 of them reach the 2025 target of Rp 1,905.6 trillion.
    draws = np.column_stack([np.r_[np.full(7, 1.95e6), np.full(3, 1.85e6)], np.full(10, 2.1e6)])
    history = {"total": build_series(ledger, "all", "total", 2010, 2024).values}
    gap = targets_gap({"total": frame}, {"total": draws}, ledger.targets, history)
    row = gap[gap["year"] == 2025].iloc[0]
    assert row["target_rp_bn"] == pytest.approx(1_905_600)
    assert row["status"] == "ahead"
    assert row["p_reach"] == pytest.approx(0.7)
    assert row["gap_rp_bn"] == pytest.approx(row["target_rp_bn"] - row["median_rp_bn"])
    assert row["source"].startswith("http")
    past = gap[(gap["year"] == 2018) & (gap["measure"] == "total")].iloc[0]
    assert past["status"] == "missed"  # Rp 721.3 trillion against a Rp 765 trillion target
    assert past["realised_rp_bn"] == pytest.approx(721_300)
    # Targets of measures with no forecast frame and no realised figure stay listed.
    assert set(gap["measure"]) >= {"total", "pma"}


@pytest.mark.parametrize(
    ("scenario", "words"),
    [
        ({"name": "x", "uplift": []}, "unknown key 'uplift'"),
        (
            {"name": "x", "uplifts": [{"sector": "textile", "from": 2026, "pct": 3}]},
            "missing key 'to'",
        ),
        (
            {"name": "x", "uplifts": [{"sector": "steel", "from": 2026, "to": 2027, "pct": 3}]},
            "unknown sector",
        ),
        (
            {"name": "x", "shocks": [{"sector": "all", "year": 2026, "pct": "5%"}]},
            "expected number",
        ),
        ({"name": "x", "shocks": [{"sector": "all", "year": 2026, "pct": -150}]}, "> -100"),
        (
            {
                "name": "x",
                "agreements": [{"partners": ["XXX"], "from": 2026, "pma_growth_pct": 5}],
            },
            "partner",
        ),
        (
            {"name": "x", "uplifts": [{"sector": "all", "from": 2028, "to": 2026, "pct": 1}]},
            "after",
        ),
    ],
)
def test_bad_scenarios_are_named_precisely(scenario, words):
    from analysis.config import scenario_problem

    problem = scenario_problem(scenario)
    assert problem is not None and words in problem


def test_a_scenario_in_a_params_file_reaches_the_report(tmp_path):
    from analysis.params import ParamsError, load_params
    from conftest import ROOT

    p = load_params(
        ROOT / "params/base.yaml",
        ROOT / "params/textile.yaml",
        ROOT / "params/scenario-textile-incentive.yaml",
    )
    sc = scenario_from_mapping(p.scenario)
    assert sc.name == "textile-incentive-2026" and not sc.is_baseline
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenario:\n  name: x\n  shocks: [{sector: all, year: 2026}]\n")
    with pytest.raises(ParamsError, match=r"scenario\.shocks") as info:
        load_params(ROOT / "params/base.yaml", bad)
    assert info.value.key == "scenario" and "bad.yaml" in str(info.value)


# --- beyond the backtest: scenario paths and the history flag ---------------------------------


def test_scenario_paths_by_hand():
    from analysis.models.flows import scenario_paths

    h = pd.Series([100.0, 110.0, 121.0, 133.1], index=[2021, 2022, 2023, 2024])
    targets = pd.Series({2026: 150.0, 2028: 200.0})
    p = scenario_paths(h, 2029, targets=targets, trend_years=3).set_index(["path", "year"])
    assert p.loc[("trend", 2025), "value"] == pytest.approx(133.1 * 1.1)
    assert p.loc[("trend", 2029), "value"] == pytest.approx(133.1 * 1.1**5)
    assert p.loc[("slowdown", 2025), "value"] == pytest.approx(133.1 * 1.1**0.5)
    # Through each target, log-linear between them, stopping at the last target year.
    assert p.loc[("targets", 2026), "value"] == pytest.approx(150.0)
    assert p.loc[("targets", 2025), "value"] == pytest.approx(math.sqrt(133.1 * 150.0))
    assert p.loc[("targets", 2028), "value"] == pytest.approx(200.0)
    assert ("targets", 2029) not in p.index
    assert p["basis"].str.len().gt(0).all()


def test_a_bound_above_any_growth_in_history_is_flagged():
    from analysis.models.flows import exceeds_history

    h = pd.Series([100.0, 120.0, 126.0], index=[2022, 2023, 2024])  # best year: +20 %
    assert exceeds_history(h, 2024, 126.0, 2026, 126.0 * 1.25**2) == (True, pytest.approx(0.25))
    assert not exceeds_history(h, 2024, 126.0, 2026, 126.0 * 1.15**2)[0]
