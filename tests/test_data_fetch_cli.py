"""`mitra data fetch`: offline opens no socket; failures are one clear line, no traceback."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
import requests
import responses
from pytest_socket import SocketBlockedError

from analysis.cli import main
from analysis.data.loaders.cache import FetchCache
from analysis.data.loaders.transport import RawResponse

FIX = Path(__file__).resolve().parent / "fixtures" / "responses"
ANY_URL = re.compile(r"https://.*")


@pytest.mark.disable_socket
def test_offline_fetch_opens_no_socket_and_names_the_snapshot(tmp_path, capsys):
    cache = FetchCache(tmp_path)
    cache.commit(
        "wdi",
        [
            (
                "NY.GDP.MKTP.CD",
                RawResponse(
                    "World Bank WDI",
                    "country/all/indicator/NY.GDP.MKTP.CD",
                    "https://x.invalid",
                    (FIX / "wdi_NY.GDP.MKTP.CD_HANDMADE.json").read_bytes(),
                    "2026-11-28T10:00:00Z",
                ),
            )
        ],
    )
    assert main(["data", "fetch", "--offline", "--cache", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Offline: nothing downloaded" in out
    assert (
        "data/raw/partners/wdi_macro.csv.gz (compiled 2026-11-28; source release 2026-04-08)"
        in out
    )
    assert "data/raw/partners/imf_weo_macro.csv.gz" in out
    assert "data/raw/partners/sector_trade.csv" in out
    assert "cached World Bank WDI: 1 response retrieved 2026-11-28T10:00:00Z" in out


@pytest.mark.disable_socket
@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_the_socket_guard_would_catch_a_fetch(tmp_path, monkeypatch):
    # The same command without --offline does try the network: the guard above is real.
    # MITRA_DEBUG lets the guard's error through the CLI's one-line handler of the unexpected.
    monkeypatch.setenv("MITRA_DEBUG", "1")
    with pytest.raises(SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with pytest.raises(SocketBlockedError):
        main(["data", "fetch", "wdi", "--cache", str(tmp_path)])


def test_no_network_is_one_line_per_source_and_exit_1(tmp_path, capsys):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(
            responses.GET,
            ANY_URL,
            body=requests.ConnectionError("Failed to resolve 'api.example.org'"),
        )
        code = main(["data", "fetch", "wdi", "imf", "--cache", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 1
    lines = [ln for ln in captured.err.splitlines() if ln]
    assert len(lines) == 3  # wdi, weo, dip
    assert lines[0].startswith("mitra: World Bank WDI: network failure:")
    assert "(query: country/all/indicator/" in lines[0]
    assert lines[1].startswith("mitra: IMF: network failure:")
    assert "(query: IMF.RES:WEO structure)" in lines[1]
    assert "using the committed snapshot: data/raw/partners/imf_weo_macro.csv.gz" in lines[1]
    assert "no committed snapshot for this source" in lines[2]
    assert "Traceback" not in captured.err + captured.out
    assert "0/3 sources fetched" in captured.out
    assert not (tmp_path / "provenance.csv").exists()


@pytest.mark.parametrize(
    ("status", "words"),
    [(429, "rate limit reached: HTTP 429 Too Many Requests"), (500, "HTTP error: HTTP 500")],
)
def test_http_errors_are_named_with_source_and_query(tmp_path, capsys, status, words):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, ANY_URL, status=status)
        code = main(["data", "fetch", "comtrade", "--cache", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"mitra: UN Comtrade: {words}")
    assert "(query: world: reporter 360," in err
    assert "Traceback" not in err


def test_unknown_source_is_a_usage_error(capsys):
    assert main(["data", "fetch", "worldbank"]) == 2
    assert "unknown source 'worldbank'; expected one of" in capsys.readouterr().err


def _wdi_reply(request):
    """A WDI server: GDP for Indonesia 2022-2023 in a newer release, other series empty."""
    series = re.search(r"/indicator/([^?]+)", request.url).group(1)
    header = {"page": 1, "pages": 1, "per_page": 20000, "total": 0, "lastupdated": "2026-10-01"}
    if series != "NY.GDP.MKTP.CD":
        return 200, {}, json.dumps([header, None])
    page = json.loads((FIX / "wdi_NY.GDP.MKTP.CD_HANDMADE.json").read_text())
    page[0]["lastupdated"] = "2026-10-01"  # newer than the snapshot's WDI release (2026-04-08)
    return 200, {}, json.dumps(page)


def test_fetched_values_reach_the_partner_panel_where_newer(tmp_path, capsys, monkeypatch):
    from analysis.data.panel import load_panel

    monkeypatch.setenv("MITRA_FETCH_CACHE", str(tmp_path))
    snapshot = load_panel().frame.set_index(["iso3", "year", "indicator"])
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.GET, re.compile(r"https://api\.worldbank\.org/.*"), _wdi_reply)
        assert main(["data", "fetch", "wdi"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"Partner panel: \d+ of \d+ values now come from fetched data", out), out

    panel = load_panel()  # the fetch changed the cache, so the cached panel is rebuilt
    cells = panel.frame.set_index(["iso3", "year", "indicator"])
    idn = cells.loc[("IDN", 2023, "gdp_usd")]
    assert idn["value"] == pytest.approx(1000.0)
    assert "fetched" in idn["flags"].split(";")
    assert snapshot.loc[("IDN", 2023, "gdp_usd"), "value"] != pytest.approx(1000.0)
    conflict = panel.conflicts.set_index(["iso3", "year", "indicator"]).loc[
        [("IDN", 2023, "gdp_usd")]
    ]
    assert set(conflict["rule"]) == {"latest_vintage"}  # the snapshot value stays listed
    assert conflict["value"].nunique() >= 2

    monkeypatch.setenv("MITRA_FETCH_CACHE", "off")
    assert load_panel().value("gdp_usd", "IDN", 2023) == pytest.approx(
        snapshot.loc[("IDN", 2023, "gdp_usd"), "value"]
    )
