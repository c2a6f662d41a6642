"""The gravity study's result, :class:`GravityStudy`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from analysis.base.i18n import count, label, messages
from analysis.base.summary import Summary
from analysis.models.censored import CensoredGravityResult
from analysis.models.gravity import GravityResult
from analysis.present.formatting import Findings, Table, findings_block, format_table, show

from .multihost import MULTIHOST_LABEL
from .settings import (
    MODEL_LABEL,
    REPORT,
    SECTIONS,
    SUMMARY_POTENTIAL_COLUMNS,
    GravityStudySettings,
)

# -- result ---------------------------------------------------------------------------------


@dataclass
class GravityStudy:
    """The gravity report's result: fits, potential, counterfactual and their settings."""

    settings: GravityStudySettings
    mode: str
    fit: CensoredGravityResult
    listed_fit: GravityResult | None
    frame: pd.DataFrame
    dropped: pd.DataFrame
    potential: pd.DataFrame
    counterfactual: pd.DataFrame
    sector_inputs: pd.DataFrame
    fingerprint: str
    notes: list[str] = field(default_factory=list)
    multihost: GravityResult | None = None
    agreement_effects: pd.DataFrame = field(default_factory=pd.DataFrame)
    distribution: pd.DataFrame = field(default_factory=pd.DataFrame)
    coverage: pd.DataFrame = field(default_factory=pd.DataFrame)

    def coefficients(self) -> pd.DataFrame:
        """``term, estimate, se, source`` (source = estimated | prior | fixed), plus citation
        and the model: the potential's model first (multi-host when used), then the
        Indonesia fit (which always gives the agreement effect)."""
        t = self.fit.table[~self.fit.table["term"].str.startswith("year_")].copy()
        t["model"] = MODEL_LABEL
        cite = {term: p.source for term, p in self.fit.settings.priors.items()}
        cite.update({term: c for term, _, c in self.settings.fixed})
        t["citation"] = t["term"].map(cite).fillna("")
        t = t[["term", "estimate", "se", "source", "citation", "model"]]
        if self.multihost is not None:
            m = self.multihost.table[["term", "estimate", "se"]].assign(
                source="estimated", citation="", model=MULTIHOST_LABEL
            )
            t = pd.concat([m, t], ignore_index=True)
        return t.reset_index(drop=True)

    def estimates_compared(self) -> pd.DataFrame:
        """Censored-likelihood estimates next to the listed-only PPML fit (biased: selected)."""
        a = self.coefficients()
        a = a[a["model"] == MODEL_LABEL].set_index("term")[["estimate", "se", "source"]]
        a.columns = ["censored: estimate", "censored: se", "censored: source"]
        if self.listed_fit is None:
            return a
        b = self.listed_fit.table.set_index("term")[["estimate", "se"]]
        b = b[~b.index.str.startswith("year_")]
        b.columns = ["listed only (PPML): estimate", "listed only (PPML): se"]
        return a.join(b, how="left")

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables the report shows and writes (``coefficients``, ``potential``,
        ``counterfactual``, ``dropped``)."""
        return {
            "coefficients": self.coefficients()[["term", "estimate", "se", "source", "model"]],
            "potential": self.potential,
            "counterfactual": self.counterfactual,
            "agreement_effects": self.agreement_effects,
            "distribution": self.distribution,
            "coverage": self.coverage,
            "dropped": self.dropped,
        }

    def table(self, name: str) -> pd.DataFrame:
        """One of :meth:`tables` by name."""
        return self.tables()[name]

    def write_tables(self, report: str = REPORT) -> dict[str, object]:
        """Write every table of :meth:`tables` as CSV; return ``{name: path}``."""
        from analysis.present.tables import write_table

        return {name: write_table(t, name, report=report) for name, t in self.tables().items()}

    def figures(self) -> dict[str, object]:
        """The report's figures by name (drawn by :mod:`analysis.present.plots`)."""
        from analysis.present.plots import plot_potential

        return {"potential": plot_potential(self.latest("total"))}

    def formatted(self, name: str, language: str = "en", top: int = 15) -> Table:
        """A table formatted for readers (:mod:`analysis.present.formatting`).

        ``coefficients``, ``potential_total`` (the ``top`` largest potentials of the latest
        year with the actual, censored as ``< x`` where the partner was not listed),
        ``potential_sector`` (the report sector's) or ``counterfactual``.
        """
        m = messages(language)
        fmt = dict(language=language, source=m("chart.source_gravity"))
        usd = ("actual", "predicted", "lo", "hi", "partner_ofdi_total", "untapped_usd_m",
               "baseline", "counterfactual", "change", "change_lo", "change_hi",
               "gap_lo", "predicted_at_most")  # fmt: skip
        units = {c: "usd_m" for c in usd}
        if name == "coefficients":
            c = self.coefficients()
            return format_table(
                c,
                title=m("gravity.t_coefficients", model=self.mode),
                columns=["model", "term", "estimate", "se", "source"],
                digits={"estimate": 3, "se": 3},
                codes={"term": "gravity_term", "source": "coef_source"},
                **fmt,
            )
        if name in ("potential_total", "potential_sector"):
            sector = "total" if name == "potential_total" else self.settings.sector
            f = self.latest(sector).head(top)
            year = int(f["year"].iloc[0]) if len(f) else int(self.potential["year"].max())
            cols = ["partner_iso3", "actual", "predicted", "lo", "hi", "partner_ofdi_total",
                    "capped"]  # fmt: skip
            notes = [m("gravity.n_potential")]
            if sector != "total":
                cols.remove("actual")
                if "predicted_at_most" in f.columns and f["predicted_at_most"].notna().any():
                    cols.insert(4, "predicted_at_most")
                lat = self.latest(sector)
                notes.append(
                    m(
                        "gravity.n_potential_sector",
                        gaps=int(lat["predicted"].isna().sum()),
                        n=len(lat),
                    )
                )
            else:
                cols.insert(2, "actual_status")
                cols += ["gap_lo", "gap_status"]
            table = format_table(
                f,
                title=m(f"gravity.t_{name}", year=year, sector=label("sector", sector, language)),
                columns=cols,
                codes={"partner_iso3": "partner", "capped": "yes_no", "gap_status": "gap_status"},
                bounds={"actual": "actual_upper"} if sector == "total" else None,
                units=units,
                digits={c: 0 for c in usd},
                notes=notes,
                **fmt,
            )
            table.data = f
            return table
        if name == "counterfactual":
            f = self.counterfactual
            return format_table(
                f,
                title=m("gravity.t_counterfactual"),
                columns=["agreement", "partner_iso3", "year", "baseline", "counterfactual",
                         "change", "change_lo", "change_hi", "ratio", "baseline_capped"],
                codes={"partner_iso3": "partner", "baseline_capped": "yes_no"},
                units=units,
                digits={"ratio": 3, **{c: 0 for c in usd}},
                notes=list(dict.fromkeys(f["note"])) if len(f) else [],
                **fmt,
            )  # fmt: skip
        if name == "agreement_effects":
            f = self.agreement_effects
            f = f[f["partner_iso3"].eq("TOTAL") | f["flow_status"].eq("measured")] if len(f) else f
            return format_table(
                f,
                title=m("gravity.t_agreement_effects"),
                columns=["agreement", "partner_iso3", "basis", "flow_usd_m", "flow_status",
                         "effect_usd_m", "lo", "hi", "note"],
                units={c: "usd_m" for c in ("flow_usd_m", "effect_usd_m", "lo", "hi")},
                digits={c: 0 for c in ("flow_usd_m", "effect_usd_m", "lo", "hi")},
                **fmt,
            )  # fmt: skip
        if name == "distribution":
            return format_table(
                self.distribution,
                title=m("gravity.t_distribution"),
                digits={"loglik": 1, "aic": 1, "delta_aic": 1, "dispersion": 3, "cv": 3,
                        **{t: 3 for t in ("lgdp", "ldist", "hub", "agreement")},
                        **{f"{t}_se": 3 for t in ("lgdp", "ldist", "hub", "agreement")}},
                **fmt,
            )  # fmt: skip
        raise KeyError(f"GravityStudy.formatted: no table {name!r}")

    def show(self, name: str, language: str = "en") -> None:
        """Display one formatted table in report 20 and write its data as CSV."""
        show(self.formatted(name, language), name, report=REPORT,
             empty=messages(language)("common.none_table"))  # fmt: skip

    def to_frame(self) -> pd.DataFrame:
        """The potential table with the study's fingerprint and model label."""
        return self.potential.assign(model=self.mode, fingerprint=self.fingerprint)

    def latest(self, sector: str = "total") -> pd.DataFrame:
        """Potential in the latest fitted year for one sector (``total`` or a report sector)."""
        pot = self.potential[self.potential["sector"] == sector]
        return pot[pot["year"] == pot["year"].max()].sort_values("predicted", ascending=False)

    def summary(self) -> Summary:
        """Settings, coefficients, largest potentials, counterfactual and notes."""
        listed = int((self.frame["status"] == "listed").sum())
        return Summary(
            title=self.mode,
            settings={
                "partner-periods used": len(self.frame),
                "lists (full-year and part-year)": (
                    len(self.frame[["year", "period"]].drop_duplicates())
                    if "period" in self.frame.columns
                    else self.frame["year"].nunique()
                ),
                "listed (exact values)": listed,
                "censored (below the N-th listed value)": len(self.frame) - listed,
                "years": ", ".join(map(str, sorted(self.frame["year"].unique()))),
                "partners": self.frame["partner_iso3"].nunique(),
                "Gamma shape": ", ".join(f"{g} {k:.3f}" for g, k in self.fit.shapes.items())
                or round(self.fit.shape, 3),
                "converged": self.fit.converged,
                "draws": self.settings.draws,
                "fingerprint": self.fingerprint,
            },
            tables=[
                (
                    "Coefficients (source: estimated | prior | fixed)",
                    self.estimates_compared().round(3),
                ),
                (
                    "Largest potentials, latest year (US$ million)",
                    self.latest()
                    .head(12)[SUMMARY_POTENTIAL_COLUMNS]
                    .set_index("partner_iso3")
                    .round(1),
                ),
                (
                    "IEU-CEPA and Canada CEPA: partial-equilibrium FDI effect (US$ million)",
                    self.counterfactual.drop(columns="note", errors="ignore")
                    .set_index(["agreement", "partner_iso3"])
                    .round(1),
                ),
                (
                    "Rows not used",
                    self.dropped["reason"].value_counts().rename_axis("reason").to_frame("rows"),
                ),
            ],
            notes=self.notes,
        )

    def gaps(self, year: int | None = None) -> pd.DataFrame:
        """Total-potential rows of one year (default latest) with a credible untapped gap.

        Credible: the gap's lower end is above zero (``gap_lo > 0``: identified from a
        known actual, or a signed lower bound above zero where the actual is only bounded)
        and the potential carries no plausibility flag.
        """
        pot = self.potential[self.potential["sector"] == "total"]
        pot = pot[pot["year"] == (pot["year"].max() if year is None else year)]
        ok = (pot["gap_lo"] > 0) & (pot["plausibility_flag"] == "")
        return pot[ok].sort_values("gap_lo", ascending=False)

    def gap_sentence(self) -> str:
        """Which partners have an identified untapped potential, or why none can be named."""
        lat = self.latest()
        year = int(lat["year"].iloc[0])
        n_id = int((lat["gap_status"] == "identified").sum())
        n_b = int((lat["gap_status"] == "bounded").sum())
        n_flag = int((lat["plausibility_flag"] != "").sum())
        g = self.gaps(year)
        flags = (
            f"; {count(n_flag, 'potentials')} flagged as implausible (the reason is in the "
            "potential table)"
        )
        if len(g):
            return (
                f"Credible untapped potential in {year} ({count(len(g), 'partners')}, "
                "gap with 95 % interval): "
                + ", ".join(
                    f"{label('partner', r.partner_iso3)} US$ "
                    + (
                        f"{r.gap_usd_m:,.0f} m ({r.gap_lo:,.0f} to {r.gap_hi:,.0f})"
                        if r.gap_status == "identified"
                        else f"at least {r.gap_lo:,.0f} m (actual only bounded)"
                    )
                    for r in g.itertuples()
                )
                + flags
                + "."
            )
        bound = lat.loc[lat["gap_status"] == "bounded", "actual_upper"]
        flagged_pos = int(((lat["gap_lo"] > 0) & (lat["plausibility_flag"] != "")).sum())
        if flagged_pos:
            flags += (
                f", including {flagged_pos} whose gap would be positive but whose potential "
                "is implausible"
            )
        return (
            f"No partner has an identifiable untapped potential in {year}: the {n_id} partners "
            "with a published or measured actual invest at or above the lower end of their "
            "potential, and "
            f"for the {n_b} others the actual is only known to be below US$ "
            f"{bound.max() if len(bound) else float('nan'):,.0f} m, above the lower end of "
            f"their potentials, so their gap cannot be signed{flags}."
        )

    def agreement_headline(self, key: str) -> str:
        """The agreement's effect on measured flows (quoted) and on the model baseline."""
        e = self.agreement_effects
        if e.empty or key not in set(e["agreement"]):
            return ""
        t = e[(e["agreement"] == key) & (e["partner_iso3"] == "TOTAL")].set_index("basis")
        if "model" not in t.index:
            return ""
        mo = t.loc["model"]
        model = (
            f"on the model baseline of {int(mo['n_members'])} members (US$ "
            f"{mo['flow_usd_m']:,.0f} m a year) it would be US$ {mo['effect_usd_m']:,.0f} m "
            f"({mo['lo']:,.0f} to {mo['hi']:,.0f})"
        )
        ac = t.loc["actual"] if "actual" in t.index else None
        if ac is None or ac["effect_usd_m"] != ac["effect_usd_m"]:
            return (
                f"{key} in force: no member has a published flow, so the effect on actual "
                f"flows cannot be identified; {model}, a partial-equilibrium effect on "
                "predicted, not measured, flows."
            )
        members = str(ac["note"]).split(";")[0].replace("members with a published flow: ", "")
        return (
            f"{key} in force would add about US$ {ac['effect_usd_m']:,.0f} m a year (95 % "
            f"interval {ac['lo']:,.0f} to {ac['hi']:,.0f}) on the measured flows of the "
            f"members with a published figure (US$ {ac['flow_usd_m']:,.0f} m a year: "
            f"{members}); {model}. The first is quoted: an agreement effect is a "
            "proportional change in a partner's own flows, and the baseline of members never "
            "listed is a prediction no published figure confirms."
        )

    def key_findings(self) -> list[str]:
        """Three to six sentences computed from the results."""
        return [text for text, _ in self._findings_with_sections()]

    def findings(self, language: str = "en") -> Findings:
        """The key findings to open the report with, each linked to the section showing it."""
        return findings_block(self._findings_with_sections(), language)

    def _findings_with_sections(self) -> list[tuple[str, str]]:
        """Key-finding sentences with the heading of the section that shows each."""
        c = self.coefficients()
        c = c[c["model"] == MODEL_LABEL].set_index("term")
        f = self.frame
        listed = f["status"] == "listed"
        part = f["period"] != "FY" if "period" in f.columns else pd.Series(False, index=f.index)
        lists = f[["year", "period"]].drop_duplicates() if "period" in f.columns else None
        n_lists = len(lists) if lists is not None else f["year"].nunique()
        n_part = int((lists["period"] != "FY").sum()) if lists is not None else 0
        out = [
            (
                f"Potential comes from the {self.mode[0].lower() + self.mode[1:]}; the Indonesia "
                f"fit uses {len(f)} partner-periods of {n_lists} top-N lists "
                f"({int(listed.sum())} listed, "
                + (
                    f"{int((listed & part).sum())} of them from {n_part} part-year lists of "
                    "years without a full-year list; "
                    if n_part
                    else ""
                )
                + f"{int((f['status'] == 'measured').sum())} measured by a mirror "
                "statistic, the rest censored below "
                "their list's N-th value) from "
                f"{f['partner_iso3'].nunique()} partners "
                f"and {f['year'].nunique()} years.",
                SECTIONS["coefficients"],
            )
        ]
        if "lgdp" in c.index:
            out.append(
                (
                    f"A 1 % larger partner GDP goes with {c.loc['lgdp', 'estimate']:.2f} % more "
                    f"PMA ({c.loc['lgdp', 'source']}, s.e. {c.loc['lgdp', 'se']:.2f}).",
                    SECTIONS["coefficients"],
                )
            )
        if "hub" in c.index:
            out.append(
                (
                    "Hub economies (investment conduits and phantom-FDI hosts) invest "
                    f"{math.exp(c.loc['hub', 'estimate']):.1f} times what their size and distance "
                    f"predict ({c.loc['hub', 'source']}).",
                    SECTIONS["coefficients"],
                )
            )
        top = self.latest().head(3)
        if len(top):
            out.append(
                (
                    "Largest potentials in "
                    f"{int(top['year'].iloc[0])}: "
                    + ", ".join(
                        f"{label('partner', r.partner_iso3)} US$ {r.predicted:,.0f} m "
                        f"({r.lo:,.0f}-{r.hi:,.0f})"
                        for r in top.itertuples()
                    )
                    + ".",
                    SECTIONS["potential"],
                )
            )
        out.append((self.gap_sentence(), SECTIONS["potential"]))
        headline = self.agreement_headline("IEU-CEPA")
        if headline:
            out.append((headline, SECTIONS["agreements"]))
        return out[:6]
