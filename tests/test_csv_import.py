"""Hostile CSV imports (``mitra data check --import``): every fault is an error naming the
file, the line and the column, and formula-like text never reaches a CSV output live."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from analysis.base.errors import DataValidationError
from analysis.cli import main
from analysis.data.realisation import read_realisation_table

HEADER = "year,period,measure,sector,partner_iso3,province,value,unit,projects,source"
GOOD = "2023,Q1,pma,textile,KOR,Jawa Barat,5305.0,US$ thousand,32,test table"
ROW2 = "2023,Q1,pma,textile,JPN,Jawa Barat,22368.3,US$ thousand,19,test table"


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    def _write(*rows: str, header: str = HEADER, encoding: str = "utf-8") -> Path:
        path = tmp_path / "import.csv"
        path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
        return path

    return _write


def _error(path: Path, **kwargs) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        read_realisation_table(path, **kwargs)
    err = info.value
    assert err.file == str(path) and str(path) in str(err)
    return err


def test_latin1_bytes_name_line_and_column(write):
    path = write(GOOD, ROW2.replace("test table", "caf\u00e9 table"), encoding="latin-1")
    err = _error(path)
    assert err.row == 3 and err.column == "source"
    assert "0xe9 is not UTF-8" in err.problem and "UTF-8" in err.expected


def test_utf16_is_named_as_excel_unicode_text(write):
    err = _error(write(GOOD, encoding="utf-16"))
    assert "UTF-16" in err.problem and err.row == 1


def test_utf8_with_bom_is_fine(write):
    path = write(GOOD)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(read_realisation_table(path, aggregate=False)) == 1


def test_binary_bytes_are_named(write):
    path = write(GOOD)
    path.write_bytes(path.read_bytes() + b"\x00\x01\x02\x03\n")
    err = _error(path)
    assert "binary" in err.problem and err.row == 3


def test_oversize_field_is_an_error_with_its_line(write):
    err = _error(write(GOOD, ROW2.replace("test table", "x" * 200_000)))
    assert err.row == 3
    assert "longer than" in err.problem or "characters" in err.problem


def test_long_field_below_the_csv_limit_names_its_column(write):
    err = _error(write(GOOD, ROW2.replace("test table", "y" * 20_000)))
    assert err.row == 3 and err.column == "source" and "20,000 characters" in err.problem


def test_unterminated_quote_is_an_error_not_dropped_rows(write):
    rows = [GOOD, ROW2.replace("test table", '"open quote'), GOOD.replace("KOR", "USA"), ROW2]
    err = _error(write(*rows))
    assert err.row == 3 and "unterminated quote" in err.problem


def test_text_after_a_closing_quote_is_malformed(write):
    err = _error(write(GOOD, ROW2.replace("test table", '"quoted"tail')))
    assert err.row == 3 and "malformed CSV" in err.problem


@pytest.mark.parametrize("value", ["1_000", "1 000", "1,000", "0x10", "1e305", "nan", "inf"])
def test_numbers_have_one_documented_format(write, value):
    cell = f'"{value}"' if "," in value else value
    err = _error(write(GOOD, ROW2.replace("22368.3", cell)))
    assert err.row == 3 and err.column == "value"
    assert err.value == value and err.expected


def test_plain_numbers_in_the_documented_format_pass(write):
    for value in ("1234", "1234.50", "1.2e3", "0.5", ".5"):
        frame = read_realisation_table(write(ROW2.replace("22368.3", value)), aggregate=False)
        assert frame["value_published"].iloc[0] == float(value)


def test_misspelt_optional_column_is_an_error(write):
    err = _error(write(GOOD, header=HEADER.replace("projects", "projets")))
    assert err.row == 1 and "unknown column projets" in err.problem


def test_integers_with_separators_are_rejected(write):
    err = _error(write(GOOD.replace(",32,", ",1_000,")))
    assert err.row == 2 and err.column == "projects"


@pytest.mark.parametrize("published", ["2025-13-45", "31/01/2025", "2025-02-30", "2025-1-5"])
def test_published_date_must_be_strict_iso(write, published, capsys):
    path = write(GOOD)
    err = _error(path, published=published)
    assert err.column == "published" and "YYYY-MM-DD" in err.expected
    with pytest.raises(SystemExit) as info:
        main(["data", "check", "--import", str(path), "--published", published, "-q"])
    assert info.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_every_import_error_through_the_cli_is_one_line_with_the_line(write, tmp_path, capsys):
    path = write(GOOD, ROW2.replace("22368.3", "1_000"))
    rc = main(["data", "check", "--import", str(path), "--out", str(tmp_path / "o"), "-q"])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "line 3" in err and "column 'value'" in err
    assert "Traceback" not in err


def test_formula_like_cells_are_neutralised_in_data_check_csvs(write, tmp_path):
    evil = '"=HYPERLINK(""http://x"",""y"")"'
    path = write(GOOD.replace("test table", evil), ROW2.replace("test table", "@SUM(A1)"))
    out = tmp_path / "check"
    assert main(["data", "check", "--import", str(path), "--out", str(out), "-q"]) == 0
    cells = []
    for table in out.glob("*.csv"):
        with table.open(newline="", encoding="utf-8") as handle:
            cells += [c for row in csv.reader(handle) for c in row]
    assert any("HYPERLINK" in c for c in cells), "the imported source should appear"
    live = [c for c in cells if c[:1] in ("=", "@", "+") or (c[:1] == "-" and "SUM" in c)]
    assert not live, f"formula-like cells written verbatim: {live[:3]}"


def test_unwritable_output_is_one_line_and_keeps_the_last_good_output(tmp_path, capsys):
    out = tmp_path / "check"
    assert main(["data", "check", "--out", str(out), "-q"]) == 0
    before = sorted(p.name for p in out.iterdir())
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    rc = main(["data", "check", "--out", str(blocker / "check"), "-q"])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(blocker) in err and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == before


def test_disk_full_while_writing_is_one_line_naming_the_path(tmp_path, monkeypatch, capsys):
    import errno

    import pandas as pd

    out = tmp_path / "check"
    assert main(["data", "check", "--out", str(out), "-q"]) == 0
    good = {p.name: p.read_bytes() for p in out.iterdir()}

    def full(self, path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    assert main(["data", "check", "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == good  # last good output intact
