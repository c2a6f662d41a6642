"""Partner covariates: GDP, distance, sub-region and agreements in force, with sources.

Covariates, each with its source:

- ``gdp_usd_bn``, ``gdp_growth_pct``: the partner panel (:mod:`analysis.data.panel`: WDI,
  IMF WEO for Taiwan, one conflict rule); a partner-year without a value stays missing.
- ``distance_km``: great-circle distance between capitals (haversine, mean Earth radius
  6,371 km) from the capital coordinates shipped by the ``countryinfo`` package (MIT).
- ``same_subregion``: the partner is in Indonesia's UN M49 sub-region (South-eastern Asia),
  from ``countryinfo``.
- ``agreement``: a bilateral or bloc agreement in force for Indonesia for at least half of the
  year (in force on 1 July), from :mod:`analysis.data.agreements` (one rule for uncertain
  and missing dates, documented there).

The gravity study (report 20) lives in :mod:`analysis.studies.gravity`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache

import numpy as np
import pandas as pd

from analysis.data.agreements import agreements_table, load_agreements
from analysis.data.panel import load_panel

__all__ = ["agreements_in_force", "capital", "haversine", "partner_covariates"]

EARTH_RADIUS_KM = 6371.0


@cache
def capital(iso3: str) -> tuple[float, float, str] | None:
    """Latitude, longitude and UN sub-region of the country's capital (``countryinfo``), or
    None when the package does not know the country."""
    from countryinfo import CountryInfo

    try:
        info = CountryInfo(iso3)
        lat, lon = info.capital_latlng()
        return float(lat), float(lon), str(info.subregion())
    except Exception:
        return None


def haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (km) between two (latitude, longitude) points, mean Earth radius."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def agreements_in_force(root=None) -> pd.DataFrame:
    """Partner, agreement and entry-into-force date for Indonesia (thin alias).

    Kept for callers of the old interface; the rule lives in
    :mod:`analysis.data.agreements` (one row per member of each agreement).
    """
    rows = []
    for a in load_agreements(root):
        for iso in a.members:
            rows.append(
                {
                    "partner_iso3": iso,
                    "agreement": a.name,
                    "in_force": pd.Timestamp(a.in_force_from) if a.in_force_from else None,
                    "counted": a.in_force_from is not None,
                    "why_not": "" if a.in_force_from else f"entry into force: {a.text}",
                    "flags": ";".join(a.flags),
                    "source": a.source,
                }
            )
    return pd.DataFrame(rows)


def partner_covariates(partners: Sequence[str], years: Sequence[int], root=None) -> pd.DataFrame:
    """One row per (partner, year) with the covariates and their sources.

    GDP (US$ billion, current) and real growth come from the partner panel
    (:func:`analysis.data.panel.load_panel`) for every year; agreements from
    :func:`analysis.data.agreements.agreements_table` (in force on 1 July).
    """
    panel = load_panel(root)
    partners = list(partners)
    years = [int(y) for y in years]
    known = set(panel.economies)
    agree = agreements_table(partners, years, root) if partners and years else None
    jakarta = capital("IDN")
    rows = []
    for p in partners:
        cap = capital(p)
        dist = haversine(jakarta[:2], cap[:2]) if cap and jakarta else np.nan
        sub = float(cap[2] == jakarta[2]) if cap and jakarta else np.nan
        for y in years:
            gdp = panel.cell("gdp_usd", p, y) if p in known else None
            growth = panel.value("gdp_growth_pct", p, y) if p in known else np.nan
            mine = agree[(agree["iso3"] == p) & (agree["year"] == y) & agree["in_force"]]
            rows.append(
                {
                    "partner_iso3": p,
                    "year": y,
                    "gdp_usd_bn": float(gdp["value"]) if gdp is not None else np.nan,
                    "gdp_growth_pct": growth,
                    "distance_km": dist,
                    "same_subregion": sub,
                    "agreement": float(len(mine) > 0),
                    "agreements": "; ".join(mine["agreement"]),
                    "gdp_source": str(gdp["source"]) if gdp is not None else "",
                }
            )
    out = pd.DataFrame(rows)
    out["lgdp"] = np.log(out["gdp_usd_bn"])
    out["ldist"] = np.log(out["distance_km"])
    return out
