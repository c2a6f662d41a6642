"""Planning a batch: which notebooks with which params sets, validated before any kernel.

The default batch (``make reports``) is every default notebook for every sector set, plus
partner briefs, planned in a second phase from the ranking reports' own tables
(:func:`plan_brief_requests`, :func:`brief_partners`, :func:`plan_briefs`).
:func:`validate_jobs` checks every job's parameters before any kernel starts and returns what
each notebook receives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from analysis.base import paths
from analysis.base.errors import PipelineError
from analysis.base.i18n import count
from analysis.config import (
    ParamsError,
    load_params,
    notebook_parameters,
    read_params_file,
    resolve_params_file,
)

__all__ = [
    "BRIEF_LANGUAGES",
    "BRIEF_NOTEBOOK",
    "BRIEF_PARTNERS",
    "BRIEF_TOP",
    "DEFAULT_NOTEBOOKS",
    "DEFAULT_SETS",
    "KERNEL_NAME",
    "RANKING_NOTEBOOK",
    "BriefRequest",
    "Job",
    "brief_partners",
    "plan_batch",
    "plan_brief_requests",
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
#: The ranking report whose table chooses the briefed partners (:func:`brief_partners`).
RANKING_NOTEBOOK = "notebooks/30-partner-ranking.ipynb"
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


@dataclass(frozen=True)
class BriefRequest:
    """Briefs to plan for one params set once its ranking report has finished.

    The default batch runs in two phases: the ranking reports first, then the briefs of each
    sector's best-ranked partners, chosen from that ranking report's own
    ``tables/30-partner-ranking--<label>/ranking.csv`` (:func:`brief_partners`), so planning
    never runs a model.
    """

    ranking_report: str  # e.g. "30-partner-ranking--chemical"
    params_files: tuple[str, ...]
    label: str  # set label, e.g. "chemical" or "chemical-ci"
    sector: str
    languages: tuple[str, ...] = BRIEF_LANGUAGES
    top: int = BRIEF_TOP
    notebook: str = BRIEF_NOTEBOOK


def _truthy(value: object) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes")


def brief_partners(table, sector: str, top: int = BRIEF_TOP) -> list[str]:
    """Partners to brief for ``sector`` from a ranking report's ``ranking.csv`` table.

    The ``top`` partners by ``median_rank`` (ties: nominal ``rank``, then the code) among the
    rows that are not financial hubs (``hub`` false) and have a sector score (a non-empty
    ``sector_score`` where the table has that column; otherwise status ``ranked``), then the
    partners briefed whatever their rank (:data:`BRIEF_PARTNERS`).
    """
    import pandas as pd

    t = pd.DataFrame(table)
    missing = [c for c in ("partner_iso3", "median_rank") if c not in t.columns]
    if missing:
        names = ", ".join(missing)
        raise PipelineError(
            f"ranking table has no {count(len(missing), 'columns_named', names=names)}"
        )
    keep = ~t["hub"].map(_truthy) if "hub" in t.columns else pd.Series(True, index=t.index)
    if "sector_score" in t.columns:
        keep &= pd.to_numeric(t["sector_score"], errors="coerce").notna()
    elif "status" in t.columns:
        keep &= t["status"].astype(str) == "ranked"
    t = t[keep].assign(
        _median=pd.to_numeric(t["median_rank"], errors="coerce"),
        _rank=pd.to_numeric(t["rank"], errors="coerce") if "rank" in t.columns else 0,
    )
    t = t[t["_median"].notna()].sort_values(["_median", "_rank", "partner_iso3"])
    chosen = [str(p) for p in t["partner_iso3"].head(top)]
    return list(dict.fromkeys([*chosen, *BRIEF_PARTNERS.get(sector, ())]))


def plan_brief_requests(
    sets: Iterable[Sequence[str | Path]] | None = None,
    *,
    extra_files: Sequence[str | Path] = (),
    top: int = BRIEF_TOP,
    languages: Sequence[str] = BRIEF_LANGUAGES,
) -> list[BriefRequest]:
    """One :class:`BriefRequest` per params set (default: the sector sets): which ranking
    report the set's briefs wait for. Reads params only; runs nothing."""
    nb = paths.ROOT / BRIEF_NOTEBOOK
    if not nb.is_file():
        raise PipelineError(f"{nb}: notebook not found")
    ranking_nb = Path(RANKING_NOTEBOOK).stem
    out = []
    for files in [tuple(s) for s in (sets or DEFAULT_SETS)]:
        layered = tuple(_rel(resolve_params_file(f)) for f in (*files, *extra_files))
        sector = str(load_params(*[_abs(f) for f in layered]).sector)
        label = _set_label([*files, *extra_files])
        out.append(
            BriefRequest(
                f"{ranking_nb}--{label}", layered, label, sector, tuple(languages), top, _rel(nb)
            )
        )
    return out


def plan_briefs(run_dir: str | Path, requests: Iterable[BriefRequest]) -> list[Job]:
    """Brief jobs for ``requests`` from the ranking tables their reports wrote in ``run_dir``.

    Names are ``40-partner-brief--<set label>-<partner>-<language>``, e.g.
    ``40-partner-brief--chemical-deu-id``. A request whose ranking table is missing or
    unreadable is an error naming the file.
    """
    import pandas as pd

    jobs = []
    for req in requests:
        path = Path(run_dir) / "tables" / req.ranking_report / "ranking.csv"
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (OSError, ValueError) as exc:
            raise PipelineError(f"{path}: cannot plan the {req.label} briefs ({exc})") from None
        try:
            partners = brief_partners(table, req.sector, req.top)
        except PipelineError as exc:
            raise PipelineError(f"{path}: {exc}") from None
        stem = Path(req.notebook).stem
        for partner in partners:
            for language in req.languages:
                jobs.append(
                    Job(
                        req.notebook,
                        req.params_files,
                        f"{stem}--{req.label}-{partner.lower()}-{language}",
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
    Partner briefs are never part of the plan: they depend on the ranking reports' results,
    so :func:`~analysis.reports.batch.run_batch` plans them once those reports have finished
    (``briefs=`` :func:`plan_brief_requests`; the default batch does this). ``briefs=True``
    is refused (it used to run a ranking while planning).
    """
    if briefs:
        raise PipelineError(
            "briefs are planned after the ranking reports: pass "
            "run_batch(..., briefs=plan_brief_requests(...))"
        )
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
