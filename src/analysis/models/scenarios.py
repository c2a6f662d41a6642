"""Policy scenarios on top of baseline forecasts, partner shares, and gaps to targets.

A scenario is data (a ``scenario:`` mapping in a params file), never code:

.. code-block:: yaml

    scenario:
      name: textile-incentive-2026
      description: Tax holiday for textile investment, 2026-2028 (illustrative)
      uplifts:        # extra growth, percentage points per year, compounding
        - {sector: textile, from: 2026, to: 2028, pct: 3}
      shocks:         # one-year level change in that year only
        - {sector: all, year: 2026, pct: -5}
      agreements:     # extra PMA growth from a partner group, from a year on
        - {partners: [KOR, JPN], from: 2027, pma_growth_pct: 10}

Rules (stated in every report that uses them):

- ``uplifts`` multiply the baseline path by ``prod(1 + pct/100)`` over the active years up to
  each year, and the level reached persists after ``to``.
- ``shocks`` multiply one year's value by ``1 + pct/100``.
- ``agreements`` raise PMA from the group by ``pma_growth_pct`` per year from ``from`` on. The
  effect on a series is weighted by the group's share of PMA (latest full year of the
  partner panel). Top-N censoring makes that share a range: the low end counts censored
  members as zero, the high end at their upper bound; the central path uses the midpoint
  and the range is reported. For totals the PMA effect is weighted by PMA's share of the
  total in the last full year.
- Sector ``all`` applies to every series; a report sector (``textile``) applies to the ledger
  sectors it draws on; a ledger code (``chem_pharma``) to that series only.
- The baseline's intervals are carried over, scaled by the same factor: the scenario moves
  the path, it does not add certainty.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.base.summary import Summary
from analysis.base.vocab import SECTOR_FOCUS
from analysis.data.ledger import Ledger
from analysis.models.flows import FlowForecast

__all__ = [
    "PartnerShares",
    "Scenario",
    "ScenarioResult",
    "apply_scenario",
    "partner_shares",
    "scenario_from_mapping",
    "targets_gap",
]


@dataclass(frozen=True)
class Uplift:
    sector: str
    start: int
    end: int
    pct: float


@dataclass(frozen=True)
class Shock:
    sector: str
    year: int
    pct: float


@dataclass(frozen=True)
class Agreement:
    partners: tuple[str, ...]
    start: int
    pma_growth_pct: float


@dataclass(frozen=True)
class Scenario:
    """A validated scenario (see the module docstring for the rules)."""

    name: str = "no-policy-change"
    description: str = ""
    uplifts: tuple[Uplift, ...] = ()
    shocks: tuple[Shock, ...] = ()
    agreements: tuple[Agreement, ...] = ()

    @property
    def is_baseline(self) -> bool:
        """True when the scenario changes nothing."""
        return not (self.uplifts or self.shocks or self.agreements)


def scenario_from_mapping(value: Mapping[str, object] | None) -> Scenario:
    """Build a :class:`Scenario` from a validated params mapping (None: no change).

    The mapping's schema is declared and checked in :mod:`analysis.config`
    (:func:`analysis.config.scenario_problem`); this model takes it as validated.
    """
    if not value:
        return Scenario()
    return Scenario(
        name=str(value.get("name", "scenario")),
        description=str(value.get("description", "")),
        uplifts=tuple(
            Uplift(u["sector"], u["from"], u["to"], float(u["pct"]))
            for u in value.get("uplifts", [])
        ),  # type: ignore[union-attr]
        shocks=tuple(
            Shock(s["sector"], s["year"], float(s["pct"])) for s in value.get("shocks", [])
        ),  # type: ignore[union-attr]
        agreements=tuple(
            Agreement(tuple(a["partners"]), a["from"], float(a["pma_growth_pct"]))
            for a in value.get("agreements", [])
        ),  # type: ignore[union-attr]
    )


def _applies(rule_sector: str, series_sector: str) -> bool:
    if rule_sector in ("all", series_sector):
        return True
    return series_sector in SECTOR_FOCUS.get(rule_sector, ())


# --- partner shares ----------------------------------------------------------------------


@dataclass
class PartnerShares:
    """Shares of full-year PMA by partner, with censoring kept explicit.

    ``table`` has one row per (year, partner): ``share`` where the partner is listed, else
    ``share_upper`` (its bound over national PMA) with status ``censored``; and per year two
    buckets: ``other listed`` (listed partners outside the report's list) and ``unlisted``
    = 1 - all listed shares (every partner not in that year's lists, together). Shares
    divide US$ figures by national PMA converted at ``fx_basis``; a year without a rate has
    no shares.
    """

    table: pd.DataFrame
    fx_basis: str

    def to_frame(self) -> pd.DataFrame:
        """The long table."""
        return self.table.copy()

    def wide(self) -> pd.DataFrame:
        """Partner x year, formatted: ``12.3%``, ``<4.5%`` when censored, ``?`` unknown."""
        t = self.table

        def cell(r: pd.Series) -> str:
            if r["status"] in ("observed", "bucket") and not pd.isna(r["share"]):
                return f"{r['share']:.1%}"
            if r["status"] == "censored" and not pd.isna(r["share_upper"]):
                return f"<{r['share_upper']:.1%}"
            return "?"

        return t.assign(cell=t.apply(cell, axis=1)).pivot(
            index="partner_iso3", columns="year", values="cell"
        )

    def group_share(self, partners: Sequence[str], year: int | None = None) -> tuple[float, float]:
        """(low, high) share of PMA from a group in ``year`` (default: latest with shares).

        Low counts censored members as zero; high at their bound, capped by the unlisted
        bucket. NaN when no shares exist.
        """
        t = self.table[self.table["status"] != "bucket"]
        years = sorted(t.loc[t["share"].notna() | t["share_upper"].notna(), "year"].unique())
        if not years:
            return (math.nan, math.nan)
        year = year if year is not None else int(years[-1])
        sub = t[(t["year"] == year) & t["partner_iso3"].isin(list(partners))]
        low = float(sub.loc[sub["status"] == "observed", "share"].sum())
        upper = float(sub.loc[sub["status"] == "censored", "share_upper"].fillna(0).sum())
        unl = self.table[
            (self.table["year"] == year) & (self.table["partner_iso3"] == "unlisted")
        ]["share"]
        cap = float(unl.iloc[0]) if len(unl) and not pd.isna(unl.iloc[0]) else upper
        return (low, low + min(upper, max(cap, 0.0)))


def partner_shares(ledger: Ledger, partners: Sequence[str], start: int, end: int) -> PartnerShares:
    """Full-year PMA shares by partner for ``start``-``end`` (see :class:`PartnerShares`)."""
    panel = ledger.partner_panel(periods=["FY"])  # every listed partner, to size the bucket
    panel = panel[(panel["year"] >= start) & (panel["year"] <= end)]
    national = ledger.annual("pma").set_index("year")["value"]
    rows = []
    for year, grp in panel.groupby("year"):
        total = float(national.get(year, np.nan))
        listed = grp[grp["status"] == "observed"]
        listed_share = float(listed["value"].sum()) / total if total else np.nan
        for p in partners:
            r = grp[grp["partner_iso3"] == p]
            if r.empty:
                rows.append(
                    {
                        "year": year,
                        "partner_iso3": p,
                        "status": "unknown",
                        "value": np.nan,
                        "share": np.nan,
                        "share_upper": np.nan,
                    }
                )
                continue
            r = r.iloc[0]
            rows.append(
                {
                    "year": year,
                    "partner_iso3": p,
                    "status": r["status"],
                    "value": r["value"],
                    "share": r["value"] / total if total else np.nan,
                    "share_upper": r["upper_bound"] / total if total else np.nan,
                }
            )
        others = listed[~listed["partner_iso3"].isin(list(partners))]
        other_value = float(others["value"].sum())
        rows.append(
            {
                "year": year,
                "partner_iso3": "other listed",
                "status": "bucket",
                "value": other_value,
                "share": other_value / total if total else np.nan,
                "share_upper": np.nan,
            }
        )
        rows.append(
            {
                "year": year,
                "partner_iso3": "unlisted",
                "status": "bucket",
                "value": np.nan,
                "share": 1 - listed_share,
                "share_upper": np.nan,
            }
        )
    return PartnerShares(pd.DataFrame(rows), ledger.settings.fx_basis)


# --- applying a scenario -------------------------------------------------------------------


@dataclass
class ScenarioResult:
    """Baseline and scenario paths of one series, with the factors that link them."""

    scenario: Scenario
    baseline: FlowForecast
    factors: pd.DataFrame
    path: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """Year, baseline median, scenario median and intervals, factor."""
        base = self.baseline.forecast.set_index("year")
        out = self.path.set_index("year").add_prefix("scenario_")
        out.insert(0, "baseline_median", base["median"])
        out["factor"] = self.factors.set_index("year")["factor"]
        return out.reset_index()

    def summary(self) -> Summary:
        s = self.baseline.series
        return Summary(
            title=f"Scenario '{self.scenario.name}': {s.sector} {s.measure.upper()} ({s.unit})",
            settings={
                "description": self.scenario.description or "(none)",
                "baseline model": self.baseline.chosen or "none",
            },
            tables=[
                ("Scenario against baseline", self.to_frame().round(1)),
                ("Factors by component", self.factors.round(4)),
            ],
            notes=self.notes,
        )


def apply_scenario(
    forecast: FlowForecast,
    scenario: Scenario,
    *,
    shares: PartnerShares | None = None,
    pma_share_of_total: float | None = None,
) -> ScenarioResult:
    """Apply a scenario to a baseline forecast (rules in the module docstring)."""
    s = forecast.series
    years = forecast.forecast["year"].astype(int).tolist()
    comp = pd.DataFrame(
        {
            "year": years,
            "uplift": 1.0,
            "shock": 1.0,
            "agreement": 1.0,
            "agreement_low": 1.0,
            "agreement_high": 1.0,
        }
    )
    notes = []
    level = dict.fromkeys(years, 1.0)
    for u in scenario.uplifts:
        if not _applies(u.sector, s.sector):
            continue
        running = 1.0
        for y in sorted(level):
            if u.start <= y <= u.end:
                running *= 1 + u.pct / 100
            elif y < u.start:
                continue
            level[y] *= running
    comp["uplift"] = [level[y] for y in years]
    for sh in scenario.shocks:
        if _applies(sh.sector, s.sector):
            comp.loc[comp["year"] == sh.year, "shock"] *= 1 + sh.pct / 100
    if scenario.agreements and s.measure in ("pma", "total"):
        weight = 1.0
        if s.measure == "total":
            weight = pma_share_of_total if pma_share_of_total is not None else math.nan
            if math.isnan(weight):
                notes.append("Agreements not applied: PMA's share of the total is unknown.")
        for a in scenario.agreements:
            lo, hi = shares.group_share(a.partners) if shares is not None else (math.nan, math.nan)
            if math.isnan(lo) or math.isnan(weight):
                notes.append(
                    f"Agreement with {'/'.join(a.partners)} not applied: the "
                    "group's share of PMA is unknown."
                )
                continue
            notes.append(
                f"Agreement with {'/'.join(a.partners)} from {a.start}: group share "
                f"of PMA {lo:.1%}-{hi:.1%} (censoring), central {(lo + hi) / 2:.1%}"
                + (f"; PMA is {weight:.1%} of the total" if weight != 1 else "")
            )
            for col, share in (
                ("agreement_low", lo),
                ("agreement", (lo + hi) / 2),
                ("agreement_high", hi),
            ):
                for i, y in enumerate(years):
                    if y >= a.start:
                        n = y - a.start + 1
                        extra = share * ((1 + a.pma_growth_pct / 100) ** n - 1)
                        comp.loc[i, col] *= 1 + weight * extra
    comp["factor"] = comp["uplift"] * comp["shock"] * comp["agreement"]
    path = forecast.forecast.copy()
    for col in path.columns:
        # Levels only: the year, the source label and the backtested flag are not amounts.
        if col == "median" or col.startswith(("lo_", "hi_")):
            path[col] = path[col].to_numpy() * comp["factor"].to_numpy()
    if scenario.agreements:
        path["median_low"] = (
            forecast.forecast["median"].to_numpy()
            * (comp["uplift"] * comp["shock"] * comp["agreement_low"]).to_numpy()
        )
        path["median_high"] = (
            forecast.forecast["median"].to_numpy()
            * (comp["uplift"] * comp["shock"] * comp["agreement_high"]).to_numpy()
        )
    if scenario.is_baseline:
        notes.append("No policy change: the scenario equals the baseline.")
    return ScenarioResult(scenario, forecast, comp, path, notes)


# --- targets -------------------------------------------------------------------------------


def targets_gap(
    paths: Mapping[str, pd.DataFrame],
    draws: Mapping[str, np.ndarray],
    targets: pd.DataFrame,
    history: Mapping[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """Gap between national forecasts (or realised figures) and every dated target.

    Parameters
    ----------
    paths
        Per measure (``total``, ``pma``, ``pmdn``), the forecast frame: ``year``, ``median``,
        ``lo_80``, ``hi_80`` (Rp billion, nominal, the targets' own terms).
    draws
        Per measure, the sample paths (draws x forecast years, same years as ``paths``): the
        probability of reaching a target is the share of paths at or above it.
    targets
        ``Ledger.targets`` (national ``FY_target*`` rows).
    history
        Per measure, realised full-year values by year: a target of a past year is compared
        with the realised figure (status ``met``/``missed``).

    Returns
    -------
    pandas.DataFrame
        One row per target: ``year``, ``measure``, ``target`` (its label), ``target_rp_bn``,
        ``status`` (``met``, ``missed``, ``ahead`` or ``no figure``), ``realised_rp_bn``,
        ``median_rp_bn``, ``lo_80``, ``hi_80``, ``gap_rp_bn`` (target minus median or
        realised), ``p_reach``, ``source``, ``note``.
    """
    rows = []
    history = history or {}
    for t in targets.itertuples(index=False):
        measure = str(t.measure)
        target = float(t.value_idr_bn)
        row = {
            "year": int(t.year),
            "measure": measure,
            "target": t.period,
            "target_rp_bn": target,
            "status": "no figure",
            "realised_rp_bn": math.nan,
            "median_rp_bn": math.nan,
            "lo_80": math.nan,
            "hi_80": math.nan,
            "gap_rp_bn": math.nan,
            "p_reach": math.nan,
            "source": t.source,
            "note": t.note,
        }
        realised = history.get(measure, pd.Series(dtype=float)).get(int(t.year), math.nan)
        frame = paths.get(measure)
        if realised is not None and not pd.isna(realised):
            row.update(
                status="met" if realised >= target else "missed",
                realised_rp_bn=float(realised),
                gap_rp_bn=target - float(realised),
            )
        elif frame is not None and (frame["year"] == t.year).any():
            i = int(np.flatnonzero(frame["year"].to_numpy() == t.year)[0])
            med = float(frame["median"].iloc[i])
            d = np.asarray(draws[measure])[:, i]
            row.update(
                status="ahead",
                median_rp_bn=med,
                lo_80=float(frame["lo_80"].iloc[i]),
                hi_80=float(frame["hi_80"].iloc[i]),
                gap_rp_bn=target - med,
                p_reach=float(np.mean(d >= target)),
            )
        rows.append(row)
    return pd.DataFrame(rows)
