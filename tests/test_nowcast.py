"""Nowcasts from partial-year releases, reconciliation, and backtest calibration."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis.models.flows import backtest, backtest_errors, calibrate
from analysis.models.nowcast import NowcastSettings, nowcast_flows, nowcast_one, partial_table
from analysis.models.reconcile import SUMMING, reconcile

# --- nowcast: reference and behaviour -------------------------------------------------------


def _pair(ratios, partial_values, start=2015):
    idx = pd.Index(range(start, start + len(partial_values)), name="year")
    partial = pd.Series(partial_values, index=idx, dtype=float)
    full = pd.Series(np.asarray(partial_values) * np.asarray(ratios), index=idx, dtype=float)
    return partial, full


def test_ratio_nowcast_is_the_mean_log_ratio_with_a_student_t_interval():
    partial, full = _pair([1.35, 1.36, 1.34, 1.37, 1.0], [100, 110, 120, 130, 140])
    nc = nowcast_one(partial, full, 2019, "ratio", levels=(0.8,), min_years=3)
    r = np.log([1.35, 1.36, 1.34, 1.37])
    assert nc["median"] == pytest.approx(140 * math.exp(r.mean()), rel=1e-12)
    se = r.std(ddof=1) * math.sqrt(1 + 1 / 4)
    q = stats.t.ppf(0.9, 3)
    assert nc["lo_80"] == pytest.approx(140 * math.exp(r.mean() - q * se), rel=1e-12)
    assert nc["hi_80"] == pytest.approx(140 * math.exp(r.mean() + q * se), rel=1e-12)


def test_seasonal_naive_carries_the_partial_years_growth_to_the_full_year():
    partial, full = _pair([1.35, 1.36, 1.34, 1.37, 1.0], [100, 110, 120, 130, 140])
    nc = nowcast_one(partial, full, 2019, "seasonal_naive", min_years=3)
    assert nc["median"] == pytest.approx(full[2018] * partial[2019] / partial[2018], rel=1e-12)


def test_a_nowcast_never_sees_its_own_or_later_full_years():
    partial, full = _pair([1.35, 1.36, 1.34, 1.37, 1.33, 1.35], [100, 110, 120, 130, 140, 150])
    before = nowcast_one(partial, full, 2019, "ratio")
    changed = full.copy()
    changed[[2019, 2020]] *= 5
    assert nowcast_one(partial, changed, 2019, "ratio") == before


def test_too_few_earlier_years_give_no_nowcast():
    partial, full = _pair([1.35, 1.36, 1.0], [100, 110, 120])
    assert nowcast_one(partial, full, 2017, "ratio", min_years=3) == {}
    with pytest.raises(ValueError, match="nowcast model"):
        NowcastSettings(model="drift")


def test_partial_table_holds_the_cumulative_releases(ledger):
    t = partial_table(ledger, "total")
    assert t.loc[2025, "9M"] == pytest.approx(1_434_300)
    assert t.loc[2025, "FY"] == pytest.approx(1_931_200)  # FY 2025, published 2026-01-15
    assert 2026 not in t.index or math.isnan(t.loc[2026, "FY"])
    assert t.loc[2024, "FY"] == pytest.approx(1_714_200)


# Issue 13 "Done when": the 9M nowcast of the national total misses by at most 1 % on
# average over the backtest years (ratios were 1.346-1.366 in 2015-2024).
MAPE_9M_TOTAL_MAX = 1.0


def test_nine_month_nowcast_of_the_total_is_within_one_percent(ledger):
    res = nowcast_flows(ledger, last_full_year=2024)
    bt = res.table()
    total_9m = bt[(bt["series"] == "total") & (bt["info_set"] == "9M")]
    assert len(total_9m) >= 5
    assert total_9m["ape"].mean() <= MAPE_9M_TOTAL_MAX
    assert list(bt.columns[:6]) == ["series", "info_set", "year", "actual", "nowcast", "ape"]
    # Every info set is backtested for every series.
    assert set(map(tuple, bt[["series", "info_set"]].drop_duplicates().to_numpy())) == {
        (m, i) for m in ("total", "pma", "pmdn") for i in ("Q1", "H1", "9M")
    }


def test_the_latest_partial_year_is_nowcast_from_its_latest_release(ledger):
    res = nowcast_flows(ledger, last_full_year=2024)
    assert res.year == 2025
    used = res.used()
    assert set(used["info_set"]) == {"9M"}
    assert used.loc["total", "partial"] == pytest.approx(1_434_300)
    assert used.loc["total", "lo_80"] < used.loc["total", "median"] < used.loc["total", "hi_80"]
    # With history cut at 2022, 2025 is not the next year: no nowcast is used, and it says so.
    cut = nowcast_flows(ledger, last_full_year=2022)
    assert cut.year is None and cut.notes


# --- reconciliation -------------------------------------------------------------------------


positive = st.floats(min_value=1.0, max_value=1e6, allow_nan=False)


@given(
    st.lists(st.tuples(positive, positive, positive), min_size=1, max_size=5),
    st.tuples(positive, positive, positive),
)
@settings(max_examples=60, deadline=None)
def test_every_method_gives_coherent_values(bases, var):
    base = np.array(bases)
    for method in ("wls", "ols", "bottom_up"):
        rec = reconcile(base, np.array(var), method)
        np.testing.assert_allclose(
            rec[:, 0], rec[:, 1] + rec[:, 2], atol=1e-9 * float(base.max()), rtol=0
        )
    cov = np.diag(var)
    rec = reconcile(base, cov, "mint")
    # MinT with a diagonal covariance is WLS.
    np.testing.assert_allclose(
        rec, reconcile(base, np.array(var), "wls"), atol=1e-9 * float(base.max()), rtol=0
    )


@given(st.tuples(positive, positive), st.tuples(positive, positive, positive))
@settings(max_examples=40, deadline=None)
def test_coherent_forecasts_are_left_unchanged(bottom, var):
    coherent = SUMMING @ np.array(bottom)
    # Tolerance relative to the vector's scale: the projection mixes the series' magnitudes.
    atol = 1e-9 * float(np.abs(coherent).max())
    for method in ("wls", "ols", "bottom_up"):
        np.testing.assert_allclose(reconcile(coherent, np.array(var), method), coherent, atol=atol)


def test_reconcile_rejects_bad_input():
    with pytest.raises(ValueError, match="positive variances"):
        reconcile(np.array([3.0, 1.0, 1.0]), np.array([1.0, 0.0, 1.0]), "wls")
    with pytest.raises(ValueError, match="unknown method"):
        reconcile(np.array([3.0, 1.0, 1.0]), method="topdown")


# --- backtest failures and calibration -----------------------------------------------------


def test_a_failing_model_is_recorded_not_swallowed(monkeypatch):
    import analysis.models.flows as flows

    # backtest_errors calls forecast_path in analysis.models.flows.models (patched there).
    from analysis.models.flows import models as flow_models

    real = flows.forecast_path

    def flaky(y_log, model, h, levels=(0.8, 0.95)):
        if model == "drift" and len(y_log) == 7:  # the origin whose last point is label 6
            raise RuntimeError("optimizer did not converge")
        return real(y_log, model, h, levels)

    monkeypatch.setattr(flow_models, "forecast_path", flaky)
    y = pd.Series(np.exp(np.linspace(0, 1, 10)) * 100)
    _, failures = backtest_errors(y, ["naive", "drift"], min_train=6, horizon=2)
    assert failures.to_dict("records") == [
        {"model": "drift", "origin": 6, "error": "RuntimeError: optimizer did not converge"}
    ]
    table = backtest(y, ["naive", "drift"], min_train=6, horizon=2)
    assert table.loc["drift", "failures"] == 1
    assert "optimizer did not converge" in table.loc["drift", "errors"]
    assert table.loc["naive", "failures"] == 0


def test_calibration_widens_to_the_conformal_quantile_and_flags_unbacktested_horizons():
    z80 = stats.norm.ppf(0.9)
    # Horizon 1: |z| = 0.5 ... 4.5 (9 forecasts): conformal 80 % quantile is the 8th smallest.
    absz = np.arange(1, 10) * 0.5
    errors = pd.DataFrame(
        {"horizon": [1] * 9 + [2], "z": np.r_[absz * np.where(np.arange(9) % 2, 1, -1), 0.1]}
    )
    cal = calibrate(errors, 3, level=0.8, min_n=3)
    assert cal.loc[0, "scale"] == pytest.approx(4.0 / z80)
    assert cal.loc[0, "coverage_raw"] == pytest.approx(np.mean(absz <= z80))
    assert cal.loc[0, "coverage_calibrated"] >= cal.loc[0, "coverage_raw"]
    assert list(cal["backtested"]) == [True, False, False]
    # Unbacktested horizons borrow the last backtested factor.
    assert cal.loc[2, "scale"] == cal.loc[0, "scale"]
    assert cal.attrs["longest_backtested_horizon"] == 1
    # Intervals are never narrowed: errors well inside keep a factor of 1.
    small = pd.DataFrame({"horizon": [1, 1, 1, 1], "z": [0.1, -0.2, 0.3, 0.05]})
    assert calibrate(small, 1)["scale"].iloc[0] == 1.0


# --- calibration of the nowcast intervals (PMA/PMDN split) ------------------------------------


def test_calibration_scale_only_widens_and_needs_a_record():
    from analysis.models.nowcast import calibration_scale

    z80 = stats.norm.ppf(0.9)
    assert math.isnan(calibration_scale([0.5, 3.0], min_n=3))  # too few earlier years
    assert calibration_scale([0.1, 0.2, 0.3, 0.1]) == 1.0  # never narrowed
    # 4 errors: the conformal 80 % quantile is the ceil(5 x 0.8) = 4th smallest |z|.
    assert calibration_scale([0.5, -3.0, 1.0, 2.0]) == pytest.approx(3.0 / z80)


def test_calibrated_nowcast_intervals_use_only_earlier_years(ledger):
    nc = nowcast_flows(ledger, last_full_year=2024)
    bt = nc.backtest
    cal = bt[bt["scale"].notna()]
    assert len(cal) and (cal["scale"] >= 1).all()
    assert (cal["lo_80_cal"] <= cal["lo_80"] + 1e-6).all()
    assert (cal["hi_80_cal"] >= cal["hi_80"] - 1e-6).all()
    # The first years of each record have no earlier errors to calibrate on.
    for _, g in bt.groupby(["series", "info_set", "model"]):
        assert g.sort_values("year")["scale"].iloc[:3].isna().all()
    # The nowcast used for 2025 is widened by the record of 2019-2024 (9M, ratio).
    used = nc.used()
    assert (used["scale"] >= 1).all()
    assert (used["hi_80"] - used["lo_80"] >= used["hi_80_raw"] - used["lo_80_raw"] - 1e-6).all()


def test_a_later_outcome_does_not_move_an_earlier_calibrated_interval(ledger):
    from analysis.models.nowcast import _calibrate_backtest

    nc = nowcast_flows(ledger, last_full_year=2024)
    bt = nc.backtest[["series", "info_set", "model", "year", "actual", "nowcast", "lo_80",
                      "hi_80", "z"]].copy()  # fmt: skip
    a = _calibrate_backtest(bt, 3)
    bt.loc[bt["year"] == 2024, "z"] = 50.0
    b = _calibrate_backtest(bt, 3)
    early = a["year"] < 2024
    pd.testing.assert_frame_equal(a[early], b[early])
