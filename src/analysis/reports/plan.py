"""Planning a batch: which notebooks with which params sets, validated before any kernel.

The default batch (``make reports``) is every default notebook for every sector set, plus
partner briefs (:func:`plan_briefs`). :func:`validate_jobs` checks every job's parameters
before any kernel starts and returns what each notebook receives.
"""

from __future__ import annotations

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
from analysis.errors import PipelineError

__all__ = [
    "BRIEF_LANGUAGES",
    "BRIEF_NOTEBOOK",
    "BRIEF_PARTNERS",
    "BRIEF_TOP",
    "DEFAULT_NOTEBOOKS",
    "DEFAULT_SETS",
    "KERNEL_NAME",
    "Job",
    "plan_batch",
    "plan_briefs",
    "validate_jobs",
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
