"""Refresh the cache from the live sources, and read the cached values back.

:func:`refresh` runs each source's ``fetch`` (network), then its ``parse`` and ``normalise``
on everything received, and only if all of that succeeds commits the bodies to the cache
(:class:`~analysis.data.loaders.cache.FetchCache`), so a failure of any kind leaves the cache
as it was; the committed snapshot under ``data/raw/`` is never written. :func:`fetched_frame`
and :func:`fetched_positions` rebuild the normalised values from the cached bodies (the cache
holds raw responses only, so a fix to a parser applies to data already downloaded).
:func:`snapshot_vintages` says which committed files stand in when nothing is fetched.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from analysis.base import paths
from analysis.base.i18n import count
from analysis.data.loaders import comtrade, imf, wdi
from analysis.data.loaders.cache import CachedResponse, FetchCache
from analysis.data.loaders.transport import FetchError, RawResponse
from analysis.data.loaders.vocabulary import LONG_COLUMNS

__all__ = [
    "ALIASES",
    "FETCHED_COLUMNS",
    "SOURCES",
    "FetchOutcome",
    "Source",
    "default_economies",
    "fetched_frame",
    "fetched_positions",
    "refresh",
    "resolve_sources",
    "snapshot_vintages",
]


@dataclass(frozen=True)
class Source:
    """A live source: its name, what it downloads and which committed files it refreshes."""

    key: str
    name: str
    what: str
    snapshot: tuple[str, ...]


SOURCES: dict[str, Source] = {
    "wdi": Source(
        "wdi",
        "World Bank WDI",
        "GDP (current, constant, PPP, per person), population, growth, goods trade, FDI flows",
        ("raw/partners/wdi_macro.csv.gz", "raw/partners/wdi_sector_fdi.csv.gz"),
    ),
    "weo": Source(
        "weo",
        "IMF WEO",
        "GDP in US$ and real growth (Taiwan included)",
        ("raw/partners/imf_weo_macro.csv.gz",),
    ),
    "dip": Source(
        "dip",
        "IMF Direct Investment Positions",
        "inward FDI positions by counterpart economy (Indonesia and the candidates)",
        (),
    ),
    "comtrade": Source(
        "comtrade",
        "UN Comtrade",
        "exports by HS chapter to the world; Indonesia's bilateral trade",
        ("raw/partners/sector_trade.csv",),
    ),
}

#: Names accepted on the command line for several sources at once.
ALIASES: dict[str, tuple[str, ...]] = {"imf": ("weo", "dip"), "all": tuple(SOURCES)}


def resolve_sources(names: Sequence[str]) -> list[str]:
    """Expand aliases; default every source.

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.
    """
    out: list[str] = []
    for name in names or ["all"]:
        keys = ALIASES.get(name.lower(), (name.lower(),))
        for key in keys:
            if key not in SOURCES:
                known = sorted([*SOURCES, *ALIASES])
                raise ValueError(f"unknown source {name!r}; expected one of {known}")
            if key not in out:
                out.append(key)
    return out


def default_economies() -> list[str]:
    """Indonesia and the partner candidates."""
    from analysis.base.vocab import CANDIDATES

    candidates = list(CANDIDATES)
    return ["IDN", *[c for c in candidates if c != "IDN"]]


# ------------------------------------------------------------------------------ per source
#: Columns :func:`fetched_frame` adds to the long format: which cached response each value
#: comes from (the partner panel's ``build_panel(fetched=...)`` contract).
PROVENANCE_COLUMNS: tuple[str, ...] = ("flags", "retrieved", "query", "sha256")
FETCHED_COLUMNS: tuple[str, ...] = (*LONG_COLUMNS, *PROVENANCE_COLUMNS)


def _sha(body: RawResponse | CachedResponse) -> str:
    return getattr(body, "sha256", "") or hashlib.sha256(body.content).hexdigest()


def _cite(
    frame: pd.DataFrame, body: RawResponse | CachedResponse, flags: object = ""
) -> pd.DataFrame:
    """Attach the response's retrieval time, query and sha256 to every value it gave."""
    return frame.assign(flags=flags, retrieved=body.retrieved, query=body.query, sha256=_sha(body))


def _wdi_values(bodies: Sequence[RawResponse | CachedResponse]) -> pd.DataFrame:
    parts = []
    for r in bodies:
        parsed = wdi.parse([r.content], query=r.query)
        parts.append(_cite(wdi.normalise(parsed, retrieved=r.retrieved, query=r.query), r))
    return _concat(parts, FETCHED_COLUMNS)


def _imf_pair(
    bodies: Sequence[RawResponse | CachedResponse], flow: str
) -> tuple[pd.DataFrame, RawResponse | CachedResponse]:
    by_kind = {r.meta.get("kind"): r for r in bodies}
    if set(by_kind) != {"structure", "data"}:
        raise FetchError(
            imf.SOURCE,
            f"{flow} (cache)",
            f"expected a structure and a data message, got {sorted(map(str, by_kind))}",
            kind="malformed",
        )
    data, structure = by_kind["data"], by_kind["structure"]
    return imf.parse(data.content, structure.content, flow=flow, query=data.query), data


def _weo_values(bodies: Sequence[RawResponse | CachedResponse]) -> pd.DataFrame:
    parsed, data = _imf_pair(bodies, "WEO")
    out = imf.normalise_weo(parsed, retrieved=data.retrieved, query=data.query)
    # Same flag as the panel gives the committed WEO rows: a gap-filler behind WDI.
    return _concat([_cite(out, data, "imf_weo")], FETCHED_COLUMNS)


def _dip_values(bodies: Sequence[RawResponse | CachedResponse]) -> pd.DataFrame:
    parsed, data = _imf_pair(bodies, "DIP")
    return imf.normalise_dip(parsed, retrieved=data.retrieved, query=data.query)


def _comtrade_values(bodies: Sequence[RawResponse | CachedResponse]) -> pd.DataFrame:
    parsed = [(r.meta["dataset"], comtrade.parse(r.content, query=r.query)) for r in bodies]
    comtrade.check_no_overlap(parsed, query="Comtrade (all calls)")
    parts = []
    for r, (dataset, frame) in zip(bodies, parsed, strict=True):
        # Each sum lies within one call (the plan puts a reporter's chapters in one call).
        out = comtrade.normalise([(dataset, frame)], retrieved=r.retrieved, query=r.query)
        partial = out["note"].str.contains("chapters reported", regex=False)
        parts.append(_cite(out, r, partial.map({True: "partial_sum", False: ""})))
    return _concat(parts, FETCHED_COLUMNS)


def _concat(parts: list[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=list(columns))
    return pd.concat(parts, ignore_index=True)


_NORMALISE: dict[str, Callable[[Sequence], pd.DataFrame]] = {
    "wdi": _wdi_values,
    "weo": _weo_values,
    "dip": _dip_values,
    "comtrade": _comtrade_values,
}


def _download(
    key: str, economies: Sequence[str], years: Sequence[int]
) -> list[tuple[str, RawResponse]]:
    if key == "wdi":
        return [(r.meta["series"], r) for r in wdi.fetch(first=years[0], last=years[-1])]
    if key == "weo":
        structure, data = imf.fetch_weo(start=years[0])
        return [("weo-structure", structure), ("weo", data)]
    if key == "dip":
        structure, data = imf.fetch_dip(list(economies), start=max(2009, years[0]))
        return [("dip-structure", structure), ("dip", data)]
    if key == "comtrade":
        return comtrade.fetch(list(economies), [y for y in years if y >= years[-1] - 3])
    raise ValueError(f"unknown source {key!r}")


@dataclass
class FetchOutcome:
    """What one source's refresh did: committed rows, or the error, and the fallback."""

    source: str
    ok: bool
    rows: int = 0
    responses: int = 0
    retrieved: str = ""
    error: FetchError | None = None
    snapshot: list[str] = field(default_factory=list)

    def message(self) -> str:
        """One line for the command line."""
        name = SOURCES[self.source].name
        if self.ok:
            return (
                f"{name}: {self.rows} values from {count(self.responses, 'responses')}, "
                f"retrieved {self.retrieved} (cached)"
            )
        fallback = "; ".join(self.snapshot) or "no committed snapshot for this source"
        return f"{self.error}. Cache left unchanged; using the committed snapshot: {fallback}"


def refresh(
    sources: Sequence[str] | None = None,
    *,
    cache: FetchCache | None = None,
    economies: Sequence[str] | None = None,
    years: Sequence[int] = tuple(range(2000, 2025)),
) -> list[FetchOutcome]:
    """Download each source, check it parses, and commit it to the cache.

    Parameters
    ----------
    sources
        Keys or aliases (:data:`SOURCES`, :data:`ALIASES`); default every source.
    cache
        Target cache (default :class:`FetchCache` at its default folder).
    economies
        ISO alpha-3 codes for the DIP reporters and Comtrade queries (default
        :func:`default_economies`).
    years
        Year range of the queries (Comtrade: its last four years only).

    Returns
    -------
    list of FetchOutcome
        One per source; a failed source carries its :class:`FetchError` and changed nothing.
    """
    cache = cache or FetchCache()
    keys = resolve_sources(list(sources or []))
    years = sorted(years)
    economies = list(economies) if economies is not None else None
    vintages = snapshot_vintages()
    outcomes = []
    for key in keys:
        try:
            econ = economies if economies is not None else default_economies()
            received = _download(key, econ, years)
            values = _NORMALISE[key]([r for _, r in received])  # check before committing
        except FetchError as exc:
            outcomes.append(
                FetchOutcome(key, ok=False, error=exc, snapshot=_snapshot_lines(vintages, key))
            )
            continue
        try:
            cache.commit(key, received)
        except OSError as exc:
            error = FetchError(
                SOURCES[key].name, f"commit to {cache.root}", str(exc), kind="cache"
            )
            outcomes.append(
                FetchOutcome(key, ok=False, error=error, snapshot=_snapshot_lines(vintages, key))
            )
            continue
        outcomes.append(
            FetchOutcome(
                key,
                ok=True,
                rows=len(values),
                responses=len(received),
                retrieved=max(r.retrieved for _, r in received) if received else "",
            )
        )
    return outcomes


# ------------------------------------------------------------------------------- reading
def fetched_frame(cache: FetchCache | None = None) -> pd.DataFrame:
    """Return the cached values of WDI, WEO and Comtrade in the panel's long format.

    Returns
    -------
    DataFrame
        :data:`FETCHED_COLUMNS`: ``iso3, year, indicator, value, unit, source, vintage,
        note`` (money in US$ billion) and, per value, the ``flags`` (``imf_weo``,
        ``partial_sum``), ``retrieved``, ``query`` and ``sha256`` of the cached response it
        comes from; empty with these columns if nothing is cached. ``attrs["retrieved"]`` maps each
        source to its retrieval time.

    Raises
    ------
    ProvenanceError
        A cached file is missing or was changed since it was fetched.
    FetchError
        A cached body no longer parses (``malformed``).
    """
    cache = cache or FetchCache()
    parts = []
    retrieved = {}
    for key in ("wdi", "weo", "comtrade"):
        bodies = cache.responses(key)
        if bodies:
            parts.append(_NORMALISE[key](bodies))
            retrieved[key] = max(b.retrieved for b in bodies)
    frame = _concat(parts, FETCHED_COLUMNS)
    frame.attrs["retrieved"] = retrieved
    return frame


def fetched_positions(cache: FetchCache | None = None) -> pd.DataFrame:
    """Return the cached IMF DIP positions (columns :data:`imf.DIP_COLUMNS`)."""
    cache = cache or FetchCache()
    bodies = cache.responses("dip")
    return _dip_values(bodies) if bodies else pd.DataFrame(columns=list(imf.DIP_COLUMNS))


def snapshot_vintages() -> pd.DataFrame:
    """Return the committed snapshot files each source stands in for, with their vintage.

    Returns
    -------
    DataFrame
        ``source, file, publisher, retrieved, release`` from ``data/provenance.csv``:
        ``retrieved`` is the date the file was compiled, ``release`` the source's "Last
        Updated" date where the provenance records one (else ``not recorded``; the notes in
        ``data/raw/partners`` say more).
    """
    from analysis.data.provenance import provenance_table

    prov = provenance_table(paths.PROVENANCE).set_index("file")
    rows = []
    for key, src in SOURCES.items():
        for file in src.snapshot:
            if file not in prov.index:
                continue
            row = prov.loc[file]
            m = re.search(r"\d{4}-\d{2}-\d{2}", str(row["retrieved"]))
            rel = re.search(
                r"Last Updated[^0-9]{0,20}(\d{4}-\d{2}-\d{2})",
                f"{row['source']} {row['description']}",
            )
            rows.append(
                {
                    "source": key,
                    "file": f"data/{file}",
                    "publisher": str(row["publisher"]),
                    "retrieved": m.group(0) if m else str(row["retrieved"]),
                    "release": rel.group(1) if rel else "not recorded",
                }
            )
    return pd.DataFrame(rows, columns=["source", "file", "publisher", "retrieved", "release"])


def _snapshot_lines(vintages: pd.DataFrame, key: str) -> list[str]:
    rows = vintages[vintages["source"] == key]
    return [
        f"{r.file} (compiled {r.retrieved}; source release {r.release})" for r in rows.itertuples()
    ]
