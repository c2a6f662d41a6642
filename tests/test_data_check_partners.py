"""``mitra data check``: the partner section, tried as a new user would (issue 9, Done when)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.data.check import PARTNER_YEARS
from analysis.data.panel import CANDIDATES, load_panel
from analysis.studies.audit import run_audit

NATIONAL_CURRENCY = r"\b(?:JPY|HKD|SGD|MYR|AED|CHF|GBP|EUR|SAR|CNY|KRW|INR|TWD|IDR|Rp)\b"
IN_FORCE_2024 = "SGP MYS THA VNM PHL CHN KOR JPN AUS NZL IND CHE ARE CHL PAK".split()
RCEP = "Regional Comprehensive Economic Partnership"


@pytest.fixture(scope="module")
def written(ledger, tmp_path_factory):
    out = tmp_path_factory.mktemp("check") / "data-check"
    run_audit(ledger, load_panel()).write(out)
    return out


def test_partner_files_have_the_issue_columns(written):
    ind = pd.read_csv(written / "partner_indicators.csv")
    assert list(ind.columns) == [
        "iso3",
        "indicator",
        "year",
        "value",
        "unit",
        "source",
        "vintage",
        "flags",
    ]
    assert set(ind["iso3"]) == set(CANDIDATES)
    agree = pd.read_csv(written / "agreements_in_force.csv")
    assert list(agree.columns) == [
        "iso3",
        "year",
        "kind",
        "agreement",
        "in_force",
        "status",
        "in_force_from",
        "flags",
    ]
    # in_force is yes / no / unknown: an unknown date is never written as "not in force"
    assert set(agree["in_force"]) == {"yes", "no", "unknown"}
    assert set(agree["kind"].dropna()) == {"trade_agreement", "investment_treaty", "tax_treaty"}
    # one row per candidate x year x instrument (or one 'none' row per year)
    assert not agree.duplicated(["iso3", "year", "kind", "agreement"]).any()
    per = agree.groupby("iso3")["year"].agg(["min", "max", "nunique"])
    assert (per["min"] == min(PARTNER_YEARS)).all() and (per["max"] == max(PARTNER_YEARS)).all()
    assert set(per.index) == set(CANDIDATES)
    manifest = json.loads((written / "manifest.json").read_text())
    assert manifest["partner_panel_fingerprint"] == load_panel().fingerprint
    for name in (
        "partner_coverage",
        "partner_conflicts",
        "partner_conversions",
        "partner_vintages",
    ):
        assert (written / f"{name}.csv").is_file()


def test_no_national_currency_unit_and_japan_in_us_dollars(written):
    ind = pd.read_csv(written / "partner_indicators.csv")
    assert not ind["unit"].str.contains(NATIONAL_CURRENCY).any()
    jpn = ind[(ind["iso3"] == "JPN") & (ind["indicator"] == "ofdi_stock_usd")]
    assert len(jpn) == 1
    assert jpn["unit"].iloc[0] == "US$ billion (current)"
    # MoF Japan: direct investment assets end-2023 = JPY 307,692 bn, about US$2.2 trillion
    assert 1_500 < jpn["value"].iloc[0] < 3_000


def test_china_2023_gdp_is_one_number(written):
    ind = pd.read_csv(written / "partner_indicators.csv")
    chn = ind[(ind["iso3"] == "CHN") & (ind["indicator"] == "gdp_usd") & (ind["year"] == 2023)]
    assert len(chn) == 1
    assert chn["value"].iloc[0] == pytest.approx(load_panel().value("gdp_usd", "CHN", 2023))


def test_coverage_of_the_candidates(written):
    cov = pd.read_csv(written / "partner_coverage.csv", index_col="indicator")
    for code in ("gdp_usd", "gdp_growth_pct", "exports_goods_usd"):
        assert cov.loc[code, "2023"] >= 39, code
    assert max(cov.loc["fdi_outflow_usd", str(y)] for y in (2022, 2023, 2024)) >= 39


def test_agreements_as_the_issue_lists(written):
    agree = pd.read_csv(written / "agreements_in_force.csv", keep_default_na=False)
    trade = agree[agree["kind"] == "trade_agreement"].assign(yes=lambda a: a["in_force"] == "yes")
    any_in_force = trade.groupby(["iso3", "year"])["yes"].any()
    for iso3 in IN_FORCE_2024:
        assert any_in_force[(iso3, 2024)], iso3
    assert not any_in_force[("DEU", 2024)]
    rcep = trade[(trade["agreement"] == RCEP)].groupby("year")["yes"].any()
    assert not rcep[2022] and rcep[2023]
    # issue 18: Hong Kong from 2020-07-04 (AHKFTA), Singapore's BIT from 2021-03-09
    hkg = trade[(trade["iso3"] == "HKG") & trade["yes"]]
    assert hkg["year"].min() == 2021 and set(hkg["in_force_from"]) == {"2020-07-04"}
    sgp = agree[(agree["iso3"] == "SGP") & (agree["kind"] == "investment_treaty")]
    new = sgp[sgp["agreement"].str.startswith("Indonesia-Singapore BIT")].set_index("year")
    assert new.loc[2020, "in_force"] == "no" and new.loc[2021, "in_force"] == "yes"


def test_summary_shows_the_partner_section(ledger):
    audit = run_audit(ledger, load_panel())
    text = audit.summary().as_text()
    assert "Partner panel: candidates with a value" in text
    assert "Agreements and treaties with Indonesia in force in 2025" in text
    findings = audit.key_findings()
    assert 3 <= len(findings) <= 6
    assert any("of 40 candidates" in f for f in findings)
    assert audit.fingerprint != run_audit(ledger).fingerprint  # the panel is part of it


def test_data_layer_imports_nothing_from_the_output_layer():
    import ast
    from pathlib import Path

    import analysis.data

    output = (
        "analysis.reports",
        "analysis.present.tables",
        "analysis.studies",
        "analysis.base.io",
    )
    for path in Path(analysis.data.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                assert not name.startswith(output), f"{path.name} imports {name}"
