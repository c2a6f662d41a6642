"""Gravity study (report 20): Indonesia's inward FDI potential by partner and sector.

What the model is
-----------------
An **interval-censored Gamma regression with a log-linear (gravity) mean** of full-year PMA
realisation by country of origin (US$ million, BKPM, from the ledger) on the partner's GDP
(log, current US$ billion), the capital-to-capital distance to Jakarta (log km), a **hub**
covariate (the partner is a conduit of corporate offshore investment or a host of phantom
FDI, from ``data/mappings/fdi_hubs.csv``, each with its citation) and an **agreement**
indicator (a trade or investment agreement in force for Indonesia on 1 July), with year
effects. It is a reduced-form
gravity equation for one host, not a structural gravity model (no multilateral resistance
terms can be identified from one host's inflows), and not ITC's Export Potential Map.

- **Every usable list**: each year with a complete full-year top-N list (the ledger's
  censoring table), or a list incomplete only because it omits partners whose value other
  releases publish (flagged in ``bound_note``), gives one row per partner of the universe
  (the 40 candidate partners, every partner ever listed, the EU members and Canada). A year
  without a usable full-year list contributes its disjoint part-year lists instead
  (quarters, H1, 9M: those with the most listed values; never next to the year's full-year
  list, whose quarters are the same flows): each list has its own bound and its own level
  (list effects, which absorb the period's length), and part-year flows their own Gamma
  shape. Listed partners enter with their value, the
  others as *below the N-th listed value* (interval-censored in the likelihood; never zero,
  never at the bound, see :mod:`analysis.models.censored`). Rows that cannot be used are kept in
  ``dropped`` with the reason.
- **Coefficients**: ``estimated`` (flat prior), ``prior`` (a normal prior carried into the
  intervals; each prior is a row of ``data/mappings/gravity_priors.csv`` with its study,
  sample and quoted passage, or labelled weakly-informative), or ``fixed`` (``gravity_assumed``).
  No trade elasticity is used.
- **Potential** = the model's expected PMA for the partner-year, with a confidence interval
  from ``draws`` draws of the coefficients (estimation and prior uncertainty; not the
  year-to-year noise of a single flow). **Guards** (:mod:`analysis.models.fdi_potential`): a
  potential above the partner's total net FDI outflow that year (WDI, US$ billion x 1,000) is
  capped at it; where that net outflow is zero or negative the cap is the 5-year mean net
  outflow, else the outward FDI stock, else none (never 0; ``cap_basis`` says which);
  ``predicted_model`` keeps the uncapped value and ``capped`` says which. A potential implying
  that Indonesia takes a larger share of the partner's outward FDI than it receives from any
  comparable partner (same hub status, multi-year ratio of listed flows to outflows) is
  flagged (``plausibility_flag``), not cut.
- **Untapped gap**: potential - actual with an interval where the actual is listed
  (``gap_status`` = identified), a signed lower bound (``gap_lo`` = lower end of the potential
  - the bound) where it is only bounded, nothing where it is unknown.
- **Agreement effects** (:func:`agreement_effects`): each pending agreement's effect on the
  members' measured flows (mean of their published full-year values) and on the model
  baseline, both with intervals; the report quotes the first.
- **Sector potential** adapts the *supply x demand x ease* decomposition of ITC's Export
  Potential Map (Decreux & Spies 2016) to investment: ease = the partner's aggregate potential
  above (size, distance, hub, agreements), demand = the sector's share of Indonesia's PMA
  (ledger, latest year published; chemical and pharma split their one shared share),
  supply = investor-side evidence: the sector's multinationals headquartered in the partner
  (league tables) against the number its GDP implies at the candidates' rate, shrunk towards
  1 (:func:`analysis.models.fdi_potential.investor_supply`). A partner without evidence has no
  sector potential (a gap, flagged), never a zero. It is an adaptation, documented as such.
- **Counterfactual**: the IEU-CEPA (every EU member) and the Indonesia-Canada CEPA entering into
  force: ``agreement`` from 0 to 1 for the latest year, a partial-equilibrium FDI effect (other
  partners, Indonesia's total and third-country diversion held fixed).
- **Multi-host**: with IMF Direct Investment Positions in the fetch cache, :func:`fit_multihost`
  fits a PPML panel with host-year, source-year and (where identified) pair fixed effects via
  :func:`analysis.models.gravity.fit_gravity`; offline the report uses the Indonesia-only fit and
  says so.

The model code (potential, guards, gaps, counterfactuals, agreement effects, the
multi-host PPML) lives in the model layer (:mod:`analysis.models.fdi_potential`,
:mod:`analysis.models.gravity`, :mod:`analysis.models.censored`); this package assembles the inputs
and calls it.

References
----------
Decreux, Y. and Spies, J. (2016), "Export Potential Assessments: A methodology to identify
export opportunities for developing countries", ITC.
Garcia-Bernardo, J., Fichtner, J., Takes, F.W. and Heemskerk, E.M. (2017), "Uncovering
Offshore Financial Centers", Scientific Reports 7: 6246.
Kox, H.L.M. and Rojas-Romagosa, H. (2020), "How trade and investment agreements affect
bilateral foreign direct investment", The World Economy 43(12): 3203-3242.
"""

from __future__ import annotations

# Kept importable from the study as before the split (tests catch it as gs.GravityError).
from analysis.models.gravity import GravityError as GravityError

from .effects import (
    _agreement_effects as _agreement_effects,
)
from .effects import (
    _measured_flows as _measured_flows,
)
from .frame import (
    MIRROR_DEFINITIONS as MIRROR_DEFINITIONS,
)
from .frame import (
    MIRROR_FACTOR as MIRROR_FACTOR,
)
from .frame import (
    _agreement_members as _agreement_members,
)
from .frame import (
    _apply_mirrors as _apply_mirrors,
)
from .frame import (
    _bound_from_lists_that_omit_a_known_value as _bound_from_lists_that_omit_a_known_value,
)
from .frame import (
    _in_force as _in_force,
)
from .frame import (
    _mirror_note as _mirror_note,
)
from .frame import (
    _pending_members as _pending_members,
)
from .frame import (
    _priors as _priors,
)
from .frame import (
    build_gravity_frame as build_gravity_frame,
)
from .frame import (
    load_hubs,
    load_priors,
)
from .frame import (
    mirror_flows as mirror_flows,
)
from .multihost import (
    MULTIHOST_LABEL as MULTIHOST_LABEL,
)
from .multihost import (
    OFFLINE as OFFLINE,
)
from .multihost import (
    _multihost_inputs as _multihost_inputs,
)
from .multihost import (
    _positions_fingerprint as _positions_fingerprint,
)
from .multihost import (
    cached_positions as cached_positions,
)
from .multihost import (
    fit_multihost,
)
from .potential import (
    _counterfactual as _counterfactual,
)
from .potential import (
    _demand as _demand,
)
from .potential import (
    _draw_eta as _draw_eta,
)
from .potential import (
    _guarded as _guarded,
)
from .potential import (
    _latest_at_or_before as _latest_at_or_before,
)
from .potential import (
    _outflow_caps as _outflow_caps,
)
from .potential import (
    _panel_values as _panel_values,
)
from .potential import (
    _potential as _potential,
)
from .potential import (
    _sector_inputs as _sector_inputs,
)
from .potential import (
    _split_shared_demand as _split_shared_demand,
)
from .potential import (
    _year_dummies as _year_dummies,
)
from .result import (
    GravityStudy,
)
from .settings import (
    COUNTERFACTUAL_AGREEMENTS as COUNTERFACTUAL_AGREEMENTS,
)
from .settings import (
    HUBS_FILE as HUBS_FILE,
)
from .settings import (
    MODEL_LABEL as MODEL_LABEL,
)
from .settings import (
    PENDING_AGREEMENTS as PENDING_AGREEMENTS,
)
from .settings import (
    PRIORS_FILE as PRIORS_FILE,
)
from .settings import (
    REPORT as REPORT,
)
from .settings import (
    SECTIONS as SECTIONS,
)
from .settings import (
    SECTOR_DEMAND as SECTOR_DEMAND,
)
from .settings import (
    SECTOR_EXPORTS as SECTOR_EXPORTS,
)
from .settings import (
    SECTORS as SECTORS,
)
from .settings import (
    SUMMARY_POTENTIAL_COLUMNS as SUMMARY_POTENTIAL_COLUMNS,
)
from .settings import (
    TERMS as TERMS,
)
from .settings import (
    GravityStudyError as GravityStudyError,
)
from .settings import (
    GravityStudySettings,
    settings,
)
from .settings import (
    _default as _default,
)
from .study import (
    STRESS_SIGMA as STRESS_SIGMA,
)
from .study import (
    _agreement_sensitivity as _agreement_sensitivity,
)
from .study import (
    _distribution_check as _distribution_check,
)
from .study import (
    _distribution_note as _distribution_note,
)
from .study import (
    _portable as _portable,
)
from .study import (
    agreement_effects,
    gravity_study,
    latest_potential,
    potential_table,
    run,
    run_gravity,
)

__all__ = [
    "GravityStudy",
    "GravityStudySettings",
    "agreement_effects",
    "fit_multihost",
    "gravity_study",
    "latest_potential",
    "load_hubs",
    "load_priors",
    "potential_table",
    "run",
    "run_gravity",
    "settings",
]
