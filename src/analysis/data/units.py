"""Units and currency conversion through an explicit exchange-rate table.

BKPM reports PMA in US$ and converts it to rupiah at the state-budget (APBN) assumption
rate of the year; market averages differ (by 7 % in 2015). Which rate converts a figure is
therefore a choice, the *basis*, and it is recorded with every converted value.

Bases
-----
``apbn``
    The APBN assumption of the year (BKPM's own convention). Where both a proposal
    (RAPBN) and a final figure exist, the final one is used; a year with only a proposal
    uses it and flags ``fx_proposal_rate``.
``market``
    The annual average market rate (IMF IFS / World Bank PA.NUS.FCRF, or the Ministry of
    Finance's realised average). Partial-year averages are never used.

A missing rate is never filled in silently: with ``fallback=None`` the converted value is
missing and flagged ``fx_unavailable``; with an explicit fallback basis the value is
converted with it and flagged ``fx_fallback_<basis>``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.base import paths
from analysis.base.errors import DataValidationError
from analysis.base.vocab import UNITS
from analysis.data.provenance import verify_file
from analysis.data.schema import Column, read_table

__all__ = ["FX_BASES", "FxRate", "FxTable", "load_fx_table", "to_unit"]

FX_BASES = ("apbn", "market")
_KINDS = {"apbn": "apbn_assumption", "market": "market_avg"}
FX_FILE = "raw/partners/exchange_rates.csv"
FX_ADDITIONS_FILE = "raw/partners/exchange_rates_additions.csv"

FX_COLUMNS = (
    Column("year", "int", bounds=(1960, 2100)),
    Column("rate_idr_per_usd", "float", bounds=(1.0, 1e6), expected="rupiah per US$ > 0"),
    Column(
        "kind",
        check=lambda s: s in ("market_avg", "apbn_assumption", "market_avg_partial"),
        expected="market_avg, apbn_assumption or market_avg_partial",
    ),
    Column("source_url"),
    Column("note", nullable=True),
)


@dataclass(frozen=True)
class FxRate:
    """One exchange rate and where it came from."""

    year: int
    rate: float  # rupiah per US$
    basis: str  # basis actually used
    source: str
    flags: tuple[str, ...] = ()


class FxTable:
    """Rupiah per US$ by year and basis, with provenance.

    Parameters
    ----------
    rates
        Validated rows of ``exchange_rates.csv`` (see :func:`load_fx_table`).
    """

    def __init__(self, rates: pd.DataFrame) -> None:
        self.rates = rates.reset_index(drop=True)
        self._table: dict[tuple[int, str], FxRate] = {}
        for basis, kind in _KINDS.items():
            sub = self.rates[self.rates["kind"] == kind]
            for year, rows in sub.groupby("year"):
                # The compilers mark a rate's status in capitals (FINAL, PROPOSAL); lower-case
                # mentions ("final figure not confirmed") are prose, so match case-sensitively.
                note = rows["note"].fillna("").astype(str)
                enacted = rows.get("enacted", pd.Series(False, index=rows.index)).astype(bool)
                final = note.str.contains(r"\bFINAL\b") | enacted
                proposal = note.str.contains(r"\bPROPOSAL\b") & ~final
                # FINAL (or enacted) beats an unmarked figure beats a PROPOSAL (RAPBN); among
                # equals, the later compilation (World Bank PA.NUS.FCRF for market rates).
                rank = (
                    proposal.astype(int) * 4
                    + (~final).astype(int) * 2
                    + rows.get("priority", pd.Series(0, index=rows.index)).astype(int)
                )
                best_i = rank.idxmin()
                best = rows.loc[best_i]
                flags = ("fx_proposal_rate",) if bool(proposal.loc[best_i]) else ()
                self._table[(int(year), basis)] = FxRate(
                    int(year),
                    float(best["rate_idr_per_usd"]),
                    basis,
                    str(best["source_url"]),
                    flags,
                )

    def rate(
        self, year: int, basis: str = "apbn", fallback: str | None = "market"
    ) -> FxRate | None:
        """Return the rate for a year on a basis, or the fallback basis, or None.

        Parameters
        ----------
        year
            Calendar year of the figure.
        basis
            ``apbn`` or ``market``.
        fallback
            Basis used when ``basis`` has no rate for the year; ``None`` for no fallback.
        """
        for b in (basis, fallback):
            if b is not None and b not in FX_BASES:
                raise ValueError(f"unknown exchange-rate basis {b!r}; expected one of {FX_BASES}")
        found = self._table.get((int(year), basis))
        if found is not None:
            return found
        if fallback is not None and fallback != basis:
            alt = self._table.get((int(year), fallback))
            if alt is not None:
                return FxRate(
                    alt.year,
                    alt.rate,
                    alt.basis,
                    alt.source,
                    (*alt.flags, f"fx_fallback_{fallback}"),
                )
        return None

    def to_frame(self) -> pd.DataFrame:
        """Return the rate chosen for each (year, basis)."""
        return pd.DataFrame(
            [
                {
                    "year": r.year,
                    "basis": r.basis,
                    "rate_idr_per_usd": r.rate,
                    "source": r.source,
                    "flags": ";".join(r.flags),
                }
                for r in self._table.values()
            ]
        ).sort_values(["year", "basis"], ignore_index=True)


def _additions(root: Path) -> pd.DataFrame:
    """IDR rows of ``exchange_rates_additions.csv`` in the columns of ``exchange_rates.csv``.

    Its APBN rows are the rates enacted in the state budget (the compilers read the DPR
    decisions: 2019 = 15,000, not the 14,400 proposal), so they count as final unless the
    note says PROPOSAL; its market rows are World Bank PA.NUS.FCRF annual averages.
    """
    verify_file(FX_ADDITIONS_FILE, root=root)
    raw = read_table(
        root / FX_ADDITIONS_FILE,
        (
            Column("currency"),
            Column("year", "int", bounds=(1960, 2100)),
            Column(
                "basis", check=lambda s: s in ("apbn", "market_avg"), expected="apbn or market_avg"
            ),
            Column("per_usd", "float", bounds=(1e-9, 1e9), expected="units per US$ > 0"),
            Column("source_url"),
            Column("note", nullable=True),
        ),
        key=("currency", "year", "basis", "source_url"),
        label=f"data/{FX_ADDITIONS_FILE}",
    )
    idr = raw[raw["currency"] == "IDR"]
    note = idr["note"].fillna("").astype(str)
    return pd.DataFrame(
        {
            "year": idr["year"],
            "rate_idr_per_usd": idr["per_usd"],
            "kind": idr["basis"].map({"apbn": "apbn_assumption", "market_avg": "market_avg"}),
            "source_url": idr["source_url"],
            "note": note,
            "enacted": (idr["basis"] == "apbn") & ~note.str.contains(r"\bPROPOSAL\b"),
            "priority": 0,
            "file": f"data/{FX_ADDITIONS_FILE}",
            "_line": idr["_line"],
        }
    )


def load_fx_table(root: str | Path | None = None) -> FxTable:
    """Load and verify the rupiah rates: ``exchange_rates.csv`` and the IDR rows of
    ``exchange_rates_additions.csv`` (enacted APBN rates 2016-2025, World Bank averages)."""
    root = Path(root) if root is not None else paths.DATA
    # Read once per version of the two files (keyed by their verified hashes): every loader
    # that converts money builds one, several times per report. Do not modify the result.
    return _fx_table(
        str(root.resolve()),
        verify_file(FX_FILE, root=root),
        verify_file(FX_ADDITIONS_FILE, root=root),
    )


@functools.cache
def _fx_table(root: str, fx_sha256: str, additions_sha256: str) -> FxTable:
    path = Path(root)
    rates = read_table(
        path / FX_FILE, FX_COLUMNS, key=("year", "kind", "source_url"), label=f"data/{FX_FILE}"
    )
    rates = rates.assign(enacted=False, priority=1, file=f"data/{FX_FILE}")
    extra = _additions(path)
    return FxTable(pd.concat([rates, extra], ignore_index=True))


def to_unit(value: float, unit_from: str, unit_to: str, rate: float | None = None) -> float:
    """Convert an amount between units; ``rate`` (rupiah per US$) is needed across currencies.

    Raises
    ------
    ValueError
        For an unknown unit, or a currency change without a rate.
    """
    for u in (unit_from, unit_to):
        if u not in UNITS:
            raise DataValidationError(
                "unit conversion", "unknown unit", value=u, expected=", ".join(UNITS)
            )
    cur_from, scale_from = UNITS[unit_from]
    cur_to, scale_to = UNITS[unit_to]
    amount = value * scale_from
    if cur_from != cur_to:
        if rate is None or not rate > 0:
            raise ValueError(f"converting {unit_from} to {unit_to} needs a positive rate")
        amount = amount * rate if cur_from == "USD" else amount / rate
    return amount / scale_to
