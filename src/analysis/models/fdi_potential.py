"""FDI potential against actual flows: plausibility guards, untapped gaps, agreement effects.

Model-level arithmetic behind report 20's potential table (the study in
:mod:`analysis.studies.gravity` fits the gravity equation and calls these functions):

- :func:`outflow_cap`: the partner's outward FDI that bounds a potential. A net outflow that
  is zero or negative (conduit economies net large gross flows) never sets a cap of zero:
  the mean net outflow over the last ``window`` years is used when positive, otherwise the
  partner's outward FDI stock (a gross position), otherwise no cap; each is flagged.
- :func:`share_guard`: the share of the partner's outward FDI that a potential implies
  Indonesia would take, against the largest multi-year share Indonesia actually receives
  from a comparable partner (same hub status). A potential above it is flagged and explained,
  not silently cut.
- :func:`untapped_gap`: potential minus actual with an interval where the actual is known or
  measured (``identified``), a signed lower bound where the actual is only bounded
  (``bounded``: the actual lies in ``[0, bound]``), nothing where it is unknown.
- :func:`agreement_effect`: a proportional agreement effect ``exp(b) - 1`` applied to a flow
  (measured actual or model baseline), with an interval from coefficient draws.
- :func:`censored_potential`, :func:`guarded_potential`: the potential table of a censored
  gravity fit (total and sector potentials, intervals, guards, gaps);
  :func:`agreement_counterfactual` and :func:`pending_agreement_effects`: agreements in force,
  on the model baseline and on measured flows (:func:`measured_flows`).
- :func:`investor_supply`: the supply component of a sector potential from investor-side
  evidence (the sector's multinationals by headquarters country, relative to the partner's
  size); a partner without evidence is a gap (NaN, flagged), never a zero or a reward.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.base.errors import MitraError
from analysis.base.vocab import partner_name
from analysis.models.censored import CensoredGravityResult

__all__ = [
    "GAP_STATUS",
    "NO_FIGURE",
    "NO_SUPPLY",
    "FdiPotentialError",
    "agreement_counterfactual",
    "agreement_effect",
    "censored_potential",
    "comparable_shares",
    "draw_eta",
    "guarded_potential",
    "investor_supply",
    "measured_flows",
    "outflow_cap",
    "pending_agreement_effects",
    "share_guard",
    "untapped_gap",
]


class FdiPotentialError(MitraError, ValueError):
    """A potential, guard or supply index cannot be computed as asked (names the input)."""


#: Guard text where no outward FDI figure exists at all.
NO_FIGURE = "no outward FDI figure: not checked"
#: Supply text where a partner has no investor-side evidence in the sector.
NO_SUPPLY = (
    "no investor-side evidence: not among the sector's multinationals in the part of the "
    "league tables we have (a gap in the evidence, not a zero)"
)
#: ``gap_status`` values, in the order of how much is known about the actual.
GAP_STATUS = ("identified", "bounded", "unidentified")


def outflow_cap(
    net_flows: pd.Series, stock: float = np.nan, window: int = 5
) -> tuple[float, str, bool]:
    """The outward FDI that caps a potential in the last year of ``net_flows``.

    Parameters
    ----------
    net_flows
        The partner's net outward FDI flows by year (US$ million), up to the year in question
        (the last entry is that year; missing years are NaN).
    stock
        The partner's outward FDI stock (US$ million) that year, the gross fallback.
    window
        Years in the multi-year mean used when the year's net flow is not positive.

    Returns
    -------
    (cap, basis, flagged)
        ``cap`` is NaN when no positive measure exists (then nothing is capped). ``flagged``
        is True whenever the cap is not the year's own net outflow. A cap is never 0.
    """
    s = pd.Series(net_flows, dtype=float)
    last = float(s.iloc[-1]) if len(s) else np.nan
    if last == last and last > 0:
        return last, "net outward FDI (year)", False
    recent = s.iloc[-window:].dropna()
    mean = float(recent.mean()) if len(recent) else np.nan
    if mean == mean and mean > 0:
        return (
            mean,
            f"mean net outward FDI over {len(recent)} years (the year's net flow is "
            + ("missing" if last != last else "<= 0")
            + ")",
            True,
        )
    if stock == stock and stock > 0:
        return float(stock), "outward FDI stock (gross position; net flows <= 0 or missing)", True
    if not len(recent) and stock != stock:
        return np.nan, NO_FIGURE, False
    return np.nan, f"net outward FDI <= 0 over {len(recent)} years, no stock: not capped", True


def comparable_shares(
    actual: pd.DataFrame, outflow: pd.DataFrame, groups: dict[str, str]
) -> pd.DataFrame:
    """Multi-year share of each partner's outward FDI that Indonesia received, by group.

    ``actual``: ``partner_iso3, year, value`` (measured flows into Indonesia, US$ million);
    ``outflow``: ``partner_iso3, year, cap`` (the partner's outward FDI, US$ million, > 0);
    ``groups``: partner -> comparability group (e.g. ``hub``/``non-hub``).

    Returns ``partner_iso3, group, share, years, n_years``: the sum of the measured flows over
    the sum of outward FDI in the same years (a multi-year ratio, steadier than one year's).
    """
    d = actual.merge(outflow, on=["partner_iso3", "year"], how="inner")
    d = d[(d["value"] > 0) & (d["cap"] > 0)]
    rows = []
    for iso, g in d.groupby("partner_iso3"):
        rows.append(
            {
                "partner_iso3": iso,
                "group": groups.get(iso, ""),
                "share": float(g["value"].sum() / g["cap"].sum()),
                "years": f"{int(g['year'].min())}-{int(g['year'].max())}",
                "n_years": len(g),
            }
        )
    return pd.DataFrame(rows, columns=["partner_iso3", "group", "share", "years", "n_years"])


def share_guard(
    potential: float,
    cap: float,
    group: str,
    shares: pd.DataFrame,
    partner: str = "",
    actual: float = np.nan,
) -> tuple[float, float, str]:
    """Implied share of the partner's outward FDI, the comparable bound, and a flag text.

    The bound is the largest multi-year share Indonesia receives from any partner of the
    same group (:func:`comparable_shares`), the partner's own measured share included (a
    potential no larger than what the partner already gives Indonesia is not implausible).
    The flag is empty when the implied share is within the bound, when the potential does
    not exceed the partner's ``actual`` flow that year (the actual shows the share is
    possible), or when it cannot be computed.
    """
    if not (cap == cap and cap > 0 and potential == potential):
        return np.nan, np.nan, ""
    implied = potential / cap
    if actual == actual and potential <= actual:
        return implied, actual / cap, ""
    comp = shares[(shares["group"] == group) | (shares["partner_iso3"] == partner)]
    if comp.empty:
        return implied, np.nan, ""
    top = comp.loc[comp["share"].idxmax()]
    bound = float(top["share"])
    if implied <= bound:
        return implied, bound, ""
    return (
        implied,
        bound,
        f"implausible: the potential is {implied:.0%} of the partner's outward FDI, above the "
        f"largest share Indonesia receives from a comparable ({group}) partner "
        f"({bound:.0%}, {partner_name(top['partner_iso3'])} {top['years']})",
    )


def untapped_gap(
    predicted: float,
    lo: float,
    hi: float,
    actual: float = np.nan,
    upper: float = np.nan,
    actual_lo: float = np.nan,
    actual_hi: float = np.nan,
) -> tuple[float, float, float, str]:
    """Untapped potential ``predicted - actual`` with an interval, and what is known.

    - actual known or measured: ``(predicted - actual, lo - actual_hi, hi - actual_lo,
      "identified")``; a measured actual (e.g. a mirror statistic) carries its interval
      ``[actual_lo, actual_hi]``, a published one is exact (both default to ``actual``);
    - actual only known to lie in ``[0, upper]``: no point value; ``lo - upper`` is a signed
      lower bound of the gap and ``hi`` its upper bound (actual >= 0): ``"bounded"``;
    - otherwise (or no potential): NaNs, ``"unidentified"``.
    """
    if predicted != predicted:
        return np.nan, np.nan, np.nan, "unidentified"
    if actual == actual:
        a_lo = actual if actual_lo != actual_lo else actual_lo
        a_hi = actual if actual_hi != actual_hi else actual_hi
        return predicted - actual, lo - a_hi, hi - a_lo, "identified"
    if upper == upper:
        return np.nan, lo - upper, hi, "bounded"
    return np.nan, np.nan, np.nan, "unidentified"


def agreement_effect(
    flow: float | np.ndarray,
    coef_draws: Iterable[float],
    coef: float,
    alpha: float = 0.05,
) -> tuple[float, float, float]:
    """Effect of switching an agreement on: ``flow * (exp(b) - 1)`` with an interval.

    ``flow`` is a number (a measured flow held fixed) or one value per draw (a model
    baseline drawn with the coefficients, so the two uncertainties combine). The interval is
    the ``alpha/2`` and ``1 - alpha/2`` quantiles over the draws of ``b``.
    """
    b = np.asarray(list(coef_draws), dtype=float)
    f = np.asarray(flow, dtype=float)
    point = float(np.mean(f) if f.ndim else f) * (np.exp(coef) - 1.0)
    sims = f * (np.exp(b) - 1.0)
    return point, float(np.quantile(sims, alpha / 2)), float(np.quantile(sims, 1 - alpha / 2))


def investor_supply(
    firms: pd.Series, size: pd.Series, reference: Iterable[str], prior: float = 1.0
) -> pd.DataFrame:
    """Investor-side supply index of one sector: the sector's multinationals, given size.

    Parameters
    ----------
    firms
        The sector's multinationals headquartered in each partner (league tables; NaN where
        the partner is not in the part of the tables we have: censored in [0, 1 firm]).
    size
        Each partner's economic size (e.g. GDP), the same index.
    reference
        The partners the index is relative to (e.g. the candidates): their firms per unit
        of size together (absent ones count 0 firms) give each partner's expected number of
        firms ``E = ratio x size``.
    prior
        Strength of the shrinkage towards 1, in expected firms: the index is the
        Poisson-Gamma posterior mean of the partner's rate relative to the reference,
        ``(firms + prior) / (E + prior)`` (Clayton & Kaldor 1987's smoothing of small-area
        ratios), so one firm in a small economy does not make it the sector's leader; with
        many firms or a large ``E`` it is close to the raw ratio ``firms / E``.

    Returns
    -------
    One row per partner of ``firms``' index: ``firms``, ``expected_firms``, ``supply_raw``
    (``firms / E``), ``supply_index`` (shrunk; NaN without evidence or size),
    ``supply_upper`` (the shrunk index of one firm: the most an absent partner could have at
    the tables' resolution), ``supply_status`` (``evidence``, ``gap`` or ``no size``) and
    ``reference_ratio``. A partner without evidence is a gap, never a zero or a reward.

    References
    ----------
    Clayton, D. and Kaldor, J. (1987), "Empirical Bayes estimates of age-standardized
    relative risks for use in disease mapping", Biometrics 43(3): 671-681.
    """
    if not prior > 0:
        raise FdiPotentialError(f"investor_supply: prior must be > 0 (got {prior!r})")
    f = pd.Series(firms, dtype=float)
    z = pd.Series(size, dtype=float).reindex(f.index)
    ref = [r for r in dict.fromkeys(reference) if r in f.index]
    ref_size = z.reindex(ref)
    known = ref_size.notna() & (ref_size > 0)
    denom = float(ref_size[known].sum())
    num = float(f.reindex(ref)[known].fillna(0.0).sum())
    ratio = num / denom if denom > 0 and num > 0 else np.nan
    ok_size = z.notna() & (z > 0)
    evidence = f.notna() & (f > 0)
    expected = ratio * z
    shrunk = (f + prior) / (expected + prior)
    upper = (1.0 + prior) / (expected + prior)
    status = np.where(~ok_size, "no size", np.where(evidence, "evidence", "gap"))
    return pd.DataFrame(
        {
            "firms": f,
            "expected_firms": expected.where(ok_size),
            "supply_raw": (f / expected).where(ok_size & evidence),
            "supply_index": shrunk.where(ok_size & evidence),
            "supply_upper": upper.where(ok_size & ~evidence),
            "supply_status": status,
            "reference_ratio": ratio,
        },
        index=f.index,
    )


# -- potential of a censored gravity fit ----------------------------------------------------


def draw_eta(fit: CensoredGravityResult, data: pd.DataFrame, draws: pd.DataFrame) -> np.ndarray:
    """Linear predictor per row (rows) and coefficient draw (columns), fixed terms added."""
    free = list(draws.columns)
    X = np.column_stack(
        [np.ones(len(data)) if t == "Intercept" else data[t].to_numpy(float) for t in free]
    )
    eta = X @ draws.to_numpy().T
    for term, v in fit.settings.fixed.items():
        eta = eta + v * data[term].to_numpy(float)[:, None]
    return eta


def censored_potential(
    study_fit: CensoredGravityResult,
    frame: pd.DataFrame,
    cap: np.ndarray,
    cap_basis: np.ndarray,
    sector_inputs: pd.DataFrame,
    *,
    draws: int,
    seed: int,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Potential of a censored gravity fit: expected full-year flow, guarded and with gaps.

    ``frame``: the fitted rows to predict (``partner_iso3, year, pma_usd_m, status`` listed /
    censored / measured, ``upper_bound, lower_bound, mirror_usd_m, hub`` and the
    regressors); ``cap``, ``cap_basis``: each row's outward FDI cap and its basis
    (:func:`outflow_cap`); ``sector_inputs``: see :func:`guarded_potential`. The interval
    comes from ``draws`` coefficient draws (seeded), at level ``1 - alpha``.
    """
    sims = np.exp(draw_eta(study_fit, frame, study_fit.draw_coefficients(draws, seed)))
    point, _ = study_fit.linear_predictor(frame)
    a = alpha
    base = pd.DataFrame(
        {
            "partner_iso3": frame["partner_iso3"].to_numpy(),
            "year": frame["year"].to_numpy(),
            "actual": frame["pma_usd_m"]
            .where(frame["status"] != "measured", frame["mirror_usd_m"])
            .to_numpy(),
            "actual_status": frame["status"].to_numpy(),
            "actual_upper": frame["upper_bound"].where(frame["status"] == "censored").to_numpy(),
            "actual_lo": frame["lower_bound"].to_numpy(),
            "actual_hi": frame["upper_bound"].where(frame["status"] == "measured").to_numpy(),
        }
    )
    return guarded_potential(
        base,
        np.exp(point),
        np.quantile(sims, a / 2, axis=1),
        np.quantile(sims, 1 - a / 2, axis=1),
        cap,
        sector_inputs,
        "US$ million (current), full-year flow",
        "total net outward FDI",
        cap_basis=np.asarray(cap_basis, dtype=object),
        hub=frame["hub"].to_numpy(bool),
    )


def guarded_potential(
    base: pd.DataFrame,
    point: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    cap_value: np.ndarray,
    sector_inputs: pd.DataFrame,
    unit: str,
    cap_label: str,
    cap_basis: np.ndarray | None = None,
    hub: np.ndarray | None = None,
) -> pd.DataFrame:
    """Total and sector potential rows with the plausibility guards applied and flagged.

    Guards: the cap (never 0: a non-positive ``cap_value`` means no cap), the share of the
    partner's outward FDI a total potential implies against the largest multi-year share
    Indonesia receives from a comparable partner (same hub status; flagged, not cut), and
    the untapped gap (:func:`untapped_gap`).

    ``base``: one row per partner-year (``partner_iso3, year, actual, actual_status,
    actual_upper``, optionally ``actual_lo, actual_hi``); ``point, lo, hi``: the total
    potential and its interval. ``sector_inputs``: one row per sector and partner with
    ``demand_share, demand_split, supply_index`` (and optionally ``supply_upper,
    supply_status``): a sector potential is the total times demand share, split and
    supply; a partner without supply evidence gets none (a gap, flagged), with what one
    league-table firm would imply in ``predicted_at_most``. Sectors in the order of
    ``sector_inputs``.
    """
    base = base.assign(partner_ofdi_total=cap_value)
    ofdi = cap_value
    if cap_basis is None:
        cap_basis = np.where(
            np.isnan(ofdi), NO_FIGURE,
            np.where(ofdi <= 0, f"{cap_label} <= 0: not capped", cap_label),
        )  # fmt: skip
    hub = np.zeros(len(base), bool) if hub is None else hub
    group = np.where(hub, "hub", "non-hub")
    listed = (
        base["actual"].notna() & base["actual_status"].isin(["listed", "reported position"])
    ).to_numpy()
    shares = comparable_shares(
        base[listed][["partner_iso3", "year", "actual"]].rename(columns={"actual": "value"}),
        base.assign(cap=ofdi)[["partner_iso3", "year", "cap"]],
        dict(zip(base["partner_iso3"], group, strict=True)),
    )
    out = []
    need = {"sector", "partner_iso3", "demand_share", "demand_split", "supply_index"}
    if len(sector_inputs) and not need <= set(sector_inputs.columns):
        raise FdiPotentialError(
            f"sector_inputs: missing columns {sorted(need - set(sector_inputs.columns))}; "
            f"columns are {list(sector_inputs.columns)}"
        )
    sectors = list(dict.fromkeys(sector_inputs["sector"])) if len(sector_inputs) else []
    for sector in ("total", *sectors):
        no_supply = np.full(len(base), "", dtype=object)
        over_total = np.zeros(len(base), bool)
        at_most = np.full(len(base), np.nan)
        if sector == "total":
            scale = np.ones(len(base))
        else:
            si = sector_inputs[sector_inputs["sector"] == sector].set_index("partner_iso3")
            si = si.reindex(base["partner_iso3"])
            dem = (si["demand_share"] * si["demand_split"]).to_numpy(float)
            scale = dem * si["supply_index"].to_numpy(float)
            # A sector cannot take more than the partner's whole potential.
            over_total = scale > 1
            scale = np.where(over_total, 1.0, scale)
            if "supply_upper" in si.columns:  # no evidence: what one firm would imply
                at_most = point * dem * si["supply_upper"].to_numpy(float)
                no_supply = np.where(
                    si["supply_status"].to_numpy(object) == "gap", NO_SUPPLY, ""
                ).astype(object)
        mod = point * scale
        cap = np.where(np.isnan(ofdi) | (ofdi <= 0), np.inf, ofdi)  # never a cap of 0
        capped = mod > cap
        d = base.copy()
        d.insert(2, "sector", sector)
        if sector != "total":
            d["actual"] = np.nan
            d["actual_status"] = "not published by partner and sector"
            d["actual_upper"] = np.nan
        d["predicted"] = np.minimum(mod, cap)
        d["lo"] = np.minimum(lo * scale, cap)
        d["hi"] = np.minimum(hi * scale, cap)
        d["capped"] = capped
        d["predicted_model"] = mod
        basis = cap_basis.astype(str)
        d["guard"] = np.where(
            np.isnan(mod),
            np.where(
                no_supply != "",
                "no potential: " + no_supply.astype(str),
                "no potential: covariates or sector evidence missing",
            ),
            np.where(
                np.isinf(cap),
                basis,
                np.where(capped, "capped at " + basis, "within " + basis),
            ),
        )
        note = "sector share above 1: capped at the partner's total potential; "
        d["guard"] = pd.Series(np.where(over_total, note, ""), index=d.index) + d["guard"].astype(
            str
        )
        d["cap_basis"] = cap_basis
        # A sector without investor-side evidence: the potential one league-table firm
        # would imply, the most the evidence allows (not an estimate).
        d["predicted_at_most"] = np.where(np.isnan(mod), np.minimum(at_most, cap), np.nan)
        d["actual_above_ofdi"] = d["actual"] > d["partner_ofdi_total"]
        # Untapped potential: predicted - actual where listed; where censored the actual is
        # below the bound, so predicted - bound is a lower bound ("at least").
        d["untapped_usd_m"] = d["predicted"] - d["actual"]
        d["untapped_at_least_usd_m"] = d["predicted"] - d["actual_upper"]
        a_lo = d["actual_lo"] if "actual_lo" in d else pd.Series(np.nan, index=d.index)
        a_hi = d["actual_hi"] if "actual_hi" in d else pd.Series(np.nan, index=d.index)
        gaps = [
            untapped_gap(p, lo_, hi_, act, up, alo, ahi)
            for p, lo_, hi_, act, up, alo, ahi in zip(
                d["predicted"], d["lo"], d["hi"], d["actual"], d["actual_upper"], a_lo, a_hi,
                strict=True,
            )
        ]  # fmt: skip
        d["gap_usd_m"] = [g[0] for g in gaps]
        d["gap_lo"] = [g[1] for g in gaps]
        d["gap_hi"] = [g[2] for g in gaps]
        d["gap_status"] = [g[3] for g in gaps]
        if sector == "total":
            guard = [
                share_guard(p, c, g, shares, iso, act)
                for p, c, g, iso, act in zip(
                    d["predicted_model"], ofdi, group, d["partner_iso3"], d["actual"], strict=True
                )
            ]
        else:  # sector potentials are shares of the total: the total's flag applies
            guard = [(np.nan, np.nan, "")] * len(d)
        d["implied_share"] = [g[0] for g in guard]
        d["share_bound"] = [g[1] for g in guard]
        d["plausibility_flag"] = [g[2] for g in guard]
        out.append(d)
    pot = pd.concat(out, ignore_index=True)
    pot["unit"] = unit
    cols = [
        "partner_iso3",
        "year",
        "sector",
        "actual",
        "actual_status",
        "predicted",
        "lo",
        "hi",
        "partner_ofdi_total",
        "capped",
        "predicted_model",
        "actual_upper",
        "guard",
        "actual_above_ofdi",
        "untapped_usd_m",
        "untapped_at_least_usd_m",
        "gap_usd_m",
        "gap_lo",
        "gap_hi",
        "gap_status",
        "cap_basis",
        "implied_share",
        "share_bound",
        "plausibility_flag",
        "predicted_at_most",
        "unit",
    ]
    flags = pot[pot["sector"] == "total"].set_index(["partner_iso3", "year"])["plausibility_flag"]
    sec = pot["sector"] != "total"
    pot.loc[sec, "plausibility_flag"] = [
        f"total potential {f}" if f else ""
        for f in flags.reindex(
            pd.MultiIndex.from_frame(pot.loc[sec, ["partner_iso3", "year"]])
        ).fillna("")
    ]
    return (
        pot[cols]
        .sort_values(["sector", "year", "predicted"], ascending=[True, True, False])
        .reset_index(drop=True)
    )


def agreement_counterfactual(
    study_fit: CensoredGravityResult,
    frame: pd.DataFrame,
    potential: pd.DataFrame,
    members: Mapping[str, Sequence[str]],
    *,
    draws: int,
    seed: int,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Agreements (``members``: key -> member ISO3) in force in the latest year, by member.

    ``potential``: the table of :func:`censored_potential`.

    The change is the baseline potential times ``exp(b_agreement) - 1``; its interval comes
    from draws of the agreement coefficient (prior and data), the baseline held at its
    estimate. One ratio is shared by all members, so summing member bounds gives the bound
    of the total. Partial equilibrium: no diversion from other partners, Indonesia's total
    not constrained.
    """
    if "agreement" not in set(study_fit.table["term"]):
        return pd.DataFrame()
    year = int(frame["year"].max())
    latest = frame[frame["year"] == year].set_index("partner_iso3")
    n_draws = draws
    draws = study_fit.draw_coefficients(n_draws, seed + 1)
    b = study_fit.coef()["agreement"]
    if "agreement" in draws.columns:
        ratio_draws = np.exp(draws["agreement"].to_numpy())
    else:  # fixed
        ratio_draws = np.full(n_draws, math.exp(b))
    pot = potential[(potential["sector"] == "total") & (potential["year"] == year)].set_index(
        "partner_iso3"
    )
    rows = []
    a = alpha
    for key, isos in members.items():
        for iso in isos:
            if iso not in latest.index:
                rows.append(
                    {
                        "agreement": key,
                        "partner_iso3": iso,
                        "year": year,
                        "note": "not in the fitted sample (no covariates)",
                    }
                )
                continue
            base = float(pot.loc[iso, "predicted"])
            already = bool(latest.loc[iso, "agreement"])
            r = 1.0 if already else math.exp(b)
            rd = np.ones_like(ratio_draws) if already else ratio_draws
            chg = base * (rd - 1)
            rows.append(
                {
                    "agreement": key,
                    "partner_iso3": iso,
                    "year": year,
                    "baseline": base,
                    "counterfactual": base * r,
                    "change": base * (r - 1),
                    "change_lo": float(np.quantile(chg, a / 2)),
                    "change_hi": float(np.quantile(chg, 1 - a / 2)),
                    "ratio": r,
                    "baseline_capped": bool(pot.loc[iso, "capped"]),
                    "note": "agreement already in force"
                    if already
                    else "partial-equilibrium FDI effect (US$ million a year)",
                }
            )
    return pd.DataFrame(rows)


def measured_flows(frame: pd.DataFrame) -> pd.DataFrame:
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


def pending_agreement_effects(
    study_fit: CensoredGravityResult,
    frame: pd.DataFrame,
    potential: pd.DataFrame,
    pending: Mapping[str, tuple[str, str]],
    *,
    draws: int,
    seed: int,
    alpha: float = 0.05,
) -> tuple[pd.DataFrame, list[str]]:
    """Pending agreements' effect on measured flows and on the model baseline, with intervals.

    One row per agreement, member and basis (``actual``: the member's measured flow, see
    :func:`measured_flows`; ``model``: the gravity potential of the latest year, drawn with
    the coefficients), plus a ``TOTAL`` row per agreement and basis (the actual total covers
    the members with a measured flow only; the others are below the year's bound). The
    effect is ``flow * (exp(b_agreement) - 1)``, partial equilibrium; its interval comes
    from draws of the agreement coefficient (and, for the model basis, of the baseline).
    ``pending``: key -> (agreement name, space-separated member ISO3 codes).
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
    notes: list[str] = []
    year = int(frame["year"].max())
    latest = frame[frame["year"] == year].set_index("partner_iso3")
    n_draws = draws
    draws = study_fit.draw_coefficients(n_draws, seed + 2)
    b = float(study_fit.coef()["agreement"])
    bd = draws["agreement"].to_numpy() if "agreement" in draws.columns else np.full(n_draws, b)
    pot = potential[(potential["sector"] == "total") & (potential["year"] == year)]
    pot = pot.set_index("partner_iso3")
    sims = np.exp(draw_eta(study_fit, latest.reset_index(), draws))
    cap = pot["partner_ofdi_total"].reindex(latest.index).to_numpy(float)
    cap = np.where(np.isnan(cap) | (cap <= 0), np.inf, cap)
    sims = np.minimum(sims, cap[:, None])
    row_of = {iso: i for i, iso in enumerate(latest.index)}
    measured = measured_flows(frame)
    a = alpha
    ratio = math.exp(b)
    rows = []
    for key, (name, members) in pending.items():
        isos = members.split()
        tot_act, tot_model, n_meas, bounded, missing = 0.0, np.zeros(n_draws), [], [], []
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
                    f"other members never listed (flow below the year's bound, not added): "
                    f"{len(bounded)}",
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
