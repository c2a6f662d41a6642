"""Ranking v3, second round: investor evidence for Taiwan, documented investors with held-out
evidence, outward FDI by industry, the routed-view Monte Carlo switch, agreement effects.

Reference rows are hand-checkable in the shared files (``data/raw/...`` copies); the properties
go through the production path (:func:`analysis.models.ranking.rank_partners`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.models.investor_evidence import (
    documented_investors,
    host_side_sector_rows,
    mnc_firms,
    ofdi_industry_share,
    routed_ends,
    sector_named,
    sector_pma,
)
from analysis.models.ranking import IndicatorSet, RankingSettings, rank_partners
from analysis.studies.ranking_evidence import (
    HELD_OUT,
    agreement_table,
    documented_summary,
    documented_table,
    held_out_ranking,
    with_left_out,
)

QUICK = RankingSettings(draws=200, sobol_base=16, sobol_resamples=10, outliers="none")


@pytest.fixture(scope="module")
def files():
    from analysis.data.investor import load_multinationals, load_ofdi_by_industry
    from analysis.data.projects import load_projects
    from analysis.data.sector_pma import load_partner_sector

    return {
        "sector": load_partner_sector(),
        "projects": load_projects(),
        "ofdi": load_ofdi_by_industry(),
        "mnc": load_multinationals(),
    }


# --- reference rows from the compiled files ---------------------------------------------------


def test_bkpm_host_side_textile_rows_give_taiwan_a_realised_figure(files):
    # ofdi_by_industry.csv lines 26-31: BKPM/NSWI textiles & footwear realisation, Q1 2023:
    # KOR 28.6, TWN 13.96, IND 11.28, HKG 6.28, JPN 5.93, CHN 5.27 (US$ million).
    rows = host_side_sector_rows(files["ofdi"])
    twn = rows[rows["partner_iso3"] == "TWN"]
    assert list(twn["value_usd_m"]) == [pytest.approx(13.96)] and list(twn["line"]) == [27]
    assert set(rows["sector"]) == {"textile"} and (rows["kind"] == "realised").all()
    realised = pd.concat([files["sector"], rows], ignore_index=True)
    v, lo, up, _ = sector_pma(realised, "textile", ["TWN", "USA", "KOR"], 2024)
    assert v["TWN"] == pytest.approx(13.96) and v["KOR"] == pytest.approx(860.0)
    # Unpublished partners lie below the smallest published figure (China's 5.27), not 860.
    assert np.isnan(v["USA"]) and (lo["USA"], up["USA"]) == (0.0, pytest.approx(5.27))
    # Before 2023 the Q1 2023 rows did not exist: Taiwan has no figure.
    v, *_ = sector_pma(realised, "textile", ["TWN"], 2022)
    assert np.isnan(v["TWN"])


def test_the_compiled_textile_list_counts_every_dated_firm(files):
    # sector_multinationals.csv, "largest textile/apparel/footwear manufacturers (compiled, no
    # single league table)": a compilation whose list_year is each firm's figure year. Up to
    # 2024, Taiwan: Pou Chen (2017), Far Eastern New Century (2022), Eclat (2023), Formosa
    # Taffeta (2023), Makalot (2024) = 5 (Feng Tay's figure is 2025). Japan: Toray (two rows,
    # one company) and Teijin = 2. Korea: Hansae (2022), Youngone (2023), Hyosung TNC (2024) = 3.
    v, *_ = mnc_firms(files["mnc"], "textile", ["TWN", "JPN", "KOR"], 2024)
    assert v.to_dict() == {"TWN": 5.0, "JPN": 2.0, "KOR": 3.0}
    v, *_ = mnc_firms(files["mnc"], "textile", ["TWN"], 2025)
    assert v["TWN"] == 6.0  # Feng Tay's H1 2025 figure
    # Editions of a real league table still count only the latest edition.
    v, *_ = mnc_firms(files["mnc"], "pharma", ["USA"], 2024)
    w, *_ = mnc_firms(files["mnc"], "pharma", ["USA"], 2021)
    assert v["USA"] >= 1 and w["USA"] >= 1


def test_statements_naming_main_investors(files):
    # pma_by_country_sector.csv share statements (textile + footwear) up to 2024: Korea is named
    # in 2015, 2018 (footwear share), 2023 (Kemenperin), 2023 (Aprisindo) and 2024; Taiwan in
    # 2015, 2020, 2023 and 2023 (Aprisindo). The Jun 2024 pipeline (CHN, SGP) and the Oct 2025
    # site visits are interest, not statements of who invests.
    v, lo, up, year = sector_named(files["sector"], "textile", ["KOR", "TWN", "SGP", "USA"], 2024)
    assert v["KOR"] == 5 and v["TWN"] == 4 and v["SGP"] == 1
    assert np.isnan(v["USA"]) and (lo["USA"], up["USA"]) == (0.0, 1.0)  # never a plain zero
    assert year["TWN"] == 2023
    v, *_ = sector_named(files["sector"], "chemical", ["MYS"], 2024)
    assert np.isnan(v["MYS"])  # the [ROUTING] statements about Malaysia name no investor


def test_outward_fdi_by_industry_is_a_share_where_published_and_a_gap_elsewhere(files):
    # ofdi_by_industry.csv lines 6-8: Japan's outward flow 2014, JPY 100 million: manufacturing
    # 57,494, textiles 1,228, chemicals and pharmaceuticals 4,529.
    v, year, what = ofdi_industry_share(files["ofdi"], "textile", ["JPN", "KOR", "TWN"], 2024)
    assert v["JPN"] == pytest.approx(100 * 1228 / 57494) and year["JPN"] == 2014
    assert v[["KOR", "TWN"]].isna().all() and what == "JPN 2014"
    v, *_ = ofdi_industry_share(files["ofdi"], "pharma", ["JPN"], 2024)
    assert v["JPN"] == pytest.approx(100 * 4529 / 57494)
    v, *_ = ofdi_industry_share(files["ofdi"], "textile", ["JPN"], 2013)
    assert np.isnan(v["JPN"])


def test_documented_textile_investors_and_their_evidence(files):
    realised = pd.concat([files["sector"], host_side_sector_rows(files["ofdi"])])
    d = documented_investors(realised, files["projects"], "textile").set_index("partner_iso3")
    assert {"KOR", "TWN", "CHN", "JPN", "HKG"} <= set(d.index)
    ev = d.loc["TWN", "evidence"]
    # Realised Q1 2023, named 2015/2020/2023, Eclat (under construction), Lai Yih and
    # Pou Chen (operating); Lealea (announced) and Pou Chen's 2022 plan (announced) are not.
    assert "realised PMA 2023 Q1" in ev and "2015, 2020, 2023" in ev
    # Korea's Q1 2023 figure is in both files: one piece of evidence, not two.
    assert d.loc["KOR", "evidence"].count("2023 Q1") == 1
    assert "Eclat Textile" in ev and "Lai Yih Group" in ev and "Lealea" not in ev
    assert d.loc["TWN", "projects"] == 3
    # A cancelled project is never evidence: Bata (CHE, footwear) is cancelled.
    assert "CHE" not in d.index
    d24 = documented_investors(realised, files["projects"], "textile", end_year=2016)
    assert "TWN" in set(d24["partner_iso3"])  # 2015 statement and Pou Chen's 2015 plant
    assert "Eclat" not in " ".join(d24["evidence"])


def test_lotte_is_routed_with_korea_as_the_ultimate_investor(files):
    ends = routed_ends(files["projects"], "chemical", ["KOR", "MYS", "JPN"], 2025)
    assert ends == {"KOR": "upper", "MYS": "lower"}
    assert routed_ends(files["projects"], "textile", ["KOR", "MYS"], 2025) == {}


# --- the routed view: alternatives in the Monte Carlo, never mixed ----------------------------


def _routed_set(routed=True):
    rng = np.random.default_rng(11)  # SYNTHETIC
    idx = [f"P{i:02d}" for i in range(10)]
    X = pd.DataFrame(rng.uniform(10, 100, size=(10, 3)), index=idx, columns=["a", "b", "c"])
    lower = pd.DataFrame(np.nan, index=idx, columns=X.columns)
    upper = lower.copy()
    # P00 is the ultimate investor (upper bound with the routed project), P01 the recorded
    # country (upper bound with it); P02 is an ordinary censored cell.
    X.loc[["P00", "P01", "P02"], "a"] = np.nan
    lower.loc["P00", "a"], upper.loc["P00", "a"] = 5.0, 500.0
    lower.loc["P01", "a"], upper.loc["P01", "a"] = 0.0, 495.0
    lower.loc["P02", "a"], upper.loc["P02", "a"] = 0.0, 9.0
    meta = pd.DataFrame(
        {"pillar": ["s", "s", "t"], "label": ["a", "b", "c"], "direction": [1, 1, 1]},
        index=["a", "b", "c"],
    )
    routes = {("P00", "a"): "upper", ("P01", "a"): "lower"} if routed else {}
    return IndicatorSet(X, meta, lower=lower, upper=upper, routed=routes)


def test_each_draw_takes_one_view_for_every_routed_cell():
    from analysis.models.ranking.draws import _random_draws
    from analysis.models.ranking.preparation import _prepare

    data = _routed_set()
    prep = _prepare(data, QUICK)
    d = _random_draws(prep, QUICK, 400, np.random.default_rng(1))
    cols = prep.routed_cols
    u = d.censored_u[:, cols]
    ultimate_first = prep.routed_upper[0]
    # Ultimate view: P00 at its upper bound, P01 at its lower; recorded: the reverse. Never
    # both at the top (the project counted twice) nor both at the bottom (counted nowhere).
    assert set(np.unique(u[:, 0] + u[:, 1])) == {1.0}
    assert ((u[:, 0] == 1) == (d.routed_view == ultimate_first)).all()
    assert 0.35 < d.routed_view.mean() < 0.65
    # The ordinary censored cell still moves inside its interval.
    other = [j for j in range(len(prep.cens_idx[0])) if j not in set(cols)]
    assert len(np.unique(d.censored_u[:, other])) > 100


def test_the_nominal_index_takes_the_recorded_view_and_both_views_are_reported():
    r = rank_partners(_routed_set(), QUICK)
    cells = r.cells[r.cells["indicator"] == "a"].set_index("partner_iso3")
    # Recorded view: P00 without the project (5), P01 with it (495).
    assert cells.loc["P01", "normalised"] > 0.9 and cells.loc["P00", "normalised"] < 0.1
    v = r.routed_views
    assert set(v["partner_iso3"]) == {"P00", "P01"}
    assert set(v["view"]) == {"recorded", "ultimate investor"}
    assert v["draws"].sum() == 2 * QUICK.draws
    assert "routed view (recorded or ultimate investor)" in set(r.sobol["choice"])


def test_without_routed_cells_the_draws_are_unchanged():
    plain = rank_partners(_routed_set(routed=False), QUICK)
    assert plain.routed_views is None
    assert "routed view (recorded or ultimate investor)" not in set(plain.sobol["choice"])
    # A route naming a cell that is not censored changes nothing either.
    data = _routed_set(routed=False)
    data = IndicatorSet(
        data.values, data.meta, data.lower, data.upper, routed={("P05", "a"): "upper"}
    )
    again = rank_partners(data, QUICK)
    assert np.array_equal(plain.mc_ranks, again.mc_ranks, equal_nan=True)


# --- documented investors, held out ---------------------------------------------------------


def _evidence_set():
    rng = np.random.default_rng(5)  # SYNTHETIC
    idx = [f"P{i:02d}" for i in range(12)]
    cols = ["sector_pma", "project_pipeline", "sector_exports", "gdp"]
    X = pd.DataFrame(rng.uniform(1, 100, size=(12, 4)), index=idx, columns=cols)
    X.loc["P11", ["sector_pma", "project_pipeline"]] = 1000.0  # documented, weak otherwise
    X.loc["P11", ["sector_exports", "gdp"]] = 1.0
    meta = pd.DataFrame(
        {
            "pillar": ["sector", "sector", "sector", "market"],
            "label": cols,
            "direction": [1, 1, 1, 1],
            "unit": "u",
            "source": "SYNTHETIC",
            "year": "2024",
        },
        index=cols,
    )
    return IndicatorSet(X, meta)


def test_the_held_out_ranking_drops_exactly_the_documented_evidence():
    data = _evidence_set()
    held = held_out_ranking(data, QUICK)
    assert set(held.weights["indicator"]) == {"sector_exports", "gdp"}
    assert set(HELD_OUT) >= {"sector_pma", "project_pipeline"}
    result = rank_partners(data, QUICK, sensitivity=False, audit=False)
    sector = pd.DataFrame(
        {"partner_iso3": ["P11", "P00"], "sector": "textile", "kind": "realised",
         "year": 2023, "period": "Q1", "value_usd_m": [1000.0, 2.0], "note": ""}
    )  # fmt: skip
    projects = pd.DataFrame(columns=["sector", "home_iso3", "status", "year_announced",
                                     "year_status", "company"])  # fmt: skip
    t = documented_table(data, result, QUICK, "textile", evidence=(sector, projects))
    row = t.set_index("partner_iso3").loc["P11"]
    # With its own evidence P11 is near the top; held out, it falls to the bottom.
    assert row["rank_full"] <= 5 and row["rank_held_out"] >= 10
    assert row["band_low"] <= row["median_rank"] <= row["band_high"]
    sm = documented_summary(t, top=5)
    assert sm["n"] == 2 and sm["top_full"] >= 1


def test_an_indicator_left_out_by_the_coverage_rule_is_listed_with_its_count():
    data = _evidence_set()
    sparse = data.values.assign(ofdi_industry_share=np.nan)
    sparse.loc["P03", "ofdi_industry_share"] = 2.1
    meta = pd.concat(
        [
            data.meta,
            pd.DataFrame(
                {
                    "pillar": ["sector"],
                    "label": ["share"],
                    "direction": [1],
                    "unit": "%",
                    "source": "SYNTHETIC",
                    "year": "2014",
                },
                index=["ofdi_industry_share"],
            ),
        ]
    )
    full = IndicatorSet(sparse, meta)
    r = rank_partners(full, QUICK, uncertainty=False, sensitivity=False, audit=False)
    w = with_left_out(r.weights, full, QUICK).set_index("indicator")
    assert w.loc["ofdi_industry_share", "effective_weight"] == 0
    assert w.loc["ofdi_industry_share", "candidates"] == 1
    assert "1 of 12 candidates" in w.loc["ofdi_industry_share", "note"]
    assert w.loc["gdp", "note"] == "" and w.loc["gdp", "candidates"] == 12


def test_agreement_effects_are_read_not_refitted():
    # The shape analysis.studies.gravity.agreement_effects() returns (values made up).
    effects = pd.DataFrame(
        {
            "agreement": ["IEU-CEPA"] * 4 + ["EAEU FTA"] * 2,
            "partner_iso3": ["NLD", "NLD", "DEU", "DEU", "RUS", "RUS"],
            "basis": ["actual", "model"] * 3,
            "flow_usd_m": [1900.0, 2500.0, np.nan, 1400.0, np.nan, 600.0],
            "flow_status": ["measured", "model", "bounded", "model", "bounded", "model"],
            "effect_usd_m": [1000.0, 1300.0, np.nan, 740.0, np.nan, 300.0],
            "lo": [400.0, 500.0, 0.0, 310.0, 0.0, 100.0],
            "hi": [1700.0, 2300.0, 3300.0, 1270.0, 3300.0, 500.0],
        }
    )
    ranking = pd.DataFrame({"partner_iso3": ["DEU", "NLD", "JPN"], "rank": [5, 18, 2]})
    t = agreement_table(effects, ranking)
    assert list(t["partner_iso3"]) == ["DEU", "NLD"]  # RUS is not a candidate
    nld = t.set_index("partner_iso3").loc["NLD"]
    assert (nld["effect_usd_m"], nld["lo"], nld["hi"]) == (1000.0, 400.0, 1700.0)
    assert nld["model_effect_usd_m"] == 1300.0
    assert np.isnan(t.set_index("partner_iso3").loc["DEU", "effect_usd_m"])
    assert agreement_table(pd.DataFrame(), ranking).empty


def test_the_study_writes_and_formats_the_documented_investors(tmp_path, monkeypatch):
    from dataclasses import replace

    from analysis.base.vocab import CANDIDATES
    from analysis.studies.ranking import RankingStudySettings, run_ranking
    from test_ranking_study import FAST, _synthetic_sets

    names = dict(zip([f"P{i:02d}" for i in range(25)], CANDIDATES[:25], strict=True))

    def rename(d: IndicatorSet) -> IndicatorSet:
        r = lambda f: None if f is None else f.rename(index=names)  # noqa: E731
        hubs = {names[k]: v for k, v in d.hubs.items()}
        return replace(d, values=r(d.values), upper=r(d.upper), lower=r(d.lower), hubs=hubs)

    sets = {k: rename(v) for k, v in _synthetic_sets().items()}
    study = run_ranking(RankingStudySettings(sector="textile", ranking=FAST), indicator_sets=sets)
    d = study.table("documented_investors")
    # Textile investors among these candidates: China, Hong Kong, India, Japan, Korea.
    assert {"CHN", "HKG", "IND", "JPN", "KOR"} <= set(d["partner_iso3"])
    assert list(d.columns[:3]) == ["partner_iso3", "partner_name", "evidence"]
    assert (d["rank_full"].notna()).all() and (d["rank_held_out"].notna()).all()
    finding = study.documented_finding()
    assert finding.startswith(f"Of {len(d)} documented investors in textiles")
    assert study.documented_finding("id").startswith(f"Dari {len(d)} investor terdokumentasi")
    assert any(f == finding for f in study.key_findings())
    for lang in ("en", "id"):
        for name in ("documented_investors", "agreement_effects", "routed_views", "weights"):
            study.formatted(name, lang)
    monkeypatch.setenv("MITRA_TABLES_DIR", str(tmp_path))
    paths = study.write_tables()
    assert paths["documented_investors"].name == "documented_investors.csv"
    written = pd.read_csv(paths["documented_investors"])
    assert list(written["partner_iso3"]) == list(d["partner_iso3"])
