"""Read a CSV against a declared schema, failing with the file, line and column at fault.

Every raw or imported table passes through :func:`read_table`. It reads all cells as
text (so nothing is coerced silently), checks the header, then checks each cell with its
column's rule, and returns typed columns plus ``_line``: the line of the row in the file
(header = line 1), so every later message can point back to it.

The accepted format, stated once (files come from users, so nothing else is guessed at):

- **Encoding** UTF-8, with or without a byte-order mark. UTF-16 (Excel's "Unicode text"),
  Latin-1/Windows-1252 bytes and binary files are errors naming the line and column.
- **CSV** comma separated, text with commas or quotes inside double quotes (``"a, b"``,
  ``"a ""b"" c"``); a quote left open, or text after a closing quote, is an error at the
  line where the record starts. A field longer than :data:`MAX_FIELD_CHARS` is an error.
- **Columns** as the schema declares them; a column the schema does not know is an error
  (a misspelt optional column is not silently ignored) unless the reader allows extras.
- **Numbers** plain: optional sign, digits, ``.`` as decimal point, optional exponent
  (``1234.5``, ``-0.5``, ``1.2e3``). No thousands separators, spaces or underscores
  (``1,234``, ``1 234``, ``1_234`` are errors); finite and at most :data:`MAX_MAGNITUDE`
  in absolute value (so no later unit conversion can overflow); a column may bound it
  further (the import format's ``value``: at most 1e12 in its unit).
- **Dates** ISO 8601: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, a real calendar date.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.base.errors import DataValidationError
from analysis.base.i18n import count

__all__ = ["MAX_FIELD_CHARS", "MAX_MAGNITUDE", "Column", "decimals_of", "read_table"]

_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
#: Longest text accepted in one cell (the longest shipped note is under 600 characters).
MAX_FIELD_CHARS = 10_000
#: Largest absolute number accepted in any numeric cell, in the file's unit: far above any
#: real figure (world GDP is about 1e14 US$), far below where a unit conversion overflows.
MAX_MAGNITUDE = 1e18


@dataclass(frozen=True)
class Column:
    """One column of a table schema.

    Parameters
    ----------
    name
        Column name in the header.
    kind
        ``str``, ``int``, ``amount`` (finite, non-negative number), ``float`` (finite
        number), or ``date`` (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``).
    required
        The column must be present in the header.
    nullable
        An empty cell is accepted (read as missing).
    check
        Extra rule on the stripped text of a non-empty cell; returns True when valid.
    expected
        Words for the error message when ``check`` fails.
    bounds
        Inclusive (low, high) for ``int`` and ``float`` columns.
    """

    name: str
    kind: str = "str"
    required: bool = True
    nullable: bool = False
    check: Callable[[str], bool] | None = None
    expected: str = ""
    bounds: tuple[float, float] | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)


def _csv_error(label: str, exc: csv.Error, line: int) -> DataValidationError:
    text = str(exc)
    if "unexpected end of data" in text or "EOF" in text:
        problem = "unterminated quote: a field opened with '\"' on this line is never closed"
    elif "field larger than field limit" in text:
        problem = f"a field longer than {csv.field_size_limit():,} characters"
    else:
        problem = f"malformed CSV ({text})"
    return DataValidationError(
        label,
        problem,
        row=line,
        expected='text with commas or quotes inside "double quotes", each quote closed '
        'and doubled inside ("a ""b"" c")',
    )


def decimals_of(text: str) -> int:
    """Return the number of decimals printed in a numeric string (``"12.50"`` -> 2)."""
    text = text.strip().lower()
    if "e" in text:
        mantissa, _, exp = text.partition("e")
        return max(0, decimals_of(mantissa) - int(exp))
    return len(text.split(".", 1)[1]) if "." in text else 0


def _parse(col: Column, text: str, file: str, line: int) -> object:
    def fail(problem: str, expected: str) -> DataValidationError:
        return DataValidationError(
            file, problem, row=line, column=col.name, expected=expected, value=text
        )

    if col.kind == "str":
        value: object = text
    elif col.kind == "date":
        if not _valid_date(text):
            raise fail("malformed date", "YYYY, YYYY-MM or YYYY-MM-DD (a real calendar date)")
        value = text
    elif col.kind == "int":
        if not re.fullmatch(r"[-+]?\d{1,18}", text):
            raise fail("not an integer", "a whole number written with digits only")
        value = int(text)
    elif col.kind in ("float", "amount"):
        plain = "a plain number with '.' as decimal point and no thousands separator"
        if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
            raise fail("non-finite value", "a finite number")
        if not _NUMBER.fullmatch(text):
            raise fail("non-numeric value", plain)
        number = float(text)
        if not math.isfinite(number) or abs(number) > MAX_MAGNITUDE:
            raise fail("number too large", f"at most {MAX_MAGNITUDE:g} in absolute value")
        if col.kind == "amount" and number < 0:
            raise fail("negative amount", "an amount >= 0 (realised investment is never negative)")
        value = number
    else:  # pragma: no cover - schema author error
        raise ValueError(f"unknown column kind {col.kind!r}")
    if col.bounds is not None and isinstance(value, int | float):
        low, high = col.bounds
        if not low <= value <= high:
            raise fail("out of range", f"a value between {low:g} and {high:g}")
    if col.check is not None and not col.check(text):
        raise fail(f"invalid {col.name}", col.expected or "a valid value")
    return value


def _valid_date(text: str) -> bool:
    m = _DATE.fullmatch(text)
    if not m:
        return False
    year, month, day = m.group(1), m.group(2), m.group(3)
    try:
        dt.date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return False
    return True


def _column_at(text: str, pos: int, header: list[str] | None) -> str | None:
    """Name of the column holding character ``pos`` of ``text`` (quotes respected)."""
    if not header:
        return None
    start = text.rfind("\n", 0, pos) + 1
    field, quoted = 0, False
    for ch in text[start:pos]:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            field += 1
    return header[field] if field < len(header) else None


def _decode(path: Path, label: str) -> str:
    """The file's text, or an error naming the encoding problem, line and column."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataValidationError(label, f"cannot be read ({exc.strerror or exc})") from None
    expected = "a CSV file saved as UTF-8 (in Excel: 'CSV UTF-8 (Comma delimited)')"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataValidationError(
            label, "file is UTF-16 (Excel's 'Unicode text')", row=1, expected=expected
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8-sig", errors="replace")
        first = good.split("\n", 1)[0] if "\n" in good else None
        header = next(csv.reader([first])) if first else None
        raise DataValidationError(
            label,
            f"byte 0x{data[exc.start]:02x} is not UTF-8 (Latin-1, Windows-1252 or binary?)",
            row=good.count("\n") + 1,
            column=_column_at(good, len(good), header),
            expected=expected,
        ) from None
    bad = _CONTROL.search(text)
    if bad:
        pos = bad.start()
        row, column = _locate(text, pos)
        char = bad.group()
        problem = (
            "NUL byte: this is a binary file, not CSV text"
            if char == "\x00"
            else f"control character U+{ord(char):04X} (binary data or a damaged export?)"
        )
        raise DataValidationError(label, problem, row=row, column=column, expected=expected)
    return text


#: Characters no CSV text cell may hold: C0 controls except tab, line feed and carriage
#: return, DEL, and the C1 controls (a sign of a Windows-1252 file decoded wrongly or binary).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _locate(text: str, pos: int) -> tuple[int, str | None]:
    """Physical line of character ``pos`` and the name of the column holding it.

    Scans from the start with the CSV quoting rules, so a cell spanning lines (quoted line
    breaks) and commas inside quotes are attributed correctly. The column is ``None`` for a
    character in the header line or beyond the header's last column.
    """
    first_end = text.find("\n")
    header_text = text if first_end < 0 else text[:first_end]
    if pos <= len(header_text):
        return 1, None
    try:
        header = [h.strip() for h in next(csv.reader([header_text]))]
    except (csv.Error, StopIteration):
        header = []
    field, quoted = 0, False
    for ch in text[first_end + 1 : pos]:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == ",":
            field += 1
        elif not quoted and ch == "\n":
            field = 0
    row = text.count("\n", 0, pos) + 1
    return row, header[field] if field < len(header) else None


def read_table(
    path: str | Path,
    columns: Iterable[Column],
    *,
    key: Iterable[str] | None = None,
    label: str | None = None,
    allow_extra: bool = False,
) -> pd.DataFrame:
    """Read and validate a CSV file.

    Parameters
    ----------
    path
        The CSV file (UTF-8, comma separated, header in the first line).
    columns
        The schema.
    key
        Columns that must be unique together; a repeated key is an error naming both lines.
    label
        Name used in messages instead of the path (e.g. ``data/raw/bkpm/x.csv``).
    allow_extra
        Accept columns that the schema does not declare (kept as text); by default they
        are an error (declare optional columns with ``required=False``).

    Returns
    -------
    pandas.DataFrame
        Typed columns (``Int64``, ``float64``, ``string``), numeric columns also as
        ``<name>_decimals`` (printed precision), and ``_line``.

    Raises
    ------
    DataValidationError
        On the first fault, naming file, line, column and what was expected.
    """
    path = Path(path)
    label = label or str(path)
    columns = list(columns)
    if not path.is_file():
        raise DataValidationError(label, "file not found", expected="an existing CSV file")
    text = _decode(path, label)
    with io.StringIO(text, newline="") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise DataValidationError(label, "empty file", expected="a header line") from None
        except csv.Error as exc:
            raise _csv_error(label, exc, 1) from None
        names = {c.name for c in columns}
        missing = [c.name for c in columns if c.required and c.name not in header]
        if missing:
            raise DataValidationError(
                label,
                f"missing {count(len(missing), 'columns_named', names=', '.join(missing))}",
                row=1,
                expected="header with " + ", ".join(c.name for c in columns if c.required),
            )
        dupes = sorted({h for h in header if header.count(h) > 1})
        if dupes:
            raise DataValidationError(
                label,
                f"repeated {count(len(dupes), 'columns_named', names=', '.join(dupes))}",
                row=1,
            )
        if not allow_extra:
            extra = [h for h in header if h not in names]
            if extra:
                raise DataValidationError(
                    label,
                    f"unknown {count(len(extra), 'columns_named', names=', '.join(extra))}",
                    row=1,
                    expected="only " + ", ".join(c.name for c in columns),
                )
        present = [c for c in columns if c.name in header]
        index = {h: i for i, h in enumerate(header)}
        records: list[dict[str, object]] = []
        start = reader.line_num
        rows = iter(reader)
        while True:
            try:
                raw = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:
                raise _csv_error(label, exc, start + 1) from None
            line = start + 1
            start = reader.line_num
            if not any(cell.strip() for cell in raw):
                continue  # blank line
            if len(raw) != len(header):
                raise DataValidationError(
                    label,
                    f"row has {len(raw)} fields",
                    row=line,
                    expected=f"{len(header)} fields as in the header (quote commas inside text)",
                )
            record: dict[str, object] = {"_line": line}
            for h, cell in zip(header, raw, strict=True):
                if len(cell) > MAX_FIELD_CHARS:
                    raise DataValidationError(
                        label,
                        f"field of {len(cell):,} characters",
                        row=line,
                        column=h,
                        expected=f"at most {MAX_FIELD_CHARS:,} characters",
                    )
            for col in present:
                text = raw[index[col.name]].strip()
                if text == "":
                    if not col.nullable:
                        raise DataValidationError(
                            label,
                            "empty cell",
                            row=line,
                            column=col.name,
                            expected=col.expected or f"a {col.kind} value",
                        )
                    record[col.name] = None
                    if col.kind in ("float", "amount"):
                        record[col.name + "_decimals"] = None
                    continue
                record[col.name] = _parse(col, text, label, line)
                if col.kind in ("float", "amount"):
                    record[col.name + "_decimals"] = decimals_of(text)
            for h in header:
                if h not in names:
                    record[h] = raw[index[h]]
            records.append(record)
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        empty = ["_line"]
        for c in present:
            empty.append(c.name)
            if c.kind in ("float", "amount"):
                empty.append(c.name + "_decimals")
        frame = pd.DataFrame(columns=empty)
    for col in present:
        if col.kind == "int":
            frame[col.name] = frame[col.name].astype("Int64")
        elif col.kind in ("float", "amount"):
            frame[col.name] = frame[col.name].astype("float64")
            frame[col.name + "_decimals"] = frame[col.name + "_decimals"].astype("Int64")
        else:
            frame[col.name] = frame[col.name].astype("string")
    for col in columns:  # optional columns absent from the file
        if col.name not in frame:
            frame[col.name] = pd.Series(pd.NA, index=frame.index, dtype="string")
    if key is not None:
        key = list(key)
        dup = frame.duplicated(key, keep=False)
        if dup.any():
            rows = frame.loc[dup]
            first = rows.iloc[0]
            same = rows[(rows[key].astype(str) == first[key].astype(str)).all(axis=1)][
                "_line"
            ].tolist()
            raise DataValidationError(
                label,
                "duplicate key "
                + ", ".join(f"{k}={first[k]}" for k in key)
                + f" on lines {', '.join(map(str, same))}",
                row=int(same[-1]),
                column="+".join(key),
                expected="each key once",
            )
    return frame
