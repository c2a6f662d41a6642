"""IMF data through ``sdmx1``: World Economic Outlook and Direct Investment Positions.

Both datasets follow the same three steps, with ``sdmx1`` (source ``IMF_DATA``, the IMF's
SDMX 2.1 API at ``https://api.imf.org/external/sdmx/2.1``) building every URL and reading
every message; only the transport is ours (:func:`~analysis.data.loaders.transport.http_get`,
so failures get one clear message and bodies are cached byte for byte):

- :func:`fetch_weo`, :func:`fetch_dip` (network only): first the dataflow with its data
  structure (``dataflow/<agency>/<flow>/latest?references=all``), then the data, with the key
  built by ``sdmx1`` from that structure (no dimension order is assumed);
- :func:`parse` (structure + data bodies -> one row per observation, every dimension and
  attribute a column);
- :func:`normalise_weo` (-> the panel's long format ``iso3, year, indicator, value, unit,
  source, vintage, note``) and :func:`normalise_dip` (-> the positions frame below).

WEO (``IMF.RES:WEO``)
    ``NGDPD`` (GDP, current prices, US$) -> ``gdp_usd`` in US$ billion, and ``NGDP_RPCH``
    (real GDP growth) -> ``gdp_growth_pct``. Observations are in units (the ``SCALE``
    attribute only says how the IMF displays them: the recorded message in the fixtures has
    ``OBS_VALUE=94669000000`` with ``SCALE=9`` for Slovakia's 2018 real GDP, EUR 94.7
    billion). Years after a series' ``LATEST_ACTUAL_ANNUAL_DATA`` are IMF staff estimates or
    projections and are dropped (counted in ``attrs["dropped_projections"]``). The vintage is
    the dataset's ``PUBLICATION_DATE``. Licence: IMF terms of use (the message's ``LICENSE``
    attribute says "All Rights Reserved"; the IMF permits use with attribution).

DIP (``IMF.STA:DIP``, Direct Investment Positions by Counterpart Economy, formerly CDIS)
    Inward direct investment positions of each reporting economy by immediate counterpart
    economy, in US$. The positions frame (agreed with no one; the gravity helper reads it)::

        reporter_iso3     economy whose statistics report the position (the host)
        counterpart_iso3  economy of the immediate foreign direct investor
        year              end-of-year position
        indicator         "fdi_inward_position_usd"
        value             US$ billion (current), as reported (may be negative: net debt)
        unit              "US$ billion (current)"
        source            publisher, dataflow, indicator code, retrieval date
        vintage           the dataset's publication/update date (else the retrieval date)
        note              the IMF indicator and derivation codes behind the row

    Which indicator code means "inward position, total" is read from the structure's
    code list (a name with "inward" and "position" and none of "equity", "debt", "fellow",
    "financial", "outward"); if a derivation-type dimension exists, only reported (not
    mirror-derived) figures are kept. Both choices fail loudly, listing the codes seen, if
    the structure does not offer exactly one match. The dimension IDs ``COUNTRY`` and
    ``COUNTERPART_COUNTRY`` are those of the IMF's master concept scheme; they could not be
    checked against the live DIP structure here (no network), so :func:`parse` checks them
    on every message and names what it found instead.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from typing import Any

import pandas as pd

from analysis.data.loaders.transport import FetchError, RawResponse, http_get
from analysis.data.loaders.vocabulary import LONG_COLUMNS, economy_iso3

__all__ = [
    "DIP_COLUMNS",
    "SOURCE",
    "WEO_INDICATORS",
    "dip_key",
    "fetch_dip",
    "fetch_structure",
    "fetch_weo",
    "normalise_dip",
    "normalise_weo",
    "parse",
    "parse_structure",
]

SOURCE = "IMF"
SDMX_SOURCE = "IMF_DATA"

WEO_FLOW = ("IMF.RES", "WEO")
DIP_FLOW = ("IMF.STA", "DIP")

#: WEO indicator -> (panel indicator, unit after scaling, factor, required IMF UNIT or None).
WEO_INDICATORS: dict[str, tuple[str, str, float, str | None]] = {
    "NGDPD": ("gdp_usd", "US$ billion (current)", 1e-9, "USD"),
    "NGDP_RPCH": ("gdp_growth_pct", "% per year", 1.0, None),
}

DIP_COLUMNS: tuple[str, ...] = (
    "reporter_iso3",
    "counterpart_iso3",
    "year",
    "indicator",
    "value",
    "unit",
    "source",
    "vintage",
    "note",
)

_REPORTER = "COUNTRY"
_COUNTERPART = "COUNTERPART_COUNTRY"
_DERIVATION_HINTS = ("DV_TYPE", "DERIVATION_TYPE", "DERIVATION")


def _client() -> Any:
    import sdmx

    return sdmx.Client(SDMX_SOURCE)


def _malformed(query: str, problem: str) -> FetchError:
    return FetchError(SOURCE, query, problem, kind="malformed")


# --------------------------------------------------------------------------------- reading
def _sdmx_error(body: bytes) -> str | None:
    """Return the text of an SDMX ``Error`` message, or None if ``body`` is not one."""
    from lxml import etree

    try:
        root = etree.fromstring(body)
    except etree.XMLSyntaxError:
        return None
    if etree.QName(root).localname != "Error":
        return None
    parts = []
    for el in root.iter():
        if etree.QName(el).localname == "ErrorMessage":
            text = " ".join(t.strip() for t in el.itertext() if t.strip())
            parts.append(f"code {el.get('code')}: {text}".strip())
    return "; ".join(parts) or "an SDMX error message"


def _read(body: bytes, query: str, what: str, **kwargs: Any) -> Any:
    import sdmx

    if not body.strip():
        raise _malformed(query, f"empty {what} body; expected an SDMX-ML message")
    error = _sdmx_error(body)
    if error is not None:
        raise FetchError(SOURCE, query, f"the API answered: {error}", kind="http")
    try:
        # On failure sdmx1's XML reader prints its whole parse stack to stdout: keep the
        # command line's output to the one-sentence error below.
        with contextlib.redirect_stdout(io.StringIO()):
            return sdmx.read_sdmx(io.BytesIO(body), **kwargs)
    # sdmx1 signals unreadable input with many exception types (XMLParseError, KeyError,
    # AssertionError, RuntimeError...): at this boundary any of them means a bad body.
    except Exception as exc:
        raise _malformed(
            query, f"cannot read the {what} as SDMX-ML ({type(exc).__name__}: {exc})"
        ) from None


def parse_structure(body: bytes, flow: str, *, query: str = "IMF structure") -> Any:
    """Return the data structure definition (DSD) of ``flow`` from a structure message.

    Raises
    ------
    FetchError
        ``malformed`` if the body is not SDMX-ML or holds no structure.
    """
    import sdmx

    msg = _read(body, query, "structure")
    if not isinstance(msg, sdmx.message.StructureMessage) or not len(msg.structure):
        raise _malformed(query, "the structure message holds no data structure definition")
    if flow in msg.dataflow and msg.dataflow[flow].structure is not None:
        dsd = msg.dataflow[flow].structure
        if dsd.id in msg.structure:  # the full definition, not a reference
            return msg.structure[dsd.id]
    return next(iter(msg.structure.values()))


def _value_text(v: Any) -> str:
    inner = getattr(v, "value", v)
    inner = getattr(inner, "id", inner)
    return str(inner)


def parse(
    data: bytes, structure: bytes | None = None, *, flow: str = "", query: str = ""
) -> pd.DataFrame:
    """Read an SDMX-ML data message into one row per observation.

    Parameters
    ----------
    data
        The data message as received.
    structure
        The structure message of the dataflow (lets ``sdmx1`` tell dimensions from
        attributes); without it ``sdmx1`` infers them from the message.
    flow, query
        Named in errors.

    Returns
    -------
    DataFrame
        One column per dimension and attribute (dataset, group, series and observation
        level), ``TIME_PERIOD`` and ``value`` (float).

    Raises
    ------
    FetchError
        ``http`` for an SDMX error message, ``malformed`` for anything ``sdmx1`` cannot read
        or an observation value that is not a number.
    """
    import sdmx

    query = query or f"{flow} data"
    kwargs = {}
    if structure is not None:
        kwargs["structure"] = parse_structure(structure, flow, query=query)
    msg = _read(data, query, "data message", **kwargs)
    if not isinstance(msg, sdmx.message.DataMessage):
        raise _malformed(query, f"expected a data message, got {type(msg).__name__}")
    rows = []
    for ds in msg.data:
        ds_attrs = {k: _value_text(v) for k, v in ds.attrib.items()}
        for i, obs in enumerate(ds.obs, start=1):
            row: dict[str, Any] = dict(ds_attrs)
            for g in obs.group_keys or ():
                row.update({k: _value_text(v) for k, v in g.attrib.items()})
                row.update({k: _value_text(v) for k, v in g.values.items()})
            if obs.series_key is not None:
                row.update({k: _value_text(v) for k, v in obs.series_key.attrib.items()})
                row.update({k: _value_text(v) for k, v in obs.series_key.values.items()})
            row.update({k: _value_text(v) for k, v in obs.attached_attribute.items()})
            if obs.dimension is not None:
                row.update({k: _value_text(v) for k, v in obs.dimension.values.items()})
            try:
                row["value"] = float(obs.value) if obs.value not in (None, "") else float("nan")
            except (TypeError, ValueError):
                raise _malformed(
                    query, f"observation {i}: value {obs.value!r} is not a number"
                ) from None
            rows.append(row)
    frame = pd.DataFrame(rows)
    frame.attrs["prepared"] = str(getattr(msg.header, "prepared", "") or "")
    return frame


def _require(frame: pd.DataFrame, columns: Sequence[str], query: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise _malformed(
            query,
            f"the message has no {missing}; found {sorted(frame.columns)} "
            f"(expected {list(columns)})",
        )


def _vintage(frame: pd.DataFrame, retrieved: str) -> str:
    for col in ("PUBLICATION_DATE", "UPDATE_DATE"):
        if col in frame.columns and frame[col].notna().any():
            return str(frame[col].dropna().iloc[0])[:10]
    return retrieved[:10]


# ------------------------------------------------------------------------------- fetching
def fetch_structure(agency: str, flow: str) -> RawResponse:
    """Download the dataflow ``agency:flow`` with its structure (network only)."""
    req = _client().dataflow(flow, agency_id=agency, params={"references": "all"}, dry_run=True)
    return http_get(
        SOURCE,
        f"{agency}:{flow} structure",
        req.url,
        headers={"Accept": "application/vnd.sdmx.structure+xml;version=2.1"},
        suffix=".xml",
        meta={"flow": flow, "agency": agency, "kind": "structure"},
    )


def _data_url(flow: str, key: dict[str, Any], dsd: Any, start: int, query: str) -> str:
    """Let sdmx1 build the data URL from the structure (no dimension order assumed)."""
    dims = [d.id for d in dsd.dimensions.components]
    unknown = [k for k in key if k not in dims]
    if unknown:
        raise _malformed(query, f"the structure has no dimension {unknown}; it has {dims}")
    req = _client().data(flow, key=key, dsd=dsd, params={"startPeriod": start}, dry_run=True)
    return req.url


def fetch_weo(
    indicators: Sequence[str] | None = None, *, start: int = 2000
) -> tuple[RawResponse, RawResponse]:
    """Download WEO indicators for every economy from ``start`` (network only).

    Returns
    -------
    (structure, data)
        The two responses, for :func:`parse`.
    """
    agency, flow = WEO_FLOW
    structure = fetch_structure(agency, flow)
    dsd = parse_structure(structure.content, flow, query=structure.query)
    codes = list(indicators or WEO_INDICATORS)
    query = f"{agency}:{flow} {'+'.join(codes)}, annual, from {start}"
    url = _data_url(flow, {"INDICATOR": codes, "FREQUENCY": "A"}, dsd, start, query)
    data = http_get(
        SOURCE,
        query,
        url,
        headers={"Accept": "application/vnd.sdmx.structurespecificdata+xml;version=2.1"},
        suffix=".xml",
        meta={"flow": flow, "agency": agency, "kind": "data"},
    )
    return structure, data


def dip_key(dsd: Any, reporters: Sequence[str], *, query: str = "DIP") -> dict[str, Any]:
    """Build the DIP query key from its structure: reporters, inward total, reported only.

    Raises
    ------
    FetchError
        ``malformed`` if the structure lacks the reporter dimension, or if not exactly one
        indicator (or reported derivation type) matches, listing what it offers.
    """
    dims = {d.id: d for d in dsd.dimensions.components}
    if _REPORTER not in dims or _COUNTERPART not in dims:
        raise _malformed(
            query,
            f"the DIP structure has dimensions {list(dims)}; expected {_REPORTER} and "
            f"{_COUNTERPART}",
        )
    key: dict[str, Any] = {_REPORTER: list(reporters), "FREQUENCY": "A"}
    if "FREQUENCY" not in dims:
        key.pop("FREQUENCY")
    key["INDICATOR"] = [_inward_total_code(dims.get("INDICATOR"), query)]
    for name in _DERIVATION_HINTS:
        if name in dims:
            key[name] = [_reported_code(dims[name], query)]
            break
    return key


def _codes(dim: Any) -> dict[str, str]:
    rep = dim.local_representation if dim is not None else None
    cl = getattr(rep, "enumerated", None)
    if cl is None:
        return {}
    return {c.id: str(c.name).lower() for c in cl}


def _inward_total_code(dim: Any, query: str) -> str:
    codes = _codes(dim)
    hits = [
        cid
        for cid, name in codes.items()
        if "inward" in name
        and "position" in name
        and not any(w in name for w in ("equity", "debt", "fellow", "financial", "outward"))
    ]
    if len(hits) != 1:
        raise _malformed(
            query,
            f"cannot tell the inward total position indicator: {len(hits)} match(es) {hits} "
            f"among {sorted(codes)}; expected exactly one code named 'inward ... position'",
        )
    return hits[0]


def _reported_code(dim: Any, query: str) -> str:
    codes = _codes(dim)
    hits = [cid for cid, name in codes.items() if "report" in name and "derived" not in name]
    if len(hits) != 1:
        raise _malformed(
            query,
            f"cannot tell the reported (not derived) code of {dim.id}: {hits} among {codes}",
        )
    return hits[0]


def fetch_dip(reporters: Sequence[str], *, start: int = 2009) -> tuple[RawResponse, RawResponse]:
    """Download inward DIP positions of ``reporters`` by counterpart (network only).

    Returns
    -------
    (structure, data)
        The two responses, for :func:`parse`.
    """
    agency, flow = DIP_FLOW
    structure = fetch_structure(agency, flow)
    dsd = parse_structure(structure.content, flow, query=structure.query)
    query = f"{agency}:{flow} inward positions of {'+'.join(reporters)} from {start}"
    key = dip_key(dsd, reporters, query=query)
    url = _data_url(flow, key, dsd, start, query)
    data = http_get(
        SOURCE,
        query,
        url,
        headers={"Accept": "application/vnd.sdmx.structurespecificdata+xml;version=2.1"},
        suffix=".xml",
        meta={"flow": flow, "agency": agency, "kind": "data"},
    )
    return structure, data


# ---------------------------------------------------------------------------- normalising
def _year(frame: pd.DataFrame, query: str) -> pd.Series:
    years = pd.to_numeric(frame["TIME_PERIOD"].astype(str).str[:4], errors="coerce")
    bad = frame.loc[years.isna(), "TIME_PERIOD"]
    if len(bad):
        raise _malformed(query, f"TIME_PERIOD {bad.iloc[0]!r} is not a year")
    return years.astype(int)


def normalise_weo(parsed: pd.DataFrame, *, retrieved: str, query: str = "WEO") -> pd.DataFrame:
    """Map parsed WEO observations onto the panel's long format.

    Raises
    ------
    FetchError
        ``malformed`` for an indicator Mitra does not map, or a money indicator whose
        ``UNIT`` is not US$ (a domestic-currency series is never passed off as US$).
    """
    if parsed.empty:
        return pd.DataFrame(columns=list(LONG_COLUMNS))
    _require(parsed, ["COUNTRY", "INDICATOR", "TIME_PERIOD"], query)
    unknown = sorted(set(parsed["INDICATOR"]) - set(WEO_INDICATORS))
    if unknown:
        raise _malformed(
            query,
            f"indicator {unknown} not mapped to a panel indicator; expected one of "
            f"{sorted(WEO_INDICATORS)}",
        )
    for code, (_, _, _, unit) in WEO_INDICATORS.items():
        rows = parsed[parsed["INDICATOR"] == code]
        if unit is None or rows.empty:
            continue
        got = set(rows.get("UNIT", pd.Series(["(none)"])).fillna("(none)"))
        if got != {unit}:
            raise _malformed(query, f"{code} has UNIT {sorted(got)}; expected {unit}")
    frame = parsed.assign(year=_year(parsed, query))
    frame = frame[frame["value"].notna()]
    dropped_projection = 0
    if "LATEST_ACTUAL_ANNUAL_DATA" in frame.columns:
        latest = pd.to_numeric(frame["LATEST_ACTUAL_ANNUAL_DATA"], errors="coerce")
        projection = latest.notna() & (frame["year"] > latest)
        dropped_projection = int(projection.sum())
        frame = frame[~projection]
    iso3 = frame["COUNTRY"].map(economy_iso3)
    frame = frame[iso3.notna()].assign(iso3=iso3[iso3.notna()])
    spec = WEO_INDICATORS
    day = retrieved[:10]
    out = pd.DataFrame(
        {
            "iso3": frame["iso3"],
            "year": frame["year"],
            "indicator": [spec[c][0] for c in frame["INDICATOR"]],
            "value": frame["value"] * [spec[c][2] for c in frame["INDICATOR"]],
            "unit": [spec[c][1] for c in frame["INDICATOR"]],
            "source": [
                f"IMF WEO ({c}; IMF terms of use), retrieved {day}" for c in frame["INDICATOR"]
            ],
            "vintage": _vintage(frame, retrieved),
            "note": [
                f"WEO {c}; latest actual year {la}"
                for c, la in zip(
                    frame["INDICATOR"],
                    frame.get(
                        "LATEST_ACTUAL_ANNUAL_DATA", pd.Series("unknown", index=frame.index)
                    ),
                    strict=True,
                )
            ],
        },
        columns=list(LONG_COLUMNS),
    )
    out = out.sort_values(["indicator", "iso3", "year"], ignore_index=True)
    out.attrs["dropped_projections"] = dropped_projection
    return out


def normalise_dip(parsed: pd.DataFrame, *, retrieved: str, query: str = "DIP") -> pd.DataFrame:
    """Map parsed DIP observations onto the positions frame (see the module docstring).

    Raises
    ------
    FetchError
        ``malformed`` if a reporter/counterpart column is missing or a value's ``UNIT`` is not
        US$.
    """
    if parsed.empty:
        return pd.DataFrame(columns=list(DIP_COLUMNS))
    _require(parsed, [_REPORTER, _COUNTERPART, "TIME_PERIOD"], query)
    if "UNIT" in parsed.columns:
        units = set(parsed["UNIT"].dropna())
        if not units <= {"USD"}:
            raise _malformed(query, f"DIP positions have UNIT {sorted(units)}; expected USD")
    frame = parsed[parsed["value"].notna()].assign(year=lambda f: _year(f, query))
    rep = frame[_REPORTER].map(economy_iso3)
    cpt = frame[_COUNTERPART].map(economy_iso3)
    keep = rep.notna() & cpt.notna()
    frame = frame[keep]
    day = retrieved[:10]
    indicator = frame.get("INDICATOR", pd.Series("", index=frame.index)).astype(str)
    derivation = next((frame[c].astype(str) for c in _DERIVATION_HINTS if c in frame), None)
    note = "IMF DIP indicator " + indicator
    if derivation is not None:
        note = note + ", derivation " + derivation
    out = pd.DataFrame(
        {
            "reporter_iso3": rep[keep],
            "counterpart_iso3": cpt[keep],
            "year": frame["year"],
            "indicator": "fdi_inward_position_usd",
            "value": frame["value"] * 1e-9,
            "unit": "US$ billion (current)",
            "source": "IMF Direct Investment Positions (IMF.STA:DIP, "
            + indicator
            + f"; IMF terms of use), retrieved {day}",
            "vintage": _vintage(frame, retrieved),
            "note": note,
        },
        columns=list(DIP_COLUMNS),
    )
    dup = out.duplicated(["reporter_iso3", "counterpart_iso3", "year", "indicator"], keep=False)
    if dup.any():
        first = out[dup].iloc[0]
        raise _malformed(
            query,
            f"{int(dup.sum())} rows share a key, e.g. {first['reporter_iso3']} <- "
            f"{first['counterpart_iso3']} {first['year']}; expected one position per "
            "reporter, counterpart and year",
        )
    out = out.sort_values(["reporter_iso3", "counterpart_iso3", "year"], ignore_index=True)
    out.attrs["dropped_aggregates"] = int((~keep).sum())
    return out
