"""Manifests: damaged or foreign ones are clear errors, they can be rebuilt from the reports
present, and one batch at a time writes a run."""

from __future__ import annotations

import json

import nbformat
import pytest

from analysis.reports.manifest import (
    ManifestError,
    RunLock,
    RunLockedError,
    read_manifest,
    rebuild_records,
)

GOOD = {
    "run_id": "R",
    "reports": {
        "a--textile": {
            "name": "a--textile",
            "notebook": "notebooks/a.ipynb",
            "params_files": ["params/base.yaml"],
            "status": "failed",
        }
    },
}

DAMAGED = [
    ("truncated", b'{"run_id": "R", "reports": {"a": {"notebook"', "not valid JSON"),
    ("list", b"[1, 2, 3]", "expected a JSON object, got list"),
    ("foreign", b'{"name": "something else"}', "no 'reports' object"),
    (
        "no_notebook",
        json.dumps({"reports": {"a": {"params_files": [], "status": "ok"}}}).encode(),
        "report 'a': missing 'notebook'",
    ),
    (
        "record_not_object",
        json.dumps({"reports": {"a": [1]}}).encode(),
        "report 'a': expected an object, got list",
    ),
    (
        "bad_status",
        json.dumps(
            {"reports": {"a": {"notebook": "n", "params_files": [], "status": "weird"}}}
        ).encode(),
        "unknown status 'weird'",
    ),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not UTF-8"),
    ("empty", b"", "not valid JSON"),
]


@pytest.mark.parametrize(("case", "data", "words"), DAMAGED, ids=[d[0] for d in DAMAGED])
def test_damaged_manifest_is_a_clear_error_naming_the_file(tmp_path, case, data, words):
    path = tmp_path / "manifest.json"
    path.write_bytes(data)
    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    msg = str(info.value)
    assert str(path) in msg and words in msg and "--rebuild-manifest" in msg


def test_good_manifest_reads():
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "manifest.json"
        path.write_text(json.dumps(GOOD))
        assert read_manifest(path)["reports"]["a--textile"]["status"] == "failed"


@pytest.mark.parametrize("flag", [["--only-failed"], []])
def test_cli_on_a_damaged_manifest_says_what_and_how_to_go_on(tmp_path, monkeypatch, capsys, flag):
    import analysis.base.paths
    from analysis.cli import main

    monkeypatch.setattr(analysis.base.paths, "REPORTS", tmp_path)
    run = tmp_path / "R"
    run.mkdir()
    (run / "manifest.json").write_text('{"reports": [')
    argv = ["batch", "--run-id", "R", "--no-progress", *flag]
    if not flag:
        argv += ["--notebook", "notebooks/00-data-audit.ipynb", "--set", "textile"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "manifest.json: not valid JSON" in err and "--rebuild-manifest" in err
    assert "Traceback" not in err
    assert (run / "manifest.json").read_text() == '{"reports": ['  # untouched


def _executed(path, name, *, failed=False, meta=True):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(1)")]
    nb.metadata["papermill"] = {"input_path": "/x/notebooks/n.ipynb", "parameters": {"s": 1}}
    if meta:
        nb.metadata["mitra"] = {
            "name": name,
            "notebook": "notebooks/n.ipynb",
            "params_files": ["params/base.yaml", "params/textile.yaml"],
        }
    suffix = ".failed.ipynb" if failed else ".ipynb"
    nbformat.write(nb, path / f"{name}{suffix}")


def test_rebuild_records_from_the_reports_present(tmp_path):
    _executed(tmp_path, "n--textile")
    (tmp_path / "n--textile.html").write_text("<html/>")
    _executed(tmp_path, "n--pharma", failed=True)
    _executed(tmp_path, "n--chemical", meta=False)
    (tmp_path / ".n--x.running-1.ipynb").write_text("{")  # a killed worker's leftovers
    records = rebuild_records(tmp_path)
    assert set(records) == {"n--textile", "n--pharma", "n--chemical"}
    assert records["n--textile"]["status"] == "ok"
    assert records["n--textile"]["outputs"] == {
        "ipynb": "n--textile.ipynb",
        "html": "n--textile.html",
    }
    assert records["n--pharma"]["status"] == "failed"
    assert records["n--pharma"]["params_files"] == ["params/base.yaml", "params/textile.yaml"]
    assert records["n--chemical"]["notebook"] == "/x/notebooks/n.ipynb"  # papermill's record


def test_cli_rebuild_manifest_writes_a_valid_manifest(tmp_path, monkeypatch, capsys):
    import analysis.base.paths
    from analysis.cli import main

    monkeypatch.setattr(analysis.base.paths, "REPORTS", tmp_path)
    run = tmp_path / "R"
    run.mkdir()
    (run / "manifest.json").write_bytes(b"\x00garbage")
    _executed(run, "n--textile")
    _executed(run, "n--pharma", failed=True)
    rc = main(["batch", "--run-id", "R", "--rebuild-manifest", "--no-progress"])
    assert rc == 1  # one report is failed: the run is not complete
    manifest = read_manifest(run / "manifest.json")
    assert {n: r["status"] for n, r in manifest["reports"].items()} == {
        "n--textile": "ok",
        "n--pharma": "failed",
    }
    assert "n--pharma" in (run / "index.html").read_text()
    assert "--only-failed" in capsys.readouterr().err


def test_a_second_batch_on_a_locked_run_is_refused(tmp_path):
    from analysis.reports import plan_batch, run_batch

    jobs = plan_batch(["notebooks/00-data-audit.ipynb"], [("params/base.yaml",)])
    with RunLock(tmp_path, "R"), pytest.raises(RunLockedError, match="another mitra batch"):
        run_batch(jobs, run_id="R", reports_dir=tmp_path, progress=False)
    assert not (tmp_path / "R").exists()
    with RunLock(tmp_path, "R"):  # released: can be taken again
        pass
    assert not (tmp_path / ".R.lock").exists()


def test_a_run_to_resume_must_exist(tmp_path):
    from analysis.reports import PipelineError, run_batch

    with pytest.raises(PipelineError, match="no such run"):
        run_batch(run_id="nope", reports_dir=tmp_path, only_failed=True, progress=False)
