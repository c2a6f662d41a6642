"""The flows study's settings: constants, :class:`FlowStudySettings` and ``settings(params)``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from analysis.base.vocab import DEFAULT_SEED
from analysis.config import declared
from analysis.models.reconcile import RECONCILE_METHODS

#: Models see every year from here on; the report shows start_year-end_year.
HISTORY_START = 2010
MEASURES = ("total", "pma", "pmdn")
MEASURE_LABELS = {"total": "Total (PMA + PMDN)", "pma": "Foreign (PMA)", "pmdn": "Domestic (PMDN)"}
#: Flags that take a sector point out of every model (it stays listed in the data table).
EXCLUDED_FLAGS = ("suspect", "period_uncertain")
_ROADMAP_TOPICS = ("making_indonesia_4_0", "ikft_growth_target", "manufacturing_growth_target")


#: Headings of the report's sections that the key findings link to (notebook headings).
SECTIONS = {
    "nowcast": "This year: nowcast from the partial-year releases",
    "backtest": "Model choice: rolling-origin backtest, by horizon",
    "targets": "Gap to the published targets",
    "national": "National investment: history, nowcast and forecast",
    "sector": "The sector",
}


@dataclass(frozen=True)
class FlowStudySettings:
    """Everything the flows study depends on besides the data (a plain, frozen record).

    Defaults are the declared ones (:func:`analysis.config.declared`), never repeated here.
    """

    sector: str = declared("sector")
    sectors: tuple[str, ...] = ()
    start_year: int = declared("start_year")
    end_year: int = declared("end_year")
    horizon: int = declared("horizon")
    interpolate: bool = declared("interpolate")
    partners: tuple[str, ...] = ()
    scenario: Mapping[str, object] | None = None
    nowcast_model: str = declared("nowcast_model")
    reconcile_method: str = declared("reconcile_method")
    price_basis: str = declared("price_basis")
    deflator_base_year: int = declared("deflator_base_year")
    usd_rate_year: int = declared("usd_rate_year")
    min_fan_points: int = declared("min_fan_points")
    calibration_min_n: int = 3
    draws: int = 4000
    seed: int = DEFAULT_SEED
    #: Use every full year the ledger holds, even after ``end_year`` (the outlook is then for
    #: the first year without a full-year figure, from the latest release); False pins the
    #: history to ``end_year`` (a backtest of the report as it stood).
    follow_latest: bool = True

    def __post_init__(self) -> None:
        if self.reconcile_method not in RECONCILE_METHODS:
            raise ValueError(
                f"reconcile_method must be one of {', '.join(RECONCILE_METHODS)}, "
                f"got {self.reconcile_method!r}"
            )
        if self.price_basis not in ("nominal", "real"):
            raise ValueError(f"price_basis must be nominal or real, got {self.price_basis!r}")
        if self.horizon <= self.end_year:
            raise ValueError(
                f"horizon {self.horizon} must be after end_year {self.end_year}: "
                "nothing to forecast"
            )
        if self.min_fan_points < 3:
            raise ValueError(f"min_fan_points must be at least 3, got {self.min_fan_points}")


def settings(params) -> FlowStudySettings:
    """The study's settings from the params' ``flows`` group (the one place it is read)."""
    from analysis.base.vocab import SECTOR_FOCUS

    g = params.flows
    return FlowStudySettings(
        sector=g.sector,
        sectors=tuple(SECTOR_FOCUS[g.sector]),
        start_year=g.start_year,
        end_year=g.end_year,
        horizon=g.horizon,
        interpolate=g.interpolate,
        partners=tuple(g.partners),
        scenario=dict(g.scenario) if g.scenario else None,
        nowcast_model=g.nowcast_model,
        reconcile_method=g.reconcile_method,
        price_basis=g.price_basis,
        deflator_base_year=g.deflator_base_year,
        usd_rate_year=g.usd_rate_year,
        min_fan_points=g.min_fan_points,
        seed=g.seed,
    )


_PERIOD_ORDER = {"Q1": 1, "Q2": 2, "H1": 3, "Q3": 4, "9M": 5, "Q4": 6, "FY": 7}
