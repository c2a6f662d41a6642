"""Key result tables as CSV: names, neutralised cells, and the batch's tables folder."""

from __future__ import annotations

import json

import nbformat
import pandas as pd
import pytest

from analysis.present.tables import TABLES_ENV, TableError, neutralise, write_table
from analysis.reports import Job, run_batch


def test_write_table_writes_csv_without_index(tmp_path, monkeypatch):
    monkeypatch.setenv(TABLES_ENV, str(tmp_path / "t"))
    path = write_table(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}), "ranking")
    assert path == tmp_path / "t" / "ranking.csv"
    assert path.read_text() == "a,b\n1,x\n2,y\n"


@pytest.mark.parametrize("name", ["../up", "a/b", "", "Ranking", "x" * 65, "a\n", ".hidden"])
def test_unsafe_table_names_are_rejected(tmp_path, monkeypatch, name):
    monkeypatch.setenv(TABLES_ENV, str(tmp_path))
    with pytest.raises(TableError, match="not a safe file name"):
        write_table(pd.DataFrame({"a": [1]}), name)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-cmd", "'-cmd"),
        ("-1.5", "-1.5"),
        ("Germany", "Germany"),
        (3.0, 3.0),
    ],
)
def test_formula_like_text_is_neutralised(cell, expected):
    assert neutralise(cell) == expected


def test_formula_cells_are_neutralised_in_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv(TABLES_ENV, str(tmp_path))
    path = write_table(pd.DataFrame({"name": ["=1+1"], "value": [-2.0]}), "t")
    assert path.read_text() == "name,value\n'=1+1,-2.0\n"


def test_batch_lists_a_reports_tables_in_the_manifest_and_index(tmp_path):
    import jupytext

    nb = jupytext.reads(
        '# %% tags=["parameters"]\nsector: str = "textile"  # sector\n\n'
        "# %%\nimport pandas as pd\nfrom analysis.present.tables import write_table\n"
        'write_table(pd.DataFrame({"sector": [sector]}), "result")\n',
        fmt="py:percent",
    )
    nb.metadata["kernelspec"] = {"name": "mitra", "display_name": "mitra", "language": "python"}
    path = tmp_path / "tab.ipynb"
    nbformat.write(nb, path)
    result = run_batch(
        [Job(str(path), (), "tab")],
        run_id="t",
        reports_dir=tmp_path / "r",
        workers=1,
        progress=False,
    )
    assert result.ok, result.records
    table = result.run_dir / "tables" / "tab" / "result.csv"
    assert table.read_text() == "sector\ntextile\n"
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["reports"]["tab"]["tables"] == ["tables/tab/result.csv"]
    assert 'href="tables/tab/result.csv"' in (result.run_dir / "index.html").read_text()
    # No staging folders are left behind.
    assert [p.name for p in (result.run_dir / "tables").iterdir()] == ["tab"]
