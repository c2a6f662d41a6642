"""The partner-ranking study: settings + panel + ledger -> one result the report shows.

:func:`run_ranking` builds the sector's indicator set (:mod:`analysis.models.indicators`), ranks
the candidates with every choice under uncertainty (:mod:`analysis.models.ranking`), and ranks the
other two sectors nominally with the same settings so the report can say how far the sectors'
rankings differ. The result carries its settings and fingerprint, the four tables the
report writes (``ranking``, ``pillars``, ``weights``, ``sobol``) plus supporting ones, a
summary, key findings computed from the numbers, plots and an interactive what-if view.

Examples
--------
>>> from analysis.studies.ranking import RankingStudySettings, run_ranking  # doctest: +SKIP
>>> study = run_ranking(RankingStudySettings(sector="pharma"))  # doctest: +SKIP
>>> study.table("ranking").head()  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.base.i18n import count, label, messages
from analysis.base.summary import Summary
from analysis.base.vocab import PILLAR_LABELS, RANKING_PILLARS, REPORT_SECTORS, partner_name
from analysis.data.provenance import data_fingerprint
from analysis.models.ranking import (
    HUB_TREATMENTS,
    IndicatorSet,
    RankingResult,
    RankingSettings,
    kendall_tau,
    rank_partners,
)
from analysis.present.formatting import (
    Findings,
    Table,
    findings_block,
    format_table,
    format_wide,
    show,
)

__all__ = [
    "REPORT",
    "SECTORS",
    "RankingStudy",
    "RankingStudySettings",
    "run",
    "run_ranking",
    "settings",
]

REPORT = "30-partner-ranking"
SECTORS = REPORT_SECTORS
RANKING_COLUMNS = [
    "partner_iso3",
    "rank",
    "median_rank",
    "rank_p05",
    "rank_p95",
    "score",
    "coverage",
    "status",
    "hub",
    "sector_score",
]
#: Columns shown without decimals in the evidence tables (ranks, counts, US$ million).
WHOLE_EXTRA = ("rank_full", "rank_held_out", "band_low", "band_high", "draws", "flow_usd_m",
               "effect_usd_m", "lo", "hi", "model_effect_usd_m", "model_lo",
               "model_hi")  # fmt: skip
#: Columns of the evidence tables with a header in the catalogue (``ranking.c_<column>``).
EVIDENCE_COLUMNS = ("evidence", "rank_full", "median_rank_full", "rank_held_out", "band_low",
                    "band_high", "agreement", "flow_usd_m", "flow_status", "effect_usd_m",
                    "model_effect_usd_m", "model_lo", "model_hi", "view",
                    "draws")  # fmt: skip
#: Tables written as CSV next to the report.
WRITTEN_TABLES = ("ranking", "pillars", "weights", "sobol", "indicators", "validation",
                  "documented_investors", "agreement_effects")  # fmt: skip
SOBOL_COLUMNS = ["choice", "S1", "S1_lo", "S1_hi", "ST", "ST_lo", "ST_hi"]


#: Headings of the report's sections that the key findings link to (notebook headings).
SECTIONS = {
    "ranking": "The ranking and its uncertainty",
    "sobol": "Sensitivity: which choice moves the ranks? (Sobol)",
    "sectors": "Sectors compared",
    "pillars": "Pillar scores and flags",
    "validation": "Predictive validity: does the ranking find the next investors?",
    "documented": "Documented investors: where does the ranking put them?",
}


@dataclass(frozen=True)
class RankingStudySettings:
    """Everything the ranking report depends on besides the data.

    Parameters
    ----------
    sector
        Report sector: ``textile``, ``chemical`` or ``pharma``.
    end_year
        Latest year of data used.
    profiles
        Partners shown as one-page profiles.
    ranking
        The index's choices and its uncertainty analysis.
    compare_sectors
        Rank the other sectors nominally too (for the rank correlation between sectors).
    validate
        Backtest the ranking (:mod:`analysis.models.validation`) when the study builds its
        indicator sets from the panel and the ledger (not for sets passed in).
    validation_first_origin
        First origin year of the backtest (the ledger's lists start in 2014).
    """

    sector: str = "textile"
    end_year: int = 2024
    profiles: tuple[str, ...] = ("SGP", "CHN", "HKG", "JPN", "MYS", "KOR", "USA", "NLD")
    # The declared defaults (analysis.config.Params), never re-declared here.
    ranking: RankingSettings = field(default_factory=lambda: _default_ranking())
    compare_sectors: bool = True
    validate: bool = True
    validation_first_origin: int = field(
        default_factory=lambda: int(_params_default("ranking_validation_first_origin"))
    )
    # Report 20's settings, for reading its agreement effects (None: the declared ones).
    gravity: object | None = None

    def __post_init__(self) -> None:
        if self.sector not in SECTORS:
            raise ValueError(f"sector must be one of {', '.join(SECTORS)}, got {self.sector!r}")


def settings(params) -> RankingStudySettings:
    """The study's settings from the params' ``ranking`` group (the one place it is read).

    ``weights`` holds pillar weights (keys that name a pillar) and indicator weights within
    their pillar (keys that name an indicator); both were validated by name before any
    kernel started.
    """
    g = params.ranking
    weights = g.weights
    return RankingStudySettings(
        sector=g.sector,
        end_year=g.end_year,
        profiles=tuple(g.partners),
        ranking=RankingSettings(
            normalisation=g.normalisation,
            aggregation=g.aggregation,
            pillar_weights={k: float(v) for k, v in weights.items() if k in RANKING_PILLARS},
            indicator_weights={
                k: float(v) for k, v in weights.items() if k not in RANKING_PILLARS
            },
            imputation=g.imputation,
            pillar_coverage=float(g.min_coverage),
            hub_treatment=g.hub_treatment,
            hub_discount=float(g.hub_discount),
            outliers=g.outliers,
            draws=int(g.draws),
            noise=float(g.noise),
            seed=int(g.seed),
        ),
        validation_first_origin=int(g.validation_first_origin),
        gravity=_gravity_settings(params),
    )


def _gravity_settings(params):
    from analysis.studies import gravity

    return gravity.settings(params)


def _params_default(name: str) -> object:
    from analysis.config import Params

    return getattr(Params(), name)


def _default_ranking() -> RankingSettings:
    from analysis.config import Params

    return settings(Params()).ranking


def run(settings: RankingStudySettings, inputs=None) -> RankingStudy:
    """Run the study on the shared inputs (:func:`analysis.studies.inputs.inputs`)."""
    if inputs is None:
        from analysis.studies.inputs import inputs as shared

        inputs = shared()
    return run_ranking(settings, ledger=inputs.ledger, panel=inputs.panel)


@dataclass
class RankingStudy:
    """The ranking report's result: one sector ranked, the other sectors compared.

    Attributes
    ----------
    settings
        The study settings.
    data
        The sector's indicator set (values, bounds, hubs, documentation).
    result
        The ranking (nominal, bands, Sobol, audit).
    sector_ranks
        Partner x sector nominal ranks with the same settings (NaN: not ranked).
    hub_ranks
        Hub x hub treatment: the hubs' nominal ranks under each treatment.
    validation
        The backtest (:func:`analysis.models.validation.backtest`): one row per variant, origin,
        method and metric; empty when not run.
    fingerprint
        Hash of the data and settings.
    """

    settings: RankingStudySettings
    data: IndicatorSet
    result: RankingResult
    sector_ranks: pd.DataFrame
    fingerprint: str
    hub_ranks: pd.DataFrame = field(default_factory=pd.DataFrame)
    validation: pd.DataFrame = field(default_factory=pd.DataFrame)
    documented: pd.DataFrame = field(default_factory=pd.DataFrame)
    agreements: pd.DataFrame = field(default_factory=pd.DataFrame)

    # --- tables -----------------------------------------------------------------------------

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables the report shows and writes, by name (copies: change them freely)."""
        # Built once per study: the report asks for one table at a time, two dozen times,
        # and building all of them (validation summaries included) takes a fraction of a
        # second each time. Not a dataclass field, so neither compared nor cached on disk.
        return {name: t.copy() for name, t in self._built().items()}

    def _built(self) -> dict[str, pd.DataFrame]:
        built = self.__dict__.get("_tables")
        if built is None:
            built = self._build_tables()
            self.__dict__["_tables"] = built
        return built

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_tables"}

    def _build_tables(self) -> dict[str, pd.DataFrame]:
        r = self.result
        # The sector pillar's score (NaN: no sector score): the batch picks each sector's
        # brief partners from it (top three by median rank among non-hubs with a score).
        ps = r.pillar_scores
        sector_score = ps[ps["pillar"] == "sector"].set_index("partner_iso3")["score"]
        ranking = r.table.assign(
            hub=r.table["hub"].astype(bool),
            sector_score=r.table["partner_iso3"].map(sector_score).astype(float),
        )[RANKING_COLUMNS]
        pillars = r.pillar_scores.assign(pillar_label=r.pillar_scores["pillar"].map(PILLAR_LABELS))
        from analysis.studies.ranking_evidence import with_left_out

        weights = with_left_out(r.weights, self.data, r.settings)
        sobol = r.sobol[SOBOL_COLUMNS] if len(r.sobol) else pd.DataFrame(columns=SOBOL_COLUMNS)
        hubs = pd.DataFrame(
            {"partner_iso3": list(self.data.hubs), "why": list(self.data.hubs.values())}
        )
        ranked = list(r.ranked["partner_iso3"])
        matrix = pillars.pivot(index="partner_iso3", columns="pillar", values="score")
        flagged = (pillars["imputed"] != "") | (pillars["censored"] != "")
        flagged |= pillars["hub_excluded"] != ""
        out = {
            "ranking": ranking,
            "pillars": pillars,
            "pillar_matrix": matrix.reindex(index=ranked, columns=r.weights["pillar"].unique())
            .rename(columns=PILLAR_LABELS)
            .rename(index=lambda c: f"{partner_name(c)} ({c})"),
            "flagged_pillars": pillars[flagged],
            "weights": weights,
            "sobol": sobol,
            "indicators": r.cells,
            "hubs": hubs.merge(self.hub_ranks.reset_index(), on="partner_iso3", how="left").rename(
                columns={h: f"rank if {h.replace('_', ' ')}" for h in HUB_TREATMENTS}
            ),
            "convergence": r.convergence,
            "sectors": self.sector_ranks.reset_index(),
            "sector_top10": self.sector_top(10),
            "sector_correlation": self.sector_correlation(),
        }
        out["validation"] = self.validation
        out["validation_summary"] = self.validation_summary()
        out["validation_variants"] = self.validation_variants()
        out["documented_investors"] = self.documented
        out["agreement_effects"] = self.agreements
        out["routed_views"] = r.routed_views if r.routed_views is not None else pd.DataFrame()
        if r.audit is not None:
            out["audit_pillars"] = r.audit.pillars
            out["outliers"] = r.audit.outliers
            out["indicator_removal"] = r.audit.removal
        return out

    def table(self, name: str) -> pd.DataFrame:
        """One table by name (see :meth:`tables`)."""
        tables = self._built()
        if name not in tables:
            raise KeyError(f"no table {name!r}; tables: {', '.join(tables)}")
        return tables[name].copy()

    def formatted(self, name: str, language: str = "en") -> Table:
        """A table formatted for readers (:mod:`analysis.present.formatting`).

        Any table of :meth:`tables` that the report shows (``ranking``, ``weights``,
        ``pillar_matrix``,
        ``flagged_pillars``, ``sobol``, ``convergence``, ``audit_pillars``, ``outliers``,
        ``indicator_removal``, ``sector_correlation``, ``sector_top10``) and ``stability``
        and ``pillar_correlations`` of the result's audit.
        """
        m = messages(language)
        fmt = dict(language=language, source=m("chart.source_ranking"))
        title = m(f"ranking.t_{name}")
        if name == "weights":
            f = self.table(name)
            shares = ["pillar_weight", "weight_in_pillar", "effective_weight"]
            return format_table(
                f,
                title=title,
                columns=[
                    "label",
                    "pillar",
                    *shares,
                    "candidates",
                    "unit",
                    "source",
                    "year",
                    "note",
                ],
                labels={
                    "label": m("label.column.indicator"),
                    "year": m("label.column.years"),
                    "candidates": m("ranking.c_candidates"),
                    "note": m("ranking.c_note"),
                },
                codes={"pillar": "pillar", "unit": "unit_text"},
                percent=shares,
                digits={**{c: 1 for c in shares}, "candidates": 0},
                **fmt,
            )
        if name in ("pillar_matrix", "pillar_correlations", "sector_correlation"):
            if name == "pillar_correlations":
                f = self.result.audit.pillar_correlations
                kind = "pillar"
            else:
                f = self.table(name)
                kind = "sector" if name == "sector_correlation" else None
            if kind:
                f = f.rename(columns=lambda c: label(kind, c, language))
                f.index = [label(kind, i, language) for i in f.index]
            head = m("label.column.partner") if name == "pillar_matrix" else ""
            return format_wide(f, title=title, row_label=head, digits=2, **fmt)
        if name == "sector_top10":
            f = self.table(name)
            f = f.apply(lambda col: [label("partner", v, language) for v in col])
            f.columns = [label("sector", c, language) for c in f.columns]
            return format_wide(f, title=title, row_label=m("label.column.rank"), **fmt)
        if name in ("validation_summary", "validation_variants"):
            f = self.table(name)
            if name == "validation_summary":
                f = f.assign(metric=[label("validation_metric", c, language) for c in f["metric"]])
                f = f.rename(columns={c: label("validation_method", c, language)
                                      for c in ("index", "last_pma", "gdp_only")})  # fmt: skip
            else:
                f = f.rename(columns=lambda c: label("validation_metric", c, language)
                             if c != "variant" else c)  # fmt: skip
            num = [c for c in f.columns if pd.api.types.is_numeric_dtype(f[c])]
            return format_table(
                f,
                title=title,
                codes={"beats_both": "yes_no"} if "beats_both" in f else None,
                digits={c: 0 if c in ("origins", "n") else 2 for c in num},
                **fmt,
            )
        if name == "stability":
            return format_table(
                self.result.stability,
                title=title,
                digits={"median": 3, "p05": 3, "p95": 3},
                **fmt,
            )
        f = self.table(name)
        codes = {"partner_iso3": "partner", "pillar": "pillar", "indicator": "indicator",
                 "outlying": "yes_no", "hub": "yes_no", "status": "status"}  # fmt: skip
        columns = [c for c in f.columns if c not in ("pillar_label", "partner_name")]
        whole = ("points", "indicators", "coverage", "rank", "rank_p05", "rank_p95")  # counts, %
        whole += WHOLE_EXTRA
        return format_table(
            f,
            title=title,
            columns=columns,
            labels={c: m(f"ranking.c_{c}") for c in columns if c in EVIDENCE_COLUMNS},
            codes={c: k for c, k in codes.items() if c in columns},
            percent=[c for c in ("coverage",) if c in columns],
            digits={c: 0 if c in whole or c.startswith(("p05", "p95", "median", "max_")) else 3
                    for c in columns if pd.api.types.is_numeric_dtype(f[c])},
            **fmt,
        )  # fmt: skip

    def show(self, name: str, language: str = "en") -> None:
        """Display one formatted table in report 30 and write its data as CSV."""
        show(self.formatted(name, language), name, report=REPORT,
             empty=messages(language)("common.none_table"))  # fmt: skip

    def write_tables(self, report: str = REPORT) -> dict[str, Path]:
        """Write the four key tables (and the indicator cells) as CSV; return ``{name: path}``."""
        from analysis.present.tables import write_table

        return {
            name: write_table(self.table(name), name, report=report) for name in WRITTEN_TABLES
        }

    def figures(self) -> dict[str, object]:
        """The report's figures by name (drawn by :mod:`analysis.present.plots`)."""
        return {"rank_bands": self.plot_bands(), "drivers": self.plot_drivers()}

    def to_frame(self) -> pd.DataFrame:
        """The ranking table, one row per partner, with the sector as a column."""
        return self.result.to_frame().assign(sector=self.settings.sector)

    def sector_top(self, n: int = 10) -> pd.DataFrame:
        """The nominal top ``n`` of each sector side by side (rank x sector)."""
        cols = {
            x: list(self.sector_ranks[x].dropna().sort_values().index[:n])
            for x in self.sector_ranks.columns
        }
        out = pd.DataFrame({x: v + [""] * (n - len(v)) for x, v in cols.items()})
        out.index = pd.RangeIndex(1, n + 1, name="rank")
        return out

    def validation_summary(self) -> pd.DataFrame:
        """Mean of each backtest metric over origins: the ranking beside both baselines."""
        from analysis.models.validation import BASELINES, METRICS, summarise_backtest

        cols = ["metric", "index", *BASELINES, "beats_both", "origins", "n"]
        v = self.validation
        if v.empty:
            return pd.DataFrame(columns=cols)
        v = v[(v["method"] != "index") | (v["variant"] == "default")]
        sm = summarise_backtest(v)
        wide = sm.pivot_table(index="metric", columns="method", values="mean")
        n = sm[sm["method"] == "index"].set_index("metric")
        out = wide.reindex(index=[m for m in METRICS if m in wide.index])
        out = out.reindex(columns=["index", *BASELINES])
        out["beats_both"] = out["index"] > out[list(BASELINES)].max(axis=1)
        out["origins"] = n["origins"].reindex(out.index)
        out["n"] = n["n"].reindex(out.index)
        return out.reset_index()[cols]

    def validation_variants(self) -> pd.DataFrame:
        """Each backtested variant of the settings: mean of every metric over origins."""
        from analysis.models.validation import METRICS, summarise_backtest

        v = self.validation
        if v.empty:
            return pd.DataFrame(columns=["variant", *METRICS])
        sm = summarise_backtest(v[v["method"] == "index"])
        out = sm.pivot_table(index="variant", columns="metric", values="mean", sort=False)
        return out.reindex(columns=list(METRICS)).reset_index()

    def documented_finding(self, language: str = "en") -> str:
        """One sentence: how many documented investors the ranking puts in its top 10 when
        their own evidence is held out (empty without documented investors)."""
        from analysis.studies.ranking_evidence import documented_summary

        d = self.documented
        if d is None or d.empty:
            return ""
        sm = documented_summary(d)
        missed = d.loc[~(d["rank_held_out"] <= 10), "partner_iso3"]
        return messages(language)(
            "ranking.f_documented",
            n=sm["n"],
            sector=label("sector_phrase", self.settings.sector, language),
            k=sm["top_held_out"],
            k_full=sm["top_full"],
            median=f"{sm['median_held_out']:.0f}",
            partners=", ".join(d["partner_iso3"]),
            missed=", ".join(missed) or "-",
        )

    def sector_correlation(self) -> pd.DataFrame:
        """Kendall's tau between the sectors' nominal rankings (partners ranked in both)."""
        sr = self.sector_ranks
        out = pd.DataFrame(np.nan, index=sr.columns, columns=sr.columns)
        for a in sr.columns:
            for b in sr.columns:
                if a == b:
                    out.loc[a, b] = 1.0
                    continue
                both = sr[[a, b]].dropna()
                if len(both) > 2:
                    # Re-rank among the common partners so tau compares like with like.
                    ra = both[a].rank().to_numpy()
                    rb = both[b].rank().to_numpy()
                    out.loc[a, b] = float(kendall_tau(ra, rb[None, :])[0])
        out.index.name = "sector"
        return out

    # --- reading ----------------------------------------------------------------------------

    def top(self, n: int = 10) -> list[str]:
        """The nominal top ``n`` partners."""
        return list(self.result.ranked["partner_iso3"].head(n))

    def key_findings(self) -> list[str]:
        """Three to six sentences computed from the results."""
        return [text for text, _ in self._findings_with_sections()]

    def findings(self, language: str = "en") -> Findings:
        """The key findings to open the report with, each linked to the section showing it."""
        return findings_block(self._findings_with_sections(), language)

    def _findings_with_sections(self) -> list[tuple[str, str]]:
        """Key-finding sentences with the heading of the section that shows each."""
        r, s = self.result, self.settings
        ranked = r.ranked
        out = []
        top = ranked.head(3)
        out.append(
            (
                f"For {label('sector_phrase', s.sector)}, the top three partners are "
                + ", ".join(
                    f"{label('partner', row.partner_iso3)} ({row.partner_iso3}, rank band "
                    f"{row.rank_p05:.0f}-{row.rank_p95:.0f})"
                    for row in top.itertuples()
                )
                + f", out of {len(ranked)} ranked candidates.",
                SECTIONS["ranking"],
            )
        )
        robust = ranked[ranked["rank_p95"] <= 10]
        out.append(
            (
                f"{count(len(robust), 'partners')} stay in the top 10 in 95 % of the "
                "Monte Carlo draws"
                + (f": {', '.join(robust['partner_iso3'])}." if len(robust) else "."),
                SECTIONS["ranking"],
            )
        )
        if len(r.sobol):
            lead = r.sobol.sort_values("ST", ascending=False).iloc[0]
            out.append(
                (
                    f"The choice that moves ranks most is {lead['choice']} (total Sobol index "
                    f"{lead['ST']:.2f}, 95 % interval {lead['ST_lo']:.2f}-{lead['ST_hi']:.2f}).",
                    SECTIONS["sobol"],
                )
            )
        corr = self.sector_correlation()
        others = [c for c in corr.columns if c != s.sector]
        if others:
            out.append(
                (
                    "Kendall's tau between this sector's ranking and the others: "
                    + ", ".join(
                        f"{label('sector_phrase', o)} {corr.loc[s.sector, o]:.2f}" for o in others
                    )
                    + ".",
                    SECTIONS["sectors"],
                )
            )
        hr = self.hub_ranks
        moved = [
            f"{p} {row['as_is']:.0f} -> {row['excluded']:.0f}"
            for p, row in hr.iterrows()
            if pd.notna(row.get("as_is")) and row["as_is"] <= 15
        ]
        if moved:
            out.append(
                (
                    "Hubs in the top 15 and their rank if their presence and outward FDI are "
                    "excluded instead of counted as published: " + ", ".join(moved) + ".",
                    SECTIONS["ranking"],
                )
            )
        vs = self.validation_summary()
        if len(vs):
            row = vs.set_index("metric")
            beat = [m for m in row.index if bool(row.at[m, "beats_both"])]
            lost = [m for m in row.index if not bool(row.at[m, "beats_both"])]
            c = row.loc["concordance"] if "concordance" in row.index else None
            text = (
                f"Backtest over {int(row['origins'].max())} origin years (ranking from data up "
                "to each year, scored on the BKPM lists of the next three years): "
            )
            if c is not None:
                text += (
                    f"concordance {c['index']:.2f} against {c['last_pma']:.2f} for last list's "
                    f"PMA and {c['gdp_only']:.2f} for GDP alone; "
                )

            def named(metrics: list[str]) -> str:
                # Readers see the catalogue's names, never the metric codes.
                return "; ".join(label("validation_metric", m) for m in metrics)

            text += (
                "the ranking beats both baselines on "
                + (named(beat) or "no metric")
                + (f", and does NOT on {named(lost)}." if lost else ".")
            )
            out.append((text, SECTIONS["validation"]))
        documented = self.documented_finding()
        if documented:
            out.append((documented, SECTIONS["documented"]))
        not_ranked = r.table[r.table["status"] != "ranked"]
        imputed = int((r.cells["flags"].str.contains("imputed")).sum())
        out.append(
            (
                f"{count(len(not_ranked), 'candidates')} lack a pillar and are not ranked; "
                f"{count(imputed, 'indicator_cells')} imputed at the worst observed value"
                if s.ranking.imputation == "worst"
                else f"{count(len(not_ranked), 'candidates')} lack a pillar and are not ranked; "
                f"{count(imputed, 'indicator_cells')} imputed ({s.ranking.imputation})",
                SECTIONS["pillars"],
            )
        )
        text, section = out[-1]
        bands = "converged" if r.converged else "did NOT converge"
        out[-1] = (f"{text}; bands {bands} at N vs 2N.", section)
        if len(out) > 6:
            # Six at most: the cross-sector comparison stays in its own section.
            out = [f for f in out if f[1] != SECTIONS["sectors"]][:6]
        return out

    def summary(self) -> Summary:
        """Settings, findings, the ranking and the tables behind it."""
        r = self.result
        settings = {"sector": self.settings.sector, "end year": self.settings.end_year}
        settings.update(r.summary().settings)
        settings["fingerprint"] = self.fingerprint
        t = self.tables()
        return Summary(
            title=f"Partner ranking: {self.settings.sector}",
            settings=settings,
            tables=[
                (
                    "Ranking with 5-95 % Monte Carlo bands",
                    t["ranking"]
                    .assign(partner=t["ranking"]["partner_iso3"].map(partner_name))
                    .round(3),
                ),
                ("Effective weight of every indicator", t["weights"].round(3)),
                ("Sobol indices of the ranks, 95 % bootstrap intervals", t["sobol"].round(3)),
                ("Hubs", t["hubs"]),
                ("Kendall's tau between sectors", t["sector_correlation"].round(2)),
            ],
            notes=[*self.key_findings(), *r.notes],
        )

    def profile(self, partner: str) -> Summary:
        """One-page profile of a partner."""
        return self.result.profile(partner)

    # --- figures ----------------------------------------------------------------------------

    def plot_bands(self, top: int | None = 25, ax=None):
        """Rank bands of the (top) ranked partners."""
        from analysis.present.plots import plot_rank_bands

        return plot_rank_bands(self.result, top=top, ax=ax)

    def plot_drivers(self, ax=None):
        """What lifts or sinks each partner."""
        from analysis.present.plots import plot_drivers

        return plot_drivers(self.result, ax=ax)

    # --- interactive ------------------------------------------------------------------------

    def what_if(self, draws: int = 1000, *, interactive: bool | None = None):
        """Sliders for pillar weights and pickers for the method choices (JupyterLab).

        Every change recomputes the nominal ranking and a ``draws``-draw Monte Carlo (no
        Sobol, no audit) and redraws the table and the band chart in place.

        The widgets are built only in a live frontend: by default when the kernel belongs to a
        Jupyter server session (JupyterLab sets ``JPY_SESSION_NAME``) and the run is not a
        batch. Headless executors (papermill, nbval, the batch) get a note instead, because
        nbclient can block forever on a cell that opens widget comms (jupyter/nbclient#312).
        Pass ``interactive=True`` to build them anyway (e.g. in VS Code).
        """
        from analysis.present.tables import TABLES_ENV

        if interactive is None:
            interactive = bool(os.environ.get("JPY_SESSION_NAME")) and not os.environ.get(
                TABLES_ENV
            )
        if not interactive:
            from IPython.display import Markdown

            return Markdown(
                "*Interactive what-if: open this notebook in JupyterLab to move the pillar "
                "weights and change the methods (not active when the notebook runs headless; "
                "`study.what_if(interactive=True)` forces it).*"
            )
        from analysis.studies.ranking_whatif import WhatIf

        return WhatIf(self, draws=draws).widget


def _weights_for(data: IndicatorSet, rs: RankingSettings) -> tuple[RankingSettings, list[str]]:
    """Keep the weights that name a pillar or indicator of this set; say which were not.

    Names were validated against the vocabulary already; one may still be absent from a
    sector's set (pharma has no value-added indicator, an indicator without any value).
    """
    pillars, codes = set(data.meta["pillar"]), set(data.values.columns)
    pw = {k: v for k, v in rs.pillar_weights.items() if k in pillars}
    iw = {k: v for k, v in rs.indicator_weights.items() if k in codes}
    dropped = sorted(set(rs.pillar_weights) - set(pw) | set(rs.indicator_weights) - set(iw))
    names = ", ".join(dropped)
    notes = [
        f"{count(len(dropped), 'weights_for', names=names)} not used: not in this sector's "
        "indicator set."
    ]
    return replace(rs, pillar_weights=pw, indicator_weights=iw), notes if dropped else []


def _nominal_ranks(data: IndicatorSet, settings: RankingSettings) -> pd.Series:
    settings, _ = _weights_for(data, settings)
    r = rank_partners(data, settings, uncertainty=False, sensitivity=False, audit=False)
    return r.table.set_index("partner_iso3")["rank"].astype(float)


def validation_variants(rs: RankingSettings) -> dict[str, RankingSettings]:
    """The settings the backtest scores: the chosen ones and the alternatives they beat.

    Sector pillar and presence at half their weight, and the two other hub treatments:
    the choices the validation can speak to (see the report).
    """
    pw = dict(rs.pillar_weights)
    sector = float(pw.get("sector", 1.0))
    presence = float(pw.get("presence", 1.0))
    out = {
        "default": rs,
        "sector weight x0.5": replace(rs, pillar_weights={**pw, "sector": sector / 2}),
        "presence weight x0.5": replace(rs, pillar_weights={**pw, "presence": presence / 2}),
    }
    for h in HUB_TREATMENTS:
        if h != rs.hub_treatment:
            out[f"hubs {h.replace('_', ' ')}"] = replace(rs, hub_treatment=h)
    return out


def _validate(
    panel, ledger, s: RankingStudySettings, used: RankingSettings, latest
) -> pd.DataFrame:
    """The backtest of the study's sector: indicator sets per origin, scored by lists."""
    from analysis.base.cache import cached
    from analysis.data.panel import CANDIDATES
    from analysis.models.indicators import build_indicators
    from analysis.models.validation import backtest

    def sets() -> dict[int, IndicatorSet]:
        out = {}
        for t in range(s.validation_first_origin, s.end_year + 1):
            if t == s.end_year:
                out[t] = latest
                continue
            material = {"ledger": ledger.fingerprint, "panel": str(panel.fingerprint),
                        "sector": s.sector, "end_year": t}  # fmt: skip
            out[t] = cached("ranking-indicators", material,
                            lambda t=t: build_indicators(panel, ledger, s.sector, t))  # fmt: skip
        return out

    material = {
        "ledger": ledger.fingerprint,
        "panel": str(panel.fingerprint),
        "sector": s.sector,
        "end_year": s.end_year,
        "first": s.validation_first_origin,
        "settings": used,
    }
    return cached(
        "ranking-validation",
        material,
        lambda: backtest(
            sets(),
            ledger.partner_panel(list(CANDIDATES)),
            validation_variants(used),
            sector=s.sector,
        ),
    )


def run_ranking(
    settings: RankingStudySettings | None = None,
    *,
    panel=None,
    ledger=None,
    indicator_sets: Mapping[str, IndicatorSet] | None = None,
) -> RankingStudy:
    """Rank the candidate partners for one sector, with uncertainty, audit and comparison.

    Parameters
    ----------
    settings
        Study settings (default :class:`RankingStudySettings`).
    panel, ledger
        The partner panel and the ledger (default: loaded/built).
    indicator_sets
        Ready indicator sets by sector (tests and the what-if view pass them; default:
        built from the panel and the ledger).

    Returns
    -------
    RankingStudy
    """
    s = settings or RankingStudySettings()
    if indicator_sets:  # tests and the what-if view: sets made by the caller, never cached
        return _run_ranking(s, panel, ledger, indicator_sets)
    if panel is None:
        from analysis.data.panel import load_panel

        panel = load_panel()
    if ledger is None:
        from analysis.studies.inputs import inputs

        ledger = inputs().ledger
    from analysis.base.cache import cached
    from analysis.studies.gravity.multihost import _positions_fingerprint, cached_positions

    # On disk: a batch's partner briefs read the study their sector's ranking report computed
    # (with the same settings) instead of recomputing its Monte Carlo, Sobol design and
    # validation. The agreement table reads the gravity study, hence its settings and inputs.
    material = {
        "ledger": ledger.fingerprint,
        "panel": str(panel.fingerprint),
        "positions": _positions_fingerprint(cached_positions()),
        "settings": s,
        "gravity": s.gravity if s.gravity is not None else _gravity_settings(_params()),
    }
    return cached("ranking-study", material, lambda: _run_ranking(s, panel, ledger, None))


def _run_ranking(
    s: RankingStudySettings,
    panel,
    ledger,
    indicator_sets: Mapping[str, IndicatorSet] | None,
) -> RankingStudy:
    sets: dict[str, IndicatorSet] = dict(indicator_sets or {})
    sectors: Sequence[str] = SECTORS if s.compare_sectors else (s.sector,)
    missing = [x for x in sectors if x not in sets]
    if missing:
        from analysis.models.indicators import build_indicators

        if panel is None:
            from analysis.data.panel import load_panel

            panel = load_panel()
        if ledger is None:
            from analysis.studies.inputs import inputs

            ledger = inputs().ledger
        from analysis.base.cache import cached

        for x in missing:
            # Each sector's set is built once per data and code (the batch's three ranking
            # reports each need all three sectors).
            material = {
                "ledger": ledger.fingerprint,
                "panel": str(panel.fingerprint),
                "sector": x,
                "end_year": s.end_year,
            }
            sets[x] = cached(
                "ranking-indicators",
                material,
                lambda x=x: build_indicators(panel, ledger, x, s.end_year),
            )
    data = sets[s.sector]
    used, notes = _weights_for(data, s.ranking)
    result = rank_partners(data, used)
    result.notes[:0] = notes
    ranks = {s.sector: result.table.set_index("partner_iso3")["rank"].astype(float)}
    for x in sectors:
        if x != s.sector:
            ranks[x] = _nominal_ranks(sets[x], s.ranking)
    sector_ranks = pd.DataFrame(ranks)[[x for x in SECTORS if x in ranks]]
    sector_ranks.index.name = "partner_iso3"
    fp = data_fingerprint(
        {
            "result": result.fingerprint,
            "others": {x: str(pd.util.hash_pandas_object(sets[x].values).sum()) for x in ranks},
            "settings": repr(asdict(s)),
        }
    )
    hub_ranks = pd.DataFrame(
        {h: _nominal_ranks(data, replace(used, hub_treatment=h)) for h in HUB_TREATMENTS}
    ).reindex(list(data.hubs))
    hub_ranks.index.name = "partner_iso3"
    validation = pd.DataFrame()
    if s.validate and s.sector in missing:
        validation = _validate(panel, ledger, s, used, data)
    from analysis.studies.ranking_evidence import agreement_table, documented_table

    documented = documented_table(data, result, used, s.sector)
    agreements = pd.DataFrame()
    if s.sector in missing:  # built from the data: read report 20's effects (no refit)
        from analysis.studies.gravity import agreement_effects

        gravity = s.gravity if s.gravity is not None else _gravity_settings(_params())
        effects = agreement_effects(gravity, ledger=ledger, panel=panel)
        agreements = agreement_table(effects, result.table)
    return RankingStudy(
        s, data, result, sector_ranks, fp, hub_ranks, validation, documented, agreements
    )


def _params():
    from analysis.config import Params

    return Params()
