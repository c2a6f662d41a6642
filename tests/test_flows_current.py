"""Flows v3: the current year, FY 2025 as published, targets to 2029, sector reports.

Reference figures (hand-checkable in ``data/raw/bkpm/investment_by_year_2025_2026.csv`` and
``other_facts_2025_2026.csv``): FY 2025 total Rp 1,931.2 trillion (published 2026-01-15),
PMA Rp 900.9 trillion, PMDN Rp 1,030.3 trillion; 9M 2025 total Rp 1,434.3 trillion; the
2026 target Rp 2,175.2 trillion; the 2025-2029 medium-term total Rp 13,032.8 trillion.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.data import build_ledger
from analysis.data.raw import CANDIDATE_COLUMNS
from analysis.models.nowcast import partial_table
from analysis.params import SECTOR_FOCUS
from analysis.studies.flows import FlowStudySettings, run_flows, sector_shares

# Published figures are printed to Rp 0.1 trillion.
PRINTED_RP_BN = 50.0


@pytest.fixture(scope="module")
def study(ledger):
    s = FlowStudySettings(sector="chemical", sectors=SECTOR_FOCUS["chemical"], draws=1000)
    return run_flows(ledger, s)


def test_outlook_is_for_2026_from_the_fy_2025_release(study):
    assert study.settings.end_year == 2025
    assert study.release.label == "FY 2025" and study.release.published == "2026-01-15"
    text = study.outlook_statement()
    assert "2026" in text and "FY 2025" in text and "2026-01-15" in text
    v = study.forecast_table().query("basis == 'nominal' and series == 'total'")
    v = v.set_index("year")
    assert v.loc[2025, "source"] == "published"
    assert v.loc[2025, "median"] == pytest.approx(1_931_200, abs=PRINTED_RP_BN)
    assert v.loc[2026, "source"] == "forecast"  # no 2026 release shipped: no nowcast


def test_fy_2025_nowcast_is_scored_out_of_sample(ledger, study):
    t = study.nowcast_table()
    r = t[(t["series"] == "total") & (t["info_set"] == "9M") & (t["year"] == 2025)].iloc[0]
    assert r["actual"] == pytest.approx(1_931_200, abs=PRINTED_RP_BN)
    # By hand: 9M 2025 x exp(mean log(FY / 9M) over the earlier years with both figures).
    p = partial_table(ledger, "total")
    both = p.loc[p.index < 2025, ["9M", "FY"]].dropna()
    by_hand = 1_434_300 * math.exp(np.log(both["FY"] / both["9M"]).mean())
    assert r["nowcast"] == pytest.approx(by_hand, rel=1e-9)
    assert 1_940_000 < r["nowcast"] < 1_943_000
    assert r["error_pct"] == pytest.approx((r["nowcast"] / 1_931_200 - 1) * 100, rel=1e-6)
    assert 0.45 < r["error_pct"] < 0.6
    # The split missed in 2025 and the report says so.
    split = t[(t["info_set"] == "9M") & (t["year"] == 2025)].set_index("series")
    assert split.loc["pma", "actual"] == pytest.approx(900_900, abs=PRINTED_RP_BN)
    assert split.loc["pma", "covered_80_cal"] == 0.0
    assert "outside its 80 % interval" in study.scored_statement()


def test_targets_through_2029_with_probabilities_only_inside_the_backtest(study):
    t = study.targets
    last = study.last_backtested_year
    annual = t[t["target"] == "annual"].set_index("year")
    assert annual.loc[2026, "target_rp_bn"] == pytest.approx(2_175_200)
    assert annual.loc[2025, "status"] == "met"
    assert {2026, 2027, 2028, 2029} <= set(annual.index)
    ahead = t[t["status"] == "ahead"]
    inside = ahead[ahead["year"] <= last]
    assert inside["p_reach"].between(0, 1).all() and len(inside)
    beyond = ahead[ahead["year"] > last]
    assert beyond["p_reach"].isna().all()
    assert (beyond["paths_meeting"].str.len() > 0).all()
    mt = t[t["target"].str.startswith("medium_term_total")].iloc[0]
    assert mt["target_rp_bn"] == pytest.approx(13_032_800)
    assert "1,931.2" in mt["note"]  # 2025 enters as realised


def test_no_interval_beyond_the_backtest_and_scenarios_are_labelled(study):
    v = study.forecast_table()
    beyond = v[(v["source"] != "published") & (v["year"] > study.last_backtested_year)]
    assert beyond[["lo_80", "hi_80", "lo_95", "hi_95"]].isna().all().all()
    p = study.scenario_paths
    assert set(p["path"]) == {"targets", "trend", "slowdown"}
    assert p["label"].str.startswith("Scenario:").all()
    tgt = p[(p["series"] == "total") & (p["path"] == "targets")].set_index("year")
    assert tgt.loc[2026, "value"] == pytest.approx(2_175_200)
    assert tgt.loc[2029, "value"] == pytest.approx(3_414_000)


def test_chemical_report_opens_with_the_sector(study):
    findings = study.key_findings()
    assert "Chemical" in findings[0] and "national PMA" in findings[0]
    assert any("Major projects" in f for f in findings[:5])
    assert any("Source countries" in f for f in findings[:5])
    sh = study.sector_shares
    assert {"Q3", "9M", "FY"} <= set(sh["period"])  # quarterly where published
    r = sh[(sh["sector"] == "chem_pharma") & (sh["measure"] == "pma") & (sh["year"] == 2025)]
    r = r[r["period"] == "9M"].iloc[0]
    assert r["share"] == pytest.approx(41_600 / 644_600, rel=1e-6)
    assert set(study.sector_projects["status"]) <= {
        "operating", "under_construction", "announced", "cancelled"
    }  # fmt: skip
    assert (study.sector_partners["kind"] == "realised").all()
    # The sector forecast (share of national PMA, shrunk) stays below the national path.
    fc = study.sector_forecasts
    assert "chem_pharma_pma" in set(fc["series"])
    nat = study.forecast_table().query("series == 'pma' and basis == 'nominal'")
    m = fc.merge(nat, on="year", suffixes=("", "_nat"))
    assert (m["median"] < m["median_nat"]).all()


def test_sector_shares_by_hand(ledger):
    sh = sector_shares(ledger, ("chem_pharma",))
    r = sh[(sh["measure"] == "total") & (sh["year"] == 2023) & (sh["period"] == "FY")].iloc[0]
    assert r["share"] == pytest.approx(105_000 / 1_418_900, rel=1e-9)
    assert r["growth"] == pytest.approx(105_000 / 93_600 - 1, rel=1e-9)
    assert r["national_growth"] == pytest.approx(1_418_900 / 1_207_200 - 1, rel=1e-9)


def _synthetic_q1_2026() -> pd.DataFrame:
    """A SYNTHETIC Q1 2026 national release (PMA + PMDN = total), as import candidates."""
    values = {"pma": 240.0, "pmdn": 290.0, "total": 530.0}  # Rp trillion, SYNTHETIC
    common = {
        "dataset": "realisation", "file": "SYNTHETIC_Q1_2026.csv", "concept": "realisation",
        "year": 2026, "period": "Q1", "sector": "all", "region": "IDN", "partner_iso3": "WLD",
        "unit_published": "Rp trillion", "decimals": 1, "projects": pd.NA,
        "source": "SYNTHETIC Q1 2026 release (test only)", "published": "2026-04-29",
        "note": "SYNTHETIC", "flags": (),
    }  # fmt: skip
    rows = [
        {**common, "line": i + 2, "measure": m, "value_published": v}
        for i, (m, v) in enumerate(values.items())
    ]
    out = pd.DataFrame(rows)
    out["projects"] = out["projects"].astype("Int64")
    return out[list(CANDIDATE_COLUMNS)]


def test_a_synthetic_q1_2026_release_moves_the_outlook_to_a_nowcast():
    led = build_ledger(imports=[_synthetic_q1_2026()])
    assert led.latest_release().label == "Q1 2026"
    s = FlowStudySettings(sector="textile", sectors=SECTOR_FOCUS["textile"], draws=500)
    st = run_flows(led, s)
    assert st.nowcast.year == 2026
    used = st.nowcast.used()
    assert set(used["info_set"]) == {"Q1"}
    assert used.loc["total", "partial"] == pytest.approx(530_000)
    row = st.forecast_table().query("series == 'total' and basis == 'nominal' and year == 2026")
    assert row["source"].iloc[0] == "nowcast"
    assert "Q1 2026" in st.outlook_statement() and "2026-04-29" in st.outlook_statement()
    # Coherent: PMA + PMDN = total for the nowcast year too.
    w = st.forecast_table().query("basis == 'nominal' and year == 2026 and source == 'nowcast'")
    w = w.set_index("series")["median"]
    assert w["total"] == pytest.approx(w["pma"] + w["pmdn"], rel=1e-9)
