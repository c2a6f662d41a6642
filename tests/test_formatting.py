"""The formatting layer: labels, units, separators, censoring, legends, findings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.present.formatting import (
    Finding,
    anchor,
    censored_text,
    findings_block,
    format_table,
    format_wide,
)


def _panel():
    return pd.DataFrame(
        {
            "year": [2022, 2023, 2024],
            "partner_iso3": ["DEU", "JPN", "KOR"],
            "value": [1234.5, np.nan, np.nan],
            "upper_bound": [np.nan, 300.0, np.nan],
            "flags": ["derived;fx_converted", "", None],
        }
    ).set_index("year")


def test_table_has_names_units_separators_and_no_index():
    t = format_table(
        _panel(),
        units={"value": "usd_m"},
        digits={"value": 1},
        codes={"partner_iso3": "partner", "flags": "flag"},
        bounds={"value": "upper_bound"},
        title="PMA by partner",
    )
    f = t.to_frame()
    assert list(f.columns) == ["Year", "Partner", "Value (US$ million)", "How obtained"]
    assert f["Year"].tolist() == ["2022", "2023", "2024"]  # years: no separator
    assert f["Partner"].tolist() == ["Germany", "Japan", "South Korea"]
    assert f["Value (US$ million)"].tolist() == ["1,234.5", "< 300.0", "–"]
    html = t.to_html()
    assert "<th" in html and "row_heading" not in html  # no index column
    assert "nan" not in html.lower().replace("nanc", "")
    assert "below x (censored)" in html and "no figure published" in html


def test_indonesian_table_uses_indonesian_labels_and_number_format():
    t = format_table(
        _panel(),
        language="id",
        units={"value": "usd_m"},
        digits={"value": 1},
        codes={"partner_iso3": "partner"},
        bounds={"value": "upper_bound"},
        columns=["partner_iso3", "value"],
    )
    f = t.to_frame()
    assert list(f.columns) == ["Mitra", "Nilai (US$ juta)"]
    assert f["Nilai (US$ juta)"].tolist() == ["1.234,5", "< 300,0", "–"]
    assert f["Mitra"].tolist() == ["Jerman", "Jepang", "Korea Selatan"]
    assert "Cara membaca tabel" in t.as_text()


def test_legend_lists_only_the_marks_that_occur():
    t = format_table(pd.DataFrame({"year": [2024], "value": [1.0]}))
    assert t.legend == []
    t = format_table(pd.DataFrame({"year": [2024], "value": [np.nan]}))
    assert len(t.legend) == 1 and t.legend[0].startswith("–")


def test_percent_and_markdown_and_same_html_twice():
    frame = pd.DataFrame({"partner_iso3": ["SGP"], "share": [0.2512]})
    t = format_table(frame, percent=["share"], codes={"partner_iso3": "partner"})
    assert t.to_frame().iloc[0].tolist() == ["Singapore", "25.1"]
    assert "Share (%)" in t.as_markdown()
    assert (
        t.to_html()
        == format_table(frame, percent=["share"], codes={"partner_iso3": "partner"}).to_html()
    )


def test_wide_tables_keep_censored_text_and_mark_missing():
    wide = pd.DataFrame(
        {2023: [censored_text(250.0), 12345.0], 2024: ["?", np.nan]},
        index=pd.Index(["DEU", "SGP"], name="partner_iso3"),
    )
    t = format_wide(wide, row_kind="partner", unit="usd_m", language="en")
    f = t.to_frame()
    assert f.iloc[:, 0].tolist() == ["Germany", "Singapore"]
    assert f["2023"].tolist() == ["< 250", "12,345"]
    assert f["2024"].tolist() == ["?", "–"]
    assert len(t.legend) == 3


def test_findings_link_to_their_sections_like_nbconvert_does():
    from nbconvert.filters.strings import add_anchor

    section = "Where the foreign money comes from"
    block = findings_block([Finding("A sentence.", section), ("Another.", None)])
    md = block.as_markdown()
    assert md.startswith("## Key findings")
    # nbconvert's own anchor for the heading is the one the finding links to.
    html = add_anchor(f"<h2>{section}</h2>")
    assert f'id="{anchor(section)}"' in html
    assert f"(#{anchor(section)})" in md
    assert block.as_text().splitlines()[1] == "- A sentence."
    assert findings_block(["Satu."], language="id").as_markdown().startswith("## Temuan utama")


def test_row_numbers_never_become_a_column():
    frame = pd.DataFrame({"year": [2022, 2023, 2024], "value": [1.0, 2.0, 3.0]})
    filtered = frame[frame["value"] > 1]  # index 1, 2: not a RangeIndex any more
    assert list(format_table(filtered).to_frame().columns) == ["Year", "Value"]
    named = frame.set_index("year")
    assert list(format_table(named).to_frame().columns) == ["Year", "Value"]
