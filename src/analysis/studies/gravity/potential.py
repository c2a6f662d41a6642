"""Potential of the gravity study: sector inputs, demand, outflow caps, guarded potential and
counterfactuals.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.censored import CensoredGravityResult
from analysis.fdi_potential import (
    NO_FIGURE,
    comparable_shares,
    outflow_cap,
    share_guard,
    untapped_gap,
)

from .frame import _agreement_members
from .settings import SECTOR_DEMAND, SECTOR_EXPORTS, SECTORS, GravityStudySettings

# -- computation ----------------------------------------------------------------------------


def _year_dummies(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    years = sorted(frame["year"].unique())
    cols = [f"year_{y}" for y in years[1:]]
    for col in cols:
        frame[col] = (frame["year"] == int(col[5:])).astype(float)
    return frame, cols


def _draw_eta(fit: CensoredGravityResult, data: pd.DataFrame, draws: pd.DataFrame) -> np.ndarray:
    """Linear predictor per row (rows) and coefficient draw (columns)."""
    free = list(draws.columns)
    X = np.column_stack(
        [np.ones(len(data)) if t == "Intercept" else data[t].to_numpy(float) for t in free]
    )
    eta = X @ draws.to_numpy().T
    for term, v in fit.settings.fixed.items():
        eta = eta + v * data[term].to_numpy(float)[:, None]
    return eta


def _latest_at_or_before(wide: pd.DataFrame, iso3: str, year: int) -> tuple[float, float]:
    """The latest non-missing value of a wide (iso3 x year) table up to ``year``."""
    if iso3 not in wide.index:
        return np.nan, np.nan
    row = wide.loc[iso3]
    row = row[(row.index <= year) & row.notna()]
    return (float(row.iloc[-1]), float(row.index[-1])) if len(row) else (np.nan, np.nan)


def _demand(ledger, sector: str) -> tuple[float, float, str]:
    """Indonesia's sector share of full-year PMA (latest year with both), year, source."""
    where = {"measure": "pma", "period": "FY", "partner_iso3": "WLD", "region": "IDN"}
    total = ledger.select(**where, concept="realisation", sector="all").set_index("year")["value"]
    sec = ledger.select(**where, concept="realisation", sector=list(SECTOR_DEMAND[sector]))
    total = total.dropna()
    sec = sec[sec["year"].isin(total.index) & sec["value"].notna()].sort_values("year")
    if sec.empty:
        return np.nan, np.nan, "no sector PMA published"
    last = sec.iloc[-1]
    year = int(last["year"])
    share = float(last["value"]) / float(total[year])
    return share, float(year), f"ledger: PMA {last['sector']} / PMA all sectors, FY {year}"


def _sector_inputs(ledger, panel, frame: pd.DataFrame) -> pd.DataFrame:
    """Demand (Indonesia's sector share of PMA) and supply (partner specialisation) inputs.

    Supply is the partner's sector exports over its total goods exports (the Atlas total of
    the same source and year; WDI goods exports where the panel has no Atlas total), divided
    by the same ratio summed over the 40 candidate partners with both figures: an index, 1 =
    as specialised as the candidates together. Sector specialisation moves slowly and the
    panel's sector series are sparse before 2024, so each partner's latest figure up to the
    last fitted year is used for every year (its year is recorded in ``supply_year``).
    """
    from analysis.data.panel import CANDIDATES

    last_year = int(frame["year"].max())
    partners = sorted(frame["partner_iso3"].unique())
    totals = {c: panel.wide(c) for c in ("exports_total_sitc_usd", "exports_goods_usd")}
    rows = []
    for sector in SECTORS:
        share, dyear, dsrc = _demand(ledger, sector)
        code = SECTOR_EXPORTS[sector]
        exports = panel.wide(code)
        ratio = {}
        for iso in sorted(set(partners) | set(CANDIDATES)):
            xs, ys = _latest_at_or_before(exports, iso, last_year)
            xt, basis = np.nan, ""
            for tcode, wide in totals.items():
                if ys == ys and iso in wide.index and int(ys) in wide.columns:
                    xt = float(wide.loc[iso, int(ys)])
                    if xt == xt:
                        basis = tcode
                        break
            ratio[iso] = (xs, xt, ys, basis)
        ref = [
            (xs, xt)
            for iso, (xs, xt, _, _) in ratio.items()
            if iso in CANDIDATES and xs == xs and xt == xt and xt > 0
        ]
        group = sum(a for a, _ in ref) / sum(b for _, b in ref) if ref else np.nan
        for iso in partners:
            xs, xt, ys, basis = ratio[iso]
            ok = xs == xs and xt == xt and xt > 0 and group == group and group > 0
            rows.append(
                {
                    "sector": sector,
                    "partner_iso3": iso,
                    "demand_share": share,
                    "demand_year": dyear,
                    "demand_source": dsrc,
                    "supply_index": (xs / xt) / group if ok else np.nan,
                    "group_ratio": group,
                    "supply_year": ys,
                    "supply_source": f"partner panel {code} / {basis}, relative to the 40 "
                    "candidates"
                    if ok
                    else f"no {code} (or no total exports) in the partner panel",
                }
            )
    out = pd.DataFrame(rows)
    return _split_shared_demand(out)


def _split_shared_demand(inputs: pd.DataFrame) -> pd.DataFrame:
    """Sectors that share one demand series split it, so it is counted once.

    Chemical and pharma share BKPM's chemicals-and-pharmaceuticals PMA share. Each gets
    ``demand_split`` = its share of the candidates' combined exports of the two (the group
    ratios of the supply index), so that, partner by partner, ``split_c * supply_c + split_p *
    supply_p`` is the partner's specialisation in the two together: the chemical and pharma
    potentials add up to the combined sector's, not to twice it. Other sectors: 1.
    """
    out = inputs.copy()
    out["demand_split"] = 1.0
    shared: dict[str, list[str]] = {}
    for sector, (series, _) in SECTOR_DEMAND.items():
        shared.setdefault(series, []).append(sector)
    for sectors in shared.values():
        if len(sectors) < 2:
            continue
        g = {sec: float(out.loc[out["sector"] == sec, "group_ratio"].iloc[0]) for sec in sectors}
        total = sum(g.values())
        for sec in sectors:
            out.loc[out["sector"] == sec, "demand_split"] = g[sec] / total if total > 0 else np.nan
    return out


def _potential(
    study_fit: CensoredGravityResult,
    frame: pd.DataFrame,
    panel,
    settings: GravityStudySettings,
    sector_inputs: pd.DataFrame,
) -> pd.DataFrame:
    """Potential of the Indonesia fit: expected full-year PMA (a flow), capped at outflows."""
    draws = study_fit.draw_coefficients(settings.draws, settings.seed)
    sims = np.exp(_draw_eta(study_fit, frame, draws))
    point, _ = study_fit.linear_predictor(frame)
    a = settings.alpha
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
    cap, basis = _outflow_caps(panel, base)
    return _guarded(
        base,
        np.exp(point),
        np.quantile(sims, a / 2, axis=1),
        np.quantile(sims, 1 - a / 2, axis=1),
        cap,
        sector_inputs,
        "US$ million (current), full-year flow",
        "total net outward FDI",
        cap_basis=basis,
        hub=frame["hub"].to_numpy(bool),
    )


def _outflow_caps(panel, base: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each row's outward FDI cap (US$ million) and its basis (:func:`outflow_cap`).

    Never 0: a net outflow <= 0 falls back to the 5-year mean net outflow, then to the
    outward FDI stock, then to no cap, each flagged in the basis text.
    """
    flows = panel.wide("fdi_outflow_usd") * 1000
    stock = panel.wide("ofdi_stock_usd") * 1000
    caps, bases = [], []
    for iso, year in zip(base["partner_iso3"], base["year"], strict=True):
        y = int(year)
        if iso in flows.index:
            row = flows.loc[iso]
            series = row[[c for c in row.index if y - 4 <= int(c) <= y]]
            series = series.reindex(range(y - 4, y + 1))
        else:
            series = pd.Series([np.nan])
        st = np.nan
        if iso in stock.index and y in stock.columns:
            st = float(stock.loc[iso, y])
        cap, basis, _ = outflow_cap(series, st)
        caps.append(cap)
        bases.append(basis)
    return np.array(caps, dtype=float), np.array(bases, dtype=object)


def _panel_values(panel, indicator: str, base: pd.DataFrame) -> np.ndarray:
    """Panel values (US$ billion) for each row's partner-year, in US$ million."""
    return np.array(
        [
            panel.value(indicator, p, int(y)) * 1000
            for p, y in zip(base["partner_iso3"], base["year"], strict=True)
        ],
        dtype=float,
    )


def _guarded(
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
    the untapped gap (:func:`analysis.fdi_potential.untapped_gap`).
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
    for sector in ("total", *SECTORS):
        if sector == "total":
            scale = np.ones(len(base))
        else:
            si = sector_inputs[sector_inputs["sector"] == sector].set_index("partner_iso3")
            scale = (si["demand_share"] * si["demand_split"] * si["supply_index"]).reindex(
                base["partner_iso3"]
            )
            scale = scale.to_numpy()
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
            "no potential: covariates or sector exports missing in the partner panel",
            np.where(
                np.isinf(cap),
                basis,
                np.where(capped, "capped at " + basis, "within " + basis),
            ),
        )
        d["cap_basis"] = cap_basis
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


def _counterfactual(
    study_fit: CensoredGravityResult,
    frame: pd.DataFrame,
    potential: pd.DataFrame,
    settings: GravityStudySettings,
) -> pd.DataFrame:
    """IEU-CEPA and Canada CEPA in force in the latest year, member by member.

    The change is the baseline potential times ``exp(b_agreement) - 1``; its interval comes
    from draws of the agreement coefficient (prior and data), the baseline held at its
    estimate. One ratio is shared by all members, so summing member bounds gives the bound
    of the total. Partial equilibrium: no diversion from other partners, Indonesia's total
    not constrained.
    """
    if "agreement" not in set(study_fit.table["term"]):
        return pd.DataFrame()
    members = _agreement_members()
    year = int(frame["year"].max())
    latest = frame[frame["year"] == year].set_index("partner_iso3")
    draws = study_fit.draw_coefficients(settings.draws, settings.seed + 1)
    b = study_fit.coef()["agreement"]
    if "agreement" in draws.columns:
        ratio_draws = np.exp(draws["agreement"].to_numpy())
    else:  # fixed
        ratio_draws = np.full(settings.draws, math.exp(b))
    pot = potential[(potential["sector"] == "total") & (potential["year"] == year)].set_index(
        "partner_iso3"
    )
    rows = []
    a = settings.alpha
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
