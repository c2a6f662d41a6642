"""Shared results computed once: a content-addressed on-disk cache.

A batch runs every report in its own kernel, so the ledger, the partner panel and each gravity
fit would otherwise be rebuilt by every report that needs them. :func:`cached` stores a
result under a key made of

- the *namespace* (what is computed, e.g. ``"ledger"``),
- the *code fingerprint*: the sha256 of every module of the ``analysis`` package, so any code
  change invalidates every entry,
- the caller's *key material*: data fingerprints and settings, serialised deterministically.

Entries live in ``reports/.cache/<namespace>/<key>.pkl`` (generated output, never committed)
and are written atomically. A process that needs an entry another is computing waits for it
(an advisory lock per entry) and reads it, so a batch computes each shared result once. An
unreadable entry is recomputed and replaced. Set ``MITRA_CACHE=off`` to disable the cache
(every call computes), or ``MITRA_CACHE_DIR`` to move it.

The cache stores pickles: only point ``MITRA_CACHE_DIR`` at a folder you trust, like any
folder Python code is loaded from.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from analysis.base import paths

__all__ = ["cache_dir", "cache_key", "cached", "code_fingerprint", "folder_fingerprint"]

T = TypeVar("T")
_PACKAGE = Path(__file__).resolve().parents[1]  # src/analysis


@functools.cache
def code_fingerprint() -> str:
    """sha256 over the package's source files (path and bytes), computed once per process."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def folder_fingerprint(root: str | Path) -> str:
    """sha256 over every file under ``root`` (relative path and bytes).

    Key material for results built from a whole data folder (the ledger, the partner panel):
    any added, removed or changed file gives a new key. Hashing Mitra's ``data/`` (3 MB, 47
    files) takes about 10 ms, against seconds to rebuild what depends on it.
    """
    root = Path(root)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _plain(value: object) -> object:
    """A JSON-serialisable, order-independent form of settings and key material."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)  # type: ignore[type-var]
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    # Anything else must say what it is deterministically; repr of an arbitrary object may
    # hold a memory address, which would silently defeat the cache.
    raise TypeError(f"cache key material of type {type(value).__name__} is not supported")


def cache_key(namespace: str, material: object) -> str:
    """Hex key for ``material`` (data fingerprints, settings) in ``namespace``."""
    text = json.dumps([namespace, code_fingerprint(), _plain(material)], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def cache_dir() -> Path:
    """Where entries live: ``$MITRA_CACHE_DIR`` or ``reports/.cache``."""
    env = os.environ.get("MITRA_CACHE_DIR")
    return Path(env) if env else paths.REPORTS / ".cache"


def _enabled() -> bool:
    return os.environ.get("MITRA_CACHE", "on").strip().lower() not in {"off", "0", "no", "false"}


def cached(namespace: str, material: object, compute: Callable[[], T]) -> T:
    """Return ``compute()``, from the cache when the same code, data and settings made it.

    Parameters
    ----------
    namespace
        Short name of what is computed (a folder name: letters, digits, ``-``, ``_``).
    material
        Everything the result depends on besides the code: data fingerprints and settings
        (dataclasses, mappings, sequences and scalars).
    compute
        Called on a miss; its result must pickle.
    """
    if not namespace.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"cache namespace {namespace!r}: use letters, digits, '-' or '_'")
    if not _enabled():
        return compute()
    path = cache_dir() / namespace / f"{cache_key(namespace, material)}.pkl"
    found, result = _load(path)
    if found:
        return result
    with _computing(path):
        # Another process may have computed it while this one waited for the lock.
        found, result = _load(path)
        if found:
            return result
        result = compute()
        _store(path, result)
    return result


def _load(path: Path) -> tuple[bool, object]:
    if path.is_file():
        try:
            with path.open("rb") as handle:
                return True, pickle.load(handle)  # our own cache folder: see the module doc
        except Exception:
            # A truncated or stale entry is not an error: recompute and replace it.
            pass
    return False, None


@contextlib.contextmanager
def _computing(path: Path):
    """Hold the entry's lock while computing it: a batch's kernels that need the same result
    at the same time (two sectors' reports reading one gravity study) compute it once; the
    others wait and read it. The lock is an advisory ``flock`` on a side file, released by
    the system if the process dies. Where it cannot be taken (no ``fcntl``, a read-only
    folder) each process computes on its own, as before.
    """
    try:
        import fcntl

        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.with_name(f".{path.name}.lock"), "a+b")
    except (ImportError, OSError):
        yield
        return
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        handle.close()  # releases the lock


def _store(path: Path, result: object) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        with tmp.open("wb") as handle:
            pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        # A read-only or full disk must not fail the report: the cache is an optimisation.
        pass
