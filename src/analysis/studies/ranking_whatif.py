"""The ranking report's what-if view: widgets bound to
:func:`analysis.models.ranking.rank_partners`.

Kept apart from :mod:`analysis.studies.ranking` because it is the only part that needs
ipywidgets and a live kernel; the study imports it only when the view is asked for.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from analysis.base.vocab import PILLAR_LABELS, partner_name
from analysis.models.ranking import (
    AGGREGATIONS,
    HUB_TREATMENTS,
    IMPUTATIONS,
    NORMALISATIONS,
    OUTLIER_TREATMENTS,
    RankingResult,
    RankingSettings,
    rank_partners,
)

if TYPE_CHECKING:
    from analysis.studies.ranking import RankingStudy

__all__ = ["WhatIf"]


class WhatIf:
    """The what-if view: widgets bound to :func:`analysis.models.ranking.rank_partners`."""

    def __init__(self, study: RankingStudy, draws: int = 1000) -> None:
        import ipywidgets as w

        self.study = study
        base = study.result.settings
        self.draws = draws
        weights = study.result.weights.drop_duplicates("pillar").set_index("pillar")
        raw = {p: float(base.pillar_weights.get(p, 1.0)) for p in weights.index}
        self.sliders = {
            p: w.FloatSlider(
                value=v,
                min=0.0,
                max=5.0,
                step=0.25,
                description=PILLAR_LABELS.get(p, p)[:22],
                style={"description_width": "160px"},
            )
            for p, v in raw.items()
        }
        self.pickers = {
            "normalisation": w.Dropdown(
                options=NORMALISATIONS[:3], value=base.normalisation, description="Normalisation"
            ),
            "aggregation": w.Dropdown(
                options=AGGREGATIONS, value=base.aggregation, description="Aggregation"
            ),
            "imputation": w.Dropdown(
                options=IMPUTATIONS, value=base.imputation, description="Missing data"
            ),
            "hub_treatment": w.Dropdown(
                options=HUB_TREATMENTS, value=base.hub_treatment, description="Hubs"
            ),
            "outliers": w.Dropdown(
                options=OUTLIER_TREATMENTS, value=base.outliers, description="Outliers"
            ),
        }
        self.coverage = w.FloatSlider(
            value=base.pillar_coverage, min=0.0, max=1.0, step=0.05, description="Pillar coverage"
        )
        self.out = w.Output()
        self.status = w.HTML()
        for c in [*self.sliders.values(), *self.pickers.values(), self.coverage]:
            c.observe(self._changed, names="value")
        self.widget = w.VBox(
            [
                w.HTML("<b>What if?</b> Pillar weights (relative) and method choices"),
                w.HBox(
                    [
                        w.VBox(list(self.sliders.values())),
                        w.VBox([*self.pickers.values(), self.coverage]),
                    ]
                ),
                self.status,
                self.out,
            ]
        )
        self._changed(None)

    def settings(self) -> RankingSettings:
        """The settings the widgets currently describe."""
        base = self.study.result.settings
        return replace(
            base,
            pillar_weights={p: s.value for p, s in self.sliders.items()},
            pillar_coverage=self.coverage.value,
            draws=self.draws,
            **{k: p.value for k, p in self.pickers.items()},
        )

    def recompute(self) -> RankingResult:
        """The ranking under the current widget settings (nominal + bands, no Sobol)."""
        return rank_partners(self.study.data, self.settings(), sensitivity=False, audit=False)

    def _changed(self, _change) -> None:
        import time

        import matplotlib.pyplot as plt
        from IPython.display import display

        t0 = time.perf_counter()
        try:
            res = self.recompute()
        except ValueError as exc:  # e.g. every pillar weight at zero
            self.status.value = f"<span style='color:#b03a2e'>{exc}</span>"
            return
        seconds = time.perf_counter() - t0
        before = self.study.result.table.set_index("partner_iso3")["rank"]
        t = res.ranked[["partner_iso3", "rank", "rank_p05", "rank_p95", "score"]].head(15)
        t = t.assign(
            partner=t["partner_iso3"].map(partner_name), was=t["partner_iso3"].map(before)
        )
        self.status.value = f"recomputed in {seconds:.2f} s ({self.draws} draws)"
        with self.out:
            self.out.clear_output(wait=True)
            from analysis.present.plots import plot_rank_bands

            fig = plot_rank_bands(res, top=15)
            display(t.set_index("partner_iso3").round(3))
            plt.show()
            plt.close(fig)
