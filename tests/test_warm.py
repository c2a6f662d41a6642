"""Warm kernels: what a spare imports, and how a used kernel ends (analysis.reports.warm)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import nbformat

from analysis.reports.warm import PREIMPORT, WarmKernels, preimports
from conftest import ROOT


def _notebook(path, *sources: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return str(path)


def test_a_batch_warms_what_its_notebooks_import(tmp_path):
    small = _notebook(
        tmp_path / "small.ipynb",
        "%matplotlib inline\nimport os, time\n!ls",
        "from pathlib import Path\nif True:\n    import json\ntry:\n    import csv\n"
        "except ImportError:\n    import io\n",
        "def f():\n    import numpy  # inside a function: imported only if called\n",
        "this is not python (\n",
    )
    assert preimports([small]) == ("csv", "io", "json", "os", "pathlib", "time")
    # A Mitra report imports `analysis`: its spares import the heavy libraries too, in order.
    for nb in ("00-data-audit", "30-partner-ranking"):
        assert preimports([ROOT / "notebooks" / f"{nb}.ipynb"])[: len(PREIMPORT)] == PREIMPORT
    assert preimports([tmp_path / "missing.ipynb"]) == ()
    # A small part of the package is warmed alone: no statsmodels in that spare.
    table = _notebook(tmp_path / "t.ipynb", "from analysis.present.tables import write_table")
    assert preimports([table]) == ("analysis.present.tables",)


def test_every_preimported_module_exists():
    # A renamed module would otherwise be skipped silently by the spare (its import is
    # wrapped in try) and the reports would pay for the import again.
    assert [m for m in PREIMPORT if importlib.util.find_spec(m) is None] == []


def test_a_released_kernel_exits_on_its_own_shutdown_request(tmp_path):
    # The kernel must receive the polite shutdown before its channels close; a lost request
    # made every release wait five seconds and then kill the kernel (exit code -9).
    pool = WarmKernels()
    try:
        kernel = pool.take("mitra", str(tmp_path), 120.0, {}, tmp_path / "k.log", modules=())
        process = kernel.process()
        pool.release(kernel)
        assert process.returncode == 0
    finally:
        pool.close()


def test_mitras_processes_skip_the_slow_optional_iri_checker():
    code = (
        "import sys\n"
        "from analysis.base.environment import skip_slow_optional_imports\n"
        "skip_slow_optional_imports()\n"
        "import jsonschema, nbformat, papermill\n"
        "assert sys.modules['rfc3987_syntax'] is None\n"
        "v = jsonschema.Draft7Validator({'type': 'string', 'format': 'date'},\n"
        "    format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)\n"
        "assert not v.is_valid('not a date')  # other format checks still work\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.stdout.strip() == "ok", out.stderr
