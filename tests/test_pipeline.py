"""Report batches: real kernels, a real dask LocalCluster, failures, reruns, determinism."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import nbformat
import pytest

from analysis.reports import DEFAULT_SETS, Job, plan_batch, run_batch
from conftest import ROOT

# A tiny notebook: fast, declares two parameters, and kills its own kernel (a crash such as
# an out-of-memory kill, mid-run) for the pharma report when MITRA_TEST_KILL names a file
# that exists.
TINY = """\
# %% [markdown]
# # Tiny report

# %% tags=["parameters"]
run_name: str = "adhoc"  # name of the run
sector: str = "textile"  # textile | chemical | pharma

# %%
import os, signal
print(f"report for {sector}")

# %%
if sector == "pharma" and os.path.exists(os.environ.get("MITRA_TEST_KILL", "/nonexistent")):
    os.kill(os.getpid(), signal.SIGKILL)
print("done", sector)
"""


@pytest.fixture
def tiny(tmp_path):
    import jupytext

    nb = jupytext.reads(TINY, fmt="py:percent")
    nb.metadata["kernelspec"] = {
        "name": "mitra",
        "display_name": "Python (mitra)",
        "language": "python",
    }
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    sets = []
    for sector in ("textile", "chemical", "pharma"):
        f = tmp_path / f"{sector}.yaml"
        f.write_text(f"sector: {sector}\n")
        sets.append((str(f),))
    return path, sets


def _outputs(path):
    """Cell outputs of an executed notebook, without run metadata."""
    nb = nbformat.read(path, as_version=4)
    return [c.get("outputs") for c in nb.cells if c.cell_type == "code"]


def test_batch_on_a_real_dask_local_cluster(tiny, tmp_path):
    from distributed import Client, LocalCluster

    nb, sets = tiny
    jobs = plan_batch([nb], sets)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        result = run_batch(
            jobs, run_id="dask", reports_dir=tmp_path / "r", scheduler=client, progress=False
        )
    assert result.ok, result.records
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["scheduler"] == "dask"
    for name in ("tiny--textile", "tiny--chemical", "tiny--pharma"):
        assert (result.run_dir / f"{name}.html").is_file()
        assert manifest["reports"][name]["status"] == "ok"


def test_killed_kernel_fails_alone_keeps_last_good_copy_and_reruns(tiny, tmp_path, monkeypatch):
    nb, sets = tiny
    jobs = plan_batch([nb], sets)
    reports = tmp_path / "r"
    first = run_batch(jobs, run_id="R", reports_dir=reports, workers=2, progress=False)
    assert first.ok
    good = (first.run_dir / "tiny--pharma.ipynb").read_bytes()
    good_html = (first.run_dir / "tiny--pharma.html").read_bytes()

    flag = tmp_path / "kill-now"
    flag.touch()
    monkeypatch.setenv("MITRA_TEST_KILL", str(flag))
    second = run_batch(jobs, run_id="R", reports_dir=reports, workers=2, progress=False)
    assert second.failed == ["tiny--pharma"]
    rec = second.records["tiny--pharma"]
    assert rec["error"]["kind"] == "kernel_died"
    assert len(rec["attempts"]) == 1  # a crash mid-run is not a start-up failure: no retry
    assert second.records["tiny--textile"]["status"] == "ok"
    # The previous good copy survives; the failed execution is kept beside it, with the
    # cells that ran before the crash.
    assert (second.run_dir / "tiny--pharma.ipynb").read_bytes() == good
    assert (second.run_dir / "tiny--pharma.html").read_bytes() == good_html
    failed = second.run_dir / "tiny--pharma.failed.ipynb"
    assert failed.is_file()
    assert "report for pharma" in json.dumps(_outputs(failed))
    index = (second.run_dir / "index.html").read_text()
    assert re.search(r"tiny--pharma</span></td><td><span class='failed'>failed", index)
    manifest = json.loads((second.run_dir / "manifest.json").read_text())
    assert manifest["reports"]["tiny--pharma"]["status"] == "failed"
    assert manifest["reports"]["tiny--pharma"]["outputs"]["ipynb"] == "tiny--pharma.ipynb"

    monkeypatch.delenv("MITRA_TEST_KILL")
    third = run_batch(run_id="R", reports_dir=reports, only_failed=True, progress=False)
    assert third.ok
    assert set(third.records) == {"tiny--textile", "tiny--chemical", "tiny--pharma"}
    assert not failed.exists()
    assert "done pharma" in json.dumps(_outputs(third.run_dir / "tiny--pharma.ipynb"))


# Prints what a report's kernel holds when the report starts: a fresh namespace (nothing from
# the previous report), its own working folder and tables folder, the pre-imports done.
FRESH = """\
# %% [markdown]
# # Fresh report

# %% tags=["parameters"]
run_name: str = "adhoc"  # name of the run
sector: str = "textile"  # textile | chemical | pharma

# %%
import os, sys
from pathlib import Path
print("left over:", globals().get("left_over"))
print("cwd ok:", Path.cwd() == Path(os.environ["MITRA_TEST_NB_DIR"]))
print("tables ok:", f".fresh--{sector}.running-" in os.environ["MITRA_TABLES_DIR"])
print("backend:", os.environ.get("MPLBACKEND"))
left_over = sector
"""


def _living_kernels(psutil) -> list:
    found = []
    for proc in psutil.Process().children(recursive=True):
        try:
            if "ipykernel" in " ".join(proc.cmdline()) and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc.pid)
        except psutil.Error:
            continue
    return found


def test_warm_kernels_give_each_report_a_fresh_kernel_and_the_same_reports(tmp_path, monkeypatch):
    import jupytext
    import psutil

    nb = jupytext.reads(FRESH, fmt="py:percent")
    nb.metadata["kernelspec"] = {"name": "mitra", "display_name": "Python", "language": "python"}
    path = tmp_path / "fresh.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setenv("MITRA_TEST_NB_DIR", str(tmp_path))
    sets = []
    for sector in ("textile", "chemical", "pharma"):
        f = tmp_path / f"{sector}.yaml"
        f.write_text(f"sector: {sector}\n")
        sets.append((str(f),))
    jobs = plan_batch([path], sets)
    # One worker: the second and third reports take kernels warmed while the one before ran.
    warm = run_batch(jobs, run_id="warm", reports_dir=tmp_path / "r", workers=1, progress=False)
    assert warm.ok, warm.records
    assert not _living_kernels(psutil)  # no spare left behind
    cold = run_batch(
        jobs,
        run_id="cold",
        reports_dir=tmp_path / "r",
        workers=1,
        progress=False,
        warm_kernels=False,
    )
    assert cold.ok, cold.records
    for job in jobs:
        text = json.dumps(_outputs(warm.run_dir / f"{job.name}.ipynb"))
        for line in ("left over: None", "cwd ok: True", "tables ok: True", "backend_inline"):
            assert line in text, (job.name, line, text)
        assert _outputs(warm.run_dir / f"{job.name}.ipynb") == _outputs(
            cold.run_dir / f"{job.name}.ipynb"
        )
        assert (warm.run_dir / f"{job.name}.html").read_text() == (
            cold.run_dir / f"{job.name}.html"
        ).read_text()
        assert (warm.run_dir / "logs" / f"{job.name}.kernel.log").is_file()


def test_notebook_error_is_reported_and_not_retried(tmp_path):
    import jupytext

    nb = jupytext.reads(
        '# %% tags=["parameters"]\nsector: str = "textile"  # sector\n\n'
        '# %%\nraise ValueError("no data for " + sector)\n',
        fmt="py:percent",
    )
    nb.metadata["kernelspec"] = {"name": "mitra", "display_name": "mitra", "language": "python"}
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    result = run_batch(
        [Job(str(path), (), "broken")], run_id="x", reports_dir=tmp_path, workers=1, progress=False
    )
    rec = result.records["broken"]
    assert rec["status"] == "failed"
    assert rec["error"]["kind"] == "notebook_error"
    assert "ValueError: no data for textile" in rec["error"]["message"]
    assert len(rec["attempts"]) == 1
    assert (result.run_dir / "broken.failed.ipynb").is_file()
    assert not (result.run_dir / "broken.ipynb").exists()


def test_every_default_notebook_runs_with_ci_params(ci_batch):
    assert ci_batch.ok, {n: r["error"] for n, r in ci_batch.records.items()}
    for name, rec in ci_batch.records.items():
        html = (ci_batch.run_dir / rec["outputs"]["html"]).read_text()
        assert "Traceback" not in html
        assert "<pre" in html or "<table" in html, name
        # Code cells are not exported; the report reads as a document.
        assert "params_from(globals())" not in html
    manifest = json.loads((ci_batch.run_dir / "manifest.json").read_text())
    assert manifest["environment"]["git_commit"]
    assert "raw/bkpm/investment_by_year.csv" in manifest["data_hashes"]
    textile = manifest["reports"]["00-data-audit--textile-ci"]
    assert textile["parameters"]["sector"] == "textile"
    assert textile["parameters"]["start_year"] == 2019  # from ci.yaml, layered last
    assert textile["params_files"] == ["params/base.yaml", "params/textile.yaml", "params/ci.yaml"]
    # Report 30 reads report 20's gravity study (its agreement effects), so it declares the
    # gravity settings: a params file's gravity choices reach both reports, and both read one
    # cached study (here ci.yaml's few distribution simulations, not the default 40).
    for sector in ("textile", "chemical", "pharma"):
        for nb in ("20-gravity", "30-partner-ranking"):
            used = manifest["reports"][f"{nb}--{sector}-ci"]["parameters"]
            assert used["gravity_distribution_reps"] == 3, (nb, sector)


def test_same_batch_twice_gives_the_same_report_content(ci_batch):
    # Only the report compared is rerun (one kernel, not the set's four).
    jobs = plan_batch(
        ["notebooks/10-investment-flows.ipynb"], [DEFAULT_SETS[0]], extra_files=["params/ci.yaml"]
    )
    again = run_batch(
        jobs, run_id="ci-b", reports_dir=ci_batch.run_dir.parent, workers=1, progress=False
    )
    name = "10-investment-flows--textile-ci"
    assert _outputs(ci_batch.run_dir / f"{name}.ipynb") == _outputs(
        again.run_dir / f"{name}.ipynb"
    )
    assert (ci_batch.run_dir / f"{name}.html").read_text() == (
        again.run_dir / f"{name}.html"
    ).read_text()


def test_plain_papermill_still_works(tmp_path):
    out = tmp_path / "out.ipynb"
    cmd = [
        sys.executable,
        "-m",
        "papermill",
        "notebooks/00-data-audit.ipynb",
        str(out),
        "-f",
        "params/base.yaml",
        "-f",
        "params/textile.yaml",
        "-f",
        "params/ci.yaml",
        "--no-progress-bar",
    ]
    subprocess.run(
        cmd,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    text = json.dumps(_outputs(out))
    assert "Chemical" not in text or "textile" in text
    assert "2019" in text


def test_notebook_pair_is_in_sync():
    import jupytext

    for script in (ROOT / "notebooks").glob("*.py"):
        paired = nbformat.read(script.with_suffix(".ipynb"), as_version=4)
        source = jupytext.read(script)
        assert [c.source for c in paired.cells] == [c.source for c in source.cells], script.name
        assert paired.metadata["kernelspec"]["name"] == "mitra"


def test_committed_notebooks_hold_only_stable_outputs():
    from analysis.notebooks import CHECK_MARK

    for path in (ROOT / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert "papermill" not in nb.metadata
        checked = 0
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            if CHECK_MARK in cell.source:
                checked += 1
                assert cell.outputs, f"{path.name}: a checked cell lost its outputs"
            else:
                assert not cell.outputs, f"{path.name}: volatile output committed"
        assert checked >= 1


@pytest.mark.parametrize(
    "startup_error",
    [
        RuntimeError("Kernel didn't respond in 60 seconds"),
        OSError("zmq.error.ZMQError: Address already in use (addr='tcp://127.0.0.1:53211')"),
    ],
    ids=["kernel-timeout", "zmq-port"],
)
def test_startup_failures_are_retried_a_bounded_number_of_times(
    tmp_path, monkeypatch, startup_error
):
    import papermill

    from analysis.reports import execute_job

    calls = []
    src = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    nb_path = tmp_path / "nb.ipynb"
    nbformat.write(src, nb_path)

    def flaky(input_path, output_path, **kw):
        calls.append(1)
        if len(calls) < 3:
            raise startup_error
        nbformat.write(src, output_path)

    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    monkeypatch.setattr("time.sleep", lambda s: None)
    spec = {
        "name": "n",
        "notebook": str(nb_path),
        "params_files": (),
        "parameters": {},
        "run_dir": str(tmp_path),
        "kernel_name": "mitra",
        "start_timeout": 5,
        "execution_timeout": None,
        "retries": 2,
        "root": str(tmp_path),
    }
    rec = execute_job(spec)
    assert rec["status"] == "ok" and len(calls) == 3
    assert [a["outcome"] for a in rec["attempts"]] == ["startup_failed", "startup_failed", "ok"]

    calls.clear()
    rec = execute_job({**spec, "retries": 1})  # two start-up failures, one retry: give up
    assert rec["status"] == "failed" and rec["error"]["kind"] == "startup_failed"
    assert len(calls) == 2


def _assert_sections(ci_batch, notebook: str, words: tuple[str, ...]) -> None:
    """Every sector's HTML report of ``notebook`` contains each of ``words``."""
    for sector in ("textile", "chemical", "pharma"):
        html = (ci_batch.run_dir / f"{notebook}--{sector}-ci.html").read_text()
        for w in words:
            assert w in html, (sector, w)


def test_every_sector_gets_a_gravity_report(ci_batch):
    _assert_sections(
        ci_batch,
        "20-gravity",
        (
            "What the data identify",
            "Potential against actual",
            "Sector potential",
            "IEU-CEPA",
            "partial-equilibrium",
            "Interval-censored Gamma gravity regression",
        ),
    )


def test_every_sector_gets_a_flows_report_with_the_required_sections(ci_batch):
    _assert_sections(
        ci_batch,
        "10-investment-flows",
        (
            "rolling-origin backtest",
            "Scenario against baseline",
            "Gap to the published targets",
            "Where the foreign money comes from",
            "no-policy-change",
        ),
    )
    chem = (ci_batch.run_dir / "10-investment-flows--chemical-ci.html").read_text()
    assert "chemicals and pharmaceuticals as" in chem


def test_a_new_scenario_file_makes_a_new_report_without_code(tmp_path):
    scenario = tmp_path / "scenario-tariff-shock.yaml"
    scenario.write_text(
        "scenario:\n  name: tariff-shock-2027\n  description: test scenario\n"
        "  shocks:\n    - {sector: all, year: 2027, pct: -30}\n"
    )
    jobs = plan_batch(
        ["notebooks/10-investment-flows.ipynb"],
        [("params/base.yaml", "params/pharma.yaml")],
        extra_files=["params/ci.yaml", scenario],
    )
    result = run_batch(jobs, run_id="scen", reports_dir=tmp_path / "r", workers=1, progress=False)
    assert result.ok, result.records
    name = "10-investment-flows--pharma-ci-scenario-tariff-shock"
    html = (result.run_dir / f"{name}.html").read_text()
    assert "tariff-shock-2027" in html
    assert "0.7" in html  # the 2027 factor of a -30 % shock


def test_every_sector_gets_a_ranking_report(ci_batch):
    _assert_sections(
        ci_batch,
        "30-partner-ranking",
        ("The ranking and its uncertainty", "Sobol", "Partner profiles", "median_rank", "Drivers"),
    )


def test_a_weight_in_a_params_file_changes_the_ranking_report(ci_batch, tmp_path):
    heavy = tmp_path / "weights-presence.yaml"
    heavy.write_text("ranking_weights: {presence: 10, sector: 0.5}\n")
    jobs = plan_batch(
        ["notebooks/30-partner-ranking.ipynb"],
        [("params/base.yaml", "params/textile.yaml")],
        extra_files=["params/ci.yaml", heavy],
    )
    result = run_batch(jobs, run_id="w", reports_dir=tmp_path / "r", workers=1, progress=False)
    assert result.ok, result.records

    def top10(run_dir, name):
        nb = nbformat.read(run_dir / f"{name}.ipynb", as_version=4)
        cell = next(
            c
            for c in nb.cells
            if "NBVAL_CHECK_OUTPUT" in c.source and 'study.show("ranking")' in c.source
        )
        return cell.outputs[0]["data"]["text/plain"]  # the formatted ranking table

    # The same report without the weights file is the session batch's (same params files).
    default_name = "30-partner-ranking--textile-ci"
    assert list(ci_batch.records[default_name]["params_files"]) == [
        "params/base.yaml",
        "params/textile.yaml",
        "params/ci.yaml",
    ]
    changed = top10(result.run_dir, "30-partner-ranking--textile-ci-weights-presence")
    default = top10(ci_batch.run_dir, default_name)
    assert changed != default
    html = (result.run_dir / "30-partner-ranking--textile-ci-weights-presence.html").read_text()
    assert "presence" in html and "10" in html


def test_tests_sharing_the_session_batch_are_grouped_on_one_worker(ci_batch, request):
    """Under pytest-xdist (``make test``) every test using the session batch carries the
    ``ci_batch`` group in its node id, so the batch runs on one worker only. pytest 9 with
    pytest-xdist 3.8 silently dropped the group and ran the batch twice (7-9 minutes)."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None or not request.config.getvalue("loadgroup"):
        pytest.skip("not running under pytest-xdist --dist loadgroup")
    assert request.node.nodeid.endswith("@ci_batch"), request.node.nodeid
