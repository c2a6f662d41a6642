"""Investor-side sector evidence for the partner ranking: who invests abroad in the industry.

Three indicators per report sector, each from the compiled reference files (validated
loaders in :mod:`analysis.data`), each with the data available up to the ranking's end year:

- ``mnc_firms``: the number of the sector's multinationals headquartered in the partner, in
  the league tables (latest edition of each list up to the end year;
  :func:`analysis.data.investor.load_multinationals`). The tables are partial: a partner
  absent from them is "not in the part we have", a censored interval [0, 1 firm], never a
  plain zero.
- ``sector_pma``: the largest realised PMA of the partner in the Indonesian industry that
  BKPM published for one period (:func:`analysis.data.sector_pma.load_partner_sector`,
  ``kind`` realised, single-country rows), US$ million. Partners without a published figure
  are below the smallest published one: an interval, flagged.
- ``project_pipeline``: the partner's projects in the industry
  (:func:`analysis.data.projects.load_projects`), US$ million, weighted by status
  (operating and under construction 1, announced 0.5, cancelled 0: a cancelled project never
  raises it). Joint projects (``JPN+THA``) are split equally. Investment routed through a
  third country (Lotte Chemical's cracker, recorded by BKPM under Malaysia) enters as an
  interval between the recorded and the ultimate-investor attribution, so the Monte Carlo
  draws both views; the cell is flagged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "PROJECT_STATUS_WEIGHT",
    "SECTOR_CODES",
    "mnc_firms",
    "project_pipeline",
    "sector_pma",
]

#: Report sector -> the codes of the compiled files that belong to it.
SECTOR_CODES: dict[str, tuple[str, ...]] = {
    "textile": ("textile", "footwear"),
    "chemical": ("chemical", "chem_pharma"),
    "pharma": ("pharma", "chem_pharma"),
}
#: Weight of a project by status in the pipeline (cancelled: none).
PROJECT_STATUS_WEIGHT = {
    "operating": 1.0,
    "under_construction": 1.0,
    "announced": 0.5,
    "cancelled": 0.0,
}


def _empty(partners: Sequence[str]) -> pd.Series:
    return pd.Series(np.nan, index=list(partners), dtype=float)


def mnc_firms(
    table: pd.DataFrame, sector: str, partners: Sequence[str], end_year: int
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series, str]:
    """Firms per headquarters country in the latest edition of each league table.

    Returns
    -------
    (values, lower, upper, year, source): values NaN where censored (absent from the part
    of the lists we have), with the interval [0, 1] in ``lower``/``upper``.
    """
    t = table[table["sector"].isin(SECTOR_CODES[sector][:1]) & (table["list_year"] <= end_year)]
    idx = list(partners)
    if t.empty:
        e = _empty(idx)
        return e, e.copy(), e.copy(), e.copy(), ""
    # A national list (every firm from one country, e.g. an index of Indian textile firms)
    # says nothing about other countries: only cross-country league tables count.
    hqs = t.groupby("list_name")["iso3"].nunique()
    t = t[t["list_name"].isin(hqs.index[hqs > 1])]
    if t.empty:
        e = _empty(idx)
        return e, e.copy(), e.copy(), e.copy(), ""
    # The latest edition of each publisher's list (editions share the name's stem).
    stem = t["list_name"].str.replace(r"\s*\(?\d{4}[^)]*\)?", "", regex=True).str.strip()
    t = t.assign(stem=stem)
    latest = t.groupby("stem")["list_year"].transform("max")
    t = t[t["list_year"] == latest]
    firms = t.drop_duplicates(["iso3", "company"]).groupby("iso3")["company"].nunique()
    values = firms.reindex(idx).astype(float)
    absent = values.isna()
    lower = pd.Series(np.where(absent, 0.0, np.nan), index=idx)
    upper = pd.Series(np.where(absent, 1.0, np.nan), index=idx)
    year = pd.Series(float(t["list_year"].max()), index=idx)
    source = "; ".join(sorted(t["list_name"].unique()))
    return values, lower, upper, year, source


def sector_pma(
    table: pd.DataFrame, sector: str, partners: Sequence[str], end_year: int
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Largest realised partner x sector PMA published for one period, US$ million.

    Returns
    -------
    (values, lower, upper, year): unlisted partners are censored in [0, smallest figure].
    """
    idx = list(partners)
    t = table[
        table["sector"].isin(SECTOR_CODES[sector])
        & (table["kind"] == "realised")
        & (table["year"] <= end_year)
        & table["value_usd_m"].notna()
        & ~table["partner_iso3"].str.contains("+", regex=False)
    ]
    if t.empty:
        e = _empty(idx)
        return e, e.copy(), e.copy(), e.copy()
    best = t.groupby("partner_iso3")["value_usd_m"].max()
    year = t.sort_values("value_usd_m").groupby("partner_iso3")["year"].last()
    values = best.reindex(idx).astype(float)
    absent = values.isna()
    floor = float(best.min())
    lower = pd.Series(np.where(absent, 0.0, np.nan), index=idx)
    upper = pd.Series(np.where(absent, floor, np.nan), index=idx)
    return values, lower, upper, year.reindex(idx).astype(float)


def project_pipeline(
    projects: pd.DataFrame, sector: str, partners: Sequence[str], end_year: int
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series, dict[str, str]]:
    """Status-weighted project amounts by investor, US$ million (see the module notes).

    Returns
    -------
    (values, lower, upper, year, notes): a partner whose value depends on routing has NaN
    and the interval [recorded view, ultimate-investor view] (either order); ``notes`` says
    which project. Partners without any project are censored in [0, smallest project].
    """
    idx = list(partners)
    p = projects[projects["sector"].isin(SECTOR_CODES[sector])].copy()
    p = p[p["year_announced"].isna() | (p["year_announced"] <= end_year)]
    unknown = set(p["status"]) - set(PROJECT_STATUS_WEIGHT)
    if unknown:
        raise ValueError(f"projects: status {sorted(unknown)} has no pipeline weight")
    if "year_status" in p:
        # Hold-out: a status reached after the end year (operating in 2025, cancelled in
        # 2020) was not known then; the project counts as announced at the end year.
        later = p["year_status"].notna() & (p["year_status"] > end_year)
        p.loc[later & (p["status"] != "announced"), "status"] = "announced"
    p["weight"] = p["status"].map(PROJECT_STATUS_WEIGHT).astype(float)
    p = p[p["weight"] > 0]  # a cancelled project shows nothing, not even a partner
    p["amount"] = p["amount_usd_m"].astype(float) * p["weight"]

    def by(column: str) -> pd.Series:
        rows = []
        for r in p.itertuples(index=False):
            homes = [h for h in str(getattr(r, column)).split("+") if h]
            for h in homes:
                a = r.amount / len(homes) if pd.notna(r.amount) else 0.0
                rows.append((h, a))
        if not rows:
            return pd.Series(dtype=float)
        return pd.DataFrame(rows, columns=["iso3", "a"]).groupby("iso3")["a"].sum()

    ultimate, recorded = by("home_iso3"), by("recorded_iso3")
    have = sorted(set(ultimate.index) | set(recorded.index))
    u = ultimate.reindex(have).fillna(0.0)
    r = recorded.reindex(have).fillna(0.0)
    values = r.where(np.isclose(u, r)).reindex(idx).astype(float)
    lower = pd.concat([u, r], axis=1).min(axis=1).where(~np.isclose(u, r)).reindex(idx)
    upper = pd.concat([u, r], axis=1).max(axis=1).where(~np.isclose(u, r)).reindex(idx)
    notes: dict[str, str] = {}
    routed = p[p["home_iso3"] != p["recorded_iso3"]]
    for row in routed.itertuples(index=False):
        for iso in {row.home_iso3, row.recorded_iso3}:
            notes[iso] = (
                f"routed: {row.company} recorded by BKPM under {row.recorded_iso3}, ultimate "
                f"investor {row.home_iso3}; interval between the two attributions"
            )
    none = [x for x in idx if x not in have]
    positive = p.loc[p["amount"] > 0, "amount"]
    floor = float(positive.min()) if len(positive) else 0.0
    for x in none:
        lower[x], upper[x] = 0.0, floor
    year = p.groupby("home_iso3")["year_announced"].max().reindex(idx).astype(float)
    return values, lower.astype(float), upper.astype(float), year, notes
