"""The data-quality check: coverage, conflicts, identities, derivations and censoring.

:func:`check_data` returns a :class:`DataCheck` whose tables are what ``mitra data check``
prints and writes; printing and writing belong to the output layer
(:mod:`analysis.studies.audit`), so this module imports nothing from it. Given the partner panel it
adds the partner section: every candidate's indicator values (``partner_indicators.csv``),
coverage per indicator x year (``partner_coverage.csv``), conflicts, conversions, vintages,
excluded rows, and the agreements in force per candidate x year
(``agreements_in_force.csv``: trade agreements, investment treaties and tax treaties, each
with its ``kind`` and ``status``; ``in_force`` is ``yes``, ``no`` or ``unknown``).

It also states the data's "as of" (the ledger's latest BKPM release and its publication
date) and the releases due by ``as_of`` that are missing (:mod:`analysis.data.releases`),
and lists the partner x sector rows, the projects per sector, the targets and the agreement
rows replaced by later files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.data.agreements import instruments_of, instruments_table, replaced_rows
from analysis.data.ledger import Ledger
from analysis.data.panel import CANDIDATES, PartnerPanel
from analysis.data.sectors import FIRST_CLASS

__all__ = ["DataCheck", "check_data"]

#: Years of the headline full-year table.
FY_YEARS = range(2015, 2026)
#: Partners whose instruments the data check prints in full (issue 18: Hong Kong, Japan,
#: Singapore); every candidate is in ``instruments_as_of.csv``.
SHOWN_INSTRUMENT_PARTNERS = ("HKG", "JPN", "SGP")
_CELL = ["year", "period", "measure", "sector", "region", "partner_iso3"]
#: Columns shown for conflicts and identity violations (report, notebook, CSV views).
CONFLICT_COLUMNS = [*_CELL, "chosen_published", "rule", "other_values"]
VIOLATION_COLUMNS = [*_CELL, "equation", "lhs", "rhs", "difference", "tolerance", "unit"]
#: Years of the partner coverage and agreements tables.
PARTNER_YEARS = range(2010, 2026)
#: Indicators shown in the printed partner coverage (all are in partner_coverage.csv).
KEY_PARTNER_INDICATORS = (
    "gdp_usd",
    "gdp_growth_pct",
    "exports_goods_usd",
    "fdi_outflow_usd",
    "ofdi_stock_usd",
    "ofdi_flow_usd",
    "exports_textiles_usd",
    "exports_clothing_usd",
    "exports_chemicals_usd",
    "exports_pharma_usd",
)


def _fmt(value: float, digits: int = 1) -> str:
    return (
        ""
        if value is None or (isinstance(value, float) and np.isnan(value))
        else (f"{value:,.{digits}f}")
    )


@dataclass
class DataCheck:
    """Tables of the data-quality report, built from one ledger (and the partner panel)."""

    ledger: Ledger
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    panel: PartnerPanel | None = None
    as_of: dt.date | None = None

    # -- as of -------------------------------------------------------------------------

    @property
    def as_of_date(self) -> dt.date:
        """The date the check is made for (default today)."""
        return self.as_of or dt.date.today()

    def release_tables(self) -> dict[str, pd.DataFrame]:
        """Releases in the ledger (with the date each was due) and releases missing."""
        from analysis.data.releases import missing_releases, release_due, released_periods

        rel = released_periods(self.ledger)
        if len(rel):
            rel["due_by"] = [
                release_due(int(y), str(p)).isoformat()
                for y, p in zip(rel["year"], rel["period"], strict=True)
            ]
        missing = pd.DataFrame(
            [
                {"year": y, "period": p, "due_by": release_due(y, p).isoformat()}
                for y, p in missing_releases(self.ledger, self.as_of_date)
            ],
            columns=["year", "period", "due_by"],
        )
        return {"releases": rel, "missing_releases": missing}

    def as_of_notes(self, language: str = "en") -> list[str]:
        """The "as of" sentence and the missing-release warning."""
        from analysis.data.releases import as_of_sentence, missing_sentence

        return [
            as_of_sentence(self.ledger, language),
            missing_sentence(self.ledger, self.as_of_date, language),
        ]

    # -- partner x sector, projects, targets ----------------------------------------------

    def sector_evidence(self) -> dict[str, pd.DataFrame]:
        """Partner x sector rows, projects per sector, targets, each with counts."""
        from analysis.data.projects import PROJECT_STATUSES, load_projects
        from analysis.data.sector_pma import PARTNER_SECTOR_KINDS
        from analysis.data.targets import load_targets

        ps = self.ledger.partner_sector()
        ps_counts = (
            ps.groupby(["sector", "kind"]).size().unstack(fill_value=0)
            .reindex(columns=list(PARTNER_SECTOR_KINDS), fill_value=0)
        )  # fmt: skip
        projects = load_projects(self.ledger.root)
        by_sector = (
            projects.groupby(["sector", "status"]).size().unstack(fill_value=0)
            .reindex(columns=list(PROJECT_STATUSES), fill_value=0)
        )  # fmt: skip
        by_sector["total"] = by_sector.sum(axis=1)
        usd = projects.groupby("sector")["amount_usd_m"].sum(min_count=1)
        by_sector["amount_usd_m (where stated)"] = usd.reindex(by_sector.index).round(0)
        return {
            "partner_sector": ps,
            "partner_sector_counts": ps_counts,
            "projects": projects,
            "projects_by_sector": by_sector,
            "targets_all": load_targets(self.ledger.root),
        }

    # -- partner section ---------------------------------------------------------------

    def partner_tables(self) -> dict[str, pd.DataFrame]:
        """The partner panel's tables for the 40 candidates (empty without a panel)."""
        if self.panel is None:
            return {}
        p = self.panel
        cand = list(CANDIDATES)
        frame = p.frame[p.frame["iso3"].isin(cand)]
        indicators = frame.sort_values(["iso3", "indicator", "year"])[
            ["iso3", "indicator", "year", "value", "unit", "source", "vintage", "flags"]
        ].reset_index(drop=True)
        coverage = p.coverage(iso3=cand, years=PARTNER_YEARS)
        coverage.insert(0, "unit", coverage.index.map(p.catalogue.set_index("code")["unit"]))
        coverage.index.name = "indicator"
        conflicts = p.conflicts[p.conflicts["iso3"].isin(cand)].reset_index(drop=True)
        conversions = (
            p.conversions[p.conversions["iso3"].isin(cand)].reset_index(drop=True)
            if len(p.conversions)
            else p.conversions
        )
        vintages = (
            frame.assign(vintage=frame["vintage"].replace("", "not recorded"))
            .groupby(["indicator", "vintage"])
            .agg(
                cells=("value", "size"),
                economies=("iso3", "nunique"),
                first_year=("year", "min"),
                last_year=("year", "max"),
            )
            .reset_index()
        )
        inst = instruments_table(cand, PARTNER_YEARS, self.ledger.root)
        agreements = inst.assign(
            in_force=inst["status"].map(
                {"in_force": "yes", "not_in_force": "no", "unknown": "unknown", "": "no"}
            )
        )[["iso3", "year", "kind", "agreement", "in_force", "status", "in_force_from", "flags"]]
        listed = inst[inst["kind"] != ""]
        status_counts = (
            listed.groupby(["kind", "status"]).size().unstack(fill_value=0)
            .reindex(columns=["in_force", "not_in_force", "unknown"], fill_value=0)
        )  # fmt: skip
        status_counts["unknown_share"] = (
            status_counts["unknown"] / status_counts.sum(axis=1)
        ).round(3)
        day = self.as_of_date
        as_of_rows = []
        by_partner = instruments_of(cand, day, self.ledger.root)  # sources read once
        for code in cand:
            for i in by_partner[code]:
                as_of_rows.append(
                    {
                        "iso3": code,
                        "kind": i.kind,
                        "agreement": i.name,
                        "status": i.status,
                        "in_force_from": i.in_force_from,
                        "flags": ";".join(i.flags),
                        "line": i.line,
                    }
                )
        return {
            "partner_indicators": indicators,
            "partner_coverage": coverage,
            "partner_conflicts": conflicts,
            "partner_conversions": conversions,
            "partner_vintages": vintages,
            "partner_excluded": p.excluded,
            "agreements_in_force": agreements,
            "instrument_status_counts": status_counts,
            "instruments_as_of": pd.DataFrame(
                as_of_rows,
                columns=["iso3", "kind", "agreement", "status", "in_force_from", "flags", "line"],
            ),
            "agreements_replaced": replaced_rows(self.ledger.root),
        }

    def fy_totals(self, years: range = FY_YEARS) -> pd.DataFrame:
        """Full-year national realisation (default 2015-2025): PMA, PMDN and total, with flags."""
        rows = []
        for year in years:
            row: dict[str, object] = {"year": year}
            for m in ("pma", "pmdn", "total"):
                obs = self.ledger.select(
                    measure=m,
                    sector="all",
                    partner_iso3="WLD",
                    region="IDN",
                    period="FY",
                    concept="realisation",
                    year=year,
                )
                if obs.empty:
                    row[f"{m}_rp_bn"] = np.nan
                    row[f"{m}_flags"] = "missing"
                    continue
                o = obs.iloc[0]
                row[f"{m}_rp_bn"] = o["value_idr_bn"]
                if m == "pma":
                    row["pma_usd_m"] = o["value"]
                row[f"{m}_flags"] = o["flags"]
            rows.append(row)
        cols = [
            "year",
            "pma_usd_m",
            "pma_rp_bn",
            "pmdn_rp_bn",
            "total_rp_bn",
            "pma_flags",
            "pmdn_flags",
            "total_flags",
        ]
        return pd.DataFrame(rows).reindex(columns=cols)

    def sector_series(self, sector: str = "chem_pharma") -> pd.DataFrame:
        """Every national observation of one sector, in time order."""
        obs = self.ledger.select(sector=sector, region="IDN", partner_iso3="WLD")
        order = {p: i for i, p in enumerate(["Q1", "Q2", "H1", "Q3", "9M", "Q4", "FY", "YTD"])}
        obs = obs.assign(_o=obs["period"].map(order).fillna(99)).sort_values(
            ["year", "_o", "measure"]
        )
        return obs[
            [
                "year",
                "period",
                "measure",
                "value",
                "unit",
                "value_published",
                "unit_published",
                "origin",
                "n_sources",
                "flags",
                "concept",
            ]
        ].reset_index(drop=True)

    def partner_fy_panel(self) -> pd.DataFrame:
        """Full-year PMA by top partner (US$ million); ``<x`` marks a censored partner."""
        panel = self.ledger.partner_panel(periods=["FY"])
        if panel.empty:
            return panel
        out = self.partner_table(panel)
        first = panel[panel["status"] == "observed"].groupby("partner_iso3")["value"].max()
        return out.loc[first.sort_values(ascending=False).index]

    # -- views for one report (sector focus and year window) ---------------------------

    def national_table(self, start: int, end: int) -> pd.DataFrame:
        """Full-year national PMA, PMDN and total for ``start``-``end``, formatted."""
        fy = self.fy_totals(range(start, end + 1))
        out = fy[["year"]].copy()
        out["PMA US$ m"] = fy["pma_usd_m"].map(_fmt)
        out["PMA Rp bn"] = fy["pma_rp_bn"].map(_fmt)
        out["PMDN Rp bn"] = fy["pmdn_rp_bn"].map(_fmt)
        out["total Rp bn"] = fy["total_rp_bn"].map(_fmt)
        out["flags"] = [
            "; ".join(
                sorted(
                    {
                        f
                        for col in ("pma_flags", "pmdn_flags", "total_flags")
                        for f in str(r[col]).split(";")
                        if f and f != "nan"
                    }
                )
            )
            for _, r in fy.iterrows()
        ]
        return out

    def sector_coverage(self, sectors: tuple[str, ...], start: int, end: int) -> pd.DataFrame:
        """Published periods per year and sector (``*`` = derived), national, realisation."""
        cov = self.ledger.coverage(
            "year",
            "sector",
            region="IDN",
            partner_iso3="WLD",
            concept="realisation",
            sector=list(sectors),
        )
        if cov.empty:
            return cov
        return cov.reindex(
            index=list(range(start, end + 1)),
            columns=[s for s in sectors if s in cov.columns],
            fill_value="",
        ).fillna("")

    def sector_table(self, sectors: tuple[str, ...], start: int, end: int) -> pd.DataFrame:
        """Every national observation of the report's sectors in the window, formatted."""
        frames = [self.sector_series(s).assign(sector=s) for s in sectors]
        obs = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if obs.empty:
            return obs
        obs = obs[(obs["year"] >= start) & (obs["year"] <= end)]
        return pd.DataFrame(
            {
                "sector": obs["sector"],
                "year": obs["year"],
                "period": obs["period"],
                "measure": obs["measure"],
                "value": obs["value"].map(_fmt),
                "unit": obs["unit"],
                "origin": obs["origin"],
                "sources": obs["n_sources"],
                "flags": obs["flags"],
            }
        ).reset_index(drop=True)

    @staticmethod
    def partner_table(panel: pd.DataFrame) -> pd.DataFrame:
        """Pivot a partner panel: values, ``<bound`` when censored, ``?`` when unknown."""
        if panel.empty:
            return panel
        text = np.where(
            panel["status"] == "observed",
            panel["value"].map(_fmt),
            np.where(panel["status"] == "censored", "<" + panel["upper_bound"].map(_fmt), "?"),
        )
        return panel.assign(cell=text).pivot(index="partner_iso3", columns="year", values="cell")

    def _focus(
        self, frame: pd.DataFrame, sectors: tuple[str, ...], start: int, end: int
    ) -> pd.DataFrame:
        if frame.empty:
            return frame
        keep = frame["sector"].isin(["all", *sectors]) & frame["year"].between(start, end)
        return frame[keep].reset_index(drop=True)

    def conflicts_for(self, sectors: tuple[str, ...], start: int, end: int) -> pd.DataFrame:
        """Conflicts in national or the report's sectors' cells, within the window."""
        c = self._focus(self.ledger.conflicts, sectors, start, end)
        return c[[k for k in CONFLICT_COLUMNS if k in c.columns]]

    def violations_for(self, sectors: tuple[str, ...], start: int, end: int) -> pd.DataFrame:
        """Identity violations in national or the report's sectors' cells."""
        v = self._focus(self.ledger.violations, sectors, start, end)
        return v[[k for k in VIOLATION_COLUMNS if k in v.columns]]

    def issue_counts(self, sectors: tuple[str, ...], start: int, end: int) -> pd.DataFrame:
        """Counts of observations, derived values, conflicts and violations by scope."""
        obs = self._focus(self.ledger.observations, sectors, start, end)
        obs = obs[(obs["region"] == "IDN") & (obs["partner_iso3"] == "WLD")]
        rows = []
        for scope, sel in (("national", ["all"]), ("sector", list(sectors))):
            o = obs[obs["sector"].isin(sel)]
            c = self.conflicts_for(sectors, start, end)
            v = self.violations_for(sectors, start, end)
            rows.append(
                {
                    "scope": scope,
                    "published": int((o["origin"] == "published").sum()),
                    "derived": int((o["origin"] == "derived").sum()),
                    "conflicts": int(c["sector"].isin(sel).sum()) if len(c) else 0,
                    "identity violations": int(v["sector"].isin(sel).sum()) if len(v) else 0,
                    "suspect": int(o["flags"].str.contains("suspect").sum()),
                }
            )
        return pd.DataFrame(rows).set_index("scope")

    def build(self) -> DataCheck:
        """Compute every table of the report."""
        L = self.ledger
        nat = dict(sector="all", region="IDN", partner_iso3="WLD", concept="realisation")
        self.tables = {
            "fy_totals": self.fy_totals(),
            "coverage_year_measure": L.coverage("year", "measure", **nat),
            "coverage_year_sector": L.coverage(
                "year",
                "sector",
                region="IDN",
                partner_iso3="WLD",
                concept="realisation",
                sector=[
                    *FIRST_CLASS,
                    "manufacturing",
                    "textile_apparel",
                    "textile_apparel_footwear",
                    "chemical",
                ],
            ),
            "coverage_year_partner": L.coverage("year", "partner_iso3", dataset="country"),
            "chem_pharma": self.sector_series("chem_pharma"),
            "partner_panel_fy": self.partner_fy_panel(),
            "partner_panel": L.partner_panel(),
            "conflicts": L.conflicts,
            "identity_violations": L.violations,
            "identities": L.identities,
            "derived": L.derived,
            "censoring": L.censoring,
            "fx_rates": L.fx.to_frame(),
            "targets": L.targets[
                [
                    "year",
                    "period",
                    "measure",
                    "value",
                    "unit",
                    "value_published",
                    "unit_published",
                    "source",
                    "note",
                ]
            ]
            if len(L.targets)
            else pd.DataFrame(),
            "observations": L.to_frame(),
            **self.release_tables(),
            **self.sector_evidence(),
            **self.partner_tables(),
        }
        return self


def check_data(
    ledger: Ledger, panel: PartnerPanel | None = None, as_of: dt.date | None = None
) -> DataCheck:
    """Build the data-quality report of a ledger and, if given, the partner panel.

    ``as_of`` (default today) is the date against which missing releases are reported.
    """
    return DataCheck(ledger, panel=panel, as_of=as_of).build()
