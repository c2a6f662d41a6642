"""The flows study's result, :class:`FlowStudy`: findings, statements and tables."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.base.summary import Summary
from analysis.data.ledger import Ledger
from analysis.models.flows import (
    FlowForecast,
    FlowSeries,
)
from analysis.models.nowcast import (
    INFO_LABELS,
    NOWCAST_LABELS,
    NowcastResult,
)
from analysis.models.scenarios import (
    PartnerShares,
    Scenario,
    ScenarioResult,
)
from analysis.present.formatting import (
    Findings,
    findings_block,
)

from .context import model_label
from .sectors import PROJECT_STATUSES
from .settings import (
    _PERIOD_ORDER,
    HISTORY_START,
    MEASURE_LABELS,
    MEASURES,
    SECTIONS,
    FlowStudySettings,
)
from .shares import _span

# --- the result -----------------------------------------------------------------------------
from .tables import _FlowTables


@dataclass
class FlowStudy(_FlowTables):
    """Everything the investment-flows report shows.

    Attributes
    ----------
    settings
        The study's settings.
    nowcast
        Nowcasts of the latest partial year and their backtest.
    forecasts
        Per national measure, the reconciled calibrated forecast as a
        :class:`~analysis.models.flows.FlowForecast` (its ``forecast`` frame holds the reconciled
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
        from analysis.present.tables import write_table

        return {name: write_table(t, name, report=report) for name, t in self.tables().items()}

    def figures(self) -> dict[str, object]:
        """The report's figures by name (drawn by :mod:`analysis.present.plots`)."""
        out: dict[str, object] = {f"fan_{m}": self.plot(m) for m in self.forecasts}
        if "total" in self.scenarios:
            out["scenario"] = self.plot_scenario("total")
        out["shares"] = self.plot_shares()
        return out

    def plot_scenario(self, measure: str = "total", ax=None):
        """The scenario's path against the baseline fan
        (:func:`analysis.present.plots.plot_scenario`)."""
        from analysis.present.plots import plot_scenario

        return plot_scenario(self.scenarios[measure], ax=ax)

    def plot_shares(self, ax=None):
        """Partners' PMA shares with the unlisted bucket (:func:`~.plots.plot_partner_shares`)."""
        from analysis.present.plots import plot_partner_shares

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
        from analysis.base.i18n import format_number

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
        base = f"The outlook is for {year}, the first year without a full-year figure"
        if r is None:
            return base + "."
        return (
            f"{base}; it rests on the latest release in the ledger, {r.label} "
            f"(published {r.published or 'undated'})."
        )

    def _findings_with_sections(self) -> list[tuple[str, str]]:
        """Key-finding sentences with the heading of the section that shows each."""
        # The sector first, at most four sentences; six findings in all (the rest are in
        # their sections), so the report opens with what matters, not a list.
        out = [(t, SECTIONS["sector"]) for t in self.sector_findings()[:4]]
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
        return out[:6]

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

    def plot(self, measure: str = "total", basis: str | None = None, ax=None):
        """Fan chart of one national series (default basis: the settings' price basis)."""
        from analysis.present.plots import plot_flow_fan

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
