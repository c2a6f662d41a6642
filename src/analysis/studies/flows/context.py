"""Context of the flows study: the GDP deflator, roadmap topics and labels."""

from __future__ import annotations

import pandas as pd

from analysis.data.raw import load_facts
from analysis.models.flows import (
    MODEL_LABELS,
)

from .settings import _ROADMAP_TOPICS, MEASURE_LABELS


def gdp_deflator(base_year: int) -> tuple[pd.Series | None, str]:
    """Indonesia's GDP deflator from the partner panel (base year = 100), and its source.

    Returns ``(None, reason)`` when the partner panel is not available, so a nominal report
    still runs; ``price_basis = "real"`` then fails with a clear error in :func:`run_flows`.
    """
    try:
        from analysis.data.panel import load_panel  # type: ignore[import-not-found]
    except ImportError:
        return (
            None,
            "the partner panel (analysis.data.panel) with the GDP deflator is not installed",
        )
    panel = load_panel()
    series = panel.gdp_deflator("IDN", base_year)
    return series, (
        f"GDP deflator of Indonesia ({base_year} = 100) from the partner panel "
        f"(fingerprint {panel.fingerprint})"
    )


def _roadmap_context(root=None) -> pd.DataFrame:
    facts = load_facts("raw/bkpm/other_facts.csv", root)
    keep = facts[facts["topic"].isin(_ROADMAP_TOPICS)]
    return keep[["topic", "fact", "value", "unit", "year", "source_url"]].reset_index(drop=True)


def model_label(model: str) -> str:
    """Human label of a model code."""
    return MODEL_LABELS.get(model, model)


def measure_label(measure: str) -> str:
    """Human label of a national series code."""
    return MEASURE_LABELS.get(measure, measure)
