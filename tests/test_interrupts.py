"""Ctrl-C and SIGTERM: the batch stops in seconds, leaves no process and no half report, and
``--only-failed`` completes it. Real ``mitra`` processes, real kernels.

Robust on a loaded machine: every wait polls a condition with a generous bound (never a fixed
sleep), and each test is bounded by those waits.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import nbformat
import psutil
import pytest

from conftest import ROOT

# Two reports: textile finishes at once; pharma says it started, then waits while a flag
# file exists (so the signal always lands while its kernel is busy).
SLOW = """\
# %% tags=["parameters"]
run_name: str = "adhoc"  # name of the run
sector: str = "textile"  # textile | chemical | pharma

# %%
import os, time
if sector == "pharma":
    open(os.environ["MITRA_TEST_STARTED"], "w").close()
    while os.path.exists(os.environ["MITRA_TEST_SLOW"]):
        time.sleep(0.1)
print("done", sector)
"""

# Runs the real CLI with reports written under a temporary folder.
LAUNCH = (
    "import sys; from pathlib import Path; import analysis.base.paths as p; "
    "p.REPORTS = Path(sys.argv[1]); from analysis.cli import main; sys.exit(main(sys.argv[2:]))"
)
# The same, saying when the imports are done and main() is about to plan the batch.
LAUNCH_READY = (
    "import os, sys; from pathlib import Path; import analysis.base.paths as p; "
    "p.REPORTS = Path(sys.argv[1]); from analysis.cli import main; "
    "open(os.environ['MITRA_TEST_READY'], 'w').close(); sys.exit(main(sys.argv[2:]))"
)
WAIT_S = 240  # kernel start on a loaded 2-core machine can take a while


def _wait_for(condition, timeout: float, what: str, proc=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the process ended (code {proc.returncode}) before {what}")
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _tagged(token: str) -> list[psutil.Process]:
    """Living (not zombie) processes whose environment carries ``token``."""
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if proc.environ().get("MITRA_TEST_TOKEN") == token:
                found.append(proc)
        except psutil.Error:
            continue
    return found


@pytest.fixture
def slow_batch(tmp_path):
    import jupytext

    nb = jupytext.reads(SLOW, fmt="py:percent")
    nb.metadata["kernelspec"] = {
        "name": "mitra",
        "display_name": "Python (mitra)",
        "language": "python",
    }
    notebook = tmp_path / "slow.ipynb"
    nbformat.write(nb, notebook)
    flag = tmp_path / "keep-waiting"
    flag.touch()
    token = uuid.uuid4().hex
    env = {
        **os.environ,
        "MITRA_TEST_TOKEN": token,
        "MITRA_TEST_SLOW": str(flag),
        "MITRA_TEST_STARTED": str(tmp_path / "pharma-started"),
    }
    reports = tmp_path / "reports"
    argv = [
        sys.executable,
        "-c",
        LAUNCH,
        str(reports),
        "batch",
        "--notebook",
        str(notebook),
        "--set",
        "textile",
        "--set",
        "pharma",
        "--workers",
        "2",
        "--run-id",
        "R",
        "--no-progress",
    ]

    def start() -> subprocess.Popen:
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group, like a job in a terminal
        )
        run = reports / "R"
        try:
            _wait_for(
                lambda: (
                    (run / "slow--textile.html").is_file()
                    and (tmp_path / "pharma-started").is_file()
                ),
                WAIT_S,
                "the textile report to finish and the pharma kernel to start",
                proc,
            )
        except AssertionError:
            proc.kill()
            out, err = proc.communicate(timeout=30)
            raise AssertionError(f"batch did not get going: {out}\n{err}") from None
        return proc

    yield {
        "start": start,
        "flag": flag,
        "token": token,
        "run": reports / "R",
        "argv": argv,
        "env": env,
    }
    for proc in _tagged(token):  # never leave anything behind, even when a test fails
        proc.kill()


def _check_stopped(batch, proc: subprocess.Popen, t_signal: float) -> tuple[str, float]:
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    elapsed = time.monotonic() - t_signal
    assert "Traceback" not in err, err
    survivors = _tagged(batch["token"])
    assert not survivors, f"processes outlived mitra: {[p.cmdline() for p in survivors]}"
    run = batch["run"]
    manifest = json.loads((run / "manifest.json").read_text())
    reports = manifest["reports"]
    assert reports["slow--textile"]["status"] == "ok"
    assert reports["slow--pharma"]["status"] == "interrupted"
    assert manifest["interrupted"]["signal"] in ("SIGINT", "SIGTERM")
    # No half-written report: no pharma output at all, no temporary files.
    assert not list(run.glob("slow--pharma*"))
    assert not [p.name for p in run.rglob(".*") if p.name != ".lock"]
    return err, elapsed


def _resume(batch) -> None:
    run = batch["run"]
    textile = (run / "slow--textile.ipynb").stat().st_mtime_ns
    batch["flag"].unlink()
    argv = [*batch["argv"][:4], "batch", "--run-id", "R", "--only-failed", "--no-progress"]
    done = subprocess.run(
        argv, cwd=ROOT, env=batch["env"], capture_output=True, text=True, timeout=WAIT_S
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads((run / "manifest.json").read_text())
    assert {n: r["status"] for n, r in manifest["reports"].items()} == {
        "slow--textile": "ok",
        "slow--pharma": "ok",
    }
    assert manifest["interrupted"] is None
    assert (run / "slow--textile.ipynb").stat().st_mtime_ns == textile  # not rerun
    assert "done pharma" in (run / "slow--pharma.ipynb").read_text()


def test_ctrl_c_stops_everything_marks_interrupted_and_only_failed_completes(slow_batch):
    proc = slow_batch["start"]()
    t0 = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
    err, elapsed = _check_stopped(slow_batch, proc, t0)
    assert proc.returncode == 130
    assert "SIGINT received" in err and "--only-failed" in err
    print(f"stopped {elapsed:.1f} s after SIGINT")
    _resume(slow_batch)


def test_sigterm_to_mitra_alone_stops_workers_and_kernels_too(slow_batch):
    proc = slow_batch["start"]()
    t0 = time.monotonic()
    os.kill(proc.pid, signal.SIGTERM)  # only mitra: the workers and kernels are its job
    _, elapsed = _check_stopped(slow_batch, proc, t0)
    assert proc.returncode == 143
    print(f"stopped {elapsed:.1f} s after SIGTERM")
    _resume(slow_batch)


def test_second_ctrl_c_forces_a_fast_exit_without_half_written_reports(slow_batch):
    proc = slow_batch["start"]()
    t0 = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    _wait_for(lambda: "SIGINT received" in _peek(proc), 30, "the first signal to register")
    t1 = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    _, elapsed = _check_stopped(slow_batch, proc, t1)
    assert proc.returncode == 130
    print(f"forced exit {elapsed:.1f} s after the second SIGINT ({t1 - t0:.1f} s after the first)")
    _resume(slow_batch)


def _peek(proc: subprocess.Popen) -> str:
    """Whatever the process wrote to stderr so far, without blocking."""
    import select

    buf = getattr(proc, "_peeked", "")
    while select.select([proc.stderr], [], [], 0)[0]:
        chunk = os.read(proc.stderr.fileno(), 4096).decode(errors="replace")
        if not chunk:
            break
        buf += chunk
    proc._peeked = buf  # type: ignore[attr-defined]
    return buf


def test_concurrent_batch_on_the_same_run_id_is_refused(slow_batch, tmp_path):
    proc = slow_batch["start"]()
    try:
        argv = [*slow_batch["argv"][:4], "batch", "--run-id", "R", "--only-failed"]
        second = subprocess.run(
            argv, cwd=ROOT, env=slow_batch["env"], capture_output=True, text=True, timeout=120
        )
        assert second.returncode == 2
        assert "being written by another mitra batch" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        slow_batch["flag"].unlink()
        proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0
    manifest = json.loads((slow_batch["run"] / "manifest.json").read_text())
    assert set(manifest["reports"]) == {"slow--textile", "slow--pharma"}


# --- a signal at each phase of a batch: planning, execution with reports queued, export ------
# (issue 24: SIGTERM with reports still queued printed "Exception in thread ... InvalidStateError:
# CANCELLED" from concurrent.futures before the clean lines).

# Every report but textile says it started and waits while the flag exists; pharma then prints
# a large output, so exporting its HTML takes a moment.
PHASES = """\
# %% tags=["parameters"]
run_name: str = "adhoc"  # name of the run
sector: str = "textile"  # textile | chemical | pharma

# %%
import os, time
if sector != "textile":
    open(os.environ["MITRA_TEST_STARTED"], "w").close()
    while os.path.exists(os.environ["MITRA_TEST_SLOW"]):
        time.sleep(0.1)
if sector == "pharma":
    for i in range(60_000):
        print(f"line {i:06d} of a long output " + "x" * 60)
print("done", sector)
"""

_HOW = {
    "sigterm-main": (signal.SIGTERM, False, 143),
    "sigint-group": (signal.SIGINT, True, 130),
}


@pytest.fixture
def phase_batch(tmp_path):
    import jupytext

    nb = jupytext.reads(PHASES, fmt="py:percent")
    nb.metadata["kernelspec"] = {
        "name": "mitra",
        "display_name": "Python (mitra)",
        "language": "python",
    }
    notebook = tmp_path / "phases.ipynb"
    nbformat.write(nb, notebook)
    flag = tmp_path / "keep-waiting"
    flag.touch()
    token = uuid.uuid4().hex
    env = {
        **os.environ,
        "MITRA_TEST_TOKEN": token,
        "MITRA_TEST_SLOW": str(flag),
        "MITRA_TEST_STARTED": str(tmp_path / "started"),
        "MITRA_TEST_READY": str(tmp_path / "ready"),
    }
    reports = tmp_path / "reports"

    def start(*sets: str, workers: int = 1, notebook_arg: bool = True) -> subprocess.Popen:
        argv = [sys.executable, "-c", LAUNCH_READY, str(reports), "batch", "--run-id", "R"]
        if notebook_arg:
            argv += ["--notebook", str(notebook)]
        for s in sets:
            argv += ["--set", s]
        argv += ["--workers", str(workers), "--no-progress"]
        return subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    yield {"start": start, "flag": flag, "token": token, "run": reports / "R", "tmp": tmp_path}
    for proc in _tagged(token):
        proc.kill()


def _send(proc: subprocess.Popen, how: str) -> int:
    sig, group, code = _HOW[how]
    if group:
        os.killpg(proc.pid, sig)
    else:
        os.kill(proc.pid, sig)
    return code


def _finish(batch, proc: subprocess.Popen) -> str:
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert "Traceback" not in err and "Exception in thread" not in err, err
    survivors = _tagged(batch["token"])
    assert not survivors, f"processes outlived mitra: {[p.cmdline() for p in survivors]}"
    return err


@pytest.mark.parametrize("how", sorted(_HOW))
def test_signal_while_planning_is_one_line(phase_batch, how):
    # The default notebooks for every sector: planning reads their parameters, validates
    # every params file and hashes the raw data before any kernel starts.
    proc = phase_batch["start"]("textile", "chemical", "pharma", notebook_arg=False)
    # Imports done, main() about to plan: the signal lands while the batch is planned.
    _wait_for(lambda: (phase_batch["tmp"] / "ready").is_file(), 120, "mitra to start", proc)
    code = _send(proc, how)
    err = _finish(phase_batch, proc)
    assert proc.returncode == code, err
    assert len(err.strip().splitlines()) <= 3, err


@pytest.mark.parametrize("how", sorted(_HOW))
def test_signal_with_reports_queued_prints_no_traceback(phase_batch, how):
    # One worker, five reports: chemical runs (and waits); pharma and the scenario set sit in
    # the pool's call queue (started, for concurrent.futures) and ci and textile in its
    # pending queue (cancellable) when the signal comes. One kernel start keeps it quick.
    proc = phase_batch["start"](
        "chemical", "pharma", "scenario-textile-incentive", "ci", "textile", workers=1
    )
    run = phase_batch["run"]
    _wait_for(
        lambda: (phase_batch["tmp"] / "started").is_file(), WAIT_S, "chemical to start", proc
    )
    code = _send(proc, how)
    err = _finish(phase_batch, proc)
    assert proc.returncode == code, err
    reports = json.loads((run / "manifest.json").read_text())["reports"]
    assert len(reports) == 5
    assert {r["status"] for r in reports.values()} == {"interrupted"}, reports
    assert not list(run.glob("phases--*"))


@pytest.mark.parametrize("how", sorted(_HOW))
def test_signal_while_exporting_prints_no_traceback(phase_batch, how):
    proc = phase_batch["start"]("pharma", workers=1)
    run, token = phase_batch["run"], phase_batch["token"]
    _wait_for(lambda: (phase_batch["tmp"] / "started").is_file(), WAIT_S, "pharma to start", proc)
    phase_batch["flag"].unlink()

    def exporting() -> bool:
        # The kernel has gone and the HTML is not there yet: the worker is exporting.
        kernels = [p for p in _tagged(token) if "ipykernel" in " ".join(p.cmdline())]
        return not kernels and not (run / "phases--pharma.html").exists()

    _wait_for(exporting, WAIT_S, "the pharma kernel to finish", proc)
    code = _send(proc, how)
    err = _finish(phase_batch, proc)
    reports = json.loads((run / "manifest.json").read_text())["reports"]
    status = reports["phases--pharma"]["status"]
    # The signal lands during the export (interrupted: no pharma output at all), or just after
    # it (ok, complete outputs); never a half-written report.
    if status == "interrupted":
        assert proc.returncode == code, err
        assert not list(run.glob("phases--pharma*"))
    else:
        assert status == "ok" and (run / "phases--pharma.html").is_file()
    assert not [p.name for p in run.rglob(".*") if p.name != ".lock"]
