"""Data audit (report 00): what is published about investment in a sector, and how far to trust it.

:func:`run_audit` turns :class:`AuditSettings` and the ledger into an :class:`AuditResult`:
the tables the report shows (formatted for readers in English or Bahasa Indonesia), its key
findings computed from them, and the raw tables behind each (for CSV). The data-quality
checks themselves live in :mod:`analysis.data.check`; this module only selects and presents.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from analysis.data.check import DataCheck, check_data
from analysis.data.ledger import Ledger
from analysis.formatting import (
    Finding,
    Findings,
    Table,
    censored_text,
    findings_block,
    format_table,
    format_wide,
)
from analysis.i18n import label, messages
from analysis.summary import Summary

__all__ = ["AuditResult", "AuditSettings", "run_audit"]


@dataclass(frozen=True)
class AuditSettings:
    """Which sector, years and partners the audit covers, and in which language."""

    sector: str
    sectors: tuple[str, ...]  # ledger sectors the report sector draws on
    start_year: int = 2015
    end_year: int = 2024
    partners: tuple[str, ...] = ()
    fx_basis: str = "apbn"
    language: str = "en"


@dataclass
class AuditResult:
    """The audit's tables and findings for one sector and window."""

    settings: AuditSettings
    check: DataCheck
    fingerprint: str
    panel: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def m(self):
        return messages(self.settings.language)

    # -- raw tables -------------------------------------------------------------------------

    def national(self) -> pd.DataFrame:
        """Full-year national PMA, PMDN and total with the flags of each, numbers only."""
        s = self.settings
        fy = self.check.fy_totals(range(s.start_year, s.end_year + 1))
        flags = [
            ";".join(
                sorted(
                    {
                        f
                        for col in ("pma_flags", "pmdn_flags", "total_flags")
                        for f in str(r[col]).split(";")
                        if f and f not in ("nan", "missing")
                    }
                )
            )
            for _, r in fy.iterrows()
        ]
        return fy[["year", "pma_usd_m", "pma_rp_bn", "pmdn_rp_bn", "total_rp_bn"]].assign(
            flags=flags
        )

    def sector_figures(self) -> pd.DataFrame:
        """Every national figure of the report's sectors in the window."""
        s = self.settings
        frames = [self.check.sector_series(x).assign(sector=x) for x in s.sectors]
        obs = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if obs.empty:
            return obs
        obs = obs[obs["year"].between(s.start_year, s.end_year)]
        return obs[
            ["sector", "year", "period", "measure", "value", "unit", "origin", "flags"]
        ].reset_index(drop=True)

    def counts(self) -> pd.DataFrame:
        """Observations, derived values, conflicts and violations, national and sector."""
        s = self.settings
        return self.check.issue_counts(s.sectors, s.start_year, s.end_year).reset_index()

    # -- what the report shows ------------------------------------------------------------

    def table(self, name: str) -> Table:
        """A formatted table: ``national``, ``coverage``, ``sector``, ``partners``,
        ``counts``, ``conflicts`` or ``violations``."""
        s, m, lang = self.settings, self.m, self.settings.language
        src = m("chart.source_ledger")
        if name == "national":
            # Rupiah in trillions, as the chart next to it (the CSV keeps Rp billion).
            nat = self.national()
            shown = nat.assign(
                **{c.replace("_rp_bn", "_rp_tn"): nat[c] / 1000 for c in nat if "_rp_bn" in c}
            )
            table = format_table(
                shown,
                language=lang,
                title=m("audit.national_caption", start=s.start_year, end=s.end_year),
                columns=["year", "pma_usd_m", "pma_rp_tn", "pmdn_rp_tn", "total_rp_tn", "flags"],
                labels={
                    "pma_usd_m": "PMA",
                    "pma_rp_tn": "PMA",
                    "pmdn_rp_tn": "PMDN",
                    "total_rp_tn": "PMA + PMDN",
                },
                units={
                    "pma_usd_m": "usd_m",
                    "pma_rp_tn": "idr_tn",
                    "pmdn_rp_tn": "idr_tn",
                    "total_rp_tn": "idr_tn",
                },
                digits={"pma_usd_m": 0, "pma_rp_tn": 1, "pmdn_rp_tn": 1, "total_rp_tn": 1},
                codes={"flags": "flag"},
                source=src,
            )
            table.data = nat
            return table
        if name == "coverage":
            cov = self.check.sector_coverage(s.sectors, s.start_year, s.end_year)
            cov = cov.replace("", np.nan)
            cov.columns = [label("ledger_sector", c, lang) for c in cov.columns]
            return format_wide(
                cov,
                language=lang,
                title=m("audit.coverage_caption"),
                row_label=m("label.column.year"),
                source=src,
            )
        if name == "sector":
            f = self.sector_figures()
            return format_table(
                f,
                language=lang,
                title=m("audit.sector_caption", start=s.start_year, end=s.end_year),
                codes={
                    "sector": "ledger_sector",
                    "period": "period",
                    "measure": "measure",
                    "origin": "origin",
                    "flags": "flag",
                },
                digits={"value": 1},
                source=src,
            )
        if name == "partners":
            p = self.panel
            cells = p.assign(
                cell=[
                    float(v)
                    if st == "observed"
                    else (censored_text(b / 1000, 1, lang) if st == "censored" else "?")
                    for v, b, st in zip(p["value"], p["upper_bound"], p["status"], strict=True)
                ]
            )
            # US$ billion, as the chart and the key finding (the CSV keeps US$ million).
            cells["cell"] = [c / 1000 if isinstance(c, float) else c for c in cells["cell"]]
            wide = cells.pivot(index="partner_iso3", columns="year", values="cell")
            wide = wide.reindex([x for x in s.partners if x in wide.index])
            table = format_wide(
                wide,
                language=lang,
                title=m("audit.partner_caption"),
                row_kind="partner",
                digits=1,
                source=src,
            )
            table.data = p
            return table
        if name == "counts":
            c = self.counts()
            c["scope"] = c["scope"].map(lambda x: m(f"audit.scope_{x}"))
            c = c.rename(columns={"identity violations": "violations"})
            return format_table(
                c,
                language=lang,
                title=m("audit.issues_caption"),
                labels={
                    "scope": m("audit.col_scope"),
                    "published": m("audit.col_published"),
                    "derived": m("audit.col_derived"),
                    "conflicts": m("audit.col_conflicts"),
                    "violations": m("audit.col_violations"),
                    "suspect": m("audit.col_suspect"),
                },
            )
        if name == "conflicts":
            c = self.check.conflicts_for(s.sectors, s.start_year, s.end_year)
            return format_table(
                c,
                language=lang,
                title=m("audit.conflicts_caption"),
                codes={
                    "sector": "ledger_sector",
                    "period": "period",
                    "measure": "measure",
                    "partner_iso3": "partner",
                    "rule": "rule",
                },
                columns=[
                    k
                    for k in (
                        "year",
                        "period",
                        "measure",
                        "sector",
                        "partner_iso3",
                        "chosen_published",
                        "rule",
                        "other_values",
                    )
                    if k in c.columns
                ],
                source=src,
            )
        if name == "violations":
            v = self.check.violations_for(s.sectors, s.start_year, s.end_year)
            return format_table(
                v,
                language=lang,
                title=m("audit.violations_caption"),
                columns=[
                    k
                    for k in (
                        "year",
                        "period",
                        "sector",
                        "equation",
                        "lhs",
                        "rhs",
                        "difference",
                        "tolerance",
                        "unit",
                    )
                    if k in v.columns
                ],
                codes={"sector": "ledger_sector", "period": "period"},
                digits={"lhs": 0, "rhs": 0, "difference": 0, "tolerance": 0},
                source=src,
            )
        raise KeyError(f"no table {name!r} in the data audit")

    @property
    def report_name(self) -> str:
        """``00-data-audit--<sector>`` (the folder of its CSV tables outside a batch)."""
        return f"00-data-audit--{self.settings.sector}"

    def title(self):
        """The report's title (first-level heading) naming the sector."""
        from analysis.formatting import heading

        sector = label("sector", self.settings.sector, self.settings.language)
        return heading(self.m("audit.title", sector=sector), level=1)

    def show(self, name: str) -> None:
        """Display one table and write it as CSV for the report."""
        from analysis.formatting import show

        show(self.table(name), name, report=self.report_name)

    def plot_national(self):
        """Stacked full-year PMA and PMDN with the published total (Rp trillion)."""
        from analysis.plots import plot_fy_totals

        s = self.settings
        return plot_fy_totals(self.check.ledger, s.start_year, s.end_year, language=s.language)

    def plot_coverage(self):
        """Heat map of published periods per year and sector."""
        from analysis.plots import plot_coverage

        s = self.settings
        cov = self.check.sector_coverage(s.sectors, s.start_year, s.end_year)
        cov.columns = [label("ledger_sector", c, s.language) for c in cov.columns]
        return plot_coverage(cov, self.m("audit.chart_coverage"), language=s.language)

    def plot_partners(self):
        """PMA by partner over the years, censored partners as bounds (US$ billion)."""
        from analysis.plots import plot_partner_panel

        s = self.settings
        return plot_partner_panel(self.panel, list(s.partners), language=s.language)

    TABLES: tuple[str, ...] = (
        "national",
        "coverage",
        "sector",
        "partners",
        "counts",
        "conflicts",
        "violations",
    )

    def key_findings(self) -> Findings:
        """Three to six sentences computed from the tables, each linked to its section."""
        s, m = self.settings, self.m
        out: list[Finding] = []
        nat = self.national().set_index("year")
        h_nat = m("audit.h_national")
        last = nat.loc[s.end_year] if s.end_year in nat.index else None
        if last is not None and pd.notna(last["total_rp_bn"]):
            share = (
                last["pma_rp_bn"] / last["total_rp_bn"]
                if pd.notna(last["pma_rp_bn"])
                else float("nan")
            )
            out.append(
                Finding(
                    m(
                        "audit.f_total",
                        total=last["total_rp_bn"] / 1000,
                        year=s.end_year,
                        pma_share=share,
                    ),
                    h_nat,
                )
            )
        else:
            out.append(Finding(m("audit.f_total_missing", year=s.end_year), h_nat))
        tot = nat["total_rp_bn"].dropna()
        if len(tot) >= 2:
            first, final = int(tot.index.min()), int(tot.index.max())
            growth = ((tot.loc[final] / tot.loc[first]) ** (1 / (final - first)) - 1) * 100
            out.append(Finding(m("audit.f_growth", start=first, end=final, growth=growth), h_nat))
        figs = self.sector_figures()
        sector_name = label("sector", s.sector, s.language)
        h_sec = m("audit.h_sector")
        if len(figs):
            fy = figs[figs["period"] == "FY"]
            out.append(
                Finding(
                    m(
                        "audit.f_sector",
                        sector=sector_name,
                        n_fy=int((fy["origin"] == "published").sum()),
                        n_derived=int((figs["origin"] == "derived").sum()),
                        start=s.start_year,
                        end=s.end_year,
                    ),
                    h_sec,
                )
            )
        else:
            out.append(
                Finding(
                    m(
                        "audit.f_sector_none",
                        sector=sector_name,
                        start=s.start_year,
                        end=s.end_year,
                    ),
                    h_sec,
                )
            )
        p = self.panel
        listed = p[(p["status"] == "observed") & (p["year"] == p["year"].max())] if len(p) else p
        if len(listed):
            top = listed.loc[listed["value"].idxmax()]
            out.append(
                Finding(
                    m(
                        "audit.f_partner",
                        partner=label("partner", top["partner_iso3"], s.language),
                        year=int(top["year"]),
                        value=float(top["value"]) / 1000,
                        n_censored=int((p["status"] == "censored").sum()),
                    ),
                    m("audit.h_partners"),
                )
            )
        c = self.counts().set_index("scope")
        out.append(
            Finding(
                m(
                    "audit.f_issues",
                    n_conflicts=int(c["conflicts"].sum()),
                    n_violations=int(c["identity violations"].sum()),
                ),
                m("audit.h_issues"),
            )
        )
        return findings_block(out, s.language)

    def to_frame(self) -> pd.DataFrame:
        """The national full-year table (long: year, measure, value, unit, flags)."""
        nat = self.national()
        long = nat.melt(id_vars=["year", "flags"], var_name="measure", value_name="value")
        long["unit"] = long["measure"].map(lambda c: "US$ million" if "usd" in c else "Rp billion")
        return long

    def summary(self) -> Summary:
        """Settings, key findings and the national table, as a plain summary."""
        return Summary(
            title=f"Data audit: {self.settings.sector}",
            settings={**asdict(self.settings), "fingerprint": self.fingerprint},
            tables=[("national", self.table("national").to_frame())],
            notes=[f.text for f in self.key_findings().findings],
        )


def run_audit(settings: AuditSettings, ledger: Ledger) -> AuditResult:
    """Build the audit of one sector and window from a ledger."""
    panel = ledger.partner_panel(list(settings.partners), periods=["FY"])
    panel = panel[panel["year"].between(settings.start_year, settings.end_year)]
    fingerprint = hashlib.sha256(
        json.dumps(
            {"data": ledger.fingerprint, "settings": asdict(settings)}, sort_keys=True
        ).encode()
    ).hexdigest()[:16]
    return AuditResult(settings, check_data(ledger), fingerprint, panel.reset_index(drop=True))
