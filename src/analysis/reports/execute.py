"""Executing one report: papermill in a kernel, retries of start-up failures, export.

:func:`execute_job` runs one notebook into ``reports/<run-id>/<name>.ipynb`` and its HTML,
stages its CSV tables, and returns the report's manifest record; it never raises for a
failing notebook (the failed notebook is kept beside, never over, the last good one).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import time
import traceback
from collections.abc import Mapping
from pathlib import Path

from analysis.base.io import atomic_write

__all__ = ["execute_job"]

_STARTUP_PATTERNS = (
    "address already in use",
    "kernel didn't respond",
    "kernel died before replying",
    "timeout waiting for kernel_info reply",
    "kernel failed to start",
)


def _cells_started(nb_path: Path) -> bool:
    """True when papermill recorded any code cell as running or completed."""
    import nbformat

    if not nb_path.is_file():
        return False
    try:
        nb = nbformat.read(nb_path, as_version=4)
    except Exception:
        return False
    for cell in nb.cells:
        status = cell.get("metadata", {}).get("papermill", {}).get("status")
        if cell.cell_type == "code" and status in ("running", "completed", "failed"):
            return True
    return False


def _classify(exc: BaseException, nb_path: Path) -> str:
    """Name a failure: notebook_error, startup_failed, kernel_died or timeout."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return "notebook_error"
    text = f"{type(exc).__name__}: {exc}".lower()
    started = _cells_started(nb_path)
    if not started and (
        any(p in text for p in _STARTUP_PATTERNS)
        or type(exc).__name__ in ("DeadKernelError", "ZMQError", "TimeoutError")
    ):
        return "startup_failed"
    if type(exc).__name__ == "DeadKernelError":
        return "kernel_died"
    if "timeout" in text or type(exc).__name__ == "CellTimeoutError":
        return "timeout"
    return "internal"


def _stabilise_ids(nb_path: Path, job: Mapping[str, object] | None = None) -> None:
    """Give papermill's injected-parameters cell a fixed id (papermill draws a random one).

    Without this, the same batch run twice yields different notebooks and HTML. ``job``
    (name, notebook, params files) is recorded as ``metadata.mitra``, so a lost manifest
    can be rebuilt from the notebooks (:func:`analysis.reports.manifest.rebuild_records`).
    """
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    changed = False
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = "injected-parameters"
            changed = True
    if job is not None:
        nb.metadata["mitra"] = dict(job)
        changed = True
    if changed:
        atomic_write(nb_path, nbformat.writes(nb))


#: Reports also printed to PDF by the batch (handed over on paper).
PRINTED: frozenset[str] = frozenset({"40-partner-brief"})


def _export_pdf(html_path: Path, pdf_path: Path) -> str:
    """Print a report to PDF; ``ok``, or why no PDF was written (the report stays ok)."""
    from analysis.reports.pdf import print_pdf

    try:
        print_pdf(html_path, pdf_path)
    except FileNotFoundError as exc:
        return str(exc)
    except Exception as exc:  # a failed print does not fail the report: the HTML stands
        return f"no PDF: {_short(exc)}"
    return "ok"


def _export_html(nb_path: Path, html_path: Path) -> None:
    """Write the report as self-contained HTML (:func:`analysis.reports.export.notebook_html`)."""
    import nbformat

    from analysis.reports.export import notebook_html

    nb = nbformat.read(nb_path, as_version=4)
    atomic_write(html_path, notebook_html(nb, fallback_title=nb_path.stem))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@contextlib.contextmanager
def _tables_env(folder: Path):
    """Point kernels started in this block at ``folder`` for their CSV tables.

    Also pins the kernels' matplotlib backend to the inline one: a ``MPLBACKEND=Agg`` in the
    caller's environment (common on servers and in test runs) would otherwise reach the
    kernels and leave every report without its charts.
    """
    from analysis.present.tables import TABLES_ENV
    from analysis.reports.warm import INLINE_BACKEND

    wanted = {TABLES_ENV: str(folder), "MPLBACKEND": INLINE_BACKEND}
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _publish_tables(staging: Path, final: Path) -> list[str]:
    """Swap a report's freshly written tables into place; return their names."""
    import shutil

    if not staging.is_dir():
        return []
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.replace(final, old)
        os.replace(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, final)
    return sorted(p.name for p in final.glob("*.csv"))


@contextlib.contextmanager
def _kernel_stderr_to(log: Path, enabled: bool):
    """Send this process's stderr (which kernels inherit) to ``log`` while a report runs.

    Only in Mitra's own worker processes: kernels print start-up chatter (e.g. ipykernel's
    TCP notice) that would otherwise flood the console; the log keeps it for debugging.
    """
    if not enabled:
        yield
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with log.open("ab") as handle:
        os.dup2(handle.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def execute_job(spec: Mapping[str, object]) -> dict[str, object]:
    """Run one report; return its manifest record. Never raises for notebook failures.

    ``spec`` keys: name, notebook, params_files, parameters, run_dir, kernel_name,
    start_timeout, execution_timeout, retries, root; optional: overrides, own_process (a
    Mitra worker process: kernel stderr to ``logs/``), warm (with own_process: take a warm
    kernel, :mod:`analysis.reports.warm`), preimport (the modules a spare imports: the batch's
    :func:`~analysis.reports.warm.preimports`) and warm_next (start warming the next one;
    default true, false for a worker's last report).
    """
    import papermill as pm

    from analysis.present.tables import TABLES_ENV

    name = str(spec["name"])
    run_dir = Path(str(spec["run_dir"]))
    notebook = Path(str(spec["notebook"]))
    if not notebook.is_absolute():
        notebook = Path(str(spec["root"])) / notebook
    tmp = run_dir / f".{name}.running-{os.getpid()}.ipynb"
    # Tables are written to a staging folder and swapped in only when the report succeeds,
    # so a failed rerun never leaves a mix of old and new tables.
    tables_staging = run_dir / "tables" / f".{name}.running-{os.getpid()}"
    record: dict[str, object] = {
        "name": name,
        "notebook": spec["notebook"],
        "params_files": list(spec["params_files"]),  # type: ignore[call-overload]
        "overrides": dict(spec.get("overrides") or {}),  # type: ignore[call-overload]
        "parameters": spec["parameters"],
        "started_at": _now(),
        "attempts": [],
    }
    t0 = time.perf_counter()
    retries = int(spec.get("retries", 2))  # type: ignore[call-overload]
    error: dict[str, object] | None = None
    # Local workers use warm kernels (analysis.reports.warm): a spare started, with the heavy
    # imports done, while the previous report ran. Still one fresh kernel per report.
    warm = bool(spec.get("warm")) and bool(spec.get("own_process"))
    preimport = tuple(spec.get("preimport") or ())  # type: ignore[call-overload]
    log = run_dir / "logs" / f"{name}.kernel.log"
    for attempt in range(1, retries + 2):
        a0 = time.perf_counter()
        kernel = None
        try:
            with (
                _kernel_stderr_to(log, bool(spec.get("own_process"))),
                _tables_env(tables_staging),
            ):
                engine_kwargs: dict[str, object] = {}
                if warm:
                    from analysis.reports.warm import warm_pool

                    pool = warm_pool()
                    kernel = pool.take(
                        str(spec["kernel_name"]),
                        str(notebook.parent),
                        float(spec["start_timeout"]),  # type: ignore[arg-type]
                        {TABLES_ENV: str(tables_staging)},
                        log,
                        preimport,
                    )
                    engine_kwargs["km"] = kernel.km
                    if spec.get("warm_next", True):
                        # The next report's kernel starts and imports while this one runs.
                        pool.prepare(
                            str(spec["kernel_name"]),
                            str(notebook.parent),
                            float(spec["start_timeout"]),  # type: ignore[arg-type]
                            preimport,
                        )
                pm.execute_notebook(
                    str(notebook),
                    str(tmp),
                    parameters=dict(spec["parameters"]),  # type: ignore[call-overload]
                    kernel_name=str(spec["kernel_name"]),
                    progress_bar=False,
                    cwd=str(notebook.parent),
                    start_timeout=int(spec["start_timeout"]),  # type: ignore[call-overload]
                    execution_timeout=spec.get("execution_timeout"),
                    **engine_kwargs,
                )
            error = None
            record["attempts"].append(
                {
                    "attempt": attempt,
                    "outcome": "ok",  # type: ignore[union-attr]
                    "seconds": round(time.perf_counter() - a0, 3),
                }
            )
            break
        except Exception as exc:
            kind = _classify(exc, tmp)
            error = {
                "kind": kind,
                "type": type(exc).__name__,
                "message": _short(exc),
                "attempt": attempt,
            }
            cell = getattr(exc, "cell_index", None)
            if cell is not None:
                error["cell_index"] = cell
            record["attempts"].append(
                {
                    "attempt": attempt,
                    "outcome": kind,  # type: ignore[union-attr]
                    "error": error["message"],
                    "seconds": round(time.perf_counter() - a0, 3),
                }
            )
            if kind == "startup_failed" and attempt <= retries:
                with contextlib.suppress(OSError):
                    tmp.unlink()
                time.sleep(min(2.0 * attempt, 5.0))
                continue
            break
        finally:
            if kernel is not None:
                # Gone before the export (which overlaps with the next spare's warming).
                warm_pool().release(kernel)
    outputs: dict[str, str] = {}
    job_meta = {
        "name": name,
        "notebook": spec["notebook"],
        "params_files": list(spec["params_files"]),  # type: ignore[call-overload]
        "overrides": dict(spec.get("overrides") or {}),  # type: ignore[call-overload]
    }
    if error is None:
        final = run_dir / f"{name}.ipynb"
        html_tmp = run_dir / f".{name}.html.tmp-{os.getpid()}"
        try:
            _stabilise_ids(tmp, job_meta)
            _export_html(tmp, html_tmp)
            os.replace(tmp, final)
            os.replace(html_tmp, run_dir / f"{name}.html")
        except Exception as exc:
            error = {"kind": "export_failed", "type": type(exc).__name__, "message": _short(exc)}
            for p in (tmp, html_tmp):
                with contextlib.suppress(OSError):
                    p.unlink()
        else:
            outputs = {"ipynb": final.name, "html": f"{name}.html"}
            if Path(str(spec["notebook"])).stem in PRINTED:
                record["pdf"] = _export_pdf(run_dir / f"{name}.html", run_dir / f"{name}.pdf")
                if record["pdf"] == "ok":
                    outputs["pdf"] = f"{name}.pdf"
            tables = _publish_tables(tables_staging, run_dir / "tables" / name)
            if tables:
                record["tables"] = [f"tables/{name}/{t}" for t in tables]
            for stale in (f"{name}.failed.ipynb", f"{name}.failed.html"):
                with contextlib.suppress(OSError):
                    (run_dir / stale).unlink()
    if tables_staging.exists():
        import shutil

        shutil.rmtree(tables_staging, ignore_errors=True)
    if error is not None and tmp.is_file():
        # Keep the executed notebook with its error, beside (never over) the last good one.
        failed = run_dir / f"{name}.failed.ipynb"
        with contextlib.suppress(Exception):
            _stabilise_ids(tmp, job_meta)
        os.replace(tmp, failed)
        outputs = {"failed_ipynb": failed.name}
        with contextlib.suppress(Exception):
            _export_html(failed, run_dir / f"{name}.failed.html")
            outputs["failed_html"] = f"{name}.failed.html"
    if spec.get("own_process") and (run_dir / "logs" / f"{name}.kernel.log").is_file():
        outputs["kernel_log"] = f"logs/{name}.kernel.log"
    record["status"] = "ok" if error is None else "failed"
    record["error"] = error
    record["outputs"] = outputs
    record["finished_at"] = _now()
    record["duration_s"] = round(time.perf_counter() - t0, 3)
    return record


def _short(exc: BaseException, limit: int = 600) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        text = f"{exc.ename}: {exc.evalue}"
    else:
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- the batch -----------------------------------------------------------------------------
