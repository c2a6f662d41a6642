"""Sector series, shares, partners and projects of the flows study."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from analysis.base.i18n import count
from analysis.data.ledger import Ledger
from analysis.models.flows import (
    build_series,
    pooled_growth_backtest,
    pooled_share_sd,
)

from .settings import (
    _PERIOD_ORDER,
    EXCLUDED_FLAGS,
    HISTORY_START,
    MEASURE_LABELS,
    MEASURES,
    FlowStudySettings,
)
from .shares import _sector_share_forecast, _span

# --- sectors ------------------------------------------------------------------------------


def _sectors(ledger: Ledger, s: FlowStudySettings, paths, years, rng):
    from analysis.data.sectors import load_sector_map

    smap = load_sector_map()
    codes = ("manufacturing", *[c for c in s.sectors if c != "manufacturing"])
    data_rows, series_rows, fc_frames = [], [], []
    pooled_sd = pooled_share_sd(ledger, s.end_year, EXCLUDED_FLAGS)
    period_shares = sector_shares(ledger, codes, s.end_year)
    for code in codes:
        for m in MEASURES:
            ser = build_series(ledger, code, m, HISTORY_START, s.end_year, currency="IDR")
            if ser.n_observed == 0:
                continue
            excluded = ser.flags.astype(str).apply(
                lambda f: next((x for x in EXCLUDED_FLAGS if x in f.split(";")), "")
            )
            for y in ser.values.dropna().index:
                data_rows.append(
                    {
                        "sector": code,
                        "label": smap.label(code),
                        "series": m,
                        "year": int(y),
                        "value": float(ser.values[y]),
                        "unit": "Rp billion (nominal)",
                        "origin": ser.origin[y],
                        "flags": ser.flags[y],
                        "status": f"excluded: {excluded[y]}" if excluded[y] else "used",
                        "sources": ser.sources[y],
                    }
                )
            clean = replace(ser, values=ser.values.where(excluded == ""))
            run = clean.sample()
            n = len(run)
            n_excl = int((excluded[ser.values.notna()] != "").sum())
            national = pd.Series(
                {y: v for y, v in history_values(ledger, m, s).items()}, dtype=float
            )
            usable = clean.values.dropna()
            recent = len(usable) and int(usable.index.max()) >= s.end_year - 3
            fan = clean.n_observed >= s.min_fan_points and bool(recent)
            label = f"{smap.label(code)}, {MEASURE_LABELS[m]}"
            if not fan:
                why = (
                    f"below the minimum of {s.min_fan_points} full years for a forecast"
                    if clean.n_observed < s.min_fan_points
                    else f"the latest is more than 3 years before {s.end_year}"
                )
                sentence = (
                    f"{label}: {count(clean.n_observed, 'usable_full_years')}, the longest "
                    f"consecutive run {n} ({_span(run)}); {why}, so only the data are shown."
                )
            else:
                frame, how = _sector_share_forecast(
                    clean, national, paths[m], years, s, rng, pooled_sd, period_shares
                )
                fc_frames.append(frame)
                sentence = f"{label}: {count(clean.n_observed, 'usable_full_years')}; {how}"
            if n_excl:
                sentence += (
                    f" {count(n_excl, 'points')} excluded (flagged {', '.join(EXCLUDED_FLAGS)})."
                )
            series_rows.append(
                {
                    "sector": code,
                    "series": m,
                    "usable_years": clean.n_observed,
                    "consecutive": n,
                    "excluded": n_excl,
                    "fan": fan,
                    "sentence": sentence,
                }
            )
    data = pd.DataFrame(data_rows)
    series = pd.DataFrame(
        series_rows,
        columns=["sector", "series", "usable_years", "consecutive", "excluded", "fan", "sentence"],
    )
    fc = pd.concat(fc_frames, ignore_index=True) if fc_frames else pd.DataFrame()
    return data, series, fc, pooled_growth_backtest(ledger, s.end_year, EXCLUDED_FLAGS)


def sector_shares(ledger: Ledger, sectors, end_year: int | None = None) -> pd.DataFrame:
    """The sector's share of national PMA, PMDN and total, for every period both are published.

    One row per (sector, measure, year, period) where the sector figure and the national
    figure of the same measure and period exist (quarterly, H1, 9M or full year, as published
    or derived in the ledger). Points flagged suspect or with an uncertain period are left out.
    ``growth`` and ``national_growth`` compare with the same period a year earlier, where both
    years exist.

    Returns
    -------
    pandas.DataFrame
        ``sector``, ``measure``, ``year``, ``period``, ``value_idr_bn``,
        ``national_idr_bn``, ``share``, ``growth``, ``national_growth``, ``sources``.
    """
    cols = ["sector", "measure", "year", "period", "value_idr_bn", "national_idr_bn", "share",
            "growth", "national_growth", "sources"]  # fmt: skip
    obs = ledger.select(region="IDN", partner_iso3="WLD", concept="realisation")
    obs = obs[obs["period"].isin(list(_PERIOD_ORDER)) & obs["measure"].isin(MEASURES)]
    if end_year is not None:
        obs = obs[obs["year"] <= end_year]
    nat = obs[obs["sector"] == "all"].set_index(["measure", "year", "period"])["value_idr_bn"]
    sec = obs[obs["sector"].isin(list(sectors))]
    bad = sec["flags"].fillna("").apply(lambda f: any(x in f.split(";") for x in EXCLUDED_FLAGS))
    sec = sec[~bad & (sec["value_idr_bn"] > 0)]
    rows = []
    for r in sec.itertuples(index=False):
        n = nat.get((r.measure, r.year, r.period), np.nan)
        if not np.isfinite(n) or n <= 0:
            continue
        rows.append(
            {
                "sector": r.sector,
                "measure": r.measure,
                "year": int(r.year),
                "period": r.period,
                "value_idr_bn": float(r.value_idr_bn),
                "national_idr_bn": float(n),
                "share": float(r.value_idr_bn) / float(n),
                "sources": r.sources,
            }
        )
    out = pd.DataFrame(rows, columns=[c for c in cols if "growth" not in c])
    if out.empty:
        return pd.DataFrame(columns=cols)
    key = out.set_index(["sector", "measure", "period", "year"])
    prev_v = [key["value_idr_bn"].get((r.sector, r.measure, r.period, r.year - 1), np.nan)
              for r in out.itertuples()]  # fmt: skip
    prev_n = [nat.get((r.measure, r.year - 1, r.period), np.nan) for r in out.itertuples()]
    out["growth"] = out["value_idr_bn"] / np.asarray(prev_v, dtype=float) - 1
    out["national_growth"] = out["national_idr_bn"] / np.asarray(prev_n, dtype=float) - 1
    out = out.assign(_p=out["period"].map(_PERIOD_ORDER))
    out = out.sort_values(["sector", "measure", "year", "_p"]).drop(columns="_p")
    return out[cols].reset_index(drop=True)


#: Partner x sector and project sectors of each report sector (the report's own industry first).
PARTNER_SECTORS_OF = {
    "textile": ("textile", "footwear"),
    "chemical": ("chemical", "chem_pharma"),
    "pharma": ("pharma", "chem_pharma"),
}
PROJECT_SECTORS_OF = {"textile": ("textile", "footwear"), "chemical": ("chemical",),
                      "pharma": ("pharma",)}  # fmt: skip
PROJECT_STATUSES = ("operating", "under_construction", "announced", "cancelled")


def _sector_partners(ledger: Ledger, sector: str) -> pd.DataFrame:
    """Realised PMA by source country in the report's sectors, latest period first."""
    cols = ["sector", "year", "period_code", "partner_iso3", "country", "value_usd_m", "projects",
            "value", "unit", "fx_rate", "kind", "flags", "source", "published"]  # fmt: skip
    if not hasattr(ledger, "partner_sector") or sector not in PARTNER_SECTORS_OF:
        return pd.DataFrame(columns=cols)
    t = ledger.partner_sector(list(PARTNER_SECTORS_OF[sector]))
    t = t[(t["kind"] == "realised") & ~t["partner_iso3"].astype(str).str.contains(r"\+")]
    t = t.assign(_p=t["period_code"].map(_PERIOD_ORDER).fillna(0))
    t = t.sort_values(["year", "_p", "value_usd_m"], ascending=[False, False, False])
    return t[cols].reset_index(drop=True)


def _sector_projects(sector: str) -> pd.DataFrame:
    """Major projects of the report's sectors (operating, under construction, announced, ...)."""
    cols = ["sector", "company", "home_country", "home_iso3", "project", "location",
            "amount", "unit", "amount_usd_m", "status", "year_announced", "year_status",
            "flags", "source", "published"]  # fmt: skip
    try:
        from analysis.data.projects import load_projects
    except ImportError:  # pragma: no cover - older data layer
        return pd.DataFrame(columns=cols)
    if sector not in PROJECT_SECTORS_OF:
        return pd.DataFrame(columns=cols)
    t = load_projects()
    t = t[t["sector"].isin(PROJECT_SECTORS_OF[sector])]
    order = {st: i for i, st in enumerate(PROJECT_STATUSES)}
    t = t.assign(_o=t["status"].map(order)).sort_values(["_o", "amount_usd_m"],
                                                          ascending=[True, False])  # fmt: skip
    return t[cols].reset_index(drop=True)


def history_values(ledger: Ledger, measure: str, s: FlowStudySettings) -> dict[int, float]:
    """National full-year values (Rp billion) of one measure to ``end_year``."""
    a = ledger.annual(measure)
    a = a[a["year"] <= s.end_year]
    return dict(zip(a["year"].astype(int), a["value_idr_bn"].astype(float), strict=True))
