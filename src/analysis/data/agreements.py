"""Indonesia's trade and investment agreements as data: which are in force, when, for whom.

Sources: ``data/raw/partners/agreements_eif.csv`` and the later compilation
``agreements_eif_additions.csv``. Where both list the same bloc (same ``partner_or_bloc``),
the additions row replaces the earlier one: it was compiled later from the agreement texts and
Indonesian regulations that the first file had not found.

One rule reads the entry-into-force text ``in_force_for_indonesia``:

- ``YYYY-MM-DD`` (optionally followed by words): in force from that day;
- ``YYYY-MM`` (month only): in force from the **first day of the following month**, the
  earliest date by which the agreement was surely in force, flagged ``eif_month_only``;
- a date the source calls ``general`` (the agreement's general entry into force, Indonesia's
  own date not found): counted from that date, flagged ``eif_general_date``;
- ``UNCERTAIN`` in the text adds the flag ``eif_uncertain``;
- ``NOT FOUND``, ``NOT CONFIRMED``, ``NOT IN FORCE`` (or no date): not in force, flagged
  ``eif_not_found`` / ``not_in_force``. A gap in the sources is never read as "in force".

For a year, an agreement counts when it is in force on **1 July** (in force for at least half
of the year), the convention of the gravity covariate.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.data.provenance import verify_file
from analysis.data.schema import Column, read_table
from analysis.errors import DataValidationError
from analysis.vocab import is_partner_code

__all__ = ["Agreement", "agreements_table", "in_force", "load_agreements"]

FILES = ("raw/partners/agreements_eif.csv", "raw/partners/agreements_eif_additions.csv")
#: Day of the year on which an agreement must be in force to count for that year.
YEAR_CUTOFF = (7, 1)

_FULL = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\b")
_MONTH = re.compile(r"^\s*(\d{4})-(\d{2})\b(?!-)")
_NOT = re.compile(r"NOT (FOUND|CONFIRMED|IN FORCE)")


@dataclass(frozen=True)
class Agreement:
    """One agreement as it applies to Indonesia's partners.

    Attributes
    ----------
    name
        The agreement's name as compiled.
    bloc
        ``partner_or_bloc`` of the source row.
    members
        ISO alpha-3 codes of the partner economies (Indonesia excluded).
    in_force_from
        First day in force for Indonesia under the rule, or None (not in force / not found).
    flags
        ``eif_month_only``, ``eif_general_date``, ``eif_uncertain``, ``eif_not_found``,
        ``not_in_force``.
    text
        The entry-into-force text as compiled, and ``source`` the URL, ``line`` file:line.
    """

    name: str
    bloc: str
    members: tuple[str, ...]
    in_force_from: dt.date | None
    flags: tuple[str, ...]
    text: str
    source: str
    line: str


def parse_entry_into_force(text: str) -> tuple[dt.date | None, tuple[str, ...]]:
    """Apply the module's rule to an entry-into-force text; return (date or None, flags)."""
    text = str(text or "")
    flags: list[str] = []
    if "UNCERTAIN" in text:
        flags.append("eif_uncertain")
    if re.search(r"\bgeneral\b", text, re.I):
        flags.append("eif_general_date")
    if _NOT.search(text):
        flags.append("not_in_force" if "NOT IN FORCE" in text else "eif_not_found")
        return None, tuple(sorted(flags))
    m = _FULL.match(text)
    if m:
        return dt.date(int(m[1]), int(m[2]), int(m[3])), tuple(sorted(flags))
    m = _MONTH.match(text)
    if m:
        year, month = int(m[1]), int(m[2])
        first_next = dt.date(year + month // 12, month % 12 + 1, 1)
        return first_next, tuple(sorted({*flags, "eif_month_only"}))
    return None, tuple(sorted({*flags, "eif_not_found"}))


def _members_ok(text: str) -> bool:
    return all(is_partner_code(c) and len(c) == 3 for c in text.split()) and bool(text.split())


@cache
def _load(root: str, hashes: tuple[str, ...]) -> tuple[Agreement, ...]:
    # ``hashes`` (the files' sha256) keys the memo: an edited file is read again.
    base = Path(root)
    per_file: list[list[Agreement]] = []
    for rel in FILES:
        verify_file(rel, root=base)
        raw = read_table(
            base / rel,
            [
                Column("partner_or_bloc"),
                Column(
                    "members_iso3",
                    check=_members_ok,
                    expected="ISO alpha-3 codes separated by spaces",
                ),
                Column("agreement"),
                Column("signed", nullable=True),
                Column("in_force_for_indonesia"),
                Column("source_url"),
                Column("note", nullable=True),
            ],
            key=("partner_or_bloc", "agreement"),
            label=f"data/{rel}",
        )
        rows = []
        for r in raw.rename(columns={"_line": "line_no"}).itertuples(index=False):
            date, flags = parse_entry_into_force(str(r.in_force_for_indonesia))
            rows.append(
                Agreement(
                    name=str(r.agreement),
                    bloc=str(r.partner_or_bloc),
                    members=tuple(c for c in str(r.members_iso3).split() if c != "IDN"),
                    in_force_from=date,
                    flags=flags,
                    text=str(r.in_force_for_indonesia),
                    source=str(r.source_url),
                    line=f"data/{rel}:{r.line_no}",
                )
            )
        per_file.append(rows)
    earlier, additions = per_file
    # The additions file replaces every earlier row of a bloc it lists (a later compilation
    # from the agreement texts and Indonesian regulations).
    replaced = {a.bloc for a in additions}
    return tuple([a for a in earlier if a.bloc not in replaced] + additions)


def load_agreements(root: str | Path | None = None) -> list[Agreement]:
    """Return every agreement after the additions file replaced earlier rows of its bloc."""
    root = Path(root) if root is not None else paths.DATA
    hashes = tuple(verify_file(rel, root=root) for rel in FILES)
    return list(_load(str(root.resolve()), hashes))


def _check_iso3(iso3: str, parameter: str = "iso3") -> None:
    if not (isinstance(iso3, str) and len(iso3) == 3 and is_partner_code(iso3)):
        raise DataValidationError(
            "agreements",
            "unknown economy code",
            column=parameter,
            value=iso3,
            expected="an ISO 3166 alpha-3 code",
        )


def _as_date(date: object) -> dt.date:
    try:
        return pd.Timestamp(date).date()  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DataValidationError(
            "agreements",
            "not a date",
            column="date",
            value=date,
            expected="a date such as 2024-07-01",
        ) from None


def in_force(iso3: str, date: object, root: str | Path | None = None) -> list[str]:
    """Return the agreements with Indonesia in force for a partner on a date.

    Parameters
    ----------
    iso3
        ISO alpha-3 code of the partner.
    date
        Anything :class:`pandas.Timestamp` reads (``"2024-07-01"``, a ``date``).

    Examples
    --------
    >>> "Regional Comprehensive Economic Partnership" in in_force("CHN", "2023-01-02")
    True
    >>> in_force("DEU", "2024-07-01")
    []
    """
    _check_iso3(iso3)
    day = _as_date(date)
    return sorted(
        a.name
        for a in load_agreements(root)
        if iso3 in a.members and a.in_force_from is not None and a.in_force_from <= day
    )


def agreements_table(
    iso3s: Iterable[str],
    years: Sequence[int] | Iterable[int],
    root: str | Path | None = None,
) -> pd.DataFrame:
    """Return one row per partner x year x agreement the partner is party to.

    A partner party to no listed agreement gets one row per year with ``agreement`` empty,
    ``in_force`` False and flag ``no_agreement_listed``.

    Returns
    -------
    pandas.DataFrame
        ``iso3, year, agreement, in_force, flags`` (plus ``in_force_from`` and ``source``);
        ``in_force`` means in force on 1 July of the year.
    """
    iso3s = list(iso3s)
    years = [int(y) for y in years]
    for code in iso3s:
        _check_iso3(code, "iso3s")
    agreements = load_agreements(root)
    rows = []
    for code in iso3s:
        mine = [a for a in agreements if code in a.members]
        for year in years:
            cutoff = dt.date(year, *YEAR_CUTOFF)
            if not mine:
                rows.append(
                    {
                        "iso3": code,
                        "year": year,
                        "agreement": "",
                        "in_force": False,
                        "flags": "no_agreement_listed",
                        "in_force_from": None,
                        "source": "",
                    }
                )
            for a in mine:
                rows.append(
                    {
                        "iso3": code,
                        "year": year,
                        "agreement": a.name,
                        "in_force": a.in_force_from is not None and a.in_force_from <= cutoff,
                        "flags": ";".join(a.flags),
                        "in_force_from": a.in_force_from,
                        "source": a.source,
                    }
                )
    return pd.DataFrame(
        rows, columns=["iso3", "year", "agreement", "in_force", "flags", "in_force_from", "source"]
    )
