"""Read a CSV against a declared schema, failing with the file, line and column at fault.

Every raw or imported table passes through :func:`read_table`. It reads all cells as
text (so nothing is coerced silently), checks the header, then checks each cell with its
column's rule, and returns typed columns plus ``_line``: the line of the row in the file
(header = line 1), so every later message can point back to it.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.errors import DataValidationError

__all__ = ["Column", "decimals_of", "read_table"]

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


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
        if not _DATE.match(text):
            raise fail("malformed date", "YYYY, YYYY-MM or YYYY-MM-DD")
        value = text
    elif col.kind == "int":
        try:
            value = int(text)
        except ValueError:
            raise fail("not an integer", "a whole number") from None
    elif col.kind in ("float", "amount"):
        try:
            number = float(text.replace(" ", ""))
        except ValueError:
            raise fail(
                "non-numeric value",
                "a plain number with '.' as decimal point and no thousands separator",
            ) from None
        if not math.isfinite(number):
            raise fail("non-finite value", "a finite number")
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


def read_table(
    path: str | Path,
    columns: Iterable[Column],
    *,
    key: Iterable[str] | None = None,
    label: str | None = None,
    allow_extra: bool = True,
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
        Accept columns that the schema does not declare (kept as text).

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
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise DataValidationError(label, "empty file", expected="a header line") from None
        names = {c.name for c in columns}
        missing = [c.name for c in columns if c.required and c.name not in header]
        if missing:
            raise DataValidationError(
                label,
                f"missing column(s) {', '.join(missing)}",
                row=1,
                expected="header with " + ", ".join(c.name for c in columns if c.required),
            )
        dupes = sorted({h for h in header if header.count(h) > 1})
        if dupes:
            raise DataValidationError(label, f"repeated column(s) {', '.join(dupes)}", row=1)
        if not allow_extra:
            extra = [h for h in header if h not in names]
            if extra:
                raise DataValidationError(
                    label,
                    f"unknown column(s) {', '.join(extra)}",
                    row=1,
                    expected="only " + ", ".join(c.name for c in columns),
                )
        present = [c for c in columns if c.name in header]
        index = {h: i for i, h in enumerate(header)}
        records: list[dict[str, object]] = []
        start = reader.line_num
        for raw in reader:
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
