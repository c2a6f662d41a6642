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
    "DOCUMENTED_STATUSES",
    "PROJECT_STATUS_WEIGHT",
    "SECTOR_CODES",
    "documented_investors",
    "host_side_sector_rows",
    "mnc_firms",
    "ofdi_industry_share",
    "project_pipeline",
    "routed_ends",
    "sector_named",
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


#: Project statuses that show a partner investing (an announcement or a cancellation does not).
DOCUMENTED_STATUSES = ("operating", "under_construction")
#: Share statements that name the industry's main investors (``[ROUTING]`` statements, interest
#: and pipelines do not say who invests).
_NOT_NAMING = ("[routing]", "[interest", "[pipeline")


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
    # The latest edition of each publisher's list (editions share the name's stem). A list
    # whose name carries no year is a compilation, not a series of editions: its
    # ``list_year`` is the year of each firm's own figure, so every firm dated up to the end
    # year counts (keeping only the latest year would drop Pou Chen, Eclat and Far Eastern).
    stem = t["list_name"].str.replace(r"\s*\(?\d{4}[^)]*\)?", "", regex=True).str.strip()
    compiled = ~t["list_name"].str.contains(r"\d{4}", regex=True)
    t = t.assign(stem=stem)
    latest = t.groupby("stem")["list_year"].transform("max")
    t = t[(t["list_year"] == latest) | compiled]
    # One firm once: "Toray Industries (group)" and "Toray Industries (Fibers & Textiles
    # segment)" are one company.
    firm = t["company"].str.replace(r"\s*\(.*\)", "", regex=True).str.strip().str.lower()
    firms = t.assign(firm=firm).drop_duplicates(["iso3", "firm"]).groupby("iso3")["firm"].nunique()
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
    ultimate, recorded, p = _attributions(projects, sector, end_year)
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


def routed_ends(
    projects: pd.DataFrame, sector: str, partners: Sequence[str], end_year: int
) -> dict[str, str]:
    """Partners whose pipeline depends on routing -> the bound (``upper``/``lower``) of their
    :func:`project_pipeline` interval that is the ultimate-investor view."""
    ultimate, recorded, _ = _attributions(projects, sector, end_year)
    have = sorted(set(ultimate.index) | set(recorded.index))
    u = ultimate.reindex(have).fillna(0.0)
    r = recorded.reindex(have).fillna(0.0)
    return {
        str(x): "upper" if u[x] > r[x] else "lower"
        for x in have
        if x in set(partners) and not np.isclose(u[x], r[x])
    }


def _attributions(
    projects: pd.DataFrame, sector: str, end_year: int
) -> tuple[pd.Series, pd.Series, pd.DataFrame]:
    """Status-weighted amounts by ultimate investor and by recorded country, and the rows."""
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

    return by("home_iso3"), by("recorded_iso3"), p


def _industry_sector(industry: str) -> str:
    """The partner x sector code of an outward-FDI industry label ('' if none)."""
    text = industry.lower()
    if "textile" in text:
        return "textile"
    if "chemical" in text and "pharma" in text:
        return "chem_pharma"
    if "pharma" in text:
        return "pharma"
    if "chemical" in text:
        return "chemical"
    return ""


def host_side_sector_rows(ofdi: pd.DataFrame) -> pd.DataFrame:
    """BKPM realisation by partner and industry quoted in the outward-FDI file, as realised
    partner x sector rows (columns of :func:`analysis.data.sector_pma.load_partner_sector`).

    ``investor/ofdi_by_industry.csv`` holds host-side rows (``HOST-SIDE``: BKPM/NSWI
    realisation, e.g. textiles and footwear by country in Q1 2023) that the partner x
    sector file lacks. Only single partners (not ``WLD``), flows into Indonesia, in one of
    the report industries.
    """
    cols = ["year", "period", "partner_iso3", "sector", "kind", "value_usd_m", "source", "file",
            "line"]  # fmt: skip
    t = ofdi[
        (ofdi["side"] == "host_side")
        & (ofdi["reporter_iso3"] != "WLD")
        & (ofdi["counterpart"].str.lower() == "indonesia")
        & (ofdi["measure"] == "flow")
    ]
    sector = t["industry"].map(_industry_sector)
    t = t[sector != ""].assign(
        sector=sector[sector != ""],
        kind="realised",
        partner_iso3=t["reporter_iso3"],
        # "2023Q1" -> "Q1", as the partner x sector file writes a period within its year.
        period=t["period"].astype(str).str.replace(r"^\d{4}(?=\S)", "", regex=True),
    )
    return t.reindex(columns=cols).reset_index(drop=True)


def sector_named(
    table: pd.DataFrame, sector: str, partners: Sequence[str], end_year: int
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """How many BKPM or ministry statements up to ``end_year`` name the partner among the
    industry's main foreign investors ("Korea and Taiwan dominate textiles").

    Share statements (``kind`` ``share_statement``) without a figure; routing statements,
    interest and pipelines do not count. The statements are a partial compilation: a
    partner never named is censored in [0, 1], never a plain zero.

    Returns
    -------
    (values, lower, upper, year of the latest statement)
    """
    idx = list(partners)
    t = table[
        table["sector"].isin(SECTOR_CODES[sector])
        & (table["kind"] == "share_statement")
        & (table["year"] <= end_year)
    ]
    t = t[~t["note"].fillna("").str.lower().str.startswith(_NOT_NAMING)]
    if t.empty:
        e = _empty(idx)
        return e, e.copy(), e.copy(), e.copy()
    named = t.assign(partner_iso3=t["partner_iso3"].str.split("+")).explode("partner_iso3")
    named = named.drop_duplicates(["partner_iso3", "year", "source"])
    count = named.groupby("partner_iso3").size().astype(float)
    values = count.reindex(idx)
    absent = values.isna()
    lower = pd.Series(np.where(absent, 0.0, np.nan), index=idx)
    upper = pd.Series(np.where(absent, 1.0, np.nan), index=idx)
    year = named.groupby("partner_iso3")["year"].max().reindex(idx).astype(float)
    return values, lower, upper, year


def ofdi_industry_share(
    ofdi: pd.DataFrame, sector: str, partners: Sequence[str], end_year: int
) -> tuple[pd.Series, pd.Series, str]:
    """The industry's share of the partner's outward FDI in manufacturing, % (source side).

    Where the source country's own statistics publish outward FDI by industry (to the
    world), the industry's flow over the manufacturing total of the same year, measure and
    unit (no exchange rate needed). A partner that does not publish it is a gap (NaN), not
    a zero.

    Returns
    -------
    (values, years, what the values are: "JPN 2014" ...)
    """
    idx = list(partners)
    t = ofdi[
        (ofdi["side"] == "source_side")
        & (ofdi["counterpart"].str.lower() == "world")
        & (ofdi["year"] <= end_year)
    ]
    codes = set(SECTOR_CODES[sector])
    part = t[t["industry"].map(_industry_sector).isin(codes)]
    total = t[t["industry"].str.lower().str.startswith("manufacturing")]
    vals, years, used = {}, {}, []
    for r in part.sort_values("year").itertuples(index=False):
        d = total[
            (total["reporter_iso3"] == r.reporter_iso3)
            & (total["year"] == r.year)
            & (total["measure"] == r.measure)
            & (total["unit"] == r.unit)
        ]
        if len(d) and float(d["value"].iloc[0]) > 0:
            vals[r.reporter_iso3] = 100.0 * float(r.value) / float(d["value"].iloc[0])
            years[r.reporter_iso3] = float(r.year)
    used = [f"{p} {int(y)}" for p, y in years.items()]
    return (
        pd.Series(vals, dtype=float).reindex(idx),
        pd.Series(years, dtype=float).reindex(idx),
        ", ".join(used),
    )


def documented_investors(
    table: pd.DataFrame, projects: pd.DataFrame, sector: str, end_year: int | None = None
) -> pd.DataFrame:
    """The partners that the compiled partner x sector data and projects show investing in the
    Indonesian industry, with the evidence (which source, which years).

    Evidence: realised partner x sector PMA rows (single partner; joint figures name each),
    statements naming the partner among the industry's main investors (see
    :func:`sector_named`), and projects of the partner's firms (by home country) that are
    operating or under construction (by ``end_year``; default: every year compiled).
    Interest, commitments, announced and cancelled projects are not evidence of investing.

    Returns
    -------
    pandas.DataFrame
        ``partner_iso3, evidence, pma_rows, statements, projects`` (counts), one row per
        documented partner, sorted by the number of pieces of evidence.
    """
    codes = SECTOR_CODES[sector]
    end_year = 9999 if end_year is None else end_year
    items: dict[str, dict[str, list]] = {}

    def note(iso: str, kind: str, text: str) -> None:
        items.setdefault(iso, {"pma": [], "named": [], "proj": []})[kind].append(text)

    t = table[table["sector"].isin(codes) & (table["year"] <= end_year)]
    realised = t[(t["kind"] == "realised") & t["value_usd_m"].notna()]
    for r in realised.itertuples(index=False):
        for iso in str(r.partner_iso3).split("+"):
            note(iso, "pma", f"{int(r.year)} {r.period}")
    statements = t[(t["kind"] == "share_statement")]
    statements = statements[~statements["note"].fillna("").str.lower().str.startswith(_NOT_NAMING)]
    for r in statements.itertuples(index=False):
        for iso in str(r.partner_iso3).split("+"):
            note(iso, "named", str(int(r.year)))
    p = projects[projects["sector"].isin(codes)]
    p = p[p["year_announced"].isna() | (p["year_announced"] <= end_year)]
    known = p["year_status"].isna() | (p["year_status"] <= end_year)
    p = p[known & p["status"].isin(DOCUMENTED_STATUSES)]
    for r in p.itertuples(index=False):
        for iso in str(r.home_iso3).split("+"):
            when = "" if pd.isna(r.year_status) else f" {int(r.year_status)}"
            note(iso, "proj", f"{r.company.split(' (')[0]} ({r.status.replace('_', ' ')}{when})")
    rows = []
    for iso, ev in items.items():
        parts = []
        if ev["pma"]:
            parts.append("realised PMA " + "; ".join(sorted(set(ev["pma"]))))
        if ev["named"]:
            parts.append("named a main investor " + ", ".join(sorted(set(ev["named"]))))
        if ev["proj"]:
            parts.append("projects: " + "; ".join(sorted(set(ev["proj"]))))
        rows.append(
            {
                "partner_iso3": iso,
                "evidence": " | ".join(parts),
                "pma_rows": len(set(ev["pma"])),
                "statements": len(set(ev["named"])),
                "projects": len(set(ev["proj"])),
            }
        )
    cols = ["partner_iso3", "evidence", "pma_rows", "statements", "projects"]
    out = pd.DataFrame(rows, columns=cols)
    total = out[["pma_rows", "statements", "projects"]].sum(axis=1)
    return out.assign(_n=total).sort_values(["_n", "partner_iso3"], ascending=[False, True]).drop(
        columns="_n").reset_index(drop=True)  # fmt: skip
