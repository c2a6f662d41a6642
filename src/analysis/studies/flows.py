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
from analysis.vocab import DEFAULT_SEED

__all__ = [
    "FlowStudy",
    "FlowStudySettings",
    "gdp_deflator",
    "run",
    "run_flows",
    "settings",
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
    "sector": "The sector",
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
    seed: int = DEFAULT_SEED
    #: Use every full year the ledger holds, even after ``end_year`` (the outlook is then for
    #: the first year without a full-year figure, from the latest release); False pins the
    #: history to ``end_year`` (a backtest of the report as it stood).
    follow_latest: bool = True

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


def settings(params) -> FlowStudySettings:
    """The study's settings from the params' ``flows`` group (the one place it is read)."""
    from analysis.vocab import SECTOR_FOCUS

    g = params.flows
    return FlowStudySettings(
        sector=g.sector,
        sectors=tuple(SECTOR_FOCUS[g.sector]),
        start_year=g.start_year,
        end_year=g.end_year,
        horizon=g.horizon,
        interpolate=g.interpolate,
        partners=tuple(g.partners),
        scenario=dict(g.scenario) if g.scenario else None,
        nowcast_model=g.nowcast_model,
        reconcile_method=g.reconcile_method,
        price_basis=g.price_basis,
        deflator_base_year=g.deflator_base_year,
        usd_rate_year=g.usd_rate_year,
        min_fan_points=g.min_fan_points,
        seed=g.seed,
    )


def run(settings: FlowStudySettings, inputs=None) -> FlowStudy:
    """Run the study on the shared inputs, with Indonesia's GDP deflator for the real view."""
    if inputs is None:
        from analysis.studies.inputs import inputs as shared

        inputs = shared()
    deflator, note = gdp_deflator(settings.deflator_base_year)
    return run_flows(inputs.ledger, settings, deflator=deflator, deflator_source=note)


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
    scenario_paths: pd.DataFrame = field(default_factory=pd.DataFrame)
    last_backtested_year: int = 0
    release: object = None
    sector_shares: pd.DataFrame = field(default_factory=pd.DataFrame)
    sector_partners: pd.DataFrame = field(default_factory=pd.DataFrame)
    sector_projects: pd.DataFrame = field(default_factory=pd.DataFrame)

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

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables the report writes: ``forecast``, ``backtest``, ``nowcast_backtest``."""
        return {
            "forecast": self.forecast_table(),
            "backtest": self.backtest_table(),
            "nowcast_backtest": self.nowcast_table(),
            "targets": self.targets,
            "scenarios": self.scenario_paths,
            "sector_share": self.sector_shares,
            "sector_partners": self.sector_partners,
            "sector_projects": self.sector_projects,
        }

    def write_tables(self, report: str = "10-investment-flows") -> dict[str, object]:
        """Write every table of :meth:`tables` as CSV; return ``{name: path}``."""
        from analysis.tables import write_table

        return {name: write_table(t, name, report=report) for name, t in self.tables().items()}

    def figures(self) -> dict[str, object]:
        """The report's figures by name (drawn by :mod:`analysis.plots`)."""
        out: dict[str, object] = {f"fan_{m}": self.plot(m) for m in self.forecasts}
        if "total" in self.scenarios:
            out["scenario"] = self.plot_scenario("total")
        out["shares"] = self.plot_shares()
        return out

    def plot_scenario(self, measure: str = "total", ax=None):
        """The scenario's path against the baseline fan (:func:`analysis.plots.plot_scenario`)."""
        from analysis.plots import plot_scenario

        return plot_scenario(self.scenarios[measure], ax=ax)

    def plot_shares(self, ax=None):
        """Partners' PMA shares with the unlisted bucket (:func:`~.plots.plot_partner_shares`)."""
        from analysis.plots import plot_partner_shares

        return plot_partner_shares(self.shares, ax=ax)

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
            hist = usd[usd["source"] == "published"]
            fut = usd[usd["source"] != "published"]
            n_pub = int(hist["conversion"].eq("as published (US$)").sum())
            parts.append(
                f"PMA in US$ million: {n_pub} of {len(hist)} history years as BKPM printed them "
                "in US$, the others converted at that year's rate (each row gives rate and "
                "basis), so no year is restated at a later rate"
                + (f"; forecast years {fut['conversion'].iloc[0]}." if len(fut) else ".")
            )
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

    def nowcast_record_info_set(self) -> str:
        """The info set the study's nowcast uses (latest available), else the latest one."""
        used = self.nowcast.used()
        if len(used):
            return str(used["info_set"].iloc[0])
        return "9M"

    def nowcast_record(self) -> pd.DataFrame:
        """Out-of-sample nowcasts of the chosen model from one info set: raw and calibrated."""
        t = self.nowcast.table()
        t = t[t["info_set"] == self.nowcast_record_info_set()].reset_index(drop=True)
        for c in ("covered_80", "covered_80_cal"):
            t[c] = t[c].map({1.0: True, 0.0: False}).astype(object)
        return t

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

    def sector_findings(self) -> list[str]:
        """Sentences about the report's sector: share, growth, source countries, projects."""
        from analysis.data.sectors import load_sector_map

        smap = load_sector_map()
        out: list[str] = []
        sh = self.sector_shares
        if len(sh):
            parts = []
            for m in ("pma", "pmdn"):
                g = sh[sh["measure"] == m]
                if g.empty:
                    continue
                r = g.assign(_p=g["period"].map(_PERIOD_ORDER)).sort_values(["year", "_p"])
                r = r.iloc[-1]
                parts.append(
                    f"{smap.label(r['sector'])} took {r['share']:.1%} of national "
                    f"{m.upper()} in {r['period']} {r['year']} (Rp "
                    f"{r['value_idr_bn'] / 1000:,.1f} of {r['national_idr_bn'] / 1000:,.1f} "
                    "trillion)"
                )
            if parts:
                out.append("Latest published shares: " + "; ".join(parts) + ".")
            g = sh.dropna(subset=["growth", "national_growth"])
            if len(g):
                r = g.assign(_p=g["period"].map(_PERIOD_ORDER)).sort_values(["year", "_p"])
                r = r.iloc[-1]
                word = "faster than" if r["growth"] > r["national_growth"] else "slower than"
                out.append(
                    f"{smap.label(r['sector'])} {r['measure'].upper()} changed by "
                    f"{r['growth']:+.1%} in {r['period']} {r['year']} on a year earlier, "
                    f"{word} the national {r['national_growth']:+.1%}."
                )
        else:
            out.append(
                "No sector figure is published for the same period as a national figure: the "
                "sector's share of national investment cannot be computed."
            )
        pt = self.sector_partners
        if len(pt):
            top = self.top_source_countries().head(4)
            names = "; ".join(
                f"{r.country} ({r.statements} statement{'s' if r.statements > 1 else ''}, "
                f"latest {r.latest_period} {r.latest_year}: US$ {r.latest_usd_m:,.1f} million "
                f"in {r.latest_sector})"
                for r in top.itertuples()
            )
            out.append(f"Source countries BKPM names for the sector's PMA: {names}.")
        pr = self.sector_projects
        if len(pr):
            counts = pr["status"].value_counts()
            parts = [f"{int(counts.get(st, 0))} {st.replace('_', ' ')}" for st in PROJECT_STATUSES]
            usd = pr.loc[pr["status"] == "under_construction", "amount_usd_m"].sum()
            amount = f"US$ {usd / 1000:,.1f} billion" if usd >= 1000 else f"US$ {usd:,.0f} million"
            out.append(
                f"Major projects tracked: {', '.join(parts)}"
                + (f"; {amount} under construction (where an amount is given)." if usd > 0
                   else ".")
            )  # fmt: skip
        return out

    def scored_statement(self, info_set: str = "9M") -> str:
        """The latest full year against the nowcast made before it (out of sample)."""
        bt = self.nowcast.table()
        bt = bt[bt["info_set"] == info_set]
        if bt.empty:
            return ""
        year = int(bt["year"].max())
        b = bt[bt["year"] == year].set_index("series")
        if "total" not in b.index:
            return ""
        t = b.loc["total"]
        pub = ""
        if self.release is not None and self.release.year == year and self.release.period == "FY":
            pub = f", published {self.release.published}"
        text = (
            f"FY {year} as published: Rp {t['actual'] / 1000:,.1f} trillion{pub}; the nowcast "
            f"from the {info_set} release had said Rp {t['nowcast'] / 1000:,.1f} trillion "
            f"({t['error_pct']:+.2f} %, out of sample)."
        )
        split = []
        for m in ("pma", "pmdn"):
            if m not in b.index:
                continue
            r = b.loc[m]
            lo, hi = (r["lo_80_cal"], r["hi_80_cal"]) if np.isfinite(r["lo_80_cal"]) else (
                r["lo_80"], r["hi_80"])  # fmt: skip
            inside = lo <= r["actual"] <= hi
            split.append(
                f"{m.upper()} {r['nowcast'] / 1000:,.1f} against {r['actual'] / 1000:,.1f} "
                f"({r['error_pct']:+.1f} %, {'inside' if inside else 'outside'} its 80 % "
                "interval)"
            )
        if split:
            text += (
                " The foreign/domestic split: " + "; ".join(split) + ". Split intervals are "
                "widened by the errors of earlier years, this one included from now on."
            )
        return text

    def top_source_countries(self) -> pd.DataFrame:
        """Partners named in the sector's realised PMA statements, most often named first.

        Statements flagged ``suspect`` are left out. Columns: ``partner_iso3``, ``country``,
        ``statements``, ``latest_year``, ``latest_period``, ``latest_sector``,
        ``latest_usd_m``.
        """
        pt = self.sector_partners
        cols = ["partner_iso3", "country", "statements", "latest_year", "latest_period",
                "latest_sector", "latest_usd_m"]  # fmt: skip
        if pt.empty:
            return pd.DataFrame(columns=cols)
        ok = pt[~pt["flags"].fillna("").str.contains("suspect")]
        rows = []
        for iso, g in ok.groupby("partner_iso3", sort=False):
            first = g.iloc[0]  # sorted latest first
            rows.append(
                {
                    "partner_iso3": iso,
                    "country": first["country"],
                    "statements": len(g),
                    "latest_year": int(first["year"]),
                    "latest_period": first["period_code"] or "FY",
                    "latest_sector": first["sector"],
                    "latest_usd_m": float(first["value_usd_m"]),
                }
            )
        out = pd.DataFrame(rows, columns=cols)
        return out.sort_values(["statements", "latest_year"], ascending=False).reset_index(
            drop=True
        )

    def outlook_statement(self) -> str:
        """Which year the outlook is for, and the release it rests on."""
        r = self.release
        year = self.settings.end_year + 1
        if self.nowcast.year:
            year = self.nowcast.year
        base = (
            f"The outlook is for {year}, the first year without a full-year figure"
        )
        if r is None:
            return base + "."
        return (
            f"{base}; it rests on the latest release in the ledger, {r.label} "
            f"(published {r.published or 'undated'})."
        )

    def _findings_with_sections(self) -> list[tuple[str, str]]:
        """Key-finding sentences with the heading of the section that shows each."""
        out = [(t, SECTIONS["sector"]) for t in self.sector_findings()]
        out.append((self.outlook_statement(), SECTIONS["nowcast"]))
        scored = self.scored_statement()
        if scored:
            out.append((scored, SECTIONS["nowcast"]))
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
        beyond = []
        for r in fut.itertuples(index=False) if len(fut) else []:
            what = str(r.target).replace("_", " ").replace("annual", "target")
            if np.isfinite(r.p_reach):
                out.append(
                    (
                        f"The {r.year} {what} of Rp {r.target_rp_bn / 1000:,.1f} trillion "
                        f"({r.measure}) is reached with probability {r.p_reach:.0%} (median "
                        f"Rp {r.median_rp_bn / 1000:,.1f} trillion).",
                        SECTIONS["targets"],
                    )
                )
            else:
                beyond.append(
                    f"{r.year if 'medium' not in what else what.split()[-1]} "
                    f"(Rp {r.target_rp_bn / 1000:,.1f} trillion: "
                    f"{r.paths_meeting or 'no scenario path'})"
                )
        if beyond:
            out.append(
                (
                    "Targets beyond the backtested horizon get no probability; the scenario "
                    "paths that meet them: " + "; ".join(beyond) + ".",
                    SECTIONS["targets"],
                )
            )
        sentence = self.paths_statement()
        if sentence:
            out.append((sentence, SECTIONS["national"]))
        return out[:10]

    def paths_statement(self) -> str:
        """Where the intervals end and what the scenario paths give at the horizon."""
        p = self.scenario_paths
        if p.empty:
            return ""
        tot = p[(p["series"] == "total") & (p["year"] == p["year"].max())]
        if tot.empty:
            return ""
        y = int(tot["year"].iloc[0])
        parts = [
            f"{r.basis.split(':')[0]} Rp {r.value / 1000:,.0f} trillion"
            for r in tot.itertuples(index=False)
        ]
        return (
            f"Intervals end in {self.last_backtested_year}, as far as the backtest reaches; "
            f"for {y} the report shows scenario paths, not a forecast: "
            + ", ".join(parts)
            + " (total, nominal)."
        )

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
            if f.empty:
                f = pd.DataFrame(columns=["series", "info_set", "partial", "median", "lo_80",
                                          "hi_80", "ratio", "n_years", "used"])  # fmt: skip
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
                labels={"coverage_80_calibrated": m("flows.c_coverage_cal"),
                        "calibrated_years": m("flows.c_calibrated_years")},
                codes={"series": "measure_short", "info_set": "period"},
                units={"mape": "pct", "max_ape": "pct"},
                digits={"mape": 2, "max_ape": 2, "coverage_80": 0,
                        "coverage_80_calibrated": 0},
                percent=["coverage_80", "coverage_80_calibrated"],
                **fmt,
            )  # fmt: skip
        if name == "nowcast_record":
            f = self.nowcast_record()
            return format_table(
                f,
                title=m("flows.t_nowcast_record", info_set=self.nowcast_record_info_set()),
                columns=["series", "year", "actual", "nowcast", "error_pct", "lo_80", "hi_80",
                         "covered_80", "lo_80_cal", "hi_80_cal", "covered_80_cal"],
                labels={"error_pct": m("flows.c_error_pct"),
                        "lo_80_cal": m("flows.c_lo_80_cal"),
                        "hi_80_cal": m("flows.c_hi_80_cal"),
                        "covered_80": m("flows.c_covered"),
                        "covered_80_cal": m("flows.c_covered_cal")},
                codes={"series": "measure_short", "covered_80": "yes_no",
                       "covered_80_cal": "yes_no"},
                units={c: "idr_bn" for c in ("actual", "nowcast", "lo_80", "hi_80",
                                              "lo_80_cal", "hi_80_cal")},
                digits={"error_pct": 2, **{c: 0 for c in ("actual", "nowcast", "lo_80",
                        "hi_80", "lo_80_cal", "hi_80_cal")}},
                **fmt,
            )  # fmt: skip
        if name == "sector_shares":
            f = self.sector_shares
            return format_table(
                f,
                title=m("flows.t_sector_shares"),
                columns=["sector", "measure", "year", "period", "value_idr_bn",
                         "national_idr_bn", "share", "growth", "national_growth"],
                labels={"value_idr_bn": m("flows.c_sector_value"),
                        "national_idr_bn": m("flows.c_national_value"),
                        "share": m("flows.c_share"), "growth": m("flows.c_growth_yoy"),
                        "national_growth": m("flows.c_national_growth")},
                codes={"sector": "ledger_sector", "measure": "measure_short",
                       "period": "period"},
                units={"value_idr_bn": "idr_bn", "national_idr_bn": "idr_bn"},
                digits={"value_idr_bn": 0, "national_idr_bn": 0, "share": 2, "growth": 1,
                        "national_growth": 1},
                percent=["share", "growth", "national_growth"],
                notes=[m("flows.n_nominal")],
                **fmt,
            )  # fmt: skip
        if name == "sector_partners":
            f = self.sector_partners.copy()
            f["projects"] = [str(int(x)) if pd.notna(x) else "" for x in f["projects"]]
            return format_table(
                f,
                title=m("flows.t_sector_partners"),
                columns=["sector", "year", "period_code", "country", "value_usd_m", "projects",
                         "flags", "source"],
                labels={"period_code": m("label.column.period"),
                        "country": m("label.column.partner"),
                        "value_usd_m": m("flows.c_pma_usd"),
                        "projects": m("flows.c_projects")},
                codes={"flags": "flag"},
                digits={"value_usd_m": 1},
                **fmt,
            )  # fmt: skip
        if name == "sector_projects":
            f = self.sector_projects.copy()
            for c in ("year_announced", "year_status"):
                # Years as years: text, never "2,018".
                f[c] = [str(int(y)) if pd.notna(y) else "" for y in f[c]]
            return format_table(
                f,
                title=m("flows.t_sector_projects"),
                columns=["status", "sector", "company", "home_country", "project", "location",
                         "amount_usd_m", "year_announced", "year_status", "flags"],
                labels={"home_country": m("flows.c_home"), "amount_usd_m": m("flows.c_amount"),
                        "year_announced": m("flows.c_announced"),
                        "year_status": m("flows.c_status_year"),
                        "project": m("flows.c_project"), "company": m("flows.c_company"),
                        "location": m("flows.c_location")},
                codes={"flags": "flag"},
                digits={"amount_usd_m": 0},
                notes=[m("flows.n_projects")],
                **fmt,
            )  # fmt: skip
        if name == "scenario_paths":
            f = self.scenario_paths
            return format_table(
                f,
                title=m("flows.t_scenario_paths"),
                columns=["series", "label", "year", "value", "growth", "basis"],
                labels={"label": m("flows.c_path"), "growth": m("flows.c_growth"),
                        "basis": m("flows.c_basis")},
                codes={"series": "measure_short"},
                units={"value": "idr_bn"},
                digits={"value": 0, "growth": 1},
                percent=["growth"],
                notes=[m("flows.n_paths", year=self.last_backtested_year), m("flows.n_nominal")],
                **fmt,
            )  # fmt: skip
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
            extra = ["conversion"] if name == "pma_usd" else ["flag"]
            if "flag" in v:
                v = v.assign(flag=v["flag"].map({"above_history": m("flows.flag_above_history")})
                             .fillna(""))  # fmt: skip
            return format_table(
                v,
                title=m(f"flows.t_{name}", unit=unit),
                columns=["series", "year", "median", "lo_80", "hi_80", "lo_95", "hi_95",
                         "source", "backtested", "model", *extra],
                labels={"conversion": m("flows.c_conversion"), "flag": m("flows.c_flag")},
                codes={"series": "measure_short", "source": "origin", "backtested": "yes_no"},
                digits=0,
                notes=[m("flows.n_no_interval", year=self.last_backtested_year)],
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
            kinds = {"annual": m("flows.k_annual"), "annual_rpjmn": m("flows.k_annual_rpjmn"),
                     "FY_target": m("flows.k_annual")}  # fmt: skip
            shown = self.targets.assign(
                target=[
                    kinds.get(t, m("flows.k_medium_term", years=str(t).split()[-1]))
                    if str(t) not in kinds else kinds[t]
                    for t in self.targets["target"]
                ]
            )
            return format_table(
                shown,
                title=m("flows.t_targets"),
                labels={"paths_meeting": m("flows.c_paths_meeting"),
                        "backtested": m("flows.c_backtested_year")},
                columns=[c for c in self.targets.columns if c != "source"],
                codes={"measure": "measure", "status": "status", "backtested": "yes_no"},
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
    release = ledger.latest_release() if hasattr(ledger, "latest_release") else None
    if s.follow_latest:
        full = ledger.annual("total")
        last_full = int(full["year"].max()) if len(full) else s.end_year
        if last_full > s.end_year:
            notes.append(
                f"History runs to {last_full}, the latest full year in the ledger (end_year "
                f"{s.end_year} in the parameters is passed)."
            )
            rate_year = last_full if s.usd_rate_year == s.end_year else s.usd_rate_year
            s = replace(
                s, end_year=last_full, horizon=max(s.horizon, last_full + 1),
                usd_rate_year=rate_year,
            )  # fmt: skip
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
    longest = min(
        int(bb.calibration.attrs.get("longest_backtested_horizon", 0)) for bb in bases.values()
    )
    last_bt = int(years[0]) + longest - 1
    views = _limit_to_backtest(views, last_bt, history, s, notes)
    if len(sector_fc):
        sector_fc.loc[sector_fc["year"] > last_bt, ["lo_80", "hi_80", "lo_95", "hi_95"]] = np.nan

    from analysis.config import scenario_problem

    problem = scenario_problem(s.scenario) if s.scenario else None
    if problem:
        raise ValueError(problem)
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
    tdata = _load_targets(ledger)
    annual = tdata[tdata["kind"] != "medium_term_total"]
    targets = targets_gap(
        {m: scenarios[m].path for m in MEASURES}, draws, annual, hist_values
    )
    spaths = _scenario_paths(history, forecasts, s, _target_values(annual))
    targets = _targets_within_backtest(targets, spaths, last_bt)
    targets = pd.concat(
        [targets, _medium_term(tdata, hist_values, scenarios, draws, spaths, last_bt)],
        ignore_index=True,
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
        scenario_paths=spaths,
        last_backtested_year=last_bt,
        release=release,
        sector_shares=sector_shares(ledger, s.sectors, None),
        sector_partners=_sector_partners(ledger, s.sector),
        sector_projects=_sector_projects(s.sector),
    )


# --- beyond the backtest ------------------------------------------------------------------------

#: Human names of the scenario paths (tables and charts).
PATH_LABELS = {
    "targets": "Scenario: growth the targets imply",
    "trend": "Scenario: recent trend",
    "slowdown": "Scenario: slowdown (half the trend)",
}


def _limit_to_backtest(views, last_bt, history, s, notes) -> pd.DataFrame:
    """Blank every interval after the last backtested year; flag 95 % bounds beyond history.

    Beyond the backtested horizon an interval would be an extrapolation of a spread nobody has
    checked, so the forecast table keeps the model's median (``source`` forecast,
    ``backtested`` False) without bounds, and the report shows scenario paths instead. Inside
    it, a 95 % upper bound that needs faster yearly growth than the series has ever had (from
    its last published year) is flagged ``above_history`` and explained in a note.
    """
    from analysis.flows import exceeds_history, history_extremes

    v = views.copy()
    bounds = ["lo_80", "hi_80", "lo_95", "hi_95"]
    beyond = (v["source"] != "published") & (v["year"] > last_bt)
    v.loc[beyond, bounds] = np.nan
    v["flag"] = ""
    if beyond.any():
        notes.append(
            f"Intervals end in {last_bt}, the last year whose horizon the backtest checked; "
            f"later years show the model's median without an interval and the scenario paths "
            "(labelled scenarios, not forecasts)."
        )
    for m in MEASURES:
        hist = history[m].values.loc[: s.end_year].dropna()
        if hist.empty:
            continue
        a_year, a_value = int(hist.index.max()), float(hist.iloc[-1])
        ext = history_extremes(hist)
        rows = v[(v["series"] == m) & (v["basis"] == "nominal") & (v["source"] != "published")]
        for _, r in rows.iterrows():
            flag, implied = exceeds_history(hist, a_year, a_value, int(r["year"]), r["hi_95"])
            if flag:
                v.loc[
                    (v["series"].isin([m, f"{m}_usd"])) & (v["year"] == r["year"]), "flag"
                ] = "above_history"
                notes.append(
                    f"{MEASURE_LABELS[m]}, {int(r['year'])}: the 95 % upper bound (Rp "
                    f"{r['hi_95'] / 1000:,.0f} trillion) needs {implied:+.1%} a year from "
                    f"{a_year}, more than the series has ever grown in one year "
                    f"({ext['max_growth']:+.1%} in {ext['max_growth_year']}): flagged "
                    "'above history'; the bound comes from the model's spread, not from any "
                    "growth observed."
                )
    return v


def _load_targets(ledger: Ledger) -> pd.DataFrame:
    """The preferred version of every target (:func:`analysis.data.targets.load_targets`).

    Shaped for :func:`analysis.scenarios.targets_gap` (``period`` holds the kind). Falls back
    to the ledger's ``FY_target`` rows when the targets module is not available.
    """
    try:
        from analysis.data.targets import load_targets
    except ImportError:  # pragma: no cover - older data layer
        t = ledger.targets.copy()
        t["kind"] = "annual"
        t["year_first"] = t["year"]
        return t
    t = load_targets(ledger.root)
    t = t[t["preferred"]].copy()
    t["period"] = t["kind"]
    t["source"] = t["source"] + " (published " + t["published"].astype(str) + ")"
    return t.reset_index(drop=True)


def _target_values(targets: pd.DataFrame) -> dict[str, pd.Series]:
    """Per measure, one annual target per year (Rp billion; annual before annual_rpjmn)."""
    out: dict[str, pd.Series] = {}
    if targets is None or targets.empty:
        return out
    t = targets[targets["period"].isin(["annual", "FY_target"])]
    for m, g in t.groupby("measure"):
        out[str(m)] = g.groupby("year")["value_idr_bn"].first().astype(float)
    return out


def _medium_term(tdata, hist_values, scenarios, draws, spaths, last_bt) -> pd.DataFrame:
    """Cumulative medium-term targets (2025-2029): realised years plus paths for the rest."""
    rows = []
    for t in tdata[tdata["kind"] == "medium_term_total"].itertuples(index=False):
        m, first, last = str(t.measure), int(t.year_first), int(t.year)
        hist = hist_values.get(m, pd.Series(dtype=float))
        done = {y: float(hist[y]) for y in range(first, last + 1) if y in hist.index
                and np.isfinite(hist[y])}  # fmt: skip
        todo = [y for y in range(first, last + 1) if y not in done]
        path = scenarios[m].path if m in scenarios else None
        row = {
            "year": last,
            "measure": m,
            "target": f"medium_term_total {first}-{last}",
            "target_rp_bn": float(t.value_idr_bn),
            "status": "ahead" if todo else "no figure",
            "realised_rp_bn": sum(done.values()) if not todo else np.nan,
            "median_rp_bn": np.nan,
            "lo_80": np.nan,
            "hi_80": np.nan,
            "gap_rp_bn": np.nan,
            "p_reach": np.nan,
            "source": t.source,
            "note": f"cumulative {first}-{last}; {len(done)} year(s) realised "
            f"(Rp {sum(done.values()) / 1000:,.1f} trillion)",
            "backtested": bool(not todo or max(todo) <= last_bt),
            "paths_meeting": "",
        }
        if not todo:
            row["status"] = "met" if row["realised_rp_bn"] >= row["target_rp_bn"] else "missed"
            row["gap_rp_bn"] = row["target_rp_bn"] - row["realised_rp_bn"]
        elif path is not None and set(todo) <= set(path["year"]):
            idx = [int(np.flatnonzero(path["year"].to_numpy() == y)[0]) for y in todo]
            total = sum(done.values()) + np.asarray(draws[m])[:, idx].sum(axis=1)
            med = sum(done.values()) + float(path["median"].iloc[idx].sum())
            row.update(median_rp_bn=med, gap_rp_bn=row["target_rp_bn"] - med)
            if row["backtested"]:
                row["p_reach"] = float(np.mean(total >= row["target_rp_bn"]))
        if todo and not row["backtested"] and len(spaths):
            ok = []
            for name, g in spaths[spaths["series"] == m].groupby("path", sort=False):
                vals = g.set_index("year")["value"]
                if set(todo) <= set(vals.index):
                    if sum(done.values()) + float(vals.loc[todo].sum()) >= row["target_rp_bn"]:
                        ok.append(PATH_LABELS[name])
            row["paths_meeting"] = "; ".join(ok) if ok else "none of the scenario paths"
        rows.append(row)
    return pd.DataFrame(rows)


def _scenario_paths(history, forecasts, s, targets) -> pd.DataFrame:
    """Scenario paths of the national series from the last published year to the horizon."""
    from analysis.flows import scenario_paths

    frames = []
    for m in MEASURES:
        hist = history[m].values.loc[: s.end_year]
        p = scenario_paths(hist, s.horizon, targets=targets.get(m))
        if len(p):
            frames.append(p.assign(series=m, unit="Rp billion (nominal)"))
    if not frames:
        return pd.DataFrame(columns=["series", "path", "year", "value", "growth", "basis"])
    out = pd.concat(frames, ignore_index=True)
    out["label"] = out["path"].map(PATH_LABELS)
    return out[["series", "path", "label", "year", "value", "unit", "growth", "basis"]]


def _targets_within_backtest(targets, spaths, last_bt) -> pd.DataFrame:
    """Probabilities only inside the backtested horizon; beyond, which scenario paths meet it."""
    t = targets.copy()
    if t.empty:
        return t.assign(backtested=pd.Series(dtype=bool), paths_meeting=pd.Series(dtype=str))
    ahead = t["status"] == "ahead"
    t["backtested"] = ~ahead | (t["year"] <= last_bt)
    beyond = ahead & (t["year"] > last_bt)
    t.loc[beyond, ["p_reach", "lo_80", "hi_80"]] = np.nan
    meets = []
    for r in t.itertuples(index=False):
        if r.status != "ahead" or spaths.empty:
            meets.append("")
            continue
        p = spaths[(spaths["series"] == r.measure) & (spaths["year"] == r.year)]
        ok = [PATH_LABELS[x] for x in p.loc[p["value"] >= r.target_rp_bn, "path"]]
        meets.append("; ".join(ok) if ok else "none of the scenario paths")
    t["paths_meeting"] = meets
    return t


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


def _usd_history(ledger: Ledger, s: FlowStudySettings) -> pd.DataFrame:
    """National PMA in US$ million by year: as published where BKPM printed US$, else converted.

    BKPM published PMA in US$ (converting to rupiah at the budget's APBN rate) until it moved to
    rupiah; the ledger keeps each year in US$ at that year's rate on its basis. A year printed
    in rupiah is labelled ``converted`` with its rate and basis; a year printed in US$ keeps the
    printed figure (2015: US$29.3 billion, not US$24.4 billion at a later rate).
    """
    a = ledger.annual("pma")
    a = a[(a["year"] >= s.start_year) & (a["year"] <= s.end_year)].sort_values("year")
    printed_usd = a["unit_published"].fillna("").str.startswith("US$")
    conversion = [
        "as published (US$)"
        if usd
        else f"converted at Rp {rate:,.0f}/US$ ({basis} {int(y)}), from Rp {pub:,.1f} trillion"
        for usd, rate, basis, y, pub in zip(
            printed_usd, a["fx_rate"], a["fx_basis"], a["year"], a["value_idr_bn"] / 1000,
            strict=True,
        )
    ]
    nan = np.full(len(a), np.nan)
    q = {k: nan for k in ("lo_80", "hi_80", "lo_95", "hi_95")}
    out = _rows(
        "pma_usd", "nominal", "US$ million", a["year"], a["value"].to_numpy(dtype=float), q,
        "published", True, "",
    )
    out["conversion"] = conversion
    out["fx_rate"] = np.where(printed_usd, np.nan, a["fx_rate"].to_numpy(dtype=float))
    return out


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
        unit = "US$ million"
        conv = (
            f"converted at Rp {rate:,.0f}/US$ ({fxr.basis} {s.usd_rate_year}, "
            "every forecast year)"
        )
        fc = forecasts["pma"].forecast
        frames.append(_usd_history(ledger, s))
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
            ).assign(conversion=conv, fx_rate=rate)
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
    pooled_sd = pooled_share_sd(ledger, s.end_year)
    period_shares = sector_shares(ledger, codes, s.end_year)
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
            usable = clean.values.dropna()
            recent = len(usable) and int(usable.index.max()) >= s.end_year - 3
            fan = clean.n_observed >= s.min_fan_points and bool(recent)
            label = f"{smap.label(code)}, {MEASURE_LABELS[m]}"
            if not fan:
                why = (
                    f"below the minimum of {s.min_fan_points} full years for a forecast"
                    if clean.n_observed < s.min_fan_points
                    else f"the latest is more than 3 years before {s.end_year}"
                )
                sentence = (
                    f"{label}: {clean.n_observed} usable full year(s), the longest consecutive "
                    f"run {n} ({_span(run)}); {why}, so only the data are shown."
                )
            else:
                frame, how = _sector_share_forecast(
                    clean, national, paths[m], years, s, rng, pooled_sd, period_shares
                )
                fc_frames.append(frame)
                sentence = f"{label}: {clean.n_observed} usable full years; {how}"
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


_PERIOD_ORDER = {"Q1": 1, "Q2": 2, "H1": 3, "Q3": 4, "9M": 5, "Q4": 6, "FY": 7}


def sector_shares(ledger: Ledger, sectors, end_year: int | None = None) -> pd.DataFrame:
    """The sector's share of national PMA, PMDN and total, for every period both are published.

    One row per (sector, measure, year, period) where the sector figure and the national
    figure of the same measure and period exist (quarterly, H1, 9M or full year, as published
    or derived in the ledger). Points flagged suspect or with an uncertain period are left out.
    ``growth`` and ``national_growth`` compare with the same period a year earlier, where both
    years exist.

    Returns
    -------
    pandas.DataFrame
        ``sector``, ``measure``, ``year``, ``period``, ``value_idr_bn``,
        ``national_idr_bn``, ``share``, ``growth``, ``national_growth``, ``sources``.
    """
    cols = ["sector", "measure", "year", "period", "value_idr_bn", "national_idr_bn", "share",
            "growth", "national_growth", "sources"]  # fmt: skip
    obs = ledger.select(region="IDN", partner_iso3="WLD", concept="realisation")
    obs = obs[obs["period"].isin(list(_PERIOD_ORDER)) & obs["measure"].isin(MEASURES)]
    if end_year is not None:
        obs = obs[obs["year"] <= end_year]
    nat = obs[obs["sector"] == "all"].set_index(["measure", "year", "period"])["value_idr_bn"]
    sec = obs[obs["sector"].isin(list(sectors))]
    bad = sec["flags"].fillna("").apply(lambda f: any(x in f.split(";") for x in EXCLUDED_FLAGS))
    sec = sec[~bad & (sec["value_idr_bn"] > 0)]
    rows = []
    for r in sec.itertuples(index=False):
        n = nat.get((r.measure, r.year, r.period), np.nan)
        if not np.isfinite(n) or n <= 0:
            continue
        rows.append(
            {
                "sector": r.sector,
                "measure": r.measure,
                "year": int(r.year),
                "period": r.period,
                "value_idr_bn": float(r.value_idr_bn),
                "national_idr_bn": float(n),
                "share": float(r.value_idr_bn) / float(n),
                "sources": r.sources,
            }
        )
    out = pd.DataFrame(rows, columns=[c for c in cols if "growth" not in c])
    if out.empty:
        return pd.DataFrame(columns=cols)
    key = out.set_index(["sector", "measure", "period", "year"])
    prev_v = [key["value_idr_bn"].get((r.sector, r.measure, r.period, r.year - 1), np.nan)
              for r in out.itertuples()]  # fmt: skip
    prev_n = [nat.get((r.measure, r.year - 1, r.period), np.nan) for r in out.itertuples()]
    out["growth"] = out["value_idr_bn"] / np.asarray(prev_v, dtype=float) - 1
    out["national_growth"] = out["national_idr_bn"] / np.asarray(prev_n, dtype=float) - 1
    out = out.assign(_p=out["period"].map(_PERIOD_ORDER))
    out = out.sort_values(["sector", "measure", "year", "_p"]).drop(columns="_p")
    return out[cols].reset_index(drop=True)


#: Partner x sector and project sectors of each report sector (the report's own industry first).
PARTNER_SECTORS_OF = {
    "textile": ("textile", "footwear"),
    "chemical": ("chemical", "chem_pharma"),
    "pharma": ("pharma", "chem_pharma"),
}
PROJECT_SECTORS_OF = {"textile": ("textile", "footwear"), "chemical": ("chemical",),
                      "pharma": ("pharma",)}  # fmt: skip
PROJECT_STATUSES = ("operating", "under_construction", "announced", "cancelled")


def _sector_partners(ledger: Ledger, sector: str) -> pd.DataFrame:
    """Realised PMA by source country in the report's sectors, latest period first."""
    cols = ["sector", "year", "period_code", "partner_iso3", "country", "value_usd_m", "projects",
            "value", "unit", "fx_rate", "kind", "flags", "source", "published"]  # fmt: skip
    if not hasattr(ledger, "partner_sector") or sector not in PARTNER_SECTORS_OF:
        return pd.DataFrame(columns=cols)
    t = ledger.partner_sector(list(PARTNER_SECTORS_OF[sector]))
    t = t[(t["kind"] == "realised") & ~t["partner_iso3"].astype(str).str.contains(r"\+")]
    t = t.assign(_p=t["period_code"].map(_PERIOD_ORDER).fillna(0))
    t = t.sort_values(["year", "_p", "value_usd_m"], ascending=[False, False, False])
    return t[cols].reset_index(drop=True)


def _sector_projects(sector: str) -> pd.DataFrame:
    """Major projects of the report's sectors (operating, under construction, announced, ...)."""
    cols = ["sector", "company", "home_country", "home_iso3", "project", "location",
            "amount", "unit", "amount_usd_m", "status", "year_announced", "year_status",
            "flags", "source", "published"]  # fmt: skip
    try:
        from analysis.data.projects import load_projects
    except ImportError:  # pragma: no cover - older data layer
        return pd.DataFrame(columns=cols)
    if sector not in PROJECT_SECTORS_OF:
        return pd.DataFrame(columns=cols)
    t = load_projects()
    t = t[t["sector"].isin(PROJECT_SECTORS_OF[sector])]
    order = {st: i for i, st in enumerate(PROJECT_STATUSES)}
    t = t.assign(_o=t["status"].map(order)).sort_values(["_o", "amount_usd_m"],
                                                          ascending=[True, False])  # fmt: skip
    return t[cols].reset_index(drop=True)


def history_values(ledger: Ledger, measure: str, s: FlowStudySettings) -> dict[int, float]:
    """National full-year values (Rp billion) of one measure to ``end_year``."""
    a = ledger.annual(measure)
    a = a[a["year"] <= s.end_year]
    return dict(zip(a["year"].astype(int), a["value_idr_bn"].astype(float), strict=True))


def _span(run: pd.Series) -> str:
    return f"{run.index.min()}-{run.index.max()}" if len(run) else "none"


#: Prior weight (in years of own data) of "the sector grows like the nation" in the share model.
SHARE_PRIOR_YEARS = 3.0


def pooled_share_sd(ledger: Ledger, end_year: int) -> float:
    """Yearly sd of sector-share log changes, pooled across every sector series in the ledger."""
    from analysis.flows import share_changes

    obs = ledger.select(region="IDN", partner_iso3="WLD", concept="realisation", period="FY")
    obs = obs[obs["year"] <= end_year]
    bad = obs["flags"].fillna("").apply(lambda f: any(x in f.split(";") for x in EXCLUDED_FLAGS))
    obs = obs[~bad & (obs["value_idr_bn"] > 0)]
    nat = obs[obs["sector"] == "all"].set_index(["measure", "year"])["value_idr_bn"]
    changes = []
    for (_, m), g in obs[obs["sector"] != "all"].groupby(["sector", "measure"]):
        v = g.set_index("year")["value_idr_bn"]
        share = v / np.asarray([nat.get((m, y), np.nan) for y in v.index], dtype=float)
        changes += list(share_changes(share))
    if len(changes) < 3:
        return math.nan
    c = np.asarray(changes)
    return float(np.sqrt(np.mean((c - c.mean()) ** 2) * len(c) / (len(c) - 1)))


def _sector_share_forecast(clean, national, nat_paths, years, s, rng, pooled_sd, shares):
    """Sector = national path x shrunk share path; returns the rows and a sentence."""
    from analysis.flows import shrunk_share_forecast

    v = clean.values.dropna()
    share = (v / national.reindex(v.index)).dropna()
    anchor, anchor_text = None, f"the latest full-year share ({int(share.index.max())}"
    part = shares[(shares["sector"] == clean.sector) & (shares["measure"] == clean.measure)
                  & shares["period"].isin(["H1", "9M"])]  # fmt: skip
    if len(part):
        r = part.assign(_p=part["period"].map(_PERIOD_ORDER)).sort_values(["year", "_p"]).iloc[-1]
        if int(r["year"]) > int(share.index.max()):
            anchor = (int(r["year"]), float(r["share"]))
            anchor_text = f"its latest cumulative share ({r['period']} {int(r['year'])}"
    fc = shrunk_share_forecast(
        share, years, pooled_sd=pooled_sd if np.isfinite(pooled_sd) else 0.0,
        prior_years=SHARE_PRIOR_YEARS, anchor=anchor,
    )  # fmt: skip
    a = fc.attrs
    w = rw_shocks(rng, s.draws, len(years))
    sh = np.minimum(
        np.exp(fc["log_share"].to_numpy()[None, :] + fc["sd_log"].to_numpy()[None, :] * w), 1.0
    )
    draws = sh * nat_paths
    h = len(years)
    rows = _rows(
        f"{clean.sector}_{clean.measure}", "nominal", "Rp billion (nominal)", years,
        np.median(draws, axis=0), _quantiles(draws), "forecast", np.zeros(h, dtype=bool),
        f"share of national, shrunk (w = {a['weight']:.2f})",
    )  # fmt: skip
    how = (
        f"forecast as its share of national {clean.measure.upper()}: held at {anchor_text}: "
        f"{a['anchor_share']:.2%}) and moved by its own "
        f"trend ({math.exp(a['own_drift']) - 1:+.1%} a year over {a['n_changes']} change(s)) "
        f"shrunk towards the national series by w = n / (n + {SHARE_PRIOR_YEARS:g}) = "
        f"{a['weight']:.2f}, so a sector with few years grows like the nation; the spread is "
        f"the yearly share change pooled across all sectors (sd {pooled_sd:.2f} on the log "
        "scale). Each path stays below the national path."
    )
    return rows, how


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
