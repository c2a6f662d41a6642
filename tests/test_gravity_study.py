"""Gravity study (report 20) on the committed data: sample, sources, guards, sectors, outputs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analysis.models.fdi_potential import NO_FIGURE
from analysis.studies import gravity as gs
from analysis.studies.gravity import (
    GravityStudyError,
    GravityStudySettings,
    fit_multihost,
    load_hubs,
    load_priors,
    run_gravity,
)

# The module whose functions call gravity_study, run_gravity and cached_positions (patched).
from analysis.studies.gravity import study as gs_study

REQUIRED_POTENTIAL = [
    "partner_iso3",
    "year",
    "sector",
    "actual",
    "actual_status",
    "predicted",
    "lo",
    "hi",
    "partner_ofdi_total",
    "capped",
]
SETTINGS = GravityStudySettings(draws=400, distribution_reps=3)


@pytest.fixture(scope="module")
def panel():
    from analysis.data.panel import load_panel

    return load_panel()


@pytest.fixture(scope="module")
def study(ledger, panel):
    return run_gravity(SETTINGS, ledger, panel, positions=None)  # offline, whatever is cached


def test_every_usable_listed_partner_year_is_used_and_the_rest_is_listed_as_dropped(study, ledger):
    f = study.frame
    listed = f[f["status"] == "listed"]
    assert len(listed) >= 40  # the issue's "Done when": at least 40 listed partner-years
    assert (listed["pma_usd_m"] > 0).all()
    assert "HKG" in set(listed["partner_iso3"])
    cens = f[f["status"] == "censored"]
    # Censored rows carry the year's N-th listed value as bound, never a value or a zero.
    assert cens["pma_usd_m"].isna().all() and (cens["upper_bound"] > 0).all()
    assert study.fit.nobs == len(f) and study.fit.n_censored == len(f) - len(listed)
    # Mirror statistics: an unlisted partner-year with the source country's own flow is an
    # interval measurement (within the assumed factor, below the bound), no longer only "< x".
    meas = f[f["status"] == "measured"]
    assert len(meas) >= 1 and meas["pma_usd_m"].isna().all()
    assert (meas["lower_bound"] > 0).all() and (meas["lower_bound"] < meas["upper_bound"]).all()
    assert np.allclose(meas["lower_bound"], meas["mirror_usd_m"] / gs.MIRROR_FACTOR)
    jpn = study.latest().set_index("partner_iso3").loc["JPN"]
    if jpn["actual_status"] == "measured":
        assert jpn["gap_status"] == "identified"
        assert jpn["gap_lo"] == pytest.approx(jpn["lo"] - meas.set_index(
            ["partner_iso3", "year"]).loc[("JPN", int(jpn["year"])), "upper_bound"])  # fmt: skip
    # Every FY listed partner-year of the ledger is either used or in the dropped table.
    pp = ledger.partner_panel(periods=["FY"])
    all_listed = set(
        map(tuple, pp.loc[pp["status"] == "observed", ["partner_iso3", "year"]].values)
    )
    used = set(map(tuple, listed[["partner_iso3", "year"]].values))
    dropped = set(map(tuple, study.dropped[["partner_iso3", "year"]].values))
    assert all_listed <= used | dropped
    assert study.dropped["reason"].str.len().gt(10).all()


def test_coefficients_are_estimated_prior_or_fixed_and_no_trade_elasticity(study):
    c = study.coefficients().set_index("term")
    assert set(c["source"]) <= {"estimated", "prior", "fixed"}
    assert c.loc["agreement", "source"] == "prior"
    assert {"lgdp", "ldist", "hub"} <= set(c.index[c["source"] == "estimated"])
    assert not c["citation"].str.contains("Santos Silva|Tenreyro|trade elasticity").any()
    assert study.fit.converged
    priors = load_priors()
    row = priors.loc["kox_rojas_romagosa_2020_pta"]
    assert row["quoted_passage"] and row["url"].startswith("https://") and row["verified"]
    # The prior is informative but the data move it: its se is below the prior sd.
    assert c.loc["agreement", "se"] < row["sd"]


def test_censored_fit_is_further_from_zero_than_the_listed_only_fit(study):
    cmp = study.estimates_compared()
    for term in ("lgdp", "ldist"):
        assert abs(cmp.loc[term, "censored: estimate"]) > abs(
            cmp.loc[term, "listed only (PPML): estimate"]
        )


def test_hubs_are_an_explicit_covariate_from_the_cited_list(study):
    hubs = load_hubs()
    assert set(SETTINGS.hubs) <= set(hubs.index)
    f = study.frame
    assert set(f.loc[f["hub"] == 1, "partner_iso3"]) <= set(SETTINGS.hubs)
    assert "same_subregion" not in set(study.fit.table["term"])


def test_no_potential_exceeds_the_partners_outward_fdi_and_caps_are_visible(study):
    pot = study.potential
    checked = pot[pot["partner_ofdi_total"].notna() & pot["predicted"].notna()]
    cap = checked["partner_ofdi_total"]
    assert (checked["predicted"] <= cap + 1e-9).all()
    assert (checked["hi"] <= cap + 1e-9).all()
    capped = checked[checked["capped"]]
    assert len(capped) and (capped["predicted_model"] > capped["predicted"]).all()
    assert (
        checked.loc[~checked["capped"], "predicted_model"]
        == checked.loc[~checked["capped"], "predicted"]
    ).all()
    unchecked = pot[pot["partner_ofdi_total"].isna() & pot["predicted_model"].notna()]
    assert unchecked["guard"].isin([NO_FIGURE]).sum() >= 1
    assert (
        (unchecked["guard"] == NO_FIGURE) | unchecked["guard"].str.endswith("not capped")
    ).all()
    # Never a cap of 0: where the year's net outflow is <= 0 (the Netherlands), the cap is a
    # multi-year mean, the outward stock or none, flagged in cap_basis; the potential stays.
    assert (pot["partner_ofdi_total"].dropna() > 0).all()
    assert not ((pot["predicted"] == 0) & (pot["predicted_model"] > 0)).any()
    nld = pot[(pot["partner_iso3"] == "NLD") & (pot["sector"] == "total")]
    assert (nld["predicted"] > 0).all()
    assert not nld["cap_basis"].str.contains("(year)", regex=False).all()


def test_implausible_shares_are_flagged_and_explained(study):
    lat = study.latest()
    flagged = lat[lat["plausibility_flag"] != ""]
    assert (flagged["implied_share"] > flagged["share_bound"]).all()
    ok = lat[(lat["plausibility_flag"] == "") & lat["implied_share"].notna()]
    assert (
        (ok["implied_share"] <= ok["share_bound"] + 1e-12)
        | (ok["predicted_model"] <= ok["actual"])
    ).all()
    # The Philippines: a potential of about two thirds of all Philippine outward FDI.
    phl = lat.set_index("partner_iso3").loc["PHL"]
    assert (
        phl["implied_share"] > 0.5 and "comparable (non-hub) partner" in phl["plausibility_flag"]
    )
    # Sector rows carry their total's flag.
    sec = study.potential[(study.potential["sector"] == "textile")]
    sec = sec[(sec["partner_iso3"] == "PHL") & (sec["year"] == lat["year"].iloc[0])]
    assert sec["plausibility_flag"].iloc[0].startswith("total potential implausible")


def test_untapped_gap_is_identified_where_listed_and_bounded_where_censored(study):
    lat = study.latest()
    listed = lat[lat["actual_status"] == "listed"]
    assert (listed["gap_status"] == "identified").all()
    assert np.allclose(listed["gap_usd_m"], listed["predicted"] - listed["actual"])
    assert np.allclose(listed["gap_lo"], listed["lo"] - listed["actual"])
    cens = lat[lat["actual_status"] == "censored"]
    assert (cens["gap_status"] == "bounded").all() and cens["gap_usd_m"].isna().all()
    assert np.allclose(cens["gap_lo"], cens["lo"] - cens["actual_upper"])
    credible = study.gaps()
    assert ((credible["gap_lo"] > 0) & (credible["plausibility_flag"] == "")).all()
    sentence = study.gap_sentence()
    assert (
        (f"{len(credible)} partner" in sentence)
        if len(credible)
        else (sentence.startswith("No partner has an identifiable untapped potential"))
    )


def test_pending_agreement_effects_on_measured_flows_and_on_the_model_baseline(study, monkeypatch):
    e = study.agreement_effects
    eu = e[(e["agreement"] == "IEU-CEPA") & (e["partner_iso3"] == "TOTAL")].set_index("basis")
    assert {"actual", "model"} <= set(eu.index)
    b = study.coefficients().set_index("term").loc["agreement", "estimate"]
    # Actual basis: the members with a published flow (mean of their listed full years).
    f = study.frame
    nld = f[(f["partner_iso3"] == "NLD") & (f["status"] == "listed")]["pma_usd_m"].mean()
    assert eu.loc["actual", "flow_usd_m"] == pytest.approx(nld)
    assert eu.loc["actual", "effect_usd_m"] == pytest.approx(nld * (np.exp(b) - 1))
    for basis in ("actual", "model"):
        lo, mid, hi = eu.loc[basis, ["lo", "effect_usd_m", "hi"]]
        assert lo < mid < hi
        # The interval includes zero exactly when the agreement coefficient's does.
        ci_low = study.fit.confint().loc["agreement", "lower"]
        if abs(ci_low) > 0.05:
            assert (lo < 0) == (ci_low < 0)
    assert eu.loc["model", "flow_usd_m"] > 5 * eu.loc["actual", "flow_usd_m"]
    assert eu.loc["model", "n_members"] == 27
    can = e[(e["agreement"] == "ICA-CEPA") & (e["partner_iso3"] == "CAN")].set_index("basis")
    assert can.loc["actual", "flow_status"] == "bounded" and np.isnan(
        can.loc["actual", "effect_usd_m"]
    )
    headline = study.agreement_headline("IEU-CEPA")
    assert "measured flows" in headline and "The first is quoted" in headline
    assert f"{eu.loc['actual', 'effect_usd_m']:,.0f}" in headline
    assert any(headline in k for k in study.key_findings())
    # The one function the brief and the ranking read (no refit).
    monkeypatch.setattr(gs_study, "gravity_study", lambda *a, **k: study)
    deu = gs.agreement_effects(SETTINGS, partner="DEU")
    assert set(deu["partner_iso3"]) == {"DEU", "TOTAL"} and set(deu["agreement"]) == {"IEU-CEPA"}
    assert {"partner_iso3", "agreement", "basis", "effect_usd_m", "lo", "hi"} <= set(deu.columns)
    from analysis.config import Params

    same = Params(gravity_draws=400, gravity_distribution_reps=3)
    assert gs.agreement_effects(same).equals(e)  # params route == settings route, no refit


def test_distribution_check_compares_gamma_with_lognormal(study):
    d = study.distribution.set_index("family")
    assert set(d.index) == {"gamma", "lognormal"} and d["delta_aic"].min() == 0
    assert d.loc["gamma", "loglik"] == pytest.approx(study.fit.loglik, abs=1e-3)
    assert d.loc["gamma", "ldist"] == pytest.approx(study.coefficients().set_index("term").loc[
        "ldist", "estimate"], abs=1e-6)  # fmt: skip
    cov = study.coverage
    assert set(cov["family"]) == {"gamma", "lognormal"} and (cov["reps"] >= 1).all()
    assert any(n.startswith("Distribution check:") for n in study.notes)


def test_every_potential_has_an_interval(study):
    pot = study.potential.dropna(subset=["predicted"])
    total = pot[pot["sector"] == "total"]
    # One total potential per full-year partner-year (part-year lists inform the fit only).
    assert len(total) == int((study.frame["period"] == "FY").sum())
    assert pot[["lo", "hi"]].notna().all().all()
    assert (pot["lo"] <= pot["predicted"] + 1e-9).all() and (
        pot["predicted"] <= pot["hi"] + 1e-9
    ).all()


def test_the_three_sector_potentials_differ(study):
    wide = pd.concat(
        {s: study.latest(s).set_index("partner_iso3")["predicted"] for s in gs.SECTORS}, axis=1
    )
    # Investor-side evidence differs by sector: so do the partners with a sector potential.
    have = {s: set(wide.index[wide[s].notna()]) for s in gs.SECTORS}
    assert all(len(v) >= 5 for v in have.values())
    assert have["textile"] != have["chemical"] != have["pharma"]
    for a, b in (("textile", "chemical"), ("chemical", "pharma"), ("textile", "pharma")):
        both = wide[[a, b]].dropna()
        assert len(both) >= 2
        assert not np.allclose(both[a], both[b])
        if len(both) >= 4:  # different orderings, not just a rescaling
            assert both[a].rank().corr(both[b].rank()) < 0.99


def test_counterfactual_covers_every_eu_member_and_canada_with_intervals(study):
    cf = study.counterfactual
    members = gs._agreement_members()
    assert len(members["IEU-CEPA"]) == 27
    for key, isos in members.items():
        assert set(cf.loc[cf["agreement"] == key, "partner_iso3"]) == set(isos)
    ok = cf.dropna(subset=["change"])
    assert len(ok) >= 25
    assert (ok["change_lo"] <= ok["change"] + 1e-9).all() and (
        ok["change"] <= ok["change_hi"] + 1e-9
    ).all()
    b = study.coefficients().set_index("term").loc["agreement", "estimate"]
    new = ok[ok["note"].str.startswith("partial-equilibrium")]
    assert np.allclose(new["ratio"], np.exp(b))


def test_tables_are_written_with_the_issue_columns(study, tmp_path, monkeypatch):
    monkeypatch.setenv("MITRA_TABLES_DIR", str(tmp_path))
    paths = study.write_tables()
    coef = pd.read_csv(paths["coefficients"])
    assert list(coef.columns) == ["term", "estimate", "se", "source", "model"]
    assert set(coef["source"]) <= {"estimated", "prior", "fixed"}
    pot = pd.read_csv(paths["potential"])
    assert list(pot.columns[: len(REQUIRED_POTENTIAL)]) == REQUIRED_POTENTIAL
    assert set(pot["sector"]) == {"total", *gs.SECTORS}
    cf = pd.read_csv(paths["counterfactual"])
    assert {"agreement", "partner_iso3", "change", "change_lo", "change_hi"} <= set(cf.columns)


def test_summary_and_findings_come_from_the_results(study):
    text = str(study.summary())
    assert "structural gravity" not in text.lower() and "as in itc" not in text.lower()
    findings = study.key_findings()
    assert 3 <= len(findings) <= 6
    assert str(len(study.frame)) in findings[0] and "offline" not in findings[0]
    assert study.mode == gs.MODEL_LABEL and study.multihost is None  # offline
    assert any(n.startswith(f"Model: {gs.MODEL_LABEL}. Offline") for n in study.notes)


def test_potential_table_is_cached_and_never_refits(ledger, panel, tmp_path, monkeypatch):
    monkeypatch.setenv("MITRA_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("MITRA_CACHE", "on")
    calls = []
    real = gs.run_gravity

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(gs_study, "run_gravity", counting)
    monkeypatch.setattr(gs_study, "cached_positions", lambda: None)
    first = gs.potential_table(SETTINGS, ledger, panel)
    second = gs.potential_table(SETTINGS, ledger, panel)
    other_sector = gs.potential_table(replace(SETTINGS, sector="pharma"), ledger, panel)
    study = gs.gravity_study(replace(SETTINGS, sector="chemical"), ledger, panel)
    assert len(calls) == 1  # one fit serves every sector's gravity and ranking report
    pd.testing.assert_frame_equal(first, other_sector)
    assert study.settings.sector == "chemical" and study.listed_fit.model is None
    with pytest.raises(gs.GravityError, match="restored from the cache"):
        study.listed_fit.confint(0.1)
    pd.testing.assert_frame_equal(first, second)


def test_settings_errors_name_the_parameter():
    with pytest.raises(GravityStudyError, match="sector"):
        GravityStudySettings(sector="steel")
    with pytest.raises(GravityStudyError, match="unknown prior id"):
        gs._priors(GravityStudySettings(priors=(("agreement", "nope"),)))
    with pytest.raises(GravityStudyError, match="is for term"):
        gs._priors(GravityStudySettings(priors=(("agreement", "weak_lgdp"),)))
    from analysis.config import load_params

    s = gs.settings(
        load_params(
            overrides={
                "sector": "pharma",
                "seed": 1,
                "gravity_priors": {"lgdp": "weak_lgdp"},
                "gravity_draws": 200,
            }
        )
    )
    assert s.sector == "pharma" and s.priors == (("lgdp", "weak_lgdp"),) and s.draws == 200
    assert gs.settings(load_params(overrides={"gravity_priors": {}})).priors == ()
    with pytest.raises(GravityStudyError, match="gravity_hubs"):
        run_gravity(GravityStudySettings(hubs=("XYZ",)), ledger=object(), panel=object())


def _synthetic_positions(seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SYNTHETIC multi-host direct-investment positions (seeded), IDN among the hosts."""
    rng = np.random.default_rng(seed)
    hosts = ["IDN", "AAA", "BBB", "CCC", "DDD", "EEE"]
    sources = [f"S{i:02d}" for i in range(14)]
    rows, cov = [], []
    dist = {(h, s): rng.normal(8.5, 0.6) for h in hosts for s in sources}
    start = {(h, s): rng.choice([2019, 2020, 2021, 9999]) for h in hosts for s in sources}
    fe_h = {(h, t): rng.normal(0, 0.5) for h in hosts for t in range(2018, 2023)}
    fe_s = {(s, t): rng.normal(0, 0.5) for s in sources for t in range(2018, 2023)}
    for h in hosts:
        for s in sources:
            for t in range(2018, 2023):
                agr = float(t >= start[(h, s)])
                eta = 12 - 0.8 * dist[(h, s)] + 0.3 * agr + fe_h[(h, t)] + fe_s[(s, t)]
                rows.append(
                    {
                        "reporter_iso3": h,
                        "counterpart_iso3": s,
                        "year": t,
                        "value": float(rng.poisson(np.exp(eta))),
                    }
                )
                cov.append(
                    {
                        "reporter_iso3": h,
                        "counterpart_iso3": s,
                        "year": t,
                        "ldist": dist[(h, s)],
                        "agreement": agr,
                    }
                )
    return pd.DataFrame(rows), pd.DataFrame(cov)


def test_multihost_ppml_recovers_coefficients_on_a_synthetic_panel():
    positions, cov = _synthetic_positions()
    fit, pot = fit_multihost(positions, cov)
    # Pair effects absorb distance; agreement is identified within pairs. Poisson noise on
    # flows of ~e^5 is small: 0.05 is several standard errors on 420 rows.
    assert "pair" in fit.settings.fe
    assert fit.coef()["agreement"] == pytest.approx(0.3, abs=0.05)
    assert set(pot["partner_iso3"]) == {f"S{i:02d}" for i in range(14)}
    assert (pot["lo"] <= pot["predicted"]).all() and (pot["predicted"] <= pot["hi"]).all()
    no_pair, _ = fit_multihost(positions, cov, pair_fe=False)
    assert no_pair.coef()["ldist"] == pytest.approx(-0.8, abs=0.05)


def test_with_cached_positions_the_potential_comes_from_the_multihost_fit(ledger, panel):
    """SYNTHETIC IMF positions (seeded) passed as the loader would return them."""
    rng = np.random.default_rng(11)
    hosts = ["IDN", "THA", "VNM", "PHL"]
    sources = ["SGP", "CHN", "JPN", "KOR", "USA", "NLD", "HKG", "MYS", "DEU", "GBR", "AUS"]
    pull = {s: rng.normal(0, 1) for s in sources}
    rows = []
    for h in hosts:
        for s in sources:
            for t in (2019, 2020, 2021, 2022):
                from analysis.models.partners import capital, haversine

                d = np.log(haversine(capital(h)[:2], capital(s)[:2]))
                mu = np.exp(9 - 0.9 * d + pull[s])
                rows.append((h, s, t, rng.gamma(4.0, mu / 4.0)))
    pos = pd.DataFrame(rows, columns=["reporter_iso3", "counterpart_iso3", "year", "value"])
    pos.loc[0, "value"] = -0.5  # net debt: PPML cannot use it, listed as dropped
    pos = pos.assign(indicator="fdi_inward_position_usd", unit="US$ billion (current)")
    study = run_gravity(SETTINGS, ledger, panel, positions=pos)
    assert study.mode == gs.MULTIHOST_LABEL and study.multihost is not None
    assert study.multihost.coef()["ldist"] == pytest.approx(-0.9, abs=0.3)
    total = study.potential[study.potential["sector"] == "total"]
    assert set(total["partner_iso3"]) == set(sources)
    assert total["unit"].str.contains("position").all()
    assert study.dropped["reason"].str.startswith("negative position").sum() == 1
    coef = study.coefficients()
    assert {gs.MULTIHOST_LABEL, gs.MODEL_LABEL} == set(coef["model"])
    checked = total[total["partner_ofdi_total"] > 0]  # <= 0: not capped (never a cap of 0)
    assert (checked["predicted"] <= checked["partner_ofdi_total"] + 1e-9).all()


def test_sector_potential_is_ease_times_demand_times_supply(study):
    pot = study.potential.set_index(["sector", "partner_iso3", "year"])["predicted_model"]
    si = study.sector_inputs.set_index(["sector", "partner_iso3"])
    year = int(study.potential["year"].max())
    for sector in gs.SECTORS:
        for iso in ("CHN", "JPN"):  # in every sector's league tables
            row = si.loc[(sector, iso)]
            share = row["demand_share"] * row["demand_split"] * row["supply_index"]
            expected = pot[("total", iso, year)] * min(1.0, share)
            assert pot[(sector, iso, year)] == pytest.approx(expected, rel=1e-12)
        # No investor-side evidence: no sector potential (Singapore heads no listed firm).
        assert si.loc[(sector, "SGP"), "supply_status"] == "gap"
        assert np.isnan(pot[(sector, "SGP", year)])
    # Chemical and pharma share Indonesia's demand (BKPM publishes them together): they split
    # it, so their potentials add up to the combined sector's, never counting it twice.
    d = study.sector_inputs.groupby("sector")[["demand_share", "demand_split"]].first()
    assert d.loc["chemical", "demand_share"] == d.loc["pharma", "demand_share"]
    assert d.loc["chemical", "demand_split"] + d.loc["pharma", "demand_split"] == pytest.approx(1)
    assert d.loc["textile", "demand_split"] == 1
    for iso in ("CHN", "JPN", "DEU"):
        c, p = si.loc[("chemical", iso)], si.loc[("pharma", iso)]
        both = pot[("chemical", iso, year)] + pot[("pharma", iso, year)]
        assert both < pot[("total", iso, year)] * c["demand_share"] * (
            c["supply_index"] + p["supply_index"]
        )  # the shared demand is not counted twice


def test_cached_dip_positions_reach_the_multihost_inputs(tmp_path, monkeypatch):
    """The loader's HAND-MADE DIP fixture, committed to a fetch cache, read by the study."""
    from pathlib import Path

    from analysis.data.loaders.cache import FetchCache
    from analysis.data.loaders.transport import RawResponse

    folder = Path(__file__).parent / "fixtures" / "responses"

    def raw(name: str, kind: str) -> RawResponse:
        return RawResponse(
            source="IMF",
            query="IMF.STA:DIP IDN+THA",
            url=f"https://example.invalid/{name}",
            content=(folder / name).read_bytes(),
            retrieved="2026-11-28T10:00:00Z",
            suffix=".xml",
            meta={"kind": kind},
        )

    cache = FetchCache(tmp_path)
    cache.commit(
        "dip",
        [
            ("dip-structure", raw("imf_dip_structure_HANDMADE.xml", "structure")),
            ("dip", raw("imf_dip_data_HANDMADE.xml", "data")),
        ],
    )
    monkeypatch.setenv("MITRA_FETCH_CACHE", str(tmp_path))
    positions = gs.cached_positions()
    assert positions is not None and "IDN" in set(positions["reporter_iso3"])
    pos, cov, dropped = gs._multihost_inputs(positions)
    src = positions.set_index(["reporter_iso3", "counterpart_iso3", "year"])["value"]
    for r in pos.itertuples(index=False):
        # US$ billion in the loader's frame, US$ million in the model.
        assert r.value == pytest.approx(src[(r.reporter_iso3, r.counterpart_iso3, r.year)] * 1000)
    assert len(pos) + len(dropped) == len(positions)
    assert cov["ldist"].notna().all()


def test_a_list_that_omits_a_value_published_elsewhere_still_bounds_the_others(study, ledger):
    # 2017: the full-year list names CHN, HKG, JPN, KOR and omits SGP, whose value other
    # releases publish; everyone else is below the list's smallest value.
    cens = ledger.censoring
    fy17 = cens[(cens["year"] == 2017) & (cens["period"] == "FY")].iloc[0]
    assert not fy17["complete"] and fy17["omits"] == "SGP"
    f = study.frame[study.frame["year"] == 2017]
    assert set(f.loc[f["status"] == "listed", "partner_iso3"]) == {
        "CHN",
        "HKG",
        "JPN",
        "KOR",
        "SGP",
    }
    others = f[f["status"] == "censored"]
    assert (others["upper_bound"] == fy17["upper_bound"]).all()
    assert others["bound_note"].str.contains("omits SGP").all()
    f = study.frame
    rest = f[(f["year"] != 2017) & (f["status"] != "measured")]
    # Other notes only where a list of the ledger omits a value published elsewhere.
    noted = rest.loc[rest["bound_note"] != "", ["year", "period"]].drop_duplicates()
    for year, period in noted.itertuples(index=False):
        row = cens[(cens["year"] == year) & (cens["period"] == period) & ~cens["complete"]]
        assert len(row) and row["omits"].str.len().gt(0).all(), (year, period)
    assert (rest.loc[rest["period"] == "FY", "bound_note"] == "").all()


def test_part_year_lists_enter_only_for_years_without_a_full_year_list(study, ledger):
    """Quarterly and partial-year lists add listed values with their own bound, never next
    to the year's full-year list and never overlapping each other (one rule)."""
    from analysis.studies.gravity.frame import choose_lists
    from analysis.studies.gravity.settings import PERIOD_QUARTERS

    f = study.frame
    periods = f.groupby("year")["period"].unique()
    for year, ps in periods.items():
        ps = list(ps)
        if "FY" in ps:
            assert ps == ["FY"], year
        else:
            quarters = [PERIOD_QUARTERS[p] for p in ps]
            assert sum(map(len, quarters)) == len(frozenset().union(*quarters)), year
    part = f[f["period"] != "FY"]
    assert len(part) and (part["period_kind"] == "part year").all()
    assert int((part["status"] == "listed").sum()) >= 15  # more listed values than FY alone
    assert (part["months"] < 12).all()
    # Each part-year list is censored at its own list's bound, from the ledger's table.
    cens = ledger.censoring
    for (year, period), g in part[part["status"] == "censored"].groupby(["year", "period"]):
        lists = cens[(cens["year"] == year) & (cens["period"] == period)]
        assert g["upper_bound"].iloc[0] in set(lists["upper_bound"]), (year, period)
        assert g["upper_bound"].nunique() == 1
    # The fit has a level per list and a Gamma shape per period kind; potentials are
    # full-year flows of full-year lists only.
    assert set(study.fit.shapes) == {"full year", "part year"}
    assert set(study.potential["year"]) <= set(f.loc[f["period"] == "FY", "year"])
    assert any(t.startswith("year_") and "_Q" in t for t in study.fit.table["term"])
    # The rule on a HAND-MADE panel: FY wins; else the most listed values in disjoint lists.
    lists = {
        2030: {"FY": "oc", "Q1": "oo", "H1": "oc"},
        2031: {"Q1": "oc", "Q2": "oo", "H1": "oo", "Q3": "ou", "9M": "oc"},
    }
    word = {"o": "observed", "c": "censored", "u": "unknown"}
    pp = pd.DataFrame(
        [
            (year, period, iso, word[code])
            for year, by in lists.items()
            for period, codes in by.items()
            for iso, code in zip("AB", codes, strict=True)
        ],
        columns=["year", "period", "partner_iso3", "status"],
    )
    chosen, table = choose_lists(pp)
    assert chosen[2030] == ("FY",)
    # 2031: Q3 is unusable; Q1 + Q2 (3 listed) and H1 (2 listed) overlap; Q1 + Q2 win.
    assert chosen[2031] == ("Q1", "Q2")
    assert not table.loc[(table["year"] == 2031) & (table["period"] == "Q3"), "usable"].any()


def test_sector_supply_is_investor_side_evidence_and_a_missing_partner_is_a_gap(study):
    si = study.sector_inputs.set_index(["sector", "partner_iso3"])
    pot = study.potential
    year = int(pot["year"].max())
    pot = pot[pot["year"] == year].set_index(["sector", "partner_iso3"])
    for sector in gs.SECTORS:
        s = si.loc[sector]
        ev = s[s["supply_status"] == "evidence"]
        gap = s[s["supply_status"] == "gap"]
        assert len(ev) and len(gap)
        assert (ev["firms"] > 0).all() and ev["supply_source"].str.contains("league").all()
        assert gap["supply_index"].isna().all() and gap["firms"].isna().all()
        p = pot.loc[sector]
        # No evidence: no sector potential (not zero, not a reward), flagged, with at most.
        g = p.loc[gap.index.intersection(p.index)]
        assert g["predicted"].isna().all()
        assert g["guard"].str.contains("no investor-side evidence").all()
        assert (g["predicted_at_most"] > 0).all()
        # Never above the partner's total potential.
        tot = pot.loc["total", "predicted"].reindex(p.index)
        assert (p["predicted"].dropna() <= tot[p["predicted"].notna()] + 1e-9).all()
    # Last round's complaints: Pakistan 2nd in textile, Ireland 1st in pharma.
    assert si.loc[("textile", "PAK"), "supply_status"] == "gap"
    assert si.loc[("pharma", "IRL"), "supply_status"] == "gap"


def test_agreements_looked_up_by_bisection_match_one_lookup_per_date():
    from analysis.studies.gravity.frame import _in_force, _in_force_by_date

    dates = [f"{y}-{md}" for y in range(2014, 2026) for md in ("02-15", "07-01", "11-15")]
    for iso in ("CHE", "HKG", "DEU", "CHN"):
        fast = _in_force_by_date(iso, dates)
        for d in [*dates[::5], "2021-11-15", "2019-07-01"]:
            year, md = int(d[:4]), d[5:]
            period = {"02-15": "Q1", "07-01": "FY", "11-15": "Q4"}[md]
            assert fast[d] == _in_force(iso, year, period), (iso, d)
