"""World Bank World Development Indicators through ``wbgapi``: fetch, parse, normalise.

- :func:`fetch` (network only): one query per series,
  ``country/all/indicator/<series>?date=<first>:<last>`` of the WDI API v2, paged by
  ``wbgapi.fetch`` (the client checks the HTTP status, the JSON and the API's own error
  messages); every page body is captured byte for byte for the cache.
- :func:`parse` (page bodies -> DataFrame ``iso3, series, year, value, lastupdated``): checks
  the documented v2 shape ``[header, rows]``, drops empty cells, keeps ISO economies only.
- :func:`normalise` (-> the panel's long format) maps each series to one panel indicator and
  scales money to US$ billion.

Notes
-----
Source: World Bank, World Development Indicators (database 2), https://api.worldbank.org/v2,
licence CC BY 4.0. The header's ``lastupdated`` (the WDI database's release date) is the
vintage. Units as published: current or constant-2015 US$, current international $ (PPP),
persons, % per year, % of GDP; money is divided by 1e9 to US$ billion, population by 1e6.
Aggregates (``WLD``, ``EAS``, ...) are dropped (:mod:`analysis.data.loaders.economies`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from analysis.data.loaders.transport import (
    TIMEOUT,
    USER_AGENT,
    FetchError,
    RawResponse,
    network_reason,
    utc_now,
)
from analysis.data.loaders.vocabulary import LONG_COLUMNS, economy_iso3

__all__ = ["SERIES", "SOURCE", "fetch", "normalise", "parse"]

SOURCE = "World Bank WDI"

#: WDI series -> (panel indicator, unit after scaling, factor from the published unit).
SERIES: dict[str, tuple[str, str, float]] = {
    "NY.GDP.MKTP.CD": ("gdp_usd", "US$ billion (current)", 1e-9),
    "NY.GDP.MKTP.KD": ("gdp_const_usd", "US$ billion (constant 2015)", 1e-9),
    "NY.GDP.MKTP.PP.CD": ("gdp_ppp_usd", "international $ billion (current PPP)", 1e-9),
    "NY.GDP.PCAP.CD": ("gdp_pc_usd", "US$ per person (current)", 1.0),
    "SP.POP.TOTL": ("population", "million persons", 1e-6),
    "NY.GDP.MKTP.KD.ZG": ("gdp_growth_pct", "% per year", 1.0),
    "BX.GSR.MRCH.CD": ("exports_goods_usd", "US$ billion (current)", 1e-9),
    "BM.GSR.MRCH.CD": ("imports_goods_usd", "US$ billion (current)", 1e-9),
    "BX.KLT.DINV.WD.GD.ZS": ("fdi_inflow_pct_gdp", "% of GDP", 1.0),
    "BM.KLT.DINV.WD.GD.ZS": ("fdi_outflow_pct_gdp", "% of GDP", 1.0),
    "BX.KLT.DINV.CD.WD": ("fdi_inflow_usd", "US$ billion (current)", 1e-9),
    "BM.KLT.DINV.CD.WD": ("fdi_outflow_usd", "US$ billion (current)", 1e-9),
}

#: Rows per page asked of the API: large enough that one series is one page.
PER_PAGE = 20000


def _query(series: str, first: int, last: int) -> str:
    return f"country/all/indicator/{series}?date={first}:{last}"


def fetch(
    series: Sequence[str] | None = None, *, first: int = 2000, last: int = 2024
) -> list[RawResponse]:
    """Download WDI series for every economy and year (network only).

    Parameters
    ----------
    series
        WDI codes (default: every key of :data:`SERIES`).
    first, last
        Year range, inclusive.

    Returns
    -------
    list of RawResponse
        One per page received (usually one per series).

    Raises
    ------
    FetchError
        Network failure, HTTP error (429 as ``rate_limit``), or a body ``wbgapi`` cannot
        read (``malformed``).
    """
    import requests
    import wbgapi

    out: list[RawResponse] = []
    for code in series or list(SERIES):
        query = _query(code, first, last)
        pages: list[tuple[str, bytes]] = []

        def capture(resp: Any, *args: Any, _pages: list = pages, **kwargs: Any) -> Any:
            if resp.status_code == 200:
                _pages.append((resp.url, resp.content))
            return resp

        saved = wbgapi.get_options
        # wbgapi passes get_options to requests.get: the hook sees each page as received.
        wbgapi.get_options = {
            **saved,
            "timeout": TIMEOUT,
            "headers": {"User-Agent": USER_AGENT},
            "hooks": {"response": [capture]},
        }
        try:
            for _ in wbgapi.fetch(
                f"country/all/indicator/{code}", {"date": f"{first}:{last}", "per_page": PER_PAGE}
            ):
                pass
        except TypeError:
            # wbgapi iterates the rows of the last page; the API sends ``null`` rows for a
            # query that matches nothing. The page itself was captured: parse() reads it.
            if not pages:
                raise
        except wbgapi.APIResponseError as exc:
            raise FetchError(
                SOURCE, query, f"the body is not the API's JSON ({exc.msg})", kind="malformed"
            ) from None
        except wbgapi.APIError as exc:
            if exc.code == 429:
                raise FetchError(
                    SOURCE,
                    query,
                    "HTTP 429 Too Many Requests; retry later",
                    kind="rate_limit",
                    status=429,
                ) from None
            if exc.code is not None:
                raise FetchError(
                    SOURCE,
                    query,
                    f"HTTP {exc.code} {exc.msg} from the server",
                    kind="http",
                    status=int(exc.code),
                ) from None
            raise FetchError(SOURCE, query, f"the API answered: {exc.msg}", kind="http") from None
        except requests.RequestException as exc:
            raise FetchError(
                SOURCE, query, f"cannot reach the server: {network_reason(exc)}", kind="network"
            ) from None
        finally:
            wbgapi.get_options = saved
        retrieved = utc_now()
        for url, body in pages:
            out.append(
                RawResponse(
                    source=SOURCE,
                    query=query,
                    url=url,
                    content=body,
                    retrieved=retrieved,
                    meta={"series": code},
                )
            )
    return out


def _malformed(query: str, problem: str) -> FetchError:
    return FetchError(SOURCE, query, problem, kind="malformed")


def parse(bodies: Iterable[bytes], *, query: str = "WDI response") -> pd.DataFrame:
    """Read WDI API v2 page bodies into one frame.

    Parameters
    ----------
    bodies
        JSON bodies as received (``[header, rows]``).
    query
        Named in errors.

    Returns
    -------
    DataFrame
        ``iso3, series, year, value, lastupdated``; empty cells and aggregates dropped
        (``attrs["dropped_aggregates"]`` lists the aggregate codes seen).

    Raises
    ------
    FetchError
        ``malformed`` for truncated or invalid JSON, an API error message, a missing field or
        a non-numeric value (naming the row).
    """
    records = []
    aggregates: set[str] = set()
    for page, body in enumerate(bodies, start=1):
        try:
            payload = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise _malformed(
                query, f"page {page}: truncated or invalid JSON ({exc}); expected [header, rows]"
            ) from None
        if (
            isinstance(payload, list)
            and payload
            and isinstance(payload[0], dict)
            and payload[0].get("message")
        ):
            msg = payload[0]["message"][0]
            raise FetchError(
                SOURCE,
                query,
                f"the API answered: {msg.get('key')}: {msg.get('value')}",
                kind="http",
            )
        if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], dict)):
            raise _malformed(query, f"page {page}: expected a JSON list [header, rows]")
        header, rows = payload
        if rows is None:  # the API sends null rows when a query matches nothing
            rows = []
        if not isinstance(rows, list):
            raise _malformed(query, f"page {page}: expected a list of rows after the header")
        lastupdated = str(header.get("lastupdated") or "")
        for i, row in enumerate(rows, start=1):
            try:
                series = row["indicator"]["id"]
                code = row.get("countryiso3code") or row["country"]["id"]
                year_text = row["date"]
                value = row["value"]
            except (KeyError, TypeError):
                raise _malformed(
                    query,
                    f"page {page}, row {i}: missing field; expected indicator.id, "
                    "countryiso3code, date and value",
                ) from None
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _malformed(query, f"page {page}, row {i}: value {value!r} is not a number")
            try:
                year = int(year_text)
            except (TypeError, ValueError):
                raise _malformed(
                    query, f"page {page}, row {i}: date {year_text!r} is not a year"
                ) from None
            iso3 = economy_iso3(code)
            if iso3 is None:
                aggregates.add(str(code))
                continue
            records.append((iso3, series, year, float(value), lastupdated))
    frame = pd.DataFrame(records, columns=["iso3", "series", "year", "value", "lastupdated"])
    frame["year"] = frame["year"].astype(int)
    frame.attrs["dropped_aggregates"] = sorted(aggregates)
    return frame


def normalise(parsed: pd.DataFrame, *, retrieved: str, query: str = "WDI") -> pd.DataFrame:
    """Map parsed WDI rows onto the panel's long format.

    Parameters
    ----------
    parsed
        Output of :func:`parse`.
    retrieved
        UTC retrieval time (``YYYY-MM-DDTHH:MM:SSZ``), cited in ``source``.
    query
        Named in errors.

    Returns
    -------
    DataFrame
        :data:`LONG_COLUMNS`; ``vintage`` = the WDI release date of the page.

    Raises
    ------
    FetchError
        ``malformed`` for a series Mitra does not map to a panel indicator.
    """
    unknown = sorted(set(parsed["series"]) - set(SERIES))
    if unknown:
        raise _malformed(
            query,
            f"series {unknown} not mapped to a panel indicator; expected one of {sorted(SERIES)}",
        )
    day = retrieved[:10]
    spec = [SERIES[c] for c in parsed["series"]]
    out = pd.DataFrame(
        {
            "iso3": parsed["iso3"],
            "year": parsed["year"].astype(int),
            "indicator": [s[0] for s in spec],
            "value": parsed["value"].to_numpy(dtype=float) * [s[2] for s in spec],
            "unit": [s[1] for s in spec],
            "source": [
                f"World Bank WDI API ({c}; CC BY 4.0), retrieved {day}" for c in parsed["series"]
            ],
            "vintage": parsed["lastupdated"].where(parsed["lastupdated"] != "", day),
            "note": "WDI series " + parsed["series"],
        },
        columns=list(LONG_COLUMNS),
    )
    return out.sort_values(["indicator", "iso3", "year"], ignore_index=True)
