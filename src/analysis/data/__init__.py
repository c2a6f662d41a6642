"""The data layer: raw files with provenance -> validated, canonical ledger tables."""

from analysis.data.agreements import agreements_table, in_force, instruments
from analysis.data.ledger import Ledger, LedgerSettings, build_ledger
from analysis.data.panel import CANDIDATES, PartnerPanel, load_panel
from analysis.data.provenance import verify_file
from analysis.data.sectors import load_sector_map
from analysis.data.units import load_fx_table

__all__ = [
    "CANDIDATES",
    "Ledger",
    "LedgerSettings",
    "PartnerPanel",
    "agreements_table",
    "build_ledger",
    "in_force",
    "instruments",
    "load_fx_table",
    "load_panel",
    "load_sector_map",
    "verify_file",
]
