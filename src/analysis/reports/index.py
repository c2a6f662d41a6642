"""The run's index page and the ``reports/latest`` link."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from analysis.reports.plan import plan_batch, plan_brief_requests, plan_briefs


def _is_complete_default(
    records: Mapping[str, Mapping[str, object]], run_dir: Path | None = None
) -> bool:
    """True when ``records`` hold every report of the default batch, all ok: the sector
    reports, and the briefs their ranking reports chose (from the run's ranking tables)."""
    if not records or any(r.get("status") != "ok" for r in records.values()):
        return False
    try:
        if not {j.name for j in plan_batch()} <= set(records):
            return False
        if run_dir is None:
            return False
        default = {j.name for j in plan_briefs(run_dir, plan_brief_requests())}
    except Exception:  # a plan that cannot be made is not a complete default batch
        return False
    return bool(default) and default <= set(records)


def _point_latest(
    reports_dir: Path, run_id: str, records: Mapping[str, Mapping[str, object]] | None = None
) -> None:
    """Point ``reports/latest`` at this run if it is a complete default batch.

    A smaller run (one sector, ``--ci``, a single report) or one with failures never moves
    ``latest``: it always opens the newest full set of reports.
    """
    if records is not None and not _is_complete_default(records, reports_dir / run_id):
        return
    link = reports_dir / "latest"
    tmp = reports_dir / f".latest-{os.getpid()}"
    with contextlib.suppress(OSError):
        tmp.unlink()
    try:
        os.symlink(run_id, tmp)
        os.replace(tmp, link)
    except OSError:  # e.g. file systems without symlinks: the run folder is enough
        with contextlib.suppress(OSError):
            tmp.unlink()


def _index_html(manifest: Mapping[str, object], run_dir: Path | None = None) -> str:
    """The run's portal (:func:`analysis.reports.export.index_html`)."""
    from analysis.reports.export import index_html

    data_check = None
    if run_dir is not None and (run_dir.parent / "data-check" / "summary.md").is_file():
        data_check = "../data-check/summary.md"
    return index_html(manifest, run_dir, data_check=data_check)
