"""The ledger: published figures reproduced, duplicates, conflicts, identities, censoring."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.base.vocab import KEY_COLUMNS
from analysis.data import LedgerSettings, build_ledger
from analysis.data.ledger import _collapse, _identity_evidence

# Published full-year national realisation (Rp trillion), BKPM releases as compiled in
# data/raw/bkpm/investment_by_year.csv. The ledger works in Rp billion; the published prints
# have one decimal, so the ledger must reproduce them to within half of 0.1 trillion.
PUBLISHED_FY_TOTAL_RP_TN = {
    2015: 545.4,
    2016: 612.8,
    2017: 692.8,
    2018: 721.3,
    2019: 809.6,
    2020: 826.3,
    2021: 901.02,
    2022: 1207.2,
    2023: 1418.9,
    2024: 1714.2,
}
ATOL_RP_BN = 50.0  # half a unit of the 0.1-trillion print


def test_full_year_totals_2015_2024_reproduce_the_releases(ledger):
    fy = ledger.annual("total").set_index("year")
    for year, published in PUBLISHED_FY_TOTAL_RP_TN.items():
        assert fy.loc[year, "unit"] == "Rp billion"
        assert fy.loc[year, "value"] == pytest.approx(published * 1000, abs=ATOL_RP_BN)
        assert fy.loc[year, "origin"] == "published"


def test_every_observation_names_its_sources(ledger):
    obs = ledger.to_frame()
    assert (obs["sources"].str.len() > 0).all()
    published = obs[obs["origin"] == "published"]
    assert (published["n_sources"] >= 1).all()
    assert (published["lines"].str.contains(r"data/.+:\d+")).all()


def test_cells_are_unique(ledger):
    assert not ledger.to_frame().duplicated(list(KEY_COLUMNS)).any()


def test_duplicates_collapse_and_keep_every_source(ledger):
    # 2017 FY total: four outlets print 692.8.
    row = ledger.select(year=2017, period="FY", measure="total", sector="all").iloc[0]
    assert row["n_sources"] == 4
    assert len(row["sources"].split(" | ")) == 4
    assert "multi_source" in row["flags"]
    chosen = ledger.candidates[ledger.candidates["chosen"]]
    assert len(chosen) + (~ledger.candidates["chosen"]).sum() == len(ledger.candidates)


def test_rounded_reprint_is_a_duplicate_not_a_conflict(ledger):
    # 2016 FY total: 612.8 and a "rounded prior-year comparison" 613 agree.
    row = ledger.select(year=2016, period="FY", measure="total", sector="all").iloc[0]
    assert row["value"] == pytest.approx(612_800)
    assert row["n_sources"] == 2
    assert "conflict_resolved" not in row["flags"]


def test_preliminary_figure_loses_and_stays_visible(ledger):
    c = ledger.conflicts
    hit = c[
        (c["year"] == 2015)
        & (c["period"] == "FY")
        & (c["measure"] == "total")
        & (c["sector"] == "all")
    ]
    assert len(hit) == 1
    assert hit.iloc[0]["chosen_value"] == pytest.approx(545_400)
    assert hit.iloc[0]["rule"] == "not_suspect"
    assert "540" in hit.iloc[0]["other_values"]


def test_revision_in_later_release_wins(ledger):
    # 2016 Q4 PMDN: 59.1 (Jan 2017 release) vs 58.1 (quoted as prior year in Jan 2018).
    row = ledger.select(year=2016, period="Q4", measure="pmdn", sector="all").iloc[0]
    assert row["value"] == pytest.approx(58_100)
    # The revision also fits FY = 9M + Q4, so the identities decide before the date does.
    assert row["conflict_rule"] in ("identities", "latest_publication")


def _candidate(**kw):
    base = dict(
        dataset="national",
        file="data/x.csv",
        line=2,
        concept="realisation",
        year=2020,
        period="FY",
        measure="total",
        sector="all",
        region="IDN",
        partner_iso3="WLD",
        value_published=100.0,
        unit_published="Rp trillion",
        decimals=1,
        projects=pd.NA,
        source="s1",
        published="2021-01-01",
        note="",
        flags=(),
        unit="Rp billion",
        value=100_000.0,
        half_unit=50.0,
        value_idr_bn=100_000.0,
        half_unit_idr_bn=50.0,
        currency_published="IDR",
        fx_converted=False,
        fx_basis=pd.NA,
        fx_rate=np.nan,
    )
    base.update(kw)
    return base


@pytest.mark.parametrize(
    ("a", "b", "winner", "rule"),
    [
        (dict(), dict(published="2022-01-01"), "b", "latest_publication"),
        (dict(flags=("suspect",), published="2023-01-01"), dict(), "b", "not_suspect"),
        (dict(source="s1"), dict(source="s2", line=3), "a", "file_order"),
        (dict(fx_converted=True), dict(published="2020-06-01"), "b", "canonical_currency"),
        (dict(dataset="realisation", published=None), dict(), "a", "official_table"),
    ],
)
def test_conflict_rule(a, b, winner, rule):
    values = {"a": 100.0, "b": 120.0}
    rows = [
        _candidate(value=values["a"] * 1000, value_idr_bn=values["a"] * 1000, **a),
        _candidate(
            value=values["b"] * 1000,
            value_idr_bn=values["b"] * 1000,
            **{"line": 3, "source": "s2", **b},
        ),
    ]
    obs, conflicts, _ = _collapse(pd.DataFrame(rows), rtol=0.08)
    assert len(obs) == 1 and len(conflicts) == 1
    assert obs.iloc[0]["value"] == values[winner] * 1000
    assert conflicts.iloc[0]["rule"] == rule
    if rule == "file_order":
        assert "conflict_tie" in obs.iloc[0]["flags"]


def test_identity_violations_are_reported_not_fixed(ledger):
    # 2024 H1 chemical-pharma PMA: US$848 million printed, Q1 + Q2 = 1.9 billion; the one
    # print has no competitor, so it stays as printed and the violation is listed.
    v = ledger.violations
    hit = v[(v["identity"] == "periods") & (v["year"] == 2024) & (v["sector"] == "chem_pharma")]
    assert len(hit) == 1
    assert hit.iloc[0]["difference"] == pytest.approx(848 - 1_900)
    row = ledger.select(year=2024, period="H1", measure="pma", sector="chem_pharma").iloc[0]
    assert row["value"] == pytest.approx(848)


NATIONAL = dict(concept="realisation", sector="all", region="IDN", partner_iso3="WLD")

# The four cells an audit against the sources found wrong under the old rule (issue 9):
# (year, period, measure, right value in Rp trillion, deciding rule, wrong value kept before).
AUDITED_CELLS = [
    (2019, "Q2", "pma", 104.9, "not_suspect", 107.9),  # 95.6 + 104.9 = 200.5 published H1
    (2021, "Q3", "total", 216.7, "not_suspect", 214.7),  # 214.7 is Q4 2020 misquoted
    (2022, "Q1", "total", 282.4, "not_suspect", 284.4),  # 135.2 + 147.2 = 282.4
    (2024, "9M", "total", 1261.43, "identities", 1262.4),  # H1 829.9 + Q3 431.48
]


@pytest.mark.parametrize(("year", "period", "measure", "right", "rule", "wrong"), AUDITED_CELLS)
def test_audited_cells_resolve_to_the_right_value(
    ledger, year, period, measure, right, rule, wrong
):
    row = ledger.select(**NATIONAL, year=year, period=period, measure=measure).iloc[0]
    assert row["value_idr_bn"] == pytest.approx(right * 1000)
    assert row["conflict_rule"] == rule
    c = ledger.conflicts
    hit = c[
        (c["year"] == year)
        & (c["period"] == period)
        & (c["measure"] == measure)
        & (c["sector"] == "all")
    ]
    assert len(hit) == 1 and f"{wrong:g}" in hit.iloc[0]["other_values"]


def test_no_identity_violation_left_among_the_national_totals(ledger):
    v = ledger.violations
    national = v[(v["sector"] == "all") & (v["region"] == "IDN") & (v["partner_iso3"] == "WLD")]
    assert national.empty, national[["year", "period", "identity", "equation"]]


def test_rounded_headline_loses_to_the_precise_sum_of_its_parts(ledger):
    # 2022 Q3: "Rp307 triliun" headline; PMA 168.9 + PMDN 138.9 = 307.8
    row = ledger.select(**NATIONAL, year=2022, period="Q3", measure="total").iloc[0]
    assert row["value_idr_bn"] == pytest.approx(307_800)
    assert "precise_sum" in row["flags"] and row["conflict_rule"] == "precise_sum"
    c = ledger.conflicts
    hit = c[(c["year"] == 2022) & (c["period"] == "Q3") & (c["measure"] == "total")]
    assert (
        hit.iloc[0]["rule"] == "precise_sum" and "307 Rp trillion" in hit.iloc[0]["other_values"]
    )


def test_identity_evidence_decides_between_two_press_figures():
    # Two figures for a total, neither suspect, same date: the one equal to PMA + PMDN wins.
    parts = [
        _candidate(measure="pma", value=60_000.0, value_idr_bn=60_000.0, line=10, source="p"),
        _candidate(measure="pmdn", value=40_000.0, value_idr_bn=40_000.0, line=11, source="d"),
    ]
    totals = [
        _candidate(value=104_000.0, value_idr_bn=104_000.0, line=12, source="t1"),
        _candidate(value=100_000.0, value_idr_bn=100_000.0, line=13, source="t2"),
    ]
    cand = pd.DataFrame(parts + totals)
    alternatives: list = []
    first, _, _ = _collapse(cand, rtol=0.08, alternatives=alternatives)
    assert first.set_index("measure").loc["total", "value"] == 104_000  # file order alone
    evidence = _identity_evidence(first, alternatives, rtol=0.08)
    obs, conflicts, _ = _collapse(cand, rtol=0.08, evidence=evidence)
    assert obs.set_index("measure").loc["total", "value"] == 100_000
    assert conflicts.iloc[0]["rule"] == "identities"


@pytest.mark.parametrize(
    "note",
    [
        "as printed; inconsistent with total",
        "CONFLICT: another outlet gives 282.4",
        "likely typo for 1.284",
    ],
)
def test_suspect_words_in_notes_make_a_figure_lose(note):
    from analysis.data.raw import note_flags

    flags = note_flags(note)
    rows = [
        _candidate(value=100_000.0, value_idr_bn=100_000.0, flags=flags, published="2023-01-01"),
        _candidate(value=120_000.0, value_idr_bn=120_000.0, line=3, source="s2"),
    ]
    obs, conflicts, _ = _collapse(pd.DataFrame(rows), rtol=0.08)
    assert obs.iloc[0]["value"] == 120_000.0
    assert conflicts.iloc[0]["rule"] == "not_suspect"


def test_2022_pma_has_a_us_dollar_value(ledger):
    row = ledger.select(**NATIONAL, year=2022, period="FY", measure="pma").iloc[0]
    assert row["fx_rate"] == 14_350  # enacted APBN 2022 assumption
    assert row["value"] == pytest.approx(654_400 / 14_350 * 1000)  # US$ million


def test_identity_checks_pass_where_the_releases_agree(ledger):
    ok = ledger.identities[
        (ledger.identities["identity"] == "pma+pmdn=total")
        & (ledger.identities["sector"] == "all")
        & (ledger.identities["year"] == 2023)
        & (ledger.identities["period"] == "FY")
    ]
    assert ok.iloc[0]["status"] == "ok"


def test_quarters_are_derived_from_cumulative_figures_and_flagged(ledger):
    # 2016 Q2 total = H1 298.1 - Q1 146.5 = 151.6 (never printed).
    row = ledger.select(year=2016, period="Q2", measure="total", sector="all").iloc[0]
    assert row["origin"] == "derived"
    assert row["value"] == pytest.approx(151_600)
    assert row["derived_from"] == "H1 - Q1"
    assert "derived" in row["flags"].split(";")
    assert ledger.to_frame(include_derived=False)["origin"].eq("published").all()


def test_negative_derivation_is_reported_not_added(ledger):
    bad = ledger.identities[ledger.identities["identity"] == "derived_negative"]
    assert len(bad) >= 1
    for r in bad.itertuples():
        assert ledger.select(
            year=r.year, period=r.period, sector=r.sector, measure=r.measure
        ).empty


def test_every_derived_value_equals_its_formula(ledger):
    obs = ledger.to_frame().set_index(list(KEY_COLUMNS))
    derived = ledger.derived
    assert len(derived) > 20
    for row in derived.itertuples(index=False):
        left, op, right = row.derived_from.split()
        key = {c: getattr(row, c) for c in KEY_COLUMNS}
        a = obs.loc[tuple({**key, "period": left}[c] for c in KEY_COLUMNS)]
        b = obs.loc[tuple({**key, "period": right}[c] for c in KEY_COLUMNS)]
        expected = a["value"] - b["value"] if op == "-" else a["value"] + b["value"]
        if not math.isnan(expected):
            assert row.value == pytest.approx(expected), row.derived_from
        assert row.value_idr_bn >= 0 or math.isnan(row.value_idr_bn)


def test_top_n_censoring_gives_bounds_not_zeros(ledger):
    panel = ledger.partner_panel(periods=["FY"])
    assert not (panel["value"] == 0).any()
    censored = panel[panel["status"] == "censored"]
    assert censored["value"].isna().all()
    assert (censored["upper_bound"] > 0).all()
    chn_2015 = panel[(panel["partner_iso3"] == "CHN") & (panel["year"] == 2015)].iloc[0]
    assert chn_2015["status"] == "censored"
    assert chn_2015["upper_bound"] == pytest.approx(1_200)  # Korea, 5th at US$1.2bn


def test_an_unnamed_listed_country_loosens_the_bound(ledger):
    lists = ledger.censoring
    row = lists[(lists["year"] == 2018) & (lists["period"] == "9M")].iloc[0]
    assert row["smallest_listed"] == pytest.approx(344)
    assert row["upper_bound"] == pytest.approx(1_180)  # the 6th, name dropped in the text


def test_incomplete_lists_do_not_censor(ledger):
    lists = ledger.censoring
    row = lists[
        (lists["year"] == 2017)
        & (lists["period"] == "FY")
        & (lists["source"].str.contains("wartaekonomi"))
    ].iloc[0]
    assert not row["complete"]
    assert "SGP" in row["omits"]


def test_chem_pharma_is_one_sector_across_the_2018_renaming(ledger):
    obs = ledger.select(sector="chem_pharma", region="IDN")
    years = set(obs["year"])
    assert {2015, 2016, 2018, 2019, 2022, 2023, 2024} <= years


def test_fx_basis_is_recorded_and_changes_conversions():
    apbn = build_ledger(settings=LedgerSettings(fx_basis="apbn"))
    market = build_ledger(settings=LedgerSettings(fx_basis="market", fx_fallback=None))
    assert apbn.fingerprint != market.fingerprint
    a = apbn.annual("pma").set_index("year")
    m = market.annual("pma").set_index("year")
    # 2015: Rp365.9T at the APBN 12,500 vs the market average 13,389.41.
    assert a.loc[2015, "value"] == pytest.approx(365_900e9 / 12_500 / 1e6)
    assert m.loc[2015, "value"] == pytest.approx(365_900e9 / 13_389.41 / 1e6)
    assert a.loc[2015, "fx_basis"] == "apbn" and m.loc[2015, "fx_basis"] == "market"
    # 2022 converts on both bases now: the enacted APBN 14,350 and the World Bank average.
    assert a.loc[2022, "value"] == pytest.approx(654_400e9 / 14_350 / 1e6)
    assert m.loc[2022, "value"] == pytest.approx(654_400e9 / 14_849.8539362105 / 1e6)
    # A year neither basis covers stays missing and flagged, never filled.
    assert market.fx.rate(2009, "market", None) is None


def test_building_twice_gives_identical_tables(ledger):
    again = build_ledger()
    pd.testing.assert_frame_equal(ledger.to_frame(), again.to_frame())
    pd.testing.assert_frame_equal(ledger.conflicts, again.conflicts)
    pd.testing.assert_frame_equal(ledger.identities, again.identities)
    assert ledger.fingerprint == again.fingerprint


def test_targets_are_kept_apart_from_realisations(ledger):
    assert (ledger.targets["period"].str.startswith("FY_target")).all()
    assert not ledger.to_frame()["period"].str.startswith("FY_target").any()


def test_summary_renders_as_text_and_html(ledger):
    s = ledger.summary()
    assert "fx_basis: apbn" in str(s)
    assert "<table" in s._repr_html_()
