"""Stopping a batch cleanly: signals, worker processes and the kernels they start.

A batch runs reports in worker processes, each of which starts a Jupyter kernel (in a
session of its own, so a terminal's Ctrl-C reaches neither). The rules:

- The batch process owns SIGINT and SIGTERM while reports run (:class:`StopSignals`). The
  first signal asks for an orderly stop: no new report starts, every worker is told to stop
  (SIGTERM), each worker stops its kernels and exits, and whatever is still alive a few
  seconds later is killed (:func:`stop_processes`). The batch then writes its manifest,
  marking the unfinished reports ``interrupted``. A second signal forces a fast exit.
- Workers ignore SIGINT (the batch decides), stop their kernels on SIGTERM, and also when
  the batch process disappears without a word (killed with SIGKILL): a watchdog thread
  notices the new parent and does the same (:func:`worker_init`).

Reports are only ever written through a temporary file and ``os.replace``, so killing a
worker at any moment leaves either the previous report or the new one, never half of one;
:func:`remove_partial_files` clears the temporary files a killed worker leaves.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType

import psutil

__all__ = [
    "STOP_SIGNALS",
    "StopSignals",
    "descendants",
    "exit_code",
    "remove_partial_files",
    "stop_processes",
    "worker_init",
]

#: Seconds a process gets between SIGTERM and SIGKILL.
GRACE_S = 3.0


def descendants(pid: int | None = None) -> list[psutil.Process]:
    """All living descendants of ``pid`` (default: this process)."""
    try:
        return psutil.Process(pid or os.getpid()).children(recursive=True)
    except psutil.Error:
        return []


def stop_processes(procs: Iterable[psutil.Process], grace: float = GRACE_S) -> list[int]:
    """SIGTERM ``procs`` (and their descendants), SIGKILL what survives ``grace`` seconds.

    Returns the pids that had to be killed. Children of this process are reaped.
    """
    procs = list(procs)
    for p in list(procs):
        with contextlib.suppress(psutil.Error):
            procs.extend(p.children(recursive=True))
    unique = {p.pid: p for p in procs if p.pid != os.getpid()}
    for p in unique.values():
        with contextlib.suppress(psutil.Error):
            p.terminate()
    _, alive = psutil.wait_procs(list(unique.values()), timeout=grace)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(alive, timeout=grace)
    return [p.pid for p in alive]


def _stop_worker(code: int) -> None:
    """Stop this worker's kernels (and their children), then leave at once."""
    with contextlib.suppress(Exception):
        stop_processes(descendants(), grace=1.5)
    os._exit(code)


def _on_term(signum: int, frame: FrameType | None) -> None:
    _stop_worker(128 + signum)


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            _stop_worker(1)


def worker_init(parent: int) -> None:
    """Initialise a batch worker process (``ProcessPoolExecutor(initializer=...)``)."""
    from analysis.base.environment import skip_slow_optional_imports

    skip_slow_optional_imports()  # before the first task imports papermill and nbformat
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_term)
    # The batch starts its workers with these signals blocked (so one arriving while the
    # worker imports cannot print a traceback); from here they have their handlers. Kernels
    # started later inherit an unblocked mask, so they can still be interrupted.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


#: Signals that stop a batch: Ctrl-C, ``kill``, and the terminal closing.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def exit_code(signal_name: str) -> int:
    """The shell's exit code for a process stopped by ``signal_name`` (128 + number)."""
    return 128 + signal.Signals[signal_name].value


class StopSignals:
    """Catch :data:`STOP_SIGNALS` in a block: the first sets :attr:`event`, the second
    calls ``force`` (which should not return).

    Outside the main thread (where Python cannot install handlers) it does nothing.
    """

    def __init__(self, on_first: Callable[[str], None], force: Callable[[str], None]) -> None:
        self.event = threading.Event()
        self.signal_name: str | None = None
        self._on_first = on_first
        self._force = force
        self._saved: dict[int, object] = {}

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.event.is_set():
            self._force(name)
            return
        self.signal_name = name
        self.event.set()
        self._on_first(name)

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self._saved[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._saved.items():
            signal.signal(sig, old)  # type: ignore[arg-type]
        self._saved.clear()


def remove_partial_files(run_dir: Path) -> list[str]:
    """Delete the temporary files and folders killed workers leave in ``run_dir``."""
    import shutil

    removed = []
    # Names used by execute_job (running notebooks, HTML and staged tables) and by
    # analysis.reports.atomic_write (".<name>.<random>.tmp").
    patterns = (".*.running-*", ".*.tmp-*", ".*.tmp", "tables/.*.running-*", "logs/.*.tmp")
    for pattern in patterns:
        for p in run_dir.glob(pattern):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    p.unlink()
            removed.append(p.name)
    return removed
