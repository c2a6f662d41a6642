"""Partner covariates: GDP, distance, sub-region and agreements in force, with sources.

Covariates, each with its source:

- ``gdp_usd_bn``, ``gdp_growth_pct``: partner facts in ``data/raw/partners/indicators.csv``
  (publisher per row); a partner-year without a published figure stays missing.
- ``distance_km``: great-circle distance between capitals (haversine, mean Earth radius
  6,371 km) from the capital coordinates shipped by the ``countryinfo`` package (MIT).
- ``same_subregion``: the partner is in Indonesia's UN M49 sub-region (South-eastern Asia),
  from ``countryinfo``.
- ``agreement``: a bilateral or bloc agreement in force for Indonesia for at least half of the
  year (entry into force on or before 1 July), from ``data/raw/partners/agreements_eif.csv``.
  Dates marked NOT FOUND / NOT CONFIRMED / NOT IN FORCE count as not in force (listed).

The gravity study (report 20) lives in :mod:`analysis.studies.gravity`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import cache

import numpy as np
import pandas as pd

from analysis.data.raw import load_facts

__all__ = ["agreements_in_force", "partner_covariates"]

EARTH_RADIUS_KM = 6371.0
_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


@cache
def _capital(iso3: str) -> tuple[float, float, str] | None:
    from countryinfo import CountryInfo

    try:
        info = CountryInfo(iso3)
        lat, lon = info.capital_latlng()
        return float(lat), float(lon), str(info.subregion())
    except Exception:
        return None


def _haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def agreements_in_force(root=None) -> pd.DataFrame:
    """Partner, agreement, entry-into-force date for Indonesia (parsed), or why not counted."""
    eif = load_facts("raw/partners/agreements_eif.csv", root)
    rows = []
    for r in eif.itertuples(index=False):
        text = str(r.in_force_for_indonesia)
        m = _DATE.match(text)
        counted = bool(m) and not re.search(r"NOT (FOUND|CONFIRMED|IN FORCE)", text)
        date = None
        if counted and m:
            date = pd.Timestamp(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
        for iso in str(r.members_iso3).split():
            if iso == "IDN":
                continue
            rows.append(
                {
                    "partner_iso3": iso,
                    "agreement": r.agreement,
                    "in_force": date,
                    "counted": counted,
                    "why_not": "" if counted else f"entry into force: {text}",
                    "source": r.source_url,
                }
            )
    return pd.DataFrame(rows)


def partner_covariates(partners: Sequence[str], years: Sequence[int], root=None) -> pd.DataFrame:
    """One row per (partner, year) with the covariates and their sources."""
    ind = load_facts("raw/partners/indicators.csv", root)
    ind = ind[ind["indicator"].isin(["gdp_usd", "gdp_growth_pct"])].copy()
    ind["value"] = pd.to_numeric(ind["value"], errors="coerce")
    ind["year"] = pd.to_numeric(ind["year"], errors="coerce")
    # Several publishers may give one partner-year: keep the first listed (file order), and
    # say so in the sources column.
    ind = ind.drop_duplicates(["iso3", "indicator", "year"], keep="first")
    gdp = ind.pivot(index=["iso3", "year"], columns="indicator", values="value")
    src = ind.pivot(index=["iso3", "year"], columns="indicator", values="source_url")
    agree = agreements_in_force(root)
    jakarta = _capital("IDN")
    rows = []
    for p in partners:
        cap = _capital(p)
        dist = _haversine(jakarta[:2], cap[:2]) if cap and jakarta else np.nan
        sub = float(cap[2] == jakarta[2]) if cap and jakarta else np.nan
        mine = agree[(agree["partner_iso3"] == p) & agree["counted"]]
        for y in years:
            key = (p, y)
            g = gdp.loc[key] if key in gdp.index else None
            cutoff = pd.Timestamp(y, 7, 1)
            active = mine[mine["in_force"] <= cutoff]
            rows.append(
                {
                    "partner_iso3": p,
                    "year": int(y),
                    "gdp_usd_bn": float(g.get("gdp_usd", np.nan)) if g is not None else np.nan,
                    "gdp_growth_pct": float(g.get("gdp_growth_pct", np.nan))
                    if g is not None
                    else np.nan,
                    "distance_km": dist,
                    "same_subregion": sub,
                    "agreement": float(len(active) > 0),
                    "agreements": "; ".join(active["agreement"]),
                    "gdp_source": str(src.loc[key].get("gdp_usd", "")) if key in src.index else "",
                }
            )
    out = pd.DataFrame(rows)
    out["lgdp"] = np.log(out["gdp_usd_bn"])
    out["ldist"] = np.log(out["distance_km"])
    return out
