"""Flow series: :class:`FlowSeries` and ``build_series``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.data.ledger import Ledger

# --- series -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowSeries:
    """An annual investment series from the ledger, gaps kept as NaN.

    Attributes
    ----------
    values
        Index: every year from start to end; NaN where nothing is published.
    origin
        ``published``, ``derived``, ``interpolated`` or ``missing`` per year.
    """

    sector: str
    measure: str
    unit: str
    values: pd.Series
    origin: pd.Series
    flags: pd.Series
    sources: pd.Series
    note: str = ""

    @property
    def n_observed(self) -> int:
        """Years with a value (published, derived or interpolated)."""
        return int(self.values.notna().sum())

    def sample(self) -> pd.Series:
        """The last unbroken run of years with values: what models are fitted on."""
        v = self.values
        if v.notna().sum() == 0:
            return v.iloc[0:0]
        last = v.last_valid_index()
        run = v.loc[:last]
        gaps = run[run.isna()]
        start = gaps.index.max() + 1 if len(gaps) else run.index.min()
        return run.loc[start:].astype(float)

    def to_frame(self) -> pd.DataFrame:
        """Year, value, unit, origin, flags and sources in one table."""
        return pd.DataFrame(
            {
                "year": self.values.index,
                "sector": self.sector,
                "measure": self.measure,
                "value": self.values.to_numpy(),
                "unit": self.unit,
                "origin": self.origin.to_numpy(),
                "flags": self.flags.to_numpy(),
                "sources": self.sources.to_numpy(),
            }
        )


def build_series(
    ledger: Ledger,
    sector: str,
    measure: str,
    start: int,
    end: int,
    *,
    interpolate: bool = False,
    include_derived: bool = True,
    currency: str = "auto",
) -> FlowSeries:
    """Full-year series of one sector and measure, national, from the ledger.

    Parameters
    ----------
    ledger
        The investment ledger.
    sector, measure
        Ledger codes (``chem_pharma``, ``pma``).
    start, end
        Years of the index.
    interpolate
        Fill interior gaps log-linearly (flagged ``interpolated``). Off by default: gaps
        stay gaps.
    include_derived
        Use FY values derived from quarters (flagged ``derived``).
    currency
        ``auto`` (the currency most years were printed in), ``IDR`` (Rp billion) or
        ``canonical`` (the measure's canonical unit: US$ million for PMA).
    """
    years = pd.Index(range(start, end + 1), name="year")
    obs = ledger.annual(measure, sector, include_derived=include_derived).set_index("year")
    obs = obs.reindex(years)
    canonical = str(obs["unit"].dropna().iloc[0]) if obs["unit"].notna().any() else ""
    if currency == "auto":
        # Model in the currency most years were printed in, so no exchange rate enters the
        # series (national PMA is published in rupiah, sector PMA in US$).
        printed = obs["unit_published"].dropna()
        idr = printed.str.startswith("Rp").sum()
        currency = "IDR" if idr > len(printed) / 2 else "canonical"
    if currency == "IDR":
        values = obs["value_idr_bn"].astype(float)
        unit = "Rp billion"
    elif currency == "canonical":
        values = obs["value"].astype(float)
        unit = canonical
    else:
        raise ValueError(f"currency must be 'auto', 'IDR' or 'canonical', got {currency!r}")
    values[values <= 0] = np.nan  # logs need positive values; a zero is not a flow level
    origin = obs["origin"].where(values.notna(), "missing").astype(object)
    flags = obs["flags"].fillna("").astype(object)
    sources = obs["sources"].fillna("").astype(object)
    if interpolate and values.notna().sum() >= 2:
        logs = np.log(values)
        inner = logs.loc[logs.first_valid_index() : logs.last_valid_index()]
        filled = inner.interpolate(method="index", limit_area="inside")
        new = filled.index[inner.isna() & filled.notna()]
        values.loc[new] = np.exp(filled.loc[new])
        origin.loc[new] = "interpolated"
        flags.loc[new] = "interpolated"
    return FlowSeries(sector, measure, unit, values, origin, flags, sources)
