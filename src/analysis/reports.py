"""Writing outputs: atomic folders and run manifests.

A report folder is built in a temporary sibling and swapped into place only when complete,
so a failed run leaves the previous good output untouched.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from analysis import paths
from analysis.summary import Summary

__all__ = [
    "atomic_dir",
    "atomic_write",
    "environment_record",
    "git_commit",
    "provenance_summary",
    "write_json",
]

_PACKAGES = (
    "mitra",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "pyfixest",
    "SALib",
    "countryinfo",
    "pycountry",
    "matplotlib",
    "papermill",
    "nbconvert",
    "distributed",
)


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=10
    ).stdout.strip()


def git_commit(root: Path | None = None) -> str:
    """Return the checkout's commit (with ``-dirty`` if it has changes), or ``unknown``."""
    root = root or paths.ROOT
    try:
        commit = _git(root, "rev-parse", "HEAD")
        dirty = _git(root, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def environment_record() -> dict[str, object]:
    """Return Python, platform, package versions and git commit for a manifest."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "git_commit": git_commit(),
    }


def atomic_write(path: str | Path, data: str | bytes) -> None:
    """Write a file through a temporary sibling and ``os.replace`` (never half-written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode() if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_json(path: Path, data: Mapping[str, object]) -> None:
    """Write JSON atomically, with sorted keys (stable diffs) and a trailing newline."""
    atomic_write(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def provenance_summary(params: object, hashes: Mapping[str, str]) -> Summary:
    """What produced a report: parameters, data hashes, package versions and git commit."""
    import pandas as pd

    env = environment_record()
    values = params.to_dict() if hasattr(params, "to_dict") else dict(params)  # type: ignore[call-overload]
    origin = getattr(params, "origin", {})
    table_params = pd.DataFrame(
        {
            "value": [str(v) for v in values.values()],
            "set by": [origin.get(k, "") for k in values],
        },
        index=pd.Index(list(values), name="parameter"),
    )
    table_data = pd.DataFrame(
        {"sha256": list(hashes.values())}, index=pd.Index(list(hashes), name="file")
    )
    table_env = pd.DataFrame(
        {"version": list(env["packages"].values())},  # type: ignore[union-attr]
        index=pd.Index(list(env["packages"]), name="package"),
    )  # type: ignore[arg-type]
    return Summary(
        title="Provenance",
        settings={"git commit": env["git_commit"], "python": env["python"]},
        tables=[("Parameters", table_params), ("Data files", table_data), ("Packages", table_env)],
    )


@contextlib.contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``target`` only if the block succeeds.

    Examples
    --------
    >>> with atomic_dir(tmp / "data-check") as out:  # doctest: +SKIP
    ...     (out / "summary.md").write_text("...")
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    tmp.chmod(0o755)  # mkdtemp makes 0700; reports are meant to be read by others
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        if old.exists():
            shutil.rmtree(old)
        target.rename(old)
    try:
        tmp.rename(target)
    except BaseException:
        if old is not None:
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
