"""A summary object that prints as text and renders as HTML in JupyterLab.

Modelled on statsmodels' ``Summary``: results objects return one from ``.summary()``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

import pandas as pd

__all__ = ["Summary", "anchor"]


def anchor(section: str) -> str:
    """Return the id nbconvert and JupyterLab give a heading with this text.

    Both replace spaces with ``-`` (nbconvert then URL-quotes characters that a fragment
    cannot hold), so a link ``#<anchor>`` works in the notebook and in the HTML report.
    Lives at the bottom layer so that summaries and the formatting layer share it.
    """
    return quote(section.replace(" ", "-"), safe="?/:@!$&'()*+,;=")


@dataclass
class Summary:
    """Title, settings and captioned tables.

    Parameters
    ----------
    title
        One line saying what this is.
    settings
        The settings that produced the result (printed first, so a reader sees them).
    tables
        ``(caption, DataFrame)`` pairs.
    notes
        Free-text lines printed last (caveats, flags, sources).
    appendix
        Render as a report's appendix: the title is a second-level heading that starts a new
        printed page (class ``mitra-appendix``), the rest in a compact block
        (class ``mitra-provenance``).
    inline
        Captions of one-column tables written as one line (``name value · name value``),
        which keeps an appendix short (package versions, say).
    """

    title: str
    settings: Mapping[str, object] = field(default_factory=dict)
    tables: Sequence[tuple[str, pd.DataFrame]] = field(default_factory=list)
    notes: Sequence[str] = field(default_factory=list)
    appendix: bool = False
    inline: Sequence[str] = ()

    def as_text(self) -> str:
        """Return the summary as plain text."""
        lines = [self.title, "=" * len(self.title)]
        for key, value in self.settings.items():
            lines.append(f"{key}: {value}")
        for caption, table in self.tables:
            lines += ["", caption, "-" * len(caption)]
            lines.append(table.to_string() if len(table) else "(none)")
        if self.notes:
            lines.append("")
            lines += [f"* {n}" for n in self.notes]
        return "\n".join(lines)

    def as_markdown(self) -> str:
        """Return the summary as Markdown (tables as pipe tables)."""
        lines = [f"# {self.title}", ""]
        for key, value in self.settings.items():
            lines.append(f"- **{key}**: {value}")
        for caption, table in self.tables:
            lines += ["", f"## {caption}", ""]
            lines.append(_markdown_table(table) if len(table) else "(none)")
        if self.notes:
            lines += ["", "## Notes", ""]
            lines += [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        if self.appendix:
            title = html.escape(self.title)
            parts = [
                f'<h2 class="mitra-appendix" id="{html.escape(anchor(self.title))}">{title}</h2>'
            ]
        else:
            parts = [f"<h3>{html.escape(self.title)}</h3>"]
        if self.settings:
            parts.append("<table>")
            for key, value in self.settings.items():
                parts.append(
                    f"<tr><th style='text-align:left'>{html.escape(str(key))}</th>"
                    f"<td style='text-align:left'>{html.escape(str(value))}</td></tr>"
                )
            parts.append("</table>")
        for caption, table in self.tables:
            parts.append(f"<h4>{html.escape(caption)}</h4>")
            if caption in self.inline and table.shape[1] == 1:
                items = [
                    f"{html.escape(str(k))} {html.escape(str(v))}"
                    for k, v in table.iloc[:, 0].items()
                ]
                parts.append(f"<p>{' · '.join(items)}</p>")
                continue
            # Missing cells read "–" as in every formatted table; row numbers are not shown.
            frame_html = table.to_html(na_rep="–", index=_meaningful_index(table), border=0)
            parts.append(frame_html if len(table) else "<p>(none)</p>")
        if self.notes:
            parts.append(
                "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in self.notes) + "</ul>"
            )
        if self.appendix:
            return f"{parts[0]}<div class='mitra-provenance'>{''.join(parts[1:])}</div>"
        return "\n".join(parts)


def _meaningful_index(table: pd.DataFrame) -> bool:
    """A named or multi-level index says something; plain row numbers do not."""
    return isinstance(table.index, pd.MultiIndex) or table.index.name is not None


def _markdown_table(table: pd.DataFrame) -> str:
    frame = table.reset_index() if not isinstance(table.index, pd.RangeIndex) else table
    cols = [str(c) for c in frame.columns]

    def cell(v: object) -> str:
        text = "" if (v is None or (isinstance(v, float) and pd.isna(v))) else str(v)
        return text.replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        out.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(out)
