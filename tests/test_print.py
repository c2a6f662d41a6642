"""Briefs on paper: two A4 pages plus one of provenance, in English and in Bahasa Indonesia.

The session's CI batch holds the Germany chemical brief in both languages (``params/ci.yaml``);
the batch printed each brief to PDF with headless Chromium. Then

- each PDF has at most three A4 pages, the provenance appendix starts on its own page and
  the brief itself fills at most two;
- the index links each PDF;
- the Bahasa Indonesia brief holds no English sentence of the catalogue, no code name, no
  file name and none of the translation mistakes the glossary lists;
- no style rule breaks a word in the middle (on screen or on paper).

Where Chromium (or poppler's ``pdftotext`` for the per-page checks) is absent, the tests
that need it are skipped with the reason.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess

import pytest

from analysis.base.i18n import catalogue
from analysis.reports.export import REPORT_CSS
from analysis.reports.pdf import chromium, pdf_pages

NAMES = {lang: f"40-partner-brief--chemical-ci-deu-{lang}" for lang in ("en", "id")}
A4_PT = (595, 842)  # A4 in PostScript points, as pdfinfo reports it (rounded)
needs_chromium = pytest.mark.skipif(
    chromium() is None, reason="Chromium is not installed (Debian: apt-get install -y chromium)"
)
needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None,
    reason="poppler's pdftotext is not installed (Debian: apt-get install -y poppler-utils)",
)


@pytest.fixture(scope="module")
def batch(ci_batch):
    """The session's CI batch: it holds these two briefs, printed by the batch itself."""
    briefs = {n: r for n, r in ci_batch.records.items() if n in NAMES.values()}
    assert set(briefs) == set(NAMES.values())
    assert all(r["status"] == "ok" for r in briefs.values()), briefs
    return ci_batch


def _visible_text(page: str) -> str:
    """What a reader sees: tags, styles and embedded images removed, entities decoded."""
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return " ".join(html.unescape(page).split())


def _pages_text(pdf) -> list[str]:
    out = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return out.split("\f")[:-1] if out.endswith("\f") else out.split("\f")


# --- style rules: no word broken mid-word -------------------------------------------------


def test_no_style_rule_breaks_words_and_print_is_a4():
    css = REPORT_CSS.replace(" ", "")
    assert "overflow-wrap:anywhere" not in css and "word-break:break-all" not in css
    assert "overflow-wrap:normal;word-break:normal;hyphens:manual" in css
    assert "table-layout:auto" in css
    assert "@page{size:A4" in css
    assert ".cell:has(.mitra-appendix){break-before:page}" in css


# --- the printed briefs -----------------------------------------------------------------------


@needs_chromium
def test_each_brief_prints_on_two_a4_pages_plus_one_of_provenance(batch):
    for name in NAMES.values():
        rec = batch.records[name]
        assert rec.get("pdf") == "ok", (name, rec.get("pdf"))
        pdf = batch.run_dir / rec["outputs"]["pdf"]
        assert pdf.read_bytes().startswith(b"%PDF")
        pages = pdf_pages(pdf)
        assert 2 <= pages <= 3, f"{name}: {pages} pages"
        if shutil.which("pdfinfo"):
            info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
            size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
            assert size and (round(float(size[1])), round(float(size[2]))) == A4_PT, info


@needs_chromium
@needs_pdftotext
def test_the_appendix_starts_a_page_and_the_brief_fills_two(batch):
    for lang, name in NAMES.items():
        pdf = batch.run_dir / batch.records[name]["outputs"]["pdf"]
        pages = _pages_text(pdf)
        title = catalogue(lang)["common.provenance"]
        starts = [i for i, p in enumerate(pages) if p.strip().startswith(title)]
        assert starts, f"{name}: no page starts with {title!r}"
        first = starts[0]
        assert first <= 2, f"{name}: the brief takes {first} pages before its appendix"
        assert first == len(pages) - 1, f"{name}: the appendix takes {len(pages) - first} pages"
        body = "\n".join(pages[:first])
        assert "sha256" not in body and "numpy" not in body, name
        # Key findings and every section are on the two pages.
        for key in ("h_rank", "h_history", "h_agreements", "h_gravity"):
            heading = catalogue(lang)[f"brief.{key}"]
            assert " ".join(heading.split()) in " ".join(body.split()), (name, heading)


@needs_chromium
def test_the_index_links_each_brief_pdf(batch):
    index = (batch.run_dir / "index.html").read_text(encoding="utf-8")
    for name in NAMES.values():
        assert f'href="{name}.pdf"' in index, name


# --- Bahasa Indonesia as written in Indonesian ------------------------------------------------

#: Catalogue groups a brief's reader sees (sentences, headings, labels, legends, sources).
_SHOWN = ("brief.", "common.", "provenance.", "chart.", "label.", "unit.")
#: Glossary mistakes (../shared/reference/glossary: rows whose note starts with "avoid:").
_MISTAKES = ("prakiraan", "tersensor", "disensor", "Cina", "bilion", "milyar", "(s)")


def _english_sentences() -> list[str]:
    """English catalogue strings of at least three words that differ in Indonesian."""
    en, id_ = catalogue("en"), catalogue("id")
    out = []
    for key, text in en.items():
        if not key.startswith(_SHOWN) or text == id_.get(key):
            continue
        # The fixed words around placeholders: each run of three or more words.
        for run in re.split(r"\{[^}]*\}", text):
            words = re.findall(r"[A-Za-z][A-Za-z'-]+", run)
            if len(words) >= 3:
                out.append(" ".join(run.split()).strip(" ,.;:()"))
    return sorted(set(out))


def _data_texts(partner: str, sector: str) -> list[str]:
    """English free text of the data files a brief of the partner and sector draws on:
    project descriptions, league-table titles, the compiler's remarks in brackets after a
    company's name ("JV with ..."), the partner's own industry names, and the trade
    sources' references (the brief names their publishers instead)."""
    from analysis.data.investor import load_multinationals, load_ofdi_by_industry
    from analysis.data.projects import load_projects
    from analysis.studies.brief import _trade

    pr = load_projects()
    pr = pr[(pr["home_iso3"] == partner) & (pr["sector"] == sector)]
    mn = load_multinationals()
    mn = mn[(mn["iso3"] == partner) & (mn["sector"] == sector)]
    of = load_ofdi_by_industry()
    of = of[of["reporter_iso3"] == partner]
    texts = [*pr["project"], *mn["list_name"], *of["industry"]]
    for company in [*pr["company"], *mn["company"]]:
        texts += [r for r in re.findall(r"\(([^()]*)\)", company) if not r.startswith("PT ")]
    texts += [str(s).split(";")[0] for s in _trade(partner, sector, 2024)["source"]]
    return sorted({" ".join(str(t).split()) for t in texts if len(str(t)) > 3})


#: English words that never occur in Indonesian prose (proper names aside).
_ENGLISH_WORDS = ("the", "of", "and", "with", "from", "for", "by", "not", "is", "are", "below")


def test_the_english_sentence_finder_would_catch_a_leftover():
    sentences = _english_sentences()
    assert "Where it ranks, and how sure that is" in sentences
    assert any(s.startswith("How to read the tables") for s in sentences)
    texts = _data_texts("DEU", "chemical")
    assert "ICIS Top 100 Chemical Companies 2025" in texts
    assert any(t.startswith("Gas-based methanol") for t in texts)  # Ferrostaal's project


def test_the_indonesian_brief_has_no_english_and_no_glossary_mistakes(batch):
    page = (batch.run_dir / f"{NAMES['id']}.html").read_text(encoding="utf-8")
    text = _visible_text(page)
    leftovers = [s for s in _english_sentences() if s and s in text]
    assert not leftovers, f"English catalogue text in the id brief: {leftovers[:5]}"
    # Nor English text from the data files (descriptions, list titles, remarks, sources).
    leftovers = [s for s in _data_texts("DEU", "chemical") if s in text]
    assert not leftovers, f"English data text in the id brief: {leftovers[:5]}"
    body = _visible_text(page.split('class="mitra-appendix"', 1)[0])
    words = [w for w in _ENGLISH_WORDS if re.search(rf"\b{w}\b", body)]
    assert not words, f"English words in the id brief: {words}"
    for word in ("NOT IN FORCE", "Provenance", "Parameters", "Data files", "set by", "pending"):
        assert word not in text, word
    for word in _MISTAKES:
        assert word not in text, word
    # Dates and numbers as written in Indonesian.
    assert re.search(r"US\$ ?\d{1,3}(\.\d{3})+ juta", text)
    assert "Persetujuan" in text or "Perjanjian Kemitraan" in text  # official agreement name
    assert "Profil Negara Mitra" in text


def test_no_code_names_file_names_or_debug_lines_in_a_brief(batch):
    for name in NAMES.values():
        page = (batch.run_dir / f"{name}.html").read_text(encoding="utf-8")
        body = page.split('class="mitra-appendix"', 1)[0]  # the appendix lists files on purpose
        text = _visible_text(body)
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), re.findall(r"\b[a-z]+_[a-z_]+\b", text)
        assert not re.search(r"\w\.(csv|gz|yaml|py)\b", text), name
        assert "|total - PMA" not in text and "largest |" not in text
        # No year axes printed as numbers ("2,016 2,018"); a value next to its interval
        # ("1,339 1,004-1,845") is fine, so only year-like numbers count.
        year_as_number = r"\b(?:1,9\d\d|2,0\d\d)\b"
        assert not re.search(year_as_number + "(?= " + year_as_number + ")", text)
