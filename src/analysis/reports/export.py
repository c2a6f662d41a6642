"""Reports as documents: self-contained HTML of executed notebooks, and the run's index.

:func:`notebook_html` renders an executed notebook without its code as one light HTML file
that makes **no request to any other host** when opened (no CDN scripts such as require.js,
MathJax or mermaid, no web fonts, no external style sheets: nbconvert's ``basic`` template
plus a small inline style sheet), carries a real ``<title>`` (the report's first heading)
and a print style sheet, so "Print to PDF" from a browser gives a clean document. Figures
stay embedded as PNG data.

:func:`index_html` writes a run's portal: report titles grouped by report and by sector,
partner briefs by sector and language, status, human durations, links to the data check,
to each report's CSV tables and to the manifest.
"""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from analysis.base.vocab import REPORT_SECTORS

__all__ = [
    "REPORT_CSS",
    "first_heading",
    "human_duration",
    "index_html",
    "notebook_html",
    "report_kind",
]

#: The report style sheet (screen and print), inlined in every report.
REPORT_CSS = """
:root{--ink:#1d1d1f;--muted:#5f6368;--rule:#d9d9d9;--accent:#1f6f8b;--bad:#b03a2e;--ok:#1b7f3b}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;
color:var(--ink);max-width:64rem;margin:2rem auto;padding:0 1.25rem}
h1{font-size:1.65rem;line-height:1.25;margin:.2rem 0 1rem}
h2{font-size:1.25rem;margin-top:2.2rem;padding-bottom:.2rem;border-bottom:1px solid var(--rule)}
h3{font-size:1.05rem;margin-top:1.5rem}
a{color:var(--accent)}
.anchor-link{visibility:hidden;text-decoration:none;margin-left:.3em;color:var(--muted)}
h1:hover .anchor-link,h2:hover .anchor-link,h3:hover .anchor-link{visibility:visible}
*{overflow-wrap:normal;word-break:normal;hyphens:manual}
table{border-collapse:collapse;table-layout:auto;margin:.4rem 0 .6rem;font-size:.88rem;
max-width:100%}
th,td{padding:.25rem .6rem;border-bottom:1px solid var(--rule);text-align:left;
vertical-align:top;white-space:normal}
thead th{border-bottom:2px solid var(--ink)}
caption{caption-side:top;text-align:left;font-weight:600;padding:.2rem 0 .4rem}
.mitra-note{font-size:.8rem;color:var(--muted);margin:.15rem 0;max-width:60rem}
.mitra-table-block{margin-bottom:1.2rem}
.mitra-wide table{font-size:.78rem}
.mitra-wide th,.mitra-wide td{padding:.2rem .35rem}
.output_subarea{overflow-x:auto}
img{max-width:100%;height:auto}
pre{white-space:pre-wrap;font-size:.8rem;background:#f6f8fa;padding:.5rem .7rem;overflow-x:auto}
ul{padding-left:1.3rem}
.ok{color:var(--ok);font-weight:600}.failed{color:var(--bad);font-weight:600}
.muted{color:var(--muted)}
table.dataframe{border:0}
.mitra-appendix-note{font-size:.8rem;color:var(--muted)}
.mitra-provenance table{font-size:.75rem}
.mitra-provenance td,.mitra-provenance th{padding:.1rem .4rem}
.mitra-provenance code,.mitra-hash{font-family:ui-monospace,Menlo,Consolas,monospace;
font-size:.7rem}
@media print{
@page{size:A4;margin:12mm 12mm 12mm 12mm}
body{max-width:none;margin:0;padding:0;font-size:9.5pt;line-height:1.35}
a{color:inherit;text-decoration:none}
.anchor-link{display:none}
h1{font-size:15pt;margin:0 0 .4rem}
h2{font-size:11.5pt;margin:.9rem 0 .3rem}
h3{font-size:10pt;margin:.6rem 0 .2rem}
h1,h2,h3{break-after:avoid}
table{font-size:8pt;margin:.2rem 0 .3rem}
th,td{padding:.1rem .35rem}
.mitra-wide table{font-size:7pt}
.mitra-note{font-size:7.5pt;margin:.05rem 0}
.mitra-table-block{margin-bottom:.5rem}
tr,img,.output_png{break-inside:avoid}
.output_png img{max-height:80mm;width:auto}
pre{white-space:pre-wrap;background:none;border:1px solid var(--rule)}
.output_subarea{overflow:visible}
.cell:has(.mitra-appendix){break-before:page}
.cell:has(.mitra-appendix),.cell:has(.mitra-appendix)~.cell{font-size:7.5pt}
.mitra-provenance table{font-size:6.5pt;line-height:1.15}
.mitra-provenance td,.mitra-provenance th{padding:.05rem .3rem}
.mitra-provenance td:last-child{white-space:nowrap}
.mitra-provenance h3,.mitra-provenance h4{font-size:8pt;margin:.3rem 0 .1rem}
.mitra-brief{font-size:8.6pt;line-height:1.25}
.mitra-brief h2{font-size:10pt;margin:.45rem 0 .15rem}
.mitra-brief p,.mitra-brief ul{margin:.2rem 0}
.mitra-brief li{margin:.05rem 0}
.mitra-brief .output_png img{max-height:46mm}
.mitra-brief table{font-size:7.2pt}
.mitra-brief .mitra-note{font-size:7pt}
.mitra-brief .mitra-note{break-before:avoid}
thead{display:table-header-group}
caption{break-after:avoid}
}
""".strip()

#: Report kinds by notebook stem, in the order the index shows them.
KINDS: dict[str, str] = {
    "00-data-audit": "Data audit",
    "10-investment-flows": "Investment flows",
    "20-gravity": "Gravity: partner potential",
    "30-partner-ranking": "Partner ranking",
    "40-partner-brief": "Partner briefs",
}
_SECTORS = REPORT_SECTORS
_LANGUAGE_NAMES = {"en": "English", "id": "Bahasa Indonesia"}
_H1 = re.compile(r"<h1\b[^>]*>(.*?)</h1>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
# Anything in a rendered output that would load from another host (a report must open on an
# air-gapped network). Kept as a guard: our outputs never produce these.
_EXTERNAL = re.compile(
    r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*[\"']?(https?:)?//[^>]*>"
    r"(\s*</script>)?",
    re.I,
)


def first_heading(body: str) -> str | None:
    """Text of the first ``<h1>`` in an HTML fragment (anchor marks removed)."""
    m = _H1.search(body)
    if not m:
        return None
    text = html.unescape(_TAG.sub("", m.group(1))).replace("¶", "").strip()
    return " ".join(text.split()) or None


def _parameters(nb) -> Mapping[str, object]:
    return nb.metadata.get("papermill", {}).get("parameters", {}) or {}


#: Cell tag of the detail a report keeps for its appendix (tables behind the findings).
APPENDIX_TAG = "appendix"


def appendix_last(cells: Sequence, language: str = "en") -> list:
    """Move the cells tagged ``appendix`` to the end, under an appendix heading.

    A report opens with its key findings and charts; the detail tables (tagged cells, in
    their order) follow under "Appendix: detail tables", which starts a new printed page.
    Cells without the tag keep their order; without tagged cells nothing changes.
    """
    from nbformat.v4 import new_markdown_cell

    from analysis.base.i18n import messages
    from analysis.present.formatting import anchor

    tagged = [c for c in cells if APPENDIX_TAG in (c.get("metadata", {}).get("tags") or [])]
    if not tagged:
        return list(cells)
    rest = [c for c in cells if c not in tagged]
    title = messages(language)("common.appendix")
    head = new_markdown_cell(
        f'<h2 class="mitra-appendix" id="{html.escape(anchor(title))}">{html.escape(title)}</h2>'
    )
    head["id"] = "mitra-appendix"  # nbformat draws a random id: the same report, the same HTML
    return [*rest, head, *tagged]


def notebook_html(nb, *, fallback_title: str = "Mitra report") -> str:
    """Render an executed notebook (code hidden) as one self-contained HTML document.

    Parameters
    ----------
    nb
        An ``nbformat`` notebook node, executed.
    fallback_title
        ``<title>`` when the report has no first-level heading.
    """
    from nbconvert import HTMLExporter

    nb = copy.deepcopy(nb)
    # Code cells without output would leave empty boxes; the report reads as a document.
    nb.cells = [c for c in nb.cells if c.cell_type != "code" or c.get("outputs")]
    language = str(_parameters(nb).get("language", "en"))
    nb.cells = appendix_last(nb.cells, language if language in _LANGUAGE_NAMES else "en")
    exporter = HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nb)
    body = _EXTERNAL.sub("", body)
    title = first_heading(body) or fallback_title
    language = str(_parameters(nb).get("language", "en"))
    language = language if language in _LANGUAGE_NAMES else "en"
    classes = "mitra-report"
    source = str(nb.metadata.get("papermill", {}).get("input_path") or "")
    if Path(source).stem == "40-partner-brief" or "partner" in _parameters(nb):
        classes += " mitra-brief"  # compact print layout: two A4 pages plus the appendix
    return (
        f'<!doctype html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{REPORT_CSS}\n</style>\n</head>\n"
        f'<body>\n<main class="{classes}">\n{body}\n</main>\n</body>\n</html>\n'
    )


def human_duration(seconds: object) -> str:
    """``83.2`` -> ``1 min 23 s``; ``4.3`` -> ``4.3 s``; missing -> ``–``."""
    try:
        s = float(seconds)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "–"
    if s != s:  # NaN
        return "–"
    if s < 10:
        return f"{s:.1f} s"
    s = round(s)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    if h:
        return f"{h} h {m} min"
    if m:
        return f"{m} min {sec} s"
    return f"{sec} s"


def report_kind(record: Mapping[str, object]) -> str:
    """The notebook stem of a report record (``00-data-audit``, ``40-partner-brief``, ...)."""
    return Path(str(record.get("notebook", ""))).stem


def _title_of(run_dir: Path | None, record: Mapping[str, object], name: str) -> str:
    outputs: Mapping[str, str] = record.get("outputs") or {}  # type: ignore[assignment]
    page = outputs.get("html") or outputs.get("failed_html")
    if run_dir is not None and page and (run_dir / page).is_file():
        head = (run_dir / page).read_text(encoding="utf-8", errors="replace")[:20000]
        m = re.search(r"<title>(.*?)</title>", head, re.S)
        if m and m.group(1).strip():
            return html.unescape(m.group(1).strip())
    return name


def _sector_name(sector: str) -> str:
    from analysis.base.i18n import label

    return label("sector", sector, "en")


def _when(stamp: object) -> str:
    """``2026-11-28T09:31:58+00:00`` -> ``2026-11-28 09:31 UTC``."""
    text = str(stamp or "–")
    m = re.match(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})", text)
    return f"{m.group(1)} {m.group(2)} UTC" if m and text.endswith("+00:00") else text


def _status(record: Mapping[str, object]) -> str:
    status = str(record.get("status", "unknown"))
    css = "ok" if status == "ok" else "failed"
    return f"<span class='{css}'>{html.escape(status)}</span>"


def _links(record: Mapping[str, object]) -> str:
    e = html.escape
    outputs: Mapping[str, str] = record.get("outputs") or {}  # type: ignore[assignment]
    names = {
        "html": "report",
        "pdf": "PDF (A4)",
        "ipynb": "notebook",
        "failed_html": "failed report",
        "failed_ipynb": "failed notebook",
        "kernel_log": "kernel log",
    }
    parts = [f'<a href="{e(v)}">{e(names.get(k, k))}</a>' for k, v in outputs.items()]
    tables: Sequence[str] = record.get("tables") or []  # type: ignore[assignment]
    if tables:
        parts.append(
            "tables (CSV): " + ", ".join(f'<a href="{e(t)}">{e(Path(t).stem)}</a>' for t in tables)
        )
    return " · ".join(parts)


def _report_link(name: str, record: Mapping[str, object], title: str) -> str:
    e = html.escape
    outputs: Mapping[str, str] = record.get("outputs") or {}  # type: ignore[assignment]
    target = outputs.get("html") or outputs.get("failed_html")
    text = e(title)
    link = f'<a href="{e(target)}">{text}</a>' if target else text
    return f"{link} {_status(record)}"


def _pdf_link(record: Mapping[str, object]) -> str:
    """`` · PDF (A4)`` link of a printed report, or why it has none."""
    e = html.escape
    outputs: Mapping[str, str] = record.get("outputs") or {}  # type: ignore[assignment]
    if outputs.get("pdf"):
        return f' · <a href="{e(outputs["pdf"])}">PDF (A4)</a>'
    note = record.get("pdf")
    if note and note != "ok":
        return f" · <span class='muted'>{e(str(note))}</span>"
    return ""


def index_html(
    manifest: Mapping[str, object],
    run_dir: Path | None = None,
    *,
    data_check: str | None = None,
) -> str:
    """The run's portal page.

    Parameters
    ----------
    manifest
        The run's manifest (``reports`` holds one record per report).
    run_dir
        The run folder: report titles are read from the reports' ``<title>``.
    data_check
        Relative link to the data check's summary, when it exists.
    """
    e = html.escape
    reports: Mapping[str, Mapping[str, object]] = manifest["reports"]  # type: ignore[assignment]
    env: Mapping[str, object] = manifest.get("environment") or {}  # type: ignore[assignment]
    run_id = str(manifest["run_id"])
    titles = {n: _title_of(run_dir, r, n) for n, r in reports.items()}
    n_ok = sum(1 for r in reports.values() if r.get("status") == "ok")
    total = sum(float(r.get("duration_s") or 0) for r in reports.values())
    parts = [
        f"<h1>Mitra reports: run {e(run_id)}</h1>",
        f"<p><b>{n_ok} of {len(reports)} reports ok</b>"
        + (
            f", <span class='failed'>{len(reports) - n_ok} failed</span>"
            if n_ok < len(reports)
            else ""
        )
        + f". Started {e(_when(manifest.get('started_at')))}, finished "
        f"{e(_when(manifest.get('finished_at')))}; report time "
        f"{e(human_duration(total))} in all. Git commit "
        f"<code>{e(str(env.get('git_commit', 'unknown')))}</code>.</p>",
        "<p>"
        + (
            f'<a href="{e(data_check)}">Data check (summary of the investment ledger)</a> · '
            if data_check
            else "Data check: run <code>mitra data check</code> to add it here · "
        )
        + '<a href="manifest.json">Manifest (parameters, data hashes, versions)</a></p>',
    ]
    # By report and sector: one row per report kind, one column per sector.
    by_kind: dict[str, dict[str, list[str]]] = {}
    briefs: dict[str, list[str]] = {}
    for name in sorted(reports):
        r = reports[name]
        kind = report_kind(r)
        params: Mapping[str, object] = r.get("parameters") or {}  # type: ignore[assignment]
        sector = str(params.get("sector", "other"))
        if kind == "40-partner-brief":
            briefs.setdefault(sector, []).append(name)
        else:
            by_kind.setdefault(kind, {}).setdefault(sector, []).append(name)
    sectors = [s for s in _SECTORS if any(s in v for v in by_kind.values()) or s in briefs]
    others = ({s for v in by_kind.values() for s in v} | set(briefs)) - set(sectors)
    sectors += sorted(others)
    if by_kind:
        parts.append("<h2>Reports by sector</h2>")
        head = "".join(f"<th>{e(_sector_name(s))}</th>" for s in sectors)
        rows = []
        order = list(KINDS) + sorted(k for k in by_kind if k not in KINDS)
        for kind in [k for k in order if k in by_kind]:
            cells = []
            for s in sectors:
                names = by_kind[kind].get(s, [])
                cells.append(
                    "<td>"
                    + "<br>".join(_report_link(n, reports[n], titles[n]) for n in names)
                    + "</td>"
                )
            rows.append(f"<tr><th>{e(KINDS.get(kind, kind))}</th>{''.join(cells)}</tr>")
        parts.append(f"<table><tr><th>Report</th>{head}</tr>{''.join(rows)}</table>")
    if briefs:
        parts.append("<h2>Partner briefs</h2>")
        for s in sectors:
            if s not in briefs:
                continue
            items = []
            for n in briefs[s]:
                params = reports[n].get("parameters") or {}
                lang = _LANGUAGE_NAMES.get(str(params.get("language")), "")  # type: ignore[union-attr]
                items.append(
                    f"<li>{_report_link(n, reports[n], titles[n])} "
                    f"<span class='muted'>{e(lang)}</span>{_pdf_link(reports[n])}</li>"
                )
            parts.append(f"<h3>{e(_sector_name(s))}</h3><ul>{''.join(items)}</ul>")
    # Every report with its files, tables, duration and error.
    rows = []
    for name in sorted(reports):
        r = reports[name]
        err: Mapping[str, object] = r.get("error") or {}  # type: ignore[assignment]
        error = f"{err.get('kind')}: {err.get('message')}" if err else ""
        files = " + ".join(r.get("params_files") or [])  # type: ignore[call-overload]
        rows.append(
            "<tr>"
            f"<td>{e(titles[name])}<br><span class='muted'>{e(name)}</span></td>"
            f"<td>{_status(r)}</td><td>{_links(r)}</td>"
            f"<td>{e(human_duration(r.get('duration_s')))}</td>"
            f"<td class='muted'>{e(files)}</td><td>{e(error)}</td></tr>"
        )
    parts.append("<h2>All reports: files, tables and timings</h2>")
    parts.append(
        "<table><tr><th>Report</th><th>Status</th><th>Files</th><th>Time</th>"
        f"<th>Params files</th><th>Error</th></tr>{''.join(rows)}</table>"
    )
    body = "\n".join(parts)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Mitra reports: run {e(run_id)}</title>\n<style>\n{REPORT_CSS}\n</style>\n"
        f"</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
