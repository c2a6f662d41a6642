"""Running the gravity study: ``run``, ``run_gravity`` and the cached study, its checks and
tables.
"""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
import pandas as pd

from analysis.base.errors import MitraError
from analysis.data.provenance import data_fingerprint
from analysis.models.censored import CensoredGravityResult, fit_censored_gravity
from analysis.models.gravity import GravityError, fit_gravity

from .effects import _agreement_effects
from .frame import _mirror_note, _priors, build_gravity_frame, load_hubs
from .multihost import (
    MULTIHOST_LABEL,
    _multihost_inputs,
    _positions_fingerprint,
    cached_positions,
    fit_multihost,
)
from .potential import (
    _counterfactual,
    _guarded,
    _panel_values,
    _potential,
    _sector_inputs,
    _year_dummies,
)
from .result import GravityStudy
from .settings import (
    HUBS_FILE,
    MODEL_LABEL,
    SECTORS,
    GravityStudyError,
    GravityStudySettings,
)
from .settings import settings as _settings_of


def run(settings: GravityStudySettings, inputs=None) -> GravityStudy:
    """Run the study on the shared inputs (one fit per batch, see :func:`gravity_study`)."""
    if inputs is None:
        from analysis.studies.inputs import inputs as shared

        inputs = shared()
    return gravity_study(settings, ledger=inputs.ledger, panel=inputs.panel)


# -- reference data -------------------------------------------------------------------------


def run_gravity(
    settings: GravityStudySettings,
    ledger=None,
    panel=None,
    positions: pd.DataFrame | str | None = "cache",
) -> GravityStudy:
    """Run the gravity study: build the partner-year frame, fit, potential, counterfactual.

    Parameters
    ----------
    settings
        :class:`GravityStudySettings` (see :func:`settings`).
    ledger, panel
        The investment ledger and partner panel (built/loaded when omitted).
    positions
        IMF Direct Investment Positions (the loader's frame); ``"cache"`` reads the fetch
        cache, None forces the Indonesia-only fit. With positions reported by Indonesia, the
        potential comes from the multi-host PPML (:func:`fit_multihost`).
    """
    if ledger is None:
        from analysis.studies.inputs import inputs

        ledger = inputs().ledger
    if panel is None:
        from analysis.data.panel import load_panel

        panel = load_panel()
    if isinstance(positions, str):
        positions = cached_positions()
    unknown_hubs = sorted(set(settings.hubs) - set(load_hubs().index))
    if unknown_hubs:
        raise GravityStudyError(
            f"gravity_hubs: {unknown_hubs} not in data/{HUBS_FILE} (each hub needs a source)"
        )
    frame, dropped = build_gravity_frame(ledger, panel, settings)
    frame, years = _year_dummies(frame)
    priors = _priors(settings)
    fixed = {t: v for t, v, _ in settings.fixed}
    terms = list(settings.terms)
    part_year = bool((frame["period_kind"] != "full year").any())
    fit = fit_censored_gravity(
        frame,
        "pma_usd_m",
        [*terms, *years],
        lower="lower_bound",
        upper="upper_bound",
        priors=priors,
        fixed=fixed,
        dispersion_by="period_kind" if part_year else None,
    )
    # Potential, gaps and agreement effects are full-year flows: full-year rows only.
    fy = frame[frame["period"] == "FY"].reset_index(drop=True)
    multihost = positions is not None and (positions["reporter_iso3"] == "IDN").any()
    notes = [
        (
            f"Model: {MULTIHOST_LABEL}; Indonesia's potential is the predicted end-year "
            "position (a stock) of each source, capped at its total outward FDI stock. The "
            f"Indonesia-only fit ({MODEL_LABEL}) gives the agreement effect and the "
            "counterfactual."
        )
        if multihost
        else (
            f"Model: {MODEL_LABEL}. Offline: the Indonesia-only fit (IMF Direct Investment "
            "Positions are not in the fetch cache, so no multi-host panel)."
        ),
        "Unlisted partner-years are censored below the year's N-th listed value in the "
        "likelihood; none is set to zero or to the bound.",
        _lists_note(frame, fit),
        "Potential intervals: coefficient and prior uncertainty by simulation "
        f"({settings.draws} draws); the year-to-year noise of a single flow is not included.",
        "Guard: potential above the partner's total net FDI outflow (WDI) is capped (column "
        "'capped'; 'predicted_model' keeps the uncapped value). Net outflows of conduit "
        "economies can be negative while they invest gross in Indonesia: the cap is then the "
        "5-year mean net outflow, else the outward FDI stock, else none, never 0 (column "
        "'cap_basis'). A potential implying a larger share of the partner's outward FDI than "
        "Indonesia receives from any comparable partner (same hub status) is flagged "
        "('plausibility_flag').",
        "Untapped gap = potential - actual: with an interval where the partner was listed "
        "('identified'); where it was not, only a signed lower bound (lower end of the "
        "potential - the year's bound; 'bounded').",
        "Sector potential: supply x demand x ease adapted from ITC's Export Potential Map to "
        "investment (an adaptation, not the EPM). BKPM publishes chemicals and pharmaceuticals "
        "together: the two sectors split that one demand share by their shares of the "
        "candidates' combined exports (column 'demand_split'), so chemical + pharma potential "
        "= the combined sector's, never counted twice. Supply is investor-side: the sector's "
        "multinationals headquartered in the partner (league tables, latest edition of each) "
        "against the number its GDP implies at the candidates' rate, shrunk towards 1 by one "
        "expected firm (column 'supply_index'; the old export specialisation is kept as "
        "'export_index'). A partner not in the part of the tables we have is a gap (no "
        "sector potential, flagged; 'predicted_at_most' = what one firm would imply), never "
        "a zero; a sector potential never exceeds the partner's total.",
    ]
    if fit.not_identified:
        notes.append("Not identified in this sample (dropped): " + ", ".join(fit.not_identified))
    if not fit.converged:
        notes.append(f"The optimiser did NOT converge: {fit.convergence}")
    listed = frame[frame["status"] == "listed"]
    try:
        x_l = [t for t in terms if listed[t].nunique() > 1]
        listed_fit = fit_gravity(
            listed, "pma_usd_m", [*x_l, *[y for y in years if listed[y].nunique() > 1]]
        )
    except GravityError as exc:
        listed_fit = None
        notes.append(f"Listed-only comparison fit not possible: {exc}")
    sector_inputs = _sector_inputs(ledger, panel, fy)
    flow_potential = _potential(fit, fy, panel, settings, sector_inputs)
    cf = _counterfactual(fit, fy, flow_potential, settings)
    effects, effect_notes = _agreement_effects(fit, fy, flow_potential, settings)
    notes.extend(effect_notes)
    distribution, coverage = _distribution_check(fit, frame, [*terms, *years], settings)
    notes.append(_distribution_note(distribution, coverage))
    notes.extend(_agreement_sensitivity(fit, frame, [*terms, *years]))
    notes.append(_mirror_note(frame))
    potential, mh_fit, mode = flow_potential, None, MODEL_LABEL
    if multihost:
        pos, cov, mh_dropped = _multihost_inputs(positions)
        mh_fit, mh_pot = fit_multihost(pos, cov, x=("ldist",))
        base = pd.DataFrame(
            {
                "partner_iso3": mh_pot["partner_iso3"],
                "year": mh_pot["year"].astype(int),
                "actual": mh_pot["actual"],
                "actual_status": "reported position",
                "actual_upper": np.nan,
            }
        )
        mh_inputs = _sector_inputs(ledger, panel, base)
        potential = _guarded(
            base,
            mh_pot["predicted"].to_numpy(),
            mh_pot["lo"].to_numpy(),
            mh_pot["hi"].to_numpy(),
            _panel_values(panel, "ofdi_stock_usd", base),
            mh_inputs,
            "US$ million (current), end-year position (stock)",
            "total outward FDI stock",
        )
        dropped = pd.concat(
            [dropped, mh_dropped.rename(columns={"counterpart_iso3": "partner_iso3"})],
            ignore_index=True,
        )[dropped.columns]
        mode = MULTIHOST_LABEL
    fp = data_fingerprint(
        {
            "ledger": ledger.fingerprint,
            "panel": str(getattr(panel, "fingerprint", "")),
            "positions": _positions_fingerprint(positions),
            "settings": repr(asdict(settings)),
            "fit": fit.fingerprint,
        }
    )
    return GravityStudy(
        settings,
        mode,
        fit,
        listed_fit,
        frame,
        dropped,
        potential,
        cf,
        sector_inputs,
        fp,
        notes,
        multihost=mh_fit,
        agreement_effects=effects,
        distribution=distribution,
        coverage=coverage,
    )


def _agreement_sensitivity(
    fit: CensoredGravityResult, frame: pd.DataFrame, x: list[str]
) -> list[str]:
    """The agreement coefficient without each partner whose agreement status changes.

    The agreement effect is identified from the few partners whose agreement with Indonesia
    entered into force within the sample; leaving each out in turn shows how much one
    partner drives it.
    """
    if "agreement" not in fit.coef().index or "agreement" not in frame.columns:
        return []
    switch = frame.groupby("partner_iso3")["agreement"].nunique()
    rows = []
    for iso in sorted(switch[switch > 1].index):
        sub = frame[frame["partner_iso3"] != iso]
        try:
            f = fit_censored_gravity(
                sub, "pma_usd_m", x, lower="lower_bound", upper="upper_bound",
                priors=fit.settings.priors,
                fixed=fit.settings.fixed, dispersion_by=fit.settings.dispersion_by,
            )  # fmt: skip
        except MitraError:
            continue
        rows.append(f"{iso} {f.coef()['agreement']:.2f} (s.e. {f.se()['agreement']:.2f})")
    if not rows:
        return []
    return [
        f"Agreement coefficient {fit.coef()['agreement']:.2f} (s.e. {fit.se()['agreement']:.2f}); "
        "without each partner whose agreement entered into force in the sample: "
        + "; ".join(rows)
        + "."
    ]


def _lists_note(frame: pd.DataFrame, fit: CensoredGravityResult) -> str:
    """Which lists enter the likelihood, by the one rule of :func:`.frame.choose_lists`."""
    lists = frame.groupby(["year", "period"], sort=True)["status"].apply(
        lambda s: int((s == "listed").sum())
    )
    part = lists[lists.index.get_level_values("period") != "FY"]
    full = lists[lists.index.get_level_values("period") == "FY"]
    text = (
        f"Lists in the likelihood: {len(full)} full-year lists ({int(full.sum())} listed values)"
    )
    if len(part):
        text += (
            f" and {len(part)} part-year lists for years without a usable full-year list ("
            + ", ".join(f"{p} {y}" for y, p in part.index)
            + f"; {int(part.sum())} listed values). Rule: a year's full-year list when usable, "
            "else its disjoint part-year lists with the most listed values (a list and its own "
            "quarters are the same flows, never both). Each list has its own level (list "
            "effects, absorbing the period's length) and its own bound; part-year flows their "
            "own Gamma shape ("
            + ", ".join(f"{g} {k:.2f}" for g, k in fit.shapes.items())
            + "). Potentials are full-year flows (full-year lists' years only)."
        )
    else:
        text += "; no part-year list is needed (every usable year has a full-year list)."
    lag = frame[frame["gdp_year"] != frame["year"]] if "gdp_year" in frame else frame.iloc[:0]
    if len(lag):
        text += (
            " GDP of the previous year (the panel has none yet) for the part-year lists of "
            + ", ".join(str(y) for y in sorted(lag["year"].unique()))
            + "."
        )
    return text


#: Lognormal sigma of the stress scenario: a heavier tail than the data support (the value
#: at which the issue's own simulation found the Gamma fit's distance elasticity biased).
STRESS_SIGMA = 1.0


def _distribution_check(
    fit: CensoredGravityResult, frame: pd.DataFrame, x: list[str], settings: GravityStudySettings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gamma against lognormal on the same censored sample, and the Gamma fit's coverage.

    The comparison refits the model with a lognormal outcome (same mean, same priors) and
    compares maximised log likelihoods (AIC). The simulation draws ``distribution_reps``
    samples of flows from the fitted lognormal (and from a lognormal with sigma
    :data:`STRESS_SIGMA`, a heavier tail), re-applies each year's top-N censoring and refits
    the Gamma model: bias, 95 % coverage and the estimates' spread over their standard
    error say how far the Gamma intervals can be trusted if the outcome is not Gamma.
    """
    from analysis.models.censored import compare_families, coverage_by_simulation

    table, fits = compare_families(
        frame, "pma_usd_m", x, lower="lower_bound", upper="upper_bound",
        priors=fit.settings.priors,
        fixed=fit.settings.fixed, terms=list(settings.terms),
        dispersion_by=fit.settings.dispersion_by,
    )  # fmt: skip
    if settings.distribution_reps <= 0:
        return table, pd.DataFrame()
    # Each list publishes its own top N: the simulation censors list by list.
    n_listed = frame[frame["status"] == "listed"].groupby("list_id").size().to_dict()

    def disp(f):
        return dict(f.shapes) if f.settings.dispersion_by else float(f.shape)

    scenarios = (
        ("gamma", disp(fits["gamma"])),  # reference: the model's own assumption
        ("lognormal", disp(fits["lognormal"])),
        ("lognormal", STRESS_SIGMA),
    )
    sims = [
        coverage_by_simulation(
            fit,
            frame,
            "list_id",
            n_listed,
            family=family,
            dispersion=disp,
            reps=settings.distribution_reps,
            seed=settings.seed + k,
        )
        for k, (family, disp) in enumerate(scenarios)
    ]
    cov = pd.concat(sims, ignore_index=True)
    return table, cov[~cov["term"].str.startswith("year_")].reset_index(drop=True)


def _distribution_note(table: pd.DataFrame, coverage: pd.DataFrame) -> str:
    """One sentence on what the distribution check implies for the intervals."""
    t = table.set_index("family")
    best = str(table.loc[table["delta_aic"].idxmin(), "family"])
    d = float(t["delta_aic"].max())
    text = (
        f"Distribution check: the {best} fits the listed and censored observations better "
        f"by {d:.1f} AIC points "
        + ("(no material difference: < 2). " if d < 2 else "(a material difference). ")
        + "Coefficients under the lognormal: "
        + ", ".join(
            f"{term} {t.loc['lognormal', term]:.2f}"
            for term in ("lgdp", "ldist", "hub")
            if term in t.columns
        )
        + " (Gamma: "
        + ", ".join(
            f"{term} {t.loc['gamma', term]:.2f}"
            for term in ("lgdp", "ldist", "hub")
            if term in t.columns
        )
        + ")."
    )
    if len(coverage):
        text += " Simulated top-N samples refitted with the Gamma model (slope terms):"
        for (family, disp), g in coverage.groupby(["family", "dispersion"], sort=False):
            g = g[g["term"] != "Intercept"].set_index("term")
            what = (
                f"Gamma flows (shape {disp:.1f}, the model's own assumption)"
                if family == "gamma"
                else f"lognormal flows (sigma {disp:.2f})"
            )
            text += (
                f" {what}: 95 % intervals cover {g['coverage'].min():.0%}-"
                f"{g['coverage'].max():.0%}, distance bias {g.loc['ldist', 'bias']:+.2f}, "
                f"estimates spread up to {g['sd_over_se'].max():.1f} times their standard "
                f"error ({int(g['reps'].iloc[0])} samples);"
            )
        text = text.rstrip(";") + (
            ". Where the spread exceeds 1 the reported intervals are too narrow by about that "
            "factor, whichever the outcome distribution."
        )
    return text


def _portable(study: GravityStudy) -> GravityStudy:
    """The study without pyfixest's model objects (they do not pickle); tables stay."""
    for res in (study.listed_fit, study.multihost):
        if res is not None:
            res.model = None
    return study


def gravity_study(settings: GravityStudySettings, ledger=None, panel=None) -> GravityStudy:
    """The gravity study, computed once per data and settings (on-disk cache).

    The fit, potential (every sector) and counterfactual do not depend on the report's
    sector or partner list, so the cache key leaves them out and the gravity and ranking
    reports of all three sectors share one fit; the returned study carries the caller's
    settings. Cached copies hold no pyfixest model: the comparison fit's ``predict`` and
    ``confint`` need a fresh :func:`run_gravity`.
    """
    from analysis.base.cache import cached

    if ledger is None:
        from analysis.studies.inputs import inputs

        ledger = inputs().ledger
    if panel is None:
        from analysis.data.panel import load_panel

        panel = load_panel()
    shared = replace(settings, sector=SECTORS[0], partners=())
    positions = cached_positions()
    material = {
        "ledger": ledger.fingerprint,
        "panel": str(panel.fingerprint),
        "positions": _positions_fingerprint(positions),
        "settings": shared,
    }
    study = cached(
        "gravity-study",
        material,
        lambda: _portable(run_gravity(shared, ledger, panel, positions)),
    )
    return replace(study, settings=settings)


def potential_table(settings: GravityStudySettings, ledger=None, panel=None) -> pd.DataFrame:
    """The potential table for the ranking: read from :func:`gravity_study` (no refit)."""
    return gravity_study(settings, ledger, panel).potential


def agreement_effects(
    settings: GravityStudySettings | object,
    partner: str | None = None,
    ledger=None,
    panel=None,
) -> pd.DataFrame:
    """Pending agreements' FDI effect on actual flows and on the model baseline (no refit).

    ``settings`` is a :class:`GravityStudySettings` or a :class:`~analysis.config.Params`
    (its ``gravity`` group, through :func:`settings`). Reads the cached :func:`gravity_study`.
    Returns one row per
    agreement, partner (member ISO3 or ``TOTAL``) and ``basis`` (``actual``: the measured
    flow, ``model``: the gravity baseline) with ``effect_usd_m, lo, hi`` (US$ million a year,
    95 % interval by default), ``flow_usd_m``, ``flow_status`` (measured, bounded, model,
    none, in force) and a note. ``partner`` keeps the agreements covering that partner (its
    own rows and the agreement totals).
    """
    if not isinstance(settings, GravityStudySettings):
        settings = _settings_of(settings)  # the module's one params -> settings route
    eff = gravity_study(settings, ledger, panel).agreement_effects
    if partner is None or eff.empty:
        return eff.reset_index(drop=True)
    keys = set(eff.loc[eff["partner_iso3"] == partner, "agreement"])
    keep = eff["agreement"].isin(keys) & eff["partner_iso3"].isin([partner, "TOTAL"])
    return eff[keep].reset_index(drop=True)


def latest_potential(
    settings: GravityStudySettings, sector: str = "total", ledger=None, panel=None
) -> pd.DataFrame:
    """One row per partner: the potential of the latest fitted year for one sector."""
    pot = potential_table(settings, ledger, panel)
    pot = pot[pot["sector"] == sector]
    return pot[pot["year"] == pot["year"].max()].reset_index(drop=True)
