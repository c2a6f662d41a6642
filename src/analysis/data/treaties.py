"""Indonesia's investment treaties (BITs) and tax treaties (DTAs), validated.

Sources: ``raw/treaties/indonesia_bits.csv`` and ``raw/treaties/indonesia_dtas.csv``
(compiled 2026-12-07, see ``raw/treaties/NOTES.md``). The dates are text as compiled
("1999 (DIE 2014); BKPM date 2004-01-22"); the loaders keep that text and add the date it
starts with and its precision, and never guess beyond it.

Reading a date text (:func:`parse_date_text`): the leading ``YYYY-MM-DD``, ``YYYY-MM`` or
``YYYY`` is the date; a month or year alone is a *window* (the whole month or year) within
which the event happened. :func:`treaty_status` turns a record into a status on a day:

- ``in_force`` from the end of the entry-into-force window (the first day surely in force)
  until the start of the termination window;
- ``not_in_force`` before the start of the entry-into-force window (or before signature), from
  the end of the termination window, and for treaties signed but not in force in 2026;
- ``unknown`` inside a window, and wherever the sources do not say (no entry-into-force
  date, a termination without date, ``status_2026`` ``unverified``, DTA ``unclear``). An
  unknown is never read as "not in force".

``status_2026`` is the status when the file was compiled (:data:`STATUS_AS_OF`): on and after
that day it decides; before it, only dated events do. A predecessor BIT described in the
``terminated`` column ("old 2005 BIT (in force 2006-06-21 per BKPM) expired 2016-06-20") is
its own record (flag ``predecessor``), so Singapore had a BIT in force 2006-2016 and again
from 2021-03-09. Investment chapters of trade agreements listed in the BIT file (IA-CEPA,
IK-CEPA, IJEPA, AANZFTA) carry flag ``investment_chapter``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from analysis.base import paths
from analysis.base.errors import DataValidationError
from analysis.base.vocab import is_partner_code
from analysis.data.provenance import verify_file
from analysis.data.schema import Column, read_table

__all__ = [
    "BITS_FILE",
    "DTAS_FILE",
    "STATUS_AS_OF",
    "TREATY_STATUSES",
    "DateText",
    "load_bits",
    "load_dtas",
    "parse_date_text",
    "treaty_status",
    "treaty_tables",
]

BITS_FILE = "raw/treaties/indonesia_bits.csv"
DTAS_FILE = "raw/treaties/indonesia_dtas.csv"
#: Day the treaty files were compiled: ``status_2026`` describes the status then.
STATUS_AS_OF = dt.date(2026, 12, 7)
#: Statuses of ``status_2026`` (BIT file), as compiled.
BIT_STATUSES = ("in force", "terminated", "signed not in force", "none found", "unverified")
TREATY_STATUSES = ("in_force", "not_in_force", "unknown")

_DATE = re.compile(r"^\s*(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?\b")
_PREDECESSOR = re.compile(r"old (\d{4}) BIT \(in force ([0-9-]+)[^)]*\) expired ([0-9-]+)", re.I)
_CHAPTER = re.compile(r"\b(CEPA|EPA|FTA|Ch\.\s?\d+|chapter)\b", re.I)


@dataclass(frozen=True)
class DateText:
    """A compiled date text read as a window: [start, end) with its precision."""

    text: str
    start: dt.date | None
    end: dt.date | None
    precision: str  # day, month, year or none

    @property
    def known(self) -> bool:
        return self.start is not None


def parse_date_text(text: object) -> DateText:
    """Read the leading ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` of a text as a window."""
    s = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
    m = _DATE.match(s)
    if not m:
        return DateText(s, None, None, "none")
    year = int(m.group(1))
    if m.group(3):
        day = dt.date(year, int(m.group(2)), int(m.group(3)))
        return DateText(s, day, day, "day")
    if m.group(2):
        month = int(m.group(2))
        if not 1 <= month <= 12:
            return DateText(s, None, None, "none")
        start = dt.date(year, month, 1)
        return DateText(s, start, dt.date(year + month // 12, month % 12 + 1, 1), "month")
    return DateText(s, dt.date(year, 1, 1), dt.date(year + 1, 1, 1), "year")


def _valid_date_text(text: str) -> bool:
    m = _DATE.match(text)
    if not m:
        return True  # free text without a date ("ratified (listed among ...)") is kept
    try:
        parse_date_text(text)
        if m.group(3):
            dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        elif m.group(2) and not 1 <= int(m.group(2)) <= 12:
            return False
    except ValueError:
        return False
    return True


def treaty_status(
    day: dt.date,
    *,
    signed: DateText,
    in_force: DateText,
    terminated: DateText,
    terminated_undated: bool = False,
    status_now: str = "unknown",
) -> str:
    """Status of one treaty on ``day`` under the module's rule.

    ``status_now`` is the compiled status (``in_force``, ``not_in_force``, ``unknown``)
    valid from :data:`STATUS_AS_OF`; ``terminated_undated`` marks a termination the sources
    state without a date.
    """
    if signed.known and day < signed.start:  # type: ignore[operator]
        return "not_in_force"
    if in_force.known and day < in_force.start:  # type: ignore[operator]
        return "not_in_force"
    if terminated.known:
        if day >= terminated.end:  # type: ignore[operator]
            return "not_in_force"
        if day >= terminated.start:  # type: ignore[operator]
            return "unknown"
    if in_force.known and day < in_force.end:  # type: ignore[operator]
        return "unknown"
    if day >= STATUS_AS_OF:
        return status_now
    if in_force.known:
        # In force since a dated entry into force; a termination without a date leaves
        # everything after that entry unknown.
        return "unknown" if terminated_undated else "in_force"
    if status_now == "not_in_force" and not terminated_undated:
        return "not_in_force"  # signed, never in force
    return "unknown"


_DATE_TEXT = "a text starting with a real date (YYYY, YYYY-MM or YYYY-MM-DD), or no date"
_BIT_COLUMNS = (
    Column("partner"),
    Column(
        "iso3",
        check=lambda s: len(s) == 3 and is_partner_code(s),
        expected="an ISO 3166 alpha-3 code",
    ),
    Column("treaty"),
    Column("signed", nullable=True, check=_valid_date_text, expected=_DATE_TEXT),
    Column("in_force", nullable=True, check=_valid_date_text, expected=_DATE_TEXT),
    Column("terminated", nullable=True),
    Column(
        "status_2026",
        check=lambda s: s in BIT_STATUSES,
        expected=", ".join(BIT_STATUSES),
    ),
    Column("source_url", nullable=True),
    Column("published", nullable=True),
    Column("note", nullable=True),
)

_STATUS_NOW = {
    "in force": "in_force",
    "terminated": "not_in_force",
    "signed not in force": "not_in_force",
    "unverified": "unknown",
}


def load_bits(root: str | Path | None = None) -> pd.DataFrame:
    """Load the investment treaties, one row per instrument (predecessor BITs split out).

    Returns
    -------
    pandas.DataFrame
        ``iso3, partner, treaty, signed, in_force, terminated`` (texts as compiled),
        ``signed_date``, ``in_force_date``, ``in_force_precision``, ``terminated_date``,
        ``terminated_precision`` (window starts), ``status_2026`` as compiled and
        ``status_now`` (``in_force``, ``not_in_force``, ``unknown``; empty for ``none
        found`` rows, which name no instrument), ``flags``, ``source``, ``published``,
        ``note``, ``file``, ``line``.

    Raises
    ------
    DataValidationError
        A bad cell (file, line, column): unknown partner code, a status outside
        :data:`BIT_STATUSES`, a date text starting with an impossible date.
    """
    root = Path(root) if root is not None else paths.DATA
    verify_file(BITS_FILE, root=root)
    label = f"data/{BITS_FILE}"
    raw = read_table(root / BITS_FILE, _BIT_COLUMNS, key=("iso3", "treaty"), label=label)
    rows = []
    for rec in raw.to_dict("records"):

        def text(col: str, rec: dict = rec) -> str:
            v = rec[col]
            return "" if v is None or pd.isna(v) else str(v)

        status = str(rec["status_2026"])
        if status != "none found" and not text("source_url"):
            raise DataValidationError(
                label,
                "empty cell",
                row=int(rec["_line"]),
                column="source_url",
                expected="the source of every treaty row (only 'none found' rows may omit it)",
            )
        flags: list[str] = []
        terminated = text("terminated")
        pred = _PREDECESSOR.search(terminated)
        if _CHAPTER.search(str(rec["treaty"])):
            flags.append("investment_chapter")
        if re.search(r"sunset", text("note"), re.I):
            flags.append("sunset_clause")
        if status == "unverified":
            flags.append("status_unverified")
        base = {
            "iso3": str(rec["iso3"]),
            "partner": str(rec["partner"]),
            "source": text("source_url"),
            "published": text("published"),
            "note": text("note"),
            "file": label,
            "line": int(rec["_line"]),
        }
        if pred:
            p_eif, p_end = parse_date_text(pred.group(2)), parse_date_text(pred.group(3))
            rows.append(
                {
                    **base,
                    "treaty": f"{pred.group(1)} BIT (predecessor of {rec['treaty']})",
                    "signed": pred.group(1),
                    "in_force": pred.group(2),
                    "terminated": pred.group(3),
                    "signed_date": dt.date(int(pred.group(1)), 1, 1),
                    "in_force_date": p_eif.start,
                    "in_force_precision": p_eif.precision,
                    "terminated_date": p_end.start,
                    "terminated_precision": p_end.precision,
                    "terminated_undated": False,
                    "status_2026": "terminated",
                    "status_now": "not_in_force",
                    "flags": "predecessor",
                }
            )
            terminated = ""  # the column described the predecessor, not this treaty
        signed, eif, term = (
            parse_date_text(text("signed")),
            parse_date_text(text("in_force")),
            parse_date_text(terminated),
        )
        undated = bool(terminated) and not term.known
        if undated:
            flags.append("terminated_undated")
        for name, dtext in (("in_force", eif), ("terminated", term)):
            if dtext.precision in ("month", "year"):
                flags.append(f"{name}_{dtext.precision}_only")
        rows.append(
            {
                **base,
                "treaty": str(rec["treaty"]),
                "signed": text("signed"),
                "in_force": text("in_force"),
                "terminated": text("terminated"),
                "signed_date": signed.start,
                "in_force_date": eif.start,
                "in_force_precision": eif.precision,
                "terminated_date": term.start,
                "terminated_precision": term.precision,
                "terminated_undated": undated,
                "status_2026": status,
                "status_now": _STATUS_NOW.get(status, ""),
                "flags": ";".join(flags),
            }
        )
    return pd.DataFrame(rows)


_DTA_COLUMNS = (
    Column("partner"),
    Column(
        "iso3",
        check=lambda s: len(s) == 3 and is_partner_code(s),
        expected="an ISO 3166 alpha-3 code",
    ),
    Column(
        "in_force", check=lambda s: s in ("yes", "no", "unclear"), expected="yes, no or unclear"
    ),
    Column(
        "in_force_year",
        nullable=True,
        check=lambda s: bool(re.match(r"^\d{4}\b", s)),
        expected="a text starting with a year (YYYY)",
    ),
    Column("source_url"),
    Column("note", nullable=True),
)


def load_dtas(root: str | Path | None = None) -> pd.DataFrame:
    """Load the tax treaties (P3B), one row per partner.

    Returns
    -------
    pandas.DataFrame
        ``iso3, partner, in_force`` (``yes``/``no``/``unclear`` as compiled),
        ``in_force_year`` (text) and ``in_force_date`` (start of that year, or None),
        ``status_now`` (``in_force``, ``not_in_force``, ``unknown``), ``source``, ``note``,
        ``file``, ``line``. A ``yes`` without a year is in force in 2026 and *unknown*
        before (years were mostly not captured).
    """
    root = Path(root) if root is not None else paths.DATA
    verify_file(DTAS_FILE, root=root)
    label = f"data/{DTAS_FILE}"
    raw = read_table(root / DTAS_FILE, _DTA_COLUMNS, key=("iso3",), label=label)
    rows = []
    for rec in raw.to_dict("records"):
        year_text = "" if pd.isna(rec["in_force_year"]) else str(rec["in_force_year"])
        eif = parse_date_text(year_text)
        flag = {"yes": "", "no": "", "unclear": "status_unclear"}[str(rec["in_force"])]
        rows.append(
            {
                "iso3": str(rec["iso3"]),
                "partner": str(rec["partner"]),
                "in_force": str(rec["in_force"]),
                "in_force_year": year_text,
                "in_force_date": eif.start,
                "in_force_precision": eif.precision,
                "status_now": {"yes": "in_force", "no": "not_in_force", "unclear": "unknown"}[
                    str(rec["in_force"])
                ],
                "flags": ";".join(f for f in (flag, "" if eif.known else "year_unknown") if f),
                "source": str(rec["source_url"]),
                "note": "" if pd.isna(rec["note"]) else str(rec["note"]),
                "file": label,
                "line": int(rec["_line"]),
            }
        )
    return pd.DataFrame(rows)


@cache
def _cached(which: str, root: str, sha256: str) -> pd.DataFrame:
    # keyed by the file's hash: an edited file is read again
    return load_bits(Path(root)) if which == "bits" else load_dtas(Path(root))


def treaty_tables(root: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(BITs, DTAs) as :func:`load_bits` and :func:`load_dtas` give them, read once per
    file version (do not modify the returned frames)."""
    root = Path(root) if root is not None else paths.DATA
    key = str(root.resolve())
    return (
        _cached("bits", key, verify_file(BITS_FILE, root=root)),
        _cached("dtas", key, verify_file(DTAS_FILE, root=root)),
    )
