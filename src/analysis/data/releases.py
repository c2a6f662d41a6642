"""BKPM releases: which period the ledger reaches, when it was published, what is missing.

BKPM (the Ministry of Investment and Downstreaming) publishes realisation once a quarter,
about four weeks after the quarter ends: Q1 in late April, the first half (H1) in late July,
the first nine months (9M) in late October and the full year (FY) in late January of the
next year. A *release* here is one such cumulative period of one year; a discrete quarter
(Q2, Q3, Q4) belongs to the release of the cumulative window ending with it (Q3 with 9M).

:func:`latest_release` reads the ledger's national series (sector ``all``, region ``IDN``,
partner ``WLD``, published figures only); :func:`expected_releases` and
:func:`missing_releases` compare it with the publication calendar on a date (``as_of``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from analysis.data.ledger import Ledger

__all__ = [
    "PUBLICATION_LAG_DAYS",
    "RELEASE_PERIODS",
    "Release",
    "as_of_sentence",
    "expected_releases",
    "format_date",
    "latest_release",
    "missing_releases",
    "missing_sentence",
    "release_due",
    "released_periods",
]

#: The cumulative periods BKPM releases, in calendar order, with the month they end.
RELEASE_PERIODS: dict[str, int] = {"Q1": 3, "H1": 6, "9M": 9, "FY": 12}
#: The release a discrete quarter belongs to.
_QUARTER_RELEASE = {"Q1": "Q1", "Q2": "H1", "Q3": "9M", "Q4": "FY"}
#: Days after a quarter's end by which BKPM's release is due. BKPM publishes about four
#: weeks after the quarter (e.g. 9M 2025 on 2025-10-15 - 2025-10-30; FY 2025 on
#: 2026-01-15); 31 days gives the end of that window, so a release is reported missing only
#: once the month after the quarter is over.
PUBLICATION_LAG_DAYS = 31


@dataclass(frozen=True)
class Release:
    """One BKPM release (a cumulative period of a year).

    Attributes
    ----------
    year, period
        The year and the cumulative period (``Q1``, ``H1``, ``9M``, ``FY``).
    published
        Publication date of the release as recorded in the sources (``YYYY-MM-DD``, or
        ``YYYY-MM`` where only the month is known; empty if no source dates it).
    source
        The source that dates it (the earliest dated source of the release's figures).
    period_end
        Last day of the period.
    """

    year: int
    period: str
    published: str
    source: str
    period_end: dt.date

    @property
    def label(self) -> str:
        """``FY 2025``, ``Q1 2026``."""
        return f"{self.period} {self.year}"

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["period_end"] = self.period_end.isoformat()
        out["label"] = self.label
        return out


def _period_end(year: int, period: str) -> dt.date:
    month = RELEASE_PERIODS[period]
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def release_due(year: int, period: str) -> dt.date:
    """Date by which BKPM's release of ``period`` ``year`` is due (end of the window)."""
    if period not in RELEASE_PERIODS:
        raise ValueError(f"period must be one of {list(RELEASE_PERIODS)}, got {period!r}")
    return _period_end(year, period) + dt.timedelta(days=PUBLICATION_LAG_DAYS)


def _date_sort_key(text: str) -> tuple[int, str]:
    # Full dates first (they date the release precisely), then month-only, then undated.
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return (0, text)
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return (1, text)
    return (2, text)


def released_periods(ledger: Ledger) -> pd.DataFrame:
    """Every release the ledger holds: ``year, period, published, source, n_figures``.

    A release counts when any national figure (total, PMA or PMDN) of its cumulative period
    or of the quarter ending it is published (not derived).
    """
    obs = ledger.observations
    national = obs[
        (obs["concept"] == "realisation")
        & (obs["sector"] == "all")
        & (obs["region"] == "IDN")
        & (obs["partner_iso3"] == "WLD")
        & (obs["origin"] == "published")
        & obs["period"].isin(list(_QUARTER_RELEASE) + list(RELEASE_PERIODS))
    ]
    cand = ledger.candidates
    cand = cand[
        (cand["concept"] == "realisation")
        & (cand["sector"] == "all")
        & (cand["region"] == "IDN")
        & (cand["partner_iso3"] == "WLD")
        & cand["chosen"].astype(bool)
    ]
    rows = []
    for (year, period), grp in national.groupby(["year", "period"]):
        release = _QUARTER_RELEASE.get(period, period)
        hits = cand[(cand["year"] == year) & (cand["period"] == period)]
        dated = [
            (str(p), str(s))
            for p, s in zip(hits["published"], hits["source"], strict=True)
            if isinstance(p, str) and p
        ]
        rows.append(
            {
                "year": int(year),
                "period": release,
                "published_pairs": dated,
                "n_figures": len(grp),
            }
        )
    if not rows:
        return pd.DataFrame(columns=["year", "period", "published", "source", "n_figures"])
    frame = pd.DataFrame(rows)
    out = []
    for (year, period), grp in frame.groupby(["year", "period"]):
        pairs = [p for lst in grp["published_pairs"] for p in lst]
        pairs.sort(key=lambda t: (_date_sort_key(t[0]), t[1]))
        published, source = pairs[0] if pairs else ("", "")
        out.append(
            {
                "year": int(year),
                "period": period,
                "published": published,
                "source": source,
                "n_figures": int(grp["n_figures"].sum()),
            }
        )
    order = {p: i for i, p in enumerate(RELEASE_PERIODS)}
    result = pd.DataFrame(out)
    result["_o"] = result["period"].map(order)
    return result.sort_values(["year", "_o"]).drop(columns="_o").reset_index(drop=True)


def latest_release(ledger: Ledger) -> Release | None:
    """The latest BKPM release in the ledger (None for an empty ledger).

    Examples
    --------
    >>> from analysis.data import build_ledger
    >>> build_ledger().latest_release().label  # doctest: +SKIP
    'FY 2025'
    """
    table = released_periods(ledger)
    if table.empty:
        return None
    last = table.iloc[-1]
    year, period = int(last["year"]), str(last["period"])
    return Release(
        year, period, str(last["published"]), str(last["source"]), _period_end(year, period)
    )


def expected_releases(as_of: dt.date, since_year: int) -> list[tuple[int, str]]:
    """Releases due on ``as_of`` (due date strictly before it), from ``since_year`` on."""
    out = []
    for year in range(since_year, as_of.year + 1):
        for period in RELEASE_PERIODS:
            if release_due(year, period) < as_of:
                out.append((year, period))
    return out


def missing_releases(ledger: Ledger, as_of: dt.date | None = None) -> list[tuple[int, str]]:
    """Releases due by ``as_of`` (default today) that come after the ledger's latest one.

    Only releases *after* the latest one are listed: a gap in older years is a coverage
    question for the data check, not a missing release. On 2026-12-07 with the ledger at
    FY 2025 this is ``[(2026, 'Q1'), (2026, 'H1'), (2026, '9M')]``.
    """
    as_of = as_of or dt.date.today()
    latest = latest_release(ledger)
    if latest is None:
        return []
    order = list(RELEASE_PERIODS)
    key_latest = (latest.year, order.index(latest.period))
    return [
        (y, p)
        for y, p in expected_releases(as_of, latest.year)
        if (y, order.index(p)) > key_latest
    ]


_MONTHS = {
    "en": (
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    ),
    "id": (
        "Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
        "September", "Oktober", "November", "Desember",
    ),
}  # fmt: skip


def format_date(text: str | dt.date, language: str = "en") -> str:
    """``2026-01-15`` -> ``15 January 2026`` (``15 Januari 2026``); ``2026-01`` -> month."""
    months = _MONTHS["id" if language == "id" else "en"]
    value = text.isoformat() if isinstance(text, dt.date) else str(text)
    m = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", value)
    if not m:
        return value
    month = months[int(m.group(2)) - 1]
    if m.group(3):
        return f"{int(m.group(3))} {month} {m.group(1)}"
    return f"{month} {m.group(1)}"


def _period_text(period: str, language: str) -> str:
    from analysis.base.i18n import messages

    return messages(language)(f"asof.period_{period}")


def as_of_sentence(ledger: Ledger, language: str = "en") -> str:
    """One sentence for any report: the ledger's latest release and its publication date.

    Examples
    --------
    >>> as_of_sentence(build_ledger())  # doctest: +SKIP
    'Data as of FY 2025: the latest BKPM release in the ledger, published 15 January 2026.'
    """
    from analysis.base.i18n import messages

    m = messages(language)
    rel = latest_release(ledger)
    if rel is None:
        return ""
    period = _period_text(rel.period, language)
    if rel.published:
        return m(
            "asof.sentence",
            period=period,
            year=rel.year,
            published=format_date(rel.published, language),
        )
    return m("asof.sentence_undated", period=period, year=rel.year)


def missing_sentence(ledger: Ledger, as_of: dt.date | None = None, language: str = "en") -> str:
    """The warning of :func:`missing_releases` as a sentence (or that none is missing)."""
    from analysis.base.i18n import messages

    m = messages(language)
    as_of = as_of or dt.date.today()
    missing = missing_releases(ledger, as_of)
    when = format_date(as_of, language)
    if not missing:
        return m("asof.none_missing", as_of=when)
    periods = ", ".join(f"{_period_text(p, language)} {y}" for y, p in missing)
    return m("asof.missing", as_of=when, periods=periods)
