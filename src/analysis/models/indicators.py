"""The indicator framework of the partner ranking, per sector, built on the partner panel.

Five pillars (codes declared in :mod:`analysis.base.vocab`), each indicator documented with its
direction (+1: more is better for Indonesia's courting; -1: less is better), unit, source and
the year used per partner (the latest published up to the report's end year). Nothing is
filled here: a partner without a value has NaN, a partner below a top-N list has an interval
(:attr:`analysis.models.ranking.IndicatorSet.upper`), and the ranking's rules decide what happens.

- ``sector`` (the point of a sector report): the partner's exports in the sector, its
  revealed comparative advantage, its sector value added where available.
- ``capacity``: outward FDI stock and flow (what it can invest abroad).
- ``market``: GDP and real growth.
- ``presence``: PMA in Indonesia (censoring-aware) and its momentum.
- ``ties``: agreement in force, distance, UN sub-region, bilateral goods trade with Indonesia.

Revealed comparative advantage (Balassa 1965) is RCA = (X_is / X_i) / (X_Ws / X_W). The
panel has no world totals by sector, only the Atlas rows of 41 economies (the 40 candidates
and Indonesia); the denominator is therefore that pool's share, computed for the same year
and source as the numerator: RCA relative to the candidate pool, not to the world. Because
the denominator is one number per sector and year, it orders partners exactly as the
sector's share of the partner's own exports does; only the level (1 = pool average) depends
on the pool.

Hubs: Singapore, Hong Kong, the Netherlands and Luxembourg are known conduits; a candidate
is also flagged when its FDI inflows plus outflows average more than
:data:`HUB_FLOW_SHARE_PCT` of GDP over the latest five years (the data show it routes
capital). Their outward-FDI and presence indicators are ``hub_sensitive``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from analysis.base.vocab import RANKING_INDICATORS, RANKING_PILLARS
from analysis.data.ledger import Ledger
from analysis.models.ranking import KNOWN_HUBS, IndicatorSet

__all__ = [
    "HUB_FLOW_SHARE_PCT",
    "SECTOR_EVIDENCE",
    "build_indicators",
    "flag_hubs",
    "gross_outward_flow",
    "relocation_push",
]

#: A candidate whose FDI inflows + outflows average more than this share of GDP (%) over the
#: latest five years is flagged as a hub (IMF/OECD: conduit economies show flows far above
#: what their economy can absorb or generate).
HUB_FLOW_SHARE_PCT = 20.0

#: Sector evidence per report sector: panel export codes summed into ``sector_exports``
#: (``minus``: subtracted, same source and year), and the value-added share code.
SECTOR_EVIDENCE: dict[str, dict[str, object]] = {
    "textile": {
        "exports": ("exports_textiles_usd", "exports_clothing_usd", "exports_footwear_usd"),
        "minus": (),
        "label": "textiles, clothing and footwear (SITC 65 + 84 + 85)",
        "va_share": "textiles_share_mva_pct",
    },
    "chemical": {
        "exports": ("exports_chemicals_usd",),
        "minus": ("exports_pharma_usd",),
        "label": "chemicals excluding pharmaceuticals (SITC 5 less 54)",
        "va_share": "chemicals_share_mva_pct",
    },
    "pharma": {
        "exports": ("exports_pharma_usd",),
        "minus": (),
        "label": "pharmaceuticals (SITC 54)",
        "va_share": None,
    },
}
TOTAL_EXPORTS = "exports_total_sitc_usd"
#: PMA in Indonesia is averaged over this many latest listed full years (FDI is lumpy).
PMA_YEARS = 3  # the Atlas total: same source as the sector rows
#: The host economy (relocation push is measured against it).
HOST = "IDN"
#: Outward FDI flows are averaged over this many latest years (each floored at zero).
OFDI_FLOW_YEARS = 5
#: Labour-intensive report sectors that get a relocation-push indicator (textile includes
#: clothing and footwear).
LABOUR_INTENSIVE = ("textile",)


def _known(panel, partners: Sequence[str]) -> list[str]:
    have = set(panel.economies)
    return [p for p in partners if p in have]


def _wide(panel, code: str, partners: Sequence[str] | None, end_year: int) -> pd.DataFrame:
    """Economies x years of one indicator up to ``end_year`` (empty if the code is unknown)."""
    if code not in set(panel.catalogue["code"]):
        return pd.DataFrame()
    w = panel.wide(code, iso3=None if partners is None else _known(panel, partners))
    return w.loc[:, [c for c in w.columns if int(c) <= end_year]]


def _latest_joint(
    parts: Sequence[pd.DataFrame], combine: Callable[..., pd.DataFrame], partners: Sequence[str]
) -> tuple[pd.Series, pd.Series]:
    """Latest year in which every part has a value; ``combine`` the parts in that year."""
    if any(p.empty for p in parts):
        nan = pd.Series(np.nan, index=list(partners), dtype=float)
        return nan, nan.copy()
    years = sorted(set.intersection(*(set(p.columns) for p in parts)))
    idx = list(partners)
    if not years:  # an early end year: the parts share no year
        nan = pd.Series(np.nan, index=idx, dtype=float)
        return nan, nan.copy()
    aligned = [p.reindex(index=idx, columns=years) for p in parts]
    combined = combine(*aligned)
    ok = combined.notna()
    last = ok.iloc[:, ::-1].idxmax(axis=1).where(ok.any(axis=1))
    values = pd.Series(
        [combined.at[p, y] if pd.notna(y) else np.nan for p, y in last.items()], index=idx
    )
    return values.astype(float), last.astype(float)


def _mean_latest(w: pd.DataFrame, partners: Sequence[str], n: int) -> tuple[pd.Series, pd.Series]:
    """Mean of each partner's ``n`` latest values, and the latest year used."""
    if w.empty:
        nan = pd.Series(np.nan, index=list(partners), dtype=float)
        return nan, nan.copy()
    w = w.reindex(list(partners))
    vals, yrs = {}, {}
    for p, row in w.iterrows():
        r = row.dropna()
        if len(r):
            vals[p] = float(r.iloc[-n:].mean())
            yrs[p] = float(r.index[-1])
    return (
        pd.Series(vals, dtype=float).reindex(list(partners)),
        pd.Series(yrs, dtype=float).reindex(list(partners)),
    )


def relocation_push(panel, partners: Sequence[str], end_year: int) -> tuple[pd.Series, pd.Series]:
    """How much higher the partner's labour cost is than Indonesia's, in log points.

    ``max(0, ln(y_p / y_IDN))`` with ``y`` GDP per person (current US$, WDI) in the latest
    year up to ``end_year`` in which both are published: a proxy for the wage gap that
    pushes labour-intensive plants (garments, footwear) abroad. A partner no richer than
    Indonesia gets 0: it cannot be pushed to relocate here. NaN where either is missing.

    Returns
    -------
    (values, years)
    """
    w = _wide(panel, "gdp_pc_usd", None, end_year)
    idx = list(partners)
    if w.empty or HOST not in w.index:
        nan = pd.Series(np.nan, index=idx, dtype=float)
        return nan, nan.copy()
    host = w.loc[HOST]
    ratio = w.reindex(idx).div(host, axis=1)
    ratio = ratio.where(ratio > 0)
    ok = ratio.notna()
    last = ok.iloc[:, ::-1].idxmax(axis=1).where(ok.any(axis=1))
    vals = pd.Series(
        [ratio.at[p, y] if pd.notna(y) else np.nan for p, y in last.items()], index=idx
    )
    return np.log(vals).clip(lower=0.0).astype(float), last.astype(float)


def gross_outward_flow(
    w: pd.DataFrame, partners: Sequence[str], n: int = OFDI_FLOW_YEARS
) -> tuple[pd.Series, pd.Series, dict[str, list[str]]]:
    """Mean of each partner's ``n`` latest outward FDI flows, each year floored at zero.

    A net outflow below zero is disinvestment (repatriation through a conduit), not a
    negative capacity to invest: counted as 0 so that it can never set the normalisation's
    floor below zero and lower other partners' scores.

    Returns
    -------
    (mean, latest year used, partner -> years floored)
    """
    if w.empty:
        nan = pd.Series(np.nan, index=list(partners), dtype=float)
        return nan, nan.copy(), {}
    w = w.reindex(list(partners))
    floored: dict[str, list[str]] = {}
    for p, row in w.iterrows():
        r = row.dropna().iloc[-n:]
        neg = [str(y) for y, v in r.items() if v < 0]
        if neg:
            floored[str(p)] = neg
    mean, year = _mean_latest(w.clip(lower=0.0), partners, n)
    return mean, year, floored


def flag_hubs(panel, partners: Sequence[str], end_year: int) -> dict[str, str]:
    """Known conduits plus candidates whose FDI flows dwarf their GDP (see module notes)."""
    hubs = {p: KNOWN_HUBS[p] for p in partners if p in KNOWN_HUBS}
    inflow = _wide(panel, "fdi_inflow_pct_gdp", partners, end_year)
    outflow = _wide(panel, "fdi_outflow_pct_gdp", partners, end_year)
    if inflow.empty or outflow.empty:
        return hubs
    cols = sorted(set(inflow.columns) & set(outflow.columns))[-5:]
    both = inflow.reindex(columns=cols).abs() + outflow.reindex(columns=cols).abs()
    mean = both.mean(axis=1, skipna=True)
    for p, m in mean.items():
        if pd.notna(m) and m > HUB_FLOW_SHARE_PCT and p not in hubs:
            hubs[p] = (
                f"data: FDI inflows + outflows averaged {m:.0f} % of GDP in {cols[0]}-{cols[-1]}"
                f" (rule: > {HUB_FLOW_SHARE_PCT:.0f} %)"
            )
    return hubs


def _source(panel, codes: Sequence[str]) -> str:
    cat = panel.catalogue.set_index("code")
    return (
        "; ".join(dict.fromkeys(str(cat.at[c, "source"]) for c in codes if c in cat.index))
        or "partner panel"
    )


def _treaty_flags(
    partners: Sequence[str], end_year: int, kind: str
) -> tuple[pd.Series, dict[str, str]]:
    """1 if an instrument of ``kind`` is in force on 1 July, 0 if none is, NaN if unknown."""
    from analysis.data.agreements import instruments, instruments_of

    day = f"{end_year}-07-01"
    vals, why = {}, {}
    try:  # the sources read once for every partner
        known: dict = instruments_of(partners, day, kinds=[kind])
    except Exception:  # some code is not known: partner by partner, to say which
        known = {}
    for p in partners:
        try:
            recs = known[p] if p in known else instruments(p, day, kinds=[kind])
        except Exception as exc:  # a code the treaty files do not know: a gap, said so
            vals[p], why[p] = np.nan, f"not checked: {exc}"
            continue
        status = {r.status for r in recs}
        if "in_force" in status:
            vals[p] = 1.0
            names = [getattr(r, "name", "") for r in recs if r.status == "in_force"]
            why[p] = "in force: " + "; ".join(n for n in names if n)
        elif "unknown" in status:
            vals[p], why[p] = np.nan, "status unknown on 1 July (no date in the sources)"
        else:
            vals[p] = 0.0
            if recs:
                why[p] = "not in force (terminated, signed only or later)"
    return pd.Series(vals, dtype=float), why


def _investor_evidence(sector, cands, end_year, add, upper, lower, cell_notes, notes,
                       routes) -> None:  # fmt: skip
    """Add the investor-side sector indicators (:mod:`analysis.models.investor_evidence`)."""
    from analysis.data.investor import load_multinationals, load_ofdi_by_industry
    from analysis.data.projects import load_projects
    from analysis.data.sector_pma import load_partner_sector
    from analysis.models.investor_evidence import (
        host_side_sector_rows,
        mnc_firms,
        ofdi_industry_share,
        project_pipeline,
        routed_ends,
        sector_named,
        sector_pma,
    )

    def add_bounded(code, v, lo, up, gap_note, *args, **kw) -> None:
        # An indicator whose unpublished cells are intervals [lo, up], each with a note saying
        # why; skipped when no candidate has a value at all.
        if not v.notna().any():
            return
        upper[code], lower[code] = up, lo
        for p in v.index[v.isna()]:
            cell_notes.loc[p, code] = gap_note(p)
        add(code, *args, values=v, **kw)

    v, lo, up, yr, src = mnc_firms(load_multinationals(), sector, cands, end_year)
    add_bounded("mnc_firms", v, lo, up, lambda p: "not in the part of the league tables we have",
                "sector", "Sector multinationals headquartered there (league tables, latest "
                "edition of each; partial lists)", +1, "firms",
                f"data/raw/investor/sector_multinationals.csv: {src}", yrs=yr)  # fmt: skip
    # Realised partner x sector PMA: the partner x sector file plus BKPM's host-side figures
    # quoted in the outward-FDI file (textiles and footwear by country, Q1 2023).
    ofdi = load_ofdi_by_industry()
    partner_sector = load_partner_sector()
    realised = pd.concat([partner_sector, host_side_sector_rows(ofdi)], ignore_index=True)
    v, lo, up, yr = sector_pma(realised, sector, cands, end_year)
    add_bounded("sector_pma", v, lo, up,
                lambda p: "no published partner x sector figure: below the smallest published one",
                "sector", "Realised PMA in the Indonesian industry (largest figure published "
                "for one period)", +1, "US$ million",
                "data/raw/bkpm/pma_by_country_sector.csv (BKPM via press; realised rows); "
                "data/raw/investor/ofdi_by_industry.csv (HOST-SIDE BKPM rows)",
                yrs=yr, hub=True)  # fmt: skip
    v, lo, up, yr = sector_named(partner_sector, sector, cands, end_year)
    add_bounded("sector_named", v, lo, up,
                lambda p: "not named in the statements we have: [0, 1]",
                "sector", "Named among the industry's main foreign investors (BKPM or "
                "ministry statements)", +1, "statements",
                "data/raw/bkpm/pma_by_country_sector.csv (share statements)", yrs=yr)  # fmt: skip
    v, yr, what = ofdi_industry_share(ofdi, sector, cands, end_year)
    add("ofdi_industry_share", "sector", "The industry's share of the partner's outward FDI "
        f"in manufacturing (source-side statistics: {what or 'none'})", +1, "%",
        "data/raw/investor/ofdi_by_industry.csv (SOURCE-SIDE rows); a partner that does not "
        "publish it is a gap, not a zero", v, yr)  # fmt: skip
    projects = load_projects()
    v, lo, up, yr, routed = project_pipeline(projects, sector, cands, end_year)
    routes.update(
        {(p, "project_pipeline"): end
         for p, end in routed_ends(projects, sector, cands, end_year).items()}
    )  # fmt: skip
    add_bounded("project_pipeline", v, lo, up,
                lambda p: routed.get(p, "no project in the compiled list: below the smallest "
                                        "project"),
                "sector", "Projects in the industry in Indonesia (US$ m; operating and under "
                "construction 1, announced 0.5, cancelled 0)", +1, "US$ million",
                "data/raw/bkpm/projects.csv (company and press sources per row)",
                yrs=yr)  # fmt: skip
    notes.append(
        "Sector pillar, investor side: multinationals by headquarters (partial league tables: "
        "absent = 'not in the part we have', an interval), realised PMA by partner in the "
        "industry and the project pipeline (routed investment, e.g. Lotte Chemical recorded "
        "under Malaysia, is an interval between the recorded and the ultimate-investor view). "
        "Exports and RCA stay as capability evidence at a lower weight."
    )


def build_indicators(
    panel,
    ledger: Ledger,
    sector: str,
    end_year: int,
    *,
    partners: Sequence[str] | None = None,
) -> IndicatorSet:
    """The indicator set of the candidate partners for one report sector.

    Parameters
    ----------
    panel
        The partner panel (:func:`analysis.data.panel.load_panel`).
    ledger
        The BKPM ledger (PMA by partner, top-N censoring explicit).
    sector
        Report sector: ``textile``, ``chemical`` or ``pharma``.
    end_year
        Latest year of data used.
    partners
        Candidate ISO3 codes (default: the panel's ``CANDIDATES``).

    Returns
    -------
    IndicatorSet
        Values, censored-cell bounds, years, documentation, hub flags and notes.
    """
    from analysis.data.panel import CANDIDATES
    from analysis.models.partners import partner_covariates

    if sector not in SECTOR_EVIDENCE:
        raise ValueError(f"sector must be one of {sorted(SECTOR_EVIDENCE)}, got {sector!r}")
    cands = list(CANDIDATES) if partners is None else list(partners)
    ev = SECTOR_EVIDENCE[sector]
    cols: dict[str, pd.Series] = {}
    years: dict[str, pd.Series] = {}
    rows: list[dict[str, object]] = []
    notes: list[str] = []
    upper = pd.DataFrame(np.nan, index=pd.Index(cands, name="partner_iso3"), columns=[])
    lower = upper.copy()
    cell_notes = pd.DataFrame("", index=upper.index, columns=list(RANKING_INDICATORS))

    def add(code, pillar, label, direction, unit, source, values, yrs, **kw) -> None:
        assert code in RANKING_INDICATORS and pillar in RANKING_PILLARS  # declared vocabulary
        vals = values.reindex(cands).astype(float)
        if not vals.notna().any() and code not in upper.columns:
            notes.append(f"{label}: no partner has a value up to {end_year}; left out.")
            return
        cols[code] = vals
        years[code] = (
            yrs.reindex(cands).astype(float)
            if isinstance(yrs, pd.Series)
            else pd.Series(yrs, index=cands, dtype=float)
        )
        rows.append(
            {
                "code": code,
                "pillar": pillar,
                "label": label,
                "direction": direction,
                "unit": unit,
                "source": source,
                "hub_sensitive": kw.get("hub", False),
                "noisy": kw.get("noisy", True),
            }
        )

    # --- sector pillar ---
    exp_parts = [_wide(panel, c, None, end_year) for c in ev["exports"]]  # type: ignore[union-attr]
    minus_parts = [_wide(panel, c, None, end_year) for c in ev["minus"]]  # type: ignore[union-attr]
    everyone = sorted(set().union(*(set(p.index) for p in exp_parts if not p.empty)))
    n_exp = len(exp_parts)

    def sector_sum(*parts: pd.DataFrame) -> pd.DataFrame:
        total = sum(parts[:n_exp])
        for m in parts[n_exp:]:
            total = total - m
        return total

    sx_all, sx_year_all = _latest_joint([*exp_parts, *minus_parts], sector_sum, everyone)
    add(
        "sector_exports",
        "sector",
        f"Exports of {ev['label']}",
        +1,
        "US$ billion (current)",
        _source(panel, [*ev["exports"], *ev["minus"]]),
        sx_all,
        sx_year_all,
    )  # type: ignore[misc]
    # RCA against the pool of economies with the Atlas total in the same year.
    total = _wide(panel, TOTAL_EXPORTS, None, end_year)
    rca, rca_year = pd.Series(np.nan, index=cands), pd.Series(np.nan, index=cands)
    if not total.empty and everyone:
        parts = [*exp_parts, *minus_parts]
        yrs_common = sorted(set(total.columns).intersection(*(set(p.columns) for p in parts)))
        sec = sector_sum(*[p.reindex(index=everyone, columns=yrs_common) for p in parts])
        tot = total.reindex(index=everyone, columns=yrs_common)
        both = sec.notna() & tot.notna()
        pool_share = sec.where(both).sum() / tot.where(both).sum()
        share = sec / tot
        for p in cands:
            if p in share.index:
                ok = share.loc[p].dropna()
                if len(ok):
                    y = ok.index[-1]
                    rca[p] = ok.iloc[-1] / pool_share[y]
                    rca_year[p] = y
        add(
            "sector_rca",
            "sector",
            f"Revealed comparative advantage: {ev['label']}",
            +1,
            "index (1 = pool average)",
            f"{_source(panel, [*ev['exports'], TOTAL_EXPORTS])}; pool: the 41 Atlas economies "
            "(candidates and Indonesia), same year",
            rca,
            rca_year,
        )  # type: ignore[misc]
    if ev["va_share"]:
        share_w = _wide(panel, str(ev["va_share"]), None, end_year)
        mva = _wide(panel, "manufacturing_va_usd", None, end_year)
        va, va_year = _latest_joint([share_w, mva], lambda s, m: s / 100 * m, cands)
        add(
            "sector_value_added",
            "sector",
            "Sector value added (old vintage, fallback)",
            +1,
            "US$ billion (current)",
            f"{_source(panel, [str(ev['va_share']), 'manufacturing_va_usd'])} - 2013 vintage "
            "(data to about 2012): a flagged fallback",
            va,
            va_year,
        )
        for p in va.index[va.notna()]:
            cell_notes.loc[p, "sector_value_added"] = (
                f"old vintage (2013 WDI/UNIDO release, data year {int(va_year[p])}): fallback"
            )
        if va.notna().any():
            notes.append(
                f"Sector value added uses the 2013 WDI/UNIDO vintage (latest year "
                f"{int(np.nanmax(va_year))}): an old fallback, flagged in the indicator list."
            )
    else:
        notes.append(
            f"No sector value added is published for {sector} (UNIDO shares cover "
            "textiles and chemicals only): the sector pillar uses exports and RCA."
        )
    if sector in LABOUR_INTENSIVE:
        push, push_y = relocation_push(panel, cands, end_year)
        # Where GDP per person is not published (Taiwan is not in WDI), the monthly minimum
        # wage against Indonesia's national average provincial minimum stands in, flagged.
        from analysis.data.investor import load_wages

        wages = load_wages()
        wages = wages[
            wages["unit"].str.endswith("/month")
            & wages["measure"].str.lower().str.contains("minimum wage")
            & wages["value_usd"].notna()
            & (wages["year"] <= end_year + 1)
        ]
        host = wages[(wages["iso3"] == HOST) & wages["measure"].str.startswith("National average")]
        for p in push.index[push.isna()]:
            mine = wages[wages["iso3"] == p]
            if len(mine) and len(host):
                a, b = mine.iloc[0], host.iloc[0]
                push[p] = max(0.0, float(np.log(a["value_usd"] / b["value_usd"])))
                push_y[p] = float(a["year"])
                cell_notes.loc[p, "relocation_push"] = (
                    f"no GDP per person: minimum wage {a['value_usd']:.0f} US$/month "
                    f"({a['year']}) against Indonesia's {b['value_usd']:.0f} ({b['year']}), "
                    "manufacturing_wages.csv"
                )
        add(
            "relocation_push",
            "sector",
            "Relocation push: labour-cost gap over Indonesia (GDP per person)",
            +1,
            "log points (0: not richer than Indonesia)",
            f"{_source(panel, ['gdp_pc_usd'])}: ln(partner / Indonesia), same year, floored at 0",
            push,
            push_y,
        )
        notes.append(
            "Relocation push (textile, clothing, footwear): how far the partner's GDP per "
            "person exceeds Indonesia's (log points, same year), a proxy for the wage gap that "
            "moves labour-intensive plants abroad; a partner no richer than Indonesia gets 0."
        )
    # --- sector pillar, investor side: firms that invest abroad in the industry ---
    routes: dict[tuple[str, str], str] = {}
    _investor_evidence(sector, cands, end_year, add, upper, lower, cell_notes, notes, routes)

    # --- capacity: gross outward investment, never a net disinvestment ---
    # WDI publishes net outflows (new investment abroad less disinvestment). A conduit's
    # negative year (the Netherlands: -US$64.5 bn) is a repatriation through it, not a
    # negative ability to invest: each year is floored at zero before the mean, and the
    # floored cells are flagged. A negative value therefore can never set the scale's floor
    # below zero and so can never lower another partner's capacity score.
    stock, stock_y = _latest_joint(
        [_wide(panel, "ofdi_stock_usd", cands, end_year)], lambda s: s, cands
    )
    for p in stock.index[stock < 0]:
        cell_notes.loc[p, "ofdi_stock"] = f"negative position {stock[p]:.1f} counted as 0"
    add(
        "ofdi_stock",
        "capacity",
        "Outward FDI stock",
        +1,
        "US$ billion (current)",
        _source(panel, ["ofdi_stock_usd"]),
        stock.clip(lower=0.0),
        stock_y,
        hub=True,
    )
    flow, flow_y, flow_neg = gross_outward_flow(
        _wide(panel, "fdi_outflow_usd", cands, end_year), cands
    )
    # Where WDI has no outflow (Taiwan is not in WDI), the national source's outward flow
    # stands in, flagged on the cell: a different compiler, not a different concept.
    national, national_y, national_neg = gross_outward_flow(
        _wide(panel, "ofdi_flow_usd", cands, end_year), cands
    )
    fill = flow.isna() & national.notna()
    for p in fill[fill].index:
        flow[p], flow_y[p] = national[p], national_y[p]
        flow_neg[p] = national_neg.get(p, [])
        cell_notes.loc[p, "ofdi_flow"] = (
            "national source (ofdi_flow_usd) where WDI has no value: definitions vary by compiler"
        )
    for p, years_neg in flow_neg.items():
        if years_neg and p in cell_notes.index:
            note = cell_notes.loc[p, "ofdi_flow"]
            extra = f"net disinvestment in {', '.join(years_neg)} counted as 0"
            cell_notes.loc[p, "ofdi_flow"] = f"{note}; {extra}" if note else extra
    add(
        "ofdi_flow",
        "capacity",
        f"Outward FDI flow, mean of the latest {OFDI_FLOW_YEARS} years (negative years as 0)",
        +1,
        "US$ billion (current)",
        _source(panel, ["fdi_outflow_usd"]),
        flow,
        flow_y,
        hub=True,
    )

    # --- market ---
    gdp, gdp_y = _latest_joint([_wide(panel, "gdp_usd", cands, end_year)], lambda s: s, cands)
    add(
        "gdp",
        "market",
        "GDP",
        +1,
        "US$ billion (current)",
        _source(panel, ["gdp_usd"]),
        gdp,
        gdp_y,
    )
    notes.append(
        "Market: the partner's GDP only. Its own GDP growth is left out: it says nothing "
        "about its firms investing abroad, multinational accounting inflates it (Ireland), "
        "and the audit found the market pillar unreliable with it (Cronbach's alpha -0.10)."
    )

    # --- presence: PMA in Indonesia, mean of the latest three listed full years; a year in
    # which the partner is below the top-N list counts as the interval [0, bound], so the
    # mean is an interval too (lower: those years at 0; upper: at their bound).
    every_list = ledger.partner_panel(cands)  # every period, once (a slow call)
    pp = every_list[every_list["period"] == "FY"]
    pp = pp[pp["year"] <= end_year]
    pma, pma_year, pma_lower, pma_upper, mom, mom_year = {}, {}, {}, {}, {}, {}
    for p, sub in pp.groupby("partner_iso3"):
        known = sub[sub["status"].isin(["observed", "censored"])].sort_values("year")
        if known.empty:
            continue
        last3 = known.iloc[-PMA_YEARS:]
        pma_year[p] = float(last3["year"].iloc[-1])
        observed = last3["status"] == "observed"
        if observed.all():
            pma[p] = float(last3["value"].mean())
        else:
            pma_lower[p] = float(last3["value"].where(observed, 0.0).mean())
            pma_upper[p] = float(last3["value"].where(observed, last3["upper_bound"]).mean())
        obs = sub[sub["status"] == "observed"].sort_values("year")
        if len(obs) >= 2:
            a, b = obs.iloc[-2], obs.iloc[-1]
            mom[p] = ((b["value"] / a["value"]) ** (1 / max(b["year"] - a["year"], 1)) - 1) * 100
            mom_year[p] = float(b["year"])
    upper["pma_in_idn"] = pd.Series(pma_upper, dtype=float).reindex(cands)
    lower["pma_in_idn"] = pd.Series(pma_lower, dtype=float).reindex(cands)
    add(
        "pma_in_idn",
        "presence",
        f"PMA in Indonesia, mean of the latest {PMA_YEARS} listed full years",
        +1,
        "US$ million",
        "ledger: BKPM top-N lists (a year below the list: interval [0, smallest listed])",
        pd.Series(pma, dtype=float),
        pd.Series(pma_year, dtype=float),
        hub=True,
    )
    add(
        "pma_momentum",
        "presence",
        "PMA growth between the two latest listed years",
        +1,
        "% per year",
        "ledger: BKPM top-N lists",
        pd.Series(mom, dtype=float),
        pd.Series(mom_year, dtype=float),
        hub=True,
    )

    # Every published list (quarterly, H1, 9M, FY) of the latest PMA_YEARS years: the share
    # naming the partner. Fully observed: a partner missing from a list is below its cut-off.
    allp = every_list
    allp = allp[(allp["year"] <= end_year) & (allp["year"] > end_year - PMA_YEARS)]
    allp = allp[allp["status"].isin(["observed", "censored"])]
    if len(allp):
        n_lists = allp[["year", "period"]].drop_duplicates().shape[0]
        share = (
            allp.assign(hit=allp["status"] == "observed")
            .groupby("partner_iso3")["hit"]
            .mean()
            .reindex(cands)
        )
        add(
            "pma_listed_share",
            "presence",
            f"Share of BKPM's country lists naming the partner ({n_lists} lists, all periods, "
            f"{end_year - PMA_YEARS + 1}-{end_year})",
            +1,
            "share of lists",
            "ledger: BKPM top-N country lists, every published period",
            share,
            float(end_year),
            hub=True,
        )

    # --- ties ---
    cov = partner_covariates(cands, [end_year]).set_index("partner_iso3")
    add(
        "agreement",
        "ties",
        "Agreement with Indonesia in force (1 July)",
        +1,
        "0/1",
        "analysis.data.agreements",
        cov["agreement"],
        float(end_year),
        noisy=False,
    )
    for code, kind, label in (
        ("investment_treaty", "investment_treaty", "Investment treaty in force (1 July)"),
        ("tax_treaty", "tax_treaty", "Double-taxation agreement in force (1 July)"),
    ):
        vals, why = _treaty_flags(cands, end_year, kind)
        for p, text in why.items():
            cell_notes.loc[p, code] = text
        add(
            code,
            "ties",
            label,
            +1,
            "0/1",
            "analysis.data.treaties (BITs, investment chapters, DTAs); unknown dates stay unknown",
            vals,
            float(end_year),
            noisy=False,
        )
    add(
        "distance",
        "ties",
        "Distance between capitals",
        -1,
        "km",
        "countryinfo capital coordinates (great circle)",
        cov["distance_km"],
        np.nan,
        noisy=False,
    )
    add(
        "same_subregion",
        "ties",
        "In Indonesia's UN sub-region (South-eastern Asia)",
        +1,
        "0/1",
        "countryinfo (UN M49 sub-region)",
        cov["same_subregion"],
        np.nan,
        noisy=False,
    )
    trade, trade_y = _latest_joint(
        [
            _wide(panel, "idn_exports_to_usd", cands, end_year),
            _wide(panel, "idn_imports_from_usd", cands, end_year),
        ],
        lambda a, b: a + b,
        cands,
    )
    add(
        "bilateral_trade",
        "ties",
        "Goods trade with Indonesia (exports + imports)",
        +1,
        "US$ billion (current)",
        _source(panel, ["idn_exports_to_usd", "idn_imports_from_usd"]),
        trade,
        trade_y,
    )
    notes.append(
        "No gravity-potential indicator: the ranking does not refit the gravity model "
        "(computed once, in the gravity report)."
    )

    values = pd.DataFrame(cols, index=pd.Index(cands, name="partner_iso3"))
    yrs = pd.DataFrame(years, index=values.index)
    meta = pd.DataFrame(rows).set_index("code")
    meta["year"] = [
        f"{int(yrs[c].min())}-{int(yrs[c].max())}" if yrs[c].notna().any() else "time-invariant"
        for c in meta.index
    ]
    up = upper.reindex(columns=values.columns)
    lo = lower.reindex(columns=values.columns)
    meta["coverage"] = (values.notna() | up.notna()).mean().reindex(meta.index).round(2)
    return IndicatorSet(
        values=values,
        meta=meta,
        lower=lo,
        upper=up,
        hubs=flag_hubs(panel, cands, end_year),
        years=yrs,
        cell_notes=cell_notes.reindex(columns=values.columns),
        notes=tuple(notes),
        routed=routes,
    )
