"""Running the brief: ``run``, ``run_brief`` and the top partners of a sector."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict
from functools import cache
from typing import TYPE_CHECKING

import pandas as pd

from analysis.data.ledger import Ledger

if TYPE_CHECKING:
    from analysis.studies.gravity import GravityStudySettings
from .result import PartnerBrief
from .settings import BriefSettings
from .sources import _firms, _gravity, _instruments, _investment_sides, _projects, _ranking, _trade


def run(settings: BriefSettings, inputs=None) -> PartnerBrief:
    """Run the brief on the shared inputs (:func:`analysis.studies.inputs.inputs`)."""
    if inputs is None:
        from analysis.studies.inputs import inputs as shared

        inputs = shared()
    return run_brief(settings, inputs.ledger)


def _history(ledger: Ledger, partner: str, start_year: int, end_year: int) -> pd.DataFrame:
    """BKPM's PMA from the partner, all sectors: full years ``start_year``-``end_year``, then
    every period published after the end year (the latest partial-year releases).

    Columns: year, period, value, upper_bound (the list's smallest value when the partner
    is not listed), status (observed, censored, unknown), flags.
    """
    panel = ledger.partner_panel([partner])
    fy = panel[(panel["period"] == "FY") & panel["year"].between(start_year, end_year)]
    later = panel[panel["year"] > end_year]
    # Cumulative periods, in release order; quarters are in the CSV but not the brief.
    order = {"FY": 0, "Q1": 1, "H1": 2, "9M": 3}
    later = later[later["period"].isin(order)]
    later = later.assign(_o=later["period"].map(order)).sort_values(["year", "_o"])
    cols = ["year", "period", "value", "upper_bound", "status", "flags"]
    return pd.concat([fy[cols], later[cols]], ignore_index=True)


def run_brief(settings: BriefSettings, ledger: Ledger | None = None) -> PartnerBrief:
    """Compute a partner brief (ledger built with default settings when not given)."""
    if ledger is None:
        from analysis.studies.inputs import inputs

        ledger = inputs().ledger
    potential = _gravity(ledger, settings.gravity)
    ranking = _ranking(ledger, settings.ranking)
    history = _history(ledger, settings.partner, settings.start_year, settings.end_year)
    fingerprint = hashlib.sha256(
        json.dumps(
            {"data": ledger.fingerprint, "settings": asdict(settings)}, sort_keys=True, default=str
        ).encode()
    ).hexdigest()[:16]
    return PartnerBrief(
        settings=settings,
        ranking=ranking,
        potential=potential,
        history=history,
        trade=_trade(settings.partner, settings.sector, settings.end_year),
        agreements=_instruments(settings.partner, settings.end_year),
        fingerprint=fingerprint,
        effects=_effects(ledger, settings.gravity, settings.partner),
        sides=_investment_sides(ledger, settings.partner, settings.sector),
        projects=_projects(settings.partner, settings.sector),
        firms=_firms(settings.partner, settings.sector),
    )


def _effects(ledger: Ledger, gravity: GravityStudySettings, partner: str) -> pd.DataFrame:
    """Pending agreements' effects covering the partner (report 20's numbers, no refit)."""
    from analysis.studies.gravity import agreement_effects

    return agreement_effects(gravity, partner=partner, ledger=ledger)


@contextlib.contextmanager
def _root_logging_kept():
    """Undo a library's ``logging.basicConfig(level=INFO)`` (the gravity fit's dependencies
    call it), so planning a batch does not flood the console with INFO lines."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        yield
    finally:
        root.setLevel(level)
        for h in list(root.handlers):
            if h not in handlers:
                root.removeHandler(h)


def _planning_ledger(params) -> Ledger:
    """The ledger of ``params``, built once per process for planning briefs."""
    from analysis.studies.inputs import inputs

    with _root_logging_kept():
        return inputs(params).ledger


@cache
def _top(sector: str, n: int, files: tuple[str, ...]) -> tuple[str, ...]:
    from dataclasses import replace

    from analysis.config import load_params
    from analysis.studies.ranking import settings as ranking_settings

    p = load_params(*files)
    s = ranking_settings(p)
    # The nominal rank does not depend on the Monte Carlo: a few draws suffice here.
    s = replace(s, sector=sector, compare_sectors=False, ranking=replace(s.ranking, draws=100))
    with _root_logging_kept():
        ranking = _ranking(_planning_ledger(p), s)
    t = ranking.table
    t = t[t["status"] == "ranked"].sort_values("rank")
    return tuple(t["partner_iso3"].head(n))


def top_partners(
    sector: str, n: int = 3, files: Sequence[str] = ("params/base.yaml",)
) -> list[str]:
    """The ``n`` best-ranked partners of a sector under the params ``files`` (nominal rank)."""
    return list(_top(sector, n, tuple(files)))
