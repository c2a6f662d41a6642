"""Keep committed notebooks reviewable: paired scripts, stable outputs only.

A committed notebook holds outputs only in cells marked ``# NBVAL_CHECK_OUTPUT`` (the key
results ``pytest --nbval-lax`` compares); every other output, execution count and
papermill's timing metadata is removed, so diffs show content, not noise.

``python -m analysis.notebooks notebooks/00-data-audit.py`` (or ``make notebooks``) syncs the
``.ipynb`` from its ``py:percent`` script, executes it with its default parameters and keeps
the stable outputs.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path

import nbformat

from analysis.base.io import atomic_write

__all__ = ["CHECK_MARK", "refresh_notebook", "strip_volatile"]

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def strip_volatile(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop every output except those of ``NBVAL_CHECK_OUTPUT`` cells, run and widget metadata."""
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)  # ipywidgets state: random model ids, never stable
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        if CHECK_MARK not in cell.source:
            # nbval treats a cell with a count as "run": checked cells keep theirs.
            cell.execution_count = None
            cell.outputs = []
    return nb


def refresh_notebook(script: str | Path, kernel_name: str = "mitra") -> Path:
    """Sync ``<name>.ipynb`` from its py:percent script, execute it, keep stable outputs."""
    import jupytext
    import papermill as pm

    script = Path(script)
    target = script.with_suffix(".ipynb")
    nb = jupytext.read(script)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / target.name
        out = Path(tmp) / f"executed-{target.name}"
        jupytext.write(nb, src)
        pm.execute_notebook(
            str(src), str(out), kernel_name=kernel_name, progress_bar=False, cwd=str(script.parent)
        )
        executed = nbformat.read(out, as_version=4)
    # Ids from position and source, so a refresh of an unchanged notebook changes nothing
    # (jupytext draws random ids).
    for i, cell in enumerate(executed.cells):
        cell["id"] = hashlib.sha1(f"{i}:{cell.source}".encode()).hexdigest()[:8]
    atomic_write(target, nbformat.writes(strip_volatile(executed)) + "\n")
    return target


if __name__ == "__main__":  # pragma: no cover
    for arg in sys.argv[1:] or [str(p) for p in Path("notebooks").glob("*.py")]:
        print(refresh_notebook(arg))
