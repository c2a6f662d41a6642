"""Live loaders, tested without the network on recorded (and labelled hand-made) responses.

HTTP is intercepted at the ``requests`` adapter by ``responses``, so ``fetch`` runs its real
code path (wbgapi's paging and checks, sdmx1's URL building, our transport) and no socket
opens; pytest-socket (``--allow-hosts`` in pyproject.toml) would fail any test that tried.
The fixtures and their origin are listed in tests/fixtures/responses/README.md.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pycountry
import pytest
import requests
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.base.errors import ProvenanceError
from analysis.data.loaders import comtrade, imf, wdi
from analysis.data.loaders.cache import CACHE_COLUMNS, FetchCache
from analysis.data.loaders.refresh import (
    FETCHED_COLUMNS,
    fetched_frame,
    fetched_positions,
    refresh,
)
from analysis.data.loaders.transport import FetchError, RawResponse
from analysis.data.loaders.vocabulary import LONG_COLUMNS

FIX = Path(__file__).resolve().parent / "fixtures" / "responses"
RETRIEVED = "2026-11-28T10:00:00Z"

WDI_REAL = "wdi_NY.GNP.PCAP.CD_USA_1990-1997.json"
WDI_MADE = "wdi_NY.GDP.MKTP.CD_HANDMADE.json"
WEO_STRUCTURE = "imf_weo_structure.xml"
WEO_REAL = "imf_weo_data_SVK.xml"
WEO_MADE = "imf_weo_data_HANDMADE.xml"
DIP_STRUCTURE = "imf_dip_structure_HANDMADE.xml"
DIP_DATA = "imf_dip_data_HANDMADE.xml"
CT_REAL = "comtrade_CHN_2010_total.json"
CT_EMPTY = "comtrade_empty.json"
CT_WORLD = "comtrade_world_HANDMADE.json"
CT_BILATERAL = "comtrade_idn_bilateral_HANDMADE.json"

WB_URL = re.compile(r"https://api\.worldbank\.org/v2/.*")
IMF_STRUCTURE_URL = re.compile(r"https://api\.imf\.org/external/sdmx/2\.1/dataflow/.*")
IMF_DATA_URL = re.compile(r"https://api\.imf\.org/external/sdmx/2\.1/data/.*")
CT_URL = re.compile(r"https://comtradeapi\.un\.org/.*")


def body(name: str) -> bytes:
    return (FIX / name).read_bytes()


def raw(name: str, *, query: str = "q", meta: dict | None = None, suffix: str = "") -> RawResponse:
    return RawResponse(
        source="test",
        query=query,
        url=f"https://example.invalid/{name}",
        content=body(name),
        retrieved=RETRIEVED,
        suffix=suffix or Path(name).suffix,
        meta=meta or {},
    )


def assert_fetch_error(exc: pytest.ExceptionInfo, source: str, kind: str, *words: str) -> None:
    err = exc.value
    assert err.kind == kind
    assert err.source == source
    msg = str(err)
    assert msg.startswith(f"{source}: ")
    assert "(query: " in msg
    for w in words:
        assert w in msg, msg


# ------------------------------------------------------------------------------ World Bank
def test_wdi_parse_reads_a_recorded_response():
    frame = wdi.parse([body(WDI_REAL)])
    assert len(frame) == 8
    assert set(frame["iso3"]) == {"USA"}
    assert frame.set_index("year").loc[1997, "value"] == 31270
    assert frame.set_index("year").loc[1990, "value"] == 24060
    assert set(frame["lastupdated"]) == {"2020-07-01"}


def test_wdi_normalise_refuses_a_series_it_does_not_map():
    with pytest.raises(FetchError) as exc:
        wdi.normalise(wdi.parse([body(WDI_REAL)]), retrieved=RETRIEVED, query="GNI")
    assert_fetch_error(exc, "World Bank WDI", "malformed", "NY.GNP.PCAP.CD", "not mapped")


def test_wdi_normalise_scales_to_usd_billion_and_drops_aggregates():
    parsed = wdi.parse([body(WDI_MADE)])
    assert parsed.attrs["dropped_aggregates"] == ["WLD", "XKX"]
    out = wdi.normalise(parsed, retrieved=RETRIEVED)
    assert list(out.columns) == list(LONG_COLUMNS)
    idn = out.set_index(["iso3", "year"]).loc[("IDN", 2023)]
    assert idn["indicator"] == "gdp_usd"
    assert idn["value"] == pytest.approx(1000.0)  # 1e12 US$ = 1,000 US$ billion
    assert idn["unit"] == "US$ billion (current)"
    assert idn["vintage"] == "2026-04-08"  # the WDI release, from the page header
    assert "retrieved 2026-11-28" in idn["source"]
    assert ("IDN", 2024) not in out.set_index(["iso3", "year"]).index  # null is not zero
    assert set(out["iso3"]) == {"IDN", "JPN"}  # no aggregate, no non-ISO code (Kosovo)


def test_every_wdi_series_maps_to_one_indicator_and_unit():
    indicators = [v[0] for v in wdi.SERIES.values()]
    assert len(indicators) == len(set(indicators))
    for code, (_, unit, factor) in wdi.SERIES.items():
        if "billion" in unit:
            assert factor == 1e-9, code


@pytest.mark.parametrize(
    ("content", "kind", "words"),
    [
        (
            b'[{"page":1,"pages":1,"per_page":50,"total":8},[{"indicator":{"id"',
            "malformed",
            ["truncated or invalid JSON"],
        ),
        (b"<html><body>Service Unavailable</body></html>", "malformed", ["invalid JSON"]),
        (
            b'[{"message":[{"id":"120","key":"Invalid value","value":"The provided parameter '
            b'value is not valid"}]}]',
            "http",
            ["Invalid value"],
        ),
        (
            b'[{"page":1},[{"indicator":{"id":"NY.GDP.MKTP.CD"},"date":"2023","value":1.0}]]',
            "malformed",
            ["row 1", "missing field"],
        ),
        (
            b'[{"page":1},[{"indicator":{"id":"NY.GDP.MKTP.CD"},"countryiso3code":"IDN",'
            b'"date":"2023","value":"12,5"}]]',
            "malformed",
            ["'12,5' is not a number"],
        ),
        (b'{"page":1}', "malformed", ["expected a JSON list [header, rows]"]),
    ],
)
def test_wdi_parse_names_the_fault(content, kind, words):
    with pytest.raises(FetchError) as exc:
        wdi.parse([content], query="country/all/indicator/NY.GDP.MKTP.CD")
    assert_fetch_error(exc, "World Bank WDI", kind, "NY.GDP.MKTP.CD", *words)


def test_wdi_fetch_returns_the_bytes_as_received():
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, WB_URL, body=body(WDI_MADE), status=200)
        got = wdi.fetch(["NY.GDP.MKTP.CD"], first=2022, last=2024)
        url = rsps.calls[0].request.url
    assert [r.content for r in got] == [body(WDI_MADE)]
    assert "country/all/indicator/NY.GDP.MKTP.CD" in url
    assert "date=2022%3A2024" in url and "per_page=20000" in url
    assert got[0].meta == {"series": "NY.GDP.MKTP.CD"}


@pytest.mark.parametrize(
    ("status", "content", "kind", "words"),
    [
        (429, b"Too many requests", "rate_limit", ["HTTP 429"]),
        (500, b"Internal Server Error", "http", ["HTTP 500"]),
        (503, b"", "http", ["HTTP 503"]),
        (200, b'[{"page":1,"pages":1,"per_page":50,"to', "malformed", ["not the API's JSON"]),
    ],
)
def test_wdi_fetch_failures_are_one_clear_error(status, content, kind, words):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, WB_URL, body=content, status=status)
        with pytest.raises(FetchError) as exc:
            wdi.fetch(["NY.GDP.MKTP.CD"])
    assert_fetch_error(exc, "World Bank WDI", kind, "NY.GDP.MKTP.CD", *words)


def test_wdi_fetch_network_failure_is_named():
    with responses.RequestsMock() as rsps:
        rsps.add(
            responses.GET,
            WB_URL,
            body=requests.ConnectionError("Failed to resolve 'api.worldbank.org'"),
        )
        with pytest.raises(FetchError) as exc:
            wdi.fetch(["SP.POP.TOTL"])
    assert_fetch_error(
        exc, "World Bank WDI", "network", "SP.POP.TOTL", "cannot resolve the host name"
    )


# -------------------------------------------------------------------------------------- IMF
def test_weo_parse_reads_a_recorded_message_with_its_structure():
    frame = imf.parse(body(WEO_REAL), body(WEO_STRUCTURE), flow="WEO")
    assert len(frame) == 1
    row = frame.iloc[0]
    assert (row["COUNTRY"], row["INDICATOR"], row["TIME_PERIOD"]) == ("SVK", "NGDP_R", "2018")
    assert row["value"] == 94669000000.0
    assert row["UNIT"] == "XDC" and row["SCALE"] == "9"
    assert row["LATEST_ACTUAL_ANNUAL_DATA"] == "2024"
    assert row["PUBLICATION_DATE"].startswith("2025-10-14")


def test_weo_normalise_refuses_an_unmapped_domestic_currency_series():
    parsed = imf.parse(body(WEO_REAL), body(WEO_STRUCTURE), flow="WEO")
    with pytest.raises(FetchError) as exc:
        imf.normalise_weo(parsed, retrieved=RETRIEVED, query="IMF.RES:WEO NGDP_R")
    assert_fetch_error(exc, "IMF", "malformed", "NGDP_R", "not mapped")


def test_weo_normalise_keeps_actuals_in_usd_billion():
    parsed = imf.parse(body(WEO_MADE), body(WEO_STRUCTURE), flow="WEO")
    out = imf.normalise_weo(parsed, retrieved=RETRIEVED)
    cells = out.set_index(["iso3", "indicator", "year"])["value"]
    assert cells[("TWN", "gdp_usd", 2023)] == pytest.approx(750.5)
    assert cells[("IDN", "gdp_usd", 2024)] == pytest.approx(1100.0)
    assert cells[("IDN", "gdp_growth_pct", 2023)] == pytest.approx(5.0)
    # 2025 NGDPD and 2024 growth lie after the latest actual year: projections, dropped.
    assert ("IDN", "gdp_usd", 2025) not in cells.index
    assert ("IDN", "gdp_growth_pct", 2024) not in cells.index
    assert out.attrs["dropped_projections"] == 2
    assert "G001" not in set(out["iso3"])  # an IMF aggregate
    assert set(out["vintage"]) == {"2025-10-14"}  # the WEO publication date
    assert set(out.loc[out["indicator"] == "gdp_usd", "unit"]) == {"US$ billion (current)"}


def test_weo_normalise_refuses_gdp_not_in_usd():
    text = body(WEO_MADE).replace(b'PRICES="V" UNIT="USD"', b'PRICES="V" UNIT="XDC"')
    parsed = imf.parse(text, body(WEO_STRUCTURE), flow="WEO")
    with pytest.raises(FetchError) as exc:
        imf.normalise_weo(parsed, retrieved=RETRIEVED)
    assert_fetch_error(exc, "IMF", "malformed", "NGDPD has UNIT ['XDC']", "expected USD")


@pytest.mark.parametrize(
    ("content", "kind", "words"),
    [
        (None, "malformed", ["cannot read the data message as SDMX-ML", "XMLParseError"]),
        (b"", "malformed", ["empty data message body"]),
        (b"<html><body>502 Bad Gateway</body></html>", "malformed", ["cannot read"]),
        (
            b'<?xml version="1.0"?><message:Error xmlns:message="http://www.sdmx.org/resources/'
            b'sdmxml/schemas/v2_1/message" xmlns:common="http://www.sdmx.org/resources/sdmxml/'
            b'schemas/v2_1/common"><message:ErrorMessage code="100"><common:Text>No Results '
            b"Found</common:Text></message:ErrorMessage></message:Error>",
            "http",
            ["the API answered: code 100: No Results Found"],
        ),
    ],
)
def test_imf_parse_names_the_fault(content, kind, words):
    content = body(WEO_MADE)[:1500] if content is None else content  # truncated XML
    with pytest.raises(FetchError) as exc:
        imf.parse(content, body(WEO_STRUCTURE), flow="WEO", query="IMF.RES:WEO NGDPD")
    assert_fetch_error(exc, "IMF", kind, "IMF.RES:WEO NGDPD", *words)


def test_imf_parse_structure_refuses_a_data_message():
    with pytest.raises(FetchError) as exc:
        imf.parse_structure(body(WEO_REAL), "WEO", query="IMF.RES:WEO structure")
    assert_fetch_error(exc, "IMF", "malformed", "no data structure definition")


def test_dip_key_is_built_from_the_structure():
    dsd = imf.parse_structure(body(DIP_STRUCTURE), "DIP")
    key = imf.dip_key(dsd, ["IDN", "THA"])
    assert key == {
        "COUNTRY": ["IDN", "THA"],
        "FREQUENCY": "A",
        "INDICATOR": ["INW_T"],
        "DV_TYPE": ["RPT"],
    }


def test_dip_key_refuses_an_ambiguous_indicator_list():
    text = body(DIP_STRUCTURE).replace(b"Outward direct", b"Inward (all) direct")
    dsd = imf.parse_structure(text, "DIP")
    with pytest.raises(FetchError) as exc:
        imf.dip_key(dsd, ["IDN"], query="IMF.STA:DIP")
    assert_fetch_error(exc, "IMF", "malformed", "2 match(es) ['INW_T', 'OUT_T']")


def test_dip_key_refuses_a_structure_without_counterparts():
    dsd = imf.parse_structure(body(WEO_STRUCTURE), "WEO")
    with pytest.raises(FetchError) as exc:
        imf.dip_key(dsd, ["IDN"], query="IMF.STA:DIP")
    assert_fetch_error(exc, "IMF", "malformed", "COUNTERPART_COUNTRY", "'INDICATOR'")


def test_dip_normalise_gives_the_positions_frame():
    parsed = imf.parse(body(DIP_DATA), body(DIP_STRUCTURE), flow="DIP")
    out = imf.normalise_dip(parsed, retrieved=RETRIEVED)
    assert list(out.columns) == list(imf.DIP_COLUMNS)
    cells = out.set_index(["reporter_iso3", "counterpart_iso3", "year"])["value"]
    assert cells[("IDN", "SGP", 2023)] == pytest.approx(64.8)
    assert cells[("IDN", "CHN", 2023)] == pytest.approx(-0.4)  # net debt: negative, kept
    assert cells[("THA", "JPN", 2023)] == pytest.approx(95.0)
    assert "G001" not in set(out["counterpart_iso3"])  # the world total
    assert out.attrs["dropped_aggregates"] == 2
    assert set(out["unit"]) == {"US$ billion (current)"}
    assert set(out["indicator"]) == {"fdi_inward_position_usd"}


def test_dip_normalise_refuses_two_positions_for_one_cell():
    parsed = imf.parse(body(DIP_DATA), body(DIP_STRUCTURE), flow="DIP")
    doubled = pd.concat([parsed, parsed.iloc[[0]].assign(DV_TYPE="DRV")], ignore_index=True)
    with pytest.raises(FetchError) as exc:
        imf.normalise_dip(doubled, retrieved=RETRIEVED, query="IMF.STA:DIP IDN")
    assert_fetch_error(exc, "IMF", "malformed", "share a key", "IDN <- SGP 2022")


def test_imf_fetch_builds_the_key_with_sdmx1_and_keeps_both_bodies():
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, IMF_STRUCTURE_URL, body=body(DIP_STRUCTURE))
        rsps.add(responses.GET, IMF_DATA_URL, body=body(DIP_DATA))
        structure, data = imf.fetch_dip(["IDN", "THA"], start=2009)
        urls = [c.request.url for c in rsps.calls]
    assert urls[0].endswith("/dataflow/IMF.STA/DIP/latest?references=all")
    assert "/data/DIP/IDN+THA.RPT.INW_T..A?startPeriod=2009" in urls[1]
    assert structure.content == body(DIP_STRUCTURE) and data.content == body(DIP_DATA)
    assert data.meta["kind"] == "data" and structure.meta["kind"] == "structure"


@pytest.mark.parametrize(("status", "kind"), [(429, "rate_limit"), (500, "http")])
def test_imf_fetch_http_errors_name_the_query(status, kind):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, IMF_STRUCTURE_URL, body=body(WEO_STRUCTURE))
        rsps.add(responses.GET, IMF_DATA_URL, status=status, headers={"Retry-After": "30"})
        with pytest.raises(FetchError) as exc:
            imf.fetch_weo()
    assert_fetch_error(exc, "IMF", kind, f"HTTP {status}", "IMF.RES:WEO NGDPD+NGDP_RPCH")
    if status == 429:
        assert "retry after 30 s" in str(exc.value)


# ---------------------------------------------------------------------------------- Comtrade
def test_comtrade_parse_reads_a_recorded_response():
    frame = comtrade.parse(body(CT_REAL))
    assert len(frame) == 4
    cells = frame.set_index(["partner_iso3", "flow"])["value"]
    assert cells[("DEU", "X")] == 68047133397.0
    assert cells[("ARG", "M")] == 6804128143.0
    assert set(frame["reporter_iso3"]) == {"CHN"} and set(frame["year"]) == {2010}


def test_comtrade_parse_reads_a_recorded_empty_response():
    frame = comtrade.parse(body(CT_EMPTY))
    assert frame.empty
    assert comtrade.normalise([("world", frame)], retrieved=RETRIEVED).empty


def test_comtrade_normalise_sums_chapters_and_says_when_some_are_missing():
    parsed = [
        ("world", comtrade.parse(body(CT_WORLD))),
        ("idn_bilateral", comtrade.parse(body(CT_BILATERAL))),
    ]
    out = comtrade.normalise(parsed, retrieved=RETRIEVED)
    cells = out.set_index(["iso3", "indicator", "year"])
    assert cells.loc[("IDN", "exports_clothing_hs61_62_usd", 2023), "value"] == pytest.approx(7.5)
    textiles = cells.loc[("IDN", "exports_textiles_hs50_60_usd", 2023)]
    assert textiles["value"] == pytest.approx(2.5)
    assert "2 of 11 chapters reported" in textiles["note"]
    assert cells.loc[("VNM", "exports_footwear_hs64_usd", 2023), "value"] == pytest.approx(20.0)
    assert cells.loc[("JPN", "idn_exports_to_usd", 2023), "value"] == pytest.approx(20.0)
    assert cells.loc[("JPN", "idn_imports_from_usd", 2023), "value"] == pytest.approx(18.0)
    assert cells.loc[("JPN", "idn_exports_to_clothing_hs61_62_usd", 2023), "value"] == (
        pytest.approx(0.7)
    )
    assert set(out["unit"]) == {"US$ billion (current)"}
    assert out["source"].str.contains("UN Comtrade").all()


@pytest.mark.parametrize(
    ("content", "kind", "words"),
    [
        (
            b'{"elapsedTime":"0.1 secs","count":4,"data":[{"typeCode":"C","freq',
            "malformed",
            ["truncated or invalid JSON"],
        ),
        (
            b'{"statusCode": 429, "message": "Rate limit is exceeded. Try again in 1 seconds."}',
            "http",
            ["the API answered 429", "Rate limit"],
        ),
        (
            b'{"count":0,"data":[],"error":"Invalid parameter reporterCode"}',
            "http",
            ["Invalid parameter reporterCode"],
        ),
        (
            b'{"count":1,"data":[{"refYear":2023,"reporterISO":"IDN"}],"error":""}',
            "malformed",
            ["record 1: missing", "partnerISO"],
        ),
        (b"[1, 2]", "malformed", ["expected a JSON object with a 'data' list"]),
    ],
)
def test_comtrade_parse_names_the_fault(content, kind, words):
    with pytest.raises(FetchError) as exc:
        comtrade.parse(content, query="world: reporter 360, 2023")
    assert_fetch_error(exc, "UN Comtrade", kind, "reporter 360", *words)


def test_comtrade_parse_refuses_duplicate_records():
    payload = json.loads(body(CT_REAL))
    payload["data"].append(payload["data"][0])
    with pytest.raises(FetchError) as exc:
        comtrade.parse(json.dumps(payload).encode(), query="CHN 2010")
    assert_fetch_error(exc, "UN Comtrade", "malformed", "share a key", "CHN -> ARG M TOTAL 2010")


def test_comtrade_normalise_refuses_a_record_in_two_responses():
    frame = comtrade.parse(body(CT_WORLD))
    with pytest.raises(FetchError) as exc:
        comtrade.normalise([("world", frame), ("world", frame)], retrieved=RETRIEVED)
    assert_fetch_error(exc, "UN Comtrade", "malformed", "count it twice", "IDN -> WLD X 61 2023")


def test_comtrade_queries_stay_under_the_preview_limit():
    economies = ["IDN", "USA", "FRA", "CHE", "IND", "NOR", "TWN", *["JPN", "KOR", "CHN"] * 8]
    plan = comtrade.queries(economies, [2022, 2023])
    assert plan
    for dataset, params in plan:
        n_cmd = len(params["cmdCode"].split(","))
        n_flow = len(params["flowCode"].split(","))
        n_area = len(params["reporterCode" if dataset == "world" else "partnerCode"].split(","))
        assert n_cmd * n_flow * n_area <= comtrade.PREVIEW_MAX_ROWS
    reporters = {c for d, p in plan if d == "world" for c in p["reporterCode"].split(",")}
    assert {"842", "251", "757", "699", "579", "360"} <= reporters  # Comtrade's own codes
    assert "158" not in reporters and "490" not in reporters  # Taiwan: no reporter code


def test_comtrade_code_rejects_unknown_economies():
    assert comtrade.comtrade_code("IDN") == 360
    with pytest.raises(ValueError, match="unknown economy code 'XYZ'"):
        comtrade.comtrade_code("XYZ")
    with pytest.raises(ValueError, match="TWN has no UN Comtrade reporter"):
        comtrade.comtrade_code("TWN")


def test_comtrade_fetch_sends_the_key_in_a_header_never_in_the_url(monkeypatch):
    monkeypatch.setenv(comtrade.API_KEY_ENV, "secret-key-123")
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, CT_URL, body=body(CT_WORLD))
        got = comtrade.fetch(["IDN"], [2023], pause=0)
        request = rsps.calls[0].request
    assert request.headers["Ocp-Apim-Subscription-Key"] == "secret-key-123"
    assert "secret" not in request.url and all("secret" not in r.url for _, r in got)
    assert request.url.startswith(comtrade.DATA_URL)


def test_comtrade_fetch_rate_limit_names_the_call(monkeypatch):
    monkeypatch.delenv(comtrade.API_KEY_ENV, raising=False)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, CT_URL, status=429, body=b'{"statusCode": 429}')
        with pytest.raises(FetchError) as exc:
            comtrade.fetch(["IDN", "JPN"], [2023], pause=0)
    assert_fetch_error(exc, "UN Comtrade", "rate_limit", "HTTP 429", "world: reporter 360")


# ------------------------------------------------------------------------------------ cache
def test_cache_commit_records_query_date_and_sha256(tmp_path):
    cache = FetchCache(tmp_path)
    resp = raw(WDI_MADE, query="country/all/indicator/NY.GDP.MKTP.CD", meta={"series": "x"})
    table = cache.commit("wdi", [("NY.GDP.MKTP.CD", resp)])
    assert list(cache.provenance().columns) == list(CACHE_COLUMNS)
    row = table.iloc[0]
    assert row["sha256"] == hashlib.sha256(body(WDI_MADE)).hexdigest()
    assert row["retrieved"] == RETRIEVED and row["query"] == resp.query
    assert (tmp_path / row["file"]).read_bytes() == body(WDI_MADE)
    [back] = cache.responses("wdi")
    assert back.content == body(WDI_MADE) and back.meta == {"series": "x"}


def test_cache_detects_a_changed_file(tmp_path):
    cache = FetchCache(tmp_path)
    table = cache.commit("wdi", [("s", raw(WDI_MADE))])
    (tmp_path / table.iloc[0]["file"]).write_bytes(b"[]")
    with pytest.raises(ProvenanceError, match=r"provenance\.csv, line 2: .* has sha256"):
        cache.responses("wdi")


def test_cache_commit_replaces_one_source_and_keeps_the_others(tmp_path):
    cache = FetchCache(tmp_path)
    cache.commit("wdi", [("a", raw(WDI_MADE))])
    first = cache.commit("comtrade", [("world", raw(CT_WORLD))])
    cache.commit("comtrade", [("world", raw(CT_EMPTY))])
    prov = cache.provenance()
    assert sorted(prov["source"]) == ["comtrade", "wdi"]
    assert not (tmp_path / first.iloc[0]["file"]).exists()  # the replaced body is gone


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _raw_partner_hashes() -> dict[str, str]:
    root = Path(__file__).resolve().parents[1] / "data" / "raw" / "partners"
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.iterdir())}


@pytest.mark.parametrize("failure", ["http_500", "truncated", "network"])
def test_a_failed_refresh_leaves_cache_and_snapshot_untouched(tmp_path, failure):
    cache = FetchCache(tmp_path)
    cache.commit("wdi", [("NY.GDP.MKTP.CD", raw(WDI_MADE))])
    before, raw_before = _snapshot(tmp_path), _raw_partner_hashes()
    calls = {"n": 0}

    def reply(request):
        calls["n"] += 1
        if calls["n"] == 1:  # the first series arrives fine, a later one fails
            return 200, {}, body(WDI_MADE)
        if failure == "http_500":
            return 500, {}, b"Internal Server Error"
        if failure == "truncated":
            return 200, {}, body(WDI_MADE)[:60]
        raise requests.ConnectionError("Failed to resolve 'api.worldbank.org'")

    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.GET, WB_URL, callback=reply)
        [outcome] = refresh(["wdi"], cache=cache, economies=["IDN"])
    assert not outcome.ok
    assert calls["n"] == 2
    assert _snapshot(tmp_path) == before
    assert _raw_partner_hashes() == raw_before
    assert "Cache left unchanged; using the committed snapshot" in outcome.message()
    assert "wdi_macro.csv.gz" in outcome.message()


def test_a_response_that_does_not_normalise_is_not_committed(tmp_path):
    cache = FetchCache(tmp_path)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, WB_URL, body=body(WDI_REAL))  # GNI: not a panel indicator
        [outcome] = refresh(["wdi"], cache=cache, economies=["IDN"])
    assert not outcome.ok and outcome.error.kind == "malformed"
    assert "NY.GNP.PCAP.CD" in outcome.message()
    assert not (tmp_path / "provenance.csv").exists()


def test_refresh_commits_and_fetched_frame_reads_back(tmp_path):
    cache = FetchCache(tmp_path)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, IMF_STRUCTURE_URL, body=body(WEO_STRUCTURE))
        rsps.add(responses.GET, IMF_DATA_URL, body=body(WEO_MADE))
        [outcome] = refresh(["weo"], cache=cache, economies=["IDN"])
    assert outcome.ok and outcome.rows == 4 and outcome.responses == 2
    frame = fetched_frame(cache)
    assert list(frame.columns) == list(FETCHED_COLUMNS)
    twn = frame.set_index(["iso3", "indicator", "year"]).loc[("TWN", "gdp_usd", 2023)]
    assert twn["value"] == pytest.approx(750.5)
    assert twn["flags"] == "imf_weo"
    assert twn["sha256"] == hashlib.sha256(body(WEO_MADE)).hexdigest()
    assert twn["query"].startswith("IMF.RES:WEO NGDPD+NGDP_RPCH")
    assert set(frame.attrs["retrieved"]) == {"weo"}


def test_fetched_positions_reads_the_dip_cache(tmp_path):
    cache = FetchCache(tmp_path)
    assert fetched_positions(cache).empty
    cache.commit(
        "dip",
        [
            ("dip-structure", raw(DIP_STRUCTURE, meta={"kind": "structure"})),
            ("dip", raw(DIP_DATA, meta={"kind": "data"})),
        ],
    )
    positions = fetched_positions(cache)
    assert len(positions) == 7
    assert list(positions.columns) == list(imf.DIP_COLUMNS)


def test_fetched_frame_is_empty_without_a_cache(tmp_path):
    frame = fetched_frame(FetchCache(tmp_path / "none"))
    assert frame.empty and list(frame.columns) == list(FETCHED_COLUMNS)


def test_fetched_comtrade_values_cite_their_own_call_and_flag_partial_sums(tmp_path):
    cache = FetchCache(tmp_path)
    cache.commit(
        "comtrade",
        [
            ("world", raw(CT_WORLD, query="world call", meta={"dataset": "world"})),
            (
                "idn_bilateral",
                raw(CT_BILATERAL, query="bilateral call", meta={"dataset": "idn_bilateral"}),
            ),
        ],
    )
    frame = fetched_frame(cache).set_index(["iso3", "indicator", "year"])
    textiles = frame.loc[("IDN", "exports_textiles_hs50_60_usd", 2023)]
    assert textiles["flags"] == "partial_sum" and textiles["query"] == "world call"
    assert textiles["sha256"] == hashlib.sha256(body(CT_WORLD)).hexdigest()
    jpn = frame.loc[("JPN", "idn_exports_to_usd", 2023)]
    assert jpn["flags"] == "" and jpn["query"] == "bilateral call"


# ------------------------------------------------------------------------------ properties
_ISO3 = sorted(c.alpha_3 for c in pycountry.countries)


@settings(max_examples=60, deadline=None)
@given(
    economies=st.lists(st.sampled_from(_ISO3), min_size=1, max_size=60),
    years=st.lists(st.integers(2000, 2024), min_size=1, max_size=3, unique=True),
)
def test_comtrade_plan_covers_every_economy_and_year_within_the_row_limit(economies, years):
    plan = comtrade.queries(economies, years)
    asked = set()
    for dataset, params in plan:
        areas = params["reporterCode" if dataset == "world" else "partnerCode"].split(",")
        n_rows = len(params["cmdCode"].split(",")) * len(params["flowCode"].split(","))
        assert n_rows * len(areas) <= comtrade.PREVIEW_MAX_ROWS
        if dataset == "world":
            asked |= {(int(a), int(params["period"])) for a in areas}
    expected = {
        (comtrade.comtrade_code(e), y)
        for e in economies
        if e not in comtrade.NO_REPORTER
        for y in years
    }
    assert asked == expected


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.none(), st.floats(0, 1e14, allow_nan=False)), min_size=1, max_size=30
    )
)
def test_wdi_normalise_scales_every_kept_value_by_exactly_1e9(values):
    rows = [
        {
            "indicator": {"id": "NY.GDP.MKTP.CD"},
            "countryiso3code": "IDN",
            "date": str(1990 + i),
            "value": v,
        }
        for i, v in enumerate(values)
    ]
    page = json.dumps([{"page": 1, "lastupdated": "2026-04-08"}, rows]).encode()
    out = wdi.normalise(wdi.parse([page]), retrieved=RETRIEVED)
    kept = [v for v in values if v is not None]
    assert len(out) == len(kept)
    assert out.sort_values("year")["value"].tolist() == pytest.approx([v / 1e9 for v in kept])


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=2000))
def test_cache_gives_back_the_bytes_it_was_given(tmp_path, content):
    cache = FetchCache(tmp_path)
    resp = RawResponse("test", "q", "https://x.invalid", content, RETRIEVED, ".bin")
    cache.commit("wdi", [("d", resp)])
    [back] = cache.responses("wdi")
    assert back.content == content
    assert back.sha256 == hashlib.sha256(content).hexdigest()


def test_a_cache_write_failure_removes_what_it_wrote_and_is_reported(tmp_path, monkeypatch):
    import analysis.data.loaders.cache as cache_module

    cache = FetchCache(tmp_path)
    cache.commit("wdi", [("NY.GDP.MKTP.CD", raw(WDI_REAL))])
    before = _snapshot(tmp_path)
    real_replace = cache_module.os.replace

    def failing_replace(src, dst):
        if str(dst).endswith("provenance.csv"):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(cache_module.os, "replace", failing_replace)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, IMF_STRUCTURE_URL, body=body(WEO_STRUCTURE))
        rsps.add(responses.GET, IMF_DATA_URL, body=body(WEO_MADE))
        [outcome] = refresh(["weo"], cache=cache, economies=["IDN"])
    assert not outcome.ok and outcome.error.kind == "cache"
    assert "IMF WEO: cannot write the cache: [Errno 28] No space left on device" in (
        outcome.message()
    )
    assert _snapshot(tmp_path) == before


def test_the_cache_can_be_switched_off(tmp_path, monkeypatch):
    from analysis.data.loaders.cache import CACHE_ENV

    FetchCache(tmp_path).commit("wdi", [("s", raw(WDI_MADE))])
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert len(fetched_frame()) == 3
    monkeypatch.setenv(CACHE_ENV, "off")
    off = FetchCache()
    assert off.off and fetched_frame(off).empty and off.provenance().empty
    with pytest.raises(OSError, match="the fetch cache is off"):
        off.commit("wdi", [("s", raw(WDI_MADE))])
