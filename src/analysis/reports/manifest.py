"""Run manifests read defensively, rebuilt from the reports present, and one run at a time.

``reports/<run-id>/manifest.json`` is written by the batch (atomically) but read back from a
disk anyone can edit, truncate or fill with something else. :func:`read_manifest` checks its
shape and fails with a :class:`ManifestError` naming the file and what is wrong;
:func:`rebuild_records` recovers the records from the executed notebooks in the folder
(``mitra batch --run-id X --rebuild-manifest``). :class:`RunLock` lets one batch at a time
write into a run folder, so two concurrent runs never lose each other's records.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from analysis.base.errors import MitraError

__all__ = [
    "DONE",
    "ManifestError",
    "RunLock",
    "RunLockedError",
    "read_manifest",
    "rebuild_records",
]

#: Status of a report that needs no rerun; ``--only-failed`` reruns every other status
#: (``failed``, ``interrupted``, ``pending``).
DONE = "ok"
_STATUSES = ("ok", "failed", "interrupted", "pending")
_REQUIRED = {"notebook": str, "params_files": list, "status": str}
_MAX_BYTES = 64 << 20


class ManifestError(MitraError, ValueError):
    """A manifest that cannot be used; the message names the file and the fault."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        super().__init__(
            f"{path}: {problem}. Rebuild it from the reports in the folder with "
            "`mitra batch --run-id <run-id> --rebuild-manifest`, or use a new --run-id"
        )


class RunLockedError(MitraError):
    """Another batch is writing into the same run folder."""


def read_manifest(path: str | Path) -> dict[str, object]:
    """Read and check a run manifest; return it with ``reports`` as name -> record.

    Raises
    ------
    ManifestError
        Unreadable, not UTF-8, not JSON (with line and column), not an object, no
        ``reports`` object, a record that is not an object or lacks ``notebook``,
        ``params_files`` or ``status``, an unknown status, a name that disagrees.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > _MAX_BYTES:
            raise ManifestError(path, f"{size:,} bytes is too large for a manifest")
        data = path.read_bytes()
    except OSError as exc:
        raise ManifestError(path, f"cannot be read ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(
            path, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(
            path, f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(manifest, dict):
        raise ManifestError(path, f"expected a JSON object, got {type(manifest).__name__}")
    reports = manifest.get("reports")
    if not isinstance(reports, dict):
        raise ManifestError(path, "no 'reports' object (is this a Mitra run manifest?)")
    for name, rec in reports.items():
        if not isinstance(rec, dict):
            raise ManifestError(
                path, f"report {name!r}: expected an object, got {type(rec).__name__}"
            )
        for key, typ in _REQUIRED.items():
            if key not in rec:
                raise ManifestError(path, f"report {name!r}: missing {key!r}")
            if not isinstance(rec[key], typ):
                raise ManifestError(
                    path,
                    f"report {name!r}: {key!r} should be a {typ.__name__}, got "
                    f"{type(rec[key]).__name__}",
                )
        if not all(isinstance(f, str) for f in rec["params_files"]):
            raise ManifestError(path, f"report {name!r}: 'params_files' should list file names")
        if rec["status"] not in _STATUSES:
            raise ManifestError(
                path,
                f"report {name!r}: unknown status {rec['status']!r} "
                f"(expected one of {', '.join(_STATUSES)})",
            )
        if rec.get("name", name) != name:
            raise ManifestError(path, f"report {name!r} is recorded as {rec.get('name')!r}")
    return manifest


def rebuild_records(run_dir: str | Path) -> dict[str, dict[str, object]]:
    """Recover manifest records from the executed notebooks in ``run_dir``.

    A ``<name>.ipynb`` is a finished report (status ``ok``); a ``<name>.failed.ipynb``
    without one is ``failed``. The notebook, params files and parameters come from the
    metadata the batch writes into every executed notebook (``metadata.mitra``), or from
    papermill's own record for notebooks written before that.
    """
    import nbformat

    run_dir = Path(run_dir)
    records: dict[str, dict[str, object]] = {}
    files = sorted(p for p in run_dir.glob("*.ipynb") if not p.name.startswith("."))
    for nb_path in files:
        failed = nb_path.name.endswith(".failed.ipynb")
        name = nb_path.name.removesuffix(".failed.ipynb" if failed else ".ipynb")
        if failed and (run_dir / f"{name}.ipynb").is_file():
            continue  # the last good copy wins; its record is built from it
        try:
            nb = nbformat.read(nb_path, as_version=4)
        except Exception as exc:  # a damaged notebook is reported, not fatal
            records[name] = _record(name, "", [], {}, "failed", {})
            records[name]["error"] = {"kind": "unreadable", "message": f"{nb_path.name}: {exc}"}
            continue
        meta = nb.metadata.get("mitra") or {}
        pm_meta = nb.metadata.get("papermill") or {}
        notebook = meta.get("notebook") or pm_meta.get("input_path") or ""
        params_files = list(meta.get("params_files") or [])
        parameters = dict(pm_meta.get("parameters") or {})
        outputs = {"failed_ipynb": nb_path.name} if failed else {"ipynb": nb_path.name}
        html = run_dir / f"{name}{'.failed' if failed else ''}.html"
        if html.is_file():
            outputs["failed_html" if failed else "html"] = html.name
        tables = sorted((run_dir / "tables" / name).glob("*.csv")) if not failed else []
        rec = _record(
            name, str(notebook), params_files, parameters, "failed" if failed else "ok", outputs
        )
        rec["overrides"] = dict(meta.get("overrides") or {})
        if tables:
            rec["tables"] = [f"tables/{name}/{t.name}" for t in tables]
        records[name] = rec
    return records


def _record(
    name: str,
    notebook: str,
    params_files: list[str],
    parameters: dict[str, object],
    status: str,
    outputs: dict[str, str],
) -> dict[str, object]:
    return {
        "name": name,
        "notebook": notebook,
        "params_files": params_files,
        "parameters": parameters,
        "status": status,
        "error": None if status == "ok" else {"kind": status, "message": "rebuilt from files"},
        "outputs": outputs,
        "rebuilt": True,
    }


class RunLock:
    """An exclusive lock on one run id, held while a batch writes into its folder.

    The lock is an ``flock`` on ``reports/.<run-id>.lock``: the operating system releases it
    when the holder exits, however it exits, so a crashed batch never leaves a stale lock
    (the file itself is removed on a normal release).
    A second batch on the same run id is refused at once with the holder's pid.
    """

    def __init__(self, reports_dir: str | Path, run_id: str) -> None:
        self.path = Path(reports_dir) / f".{run_id}.lock"
        self.run_id = run_id
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        """Take the lock or raise :class:`RunLockedError`."""
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
                os.close(fd)
                raise RunLockedError(
                    f"run '{self.run_id}' is being written by another mitra batch (pid "
                    f"{holder}); wait for it to finish, or choose another --run-id"
                ) from None
            # The holder before us deletes the file when it is done: if we locked a file
            # that is no longer at the path, try again on the one that is.
            try:
                if os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Release the lock (also released by the operating system at exit)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()  # while still holding the lock (see acquire)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
