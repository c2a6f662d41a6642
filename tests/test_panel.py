"""The partner panel and the agreements table: one definition, one unit, one value per cell."""

from __future__ import annotations

import datetime as dt
import gzip
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.base import paths
from analysis.data.agreements import agreements_table, in_force, parse_entry_into_force
from analysis.data.panel import (
    CANDIDATES,
    FRAME_COLUMNS,
    RULES,
    _resolve,
    build_panel,
    load_catalogue,
    load_panel,
)
from analysis.models.partners import partner_covariates

NATIONAL_CURRENCY = r"\b(?:JPY|HKD|SGD|MYR|AED|CHF|GBP|EUR|SAR|CNY|KRW|INR|TWD|IDR)\b"


@pytest.fixture(scope="module")
def panel():
    return load_panel()


def _wdi(code: str, iso3: str, year: int) -> float:
    with gzip.open(paths.DATA / "raw/partners/wdi_macro.csv.gz", "rt") as handle:
        wdi = pd.read_csv(handle)
    hit = wdi[(wdi["indicator"] == code) & (wdi["iso3"] == iso3) & (wdi["year"] == year)]
    return float(hit["value"].iloc[0])


# --- contract ----------------------------------------------------------------------------


def test_frame_has_the_contract_columns_and_one_row_per_cell(panel):
    assert tuple(panel.to_frame().columns) == FRAME_COLUMNS
    assert not panel.frame.duplicated(["iso3", "year", "indicator"]).any()
    assert len(CANDIDATES) == 40 and len(set(CANDIDATES)) == 40
    assert "IDN" not in CANDIDATES


def test_catalogue_gives_one_definition_per_code_and_covers_the_frame(panel):
    cat = load_catalogue()
    assert cat["code"].is_unique
    assert set(panel.frame["indicator"]) <= set(cat["code"])
    # every cell is in its catalogue unit
    units = dict(zip(cat["code"], cat["unit"], strict=True))
    assert (panel.frame["unit"] == panel.frame["indicator"].map(units)).all()
    for col in ("label", "definition", "unit", "source", "licence"):
        assert (cat[col].str.len() > 0).all()
    assert set(cat["direction"]) <= {-1, 0, 1}


def test_no_national_currency_unit_anywhere(panel):
    assert not panel.frame["unit"].str.contains(NATIONAL_CURRENCY).any()
    money = panel.frame["indicator"].str.endswith("_usd") & (
        panel.frame["indicator"] != "gdp_pc_usd"
    )
    assert panel.frame.loc[money, "unit"].str.contains("billion").all()


# --- figures -----------------------------------------------------------------------------


def test_china_2023_gdp_is_one_number_and_the_wdi_figure(panel):
    value = panel.value("gdp_usd", "CHN", 2023)
    assert value == pytest.approx(_wdi("NY.GDP.MKTP.CD", "CHN", 2023) / 1e9, rel=1e-12)
    cell = panel.frame[
        (panel.frame["iso3"] == "CHN")
        & (panel.frame["year"] == 2023)
        & (panel.frame["indicator"] == "gdp_usd")
    ]
    assert len(cell) == 1
    # the compiled 17,794.8 and 18,532.6 stay visible as losing values of the conflict
    conf = panel.conflicts[
        (panel.conflicts["iso3"] == "CHN")
        & (panel.conflicts["year"] == 2023)
        & (panel.conflicts["indicator"] == "gdp_usd")
    ]
    assert conf["kept"].sum() == 1
    lost = set(conf.loc[~conf["kept"], "value"].round(1))
    assert {17794.8, 18532.6} <= lost
    assert set(conf["rule"]) == {"official_source"}


def test_japan_outward_fdi_stock_is_converted_at_the_years_yen_rate(panel):
    value = panel.value("ofdi_stock_usd", "JPN", 2023)
    conv = panel.conversions[
        (panel.conversions["iso3"] == "JPN") & (panel.conversions["indicator"] == "ofdi_stock_usd")
    ].iloc[0]
    assert conv["currency"] == "JPY" and conv["value_published"] == 307692.0
    assert value == pytest.approx(307692.0 / conv["rate_per_usd"], rel=1e-12)
    # Japan's outward position is about US$2 trillion, not 307,692 US$ billion
    assert 1_000 < value < 4_000
    assert "converted" in panel.cell("ofdi_stock_usd", "JPN", 2023)["flags"]
    assert conv["rate_basis"].startswith("market_avg")


def test_every_conversion_is_published_times_scale_over_rate(panel):
    conv = panel.conversions[panel.conversions["kind"] == "currency"]
    assert len(conv) >= 20
    scale = (
        conv["unit_published"]
        .str.extract(r"(trillion|billion|million)")[0]
        .map({"trillion": 1e3, "billion": 1.0, "million": 1e-3})
    )
    np.testing.assert_allclose(
        conv["value"], conv["value_published"] * scale / conv["rate_per_usd"], rtol=1e-12
    )


def test_coverage_of_the_candidates_meets_the_issue(panel):
    cov = panel.coverage(
        ["gdp_usd", "gdp_growth_pct", "exports_goods_usd", "fdi_outflow_usd"],
        years=range(2022, 2025),
    )
    for code in ("gdp_usd", "gdp_growth_pct", "exports_goods_usd"):
        assert cov.loc[code, 2023] >= 39, code
    assert cov.loc["fdi_outflow_usd"].max() >= 39


def test_taiwan_gdp_comes_from_the_imf(panel):
    cell = panel.cell("gdp_usd", "TWN", 2023)
    assert "IMF" in cell["source"]
    assert 500 < cell["value"] < 1_000


def test_fdi_in_usd_is_pct_of_gdp_times_gdp_and_flagged_derived(panel):
    pct = panel.value("fdi_outflow_pct_gdp", "JPN", 2022)
    gdp = panel.value("gdp_usd", "JPN", 2022)
    assert panel.value("fdi_outflow_usd", "JPN", 2022) == pytest.approx(pct / 100 * gdp)
    assert "derived" in panel.cell("fdi_outflow_usd", "JPN", 2022)["flags"]


def test_wits_and_atlas_sector_codes_are_never_added(panel):
    # IND 2019: WITS HS 50-63 = 35.5 bn; Atlas SITC 65 + 84 = 32.6 bn (SECTOR_TRADE_NOTES)
    tc = panel.value("exports_textiles_clothing_usd", "IND", 2019)
    sitc = panel.value("exports_textiles_usd", "IND", 2019) + panel.value(
        "exports_clothing_usd", "IND", 2019
    )
    assert tc == pytest.approx(35.5, abs=0.06)
    assert sitc == pytest.approx(32.6, abs=0.06)


def test_suspect_and_earlier_vintage_rows_lose(panel):
    # MYS 2022 outward flow: RM62.8bn (revised) vs RM58.6bn (EARLIER VINTAGE)
    conf = panel.conflicts[
        (panel.conflicts["iso3"] == "MYS")
        & (panel.conflicts["year"] == 2022)
        & (panel.conflicts["indicator"] == "ofdi_flow_usd")
    ]
    kept = conf[conf["kept"]].iloc[0]
    rate = panel.rates[("MYR", 2022)][0]
    assert kept["value"] == pytest.approx(62.8 / rate)


def test_excluded_rows_are_listed_with_a_reason(panel):
    assert len(panel.excluded) == 5
    assert (panel.excluded["reason"].str.len() > 10).all()
    assert math.isnan(panel.value("ofdi_flow_usd", "SAU", 2022))


def test_wide_latest_and_deflator(panel):
    wide = panel.wide("gdp_usd", years=[2022, 2023], iso3=["CHN", "USA"])
    assert wide.shape == (2, 2)
    assert wide.loc["CHN", 2023] == panel.value("gdp_usd", "CHN", 2023)
    latest = panel.latest("gdp_usd", ["CHN"], max_year=2020)
    assert list(latest.columns) == ["iso3", "year", "value", "source", "flags"]
    assert int(latest["year"].iloc[0]) == 2020
    defl = panel.gdp_deflator("IDN", 2015)
    assert defl[2015] == pytest.approx(100.0)
    # Indonesia's GDP deflator rose by roughly a third 2015-2023 (BPS: about 31 %)
    assert 120 < defl[2023] < 145


def test_fetched_values_win_where_newer_and_are_flagged(panel):
    wdi = panel.value("gdp_usd", "CHN", 2023)
    row = {
        "iso3": "CHN",
        "year": 2023,
        "indicator": "gdp_usd",
        "value": wdi * 1.03,
        "unit": "US$ billion (current)",
        "source": "World Bank WDI API NY.GDP.MKTP.CD",
        "vintage": "2026-11-28",
        "flags": "",
        "retrieved": "2026-11-28",
        "query": "wbgapi NY.GDP.MKTP.CD CHN",
        "sha256": "0" * 64,
    }
    newer = build_panel(fetched=pd.DataFrame([row]))
    assert newer.value("gdp_usd", "CHN", 2023) == pytest.approx(wdi * 1.03)
    assert "fetched" in newer.cell("gdp_usd", "CHN", 2023)["flags"]
    assert newer.fingerprint != panel.fingerprint
    older = build_panel(fetched=pd.DataFrame([{**row, "vintage": "2019-01-01"}]))
    assert older.value("gdp_usd", "CHN", 2023) == pytest.approx(wdi)
    conf = older.conflicts[
        (older.conflicts["iso3"] == "CHN")
        & (older.conflicts["year"] == 2023)
        & (older.conflicts["indicator"] == "gdp_usd")
    ]
    assert conf.loc[conf["kept"], "rule"].iloc[0] == "latest_vintage"


def test_panel_is_reproducible():
    a, b = build_panel(), build_panel()
    assert a.fingerprint == b.fingerprint
    pd.testing.assert_frame_equal(a.frame, b.frame)


# --- conflict rule (properties) ------------------------------------------------------------

_cand = st.fixed_dictionaries(
    {
        "value": st.floats(1, 1e4, allow_nan=False),
        "suspect": st.booleans(),
        "tier": st.integers(0, 1),
        "rank": st.integers(1, 3),
        "vintage": st.sampled_from(["", "2013-12-21", "2026-02-24", "2026-05"]),
        "direct": st.booleans(),
    }
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_cand, min_size=1, max_size=6))
def test_resolve_keeps_one_candidate_value_per_cell(cands):
    rows = [
        {
            **c,
            "iso3": "AAA",
            "year": 2020,
            "indicator": "gdp_usd",
            "unit": "US$ billion (current)",
            "source": f"s{i}",
            "flags": "",
            "half_unit": 0.0,
            "line": f"f:{i}",
            "order": i,
        }
        for i, c in enumerate(cands)
    ]
    cells, conflicts = _resolve(pd.DataFrame(rows), rtol=0.005)
    assert len(cells) == 1
    kept = cells["value"].iloc[0]
    assert any(kept == c["value"] for c in cands)
    if len(conflicts):
        assert conflicts["kept"].sum() == 1
        assert set(conflicts["rule"]) <= set(RULES)
        # the kept value is not worse than any other on the first criterion
        if not all(c["suspect"] for c in cands):
            winner_sources = conflicts.loc[conflicts["kept"], "sources"].iloc[0].split(" | ")
            winners = [cands[int(s[1:])] for s in winner_sources]
            assert not all(w["suspect"] for w in winners)


# --- agreements --------------------------------------------------------------------------

IN_FORCE_2024 = "SGP MYS THA VNM PHL CHN KOR JPN AUS NZL IND CHE ARE CHL PAK".split()


def test_agreements_in_force_in_2024_as_the_issue_lists():
    table = agreements_table([*IN_FORCE_2024, "DEU", "CAN", "USA"], range(2010, 2026))
    by = table.groupby(["iso3", "year"])["in_force"].any()
    for iso3 in IN_FORCE_2024:
        assert by[(iso3, 2024)], iso3
    for iso3 in ("DEU", "CAN", "USA"):
        assert not by[(iso3, 2024)], iso3
    assert set(table.columns) >= {"iso3", "year", "agreement", "in_force", "flags"}


def test_rcep_counts_for_indonesia_from_2023_01_02():
    rcep = "Regional Comprehensive Economic Partnership"
    assert rcep not in in_force("CHN", "2023-01-01")
    assert rcep in in_force("CHN", "2023-01-02")
    table = agreements_table(["JPN"], [2022, 2023])
    rows = table[table["agreement"] == rcep].set_index("year")["in_force"]
    assert not rows[2022] and rows[2023]


def test_eu_and_canada_cepa_not_in_force_and_efta_covers_switzerland():
    assert in_force("DEU", "2025-12-31") == []
    assert in_force("CAN", "2025-12-31") == []
    assert "Indonesia-EFTA CEPA (IE-CEPA)" in in_force("CHE", "2022-01-01")


def test_corrections_replace_uncertain_month_only_dates():
    # agreements_eif_additions.csv had ACFTA "2005-07 (UNCERTAIN)" (counted from 2005-08-01,
    # flagged); agreements_eif_corrections.csv (2026-12-07) gives the day: 2005-07-20.
    table = agreements_table(["CHN"], [2006])
    acfta = table[table["agreement"].str.contains("ACFTA")].iloc[0]
    assert "eif_uncertain" not in acfta["flags"] and "eif_month_only" not in acfta["flags"]
    assert acfta["in_force_from"] == dt.date(2005, 7, 20)
    assert (acfta["kind"], acfta["status"]) == ("trade_agreement", "in_force")


@settings(max_examples=100, deadline=None)
@given(st.integers(1990, 2030), st.integers(1, 12))
def test_month_only_dates_count_from_the_first_of_the_next_month(year, month):
    date, flags = parse_entry_into_force(f"{year}-{month:02d} (UNCERTAIN)")
    assert date.day == 1 and date > dt.date(year, month, 28)
    assert (date - dt.date(year, month, 1)).days <= 31
    assert {"eif_month_only", "eif_uncertain"} <= set(flags)


def test_gaps_are_never_read_as_in_force():
    for text in ("NOT FOUND for Indonesia", "NOT IN FORCE", "NOT CONFIRMED", "unknown"):
        assert parse_entry_into_force(text)[0] is None


# --- covariates --------------------------------------------------------------------------


def test_partner_covariates_read_gdp_from_the_panel_for_every_year(panel):
    cov = partner_covariates(["CHN", "JPN", "TWN"], range(2015, 2024))
    assert cov["gdp_usd_bn"].notna().all()
    chn = cov[(cov["partner_iso3"] == "CHN") & (cov["year"] == 2023)].iloc[0]
    assert chn["gdp_usd_bn"] == panel.value("gdp_usd", "CHN", 2023)
    # China has agreements in force in every year since ACFTA (2005)
    assert (cov.loc[cov["partner_iso3"] == "CHN", "agreement"] == 1).all()
