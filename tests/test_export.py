"""Self-contained report HTML, the index portal, and where ``reports/latest`` points."""

from __future__ import annotations

import base64
import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from analysis.reports import execute as report_execute
from analysis.reports import index as report_index
from analysis.reports.export import first_heading, human_duration, index_html, notebook_html
from conftest import assert_report_html

PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()


def _executed(language: str = "en") -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["papermill"] = {"parameters": {"language": language, "sector": "textile"}}
    nb.cells = [
        new_markdown_cell("# Germany: partner brief\n\nWhy it matters."),
        new_code_cell("secret_code_line = 1", outputs=[]),
        new_code_cell(
            "display(x)",
            outputs=[
                new_output(
                    "display_data",
                    data={
                        "text/html": "<table><tr><td>1,234.5</td></tr></table>"
                        '<script src="https://cdn.example.org/require.js"></script>',
                        "text/plain": "x",
                    },
                ),
                new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
            ],
        ),
    ]
    return nb


def test_report_html_is_self_contained_titled_and_printable():
    text = notebook_html(_executed("id"))
    assert_report_html(text, "synthetic")
    assert "<title>Germany: partner brief</title>" in text
    assert '<html lang="id">' in text
    assert "secret_code_line" not in text  # code is not exported
    assert "data:image/png;base64," in text  # figures stay embedded
    assert "cdn.example.org" not in text
    assert len(text.encode()) < 40_000  # no 260 KB of inline CSS


def test_structural_check_catches_what_it_should():
    good = notebook_html(_executed())
    for bad in (
        good.replace("</main>", '<script src="https://cdn.jsdelivr.net/x.js"></script></main>'),
        good.replace("</main>", '<link rel="stylesheet" href="//fonts.example/x.css"></main>'),
        good.replace("</main>", '<img src="http://example.org/x.png"></main>'),
        good.replace("1,234.5", "NaN"),
        good.replace("</main>", "<pre>Traceback (most recent call last)</pre></main>"),
        good.replace("<title>Germany: partner brief</title>", "<title>Notebook</title>"),
    ):
        with pytest.raises(AssertionError):
            assert_report_html(bad)


def test_first_heading_and_durations():
    assert first_heading('<h1 id="x">A &amp; B<a class="anchor-link">¶</a></h1>') == "A & B"
    assert first_heading("<p>none</p>") is None
    assert human_duration(4.25) == "4.2 s"
    assert human_duration(83.2) == "1 min 23 s"
    assert human_duration(7300) == "2 h 1 min"
    assert human_duration(None) == "–"


def _record(nb: str, sector: str, status: str = "ok", **extra) -> dict:
    name = f"{nb}--{sector}"
    return {
        "name": name,
        "notebook": f"notebooks/{nb}.ipynb",
        "parameters": {"sector": sector, **extra},
        "params_files": ["params/base.yaml", f"params/{sector}.yaml"],
        "status": status,
        "duration_s": 95.0,
        "outputs": {"html": f"{name}.html", "ipynb": f"{name}.ipynb"},
        "tables": [f"tables/{name}/ranking.csv"],
        "error": None if status == "ok" else {"kind": "notebook_error", "message": "boom"},
    }


def test_index_is_a_portal(tmp_path):
    reports = {
        r["name"]: r
        for r in (
            _record("00-data-audit", "textile"),
            _record("30-partner-ranking", "chemical", status="failed"),
            _record("40-partner-brief", "chemical", partner="DEU", language="id"),
        )
    }
    (tmp_path / "00-data-audit--textile.html").write_text(
        "<html><head><title>Data audit: textiles</title></head></html>"
    )
    manifest = {
        "run_id": "20261128-101500",
        "started_at": "2026-11-28T10:15:00+00:00",
        "finished_at": "2026-11-28T10:17:00+00:00",
        "environment": {"git_commit": "abc123"},
        "reports": reports,
    }
    text = index_html(manifest, tmp_path, data_check="../data-check/summary.md")
    assert_report_html(text.replace("</style>", "@media print{}</style>"), "index")
    assert "Data audit: textiles" in text  # titles, not slugs
    assert "Textiles, apparel and footwear" in text and "Chemicals" in text  # sector groups
    headers = re.findall(r"<th>([^<]*)</th>", text.split("Reports by sector")[1].split("</tr>")[0])
    assert headers == ["Report", "Textiles, apparel and footwear", "Chemicals"]
    assert "Partner briefs" in text and "Bahasa Indonesia" in text
    assert 'href="../data-check/summary.md"' in text
    assert 'href="manifest.json"' in text
    assert 'href="tables/00-data-audit--textile/ranking.csv"' in text
    assert "1 min 35 s" in text and "95.0" not in text  # human durations
    assert "1 failed" in text and "boom" in text
    assert "2026-11-28 10:15 UTC" in text


def test_latest_points_only_to_a_complete_default_batch(tmp_path, monkeypatch):
    from analysis.reports import Job

    default = [Job("notebooks/a.ipynb", ("params/base.yaml",), n) for n in ("a--x", "a--y")]
    monkeypatch.setattr(report_index, "plan_batch", lambda *a, **k: default)
    # Briefs are planned from the run's own ranking tables (second phase).
    monkeypatch.setattr(report_index, "plan_brief_requests", lambda *a, **k: ["request"])
    brief = Job("notebooks/b.ipynb", ("params/base.yaml",), "b--x-deu-en")
    monkeypatch.setattr(
        report_index, "plan_briefs", lambda run_dir, requests: [brief] if requests else []
    )
    ok = {"status": "ok"}
    (tmp_path / "full").mkdir()
    (tmp_path / "small").mkdir()
    report_index._point_latest(tmp_path, "small", {"a--x": ok, "a--y": ok})  # no briefs
    assert not (tmp_path / "latest").exists()
    report_index._point_latest(tmp_path, "full", {"a--x": ok, "a--y": ok, brief.name: ok})
    assert (tmp_path / "latest").resolve() == (tmp_path / "full").resolve()
    report_index._point_latest(tmp_path, "small", {"a--x": ok})  # a smaller run
    assert (tmp_path / "latest").resolve() == (tmp_path / "full").resolve()
    report_index._point_latest(tmp_path, "small", {"a--x": ok, "a--y": {"status": "failed"}})
    assert (tmp_path / "latest").resolve() == (tmp_path / "full").resolve()


def test_export_writes_the_batch_report(tmp_path):
    nb_path = tmp_path / "r.ipynb"
    nbformat.write(_executed(), nb_path)
    report_execute._export_html(nb_path, tmp_path / "r.html")
    assert_report_html((tmp_path / "r.html").read_text(), "r.html")
    manifest = {"run_id": "x", "reports": {}, "environment": {}}
    assert "Mitra reports: run x" in report_index._index_html(manifest, tmp_path)


def test_detail_tables_tagged_appendix_follow_the_findings_on_a_new_page():
    nb = _executed("id")
    detail = new_markdown_cell("## Detail\n\nA long table.")
    detail.metadata["tags"] = ["appendix"]
    nb.cells.insert(1, detail)  # before the chart in the notebook
    text = notebook_html(nb)
    assert_report_html(text, "appendix")
    head = text.index('class="mitra-appendix"')
    assert text.index("data:image/png") < head < text.index('id="Detail"')
    assert "Lampiran: tabel rinci" in text  # in the report's language
    assert ".cell:has(.mitra-appendix){break-before:page}" in text.replace(" ", "")
    untagged = notebook_html(_executed())
    assert "mitra-appendix" not in untagged.split("</style>", 1)[1]
    assert notebook_html(nb) == text  # the appendix heading's cell id is fixed, not drawn


def test_a_brief_is_laid_out_for_print_and_its_pdf_linked():
    nb = _executed("en")
    nb.metadata["papermill"]["input_path"] = "notebooks/40-partner-brief.ipynb"
    assert '<main class="mitra-report mitra-brief">' in notebook_html(nb)
    assert '<main class="mitra-report">' in notebook_html(_executed("en"))
    brief = _record("40-partner-brief", "chemical", partner="DEU", language="en")
    brief["outputs"]["pdf"] = "40-partner-brief--chemical.pdf"
    other = _record("40-partner-brief", "textile", partner="DEU", language="id")
    other["pdf"] = "no PDF: Chromium is not installed (install chromium, or set MITRA_CHROMIUM)"
    manifest = {"run_id": "x", "environment": {}, "reports": {"a": brief, "b": other}}
    text = index_html(manifest)
    assert 'href="40-partner-brief--chemical.pdf">PDF (A4)</a>' in text
    assert "no PDF: Chromium is not installed" in text


def test_pdf_pages_reads_the_page_tree(tmp_path):
    from analysis.reports.pdf import pdf_pages

    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >> endobj\n"
        b"3 0 obj << /Type /Page /Parent 2 0 R >> endobj\n"
        b"4 0 obj << /Type /Page /Parent 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )
    assert pdf_pages(pdf) == 2
