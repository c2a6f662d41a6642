"""The data layer: raw files with provenance -> validated, canonical ledger tables."""

from analysis.data.ledger import Ledger, LedgerSettings, build_ledger
from analysis.data.provenance import verify_file
from analysis.data.sectors import load_sector_map
from analysis.data.units import load_fx_table

__all__ = [
    "Ledger",
    "LedgerSettings",
    "build_ledger",
    "load_fx_table",
    "load_sector_map",
    "verify_file",
]
