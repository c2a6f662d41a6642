"""Study of report 00 (data audit) and ``mitra data check``: the ledger and partner panel audited.

:func:`run_audit` turns a ledger (and the partner panel) into a :class:`DataAudit`: the tables
of :class:`analysis.data.check.DataCheck`, their printable :meth:`DataAudit.summary`, a few
computed :meth:`DataAudit.key_findings`, and :meth:`DataAudit.write`, which writes every
table as CSV (text cells neutralised against spreadsheet formulas), ``summary.md`` and
``manifest.json`` atomically under ``reports/data-check/``. The data layer computes; this
module presents and writes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.data.check import (
    CONFLICT_COLUMNS,
    KEY_PARTNER_INDICATORS,
    VIOLATION_COLUMNS,
    DataCheck,
    _fmt,
)
from analysis.data.ledger import Ledger
from analysis.data.panel import CANDIDATES, PartnerPanel
from analysis.data.provenance import data_fingerprint
from analysis.reports import atomic_dir, environment_record, write_json
from analysis.summary import Summary
from analysis.tables import neutralise

__all__ = ["DataAudit", "run_audit"]


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
            n = agree[(agree["year"] == 2024) & agree["in_force"]]["iso3"].nunique()
            out.append(
                f"{n} of {len(CANDIDATES)} candidates have an agreement with Indonesia in "
                "force on 1 July 2024."
            )
        return out

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
        in_2024 = (
            agree[(agree["year"] == 2024) & agree["in_force"]]
            .groupby("iso3")["agreement"]
            .apply(lambda a: "; ".join(sorted(a)))
            .reindex(list(CANDIDATES), fill_value="-")
            .to_frame("agreements in force on 1 July 2024")
        )
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
            ("Agreements with Indonesia in force in 2024", in_2024),
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
                *self._partner_summary(),
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
        out = Path(out) if out is not None else paths.REPORTS / "data-check"
        with atomic_dir(out) as tmp:
            for name, table in self.tables.items():
                index = name.startswith("coverage") or name in (
                    "partner_panel_fy",
                    "partner_coverage",
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
                    "environment": environment_record(),
                    "tables": sorted(f"{n}.csv" for n in self.tables),
                },
            )
        return out


def run_audit(ledger: Ledger, panel: PartnerPanel | None = None) -> DataAudit:
    """Audit a ledger (and the partner panel): compute every table of the data check."""
    return DataAudit(DataCheck(ledger, panel=panel).build())
