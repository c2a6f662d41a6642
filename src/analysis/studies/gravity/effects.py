"""Agreement effects of the gravity study: measured flows and effect estimates."""

from __future__ import annotations

import pandas as pd

from analysis.models.censored import CensoredGravityResult
from analysis.models.fdi_potential import measured_flows, pending_agreement_effects

from .frame import _pending_members
from .settings import GravityStudySettings

#: The model function under the study's former private name (kept for callers).
_measured_flows = measured_flows


def _agreement_effects(
    study_fit: CensoredGravityResult,
    frame: pd.DataFrame,
    potential: pd.DataFrame,
    settings: GravityStudySettings,
) -> tuple[pd.DataFrame, list[str]]:
    """Pending agreements' effect on measured flows and on the model baseline, with intervals
    (:func:`analysis.models.fdi_potential.pending_agreement_effects`), for the agreements of
    :data:`PENDING_AGREEMENTS` found in the agreements data."""
    pending, notes = _pending_members()
    out, more = pending_agreement_effects(
        study_fit,
        frame,
        potential,
        pending,
        draws=settings.draws,
        seed=settings.seed,
        alpha=settings.alpha,
    )
    return out, [*more, *notes]
