"""The indicator framework of the partner ranking, per sector, each indicator documented.

Every indicator says what it measures, its direction (+1: more is better for Indonesia's
courting; -1: less is better), unit, source and the year used (the latest published up to the
report's end year; the year is kept per partner). Nothing is filled here: a partner without
a published value has NaN, and the ranking's imputation setting decides what happens.

Pillars: ``capacity`` (outward FDI), ``sector strength`` (sector exports), ``market`` (size
and growth), ``presence`` (PMA in Indonesia, censoring-aware, and its momentum), ``ties``
(agreements in force, distance, region), ``potential`` (the gravity model's untapped
potential).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.data.ledger import Ledger
from analysis.data.panel import CANDIDATES, PartnerPanel, load_panel

__all__ = ["SECTOR_EXPORTS", "build_indicators"]

#: Sector-strength indicators (partner facts) per report sector.
SECTOR_EXPORTS = {
    "textile": ("exports_textiles_usd", "exports_clothing_usd"),
    "chemical": ("exports_chemicals_usd",),
    "pharma": ("exports_pharma_usd",),
}


@dataclass(frozen=True)
class Indicator:
    code: str
    pillar: str
    label: str
    direction: int
    unit: str
    source: str


def _latest(
    panel: PartnerPanel, indicator: str, partners: Sequence[str], end_year: int
) -> tuple[pd.Series, pd.Series]:
    """Latest value up to ``end_year`` per partner from the partner panel (catalogue unit)."""
    known = [p for p in partners if p in set(panel.economies)]
    last = panel.latest(indicator, known, max_year=end_year).set_index("iso3")
    return (
        last["value"].reindex(partners).astype(float),
        last["year"].reindex(partners).astype(float),
    )


def build_indicators(
    ledger: Ledger,
    sector: str,
    end_year: int,
    *,
    potential: pd.DataFrame | None = None,
    partners: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Raw indicator matrix for the candidate partners of one report sector.

    Returns
    -------
    values, years, meta
        Partners x indicators values and the year each value refers to, and one row per
        indicator (pillar, label, direction, unit, source, year span).
    """
    from analysis.partners import agreements_in_force, partner_covariates

    facts = load_panel()
    candidates = sorted(CANDIDATES) if partners is None else list(partners)
    cols: dict[str, pd.Series] = {}
    years: dict[str, pd.Series] = {}
    inds: list[Indicator] = []
    src_facts = "partner panel (analysis.data.panel; source per cell)"

    def add(ind: Indicator, values: pd.Series, yrs: pd.Series | float) -> None:
        cols[ind.code] = values.reindex(candidates).astype(float)
        years[ind.code] = (
            yrs.reindex(candidates).astype(float)
            if isinstance(yrs, pd.Series)
            else pd.Series(yrs, index=candidates, dtype=float)
        )
        inds.append(ind)

    def add_fact(code: str, fact: str, pillar: str, label: str, unit: str) -> None:
        v, y = _latest(facts, fact, candidates, end_year)
        add(Indicator(code, pillar, label, +1, unit, src_facts), v, y)

    add_fact("ofdi_stock", "ofdi_stock_usd", "capacity", "Outward FDI stock", "US$ billion")
    add_fact("ofdi_flow", "ofdi_flow_usd", "capacity", "Outward FDI flow", "US$ billion")
    for fact in SECTOR_EXPORTS[sector]:
        add_fact(
            fact.removesuffix("_usd"),
            fact,
            "sector strength",
            "Exports: " + fact.removeprefix("exports_").removesuffix("_usd").replace("_", " "),
            "US$ billion",
        )
    add_fact("gdp", "gdp_usd", "market", "GDP", "US$ billion")
    add_fact("gdp_growth", "gdp_growth_pct", "market", "Real GDP growth", "percent")

    # Presence in Indonesia: latest full-year PMA. A censored partner (not in the top list)
    # gets the midpoint of [0, bound]: an explicit, flagged imputation, never a zero.
    panel = ledger.partner_panel(candidates, periods=["FY"])
    panel = panel[panel["year"] <= end_year]
    pma, pma_year, flags = {}, {}, {}
    for p in candidates:
        sub = panel[(panel["partner_iso3"] == p) & panel["status"].isin(["observed", "censored"])]
        if sub.empty:
            continue
        last = sub.sort_values("year").iloc[-1]
        pma_year[p] = last["year"]
        if last["status"] == "observed":
            pma[p] = last["value"]
        else:
            pma[p] = last["upper_bound"] / 2
            flags[p] = f"censored in {last['year']}: midpoint of [0, {last['upper_bound']:.0f}]"
    add(
        Indicator(
            "pma_in_idn",
            "presence",
            "PMA in Indonesia, latest full year",
            +1,
            "US$ million",
            "ledger: BKPM top-N lists (censored: midpoint)",
        ),
        pd.Series(pma, dtype=float),
        pd.Series(pma_year, dtype=float),
    )
    # Momentum: growth between the two latest years in which the partner was listed.
    mom = {}
    for p in candidates:
        obs = panel[(panel["partner_iso3"] == p) & (panel["status"] == "observed")]
        obs = obs.sort_values("year")
        if len(obs) >= 2:
            a, b = obs.iloc[-2], obs.iloc[-1]
            mom[p] = (b["value"] / a["value"]) ** (1 / max(b["year"] - a["year"], 1)) - 1
    momentum = pd.Series(mom, dtype=float) * 100
    add(
        Indicator(
            "pma_momentum",
            "presence",
            "PMA growth, two latest listed years",
            +1,
            "percent per year",
            "ledger: BKPM top-N lists",
        ),
        momentum,
        pd.Series(pma_year, dtype=float).where(momentum.notna()),
    )

    cov = partner_covariates(candidates, [end_year]).set_index("partner_iso3")
    agreements = agreements_in_force()
    add(
        Indicator(
            "agreement",
            "ties",
            "Agreement in force with Indonesia",
            +1,
            "0/1",
            "data/raw/partners/agreements_eif.csv",
        ),
        cov["agreement"],
        float(end_year),
    )
    add(
        Indicator(
            "distance",
            "ties",
            "Distance between capitals",
            -1,
            "km",
            "countryinfo capital coordinates (great circle)",
        ),
        cov["distance_km"],
        np.nan,
    )
    add(
        Indicator(
            "same_subregion",
            "ties",
            "In Indonesia's UN sub-region",
            +1,
            "0/1",
            "countryinfo (UN M49 sub-region)",
        ),
        cov["same_subregion"],
        np.nan,
    )
    if potential is not None and len(potential):
        pot = potential.set_index("partner_iso3")
        add(
            Indicator(
                "untapped",
                "potential",
                "Gravity untapped potential",
                +1,
                "US$ million",
                "analysis.partners gravity fit (see report 20)",
            ),
            pot["untapped_usd_m"].fillna(pot["untapped_at_least_usd_m"]),
            pot["year"],
        )
    values = pd.DataFrame(cols, index=pd.Index(candidates, name="partner_iso3"))
    yrs = pd.DataFrame(years, index=values.index)
    meta = pd.DataFrame([vars(i) for i in inds]).set_index("code")
    meta["year"] = [
        f"{int(yrs[c].min())}-{int(yrs[c].max())}" if yrs[c].notna().any() else "time-invariant"
        for c in meta.index
    ]
    meta["coverage"] = values.notna().mean().reindex(meta.index).round(2)
    values.attrs["censored"] = flags
    values.attrs["agreements"] = agreements
    return values, yrs, meta
