"""Partner covariates and Indonesia's inward-investment gravity application.

Covariates, each with its source:

- ``gdp_usd_bn``, ``gdp_growth_pct``: the partner panel (:mod:`analysis.data.panel`: WDI,
  IMF WEO for Taiwan, one conflict rule); a partner-year without a value stays missing.
- ``distance_km``: great-circle distance between capitals (haversine, mean Earth radius
  6,371 km) from the capital coordinates shipped by the ``countryinfo`` package (MIT).
- ``same_subregion``: the partner is in Indonesia's UN M49 sub-region (South-eastern Asia),
  from ``countryinfo``.
- ``agreement``: a bilateral or bloc agreement in force for Indonesia for at least half of the
  year (in force on 1 July), from :mod:`analysis.data.agreements` (one rule for uncertain
  and missing dates, documented there).

The application fits PMA from each partner (US$ million, full year, from the ledger) on these
covariates with year effects (explicit dummies, so their uncertainty reaches the
intervals). Top-N censoring: an unlisted partner is **not** a zero. The main fit uses listed
partner-years only (a sample truncated from below, stated in the report); a bound fit adds
the censored partner-years at their upper bound, so the reader sees how far the estimates
move across what censoring allows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd

from analysis.data.agreements import agreements_table, load_agreements
from analysis.data.ledger import Ledger
from analysis.data.panel import CANDIDATES, load_panel
from analysis.gravity import AssumedCoef, GravityError, GravityResult, fit_gravity
from analysis.summary import Summary
from analysis.vocab import GRAVITY_TERMS

__all__ = ["IndonesiaGravity", "fit_indonesia_gravity", "partner_covariates"]

EARTH_RADIUS_KM = 6371.0
TERMS = GRAVITY_TERMS  # declared once, in the vocabulary (configuration validates against it)


@cache
def _capital(iso3: str) -> tuple[float, float, str] | None:
    from countryinfo import CountryInfo

    try:
        info = CountryInfo(iso3)
        lat, lon = info.capital_latlng()
        return float(lat), float(lon), str(info.subregion())
    except Exception:
        return None


def _haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def agreements_in_force(root=None) -> pd.DataFrame:
    """Partner, agreement and entry-into-force date for Indonesia (thin alias).

    Kept for callers of the old interface; the rule lives in
    :mod:`analysis.data.agreements` (one row per member of each agreement).
    """
    rows = []
    for a in load_agreements(root):
        for iso in a.members:
            rows.append(
                {
                    "partner_iso3": iso,
                    "agreement": a.name,
                    "in_force": pd.Timestamp(a.in_force_from) if a.in_force_from else None,
                    "counted": a.in_force_from is not None,
                    "why_not": "" if a.in_force_from else f"entry into force: {a.text}",
                    "flags": ";".join(a.flags),
                    "source": a.source,
                }
            )
    return pd.DataFrame(rows)


def partner_covariates(partners: Sequence[str], years: Sequence[int], root=None) -> pd.DataFrame:
    """One row per (partner, year) with the covariates and their sources.

    GDP (US$ billion, current) and real growth come from the partner panel
    (:func:`analysis.data.panel.load_panel`) for every year; agreements from
    :func:`analysis.data.agreements.agreements_table` (in force on 1 July).
    """
    panel = load_panel(root)
    partners = list(partners)
    years = [int(y) for y in years]
    known = set(panel.economies)
    agree = agreements_table(partners, years, root) if partners and years else None
    jakarta = _capital("IDN")
    rows = []
    for p in partners:
        cap = _capital(p)
        dist = _haversine(jakarta[:2], cap[:2]) if cap and jakarta else np.nan
        sub = float(cap[2] == jakarta[2]) if cap and jakarta else np.nan
        for y in years:
            gdp = panel.cell("gdp_usd", p, y) if p in known else None
            growth = panel.value("gdp_growth_pct", p, y) if p in known else np.nan
            mine = agree[(agree["iso3"] == p) & (agree["year"] == y) & agree["in_force"]]
            rows.append(
                {
                    "partner_iso3": p,
                    "year": y,
                    "gdp_usd_bn": float(gdp["value"]) if gdp is not None else np.nan,
                    "gdp_growth_pct": growth,
                    "distance_km": dist,
                    "same_subregion": sub,
                    "agreement": float(len(mine) > 0),
                    "agreements": "; ".join(mine["agreement"]),
                    "gdp_source": str(gdp["source"]) if gdp is not None else "",
                }
            )
    out = pd.DataFrame(rows)
    out["lgdp"] = np.log(out["gdp_usd_bn"])
    out["ldist"] = np.log(out["distance_km"])
    return out


@dataclass
class IndonesiaGravity:
    """Indonesia's inward-PMA gravity fit, its censoring bound, and partner potential."""

    main: GravityResult | None
    bound: GravityResult | None
    panel: pd.DataFrame
    potential: pd.DataFrame
    not_identified: list[str]
    notes: list[str] = field(default_factory=list)

    def estimates(self) -> pd.DataFrame:
        """Main and bound-fit estimates side by side, with the source of each term."""
        frames = []
        for label, res in (("listed only", self.main), ("censored at bound", self.bound)):
            if res is not None:
                t = res.table.set_index("term")[["estimate", "se", "source"]]
                t = t[~t.index.str.startswith("year_")]  # year effects: nuisance
                frames.append(t.add_prefix(f"{label}: "))
        return pd.concat(frames, axis=1) if frames else pd.DataFrame()

    def summary(self) -> Summary:
        return Summary(
            title="Indonesia inward PMA gravity (PPML, year effects)",
            settings={
                "observations (listed)": self.main.nobs if self.main else 0,
                "not identified": ", ".join(self.not_identified) or "none",
            },
            tables=[
                ("Estimates", self.estimates().round(4)),
                ("Potential against actual, latest year", self.potential.round(1)),
            ],
            notes=self.notes,
        )


def fit_indonesia_gravity(
    ledger: Ledger,
    *,
    years: Sequence[int] | None = None,
    candidates: Sequence[str] | None = None,
    assumed: Mapping[str, Mapping[str, object]] | None = None,
    terms: Sequence[str] = TERMS,
) -> IndonesiaGravity:
    """Fit PMA by partner on covariates (see the module docstring) and compute potential.

    Parameters
    ----------
    years
        Years of the panel (default: years with both a full-year partner list and GDP).
    candidates
        Partners to predict for (default: every partner with covariates).
    assumed
        ``{term: {"value": v, "citation": "..."}}`` for coefficients the data cannot
        identify.
    """
    assumed_coefs = {
        t: AssumedCoef(float(a["value"]), str(a["citation"]))  # type: ignore[arg-type]
        for t, a in (assumed or {}).items()
    }
    all_partners = sorted(CANDIDATES)
    panel_pma = ledger.partner_panel(all_partners, periods=["FY"])
    gdp = load_panel().frame
    gdp_years = set(gdp.loc[gdp["indicator"] == "gdp_usd", "year"].astype(int))
    if years is None:
        years = sorted(set(panel_pma["year"]) & gdp_years)
    cov = partner_covariates(all_partners, years)
    panel = cov.merge(
        panel_pma[["year", "partner_iso3", "value", "upper_bound", "status"]],
        on=["year", "partner_iso3"],
        how="left",
    )
    panel["status"] = panel["status"].fillna("no list")
    panel = panel.rename(columns={"value": "pma_usd_m"})
    # Year effects as explicit dummies (first year = reference), not absorbed: with a
    # handful of years this keeps their uncertainty in the prediction intervals.
    year_dummies = [f"year_{y}" for y in sorted(panel["year"].unique())[1:]]
    for col in year_dummies:
        panel[col] = (panel["year"] == int(col[5:])).astype(float)
    notes = [
        "Unlisted partners are not zeros: the main fit uses listed partner-years only (a "
        "sample truncated from below, so size effects are understated); the bound fit adds "
        "censored partner-years at their upper bound.",
        "Singapore and Hong Kong figures include capital routed from third countries (BKPM).",
    ]
    listed = panel[panel["status"] == "observed"]
    main = bound = None
    not_identified: list[str] = []
    x = [t for t in terms if t not in assumed_coefs]
    try:
        main = fit_gravity(listed, "pma_usd_m", [*x, *year_dummies], assumed=assumed_coefs)
        not_identified = [t for t in x if t not in set(main.table["term"])]
        b = panel[panel["status"].isin(["observed", "censored"])].copy()
        b["pma_usd_m"] = b["pma_usd_m"].fillna(b["upper_bound"])
        bound = fit_gravity(b, "pma_usd_m", [*x, *year_dummies], assumed=assumed_coefs)
    except GravityError as exc:
        notes.append(f"Not estimable from Indonesia's data: {exc}")
    if not_identified:
        notes.append(
            "Not identified (collinear or constant in the sample): "
            + ", ".join(not_identified)
            + ". Supply literature values in the "
            "params (gravity_assumed) to use them."
        )
    potential = _potential(main, panel, candidates) if main is not None else pd.DataFrame()
    return IndonesiaGravity(main, bound, panel, potential, not_identified, notes)


def _potential(
    res: GravityResult, panel: pd.DataFrame, candidates: Sequence[str] | None
) -> pd.DataFrame:
    years = [int(c[5:]) for c in res._estimated() if c.startswith("year_")]
    year = max(years) if years else int(panel["year"].min())
    latest = panel[(panel["year"] == year)].dropna(
        subset=[t for t in res._estimated() if t != "Intercept"] + list(res.settings.assumed)
    )
    if candidates is not None:
        latest = latest[latest["partner_iso3"].isin(list(candidates))]
    if latest.empty:
        return pd.DataFrame()
    pred = res.predict(latest)
    out = pd.DataFrame(
        {
            "partner_iso3": latest["partner_iso3"].to_numpy(),
            "year": year,
            "status": latest["status"].to_numpy(),
            "actual_usd_m": latest["pma_usd_m"].to_numpy(),
            "actual_upper_usd_m": latest["upper_bound"]
            .where(latest["status"] == "censored")
            .to_numpy(),
            "predicted_usd_m": pred["predicted"].to_numpy(),
            "ci_low": pred["ci_low"].to_numpy(),
            "ci_high": pred["ci_high"].to_numpy(),
            "agreement": latest["agreement"].to_numpy(),
        }
    )
    out["untapped_usd_m"] = out["predicted_usd_m"] - out["actual_usd_m"]
    # Censored: actual < bound, so untapped > predicted - bound (a lower bound).
    out["untapped_at_least_usd_m"] = out["predicted_usd_m"] - out["actual_upper_usd_m"]
    return out.sort_values("predicted_usd_m", ascending=False).reset_index(drop=True)
