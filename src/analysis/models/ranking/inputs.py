"""The ranking's inputs: :class:`IndicatorSet`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pandas as pd

# --- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorSet:
    """The raw indicator matrix of one sector, with its bounds, hubs and documentation.

    Attributes
    ----------
    values
        Partners (index, ISO3) x indicators (columns): observed raw values; NaN where the
        value is missing **or** censored.
    meta
        One row per indicator (index = the columns of ``values``): ``pillar``, ``label``,
        ``direction`` (+1 more is better, -1 less is better), ``unit``, ``source``, ``year``;
        optional ``hub_sensitive`` (bool: the indicator measures capital that conduits
        inflate) and ``noisy`` (bool, default True: measured with error; False for
        definitional indicators such as a distance or a 0/1 agreement flag).
    lower, upper
        Bounds of censored cells (same shape as ``values``, NaN elsewhere), or None.
    hubs
        Partner -> reason it is flagged as a hub (only flagged partners).
    years
        Partners x indicators: the year each value refers to (display only), or None.
    cell_notes
        Partners x indicators: text flags of single cells (a fallback source, an old
        vintage), shown with the cell in every table, or None.
    notes
        Caveats the report must show (sources dropped, fallbacks used).
    routed
        ``(partner, indicator) -> "upper" | "lower"``: censored cells whose interval runs
        between two attributions of investment routed through a third country (Lotte
        Chemical: recorded under Malaysia, ultimate investor Korea), with the bound that is
        the ultimate-investor view. The nominal index uses the recorded view; each Monte Carlo
        draw picks one view for every routed cell at once (alternatives, never mixed).
    """

    values: pd.DataFrame
    meta: pd.DataFrame
    lower: pd.DataFrame | None = None
    upper: pd.DataFrame | None = None
    hubs: Mapping[str, str] = field(default_factory=dict)
    years: pd.DataFrame | None = None
    cell_notes: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()
    routed: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [c for c in self.values.columns if c not in self.meta.index]
        if missing:
            raise ValueError(f"indicators without a meta row: {missing}")
        need = {"pillar", "label", "direction"}
        if not need <= set(self.meta.columns):
            raise ValueError(f"meta needs columns {sorted(need)}, has {list(self.meta.columns)}")
        bad = set(self.meta["direction"]) - {1, -1}
        if bad:
            raise ValueError(f"direction must be +1 or -1, got {sorted(bad)}")
        for name, frame in (("lower", self.lower), ("upper", self.upper)):
            if frame is not None and (
                list(frame.index) != list(self.values.index)
                or list(frame.columns) != list(self.values.columns)
            ):
                raise ValueError(f"{name} bounds must have the same partners and indicators")

    def drop(self, indicators: Sequence[str]) -> IndicatorSet:
        """The same set without ``indicators`` (e.g. a whole pillar)."""
        keep = [c for c in self.values.columns if c not in set(indicators)]
        sub = lambda f: None if f is None else f[keep]  # noqa: E731
        return replace(
            self,
            values=self.values[keep],
            meta=self.meta.loc[keep],
            lower=sub(self.lower),
            upper=sub(self.upper),
            years=sub(self.years),
            cell_notes=None if self.cell_notes is None else self.cell_notes.reindex(columns=keep),
        )

    @property
    def pillars(self) -> list[str]:
        """Pillars in order of first appearance."""
        return list(dict.fromkeys(self.meta.loc[list(self.values.columns), "pillar"]))
