"""Indonesia's trade and investment agreements as data: which are in force, when, for whom.

Sources: ``data/raw/partners/agreements_eif.csv``, the later compilation
``agreements_eif_additions.csv`` and the corrections of 2026-12-07
``agreements_eif_corrections.csv``. Each later file replaces every earlier row of a bloc it
lists (same ``partner_or_bloc``): it was compiled later from the agreement texts and
Indonesian regulations that the earlier file had not found. The corrections win over both
(AJCEP from 2018-03-01, AHKFTA from 2020-07-04, ACFTA 2005-07-20, AKFTA 2007-07-01, the
Pakistan PTA 2013-09-01; EAEU, Peru, Iran and the EU signed or concluded, not in force);
:func:`replaced_rows` lists every row a later file replaced.

One rule reads the entry-into-force text ``in_force_for_indonesia``:

- ``YYYY-MM-DD`` (optionally followed by words): in force from that day;
- ``YYYY-MM`` (month only): in force from the **first day of the following month**, the
  earliest date by which the agreement was surely in force, flagged ``eif_month_only``;
- a date the source calls ``general`` (the agreement's general entry into force, Indonesia's
  own date not found): counted from that date, flagged ``eif_general_date``;
- ``UNCERTAIN`` in the text adds the flag ``eif_uncertain``;
- ``NOT IN FORCE``: not in force (flag ``not_in_force``);
- ``NOT FOUND``, ``NOT CONFIRMED`` (or no date): the date is *unknown* (flag
  ``eif_not_found``): :func:`in_force` does not list it (a gap in the sources is never read
  as "in force") and :func:`instruments` / :func:`agreements_table` give it status
  ``unknown`` (never "not in force"), except before its signature, when it cannot have been
  in force. Inside a month-only window the status is ``unknown`` too.

:func:`instruments` adds Indonesia's investment treaties and tax treaties
(:mod:`analysis.data.treaties`), each record with its ``kind`` (``trade_agreement``,
``investment_treaty``, ``tax_treaty``) and ``status`` (``in_force``, ``not_in_force``,
``unknown``).

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

from analysis.base import paths
from analysis.base.errors import DataValidationError
from analysis.base.vocab import is_partner_code
from analysis.data.provenance import verify_file
from analysis.data.schema import Column, read_table

__all__ = [
    "INSTRUMENT_KINDS",
    "Agreement",
    "Instrument",
    "agreement_status",
    "agreements_table",
    "in_force",
    "instruments",
    "instruments_of",
    "instruments_table",
    "load_agreements",
    "replaced_rows",
]

FILES = (
    "raw/partners/agreements_eif.csv",
    "raw/partners/agreements_eif_additions.csv",
    "raw/partners/agreements_eif_corrections.csv",
)
INSTRUMENT_KINDS = ("trade_agreement", "investment_treaty", "tax_treaty")
#: Day of the year on which an agreement must be in force to count for that year.
YEAR_CUTOFF = (7, 1)

_FULL = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\b")
_MONTH = re.compile(r"^\s*(\d{4})-(\d{2})\b(?!-)")
_NOT = re.compile(r"NOT (FOUND|CONFIRMED|IN FORCE)")
_PRED = re.compile(r"^old \d{4} BIT", re.I)


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
    signed: str = ""
    kind: str = "trade_agreement"


@dataclass(frozen=True)
class Instrument:
    """One agreement or treaty of a partner, with its status on a day.

    Attributes
    ----------
    kind
        ``trade_agreement``, ``investment_treaty`` or ``tax_treaty``.
    status
        ``in_force``, ``not_in_force`` or ``unknown`` (the sources do not say).
    in_force_from
        First day surely in force, where known.
    """

    iso3: str
    kind: str
    name: str
    status: str
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


def agreement_status(agreement: Agreement, day: dt.date) -> str:
    """Status of a trade agreement on ``day``: ``in_force``, ``not_in_force`` or ``unknown``."""
    if "not_in_force" in agreement.flags:
        return "not_in_force"
    signed = _signed_start(agreement.signed)
    if signed is not None and day < signed:
        return "not_in_force"
    if agreement.in_force_from is None:
        return "unknown"
    if "eif_month_only" in agreement.flags:
        m = _MONTH.match(agreement.text)
        if m and day >= dt.date(int(m[1]), int(m[2]), 1) and day < agreement.in_force_from:
            return "unknown"
    return "in_force" if agreement.in_force_from <= day else "not_in_force"


def _signed_start(text: str) -> dt.date | None:
    m = re.match(r"^\s*(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", text or "")
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2] or 1), int(m[3] or 1))
    except ValueError:
        return None


@cache
def _load(root: str, hashes: tuple[str, ...]) -> tuple[tuple[Agreement, ...], tuple[dict, ...]]:
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
                Column("confidence", required=False, nullable=True),
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
                    signed="" if pd.isna(r.signed) else str(r.signed),
                )
            )
        per_file.append(rows)
    # Each later file replaces every earlier row of a bloc it lists (a later compilation
    # from the agreement texts and Indonesian regulations; the corrections win over both).
    kept: list[Agreement] = []
    replaced: list[dict] = []
    for rows in per_file:
        blocs = {a.bloc: a for a in rows}
        for old in kept:
            if old.bloc in blocs:
                new = blocs[old.bloc]
                replaced.append(
                    {
                        "bloc": old.bloc,
                        "agreement": old.name,
                        "in_force_for_indonesia": old.text,
                        "line": old.line,
                        "replaced_by": new.line,
                        "new_agreement": new.name,
                        "new_in_force_for_indonesia": new.text,
                    }
                )
        kept = [a for a in kept if a.bloc not in blocs] + rows
    return tuple(kept), tuple(replaced)


def load_agreements(root: str | Path | None = None) -> list[Agreement]:
    """Return every agreement after later files replaced earlier rows of their bloc."""
    root = Path(root) if root is not None else paths.DATA
    hashes = tuple(verify_file(rel, root=root) for rel in FILES)
    return list(_load(str(root.resolve()), hashes)[0])


def replaced_rows(root: str | Path | None = None) -> pd.DataFrame:
    """Every agreement row a later file replaced: ``bloc, agreement,
    in_force_for_indonesia, line`` (file:line of the replaced row), ``replaced_by`` and the
    replacing row's agreement and date text."""
    root = Path(root) if root is not None else paths.DATA
    hashes = tuple(verify_file(rel, root=root) for rel in FILES)
    rows = _load(str(root.resolve()), hashes)[1]
    return pd.DataFrame(
        list(rows),
        columns=[
            "bloc",
            "agreement",
            "in_force_for_indonesia",
            "line",
            "replaced_by",
            "new_agreement",
            "new_in_force_for_indonesia",
        ],
    )


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


def in_force(
    iso3: str,
    date: object,
    root: str | Path | None = None,
    *,
    kinds: Sequence[str] = ("trade_agreement",),
) -> list[str]:
    """Return the agreements with Indonesia in force for a partner on a date.

    Parameters
    ----------
    iso3
        ISO alpha-3 code of the partner.
    date
        Anything :class:`pandas.Timestamp` reads (``"2024-07-01"``, a ``date``).
    kinds
        Which instruments (:data:`INSTRUMENT_KINDS`); default trade agreements, as the
        gravity covariate reads them. An instrument whose status is ``unknown`` is not
        listed: see :func:`instruments` for the statuses.

    Examples
    --------
    >>> "Regional Comprehensive Economic Partnership" in in_force("CHN", "2023-01-02")
    True
    >>> in_force("DEU", "2024-07-01")
    []
    """
    _check_iso3(iso3)
    day = _as_date(date)
    if tuple(kinds) != ("trade_agreement",):
        return sorted(
            i.name for i in instruments(iso3, day, root, kinds=kinds) if i.status == "in_force"
        )
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
                status = agreement_status(a, cutoff)
                flags = list(a.flags) + (["status_unknown"] if status == "unknown" else [])
                rows.append(
                    {
                        "iso3": code,
                        "year": year,
                        "agreement": a.name,
                        "in_force": status == "in_force",
                        "flags": ";".join(flags),
                        "in_force_from": a.in_force_from,
                        "source": a.source,
                        "kind": a.kind,
                        "status": status,
                    }
                )
    return pd.DataFrame(
        rows,
        columns=[
            "iso3",
            "year",
            "agreement",
            "in_force",
            "flags",
            "in_force_from",
            "source",
            "kind",
            "status",
        ],
    )


def _window_status(day: dt.date, start: dt.date | None, end: dt.date | None) -> str | None:
    # Before a dated window: not yet; inside it: unknown; after: None (decided elsewhere).
    if start is None:
        return None
    if day < start:
        return "not_in_force"
    if end is not None and day < end:
        return "unknown"
    return None


def instruments(
    iso3: str,
    date: object,
    root: str | Path | None = None,
    *,
    kinds: Sequence[str] | None = None,
) -> list[Instrument]:
    """Every agreement and treaty of a partner with Indonesia, with its status on a date.

    Parameters
    ----------
    iso3
        ISO alpha-3 code of the partner.
    date
        Anything :class:`pandas.Timestamp` reads.
    kinds
        Subset of :data:`INSTRUMENT_KINDS` (default all).

    Returns
    -------
    list of Instrument
        Trade agreements (this module), investment treaties and investment chapters
        (:func:`analysis.data.treaties.load_bits`), the tax treaty
        (:func:`analysis.data.treaties.load_dtas`), sorted by kind and name. ``status`` is
        ``unknown`` wherever the sources give no date for the day asked: never silently
        "not in force".

    Examples
    --------
    >>> [(i.kind, i.status) for i in instruments("SGP", "2021-03-09", kinds=["investment_treaty"])]
    ... # doctest: +SKIP
    [('investment_treaty', 'not_in_force'), ('investment_treaty', 'in_force')]
    """
    _check_iso3(iso3)
    day = _as_date(date)
    kinds = _check_kinds(kinds)
    return _instruments(iso3, day, _sources(root, kinds), kinds)


def instruments_of(
    partners: Sequence[str],
    date: object,
    root: str | Path | None = None,
    *,
    kinds: Sequence[str] | None = None,
) -> dict[str, list[Instrument]]:
    """:func:`instruments` for several partners on one date, the sources read (and their
    hashes checked) once instead of once per partner; the same errors.

    Returns
    -------
    dict
        Partner -> its instruments, in the order given.
    """
    codes = list(partners)
    for iso3 in codes:
        _check_iso3(iso3)
    day = _as_date(date)
    kinds = _check_kinds(kinds)
    sources = _sources(root, kinds)
    return {iso3: _instruments(iso3, day, sources, kinds) for iso3 in codes}


def _check_kinds(kinds: Sequence[str] | None) -> tuple[str, ...]:
    kinds = tuple(kinds) if kinds is not None else INSTRUMENT_KINDS
    unknown_kinds = [k for k in kinds if k not in INSTRUMENT_KINDS]
    if unknown_kinds:
        raise DataValidationError(
            "instruments",
            "unknown kind",
            column="kinds",
            value=unknown_kinds[0],
            expected=", ".join(INSTRUMENT_KINDS),
        )
    return kinds


def _sources(root: str | Path | None, kinds: tuple[str, ...]) -> dict[str, dict]:
    """Agreements and treaty rows grouped by partner, read once."""
    from analysis.data.treaties import treaty_tables

    out: dict[str, dict] = {"trade_agreement": {}, "investment_treaty": {}, "tax_treaty": {}}
    if "trade_agreement" in kinds:
        for a in load_agreements(root):
            for m in a.members:
                out["trade_agreement"].setdefault(m, []).append(a)
    if "investment_treaty" in kinds or "tax_treaty" in kinds:
        bits, dtas = treaty_tables(root)
        for r in bits[bits["status_now"] != ""].itertuples():
            out["investment_treaty"].setdefault(r.iso3, []).append(r)
        for r in dtas.itertuples():
            out["tax_treaty"].setdefault(r.iso3, []).append(r)
    return out


def _instruments(
    iso3: str, day: dt.date, sources: dict[str, dict], kinds: tuple[str, ...]
) -> list[Instrument]:
    from analysis.data.treaties import STATUS_AS_OF, parse_date_text, treaty_status

    out: list[Instrument] = []
    if "trade_agreement" in kinds:
        for a in sources["trade_agreement"].get(iso3, []):
            out.append(
                Instrument(
                    iso3,
                    "trade_agreement",
                    a.name,
                    agreement_status(a, day),
                    a.in_force_from,
                    a.flags,
                    a.text,
                    a.source,
                    a.line,
                )
            )
    if "investment_treaty" in kinds:
        for r in sources["investment_treaty"].get(iso3, []):
            signed, eif = parse_date_text(r.signed), parse_date_text(r.in_force)
            # The terminated column of a successor treaty describes its predecessor (a record
            # of its own); an undated termination leaves the end unknown.
            own_end = not r.terminated_undated and not (
                "predecessor" not in r.flags and _PRED.search(r.terminated)
            )
            term = parse_date_text(r.terminated if own_end else "")
            status = treaty_status(
                day,
                signed=signed,
                in_force=eif,
                terminated=term,
                terminated_undated=bool(r.terminated_undated),
                status_now=r.status_now,
            )
            out.append(
                Instrument(
                    iso3,
                    "investment_treaty",
                    r.treaty,
                    status,
                    eif.end,
                    tuple(f for f in r.flags.split(";") if f),
                    r.in_force,
                    r.source,
                    f"{r.file}:{r.line}",
                )
            )
    if "tax_treaty" in kinds:
        for r in sources["tax_treaty"].get(iso3, []):
            eif = parse_date_text(r.in_force_year)
            status = (
                _window_status(day, eif.start, eif.end) if r.status_now == "in_force" else None
            )
            if status is None:
                if r.status_now != "in_force":
                    status = r.status_now
                elif eif.known or day >= STATUS_AS_OF:
                    status = "in_force"
                else:
                    status = "unknown"
            out.append(
                Instrument(
                    iso3,
                    "tax_treaty",
                    f"Indonesia-{r.partner} tax treaty (P3B)",
                    status,
                    eif.end,
                    tuple(f for f in r.flags.split(";") if f),
                    r.in_force_year or r.in_force,
                    r.source,
                    f"{r.file}:{r.line}",
                )
            )
    order = {k: i for i, k in enumerate(INSTRUMENT_KINDS)}
    return sorted(out, key=lambda i: (order[i.kind], i.name))


def instruments_table(
    iso3s: Iterable[str],
    years: Iterable[int],
    root: str | Path | None = None,
    *,
    kinds: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per partner x year x instrument, status on 1 July of the year.

    Returns
    -------
    pandas.DataFrame
        ``iso3, year, kind, agreement, status`` (``in_force``, ``not_in_force``,
        ``unknown``), ``in_force`` (True only for ``in_force``; an unknown is not False but
        listed as unknown in ``status``), ``in_force_from``, ``flags``, ``source``, ``line``.
        A partner with no instrument of any kind gets one row per year with ``agreement``
        empty and flag ``no_agreement_listed``.
    """
    iso3s = list(iso3s)
    for code in iso3s:
        _check_iso3(code, "iso3s")
    kinds = _check_kinds(kinds)
    sources = _sources(root, kinds)
    rows = []
    for code in iso3s:
        for year in years:
            found = _instruments(code, dt.date(int(year), *YEAR_CUTOFF), sources, kinds)
            if not found:
                rows.append(
                    {"iso3": code, "year": int(year), "kind": "", "agreement": "",
                     "status": "", "in_force": False, "in_force_from": None,
                     "flags": "no_agreement_listed", "source": "", "line": ""}
                )  # fmt: skip
            for i in found:
                rows.append(
                    {
                        "iso3": code,
                        "year": int(year),
                        "kind": i.kind,
                        "agreement": i.name,
                        "status": i.status,
                        "in_force": i.status == "in_force",
                        "in_force_from": i.in_force_from,
                        "flags": ";".join(i.flags),
                        "source": i.source,
                        "line": i.line,
                    }
                )
    return pd.DataFrame(
        rows,
        columns=["iso3", "year", "kind", "agreement", "status", "in_force", "in_force_from",
                 "flags", "source", "line"],
    )  # fmt: skip
