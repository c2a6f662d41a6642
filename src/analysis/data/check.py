"""The data-quality check: coverage, conflicts, identities, derivations and censoring.

:func:`check_data` returns a :class:`DataCheck` whose tables are what ``mitra data check``
prints and writes (CSV + Markdown) under ``reports/data-check/``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import paths
from analysis.data.ledger import Ledger
from analysis.data.sectors import FIRST_CLASS
from analysis.reports import atomic_dir, environment_record, write_json
from analysis.summary import Summary

__all__ = ["DataCheck", "check_data"]

#: Years of the headline full-year table.
FY_YEARS = range(2015, 2025)
_CELL = ["year", "period", "measure", "sector", "region", "partner_iso3"]
#: Columns shown for conflicts and identity violations (report, notebook, CSV views).
CONFLICT_COLUMNS = [*_CELL, "chosen_published", "rule", "other_values"]
VIOLATION_COLUMNS = [*_CELL, "equation", "lhs", "rhs", "difference", "tolerance", "unit"]


def _fmt(value: float, digits: int = 1) -> str:
    return (
        ""
        if value is None or (isinstance(value, float) and np.isnan(value))
        else (f"{value:,.{digits}f}")
    )


@dataclass
class DataCheck:
    """Tables of the data-quality report, built from one ledger."""

    ledger: Ledger
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def fy_totals(self, years: range = FY_YEARS) -> pd.DataFrame:
        """Full-year national realisation (default 2015-2024): PMA, PMDN and total, with flags."""
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
        }
        return self

    def summary(self) -> Summary:
        """The printable report (the same content as ``summary.md``)."""
        if not self.tables:
            self.build()
        t = self.tables
        short = lambda df, cols: df[[c for c in cols if c in df.columns]]  # noqa: E731
        derived = t["derived"]
        return Summary(
            title="Mitra data check: investment ledger",
            settings={**asdict(self.ledger.settings), "data fingerprint": self.ledger.fingerprint},
            tables=[
                (
                    "Full-year national realisation 2015-2024 (PMA US$ million; Rp billion)",
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
            ],
            notes=[
                f"{len(self.ledger.candidates)} raw rows -> {len(self.ledger.observations)} "
                f"observations ({len(derived)} derived); {len(t['conflicts'])} conflicts; "
                f"{len(t['identity_violations'])} identity violations.",
                "Conflict rule, identities and censoring: see data/README.md.",
                "Every observation lists its sources (observations.csv, column 'sources').",
            ],
        )

    def write(self, out: str | Path | None = None) -> Path:
        """Write CSV tables, ``summary.md`` and ``manifest.json`` atomically; return the folder."""
        if not self.tables:
            self.build()
        # Imported tables carry user text (sources, notes): a cell such as "=HYPERLINK(...)"
        # must not become a live formula when the CSV is opened in a spreadsheet.
        from analysis.tables import neutralise_frame

        out = Path(out) if out is not None else paths.REPORTS / "data-check"
        with atomic_dir(out) as tmp:
            for name, table in self.tables.items():
                index = name.startswith("coverage") or name == "partner_panel_fy"
                neutralise_frame(table).to_csv(
                    tmp / f"{name}.csv", index=index, lineterminator="\n"
                )
            (tmp / "summary.md").write_text(self.summary().as_markdown())
            write_json(
                tmp / "manifest.json",
                {
                    "report": "data-check",
                    "settings": asdict(self.ledger.settings),
                    "data_hashes": self.ledger.hashes,
                    "data_fingerprint": self.ledger.fingerprint,
                    "environment": environment_record(),
                    "tables": sorted(f"{n}.csv" for n in self.tables),
                },
            )
        return out


def check_data(ledger: Ledger) -> DataCheck:
    """Build the data-quality report of a ledger."""
    return DataCheck(ledger).build()
