"""The ranking's settings: the choices it allows, :class:`RankingSettings`, effective weights."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.base.vocab import DEFAULT_SEED

NORMALISATIONS = ("minmax", "zscore", "rank", "vector")
AGGREGATIONS = ("arithmetic", "geometric", "topsis")
IMPUTATIONS = ("worst", "pillar_mean", "median")
HUB_TREATMENTS = ("as_is", "discounted", "excluded")
OUTLIER_TREATMENTS = ("winsorise", "log", "none")
#: Known conduit economies (IMF CDIS "special purpose entity" hosts, UNCTAD WIR 2016 ch. IV).
KNOWN_HUBS = {
    "SGP": "known conduit (regional holding companies)",
    "HKG": "known conduit (round-tripping and China's outward FDI)",
    "NLD": "known conduit (special financial institutions)",
    "LUX": "known conduit (special purpose entities)",
}
# COINr's default outlier rule (Becker et al. 2022): both thresholds must be exceeded.
SKEW_LIMIT, KURT_LIMIT, WINSOR_MAX_POINTS = 2.0, 3.5, 5


# --- settings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankingSettings:
    """Choices of the composite index and of its uncertainty and sensitivity analysis.

    Parameters
    ----------
    normalisation, aggregation, imputation, hub_treatment, outliers
        Nominal choices (see the module docstring).
    pillar_weights
        Pillar -> weight (relative; empty or a missing pillar = 1).
    indicator_weights
        Indicator -> weight within its pillar (relative; missing = 1).
    pillar_coverage
        Share of a pillar's indicator weight a partner must cover for a pillar score.
    min_indicator_coverage
        An indicator observed (or bounded) for fewer than this share of the candidates is
        left out, with a note: imputing most of a column would turn it into a flag of who
        has data (and a pillar rule on it would decide who is ranked at all).
    hub_discount
        Multiplier of hub-sensitive indicators of hubs under ``discounted``.
    draws
        Monte Carlo draws (2N: the convergence check compares the first N with all 2N).
    weight_concentration
        Dirichlet concentration per indicator/pillar (larger: weights closer to nominal).
    noise
        Indicator noise, log-scale standard deviation (multiplicative).
    mc_normalisations, mc_aggregations, mc_imputations, mc_hub_treatments
        Alternatives drawn uniformly in the Monte Carlo and the Sobol design.
    coverage_spread
        The coverage threshold varies over nominal -spread, nominal, +spread (clipped).
    sobol_base
        Base sample size N of the Sobol design (power of two; N x (groups + 2) runs).
    sobol_resamples
        Bootstrap resamples for the Sobol confidence intervals (95 %).
    """

    normalisation: str = "minmax"
    aggregation: str = "arithmetic"
    pillar_weights: Mapping[str, float] = field(default_factory=dict)
    indicator_weights: Mapping[str, float] = field(default_factory=dict)
    imputation: str = "worst"
    pillar_coverage: float = 0.5
    min_indicator_coverage: float = 0.5
    hub_treatment: str = "as_is"
    hub_discount: float = 0.5
    outliers: str = "winsorise"
    draws: int = 2000
    weight_concentration: float = 20.0
    noise: float = 0.1
    mc_normalisations: tuple[str, ...] = ("minmax", "zscore", "rank")
    mc_aggregations: tuple[str, ...] = AGGREGATIONS
    mc_imputations: tuple[str, ...] = IMPUTATIONS
    mc_hub_treatments: tuple[str, ...] = HUB_TREATMENTS
    coverage_spread: float = 0.2
    sobol_base: int = 256
    sobol_resamples: int = 200
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        def check(value: object, allowed: Sequence[str], name: str) -> None:
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")

        check(self.normalisation, NORMALISATIONS, "normalisation")
        check(self.aggregation, AGGREGATIONS, "aggregation")
        check(self.imputation, IMPUTATIONS, "imputation")
        check(self.hub_treatment, HUB_TREATMENTS, "hub_treatment")
        check(self.outliers, OUTLIER_TREATMENTS, "outliers")
        if self.normalisation == "vector" and self.aggregation != "topsis":
            raise ValueError(
                "normalisation 'vector' is the classic TOPSIS one: use it with topsis"
            )
        for name, allowed, chosen in (
            ("mc_normalisations", NORMALISATIONS[:3], self.mc_normalisations),
            ("mc_aggregations", AGGREGATIONS, self.mc_aggregations),
            ("mc_imputations", IMPUTATIONS, self.mc_imputations),
            ("mc_hub_treatments", HUB_TREATMENTS, self.mc_hub_treatments),
        ):
            if not chosen:
                raise ValueError(f"{name} must list at least one choice")
            for c in chosen:
                check(c, allowed, name)
        for name in (
            "pillar_coverage",
            "hub_discount",
            "coverage_spread",
            "min_indicator_coverage",
        ):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise ValueError(f"{name} must be between 0 and 1, got {v!r}")
        for name, given in (
            ("pillar", self.pillar_weights),
            ("indicator", self.indicator_weights),
        ):
            for k, v in given.items():
                if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
                    raise ValueError(f"{name} weight of {k!r} must be a number >= 0, got {v!r}")
        if self.draws < 2 or self.noise < 0 or self.weight_concentration <= 0:
            raise ValueError("draws >= 2, noise >= 0 and weight_concentration > 0 required")

    @property
    def coverage_levels(self) -> tuple[float, ...]:
        """Coverage thresholds the Monte Carlo and the Sobol design draw from."""
        c, s = self.pillar_coverage, self.coverage_spread
        return tuple(sorted({round(min(max(c + d, 0.0), 1.0), 6) for d in (-s, 0.0, s)}))


def effective_weights(meta: pd.DataFrame, settings: RankingSettings) -> pd.DataFrame:
    """Pillar weight, weight within the pillar and effective weight of every indicator.

    Raises
    ------
    ValueError
        A weight names an unknown pillar or indicator, or every weight is zero.
    """
    pillars = list(dict.fromkeys(meta["pillar"]))
    unknown = [k for k in settings.pillar_weights if k not in pillars]
    unknown += [k for k in settings.indicator_weights if k not in meta.index]
    if unknown:
        raise ValueError(
            f"unknown pillar or indicator in weights: {unknown}; pillars: {pillars}; "
            f"indicators: {list(meta.index)}"
        )
    pw = pd.Series({p: float(settings.pillar_weights.get(p, 1.0)) for p in pillars})
    iw = pd.Series({k: float(settings.indicator_weights.get(k, 1.0)) for k in meta.index})
    within = iw / iw.groupby(meta["pillar"]).transform("sum").replace(0.0, np.nan)
    within = within.fillna(0.0)
    # A pillar whose indicators all weigh zero cannot carry its pillar weight.
    alive = within.groupby(meta["pillar"]).sum() > 0
    pw = pw.where(alive.reindex(pw.index, fill_value=False), 0.0)
    if pw.sum() <= 0:
        raise ValueError("weights must not all be zero")
    pw = pw / pw.sum()
    out = pd.DataFrame(
        {
            "indicator": meta.index,
            "label": meta["label"].to_numpy(),
            "pillar": meta["pillar"].to_numpy(),
            "pillar_weight": pw.reindex(meta["pillar"]).to_numpy(),
            "weight_in_pillar": within.to_numpy(),
        }
    )
    out["effective_weight"] = out["pillar_weight"] * out["weight_in_pillar"]
    return out
