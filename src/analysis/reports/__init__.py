"""Running reports: plan a batch, execute each notebook, export, index, manifest.

One module per job: :mod:`~analysis.reports.plan` (which notebooks with which params, validated
before any kernel starts), :mod:`~analysis.reports.execute` (one report in a kernel),
:mod:`~analysis.reports.export` (self-contained HTML and the index portal's markup),
:mod:`~analysis.reports.index` (the run's index page and ``reports/latest``),
:mod:`~analysis.reports.manifest` (reading, rebuilding and locking a run's manifest),
:mod:`~analysis.reports.interrupts` (signals, stopping workers and kernels) and
:mod:`~analysis.reports.batch` (the batch itself, :func:`run_batch`).
"""

from analysis.base.environment import provenance_summary
from analysis.base.errors import PipelineError
from analysis.reports.batch import BatchResult, preflight, run_batch
from analysis.reports.execute import execute_job
from analysis.reports.plan import (
    BRIEF_LANGUAGES,
    BRIEF_NOTEBOOK,
    BRIEF_PARTNERS,
    BRIEF_TOP,
    DEFAULT_NOTEBOOKS,
    DEFAULT_SETS,
    KERNEL_NAME,
    RANKING_NOTEBOOK,
    BriefRequest,
    Job,
    brief_partners,
    plan_batch,
    plan_brief_requests,
    plan_briefs,
    validate_jobs,
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
    "BatchResult",
    "BriefRequest",
    "Job",
    "PipelineError",
    "brief_partners",
    "execute_job",
    "plan_batch",
    "plan_brief_requests",
    "plan_briefs",
    "preflight",
    "provenance_summary",
    "run_batch",
    "validate_jobs",
]
