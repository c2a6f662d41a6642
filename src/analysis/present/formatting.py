"""What a reader sees: tables with labels, units and separators; findings; legends.

One formatting layer for every report and every language (:mod:`analysis.base.i18n`):

- :func:`format_table` turns a result table into a :class:`Table`: human labels for codes
  (sectors, measures, flags, partners by name), units in the headers, thousands separators
  in the report's language (en ``1,234.5``, id ``1.234,5``), no index column, censored values
  as ``< x``, missing ones as ``–``, and a legend that explains whichever of these occur.
  The table renders as HTML in JupyterLab and in the exported report (pandas ``Styler``),
  and as aligned text where a notebook is checked by nbval.
- :func:`findings_block` puts three to six computed sentences first, each linked to the
  section that shows it; :func:`heading` writes a section heading whose anchor those links
  use (nbconvert and JupyterLab both derive it from the heading text).

Numbers are never typed here: callers pass computed values and this module only writes them.
"""

from __future__ import annotations

import hashlib
import html
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.base.i18n import MISSING, Messages, format_number, label, messages
from analysis.base.summary import anchor

__all__ = [
    "MISSING",
    "Finding",
    "Findings",
    "Table",
    "anchor",
    "censored_text",
    "findings_block",
    "format_table",
    "format_wide",
    "heading",
    "legend",
    "show",
]

#: Tables with more columns than this are set in the smaller "wide" style.
WIDE_COLUMNS = 7

CENSORED_PREFIX = "< "
UNKNOWN = "?"


# --- findings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One key-finding sentence and the heading of the section that shows it."""

    text: str
    section: str | None = None


@dataclass
class Findings:
    """Key findings, first in a report: a heading and linked sentences."""

    findings: Sequence[Finding]
    language: str = "en"

    def as_markdown(self) -> str:
        """Markdown: ``## Key findings`` then one bullet per finding with its link."""
        m = messages(self.language)
        lines = [f"## {m('common.key_findings')}", ""]
        for f in self.findings:
            text = f.text.strip()
            if f.section:
                see = m("common.see", section=f.section)
                text += f" ([{see}](#{anchor(f.section)}))"
            lines.append(f"- {text}")
        return "\n".join(lines) + "\n"

    def as_text(self) -> str:
        """Plain text (for consoles and nbval-checked cells)."""
        m = messages(self.language)
        return "\n".join([m("common.key_findings"), *[f"- {f.text}" for f in self.findings]])

    def _repr_markdown_(self) -> str:
        return self.as_markdown()

    def __repr__(self) -> str:
        return self.as_text()

    def __len__(self) -> int:
        return len(self.findings)


def findings_block(
    findings: Iterable[Finding | tuple[str, str | None] | str], language: str = "en"
) -> Findings:
    """Return key findings to display first in a report (3-6 sentences is the aim).

    Parameters
    ----------
    findings
        :class:`Finding` objects, ``(sentence, section heading)`` pairs or bare sentences,
        computed from the results (never typed numbers).
    language
        ``en`` or ``id``: the heading and the "see ..." link text.

    Examples
    --------
    >>> block = findings_block([("Investment grew.", "National realisation")])
    >>> "(#National-realisation)" in block.as_markdown()
    True
    """
    items = []
    for f in findings:
        if isinstance(f, Finding):
            items.append(f)
        elif isinstance(f, str):
            items.append(Finding(f))
        else:
            items.append(Finding(*f))
    return Findings(items, language)


class _Markdown:
    """Markdown that renders in JupyterLab and nbconvert and prints as its text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _repr_markdown_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def heading(text: str, level: int = 2) -> _Markdown:
    """A section heading as Markdown (its anchor is :func:`anchor` of ``text``).

    ``level=0`` gives a plain paragraph.
    """
    return _Markdown(f"{'#' * level} {text}" if level else text)


# --- cells ----------------------------------------------------------------------------------


def _isnan(v: object) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return isinstance(v, float | np.floating) and math.isnan(v)
    except TypeError:
        return False


def censored_text(bound: object, digits: int = 0, language: str = "en") -> str:
    """``< x``: a value known only to lie below ``x`` (a partner missing from a top-N list)."""
    if _isnan(bound):
        return UNKNOWN
    return CENSORED_PREFIX + format_number(bound, digits, language)


def legend(
    *,
    missing: bool = False,
    censored: bool = False,
    unknown: bool = False,
    flags: bool = False,
    language: str = "en",
) -> list[str]:
    """The legend lines explaining the marks a table uses."""
    m = messages(language)
    lines = []
    if missing:
        lines.append(m("common.legend_missing"))
    if censored:
        lines.append(m("common.legend_censored"))
    if unknown:
        lines.append(m("common.legend_unknown"))
    if flags:
        lines.append(m("common.legend_flags"))
    return lines


def _unit_label(unit: str | None, m: Messages) -> str | None:
    if not unit:
        return None
    key = f"unit.{unit}"
    return m(key) if m.has(key) else unit


def _header(name: str, labels: Mapping[str, str], unit: str | None, m: Messages) -> str:
    text = labels.get(name)
    if text is None:
        key = f"label.column.{name}"
        if m.has(key):
            text = m(key)
        else:
            text = str(name).replace("_", " ")
            text = text[:1].upper() + text[1:]
        if name.endswith("_iso3") and m.has("label.column.partner"):
            text = m("label.column.partner")
    unit_text = _unit_label(unit, m)
    return f"{text} ({unit_text})" if unit_text else text


@dataclass
class Table:
    """A table ready to hand on: display strings, caption, notes, legend, source.

    ``frame`` holds what the reader sees (strings, labelled headers, no index); ``data``
    keeps the unformatted table (write it to CSV with :func:`analysis.present.tables.write_table`).
    """

    frame: pd.DataFrame
    data: pd.DataFrame
    title: str | None = None
    notes: list[str] = field(default_factory=list)
    legend: list[str] = field(default_factory=list)
    source: str | None = None
    numeric: list[str] = field(default_factory=list)
    language: str = "en"

    def to_frame(self) -> pd.DataFrame:
        """The display table (strings, labelled headers)."""
        return self.frame.copy()

    def _footer(self) -> list[str]:
        m = messages(self.language)
        out = list(self.notes)
        if self.legend:
            out.append(m("common.legend_title") + " " + " ".join(self.legend))
        if self.source:
            out.append(m("common.source", source=self.source))
        return out

    def as_text(self) -> str:
        """Aligned plain text with title, legend and source."""
        lines = [self.title] if self.title else []
        body = self.frame.to_string(index=False) if len(self.frame) else "(–)"
        lines.append(body)
        lines += self._footer()
        return "\n".join(lines)

    def as_markdown(self) -> str:
        """A Markdown pipe table with its caption and footer."""
        cols = [str(c) for c in self.frame.columns]
        esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
        lines = [f"**{esc(self.title)}**", ""] if self.title else []
        lines.append("| " + " | ".join(esc(c) for c in cols) + " |")
        lines.append("|" + "".join("---:|" if c in self.numeric else "---|" for c in cols))
        for row in self.frame.itertuples(index=False):
            lines.append("| " + " | ".join(esc(v) for v in row) + " |")
        lines += ["", *[f"*{esc(f)}*  " for f in self._footer()]]
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        """HTML through pandas ``Styler``: no index, numbers right-aligned, caption, footer."""
        digest = hashlib.sha1(self.frame.to_json().encode()).hexdigest()[:8]
        styler = (
            self.frame.style.hide(axis="index")
            .set_uuid(f"mitra{digest}")  # stable ids: the same table gives the same HTML
            .set_table_attributes('class="mitra-table"')
        )
        numeric = [c for c in self.numeric if c in self.frame.columns]
        if numeric:
            # One rule per column, not per cell: keeps the HTML small. Numbers never wrap;
            # their headers may (at spaces), so a table of many columns fits the page.
            styler = styler.set_table_styles(
                {
                    c: [
                        {"selector": "td", "props": "text-align:right; white-space:nowrap"},
                        {"selector": "th", "props": "text-align:right"},
                    ]
                    for c in numeric
                },
                overwrite=False,
            )
        if self.title:
            styler = styler.set_caption(html.escape(self.title))
        body = styler.to_html()
        foot = "".join(f"<p class='mitra-note'>{html.escape(line)}</p>" for line in self._footer())
        # A table of many columns is set smaller (.mitra-wide) so it fits the page.
        wide = " mitra-wide" if self.frame.shape[1] > WIDE_COLUMNS else ""
        return f"<div class='mitra-table-block{wide}'>{body}{foot}</div>"

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return self.as_text()

    def __len__(self) -> int:
        return len(self.frame)


def _digits_for(series: pd.Series) -> int:
    """Default decimals: none for integers and large values, one otherwise."""
    vals = pd.to_numeric(series, errors="coerce").dropna()
    if vals.empty or (vals == vals.round()).all():
        return 0
    return 0 if vals.abs().median() >= 1000 else 1


def format_table(
    frame: pd.DataFrame,
    *,
    language: str = "en",
    title: str | None = None,
    columns: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    digits: Mapping[str, int] | int | None = None,
    codes: Mapping[str, str] | None = None,
    bounds: Mapping[str, str] | None = None,
    percent: Sequence[str] = (),
    notes: Sequence[str] = (),
    source: str | None = None,
) -> Table:
    """Format a result table for readers.

    Parameters
    ----------
    frame
        The table; a meaningful index becomes an ordinary first column.
    language
        ``en`` or ``id``: headers, labels, legend and number format.
    title
        Caption above the table, in words.
    columns
        Columns to show, in order (default: all).
    labels
        Header text per column (default: ``label.column.<name>`` of the catalogue).
    units
        Unit per column: a catalogue unit key (``usd_m``, ``idr_bn``, ``pct``, ...) or text;
        shown in the header as ``Label (unit)``.
    digits
        Decimals per column, or one number for all (default: 0 for integers and values of
        1,000 or more, else 1). Columns named ``year`` never get a thousands separator.
    codes
        Column -> label kind (``partner``, ``sector``, ``ledger_sector``, ``measure``,
        ``flag``, ``period``, ``status``, ``pillar``, ``indicator``, ...): codes become names.
    bounds
        Value column -> upper-bound column: where the value is missing and the bound is not,
        the cell reads ``< bound`` (censored); the bound column is then not shown.
    percent
        Columns holding shares (0.25) shown as percentages (``25.0``, unit ``%``).
    notes
        Lines printed under the table (before the legend).
    source
        Where the numbers come from (printed as "Source: ...").
    """
    m = messages(language)
    labels = dict(labels or {})
    units = dict(units or {})
    codes = dict(codes or {})
    bounds = dict(bounds or {})
    data = frame.copy()
    if isinstance(data.index, pd.MultiIndex) or data.index.name is not None:
        data = data.reset_index()  # a named index is a column the reader needs
    else:
        data = data.reset_index(drop=True)  # row numbers are not
    data.columns = [str(c) for c in data.columns]
    shown = list(columns) if columns is not None else list(data.columns)
    shown = [c for c in shown if c not in set(bounds.values()) or c in (columns or ())]
    missing_cols = [c for c in shown if c not in data.columns]
    if missing_cols:
        raise KeyError(
            f"format_table: columns {missing_cols} not in the table {list(data.columns)}"
        )
    out = {}
    numeric: list[str] = []
    used = {"missing": False, "censored": False, "unknown": False, "flags": False}
    for col in shown:
        s = data[col]
        unit = units.get(col)
        if col in percent:
            unit = unit or "pct"
        header = _header(col, labels, unit, m)
        if col in codes:
            kind = codes[col]
            texts = [label(kind, v, language) for v in s]
            used["flags"] |= kind == "flag" and any(not _isnan(v) and str(v) for v in s)
            # An empty flag list is "nothing to say", not a missing figure.
            texts = ["" if kind == "flag" and t == MISSING else t for t in texts]
        elif pd.api.types.is_bool_dtype(s):
            texts = [MISSING if _isnan(v) else str(v) for v in s]
        elif pd.api.types.is_numeric_dtype(s) or col in bounds:
            vals = pd.to_numeric(s, errors="coerce")
            if col in percent:
                vals = vals * 100
            d = digits if isinstance(digits, int) else (digits or {}).get(col)
            d = _digits_for(vals) if d is None else d
            if col == "year" or col.endswith("_year") or col.startswith("year_"):
                texts = [MISSING if _isnan(v) else str(int(v)) for v in vals]
            else:
                texts = [format_number(v, d, language) for v in vals]
                numeric.append(header)
            if col in bounds:
                bound = pd.to_numeric(data[bounds[col]], errors="coerce")
                texts = [
                    censored_text(b, d, language) if _isnan(v) and not _isnan(b) else t
                    for v, b, t in zip(vals, bound, texts, strict=True)
                ]
                used["censored"] |= any(t.startswith(CENSORED_PREFIX) for t in texts)
        else:
            texts = [MISSING if _isnan(v) else str(v) for v in s]
            # Cells already written as "< x" (censored_text) get the legend too.
            used["censored"] |= any(t.startswith(CENSORED_PREFIX) for t in texts)
        used["missing"] |= any(t == MISSING for t in texts)
        used["unknown"] |= any(t == UNKNOWN for t in texts)
        out[header] = texts
    display = pd.DataFrame(out, columns=list(out))
    return Table(
        frame=display,
        data=data.copy(),  # every column (bounds, full sources) for the CSV
        title=title,
        notes=list(notes),
        legend=legend(**used, language=language),
        source=source,
        numeric=numeric,
        language=language,
    )


def format_wide(
    frame: pd.DataFrame,
    *,
    language: str = "en",
    title: str | None = None,
    row_kind: str | None = None,
    row_label: str | None = None,
    unit: str | None = None,
    digits: int = 0,
    notes: Sequence[str] = (),
    source: str | None = None,
) -> Table:
    """Format a wide table of already-written cells or numbers (rows x years, say).

    Cells that are text are kept (e.g. ``< 1,234`` from :func:`censored_text`); numbers are
    formatted; missing cells become ``–``. The index becomes the first column, labelled
    with ``row_kind`` labels (e.g. ``partner`` names).
    """
    m = messages(language)
    head = row_label or (
        m(f"label.column.{row_kind}") if row_kind and m.has(f"label.column.{row_kind}") else ""
    )
    unit_text = _unit_label(unit, m)
    rows = [label(row_kind, i, language) if row_kind else str(i) for i in frame.index]
    out = {head: rows}
    used = {"missing": False, "censored": False, "unknown": False, "flags": False}
    numeric = []
    for col in frame.columns:
        cells = []
        has_number = False
        for v in frame[col]:
            if isinstance(v, str):
                text = v
            elif _isnan(v):
                text = MISSING
            else:
                text = format_number(v, digits, language)
                has_number = True
            used["missing"] |= text == MISSING
            used["censored"] |= text.startswith(CENSORED_PREFIX)
            used["unknown"] |= text == UNKNOWN
            cells.append(text)
        out[str(col)] = cells
        if has_number or any(c.startswith(CENSORED_PREFIX) for c in cells):
            numeric.append(str(col))
    display = pd.DataFrame(out, columns=list(out))
    notes = list(notes)
    if unit_text:
        notes.insert(0, unit_text)
    return Table(
        frame=display,
        data=frame.reset_index(),
        title=title,
        notes=notes,
        legend=legend(**used, language=language),
        source=source,
        numeric=numeric,
        language=language,
    )


def show(table: Table, name: str, *, report: str, empty: str | None = None) -> None:
    """Display a table in a report and write its data as ``<name>.csv`` (or say why empty).

    The CSV goes through :func:`analysis.present.tables.write_table` (the batch's table folder, or
    ``reports/interactive/tables/<report>/``).
    """
    from IPython.display import display

    from analysis.present.tables import write_table

    if len(table):
        display(table)
        write_table(table.data, name, report=report)
    elif empty:
        display(_Markdown(empty))
