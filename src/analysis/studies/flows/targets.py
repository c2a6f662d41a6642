"""Beyond the backtest: medium-term scenarios, scenario paths and targets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.base.i18n import count
from analysis.data.ledger import Ledger

from .settings import MEASURE_LABELS, MEASURES

# --- beyond the backtest ------------------------------------------------------------------------

#: Human names of the scenario paths (tables and charts).
PATH_LABELS = {
    "targets": "Scenario: growth the targets imply",
    "trend": "Scenario: recent trend",
    "slowdown": "Scenario: slowdown (half the trend)",
}


def _limit_to_backtest(views, last_bt, history, s, notes) -> pd.DataFrame:
    """Blank every interval after the last backtested year; flag 95 % bounds beyond history.

    Beyond the backtested horizon an interval would be an extrapolation of a spread nobody has
    checked, so the forecast table keeps the model's median (``source`` forecast,
    ``backtested`` False) without bounds, and the report shows scenario paths instead. Inside
    it, a 95 % upper bound that needs faster yearly growth than the series has ever had (from
    its last published year) is flagged ``above_history`` and explained in a note.
    """
    from analysis.models.flows import exceeds_history, history_extremes

    v = views.copy()
    bounds = ["lo_80", "hi_80", "lo_95", "hi_95"]
    beyond = (v["source"] != "published") & (v["year"] > last_bt)
    v.loc[beyond, bounds] = np.nan
    v["flag"] = ""
    if beyond.any():
        notes.append(
            f"Intervals end in {last_bt}, the last year whose horizon the backtest checked; "
            f"later years show the model's median without an interval and the scenario paths "
            "(labelled scenarios, not forecasts)."
        )
    for m in MEASURES:
        hist = history[m].values.loc[: s.end_year].dropna()
        if hist.empty:
            continue
        a_year, a_value = int(hist.index.max()), float(hist.iloc[-1])
        ext = history_extremes(hist)
        rows = v[(v["series"] == m) & (v["basis"] == "nominal") & (v["source"] != "published")]
        for _, r in rows.iterrows():
            flag, implied = exceeds_history(hist, a_year, a_value, int(r["year"]), r["hi_95"])
            if flag:
                v.loc[(v["series"].isin([m, f"{m}_usd"])) & (v["year"] == r["year"]), "flag"] = (
                    "above_history"
                )
                notes.append(
                    f"{MEASURE_LABELS[m]}, {int(r['year'])}: the 95 % upper bound (Rp "
                    f"{r['hi_95'] / 1000:,.0f} trillion) needs {implied:+.1%} a year from "
                    f"{a_year}, more than the series has ever grown in one year "
                    f"({ext['max_growth']:+.1%} in {ext['max_growth_year']}): flagged "
                    "'above history'; the bound comes from the model's spread, not from any "
                    "growth observed."
                )
    return v


def _load_targets(ledger: Ledger) -> pd.DataFrame:
    """The preferred version of every target (:func:`analysis.data.targets.load_targets`).

    Shaped for :func:`analysis.models.scenarios.targets_gap` (``period`` holds the kind). Falls
    back to the ledger's ``FY_target`` rows when the targets module is not available.
    """
    try:
        from analysis.data.targets import load_targets
    except ImportError:  # pragma: no cover - older data layer
        t = ledger.targets.copy()
        t["kind"] = "annual"
        t["year_first"] = t["year"]
        return t
    t = load_targets(ledger.root)
    t = t[t["preferred"]].copy()
    t["period"] = t["kind"]
    t["source"] = t["source"] + " (published " + t["published"].astype(str) + ")"
    return t.reset_index(drop=True)


def _target_values(targets: pd.DataFrame) -> dict[str, pd.Series]:
    """Per measure, one annual target per year (Rp billion; annual before annual_rpjmn)."""
    out: dict[str, pd.Series] = {}
    if targets is None or targets.empty:
        return out
    t = targets[targets["period"].isin(["annual", "FY_target"])]
    for m, g in t.groupby("measure"):
        out[str(m)] = g.groupby("year")["value_idr_bn"].first().astype(float)
    return out


def _medium_term(tdata, hist_values, scenarios, draws, spaths, last_bt) -> pd.DataFrame:
    """Cumulative medium-term targets (2025-2029): realised years plus paths for the rest."""
    rows = []
    for t in tdata[tdata["kind"] == "medium_term_total"].itertuples(index=False):
        m, first, last = str(t.measure), int(t.year_first), int(t.year)
        hist = hist_values.get(m, pd.Series(dtype=float))
        done = {y: float(hist[y]) for y in range(first, last + 1) if y in hist.index
                and np.isfinite(hist[y])}  # fmt: skip
        todo = [y for y in range(first, last + 1) if y not in done]
        path = scenarios[m].path if m in scenarios else None
        row = {
            "year": last,
            "measure": m,
            "target": f"medium_term_total {first}-{last}",
            "target_rp_bn": float(t.value_idr_bn),
            "status": "ahead" if todo else "no figure",
            "realised_rp_bn": sum(done.values()) if not todo else np.nan,
            "median_rp_bn": np.nan,
            "lo_80": np.nan,
            "hi_80": np.nan,
            "gap_rp_bn": np.nan,
            "p_reach": np.nan,
            "source": t.source,
            "note": f"cumulative {first}-{last}; {count(len(done), 'years')} realised "
            f"(Rp {sum(done.values()) / 1000:,.1f} trillion)",
            "backtested": bool(not todo or max(todo) <= last_bt),
            "paths_meeting": "",
        }
        if not todo:
            row["status"] = "met" if row["realised_rp_bn"] >= row["target_rp_bn"] else "missed"
            row["gap_rp_bn"] = row["target_rp_bn"] - row["realised_rp_bn"]
        elif path is not None and set(todo) <= set(path["year"]):
            idx = [int(np.flatnonzero(path["year"].to_numpy() == y)[0]) for y in todo]
            total = sum(done.values()) + np.asarray(draws[m])[:, idx].sum(axis=1)
            med = sum(done.values()) + float(path["median"].iloc[idx].sum())
            row.update(median_rp_bn=med, gap_rp_bn=row["target_rp_bn"] - med)
            if row["backtested"]:
                row["p_reach"] = float(np.mean(total >= row["target_rp_bn"]))
        if todo and not row["backtested"] and len(spaths):
            ok = []
            for name, g in spaths[spaths["series"] == m].groupby("path", sort=False):
                vals = g.set_index("year")["value"]
                if set(todo) <= set(vals.index):
                    if sum(done.values()) + float(vals.loc[todo].sum()) >= row["target_rp_bn"]:
                        ok.append(PATH_LABELS[name])
            row["paths_meeting"] = "; ".join(ok) if ok else "none of the scenario paths"
        rows.append(row)
    return pd.DataFrame(rows)


def _scenario_paths(history, forecasts, s, targets) -> pd.DataFrame:
    """Scenario paths of the national series from the last published year to the horizon."""
    from analysis.models.flows import scenario_paths

    frames = []
    for m in MEASURES:
        hist = history[m].values.loc[: s.end_year]
        p = scenario_paths(hist, s.horizon, targets=targets.get(m))
        if len(p):
            frames.append(p.assign(series=m, unit="Rp billion (nominal)"))
    if not frames:
        return pd.DataFrame(columns=["series", "path", "year", "value", "growth", "basis"])
    out = pd.concat(frames, ignore_index=True)
    out["label"] = out["path"].map(PATH_LABELS)
    return out[["series", "path", "label", "year", "value", "unit", "growth", "basis"]]


def _targets_within_backtest(targets, spaths, last_bt) -> pd.DataFrame:
    """Probabilities only inside the backtested horizon; beyond, which scenario paths meet it."""
    t = targets.copy()
    if t.empty:
        return t.assign(backtested=pd.Series(dtype=bool), paths_meeting=pd.Series(dtype=str))
    ahead = t["status"] == "ahead"
    t["backtested"] = ~ahead | (t["year"] <= last_bt)
    beyond = ahead & (t["year"] > last_bt)
    t.loc[beyond, ["p_reach", "lo_80", "hi_80"]] = np.nan
    meets = []
    for r in t.itertuples(index=False):
        if r.status != "ahead" or spaths.empty:
            meets.append("")
            continue
        p = spaths[(spaths["series"] == r.measure) & (spaths["year"] == r.year)]
        ok = [PATH_LABELS[x] for x in p.loc[p["value"] >= r.target_rp_bn, "path"]]
        meets.append("; ".join(ok) if ok else "none of the scenario paths")
    t["paths_meeting"] = meets
    return t
