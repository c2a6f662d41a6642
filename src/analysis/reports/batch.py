"""Report batches: notebooks x params sets through papermill, in parallel, with manifests.

Each job runs one notebook with one layered params set into
``reports/<run-id>/<name>.ipynb`` and an HTML export without code cells
(``<name>.html``). ``reports/<run-id>/manifest.json`` records, per report, the parameters,
params files, status, error, attempts and timings, and for the run the data hashes, package
versions and git commit; ``reports/<run-id>/index.html`` links every report with its status.

Failure handling (the problems papermill users keep hitting, solved once):

- Parameters are validated for every job before any kernel starts (:mod:`analysis.config`),
  and so are the run id and report names (one rule, :func:`analysis.base.paths.safe_name`;
  resolved paths must stay under ``reports/``), the raw data's hashes and provenance, and
  the free disk space (:func:`preflight`).
- One batch at a time writes a run (:class:`analysis.reports.manifest.RunLock`); a second on the
  same run id is refused. A damaged manifest is a clear error naming the file;
  ``rebuild_manifest=True`` recovers it from the executed notebooks.
- The manifest is written before the first kernel starts and after every report, unfinished
  reports marked ``pending``. SIGINT/SIGTERM stop the batch within seconds, stop every worker
  and kernel (:mod:`analysis.reports.interrupts`) and mark unfinished reports ``interrupted``.
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
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from analysis.base import paths
from analysis.base.environment import environment_record
from analysis.base.errors import PipelineError
from analysis.base.i18n import count
from analysis.base.io import atomic_write, write_json
from analysis.reports.execute import _now, _short, execute_job
from analysis.reports.index import _index_html, _point_latest
from analysis.reports.manifest import DONE, ManifestError, RunLock, read_manifest, rebuild_records
from analysis.reports.plan import (
    KERNEL_NAME,
    BriefRequest,
    Job,
    plan_batch,
    plan_brief_requests,
    plan_briefs,
    validate_jobs,
)

__all__ = ["BatchResult", "preflight", "run_batch"]


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
            f"{folder}: only {free / 2**20:,.0f} MiB free, a batch of "
            f"{count(n_reports, 'reports')} needs at least {need / 2**20:,.0f} MiB; "
            "free some space or write elsewhere"
        )


def preflight(run_dir: Path, n_reports: int) -> dict[str, str]:
    """Checks before any kernel starts: data hashes and provenance, free disk space.

    Returns the data hashes for the manifest. Raises :class:`~analysis.base.errors.MitraError`
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
    from analysis.reports.interrupts import worker_init

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


@contextlib.contextmanager
def _signals_blocked():
    """Block SIGINT and SIGTERM in this thread for the block; delivered when it ends."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stop = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, stop)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


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
    briefs: Sequence[BriefRequest] | None = None,
    warm_kernels: bool = True,
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
    briefs
        Partner briefs to plan in a second phase
        (:func:`~analysis.reports.plan.plan_brief_requests`): each request's briefs are
        planned and started as soon as its ranking report has finished, from that report's
        ``ranking.csv``. Default: the default batch's requests when ``jobs`` is None, none
        otherwise; with ``only_failed``, the run's requests whose briefs were not planned
        yet (their ranking report failed or was interrupted).
    warm_kernels
        Local workers start each report's kernel, with the heavy imports done, while the
        previous report runs (:mod:`analysis.reports.warm`); every report still gets a fresh
        kernel. False starts each kernel when its report starts (as papermill does).

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
            if briefs is None and not rebuild_manifest:
                briefs = plan_brief_requests()
        if only_failed and briefs is None:
            briefs = _waiting_briefs(manifest_path)
        briefs = list(briefs or ())
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
            briefs=briefs,
            warm_kernels=warm_kernels,
        )


def _waiting_briefs(manifest_path: Path) -> list[BriefRequest]:
    """Brief requests of a run whose briefs were never planned (for ``--only-failed``)."""
    if not manifest_path.is_file():
        return []
    out = []
    for req in read_manifest(manifest_path).get("briefs") or []:
        if isinstance(req, Mapping) and req.get("status") != "planned":
            fields = {k: req[k] for k in BriefRequest.__dataclass_fields__ if k in req}
            for key in ("params_files", "languages"):
                if key in fields:
                    fields[key] = tuple(fields[key])
            try:
                out.append(BriefRequest(**fields))
            except TypeError as exc:
                raise ManifestError(manifest_path, f"damaged brief request: {exc}") from None
    return out


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
    briefs: Sequence[BriefRequest] = (),
    warm_kernels: bool = True,
) -> BatchResult:
    from dataclasses import asdict

    from analysis.base.errors import MitraError
    from analysis.reports.interrupts import (
        StopSignals,
        exit_code,
        remove_partial_files,
        stop_processes,
    )

    def spec_of(j: Job, params: Mapping[str, object]) -> dict[str, object]:
        return {
            "name": j.name,
            "notebook": j.notebook,
            "params_files": j.params_files,
            "overrides": dict(j.overrides),
            "parameters": params,
            "run_dir": str(run_dir.resolve()),
            "kernel_name": kernel_name,
            "start_timeout": start_timeout,
            "execution_timeout": execution_timeout,
            "retries": retries,
            "root": str(paths.ROOT),
            # Local workers are Mitra's own processes; dask workers are not ours to rewire.
            "own_process": scheduler is None,
            # Local workers take warm kernels (analysis.reports.warm) and warm the next,
            # importing what the batch's notebooks import.
            "warm": scheduler is None and warm_kernels,
            "preimport": list(preimport),
        }

    def warm_hints(new: list[dict[str, object]]) -> list[dict[str, object]]:
        """Tell the last ``workers`` reports not to warm a kernel nobody will take.

        Workers take reports in submission order, so the last ``workers`` submitted are each
        worker's last, unless briefs may still be planned (they come after their ranking).
        """
        more = any(e["status"] == "waiting" for e in manifest["briefs"])
        for i, spec in enumerate(new):
            spec["warm_next"] = more or i < len(new) - workers
        return new

    from analysis.reports.warm import preimports

    notebooks = {j.notebook for j in jobs} | {r.notebook for r in briefs}
    preimport = preimports(
        sorted(str(p if Path(p).is_absolute() else paths.ROOT / p) for p in notebooks)
    )
    specs = [spec_of(j, parameters[j.name]) for j in jobs]
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
        # Second phase: briefs planned from each ranking report's table once it has finished.
        "briefs": [{**asdict(r), "status": "waiting", "note": ""} for r in briefs],
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

    def plan_ready() -> list[dict[str, object]]:
        """Specs of the briefs whose ranking report has now finished ok (second phase)."""
        new: list[dict[str, object]] = []
        for req, entry in zip(briefs, manifest["briefs"], strict=True):
            if entry["status"] != "waiting":
                continue
            rec = records.get(req.ranking_report)
            if rec is None or rec["status"] != DONE:
                if rec is not None and rec["status"] not in ("pending", DONE):
                    entry["note"] = f"ranking report {req.ranking_report} did not finish"
                continue
            try:
                brief_jobs = plan_briefs(run_dir, [req])
                for job in brief_jobs:
                    _safe_path(run_dir, job.name, "report name")
                    if job.name in by_name:
                        raise PipelineError(f"two jobs would write the same report: {job.name}")
                brief_params = validate_jobs(brief_jobs)
            except MitraError as exc:
                entry["status"], entry["note"] = "not_planned", _short(exc)
                continue
            entry["status"] = "planned"
            entry["note"] = ", ".join(j.name for j in brief_jobs)
            for job in brief_jobs:
                spec = spec_of(job, brief_params[job.name])
                by_name[job.name] = spec
                rec = _unfinished(spec, "pending", "not finished yet")
                _carry_outputs(rec, previous.get(job.name))
                records[job.name] = rec
                new.append(spec)
        return new

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

    from analysis.reports.export import human_duration

    first_briefs = plan_ready()  # --only-failed: ranking reports already done in this run
    specs += first_briefs
    # Briefs planned later add to the bar's total when they are planned.
    bar = _progress_bar(len(specs), run_id, progress)
    stops = StopSignals(first, force)
    with stops:
        if specs and not stops.event.is_set():
            with _executor(workers, scheduler) as pool:
                pool_ref.append(pool)
                # Workers start during the first submit; they inherit a blocked SIGINT and
                # SIGTERM, and unblock them once their handlers are set (worker_init), so a
                # signal during their start-up never prints a KeyboardInterrupt traceback.
                with _signals_blocked():
                    futures = {
                        pool.submit(execute_job, s): str(s["name"]) for s in warm_hints(specs)
                    }
                pending = set(futures)

                def submit_briefs() -> None:
                    new = warm_hints(plan_ready())
                    for spec in new:
                        fut = pool.submit(execute_job, spec)
                        futures[fut] = str(spec["name"])
                        pending.add(fut)
                    if new:
                        bar.total += len(new)
                        bar.refresh()
                        save()

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
                    if done and briefs and not stops.event.is_set():
                        submit_briefs()
                if stops.event.is_set():
                    # No Future.cancel() here: the pool's manager thread marks every queued
                    # future failed when its workers die, and setting the result of a future
                    # already cancelled raised InvalidStateError in that thread (a traceback
                    # on the console). Queued reports never start once the workers are gone;
                    # the pool's shutdown cancels what is left.
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


def _progress_bar(total: int, run_id: str, progress: bool, stream=None):
    """The batch's progress bar on stderr.

    A fixed-width bar; each finished report gets its own line above it (``bar.write``), so
    long report names never make the bar wrap. The bar redraws itself with carriage returns,
    so it is drawn only on a terminal: into a log or a pipe, only the per-report lines go.
    """
    from tqdm.auto import tqdm

    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    terminal = bool(isatty and isatty())
    return tqdm(
        total=total,
        desc=f"run {run_id}",
        unit="report",
        disable=not progress or not total or not terminal,
        file=stream,
        bar_format="{desc}: {n_fmt}/{total_fmt} reports |{bar:20}| {elapsed} elapsed",
    )


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
