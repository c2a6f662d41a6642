"""Warm kernels: the next report's kernel starts, and imports, while this report runs.

Each report still gets a fresh kernel of its own (no state passes from one report to the
next). What changes is *when* that kernel starts: a batch worker keeps one spare kernel
(:class:`WarmKernels`), started in a background thread with the modules the batch's notebooks
import already imported (:func:`preimports`: for Mitra's reports the heavy libraries and the
``analysis`` studies; for a notebook that imports little, little), silently (no execution
count, no output recorded). When a report is assigned, the
worker takes the spare, points it at the report (its working folder and tables folder), hands
it to papermill (``km=``) and at once starts warming the next spare; when the report has run,
its kernel is shut down and the worker exports the HTML while the next spare warms.

A kernel's stderr goes through a pipe that the worker copies into the kernel log of the
report the kernel ends up serving (``reports/<run-id>/logs/<name>.kernel.log``); what a spare
prints before it is assigned is kept and written there first.

Spares never outlive their worker: :meth:`WarmKernels.close` (run at the worker's exit) kills
them, the worker's SIGTERM handler stops every descendant (:mod:`analysis.reports.interrupts`)
and a kernel started after ``close`` is killed at once.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["PREIMPORT", "KernelStartError", "WarmKernels", "preimports", "warm_pool"]

#: Modules a spare kernel imports before a report is assigned (the default notebooks'
#: imports and the heavy libraries behind them). Imports only: nothing is run, configured or
#: drawn, so a report's content is the same as in a cold kernel.
PREIMPORT = (
    "numpy",
    "pandas",
    "statsmodels.tsa.arima.model",
    "statsmodels.tsa.exponential_smoothing.ets",
    "statsmodels.tsa.statespace.structural",
    "pyfixest",
    "babel.numbers",
    "babel.dates",
    "matplotlib.pyplot",
    "IPython.display",
    "analysis.params",
    "analysis.reports",
    "analysis.present.plots",
    "analysis.base.i18n",
    "analysis.present.formatting",
    "analysis.studies.inputs",
    "analysis.studies.audit",
    "analysis.studies.flows",
    "analysis.studies.gravity",
    "analysis.studies.ranking",
    "analysis.studies.brief",
)

#: The kernels' matplotlib backend (charts inline in the executed notebooks).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def preimports(notebooks: Iterable[str | Path]) -> tuple[str, ...]:
    """The modules a batch's spare kernels import: what its notebooks' code cells import.

    Imports are read from each notebook's code (``import x`` and ``from x import y`` at the
    top of a cell, or inside an ``if``/``try`` there), without running anything. A notebook
    that imports a study (``analysis.studies``, or ``analysis`` itself) adds
    :data:`PREIMPORT`, which also lists the libraries the studies import inside their
    functions (statsmodels' models, pyfixest); one that imports a small part of the package
    (``analysis.present.tables``) gets just that. A notebook that cannot be read adds nothing
    (its report will say why). Warming what no report imports costs each spare seconds of
    CPU that, on a 2-core machine, the running report lacks.
    """
    found: dict[str, None] = {}
    for path in notebooks:
        for module in _notebook_imports(Path(path)):
            if module == "analysis" or f"{module}.".startswith("analysis.studies."):
                found.update(dict.fromkeys(PREIMPORT))
            found[module] = None
    # A warmed module's own imports come with it: keep the list short and deterministic.
    first = {m: i for i, m in enumerate(PREIMPORT)}
    return tuple(sorted(found, key=lambda m: (first.get(m, len(first)), m)))


def _notebook_imports(path: Path) -> list[str]:
    import ast

    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:
        return []
    out: list[str] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(
            line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        todo = list(tree.body)
        while todo:
            node = todo.pop(0)
            if isinstance(node, ast.Import):
                out += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                out.append(node.module)
            elif isinstance(node, ast.If | ast.Try):
                todo += [*node.body, *node.orelse, *getattr(node, "finalbody", [])]
                todo += [n for h in getattr(node, "handlers", []) for n in h.body]
    return out


def _preimport_code(modules: Sequence[str]) -> str:
    return "\n".join(
        [
            "import importlib as _mitra_il",
            f"for _mitra_m in {tuple(modules)!r}:",
            "    try:",
            "        _mitra_il.import_module(_mitra_m)",
            "    except Exception:",  # the report's own import will say what is wrong
            "        pass",
            "del _mitra_il",
        ]
    )


class KernelStartError(RuntimeError):
    """A spare kernel failed to start (retried like any start-up failure)."""


class _Kernel:
    """A started kernel, its manager and the copy of its stderr."""

    def __init__(self, km, read_fd: int) -> None:
        self.km = km
        self._lock = threading.Lock()
        self._early: list[bytes] = []
        self._log: object | None = None
        self._clients: list = []
        # Clients made by whoever runs the report (nbclient does not stop the channels of a
        # kernel manager it was given): recorded, and stopped by release().
        made = km.client

        def client(**kwargs):
            kc = made(**kwargs)
            self._clients.append(kc)
            return kc

        km.client = client
        self._thread = threading.Thread(target=self._copy, args=(read_fd,), daemon=True)
        self._thread.start()

    def _copy(self, fd: int) -> None:
        with open(fd, "rb", buffering=0) as pipe:
            for chunk in iter(lambda: pipe.read(65536), b""):
                with self._lock:
                    if self._log is None:
                        self._early.append(chunk)
                    else:
                        with contextlib.suppress(OSError, ValueError):
                            self._log.write(chunk)  # type: ignore[attr-defined]
                            self._log.flush()  # type: ignore[attr-defined]
        with self._lock:
            if self._log is not None:
                with contextlib.suppress(OSError, ValueError):
                    self._log.close()  # type: ignore[attr-defined]

    def stderr_tail(self, limit: int = 400) -> str:
        """What the kernel printed before it was assigned (for a start-up error), or ''."""
        self._thread.join(timeout=2.0)
        with self._lock:
            text = b"".join(self._early).decode("utf-8", "replace").strip()
        text = "\n".join(
            line for line in text.splitlines() if "without encryption" not in line
        ).strip()
        return f" (kernel stderr: ...{text[-limit:]})" if text else ""

    def log_to(self, path: Path) -> None:
        """From now on, append this kernel's stderr (and what it printed so far) to ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("ab")
        with self._lock:
            for chunk in self._early:
                handle.write(chunk)
            handle.flush()
            self._early.clear()
            self._log = handle
        if not self._thread.is_alive():  # the kernel already ended: nothing more will come
            handle.close()

    def process(self):
        provisioner = getattr(self.km, "provisioner", None)
        return getattr(provisioner, "process", None)

    def stop_clients(self) -> None:
        """Stop the channels of the clients made through the manager (in their thread)."""
        while self._clients:
            kc = self._clients.pop()
            with contextlib.suppress(Exception):
                kc.stop_channels()

    def client(self):
        """A blocking client on this kernel (usable from any thread)."""
        from jupyter_client.blocking import BlockingKernelClient

        kc = BlockingKernelClient()
        kc.load_connection_info(self.km.get_connection_info())
        # No heartbeat thread: these clients live for one request, and a heartbeat thread
        # stopped before it has made its socket keeps running (jupyter_client).
        kc.start_channels(stdin=False, hb=False)
        return kc

    def kill(self) -> None:
        """Kill the kernel and its process group at once, and reap it."""
        import signal
        import subprocess

        process = self.process()
        if process is None:
            return
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)  # kernels lead their own session
        with contextlib.suppress(OSError):
            process.kill()
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            process.wait(timeout=5.0)


def _start(
    kernel_name: str,
    cwd: str,
    env: dict[str, str],
    timeout: float,
    modules: Sequence[str] = PREIMPORT,
) -> _Kernel:
    """Start a kernel, wait until it answers, import ``modules`` in it (silently)."""
    from jupyter_client.manager import AsyncKernelManager

    km = AsyncKernelManager(kernel_name=kernel_name)
    read_fd, write_fd = os.pipe()
    try:
        asyncio.run(km.start_kernel(cwd=cwd, env=env, stderr=write_fd))
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    kernel = _Kernel(km, read_fd)
    try:
        if modules:
            code = _preimport_code(modules)
            _run_silently(kernel, code, timeout, run_timeout=max(timeout * 4, 240))
        else:
            _run_silently(kernel, "", timeout, run_timeout=timeout)  # answers: started
    except BaseException as exc:
        kernel.kill()
        raise KernelStartError(
            f"kernel failed to start: {type(exc).__name__}: {exc}{kernel.stderr_tail()}"
        ) from exc
    return kernel


def _run_silently(kernel: _Kernel, code: str, timeout: float, run_timeout: float) -> None:
    """Run ``code`` in the kernel without output, history or execution count."""
    kc = kernel.client()
    try:
        kc.wait_for_ready(timeout=timeout)
        reply = kc.execute_interactive(
            code, silent=True, store_history=False, timeout=run_timeout, output_hook=_drop
        )
        if reply["content"].get("status") != "ok":
            raise RuntimeError(f"set-up code failed: {reply['content'].get('evalue')}")
    finally:
        kc.stop_channels()


def _drop(msg: object) -> None:
    """Ignore a kernel's output during set-up."""


def _assign_code(cwd: str, env: dict[str, str]) -> str:
    """Silent code pointing a spare at its report: working folder and environment."""
    return (
        "import os as _mitra_os\n"
        f"_mitra_os.chdir({cwd!r})\n"
        f"_mitra_os.environ.update({env!r})\n"
        "del _mitra_os\n"
    )


class WarmKernels:
    """One spare kernel per worker, warmed in a background thread.

    ``take`` returns a started, warmed kernel manager pointed at the report (the spare if
    one is ready or warming, else one started now); ``prepare`` starts warming the next;
    ``release`` shuts a used kernel down; ``close`` kills everything.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spare: tuple[str, tuple[str, ...], threading.Thread, list] | None = None
        self._closed = False
        self._live: set[_Kernel] = set()

    def _warm(
        self,
        kernel_name: str,
        cwd: str,
        env: dict[str, str],
        timeout: float,
        modules: tuple[str, ...],
        box: list,
    ) -> None:
        try:
            kernel = _start(kernel_name, cwd, env, timeout, modules)
        except BaseException as exc:  # handed to the report that takes this spare
            box.append(exc)
            return
        with self._lock:
            if self._closed:
                kernel.kill()
                return
            self._live.add(kernel)
        box.append(kernel)

    def prepare(
        self, kernel_name: str, cwd: str, timeout: float, modules: Sequence[str] = PREIMPORT
    ) -> None:
        """Start warming a spare kernel that imports ``modules`` (no-op when one is ready or
        warming).

        Its environment is this process's now, with the inline matplotlib backend and without
        a report's tables folder (set when a report takes it).
        """
        from analysis.present.tables import TABLES_ENV

        env = {k: v for k, v in os.environ.items() if k != TABLES_ENV}
        env["MPLBACKEND"] = INLINE_BACKEND
        with self._lock:
            if self._closed or self._spare is not None:
                return
            box: list = []
            thread = threading.Thread(
                target=self._warm,
                args=(kernel_name, cwd, env, timeout, tuple(modules), box),
                daemon=True,
            )
            self._spare = (kernel_name, tuple(modules), thread, box)
        thread.start()

    def take(
        self,
        kernel_name: str,
        cwd: str,
        timeout: float,
        env: dict[str, str],
        log: Path,
        modules: Sequence[str] = PREIMPORT,
    ) -> _Kernel:
        """A warmed kernel for one report, pointed at ``cwd`` and ``env``, logging to ``log``.

        The spare is taken if it was warmed for this kernel and these ``modules``; else one
        is started now.

        Raises :class:`KernelStartError` (a start-up failure) when it does not start.
        """
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is None or spare[:2] != (kernel_name, tuple(modules)):
            if spare is not None:
                self._discard(spare)
            self.prepare(kernel_name, cwd, timeout, modules)
            with self._lock:
                spare, self._spare = self._spare, None
        assert spare is not None
        spare[2].join()
        result = spare[3][0] if spare[3] else KernelStartError("kernel failed to start")
        if isinstance(result, BaseException):
            if isinstance(result, KernelStartError):
                raise result
            raise KernelStartError(f"kernel failed to start: {result}") from result
        kernel: _Kernel = result
        kernel.log_to(log)
        try:
            _run_silently(kernel, _assign_code(cwd, env), timeout, run_timeout=timeout)
        except BaseException as exc:
            self.release(kernel, now=True)
            raise KernelStartError(f"kernel failed to start: {exc}") from exc
        return kernel

    def _discard(self, spare: tuple) -> None:
        def finish() -> None:
            spare[2].join()
            for item in spare[3]:
                if isinstance(item, _Kernel):
                    self.release(item, now=True)

        threading.Thread(target=finish, daemon=True).start()

    def release(self, kernel: _Kernel, now: bool = False) -> None:
        """Shut a used kernel down: politely (``now=False``), then by force.

        Call it from the thread that ran the report: the report's clients are stopped first.
        The kernel is gone when this returns (the worker then exports the report, while the
        next spare warms), as when papermill shuts its own kernel down.
        """
        kernel.stop_clients()

        def stop() -> None:
            if not now:
                process = kernel.process()
                with contextlib.suppress(Exception):
                    kc = kernel.client()
                    try:
                        # Wait for the reply: closing the channels right after sending can
                        # drop the request, and the kernel would then be killed after 5 s.
                        kc.shutdown(reply=True, timeout=5.0)
                    finally:
                        kc.stop_channels()
                    if process is not None:
                        process.wait(timeout=5.0)
            kernel.kill()
            with contextlib.suppress(Exception):
                pending = kernel.km.cleanup_resources()  # a coroutine for an async manager
                if asyncio.iscoroutine(pending):
                    asyncio.run(pending)
            with self._lock:
                self._live.discard(kernel)

        # In a thread of its own: free of any event loop the caller's thread may hold.
        thread = threading.Thread(target=stop, daemon=True)
        thread.start()
        thread.join()

    def close(self) -> None:
        """Kill every kernel this pool started and any spare still warming."""
        with self._lock:
            self._closed = True
            spare, self._spare = self._spare, None
            live = list(self._live)
            self._live.clear()
        for kernel in live:
            kernel.kill()
        if spare is not None:
            spare[2].join(timeout=5.0)
            for item in spare[3]:
                if isinstance(item, _Kernel):
                    item.kill()


_POOL: WarmKernels | None = None


def warm_pool() -> WarmKernels:
    """This worker process's pool (made once, closed at exit)."""
    global _POOL
    if _POOL is None:
        _POOL = WarmKernels()
        atexit.register(_POOL.close)
    return _POOL
