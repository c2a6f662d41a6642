"""Pre-flight: data hashes, provenance and free disk space are checked before any kernel."""

from __future__ import annotations

import os
import shutil
import time
from collections import namedtuple

import pytest

import analysis.reports.batch as pipeline
from analysis.base import paths
from analysis.base.errors import ProvenanceError
from analysis.reports import PipelineError, plan_batch, run_batch

JOBS = [("notebooks/00-data-audit.ipynb",), [("params/base.yaml", "params/textile.yaml")]]


@pytest.fixture
def no_kernels(monkeypatch):
    """Fail the test if anything tries to start a kernel."""

    def refuse(*args, **kwargs):
        raise AssertionError("a kernel was about to start")

    monkeypatch.setattr(pipeline, "_check_kernel", refuse)
    monkeypatch.setattr(pipeline, "_execute", refuse)


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    root = tmp_path / "data"
    shutil.copytree(paths.DATA, root)
    for dirpath, _dirs, files in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in files:
            os.chmod(os.path.join(dirpath, name), 0o644)
    monkeypatch.setattr(paths, "DATA", root)
    monkeypatch.setattr(paths, "PROVENANCE", root / "provenance.csv")
    return root


def test_tampered_raw_file_stops_the_batch_before_any_kernel(tmp_path, data_copy, no_kernels):
    raw = data_copy / "raw" / "bkpm" / "investment_by_year.csv"
    raw.write_text(raw.read_text().replace("396.6", "396.7", 1))
    jobs = plan_batch(*JOBS)
    with pytest.raises(ProvenanceError, match=r"investment_by_year\.csv: sha256"):
        run_batch(jobs, run_id="t", reports_dir=tmp_path / "r", progress=False)
    assert not (tmp_path / "r" / "t").exists()


def test_binary_provenance_table_is_a_named_error(tmp_path, data_copy, no_kernels, capsys):
    (data_copy / "provenance.csv").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x00" * 20)
    jobs = plan_batch(*JOBS)
    with pytest.raises(ProvenanceError, match=r"provenance\.csv: not UTF-8"):
        run_batch(jobs, run_id="t", reports_dir=tmp_path / "r", progress=False)


def test_too_little_disk_space_is_refused_before_any_kernel(tmp_path, monkeypatch, no_kernels):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**9, 10**9 - 2**20, 2**20))
    jobs = plan_batch(*JOBS)
    with pytest.raises(PipelineError, match=r"only 1 MiB free.*needs at least 60 MiB"):
        run_batch(jobs, run_id="t", reports_dir=tmp_path / "r", progress=False)
    assert not (tmp_path / "r" / "t").exists()


def test_unwritable_reports_folder_is_one_line_through_the_cli(tmp_path, monkeypatch, capsys):
    from analysis.cli import main

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(paths, "REPORTS", blocker / "reports")
    rc = main(["batch", "--set", "textile", "--run-id", "x", "--no-progress"])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(blocker) in err and "Traceback" not in err


def test_ctrl_c_before_any_kernel_is_one_line_exit_130(monkeypatch, capsys):
    import analysis.cli as cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_batch", interrupted)  # _parser() binds it on each main()
    assert cli.main(["batch", "--set", "textile"]) == 130
    assert capsys.readouterr().err == "mitra: interrupted\n"


def test_unexpected_errors_are_one_line_unless_debugging(monkeypatch, capsys):
    import analysis.cli as cli

    def broken(args):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(cli, "_batch", broken)
    monkeypatch.delenv("MITRA_DEBUG", raising=False)
    assert cli.main(["batch"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: ZeroDivisionError: boom" in err
    monkeypatch.setenv("MITRA_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        cli.main(["batch"])


def test_first_signal_sets_the_stop_event_the_second_forces():
    import signal

    from analysis.reports.interrupts import StopSignals, exit_code

    seen: list[str] = []
    forced: list[str] = []
    with StopSignals(seen.append, forced.append) as stops:
        os.kill(os.getpid(), signal.SIGINT)
        assert stops.event.wait(5) and stops.signal_name == "SIGINT" and seen == ["SIGINT"]
        os.kill(os.getpid(), signal.SIGTERM)
        deadline = time.monotonic() + 5
        while not forced and time.monotonic() < deadline:
            time.sleep(0.01)
        assert forced == ["SIGTERM"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    assert exit_code("SIGINT") == 130 and exit_code("SIGTERM") == 143
