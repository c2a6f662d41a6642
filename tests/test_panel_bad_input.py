"""Bad partner data stops the panel build with the file, line and column at fault.

Each file test copies ``data/`` to a temporary folder, corrupts one cell of one raw file,
records the corrupted file's sha256 in the copied ``provenance.csv`` (so the provenance check
passes and the panel's own check is what fails) and builds the panel.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.base import paths
from analysis.base.errors import DataValidationError
from analysis.data.agreements import agreements_table, in_force
from analysis.data.panel import CATALOGUE_FILE, EXCLUSIONS_FILE, build_panel, load_panel
from analysis.data.provenance import sha256_of

IND = "raw/partners/indicators.csv"
FX = "raw/partners/exchange_rates_additions.csv"
AGR = "raw/partners/agreements_eif_additions.csv"
# Lines as shipped (header = line 1), so a change to the data shows up here.
JPN_STOCK_LINE = 325  # JPN,Japan,ofdi_stock_usd,2023,307692,"JPY billion (stock, ...)"
USA_GDP_LINE = 2  # USA,United States,gdp_usd,2023,27720.7,US$ billion (current)


class Data:
    """A writable copy of ``data/``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _rows(self, rel: str) -> list[list[str]]:
        with (self.root / rel).open(newline="", encoding="utf-8") as handle:
            return list(csv.reader(handle))

    def _write(self, rel: str, rows: list[list[str]]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        (self.root / rel).write_text(buffer.getvalue(), encoding="utf-8")
        if rel.startswith("raw/"):
            self.rehash(rel)

    def rehash(self, rel: str) -> None:
        prov = self._rows("provenance.csv")
        at_file, at_hash = prov[0].index("file"), prov[0].index("sha256")
        for row in prov[1:]:
            if row[at_file] == rel:
                row[at_hash] = sha256_of(self.root / rel)
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(prov)
        (self.root / "provenance.csv").write_text(buffer.getvalue(), encoding="utf-8")

    def cell(self, rel: str, line: int, column: str) -> str:
        rows = self._rows(rel)
        return rows[line - 1][rows[0].index(column)]

    def set_cell(self, rel: str, line: int, column: str, value: str) -> None:
        rows = self._rows(rel)
        rows[line - 1][rows[0].index(column)] = value
        self._write(rel, rows)

    def append_copy(self, rel: str, line: int) -> int:
        rows = self._rows(rel)
        rows.append(list(rows[line - 1]))
        self._write(rel, rows)
        return len(rows)


@pytest.fixture
def data(tmp_path: Path) -> Data:
    root = tmp_path / "data"
    shutil.copytree(paths.DATA, root, ignore=shutil.ignore_patterns("examples"))
    for dirpath, _dirs, files in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in files:
            os.chmod(Path(dirpath) / name, 0o644)
    return Data(root)


def _error(data: Data) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        build_panel(data.root)
    return info.value


def _points_at(err: DataValidationError, rel: str, line: int | None, column: str, words: str):
    assert err.file == f"data/{rel}", str(err)
    assert err.row == line, str(err)
    assert err.column == column, str(err)
    assert words in str(err), str(err)


# --- raw files -----------------------------------------------------------------------------


def test_unknown_currency(data):
    data.set_cell(IND, JPN_STOCK_LINE, "unit", "XYZ billion (stock)")
    _points_at(_error(data), IND, JPN_STOCK_LINE, "unit", "unknown currency XYZ")


def test_currency_without_a_rate_for_its_year(data):
    data.set_cell(IND, JPN_STOCK_LINE, "year", "2012")
    err = _error(data)
    _points_at(err, IND, JPN_STOCK_LINE, "unit", "no JPY rate for 2012")
    assert "indicator_exclusions.csv" in str(err)


def test_unknown_unit(data):
    data.set_cell(IND, USA_GDP_LINE, "unit", "bushels")
    _points_at(_error(data), IND, USA_GDP_LINE, "unit", "unknown unit")


def test_percent_unit_on_a_money_indicator_is_unknown(data):
    data.set_cell(IND, USA_GDP_LINE, "unit", "percent")
    _points_at(_error(data), IND, USA_GDP_LINE, "unit", "unknown unit")


def test_unknown_indicator_code(data):
    data.set_cell(IND, USA_GDP_LINE, "indicator", "gdp_dollars")
    _points_at(_error(data), IND, USA_GDP_LINE, "indicator", "invalid indicator")


def test_unknown_economy_code_in_a_file(data):
    data.set_cell(IND, USA_GDP_LINE, "iso3", "XXA")
    _points_at(_error(data), IND, USA_GDP_LINE, "iso3", "invalid iso3")


def test_duplicate_key(data):
    new = data.append_copy(IND, USA_GDP_LINE)
    err = _error(data)
    _points_at(err, IND, new, "iso3+indicator+year+unit+value+source_url", "duplicate key")
    assert f"lines {USA_GDP_LINE}, {new}" in str(err)


def test_two_rates_for_one_currency_and_year(data):
    rows = data._rows(FX)
    header = rows[0]
    line = next(
        i + 1
        for i, r in enumerate(rows)
        if r[header.index("currency")] == "JPY"
        and r[header.index("year")] == "2023"
        and r[header.index("basis")] == "market_avg"
    )
    new = data.append_copy(FX, line)
    data.set_cell(FX, new, "per_usd", "150")
    _points_at(_error(data), FX, new, "per_usd", "two market_avg rates for JPY 2023")


def test_non_numeric_value(data):
    data.set_cell(IND, USA_GDP_LINE, "value", "27,720.7")
    _points_at(_error(data), IND, USA_GDP_LINE, "value", "non-numeric value")


def test_stale_exclusion_is_an_error(data):
    rows = data._rows(EXCLUSIONS_FILE)
    rows.append([*rows[1]])
    rows[-1][rows[0].index("value")] = "18.00"  # no SAU row holds 18.00
    data._write(EXCLUSIONS_FILE, rows)
    _points_at(_error(data), EXCLUSIONS_FILE, len(rows), None, "matches no row")


def test_catalogue_code_listed_twice(data):
    rows = data._rows(CATALOGUE_FILE)
    rows.append(list(rows[1]))
    data._write(CATALOGUE_FILE, rows)
    err = _error(data)
    assert err.file == f"data/{CATALOGUE_FILE}" and "duplicate key code=gdp_usd" in str(err)


def test_agreement_with_a_malformed_member_code(data):
    data.set_cell(AGR, 2, "members_iso3", "BRN KHM XX1")
    with pytest.raises(DataValidationError) as info:
        agreements_table(["CHN"], [2020], root=data.root)
    _points_at(info.value, AGR, 2, "members_iso3", "invalid members_iso3")


# --- requests to the panel -----------------------------------------------------------------


def test_unknown_indicator_code_in_a_request():
    with pytest.raises(DataValidationError) as info:
        load_panel().value("gdp", "CHN", 2023)
    assert info.value.column == "indicator" and "unknown indicator code" in str(info.value)


def test_economy_code_the_panel_does_not_know():
    with pytest.raises(DataValidationError) as info:
        load_panel().wide("gdp_usd", iso3=["CHN", "XXX"])
    assert info.value.column == "iso3" and "'XXX'" in str(info.value)


def test_deflator_without_a_base_year():
    with pytest.raises(DataValidationError) as info:
        load_panel().gdp_deflator("IDN", base_year=1990)
    assert info.value.column == "base_year"


def test_agreements_reject_unknown_codes_and_dates():
    with pytest.raises(DataValidationError) as info:
        in_force("XX", "2024-01-01")
    assert info.value.column == "iso3"
    with pytest.raises(DataValidationError) as info:
        in_force("CHN", "not a date")
    assert info.value.column == "date"


# --- fetched values ------------------------------------------------------------------------

_ROW = {
    "iso3": "CHN",
    "year": 2023,
    "indicator": "gdp_usd",
    "value": 18000.0,
    "unit": "US$ billion (current)",
    "source": "World Bank WDI API",
    "vintage": "2026-11-28",
    "flags": "",
    "retrieved": "2026-11-28",
    "query": "q",
    "sha256": "0" * 64,
}


@pytest.mark.parametrize(
    ("change", "column", "words"),
    [
        ({"unit": "current US$"}, "unit", "unit differs from the catalogue unit"),
        ({"indicator": "gdp"}, "indicator", "unknown indicator code"),
        ({"iso3": "X1X"}, "iso3", "unknown economy code"),
        ({"value": "n/a"}, "value", "non-numeric"),
        ({"value": float("inf")}, "value", "non-finite"),
    ],
)
def test_bad_fetched_values(change, column, words):
    rows = pd.DataFrame([_ROW, {**_ROW, "year": 2022, **change}])
    with pytest.raises(DataValidationError) as info:
        build_panel(fetched=rows)
    assert info.value.file == "fetched values"
    assert info.value.row == 2 and info.value.column == column
    assert words in str(info.value)


def test_fetched_values_without_provenance_columns():
    rows = pd.DataFrame([_ROW]).drop(columns=["sha256"])
    with pytest.raises(DataValidationError, match="missing column"):
        build_panel(fetched=rows)
