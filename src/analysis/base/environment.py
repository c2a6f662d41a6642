"""What produced an output: package versions, git commit, and a report's provenance table."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from analysis.base import paths
from analysis.base.summary import Summary

__all__ = [
    "environment_record",
    "git_commit",
    "provenance_summary",
    "skip_slow_optional_imports",
]

#: Optional modules that third-party imports pull in and Mitra's own processes never use.
#: ``rfc3987_syntax``: jsonschema (through nbformat, in every process that reads a notebook)
#: imports it for its optional "iri" format checker, and it builds ~35 Earley parsers at
#: import: about 2 s of CPU per process on a 2-core machine, known upstream
#: (python-jsonschema/jsonschema#1392, #1428). No notebook schema uses that format.
SLOW_OPTIONAL_IMPORTS = ("rfc3987_syntax",)


def skip_slow_optional_imports() -> None:
    """Make :data:`SLOW_OPTIONAL_IMPORTS` unavailable in this process (an ImportError, which
    their importers treat as "not installed"), unless already imported.

    Called by Mitra's own processes only (the ``mitra`` command and batch workers), never in
    a kernel, where a user's code may want those modules.
    """
    for name in SLOW_OPTIONAL_IMPORTS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


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


def provenance_summary(
    params: object, hashes: Mapping[str, str], *, language: str = "en", appendix: bool = False
) -> Summary:
    """What produced a report: parameters, data hashes, package versions and git commit.

    Parameters
    ----------
    params
        The validated params set (its ``origin`` says which file or cell set each value).
    hashes
        Data file -> sha256.
    language
        Headings and column names in ``en`` or ``id`` (values, file names, hashes as they are).
    appendix
        Render as a compact appendix that starts on a new printed page (the briefs).
    """
    import pandas as pd

    from analysis.base.i18n import messages

    m = messages(language)
    env = environment_record()
    values = params.to_dict() if hasattr(params, "to_dict") else dict(params)  # type: ignore[call-overload]
    origin = getattr(params, "origin", {})

    def where(k: str) -> str:
        text = str(origin.get(k, ""))
        key = "provenance.origin_" + text.replace(" ", "_")
        return m(key) if m.has(key) else text

    table_params = pd.DataFrame(
        {
            m("provenance.value"): [str(v) for v in values.values()],
            m("provenance.set_by"): [where(k) for k in values],
        },
        index=pd.Index(list(values), name=m("provenance.parameter")),
    )
    table_data = pd.DataFrame(
        {"sha256": list(hashes.values())}, index=pd.Index(list(hashes), name=m("provenance.file"))
    )
    table_env = pd.DataFrame(
        {m("provenance.version"): list(env["packages"].values())},  # type: ignore[union-attr]
        index=pd.Index(list(env["packages"]), name=m("provenance.package")),
    )  # type: ignore[arg-type]
    packages = m("provenance.packages")
    return Summary(
        title=m("common.provenance"),
        settings={
            # Outside a git checkout the commit is not known: said in the report's language.
            m("provenance.commit"): (
                m("common.not_available") if env["git_commit"] == "unknown" else env["git_commit"]
            ),
            "Python": env["python"],
        },
        tables=[
            (m("common.parameters"), table_params),
            (m("provenance.data_files"), table_data),
            (packages, table_env),
        ],
        notes=[m("provenance.note")],
        appendix=appendix,
        inline=(packages,) if appendix else (),
    )
