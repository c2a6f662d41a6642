"""Study of report 00 (data audit) and ``mitra data check``: the ledger and partner panel audited.

Two views of one audit. :func:`run_audit_report` gives report 00 for one sector and window
(:class:`AuditReport`): its tables formatted for readers in English or Bahasa Indonesia
(:mod:`analysis.present.formatting`), key findings computed from them and linked to their sections,
and the charts. The rest of this docstring is about the data check of the whole ledger.

:func:`run_audit` turns a ledger (and the partner panel) into a :class:`DataAudit`: the tables
of :class:`analysis.data.check.DataCheck`, their printable :meth:`DataAudit.summary`, a few
computed :meth:`DataAudit.key_findings`, and :meth:`DataAudit.write`, which writes every
table as CSV (text cells neutralised against spreadsheet formulas), ``summary.md`` and
``manifest.json`` atomically under ``reports/data-check/``. The data layer computes; this
module presents and writes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.base import paths
from analysis.base.environment import environment_record
from analysis.base.i18n import label, messages
from analysis.base.io import atomic_dir, write_json
from analysis.base.summary import Summary
from analysis.config import declared
from analysis.data.check import (
    CONFLICT_COLUMNS,
    KEY_PARTNER_INDICATORS,
    SHOWN_INSTRUMENT_PARTNERS,
    VIOLATION_COLUMNS,
    DataCheck,
    _fmt,
    check_data,
)
from analysis.data.ledger import Ledger
from analysis.data.panel import CANDIDATES, PartnerPanel
from analysis.data.provenance import data_fingerprint
from analysis.present.formatting import (
    Finding,
    Findings,
    Table,
    censored_text,
    findings_block,
    format_table,
    format_wide,
)
from analysis.present.tables import neutralise

__all__ = [
    "AuditReport",
    "AuditSettings",
    "DataAudit",
    "run",
    "run_audit",
    "run_audit_report",
    "settings",
]


@dataclass
class DataAudit:
    """The data audit: every table of the data check, with settings and fingerprint.

    Attributes
    ----------
    check
        The computed tables (:class:`analysis.data.check.DataCheck`).
    """

    check: DataCheck

    @property
    def ledger(self) -> Ledger:
        return self.check.ledger

    @property
    def panel(self) -> PartnerPanel | None:
        return self.check.panel

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return self.check.tables

    @property
    def settings(self) -> dict[str, object]:
        """The ledger settings (the panel has its own in ``panel.settings``)."""
        return asdict(self.ledger.settings)

    @property
    def fingerprint(self) -> str:
        """Data fingerprint of the ledger and, if present, the partner panel."""
        parts = {"ledger": self.ledger.fingerprint}
        if self.panel is not None:
            parts["partner_panel"] = self.panel.fingerprint
        return data_fingerprint(parts)

    def table(self, name: str) -> pd.DataFrame:
        """Return one table by name (``fy_totals``, ``partner_coverage``, ...)."""
        if name not in self.tables:
            raise KeyError(f"no table {name!r}; tables: {', '.join(sorted(self.tables))}")
        return self.tables[name]

    def to_frame(self) -> pd.DataFrame:
        """Return the ledger's observations (the audit's main long table)."""
        return self.tables["observations"]

    def key_findings(self) -> list[str]:
        """Return 3-6 sentences computed from the tables (no hand-typed numbers)."""
        t = self.tables
        L = self.ledger
        out = [
            f"{len(L.candidates):,} published rows become {len(L.observations):,} ledger "
            f"observations ({len(t['derived']):,} derived); {len(t['conflicts'])} cells have "
            f"conflicting sources and {len(t['identity_violations'])} identity checks fail.",
        ]
        fy = t["fy_totals"].dropna(subset=["total_rp_bn"])
        if len(fy):
            last = fy.iloc[-1]
            out.append(
                f"Full-year realised investment {int(last['year'])}: Rp "
                f"{last['total_rp_bn'] / 1000:,.1f} trillion, of which PMA US$ "
                f"{last['pma_usd_m'] / 1000:,.1f} billion."
            )
        if "partner_coverage" in t:
            cov = t["partner_coverage"]
            year = max(y for y in cov.columns if y != "unit" and cov.loc["gdp_usd", y] > 0)
            out.append(
                f"Partner panel: GDP covers {cov.loc['gdp_usd', year]} of "
                f"{len(CANDIDATES)} candidates in {year}, goods exports "
                f"{cov.loc['exports_goods_usd', year]}, FDI outflows "
                f"{cov.loc['fdi_outflow_usd', year]}."
            )
            conv = t["partner_conversions"]
            n_cur = int((conv["kind"] == "currency").sum()) if len(conv) else 0
            out.append(
                f"{n_cur} compiled values were converted from national currency to US$ at the "
                f"year's official average rate; {len(t['partner_excluded'])} rows without a "
                "rate are left out and listed."
            )
            agree = t["agreements_in_force"]
            year = int(agree["year"].max())
            now = agree[(agree["year"] == year) & (agree["in_force"] == "yes")]
            n = now[now["kind"] == "trade_agreement"]["iso3"].nunique()
            n_bit = now[now["kind"] == "investment_treaty"]["iso3"].nunique()
            unknown = int((agree["in_force"] == "unknown").sum())
            out.append(
                f"{n} of {len(CANDIDATES)} candidates have a trade agreement with Indonesia "
                f"in force on 1 July {year}, {n_bit} an investment treaty; {unknown} "
                "candidate x year x instrument rows have an unknown status (no date in the "
                "sources), counted as unknown, never as 'not in force'."
            )
        return [" ".join(self.check.as_of_notes()), *out]

    def _partner_summary(self) -> list[tuple[str, pd.DataFrame]]:
        t = self.tables
        if "partner_coverage" not in t:
            return []
        cov = t["partner_coverage"]
        cov = cov.loc[[c for c in KEY_PARTNER_INDICATORS if c in cov.index]]
        cov = cov[["unit", *[y for y in range(2015, 2025) if y in cov.columns]]]
        conf = t["partner_conflicts"]
        by_rule = (
            conf[conf["kept"]].groupby(["indicator", "rule"]).size().unstack(fill_value=0)
            if len(conf)
            else pd.DataFrame()
        )
        conv = t["partner_conversions"]
        currency = (
            conv[conv["kind"] == "currency"][
                ["iso3", "year", "indicator", "value_published", "unit_published",
                 "rate_per_usd", "value", "kept"]
            ]
            if len(conv)
            else conv
        )  # fmt: skip
        agree = t["agreements_in_force"]
        year = int(agree["year"].max())
        kind_short = {"trade_agreement": "", "investment_treaty": "[BIT] ", "tax_treaty": "[tax] "}
        now = agree[(agree["year"] == year) & (agree["in_force"] == "yes")]
        in_year = (
            now.assign(name=now["kind"].map(kind_short) + now["agreement"])
            .groupby("iso3")["name"]
            .apply(lambda a: "; ".join(sorted(a)))
            .reindex(list(CANDIDATES), fill_value="-")
            .to_frame(f"instruments in force on 1 July {year} ([BIT] investment, [tax] tax)")
        )
        shown = t["instruments_as_of"]
        shown = shown[shown["iso3"].isin(SHOWN_INSTRUMENT_PARTNERS)][
            ["iso3", "kind", "agreement", "status", "in_force_from"]
        ]
        return [
            (
                "Partner panel: candidates with a value (of 40), key indicators "
                "(all in partner_coverage.csv)",
                cov,
            ),
            ("Partner panel: disputed cells by indicator and deciding rule", by_rule),
            (
                "Partner panel: values converted from national currency (US$ billion at "
                "the year's official average rate)",
                currency,
            ),
            ("Partner panel: vintages", t["partner_vintages"]),
            ("Partner panel: published rows left out (and why)", t["partner_excluded"]),
            (f"Agreements and treaties with Indonesia in force in {year}", in_year),
            (
                "Agreements and treaties by kind and status, candidates x years "
                f"{min(agree['year'])}-{year} (unknown = no date in the sources)",
                t["instrument_status_counts"],
            ),
            (
                f"Hong Kong, Japan and Singapore: every instrument on {self.check.as_of_date} "
                "(all candidates in instruments_as_of.csv)",
                shown.reset_index(drop=True),
            ),
            (
                "Agreement rows replaced by later files (corrections win)",
                t["agreements_replaced"][
                    [
                        "bloc",
                        "in_force_for_indonesia",
                        "line",
                        "new_in_force_for_indonesia",
                        "replaced_by",
                    ]
                ],
            ),
        ]

    def summary(self) -> Summary:
        """The printable report (the same content as ``summary.md``)."""
        t = self.tables
        short = lambda df, cols: df[[c for c in cols if c in df.columns]]  # noqa: E731
        derived = t["derived"]
        return Summary(
            title="Mitra data check: investment ledger",
            settings={**asdict(self.ledger.settings), "data fingerprint": self.ledger.fingerprint},
            tables=[
                (
                    f"Data as of (releases due by {self.check.as_of_date}; missing ones are "
                    "listed below)",
                    t["releases"].tail(8),
                ),
                ("Releases due but missing from the ledger", t["missing_releases"]),
                (
                    "Full-year national realisation 2015-2025 (PMA US$ million; Rp billion)",
                    t["fy_totals"].assign(
                        **{
                            c: t["fy_totals"][c].map(_fmt)
                            for c in ("pma_usd_m", "pma_rp_bn", "pmdn_rp_bn", "total_rp_bn")
                        }
                    ),
                ),
                ("Coverage: year x measure (national; * = derived)", t["coverage_year_measure"]),
                ("Coverage: year x sector (national; * = derived)", t["coverage_year_sector"]),
                (
                    "Coverage: year x partner (PMA by country of origin)",
                    t["coverage_year_partner"],
                ),
                (
                    "Chemical & pharmaceutical industry (BKPM publishes one combined sector)",
                    t["chem_pharma"].assign(value=t["chem_pharma"]["value"].map(_fmt)),
                ),
                (
                    "Top partners, full-year PMA (US$ million; <x = not in the top-N list, "
                    "so below x; ? = no list)",
                    t["partner_panel_fy"],
                ),
                (
                    "Conflicts (one cell, different published values)",
                    short(t["conflicts"], CONFLICT_COLUMNS),
                ),
                (
                    "Identity violations (beyond rounding and exchange-rate tolerance)",
                    short(t["identity_violations"], VIOLATION_COLUMNS),
                ),
                (
                    f"Derived values ({len(derived)}; flagged 'derived', never published)",
                    short(
                        derived,
                        [
                            "year",
                            "period",
                            "measure",
                            "sector",
                            "region",
                            "partner_iso3",
                            "value",
                            "unit",
                            "derived_from",
                            "flags",
                        ],
                    ),
                ),
                (
                    "PMA by partner x sector: rows by sector and kind (never sum across kinds; "
                    "all rows in partner_sector.csv)",
                    t["partner_sector_counts"],
                ),
                (
                    "PMA by partner x sector: realised figures and sector totals",
                    short(
                        t["partner_sector"][
                            t["partner_sector"]["kind"].isin(["realised", "sector_total"])
                        ],
                        [
                            "year",
                            "period",
                            "partner_iso3",
                            "sector",
                            "value",
                            "unit",
                            "value_usd_m",
                            "kind",
                            "flags",
                        ],
                    ),
                ),
                (
                    "Major projects per sector and status (all in projects.csv; not BKPM "
                    "realisation)",
                    t["projects_by_sector"],
                ),
                (
                    "Investment targets (preferred version per year; every version in "
                    "targets_all.csv)",
                    short(
                        t["targets_all"][t["targets_all"]["preferred"]],
                        [
                            "year",
                            "year_first",
                            "measure",
                            "kind",
                            "value",
                            "unit",
                            "rule",
                            "published",
                        ],
                    ),
                ),
                *self._partner_summary(),
            ],
            notes=[
                *self.check.as_of_notes(),
                f"{len(self.ledger.candidates)} raw rows -> {len(self.ledger.observations)} "
                f"observations ({len(derived)} derived); {len(t['conflicts'])} conflicts; "
                f"{len(t['identity_violations'])} identity violations.",
                "Conflict rule, identities and censoring: see data/README.md.",
                "Every observation lists its sources (observations.csv, column 'sources').",
            ],
        )

    def write(self, out: str | Path | None = None) -> Path:
        """Write CSV tables, ``summary.md`` and ``manifest.json`` atomically; return the folder."""
        out = Path(out) if out is not None else paths.REPORTS / "data-check"
        with atomic_dir(out) as tmp:
            for name, table in self.tables.items():
                index = name.startswith("coverage") or name in (
                    "partner_panel_fy",
                    "partner_coverage",
                    "partner_sector_counts",
                    "projects_by_sector",
                    "instrument_status_counts",
                )
                safe = table.copy()
                for col in safe.columns:
                    if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
                        safe[col] = safe[col].map(neutralise)
                safe.to_csv(tmp / f"{name}.csv", index=index, lineterminator="\n")
            (tmp / "summary.md").write_text(self.summary().as_markdown())
            write_json(
                tmp / "manifest.json",
                {
                    "report": "data-check",
                    "settings": asdict(self.ledger.settings),
                    "data_hashes": self.ledger.hashes,
                    "data_fingerprint": self.ledger.fingerprint,
                    "partner_panel_fingerprint": self.panel.fingerprint if self.panel else None,
                    "as_of": self.check.as_of_date.isoformat(),
                    "latest_release": (
                        rel.to_dict() if (rel := self.ledger.latest_release()) else None
                    ),
                    "missing_releases": [
                        f"{p} {y}"
                        for y, p in self.tables["missing_releases"][["year", "period"]].itertuples(
                            index=False
                        )
                    ],
                    "environment": environment_record(),
                    "tables": sorted(f"{n}.csv" for n in self.tables),
                },
            )
        return out


def run_audit(
    ledger: Ledger, panel: PartnerPanel | None = None, as_of: dt.date | None = None
) -> DataAudit:
    """Audit a ledger (and the partner panel): compute every table of the data check.

    ``as_of`` (default today) is the date against which missing BKPM releases are named.
    """
    return DataAudit(DataCheck(ledger, panel=panel, as_of=as_of).build())


@dataclass(frozen=True)
class AuditSettings:
    """Which sector, years and partners the audit covers, and in which language."""

    sector: str
    sectors: tuple[str, ...]  # ledger sectors the report sector draws on
    start_year: int = declared("start_year")
    end_year: int = declared("end_year")
    partners: tuple[str, ...] = ()
    language: str = declared("language")


@dataclass
class AuditReport:
    """Report 00 for one sector and window: its tables for readers and its key findings."""

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
        from analysis.present.formatting import heading

        sector = label("sector", self.settings.sector, self.settings.language)
        return heading(self.m("audit.title", sector=sector), level=1)

    def show(self, name: str) -> None:
        """Display one table and write it as CSV for the report."""
        from analysis.present.formatting import show

        show(self.table(name), name, report=self.report_name)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The report's tables as numbers: ``national``, ``sector``, ``counts``."""
        return {
            "national": self.national(),
            "sector": self.sector_figures(),
            "counts": self.counts(),
        }

    def write_tables(self, report: str = "00-data-audit") -> dict[str, Path]:
        """Write every table of :meth:`tables` as CSV; return ``{name: path}``."""
        from analysis.present.tables import write_table

        return {name: write_table(t, name, report=report) for name, t in self.tables().items()}

    def figures(self) -> dict[str, object]:
        """The report's figures by name (drawn by :mod:`analysis.present.plots`)."""
        return {
            "national": self.plot_national(),
            "coverage": self.plot_coverage(),
            "partners": self.plot_partners(),
        }

    def plot_national(self):
        """Stacked full-year PMA and PMDN with the published total (Rp trillion)."""
        from analysis.present.plots import plot_fy_totals

        s = self.settings
        return plot_fy_totals(self.check.ledger, s.start_year, s.end_year, language=s.language)

    def plot_coverage(self):
        """Heat map of published periods per year and sector."""
        from analysis.present.plots import plot_coverage

        s = self.settings
        cov = self.check.sector_coverage(s.sectors, s.start_year, s.end_year)
        cov.columns = [label("ledger_sector", c, s.language) for c in cov.columns]
        return plot_coverage(cov, self.m("audit.chart_coverage"), language=s.language)

    def plot_partners(self):
        """PMA by partner over the years, censored partners as bounds (US$ billion)."""
        from analysis.present.plots import plot_partner_panel

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
            # Count series-years, not table cells: a year counts once when any of the
            # report's ledger sectors has a published full-year figure (any measure).
            fy = figs[(figs["period"] == "FY") & (figs["origin"] == "published")]
            series = []
            for code in s.sectors:
                years = sorted(int(y) for y in fy.loc[fy["sector"] == code, "year"].unique())
                if years:
                    series.append(f"{label('ledger_sector', code, s.language)}: {_spans(years)}")
            text = m(
                "audit_sector.f_sector_years",
                sector=sector_name,
                start=s.start_year,
                end=s.end_year,
                n_years=int(fy["year"].nunique()),
                window=m.plural("plural.years", s.end_year - s.start_year + 1),
                series="; ".join(series) or "-",
                derived=m.plural(
                    "plural.further_figures", int((figs["origin"] == "derived").sum())
                ),
            )
            if s.sector == "pharma":
                text += " " + m("audit_sector.note_pharma")
            out.append(Finding(text, h_sec))
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
                    conflicts=m.plural("plural.conflicts", int(c["conflicts"].sum())),
                    violations=m.plural(
                        "plural.identity_violations", int(c["identity violations"].sum())
                    ),
                ),
                m("audit.h_issues"),
            )
        )
        from analysis.data.releases import as_of_sentence

        as_of = as_of_sentence(self.check.ledger, s.language)
        if as_of and len(out) < 6:
            out.append(Finding(as_of, h_nat))
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


def settings(params) -> AuditSettings:
    """The study's settings from the params' ``audit`` group (the one place it is read).

    The exchange-rate basis is the ledger's (``params.ledger``, see
    :func:`analysis.studies.inputs.inputs`).
    """
    from analysis.base.vocab import SECTOR_FOCUS

    g = params.audit
    return AuditSettings(
        sector=g.sector,
        sectors=tuple(SECTOR_FOCUS[g.sector]),
        start_year=g.start_year,
        end_year=g.end_year,
        partners=tuple(g.partners),
        language=g.language,
    )


def run(settings: AuditSettings, inputs=None) -> AuditReport:
    """Run the study on the shared inputs (:func:`analysis.studies.inputs.inputs`)."""
    if inputs is None:
        from analysis.studies.inputs import inputs as shared

        inputs = shared()
    return run_audit_report(settings, inputs.ledger)


def _spans(years: list[int]) -> str:
    """``[2015, 2016, 2017, 2019]`` -> ``2015-2017, 2019``."""
    out: list[str] = []
    start = prev = years[0]
    for y in [*years[1:], None]:
        if y is not None and y == prev + 1:
            prev = y
            continue
        out.append(f"{start}-{prev}" if prev != start else f"{start}")
        if y is not None:
            start = prev = y
    return ", ".join(out)


def run_audit_report(settings: AuditSettings, ledger: Ledger) -> AuditReport:
    """Build the audit of one sector and window from a ledger."""
    panel = ledger.partner_panel(list(settings.partners), periods=["FY"])
    panel = panel[panel["year"].between(settings.start_year, settings.end_year)]
    fingerprint = hashlib.sha256(
        json.dumps(
            {"data": ledger.fingerprint, "settings": asdict(settings)}, sort_keys=True
        ).encode()
    ).hexdigest()[:16]
    return AuditReport(settings, check_data(ledger), fingerprint, panel.reset_index(drop=True))
