"""Units, exchange rates, periods, sectors and partner codes."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.base.vocab import UNITS, is_partner_code, parse_period, province_code
from analysis.data import load_fx_table, load_sector_map
from analysis.data.units import to_unit
from conftest import ROOT

units = st.sampled_from(sorted(UNITS))
amounts = st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False)
rates = st.floats(min_value=1_000, max_value=30_000)


@settings(max_examples=200)
@given(amounts, units, units, rates)
def test_conversion_round_trips(value, a, b, rate):
    there = to_unit(value, a, b, rate)
    back = to_unit(there, b, a, rate)
    assert back == pytest.approx(value, rel=1e-12, abs=1e-12)


@given(amounts, rates)
def test_conversion_scales_and_crosses_currency(value, rate):
    assert to_unit(value, "Rp trillion", "Rp billion") == pytest.approx(value * 1000)
    assert to_unit(value, "US$ billion", "Rp billion", rate) == pytest.approx(value * rate)


def test_currency_change_needs_a_rate():
    with pytest.raises(ValueError, match="rate"):
        to_unit(1.0, "US$ million", "Rp billion")


def test_fx_table_prefers_final_budget_rate_and_flags_proposals():
    fx = load_fx_table()
    r2025 = fx.rate(2025, "apbn", None)
    assert r2025.rate == 16_000 and r2025.flags == ()  # FINAL APBN beats the RAPBN 16,100
    # The enacted APBN 2019 rate (DPR, 31 Oct 2018) beats the RAPBN proposal of 14,400.
    r2019 = fx.rate(2019, "apbn", None)
    assert r2019.rate == 15_000 and r2019.flags == () and "setkab" in r2019.source
    assert fx.rate(2016, "apbn", None).rate == 13_900
    r2014 = fx.rate(2014, "apbn", "market")
    assert r2014.basis == "market" and "fx_fallback_market" in r2014.flags
    for year, rate in ((2022, 14_350), (2023, 14_800), (2024, 15_000)):
        assert fx.rate(year, "apbn", None).rate == rate
    assert fx.rate(2009, "apbn", "market") is None  # neither basis has 2009: no guess
    # World Bank PA.NUS.FCRF (the series of the other years) beats the MoF's 15,255;
    # partial-year averages (15,109, 15,086) are never used.
    assert fx.rate(2023, "market", None).rate == pytest.approx(15_236.88, abs=0.01)


def test_periods():
    assert parse_period("9M").kind == "cumulative"
    assert parse_period("Q3").months == (7, 9)
    assert parse_period("CUM_2001_2015").first_year == 2001
    assert parse_period("FY_target_rpjmn").kind == "target"
    for bad in ("Q5", "2019Q1", "fy", "CUM_2015_2001", ""):
        assert parse_period(bad) is None


def test_partner_codes():
    for good in ("IDN", "SGP", "VGB", "TWN", "WLD", "OTH", "UNK", "CHN+HKG"):
        assert is_partner_code(good)
    for bad in ("XYZ", "sgp", "CHN+XYZ", "EU", ""):
        assert not is_partner_code(bad)


def test_provinces():
    assert province_code("Jawa Barat") == "ID-JB"
    assert province_code("DKI Jakarta") == "ID-JK"
    assert province_code("id-jt") == "ID-JT"
    assert province_code("Papua Pegunungan") == "ID-PE"
    assert province_code("Jawa") is None  # an island group, not a province
    assert province_code("Atlantis") is None


def test_every_published_sector_name_is_mapped():
    smap = load_sector_map()
    raw = pd.read_csv(ROOT / "data/raw/bkpm/investment_by_sector.csv")
    unmapped = sorted({n for n in raw["sector_published_name"] if smap.lookup(n) is None})
    assert not unmapped


def test_the_2018_renaming_keeps_one_code_where_scope_is_unchanged():
    smap = load_sector_map()
    old = smap.lookup("Industri Kimia Dasar, Barang Kimia dan Farmasi")
    new = smap.lookup("Industri kimia dan farmasi")
    assert old.sector == new.sector == "chem_pharma"
    # The metals/machinery split changed scope: separate codes, no silent join.
    assert smap.lookup("Industri logam dasar, barang logam, mesin dan elektronik").sector != (
        smap.lookup("Industri logam dasar, barang logam, bukan mesin dan peralatannya").sector
    )


def test_first_class_sectors_are_declared():
    smap = load_sector_map()
    first = set(smap.sectors.loc[smap.sectors["first_class"] == "true", "sector"])
    assert {"textile", "apparel", "leather_footwear", "chem_pharma"} <= first


def test_provenance_lists_every_data_file_with_a_matching_hash():
    from analysis.data.provenance import provenance_table, sha256_of

    table = provenance_table()
    files = sorted(
        p.relative_to(ROOT / "data").as_posix()
        for sub in ("raw", "examples")
        for pattern in ("*.csv", "*.csv.gz")  # large raw files are stored gzip-compressed
        for p in (ROOT / "data" / sub).rglob(pattern)
    )
    assert sorted(table["file"]) == files
    for row in table.itertuples():
        assert sha256_of(ROOT / "data" / row.file) == row.sha256
        for col in ("publisher", "source", "retrieved", "licence", "units"):
            assert getattr(row, col).strip(), (row.file, col)
