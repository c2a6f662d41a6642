"""Potential of the gravity study: sector inputs, demand, outflow caps, guarded potential and
counterfactuals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.models.censored import CensoredGravityResult
from analysis.models.fdi_potential import (
    NO_SUPPLY,
    agreement_counterfactual,
    censored_potential,
    draw_eta,
    guarded_potential,
    investor_supply,
    outflow_cap,
)

from .frame import _agreement_members
from .settings import SECTOR_DEMAND, SECTOR_EXPORTS, SECTORS, GravityStudySettings

# -- computation ----------------------------------------------------------------------------


def _year_dummies(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """List effects: one dummy per list but the first full-year one (the baseline).

    A full-year list's dummy is ``year_<year>`` (a year effect, as before part-year lists
    were used); a part-year list's is ``year_<year>_<period>``, so each list has its own
    level (its period's length, seasonality and that year's total) and a period-length
    offset would be absorbed by it.
    """
    if "list_id" not in frame.columns:
        frame["list_id"] = frame["year"].astype(int).astype(str)
    lists = frame[["list_id", "year"]].drop_duplicates()
    lists = lists.assign(full=~lists["list_id"].str.contains(" "))
    lists = lists.sort_values(["full", "year", "list_id"], ascending=[False, True, True])
    cols = []
    for lid in lists["list_id"].iloc[1:]:
        col = "year_" + lid.replace(" ", "_")
        frame[col] = (frame["list_id"] == lid).astype(float)
        cols.append(col)
    return frame, sorted(cols)


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
    """Demand (Indonesia's sector share of PMA) and supply (investor-side evidence) inputs.

    Supply (:func:`analysis.models.fdi_potential.investor_supply`) is the partner's number of the
    sector's multinationals in the league tables (latest edition of each cross-country list
    up to the last fitted year, :func:`analysis.models.investor_evidence.mnc_firms`) against the
    number its GDP (partner panel, last fitted year) implies at the 40 candidate partners'
    rate, shrunk towards 1 by one expected firm: 1 = as many of the sector's
    multinationals as its size implies. A partner not
    in the part of the tables we have has no supply figure (``supply_status`` gap): its
    sector potential is a gap, flagged, with the potential one firm would imply as an upper
    reference (``supply_upper``). The partner's realised PMA in the Indonesian industry
    (BKPM, largest published figure) is carried as further evidence (``sector_pma_usd_m``).

    The old export-specialisation index (sector exports over goods exports, relative to the
    candidates) is kept for comparison (``export_index``); its candidates' ratio
    (``group_ratio``) splits the chemical and pharma demand share (sector sizes).
    """
    from analysis.data.investor import load_multinationals
    from analysis.data.panel import CANDIDATES
    from analysis.data.sector_pma import load_partner_sector
    from analysis.models.investor_evidence import mnc_firms, sector_pma

    last_year = int(frame["year"].max())
    partners = sorted(frame["partner_iso3"].unique())
    everyone = sorted(set(partners) | set(CANDIDATES))
    totals = {c: panel.wide(c) for c in ("exports_total_sitc_usd", "exports_goods_usd")}
    gdp = pd.Series({iso: panel.value("gdp_usd", iso, last_year) for iso in everyone}, dtype=float)
    league, psector = load_multinationals(), load_partner_sector()
    rows = []
    for sector in SECTORS:
        share, dyear, dsrc = _demand(ledger, sector)
        code = SECTOR_EXPORTS[sector]
        exports = panel.wide(code)
        ratio = {}
        for iso in everyone:
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
        firms, _, _, fyear, fsrc = mnc_firms(league, sector, everyone, last_year)
        supply = investor_supply(firms, gdp, CANDIDATES)
        spma, _, _, spyear = sector_pma(psector, sector, everyone, last_year)
        for iso in partners:
            xs, xt, ys, basis = ratio[iso]
            ok = xs == xs and xt == xt and xt > 0 and group == group and group > 0
            sup = supply.loc[iso]
            status = str(sup["supply_status"])
            rows.append(
                {
                    "sector": sector,
                    "partner_iso3": iso,
                    "demand_share": share,
                    "demand_year": dyear,
                    "demand_source": dsrc,
                    "supply_index": float(sup["supply_index"]),
                    "supply_upper": float(sup["supply_upper"]),
                    "supply_status": status,
                    "firms": float(sup["firms"]),
                    "expected_firms": float(sup["expected_firms"]),
                    "supply_raw": float(sup["supply_raw"]),
                    "supply_year": float(fyear.get(iso, np.nan)) if len(fyear) else np.nan,
                    "supply_source": (
                        f"league tables ({fsrc}): {sup['firms']:.0f} of the sector's "
                        f"multinationals against {sup['expected_firms']:.1f} expected from GDP "
                        f"({last_year}) at the 40 candidates' rate, shrunk towards 1"
                        if status == "evidence"
                        else NO_SUPPLY
                        if status == "gap"
                        else f"no GDP in the partner panel ({last_year})"
                    ),
                    "sector_pma_usd_m": float(spma.get(iso, np.nan)),
                    "sector_pma_year": float(spyear.get(iso, np.nan)),
                    "export_index": (xs / xt) / group if ok else np.nan,
                    "group_ratio": group,
                    "export_year": ys,
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


# -- the model layer's potential, with the study's inputs ------------------------------------

#: The model functions under the study's former private names (kept for callers).
_draw_eta = draw_eta
_guarded = guarded_potential


def _potential(
    study_fit: CensoredGravityResult,
    frame: pd.DataFrame,
    panel,
    settings: GravityStudySettings,
    sector_inputs: pd.DataFrame,
) -> pd.DataFrame:
    """Potential of the Indonesia fit (:func:`analysis.models.fdi_potential.censored_potential`):
    expected full-year PMA (a flow), capped at the partner's outflows (:func:`_outflow_caps`).
    """
    cap, basis = _outflow_caps(panel, frame[["partner_iso3", "year"]])
    return censored_potential(
        study_fit,
        frame,
        cap,
        basis,
        sector_inputs,
        draws=settings.draws,
        seed=settings.seed,
        alpha=settings.alpha,
    )


def _counterfactual(
    study_fit: CensoredGravityResult,
    frame: pd.DataFrame,
    potential: pd.DataFrame,
    settings: GravityStudySettings,
) -> pd.DataFrame:
    """IEU-CEPA and Canada CEPA in force in the latest year, member by member
    (:func:`analysis.models.fdi_potential.agreement_counterfactual`)."""
    return agreement_counterfactual(
        study_fit,
        frame,
        potential,
        _agreement_members(),
        draws=settings.draws,
        seed=settings.seed,
        alpha=settings.alpha,
    )
