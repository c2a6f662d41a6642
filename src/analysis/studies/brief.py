"""Partner brief: one partner and one sector on about two printed pages, in English or Bahasa.

For the investment desk preparing a meeting with a delegation: where the partner ranks and
how sure that is, its pillar profile against the top five, its investment history in
Indonesia (ledger, censoring explicit), its sector exports and trade with Indonesia, the
agreements in force and pending, its gravity potential with interval, and what would most
move its rank. Every sentence and label comes from the message catalogue
(:mod:`analysis.i18n`), every number from the results.

The brief reads the other studies through four small functions (:func:`_ranking`,
:func:`_gravity`, :func:`_trade`, :func:`_agreements`), so when those studies change their
interface only these need re-pointing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.data.ledger import Ledger
from analysis.formatting import Finding, Findings, Table, findings_block, format_table, heading
from analysis.i18n import label, messages
from analysis.summary import Summary

if TYPE_CHECKING:
    from analysis.studies.gravity import GravityStudySettings
    from analysis.studies.ranking import RankingStudySettings

__all__ = ["BriefSettings", "PartnerBrief", "run", "run_brief", "settings", "top_partners"]


@dataclass(frozen=True)
class BriefSettings:
    """What a brief is about and the ranking/gravity settings it shares with reports 20/30."""

    partner: str
    sector: str
    language: str = "en"
    start_year: int = 2015
    end_year: int = 2024
    gravity: GravityStudySettings | None = None  # report 20's settings (default: declared)
    ranking: RankingStudySettings | None = None  # report 30's settings (default: declared)

    def __post_init__(self) -> None:
        from analysis.i18n import LANGUAGES
        from analysis.params import SECTOR_FOCUS
        from analysis.vocab import is_partner_code

        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES} (got {self.language!r})")
        if self.sector not in SECTOR_FOCUS:
            raise ValueError(f"sector must be one of {tuple(SECTOR_FOCUS)} (got {self.sector!r})")
        if not (isinstance(self.partner, str) and len(self.partner) == 3):
            raise ValueError(f"partner must be an ISO 3166 alpha-3 code (got {self.partner!r})")
        if not is_partner_code(self.partner):
            raise ValueError(f"partner {self.partner!r} is not an ISO 3166 alpha-3 code")
        from analysis.config import Params, check_partner

        check_partner(self.partner)
        # Reports 20 and 30's settings for this sector (the declared ones when not given).
        from dataclasses import replace

        from analysis.studies import gravity, ranking

        g = self.gravity or gravity.settings(Params())
        r = self.ranking or ranking.settings(Params())
        object.__setattr__(self, "gravity", replace(g, sector=self.sector))
        object.__setattr__(
            self,
            "ranking",
            replace(r, sector=self.sector, end_year=self.end_year, compare_sectors=False),
        )


def settings(params) -> BriefSettings:
    """The brief's settings from the params' ``brief`` group, with reports 20 and 30's own
    settings (:func:`analysis.studies.gravity.settings`, :func:`~.ranking.settings`)."""
    from analysis.studies import gravity, ranking

    g = params.brief
    return BriefSettings(
        partner=g.partner,
        sector=g.sector,
        language=g.language,
        start_year=g.start_year,
        end_year=g.end_year,
        gravity=gravity.settings(params),
        ranking=ranking.settings(params),
    )


def run(settings: BriefSettings, inputs=None) -> PartnerBrief:
    """Run the brief on the shared inputs (:func:`analysis.studies.inputs.inputs`)."""
    if inputs is None:
        from analysis.studies.inputs import inputs as shared

        inputs = shared()
    return run_brief(settings, inputs.ledger)


# --- reports 20 and 30's results, read through their own study functions ------------------


def _gravity(ledger: Ledger, gravity: GravityStudySettings) -> pd.DataFrame:
    """The gravity study's potential for the sector's latest year (report 20's numbers).

    Columns: partner_iso3, year, predicted_usd_m, ci_low, ci_high, actual_usd_m,
    actual_upper_usd_m (US$ million).
    """
    from analysis.studies.gravity import gravity_study

    study = gravity_study(gravity, ledger=ledger)
    pot = study.latest("total")  # the partner's total potential (censored actual: "below x")
    return pd.DataFrame(
        {
            "partner_iso3": pot["partner_iso3"].to_numpy(),
            "year": pot["year"].to_numpy(),
            "predicted_usd_m": pot["predicted"].to_numpy(),
            "ci_low": pot["lo"].to_numpy(),
            "ci_high": pot["hi"].to_numpy(),
            "actual_usd_m": pot["actual"].to_numpy(),
            "actual_upper_usd_m": pot["actual_upper"].to_numpy(),
        }
    )


def _ranking(ledger: Ledger, ranking: RankingStudySettings):
    """The partner ranking of report 30 for the brief's sector (same settings, same numbers).

    Returns the ranking study's :class:`~analysis.ranking.RankingResult`.
    """
    from analysis.studies.ranking import run_ranking

    return run_ranking(ranking, ledger=ledger).result


#: Partner-panel codes shown as the sector's exports, per report sector.
SECTOR_EXPORT_CODES: dict[str, tuple[str, ...]] = {
    "textile": ("exports_textiles_usd", "exports_clothing_usd", "exports_textiles_clothing_usd"),
    "chemical": ("exports_chemicals_usd",),
    "pharma": ("exports_pharma_usd",),
}
#: Trade with Indonesia (partner panel, bilateral) and the partner's goods exports.
TRADE_CODES: tuple[str, ...] = ("idn_exports_to_usd", "idn_imports_from_usd", "exports_goods_usd")


def _trade(partner: str, sector: str, end_year: int) -> pd.DataFrame:
    """Sector exports and trade with Indonesia from the partner panel (US$ billion).

    One row per indicator: its latest year up to ``end_year``, value, source and flags.
    """
    from analysis.data.panel import load_panel

    panel = load_panel()
    rows = []
    for code in (*SECTOR_EXPORT_CODES[sector], *TRADE_CODES):
        latest = panel.latest(code, iso3=[partner], max_year=end_year)
        if len(latest) and pd.notna(latest["value"].iloc[0]):
            r = latest.iloc[0]
            rows.append(
                {
                    "indicator": code,
                    "year": int(r["year"]),
                    "value": float(r["value"]),
                    "source": str(r["source"]),
                    "flags": str(r["flags"] or ""),
                }
            )
    return pd.DataFrame(rows, columns=["indicator", "year", "value", "source", "flags"])


def _agreements(partner: str, end_year: int) -> pd.DataFrame:
    """Agreements with Indonesia covering the partner: in force by the end year, or pending."""
    import datetime as dt

    from analysis.data.agreements import load_agreements

    cutoff = dt.date(end_year, 12, 31)
    rows = []
    for a in load_agreements():
        if partner not in a.members:
            continue
        live = a.in_force_from is not None and a.in_force_from <= cutoff
        rows.append(
            {
                "agreement": a.name,
                "state": "in_force" if live else "pending",
                "in_force_since": a.in_force_from.isoformat() if live else "",
                "note": a.text,
                "source": a.source,
            }
        )
    cols = ["agreement", "state", "in_force_since", "note", "source"]
    return pd.DataFrame(rows, columns=cols).sort_values(["state", "agreement"], ignore_index=True)


_SOURCE_CUT = re.compile(r":| via | bulk file| \(http|\(via | \[")


def _publisher(source: object) -> str:
    """The publisher part of a source reference (the full reference stays in the CSV)."""
    text = str(source or "").split(";")[0]
    return _SOURCE_CUT.split(text, maxsplit=1)[0].strip() or text


# --- the study ------------------------------------------------------------------------------


@dataclass
class PartnerBrief:
    """Everything the brief shows, computed once; tables and sentences in one language."""

    settings: BriefSettings
    ranking: object  # RankingResult
    potential: pd.DataFrame
    history: pd.DataFrame
    trade: pd.DataFrame
    agreements: pd.DataFrame
    fingerprint: str
    notes: list[str] = field(default_factory=list)
    effects: pd.DataFrame = field(default_factory=pd.DataFrame)  # pending agreements (report 20)

    # -- derived views ------------------------------------------------------------------

    @property
    def m(self):
        return messages(self.settings.language)

    def _name(self, code: str) -> str:
        return label("partner", code, self.settings.language)

    @property
    def partner_name(self) -> str:
        """The partner's name in the brief's language."""
        return self._name(self.settings.partner)

    @property
    def sector_phrase(self) -> str:
        return label("sector_phrase", self.settings.sector, self.settings.language)

    def ranked(self) -> pd.DataFrame:
        """Ranked partners in rank order (rank, median, 5-95 % band, score)."""
        t = self.ranking.table  # type: ignore[attr-defined]
        return t[t["status"] == "ranked"].sort_values("rank").reset_index(drop=True)

    def row(self) -> pd.Series | None:
        """The partner's row of the ranking table, or None when it is not a candidate."""
        t = self.ranking.table.set_index("partner_iso3")  # type: ignore[attr-defined]
        return t.loc[self.settings.partner] if self.settings.partner in t.index else None

    def is_ranked(self) -> bool:
        r = self.row()
        return r is not None and r["status"] == "ranked"

    def pillar_scores(self) -> pd.DataFrame:
        """Pillar scores (0-1) of the top five and the partner, as the ranking computed them."""
        long = self.ranking.pillar_scores  # type: ignore[attr-defined]
        scores = long.pivot(index="partner_iso3", columns="pillar", values="score")
        order = list(dict.fromkeys(self._meta()["pillar"]))
        scores = scores[[p for p in order if p in scores.columns]]
        who = list(self.ranked()["partner_iso3"].head(5))
        if self.settings.partner in scores.index and self.settings.partner not in who:
            who.append(self.settings.partner)
        return scores.loc[[w for w in who if w in scores.index]]

    def _meta(self) -> pd.DataFrame:
        return self.ranking.data.meta  # type: ignore[attr-defined]

    def _values(self) -> pd.DataFrame:
        return self.ranking.data.values  # type: ignore[attr-defined]

    def indicator_label(self, code: str) -> str:
        """Catalogue label of an indicator, else the ranking's own (English) label."""
        m = self.m
        if m.has(f"label.indicator.{code}"):
            return m(f"label.indicator.{code}")
        meta = self._meta()
        return str(meta.at[code, "label"]) if code in meta.index else code

    def movers(self, n: int = 3) -> tuple[str | None, pd.DataFrame]:
        """Indicators where the partner trails the partner ranked just above it the most.

        The gap is in weighted contribution to the score (the ranking's drivers), so it is
        what the composite index itself says would close the distance.
        """
        if not self.is_ranked():
            return None, pd.DataFrame()
        ranked = self.ranked()
        pos = int(np.flatnonzero(ranked["partner_iso3"] == self.settings.partner)[0])
        if pos == 0:
            return None, pd.DataFrame()
        above = str(ranked["partner_iso3"].iloc[pos - 1])
        drv = self.ranking.drivers  # type: ignore[attr-defined]
        gap = (drv.loc[above] - drv.loc[self.settings.partner]).dropna()
        gap = gap[gap > 0].sort_values(ascending=False).head(n)
        meta = self._meta()
        vals = self._values()
        out = pd.DataFrame(
            {
                "indicator": gap.index,
                "pillar": meta.loc[gap.index, "pillar"].to_numpy(),
                "partner_value": vals.loc[self.settings.partner, gap.index].to_numpy(),
                "above_value": vals.loc[above, gap.index].to_numpy(),
                "unit": meta.loc[gap.index, "unit"].to_numpy(),
                "gap": gap.to_numpy(),
            }
        )
        return above, out

    def gravity_row(self) -> pd.Series | None:
        pot = self.potential
        if pot is None or pot.empty or self.settings.partner not in set(pot["partner_iso3"]):
            return None
        return pot.set_index("partner_iso3").loc[self.settings.partner]

    # -- sentences -----------------------------------------------------------------------

    def _actual_text(self, g: pd.Series) -> str:
        m = self.m
        if pd.notna(g["actual_usd_m"]):
            return m("brief.actual_value", value=g["actual_usd_m"])
        if pd.notna(g.get("actual_upper_usd_m")):
            return m("brief.actual_censored", bound=g["actual_upper_usd_m"])
        return m("brief.actual_unknown")

    def _effect_sentences(self) -> list[str]:
        """Each pending agreement's effect: on measured flows where a member has a published
        flow, otherwise on the gravity baseline (labelled), with its interval."""
        m, e = self.m, self.effects
        out = []
        tot = e[e["partner_iso3"] == "TOTAL"] if len(e) else e
        for key, g in tot.groupby("agreement", sort=False) if len(tot) else []:
            g = g.set_index("basis")
            if "actual" in g.index and pd.notna(g.loc["actual", "effect_usd_m"]):
                t = g.loc["actual"]
                basis = m("brief.basis_actual", flow=t["flow_usd_m"])
            elif "model" in g.index:
                t, basis = g.loc["model"], m("brief.basis_model")
            else:
                continue
            out.append(m("brief.f_agreement_effect", agreement=key, basis=basis,
                         effect=t["effect_usd_m"], lo=t["lo"], hi=t["hi"]))  # fmt: skip
        return out

    def key_findings(self) -> Findings:
        """Three to six sentences computed from the results, each linked to its section."""
        m, s = self.m, self.settings
        name, sector = self.partner_name, self.sector_phrase
        out: list[Finding] = []
        row = self.row()
        if self.is_ranked():
            lo, hi = int(row["rank_p05"]), int(row["rank_p95"])  # type: ignore[index]
            text = m(
                "brief.f_rank",
                partner=name,
                rank=int(row["rank"]),  # type: ignore[index]
                n=len(self.ranked()),
                sector=sector,
                draws=int(s.ranking.ranking.draws),  # type: ignore[union-attr]
                lo=lo,
                hi=hi,
            )
            width = hi - lo + 1
            key = "brief.f_rank_robust" if width <= 3 else "brief.f_rank_fragile"
            out.append(Finding(f"{text} {m(key, width=width)}", m("brief.h_rank")))
        else:
            coverage = float(row["coverage"]) if row is not None else 0.0
            out.append(
                Finding(
                    m("brief.f_unranked", partner=name, sector=sector, coverage=coverage),
                    m("brief.h_rank"),
                )
            )
        h = self.history
        listed = h[h["status"] == "observed"]
        if len(listed):
            best = listed.loc[listed["value"].idxmax()]
            out.append(
                Finding(
                    m(
                        "brief.f_history",
                        partner=name,
                        n_listed=len(listed),
                        n_years=h["year"].nunique(),
                        start=s.start_year,
                        end=s.end_year,
                        best_year=int(best["year"]),
                        best=float(best["value"]),
                    ),
                    m("brief.h_history"),
                )
            )
        else:
            out.append(
                Finding(
                    m("brief.f_history_none", partner=name, start=s.start_year, end=s.end_year),
                    m("brief.h_history"),
                )
            )
        a = self.agreements
        in_force = a[a["state"] == "in_force"]["agreement"].tolist()
        pending = a[a["state"] == "pending"]["agreement"].tolist()
        sentence = (
            m("brief.f_agreement_in_force", agreements="; ".join(in_force))
            if in_force
            else m("brief.f_agreement_none", partner=name)
        )
        if pending:
            sentence += " " + m("brief.f_agreement_pending", agreements="; ".join(pending))
        for text in self._effect_sentences():
            sentence += " " + text
        out.append(Finding(sentence, m("brief.h_agreements")))
        g = self.gravity_row()
        if g is not None:
            out.append(
                Finding(
                    m(
                        "brief.f_gravity",
                        partner=name,
                        predicted=g["predicted_usd_m"],
                        year=int(g["year"]),
                        lo=g["ci_low"],
                        hi=g["ci_high"],
                        actual=self._actual_text(g),
                    ),
                    m("brief.h_gravity"),
                )
            )
        above, mv = self.movers()
        if above is not None and len(mv):
            first = mv.iloc[0]
            out.append(
                Finding(
                    m(
                        "brief.f_move",
                        indicator=self.indicator_label(first["indicator"]),
                        pillar=label("pillar", first["pillar"], s.language),
                        above=self._name(above),
                    ),
                    m("brief.h_move"),
                )
            )
        return findings_block(out, s.language)

    # -- what the report shows -------------------------------------------------------------

    def title(self):
        """The brief's title (first-level heading) and introduction, as Markdown."""
        m = self.m
        sector_title = label("sector", self.settings.sector, self.settings.language)
        text = m("brief.title", partner=self.partner_name, sector=sector_title)
        intro = m(
            "brief.intro",
            partner=self.partner_name,
            n=len(self.ranked()),
            sector=self.sector_phrase,
            language_note=m("brief.language_note"),
        )
        return heading(f"{text}\n\n{intro}", level=1)

    def heading(self, key: str):
        """A section heading from the catalogue (``brief.h_<key>``)."""
        return heading(self.m(f"brief.h_{key}"))

    def table(self, name: str) -> Table:
        """One of the brief's tables, formatted in its language.

        ``rank``, ``profile``, ``history``, ``trade``, ``agreements``, ``gravity``, ``movers``.
        """
        m, lang, s = self.m, self.settings.language, self.settings
        if name == "rank":
            ranked = self.ranked()
            keep = list(ranked["partner_iso3"].head(5))
            if s.partner not in keep:
                keep.append(s.partner)
            t = (
                self.ranking.table.set_index("partner_iso3")
                .loc[  # type: ignore[attr-defined]
                    [k for k in keep if k in set(self.ranking.table["partner_iso3"])]  # type: ignore[attr-defined]
                ]
                .reset_index()
            )
            t["band"] = [
                f"{int(a)}-{int(b)}" if pd.notna(a) else None
                for a, b in zip(t["rank_p05"], t["rank_p95"], strict=True)
            ]
            return format_table(
                t,
                language=lang,
                title=m("brief.rank_caption", n=len(ranked)),
                columns=["partner_iso3", "rank", "median_rank", "band", "score", "status"],
                labels={"band": m("label.column.rank_band")},
                codes={"partner_iso3": "partner", "status": "status"},
                digits={"score": 3, "rank": 0, "median_rank": 0},
                source=m("chart.source_ranking"),
            )
        if name == "profile":
            scores = self.pillar_scores()
            wide = scores.T
            wide.index = [label("pillar", p, lang) for p in wide.index]
            wide.index.name = m("label.column.pillar")
            wide.columns = [self._name(c) for c in wide.columns]
            table = format_table(
                wide.reset_index(),
                language=lang,
                title=m("brief.profile_caption"),
                digits=2,
                source=m("chart.source_ranking"),
            )
            table.data = scores.rename_axis("partner_iso3").reset_index()  # codes in the CSV
            return table
        if name == "history":
            h = self.history.copy()
            return format_table(
                h,
                language=lang,
                title=m("brief.history_caption", partner=self.partner_name),
                columns=["year", "value", "status"],
                labels={"value": m("brief.col_pma")},
                codes={"status": "status"},
                bounds={"value": "upper_bound"},
                digits={"value": 0},
                source=m("chart.source_ledger"),
            )
        if name == "trade":
            t = self.trade.copy()
            t["publisher"] = t["source"].map(_publisher)
            return format_table(
                t,
                language=lang,
                title=m("brief.trade_caption"),
                columns=["indicator", "year", "value", "publisher"],
                labels={"publisher": m("label.column.source")},
                codes={"indicator": "indicator"},
                units={"value": "usd_bn"},
                digits={"value": 1},
                notes=[m("brief.full_sources")],
                source=m("chart.source_panel"),
            )
        if name == "agreements":
            a = self.agreements.copy()
            a["note"] = a["note"].where(a["state"] == "pending", "")
            a["state"] = [m(f"brief.state_{x}") for x in a["state"]]
            return format_table(
                a,
                language=lang,
                title=m("brief.agreements_caption", partner=self.partner_name),
                columns=["agreement", "state", "in_force_since", "note"],
                source="data/raw/partners/agreements_eif.csv",
            )
        if name == "gravity":
            g = self.gravity_row()
            if g is None:
                return format_table(pd.DataFrame(), language=lang)
            frame = pd.DataFrame(
                {
                    "year": [int(g["year"])],
                    "predicted": [g["predicted_usd_m"]],
                    "interval": [f"{m.number(g['ci_low'], 0)} – {m.number(g['ci_high'], 0)}"],
                    "actual": [self._actual_text(g)],
                }
            )
            return format_table(
                frame,
                language=lang,
                title=m("brief.gravity_caption"),
                labels={
                    "predicted": m("brief.col_predicted"),
                    "interval": m("brief.col_interval"),
                    "actual": m("brief.col_actual"),
                },
                digits={"predicted": 0},
                source=m("chart.source_gravity"),
            )
        if name == "movers":
            above, mv = self.movers()
            if above is None:
                return format_table(pd.DataFrame(), language=lang)
            mv = mv.copy()
            mv["indicator"] = [self.indicator_label(c) for c in mv["indicator"]]
            return format_table(
                mv,
                language=lang,
                title=m("brief.move_caption", partner=self.partner_name),
                columns=["indicator", "pillar", "partner_value", "above_value", "unit", "gap"],
                labels={
                    "partner_value": m("brief.col_partner_value", partner=self.partner_name),
                    "above_value": m("brief.col_above_value", partner=self._name(above)),
                    "gap": m("brief.col_gap"),
                },
                codes={"pillar": "pillar", "unit": "unit_text"},
                digits={"gap": 3, "partner_value": 1, "above_value": 1},
                source=m("chart.source_ranking"),
            )
        raise KeyError(f"no table {name!r} in a partner brief")

    TABLES: tuple[str, ...] = (
        "rank",
        "profile",
        "history",
        "trade",
        "agreements",
        "gravity",
        "movers",
    )

    def empty_note(self, name: str) -> str | None:
        """What to say instead of an empty table."""
        keys = {
            "history": "brief.history_none",
            "trade": "brief.trade_none",
            "gravity": "brief.gravity_none",
            "movers": "brief.move_none",
        }
        return self.m(keys[name]) if name in keys else None

    @property
    def report_name(self) -> str:
        """Name of the brief's report: ``40-partner-brief--<sector>-<partner>-<language>``."""
        s = self.settings
        return f"40-partner-brief--{s.sector}-{s.partner.lower()}-{s.language}"

    def show(self, name: str) -> None:
        """Display one table (or why it is empty) and write it as CSV for the report."""
        from analysis.formatting import show

        show(self.table(name), name, report=self.report_name, empty=self.empty_note(name))

    def tables(self) -> dict[str, pd.DataFrame]:
        """The brief's numbers (``history``, ``trade``, ``agreements``, ``potential``,
        ``ranked``)."""
        return {
            "history": self.history,
            "trade": self.trade,
            "agreements": self.agreements,
            "potential": self.potential,
            "ranked": self.ranked(),
        }

    def write_tables(self, report: str = "40-partner-brief") -> dict[str, object]:
        """Write every table of :meth:`tables` as CSV; return ``{name: path}``."""
        from analysis.tables import write_table

        return {name: write_table(t, name, report=report) for name, t in self.tables().items()}

    def figures(self) -> dict[str, object]:
        """The brief's figures by name (drawn by :mod:`analysis.plots`)."""
        return {"profile": self.plot_profile()}

    def plot_profile(self):
        """Grouped bars: pillar scores of the partner against the top five."""
        from analysis.plots import plot_pillar_profile

        return plot_pillar_profile(
            self.pillar_scores(),
            self.settings.partner,
            title=self.m("brief.chart_profile", partner=self.partner_name),
            language=self.settings.language,
        )

    def to_frame(self) -> pd.DataFrame:
        """The partner's facts in long form: one row per (section, item, value)."""
        rows = []
        row = self.row()
        if row is not None:
            for k in ("rank", "median_rank", "rank_p05", "rank_p95", "score", "coverage"):
                rows.append({"section": "rank", "item": k, "value": row.get(k)})
        for p, v in (
            self.pillar_scores().loc[self.settings.partner].items()
            if (self.settings.partner in self.pillar_scores().index)
            else []
        ):
            rows.append({"section": "pillar", "item": p, "value": v})
        for r in self.history.itertuples(index=False):
            rows.append({"section": "pma_usd_m", "item": int(r.year), "value": r.value})
        g = self.gravity_row()
        if g is not None:
            for k in ("predicted_usd_m", "ci_low", "ci_high", "actual_usd_m"):
                rows.append({"section": "gravity", "item": k, "value": g[k]})
        out = pd.DataFrame(rows, columns=["section", "item", "value"])
        return out.assign(partner_iso3=self.settings.partner, sector=self.settings.sector)

    def summary(self) -> Summary:
        """The brief as a plain summary (settings, key findings, main tables)."""
        return Summary(
            title=f"Partner brief: {self.settings.partner}, {self.settings.sector}",
            settings={**asdict(self.settings), "fingerprint": self.fingerprint},
            tables=[(n, self.table(n).to_frame()) for n in ("rank", "history", "gravity")],
            notes=[f.text for f in self.key_findings().findings],
        )


def run_brief(settings: BriefSettings, ledger: Ledger | None = None) -> PartnerBrief:
    """Compute a partner brief (ledger built with default settings when not given)."""
    if ledger is None:
        from analysis.studies.inputs import inputs

        ledger = inputs().ledger
    potential = _gravity(ledger, settings.gravity)
    ranking = _ranking(ledger, settings.ranking)
    panel = ledger.partner_panel([settings.partner], periods=["FY"])
    panel = panel[panel["year"].between(settings.start_year, settings.end_year)]
    history = panel[["year", "value", "upper_bound", "status", "flags"]].reset_index(drop=True)
    fingerprint = hashlib.sha256(
        json.dumps(
            {"data": ledger.fingerprint, "settings": asdict(settings)}, sort_keys=True, default=str
        ).encode()
    ).hexdigest()[:16]
    return PartnerBrief(
        settings=settings,
        ranking=ranking,
        potential=potential,
        history=history,
        trade=_trade(settings.partner, settings.sector, settings.end_year),
        agreements=_agreements(settings.partner, settings.end_year),
        fingerprint=fingerprint,
        effects=_effects(ledger, settings.gravity, settings.partner),
    )


def _effects(ledger: Ledger, gravity: GravityStudySettings, partner: str) -> pd.DataFrame:
    """Pending agreements' effects covering the partner (report 20's numbers, no refit)."""
    from analysis.studies.gravity import agreement_effects

    return agreement_effects(gravity, partner=partner, ledger=ledger)


@contextlib.contextmanager
def _root_logging_kept():
    """Undo a library's ``logging.basicConfig(level=INFO)`` (the gravity fit's dependencies
    call it), so planning a batch does not flood the console with INFO lines."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        yield
    finally:
        root.setLevel(level)
        for h in list(root.handlers):
            if h not in handlers:
                root.removeHandler(h)


def _planning_ledger(params) -> Ledger:
    """The ledger of ``params``, built once per process for planning briefs."""
    from analysis.studies.inputs import inputs

    with _root_logging_kept():
        return inputs(params).ledger


@cache
def _top(sector: str, n: int, files: tuple[str, ...]) -> tuple[str, ...]:
    from dataclasses import replace

    from analysis.config import load_params
    from analysis.studies.ranking import settings as ranking_settings

    p = load_params(*files)
    s = ranking_settings(p)
    # The nominal rank does not depend on the Monte Carlo: a few draws suffice here.
    s = replace(s, sector=sector, compare_sectors=False, ranking=replace(s.ranking, draws=100))
    with _root_logging_kept():
        ranking = _ranking(_planning_ledger(p), s)
    t = ranking.table
    t = t[t["status"] == "ranked"].sort_values("rank")
    return tuple(t["partner_iso3"].head(n))


def top_partners(
    sector: str, n: int = 3, files: Sequence[str] = ("params/base.yaml",)
) -> list[str]:
    """The ``n`` best-ranked partners of a sector under the params ``files`` (nominal rank)."""
    return list(_top(sector, n, tuple(files)))
