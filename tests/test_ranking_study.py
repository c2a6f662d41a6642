"""The ranking study (report 30): tables with the issue's columns, settings from params,
sector comparison, the what-if view, and the real indicator sets of the three sectors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.models.ranking import IndicatorSet, RankingSettings
from analysis.params import load_params
from analysis.studies.ranking import (
    SECTORS,
    RankingStudySettings,
    run_ranking,
    settings,
)

FAST = RankingSettings(pillar_weights={"sector": 2}, draws=200, sobol_base=16, sobol_resamples=20)


def _synthetic_sets(seed: int = 11) -> dict[str, IndicatorSet]:
    """SYNTHETIC sets: the same non-sector pillars, a different sector pillar per sector."""
    rng = np.random.default_rng(seed)
    partners = [f"P{i:02d}" for i in range(25)]
    common = pd.DataFrame(
        rng.lognormal(size=(25, 4)),
        index=partners,
        columns=["gdp", "ofdi_stock", "pma_in_idn", "distance"],
    )
    common.iloc[20:, 2] = np.nan  # censored PMA
    upper = pd.DataFrame(np.nan, index=partners, columns=[])
    sets = {}
    for sector in SECTORS:
        sec = pd.DataFrame(
            rng.lognormal(size=(25, 2)), index=partners, columns=["sector_exports", "sector_rca"]
        )
        values = pd.concat([sec, common], axis=1)
        meta = pd.DataFrame(
            {
                "pillar": ["sector", "sector", "market", "capacity", "presence", "ties"],
                "label": values.columns,
                "direction": [1, 1, 1, 1, 1, -1],
                "unit": "u",
                "source": "SYNTHETIC",
                "year": "2024",
                "hub_sensitive": [False, False, False, True, True, False],
            },
            index=values.columns,
        )
        up = upper.reindex(columns=values.columns)
        up.iloc[20:, values.columns.get_loc("pma_in_idn")] = 0.2
        sets[sector] = IndicatorSet(values, meta, upper=up, hubs={"P00": "known conduit"})
    return sets


@pytest.fixture(scope="module")
def study():
    s = RankingStudySettings(sector="chemical", ranking=FAST)
    return run_ranking(s, indicator_sets=_synthetic_sets())


def test_key_tables_have_the_issues_columns(study, tmp_path, monkeypatch):
    assert list(study.table("ranking").columns) == [
        "partner_iso3",
        "rank",
        "median_rank",
        "rank_p05",
        "rank_p95",
        "score",
        "coverage",
        "status",
        "hub",
        "sector_score",
    ]
    assert list(study.table("sobol").columns) == [
        "choice",
        "S1",
        "S1_lo",
        "S1_hi",
        "ST",
        "ST_lo",
        "ST_hi",
    ]
    w = study.table("weights")
    assert {"indicator", "pillar", "pillar_weight", "weight_in_pillar", "effective_weight"} <= set(
        w
    )
    assert w.groupby("pillar")["effective_weight"].sum()["sector"] == pytest.approx(1 / 3)
    assert {"partner_iso3", "pillar", "score", "imputed", "censored"} <= set(
        study.table("pillars")
    )
    monkeypatch.setenv("MITRA_TABLES_DIR", str(tmp_path))
    written = study.write_tables()
    assert {p.name for p in written.values()} >= {
        "ranking.csv",
        "pillars.csv",
        "weights.csv",
        "sobol.csv",
    }
    back = pd.read_csv(tmp_path / "ranking.csv")
    assert back["hub"].dtype == bool and back.loc[back["partner_iso3"] == "P00", "hub"].all()
    # The sector pillar's score of every ranked partner, for the batch's brief picking.
    ranked = back[back["status"] == "ranked"]
    assert ranked["sector_score"].notna().all()
    pil = study.table("pillars")
    sec = pil[pil["pillar"] == "sector"].set_index("partner_iso3")["score"]
    assert np.allclose(
        ranked.set_index("partner_iso3")["sector_score"], sec[ranked["partner_iso3"]]
    )


def test_sector_comparison_and_findings(study):
    corr = study.table("sector_correlation")
    assert list(corr.index) == list(SECTORS)
    assert np.allclose(np.diag(corr.to_numpy()), 1.0)
    assert (corr.abs().to_numpy() <= 1 + 1e-12).all()
    top = study.table("sector_top10")
    assert list(top.columns) == list(SECTORS) and len(top) == 10
    hubs = study.table("hubs")
    assert list(hubs["partner_iso3"]) == ["P00"]
    assert {"rank if as is", "rank if discounted", "rank if excluded"} <= set(hubs.columns)
    findings = study.key_findings()
    assert 3 <= len(findings) <= 6
    assert study.top(1)[0] in findings[0]
    text = str(study.summary())
    assert "Kendall" in text and study.fingerprint in text


def test_removing_the_sector_pillar_makes_the_synthetic_sectors_agree():
    sets = {k: v.drop(["sector_exports", "sector_rca"]) for k, v in _synthetic_sets().items()}
    study = run_ranking(RankingStudySettings(ranking=FAST), indicator_sets=sets)
    ranks = study.sector_ranks
    assert ranks["textile"].equals(ranks["chemical"]) and ranks["textile"].equals(ranks["pharma"])


def test_settings_from_the_params_files():
    p = load_params("params/base.yaml", "params/pharma.yaml")
    s = settings(p)
    assert s.sector == "pharma"
    assert s.ranking.pillar_weights["sector"] == 2.0
    assert s.ranking.imputation == "worst" and s.ranking.hub_treatment == "as_is"
    heavy = load_params(
        "params/base.yaml", overrides={"ranking_weights": {"presence": 10, "pma_in_idn": 3}}
    )
    s2 = settings(heavy)
    # the override merges into base.yaml's weights: two weights change, the others stay
    pillars = {"sector": 2.0, "capacity": 1.0, "market": 1.0, "presence": 10.0, "ties": 1.0}
    assert s2.ranking.pillar_weights == pillars
    assert s2.ranking.indicator_weights == {
        "sector_exports": 0.5,
        "sector_rca": 0.5,
        "sector_value_added": 0.25,
        "pma_in_idn": 3.0,
    }


def test_a_misspelt_weight_is_rejected_by_params():
    from analysis.params import ParamsError

    with pytest.raises(ParamsError, match="unknown pillar or indicator 'presense'"):
        load_params("params/base.yaml", overrides={"ranking_weights": {"presense": 2}})


def test_what_if_recomputes_in_place(study, monkeypatch):
    pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    from analysis.studies.ranking_whatif import WhatIf

    monkeypatch.delenv("MITRA_TABLES_DIR", raising=False)
    view = WhatIf(study, draws=200)
    first = view.recompute().table.set_index("partner_iso3")["score"]
    view.sliders["sector"].value = 0.0  # the callback recomputes
    view.pickers["aggregation"].value = "geometric"
    assert view.settings().pillar_weights["sector"] == 0.0
    second = view.recompute().table.set_index("partner_iso3")["score"]
    assert not np.allclose(first.dropna(), second.reindex(first.dropna().index))
    assert "recomputed in" in view.status.value


def test_what_if_is_inert_in_a_batch(study, monkeypatch, tmp_path):
    monkeypatch.setenv("JPY_SESSION_NAME", "30-partner-ranking.ipynb")
    monkeypatch.setenv("MITRA_TABLES_DIR", str(tmp_path))
    assert "JupyterLab" in study.what_if().data


def test_what_if_is_inert_when_headless_and_live_in_a_jupyter_session(study, monkeypatch):
    # papermill and nbval kernels have no server session; widgets there can hang nbclient.
    pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.delenv("MITRA_TABLES_DIR", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert "JupyterLab" in study.what_if().data
    monkeypatch.setenv("JPY_SESSION_NAME", "30-partner-ranking.ipynb")
    assert not hasattr(study.what_if(draws=50), "data")  # a widget, not a note
    assert not hasattr(study.what_if(draws=50, interactive=True), "data")


# --- the real indicator sets (partner panel + ledger) ---------------------------------------


@pytest.fixture(scope="module")
def real_sets(ledger):
    from analysis.data.panel import load_panel
    from analysis.models.indicators import build_indicators

    panel = load_panel()
    return {s: build_indicators(panel, ledger, s, 2024) for s in SECTORS}


def test_real_indicator_sets_have_a_sector_pillar_that_differs_by_sector(real_sets):
    for sector, data in real_sets.items():
        meta = data.meta
        assert len(data.values) == 40
        assert set(meta["pillar"]) <= {"sector", "capacity", "market", "presence", "ties"}
        assert (meta["pillar"] == "sector").sum() >= 2, sector
        assert (meta["source"].str.len() > 0).all() and set(meta["direction"]) <= {1, -1}
        # PMA of unlisted partners is an interval [0, bound], never a midpoint or a zero.
        assert data.values["pma_in_idn"].notna().sum() < 40
        censored = data.upper["pma_in_idn"].notna()
        assert censored.any() and data.values.loc[censored, "pma_in_idn"].isna().all()
        assert {"SGP", "HKG", "NLD", "LUX"} <= set(data.hubs)
    # Fallback sources are flagged on the cell: Taiwan's outward flow is national, not WDI.
    twn = real_sets["textile"].cell_notes.loc["TWN", "ofdi_flow"]
    assert "national source" in twn
    exports = pd.DataFrame({s: d.values["sector_exports"] for s, d in real_sets.items()})
    assert exports.notna().all().all()
    # The sectors' evidence differs, so their sector pillars do.
    assert exports.corr(method="kendall").to_numpy()[np.triu_indices(3, 1)].max() < 0.95


def test_real_rankings_differ_by_sector_and_every_ranked_partner_has_its_sector_pillar(
    real_sets,
):
    study = run_ranking(
        RankingStudySettings(sector="textile", ranking=FAST), indicator_sets=real_sets
    )
    tau = study.table("sector_correlation")
    assert tau.loc["chemical", "pharma"] < 0.89  # the old index: 0.89 (issue 11)
    assert tau.loc["textile", "chemical"] < 0.9
    cells = study.table("indicators").set_index(["partner_iso3", "indicator"])
    assert "national source" in cells.loc[("TWN", "ofdi_flow"), "flags"]
    pil = study.table("pillars")
    ranked = set(study.result.ranked["partner_iso3"])
    sector = pil[(pil["pillar"] == "sector") & pil["partner_iso3"].isin(ranked)]
    assert sector["score"].notna().all() and len(sector) == len(ranked)


def test_removing_every_sector_pillar_indicator_makes_the_three_real_rankings_identical(
    real_sets,
):
    sets = {
        s: d.drop(list(d.meta.index[d.meta["pillar"] == "sector"])) for s, d in real_sets.items()
    }
    study = run_ranking(RankingStudySettings(ranking=FAST), indicator_sets=sets)
    r = study.sector_ranks
    assert r["textile"].equals(r["chemical"]) and r["chemical"].equals(r["pharma"])
    full = run_ranking(RankingStudySettings(ranking=FAST), indicator_sets=real_sets)
    assert not full.sector_ranks["textile"].equals(full.sector_ranks["pharma"])
