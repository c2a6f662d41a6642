"""Agreement effects of the gravity study: measured flows and effect estimates."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.censored import CensoredGravityResult
from analysis.fdi_potential import (
    agreement_effect,
)
from analysis.i18n import count

from .frame import _pending_members
from .potential import _draw_eta
from .settings import GravityStudySettings


def _measured_flows(frame: pd.DataFrame) -> pd.DataFrame:
    """Each partner's measured full-year flow: the mean of its published values in the fit.

    ``flow_usd_m`` is the mean of the listed full-year values (the partner's own published
    PMA; a partner is listed only in years it ranks high, so this leans high), ``bound_usd_m``
    the latest year's bound for partners never listed (their flow lies in ``[0, bound]``).
    """
    rows = []
    last = int(frame["year"].max())
    for iso, g in frame.groupby("partner_iso3"):
        listed = g[g["status"] == "listed"]
        latest = g[g["year"] == last]
        bound = float(latest["upper_bound"].iloc[0]) if len(latest) else np.nan
        rows.append(
            {
                "partner_iso3": iso,
                "flow_usd_m": float(listed["pma_usd_m"].mean()) if len(listed) else np.nan,
                "flow_years": ", ".join(str(int(y)) for y in sorted(listed["year"])),
                "bound_usd_m": bound if not len(listed) else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("partner_iso3")


def _agreement_effects(
    study_fit: CensoredGravityResult,
    frame: pd.DataFrame,
    potential: pd.DataFrame,
    settings: GravityStudySettings,
) -> tuple[pd.DataFrame, list[str]]:
    """Pending agreements' effect on measured flows and on the model baseline, with intervals.

    One row per agreement, member and basis (``actual``: the member's measured flow, see
    :func:`_measured_flows`; ``model``: the gravity potential of the latest year, drawn with
    the coefficients), plus a ``TOTAL`` row per agreement and basis (the actual total covers
    the members with a measured flow only; the others are below the year's bound). The
    effect is ``flow * (exp(b_agreement) - 1)``, partial equilibrium; its interval comes
    from draws of the agreement coefficient (and, for the model basis, of the baseline).
    """
    cols = [
        "agreement",
        "agreement_name",
        "partner_iso3",
        "basis",
        "year",
        "flow_usd_m",
        "flow_status",
        "effect_usd_m",
        "lo",
        "hi",
        "ratio",
        "n_members",
        "note",
    ]
    if "agreement" not in set(study_fit.table["term"]):
        return pd.DataFrame(columns=cols), ["agreement term not in the model: no effects"]
    pending, notes = _pending_members()
    year = int(frame["year"].max())
    latest = frame[frame["year"] == year].set_index("partner_iso3")
    draws = study_fit.draw_coefficients(settings.draws, settings.seed + 2)
    b = float(study_fit.coef()["agreement"])
    bd = (
        draws["agreement"].to_numpy()
        if "agreement" in draws.columns
        else np.full(settings.draws, b)
    )
    pot = potential[(potential["sector"] == "total") & (potential["year"] == year)]
    pot = pot.set_index("partner_iso3")
    sims = np.exp(_draw_eta(study_fit, latest.reset_index(), draws))
    cap = pot["partner_ofdi_total"].reindex(latest.index).to_numpy(float)
    cap = np.where(np.isnan(cap) | (cap <= 0), np.inf, cap)
    sims = np.minimum(sims, cap[:, None])
    row_of = {iso: i for i, iso in enumerate(latest.index)}
    measured = _measured_flows(frame)
    a = settings.alpha
    ratio = math.exp(b)
    rows = []
    for key, (name, members) in pending.items():
        isos = members.split()
        tot_act, tot_model, n_meas, bounded, missing = 0.0, np.zeros(settings.draws), [], [], []
        tot_model_point = 0.0
        for iso in isos:
            base = {
                "agreement": key,
                "agreement_name": name,
                "partner_iso3": iso,
                "year": year,
                "n_members": 1,
                "ratio": ratio,
            }
            if iso not in latest.index:
                missing.append(iso)
                rows.append(
                    {
                        **base,
                        "basis": "model",
                        "flow_status": "none",
                        "note": "not in the fitted sample (no covariates)",
                    }
                )
                continue
            if bool(latest.loc[iso, "agreement"]):
                rows.append(
                    {
                        **base,
                        "basis": "model",
                        "flow_status": "in force",
                        "note": "an agreement is already in force with this partner",
                    }
                )
                continue
            m = measured.loc[iso] if iso in measured.index else None
            if m is not None and m["flow_usd_m"] == m["flow_usd_m"]:
                eff, lo, hi = agreement_effect(m["flow_usd_m"], bd, b, a)
                rows.append(
                    {
                        **base,
                        "basis": "actual",
                        "flow_usd_m": m["flow_usd_m"],
                        "flow_status": "measured",
                        "effect_usd_m": eff,
                        "lo": lo,
                        "hi": hi,
                        "note": f"mean of the published full-year PMA ({m['flow_years']})",
                    }
                )
                tot_act += m["flow_usd_m"]
                n_meas.append(iso)
            elif m is not None and m["bound_usd_m"] == m["bound_usd_m"]:
                _, lo, hi = agreement_effect(m["bound_usd_m"], bd, b, a)
                rows.append(
                    {
                        **base,
                        "basis": "actual",
                        "flow_usd_m": np.nan,
                        "flow_status": "bounded",
                        "effect_usd_m": np.nan,
                        "lo": min(0.0, lo),
                        "hi": max(0.0, hi),
                        "note": f"never listed: flow below US$ {m['bound_usd_m']:,.0f} m "
                        f"({year}), so the effect lies between these bounds",
                    }
                )
                bounded.append(iso)
            flow_draws = sims[row_of[iso]]
            point = float(pot.loc[iso, "predicted"]) if iso in pot.index else np.nan
            _, lo, hi = agreement_effect(flow_draws, bd, b, a)
            rows.append(
                {
                    **base,
                    "basis": "model",
                    "flow_usd_m": point,
                    "flow_status": "model",
                    "effect_usd_m": point * (ratio - 1),
                    "lo": lo,
                    "hi": hi,
                    "note": "gravity potential (model baseline), latest year",
                }
            )
            tot_model = tot_model + flow_draws
            tot_model_point += point
        total = {
            "agreement": key,
            "agreement_name": name,
            "partner_iso3": "TOTAL",
            "year": year,
            "ratio": ratio,
        }
        if n_meas:
            eff, lo, hi = agreement_effect(tot_act, bd, b, a)
            rows.append(
                {
                    **total,
                    "basis": "actual",
                    "flow_usd_m": tot_act,
                    "flow_status": "measured",
                    "effect_usd_m": eff,
                    "lo": lo,
                    "hi": hi,
                    "n_members": len(n_meas),
                    "note": f"members with a published flow: {', '.join(n_meas)}; "
                    f"{count(len(bounded), 'other_members')} never listed (flow below the "
                    "year's bound, not added)",
                }
            )
        else:
            rows.append(
                {
                    **total,
                    "basis": "actual",
                    "flow_status": "bounded",
                    "n_members": 0,
                    "note": "no member has a published flow: the effect "
                    "on actual flows cannot be identified (each member is below the "
                    "year's bound)",
                }
            )
        if tot_model_point > 0:
            _, lo, hi = agreement_effect(tot_model, bd, b, a)
            rows.append(
                {
                    **total,
                    "basis": "model",
                    "flow_usd_m": tot_model_point,
                    "flow_status": "model",
                    "effect_usd_m": tot_model_point * (ratio - 1),
                    "lo": lo,
                    "hi": hi,
                    "n_members": len(isos) - len(missing),
                    "note": "sum of the members' gravity potentials",
                }
            )
    out = pd.DataFrame(rows).reindex(columns=cols)
    return out, notes
