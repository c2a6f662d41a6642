"""Everything the investment-flows report shows, computed from one ledger and one Params.

The notebook ``notebooks/10-investment-flows.ipynb`` stays thin: it calls
:func:`build_flow_report` and displays the pieces.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.data.ledger import Ledger
from analysis.data.raw import load_facts
from analysis.flows import (
    MODEL_LABELS,
    FlowForecast,
    ForecastSettings,
    build_series,
    forecast_flows,
)
from analysis.params import Params
from analysis.scenarios import (
    PartnerShares,
    Scenario,
    ScenarioResult,
    apply_scenario,
    partner_shares,
    scenario_from_mapping,
    targets_gap,
)

__all__ = ["FlowReport", "build_flow_report"]

#: Models see every year from here on; the report shows start_year-end_year.
HISTORY_START = 2010
MEASURES = ("total", "pma", "pmdn")
_ROADMAP_TOPICS = ("making_indonesia_4_0", "ikft_growth_target", "manufacturing_growth_target")


@dataclass
class FlowReport:
    """Forecasts, scenario results, shares and targets for one report."""

    params: Params
    scenario: Scenario
    forecasts: dict[tuple[str, str], FlowForecast]
    scenarios: dict[tuple[str, str], ScenarioResult]
    shares: PartnerShares
    no_data: list[tuple[str, str]] = field(default_factory=list)
    targets: pd.DataFrame = field(default_factory=pd.DataFrame)
    roadmap: pd.DataFrame = field(default_factory=pd.DataFrame)

    def overview(self) -> pd.DataFrame:
        """One row per series: unit, points, model sample, chosen model and why."""
        rows = []
        for (sector, measure), fc in self.forecasts.items():
            sample = fc.series.sample()
            rows.append(
                {
                    "sector": sector,
                    "measure": measure,
                    "unit": fc.series.unit,
                    "years with data": fc.series.n_observed,
                    "model sample": (
                        f"{sample.index.min()}-{sample.index.max()}" if len(sample) else ""
                    ),
                    "model": fc.chosen or "none",
                    "why": fc.reason,
                }
            )
        for sector, measure in self.no_data:
            rows.append(
                {
                    "sector": sector,
                    "measure": measure,
                    "unit": "",
                    "years with data": 0,
                    "model sample": "",
                    "model": "none",
                    "why": "no full-year figure published: no forecast",
                }
            )
        return pd.DataFrame(rows)

    def quarterly(self, ledger: Ledger) -> pd.DataFrame:
        """National quarterly PMA, PMDN and total (Rp billion), published or derived."""
        obs = ledger.select(
            sector="all",
            region="IDN",
            partner_iso3="WLD",
            concept="realisation",
            period=["Q1", "Q2", "Q3", "Q4"],
        )
        start = int(self.params.start_year)  # type: ignore[arg-type]
        obs = obs[obs["year"] >= start]
        obs = obs.assign(quarter=obs["year"].astype(str) + obs["period"])
        table = obs.pivot(index="quarter", columns="measure", values="value_idr_bn")
        origin = obs.pivot(index="quarter", columns="measure", values="origin")
        if table.empty:
            return table
        last = int(obs["year"].max())
        full = [f"{y}Q{q}" for y in range(start, last + 1) for q in range(1, 5)]
        full = full[: full.index(max(table.index)) + 1]  # up to the latest quarter published
        return table.join(origin.add_suffix("_origin")).reindex(full)

    def backtests(self) -> pd.DataFrame:
        """All backtest tables stacked (series, model, MASE, MAPE, coverage)."""
        frames = []
        for (sector, measure), fc in self.forecasts.items():
            if len(fc.backtest):
                frames.append(
                    fc.backtest.reset_index().assign(
                        sector=sector,
                        measure=measure,
                        chosen=lambda d, c=fc.chosen: np.where(d["model"] == c, "<-", ""),
                    )
                )
        if not frames:
            return pd.DataFrame()
        out = pd.concat(frames, ignore_index=True)
        out["model"] = out["model"].map(MODEL_LABELS)
        cols = [
            "sector",
            "measure",
            "model",
            "n_forecasts",
            "MASE",
            "MAPE",
            "coverage_80",
            "chosen",
        ]
        return out[cols].round(3)

    def scenario_table(self) -> pd.DataFrame:
        """Baseline and scenario medians of every forecast series, side by side."""
        frames = []
        for (sector, measure), res in self.scenarios.items():
            frames.append(
                res.to_frame().assign(
                    sector=sector, measure=measure, unit=res.baseline.series.unit
                )
            )
        if not frames:
            return pd.DataFrame()
        out = pd.concat(frames, ignore_index=True)
        keep = [
            "sector",
            "measure",
            "year",
            "unit",
            "baseline_median",
            "scenario_median",
            "scenario_lo_80",
            "scenario_hi_80",
            "factor",
        ]
        return out[[c for c in keep if c in out.columns]].round(3)

    def partner_projection(self) -> pd.DataFrame:
        """National PMA by partner under the scenario, at the latest observed shares.

        Shares are held at their latest full-year value (an assumption, stated); censored
        partners get an upper bound, the unlisted bucket its share.
        """
        res = self.scenarios.get(("all", "pma"))
        t = self.shares.table
        if res is None or t.empty:
            return pd.DataFrame()
        known = t[t["share"].notna() | t["share_upper"].notna()]
        if known.empty:
            return pd.DataFrame()
        year = int(known["year"].max())
        latest = t[t["year"] == year]
        agreements = {p for a in self.scenario.agreements for p in a.partners}
        rows = []
        # The scenario's PMA path already holds the agreement effect, weighted by the group's
        # share; take it out and give it to the group's members only.
        no_agreement = res.path["median"].to_numpy() / res.factors["agreement"].to_numpy()
        for r in latest.itertuples(index=False):
            for y, med in zip(res.path["year"], no_agreement, strict=True):
                extra = 1.0
                for a in self.scenario.agreements:
                    if r.partner_iso3 in a.partners and y >= a.start:
                        extra *= (1 + a.pma_growth_pct / 100) ** (y - a.start + 1)
                share = r.share if r.status in ("observed", "bucket") else r.share_upper
                rows.append(
                    {
                        "partner_iso3": r.partner_iso3,
                        "year": int(y),
                        "status": r.status,
                        "share_year": year,
                        "pma_rp_bn": med * share * extra if r.status != "censored" else np.nan,
                        "pma_rp_bn_upper": med * share * extra
                        if r.status == "censored"
                        else np.nan,
                        "agreement": r.partner_iso3 in agreements,
                    }
                )
        return pd.DataFrame(rows)


def _roadmap_context(root=None) -> pd.DataFrame:
    facts = load_facts("raw/bkpm/other_facts.csv", root)
    keep = facts[facts["topic"].isin(_ROADMAP_TOPICS)]
    return keep[["topic", "fact", "value", "unit", "year", "source_url"]].reset_index(drop=True)


def build_flow_report(ledger: Ledger, params: Params) -> FlowReport:
    """Series, forecasts, scenario, partner shares and target gaps for one report."""
    scenario = scenario_from_mapping(params.scenario)  # type: ignore[arg-type]
    settings = ForecastSettings(
        horizon_year=int(params.horizon),  # type: ignore[arg-type]
        interpolate=bool(params.interpolate),
    )
    forecasts: dict[tuple[str, str], FlowForecast] = {}
    no_data: list[tuple[str, str]] = []
    end = int(params.end_year)  # type: ignore[arg-type]
    for sector in ("all", "manufacturing", *params.sectors):
        for measure in MEASURES:
            series = build_series(
                ledger, sector, measure, HISTORY_START, end, interpolate=settings.interpolate
            )
            if series.n_observed == 0:
                no_data.append((sector, measure))
                continue
            if sector == "chem_pharma":
                series = _with_note(
                    series,
                    "BKPM publishes chemicals and pharmaceuticals as "
                    "one sector: this series covers both.",
                )
            forecasts[(sector, measure)] = forecast_flows(series, settings)
    shares = partner_shares(
        ledger,
        list(params.partners),  # type: ignore[arg-type]
        int(params.start_year),
        end,
    )  # type: ignore[arg-type]
    pma_share = _pma_share_of_total(ledger)
    scenarios = {
        key: apply_scenario(fc, scenario, shares=shares, pma_share_of_total=pma_share)
        for key, fc in forecasts.items()
        if len(fc.forecast)
    }
    gap = pd.DataFrame()
    if ("all", "total") in scenarios:
        gap = targets_gap(scenarios[("all", "total")], ledger.targets)
    return FlowReport(
        params, scenario, forecasts, scenarios, shares, no_data, gap, _roadmap_context()
    )


def _with_note(series, note: str):
    from dataclasses import replace

    return replace(series, note=note)


def _pma_share_of_total(ledger: Ledger) -> float:
    pma = ledger.annual("pma").set_index("year")["value_idr_bn"]
    tot = ledger.annual("total").set_index("year")["value_idr_bn"]
    both = (pma / tot).dropna()
    return float(both.iloc[-1]) if len(both) else float("nan")
