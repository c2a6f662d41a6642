"""Report batches: notebooks x params sets through papermill, in parallel, with manifests.

Each job runs one notebook with one layered params set into
``reports/<run-id>/<name>.ipynb`` and an HTML export without code cells
(``<name>.html``). ``reports/<run-id>/manifest.json`` records, per report, the parameters,
params files, status, error, attempts and timings, and for the run the data hashes, package
versions and git commit; ``reports/<run-id>/index.html`` links every report with its status.

Failure handling (the problems papermill users keep hitting, solved once):

- Parameters are validated for every job before any kernel starts (:mod:`analysis.config`),
  and so are the run id and report names (one rule, :func:`analysis.paths.safe_name`;
  resolved paths must stay under ``reports/``), the raw data's hashes and provenance, and
  the free disk space (:func:`preflight`).
- One batch at a time writes a run (:class:`analysis.manifest.RunLock`); a second on the
  same run id is refused. A damaged manifest is a clear error naming the file;
  ``rebuild_manifest=True`` recovers it from the executed notebooks.
- The manifest is written before the first kernel starts and after every report, unfinished
  reports marked ``pending``. SIGINT/SIGTERM stop the batch within seconds, stop every worker
  and kernel (:mod:`analysis.interrupts`) and mark unfinished reports ``interrupted``.
- Start-up failures (ZMQ port in use, kernel not answering in time, kernel dead before the
  first cell) are retried up to ``retries`` times; errors raised by the notebook's own code
  are not retried.
- One failing report never stops the others. Its executed notebook, with the error, is kept
  as ``<name>.failed.ipynb`` (and ``.failed.html``) and marked failed in the manifest and
  index; the last good ``<name>.ipynb``/``.html`` is never overwritten by a failure.
  Every file is written through a temporary sibling and ``os.replace``.
- ``only_failed=True`` reruns just the reports of an existing run that are not ok (failed,
  interrupted or pending).

Jobs run in local processes by default, or on a dask.distributed cluster through its
``concurrent.futures``-compatible executor (``scheduler="tcp://..."`` or a ``Client``).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as dt
import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from analysis import paths
from analysis.config import (
    ParamsError,
    load_params,
    notebook_parameters,
    read_params_file,
    resolve_params_file,
)
from analysis.errors import MitraError
from analysis.manifest import DONE, ManifestError, RunLock, read_manifest, rebuild_records
from analysis.reports import atomic_write, environment_record, write_json

__all__ = [
    "DEFAULT_NOTEBOOKS",
    "DEFAULT_SETS",
    "BatchResult",
    "Job",
    "PipelineError",
    "plan_batch",
    "plan_briefs",
    "run_batch",
]

#: Notebooks of the default batch (``make reports``), run for every sector set.
DEFAULT_NOTEBOOKS: tuple[str, ...] = (
    "notebooks/00-data-audit.ipynb",
    "notebooks/10-investment-flows.ipynb",
    "notebooks/20-gravity.ipynb",
    "notebooks/30-partner-ranking.ipynb",
)
#: Params sets of the default batch: base then one sector file.
DEFAULT_SETS: tuple[tuple[str, ...], ...] = (
    ("params/base.yaml", "params/textile.yaml"),
    ("params/base.yaml", "params/chemical.yaml"),
    ("params/base.yaml", "params/pharma.yaml"),
)
#: The partner-brief notebook; the default batch adds briefs (see :func:`plan_briefs`).
BRIEF_NOTEBOOK = "notebooks/40-partner-brief.ipynb"
#: Partners briefed for a sector whatever their rank (e.g. ahead of a German delegation).
BRIEF_PARTNERS: dict[str, tuple[str, ...]] = {"chemical": ("DEU",), "pharma": ("DEU",)}
#: The default batch also briefs the sector's top-ranked partners, in every language.
BRIEF_TOP = 3
BRIEF_LANGUAGES: tuple[str, ...] = ("en", "id")
KERNEL_NAME = "mitra"


class PipelineError(MitraError):
    """A batch could not be planned or started (bad run id, missing kernel, ...)."""


@dataclass(frozen=True)
class Job:
    """One report: a notebook run with a layered params set."""

    notebook: str
    params_files: tuple[str, ...]
    name: str
    overrides: Mapping[str, object] = field(default_factory=dict)


def _rel(path: str | Path) -> str:
    p = Path(path).resolve()
    try:
        return p.relative_to(paths.ROOT).as_posix()
    except ValueError:
        return str(p)


def _set_label(files: Sequence[str]) -> str:
    stems = [Path(f).stem for f in files if Path(f).stem != "base"]
    return "-".join(stems) or "base"


def plan_briefs(
    sets: Iterable[Sequence[str | Path]] | None = None,
    *,
    extra_files: Sequence[str | Path] = (),
    top: int = BRIEF_TOP,
    languages: Sequence[str] = BRIEF_LANGUAGES,
) -> list[Job]:
    """Partner briefs for each set's sector: its ``top`` ranked partners plus
    :data:`BRIEF_PARTNERS`, in every language.

    The ranking is the one report 30 shows for that params set (nominal rank). Names are
    ``40-partner-brief--<set label>-<partner>-<language>``, e.g.
    ``40-partner-brief--chemical-deu-id``.
    """
    from analysis.studies.brief import top_partners

    nb = paths.ROOT / BRIEF_NOTEBOOK
    if not nb.is_file():
        raise PipelineError(f"{nb}: notebook not found")
    jobs = []
    for files in [tuple(s) for s in (sets or DEFAULT_SETS)]:
        layered = tuple(_rel(resolve_params_file(f)) for f in (*files, *extra_files))
        sector = str(load_params(*[_abs(f) for f in layered]).sector)
        chosen = top_partners(sector, top, tuple(str(_abs(f)) for f in layered))
        partners = list(dict.fromkeys([*chosen, *BRIEF_PARTNERS.get(sector, ())]))
        label = _set_label([*files, *extra_files])
        for partner in partners:
            for language in languages:
                jobs.append(
                    Job(
                        _rel(nb),
                        layered,
                        f"{nb.stem}--{label}-{partner.lower()}-{language}",
                        overrides={"partner": partner, "language": language},
                    )
                )
    return jobs


def plan_batch(
    notebooks: Iterable[str | Path] | None = None,
    sets: Iterable[Sequence[str | Path]] | None = None,
    *,
    extra_files: Sequence[str | Path] = (),
    briefs: bool | None = None,
) -> list[Job]:
    """Return the jobs of notebooks x params sets (``extra_files`` layered last on each).

    Names are ``<notebook stem>--<set label>``: the stems of the set's and the extra files
    except ``base`` (e.g. ``00-data-audit--textile``, ``10-investment-flows--textile-ci``).
    ``briefs`` adds the partner briefs of :func:`plan_briefs`; by default they are part of
    the default batch (no notebooks and no sets given) only.
    """
    if briefs is None:
        briefs = notebooks is None and sets is None
    nbs = [Path(n) for n in (notebooks or DEFAULT_NOTEBOOKS)]
    nbs = [n if n.is_absolute() or n.exists() else paths.ROOT / n for n in nbs]
    sets = [tuple(s) for s in (sets or DEFAULT_SETS)]
    jobs = []
    for nb in nbs:
        if not nb.is_file():
            raise PipelineError(f"{nb}: notebook not found")
        for files in sets:
            layered = tuple(_rel(resolve_params_file(f)) for f in (*files, *extra_files))
            label = _set_label([*files, *extra_files])
            jobs.append(Job(_rel(nb), layered, f"{nb.stem}--{label}"))
    if briefs:
        jobs += plan_briefs(sets, extra_files=extra_files)
    names = [j.name for j in jobs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise PipelineError(f"two jobs would write the same report: {dupes}")
    return jobs


def _abs(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else paths.ROOT / p


def _project_parameters() -> set[str]:
    """Parameters declared by any notebook in ``notebooks/``."""
    out: set[str] = set()
    for nb in sorted(paths.NOTEBOOKS.glob("*.ipynb")):
        out |= set(notebook_parameters(nb))
    return out


def _declared(notebook: str) -> set[str]:
    """Parameters a notebook declares; a file that is not a readable notebook is an error."""
    try:
        return set(notebook_parameters(_abs(notebook)))
    except OSError:
        raise
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise PipelineError(f"{notebook}: not a readable Jupyter notebook ({first})") from None


def validate_jobs(jobs: Sequence[Job]) -> dict[str, dict[str, object]]:
    """Validate every job's parameters before any kernel starts.

    Returns the parameters each notebook receives (only the keys its ``parameters`` cell
    declares). Raises :class:`~analysis.params.ParamsError` naming the file and the key.
    """
    declared_by_nb = {}
    for job in jobs:
        if job.notebook not in declared_by_nb:
            declared_by_nb[job.notebook] = _declared(job.notebook)
    # Every key a params file sets must be declared by some notebook (of this batch or of
    # the project), so a typo in a key is an error, not a silently ignored value. A key
    # another notebook needs is fine: each notebook receives only the keys it declares.
    known = set().union(*declared_by_nb.values()) | _project_parameters()
    for f in sorted({f for job in jobs for f in job.params_files}):
        layer = read_params_file(_abs(f))
        for key in layer:
            if key not in known:
                raise ParamsError(
                    f,
                    str(key),
                    "not declared by the parameters cell of any notebook "
                    f"({', '.join(sorted(known))})",
                    line=getattr(layer, "lines", {}).get(key),
                )
    out = {}
    for job in jobs:
        params = load_params(*[_abs(f) for f in job.params_files], overrides=job.overrides)
        out[job.name] = params.for_notebook(declared_by_nb[job.notebook])
    return out


# --- execution of one job (runs in a worker process) -------------------------------------

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
    can be rebuilt from the notebooks (:func:`analysis.manifest.rebuild_records`).
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


def _export_html(nb_path: Path, html_path: Path) -> None:
    """Write the report as self-contained HTML (:func:`analysis.export.notebook_html`)."""
    import nbformat

    from analysis.export import notebook_html

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
    from analysis.tables import TABLES_ENV

    wanted = {TABLES_ENV: str(folder), "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
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
    start_timeout, execution_timeout, retries, root.
    """
    import papermill as pm

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
    for attempt in range(1, retries + 2):
        a0 = time.perf_counter()
        try:
            with (
                _kernel_stderr_to(
                    run_dir / "logs" / f"{name}.kernel.log", bool(spec.get("own_process"))
                ),
                _tables_env(tables_staging),
            ):
                pm.execute_notebook(
                    str(notebook),
                    str(tmp),
                    parameters=dict(spec["parameters"]),  # type: ignore[call-overload]
                    kernel_name=str(spec["kernel_name"]),
                    progress_bar=False,
                    cwd=str(notebook.parent),
                    start_timeout=int(spec["start_timeout"]),  # type: ignore[call-overload]
                    execution_timeout=spec.get("execution_timeout"),
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


@dataclass
class BatchResult:
    """Outcome of a batch: where it was written and one record per report."""

    run_id: str
    run_dir: Path
    records: dict[str, dict[str, object]]
    #: Name of the signal that stopped the batch early (``SIGINT``/``SIGTERM``), if any.
    interrupted: str | None = None

    @property
    def failed(self) -> list[str]:
        """Names of reports not finished ok (failed, interrupted)."""
        return sorted(n for n, r in self.records.items() if r["status"] != DONE)

    @property
    def ok(self) -> bool:
        """True when every report succeeded."""
        return not self.failed and not self.interrupted

    @property
    def index(self) -> Path:
        """The run's ``index.html``."""
        return self.run_dir / "index.html"


def _check_kernel(kernel_name: str) -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    if kernel_name not in KernelSpecManager().find_kernel_specs():
        raise PipelineError(
            f"Jupyter kernel '{kernel_name}' is not installed. Run `make install`, or "
            f"`python -m ipykernel install --sys-prefix --name {kernel_name}` in the project's "
            "environment"
        )


def _default_run_id() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def _data_hashes() -> dict[str, str]:
    from analysis.data.provenance import provenance_table, verify_file

    return {row: verify_file(row) for row in provenance_table()["file"]}


#: Free space a batch needs before it starts: a base plus a share per report (the shipped
#: reports take 1-3 MB each with their HTML; the margin covers logs and tables).
MIN_FREE_BYTES = 50 << 20
FREE_BYTES_PER_REPORT = 10 << 20


def _check_free_space(folder: Path, n_reports: int) -> None:
    import shutil

    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    need = MIN_FREE_BYTES + FREE_BYTES_PER_REPORT * n_reports
    try:
        free = shutil.disk_usage(probe).free
    except OSError as exc:
        raise PipelineError(f"{folder}: cannot check free space ({exc.strerror})") from None
    if free < need:
        raise PipelineError(
            f"{folder}: only {free / 2**20:,.0f} MiB free, a batch of {n_reports} report(s) "
            f"needs at least {need / 2**20:,.0f} MiB; free some space or write elsewhere"
        )


def preflight(run_dir: Path, n_reports: int) -> dict[str, str]:
    """Checks before any kernel starts: data hashes and provenance, free disk space.

    Returns the data hashes for the manifest. Raises :class:`~analysis.errors.MitraError`
    (provenance or pipeline error) naming the file or folder at fault.
    """
    hashes = _data_hashes()
    _check_free_space(run_dir, n_reports)
    return hashes


@contextlib.contextmanager
def _executor(workers: int, scheduler: object | None):
    if scheduler is not None:
        from distributed import Client

        client = scheduler if isinstance(scheduler, Client) else Client(str(scheduler))
        try:
            yield client.get_executor(pure=False)
        finally:
            if client is not scheduler:
                client.close()
        return
    from analysis.interrupts import worker_init

    # spawn, not fork: forking a process that holds ZMQ sockets and threads is unsafe.
    pool = cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=worker_init,
        initargs=(os.getpid(),),
    )
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _pool_processes(pool: object) -> list:
    """The worker processes of a local pool (none for a dask executor)."""
    import psutil

    if not isinstance(pool, cf.ProcessPoolExecutor):
        return []
    # ProcessPoolExecutor keeps its workers in ``_processes`` (pid -> process) in every
    # CPython since 3.2; without it, this process's multiprocessing children are the pool.
    procs = getattr(pool, "_processes", None)
    pids = list(procs) if procs is not None else [p.pid for p in multiprocessing.active_children()]
    out = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            out.append(psutil.Process(pid))
    return out


def _safe_path(base: Path, name: str, what: str) -> Path:
    """``base/name`` after checking ``name`` (one rule for every name that becomes a path)."""
    try:
        return paths.inside(base, paths.safe_name(name, what))
    except paths.UnsafeNameError as exc:
        raise PipelineError(f"unsafe {exc}") from None


def _job_of(name: str, rec: Mapping[str, object]) -> Job:
    overrides = rec.get("overrides") or {}
    if not isinstance(overrides, Mapping):
        raise PipelineError(f"report {name!r}: 'overrides' in the manifest is not a mapping")
    return Job(
        str(rec["notebook"]),
        tuple(rec["params_files"]),  # type: ignore[arg-type]
        name,
        overrides=dict(overrides),
    )


def _load_previous(manifest_path: Path, rebuild: bool) -> dict[str, dict[str, object]]:
    if rebuild:
        return rebuild_records(manifest_path.parent)
    if not manifest_path.is_file():
        if manifest_path.exists():
            raise ManifestError(manifest_path, "is not a file")
        return {}
    return dict(read_manifest(manifest_path)["reports"])  # type: ignore[call-overload]


def _carry_outputs(rec: dict[str, object], previous: Mapping[str, object] | None) -> None:
    """Keep pointing at the last good outputs of a report that did not finish this time."""
    if not previous:
        return
    good: Mapping[str, str] = previous.get("outputs") or {}  # type: ignore[assignment]
    rec["outputs"] = {
        **{k: v for k, v in good.items() if not k.startswith("failed")},
        **(rec.get("outputs") or {}),  # type: ignore[dict-item]
    }
    if previous.get("tables") and not rec.get("tables"):
        rec["tables"] = previous["tables"]


def _unfinished(spec: Mapping[str, object], status: str, message: str) -> dict[str, object]:
    return {
        "name": spec["name"],
        "notebook": spec["notebook"],
        "params_files": list(spec["params_files"]),  # type: ignore[call-overload]
        "overrides": dict(spec.get("overrides") or {}),  # type: ignore[call-overload]
        "parameters": spec["parameters"],
        "status": status,
        "error": {"kind": status, "message": message},
        "outputs": {},
    }


def run_batch(
    jobs: Sequence[Job] | None = None,
    *,
    run_id: str | None = None,
    reports_dir: str | Path | None = None,
    workers: int | None = None,
    scheduler: object | None = None,
    only_failed: bool = False,
    rebuild_manifest: bool = False,
    retries: int = 2,
    start_timeout: int = 60,
    execution_timeout: int | None = 1800,
    kernel_name: str = KERNEL_NAME,
    progress: bool = True,
) -> BatchResult:
    """Run report jobs and write notebooks, HTML, ``manifest.json`` and ``index.html``.

    Parameters
    ----------
    jobs
        From :func:`plan_batch` (default: the default batch). With ``only_failed``, the jobs
        are read from the existing run's manifest instead.
    run_id
        Folder name under ``reports/`` (default: a timestamp). Reusing a run id reruns into
        the same folder; a failure never overwrites a good report there. One batch at a
        time may use a run id; a second is refused.
    workers
        Local worker processes (default: CPU count, at most the number of jobs).
    scheduler
        A dask.distributed scheduler address or ``Client``: run on that cluster instead.
    only_failed
        Rerun only the reports the run's manifest does not mark ok (failed, interrupted).
    rebuild_manifest
        Rebuild the run's manifest from the executed notebooks in its folder instead of
        reading it (a damaged or lost manifest); with no jobs, only rebuild.
    retries
        Retries of start-up failures (not of errors raised by notebook code); >= 0.

    Raises
    ------
    ParamsError, PipelineError, ManifestError, ProvenanceError
        Before any kernel starts: invalid parameters, unsafe run id or report name, a run
        in use, a damaged manifest, a raw file that fails its hash, too little disk space,
        a missing kernel.

    Notes
    -----
    SIGINT (Ctrl-C) or SIGTERM stop the batch within seconds: no new report starts, every
    worker and kernel is stopped, and the manifest marks finished reports ``ok`` and the
    rest ``interrupted`` (``only_failed=True`` reruns them). A second signal forces an
    immediate exit; reports are written atomically, so none is left half-written.
    """
    reports_dir = Path(reports_dir) if reports_dir is not None else paths.REPORTS
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 20:
        raise PipelineError(f"retries must be a whole number from 0 to 20 (got {retries!r})")
    if run_id is None:
        if only_failed or rebuild_manifest:
            raise PipelineError(
                "--only-failed and --rebuild-manifest need the --run-id of an existing run"
            )
        run_id = _default_run_id()
    run_dir = _safe_path(reports_dir, run_id, "run id")
    manifest_path = run_dir / "manifest.json"
    if (only_failed or rebuild_manifest) and not run_dir.is_dir():
        raise PipelineError(f"{run_dir}: no such run to resume or rebuild")
    with RunLock(reports_dir, run_id):
        previous = _load_previous(manifest_path, rebuild_manifest)
        if only_failed:
            if not previous:
                raise PipelineError(f"{manifest_path}: no manifest to resume from")
            jobs = [_job_of(n, r) for n, r in sorted(previous.items()) if r["status"] != DONE]
            broken = [j.name for j in jobs if not j.notebook]
            if broken:
                raise ManifestError(manifest_path, f"no notebook recorded for {broken}")
        elif jobs is None:
            jobs = [] if rebuild_manifest else plan_batch()
        for job in jobs:
            _safe_path(run_dir, job.name, "report name")
        parameters = validate_jobs(jobs)  # before any kernel starts
        hashes = preflight(run_dir, len(jobs))
        if jobs:
            _check_kernel(kernel_name)
        run_dir.mkdir(parents=True, exist_ok=True)
        return _execute(
            jobs,
            parameters,
            previous,
            hashes=hashes,
            run_id=run_id,
            run_dir=run_dir,
            reports_dir=reports_dir,
            workers=workers,
            scheduler=scheduler,
            retries=retries,
            start_timeout=start_timeout,
            execution_timeout=execution_timeout,
            kernel_name=kernel_name,
            progress=progress,
        )


def _execute(
    jobs: Sequence[Job],
    parameters: Mapping[str, dict[str, object]],
    previous: Mapping[str, dict[str, object]],
    *,
    hashes: dict[str, str],
    run_id: str,
    run_dir: Path,
    reports_dir: Path,
    workers: int | None,
    scheduler: object | None,
    retries: int,
    start_timeout: int,
    execution_timeout: int | None,
    kernel_name: str,
    progress: bool,
) -> BatchResult:
    from analysis.interrupts import (
        StopSignals,
        exit_code,
        remove_partial_files,
        stop_processes,
    )

    specs = [
        {
            "name": j.name,
            "notebook": j.notebook,
            "params_files": j.params_files,
            "overrides": dict(j.overrides),
            "parameters": parameters[j.name],
            "run_dir": str(run_dir.resolve()),
            "kernel_name": kernel_name,
            "start_timeout": start_timeout,
            "execution_timeout": execution_timeout,
            "retries": retries,
            "root": str(paths.ROOT),
            # Local workers are Mitra's own processes; dask workers are not ours to rewire.
            "own_process": scheduler is None,
        }
        for j in jobs
    ]
    by_name = {s["name"]: s for s in specs}
    workers = max(1, min(workers or os.cpu_count() or 1, len(specs) or 1))
    manifest = {
        "run_id": run_id,
        "started_at": _now(),
        "finished_at": None,
        "scheduler": "local-processes" if scheduler is None else "dask",
        "workers": workers,
        "environment": environment_record(),
        "data_hashes": hashes,
        "interrupted": None,
        "reports": dict(previous),
    }
    records: dict[str, dict[str, object]] = manifest["reports"]  # type: ignore[assignment]
    # Written before the first kernel starts and after every report: whatever happens to
    # this process, the manifest on disk lists every report of the run, unfinished ones as
    # 'pending' (which --only-failed reruns).
    for spec in specs:
        rec = _unfinished(spec, "pending", "not finished yet")
        _carry_outputs(rec, previous.get(str(spec["name"])))
        records[str(spec["name"])] = rec

    def save(final: bool = False) -> None:
        if final:
            manifest["finished_at"] = _now()
        write_json(run_dir / "manifest.json", manifest)
        if final:
            atomic_write(run_dir / "index.html", _index_html(manifest, run_dir))
            _point_latest(reports_dir, run_id, records)

    def mark_interrupted(signal_name: str) -> None:
        manifest["interrupted"] = {"signal": signal_name, "at": _now()}
        for name in by_name:
            if records[name]["status"] == "pending":
                rec = _unfinished(by_name[name], "interrupted", f"stopped by {signal_name}")
                _carry_outputs(rec, previous.get(name))
                records[name] = rec

    save()
    pool_ref: list[object] = []

    def force(signal_name: str) -> None:
        # Second signal: kill everything now, record what we know, leave.
        procs = _pool_processes(pool_ref[0]) if pool_ref else []
        with contextlib.suppress(Exception):
            stop_processes(procs, grace=0.2)
        with contextlib.suppress(Exception):
            remove_partial_files(run_dir)
            mark_interrupted(signal_name)
            save(final=True)
        print(f"mitra: {signal_name} again: stopped at once", file=sys.stderr, flush=True)
        os._exit(exit_code(signal_name))

    def first(signal_name: str) -> None:
        print(
            f"\nmitra: {signal_name} received: stopping the batch (again to force)...",
            file=sys.stderr,
            flush=True,
        )

    from tqdm.auto import tqdm

    from analysis.export import human_duration

    # A fixed-width bar; each finished report gets its own line above it, so long report
    # names never make the bar wrap.
    bar = tqdm(
        total=len(specs),
        desc=f"run {run_id}",
        unit="report",
        disable=not progress or not specs,
        file=sys.stderr,
        bar_format="{desc}: {n_fmt}/{total_fmt} reports |{bar:20}| {elapsed} elapsed",
    )
    stops = StopSignals(first, force)
    with stops:
        if specs and not stops.event.is_set():
            with _executor(workers, scheduler) as pool:
                pool_ref.append(pool)
                futures = {pool.submit(execute_job, s): str(s["name"]) for s in specs}
                pending = set(futures)
                while pending and not stops.event.is_set():
                    done, pending = cf.wait(pending, timeout=0.25, return_when=cf.FIRST_COMPLETED)
                    for fut in done:
                        _collect(fut, futures[fut], by_name, previous, records, stopping=False)
                        bar.update(1)
                        name = futures[fut]
                        if progress:
                            rec = records[name]
                            bar.write(
                                f"  {rec['status']:<6} {name} "
                                f"({human_duration(rec.get('duration_s'))})",
                                file=sys.stderr,
                            )
                        save()
                if stops.event.is_set():
                    for fut in pending:
                        fut.cancel()
                    stop_processes(_pool_processes(pool))
                    for fut in pending:
                        if fut.done() and not fut.cancelled():
                            _collect(fut, futures[fut], by_name, previous, records, stopping=True)
        if stops.event.is_set():
            remove_partial_files(run_dir)
            mark_interrupted(str(stops.signal_name))
        bar.close()
        save(final=True)
    return BatchResult(run_id, run_dir, records, interrupted=stops.signal_name)


def _collect(
    fut: cf.Future,
    name: str,
    by_name: Mapping[str, Mapping[str, object]],
    previous: Mapping[str, dict[str, object]],
    records: dict[str, dict[str, object]],
    *,
    stopping: bool,
) -> None:
    """Record a finished future's report (a crashed worker is a failure)."""
    try:
        rec = fut.result()
    except Exception as exc:
        if stopping:
            return  # killed by our own stop: stays pending, then marked interrupted
        rec = _unfinished(by_name[name], "failed", _short(exc))
        rec["error"] = {
            "kind": "worker_crashed",
            "type": type(exc).__name__,
            "message": _short(exc),
        }
    if rec["status"] != DONE:
        _carry_outputs(rec, previous.get(name))
    records[name] = rec


def _is_complete_default(records: Mapping[str, Mapping[str, object]]) -> bool:
    """True when ``records`` hold every report of the default batch, all ok."""
    if not records or any(r.get("status") != "ok" for r in records.values()):
        return False
    try:
        # The sector reports first (cheap); only then plan the briefs, which ranks partners.
        if not {j.name for j in plan_batch(briefs=False)} <= set(records):
            return False
        default = {j.name for j in plan_batch()}
    except Exception:  # a plan that cannot be made is not a complete default batch
        return False
    return default <= set(records)


def _point_latest(
    reports_dir: Path, run_id: str, records: Mapping[str, Mapping[str, object]] | None = None
) -> None:
    """Point ``reports/latest`` at this run if it is a complete default batch.

    A smaller run (one sector, ``--ci``, a single report) or one with failures never moves
    ``latest``: it always opens the newest full set of reports.
    """
    if records is not None and not _is_complete_default(records):
        return
    link = reports_dir / "latest"
    tmp = reports_dir / f".latest-{os.getpid()}"
    with contextlib.suppress(OSError):
        tmp.unlink()
    try:
        os.symlink(run_id, tmp)
        os.replace(tmp, link)
    except OSError:  # e.g. file systems without symlinks: the run folder is enough
        with contextlib.suppress(OSError):
            tmp.unlink()


def _index_html(manifest: Mapping[str, object], run_dir: Path | None = None) -> str:
    """The run's portal (:func:`analysis.export.index_html`)."""
    from analysis.export import index_html

    data_check = None
    if run_dir is not None and (run_dir.parent / "data-check" / "summary.md").is_file():
        data_check = "../data-check/summary.md"
    return index_html(manifest, run_dir, data_check=data_check)
