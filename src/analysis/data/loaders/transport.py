"""The one place the loaders touch the network: an HTTP GET with named failures.

Every loader's ``fetch`` goes through :func:`http_get` (or, for the World Bank, through
``wbgapi``, whose failures :func:`analysis.data.loaders.wdi.fetch` translates the same
way). A failure of any kind becomes one :class:`FetchError` naming the source, the query
and what went wrong, so the command line prints one sentence instead of a traceback:

- ``network``: no connection, DNS failure, time-out;
- ``rate_limit``: HTTP 429 (the ``Retry-After`` header is quoted when the server sends one);
- ``http``: any other HTTP status >= 400 (500, 503, 404, ...);
- ``malformed``: the body is not what the API documents (truncated JSON, HTML instead of
  JSON, a missing field, an unmapped indicator, a unit that is not US$), raised by the
  parsers and normalisers;
- ``cache``: the responses were fine but the cache folder could not be written.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from analysis.base.errors import MitraError

__all__ = [
    "FAILURE_KINDS",
    "FetchError",
    "RawResponse",
    "http_get",
    "network_reason",
    "utc_now",
]

#: Kinds of failure, each with the words the message uses.
FAILURE_KINDS: dict[str, str] = {
    "network": "network failure",
    "rate_limit": "rate limit reached",
    "http": "HTTP error",
    "malformed": "malformed response",
    "cache": "cannot write the cache",
}

#: Seconds to wait for a server before giving up (connect, read).
TIMEOUT: tuple[float, float] = (10.0, 120.0)

#: Identifies Mitra to the servers (the APIs ask clients to say who they are).
USER_AGENT = "mitra-loaders (https://pypi.org/project/mitra; analytics for Indonesia)"


class FetchError(MitraError):
    """A download or a response failed; names the source, the query and the fault.

    Parameters
    ----------
    source
        Human name of the source (``"World Bank WDI"``).
    query
        The query in words or as the URL path, enough to rerun it by hand.
    problem
        What went wrong and, where useful, what was expected.
    kind
        One of :data:`FAILURE_KINDS`.
    status
        The HTTP status, if any.
    """

    def __init__(
        self,
        source: str,
        query: str,
        problem: str,
        *,
        kind: str,
        status: int | None = None,
    ) -> None:
        if kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure kind {kind!r}; expected one of {FAILURE_KINDS}")
        self.source = source
        self.query = query
        self.problem = problem
        self.kind = kind
        self.status = status
        super().__init__(f"{source}: {FAILURE_KINDS[kind]}: {problem} (query: {query})")


@dataclass(frozen=True)
class RawResponse:
    """One response body as received, with what is needed to cache and cite it.

    Attributes
    ----------
    source, query
        As in :class:`FetchError`.
    url
        The full URL requested (query string included).
    content
        The body, byte for byte.
    retrieved
        UTC time the response arrived (ISO 8601, seconds).
    suffix
        File suffix for the cache (``".json"``, ``".xml"``).
    meta
        Small extra facts the parser needs (e.g. the dataflow), stored in the provenance.
    """

    source: str
    query: str
    url: str
    content: bytes
    retrieved: str
    suffix: str = ".json"
    meta: dict[str, Any] = field(default_factory=dict)


def utc_now() -> str:
    """Return the current UTC time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def network_reason(exc: BaseException) -> str:
    """Say in a few words why a connection failed (the full urllib3 chain is unreadable)."""
    text = str(exc)
    for pattern, words in (
        (r"Failed to resolve '([^']+)'", "cannot resolve the host name {0} (no network or DNS)"),
        (r"Connection refused", "connection refused"),
        (r"timed out", "the connection timed out"),
        (r"Network is unreachable", "network is unreachable"),
        (r"SSLError|CERTIFICATE_VERIFY_FAILED", "TLS/SSL error"),
    ):
        m = re.search(pattern, text)
        if m:
            return words.format(*m.groups())
    return text if len(text) <= 160 else text[:157] + "..."


def _status_error(source: str, query: str, status: int, reason: str, headers: Any) -> FetchError:
    if status == 429:
        retry = headers.get("Retry-After") if headers is not None else None
        hint = f"; the server asks to retry after {retry} s" if retry else "; retry later"
        return FetchError(
            source, query, f"HTTP 429 Too Many Requests{hint}", kind="rate_limit", status=429
        )
    return FetchError(
        source,
        query,
        f"HTTP {status} {reason or ''}".rstrip() + " from the server",
        kind="http",
        status=status,
    )


def http_get(
    source: str,
    query: str,
    url: str,
    *,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    suffix: str = ".json",
    meta: dict[str, Any] | None = None,
    session: Any = None,
) -> RawResponse:
    """GET ``url`` and return the body, or raise :class:`FetchError`.

    Parameters
    ----------
    source, query
        Named in the error message and recorded with the response.
    url, params, headers
        The request; ``params`` are encoded into the query string.
    suffix, meta
        Passed through to :class:`RawResponse`.
    session
        A ``requests.Session`` (default: a new one); tests pass none and intercept at the
        adapter, so the production code path is the one tested.

    Raises
    ------
    FetchError
        ``network`` for connection failures and time-outs, ``rate_limit`` for HTTP 429,
        ``http`` for any other status >= 400.
    """
    import requests

    own = session is None
    sess = requests.Session() if own else session
    hdrs = {"User-Agent": USER_AGENT, **(headers or {})}
    try:
        resp = sess.get(url, params=params, headers=hdrs, timeout=TIMEOUT)
    except requests.Timeout:
        raise FetchError(
            source, query, f"no answer within {TIMEOUT[1]:.0f} s", kind="network"
        ) from None
    except requests.RequestException as exc:
        raise FetchError(
            source, query, f"cannot reach the server: {network_reason(exc)}", kind="network"
        ) from None
    finally:
        if own:
            sess.close()
    if resp.status_code >= 400:
        raise _status_error(source, query, resp.status_code, resp.reason, resp.headers)
    return RawResponse(
        source=source,
        query=query,
        url=resp.url,
        content=resp.content,
        retrieved=utc_now(),
        suffix=suffix,
        meta=dict(meta or {}),
    )
