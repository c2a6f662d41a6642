"""The ranking's result: :class:`RankingResult` and its cells."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from analysis.base.summary import Summary

from .audit import RankingAudit
from .inputs import IndicatorSet
from .preparation import _Prepared
from .settings import RankingSettings

# --- result ----------------------------------------------------------------------------------


@dataclass
class RankingResult:
    """Nominal index, pillar scores, rank bands, Sobol indices and audit for one sector.

    ``table`` is the source of truth: one row per partner with ``partner_iso3, rank,
    median_rank, rank_p05, rank_p95, score, coverage, status, hub``, plus ``imputed``
    (indicators imputed for the partner) and ``censored`` (indicators entered as bounds).
    """

    settings: RankingSettings
    data: IndicatorSet
    table: pd.DataFrame
    pillar_scores: pd.DataFrame  # long: partner_iso3, pillar, score, coverage, imputed, ...
    weights: pd.DataFrame  # effective_weights()
    cells: pd.DataFrame  # long: partner x indicator, value, status, flags
    drivers: pd.DataFrame  # partners x indicators: contribution vs the average partner
    stability: pd.DataFrame
    convergence: pd.DataFrame
    sobol: pd.DataFrame
    audit: RankingAudit | None
    mc_ranks: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))
    fingerprint: str = ""
    notes: list[str] = field(default_factory=list)
    #: Routed cells: median rank and 5-95 % band of the affected partners under each view of
    #: the Monte Carlo (recorded, ultimate investor); None when the set has none.
    routed_views: pd.DataFrame | None = None

    @property
    def ranked(self) -> pd.DataFrame:
        """Ranked partners, best first."""
        return self.table[self.table["status"] == "ranked"].sort_values("rank")

    def to_frame(self) -> pd.DataFrame:
        """The ranking table (one row per partner)."""
        return self.table.copy()

    @property
    def converged(self) -> bool:
        """Whether the rank bands at N and 2N draws agree (every band end within one rank)."""
        c = self.convergence
        return bool(len(c) == 0 or (c["max_band_shift"] <= 1).all())

    def summary(self) -> Summary:
        """Settings, the ranking with bands, effective weights, Sobol indices and notes."""
        settings = {
            k: v
            for k, v in asdict(self.settings).items()
            if not k.startswith("mc_") and k not in ("pillar_weights", "indicator_weights")
        }
        pw = self.weights.drop_duplicates("pillar").set_index("pillar")["pillar_weight"]
        settings["pillar weights"] = {str(k): round(float(v), 3) for k, v in pw.items()}
        settings["fingerprint"] = self.fingerprint
        cols = [
            "partner_iso3",
            "rank",
            "median_rank",
            "rank_p05",
            "rank_p95",
            "score",
            "coverage",
            "hub",
            "imputed",
            "censored",
        ]
        cols += ["ranked_share"] if "ranked_share" in self.table else []
        return Summary(
            title="Partner ranking",
            settings=settings,
            tables=[
                ("Ranks with 5-95 % Monte Carlo bands", self.ranked[cols].round(3)),
                ("Effective weights", self.weights.round(3)),
                ("Sobol indices of the ranks (95 % bootstrap intervals)", self.sobol.round(3)),
                ("Rank stability against the nominal ranking", self.stability.round(3)),
                (
                    "Not ranked (pillar coverage below the rule)",
                    self.table[self.table["status"] != "ranked"][
                        ["partner_iso3", "coverage", "missing_pillars"]
                    ],
                ),
            ],
            notes=self.notes,
        )

    def profile(self, partner: str) -> Summary:
        """One-page view of a partner: score, rank band, pillar scores, indicator cells."""
        row = self.table.set_index("partner_iso3").loc[partner]
        cells = self.cells[self.cells["partner_iso3"] == partner]
        pil = self.pillar_scores[self.pillar_scores["partner_iso3"] == partner]
        return Summary(
            title=f"Partner profile: {partner}",
            settings={
                "status": row["status"],
                "score": round(float(row["score"]), 3) if pd.notna(row["score"]) else "n/a",
                "rank": row["rank"],
                "rank band (5-95 %)": f"{row['rank_p05']:.0f}-{row['rank_p95']:.0f}",
                "hub": row["hub"] or "no",
            },
            tables=[
                ("Pillar scores", pil.drop(columns="partner_iso3").round(3)),
                (
                    "Indicators",
                    cells.drop(columns="partner_iso3").assign(
                        indicator=cells["indicator"].map(self.data.meta["label"])
                    ),
                ),
            ],
        )

    # Figures are drawn by the presentation layer: analysis.present.plots.plot_rank_bands(result)
    # and plot_drivers(result) (models draw no figures).


def _cells(
    data: IndicatorSet, prep: _Prepared, s: RankingSettings, Z: np.ndarray, gap: np.ndarray
) -> pd.DataFrame:
    """Long table of every partner x indicator: value, bound, year, status and flags."""
    P, K = Z.shape
    lower = prep.X_hub[0]  # censored cells hold their lower bound here
    upper = data.upper.to_numpy(dtype=float) if data.upper is not None else np.full((P, K), np.nan)
    years = (
        data.years.reindex(index=data.values.index, columns=prep.codes).to_numpy()
        if data.years is not None
        else np.full((P, K), np.nan)
    )
    status = np.where(prep.observed, "observed", np.where(prep.censored, "censored", "missing"))
    given = (
        data.cell_notes.reindex(index=data.values.index, columns=prep.codes).fillna("").to_numpy()
        if data.cell_notes is not None
        else np.full((P, K), "", dtype=object)
    )
    rows = []
    for i, partner in enumerate(prep.partners):
        for k, code in enumerate(prep.codes):
            flags = [str(given[i, k])] if given[i, k] else []
            if prep.censored[i, k]:
                flags.append(
                    f"interval [{lower[i, k]:g}, {upper[i, k]:g}]: nominal uses the lower "
                    "bound, the Monte Carlo draws inside"
                )
            if gap[i, k]:
                flags.append(f"imputed ({s.imputation})")
            if prep.hub_cells[i, k] and s.hub_treatment != "as_is":
                flags.append(f"hub: {s.hub_treatment}")
            rows.append(
                {
                    "partner_iso3": partner,
                    "indicator": code,
                    "pillar": prep.weights["pillar"].iat[k],
                    "value": data.values.iat[i, k],
                    "upper_bound": upper[i, k],
                    "year": years[i, k],
                    "status": status[i, k],
                    "normalised": Z[i, k],
                    "flags": "; ".join(flags),
                }
            )
    return pd.DataFrame(rows)


def _join(codes: Sequence[str], mask: np.ndarray) -> str:
    return ", ".join(c for c, m in zip(codes, mask, strict=True) if m)
