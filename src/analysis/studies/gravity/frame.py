"""Data assembly of the gravity study: priors, hubs, agreements, mirror flows and the gravity
frame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.base import paths
from analysis.base.i18n import count
from analysis.models.censored import Prior

from .settings import (
    COUNTERFACTUAL_AGREEMENTS,
    HUBS_FILE,
    PENDING_AGREEMENTS,
    PERIOD_MIDPOINT,
    PERIOD_QUARTERS,
    PRIORS_FILE,
    GravityStudyError,
    GravityStudySettings,
)


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


def _in_force(iso3: str, year: int, period: str = "FY") -> tuple[bool, str]:
    """Agreement in force for Indonesia with the partner at mid-period (1 July of a full
    year) (and which)."""
    from analysis.data.agreements import in_force

    names = in_force(iso3, f"{int(year)}-{PERIOD_MIDPOINT[period]}")
    return bool(names), "; ".join(names)


def _in_force_by_date(iso3: str, dates: list[str]) -> dict[str, tuple[bool, str]]:
    """:func:`_in_force` for many dates of one partner with few lookups.

    An agreement is in force on a date when it entered into force on or before it
    (:func:`analysis.data.agreements.in_force`), so the set in force only grows with the
    date: where two dates give the same set, every date between them does too, and only the
    stretches where it changes are looked up (bisection).
    """
    from analysis.data.agreements import in_force

    days = sorted(set(dates))
    out: dict[str, tuple[bool, str]] = {}

    def look(i: int) -> tuple[bool, str]:
        if days[i] not in out:
            names = in_force(iso3, days[i])
            out[days[i]] = (bool(names), "; ".join(names))
        return out[days[i]]

    def fill(i: int, j: int) -> None:
        a, b = look(i), look(j)
        if j - i <= 1:
            return
        if a == b:
            for k in range(i + 1, j):
                out[days[k]] = a
            return
        m = (i + j) // 2
        look(m)
        fill(i, m)
        fill(m, j)

    if days:
        fill(0, len(days) - 1)
    return out


def _bound_from_lists_that_omit_a_known_value(ledger, pp: pd.DataFrame) -> pd.DataFrame:
    """Bound the unlisted of a year whose only full-year list omits partners known otherwise.

    The ledger uses only complete lists for bounds. A list that is incomplete only because
    it omits partners whose full-year value is published elsewhere (the censoring table's
    ``omits``) still ranks everyone else: every partner neither listed nor omitted is below
    its smallest listed value. Those partner-years are censored at that bound and flagged in
    ``bound_note``; nothing is assumed about a year where an omitted value is unknown.
    """
    cens = ledger.censoring
    lists = cens[~cens["complete"].astype(bool)]
    pp = pp.copy()
    if "period" not in pp.columns:
        pp["period"] = "FY"
    for (year, period), grp in pp[pp["status"] == "unknown"].groupby(["year", "period"]):
        slot = (pp["year"] == year) & (pp["period"] == period)
        known = set(pp.loc[slot & (pp["status"] == "observed"), "partner_iso3"])
        here = lists[(lists["year"] == year) & (lists["period"] == period)]
        for lst in here.itertuples(index=False):
            omits = set(str(lst.omits).split())
            if not omits or not omits <= known or not lst.upper_bound > 0:
                continue
            idx = grp.index
            pp.loc[idx, "status"] = "censored"
            pp.loc[idx, "upper_bound"] = float(lst.upper_bound)
            what = "full-year" if period == "FY" else str(period)
            pp.loc[idx, "bound_note"] = (
                f"bound from the {year} {what} list, which omits {', '.join(sorted(omits))} "
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
    if "period" in f.columns:  # a mirror is a full-year flow: it measures full-year rows only
        f.loc[f["period"] != "FY", [c for c in mirrors.columns if c.startswith("mirror_")]] = (
            np.nan
        )
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
        f"Mirror statistics: {count(len(measured), 'unlisted_partner_years')} measured by "
        "the source country's own outward FDI to Indonesia ("
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


def choose_lists(pp: pd.DataFrame) -> tuple[dict[int, tuple[str, ...]], pd.DataFrame]:
    """The lists of each year that enter the likelihood (one rule), and what each offers.

    A list is usable when every partner of the universe is listed or censored below it (no
    ``unknown``). Rule, year by year: the full-year list when usable (the potential's period;
    its own quarters are then not used, since they are the same flows); otherwise the set
    of usable part-year lists whose quarters are pairwise disjoint (:data:`PERIOD_QUARTERS`)
    with the most listed values, ties to fewer lists. Never a part-year list next to a
    full-year list, never two overlapping lists.

    Returns ``{year: periods}`` and a table ``year, period, usable, listed, used``.
    """
    from itertools import combinations

    pp = pp[pp["period"].isin(list(PERIOD_QUARTERS))]
    rows = []
    for (year, period), g in pp.groupby(["year", "period"]):
        rows.append(
            {
                "year": int(year),
                "period": str(period),
                "usable": bool((g["status"] != "unknown").all()),
                "listed": int((g["status"] == "observed").sum()),
            }
        )
    table = pd.DataFrame(rows, columns=["year", "period", "usable", "listed"])
    chosen: dict[int, tuple[str, ...]] = {}
    for year, g in table[table["usable"]].groupby("year"):
        periods = dict(zip(g["period"], g["listed"], strict=True))
        if "FY" in periods:
            chosen[int(year)] = ("FY",)
            continue
        best, key = (), (0, 0)
        names = sorted(periods, key=lambda p: (min(PERIOD_QUARTERS[p]), p))
        for n in range(1, len(names) + 1):
            for combo in combinations(names, n):
                qs = [PERIOD_QUARTERS[p] for p in combo]
                if sum(len(q) for q in qs) != len(frozenset().union(*qs)):
                    continue  # overlapping periods: not independent
                k = (sum(periods[p] for p in combo), -len(combo))
                if k > key:
                    best, key = combo, k
        if best:
            chosen[int(year)] = tuple(best)
    table["used"] = [
        p in chosen.get(int(y), ()) for y, p in zip(table["year"], table["period"], strict=True)
    ]
    return chosen, table


def build_gravity_frame(
    ledger, panel, settings: GravityStudySettings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per (partner, list) of the usable lists, and the rows dropped.

    Lists: each year's full-year top-N list, or, for a year without a usable one, its
    disjoint part-year lists (quarters, H1, 9M; :func:`choose_lists`), each with its own
    bound; ``period``, ``months``, ``list_id`` and ``period_kind`` (full year / part year)
    say which. The likelihood gives every list its own level (list effects) and part-year
    lists their own dispersion.

    Returns
    -------
    (frame, dropped)
        ``frame``: ``partner_iso3, year, pma_usd_m`` (listed value or NaN), ``upper_bound``
        (the N-th listed value for unlisted partners), ``lower_bound`` and ``mirror_usd_m``
        (a mirror statistic, :func:`mirror_flows`), ``status`` (``listed``/``censored``/
        ``measured``: unlisted, with a mirror value),
        ``gdp_usd_bn, lgdp, distance_km, ldist, hub, agreement, agreements``, ``period,
        months, list_id, period_kind``.
        ``dropped``: rows not used and why.
    """
    from analysis.data.panel import CANDIDATES
    from analysis.models.partners import capital, haversine

    members = _agreement_members()
    pending, _ = _pending_members()
    members.update({key: tuple(isos.split()) for key, (_, isos) in pending.items()})
    listed_ever = set(
        ledger.partner_panel(periods=["FY"]).query("status == 'observed'")["partner_iso3"]
    )
    universe = sorted(set(CANDIDATES) | listed_ever | {m for v in members.values() for m in v})
    pp = ledger.partner_panel(universe, periods=list(PERIOD_QUARTERS))
    pp = pp.rename(columns={"value": "pma_usd_m"})
    dropped = []
    pp["bound_note"] = ""
    pp = _bound_from_lists_that_omit_a_known_value(ledger, pp)
    chosen, _ = choose_lists(pp)
    use = pd.Series(
        [p in chosen.get(int(y), ()) for y, p in zip(pp["year"], pp["period"], strict=True)],
        index=pp.index,
    )
    fy = pp["period"] == "FY"
    unknown = pp[fy & (pp["status"] == "unknown") & ~pp["year"].isin(list(chosen))]
    for year, grp in unknown.groupby("year"):
        dropped.append(
            grp.assign(
                reason=f"{year}: no usable full-year or part-year top-N list (the unlisted "
                "have no bound; listed values alone would select on the outcome)"
            )
        )
    # A year whose full-year list is unusable and has no part-year lists in its place is
    # dropped whole, its listed rows included.
    drop_listed = pp[fy & pp["year"].isin(set(unknown["year"])) & (pp["status"] == "observed")]
    if len(drop_listed):
        dropped.append(
            drop_listed.assign(
                reason="listed, but the year's list is incomplete (no bound for the others)"
            )
        )
    # Listed values of part-year lists left out by the rule (choose_lists).
    spare = pp[~use & ~fy & (pp["status"] == "observed")]
    for year, grp in spare.groupby("year"):
        why = (
            "the year's full-year list is used (its part-year lists are the same flows)"
            if chosen.get(int(year)) == ("FY",)
            else "its list is incomplete or overlaps the part-year lists used"
            if int(year) in chosen
            else "its list is incomplete (no bound for the others)"
        )
        dropped.append(grp.assign(reason=f"part-year value not used: {why}"))
    pp = pp[use].copy()
    pp["status"] = pp["status"].map({"observed": "listed", "censored": "censored"})
    jakarta = capital("IDN")
    hubs = set(settings.hubs)
    pp["date"] = [
        f"{int(y)}-{PERIOD_MIDPOINT[p]}" for y, p in zip(pp["year"], pp["period"], strict=True)
    ]
    status = {
        iso: _in_force_by_date(iso, list(g["date"])) for iso, g in pp.groupby("partner_iso3")
    }
    rows = []
    for r in pp.itertuples(index=False):
        cap = capital(r.partner_iso3)
        ok, names = status[r.partner_iso3][r.date]
        gdp, gdp_year = panel.value("gdp_usd", r.partner_iso3, int(r.year)), int(r.year)
        if gdp != gdp and r.period != "FY":
            # A part-year list of a year the panel has no GDP for yet (the current year):
            # the previous year's GDP, recorded in gdp_year (the list effect absorbs common
            # growth; only one partner's growth relative to the others is lost).
            gdp, gdp_year = (
                panel.value("gdp_usd", r.partner_iso3, int(r.year) - 1),
                int(r.year) - 1,
            )
        months = 3 * len(PERIOD_QUARTERS[r.period])
        rows.append(
            {
                "partner_iso3": r.partner_iso3,
                "year": int(r.year),
                "period": r.period,
                "months": months,
                "list_id": str(int(r.year)) if r.period == "FY" else f"{int(r.year)} {r.period}",
                "period_kind": "full year" if r.period == "FY" else "part year",
                "pma_usd_m": r.pma_usd_m,
                "upper_bound": r.upper_bound,
                "status": r.status,
                "gdp_usd_bn": gdp,
                "gdp_year": gdp_year,
                "distance_km": haversine(jakarta[:2], cap[:2]) if cap and jakarta else np.nan,
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
    cols = ["partner_iso3", "year", "period", "status", "pma_usd_m", "upper_bound", "reason"]
    drop = pd.concat(dropped, ignore_index=True) if dropped else pd.DataFrame(columns=cols)
    return frame, drop.reindex(columns=cols)


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
