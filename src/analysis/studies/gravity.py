"""Gravity study (report 20): Indonesia's inward FDI potential by partner and sector.

What the model is
-----------------
An **interval-censored Gamma regression with a log-linear (gravity) mean** of full-year PMA
realisation by country of origin (US$ million, BKPM, from the ledger) on the partner's GDP
(log, current US$ billion), the capital-to-capital distance to Jakarta (log km), a **hub**
covariate (the partner is a conduit of corporate offshore investment or a host of phantom
FDI, from ``data/mappings/fdi_hubs.csv``, each with its citation) and an **agreement**
indicator (a trade or investment agreement in force for Indonesia on 1 July), with year
effects. It is a reduced-form
gravity equation for one host, not a structural gravity model (no multilateral resistance
terms can be identified from one host's inflows), and not ITC's Export Potential Map.

- **Every usable partner-year**: each year with a complete full-year top-N list (the ledger's
  censoring table), or a list incomplete only because it omits partners whose value other
  releases publish (flagged in ``bound_note``), gives one row per partner of the universe
  (the 40 candidate partners, every partner ever listed, the EU members and Canada): listed
  partners with their value, the
  others as *below the N-th listed value* (interval-censored in the likelihood; never zero,
  never at the bound, see :mod:`analysis.censored`). Rows that cannot be used are kept in
  ``dropped`` with the reason.
- **Coefficients**: ``estimated`` (flat prior), ``prior`` (a normal prior carried into the
  intervals; each prior is a row of ``data/mappings/gravity_priors.csv`` with its study,
  sample and quoted passage, or labelled weakly-informative), or ``fixed`` (``gravity_assumed``).
  No trade elasticity is used.
- **Potential** = the model's expected PMA for the partner-year, with a confidence interval
  from ``draws`` draws of the coefficients (estimation and prior uncertainty; not the
  year-to-year noise of a single flow). **Guards** (:mod:`analysis.fdi_potential`): a
  potential above the partner's total net FDI outflow that year (WDI, US$ billion x 1,000) is
  capped at it; where that net outflow is zero or negative the cap is the 5-year mean net
  outflow, else the outward FDI stock, else none (never 0; ``cap_basis`` says which);
  ``predicted_model`` keeps the uncapped value and ``capped`` says which. A potential implying
  that Indonesia takes a larger share of the partner's outward FDI than it receives from any
  comparable partner (same hub status, multi-year ratio of listed flows to outflows) is
  flagged (``plausibility_flag``), not cut.
- **Untapped gap**: potential - actual with an interval where the actual is listed
  (``gap_status`` = identified), a signed lower bound (``gap_lo`` = lower end of the potential
  - the bound) where it is only bounded, nothing where it is unknown.
- **Agreement effects** (:func:`agreement_effects`): each pending agreement's effect on the
  members' measured flows (mean of their published full-year values) and on the model
  baseline, both with intervals; the report quotes the first.
- **Sector potential** adapts the *supply x demand x ease* decomposition of ITC's Export
  Potential Map (Decreux & Spies 2016) to investment: ease = the partner's aggregate potential
  above (size, distance, hub, agreements), demand = the sector's share of Indonesia's PMA
  (ledger, latest year published), supply = the partner's export specialisation in the
  sector relative to the candidate partners (sector exports / goods exports, over the same
  ratio for all candidates with data; partner panel). It is an adaptation, documented as such.
- **Counterfactual**: the IEU-CEPA (every EU member) and the Indonesia-Canada CEPA entering into
  force: ``agreement`` from 0 to 1 for the latest year, a partial-equilibrium FDI effect (other
  partners, Indonesia's total and third-country diversion held fixed).
- **Multi-host**: with IMF Direct Investment Positions in the fetch cache, :func:`fit_multihost`
  fits a PPML panel with host-year, source-year and (where identified) pair fixed effects via
  :func:`analysis.gravity.fit_gravity`; offline the report uses the Indonesia-only fit and says
  so.

References
----------
Decreux, Y. and Spies, J. (2016), "Export Potential Assessments: A methodology to identify
export opportunities for developing countries", ITC.
Garcia-Bernardo, J., Fichtner, J., Takes, F.W. and Heemskerk, E.M. (2017), "Uncovering
Offshore Financial Centers", Scientific Reports 7: 6246.
Kox, H.L.M. and Rojas-Romagosa, H. (2020), "How trade and investment agreements affect
bilateral foreign direct investment", The World Economy 43(12): 3203-3242.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from analysis import paths
from analysis.censored import CensoredGravityResult, Prior, fit_censored_gravity
from analysis.data.provenance import data_fingerprint
from analysis.errors import MitraError
from analysis.fdi_potential import (
    NO_FIGURE,
    agreement_effect,
    comparable_shares,
    outflow_cap,
    share_guard,
    untapped_gap,
)
from analysis.formatting import Findings, Table, findings_block, format_table, show
from analysis.gravity import GravityError, GravityResult, fit_gravity
from analysis.i18n import label, messages
from analysis.summary import Summary
from analysis.vocab import DEFAULT_SEED, GRAVITY_TERMS, REPORT_SECTORS

__all__ = [
    "GravityStudy",
    "GravityStudySettings",
    "agreement_effects",
    "fit_multihost",
    "gravity_study",
    "latest_potential",
    "load_hubs",
    "load_priors",
    "potential_table",
    "run",
    "run_gravity",
    "settings",
]

REPORT = "20-gravity"
TERMS = GRAVITY_TERMS
SECTORS = REPORT_SECTORS
#: Partner-panel export series behind each report sector's supply component.
SECTOR_EXPORTS = {
    "textile": "exports_textiles_usd",
    "chemical": "exports_chemicals_usd",
    "pharma": "exports_pharma_usd",
}
#: Ledger sectors whose PMA share of the total is the demand component (BKPM publishes
#: chemicals and pharmaceuticals together, so both report sectors share it).
SECTOR_DEMAND = {
    "textile": ("textile_apparel", "textile"),
    "chemical": ("chem_pharma", "chemical"),
    "pharma": ("chem_pharma", "health_pharma"),
}
COUNTERFACTUAL_AGREEMENTS = ("IEU-CEPA", "ICA-CEPA")
#: Pending agreements whose effect :func:`agreement_effects` reports: key -> a text that
#: identifies the agreement's name in the agreements data (the EAEU and Peru agreements
#: signed in 2025 come with the agreements corrections file; absent, they are noted).
PENDING_AGREEMENTS = {
    "IEU-CEPA": "(IEU-CEPA)",
    "ICA-CEPA": "(ICA-CEPA)",
    "EAEU FTA": "EAEU",
    "Peru CEPA": "Indonesia-Peru",
}
PRIORS_FILE = "mappings/gravity_priors.csv"
HUBS_FILE = "mappings/fdi_hubs.csv"
MODEL_LABEL = "Interval-censored Gamma gravity regression (log-linear mean), Indonesia as host"


class GravityStudyError(MitraError, ValueError):
    """The gravity study cannot run as configured (names the parameter or file)."""


@dataclass(frozen=True)
class GravityStudySettings:
    """What the gravity study needs (plain values; built from params by the notebook)."""

    sector: str = "textile"
    partners: tuple[str, ...] = field(default_factory=lambda: _default("partners"))
    terms: tuple[str, ...] = TERMS
    # The declared defaults (analysis.config.Params), never re-declared here.
    priors: tuple[tuple[str, str], ...] = field(default_factory=lambda: _default("priors"))
    fixed: tuple[tuple[str, float, str], ...] = ()
    hubs: tuple[str, ...] = field(default_factory=lambda: _default("hubs"))
    draws: int = field(default_factory=lambda: _default("draws"))
    seed: int = DEFAULT_SEED
    alpha: float = 0.05
    #: Simulated top-N samples per scenario of the distribution check (0: comparison only).
    distribution_reps: int = field(default_factory=lambda: _default("distribution_reps"))

    def __post_init__(self) -> None:
        if self.sector not in SECTORS:
            raise GravityStudyError(f"sector must be one of {SECTORS} (got {self.sector!r})")
        bad = [t for t in self.terms if t not in TERMS]
        if bad:
            raise GravityStudyError(f"unknown gravity term(s) {bad}; terms are {TERMS}")
        if not 100 <= int(self.draws) <= 200_000:
            raise GravityStudyError(f"gravity_draws must be 100-200000 (got {self.draws!r})")
        if not 0 < self.alpha < 0.5:
            raise GravityStudyError(f"alpha must be in (0, 0.5) (got {self.alpha!r})")


def settings(params) -> GravityStudySettings:
    """The study's settings from the params' ``gravity`` group (the one place it is read).

    ``priors: {}`` means no priors at all; ``assumed`` fixes terms at cited values.
    """
    g = params.gravity
    return GravityStudySettings(
        sector=g.sector,
        partners=tuple(g.partners),
        priors=tuple(sorted((str(t), str(i)) for t, i in g.priors.items())),
        fixed=tuple(
            sorted((str(t), float(a["value"]), str(a["citation"])) for t, a in g.assumed.items())
        ),
        hubs=tuple(g.hubs),
        draws=int(g.draws),
        seed=int(g.seed),
        distribution_reps=int(g.distribution_reps),
    )


def _default(name: str) -> object:
    from analysis.config import Params

    value = Params().gravity[name]
    if name == "priors":
        return tuple(sorted((str(t), str(i)) for t, i in value.items()))  # type: ignore[union-attr]
    return tuple(value) if isinstance(value, list) else value


def run(settings: GravityStudySettings, inputs=None) -> GravityStudy:
    """Run the study on the shared inputs (one fit per batch, see :func:`gravity_study`)."""
    if inputs is None:
        from analysis.studies.inputs import inputs as shared

        inputs = shared()
    return gravity_study(settings, ledger=inputs.ledger, panel=inputs.panel)


# -- reference data -------------------------------------------------------------------------


def load_priors(root=None) -> pd.DataFrame:
    """The prior table (``data/mappings/gravity_priors.csv``), one row per prior id."""
    path = (paths.DATA if root is None else root) / PRIORS_FILE
    t = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in ("mean", "sd"):
        t[col] = pd.to_numeric(t[col], errors="raise")
    return t.set_index("prior_id")


def load_hubs(root=None) -> pd.DataFrame:
    """The hub list (``data/mappings/fdi_hubs.csv``) with each hub's source."""
    path = (paths.DATA if root is None else root) / HUBS_FILE
    return pd.read_csv(path, dtype=str, keep_default_na=False).set_index("iso3")


def _priors(settings: GravityStudySettings) -> dict[str, Prior]:
    table = load_priors()
    out = {}
    for term, pid in settings.priors:
        if pid not in table.index:
            raise GravityStudyError(
                f"gravity_priors.{term}: unknown prior id {pid!r}; ids in "
                f"data/{PRIORS_FILE} are {list(table.index)}"
            )
        row = table.loc[pid]
        if row["term"] != term:
            raise GravityStudyError(
                f"gravity_priors.{term}: prior {pid!r} is for term {row['term']!r}, not {term!r}"
            )
        source = row["study"] if row["kind"] == "literature" else "weakly-informative prior"
        out[term] = Prior(float(row["mean"]), float(row["sd"]), f"{source} [{pid}]", row["kind"])
    return out


# -- data ------------------------------------------------------------------------------------


def _agreement_members(root=None) -> dict[str, tuple[str, ...]]:
    """Members (ISO3, Indonesia excluded) of the counterfactual agreements."""
    from analysis.data.agreements import load_agreements

    agreements = load_agreements(root)
    out = {}
    for key in COUNTERFACTUAL_AGREEMENTS:
        hit = [a for a in agreements if f"({key})" in a.name]
        if not hit:
            raise GravityStudyError(
                f"agreement {key} not found in the agreements data "
                "(data/raw/partners/agreements_eif*.csv)"
            )
        out[key] = tuple(i for i in hit[0].members if i != "IDN")
    return out


def _in_force(iso3: str, year: int) -> tuple[bool, str]:
    """Agreement in force for Indonesia with the partner on 1 July of the year (and which)."""
    from analysis.data.agreements import in_force

    names = in_force(iso3, f"{int(year)}-07-01")
    return bool(names), "; ".join(names)


def _bound_from_lists_that_omit_a_known_value(ledger, pp: pd.DataFrame) -> pd.DataFrame:
    """Bound the unlisted of a year whose only full-year list omits partners known otherwise.

    The ledger uses only complete lists for bounds. A list that is incomplete only because
    it omits partners whose full-year value is published elsewhere (the censoring table's
    ``omits``) still ranks everyone else: every partner neither listed nor omitted is below
    its smallest listed value. Those partner-years are censored at that bound and flagged in
    ``bound_note``; nothing is assumed about a year where an omitted value is unknown.
    """
    cens = ledger.censoring
    lists = cens[(cens["period"] == "FY") & ~cens["complete"].astype(bool)]
    pp = pp.copy()
    for year, grp in pp[pp["status"] == "unknown"].groupby("year"):
        known = set(pp.loc[(pp["year"] == year) & (pp["status"] == "observed"), "partner_iso3"])
        for lst in lists[lists["year"] == year].itertuples(index=False):
            omits = set(str(lst.omits).split())
            if not omits or not omits <= known or not lst.upper_bound > 0:
                continue
            idx = grp.index
            pp.loc[idx, "status"] = "censored"
            pp.loc[idx, "upper_bound"] = float(lst.upper_bound)
            pp.loc[idx, "bound_note"] = (
                f"bound from the {year} full-year list, which omits {', '.join(sorted(omits))} "
                "(value published elsewhere): the others are below its smallest listed value"
            )
            break
    return pp


#: A mirror value (the source country's own statistic) measures the BKPM flow within this
#: factor either way: an ASSUMPTION covering the definitional differences (see
#: :func:`mirror_flows`), not an estimate; the overlaps with listed years are reported.
MIRROR_FACTOR = 2.0
MIRROR_DEFINITIONS = (
    "source-side balance-of-payments net flow (directional principle, net of disinvestment, "
    "reinvested earnings and intra-company loans included, counterpart = immediate host), "
    "against BKPM realisation (gross capital realised in approved projects, oil and gas and "
    "banking excluded, by the country of the recorded investor)"
)


def mirror_flows(root=None) -> pd.DataFrame:
    """Source countries' own outward FDI flows to Indonesia (mirror statistics), US$ million.

    Rows of :func:`analysis.data.investor.load_ofdi_by_industry` with counterpart Indonesia,
    all industries, measure ``flow`` and a US$ value, published by the source country
    (``side`` = source_side) or attributed in the note to its balance of payments (BoP/BOJ).
    Positions (stocks) are left out: they are not comparable with a year's flow. Returns
    ``partner_iso3, year, mirror_usd_m, mirror_source, mirror_note`` (empty when the
    investor tables are not shipped).
    """
    cols = ["partner_iso3", "year", "mirror_usd_m", "mirror_source", "mirror_note"]
    try:
        from analysis.data.investor import load_ofdi_by_industry
    except ImportError:  # older data layer without investor tables
        return pd.DataFrame(columns=cols)
    o = load_ofdi_by_industry(root)
    bop = o["note"].astype(str).str.contains(r"\bBO[JP]\b|BoP", regex=True)
    keep = (
        (o["counterpart"].astype(str).str.lower() == "indonesia")
        & (o["industry"].astype(str).str.lower() == "all industries")
        & (o["measure"] == "flow")
        & o["value_usd_m"].notna()
        & ((o["side"] == "source_side") | ((o["side"] == "third_party") & bop))
    )
    m = o[keep].drop_duplicates(["reporter_iso3", "year"])
    return pd.DataFrame(
        {
            "partner_iso3": m["reporter_iso3"].to_numpy(),
            "year": m["year"].astype(int).to_numpy(),
            "mirror_usd_m": m["value_usd_m"].astype(float).to_numpy(),
            "mirror_source": m["source"].astype(str).to_numpy(),
            "mirror_note": m["note"].astype(str).to_numpy(),
        },
        columns=cols,
    )


def _apply_mirrors(frame: pd.DataFrame, mirrors: pd.DataFrame) -> pd.DataFrame:
    """Censored partner-years with a mirror value become interval measurements.

    The flow lies in ``[mirror / MIRROR_FACTOR, min(mirror * MIRROR_FACTOR, bound)]`` (status
    ``measured``; in the likelihood an interval, like a censored row with a lower bound). A
    listed partner-year keeps its BKPM value; its mirror is recorded for comparison.
    """
    f = frame.merge(mirrors, on=["partner_iso3", "year"], how="left")
    f["lower_bound"] = np.nan
    hit = (f["status"] == "censored") & f["mirror_usd_m"].notna()
    lo = f["mirror_usd_m"] / MIRROR_FACTOR
    hi = np.minimum(f["mirror_usd_m"] * MIRROR_FACTOR, f["upper_bound"])
    ok = hit & (lo < hi)
    f.loc[ok, "lower_bound"] = lo[ok]
    f.loc[ok, "upper_bound"] = hi[ok]
    f.loc[ok, "status"] = "measured"
    f.loc[ok, "bound_note"] = (
        "mirror statistic (" + f.loc[ok, "mirror_source"] + "): flow within a factor "
        f"{MIRROR_FACTOR:g} of it, below the year's bound"
    )
    return f


def _mirror_note(frame: pd.DataFrame) -> str:
    """How many partner-years a mirror statistic measures, and how mirrors compare."""
    m = frame[frame["mirror_usd_m"].notna()]
    measured = m[m["status"] == "measured"]
    both = m[m["status"] == "listed"]
    text = (
        f"Mirror statistics: {len(measured)} unlisted partner-year(s) measured by the source "
        "country's own outward FDI to Indonesia ("
        + (", ".join(f"{r.partner_iso3} {r.year}" for r in measured.itertuples()) or "none")
        + f"), entered as an interval within a factor {MIRROR_FACTOR:g} of the mirror value "
        f"(an assumption) and below the year's bound; definitions differ: "
        f"{MIRROR_DEFINITIONS}."
    )
    if len(both):
        text += (
            " Where both exist, BKPM over the mirror: "
            + ", ".join(
                f"{r.partner_iso3} {r.year} {r.pma_usd_m / r.mirror_usd_m:.2f}"
                for r in both.itertuples()
            )
            + "."
        )
    return text


def build_gravity_frame(
    ledger, panel, settings: GravityStudySettings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per (partner, year) of the usable full-year lists, and the rows dropped.

    Returns
    -------
    (frame, dropped)
        ``frame``: ``partner_iso3, year, pma_usd_m`` (listed value or NaN), ``upper_bound``
        (the N-th listed value for unlisted partners), ``lower_bound`` and ``mirror_usd_m``
        (a mirror statistic, :func:`mirror_flows`), ``status`` (``listed``/``censored``/
        ``measured``: unlisted, with a mirror value),
        ``gdp_usd_bn, lgdp, distance_km, ldist, hub, agreement, agreements``.
        ``dropped``: rows not used and why.
    """
    from analysis.data.panel import CANDIDATES
    from analysis.partners import _capital, _haversine

    members = _agreement_members()
    pending, _ = _pending_members()
    members.update({key: tuple(isos.split()) for key, (_, isos) in pending.items()})
    listed_ever = set(
        ledger.partner_panel(periods=["FY"]).query("status == 'observed'")["partner_iso3"]
    )
    universe = sorted(set(CANDIDATES) | listed_ever | {m for v in members.values() for m in v})
    pp = ledger.partner_panel(universe, periods=["FY"])
    pp = pp.rename(columns={"value": "pma_usd_m"})
    dropped = []
    pp["bound_note"] = ""
    pp = _bound_from_lists_that_omit_a_known_value(ledger, pp)
    unknown = pp[pp["status"] == "unknown"]
    for year, grp in unknown.groupby("year"):
        dropped.append(
            grp.assign(
                reason=f"{year}: no usable full-year top-N list (the unlisted have no bound; "
                "listed values alone would select on the outcome)"
            )
        )
    # A year whose list is unusable is dropped whole, its listed rows included.
    bad_years = set(unknown["year"])
    drop_listed = pp[pp["year"].isin(bad_years) & (pp["status"] == "observed")]
    if len(drop_listed):
        dropped.append(
            drop_listed.assign(
                reason="listed, but the year's list is incomplete (no bound for the others)"
            )
        )
    pp = pp[~pp["year"].isin(bad_years)].copy()
    pp["status"] = pp["status"].map({"observed": "listed", "censored": "censored"})
    jakarta = _capital("IDN")
    hubs = set(settings.hubs)
    rows = []
    for r in pp.itertuples(index=False):
        cap = _capital(r.partner_iso3)
        ok, names = _in_force(r.partner_iso3, r.year)
        gdp = panel.value("gdp_usd", r.partner_iso3, int(r.year))
        rows.append(
            {
                "partner_iso3": r.partner_iso3,
                "year": int(r.year),
                "pma_usd_m": r.pma_usd_m,
                "upper_bound": r.upper_bound,
                "status": r.status,
                "gdp_usd_bn": gdp,
                "distance_km": _haversine(jakarta[:2], cap[:2]) if cap and jakarta else np.nan,
                "hub": float(r.partner_iso3 in hubs),
                "agreement": float(ok),
                "agreements": names,
                "bound_note": r.bound_note,
            }
        )
    frame = pd.DataFrame(rows)
    frame["lgdp"] = np.log(frame["gdp_usd_bn"])
    frame["ldist"] = np.log(frame["distance_km"])
    miss = frame[["lgdp", "ldist"]].isna().any(axis=1)
    if miss.any():
        dropped.append(
            frame[miss].assign(
                reason="missing covariate: "
                + frame[miss][["lgdp", "ldist"]]
                .isna()
                .apply(
                    lambda r: (
                        ", ".join(r.index[r])
                        .replace("lgdp", "GDP (partner panel)")
                        .replace("ldist", "capital coordinates")
                    ),
                    axis=1,
                )
            )
        )
    frame = _apply_mirrors(frame[~miss].reset_index(drop=True), mirror_flows())
    cols = ["partner_iso3", "year", "status", "pma_usd_m", "upper_bound", "reason"]
    drop = pd.concat(dropped, ignore_index=True) if dropped else pd.DataFrame(columns=cols)
    return frame, drop.reindex(columns=cols)


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
        from analysis.tables import write_table

        return {name: write_table(t, name, report=report) for name, t in self.tables().items()}

    def figures(self) -> dict[str, object]:
        """The report's figures by name (drawn by :mod:`analysis.plots`)."""
        from analysis.plots import plot_potential

        return {"potential": plot_potential(self.latest("total"))}

    def formatted(self, name: str, language: str = "en", top: int = 15) -> Table:
        """A table formatted for readers (:mod:`analysis.formatting`).

        ``coefficients``, ``potential_total`` (the ``top`` largest potentials of the latest
        year with the actual, censored as ``< x`` where the partner was not listed),
        ``potential_sector`` (the report sector's) or ``counterfactual``.
        """
        m = messages(language)
        fmt = dict(language=language, source=m("chart.source_gravity"))
        usd = ("actual", "predicted", "lo", "hi", "partner_ofdi_total", "untapped_usd_m",
               "baseline", "counterfactual", "change", "change_lo", "change_hi",
               "gap_lo")  # fmt: skip
        units = {c: "usd_m" for c in usd}
        if name == "coefficients":
            c = self.coefficients()
            return format_table(
                c,
                title=m("gravity.t_coefficients", model=self.mode),
                columns=["model", "term", "estimate", "se", "source"],
                digits={"estimate": 3, "se": 3},
                **fmt,
            )
        if name in ("potential_total", "potential_sector"):
            sector = "total" if name == "potential_total" else self.settings.sector
            f = self.latest(sector).head(top)
            year = int(f["year"].iloc[0]) if len(f) else int(self.potential["year"].max())
            cols = ["partner_iso3", "actual", "predicted", "lo", "hi", "partner_ofdi_total",
                    "capped"]  # fmt: skip
            if sector != "total":
                cols.remove("actual")
            else:
                cols.insert(2, "actual_status")
                cols += ["gap_lo", "gap_status"]
            table = format_table(
                f,
                title=m(f"gravity.t_{name}", year=year, sector=label("sector", sector, language)),
                columns=cols,
                codes={"partner_iso3": "partner", "capped": "yes_no"},
                bounds={"actual": "actual_upper"} if sector == "total" else None,
                units=units,
                digits={c: 0 for c in usd},
                notes=[m("gravity.n_potential")],
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
                "partner-years used": len(self.frame),
                "listed (exact values)": listed,
                "censored (below the N-th listed value)": len(self.frame) - listed,
                "years": ", ".join(map(str, sorted(self.frame["year"].unique()))),
                "partners": self.frame["partner_iso3"].nunique(),
                "Gamma shape": round(self.fit.shape, 3),
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
        flags = f"; {n_flag} potentials are flagged as implausible (see 'plausibility_flag')"
        if len(g):
            return (
                f"Credible untapped potential in {year} ({len(g)} partner(s), gap with 95 % "
                "interval): "
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
        out = [
            (
                f"Potential comes from the {self.mode[0].lower() + self.mode[1:]}; the Indonesia "
                f"fit uses {len(self.frame)} partner-years "
                f"({int((self.frame['status'] == 'listed').sum())} listed, "
                f"{int((self.frame['status'] == 'measured').sum())} measured by a mirror "
                "statistic, the rest censored below "
                "the year's N-th listed value) from "
                f"{self.frame['partner_iso3'].nunique()} partners "
                f"and {self.frame['year'].nunique()} years.",
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


# -- computation ----------------------------------------------------------------------------


def _year_dummies(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    years = sorted(frame["year"].unique())
    cols = [f"year_{y}" for y in years[1:]]
    for col in cols:
        frame[col] = (frame["year"] == int(col[5:])).astype(float)
    return frame, cols


def _draw_eta(fit: CensoredGravityResult, data: pd.DataFrame, draws: pd.DataFrame) -> np.ndarray:
    """Linear predictor per row (rows) and coefficient draw (columns)."""
    free = list(draws.columns)
    X = np.column_stack(
        [np.ones(len(data)) if t == "Intercept" else data[t].to_numpy(float) for t in free]
    )
    eta = X @ draws.to_numpy().T
    for term, v in fit.settings.fixed.items():
        eta = eta + v * data[term].to_numpy(float)[:, None]
    return eta


def _latest_at_or_before(wide: pd.DataFrame, iso3: str, year: int) -> tuple[float, float]:
    """The latest non-missing value of a wide (iso3 x year) table up to ``year``."""
    if iso3 not in wide.index:
        return np.nan, np.nan
    row = wide.loc[iso3]
    row = row[(row.index <= year) & row.notna()]
    return (float(row.iloc[-1]), float(row.index[-1])) if len(row) else (np.nan, np.nan)


def _demand(ledger, sector: str) -> tuple[float, float, str]:
    """Indonesia's sector share of full-year PMA (latest year with both), year, source."""
    where = {"measure": "pma", "period": "FY", "partner_iso3": "WLD", "region": "IDN"}
    total = ledger.select(**where, concept="realisation", sector="all").set_index("year")["value"]
    sec = ledger.select(**where, concept="realisation", sector=list(SECTOR_DEMAND[sector]))
    total = total.dropna()
    sec = sec[sec["year"].isin(total.index) & sec["value"].notna()].sort_values("year")
    if sec.empty:
        return np.nan, np.nan, "no sector PMA published"
    last = sec.iloc[-1]
    year = int(last["year"])
    share = float(last["value"]) / float(total[year])
    return share, float(year), f"ledger: PMA {last['sector']} / PMA all sectors, FY {year}"


def _sector_inputs(ledger, panel, frame: pd.DataFrame) -> pd.DataFrame:
    """Demand (Indonesia's sector share of PMA) and supply (partner specialisation) inputs.

    Supply is the partner's sector exports over its total goods exports (the Atlas total of
    the same source and year; WDI goods exports where the panel has no Atlas total), divided
    by the same ratio summed over the 40 candidate partners with both figures: an index, 1 =
    as specialised as the candidates together. Sector specialisation moves slowly and the
    panel's sector series are sparse before 2024, so each partner's latest figure up to the
    last fitted year is used for every year (its year is recorded in ``supply_year``).
    """
    from analysis.data.panel import CANDIDATES

    last_year = int(frame["year"].max())
    partners = sorted(frame["partner_iso3"].unique())
    totals = {c: panel.wide(c) for c in ("exports_total_sitc_usd", "exports_goods_usd")}
    rows = []
    for sector in SECTORS:
        share, dyear, dsrc = _demand(ledger, sector)
        code = SECTOR_EXPORTS[sector]
        exports = panel.wide(code)
        ratio = {}
        for iso in sorted(set(partners) | set(CANDIDATES)):
            xs, ys = _latest_at_or_before(exports, iso, last_year)
            xt, basis = np.nan, ""
            for tcode, wide in totals.items():
                if ys == ys and iso in wide.index and int(ys) in wide.columns:
                    xt = float(wide.loc[iso, int(ys)])
                    if xt == xt:
                        basis = tcode
                        break
            ratio[iso] = (xs, xt, ys, basis)
        ref = [
            (xs, xt)
            for iso, (xs, xt, _, _) in ratio.items()
            if iso in CANDIDATES and xs == xs and xt == xt and xt > 0
        ]
        group = sum(a for a, _ in ref) / sum(b for _, b in ref) if ref else np.nan
        for iso in partners:
            xs, xt, ys, basis = ratio[iso]
            ok = xs == xs and xt == xt and xt > 0 and group == group and group > 0
            rows.append(
                {
                    "sector": sector,
                    "partner_iso3": iso,
                    "demand_share": share,
                    "demand_year": dyear,
                    "demand_source": dsrc,
                    "supply_index": (xs / xt) / group if ok else np.nan,
                    "group_ratio": group,
                    "supply_year": ys,
                    "supply_source": f"partner panel {code} / {basis}, relative to the 40 "
                    "candidates"
                    if ok
                    else f"no {code} (or no total exports) in the partner panel",
                }
            )
    out = pd.DataFrame(rows)
    return _split_shared_demand(out)


def _split_shared_demand(inputs: pd.DataFrame) -> pd.DataFrame:
    """Sectors that share one demand series split it, so it is counted once.

    Chemical and pharma share BKPM's chemicals-and-pharmaceuticals PMA share. Each gets
    ``demand_split`` = its share of the candidates' combined exports of the two (the group
    ratios of the supply index), so that, partner by partner, ``split_c * supply_c + split_p *
    supply_p`` is the partner's specialisation in the two together: the chemical and pharma
    potentials add up to the combined sector's, not to twice it. Other sectors: 1.
    """
    out = inputs.copy()
    out["demand_split"] = 1.0
    shared: dict[str, list[str]] = {}
    for sector, (series, _) in SECTOR_DEMAND.items():
        shared.setdefault(series, []).append(sector)
    for sectors in shared.values():
        if len(sectors) < 2:
            continue
        g = {sec: float(out.loc[out["sector"] == sec, "group_ratio"].iloc[0]) for sec in sectors}
        total = sum(g.values())
        for sec in sectors:
            out.loc[out["sector"] == sec, "demand_split"] = g[sec] / total if total > 0 else np.nan
    return out


def _potential(
    study_fit: CensoredGravityResult,
    frame: pd.DataFrame,
    panel,
    settings: GravityStudySettings,
    sector_inputs: pd.DataFrame,
) -> pd.DataFrame:
    """Potential of the Indonesia fit: expected full-year PMA (a flow), capped at outflows."""
    draws = study_fit.draw_coefficients(settings.draws, settings.seed)
    sims = np.exp(_draw_eta(study_fit, frame, draws))
    point, _ = study_fit.linear_predictor(frame)
    a = settings.alpha
    base = pd.DataFrame(
        {
            "partner_iso3": frame["partner_iso3"].to_numpy(),
            "year": frame["year"].to_numpy(),
            "actual": frame["pma_usd_m"]
            .where(frame["status"] != "measured", frame["mirror_usd_m"])
            .to_numpy(),
            "actual_status": frame["status"].to_numpy(),
            "actual_upper": frame["upper_bound"].where(frame["status"] == "censored").to_numpy(),
            "actual_lo": frame["lower_bound"].to_numpy(),
            "actual_hi": frame["upper_bound"].where(frame["status"] == "measured").to_numpy(),
        }
    )
    cap, basis = _outflow_caps(panel, base)
    return _guarded(
        base,
        np.exp(point),
        np.quantile(sims, a / 2, axis=1),
        np.quantile(sims, 1 - a / 2, axis=1),
        cap,
        sector_inputs,
        "US$ million (current), full-year flow",
        "total net outward FDI",
        cap_basis=basis,
        hub=frame["hub"].to_numpy(bool),
    )


def _outflow_caps(panel, base: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each row's outward FDI cap (US$ million) and its basis (:func:`outflow_cap`).

    Never 0: a net outflow <= 0 falls back to the 5-year mean net outflow, then to the
    outward FDI stock, then to no cap, each flagged in the basis text.
    """
    flows = panel.wide("fdi_outflow_usd") * 1000
    stock = panel.wide("ofdi_stock_usd") * 1000
    caps, bases = [], []
    for iso, year in zip(base["partner_iso3"], base["year"], strict=True):
        y = int(year)
        if iso in flows.index:
            row = flows.loc[iso]
            series = row[[c for c in row.index if y - 4 <= int(c) <= y]]
            series = series.reindex(range(y - 4, y + 1))
        else:
            series = pd.Series([np.nan])
        st = np.nan
        if iso in stock.index and y in stock.columns:
            st = float(stock.loc[iso, y])
        cap, basis, _ = outflow_cap(series, st)
        caps.append(cap)
        bases.append(basis)
    return np.array(caps, dtype=float), np.array(bases, dtype=object)


def _panel_values(panel, indicator: str, base: pd.DataFrame) -> np.ndarray:
    """Panel values (US$ billion) for each row's partner-year, in US$ million."""
    return np.array(
        [
            panel.value(indicator, p, int(y)) * 1000
            for p, y in zip(base["partner_iso3"], base["year"], strict=True)
        ],
        dtype=float,
    )


def _guarded(
    base: pd.DataFrame,
    point: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    cap_value: np.ndarray,
    sector_inputs: pd.DataFrame,
    unit: str,
    cap_label: str,
    cap_basis: np.ndarray | None = None,
    hub: np.ndarray | None = None,
) -> pd.DataFrame:
    """Total and sector potential rows with the plausibility guards applied and flagged.

    Guards: the cap (never 0: a non-positive ``cap_value`` means no cap), the share of the
    partner's outward FDI a total potential implies against the largest multi-year share
    Indonesia receives from a comparable partner (same hub status; flagged, not cut), and
    the untapped gap (:func:`analysis.fdi_potential.untapped_gap`).
    """
    base = base.assign(partner_ofdi_total=cap_value)
    ofdi = cap_value
    if cap_basis is None:
        cap_basis = np.where(
            np.isnan(ofdi), NO_FIGURE,
            np.where(ofdi <= 0, f"{cap_label} <= 0: not capped", cap_label),
        )  # fmt: skip
    hub = np.zeros(len(base), bool) if hub is None else hub
    group = np.where(hub, "hub", "non-hub")
    listed = (
        base["actual"].notna() & base["actual_status"].isin(["listed", "reported position"])
    ).to_numpy()
    shares = comparable_shares(
        base[listed][["partner_iso3", "year", "actual"]].rename(columns={"actual": "value"}),
        base.assign(cap=ofdi)[["partner_iso3", "year", "cap"]],
        dict(zip(base["partner_iso3"], group, strict=True)),
    )
    out = []
    for sector in ("total", *SECTORS):
        if sector == "total":
            scale = np.ones(len(base))
        else:
            si = sector_inputs[sector_inputs["sector"] == sector].set_index("partner_iso3")
            scale = (si["demand_share"] * si["demand_split"] * si["supply_index"]).reindex(
                base["partner_iso3"]
            )
            scale = scale.to_numpy()
        mod = point * scale
        cap = np.where(np.isnan(ofdi) | (ofdi <= 0), np.inf, ofdi)  # never a cap of 0
        capped = mod > cap
        d = base.copy()
        d.insert(2, "sector", sector)
        if sector != "total":
            d["actual"] = np.nan
            d["actual_status"] = "not published by partner and sector"
            d["actual_upper"] = np.nan
        d["predicted"] = np.minimum(mod, cap)
        d["lo"] = np.minimum(lo * scale, cap)
        d["hi"] = np.minimum(hi * scale, cap)
        d["capped"] = capped
        d["predicted_model"] = mod
        basis = cap_basis.astype(str)
        d["guard"] = np.where(
            np.isnan(mod),
            "no potential: covariates or sector exports missing in the partner panel",
            np.where(
                np.isinf(cap),
                basis,
                np.where(capped, "capped at " + basis, "within " + basis),
            ),
        )
        d["cap_basis"] = cap_basis
        d["actual_above_ofdi"] = d["actual"] > d["partner_ofdi_total"]
        # Untapped potential: predicted - actual where listed; where censored the actual is
        # below the bound, so predicted - bound is a lower bound ("at least").
        d["untapped_usd_m"] = d["predicted"] - d["actual"]
        d["untapped_at_least_usd_m"] = d["predicted"] - d["actual_upper"]
        a_lo = d["actual_lo"] if "actual_lo" in d else pd.Series(np.nan, index=d.index)
        a_hi = d["actual_hi"] if "actual_hi" in d else pd.Series(np.nan, index=d.index)
        gaps = [
            untapped_gap(p, lo_, hi_, act, up, alo, ahi)
            for p, lo_, hi_, act, up, alo, ahi in zip(
                d["predicted"], d["lo"], d["hi"], d["actual"], d["actual_upper"], a_lo, a_hi,
                strict=True,
            )
        ]  # fmt: skip
        d["gap_usd_m"] = [g[0] for g in gaps]
        d["gap_lo"] = [g[1] for g in gaps]
        d["gap_hi"] = [g[2] for g in gaps]
        d["gap_status"] = [g[3] for g in gaps]
        if sector == "total":
            guard = [
                share_guard(p, c, g, shares, iso, act)
                for p, c, g, iso, act in zip(
                    d["predicted_model"], ofdi, group, d["partner_iso3"], d["actual"], strict=True
                )
            ]
        else:  # sector potentials are shares of the total: the total's flag applies
            guard = [(np.nan, np.nan, "")] * len(d)
        d["implied_share"] = [g[0] for g in guard]
        d["share_bound"] = [g[1] for g in guard]
        d["plausibility_flag"] = [g[2] for g in guard]
        out.append(d)
    pot = pd.concat(out, ignore_index=True)
    pot["unit"] = unit
    cols = [
        "partner_iso3",
        "year",
        "sector",
        "actual",
        "actual_status",
        "predicted",
        "lo",
        "hi",
        "partner_ofdi_total",
        "capped",
        "predicted_model",
        "actual_upper",
        "guard",
        "actual_above_ofdi",
        "untapped_usd_m",
        "untapped_at_least_usd_m",
        "gap_usd_m",
        "gap_lo",
        "gap_hi",
        "gap_status",
        "cap_basis",
        "implied_share",
        "share_bound",
        "plausibility_flag",
        "unit",
    ]
    flags = pot[pot["sector"] == "total"].set_index(["partner_iso3", "year"])["plausibility_flag"]
    sec = pot["sector"] != "total"
    pot.loc[sec, "plausibility_flag"] = [
        f"total potential {f}" if f else ""
        for f in flags.reindex(
            pd.MultiIndex.from_frame(pot.loc[sec, ["partner_iso3", "year"]])
        ).fillna("")
    ]
    return (
        pot[cols]
        .sort_values(["sector", "year", "predicted"], ascending=[True, True, False])
        .reset_index(drop=True)
    )


def _counterfactual(
    study_fit: CensoredGravityResult,
    frame: pd.DataFrame,
    potential: pd.DataFrame,
    settings: GravityStudySettings,
) -> pd.DataFrame:
    """IEU-CEPA and Canada CEPA in force in the latest year, member by member.

    The change is the baseline potential times ``exp(b_agreement) - 1``; its interval comes
    from draws of the agreement coefficient (prior and data), the baseline held at its
    estimate. One ratio is shared by all members, so summing member bounds gives the bound
    of the total. Partial equilibrium: no diversion from other partners, Indonesia's total
    not constrained.
    """
    if "agreement" not in set(study_fit.table["term"]):
        return pd.DataFrame()
    members = _agreement_members()
    year = int(frame["year"].max())
    latest = frame[frame["year"] == year].set_index("partner_iso3")
    draws = study_fit.draw_coefficients(settings.draws, settings.seed + 1)
    b = study_fit.coef()["agreement"]
    if "agreement" in draws.columns:
        ratio_draws = np.exp(draws["agreement"].to_numpy())
    else:  # fixed
        ratio_draws = np.full(settings.draws, math.exp(b))
    pot = potential[(potential["sector"] == "total") & (potential["year"] == year)].set_index(
        "partner_iso3"
    )
    rows = []
    a = settings.alpha
    for key, isos in members.items():
        for iso in isos:
            if iso not in latest.index:
                rows.append(
                    {
                        "agreement": key,
                        "partner_iso3": iso,
                        "year": year,
                        "note": "not in the fitted sample (no covariates)",
                    }
                )
                continue
            base = float(pot.loc[iso, "predicted"])
            already = bool(latest.loc[iso, "agreement"])
            r = 1.0 if already else math.exp(b)
            rd = np.ones_like(ratio_draws) if already else ratio_draws
            chg = base * (rd - 1)
            rows.append(
                {
                    "agreement": key,
                    "partner_iso3": iso,
                    "year": year,
                    "baseline": base,
                    "counterfactual": base * r,
                    "change": base * (r - 1),
                    "change_lo": float(np.quantile(chg, a / 2)),
                    "change_hi": float(np.quantile(chg, 1 - a / 2)),
                    "ratio": r,
                    "baseline_capped": bool(pot.loc[iso, "capped"]),
                    "note": "agreement already in force"
                    if already
                    else "partial-equilibrium FDI effect (US$ million a year)",
                }
            )
    return pd.DataFrame(rows)


def _pending_members(root=None) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """Pending agreements found in the agreements data: key -> (name, members), and notes."""
    from analysis.data.agreements import load_agreements

    agreements = load_agreements(root)
    out, notes = {}, []
    for key, pattern in PENDING_AGREEMENTS.items():
        hit = [a for a in agreements if pattern in a.name]
        if not hit:
            notes.append(f"{key}: not in the agreements data (no effect computed)")
            continue
        out[key] = (hit[0].name, " ".join(i for i in hit[0].members if i != "IDN"))
    return out, notes


def _measured_flows(frame: pd.DataFrame) -> pd.DataFrame:
    """Each partner's measured full-year flow: the mean of its published values in the fit.

    ``flow_usd_m`` is the mean of the listed full-year values (the partner's own published
    PMA; a partner is listed only in years it ranks high, so this leans high), ``bound_usd_m``
    the latest year's bound for partners never listed (their flow lies in ``[0, bound]``).
    """
    rows = []
    last = int(frame["year"].max())
    for iso, g in frame.groupby("partner_iso3"):
        listed = g[g["status"] == "listed"]
        latest = g[g["year"] == last]
        bound = float(latest["upper_bound"].iloc[0]) if len(latest) else np.nan
        rows.append(
            {
                "partner_iso3": iso,
                "flow_usd_m": float(listed["pma_usd_m"].mean()) if len(listed) else np.nan,
                "flow_years": ", ".join(str(int(y)) for y in sorted(listed["year"])),
                "bound_usd_m": bound if not len(listed) else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("partner_iso3")


def _agreement_effects(
    study_fit: CensoredGravityResult,
    frame: pd.DataFrame,
    potential: pd.DataFrame,
    settings: GravityStudySettings,
) -> tuple[pd.DataFrame, list[str]]:
    """Pending agreements' effect on measured flows and on the model baseline, with intervals.

    One row per agreement, member and basis (``actual``: the member's measured flow, see
    :func:`_measured_flows`; ``model``: the gravity potential of the latest year, drawn with
    the coefficients), plus a ``TOTAL`` row per agreement and basis (the actual total covers
    the members with a measured flow only; the others are below the year's bound). The
    effect is ``flow * (exp(b_agreement) - 1)``, partial equilibrium; its interval comes
    from draws of the agreement coefficient (and, for the model basis, of the baseline).
    """
    cols = [
        "agreement",
        "agreement_name",
        "partner_iso3",
        "basis",
        "year",
        "flow_usd_m",
        "flow_status",
        "effect_usd_m",
        "lo",
        "hi",
        "ratio",
        "n_members",
        "note",
    ]
    if "agreement" not in set(study_fit.table["term"]):
        return pd.DataFrame(columns=cols), ["agreement term not in the model: no effects"]
    pending, notes = _pending_members()
    year = int(frame["year"].max())
    latest = frame[frame["year"] == year].set_index("partner_iso3")
    draws = study_fit.draw_coefficients(settings.draws, settings.seed + 2)
    b = float(study_fit.coef()["agreement"])
    bd = (
        draws["agreement"].to_numpy()
        if "agreement" in draws.columns
        else np.full(settings.draws, b)
    )
    pot = potential[(potential["sector"] == "total") & (potential["year"] == year)]
    pot = pot.set_index("partner_iso3")
    sims = np.exp(_draw_eta(study_fit, latest.reset_index(), draws))
    cap = pot["partner_ofdi_total"].reindex(latest.index).to_numpy(float)
    cap = np.where(np.isnan(cap) | (cap <= 0), np.inf, cap)
    sims = np.minimum(sims, cap[:, None])
    row_of = {iso: i for i, iso in enumerate(latest.index)}
    measured = _measured_flows(frame)
    a = settings.alpha
    ratio = math.exp(b)
    rows = []
    for key, (name, members) in pending.items():
        isos = members.split()
        tot_act, tot_model, n_meas, bounded, missing = 0.0, np.zeros(settings.draws), [], [], []
        tot_model_point = 0.0
        for iso in isos:
            base = {
                "agreement": key,
                "agreement_name": name,
                "partner_iso3": iso,
                "year": year,
                "n_members": 1,
                "ratio": ratio,
            }
            if iso not in latest.index:
                missing.append(iso)
                rows.append(
                    {
                        **base,
                        "basis": "model",
                        "flow_status": "none",
                        "note": "not in the fitted sample (no covariates)",
                    }
                )
                continue
            if bool(latest.loc[iso, "agreement"]):
                rows.append(
                    {
                        **base,
                        "basis": "model",
                        "flow_status": "in force",
                        "note": "an agreement is already in force with this partner",
                    }
                )
                continue
            m = measured.loc[iso] if iso in measured.index else None
            if m is not None and m["flow_usd_m"] == m["flow_usd_m"]:
                eff, lo, hi = agreement_effect(m["flow_usd_m"], bd, b, a)
                rows.append(
                    {
                        **base,
                        "basis": "actual",
                        "flow_usd_m": m["flow_usd_m"],
                        "flow_status": "measured",
                        "effect_usd_m": eff,
                        "lo": lo,
                        "hi": hi,
                        "note": f"mean of the published full-year PMA ({m['flow_years']})",
                    }
                )
                tot_act += m["flow_usd_m"]
                n_meas.append(iso)
            elif m is not None and m["bound_usd_m"] == m["bound_usd_m"]:
                _, lo, hi = agreement_effect(m["bound_usd_m"], bd, b, a)
                rows.append(
                    {
                        **base,
                        "basis": "actual",
                        "flow_usd_m": np.nan,
                        "flow_status": "bounded",
                        "effect_usd_m": np.nan,
                        "lo": min(0.0, lo),
                        "hi": max(0.0, hi),
                        "note": f"never listed: flow below US$ {m['bound_usd_m']:,.0f} m "
                        f"({year}), so the effect lies between these bounds",
                    }
                )
                bounded.append(iso)
            flow_draws = sims[row_of[iso]]
            point = float(pot.loc[iso, "predicted"]) if iso in pot.index else np.nan
            _, lo, hi = agreement_effect(flow_draws, bd, b, a)
            rows.append(
                {
                    **base,
                    "basis": "model",
                    "flow_usd_m": point,
                    "flow_status": "model",
                    "effect_usd_m": point * (ratio - 1),
                    "lo": lo,
                    "hi": hi,
                    "note": "gravity potential (model baseline), latest year",
                }
            )
            tot_model = tot_model + flow_draws
            tot_model_point += point
        total = {
            "agreement": key,
            "agreement_name": name,
            "partner_iso3": "TOTAL",
            "year": year,
            "ratio": ratio,
        }
        if n_meas:
            eff, lo, hi = agreement_effect(tot_act, bd, b, a)
            rows.append(
                {
                    **total,
                    "basis": "actual",
                    "flow_usd_m": tot_act,
                    "flow_status": "measured",
                    "effect_usd_m": eff,
                    "lo": lo,
                    "hi": hi,
                    "n_members": len(n_meas),
                    "note": f"members with a published flow: {', '.join(n_meas)}; "
                    f"{len(bounded)} other member(s) never listed (flow below the "
                    "year's bound, not added)",
                }
            )
        else:
            rows.append(
                {
                    **total,
                    "basis": "actual",
                    "flow_status": "bounded",
                    "n_members": 0,
                    "note": "no member has a published flow: the effect "
                    "on actual flows cannot be identified (each member is below the "
                    "year's bound)",
                }
            )
        if tot_model_point > 0:
            _, lo, hi = agreement_effect(tot_model, bd, b, a)
            rows.append(
                {
                    **total,
                    "basis": "model",
                    "flow_usd_m": tot_model_point,
                    "flow_status": "model",
                    "effect_usd_m": tot_model_point * (ratio - 1),
                    "lo": lo,
                    "hi": hi,
                    "n_members": len(isos) - len(missing),
                    "note": "sum of the members' gravity potentials",
                }
            )
    out = pd.DataFrame(rows).reindex(columns=cols)
    return out, notes


OFFLINE = "offline"
#: Label of the multi-host model (used when IMF Direct Investment Positions are cached).
MULTIHOST_LABEL = (
    "Multi-host PPML on IMF Direct Investment Positions (host-year and source-year effects)"
)


def cached_positions() -> pd.DataFrame | None:
    """IMF Direct Investment Positions from the fetch cache (``mitra data fetch dip``).

    Returns None when the loaders are not installed or nothing is cached (offline); a cached
    file that was changed or no longer parses is an error, not "offline".
    """
    try:
        from analysis.data.loaders import fetched_positions
    except ImportError:
        return None
    positions = fetched_positions()
    return positions if len(positions) else None


def _positions_fingerprint(positions: pd.DataFrame | None) -> str:
    if positions is None:
        return OFFLINE
    return str(pd.util.hash_pandas_object(positions, index=False).sum())


def _multihost_inputs(positions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Positions in US$ million (>= 0), pair covariates, and the rows left out with reasons."""
    from analysis.partners import _capital, _haversine

    pos = positions.copy()
    if "indicator" in pos.columns:
        pos = pos[pos["indicator"] == "fdi_inward_position_usd"]
    # The loader's positions are in US$ billion (its `unit` column says so).
    if "unit" in pos.columns:
        bad_unit = pos[~pos["unit"].astype(str).str.startswith("US$ billion")]
        if len(bad_unit):
            raise GravityStudyError(
                f"IMF positions: unit {bad_unit['unit'].iloc[0]!r} in row {bad_unit.index[0]}; "
                "expected 'US$ billion (current)'"
            )
    pos["value"] = pd.to_numeric(pos["value"], errors="coerce") * 1000
    negative = pos["value"] < 0
    missing = pos["value"].isna()
    dropped = pd.concat(
        [
            pos[negative].assign(
                reason="negative position (net debt of the investor): PPML needs >= 0"
            ),
            pos[missing].assign(reason="no value"),
        ]
    )
    pos = pos[~negative & ~missing]
    pairs = pos[["reporter_iso3", "counterpart_iso3"]].drop_duplicates()
    dist = {}
    for h, c in pairs.itertuples(index=False):
        a, b = _capital(h), _capital(c)
        dist[(h, c)] = math.log(_haversine(a[:2], b[:2])) if a and b else np.nan
    pos["ldist"] = [
        dist[(h, c)] for h, c in zip(pos["reporter_iso3"], pos["counterpart_iso3"], strict=True)
    ]
    no_dist = pos["ldist"].isna()
    dropped = pd.concat([dropped, pos[no_dist].assign(reason="no capital coordinates")])
    pos = pos[~no_dist]
    cov = pos[["reporter_iso3", "counterpart_iso3", "year", "ldist"]]
    return pos[["reporter_iso3", "counterpart_iso3", "year", "value"]], cov, dropped


def run_gravity(
    settings: GravityStudySettings,
    ledger=None,
    panel=None,
    positions: pd.DataFrame | str | None = "cache",
) -> GravityStudy:
    """Run the gravity study: build the partner-year frame, fit, potential, counterfactual.

    Parameters
    ----------
    settings
        :class:`GravityStudySettings` (see :func:`settings`).
    ledger, panel
        The investment ledger and partner panel (built/loaded when omitted).
    positions
        IMF Direct Investment Positions (the loader's frame); ``"cache"`` reads the fetch
        cache, None forces the Indonesia-only fit. With positions reported by Indonesia, the
        potential comes from the multi-host PPML (:func:`fit_multihost`).
    """
    if ledger is None:
        from analysis.studies.inputs import inputs

        ledger = inputs().ledger
    if panel is None:
        from analysis.data.panel import load_panel

        panel = load_panel()
    if isinstance(positions, str):
        positions = cached_positions()
    unknown_hubs = sorted(set(settings.hubs) - set(load_hubs().index))
    if unknown_hubs:
        raise GravityStudyError(
            f"gravity_hubs: {unknown_hubs} not in data/{HUBS_FILE} (each hub needs a source)"
        )
    frame, dropped = build_gravity_frame(ledger, panel, settings)
    frame, years = _year_dummies(frame)
    priors = _priors(settings)
    fixed = {t: v for t, v, _ in settings.fixed}
    terms = list(settings.terms)
    fit = fit_censored_gravity(
        frame,
        "pma_usd_m",
        [*terms, *years],
        lower="lower_bound",
        upper="upper_bound",
        priors=priors,
        fixed=fixed,
    )
    multihost = positions is not None and (positions["reporter_iso3"] == "IDN").any()
    notes = [
        (
            f"Model: {MULTIHOST_LABEL}; Indonesia's potential is the predicted end-year "
            "position (a stock) of each source, capped at its total outward FDI stock. The "
            f"Indonesia-only fit ({MODEL_LABEL}) gives the agreement effect and the "
            "counterfactual."
        )
        if multihost
        else (
            f"Model: {MODEL_LABEL}. Offline: the Indonesia-only fit (IMF Direct Investment "
            "Positions are not in the fetch cache, so no multi-host panel)."
        ),
        "Unlisted partner-years are censored below the year's N-th listed value in the "
        "likelihood; none is set to zero or to the bound.",
        "Potential intervals: coefficient and prior uncertainty by simulation "
        f"({settings.draws} draws); the year-to-year noise of a single flow is not included.",
        "Guard: potential above the partner's total net FDI outflow (WDI) is capped (column "
        "'capped'; 'predicted_model' keeps the uncapped value). Net outflows of conduit "
        "economies can be negative while they invest gross in Indonesia: the cap is then the "
        "5-year mean net outflow, else the outward FDI stock, else none, never 0 (column "
        "'cap_basis'). A potential implying a larger share of the partner's outward FDI than "
        "Indonesia receives from any comparable partner (same hub status) is flagged "
        "('plausibility_flag').",
        "Untapped gap = potential - actual: with an interval where the partner was listed "
        "('identified'); where it was not, only a signed lower bound (lower end of the "
        "potential - the year's bound; 'bounded').",
        "Sector potential: supply x demand x ease adapted from ITC's Export Potential Map to "
        "investment (an adaptation, not the EPM). BKPM publishes chemicals and pharmaceuticals "
        "together: the two sectors split that one demand share by their shares of the "
        "candidates' combined exports (column 'demand_split'), so chemical + pharma potential "
        "= the combined sector's, never counted twice. Supply is still export "
        "specialisation: investor-side supply (sector multinationals, outward FDI by "
        "industry) is not yet used.",
    ]
    if fit.not_identified:
        notes.append("Not identified in this sample (dropped): " + ", ".join(fit.not_identified))
    if not fit.converged:
        notes.append(f"The optimiser did NOT converge: {fit.convergence}")
    listed = frame[frame["status"] == "listed"]
    try:
        x_l = [t for t in terms if listed[t].nunique() > 1]
        listed_fit = fit_gravity(
            listed, "pma_usd_m", [*x_l, *[y for y in years if listed[y].nunique() > 1]]
        )
    except GravityError as exc:
        listed_fit = None
        notes.append(f"Listed-only comparison fit not possible: {exc}")
    sector_inputs = _sector_inputs(ledger, panel, frame)
    flow_potential = _potential(fit, frame, panel, settings, sector_inputs)
    cf = _counterfactual(fit, frame, flow_potential, settings)
    effects, effect_notes = _agreement_effects(fit, frame, flow_potential, settings)
    notes.extend(effect_notes)
    distribution, coverage = _distribution_check(fit, frame, [*terms, *years], settings)
    notes.append(_distribution_note(distribution, coverage))
    notes.extend(_agreement_sensitivity(fit, frame, [*terms, *years]))
    notes.append(_mirror_note(frame))
    potential, mh_fit, mode = flow_potential, None, MODEL_LABEL
    if multihost:
        pos, cov, mh_dropped = _multihost_inputs(positions)
        mh_fit, mh_pot = fit_multihost(pos, cov, x=("ldist",))
        base = pd.DataFrame(
            {
                "partner_iso3": mh_pot["partner_iso3"],
                "year": mh_pot["year"].astype(int),
                "actual": mh_pot["actual"],
                "actual_status": "reported position",
                "actual_upper": np.nan,
            }
        )
        mh_inputs = _sector_inputs(ledger, panel, base)
        potential = _guarded(
            base,
            mh_pot["predicted"].to_numpy(),
            mh_pot["lo"].to_numpy(),
            mh_pot["hi"].to_numpy(),
            _panel_values(panel, "ofdi_stock_usd", base),
            mh_inputs,
            "US$ million (current), end-year position (stock)",
            "total outward FDI stock",
        )
        dropped = pd.concat(
            [dropped, mh_dropped.rename(columns={"counterpart_iso3": "partner_iso3"})],
            ignore_index=True,
        )[dropped.columns]
        mode = MULTIHOST_LABEL
    fp = data_fingerprint(
        {
            "ledger": ledger.fingerprint,
            "panel": str(getattr(panel, "fingerprint", "")),
            "positions": _positions_fingerprint(positions),
            "settings": repr(asdict(settings)),
            "fit": fit.fingerprint,
        }
    )
    return GravityStudy(
        settings,
        mode,
        fit,
        listed_fit,
        frame,
        dropped,
        potential,
        cf,
        sector_inputs,
        fp,
        notes,
        multihost=mh_fit,
        agreement_effects=effects,
        distribution=distribution,
        coverage=coverage,
    )


def _agreement_sensitivity(
    fit: CensoredGravityResult, frame: pd.DataFrame, x: list[str]
) -> list[str]:
    """The agreement coefficient without each partner whose agreement status changes.

    The agreement effect is identified from the few partners whose agreement with Indonesia
    entered into force within the sample; leaving each out in turn shows how much one
    partner drives it.
    """
    if "agreement" not in fit.coef().index or "agreement" not in frame.columns:
        return []
    switch = frame.groupby("partner_iso3")["agreement"].nunique()
    rows = []
    for iso in sorted(switch[switch > 1].index):
        sub = frame[frame["partner_iso3"] != iso]
        try:
            f = fit_censored_gravity(
                sub, "pma_usd_m", x, lower="lower_bound", upper="upper_bound",
                priors=fit.settings.priors,
                fixed=fit.settings.fixed,
            )  # fmt: skip
        except MitraError:
            continue
        rows.append(f"{iso} {f.coef()['agreement']:.2f} (s.e. {f.se()['agreement']:.2f})")
    if not rows:
        return []
    return [
        f"Agreement coefficient {fit.coef()['agreement']:.2f} (s.e. {fit.se()['agreement']:.2f}); "
        "without each partner whose agreement entered into force in the sample: "
        + "; ".join(rows)
        + "."
    ]


#: Lognormal sigma of the stress scenario: a heavier tail than the data support (the value
#: at which the issue's own simulation found the Gamma fit's distance elasticity biased).
STRESS_SIGMA = 1.0


def _distribution_check(
    fit: CensoredGravityResult, frame: pd.DataFrame, x: list[str], settings: GravityStudySettings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gamma against lognormal on the same censored sample, and the Gamma fit's coverage.

    The comparison refits the model with a lognormal outcome (same mean, same priors) and
    compares maximised log likelihoods (AIC). The simulation draws ``distribution_reps``
    samples of flows from the fitted lognormal (and from a lognormal with sigma
    :data:`STRESS_SIGMA`, a heavier tail), re-applies each year's top-N censoring and refits
    the Gamma model: bias, 95 % coverage and the estimates' spread over their standard
    error say how far the Gamma intervals can be trusted if the outcome is not Gamma.
    """
    from analysis.censored import compare_families, coverage_by_simulation

    table, fits = compare_families(
        frame, "pma_usd_m", x, lower="lower_bound", upper="upper_bound",
        priors=fit.settings.priors,
        fixed=fit.settings.fixed, terms=list(settings.terms),
    )  # fmt: skip
    if settings.distribution_reps <= 0:
        return table, pd.DataFrame()
    n_listed = frame[frame["status"] == "listed"].groupby("year").size().to_dict()
    scenarios = (
        ("gamma", float(fits["gamma"].shape)),  # reference: the model's own assumption
        ("lognormal", float(fits["lognormal"].shape)),
        ("lognormal", STRESS_SIGMA),
    )
    sims = [
        coverage_by_simulation(
            fit,
            frame,
            "year",
            n_listed,
            family=family,
            dispersion=disp,
            reps=settings.distribution_reps,
            seed=settings.seed + k,
        )
        for k, (family, disp) in enumerate(scenarios)
    ]
    cov = pd.concat(sims, ignore_index=True)
    return table, cov[~cov["term"].str.startswith("year_")].reset_index(drop=True)


def _distribution_note(table: pd.DataFrame, coverage: pd.DataFrame) -> str:
    """One sentence on what the distribution check implies for the intervals."""
    t = table.set_index("family")
    best = str(table.loc[table["delta_aic"].idxmin(), "family"])
    d = float(t["delta_aic"].max())
    text = (
        f"Distribution check: the {best} fits the listed and censored observations better "
        f"by {d:.1f} AIC points "
        + ("(no material difference: < 2). " if d < 2 else "(a material difference). ")
        + "Coefficients under the lognormal: "
        + ", ".join(
            f"{term} {t.loc['lognormal', term]:.2f}"
            for term in ("lgdp", "ldist", "hub")
            if term in t.columns
        )
        + " (Gamma: "
        + ", ".join(
            f"{term} {t.loc['gamma', term]:.2f}"
            for term in ("lgdp", "ldist", "hub")
            if term in t.columns
        )
        + ")."
    )
    if len(coverage):
        text += " Simulated top-N samples refitted with the Gamma model (slope terms):"
        for (family, disp), g in coverage.groupby(["family", "dispersion"], sort=False):
            g = g[g["term"] != "Intercept"].set_index("term")
            what = (
                f"Gamma flows (shape {disp:.1f}, the model's own assumption)"
                if family == "gamma"
                else f"lognormal flows (sigma {disp:.2f})"
            )
            text += (
                f" {what}: 95 % intervals cover {g['coverage'].min():.0%}-"
                f"{g['coverage'].max():.0%}, distance bias {g.loc['ldist', 'bias']:+.2f}, "
                f"estimates spread up to {g['sd_over_se'].max():.1f} times their standard "
                f"error ({int(g['reps'].iloc[0])} samples);"
            )
        text = text.rstrip(";") + (
            ". Where the spread exceeds 1 the reported intervals are too narrow by about that "
            "factor, whichever the outcome distribution."
        )
    return text


def _portable(study: GravityStudy) -> GravityStudy:
    """The study without pyfixest's model objects (they do not pickle); tables stay."""
    for res in (study.listed_fit, study.multihost):
        if res is not None:
            res.model = None
    return study


def gravity_study(settings: GravityStudySettings, ledger=None, panel=None) -> GravityStudy:
    """The gravity study, computed once per data and settings (on-disk cache).

    The fit, potential (every sector) and counterfactual do not depend on the report's
    sector or partner list, so the cache key leaves them out and the gravity and ranking
    reports of all three sectors share one fit; the returned study carries the caller's
    settings. Cached copies hold no pyfixest model: the comparison fit's ``predict`` and
    ``confint`` need a fresh :func:`run_gravity`.
    """
    from analysis.cache import cached

    if ledger is None:
        from analysis.studies.inputs import inputs

        ledger = inputs().ledger
    if panel is None:
        from analysis.data.panel import load_panel

        panel = load_panel()
    shared = replace(settings, sector=SECTORS[0], partners=())
    positions = cached_positions()
    material = {
        "ledger": ledger.fingerprint,
        "panel": str(panel.fingerprint),
        "positions": _positions_fingerprint(positions),
        "settings": shared,
    }
    study = cached(
        "gravity-study",
        material,
        lambda: _portable(run_gravity(shared, ledger, panel, positions)),
    )
    return replace(study, settings=settings)


def potential_table(settings: GravityStudySettings, ledger=None, panel=None) -> pd.DataFrame:
    """The potential table for the ranking: read from :func:`gravity_study` (no refit)."""
    return gravity_study(settings, ledger, panel).potential


def agreement_effects(
    settings: GravityStudySettings | object,
    partner: str | None = None,
    ledger=None,
    panel=None,
) -> pd.DataFrame:
    """Pending agreements' FDI effect on actual flows and on the model baseline (no refit).

    ``settings`` is a :class:`GravityStudySettings` or a :class:`~analysis.config.Params`
    (its ``gravity`` group, through :func:`settings`). Reads the cached :func:`gravity_study`.
    Returns one row per
    agreement, partner (member ISO3 or ``TOTAL``) and ``basis`` (``actual``: the measured
    flow, ``model``: the gravity baseline) with ``effect_usd_m, lo, hi`` (US$ million a year,
    95 % interval by default), ``flow_usd_m``, ``flow_status`` (measured, bounded, model,
    none, in force) and a note. ``partner`` keeps the agreements covering that partner (its
    own rows and the agreement totals).
    """
    if not isinstance(settings, GravityStudySettings):
        settings = globals()["settings"](settings)  # the module's one params -> settings route
    eff = gravity_study(settings, ledger, panel).agreement_effects
    if partner is None or eff.empty:
        return eff.reset_index(drop=True)
    keys = set(eff.loc[eff["partner_iso3"] == partner, "agreement"])
    keep = eff["agreement"].isin(keys) & eff["partner_iso3"].isin([partner, "TOTAL"])
    return eff[keep].reset_index(drop=True)


def latest_potential(
    settings: GravityStudySettings, sector: str = "total", ledger=None, panel=None
) -> pd.DataFrame:
    """One row per partner: the potential of the latest fitted year for one sector."""
    pot = potential_table(settings, ledger, panel)
    pot = pot[pot["sector"] == sector]
    return pot[pot["year"] == pot["year"].max()].reset_index(drop=True)


# -- multi-host PPML ------------------------------------------------------------------------


def fit_multihost(
    positions: pd.DataFrame,
    covariates: pd.DataFrame,
    *,
    x: Sequence[str] = ("ldist", "agreement"),
    pair_fe: bool | None = None,
    host: str = "IDN",
) -> tuple[GravityResult, pd.DataFrame]:
    """PPML on a multi-host FDI panel (IMF Direct Investment Positions) and the host's potential.

    Parameters
    ----------
    positions
        ``reporter_iso3`` (host), ``counterpart_iso3`` (source), ``year``, ``value`` (inward
        position, >= 0).
    covariates
        Bilateral covariates by ``reporter_iso3, counterpart_iso3, year`` (columns ``x``).
    pair_fe
        Add pair fixed effects (identifies only time-varying regressors); default: when some
        regressor varies within pairs.

    Returns
    -------
    (fit, potential)
        The PPML fit with host-year and source-year effects (plus pair effects if used), and
        the predicted positions into ``host`` by source and year from the host-year and
        source-year effects and the covariates (the pair effect left out: potential is what
        gravity predicts for the pair, not its own history).
    """
    d = positions.merge(covariates, on=["reporter_iso3", "counterpart_iso3", "year"], how="left")
    d["host_year"] = d["reporter_iso3"] + "_" + d["year"].astype(str)
    d["source_year"] = d["counterpart_iso3"] + "_" + d["year"].astype(str)
    d["pair"] = d["reporter_iso3"] + "_" + d["counterpart_iso3"]
    varying = [t for t in x if d.groupby("pair")[t].nunique().gt(1).any()]
    if pair_fe is None:
        pair_fe = bool(varying)
    base = fit_gravity(d, "value", list(x), ["host_year", "source_year"])
    fit = (
        fit_gravity(d, "value", varying, ["host_year", "source_year", "pair"])
        if pair_fe and varying
        else base
    )
    target = d[d["reporter_iso3"] == host]
    pred = base.predict(target)
    pot = (
        target[["counterpart_iso3", "year", "value"]]
        .rename(columns={"counterpart_iso3": "partner_iso3", "value": "actual"})
        .assign(
            predicted=pred["predicted"].to_numpy(),
            lo=pred["ci_low"].to_numpy(),
            hi=pred["ci_high"].to_numpy(),
        )
    )
    return fit, pot.reset_index(drop=True)


#: Columns of the potential table that the summary shows (the CSV keeps all).
SUMMARY_POTENTIAL_COLUMNS = [
    "partner_iso3", "year", "actual", "actual_upper", "predicted", "lo", "hi",
    "partner_ofdi_total", "capped",
]  # fmt: skip

#: Headings of the report's sections that the key findings link to (notebook headings).
SECTIONS = {
    "coefficients": "What the data identify, and what comes from a prior",
    "potential": "Potential against actual, latest year",
    "agreements": "IEU-CEPA and the Indonesia-Canada CEPA in force",
}
