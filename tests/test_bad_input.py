"""Bad input stops the run with the file, line and column at fault.

Raw files: each test copies ``data/`` to a temporary folder, corrupts ONE cell of one raw
file, records the corrupted file's new sha256 in the copied ``provenance.csv`` (so the
provenance check passes and the schema check is what fails) and builds the ledger.

Realisation imports: each test writes a small CSV in the import format and reads it.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
import pytest

from analysis.base import paths
from analysis.base.errors import DataValidationError, ProvenanceError
from analysis.data import build_ledger
from analysis.data.provenance import sha256_of
from analysis.data.raw import CANDIDATE_COLUMNS
from analysis.data.realisation import read_realisation_table

YEAR = "raw/bkpm/investment_by_year.csv"
SECTOR = "raw/bkpm/investment_by_sector.csv"
COUNTRY = "raw/bkpm/pma_by_country.csv"

# A line of each file to corrupt (header = line 1), with the cell it holds as shipped, so a
# change to the shipped data shows up here instead of silently moving the test.
YEAR_LINE = 41  # 2016,FY,pma,396.6,Rp trillion,...
SECTOR_LINE = 42  # 2016,Q1,Sektor industri (gabungan),...,pmdn,14.6,...
COUNTRY_LINE = 41  # 2016,H1,Malaysia,MYS,0.49511,...


# --- helpers -----------------------------------------------------------------------------


def _read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _write_lines(path: Path, lines: Sequence[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _parse_line(line: str) -> list[str]:
    (fields,) = list(csv.reader([line]))
    return fields


def _format_line(fields: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    return buffer.getvalue()


class RawData:
    """A writable copy of ``data/`` whose raw files a test may corrupt."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, rel: str) -> Path:
        return self.root / rel

    def rehash(self, rel: str) -> None:
        """Record the file's current sha256 in the copied provenance table."""
        prov = self.root / "provenance.csv"
        with prov.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        header = rows[0]
        file_col, hash_col = header.index("file"), header.index("sha256")
        hits = [row for row in rows[1:] if row[file_col] == rel]
        assert len(hits) == 1, f"{rel} should have exactly one provenance row"
        hits[0][hash_col] = sha256_of(self.path(rel))
        with prov.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)

    def set_cell(
        self, rel: str, line: int, column: str, value: str, *, rehash: bool = True
    ) -> str:
        """Replace one cell (``line`` counts the header as 1); return the old text."""
        path = self.path(rel)
        lines = _read_lines(path)
        header = _parse_line(lines[0])
        fields = _parse_line(lines[line - 1])
        assert len(fields) == len(header), "pick a line holding one whole record"
        old = fields[header.index(column)]
        fields[header.index(column)] = value
        lines[line - 1] = _format_line(fields)
        _write_lines(path, lines)
        if rehash:
            self.rehash(rel)
        return old

    def drop_column(self, rel: str, column: str) -> None:
        path = self.path(rel)
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        at = rows[0].index(column)
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows([r[:at] + r[at + 1 :] for r in rows])
        self.rehash(rel)

    def append_copy(self, rel: str, line: int) -> int:
        """Append a copy of one line at the end of the file; return the new line's number."""
        path = self.path(rel)
        lines = _read_lines(path)
        lines.append(lines[line - 1])
        _write_lines(path, lines)
        self.rehash(rel)
        return len(lines)


@pytest.fixture
def raw_data(tmp_path: Path) -> RawData:
    """A writable copy of the shipped ``data/`` folder (raw files are read-only)."""
    root = tmp_path / "data"
    shutil.copytree(paths.DATA, root)
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(Path(dirpath) / name, 0o644)
    return RawData(root)


def _ledger_error(raw_data: RawData) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        build_ledger(root=raw_data.root)
    return info.value


def _assert_points_at(
    err: DataValidationError, rel: str, line: int, column: str | None, problem: str
) -> None:
    label = f"data/{rel}"
    assert err.file == label
    assert err.row == line
    assert err.column == column
    assert problem in err.problem
    msg = str(err)
    assert label in msg
    assert f"line {line}" in msg
    if column is not None:
        assert f"column '{column}'" in msg
    assert err.expected  # says what would have been accepted


# --- the shipped data and the copy are sound ----------------------------------------------


def test_unmodified_copy_builds(raw_data: RawData) -> None:
    # Guards every test below: only the corrupted cell can be the fault.
    ledger = build_ledger(root=raw_data.root)
    assert len(ledger.observations) > 0


def test_edit_helper_changes_one_cell_only(raw_data: RawData) -> None:
    path = raw_data.path(SECTOR)
    before = _read_lines(path)
    old = raw_data.set_cell(SECTOR, SECTOR_LINE, "value", "14.6")  # same text back
    assert old == "14.6"
    assert _read_lines(path) == before


# --- raw files ----------------------------------------------------------------------------


def test_missing_column(raw_data: RawData) -> None:
    raw_data.drop_column(YEAR, "unit")
    err = _ledger_error(raw_data)
    assert err.file == f"data/{YEAR}"
    assert err.row == 1
    assert err.column in (None, "unit")
    assert "unit" in err.problem
    msg = str(err)
    assert f"data/{YEAR}" in msg
    assert "line 1" in msg
    assert "unit" in msg


@pytest.mark.parametrize("text", ["12,5", "abc", "1.2.3", "Rp 12"])
def test_non_numeric_value(raw_data: RawData, text: str) -> None:
    assert raw_data.set_cell(YEAR, YEAR_LINE, "value", text) == "396.6"
    err = _ledger_error(raw_data)
    _assert_points_at(err, YEAR, YEAR_LINE, "value", "non-numeric value")
    assert err.value == text


def test_unquoted_comma_in_number_is_a_field_count_error(raw_data: RawData) -> None:
    # "12,5" written without quotes splits the row: the line is still named.
    path = raw_data.path(YEAR)
    lines = _read_lines(path)
    assert ",396.6," in lines[YEAR_LINE - 1]
    lines[YEAR_LINE - 1] = lines[YEAR_LINE - 1].replace(",396.6,", ",396,6,", 1)
    _write_lines(path, lines)
    raw_data.rehash(YEAR)
    err = _ledger_error(raw_data)
    assert err.file == f"data/{YEAR}"
    assert err.row == YEAR_LINE
    assert "fields" in err.problem
    assert f"line {YEAR_LINE}" in str(err)


def test_unknown_unit(raw_data: RawData) -> None:
    assert raw_data.set_cell(YEAR, YEAR_LINE, "unit", "Rp zillion") == "Rp trillion"
    err = _ledger_error(raw_data)
    _assert_points_at(err, YEAR, YEAR_LINE, "unit", "invalid unit")
    assert "Rp zillion" in str(err)
    assert "Rp trillion" in err.expected


def test_unknown_sector_name(raw_data: RawData) -> None:
    old = raw_data.set_cell(
        SECTOR, SECTOR_LINE, "sector_published_name", "Industri antah berantah"
    )
    assert old == "Sektor industri (gabungan)"
    err = _ledger_error(raw_data)
    _assert_points_at(
        err, SECTOR, SECTOR_LINE, "sector_published_name", "invalid sector_published_name"
    )
    assert "sector_names.csv" in err.expected


def test_unknown_iso3(raw_data: RawData) -> None:
    assert raw_data.set_cell(COUNTRY, COUNTRY_LINE, "iso3", "XYZ") == "MYS"
    err = _ledger_error(raw_data)
    _assert_points_at(err, COUNTRY, COUNTRY_LINE, "iso3", "invalid iso3")
    assert "XYZ" in str(err)


def test_negative_amount(raw_data: RawData) -> None:
    raw_data.set_cell(COUNTRY, COUNTRY_LINE, "value", "-0.49511")
    err = _ledger_error(raw_data)
    _assert_points_at(err, COUNTRY, COUNTRY_LINE, "value", "negative amount")


@pytest.mark.parametrize("period", ["Q5", "2019Q1", "q1", "H3", "CUM_2015_2001"])
def test_malformed_period(raw_data: RawData, period: str) -> None:
    assert raw_data.set_cell(YEAR, YEAR_LINE, "period", period) == "FY"
    err = _ledger_error(raw_data)
    _assert_points_at(err, YEAR, YEAR_LINE, "period", "invalid period")


def test_year_out_of_range(raw_data: RawData) -> None:
    raw_data.set_cell(SECTOR, SECTOR_LINE, "year", "216")
    err = _ledger_error(raw_data)
    _assert_points_at(err, SECTOR, SECTOR_LINE, "year", "out of range")


def test_empty_required_cell(raw_data: RawData) -> None:
    raw_data.set_cell(COUNTRY, COUNTRY_LINE, "source_url", "")
    err = _ledger_error(raw_data)
    _assert_points_at(err, COUNTRY, COUNTRY_LINE, "source_url", "empty cell")


def test_duplicate_row(raw_data: RawData) -> None:
    later = raw_data.append_copy(YEAR, YEAR_LINE)
    assert later > YEAR_LINE
    err = _ledger_error(raw_data)
    assert err.file == f"data/{YEAR}"
    assert err.row == later  # the later of the two lines
    assert err.column == "year+period+measure+source_url+value"
    assert "duplicate key" in err.problem
    assert f"on lines {YEAR_LINE}, {later}" in err.problem
    msg = str(err)
    assert f"data/{YEAR}" in msg
    assert f"line {later}" in msg
    assert "column 'year+period+measure+source_url+value'" in msg


@pytest.mark.parametrize(
    ("rel", "line", "column", "value"),
    [
        (YEAR, YEAR_LINE, "value", "396.7"),  # a plausible, schema-valid edit
        (SECTOR, SECTOR_LINE, "value", "abc"),  # a schema fault: provenance is checked first
        (COUNTRY, COUNTRY_LINE, "note", "edited by hand"),
    ],
)
def test_hash_mismatch(raw_data: RawData, rel: str, line: int, column: str, value: str) -> None:
    raw_data.set_cell(rel, line, column, value, rehash=False)
    with pytest.raises(ProvenanceError) as info:
        build_ledger(root=raw_data.root)
    msg = str(info.value)
    assert f"data/{rel}" in msg
    assert "does not match" in msg


def test_raw_file_without_provenance_row(raw_data: RawData) -> None:
    prov = raw_data.root / "provenance.csv"
    lines = _read_lines(prov)
    kept = [ln for ln in lines if not ln.startswith(COUNTRY + ",")]
    assert len(kept) == len(lines) - 1
    _write_lines(prov, kept)
    with pytest.raises(ProvenanceError, match=r"pma_by_country\.csv"):
        build_ledger(root=raw_data.root)


# --- realisation import format ------------------------------------------------------------

HEADER = "year,period,measure,sector,partner_iso3,province,value,unit,projects,source"
GOOD = "2023,Q1,pma,textile,KOR,Jawa Barat,5305.0,US$ thousand,32,test table"


@pytest.fixture
def write_table(tmp_path: Path) -> Callable[..., Path]:
    def write(*rows: str, name: str = "realisation.csv") -> Path:
        path = tmp_path / name
        path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
        return path

    return write


def _import_error(path: Path) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        read_realisation_table(path)
    return info.value


def _assert_import_fault(
    err: DataValidationError, path: Path, line: int, column: str, problem: str
) -> None:
    assert err.file == str(path)
    assert err.row == line
    assert err.column == column
    assert problem in err.problem
    msg = str(err)
    assert str(path) in msg
    assert f"line {line}" in msg
    assert f"column '{column}'" in msg


def test_realisation_unknown_province(write_table: Callable[..., Path]) -> None:
    path = write_table(GOOD, "2023,Q1,pma,textile,JPN,Atlantis,10.0,US$ thousand,1,t")
    _assert_import_fault(_import_error(path), path, 3, "province", "invalid province")


def test_realisation_pmdn_with_foreign_partner(write_table: Callable[..., Path]) -> None:
    path = write_table(GOOD, "2023,Q1,pmdn,textile,JPN,Jawa Barat,10.0,Rp million,1,t")
    err = _import_error(path)
    _assert_import_fault(err, path, 3, "partner_iso3", "foreign partner")
    assert err.value == "JPN"


def test_realisation_pma_from_indonesia(write_table: Callable[..., Path]) -> None:
    path = write_table(GOOD, "2023,Q1,pma,textile,IDN,Jawa Barat,10.0,US$ thousand,1,t")
    _assert_import_fault(_import_error(path), path, 3, "partner_iso3", "from Indonesia")


def test_realisation_duplicate_key(write_table: Callable[..., Path]) -> None:
    path = write_table(
        GOOD,
        "2023,Q1,pma,textile,JPN,Jawa Barat,10.0,US$ thousand,1,t",
        "2023,Q1,pma,textile,KOR,Jawa Barat,99.0,US$ thousand,2,another source",
    )
    err = _import_error(path)
    _assert_import_fault(
        err, path, 4, "year+period+measure+sector+partner_iso3+province", "duplicate key"
    )
    assert "on lines 2, 4" in err.problem


def test_realisation_unknown_sector(write_table: Callable[..., Path]) -> None:
    path = write_table(GOOD, "2023,Q1,pma,spaceships,JPN,Jawa Barat,10.0,US$ thousand,1,t")
    err = _import_error(path)
    _assert_import_fault(err, path, 3, "sector", "invalid sector")
    assert "sector_names.csv" in err.expected


@pytest.mark.parametrize("projects", ["12.5", "a few", "-3"])
def test_realisation_bad_projects(write_table: Callable[..., Path], projects: str) -> None:
    path = write_table(GOOD, f"2023,Q1,pma,textile,JPN,Jawa Barat,10.0,US$ thousand,{projects},t")
    problem = "out of range" if projects == "-3" else "not an integer"
    _assert_import_fault(_import_error(path), path, 3, "projects", problem)


def test_realisation_empty_value(write_table: Callable[..., Path]) -> None:
    path = write_table(GOOD, "2023,Q1,pma,textile,JPN,Jawa Barat,,US$ thousand,1,t")
    _assert_import_fault(_import_error(path), path, 3, "value", "empty cell")


def test_realisation_unknown_unit(write_table: Callable[..., Path]) -> None:
    path = write_table(GOOD, "2023,Q1,pma,textile,JPN,Jawa Barat,10.0,US$ lakh,1,t")
    _assert_import_fault(_import_error(path), path, 3, "unit", "invalid unit")


def test_realisation_period_outside_import_vocabulary(write_table: Callable[..., Path]) -> None:
    # H2 and YTD exist in press data but not in the import format.
    path = write_table(GOOD, "2023,YTD,pma,textile,JPN,Jawa Barat,10.0,US$ thousand,1,t")
    _assert_import_fault(_import_error(path), path, 3, "period", "invalid period")


def test_realisation_mixed_currency_in_one_cell(write_table: Callable[..., Path]) -> None:
    path = write_table(GOOD, "2023,Q1,pma,textile,JPN,Jawa Barat,10.0,Rp million,1,t")
    err = _import_error(path)
    assert err.file == str(path)
    assert err.column == "unit"
    assert err.row in (2, 3)
    assert "mixes currencies" in err.problem


def test_realisation_valid_table(write_table: Callable[..., Path]) -> None:
    path = write_table(
        GOOD,
        "2023,Q1,pma,textile,JPN,ID-JT,22368.25,US$ thousand,19,test table",
        "2023,Q1,pma,Industri Kimia dan Farmasi,SGP,DKI Jakarta,1.5,US$ million,,",
        "2023,Q1,pmdn,textile,IDN,Jawa Barat,1200,Rp million,4,test table",
    )
    cand = read_realisation_table(path, published="2023-04-28")
    assert cand.attrs["hashes"] == {str(path): sha256_of(path)}

    detail = cand[cand["flags"].map(len) == 0]
    assert detail["line"].tolist() == [2, 3, 4, 5]
    assert detail["region"].tolist() == ["ID-JB", "ID-JT", "ID-JK", "ID-JB"]
    assert detail["sector"].tolist() == ["textile", "textile", "chem_pharma", "textile"]
    assert detail["source"].tolist()[2] == path.name  # empty source -> the file name

    sums = cand[cand["flags"].map(lambda f: "aggregated_from_import" in f)]
    assert len(sums) == 3  # (pma, textile), (pma, chem_pharma), (pmdn, textile)
    assert set(sums["region"]) == {"IDN"}
    assert set(sums["partner_iso3"]) == {"WLD"}
    assert set(sums["published"]) == {"2023-04-28"}
    by_cell = sums.set_index(["measure", "sector"])
    pma_tex = by_cell.loc[("pma", "textile")]
    assert pma_tex["value_published"] == pytest.approx(5305.0 + 22368.25)
    assert pma_tex["unit_published"] == "US$ thousand"
    assert pma_tex["projects"] == 32 + 19
    assert pma_tex["decimals"] == 2
    assert pma_tex["line"] == 2
    assert by_cell.loc[("pma", "chem_pharma"), "value_published"] == pytest.approx(1.5)
    assert pd.isna(by_cell.loc[("pma", "chem_pharma"), "projects"])
    assert by_cell.loc[("pmdn", "textile"), "value_published"] == pytest.approx(1200.0)
    assert by_cell.loc[("pmdn", "textile"), "unit_published"] == "Rp million"


def test_realisation_aggregate_false_returns_detail_only(
    write_table: Callable[..., Path],
) -> None:
    path = write_table(GOOD)
    cand = read_realisation_table(path, aggregate=False)
    assert len(cand) == 1
    assert cand["flags"].tolist() == [()]


def test_shipped_synthetic_example_reads() -> None:
    path = paths.EXAMPLES / "bkpm_realisation_SYNTHETIC.csv"
    cand = read_realisation_table(path)
    sums = cand[cand["flags"].map(lambda f: "aggregated_from_import" in f)]
    detail = cand[cand["flags"].map(len) == 0]
    assert len(sums) > 0
    assert len(detail) == len(_read_lines(path)) - 1


# --- regressions: faults found in src/ while writing these tests (fixed since) ---------
# Each once failed: the partner check crashed (itertuples renames ``_line``), a planned
# sector was rejected without its line, aliases of one cell escaped the duplicate check
# and were summed twice, and a header-only table raised KeyError('value_decimals').


@pytest.mark.parametrize(
    "row",
    [
        "2023,Q1,pma,Industri tekstil,KOR,ID-JB,5305.0,US$ thousand,32,t",  # sector name
        "2023,Q1,pma,textile,KOR,jawa  barat,1.0,US$ thousand,1,t",  # case and spacing
    ],
)
def test_realisation_duplicate_key_through_aliases(
    write_table: Callable[..., Path], row: str
) -> None:
    path = write_table(GOOD, row)
    err = _import_error(path)
    _assert_import_fault(
        err, path, 3, "year+period+measure+sector+partner_iso3+province", "duplicate key"
    )
    assert "line 2" in err.problem


def test_realisation_planned_sector_names_line(write_table: Callable[..., Path]) -> None:
    path = write_table(
        GOOD,
        "2023,Q1,pma,Industri tekstil dan pakaian jadi (SKU issued),JPN,Jawa Barat,"
        "1.0,US$ thousand,1,t",
    )
    _assert_import_fault(_import_error(path), path, 3, "sector", "planned investment")


def test_realisation_header_only(write_table: Callable[..., Path]) -> None:
    cand = read_realisation_table(write_table())
    assert len(cand) == 0
    assert list(cand.columns)[: len(CANDIDATE_COLUMNS)] == list(CANDIDATE_COLUMNS)
