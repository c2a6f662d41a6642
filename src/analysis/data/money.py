"""Amounts printed with a currency and a scale ("USD million", "IDR trillion (approx.)").

The compiled fact files (partner x sector investment, projects, investor-side tables) keep
each amount in the unit it was published in. :func:`parse_money_unit` reads such a unit and
:class:`UsdConverter` adds a US$-million figure where a rate exists, saying which rate:

- rupiah at BKPM's convention, the APBN assumption of the year (market average where no
  APBN rate is shipped, flagged ``fx_fallback_market``), from :mod:`analysis.data.units`;
- other currencies at the official annual average of the year (World Bank PA.NUS.FCRF;
  TWD from the Federal Reserve) in ``raw/partners/exchange_rates_additions.csv``;
- no rate for the currency and year: the converted figure stays missing (flag
  ``fx_unavailable``); nothing is interpolated.

A qualifier in brackets ("up to", "more than", "approx.") is kept in ``unit_qualifier`` and
flagged ``amount_qualified``: the figure is a bound or an approximation, not a point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.base import paths
from analysis.data.provenance import verify_file
from analysis.data.schema import Column, read_table
from analysis.data.units import FX_ADDITIONS_FILE, load_fx_table

__all__ = ["MONEY_UNIT_EXPECTED", "MoneyUnit", "UsdConverter", "parse_money_unit"]

_SCALES = {
    "": 1.0,
    "thousand": 1e3,
    "million": 1e6,
    "100 million": 1e8,
    "crore": 1e7,
    "billion": 1e9,
    "trillion": 1e12,
}
_ALIASES = {"US$": "USD", "Rp": "IDR"}
_MONEY = re.compile(
    r"^(?P<cur>[A-Z]{3}|US\$|Rp)\s+(?P<scale>thousand|million|100 million|crore|billion|trillion)"
    r"(?:\s*\((?P<qual>[^()]*)\))?$"
)
_RATE = re.compile(r"^(?P<cur>[A-Z]{3})/(?P<per>hour|day|week|month|year)$")
MONEY_UNIT_EXPECTED = (
    "a currency code and scale as published, e.g. 'USD million', 'IDR trillion', "
    "'JPY 100 million', 'INR crore', optionally with a qualifier in brackets "
    "('USD billion (up to)')"
)


@dataclass(frozen=True)
class MoneyUnit:
    """A parsed money unit: ``currency`` (ISO 4217), ``factor`` (units per printed unit),
    ``per`` (``month`` for a wage rate, else empty) and the bracketed ``qualifier``."""

    currency: str
    factor: float
    qualifier: str = ""
    per: str = ""


def parse_money_unit(text: str) -> MoneyUnit | None:
    """Parse ``USD million``, ``IDR trillion (approx.)``, ``USD/month``; None otherwise."""
    text = text.strip()
    m = _MONEY.match(text)
    if m:
        cur = _ALIASES.get(m.group("cur"), m.group("cur"))
        return MoneyUnit(cur, _SCALES[m.group("scale")], (m.group("qual") or "").strip())
    m = _RATE.match(text)
    if m:
        return MoneyUnit(m.group("cur"), 1.0, "", m.group("per"))
    return None


class UsdConverter:
    """Convert published amounts to US$ million (or US$ for rates) with the rate used.

    Parameters
    ----------
    root
        The data folder (default ``data/``).
    idr_basis
        ``apbn`` (BKPM's convention, for investment figures) or ``market`` (annual average,
        for wages and other market prices).
    """

    def __init__(self, root: str | Path | None = None, *, idr_basis: str = "apbn") -> None:
        root = Path(root) if root is not None else paths.DATA
        self.idr_basis = idr_basis
        self.idr = load_fx_table(root)
        verify_file(FX_ADDITIONS_FILE, root=root)
        raw = read_table(
            root / FX_ADDITIONS_FILE,
            (
                Column("currency"),
                Column("year", "int", bounds=(1960, 2100)),
                Column("basis"),
                Column("per_usd", "float", bounds=(1e-9, 1e9)),
                Column("source_url"),
                Column("note", nullable=True),
            ),
            label=f"data/{FX_ADDITIONS_FILE}",
        )
        market = raw[raw["basis"] == "market_avg"]
        self._market = {
            (str(c), int(y)): (float(r), str(s))
            for c, y, r, s in zip(
                market["currency"],
                market["year"],
                market["per_usd"],
                market["source_url"],
                strict=True,
            )
        }

    def rate(self, currency: str, year: int | None) -> tuple[float | None, str, tuple[str, ...]]:
        """Units of ``currency`` per US$ in ``year``: (rate, basis, flags)."""
        if currency == "USD":
            return 1.0, "", ()
        if year is None or pd.isna(year):
            return None, "", ("fx_unavailable",)
        year = int(year)
        if currency == "IDR":
            fx = self.idr.rate(year, self.idr_basis, "market")
            if fx is None:
                return None, "", ("fx_unavailable",)
            return fx.rate, fx.basis, ("fx_converted", *fx.flags)
        hit = self._market.get((currency, year))
        if hit is None:
            return None, "", ("fx_unavailable",)
        return hit[0], "market_avg", ("fx_converted",)

    def to_usd(
        self, value: float | None, unit: MoneyUnit | None, year: int | None
    ) -> tuple[float, float, str, tuple[str, ...]]:
        """Return (US$ million -- or US$ per period for a rate --, rate, basis, flags)."""
        nan = float("nan")
        if value is None or pd.isna(value) or unit is None:
            return nan, nan, "", ()
        qual = ("amount_qualified",) if unit.qualifier else ()
        rate, basis, flags = self.rate(unit.currency, year)
        if rate is None:
            return nan, nan, "", (*flags, *qual)
        amount = float(value) * unit.factor / rate
        if not unit.per:
            amount /= 1e6
        return amount, (rate if unit.currency != "USD" else nan), basis, (*flags, *qual)
