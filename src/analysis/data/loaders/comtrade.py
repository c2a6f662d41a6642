"""UN Comtrade goods exports by HS chapter: fetch, parse, normalise.

Two query families, one year per call (the keyless preview endpoint returns at most 500 rows,
so reporters and partners are chunked to stay under it):

- **world**: each candidate economy's exports to the world (``partnerCode=0``) of the HS
  chapters below;
- **Indonesia bilateral**: Indonesia's (``reporterCode=360``) exports to and imports from each
  candidate partner, the same chapters plus ``TOTAL``.

Sectors (HS 2017 chapters summed per reporter, partner, year and flow)::

    textiles   50-60   exports_textiles_hs50_60_usd
    clothing   61-62   exports_clothing_hs61_62_usd
    footwear   64      exports_footwear_hs64_usd
    chemicals  28-38   exports_chemicals_hs_usd   (same definition as the WITS group 28-38)
    pharma     30      exports_pharma_hs30_usd

Bilateral codes are ``idn_exports_to_<sector>_..._usd`` (Indonesia's exports to the partner
in the sector), ``idn_exports_to_usd`` and ``idn_imports_from_usd`` (all goods, ``TOTAL``);
``iso3`` is the partner. Values are ``primaryValue`` (US$; FOB for exports, CIF for imports)
divided by 1e9: US$ billion, current. Comtrade omits chapters with no trade, so a sector sum
over fewer chapters than its definition says so in ``note`` ("k of n chapters reported");
nothing is filled in.

Why not ``comtradeapicall`` for the transport: its ``previewFinalData``/``getFinalData`` print
an HTTP error's body and return ``None``, losing the status a clear message needs, and they
return a DataFrame, not the body to cache. :func:`fetch` issues the same GET the client
issues (same endpoints ``public/v1/preview`` and ``data/v1/get``, same parameter names) with
our transport, and :func:`parse` reads the documented JSON (``{"count", "data", "error"}``)
as the client does (one row per ``data`` record). A subscription key, if set in
``COMTRADE_API_KEY``, goes in the ``Ocp-Apim-Subscription-Key`` header, never in the URL, so
it cannot reach the cache provenance.

Source: United Nations, UN Comtrade database, https://comtradeapi.un.org (reporter-declared
data). Redistribution terms: UN Comtrade's terms of use (unverified here for republication):
every figure carries "UN Comtrade" in ``source``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import pycountry

from analysis.data.loaders.transport import FetchError, RawResponse, http_get
from analysis.data.loaders.vocabulary import LONG_COLUMNS, economy_iso3

__all__ = [
    "API_KEY_ENV",
    "SECTORS",
    "SOURCE",
    "check_no_overlap",
    "comtrade_code",
    "fetch",
    "normalise",
    "parse",
    "queries",
]

SOURCE = "UN Comtrade"
API_KEY_ENV = "COMTRADE_API_KEY"
PREVIEW_URL = "https://comtradeapi.un.org/public/v1/preview/C/A/HS"
DATA_URL = "https://comtradeapi.un.org/data/v1/get/C/A/HS"
PREVIEW_MAX_ROWS = 500

#: sector -> (HS chapters, indicator suffix).
SECTORS: dict[str, tuple[tuple[str, ...], str]] = {
    "textiles": (tuple(f"{c:02d}" for c in range(50, 61)), "textiles_hs50_60"),
    "clothing": (("61", "62"), "clothing_hs61_62"),
    "footwear": (("64",), "footwear_hs64"),
    "chemicals": (tuple(f"{c:02d}" for c in range(28, 39)), "chemicals_hs"),
    "pharma": (("30",), "pharma_hs30"),
}

CHAPTERS: tuple[str, ...] = tuple(sorted({c for chs, _ in SECTORS.values() for c in chs}))

#: Comtrade reporter codes that differ from the ISO 3166 numeric code (Comtrade's M49
#: variants: France incl. Monaco, Norway incl. Svalbard, Switzerland incl. Liechtenstein,
#: India, USA incl. Puerto Rico and USVI).
COMTRADE_CODES: dict[str, int] = {"FRA": 251, "NOR": 579, "CHE": 757, "IND": 699, "USA": 842}

#: Economies with no Comtrade reporter of their own (Taiwan appears as "Other Asia, nes").
NO_REPORTER: frozenset[str] = frozenset({"TWN"})


def comtrade_code(iso3: str) -> int:
    """Return Comtrade's numeric area code for an ISO alpha-3 economy.

    Raises
    ------
    ValueError
        For an unknown code or an economy Comtrade does not report separately.
    """
    if iso3 in NO_REPORTER:
        raise ValueError(f"{iso3} has no UN Comtrade reporter code of its own")
    if iso3 in COMTRADE_CODES:
        return COMTRADE_CODES[iso3]
    country = pycountry.countries.get(alpha_3=iso3)
    if country is None:
        raise ValueError(f"unknown economy code {iso3!r}; expected ISO 3166 alpha-3")
    return int(country.numeric)


def _chunks(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def queries(economies: Sequence[str], years: Iterable[int]) -> list[tuple[str, dict[str, Any]]]:
    """Plan the calls: ``(dataset, params)`` pairs, each under the preview row limit."""
    economies = [e for e in dict.fromkeys(economies) if e not in NO_REPORTER]
    codes = [comtrade_code(e) for e in economies]
    chapters = ",".join(CHAPTERS)
    per_world = max(1, PREVIEW_MAX_ROWS // len(CHAPTERS))
    per_bilateral = max(1, PREVIEW_MAX_ROWS // (2 * (len(CHAPTERS) + 1)))
    partners = [c for e, c in zip(economies, codes, strict=True) if e != "IDN"]
    out = []
    for year in years:
        for chunk in _chunks(codes, per_world):
            out.append(
                (
                    "world",
                    {
                        "reporterCode": ",".join(map(str, chunk)),
                        "period": str(year),
                        "partnerCode": "0",
                        "partner2Code": "0",
                        "flowCode": "X",
                        "cmdCode": chapters,
                        "customsCode": "C00",
                        "motCode": "0",
                        "includeDesc": "True",
                    },
                )
            )
        for chunk in _chunks(partners, per_bilateral):
            out.append(
                (
                    "idn_bilateral",
                    {
                        "reporterCode": "360",
                        "period": str(year),
                        "partnerCode": ",".join(map(str, chunk)),
                        "partner2Code": "0",
                        "flowCode": "X,M",
                        "cmdCode": chapters + ",TOTAL",
                        "customsCode": "C00",
                        "motCode": "0",
                        "includeDesc": "True",
                    },
                )
            )
    return out


def _describe(dataset: str, params: dict[str, Any]) -> str:
    return (
        f"{dataset}: reporter {params['reporterCode']}, partner {params['partnerCode']}, "
        f"flow {params['flowCode']}, {params['period']}"
    )


def fetch(
    economies: Sequence[str], years: Iterable[int], *, pause: float = 1.0
) -> list[tuple[str, RawResponse]]:
    """Download the planned queries (network only); ``pause`` seconds between calls.

    Returns
    -------
    list of (dataset, RawResponse)

    Raises
    ------
    FetchError
        Network failure, HTTP error or rate limit (429), naming the call.
    """
    key = os.environ.get(API_KEY_ENV)
    url = DATA_URL if key else PREVIEW_URL
    headers = {"Ocp-Apim-Subscription-Key": key} if key else {}
    out = []
    for i, (dataset, params) in enumerate(queries(economies, years)):
        if i and pause:
            time.sleep(pause)  # the public API limits calls per second
        resp = http_get(
            SOURCE,
            _describe(dataset, params),
            url,
            params=params,
            headers=headers,
            meta={"dataset": dataset},
        )
        out.append((dataset, resp))
    return out


def _malformed(query: str, problem: str) -> FetchError:
    return FetchError(SOURCE, query, problem, kind="malformed")


_FIELDS = ("refYear", "reporterISO", "partnerISO", "flowCode", "cmdCode", "primaryValue")


def parse(body: bytes, *, query: str = "Comtrade response") -> pd.DataFrame:
    """Read one Comtrade API JSON body into one row per record.

    Returns
    -------
    DataFrame
        ``year, reporter_iso3, partner_iso3, flow, cmd, value`` (value in US$); partner
        ``WLD`` for the world (Comtrade's ``W00``).

    Raises
    ------
    FetchError
        ``malformed`` for truncated or invalid JSON, a non-empty ``error``, a missing field or
        a non-numeric value; the message names the record.
    """
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _malformed(
            query, f"truncated or invalid JSON ({exc}); expected {{count, data, error}}"
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        if isinstance(payload, dict) and payload.get("statusCode"):
            raise FetchError(
                SOURCE,
                query,
                f"the API answered {payload['statusCode']}: {payload.get('message', '')}",
                kind="http",
                status=int(payload["statusCode"]),
            )
        raise _malformed(query, "expected a JSON object with a 'data' list")
    if payload.get("error"):
        raise FetchError(SOURCE, query, f"the API answered: {payload['error']}", kind="http")
    records = []
    for i, rec in enumerate(payload["data"], start=1):
        missing = [f for f in _FIELDS if f not in rec]
        if missing:
            raise _malformed(query, f"record {i}: missing {missing}; expected {list(_FIELDS)}")
        value = rec["primaryValue"]
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _malformed(query, f"record {i}: primaryValue {value!r} is not a number")
        partner = "WLD" if rec["partnerISO"] == "W00" else rec["partnerISO"]
        records.append(
            (
                int(rec["refYear"]),
                rec["reporterISO"],
                partner,
                rec["flowCode"],
                str(rec["cmdCode"]),
                float(value),
            )
        )
    cols = ["year", "reporter_iso3", "partner_iso3", "flow", "cmd", "value"]
    frame = pd.DataFrame(records, columns=cols)
    dup = frame.duplicated(cols[:-1], keep=False)
    if dup.any():
        first = frame[dup].iloc[0]
        raise _malformed(
            query,
            f"{int(dup.sum())} records share a key, e.g. {first['reporter_iso3']} -> "
            f"{first['partner_iso3']} {first['flow']} {first['cmd']} {first['year']}; "
            "expected one per reporter, partner, flow, commodity and year",
        )
    return frame


def _sector_sums(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    parts = []
    for sector, (chapters, suffix) in SECTORS.items():
        rows = frame[frame["cmd"].isin(chapters)]
        if rows.empty:
            continue
        g = rows.groupby(key, as_index=False).agg(value=("value", "sum"), n=("cmd", "nunique"))
        g["sector"] = sector
        g["suffix"] = suffix
        g["n_expected"] = len(chapters)
        parts.append(g)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def check_no_overlap(parsed: Sequence[tuple[str, pd.DataFrame]], *, query: str = "") -> None:
    """Refuse a record that two responses of one dataset both hold (a sum would double it).

    Raises
    ------
    FetchError
        ``malformed``, naming the record.
    """
    key = ["year", "reporter_iso3", "partner_iso3", "flow", "cmd"]
    for name in ("world", "idn_bilateral"):
        frames = [f for d, f in parsed if d == name and len(f)]
        if not frames:
            continue
        frame = pd.concat(frames, ignore_index=True)
        dup = frame.duplicated(key)
        if dup.any():
            first = frame[dup].iloc[0]
            raise _malformed(
                query or "Comtrade",
                f"{name}: two responses hold {first['reporter_iso3']} -> "
                f"{first['partner_iso3']} {first['flow']} {first['cmd']} {first['year']}; "
                "a sum would count it twice",
            )


def normalise(
    parsed: Sequence[tuple[str, pd.DataFrame]], *, retrieved: str, query: str = "Comtrade"
) -> pd.DataFrame:
    """Map parsed responses onto the panel's long format.

    Parameters
    ----------
    parsed
        ``(dataset, frame)`` pairs from :func:`parse`; dataset ``world`` or ``idn_bilateral``.
    retrieved
        UTC retrieval time; the vintage (the preview API states no release date).
    """
    day = retrieved[:10]
    out = []
    world = pd.concat(
        [f for d, f in parsed if d == "world"] or [pd.DataFrame()], ignore_index=True
    )
    bilateral = pd.concat(
        [f for d, f in parsed if d == "idn_bilateral"] or [pd.DataFrame()], ignore_index=True
    )
    unknown = sorted({d for d, _ in parsed} - {"world", "idn_bilateral"})
    if unknown:
        raise _malformed(query, f"unknown dataset {unknown}; expected world or idn_bilateral")
    check_no_overlap(parsed, query=query)
    if not world.empty:
        w = world[(world["flow"] == "X") & (world["partner_iso3"] == "WLD")]
        s = _sector_sums(w, ["reporter_iso3", "year"])
        if not s.empty:
            s["iso3"] = s["reporter_iso3"]
            s["indicator"] = "exports_" + s["suffix"] + "_usd"
            s["what"] = "exports to the world"
            out.append(s)
    if not bilateral.empty:
        b = bilateral[bilateral["reporter_iso3"] == "IDN"]
        x = b[b["flow"] == "X"]
        s = _sector_sums(x, ["partner_iso3", "year"])
        if not s.empty:
            s["iso3"] = s["partner_iso3"]
            s["indicator"] = "idn_exports_to_" + s["suffix"] + "_usd"
            s["what"] = "Indonesia's exports to the partner"
            out.append(s)
        for flow, code, what in (
            ("X", "idn_exports_to_usd", "Indonesia's exports to the partner"),
            ("M", "idn_imports_from_usd", "Indonesia's imports from the partner"),
        ):
            t = b[(b["flow"] == flow) & (b["cmd"] == "TOTAL")][["partner_iso3", "year", "value"]]
            if len(t):
                t = t.assign(
                    iso3=t["partner_iso3"],
                    indicator=code,
                    what=what,
                    sector="all goods",
                    n=1,
                    n_expected=1,
                )
                out.append(t)
    if not out:
        return pd.DataFrame(columns=list(LONG_COLUMNS))
    frame = pd.concat(out, ignore_index=True)
    iso3 = frame["iso3"].map(economy_iso3)
    frame = frame[iso3.notna()].assign(iso3=iso3[iso3.notna()])
    chapters = {
        s: (chs[0] if len(chs) == 1 else f"{chs[0]}-{chs[-1]}") for s, (chs, _) in SECTORS.items()
    }
    notes = []
    for _, r in frame.iterrows():
        scope = "TOTAL" if r["sector"] == "all goods" else f"HS {chapters[r['sector']]}"
        note = f"{r['what']}, {scope}, primaryValue"
        if r["n"] < r["n_expected"]:
            note += f"; {int(r['n'])} of {int(r['n_expected'])} chapters reported"
        notes.append(note)
    result = pd.DataFrame(
        {
            "iso3": frame["iso3"],
            "year": frame["year"].astype(int),
            "indicator": frame["indicator"],
            "value": frame["value"] * 1e-9,
            "unit": "US$ billion (current)",
            "source": f"UN Comtrade API (reporter-declared; UN Comtrade terms), retrieved {day}",
            "vintage": day,
            "note": notes,
        },
        columns=list(LONG_COLUMNS),
    )
    return result.sort_values(["indicator", "iso3", "year"], ignore_index=True)
