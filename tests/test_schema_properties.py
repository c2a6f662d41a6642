"""Property tests of the schema reader: printed precision, line numbers, first fault."""

from __future__ import annotations

import csv
import math
import tempfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.base.errors import DataValidationError
from analysis.data.schema import Column, decimals_of, read_table

FEW = settings(max_examples=50, deadline=None)

SCHEMA = (
    Column("year", "int", bounds=(1960, 2100)),
    Column("label"),
    Column("value", "amount"),
    Column("share", "float", nullable=True, bounds=(0, 100)),
)
HEADER = ("year", "label", "value", "share")
LABEL = "data/test.csv"

# --- strategies --------------------------------------------------------------------------

amounts = st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False)
places = st.integers(min_value=0, max_value=8)


@st.composite
def printed_amount(draw: st.DrawFn) -> tuple[str, int]:
    """A non-negative amount printed with k decimals, and k."""
    k = draw(places)
    return f"{draw(amounts):.{k}f}", k


def _label_text(newlines: bool) -> st.SearchStrategy[str]:
    chars = st.characters(
        exclude_categories=("Cs", "Cc"), include_characters="\n" if newlines else ""
    )
    # read_table strips cells, so only stripped, non-empty text can come back unchanged.
    return st.text(chars, min_size=1, max_size=20).map(str.strip).filter(bool)


@st.composite
def valid_row(draw: st.DrawFn, newlines: bool = False) -> tuple[str, str, str, str, int]:
    """(year, label, value, share, decimals of value) as printed in the file."""
    year = draw(st.integers(1960, 2100))
    value, k = draw(printed_amount())
    share = draw(
        st.one_of(
            st.just(""),
            st.floats(0, 100, allow_nan=False).map(lambda x: f"{x:.2f}"),
        )
    )
    return str(year), draw(_label_text(newlines)), value, share, k


def valid_rows(newlines: bool = False, min_size: int = 1) -> st.SearchStrategy:
    return st.lists(valid_row(newlines), min_size=min_size, max_size=25)


# --- helpers -----------------------------------------------------------------------------


def _write(
    path: Path, rows: Sequence[Sequence[str]], blanks_before: Sequence[int] = ()
) -> list[int]:
    """Write header and rows (with blank lines before some) and return each row's line."""
    lines: list[int] = []
    line = 1
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for i, row in enumerate(rows):
            blanks = blanks_before[i] if i < len(blanks_before) else 0
            handle.write("\n" * blanks)
            line += blanks
            lines.append(line + 1)
            writer.writerow(row)
            # A record spans as many lines as the newlines inside its (quoted) cells.
            line += 1 + sum(cell.count("\n") for cell in row)
    return lines


def _read(rows: Sequence[Sequence[str]], blanks: Sequence[int] = (), **kwargs):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "test.csv"
        lines = _write(path, rows, blanks)
        return read_table(path, SCHEMA, label=LABEL, **kwargs), lines


def _raises(rows: Sequence[Sequence[str]], blanks: Sequence[int] = (), **kwargs):
    with pytest.raises(DataValidationError) as info:
        _read(rows, blanks, **kwargs)
    return info.value


# --- decimals_of -------------------------------------------------------------------------


@FEW
@given(printed_amount())
def test_decimals_of_fixed_point(printed: tuple[str, int]) -> None:
    text, k = printed
    assert decimals_of(text) == k


@FEW
@given(printed_amount(), st.sampled_from(["", " ", "  ", "\t"]))
def test_decimals_of_ignores_sign_and_padding(printed: tuple[str, int], pad: str) -> None:
    text, k = printed
    assert decimals_of(f"{pad}-{text}{pad}") == k


@FEW
@given(amounts, places)
def test_decimals_of_scientific_notation(x: float, k: int) -> None:
    text = f"{x:.{k}e}"  # e.g. 1.50e+02 is printed to the unit: 0 decimals
    exponent = int(text.partition("e")[2])
    assert decimals_of(text) == max(0, k - exponent)
    assert decimals_of(text.upper()) == decimals_of(text)


@FEW
@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimals_of_matches_decimal_exponent(number: Decimal) -> None:
    # Decimal keeps the printed precision: its exponent is minus the decimals shown.
    text = str(number)
    assert decimals_of(text) == max(0, -number.as_tuple().exponent)


# --- read_table --------------------------------------------------------------------------


@FEW
@given(valid_rows())
def test_valid_rows_all_come_back_in_order(rows) -> None:
    frame, lines = _read([r[:4] for r in rows])
    assert len(frame) == len(rows)
    assert frame["_line"].tolist() == list(range(2, len(rows) + 2)) == lines
    assert frame["year"].tolist() == [int(r[0]) for r in rows]
    assert frame["label"].tolist() == [r[1] for r in rows]
    assert frame["value"].tolist() == [float(r[2]) for r in rows]
    assert frame["value_decimals"].tolist() == [r[4] for r in rows]
    for got, row in zip(frame["share"].tolist(), rows, strict=True):
        if row[3] == "":
            assert math.isnan(got)  # an empty nullable cell is missing, not zero
        else:
            assert got == float(row[3])


@FEW
@given(valid_rows(), st.lists(st.integers(0, 3), max_size=25))
def test_blank_lines_are_skipped_but_counted(rows, blanks) -> None:
    frame, lines = _read([r[:4] for r in rows], blanks)
    assert len(frame) == len(rows)
    assert frame["_line"].tolist() == lines


@FEW
@given(valid_rows(newlines=True))
def test_multiline_cells_keep_the_first_line_of_each_record(rows) -> None:
    frame, lines = _read([r[:4] for r in rows])
    assert frame["label"].tolist() == [r[1] for r in rows]
    assert frame["_line"].tolist() == lines


@FEW
@given(valid_rows(), st.data())
def test_negative_amount_anywhere_names_its_line(rows, data) -> None:
    rows = [list(r[:4]) for r in rows]
    i = data.draw(st.integers(0, len(rows) - 1), label="row")
    k = data.draw(places, label="decimals")
    units = data.draw(st.integers(1, 10**9), label="units")
    rows[i][2] = f"-{units / 10**k:.{k}f}"  # at least one unit of the last place: < 0
    blanks = data.draw(st.lists(st.integers(0, 2), max_size=len(rows)), label="blanks")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "test.csv"
        lines = _write(path, rows, blanks)
        with pytest.raises(DataValidationError) as info:
            read_table(path, SCHEMA, label=LABEL)
    err = info.value
    assert err.problem == "negative amount"
    assert (err.file, err.row, err.column) == (LABEL, lines[i], "value")
    assert f"{LABEL}, line {lines[i]}, column 'value'" in str(err)


@FEW
@given(
    valid_rows(),
    st.data(),
    st.text(min_size=1, max_size=10).filter(
        lambda t: t.strip() != "" and "\r" not in t and not _is_float(t)
    ),
)
def test_non_numeric_amount_names_its_line(rows, data, token: str) -> None:
    rows = [list(r[:4]) for r in rows]
    i = data.draw(st.integers(0, len(rows) - 1), label="row")
    rows[i][2] = token
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "test.csv"
        lines = _write(path, rows)
        with pytest.raises(DataValidationError) as info:
            read_table(path, SCHEMA, label=LABEL)
    err = info.value
    assert (err.file, err.row, err.column) == (LABEL, lines[i], "value")
    assert err.problem in ("non-numeric value", "non-finite value") or (
        # control characters are refused before any parsing (their own test is below)
        any(c in token for c in CONTROL_CHARS)
        and ("control character" in err.problem or "NUL" in err.problem)
    )


# Every character the reader refuses: C0 controls but tab, line feed and carriage return; DEL;
# the C1 controls.
CONTROL_CHARS = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0)) if chr(c) not in "\t\n\r"]


def test_nul_byte_in_a_value_names_line_and_column() -> None:
    # Regression (issue 24): Hypothesis found that a NUL byte as the amount gave
    # ('data/test.csv', 2, None): the error named no column.
    err = _raises([("1960", "0", "\x00", "")])
    assert (err.file, err.row, err.column) == (LABEL, 2, "value")
    assert "NUL byte" in err.problem
    assert f"{LABEL}, line 2, column 'value'" in str(err)


@FEW
@given(valid_rows(newlines=True), st.data(), st.sampled_from(CONTROL_CHARS))
def test_control_character_anywhere_names_line_and_column(rows, data, char: str) -> None:
    rows = [list(r[:4]) for r in rows]
    i = data.draw(st.integers(0, len(rows) - 1), label="row")
    j = data.draw(st.integers(0, 3), label="column")
    cell = rows[i][j]
    at = data.draw(st.integers(0, len(cell)), label="position")
    rows[i][j] = cell[:at] + char + cell[at:]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "test.csv"
        lines = _write(path, rows)
        with pytest.raises(DataValidationError) as info:
            read_table(path, SCHEMA, label=LABEL)
    err = info.value
    # The line the character is on: the record's first line plus the line breaks before it.
    before = sum(c.count("\n") for c in rows[i][:j]) + cell[:at].count("\n")
    assert (err.file, err.row, err.column) == (LABEL, lines[i] + before, HEADER[j])
    assert f"U+{ord(char):04X}" in err.problem or "NUL" in err.problem


def test_control_character_in_the_header_names_line_1() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "test.csv"
        path.write_text("year,la\x07bel,value,share\n2000,x,1,\n", encoding="utf-8")
        with pytest.raises(DataValidationError) as info:
            read_table(path, SCHEMA, label=LABEL)
    assert (info.value.row, info.value.column) == (1, None)
    assert "U+0007" in info.value.problem


def _is_float(text: str) -> bool:
    try:
        float(text.strip().replace(" ", ""))
    except ValueError:
        return False
    return True


@FEW
@given(
    st.lists(valid_row(), min_size=1, max_size=20, unique_by=lambda r: (r[0], r[1])),
    st.data(),
)
def test_duplicate_key_names_the_later_line(rows, data) -> None:
    rows = [list(r[:4]) for r in rows]
    i = data.draw(st.integers(0, len(rows) - 1), label="original")
    j = data.draw(st.integers(i + 1, len(rows)), label="copy inserted at")
    copy = list(rows[i])
    copy[2] = data.draw(printed_amount(), label="value")[0]  # the key ignores the value
    rows.insert(j, copy)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "test.csv"
        lines = _write(path, rows)
        with pytest.raises(DataValidationError) as info:
            read_table(path, SCHEMA, key=("year", "label"), label=LABEL)
    err = info.value
    assert (err.file, err.row, err.column) == (LABEL, lines[j], "year+label")
    assert err.problem.endswith(f"on lines {lines[i]}, {lines[j]}")


@FEW
@given(valid_rows(), st.data())
def test_year_out_of_bounds_names_its_line(rows, data) -> None:
    rows = [list(r[:4]) for r in rows]
    i = data.draw(st.integers(0, len(rows) - 1), label="row")
    rows[i][0] = str(data.draw(st.integers(-(10**6), 1959) | st.integers(2101, 10**6)))
    err = _raises(rows)
    assert (err.row, err.column, err.problem) == (i + 2, "year", "out of range")


def test_header_only_file_gives_empty_table() -> None:
    # Regression: this raised KeyError('value_decimals') (numeric columns of an empty table).
    frame, _ = _read([])
    assert len(frame) == 0
    assert {"_line", "year", "label", "value", "value_decimals", "share"} <= set(frame.columns)
