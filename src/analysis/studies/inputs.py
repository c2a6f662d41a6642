"""The shared inputs of every study (ledger, partner panel), built once per settings.

Notebooks and studies both call :func:`inputs`: the ledger is built with the params'
``ledger`` group (``fx_basis``, ``fx_fallback``), so the exchange-rate basis reaches every
report, and a process (a notebook, a test, the batch's planner) builds each ledger once.
"""

from __future__ import annotations

from functools import cache, cached_property

from analysis.data.ledger import Ledger, LedgerSettings
from analysis.data.panel import PartnerPanel

__all__ = ["Inputs", "inputs", "ledger_settings"]


class Inputs:
    """The ledger (built on creation) and the partner panel (loaded on first use)."""

    def __init__(self, settings: LedgerSettings) -> None:
        from analysis.base import paths
        from analysis.base.cache import cached, folder_fingerprint
        from analysis.data import build_ledger

        self.settings = settings
        # On disk, keyed by every data file's bytes: each report of a batch runs in its own
        # kernel and would otherwise rebuild the ledger (3-6 s) that the previous one built.
        root = paths.DATA.resolve()
        material = {"root": str(root), "data": folder_fingerprint(root), "settings": settings}
        self.ledger: Ledger = cached("ledger", material, lambda: build_ledger(settings=settings))

    @cached_property
    def panel(self) -> PartnerPanel:
        from analysis.data.panel import load_panel

        return load_panel()

    def __repr__(self) -> str:
        return f"Inputs({self.settings!r})"


def ledger_settings(params) -> LedgerSettings:
    """The ledger's settings from the params' ``ledger`` group (``none`` = no fallback)."""
    g = params.ledger
    fallback = None if g.fx_fallback == "none" else g.fx_fallback
    return LedgerSettings(fx_basis=g.fx_basis, fx_fallback=fallback)


@cache
def _inputs(settings: LedgerSettings) -> Inputs:
    return Inputs(settings)


def inputs(params=None) -> Inputs:
    """The shared inputs for ``params`` (default: the declared defaults), cached per settings."""
    if params is None:
        from analysis.config import Params

        params = Params()
    return _inputs(ledger_settings(params))
