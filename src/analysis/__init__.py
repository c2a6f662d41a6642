"""Mitra: analytics for industrial investment policy in Indonesia.

Notebooks use the few names re-exported here; everything else lives in its own module
(:mod:`analysis.data`, :mod:`analysis.cli`, ...).
"""

from analysis.data import Ledger, LedgerSettings, build_ledger

__all__ = ["Ledger", "LedgerSettings", "build_ledger"]
__version__ = "0.1.0"
