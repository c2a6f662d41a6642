"""Reports as documents, checked on a real batch: structure of the HTML and a real browser.

One small batch (the four sector reports for textile and a Germany chemical brief in both
languages, with ``params/ci.yaml``) is run once; then

- every report passes the structural checks (:func:`conftest.assert_report_html`): no
  external script, style or image, a real ``<title>``, a print style sheet, no traceback, no
  raw NaN in a table, every in-page link resolving;
- every report opens with its key findings; the index is a portal;
- headless Chromium (Debian's ``chromium``) opens the index and one report of each kind
  with every other host unreachable, checks that every image loaded and that no error
  reached the console, and saves a screenshot of each (``reports/browser-test/``). Where
  Chromium is absent the browser test is skipped with the reason.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import pytest

from conftest import ROOT, assert_report_html


@pytest.fixture(scope="module")
def batch(ci_batch):
    """The session's CI batch (conftest): every default report for every sector, and the
    Germany chemical brief in both languages."""
    assert ci_batch.ok, {n: r["error"] for n, r in ci_batch.records.items() if r["status"] != "ok"}
    return ci_batch


def _page(batch, name: str) -> str:
    return (batch.run_dir / f"{name}.html").read_text(encoding="utf-8")


def test_every_report_is_a_self_contained_document(batch):
    problems = []  # every report is checked, so one failure does not hide another
    for name in batch.records:
        text = _page(batch, name)
        try:
            assert_report_html(text, name)
        except AssertionError as exc:
            problems.append(str(exc).splitlines()[0])
        # Under 400 KB unless figures need more: count everything but the embedded images.
        size = len(re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", "", text).encode())
        if size >= 400_000:
            problems.append(f"{name}: {size} bytes besides its figures")
    assert not problems, problems


def test_every_report_opens_with_key_findings(batch):
    for name, heading in (
        ("00-data-audit--textile-ci", "Key findings"),
        ("10-investment-flows--textile-ci", "Key findings"),
        ("20-gravity--textile-ci", "Key findings"),
        ("30-partner-ranking--textile-ci", "Key findings"),
        ("40-partner-brief--chemical-ci-deu-en", "Key findings"),
        ("40-partner-brief--chemical-ci-deu-id", "Temuan utama"),
    ):
        text = _page(batch, name)
        h2 = re.findall(r"<h2[^>]*>(.*?)<", text)
        assert h2 and h2[0].strip() == heading, (name, h2[:2])
        findings = text.split(heading, 1)[1].split("<h2", 1)[0]
        assert 3 <= findings.count("<li>") <= 6, name


def test_the_germany_chemical_brief_exists_in_both_languages(batch):
    en = _page(batch, "40-partner-brief--chemical-ci-deu-en")
    id_ = _page(batch, "40-partner-brief--chemical-ci-deu-id")
    assert "<title>Germany: partner brief for Indonesia&#x27;s chemicals industry</title>" in en
    assert "<title>Profil Negara Mitra: Jerman dan industri kimia Indonesia</title>" in id_
    assert '<html lang="id">' in id_ and "IEU-CEPA" in id_
    manifest = json.loads((batch.run_dir / "manifest.json").read_text())
    rec = manifest["reports"]["40-partner-brief--chemical-ci-deu-id"]
    assert rec["parameters"]["language"] == "id" and rec["overrides"]["partner"] == "DEU"
    assert "tables/40-partner-brief--chemical-ci-deu-id/rank.csv" in rec["tables"]


def test_index_is_a_portal_with_titles_groups_and_tables(batch):
    text = (batch.run_dir / "index.html").read_text()
    assert_report_html(text, "index.html")
    assert "Reports by sector" in text and "Partner briefs" in text
    assert "Textiles, apparel and footwear" in text
    assert "Profil Negara Mitra: Jerman" in text  # report titles, not slugs
    for rec in batch.records.values():
        for table in rec.get("tables", []):
            assert f'href="{table}"' in text
    assert 'href="manifest.json"' in text


# --- a real browser --------------------------------------------------------------------------

CHROMIUM = next(
    (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p),
    None,
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--hide-scrollbars",
    # Every other host is unreachable, as on an air-gapped network: a request to one fails
    # and shows up as a resource error below.
    "--host-resolver-rules=MAP * ~NOTFOUND",
]
# Collects resource and script errors and console errors, then, once the page has loaded,
# writes what it found (images, broken images, errors) into the DOM for --dump-dom.
PROBE = """<script>
window.__mitra = [];
window.addEventListener('error', function (e) {
  var t = e.target;
  window.__mitra.push(t && t !== window
    ? 'resource failed: ' + (t.src || t.href) : 'error: ' + e.message);
}, true);
window.addEventListener('unhandledrejection', function (e) {
  window.__mitra.push('rejection: ' + e.reason);
});
var _error = console.error;
console.error = function () {
  window.__mitra.push('console: ' + Array.prototype.join.call(arguments, ' '));
  _error.apply(console, arguments);
};
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                   .map(function (i) { return (i.getAttribute('src') || '').slice(0, 40); });
  var out = document.createElement('pre');
  out.id = 'mitra-probe';
  out.textContent = JSON.stringify({images: imgs.length, broken: broken, errors: window.__mitra});
  document.body.appendChild(out);
});
</script>"""


def _chromium(args: list[str], profile) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )


def _probe(page, profile) -> dict:
    text = page.read_text(encoding="utf-8")
    probe_page = page.with_name(f".probe-{page.name}")
    probe_page.write_text(text.replace("<head>", "<head>\n" + PROBE, 1), encoding="utf-8")
    try:
        proc = _chromium(
            ["--virtual-time-budget=15000", "--dump-dom", probe_page.as_uri()], profile
        )
    finally:
        probe_page.unlink()
    m = re.search(r'<pre id="mitra-probe">(.*?)</pre>', proc.stdout, re.S)
    assert m, f"{page.name}: the page did not finish loading in Chromium: {proc.stderr[-800:]}"
    return json.loads(html.unescape(m.group(1)))


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian: apt-get install -y chromium); the browser "
    "test needs a real browser",
)
def test_index_and_one_report_of_each_kind_open_cleanly_in_chromium(batch, tmp_path):
    shots = ROOT / "reports" / "browser-test"
    shots.mkdir(parents=True, exist_ok=True)
    pages = ["index"]
    for kind in ("00-data-audit", "10-investment-flows", "20-gravity", "30-partner-ranking"):
        pages.append(next(n for n in sorted(batch.records) if n.startswith(kind)))
    pages += ["40-partner-brief--chemical-ci-deu-en", "40-partner-brief--chemical-ci-deu-id"]
    for i, name in enumerate(pages):
        page = batch.run_dir / f"{name}.html"
        result = _probe(page, tmp_path / f"profile-{i}")
        assert not result["errors"], (name, result["errors"])
        assert not result["broken"], (name, result["broken"])
        if name != "index":
            assert result["images"] >= 1, f"{name}: no chart ({result})"
        shot = shots / f"{name}.png"
        proc = _chromium(
            ["--window-size=1100,1600", f"--screenshot={shot}", page.as_uri()],
            tmp_path / f"profile-shot-{i}",
        )
        assert shot.is_file() and shot.stat().st_size > 10_000, proc.stderr[-500:]
