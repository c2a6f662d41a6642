"""Set-up stays reproducible: dependency lists agree, the layout is as documented."""

from __future__ import annotations

import re
import subprocess
import tomllib

import yaml

from conftest import ROOT

_NAME = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject_deps() -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(meta["dependencies"]) + list(meta["optional-dependencies"]["dev"])
    out = {}
    for spec in specs:
        m = _NAME.match(spec)
        out[_norm(m.group(1))] = m.group(3).replace(" ", "")
    return out


def _conda_deps() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if not isinstance(dep, str):
            continue
        m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", dep)
        out[_norm(m.group(1))] = m.group(2).replace(" ", "")
    return out


def test_environment_yml_matches_pyproject():
    pip = _pyproject_deps()
    conda = _conda_deps()
    conda.pop("pip", None)
    assert conda.pop("python") == ">=3.11"
    assert conda == pip, "environment.yml and pyproject.toml name different dependencies"


def test_constraints_pin_every_dependency():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[_norm(name)] = version
    missing = sorted(set(_pyproject_deps()) - set(pins))
    assert not missing, f"constraints.txt lacks pins for {missing}"


def test_layout_matches_design():
    for folder in ("notebooks", "src/analysis", "data/raw", "params", "reports", "tests"):
        assert (ROOT / folder).is_dir(), folder
    for file in (
        "environment.yml",
        "README.md",
        "pyproject.toml",
        "Makefile",
        ".ci/run",
        "data/README.md",
        "data/provenance.csv",
        "reports/README.md",
    ):
        assert (ROOT / file).is_file(), file


def test_readme_setup_is_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "make reports" in readme and "make test" in readme
    ci = (ROOT / ".ci/run").read_text()
    commands = [
        ln.strip()
        for ln in ci.splitlines()
        if ln.strip() and not ln.strip().startswith(("#", "set ", "cd "))
    ]
    assert commands == ["make test"]


def test_make_help_lists_the_targets():
    out = subprocess.run(
        ["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    for target in ("reports", "test", "lab", "help"):
        assert re.search(rf"^\s*\S*{target}\S*\s", out, re.M), target


def test_reports_are_ignored_but_the_readme():
    ignored = subprocess.run(["git", "check-ignore", "-q", "reports/x/index.html"], cwd=ROOT)
    kept = subprocess.run(["git", "check-ignore", "-q", "reports/README.md"], cwd=ROOT)
    assert ignored.returncode == 0
    assert kept.returncode == 1
