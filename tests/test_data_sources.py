"""The 2026-12-07 data: ledger through FY 2025, partner x sector, projects, treaties,
investor-side tables and targets. Expected values are read off the shipped raw files (the
line is given) so each can be checked by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.base import paths
from analysis.base.errors import DataValidationError
from analysis.data.agreements import in_force, instruments, replaced_rows
from analysis.data.investor import load_multinationals, load_ofdi_by_industry, load_wages
from analysis.data.projects import load_projects
from analysis.data.provenance import sha256_of, verify_file
from analysis.data.sector_pma import load_partner_sector
from analysis.data.targets import load_targets
from analysis.data.treaties import load_bits, load_dtas

NEW_FILES = (
    "raw/bkpm/investment_by_year_2025_2026.csv",
    "raw/bkpm/pma_by_country_2025_2026.csv",
    "raw/bkpm/investment_by_sector_2025_2026.csv",
    "raw/bkpm/other_facts_2025_2026.csv",
    "raw/bkpm/pma_by_country_sector.csv",
    "raw/bkpm/projects.csv",
    "raw/treaties/indonesia_bits.csv",
    "raw/treaties/indonesia_dtas.csv",
    "raw/partners/agreements_eif_corrections.csv",
    "raw/investor/sector_multinationals.csv",
    "raw/investor/ofdi_by_industry.csv",
    "raw/investor/ofdi_supplementary.csv",
    "raw/investor/country_counts.csv",
    "raw/investor/manufacturing_wages.csv",
    "raw/glossary/istilah_investasi.csv",
)


@pytest.mark.parametrize("rel", NEW_FILES)
def test_new_files_have_provenance_and_match_their_hash(rel):
    assert len(verify_file(rel)) == 64


def test_new_files_are_byte_identical_to_the_shared_reference(shared_reference):
    for rel in NEW_FILES:
        shared = shared_reference / rel.removeprefix("raw/")
        assert sha256_of(paths.DATA / rel) == sha256_of(shared), rel


# --- ledger through FY 2025 -----------------------------------------------------------


def _national(ledger, year, period, measure):
    obs = ledger.select(
        year=year,
        period=period,
        measure=measure,
        sector="all",
        region="IDN",
        partner_iso3="WLD",
        concept="realisation",
    )
    assert len(obs) == 1
    return obs.iloc[0]


def test_fy_2025_as_published(ledger):
    # investment_by_year_2025_2026.csv lines 2-9: total 1,931.2; PMA 900.9; PMDN 1,030.3
    assert _national(ledger, 2025, "FY", "total")["value"] == pytest.approx(1_931_200)
    assert _national(ledger, 2025, "FY", "pmdn")["value"] == pytest.approx(1_030_300)
    pma = _national(ledger, 2025, "FY", "pma")
    assert pma["value_idr_bn"] == pytest.approx(900_900)
    assert pma["origin"] == "published"


def test_latest_release_is_fy_2025(ledger):
    rel = ledger.latest_release()
    assert (rel.year, rel.period, rel.published) == (2025, "FY", "2026-01-15")
    assert rel.source.startswith("https://www.bloombergtechnoz.com/")
    assert rel.label == "FY 2025"


def test_partner_panel_gains_the_new_quarterly_lists(ledger):
    panel = ledger.partner_panel()
    # pma_by_country_2025_2026.csv: 2023 Q1-Q4 and 2021 Q1 lists the older file lacked.
    for year, period in [(2023, "Q1"), (2023, "Q4"), (2021, "Q1"), (2025, "Q3")]:
        rows = panel[(panel["year"] == year) & (panel["period"] == period)]
        assert (rows["status"] == "observed").sum() >= 3, (year, period)
    q3 = panel[(panel["year"] == 2025) & (panel["period"] == "Q3")].set_index("partner_iso3")
    assert q3.loc["SGP", "value"] == pytest.approx(3800)  # US$ 3.8 bn
    # a partner absent from a complete top-5 list is censored below its smallest entry
    assert q3.loc["KOR", "status"] == "censored"
    assert q3.loc["KOR", "upper_bound"] == pytest.approx(800)  # USA 0.8 is fifth


def test_partner_sector_via_the_ledger(ledger):
    textile = ledger.partner_sector("textile")
    assert set(textile["sector"]) == {"textile"}
    with pytest.raises(KeyError, match="unknown sector 'steel'"):
        ledger.partner_sector("steel")


# --- partner x sector --------------------------------------------------------------------


def test_partner_sector_korea_textile_2015():
    table = load_partner_sector()
    row = table[table["line"] == 2].iloc[0]  # pma_by_country_sector.csv line 2
    assert (row["partner_iso3"], row["sector"], row["year"], row["period_code"]) == (
        "KOR",
        "textile",
        2015,
        "H1",
    )
    assert row["value"] == pytest.approx(805.46)
    assert row["unit"] == "IDR billion"
    assert row["kind"] == "realised"
    # 805.46 Rp bn at the 2015 APBN assumption (Rp 12,500 per US$) = US$ 64.4 m
    assert row["value_usd_m"] == pytest.approx(805.46e9 / 12_500 / 1e6)
    assert "fx_converted" in row["flags"]


def test_partner_sector_kinds_follow_the_notes():
    table = load_partner_sector().set_index("line")
    counts = table["kind"].value_counts()
    # NOTES_SECTOR_PROJECTS.md: 20 country figures, 11 blank share statements, 19 WLD rows
    assert (table["partner_iso3"] == "WLD").sum() == 19
    assert table["value"].isna().sum() == 11
    assert counts.sum() == 50
    assert table.loc[4, "kind"] == "commitment"  # "[principle licences, NOT realisation]"
    assert table.loc[4, "partner_iso3"] == "DEU+CHN+SGP"
    assert table.loc[29, "kind"] == "sector_total"  # "denominator" is not "minat"
    assert table.loc[27, "kind"] == "share_statement" and "routing" in table.loc[27, "flags"]
    assert table.loc[16, "year_first"] == 2016 and table.loc[16, "year"] == 2020


# --- projects ------------------------------------------------------------------------------


def test_projects_lotte_is_korean_recorded_under_malaysia():
    projects = load_projects()
    lotte = projects[projects["company"].str.startswith("Lotte Chemical")].iloc[0]
    assert lotte["amount"] == pytest.approx(3.95)
    assert lotte["unit"] == "USD billion"
    assert lotte["amount_usd_m"] == pytest.approx(3950)
    assert (lotte["home_iso3"], lotte["recorded_iso3"]) == ("KOR", "MYS")
    assert lotte["status"] == "operating"
    assert (lotte["year_announced"], lotte["year_status"]) == (2015, 2025)
    assert "routing" in lotte["flags"]


def test_projects_statuses_match_the_notes():
    counts = load_projects()["status"].value_counts().to_dict()
    assert counts == {"operating": 34, "announced": 21, "under_construction": 12, "cancelled": 5}


# --- agreements and treaties --------------------------------------------------------------


def _status(iso3, date, name_part, kind="trade_agreement"):
    hits = [
        i
        for i in instruments(iso3, date, kinds=[kind])
        if i.name.startswith(name_part)
        or (name_part in i.name and "predecessor" not in i.name)
        or (name_part == "predecessor" and "predecessor" in i.name)
    ]
    assert len(hits) == 1, [i.name for i in instruments(iso3, date)]
    return hits[0]


def test_hong_kong_ahkfta_from_2020_07_04():
    assert _status("HKG", "2020-07-04", "Hong Kong FTA").status == "in_force"
    assert _status("HKG", "2020-07-03", "Hong Kong FTA").status == "not_in_force"
    assert any("AHKIA" in n for n in in_force("HKG", "2020-07-04"))


def test_japan_ajcep_from_2018_03_01():
    ajcep = _status("JPN", "2018-03-01", "ASEAN-Japan")
    assert ajcep.status == "in_force" and ajcep.kind == "trade_agreement"
    assert _status("JPN", "2018-02-28", "ASEAN-Japan").status == "not_in_force"


def test_singapore_bit_from_2021_03_09_and_its_predecessor():
    new = _status("SGP", "2021-03-09", "Indonesia-Singapore BIT (2018)", "investment_treaty")
    assert new.status == "in_force" and new.kind == "investment_treaty"
    old = _status("SGP", "2010-07-01", "predecessor", "investment_treaty")
    assert old.status == "in_force"  # 2005 BIT, in force 2006-06-21 to 2016-06-20
    gap = [i.status for i in instruments("SGP", "2018-07-01", kinds=["investment_treaty"])]
    assert gap == ["not_in_force", "not_in_force"]


def test_unknown_is_never_not_in_force():
    # UAE BIT signed 2019, entry into force not found: unknown after signing, not before.
    assert _status("ARE", "2022-07-01", "UAE BIT", "investment_treaty").status == "unknown"
    assert _status("ARE", "2018-07-01", "UAE BIT", "investment_treaty").status == "not_in_force"
    # Terminated without a date (Egypt): unknown after entry into force
    assert _status("EGY", "2010-07-01", "Egypt BIT", "investment_treaty").status == "unknown"
    # Tax treaty listed in force without a year: unknown before 2026-12-07, in force after
    dta = _status("SGP", "2020-07-01", "tax treaty", "tax_treaty")
    assert dta.status == "unknown" and dta.kind == "tax_treaty"
    assert _status("SGP", "2026-12-07", "tax treaty", "tax_treaty").status == "in_force"
    # Iran PTA: signed 2023-05-23, entry into force NOT CONFIRMED
    assert _status("IRN", "2025-07-01", "Iran").status == "unknown"
    assert _status("IRN", "2020-07-01", "Iran").status == "not_in_force"


def test_month_only_window_is_unknown_inside():
    # agreements_eif.csv: Australia IA-CEPA entry into force 2020-07-05 (a day): no window;
    # bits file: IA-CEPA investment chapter "2020-07": unknown during July 2020.
    ch = _status("AUS", "2020-07-15", "IA-CEPA", "investment_treaty")
    assert ch.status == "unknown"
    assert _status("AUS", "2020-08-01", "IA-CEPA", "investment_treaty").status == "in_force"
    assert _status("AUS", "2020-06-30", "IA-CEPA", "investment_treaty").status == "not_in_force"


def test_corrections_win_and_replaced_rows_are_listed():
    replaced = replaced_rows()
    by = replaced.set_index("line")
    ajcep = by.loc["data/raw/partners/agreements_eif_additions.csv:4"]
    assert ajcep["replaced_by"] == "data/raw/partners/agreements_eif_corrections.csv:2"
    assert ajcep["new_in_force_for_indonesia"] == "2018-03-01"
    assert "data/raw/partners/agreements_eif.csv:14" in by.index  # Pakistan 2013-09
    pak = _status("PAK", "2013-09-01", "Pakistan")
    assert pak.status == "in_force" and pak.in_force_from == dt.date(2013, 9, 1)


def test_treaty_tables_load_with_their_rows():
    bits = load_bits()
    assert {"predecessor"} <= set(";".join(bits["flags"]).split(";"))
    nld = bits[bits["iso3"] == "NLD"].iloc[0]
    assert nld["terminated_date"] == dt.date(2015, 7, 1)
    assert "sunset_clause" in nld["flags"]
    dtas = load_dtas()
    assert len(dtas) == 40
    assert dtas.set_index("iso3").loc["SAU", "status_now"] == "unknown"


# --- investor side and targets ------------------------------------------------------------


def test_investor_tables():
    mn = load_multinationals()
    basf = mn[(mn["company"] == "BASF") & (mn["line"] == 2)].iloc[0]
    assert (basf["iso3"], basf["value"], basf["unit"]) == ("DEU", 92982, "USD million")
    assert basf["value_usd_m"] == pytest.approx(92982)
    ofdi = load_ofdi_by_industry()
    jpn = ofdi[(ofdi["file"].str.endswith("ofdi_by_industry.csv")) & (ofdi["line"] == 2)].iloc[0]
    assert (jpn["reporter_iso3"], jpn["year"], jpn["unit"], jpn["side"]) == (
        "JPN",
        2024,
        "JPY 100 million",
        "source_side",
    )
    assert jpn["value_usd_m"] > 0 and "fx_converted" in jpn["flags"]
    wages = load_wages()
    idn = wages[wages["line"] == 3].iloc[0]  # DKI Jakarta UMP 2025, US$ 339.6 a month
    assert (idn["iso3"], idn["value_usd"], idn["unit"]) == (
        "IDN",
        pytest.approx(339.6),
        "USD/month",
    )


def test_targets_every_year_and_the_medium_term_total():
    t = load_targets()
    pref = t[t["preferred"]]
    annual = pref[(pref["kind"] == "annual") & (pref["measure"] == "total")].set_index("year")
    assert annual.loc[2025, "value"] == pytest.approx(1905.6)
    assert annual.loc[2026, "value"] == pytest.approx(2175.2)
    assert annual.loc[2027, "value"] == pytest.approx(2567)
    assert {2028, 2029} <= set(annual.index)
    mt = pref[pref["kind"] == "medium_term_total"].iloc[0]
    assert (mt["year_first"], mt["year"], mt["value"]) == (2025, 2029, pytest.approx(13032.8))
    # conflicting versions are kept as rows
    assert len(t[(t["kind"] == "medium_term_total")]) == 3
    assert 2026.0 in set(t[(t["year"] == 2026)]["value"])
    assert (pref.groupby(["measure", "kind", "year_first", "year"]).size() == 1).all()


# --- bad input ----------------------------------------------------------------------------


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of ``data/`` without the large gzip files (not needed here)."""
    root = tmp_path / "data"
    shutil.copytree(paths.DATA, root, ignore=shutil.ignore_patterns("*.gz", "cache", "processed"))
    for dirpath, _dirs, files in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in files:
            os.chmod(Path(dirpath) / name, 0o644)
    return root


def _set_cell(root: Path, rel: str, line: int, column: str, value: str) -> None:
    path = root / rel
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    rows[line - 1][rows[0].index(column)] = value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    prov = root / "provenance.csv"
    table = pd.read_csv(prov, dtype=str, keep_default_na=False)
    table.loc[table["file"] == rel, "sha256"] = sha256_of(path)
    table.to_csv(prov, index=False, lineterminator="\n")


@pytest.mark.parametrize(
    ("loader", "rel", "line", "column", "value", "problem"),
    [
        (
            load_partner_sector,
            "raw/bkpm/pma_by_country_sector.csv",
            2,
            "value",
            "8o5.46",
            "non-numeric",
        ),
        (
            load_partner_sector,
            "raw/bkpm/pma_by_country_sector.csv",
            3,
            "iso3",
            "KOX",
            "invalid iso3",
        ),
        (
            load_partner_sector,
            "raw/bkpm/pma_by_country_sector.csv",
            2,
            "published",
            "2015-02-30",
            "malformed date",
        ),
        (
            load_partner_sector,
            "raw/bkpm/pma_by_country_sector.csv",
            2,
            "unit",
            "",
            "a value without its unit",
        ),
        (load_projects, "raw/bkpm/projects.csv", 2, "amount", "-3.95", "negative"),
        (load_projects, "raw/bkpm/projects.csv", 2, "iso3", "XXK", "invalid iso3"),
        (load_projects, "raw/bkpm/projects.csv", 2, "status", "finished", "invalid status"),
        (load_projects, "raw/bkpm/projects.csv", 2, "published", "2025-13-07", "malformed date"),
        (
            load_projects,
            "raw/bkpm/projects.csv",
            2,
            "year_status",
            "2014",
            "status year before the announcement year",
        ),
        (
            load_bits,
            "raw/treaties/indonesia_bits.csv",
            38,
            "in_force",
            "2021-02-30",
            "invalid in_force",
        ),
        (load_bits, "raw/treaties/indonesia_bits.csv", 38, "iso3", "SGX", "invalid iso3"),
        (load_dtas, "raw/treaties/indonesia_dtas.csv", 3, "in_force", "maybe", "invalid in_force"),
        (
            load_multinationals,
            "raw/investor/sector_multinationals.csv",
            2,
            "value",
            "9x",
            "non-numeric",
        ),
        (load_wages, "raw/investor/manufacturing_wages.csv", 3, "unit", "USD", "invalid unit"),
        (
            load_targets,
            "raw/bkpm/other_facts_2025_2026.csv",
            5,
            "value",
            "2.175,2",
            "non-numeric target",
        ),
    ],
)
def test_bad_cell_names_file_line_column(data_copy, loader, rel, line, column, value, problem):
    _set_cell(data_copy, rel, line, column, value)
    with pytest.raises(DataValidationError) as info:
        loader(data_copy)
    err = info.value
    assert err.file == f"data/{rel}"
    assert (err.row, err.column) == (line, column)
    assert problem in str(err)


def test_agreements_corrections_bad_members(data_copy):
    _set_cell(data_copy, "raw/partners/agreements_eif_corrections.csv", 3, "members_iso3", "HKX")
    with pytest.raises(DataValidationError) as info:
        instruments("HKG", "2021-01-01", data_copy)
    assert info.value.file == "data/raw/partners/agreements_eif_corrections.csv"
    assert (info.value.row, info.value.column) == (3, "members_iso3")


def test_ledger_rejects_a_bad_2025_row(data_copy):
    from analysis.data import build_ledger

    _set_cell(data_copy, "raw/bkpm/investment_by_year_2025_2026.csv", 2, "value", "1.931,2")
    with pytest.raises(DataValidationError) as info:
        build_ledger(root=data_copy)
    assert info.value.file == "data/raw/bkpm/investment_by_year_2025_2026.csv"
    assert (info.value.row, info.value.column) == (2, "value")


def test_in_force_covers_every_kind_on_request():
    bit = ["Indonesia-Singapore BIT (2018), replacing 2005 BIT"]
    assert in_force("SGP", "2021-03-09", kinds=["investment_treaty"]) == bit
    assert in_force("SGP", "2021-03-08", kinds=["investment_treaty"]) == []
    # the default stays trade agreements (the gravity covariate)
    assert bit[0] not in in_force("SGP", "2021-03-09")
    # a tax treaty in force without a year is unknown before 2026-12-07: not listed
    assert in_force("SGP", "2020-07-01", kinds=["tax_treaty"]) == []
    assert in_force("SGP", "2026-12-07", kinds=["tax_treaty"]) == [
        "Indonesia-Singapore tax treaty (P3B)"
    ]
