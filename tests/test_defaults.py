"""One truth for defaults: Run All in JupyterLab computes what the batch computes.

A notebook's parameters cell must equal ``params/base.yaml`` plus the sector file of its
default sector, so a reader who opens a notebook and runs it gets the default textile report
of the batch, not a different ranking. And the README's plain papermill command, which
layers one sector file over those defaults, must print no warning.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys

import pytest
import yaml

from analysis.params import load_params, notebook_parameters
from analysis.reports import DEFAULT_NOTEBOOKS
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SECTOR_FILES = ("textile", "chemical", "pharma")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_defaults_equal_base_plus_default_sector_file(notebook):
    declared = notebook_parameters(notebook)
    defaults = {k: ast.literal_eval(v["default"]) for k, v in declared.items()}
    sector = defaults.get("sector", "textile")
    expected = load_params("params/base.yaml", f"params/{sector}.yaml").to_dict()
    differ = {
        k: (v, expected[k]) for k, v in defaults.items() if k in expected and v != expected[k]
    }
    assert not differ, (
        f"{notebook.name}: parameters cell defaults differ from params/base.yaml + "
        f"params/{sector}.yaml (notebook, params): {differ}"
    )


def test_sector_files_set_the_same_keys():
    # Then `-f params/<sector>.yaml` over the notebook defaults (= base + textile) is exactly
    # base + <sector>, which is what the README's papermill command relies on.
    keys = {
        s: set(yaml.safe_load((ROOT / "params" / f"{s}.yaml").read_text())) for s in SECTOR_FILES
    }
    assert all(k == keys["textile"] for k in keys.values()), keys


def test_sector_file_keys_are_declared_by_every_sector_report():
    keys = set(yaml.safe_load((ROOT / "params" / "textile.yaml").read_text()))
    for nb in [ROOT / n for n in DEFAULT_NOTEBOOKS]:
        missing = keys - set(notebook_parameters(nb))
        assert not missing, f"{nb.name} would warn 'Passed unknown parameter' for {missing}"


def _readme_papermill_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    cmds = re.findall(r"^\.venv/bin/papermill (.+?)\s*$", text, re.M)
    return [c.split("#")[0].split() for c in cmds]


def test_readme_papermill_command_prints_no_warning(tmp_path):
    commands = _readme_papermill_commands()
    assert commands, "README shows a plain papermill command"
    args = commands[0]
    out = tmp_path / "out.ipynb"
    args = [str(out) if a == "out.ipynb" else a for a in args]
    proc = subprocess.run(
        [sys.executable, "-m", "papermill", *args, "--no-progress-bar"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "MITRA_TABLES_DIR": str(tmp_path / "tables")},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Passed unknown parameter" not in proc.stderr, proc.stderr
    # ipykernel's own notice about local TCP sockets is not papermill's and not about
    # parameters; every other warning line fails the test.
    warnings = [
        ln
        for ln in proc.stderr.splitlines()
        if "WARNING" in ln.upper() and "running over TCP without encryption" not in ln
    ]
    assert not warnings, warnings


def test_plain_papermill_fails_on_a_misspelt_key_with_mitras_message(tmp_path):
    """``papermill ... -p ranking_weigths 3`` fails in the first code cell (issue 23)."""
    proc = subprocess.run(
        [sys.executable, "-m", "papermill", "notebooks/00-data-audit.ipynb",
         str(tmp_path / "out.ipynb"), "-p", "ranking_weigths", "3", "--no-progress-bar"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "MITRA_TABLES_DIR": str(tmp_path / "tables")},
    )  # fmt: skip
    assert proc.returncode != 0
    assert "injected parameters: key 'ranking_weigths': unknown key; known keys are" in (
        proc.stderr + proc.stdout
    )
