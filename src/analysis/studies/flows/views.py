"""The flows study's views: nominal, real and US$ rows of history and forecasts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.data.ledger import Ledger
from analysis.models.flows import (
    FlowSeries,
    _z,
    forecast_path,
    rw_shocks,
)
from analysis.models.flows.national import _quantiles

from .settings import MEASURES, FlowStudySettings

# --- views: nominal, real, US$ ---------------------------------------------------------------


def _rows(series, basis, unit, years, median, q, source, backtested, model) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "series": series,
            "year": np.asarray(years, dtype=int),
            "basis": basis,
            "unit": unit,
            "median": median,
            **{k: q[k] for k in ("lo_80", "hi_80", "lo_95", "hi_95")},
            "source": source,
            "backtested": backtested,
            "model": model,
        }
    )


def _history_rows(
    ser: FlowSeries, s: FlowStudySettings, name, basis, unit, factor
) -> pd.DataFrame:
    v = ser.values.loc[s.start_year : s.end_year].dropna()
    f = np.asarray([factor(int(y)) for y in v.index], dtype=float)
    nan = np.full(len(v), np.nan)
    q = {k: nan for k in ("lo_80", "hi_80", "lo_95", "hi_95")}
    return _rows(name, basis, unit, v.index, v.to_numpy() * f, q, "published", True, "")


def _usd_history(ledger: Ledger, s: FlowStudySettings) -> pd.DataFrame:
    """National PMA in US$ million by year: as published where BKPM printed US$, else converted.

    BKPM published PMA in US$ (converting to rupiah at the budget's APBN rate) until it moved to
    rupiah; the ledger keeps each year in US$ at that year's rate on its basis. A year printed
    in rupiah is labelled ``converted`` with its rate and basis; a year printed in US$ keeps the
    printed figure (2015: US$29.3 billion, not US$24.4 billion at a later rate).
    """
    a = ledger.annual("pma")
    a = a[(a["year"] >= s.start_year) & (a["year"] <= s.end_year)].sort_values("year")
    printed_usd = a["unit_published"].fillna("").str.startswith("US$")
    conversion = [
        "as published (US$)"
        if usd
        else f"converted at Rp {rate:,.0f}/US$ ({basis} {int(y)}), from Rp {pub:,.1f} trillion"
        for usd, rate, basis, y, pub in zip(
            printed_usd,
            a["fx_rate"],
            a["fx_basis"],
            a["year"],
            a["value_idr_bn"] / 1000,
            strict=True,
        )
    ]
    nan = np.full(len(a), np.nan)
    q = {k: nan for k in ("lo_80", "hi_80", "lo_95", "hi_95")}
    out = _rows(
        "pma_usd",
        "nominal",
        "US$ million",
        a["year"],
        a["value"].to_numpy(dtype=float),
        q,
        "published",
        True,
        "",
    )
    out["conversion"] = conversion
    out["fx_rate"] = np.where(printed_usd, np.nan, a["fx_rate"].to_numpy(dtype=float))
    return out


def _views(ledger, s, history, forecasts, paths, rng, deflator, deflator_source, notes):
    frames = []
    for m in MEASURES:
        fc = forecasts[m].forecast
        unit = "Rp billion (nominal)"
        frames.append(_history_rows(history[m], s, m, "nominal", unit, lambda y: 1.0))
        frames.append(
            _rows(
                m,
                "nominal",
                unit,
                fc["year"],
                fc["median"].to_numpy(),
                {k: fc[k].to_numpy() for k in ("lo_80", "hi_80", "lo_95", "hi_95")},
                fc["source"].to_numpy(),
                fc["backtested"].to_numpy(),
                forecasts[m].chosen or "",
            )
        )
    years = forecasts["total"].forecast["year"].to_numpy()
    # US$ view of PMA: one rate for every year, so no year moves with a rate change.
    fxr = ledger.fx.rate(s.usd_rate_year, ledger.settings.fx_basis, ledger.settings.fx_fallback)
    if fxr is None:
        notes.append(
            f"No {ledger.settings.fx_basis} exchange rate for {s.usd_rate_year}: "
            "no US$ view of PMA."
        )
    else:
        rate = fxr.rate
        unit = "US$ million"
        conv = (
            f"converted at Rp {rate:,.0f}/US$ ({fxr.basis} {s.usd_rate_year}, every forecast year)"
        )
        fc = forecasts["pma"].forecast
        frames.append(_usd_history(ledger, s))
        frames.append(
            _rows(
                "pma_usd",
                "nominal",
                unit,
                fc["year"],
                fc["median"].to_numpy() * 1000 / rate,
                {k: fc[k].to_numpy() * 1000 / rate for k in ("lo_80", "hi_80", "lo_95", "hi_95")},
                fc["source"].to_numpy(),
                fc["backtested"].to_numpy(),
                forecasts["pma"].chosen or "",
            ).assign(conversion=conv, fx_rate=rate)
        )
    if deflator is None:
        if s.price_basis == "real":
            raise ValueError(
                "price_basis 'real' needs Indonesia's GDP deflator "
                "(analysis.data.panel.load_panel().gdp_deflator('IDN', base_year)); none was given"
            )
        return pd.concat(frames, ignore_index=True)
    defl = deflator.dropna().astype(float)
    if s.deflator_base_year not in defl.index or abs(defl[s.deflator_base_year] - 100) > 1e-6:
        raise ValueError(
            f"the GDP deflator must equal 100 in the base year {s.deflator_base_year} "
            f"(got {defl.get(s.deflator_base_year, 'no value')})"
        )
    dl = int(defl.index.max())
    # Deflator after its last published year: a drift forecast on logs, drawn jointly.
    ahead = [y for y in years if y > dl]
    d_draws = np.ones((s.draws, len(years)))
    d_centre = np.ones(len(years))
    for i, y in enumerate(years):
        if y <= dl:
            d_draws[:, i] = defl[y] / 100
            d_centre[i] = defl[y] / 100
    if ahead:
        k = int(max(ahead) - dl)
        dp = forecast_path(np.log(defl.loc[:dl].to_numpy()), "drift", k, levels=(0.8,))
        dsd = ((dp["hi_80"] - dp["lo_80"]) / (2 * _z(0.8))).to_numpy()
        wd = rw_shocks(rng, s.draws, k)
        sim = np.exp(dp["mean"].to_numpy()[None, :] + dsd[None, :] * wd) / 100
        for i, y in enumerate(years):
            if y > dl:
                d_draws[:, i] = sim[:, y - dl - 1]
                d_centre[i] = math.exp(dp["mean"].iloc[y - dl - 1]) / 100
        notes.append(
            f"Real view: the GDP deflator is published to {dl}; {min(ahead)}-{max(ahead)} use "
            "a drift forecast of it (log scale), drawn with the flows' paths."
        )
    unit = f"Rp billion at {s.deflator_base_year} prices (GDP deflator)"
    for m in MEASURES:
        real = paths[m] / d_draws
        q = _quantiles(real)
        fc = forecasts[m].forecast

        def fac(y: int) -> float:
            return 100 / defl[y] if y in defl.index else math.nan

        frames.append(_history_rows(history[m], s, m, "real", unit, fac))
        frames.append(
            _rows(
                m,
                "real",
                unit,
                years,
                fc["median"].to_numpy() / d_centre,
                q,
                fc["source"].to_numpy(),
                fc["backtested"].to_numpy(),
                forecasts[m].chosen or "",
            )
        )
    out = pd.concat(frames, ignore_index=True)
    if deflator_source:
        out.attrs["deflator_source"] = deflator_source
    return out
