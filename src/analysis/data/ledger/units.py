"""Step 1 of the ledger: candidates canonicalised to one unit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.base.vocab import (
    CANONICAL_UNITS,
    UNITS,
)
from analysis.data.units import FxTable

from .settings import LedgerSettings

# --- step 1: units ---------------------------------------------------------------------


def _canonicalise(cand: pd.DataFrame, fx: FxTable, settings: LedgerSettings) -> pd.DataFrame:
    """Add canonical ``value``/``unit``, ``value_idr_bn``, half-units and FX columns."""
    cand = cand.copy()
    cur = cand["unit_published"].map(lambda u: UNITS[u][0])
    scale = cand["unit_published"].map(lambda u: UNITS[u][1])
    unit = cand["measure"].map(CANONICAL_UNITS)
    cur_to = unit.map(lambda u: UNITS[u][0])
    scale_to = unit.map(lambda u: UNITS[u][1])
    rates = {
        y: fx.rate(int(y), settings.fx_basis, settings.fx_fallback) for y in cand["year"].unique()
    }
    rate = cand["year"].map(lambda y: rates[y].rate if rates[y] is not None else np.nan)
    basis = cand["year"].map(lambda y: rates[y].basis if rates[y] is not None else pd.NA)
    amount = cand["value_published"] * scale  # in currency units
    half = 0.5 * 10.0 ** (-cand["decimals"].astype(float)) * scale
    needs = cur != cur_to
    to_idr = np.where(cur == "IDR", 1.0, rate)
    to_usd = np.where(cur == "USD", 1.0, 1.0 / rate)
    factor = np.where(cur_to == "IDR", to_idr, to_usd)
    cand["unit"] = unit
    cand["value"] = amount * factor / scale_to
    cand["half_unit"] = half * factor / scale_to
    cand["value_idr_bn"] = amount * to_idr / 1e9
    cand["half_unit_idr_bn"] = half * to_idr / 1e9
    cand["currency_published"] = cur
    cand["fx_converted"] = needs
    uses_fx = needs | (cur == "USD")  # value_idr_bn of a US$ figure also needs a rate
    cand["fx_basis"] = basis.where(uses_fx, pd.NA).astype("string")
    cand["fx_rate"] = rate.where(uses_fx, np.nan)
    flags = []
    for row_flags, conv, usd, y in zip(
        cand["flags"], needs, cur == "USD", cand["year"], strict=True
    ):
        extra: list[str] = []
        if conv:
            extra.append("fx_converted")
        if conv or usd:
            r = rates[y]
            extra += list(r.flags) if r is not None else ["fx_unavailable"]
        flags.append(tuple(sorted(set(row_flags) | set(extra))))
    cand["flags"] = flags
    return cand
