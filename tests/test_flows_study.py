"""The investment-flows study: the tables issue 13 names, coherence, views, honesty checks."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analysis.config import load_params
from analysis.params import SECTOR_FOCUS
from analysis.studies.flows import FlowStudySettings, run_flows, settings

FORECAST_COLUMNS = [
    "series",
    "year",
    "basis",
    "unit",
    "median",
    "lo_80",
    "hi_80",
    "lo_95",
    "hi_95",
    "source",
]
BACKTEST_COLUMNS = ["model", "horizon", "n", "mase", "mape", "coverage_80"]
# Published figures are printed to Rp 0.1 trillion (Rp 100 billion): PMA + PMDN may differ
# from the printed total by up to two half-units.
PUBLISHED_ROUNDING_RP_BN = 100.0
# Reconciled values are coherent to floating-point error (Rp billion).
COHERENT_RP_BN = 1e-6

# History pinned to 2024 (follow_latest False): the report as it stood before FY 2025, so
# 2025 is nowcast from its 9M release. tests/test_flows_current.py runs the current outlook.
SETTINGS = FlowStudySettings(
    sector="textile", sectors=SECTOR_FOCUS["textile"], partners=("SGP", "CHN"), draws=2000,
    follow_latest=False,
)


def _synthetic_deflator(base_year: int = 2015) -> pd.Series:
    """SYNTHETIC deflator (4 % a year, = 100 in the base year), for tests only."""
    years = np.arange(2010, 2025)
    return pd.Series(100 * 1.04 ** (years - base_year), index=years, name="SYNTHETIC deflator")


@pytest.fixture(scope="module")
def study(ledger):
    return run_flows(ledger, SETTINGS, deflator=_synthetic_deflator(), deflator_source="SYNTHETIC")


def test_forecast_table_has_the_named_columns_and_sources(study):
    t = study.forecast_table()
    assert list(t.columns[: len(FORECAST_COLUMNS)]) == FORECAST_COLUMNS
    assert set(t["source"]) == {"published", "nowcast", "forecast"}
    assert set(t["basis"]) == {"nominal", "real"}
    nominal = t[(t["basis"] == "nominal") & t["series"].isin(["total", "pma", "pmdn"])]
    assert nominal["unit"].str.contains("nominal").all()
    fut = t[t["source"] != "published"]
    inside = fut[fut["year"] <= study.last_backtested_year]
    assert (inside["lo_95"] <= inside["lo_80"]).all()
    assert (inside["hi_80"] <= inside["hi_95"]).all()
    assert (inside["lo_80"] > 0).all()  # investment is never forecast negative
    # No interval beyond the backtested horizon: only the median, flagged not backtested.
    beyond = fut[fut["year"] > study.last_backtested_year]
    assert len(beyond) and beyond[["lo_80", "hi_80", "lo_95", "hi_95"]].isna().all().all()
    assert beyond["median"].notna().all() and not beyond["backtested"].any()


def test_pma_plus_pmdn_equals_total_for_medians_and_every_path(study):
    t = study.forecast_table()
    for basis in ("nominal", "real"):
        w = t[t["basis"] == basis].pivot_table(
            index=["year", "source"], columns="series", values="median"
        )
        gap = (w["total"] - w["pma"] - w["pmdn"]).abs()
        published = gap.xs("published", level="source")
        assert (published <= PUBLISHED_ROUNDING_RP_BN).all()
        assert (gap.drop("published", level="source") <= COHERENT_RP_BN * 1e3).all(), basis
    p = study.paths
    np.testing.assert_allclose(p["total"], p["pma"] + p["pmdn"], rtol=1e-9)


def test_the_first_forecast_year_is_the_nowcast(study):
    t = study.forecast_table()
    row = t[(t["series"] == "total") & (t["year"] == 2025) & (t["basis"] == "nominal")].iloc[0]
    assert row["source"] == "nowcast"
    raw = study.nowcast.used().loc["total"]
    # Reconciliation moves the nowcast by less than a tenth of its own 80 % half-width.
    assert abs(row["median"] - raw["median"]) < 0.1 * (raw["hi_80"] - raw["median"])
    assert "9M" in study.nowcast_statement() or "January-September" in study.nowcast_statement()


def test_tables_are_written_where_the_batch_says(study, tmp_path, monkeypatch):
    monkeypatch.setenv("MITRA_TABLES_DIR", str(tmp_path))
    study.write_tables()
    fc = pd.read_csv(tmp_path / "forecast.csv")
    bt = pd.read_csv(tmp_path / "backtest.csv")
    nc = pd.read_csv(tmp_path / "nowcast_backtest.csv")
    assert list(fc.columns[:10]) == FORECAST_COLUMNS
    assert list(bt.columns[:6]) == BACKTEST_COLUMNS
    assert list(nc.columns[:6]) == ["series", "info_set", "year", "actual", "nowcast", "ape"]
    total_9m = nc[(nc["series"] == "total") & (nc["info_set"] == "9M")]
    assert total_9m["ape"].mean() <= 1.0


def test_backtest_reaches_the_horizon_shown_and_calibration_is_honest(study):
    bt = study.backtest_table()
    chosen = bt[bt["chosen"] & (bt["series"] == "total")]
    assert chosen["horizon"].max() == SETTINGS.horizon - SETTINGS.end_year
    for m, cal in study.calibration.items():
        assert (cal["scale"] >= 1).all(), m
        b = cal[cal["backtested"]]
        assert (b["n"] >= SETTINGS.calibration_min_n).all()
        assert (cal.loc[~cal["backtested"], "coverage_calibrated"].isna()).all()
    over = study.coverage_overall().set_index("series")
    assert over.loc["total", "calibrated"] >= over.loc["total", "raw"]
    assert "calibrated" in study.coverage_statement()
    # Years beyond the longest backtested horizon are flagged in the table.
    fut = study.forecast_table().query("source != 'published' and series == 'total'")
    assert fut["backtested"].iloc[0] and not fut["backtested"].iloc[-1]


def test_us_dollar_history_is_as_published_and_conversions_say_so(study):
    t = study.forecast_table().query("basis == 'nominal'").set_index(["series", "year"])
    usd = t.loc["pma_usd"]
    # 2015: BKPM's US$29.3 billion (Rp 365.9 trillion at its APBN rate of Rp 12,500), not
    # US$24.4 billion at a later year's rate. Printed to US$0.1 billion.
    assert usd.loc[2015, "median"] == pytest.approx(29_272, abs=50)
    assert "12,500" in usd.loc[2015, "conversion"] and "2015" in usd.loc[2015, "conversion"]
    hist = usd[usd["source"] == "published"]
    assert hist["conversion"].str.match(r"as published|converted at Rp").all()
    fut = usd[usd["source"] != "published"]
    assert fut["conversion"].str.contains("every forecast year").all()
    # Forecast years use one rate: US$ growth equals rupiah growth, no jump from a rate change.
    rp = t.loc["pma"].loc[fut.index, "median"]
    np.testing.assert_allclose(
        fut["median"].pct_change().dropna(), rp.pct_change().dropna(), rtol=1e-9
    )


def test_real_view_needs_a_proper_deflator(ledger, study):
    real = study.forecast_table().query("basis == 'real' and series == 'total'").set_index("year")
    nominal = study.forecast_table().query("basis == 'nominal' and series == 'total'")
    nominal = nominal.set_index("year")
    defl = _synthetic_deflator()
    assert real.loc[2020, "median"] == pytest.approx(
        nominal.loc[2020, "median"] * 100 / defl[2020]
    )
    assert "2015 prices" in real["unit"].iloc[0]
    with pytest.raises(ValueError, match="GDP deflator"):
        run_flows(ledger, replace(SETTINGS, price_basis="real"))
    with pytest.raises(ValueError, match="equal 100 in the base year"):
        run_flows(ledger, SETTINGS, deflator=_synthetic_deflator() * 1.1)


def test_sector_points_flagged_suspect_are_excluded_and_no_fan_below_the_minimum(study):
    s = study.sectors
    flagged = s[s["flags"].str.contains("suspect|period_uncertain", regex=True)]
    assert len(flagged) and flagged["status"].str.startswith("excluded").all()
    series = study.sector_series
    short = series[series["usable_years"] < SETTINGS.min_fan_points]
    assert not short["fan"].any()
    assert short["sentence"].str.contains("only the data").all()
    fanned = {f"{r.sector}_{r.series}" for r in series[series["fan"]].itertuples()}
    assert set(study.sector_forecasts.get("series", pd.Series(dtype=str))) == fanned
    assert set(study.pooled["model"]) == {"no change", "pooled growth across sectors"}


def test_a_sector_with_enough_points_is_forecast_below_its_national_series(ledger):
    # Apparel and textile-apparel-footwear totals are published for 2022-2024: with a minimum
    # of 3 consecutive years they get a share-of-national forecast.
    st = run_flows(ledger, replace(SETTINGS, min_fan_points=3, draws=500))
    fc = st.sector_forecasts
    assert {"apparel_total", "textile_apparel_footwear_total"} <= set(fc["series"])
    assert not fc["backtested"].any()
    nat = st.forecast_table().query("basis == 'nominal' and source != 'published'")
    assert fc.loc[fc["year"] > st.last_backtested_year, "hi_95"].isna().all()
    for r in fc[fc["year"] <= st.last_backtested_year].itertuples():
        measure = r.series.rsplit("_", 1)[1]
        n = nat[(nat["series"] == measure) & (nat["year"] == r.year)].iloc[0]
        assert r.hi_95 <= n["hi_95"] * (1 + 1e-9)


def test_targets_come_from_the_reconciled_paths(study):
    t = study.targets
    row = t[(t["year"] == 2025) & (t["measure"] == "total")].iloc[0]
    assert row["status"] == "ahead"
    idx = list(study.forecasts["total"].forecast["year"]).index(2025)
    draws = study.paths["total"][:, idx]
    assert row["p_reach"] == pytest.approx(np.mean(draws >= row["target_rp_bn"]))
    assert set(t.loc[t["year"] <= 2024, "status"]) <= {"met", "missed"}


def test_key_findings_are_sentences_from_the_results(study):
    findings = study.key_findings()
    assert 3 <= len(findings) <= 10
    assert any("nowcast" in f for f in findings)
    assert study.fingerprint and study.summary().title


def test_same_settings_same_numbers(ledger, study):
    again = run_flows(
        ledger, SETTINGS, deflator=_synthetic_deflator(), deflator_source="SYNTHETIC"
    )
    pd.testing.assert_frame_equal(again.forecast_table(), study.forecast_table())


def test_settings_read_the_flows_group():
    s = settings(
        load_params(
            overrides={
                "sector": "pharma",
                "nowcast_model": "seasonal_naive",
                "reconcile_method": "bottom_up",
                "usd_rate_year": 2023,
            }
        )
    )
    assert s.sectors == SECTOR_FOCUS["pharma"]
    assert (s.nowcast_model, s.reconcile_method, s.usd_rate_year) == (
        "seasonal_naive",
        "bottom_up",
        2023,
    )
    with pytest.raises(ValueError, match="reconcile_method"):
        FlowStudySettings(reconcile_method="topdown")


def test_a_scenario_stays_coherent(ledger):
    scenario = {
        "name": "test",
        "shocks": [{"sector": "all", "year": 2027, "pct": -30}],
        "agreements": [{"partners": ["KOR", "JPN"], "from": 2027, "pma_growth_pct": 10}],
    }
    st = run_flows(
        ledger, replace(SETTINGS, scenario=scenario, partners=("KOR", "JPN"), draws=500)
    )
    w = st.scenario_table().pivot(index="year", columns="series", values="scenario_median")
    np.testing.assert_allclose(w["total"], w["pma"] + w["pmdn"], rtol=1e-9)
    factor = st.scenario_table().set_index(["series", "year"]).loc[("pmdn", 2027), "factor"]
    assert factor == pytest.approx(0.7)
