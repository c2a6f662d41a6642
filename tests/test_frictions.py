"""Small frictions a new user meets (issue 24): no escape codes or carriage-return progress
lines when output is not a terminal; `make lab` works for root."""

from __future__ import annotations

import io
import os
import stat
import subprocess

from analysis.reports.batch import _progress_bar
from conftest import ROOT


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _draw(stream: io.StringIO) -> str:
    bar = _progress_bar(3, "R", True, stream)
    for name in ("a", "b", "c"):
        bar.update(1)
        bar.write(f"  ok     {name}", file=stream)
    bar.close()
    return stream.getvalue()


def test_progress_bar_is_drawn_only_on_a_terminal():
    log = _draw(io.StringIO())
    assert "\r" not in log and "\x1b" not in log
    assert log.splitlines() == ["  ok     a", "  ok     b", "  ok     c"]
    # On a terminal the bar is drawn (with carriage returns): the check above can fail.
    assert "\r" in _draw(_Terminal()) and "3/3 reports" in _draw(_Terminal())


def test_progress_off_prints_no_bar_even_on_a_terminal():
    stream = _Terminal()
    bar = _progress_bar(3, "R", False, stream)
    bar.update(3)
    bar.close()
    assert stream.getvalue() == ""


def test_make_help_into_a_file_has_no_escape_codes():
    out = subprocess.run(
        ["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "\x1b" not in out and "test" in out


def _fresh_stamp(tmp_path):
    stamp = tmp_path / "stamp"
    stamp.touch()
    return stamp


def test_make_lab_passes_allow_root_only_to_root(tmp_path):
    # A stand-in `jupyter` that prints its arguments; the stamp is an existing file, so
    # nothing is installed.
    fake = tmp_path / "jupyter"
    fake.write_text('#!/bin/sh\necho "$@"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    out = subprocess.run(
        # A stamp newer than pyproject.toml and constraints.txt: make installs nothing.
        ["make", "-s", "lab", f"BIN={tmp_path}", f"STAMP={_fresh_stamp(tmp_path)}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.startswith("lab --notebook-dir=.")
    assert ("--allow-root" in out) == (os.getuid() == 0)
