"""Every user-supplied name that becomes a path passes one rule and stays under reports/."""

from __future__ import annotations

import pytest

from analysis.base.paths import UnsafeNameError, inside, safe_name

UNSAFE = [
    "../up",
    "a/b",
    "a\\b",
    "..",
    "x..y",
    "",
    " lead",
    "trail ",
    "new\nline",
    "trailing-newline\n",
    "tab\t",
    "nul\x00",
    ".hidden",
    "dot.",
    "x" * 65,
    "caf\u00e9",
    "-dash",
]


@pytest.mark.parametrize("name", UNSAFE, ids=repr)
def test_unsafe_names_are_rejected(name):
    with pytest.raises(UnsafeNameError, match="not a safe file name"):
        safe_name(name, "run id")


@pytest.mark.parametrize("name", ["20261128-093000", "textile", "R", "a.b-c_d", "x" * 64])
def test_safe_names_pass(name):
    assert safe_name(name) == name


def test_lower_mode_is_the_table_rule():
    assert safe_name("ranking", lower=True) == "ranking"
    with pytest.raises(UnsafeNameError):
        safe_name("Ranking", lower=True)
    with pytest.raises(UnsafeNameError):
        safe_name("a.b", lower=True)


def test_inside_refuses_a_symlink_that_leads_out(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "escape").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert inside(reports, "run") == (reports / "run").resolve()
    with pytest.raises(UnsafeNameError, match="outside"):
        inside(reports, "escape")


def _cli(tmp_path, monkeypatch, argv):
    import analysis.base.paths
    from analysis.cli import main

    monkeypatch.setattr(analysis.base.paths, "REPORTS", tmp_path / "reports")
    return main(argv)


def test_run_name_with_path_components_writes_nothing_outside(tmp_path, monkeypatch, capsys):
    rc = _cli(
        tmp_path,
        monkeypatch,
        ["run", "notebooks/00-data-audit.ipynb", "--name", "../../escaped", "--run-id", "x"],
    )
    assert rc == 2
    err = capsys.readouterr().err
    assert "--name '../../escaped' is not a safe file name" in err and "Traceback" not in err
    assert not list(tmp_path.rglob("escaped*"))


def test_run_id_with_trailing_newline_is_refused(tmp_path, monkeypatch, capsys):
    rc = _cli(tmp_path, monkeypatch, ["batch", "--set", "textile", "--run-id", "run\n"])
    assert rc == 2
    assert "unsafe run id" in capsys.readouterr().err
    assert not (tmp_path / "reports").exists() or not list((tmp_path / "reports").iterdir())


def test_set_name_cannot_reach_a_file_outside_params(tmp_path, monkeypatch, capsys):
    rc = _cli(tmp_path, monkeypatch, ["batch", "--set", "../pyproject", "--run-id", "x"])
    assert rc == 2
    assert "--set '../pyproject' is not a safe file name" in capsys.readouterr().err


def test_report_names_from_params_file_names_are_checked(tmp_path):
    from analysis.reports import PipelineError, plan_batch, run_batch

    odd = tmp_path / "my set.yaml"  # a space: becomes part of the report name
    odd.write_text("sector: pharma\n")
    jobs = plan_batch(["notebooks/00-data-audit.ipynb"], [("params/base.yaml", str(odd))])
    with pytest.raises(PipelineError, match="unsafe report name '00-data-audit--my set'"):
        run_batch(jobs, run_id="x", reports_dir=tmp_path / "r", progress=False)


def test_table_names_use_the_same_rule(tmp_path, monkeypatch):
    import pandas as pd

    from analysis.present.tables import TABLES_ENV, TableError, write_table

    monkeypatch.setenv(TABLES_ENV, str(tmp_path))
    with pytest.raises(TableError, match="not a safe file name"):
        write_table(pd.DataFrame({"a": [1]}), "ok\n")


def test_a_file_that_is_not_a_notebook_is_one_line(tmp_path, monkeypatch, capsys):
    fake = tmp_path / "fake.ipynb"
    fake.write_text("this is not JSON")
    rc = _cli(tmp_path, monkeypatch, ["batch", "--notebook", str(fake), "--set", "textile"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "not a readable Jupyter notebook" in err and "Traceback" not in err
