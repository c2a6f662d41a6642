"""The ledger's columns, flags and :class:`LedgerSettings`."""

from __future__ import annotations

from dataclasses import dataclass

from analysis.base.vocab import (
    DEFAULT_FX_BASIS,
    DEFAULT_FX_FALLBACK,
    KEY_COLUMNS,
)
from analysis.data.units import FX_BASES

SERIES_COLUMNS = tuple(c for c in KEY_COLUMNS if c != "period")
# A figure whose every source carries one of these loses a conflict; ``conflict_noted``
# is the compilers' "CONFLICT" (they write it on the figure they doubt).
_WEAK = frozenset({"suspect", "superseded", "preliminary", "conflict_noted"})
_EPS = 1e-9
# Quality flags a derived figure inherits from the figures it is computed from.
_INHERITED = frozenset(
    {
        "suspect",
        "period_uncertain",
        "approximate",
        "scope_assumed",
        "conflict_tie",
        "superseded",
        "preliminary",
    }
)


@dataclass(frozen=True)
class LedgerSettings:
    """Choices that shape the ledger; recorded with every result built on it.

    Parameters
    ----------
    fx_basis
        Exchange-rate basis for currency conversions: ``apbn`` (BKPM's convention) or
        ``market``.
    fx_fallback
        Basis used for a year the main basis does not cover (flagged), or None to leave
        such conversions missing (flagged ``fx_unavailable``).
    fx_rtol
        Relative tolerance when comparing figures printed in different currencies. The
        default 0.08 covers the largest gap between the APBN assumption and the market
        average in 2015-2024 (7.1 % in 2015), so a basis difference is not called a conflict.
    min_list_size
        A country list from one source with at least this many countries is read as a
        top-N list (and so censors unlisted partners).
    derive
        Derive quarters from cumulative figures and vice versa.
    """

    fx_basis: str = DEFAULT_FX_BASIS
    fx_fallback: str | None = DEFAULT_FX_FALLBACK
    fx_rtol: float = 0.08
    min_list_size: int = 3
    derive: bool = True

    def __post_init__(self) -> None:
        if self.fx_basis not in FX_BASES:
            raise ValueError(f"fx_basis must be one of {FX_BASES}, got {self.fx_basis!r}")
        if self.fx_fallback is not None and self.fx_fallback not in FX_BASES:
            raise ValueError(
                f"fx_fallback must be one of {FX_BASES} or None, got {self.fx_fallback!r}"
            )
        if not 0 <= self.fx_rtol < 1:
            raise ValueError(f"fx_rtol must be in [0, 1), got {self.fx_rtol!r}")
        if self.min_list_size < 1:
            raise ValueError(f"min_list_size must be >= 1, got {self.min_list_size!r}")
