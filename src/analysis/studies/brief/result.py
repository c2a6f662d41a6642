"""The brief's result: :class:`PartnerBrief`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from analysis.base.i18n import label, messages
from analysis.base.summary import Summary
from analysis.present.formatting import (
    Finding,
    Findings,
    Table,
    censored_text,
    findings_block,
    format_table,
    heading,
)

from .settings import LEVERS, BriefSettings
from .sources import (
    BRIEF_FILES,
    FIRMS_SHOWN,
    _agreement_name,
    _company_name,
    _digits_of_unit,
    _league,
    _publishers,
)

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
    sides: pd.DataFrame = field(default_factory=pd.DataFrame)
    projects: pd.DataFrame = field(default_factory=pd.DataFrame)
    firms: pd.DataFrame = field(default_factory=pd.DataFrame)

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

    @property
    def sector_definition(self) -> str:
        """The ranking's sector definition in words (e.g. SITC 5 less 54)."""
        return self.m(f"brief.sector_definition_{self.settings.sector}")

    def instrument_name(self, kind: str, name: str) -> str:
        """An agreement or treaty's name in the brief's language (official Indonesian names:
        P4M for an investment treaty, P3B for a tax treaty; catalogue names for agreements)."""
        m, partner = self.m, self.partner_name
        if kind == "tax_treaty":
            return m("brief.name_tax_treaty", partner=partner)
        if kind == "investment_treaty" and re.search(r"\bBIT\b", name) and "no BIT" not in name:
            year = re.search(r"\((\d{4})\)", name)
            text = m("brief.name_bit", partner=partner)
            return f"{text} ({year.group(1)})" if year else text
        return _agreement_name(name, self.settings.language)

    def period_text(self, year: int, period: str) -> str:
        """``2024`` for a full year, ``January-September 2025`` for a partial one."""
        if period == "FY":
            return str(int(year))
        return f"{label('period', period, self.settings.language)} {int(year)}"

    def side_when(self, year: object, code: object, first: object) -> str:
        """When an investment statement applies, from its structured fields: ``2024``,
        ``first half 2023`` (a period code), ``2016–2020`` (cumulative), never the
        compiler's English wording of the period."""
        if year is None or pd.isna(year):  # type: ignore[arg-type]
            return self.m("common.not_available")
        y, code = int(year), str(code or "")  # type: ignore[call-overload]
        if code and self.m.has(f"label.period.{code}"):
            return self.period_text(y, code)
        if first is not None and pd.notna(first) and int(first) != y:  # type: ignore[call-overload]
            return f"{int(first)}–{y}"  # type: ignore[call-overload]
        return str(y)

    def side_what(self, side: str, kind: str, sector: str, industry: str) -> str:
        """What an investment statement covers, in the brief's language: the ledger sector
        and BKPM's statement kind, or the partner's industry and measure. An industry the
        catalogue cannot name is not copied into an Indonesian brief (the CSV has it)."""
        m, lang = self.m, self.settings.language
        if side == "bkpm" and not industry:
            what = label("ledger_sector", sector, lang)
            if what == sector:  # a report sector's code (pharma): its catalogue name
                what = label("sector", sector, lang)
            kind_key = f"brief.statement_{kind}"
        else:
            slug = re.sub(r"[^a-z0-9]+", "_", str(industry).lower()).strip("_")
            key = f"brief.industry_{slug}"
            other = industry if lang == "en" else m("brief.industry_other")
            what = m(key) if m.has(key) else other
            kind_key = f"brief.{'statement' if side == 'bkpm' else 'measure'}_{kind}"
        if m.has(kind_key):
            return m("brief.what_item", what=what, kind=m(kind_key))
        return m("brief.what_item", what=what, kind=kind) if lang == "en" else what

    def league_text(self, list_name: object, list_year: object) -> str:
        """A league table as the brief names it: its title in English; in Bahasa Indonesia
        from its structured fields (publisher, size, data year), never the English title."""
        m = self.m
        if self.settings.language == "en":
            return str(list_name)
        publisher, top = _league(list_name)
        year = int(list_year) if pd.notna(list_year) else m("common.not_available")  # type: ignore[call-overload]
        if publisher and top:
            return m("brief.league_top", publisher=publisher, top=top, year=year)
        if publisher:
            return m("brief.league_named", publisher=publisher, year=year)
        return m("brief.league_other", year=year)

    def company_text(self, company: object) -> str:
        """A company as written: in English as compiled; in Bahasa Indonesia its proper name
        only (:func:`_company_name`), "name not given" for an unnamed one."""
        if self.settings.language == "en":
            return str(company)
        name = _company_name(company)
        return name if name else self.m("brief.company_unnamed")

    def ranking_source(self) -> str:
        """Source line of the ranking: the publishers of the indicators it actually used."""
        meta = self._meta()
        return self.m("brief.source_ranking", publishers=_publishers(meta["source"], self.m))

    def trade_source(self) -> str:
        """Source line of the trade table: the publishers of the figures shown."""
        return self.m("brief.source_trade", publishers=_publishers(self.trade["source"], self.m))

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
        """Levers: indicators Indonesia or the partner can act on where the partner trails
        the partner ranked just above it the most (:data:`LEVERS`).

        The gap is in weighted contribution to the score (the ranking's drivers), so it is
        what the composite index itself says would close the distance. Geography, market
        size and industrial structure (distance, sub-region, GDP, sector exports) are not
        levers and are never shown here.
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
        gap = gap[gap.index.isin(LEVERS)]
        gap = gap[gap > 0].sort_values(ascending=False).head(n)
        meta = self._meta()
        vals = self._values()
        out = pd.DataFrame(
            {
                "indicator": gap.index,
                "pillar": meta.loc[gap.index, "pillar"].to_numpy(),
                "partner_value": vals.loc[self.settings.partner, gap.index].to_numpy(),
                "partner_upper": self._upper(self.settings.partner, gap.index),
                "above_value": vals.loc[above, gap.index].to_numpy(),
                "above_upper": self._upper(above, gap.index),
                "unit": meta.loc[gap.index, "unit"].to_numpy(),
                "gap": gap.to_numpy(),
            }
        )
        return above, out

    def _upper(self, partner: str, codes) -> np.ndarray:
        """Upper bounds of censored indicator values (PMA below the list), else NaN."""
        upper = getattr(self.ranking.data, "upper", None)  # type: ignore[attr-defined]
        out = np.full(len(codes), np.nan)
        if upper is None or partner not in upper.index:
            return out
        for i, c in enumerate(codes):
            if c in upper.columns:
                out[i] = upper.at[partner, c]
        return out

    def gravity_row(self, scope: str = "total") -> pd.Series | None:
        """The partner's gravity potential, ``total`` (all sectors) or ``sector``."""
        pot = self.potential
        if pot is None or pot.empty:
            return None
        if "scope" in pot.columns:
            pot = pot[pot["scope"] == scope]
        if self.settings.partner not in set(pot["partner_iso3"]):
            return None
        return pot.set_index("partner_iso3").loc[self.settings.partner]

    # -- sentences -----------------------------------------------------------------------

    def _actual_text(self, g: pd.Series) -> str:
        """Listed value, "below x" (censored by the top-N list), or not published."""
        m = self.m
        if pd.notna(g["actual_usd_m"]) and g.get("actual_status") == "measured":
            # Not in BKPM's list: the figure is the partner's own outward FDI (a mirror).
            return m("brief.actual_mirror", value=g["actual_usd_m"], partner=self.partner_name)
        if pd.notna(g["actual_usd_m"]):
            return m("brief.actual_value", value=g["actual_usd_m"])
        if pd.notna(g.get("actual_upper_usd_m")):
            return m("brief.actual_censored", bound=g["actual_upper_usd_m"])
        if g.get("scope") == "sector":
            return m("brief.actual_sector_unpublished")
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
            own = self._own_effect(key)
            if own:
                out[-1] += " " + own
        return out

    def _own_effect(self, agreement: str) -> str | None:
        """The effect on the partner's own measured flow: a value when BKPM lists it, else
        the bounds implied by "below x" (report 20's partner row)."""
        m, e, s = self.m, self.effects, self.settings
        row = e[(e["agreement"] == agreement) & (e["partner_iso3"] == s.partner)]
        row = row[row["basis"] == "actual"]
        if row.empty:
            return None
        r = row.iloc[0]
        if pd.notna(r.get("effect_usd_m")):
            return m("brief.f_effect_partner", partner=self.partner_name,
                     effect=r["effect_usd_m"], lo=r["lo"], hi=r["hi"])  # fmt: skip
        g = self.gravity_row("total")
        bound = g["actual_upper_usd_m"] if g is not None else np.nan
        if pd.isna(r.get("hi")) or pd.isna(bound) or int(g["year"]) != int(r["year"]):  # type: ignore[index]
            return None
        return m("brief.f_effect_partner_bounded", partner=self.partner_name, bound=bound,
                 lo=r["lo"], hi=r["hi"])  # fmt: skip

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
                candidates=m.plural("plural.candidate_partners", len(self.ranked())),
                sector=sector,
                draws=int(s.ranking.ranking.draws),  # type: ignore[union-attr]
                lo=lo,
                hi=hi,
            )
            width = hi - lo + 1
            key = "brief.f_rank_robust" if width <= 3 else "brief.f_rank_fragile"
            places = m.plural("plural.places", width)
            out.append(Finding(f"{text} {m(key, places=places)}", m("brief.h_rank")))
        else:
            coverage = float(row["coverage"]) if row is not None else 0.0
            out.append(
                Finding(
                    m("brief.f_unranked", partner=name, sector=sector, coverage=coverage),
                    m("brief.h_rank"),
                )
            )
        h = self.history[self.history["period"] == "FY"]
        listed = h[h["status"] == "observed"]
        if len(listed):
            best = listed.loc[listed["value"].idxmax()]
            out.append(
                Finding(
                    m(
                        "brief.f_history",
                        partner=name,
                        n_listed=len(listed),
                        years=m.plural("plural.years", h["year"].nunique()),
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
        names = {r.agreement: self.instrument_name(r.kind, r.agreement) for r in a.itertuples()}
        in_force = [names[x] for x in a[a["state"] == "in_force"]["agreement"]]
        pending = [names[x] for x in a[a["state"] == "not_in_force"]["agreement"]]
        unknown = [names[x] for x in a[a["state"] == "unknown"]["agreement"]]
        sentence = (
            m("brief.f_agreement_in_force", agreements="; ".join(in_force), year=s.end_year)
            if in_force
            else m("brief.f_agreement_none", partner=name)
        )
        if pending:
            sentence += " " + m("brief.f_agreement_pending", agreements="; ".join(pending))
        if unknown:
            sentence += " " + m("brief.f_agreement_unknown", agreements="; ".join(unknown))
        for text in self._effect_sentences():
            sentence += " " + text
        out.append(Finding(sentence, m("brief.h_agreements")))
        g, gs = self.gravity_row("total"), self.gravity_row("sector")
        if g is not None:
            text = m(
                "brief.f_gravity",
                partner=name,
                predicted=g["predicted_usd_m"],
                year=int(g["year"]),
                lo=g["ci_low"],
                hi=g["ci_high"],
                actual=self._actual_text(g),
            )
            if gs is not None:
                text += " " + m(
                    "brief.f_gravity_sector",
                    sector=sector,
                    predicted=gs["predicted_usd_m"],
                    lo=gs["ci_low"],
                    hi=gs["ci_high"],
                )
            out.append(Finding(text, m("brief.h_gravity")))
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
        # The sector in running text, lower case ("Indonesia's chemicals industry").
        text = m("brief.title", partner=self.partner_name, sector=self.sector_phrase)
        intro = m(
            "brief.intro",
            partner=self.partner_name,
            candidates=m.plural("plural.candidate_partners", len(self.ranked())),
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
                source=self.ranking_source(),
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
                source=self.ranking_source(),
            )
            table.data = scores.rename_axis("partner_iso3").reset_index()  # codes in the CSV
            return table
        if name == "history":
            h = self.history.copy()
            h["when"] = [
                self.period_text(y, p) for y, p in zip(h["year"], h["period"], strict=True)
            ]
            return format_table(
                h,
                language=lang,
                title=m("brief.history_caption_total", partner=self.partner_name),
                columns=["when", "value", "status"],
                labels={"value": m("brief.col_pma"), "when": m("label.column.period")},
                codes={"status": "status"},
                bounds={"value": "upper_bound"},
                digits={"value": 0},
                source=m("chart.source_ledger"),
            )
        if name == "trade":
            t = self.trade.copy()
            # Each row's publishers by their catalogue names (never the raw reference).
            t["publisher"] = [_publishers([x], m) for x in t["source"]]
            t["indicator"] = [
                m("brief.trade_sector_exports", sector=self.sector_phrase)
                if c == "sector_exports"
                else self.indicator_label(c)
                for c in t["indicator"]
            ]
            return format_table(
                t,
                language=lang,
                title=m("brief.trade_caption"),
                columns=["indicator", "year", "value", "publisher"],
                labels={"publisher": m("label.column.source")},
                units={"value": "usd_bn"},
                digits={"value": 1},
                notes=[
                    m("brief.trade_definition", definition=self.sector_definition),
                    m("brief.trade_no_bilateral_sector", partner=self.partner_name),
                ],
                source=self.trade_source(),
            )
        if name == "agreements":
            a = self.agreements.copy()
            a["agreement"] = [
                self.instrument_name(k, x) for k, x in zip(a["kind"], a["agreement"], strict=True)
            ]
            a["kind"] = [m(f"brief.kind_{k}") for k in a["kind"]]
            a["state"] = [m(f"brief.state_{x}") for x in a["state"]]
            # A year-only date (flag in_force_year_only) is written as its year.
            a["in_force_since"] = [
                (x[:4] if "year_only" in f else m.date(x)) if x else ""
                for x, f in zip(a["in_force_since"], a["flags"], strict=True)
            ]
            return format_table(
                a,
                language=lang,
                title=m(
                    "brief.agreements_caption_on",
                    partner=self.partner_name,
                    date=m.date(f"{s.end_year}-12-31"),
                ),
                columns=["kind", "agreement", "state", "in_force_since"],
                labels={"kind": m("brief.col_kind")},
                notes=[m("brief.agreements_note")],
                source=m("chart.source_agreements"),
            )
        if name == "investment":
            t = self.sides.copy()
            if t.empty:
                return format_table(pd.DataFrame(), language=lang)
            raw_side = t["side"].copy()
            t["side"] = [
                m("brief.side_bkpm")
                if x == "bkpm"
                else m("brief.side_partner", partner=self.partner_name)
                for x in t["side"]
            ]
            # Shown: text from the structured fields; the CSV keeps the wording as published.
            t["when_text"] = [
                self.side_when(y, c, f)
                for y, c, f in zip(t["year"], t["period_code"], t["year_first"], strict=True)
            ]
            t["what_text"] = [
                self.side_what(*r)
                for r in zip(raw_side, t["kind"], t["sector"], t["industry"], strict=True)
            ]
            return format_table(
                t,
                language=lang,
                title=m("brief.investment_caption", partner=self.partner_name),
                columns=["side", "when_text", "what_text", "value_usd_m"],
                labels={
                    "side": m("brief.col_side"),
                    "when_text": m("label.column.period"),
                    "what_text": m("brief.col_what"),
                    "value_usd_m": m("brief.col_pma"),
                },
                digits={"value_usd_m": 0},
                # The warning against adding the sides matters only when both are shown.
                notes=[m("brief.investment_note")] if raw_side.nunique() > 1 else [],
                source=m("brief.source_investment"),
            )
        if name == "projects":
            t = self.projects.copy()
            if t.empty:
                return format_table(pd.DataFrame(), language=lang)
            t["status"] = [m(f"brief.project_{x}") for x in t["status"]]
            t["company_text"] = [self.company_text(c) for c in t["company"]]
            # A project's description is the compiler's English: shown in an English brief;
            # in Bahasa Indonesia the structured facts only (the CSV keeps the description).
            english = lang == "en"
            notes = [m("brief.projects_note")]
            if not english:
                notes.append(m("brief.projects_note_descriptions"))
            return format_table(
                t,
                language=lang,
                title=m(
                    "brief.projects_caption", partner=self.partner_name, sector=self.sector_phrase
                ),
                columns=[
                    "company_text",
                    *(["project"] if english else []),
                    "amount_usd_m",
                    "status",
                    "year_announced",
                    "year_status",
                ],
                labels={
                    "company_text": m("brief.col_company"),
                    "project": m("brief.col_project"),
                    "amount_usd_m": m("brief.col_amount"),
                    "status": m("brief.col_project_status"),
                    "year_announced": m("brief.col_year_announced"),
                    "year_status": m("brief.col_year_status"),
                },
                digits={"amount_usd_m": 0},
                notes=notes,
                source=m("brief.source_projects"),
            )
        if name == "gravity":
            rows = []
            for scope in ("total", "sector"):
                g = self.gravity_row(scope)
                if g is None:
                    continue
                what = (
                    m("brief.gravity_total")
                    if scope == "total"
                    else m("brief.gravity_sector", sector=self.sector_phrase)
                )
                rows.append(
                    {
                        "scope": what,
                        "year": int(g["year"]),
                        "predicted": g["predicted_usd_m"],
                        "interval": f"{m.number(g['ci_low'], 0)}–{m.number(g['ci_high'], 0)}",
                        "actual": self._actual_text(g),
                    }
                )
            if not rows:
                return format_table(pd.DataFrame(), language=lang)
            return format_table(
                pd.DataFrame(rows),
                language=lang,
                title=m("brief.gravity_caption"),
                labels={
                    "scope": m("brief.col_scope"),
                    "predicted": m("brief.col_predicted"),
                    "interval": m("brief.col_interval"),
                    "actual": m("brief.col_actual"),
                },
                digits={"predicted": 0},
                source=m("brief.source_gravity"),
            )
        if name == "movers":
            above, mv = self.movers()
            if above is None:
                return format_table(pd.DataFrame(), language=lang)
            mv = mv.copy()
            mv["indicator"] = [self.indicator_label(c) for c in mv["indicator"]]
            # Each row in its own unit: whole US$ millions and 0/1, one decimal otherwise;
            # a value below BKPM's list reads "< x".
            for col in ("partner", "above"):
                mv[f"{col}_text"] = [
                    (
                        censored_text(b, _digits_of_unit(u), lang)
                        if pd.isna(v) and pd.notna(b)
                        else m.number(v, _digits_of_unit(u))
                    )
                    for v, b, u in zip(
                        mv[f"{col}_value"], mv[f"{col}_upper"], mv["unit"], strict=True
                    )
                ]
            table = format_table(
                mv,
                language=lang,
                title=m("brief.move_caption", partner=self.partner_name),
                columns=["indicator", "pillar", "partner_text", "above_text", "unit", "gap"],
                labels={
                    "partner_text": m("brief.col_partner_value", partner=self.partner_name),
                    "above_text": m("brief.col_above_value", partner=self._name(above)),
                    "gap": m("brief.col_gap"),
                },
                codes={"pillar": "pillar", "unit": "unit_text"},
                digits={"gap": 3},
                source=m("brief.source_ranking_above"),  # the rank table names the publishers
            )
            # The values are numbers written per row: right-aligned, never wrapped ("< 3,700").
            table.numeric += list(table.frame.columns[2:4])
            return table
        raise KeyError(f"no table {name!r} in a partner brief")

    TABLES: tuple[str, ...] = (
        "rank",
        "profile",
        "history",
        "investment",
        "trade",
        "projects",
        "agreements",
        "gravity",
        "movers",
    )

    def data_hashes(self, ledger_hashes: Mapping[str, str]) -> dict[str, str]:
        """sha256 of every data file the brief reads: the ledger's, then the files of the
        partner x sector statements, projects, investor tables, treaties and agreements
        (each checked against ``data/provenance.csv``)."""
        from analysis.data.provenance import verify_file

        out = dict(ledger_hashes)
        for rel in BRIEF_FILES:
            out.setdefault(rel, verify_file(rel))
        return out

    def firms_text(self) -> str:
        """One sentence: the partner's firms in the sector's league tables, or none found."""
        f, m = self.firms, self.m
        if f.empty:
            return m("brief.firms_none", partner=self.partner_name, sector=self.sector_phrase)
        if self.settings.language != "en":  # names cleaned of remarks may coincide
            f = f.assign(shown=[self.company_text(c) for c in f["company"]])
            f = f.drop_duplicates("shown")
        items = "; ".join(
            m(
                "brief.firm_item",
                company=self.company_text(r.company),
                rank=int(r.rank),
                list=self.league_text(r.list_name, r.list_year),
            )
            if pd.notna(r.rank)
            else m(
                "brief.firm_item_unranked",
                company=self.company_text(r.company),
                list=self.league_text(r.list_name, r.list_year),
            )
            for r in f.head(FIRMS_SHOWN).itertuples()
        )
        return m("brief.firms", partner=self.partner_name, sector=self.sector_phrase, firms=items)

    def empty_note(self, name: str) -> str | None:
        """What to say instead of an empty table."""
        if name == "investment":
            return self.m(
                "brief.investment_none", partner=self.partner_name, sector=self.sector_phrase
            )
        if name == "projects":
            return self.m(
                "brief.projects_none", partner=self.partner_name, sector=self.sector_phrase
            )
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

    def show(self, name: str, *, shown: bool = True) -> None:
        """Display one table (or why it is empty) and write it as CSV for the report.

        ``shown=False`` writes the CSV only (a table whose chart the brief shows instead,
        so the brief keeps to two printed pages).
        """
        from analysis.present.formatting import show
        from analysis.present.tables import write_table

        table = self.table(name)
        if shown:
            show(table, name, report=self.report_name, empty=self.empty_note(name))
        elif len(table):
            write_table(table.data, name, report=self.report_name)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The brief's numbers (``history``, ``trade``, ``agreements``, ``potential``,
        ``ranked``, ``investment``, ``projects``, ``firms``, ``agreement_effects``)."""
        return {
            "history": self.history,
            "trade": self.trade,
            "agreements": self.agreements,
            "potential": self.potential,
            "ranked": self.ranked(),
            "investment": self.sides,
            "projects": self.projects,
            "firms": self.firms,
            "agreement_effects": self.effects,
        }

    def write_tables(self, report: str = "40-partner-brief") -> dict[str, object]:
        """Write every table of :meth:`tables` as CSV; return ``{name: path}``."""
        from analysis.present.tables import write_table

        return {name: write_table(t, name, report=report) for name, t in self.tables().items()}

    def figures(self) -> dict[str, object]:
        """The brief's figures by name (drawn by :mod:`analysis.present.plots`)."""
        return {"profile": self.plot_profile()}

    def plot_profile(self):
        """Grouped bars: pillar scores of the partner against the top five."""
        from analysis.present.plots import plot_pillar_profile

        return plot_pillar_profile(
            self.pillar_scores(),
            self.settings.partner,
            title=self.m("brief.chart_profile", partner=self.partner_name),
            language=self.settings.language,
            source=self.ranking_source(),
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
        for scope in ("total", "sector"):
            g = self.gravity_row(scope)
            if g is not None:
                for k in ("predicted_usd_m", "ci_low", "ci_high", "actual_usd_m"):
                    rows.append({"section": f"gravity_{scope}", "item": k, "value": g[k]})
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
