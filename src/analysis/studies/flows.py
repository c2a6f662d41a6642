"""The investment-flows study: nowcast, reconciled and calibrated forecasts, views, targets.

Turns plain settings and the ledger into one :class:`FlowStudy`, which the report
``notebooks/10-investment-flows.ipynb`` displays. The steps, each stated in the report:

1. **History.** National PMA, PMDN and total (Rp billion, *nominal*) from the ledger, to
   ``end_year``.
2. **Nowcast.** The latest year with a partial (Q1/H1/9M) release and no full-year figure is
   nowcast from its latest cumulative figure (:mod:`analysis.nowcast`); the nowcast replaces
   the first forecast year. Every info set is backtested out of sample.
3. **Base forecasts.** Each series gets its backtest-chosen model (:mod:`analysis.flows`).
   The backtest runs to the longest horizon shown; intervals are widened per horizon by the
   conformal factor of the chosen model's backtest errors (:func:`analysis.flows.calibrate`).
   Horizons with fewer than ``calibration_min_n`` backtest forecasts are *not backtested*: they
   borrow the last backtested factor and are drawn differently.
4. **Joint paths.** ``draws`` sample paths per series on the log scale, random-walk dependent
   across horizons and correlated across series as the historical log changes are; with a
   nowcast the first year is drawn from the nowcast's interval and later years add the
   model's increments.
5. **Reconciliation.** Every path and the vector of central forecasts is projected so that
   PMA + PMDN = total (:mod:`analysis.reconcile`). Intervals are quantiles of the reconciled
   paths; the ``median`` column is the reconciled central forecast (coherent by construction).
6. **Views.** Real (nominal divided by Indonesia's GDP deflator, base year stated; years
   after the deflator's last one use a drift forecast of the deflator, drawn jointly) and PMA
   in US$ at one exchange rate for every year (``usd_rate_year`` on the ledger's basis), so no
   forecast moves with a rate change.
7. **Sectors.** Points flagged ``suspect`` or ``period_uncertain`` are excluded (and listed);
   a series with fewer than ``min_fan_points`` usable consecutive years gets no fan, only its
   data. A series with enough years is forecast as a share of the national series it nests
   in, so each path stays below the national path. A one-step backtest says whether pooled
   growth across sectors beats no-change.
8. **Targets.** Every dated national investment target in the ledger, against the realised
   figure or the reconciled calibrated paths (probability of reaching it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from analysis.data.ledger import Ledger
from analysis.data.provenance import data_fingerprint
from analysis.data.raw import load_facts
from analysis.flows import (
    MIN_POINTS,
    MODEL_LABELS,
    FlowForecast,
    FlowSeries,
    ForecastSettings,
    _z,
    backtest_errors,
    build_series,
    calibrate,
    forecast_flows,
    forecast_path,
    horizon_table,
    rw_shocks,
)
from analysis.formatting import (
    UNKNOWN,
    Findings,
    Table,
    censored_text,
    findings_block,
    format_table,
    format_wide,
    show,
)
from analysis.i18n import messages
from analysis.nowcast import (
    INFO_LABELS,
    NOWCAST_LABELS,
    NowcastResult,
    NowcastSettings,
    nowcast_flows,
)
from analysis.reconcile import RECONCILE_METHODS, reconcile
from analysis.scenarios import (
    PartnerShares,
    Scenario,
    ScenarioResult,
    apply_scenario,
    partner_shares,
    scenario_from_mapping,
    targets_gap,
)
from analysis.summary import Summary

__all__ = [
    "FlowStudy",
    "FlowStudySettings",
    "gdp_deflator",
    "run_flows",
    "settings_from_params",
]

#: Models see every year from here on; the report shows start_year-end_year.
HISTORY_START = 2010
MEASURES = ("total", "pma", "pmdn")
MEASURE_LABELS = {"total": "Total (PMA + PMDN)", "pma": "Foreign (PMA)", "pmdn": "Domestic (PMDN)"}
#: Flags that take a sector point out of every model (it stays listed in the data table).
EXCLUDED_FLAGS = ("suspect", "period_uncertain")
_ROADMAP_TOPICS = ("making_indonesia_4_0", "ikft_growth_target", "manufacturing_growth_target")
_LEVELS = (0.8, 0.95)


#: Headings of the report's sections that the key findings link to (notebook headings).
SECTIONS = {
    "nowcast": "This year: nowcast from the partial-year releases",
    "backtest": "Model choice: rolling-origin backtest, by horizon",
    "targets": "Gap to the published targets",
    "national": "National investment: history, nowcast and forecast",
}


@dataclass(frozen=True)
class FlowStudySettings:
    """Everything the flows study depends on besides the data (a plain, frozen record)."""

    sector: str = "textile"
    sectors: tuple[str, ...] = ()
    start_year: int = 2015
    end_year: int = 2024
    horizon: int = 2030
    interpolate: bool = False
    partners: tuple[str, ...] = ()
    scenario: Mapping[str, object] | None = None
    nowcast_model: str = "ratio"
    reconcile_method: str = "mint"
    price_basis: str = "nominal"
    deflator_base_year: int = 2015
    usd_rate_year: int = 2024
    min_fan_points: int = 5
    calibration_min_n: int = 3
    draws: int = 4000
    seed: int = 20261127

    def __post_init__(self) -> None:
        if self.reconcile_method not in RECONCILE_METHODS:
            raise ValueError(
                f"reconcile_method must be one of {', '.join(RECONCILE_METHODS)}, "
                f"got {self.reconcile_method!r}"
            )
        if self.price_basis not in ("nominal", "real"):
            raise ValueError(f"price_basis must be nominal or real, got {self.price_basis!r}")
        if self.horizon <= self.end_year:
            raise ValueError(
                f"horizon {self.horizon} must be after end_year {self.end_year}: "
                "nothing to forecast"
            )
        if self.min_fan_points < 3:
            raise ValueError(f"min_fan_points must be at least 3, got {self.min_fan_points}")


def settings_from_params(params) -> FlowStudySettings:
    """Build the study's settings from a validated params object (or a plain mapping)."""
    get = params.get if isinstance(params, Mapping) else (lambda k, d=None: getattr(params, k, d))
    from analysis.vocab import SECTOR_FOCUS

    sector = str(get("sector", "textile"))
    scenario = get("scenario", None)
    return FlowStudySettings(
        sector=sector,
        sectors=tuple(SECTOR_FOCUS[sector]),
        start_year=int(get("start_year", 2015)),
        end_year=int(get("end_year", 2024)),
        horizon=int(get("horizon", 2030)),
        interpolate=bool(get("interpolate", False)),
        partners=tuple(get("partners", ()) or ()),
        scenario=dict(scenario) if scenario else None,
        nowcast_model=str(get("nowcast_model", "ratio")),
        reconcile_method=str(get("reconcile_method", "mint")),
        price_basis=str(get("price_basis", "nominal")),
        deflator_base_year=int(get("deflator_base_year", 2015)),
        usd_rate_year=int(get("usd_rate_year", 2024)),
        min_fan_points=int(get("min_fan_points", 5)),
        seed=int(get("seed", 20261127)),
    )


# --- national forecasts ------------------------------------------------------------------


@dataclass
class _Base:
    """One national series' base forecast on the log scale, before reconciliation."""

    forecast: FlowForecast
    years: np.ndarray
    mean_log: np.ndarray
    sd_log_raw: np.ndarray
    sd_log: np.ndarray
    calibration: pd.DataFrame
    errors: pd.DataFrame
    failures: pd.DataFrame


def _base_forecast(series: FlowSeries, settings: FlowStudySettings) -> _Base:
    fs = ForecastSettings(horizon_year=settings.horizon, interpolate=settings.interpolate)
    fc = forecast_flows(series, fs)
    sample = series.sample()
    last = int(sample.index.max())
    h = settings.horizon - last
    models = list(fc.backtest.index) if len(fc.backtest) else []
    # Each model is scored on every origin it can be fitted at (its own minimum sample), to
    # the longest horizon shown: the model choice above used common origins; calibration and
    # the per-horizon table use as many forecasts as each model allows.
    frames, fails = [], []
    for model in models:
        e, f = backtest_errors(
            sample, [model], min_train=max(fs.min_train, MIN_POINTS[model]), horizon=h
        )
        frames.append(e)
        fails.append(f)
    if frames:
        errors = pd.concat(frames, ignore_index=True)
        failures = pd.concat(fails, ignore_index=True)
    else:
        errors, failures = backtest_errors(sample.iloc[:0], ["naive"], horizon=h)
    chosen = fc.chosen or "naive"
    calib = calibrate(
        errors[errors["model"] == chosen], h, level=0.8, min_n=settings.calibration_min_n
    )
    path = forecast_path(np.log(sample), chosen, h, levels=(0.8,))
    sd_raw = ((path["hi_80"] - path["lo_80"]) / (2 * _z(0.8))).to_numpy(dtype=float)
    # A longer horizon is never more certain: the calibrated spread is made non-decreasing
    # (per-horizon factors from a handful of forecasts can dip).
    sd = np.fmax.accumulate(sd_raw * calib["scale"].to_numpy(dtype=float))
    years = np.arange(last + 1, last + h + 1)
    return _Base(
        fc, years, path["mean"].to_numpy(dtype=float), sd_raw, sd, calib, errors, failures
    )


def _log_change_corr(series: dict[str, FlowSeries]) -> np.ndarray:
    """Correlation of the demeaned one-year log changes of the series over common years."""
    diffs = pd.concat({m: np.log(s.sample()).diff() for m, s in series.items()}, axis=1).dropna()
    k = len(series)
    if len(diffs) < 4:
        return np.eye(k)
    c = np.corrcoef((diffs - diffs.mean()).to_numpy().T)
    if not np.all(np.isfinite(c)):
        return np.eye(k)
    # Keep it positive definite (a short sample can be near-singular).
    return 0.95 * c + 0.05 * np.eye(k)


def _quantiles(draws: np.ndarray) -> dict[str, np.ndarray]:
    out = {}
    for level in _LEVELS:
        pct = round(level * 100)
        out[f"lo_{pct}"] = np.quantile(draws, 0.5 - level / 2, axis=0)
        out[f"hi_{pct}"] = np.quantile(draws, 0.5 + level / 2, axis=0)
    return out


# --- the result -----------------------------------------------------------------------------


@dataclass
class FlowStudy:
    """Everything the investment-flows report shows.

    Attributes
    ----------
    settings
        The study's settings.
    nowcast
        Nowcasts of the latest partial year and their backtest.
    forecasts
        Per national measure, the reconciled calibrated forecast as a
        :class:`~analysis.flows.FlowForecast` (its ``forecast`` frame holds the reconciled
        median and intervals, ``source`` nowcast|forecast and ``backtested``).
    paths
        Per national measure, the reconciled joint sample paths (draws x years), nominal.
    calibration
        Per measure: horizon, n, raw and calibrated 80 % coverage, scale, backtested.
    backtest
        ``model, horizon, n, mase, mape, coverage_80`` per series (extra columns: series,
        chosen, coverage_80_calibrated, scale, failures).
    failures
        Every backtest fit that raised: series, model, origin, error.
    sectors
        Sector data with the status of each point (used / excluded and why).
    sector_series
        One row per sector series: usable years, fan or not, and the sentence the report shows.
    sector_forecasts
        Fans of sector series with enough points (share of national), long format.
    pooled
        One-step backtest of pooled growth across sectors against no change.
    targets, roadmap
        Gaps to dated investment targets; roadmap targets listed for context.
    """

    settings: FlowStudySettings
    nowcast: NowcastResult
    forecasts: dict[str, FlowForecast]
    paths: dict[str, np.ndarray]
    calibration: dict[str, pd.DataFrame]
    backtest: pd.DataFrame
    failures: pd.DataFrame
    history: dict[str, FlowSeries]
    views: pd.DataFrame
    sectors: pd.DataFrame
    sector_series: pd.DataFrame
    sector_forecasts: pd.DataFrame
    pooled: pd.DataFrame
    scenario: Scenario
    scenarios: dict[str, ScenarioResult]
    shares: PartnerShares
    targets: pd.DataFrame
    roadmap: pd.DataFrame
    fingerprint: str = ""
    notes: list[str] = field(default_factory=list)
    deflator_source: str = ""

    # -- tables -----------------------------------------------------------------------

    def forecast_table(self) -> pd.DataFrame:
        """``forecast.csv``: series, year, basis, unit, median, intervals, source.

        ``source`` is ``published`` (history to ``end_year``), ``nowcast`` or ``forecast``;
        extra columns: ``backtested`` (False beyond the longest backtested horizon) and
        ``model``.
        """
        return self.views.reset_index(drop=True).copy()

    def to_frame(self) -> pd.DataFrame:
        """The long forecast table (all series, bases and years)."""
        return self.forecast_table()

    def write_tables(self, report: str = "10-investment-flows") -> list:
        """Write ``forecast.csv``, ``backtest.csv`` and ``nowcast_backtest.csv``; return paths."""
        from analysis.tables import write_table

        return [
            write_table(self.forecast_table(), "forecast", report=report),
            write_table(self.backtest_table(), "backtest", report=report),
            write_table(self.nowcast_table(), "nowcast_backtest", report=report),
        ]

    def overview(self) -> pd.DataFrame:
        """One row per national series: unit, years, model sample, chosen model and why."""
        rows = []
        for m, fc in self.forecasts.items():
            sample = fc.series.sample()
            rows.append(
                {
                    "series": MEASURE_LABELS[m],
                    "unit": fc.series.unit + " (nominal)",
                    "years with data": fc.series.n_observed,
                    "model sample": _span(sample),
                    "model": model_label(fc.chosen or "none"),
                    "why": fc.reason,
                }
            )
        return pd.DataFrame(rows)

    def nowcast_statement(self) -> str:
        """Say what replaces the first forecast year, and from what."""
        nc = self.nowcast
        if not nc.year:
            return (
                "No partial-year release after the last full year: the first forecast year "
                "comes from the models."
            )
        used = nc.used()
        parts = [
            f"{MEASURE_LABELS[m]} from the {INFO_LABELS[r['info_set']]} figure of Rp "
            f"{r['partial'] / 1000:,.1f} trillion (x {r['ratio']:.3f})"
            for m, r in used.iterrows()
        ]
        return (
            f"{nc.year} is not forecast by the annual models: it is nowcast from the cumulative "
            f"releases of {nc.year} ({NOWCAST_LABELS[self.settings.nowcast_model]}): "
            + "; ".join(parts)
            + ". The nowcasts are then reconciled so that PMA + PMDN = total."
        )

    def headline(self) -> str:
        """One line of what this report covers (Markdown)."""
        st = self.settings
        nc = f"nowcast of {self.nowcast.year}" if self.nowcast.year else "no nowcast"
        return (
            f"**Sector:** {st.sector} (ledger sectors: {', '.join(st.sectors)}); **history to** "
            f"{st.end_year}; **{nc}**; **forecast to** {st.horizon}; **scenario:** "
            f"{self.scenario.name}; **prices:** nominal rupiah"
            + (", with a real view" if (self.views["basis"] == "real").any() else "")
            + "; **interpolation:** "
            + ("ON (flagged)" if st.interpolate else "off (gaps stay gaps)")
        )

    def coverage_statement(self, low: float = 0.7, high: float = 0.9) -> str:
        """Raw against calibrated 80 % coverage per series, and any miss of [low, high]."""
        parts = []
        for r in self.coverage_overall().itertuples(index=False):
            if not r.n:
                parts.append(f"{MEASURE_LABELS[r.series]}: no backtest forecast")
                continue
            cal = r.calibrated
            miss = ""
            if cal < low:
                miss = f", {100 * (low - cal):.0f} points below the {low:.0%}-{high:.0%} band"
            elif cal > high:
                miss = f", {100 * (cal - high):.0f} points above the {low:.0%}-{high:.0%} band"
            parts.append(
                f"{MEASURE_LABELS[r.series]}: {r.raw:.0%} raw, {cal:.0%} calibrated over {r.n} "
                f"forecasts at horizons 1-{r.longest_backtested_horizon}{miss}"
            )
        longest = min(
            int(c.attrs.get("longest_backtested_horizon", 0)) for c in self.calibration.values()
        )
        return (
            "80 % interval coverage in the backtest: "
            + "; ".join(parts)
            + f". Reconciled values mix the three series, so the fan charts treat horizons "
            f"beyond {longest} (the shortest of the three backtested reaches) as not backtested."
        )

    def coherence_statement(self, tolerance: float = 0.5) -> str:
        """Whether PMA + PMDN add up to the total, in words (forecast and published apart).

        A gap of at most ``tolerance`` Rp billion counts as adding up (rounding in the
        releases); larger gaps are named with their year kind, basis and size.
        """
        from analysis.i18n import format_number

        v = self.views[self.views["series"].isin(MEASURES)]
        gaps = []
        for basis in sorted(v["basis"].unique()):
            for kind, mask in (
                ("forecast and nowcast", v["source"] != "published"),
                ("published", v["source"] == "published"),
            ):
                w = v[(v["basis"] == basis) & mask].pivot(
                    index="year", columns="series", values="median"
                )
                if w.empty:
                    continue
                gaps.append((basis, kind, float((w["total"] - w["pma"] - w["pmdn"]).abs().max())))
        if not gaps:
            return ""
        off = [g for g in gaps if g[2] > tolerance]
        if not off:
            return (
                "Foreign (PMA) and domestic (PMDN) investment add up to the total in every "
                "year shown, published and forecast, nominal and real."
            )
        return " ".join(
            f"In the {kind} years ({basis}), PMA and PMDN differ from the total by up to "
            f"Rp {format_number(gap, 1)} billion."
            for basis, kind, gap in off
        )

    def views_statement(self) -> str:
        """Which price and currency views the report holds, with their basis."""
        usd = self.views[self.views["series"] == "pma_usd"]
        parts = []
        if len(usd):
            parts.append(f"PMA in US$: {usd['unit'].iloc[0]}.")
        real = self.views[self.views["basis"] == "real"]
        if len(real):
            parts.append(
                f"Real view: {real['unit'].iloc[0]}"
                + (f"; {self.deflator_source}" if self.deflator_source else "")
                + "."
            )
        else:
            parts.append(
                "No real view: " + (self.deflator_source or "no GDP deflator was given") + "."
            )
        return " ".join(parts)

    def pooled_statement(self) -> str:
        """What the pooled-growth backtest says about borrowing strength across sectors."""
        p = self.pooled
        if p.empty:
            return "Too few consecutive sector years to test pooled growth across sectors."
        naive = p[p["model"] == "no change"].iloc[0]
        pooled = p[p["model"] != "no change"].iloc[0]
        better = pooled["mape"] < naive["mape"]
        return (
            f"Pooling growth across sectors ({pooled['pooled_growth']:+.1%} a year at the last "
            f"origin) {'beat' if better else 'did not beat'} no change in a one-step backtest "
            "over "
            f"{int(naive['n'])} sector-years: MAPE {pooled['mape']:.1f} % against "
            f"{naive['mape']:.1f} % (median {pooled['median_ape']:.1f} % against "
            f"{naive['median_ape']:.1f} %). "
            + (
                "Pooling does not make the short sector series long enough for a fan chart."
                if better
                else "So no sector borrows strength from the others."
            )
        )

    def nowcast_table(self) -> pd.DataFrame:
        """``nowcast_backtest.csv``: series, info_set, year, actual, nowcast, ape (+ model)."""
        return self.nowcast.table()

    def backtest_table(self) -> pd.DataFrame:
        """``backtest.csv``: model, horizon, n, mase, mape, coverage_80 (+ series, calibrated)."""
        return self.backtest.copy()

    def coverage(self) -> pd.DataFrame:
        """Raw and calibrated 80 % coverage by series and horizon (the chosen models)."""
        frames = [c.assign(series=m) for m, c in self.calibration.items()]
        out = pd.concat(frames, ignore_index=True)
        return out[
            [
                "series",
                "horizon",
                "n",
                "coverage_raw",
                "coverage_calibrated",
                "scale",
                "backtested",
            ]
        ]

    def coverage_overall(self) -> pd.DataFrame:
        """Raw and calibrated 80 % coverage pooled over the backtested horizons, per series."""
        rows = []
        for m, c in self.calibration.items():
            b = c[c["backtested"]]
            if b.empty:
                rows.append({"series": m, "n": 0, "raw": np.nan, "calibrated": np.nan})
                continue
            w = b["n"]
            rows.append(
                {
                    "series": m,
                    "n": int(w.sum()),
                    "raw": float((b["coverage_raw"] * w).sum() / w.sum()),
                    "calibrated": float((b["coverage_calibrated"] * w).sum() / w.sum()),
                    "longest_backtested_horizon": int(b["horizon"].max()),
                }
            )
        return pd.DataFrame(rows)

    def national(self, basis: str | None = None) -> pd.DataFrame:
        """Medians of the national series in one basis (default: the settings'), year x series."""
        basis = basis or self.settings.price_basis
        v = self.views
        v = v[v["series"].isin(MEASURES) & (v["basis"] == basis)]
        return v.pivot(index="year", columns="series", values="median")[list(MEASURES)]

    def summary(self) -> Summary:
        """The headline tables and settings."""
        s = self.settings
        return Summary(
            title=f"Investment flows to {s.horizon}: nowcast, reconciled forecasts, targets",
            settings={
                "history": f"{HISTORY_START}-{s.end_year} (shown from {s.start_year})",
                "nowcast": f"{self.nowcast.year} ({s.nowcast_model})"
                if self.nowcast.year
                else "none",
                "reconciliation": s.reconcile_method,
                "price basis": s.price_basis,
                "fingerprint": self.fingerprint,
            },
            tables=[
                (
                    f"National forecast (Rp billion, {self.settings.price_basis})",
                    self.national().round(0),
                ),
                ("80 % interval coverage in the backtest", self.coverage_overall().round(3)),
                ("Gap to targets", self.targets.round(3) if len(self.targets) else self.targets),
            ],
            notes=self.notes,
        )

    def key_findings(self) -> list[str]:
        """Three to six sentences computed from the results."""
        return [text for text, _ in self._findings_with_sections()]

    def findings(self, language: str = "en") -> Findings:
        """The key findings to open the report with, each linked to the section showing it."""
        return findings_block(self._findings_with_sections(), language)

    def _findings_with_sections(self) -> list[tuple[str, str]]:
        """Key-finding sentences with the heading of the section that shows each."""
        out = []
        nc = self.nowcast.used()
        acc = self.nowcast.accuracy()
        if self.nowcast.year and "total" in nc.index:
            r = nc.loc["total"]
            tot = self.views[
                (self.views["series"] == "total")
                & (self.views["year"] == self.nowcast.year)
                & (self.views["basis"] == "nominal")
            ].iloc[0]
            a = acc[
                (acc["series"] == "total")
                & (acc["info_set"] == r["info_set"])
                & (acc["model"] == self.settings.nowcast_model)
            ]
            mape = f"{float(a['mape'].iloc[0]):.2f} %" if len(a) else "n/a"
            out.append(
                (
                    f"Total investment in {self.nowcast.year} is nowcast at Rp "
                    f"{tot['median'] / 1000:,.1f} trillion (80 %: {tot['lo_80'] / 1000:,.1f}-"
                    f"{tot['hi_80'] / 1000:,.1f}) from the "
                    f"{INFO_LABELS[r['info_set']]} figure of Rp "
                    f"{r['partial'] / 1000:,.1f} trillion; this nowcast missed the full year by "
                    f"{mape} on average in "
                    f"{int(a['years'].iloc[0]) if len(a) else 0} earlier years.",
                    SECTIONS["nowcast"],
                )
            )
        if self.nowcast.year and {"pma", "pmdn"} <= set(nc.index):
            prev = {
                m: float(self.history[m].values.get(self.nowcast.year - 1, np.nan))
                for m in ("pma", "pmdn")
            }
            g = {m: nc.loc[m, "median"] / prev[m] - 1 for m in ("pma", "pmdn")}
            out.append(
                (
                    f"Foreign investment (PMA) is nowcast to change by {g['pma']:+.1%} on "
                    f"{self.nowcast.year - 1} and domestic (PMDN) by {g['pmdn']:+.1%}.",
                    SECTIONS["nowcast"],
                )
            )
        cov = self.coverage_overall()
        t = cov[cov["series"] == "total"]
        if len(t) and t["n"].iloc[0] > 0:
            out.append(
                (
                    f"In the backtest the total's 80 % intervals held the outcome in "
                    f"{t['raw'].iloc[0]:.0%} of {int(t['n'].iloc[0])} "
                    "forecasts before calibration "
                    "and "
                    f"{t['calibrated'].iloc[0]:.0%} after (horizons 1-"
                    f"{int(t['longest_backtested_horizon'].iloc[0])}); later "
                    "years are not backtested.",
                    SECTIONS["backtest"],
                )
            )
        fut = self.targets[self.targets["status"] == "ahead"] if len(self.targets) else []
        for r in fut.itertuples(index=False) if len(fut) else []:
            out.append(
                (
                    f"The {r.year} target of Rp {r.target_rp_bn / 1000:,.1f} "
                    f"trillion ({r.measure}) "
                    f"is reached with probability {r.p_reach:.3f} (median Rp "
                    f"{r.median_rp_bn / 1000:,.1f} trillion).",
                    SECTIONS["targets"],
                )
            )
        end = self.views[
            (self.views["series"] == "total")
            & (self.views["year"] == self.settings.horizon)
            & (self.views["basis"] == "nominal")
        ]
        if len(end):
            e = end.iloc[0]
            out.append(
                (
                    f"By {self.settings.horizon} the total is Rp "
                    f"{e['median'] / 1000:,.0f} trillion "
                    f"(nominal; 80 %: {e['lo_80'] / 1000:,.0f}-{e['hi_80'] / 1000:,.0f})"
                    + (", beyond the backtested horizons." if not e["backtested"] else "."),
                    SECTIONS["national"],
                )
            )
        return out[:6]

    # -- what the report shows ----------------------------------------------------------

    def table(self, name: str, language: str = "en") -> Table:
        """A table formatted for readers (:mod:`analysis.formatting`).

        ``nowcast``, ``nowcast_accuracy``, ``overview``, ``backtest``, ``coverage``,
        ``failures``, ``forecast``, ``pma_usd``, ``real``, ``sectors``,
        ``sector_forecasts``, ``scenario``, ``targets``, ``roadmap``, ``shares`` or
        ``partner_projection``. Rupiah in Rp billion, nominal unless the title says real.
        """
        m = messages(language)
        src = m("chart.source_flows")
        idr = {c: "idr_bn" for c in ("partial", "median", "lo_80", "hi_80", "lo_95", "hi_95")}
        fmt = dict(language=language, source=src)
        if name == "nowcast":
            f = self.nowcast.to_frame()
            return format_table(
                f,
                title=m("flows.t_nowcast"),
                columns=["series", "info_set", "partial", "median", "lo_80", "hi_80", "ratio",
                         "n_years", "used"],
                codes={"series": "measure_short", "info_set": "period", "used": "yes_no"},
                units=idr,
                digits={"ratio": 3, "partial": 0, "median": 0, "lo_80": 0, "hi_80": 0},
                **fmt,
            )  # fmt: skip
        if name == "nowcast_accuracy":
            f = self.nowcast.accuracy().rename(
                columns={"first": "first_year", "last": "last_year"}
            )
            return format_table(
                f,
                title=m("flows.t_nowcast_accuracy"),
                codes={"series": "measure_short", "info_set": "period"},
                units={"mape": "pct", "max_ape": "pct"},
                digits={"mape": 2, "max_ape": 2, "coverage_80": 0},
                percent=["coverage_80"],
                **fmt,
            )
        if name == "overview":
            f = self.overview().rename(
                columns={"years with data": "years_with_data", "model sample": "model_sample"}
            )
            return format_table(f, title=m("flows.t_overview"), **fmt)
        if name in ("backtest", "coverage"):
            f = self.backtest_table() if name == "backtest" else self.coverage()
            pct = [c for c in f.columns if c.startswith("coverage")]
            f = f[["series", *[c for c in f.columns if c != "series"]]]
            return format_table(
                f,
                title=m(f"flows.t_{name}"),
                codes={"series": "measure_short", "chosen": "yes_no",
                       "backtested": "yes_no"},
                units={"mape": "pct"},
                digits={"mase": 2, "mape": 1, "scale": 2, **{c: 0 for c in pct}},
                percent=pct,
                **fmt,
            )  # fmt: skip
        if name == "failures":
            return format_table(self.failures, title=m("flows.t_failures"),
                                codes={"series": "measure_short"}, **fmt)  # fmt: skip
        if name in ("forecast", "pma_usd", "real"):
            v = self.forecast_table()
            if name == "forecast":
                v = v[v["series"].isin(MEASURES) & (v["basis"] == self.settings.price_basis)]
                v = v[v["source"] != "published"]
            elif name == "pma_usd":
                v = v[v["series"] == "pma_usd"]
            else:
                v = v[(v["basis"] == "real") & (v["source"] != "published")]
            unit = ", ".join(dict.fromkeys(v["unit"])) if len(v) else ""
            return format_table(
                v,
                title=m(f"flows.t_{name}", unit=unit),
                columns=["series", "year", "median", "lo_80", "hi_80", "lo_95", "hi_95",
                         "source", "backtested", "model"],
                codes={"series": "measure_short", "source": "origin", "backtested": "yes_no"},
                digits=0,
                **fmt,
            )  # fmt: skip
        if name == "sectors":
            return format_table(
                self.sectors,
                title=m("flows.t_sectors"),
                columns=["label", "series", "year", "value", "origin", "flags", "status"],
                labels={"label": m("label.column.sector")},
                codes={"series": "measure_short", "origin": "origin", "flags": "flag",
                       "status": "status"},
                units={"value": "idr_bn"},
                digits={"value": 0},
                notes=[m("flows.n_nominal")],
                **fmt,
            )  # fmt: skip
        if name == "sector_forecasts":
            return format_table(
                self.sector_forecasts, title=m("flows.t_sector_forecasts"), digits=0, **fmt
            )
        if name == "scenario":
            f = self.scenario_table()
            return format_table(
                f,
                title=m("flows.t_scenario", scenario=self.scenario.name),
                columns=[c for c in f.columns if c != "unit"],
                codes={"series": "measure_short"},
                units={c: "idr_bn" for c in f.columns if "median" in c or "_80" in c},
                digits={"factor": 3, **{c: 0 for c in f.columns if "median" in c or "_80" in c}},
                notes=[m("flows.n_nominal")],
                **fmt,
            )  # fmt: skip
        if name == "targets":
            money = [c for c in self.targets.columns if c.endswith("_rp_bn") or "_80" in c]
            return format_table(
                self.targets,
                title=m("flows.t_targets"),
                columns=[c for c in self.targets.columns if c != "source"],
                codes={"measure": "measure", "status": "status"},
                units={c: "idr_bn" for c in money},
                digits={"p_reach": 1, **{c: 0 for c in money}},
                percent=["p_reach"],
                notes=[m("flows.n_nominal")],
                **fmt,
            )  # fmt: skip
        if name == "roadmap":
            f = self.roadmap.assign(value=self.roadmap["value"].astype(str))
            return format_table(
                f,
                title=m("flows.t_roadmap"),
                columns=["fact", "value", "unit", "year", "source_url"],
                codes={"unit": "unit_text"},
                **fmt,
            )
        if name == "shares":
            t = self.shares.table

            def cell(r: pd.Series) -> object:
                if r["status"] in ("observed", "bucket") and not pd.isna(r["share"]):
                    return 100 * r["share"]
                if r["status"] == "censored" and not pd.isna(r["share_upper"]):
                    return censored_text(100 * r["share_upper"], 1, language)
                return UNKNOWN

            wide = t.assign(cell=t.apply(cell, axis=1)).pivot(
                index="partner_iso3", columns="year", values="cell"
            )
            return format_wide(
                wide, title=m("flows.t_shares"), row_kind="partner", unit="pct", digits=1,
                **fmt,
            )  # fmt: skip
        if name == "partner_projection":
            f = self.partner_projection()
            if f.empty:
                return format_table(f, title=m("flows.t_partner_projection"), **fmt)
            cells = [
                censored_text(u, 0, language) if pd.isna(v) else v
                for v, u in zip(f["pma_rp_bn"], f["pma_rp_bn_upper"], strict=True)
            ]
            wide = f.assign(cell=cells).pivot(index="partner_iso3", columns="year", values="cell")
            wide = wide.reindex(list(dict.fromkeys(f["partner_iso3"])))
            table = format_wide(
                wide,
                title=m("flows.t_partner_projection", year=int(f["share_year"].iloc[0])),
                row_kind="partner",
                unit="idr_bn",
                notes=[m("flows.n_nominal")],
                **fmt,
            )
            table.data = f
            return table
        raise KeyError(f"FlowStudy.table: no table {name!r}")

    def show(self, name: str, language: str = "en") -> None:
        """Display one table in report 10 and write its data as CSV next to the report."""
        # forecast.csv is the full long table (write_tables); the shown extract has its own.
        csv = {"forecast": "forecast_shown"}.get(name, name)
        show(self.table(name, language), csv, report="10-investment-flows",
             empty=messages(language)("common.none_table"))  # fmt: skip

    # -- figures ----------------------------------------------------------------------

    def plot(self, measure: str = "total", basis: str | None = None, ax=None):
        """Fan chart of one national series (default basis: the settings' price basis)."""
        from analysis.plots import plot_flow_fan

        return plot_flow_fan(self, measure, basis=basis or self.settings.price_basis, ax=ax)

    def quarterly(self, ledger: Ledger) -> pd.DataFrame:
        """National quarterly PMA, PMDN and total (Rp billion), published or derived."""
        obs = ledger.select(
            sector="all",
            region="IDN",
            partner_iso3="WLD",
            concept="realisation",
            period=["Q1", "Q2", "Q3", "Q4"],
        )
        start = self.settings.start_year
        obs = obs[obs["year"] >= start]
        obs = obs.assign(quarter=obs["year"].astype(str) + obs["period"])
        table = obs.pivot(index="quarter", columns="measure", values="value_idr_bn")
        origin = obs.pivot(index="quarter", columns="measure", values="origin")
        if table.empty:
            return table
        last = int(obs["year"].max())
        full = [f"{y}Q{q}" for y in range(start, last + 1) for q in range(1, 5)]
        full = full[: full.index(max(table.index)) + 1]
        return table.join(origin.add_suffix("_origin")).reindex(full)

    def scenario_table(self) -> pd.DataFrame:
        """Baseline and scenario medians of the national series, side by side."""
        frames = [
            res.to_frame().assign(series=m, unit=f"{res.baseline.series.unit} (nominal)")
            for m, res in self.scenarios.items()
        ]
        if not frames:
            return pd.DataFrame()
        out = pd.concat(frames, ignore_index=True)
        keep = [
            "series",
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
        res = self.scenarios.get("pma")
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
        no_agreement = res.path["median"].to_numpy() / res.factors["agreement"].to_numpy()
        for r in latest.itertuples(index=False):
            for y, med in zip(res.path["year"], no_agreement, strict=True):
                extra = 1.0
                for a in self.scenario.agreements:
                    if r.partner_iso3 in a.partners and y >= a.start:
                        extra *= (1 + a.pma_growth_pct / 100) ** (y - a.start + 1)
                share = r.share if r.status in ("observed", "bucket") else r.share_upper
                censored = r.status == "censored"
                rows.append(
                    {
                        "partner_iso3": r.partner_iso3,
                        "year": int(y),
                        "status": r.status,
                        "share_year": year,
                        "pma_rp_bn": np.nan if censored else med * share * extra,
                        "pma_rp_bn_upper": med * share * extra if censored else np.nan,
                        "agreement": r.partner_iso3 in agreements,
                    }
                )
        return pd.DataFrame(rows)


# --- the study ---------------------------------------------------------------------------


def run_flows(
    ledger: Ledger,
    settings: FlowStudySettings,
    *,
    deflator: pd.Series | None = None,
    deflator_source: str = "",
) -> FlowStudy:
    """Run the flows study (steps in the module docstring).

    Parameters
    ----------
    ledger
        The investment ledger.
    settings
        The study's settings.
    deflator
        Indonesia's GDP deflator, index = year, base ``settings.deflator_base_year`` = 100
        (``analysis.data.panel.load_panel().gdp_deflator("IDN", base_year)``). Needed for
        ``price_basis = "real"``; when given, the real view is added in any case.
    deflator_source
        Where the deflator comes from (shown in the forecast table).

    Raises
    ------
    ValueError
        ``price_basis = "real"`` without a deflator, or a deflator without the base year.
    """
    s = settings
    notes: list[str] = []
    rng = np.random.default_rng(s.seed)
    history = {
        m: build_series(ledger, "all", m, HISTORY_START, s.end_year, interpolate=s.interpolate)
        for m in MEASURES
    }
    for m, ser in history.items():
        if ser.n_observed == 0 or ser.unit != "Rp billion":
            raise ValueError(
                f"national {m} has no full-year figure in Rp billion to {s.end_year}: the flows "
                "study needs the national total, PMA and PMDN"
            )
    nc = nowcast_flows(ledger, NowcastSettings(model=s.nowcast_model), last_full_year=s.end_year)
    notes += nc.notes
    bases = {m: _base_forecast(history[m], s) for m in MEASURES}
    lasts = {int(b.years[0]) - 1 for b in bases.values()}
    if len(lasts) != 1:
        raise ValueError(
            f"national series end in different years {sorted(lasts)}: cannot reconcile them"
        )
    last = lasts.pop()
    years = bases["total"].years
    h = len(years)
    used = nc.used()
    has_nowcast = nc.year == last + 1 and set(MEASURES) <= set(used.index)
    if nc.year and not has_nowcast:
        notes.append(f"Nowcast of {nc.year} not used: not every national series has one.")

    # Joint log paths (draws x horizons x series) and central forecasts.
    corr = _log_change_corr(history)
    w = rw_shocks(rng, s.draws, h, corr)
    logp = np.empty((s.draws, h, len(MEASURES)))
    centre = np.empty((h, len(MEASURES)))
    for j, m in enumerate(MEASURES):
        b = bases[m]
        sd = np.where(np.isfinite(b.sd_log), b.sd_log, 0.0)
        if np.any(~np.isfinite(b.sd_log)):
            notes.append(f"{m}: the chosen model gives no interval; its paths carry no spread.")
        if has_nowcast:
            r = used.loc[m]
            nc_sd = (math.log(r["hi_80"]) - math.log(r["lo_80"])) / (2 * _z(0.8))
            start = math.log(r["median"]) + nc_sd * w[:, 0, j]
            inc = np.sqrt(np.maximum(sd**2 - sd[0] ** 2, 0.0))
            logp[:, 0, j] = start
            if h > 1:
                logp[:, 1:, j] = (
                    start[:, None]
                    + (b.mean_log[1:] - b.mean_log[0])[None, :]
                    + inc[1:][None, :] * w[:, : h - 1, j]
                )
            centre[:, j] = math.log(r["median"]) + (b.mean_log - b.mean_log[0])
        else:
            logp[:, :, j] = b.mean_log[None, :] + sd[None, :] * w[:, :, j]
            centre[:, j] = b.mean_log
    levels = np.exp(logp)
    # The base forecasts' error covariance per horizon, from the joint paths (h, k, k).
    dev = levels - levels.mean(axis=0)
    cov = np.einsum("dhi,dhj->hij", dev, dev) / (s.draws - 1)
    var = np.diagonal(cov, axis1=1, axis2=2)
    if np.any(var <= 0):
        raise (
            ValueError(
                "a national series' paths have no spread, so they cannot be reconciled by "
                f"{s.reconcile_method}; use reconcile_method: bottom_up or ols"
            )
            if s.reconcile_method in ("mint", "wls")
            else None
        )
    weights = cov if s.reconcile_method == "mint" else var
    rec = reconcile(levels, weights[None], s.reconcile_method)
    rec_centre = reconcile(np.exp(centre), weights, s.reconcile_method)
    # A linear projection can push a part below zero where its base spread is much wider than
    # the total's; investment cannot be negative, so such horizons are reconciled bottom-up
    # (PMA + PMDN, always positive) and the forecast table says so.
    method_used = np.full(h, s.reconcile_method, dtype=object)
    nonpositive = np.any(rec <= 0, axis=2)  # (draws, h)
    bad = nonpositive.any(axis=0)
    if s.reconcile_method != "bottom_up" and bad.any():
        share = float(nonpositive[:, bad].mean())
        rec[:, bad, :] = reconcile(levels[:, bad, :], method="bottom_up")
        rec_centre[bad] = reconcile(np.exp(centre[bad]), method="bottom_up")
        method_used[bad] = "bottom_up"
        notes.append(
            f"{s.reconcile_method} reconciliation gave non-positive paths in "
            f"{', '.join(str(y) for y in years[bad])} ({share:.1%} of paths there): those "
            "years are reconciled bottom-up (PMA + PMDN)."
        )
    paths = {m: rec[:, :, j] for j, m in enumerate(MEASURES)}

    # Reconciled forecasts as FlowForecast objects (their frames are the reconciled ones).
    forecasts: dict[str, FlowForecast] = {}
    calibration: dict[str, pd.DataFrame] = {}
    bt_frames, fail_frames = [], []
    for j, m in enumerate(MEASURES):
        b = bases[m]
        q = _quantiles(paths[m])
        frame = pd.DataFrame({"year": years, "median": rec_centre[:, j], **q})
        frame["source"] = "forecast"
        if has_nowcast:
            frame.loc[0, "source"] = "nowcast"
        # Reconciled values mix all three series: a horizon counts as backtested only if it
        # is for every one of them.
        longest = min(
            int(bb.calibration.attrs.get("longest_backtested_horizon", 0)) for bb in bases.values()
        )
        frame["backtested"] = np.arange(1, h + 1) <= longest
        frame["reconciliation"] = method_used
        fnotes = list(b.forecast.notes)
        if has_nowcast:
            fnotes.append(
                f"{years[0]} is the nowcast from the {INFO_LABELS[used.loc[m, 'info_set']]} "
                f"release, not the model's forecast; later years add the model's changes."
            )
        forecasts[m] = replace(b.forecast, forecast=frame, notes=fnotes)
        calibration[m] = b.calibration
        ht = horizon_table(b.errors)
        ht["series"] = m
        ht["chosen"] = ht["model"] == b.forecast.chosen
        cal = b.calibration.set_index("horizon")
        ht["coverage_80_calibrated"] = np.where(
            ht["chosen"], ht["horizon"].map(cal["coverage_calibrated"]), np.nan
        )
        ht["scale"] = np.where(ht["chosen"], ht["horizon"].map(cal["scale"]), np.nan)
        nfail = b.failures.groupby("model").size() if len(b.failures) else pd.Series(dtype=int)
        ht["failures"] = ht["model"].map(nfail).fillna(0).astype(int)
        bt_frames.append(ht)
        if len(b.failures):
            fail_frames.append(b.failures.assign(series=m))
    backtest = pd.concat(bt_frames, ignore_index=True)
    backtest = backtest[
        [
            "model",
            "horizon",
            "n",
            "mase",
            "mape",
            "coverage_80",
            "series",
            "chosen",
            "coverage_80_calibrated",
            "scale",
            "failures",
        ]
    ]
    failures = (
        pd.concat(fail_frames, ignore_index=True)
        if fail_frames
        else pd.DataFrame(columns=["model", "origin", "error", "series"])
    )

    views = _views(ledger, s, history, forecasts, paths, rng, deflator, deflator_source, notes)
    sectors, sector_series, sector_fc, pooled = _sectors(ledger, s, paths, years, rng)
    views = pd.concat([views, sector_fc], ignore_index=True) if len(sector_fc) else views

    scenario = scenario_from_mapping(s.scenario)
    shares = partner_shares(ledger, list(s.partners), s.start_year, s.end_year)
    pma_share = float(history["pma"].values.iloc[-1] / history["total"].values.iloc[-1])
    scenarios = {
        m: apply_scenario(fc, scenario, shares=shares, pma_share_of_total=pma_share)
        for m, fc in forecasts.items()
    }
    draws = {m: paths[m] * scenarios[m].factors["factor"].to_numpy()[None, :] for m in MEASURES}
    if not scenario.is_baseline:
        # The scenario moves PMA and PMDN by their own factors; the total is their sum, path by
        # path, so the scenario stays coherent (a total-level factor would not be).
        draws["total"] = draws["pma"] + draws["pmdn"]
        tot = scenarios["total"]
        path = tot.path.copy()
        path["median"] = (
            scenarios["pma"].path["median"].to_numpy()
            + scenarios["pmdn"].path["median"].to_numpy()
        )
        for col, values in _quantiles(draws["total"]).items():
            path[col] = values
        base_median = forecasts["total"].forecast["median"].to_numpy()
        factors = tot.factors.copy()
        factors["factor"] = path["median"].to_numpy() / base_median
        scenarios["total"] = replace(
            tot,
            path=path,
            factors=factors,
            notes=[
                *tot.notes,
                "The total under the scenario is PMA + PMDN under the scenario (path by "
                "path); its factor is the ratio of that sum to the baseline total.",
            ],
        )
    hist_values = {m: history[m].values for m in MEASURES}
    targets = targets_gap(
        {m: scenarios[m].path for m in MEASURES}, draws, ledger.targets, hist_values
    )
    fp = data_fingerprint(
        {
            "ledger": ledger.fingerprint,
            "settings": repr(asdict(s)),
            "deflator": None if deflator is None else deflator.round(6).to_json(),
        }
    )
    return FlowStudy(
        settings=s,
        nowcast=nc,
        forecasts=forecasts,
        paths=paths,
        calibration=calibration,
        backtest=backtest,
        failures=failures,
        history=history,
        views=views,
        sectors=sectors,
        sector_series=sector_series,
        sector_forecasts=sector_fc,
        pooled=pooled,
        scenario=scenario,
        scenarios=scenarios,
        shares=shares,
        targets=targets,
        roadmap=_roadmap_context(),
        fingerprint=fp,
        notes=notes,
        deflator_source=deflator_source,
    )


# --- views: nominal, real, US$ ---------------------------------------------------------------


def _rows(series, basis, unit, years, median, q, source, backtested, model) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "series": series,
            "year": np.asarray(years, dtype=int),
            "basis": basis,
            "unit": unit,
            "median": median,
            **{k: q[k] for k in ("lo_80", "hi_80", "lo_95", "hi_95")},
            "source": source,
            "backtested": backtested,
            "model": model,
        }
    )


def _history_rows(
    ser: FlowSeries, s: FlowStudySettings, name, basis, unit, factor
) -> pd.DataFrame:
    v = ser.values.loc[s.start_year : s.end_year].dropna()
    f = np.asarray([factor(int(y)) for y in v.index], dtype=float)
    nan = np.full(len(v), np.nan)
    q = {k: nan for k in ("lo_80", "hi_80", "lo_95", "hi_95")}
    return _rows(name, basis, unit, v.index, v.to_numpy() * f, q, "published", True, "")


def _views(ledger, s, history, forecasts, paths, rng, deflator, deflator_source, notes):
    frames = []
    for m in MEASURES:
        fc = forecasts[m].forecast
        unit = "Rp billion (nominal)"
        frames.append(_history_rows(history[m], s, m, "nominal", unit, lambda y: 1.0))
        frames.append(
            _rows(
                m,
                "nominal",
                unit,
                fc["year"],
                fc["median"].to_numpy(),
                {k: fc[k].to_numpy() for k in ("lo_80", "hi_80", "lo_95", "hi_95")},
                fc["source"].to_numpy(),
                fc["backtested"].to_numpy(),
                forecasts[m].chosen or "",
            )
        )
    years = forecasts["total"].forecast["year"].to_numpy()
    # US$ view of PMA: one rate for every year, so no year moves with a rate change.
    fxr = ledger.fx.rate(s.usd_rate_year, ledger.settings.fx_basis, ledger.settings.fx_fallback)
    if fxr is None:
        notes.append(
            f"No {ledger.settings.fx_basis} exchange rate for {s.usd_rate_year}: "
            "no US$ view of PMA."
        )
    else:
        rate = fxr.rate
        unit = f"US$ million at Rp {rate:,.0f}/US$ ({fxr.basis} {s.usd_rate_year}, every year)"
        fc = forecasts["pma"].forecast
        frames.append(
            _history_rows(history["pma"], s, "pma_usd", "nominal", unit, lambda y: 1000 / rate)
        )
        frames.append(
            _rows(
                "pma_usd",
                "nominal",
                unit,
                fc["year"],
                fc["median"].to_numpy() * 1000 / rate,
                {k: fc[k].to_numpy() * 1000 / rate for k in ("lo_80", "hi_80", "lo_95", "hi_95")},
                fc["source"].to_numpy(),
                fc["backtested"].to_numpy(),
                forecasts["pma"].chosen or "",
            )
        )
    if deflator is None:
        if s.price_basis == "real":
            raise ValueError(
                "price_basis 'real' needs Indonesia's GDP deflator "
                "(analysis.data.panel.load_panel().gdp_deflator('IDN', base_year)); none was given"
            )
        return pd.concat(frames, ignore_index=True)
    defl = deflator.dropna().astype(float)
    if s.deflator_base_year not in defl.index or abs(defl[s.deflator_base_year] - 100) > 1e-6:
        raise ValueError(
            f"the GDP deflator must equal 100 in the base year {s.deflator_base_year} "
            f"(got {defl.get(s.deflator_base_year, 'no value')})"
        )
    dl = int(defl.index.max())
    # Deflator after its last published year: a drift forecast on logs, drawn jointly.
    ahead = [y for y in years if y > dl]
    d_draws = np.ones((s.draws, len(years)))
    d_centre = np.ones(len(years))
    for i, y in enumerate(years):
        if y <= dl:
            d_draws[:, i] = defl[y] / 100
            d_centre[i] = defl[y] / 100
    if ahead:
        k = int(max(ahead) - dl)
        dp = forecast_path(np.log(defl.loc[:dl].to_numpy()), "drift", k, levels=(0.8,))
        dsd = ((dp["hi_80"] - dp["lo_80"]) / (2 * _z(0.8))).to_numpy()
        wd = rw_shocks(rng, s.draws, k)
        sim = np.exp(dp["mean"].to_numpy()[None, :] + dsd[None, :] * wd) / 100
        for i, y in enumerate(years):
            if y > dl:
                d_draws[:, i] = sim[:, y - dl - 1]
                d_centre[i] = math.exp(dp["mean"].iloc[y - dl - 1]) / 100
        notes.append(
            f"Real view: the GDP deflator is published to {dl}; {min(ahead)}-{max(ahead)} use "
            "a drift forecast of it (log scale), drawn with the flows' paths."
        )
    unit = f"Rp billion at {s.deflator_base_year} prices (GDP deflator)"
    for m in MEASURES:
        real = paths[m] / d_draws
        q = _quantiles(real)
        fc = forecasts[m].forecast

        def fac(y: int) -> float:
            return 100 / defl[y] if y in defl.index else math.nan

        frames.append(_history_rows(history[m], s, m, "real", unit, fac))
        frames.append(
            _rows(
                m,
                "real",
                unit,
                years,
                fc["median"].to_numpy() / d_centre,
                q,
                fc["source"].to_numpy(),
                fc["backtested"].to_numpy(),
                forecasts[m].chosen or "",
            )
        )
    out = pd.concat(frames, ignore_index=True)
    if deflator_source:
        out.attrs["deflator_source"] = deflator_source
    return out


# --- sectors ------------------------------------------------------------------------------


def _sectors(ledger: Ledger, s: FlowStudySettings, paths, years, rng):
    from analysis.data.sectors import load_sector_map

    smap = load_sector_map()
    codes = ("manufacturing", *[c for c in s.sectors if c != "manufacturing"])
    data_rows, series_rows, fc_frames = [], [], []
    for code in codes:
        for m in MEASURES:
            ser = build_series(ledger, code, m, HISTORY_START, s.end_year, currency="IDR")
            if ser.n_observed == 0:
                continue
            excluded = ser.flags.astype(str).apply(
                lambda f: next((x for x in EXCLUDED_FLAGS if x in f.split(";")), "")
            )
            for y in ser.values.dropna().index:
                data_rows.append(
                    {
                        "sector": code,
                        "label": smap.label(code),
                        "series": m,
                        "year": int(y),
                        "value": float(ser.values[y]),
                        "unit": "Rp billion (nominal)",
                        "origin": ser.origin[y],
                        "flags": ser.flags[y],
                        "status": f"excluded: {excluded[y]}" if excluded[y] else "used",
                        "sources": ser.sources[y],
                    }
                )
            clean = replace(ser, values=ser.values.where(excluded == ""))
            run = clean.sample()
            n = len(run)
            n_excl = int((excluded[ser.values.notna()] != "").sum())
            national = pd.Series(
                {y: v for y, v in history_values(ledger, m, s).items()}, dtype=float
            )
            fan = n >= s.min_fan_points
            label = f"{smap.label(code)}, {MEASURE_LABELS[m]}"
            if not fan:
                sentence = (
                    f"{label}: {clean.n_observed} usable year(s), the longest consecutive run "
                    f"{n} ({_span(run)}); below the minimum of {s.min_fan_points} for a forecast, "
                    "so only the data are shown."
                )
            else:
                sentence = (
                    f"{label}: {n} consecutive years ({_span(run)}), forecast as a share of "
                    "national " + m.upper() + " so each path stays below the national path."
                )
                fc_frames.append(
                    _sector_share_forecast(clean, run, national, paths[m], years, s, rng)
                )
            if n_excl:
                sentence += f" {n_excl} point(s) excluded (flagged {', '.join(EXCLUDED_FLAGS)})."
            series_rows.append(
                {
                    "sector": code,
                    "series": m,
                    "usable_years": clean.n_observed,
                    "consecutive": n,
                    "excluded": n_excl,
                    "fan": fan,
                    "sentence": sentence,
                }
            )
    data = pd.DataFrame(data_rows)
    series = pd.DataFrame(
        series_rows,
        columns=["sector", "series", "usable_years", "consecutive", "excluded", "fan", "sentence"],
    )
    fc = pd.concat(fc_frames, ignore_index=True) if fc_frames else pd.DataFrame()
    return data, series, fc, pooled_growth_backtest(ledger, s.end_year)


def history_values(ledger: Ledger, measure: str, s: FlowStudySettings) -> dict[int, float]:
    """National full-year values (Rp billion) of one measure to ``end_year``."""
    a = ledger.annual(measure)
    a = a[a["year"] <= s.end_year]
    return dict(zip(a["year"].astype(int), a["value_idr_bn"].astype(float), strict=True))


def _span(run: pd.Series) -> str:
    return f"{run.index.min()}-{run.index.max()}" if len(run) else "none"


def _sector_share_forecast(clean, run, national, nat_paths, years, s, rng) -> pd.DataFrame:
    share = (run / national.reindex(run.index)).dropna()
    share = share[(share > 0) & (share < 1)]
    fc = forecast_flows(
        replace(clean, values=share.reindex(clean.values.index), unit="share"),
        ForecastSettings(horizon_year=s.horizon),
    )
    h = len(years)
    last = int(share.index.max())
    steps = int(years[-1]) - last
    path = forecast_path(np.log(share.to_numpy()), fc.chosen or "naive", steps, levels=(0.8,))
    sd = ((path["hi_80"] - path["lo_80"]) / (2 * _z(0.8))).to_numpy()
    sd = np.where(np.isfinite(sd), sd, 0.0)
    wsh = rw_shocks(rng, s.draws, steps)
    sh = np.minimum(np.exp(path["mean"].to_numpy()[None, :] + sd[None, :] * wsh), 1.0)
    sh = sh[:, steps - h :]  # align with the national forecast years
    draws = sh * nat_paths
    q = _quantiles(draws)
    return _rows(
        f"{clean.sector}_{clean.measure}",
        "nominal",
        "Rp billion (nominal)",
        years,
        np.median(draws, axis=0),
        q,
        "forecast",
        np.zeros(h, dtype=bool),
        f"share of national: {fc.chosen}",
    )


def pooled_growth_backtest(ledger: Ledger, end_year: int, min_pairs: int = 3) -> pd.DataFrame:
    """One-step backtest of sector forecasts: no change against pooled growth.

    For every sector series (every sector in the ledger but ``all``, usable points only) and
    every pair of consecutive years (y-1, y): *no change* forecasts y by y-1; *pooled growth*
    multiplies y-1 by exp(mean log growth of every sector pair that ended before y), once at
    least ``min_pairs`` such pairs exist. Both are scored on the same forecasts.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``n``, ``mape``, ``median_ape`` (percent) and ``pooled_growth``
        (the last pooled mean log growth, as a yearly rate).
    """
    obs = ledger.select(region="IDN", partner_iso3="WLD", concept="realisation", period="FY")
    obs = obs[(obs["sector"] != "all") & (obs["year"] <= end_year)]
    bad = obs["flags"].fillna("").apply(lambda f: any(x in f.split(";") for x in EXCLUDED_FLAGS))
    obs = obs[~bad & (obs["value_idr_bn"] > 0)]
    pairs = []
    for (_, _), g in obs.groupby(["sector", "measure"]):
        v = g.set_index("year")["value_idr_bn"].sort_index()
        for y in v.index:
            if y - 1 in v.index:
                pairs.append((int(y), float(v[y - 1]), float(v[y])))
    pairs.sort()
    rows = []
    growth = math.nan
    for y, prev, cur in pairs:
        past = [math.log(c / p) for yy, p, c in pairs if yy < y]
        if len(past) < min_pairs:
            continue
        growth = float(np.mean(past))
        rows.append(
            {
                "year": y,
                "naive": abs(prev - cur) / cur * 100,
                "pooled": abs(prev * math.exp(growth) - cur) / cur * 100,
            }
        )
    if not rows:
        return pd.DataFrame(columns=["model", "n", "mape", "median_ape", "pooled_growth"])
    f = pd.DataFrame(rows)
    return pd.DataFrame(
        [
            {
                "model": label,
                "n": len(f),
                "mape": float(f[col].mean()),
                "median_ape": float(f[col].median()),
                "pooled_growth": math.exp(growth) - 1 if col == "pooled" else np.nan,
            }
            for col, label in (("naive", "no change"), ("pooled", "pooled growth across sectors"))
        ]
    )


def gdp_deflator(base_year: int) -> tuple[pd.Series | None, str]:
    """Indonesia's GDP deflator from the partner panel (base year = 100), and its source.

    Returns ``(None, reason)`` when the partner panel is not available, so a nominal report
    still runs; ``price_basis = "real"`` then fails with a clear error in :func:`run_flows`.
    """
    try:
        from analysis.data.panel import load_panel  # type: ignore[import-not-found]
    except ImportError:
        return (
            None,
            "the partner panel (analysis.data.panel) with the GDP deflator is not installed",
        )
    panel = load_panel()
    series = panel.gdp_deflator("IDN", base_year)
    return series, (
        f"GDP deflator of Indonesia ({base_year} = 100) from the partner panel "
        f"(fingerprint {panel.fingerprint})"
    )


def _roadmap_context(root=None) -> pd.DataFrame:
    facts = load_facts("raw/bkpm/other_facts.csv", root)
    keep = facts[facts["topic"].isin(_ROADMAP_TOPICS)]
    return keep[["topic", "fact", "value", "unit", "year", "source_url"]].reset_index(drop=True)


def model_label(model: str) -> str:
    """Human label of a model code."""
    return MODEL_LABELS.get(model, model)


def measure_label(measure: str) -> str:
    """Human label of a national series code."""
    return MEASURE_LABELS.get(measure, measure)
