"""Running the flows study: ``run`` and ``run_flows`` (history, nowcast, forecasts,
reconciliation).
"""

from __future__ import annotations

import math
from dataclasses import asdict, replace

import numpy as np
import pandas as pd

from analysis.data.ledger import Ledger
from analysis.data.provenance import data_fingerprint
from analysis.models.flows import (
    FlowForecast,
    _z,
    build_series,
    horizon_table,
    rw_shocks,
)
from analysis.models.flows.national import _base_forecast, _log_change_corr, _quantiles
from analysis.models.nowcast import (
    INFO_LABELS,
    NowcastSettings,
    nowcast_flows,
)
from analysis.models.reconcile import reconcile
from analysis.models.scenarios import (
    apply_scenario,
    partner_shares,
    scenario_from_mapping,
    targets_gap,
)

from .context import _roadmap_context, gdp_deflator
from .result import FlowStudy
from .sectors import _sector_partners, _sector_projects, _sectors, sector_shares
from .settings import HISTORY_START, MEASURES, FlowStudySettings
from .targets import (
    _limit_to_backtest,
    _load_targets,
    _medium_term,
    _scenario_paths,
    _target_values,
    _targets_within_backtest,
)
from .views import _views


def run(settings: FlowStudySettings, inputs=None) -> FlowStudy:
    """Run the study on the shared inputs, with Indonesia's GDP deflator for the real view."""
    if inputs is None:
        from analysis.studies.inputs import inputs as shared

        inputs = shared()
    deflator, note = gdp_deflator(settings.deflator_base_year)
    return run_flows(inputs.ledger, settings, deflator=deflator, deflator_source=note)


# --- the study ---------------------------------------------------------------------------


def _national_bases(ledger: Ledger, history: dict, s: FlowStudySettings) -> dict:
    """The national series' base forecasts (model choice, backtests, calibration).

    They do not depend on the report's sector, so they are cached on disk: a batch's three
    flows reports fit the statsmodels backtests once instead of three times. The key is
    what :func:`_base_forecast` reads: the ledger's data and settings, the history's span
    and the forecast settings. A ledger without a fingerprint (a test's stand-in) computes.
    """

    def compute() -> dict:
        return {m: _base_forecast(history[m], s) for m in MEASURES}

    fingerprint = getattr(ledger, "fingerprint", None)
    if not isinstance(fingerprint, str):
        return compute()
    from analysis.base.cache import cached

    material = {
        "ledger": fingerprint,
        "measures": list(MEASURES),
        "start": HISTORY_START,
        "end_year": s.end_year,
        "interpolate": s.interpolate,
        "horizon": s.horizon,
        "calibration_min_n": s.calibration_min_n,
    }
    return cached("flows-national", material, compute)


def run_flows(
    ledger: Ledger,
    settings: FlowStudySettings,
    *,
    deflator: pd.Series | None = None,
    deflator_source: str = "",
) -> FlowStudy:
    """Run the flows study (steps in the module docstring).

    Parameters
    ----------
    ledger
        The investment ledger.
    settings
        The study's settings.
    deflator
        Indonesia's GDP deflator, index = year, base ``settings.deflator_base_year`` = 100
        (``analysis.data.panel.load_panel().gdp_deflator("IDN", base_year)``). Needed for
        ``price_basis = "real"``; when given, the real view is added in any case.
    deflator_source
        Where the deflator comes from (shown in the forecast table).

    Raises
    ------
    ValueError
        ``price_basis = "real"`` without a deflator, or a deflator without the base year.
    """
    s = settings
    notes: list[str] = []
    release = ledger.latest_release() if hasattr(ledger, "latest_release") else None
    if s.follow_latest:
        full = ledger.annual("total")
        last_full = int(full["year"].max()) if len(full) else s.end_year
        if last_full > s.end_year:
            notes.append(
                f"History runs to {last_full}, the latest full year in the ledger (end_year "
                f"{s.end_year} in the parameters is passed)."
            )
            rate_year = last_full if s.usd_rate_year == s.end_year else s.usd_rate_year
            s = replace(
                s, end_year=last_full, horizon=max(s.horizon, last_full + 1),
                usd_rate_year=rate_year,
            )  # fmt: skip
    rng = np.random.default_rng(s.seed)
    history = {
        m: build_series(ledger, "all", m, HISTORY_START, s.end_year, interpolate=s.interpolate)
        for m in MEASURES
    }
    for m, ser in history.items():
        if ser.n_observed == 0 or ser.unit != "Rp billion":
            raise ValueError(
                f"national {m} has no full-year figure in Rp billion to {s.end_year}: the flows "
                "study needs the national total, PMA and PMDN"
            )
    nc = nowcast_flows(ledger, NowcastSettings(model=s.nowcast_model), last_full_year=s.end_year)
    notes += nc.notes
    bases = _national_bases(ledger, history, s)
    lasts = {int(b.years[0]) - 1 for b in bases.values()}
    if len(lasts) != 1:
        raise ValueError(
            f"national series end in different years {sorted(lasts)}: cannot reconcile them"
        )
    last = lasts.pop()
    years = bases["total"].years
    h = len(years)
    used = nc.used()
    has_nowcast = nc.year == last + 1 and set(MEASURES) <= set(used.index)
    if nc.year and not has_nowcast:
        notes.append(f"Nowcast of {nc.year} not used: not every national series has one.")

    # Joint log paths (draws x horizons x series) and central forecasts.
    corr = _log_change_corr(history)
    w = rw_shocks(rng, s.draws, h, corr)
    logp = np.empty((s.draws, h, len(MEASURES)))
    centre = np.empty((h, len(MEASURES)))
    for j, m in enumerate(MEASURES):
        b = bases[m]
        sd = np.where(np.isfinite(b.sd_log), b.sd_log, 0.0)
        if np.any(~np.isfinite(b.sd_log)):
            notes.append(f"{m}: the chosen model gives no interval; its paths carry no spread.")
        if has_nowcast:
            r = used.loc[m]
            nc_sd = (math.log(r["hi_80"]) - math.log(r["lo_80"])) / (2 * _z(0.8))
            start = math.log(r["median"]) + nc_sd * w[:, 0, j]
            inc = np.sqrt(np.maximum(sd**2 - sd[0] ** 2, 0.0))
            logp[:, 0, j] = start
            if h > 1:
                logp[:, 1:, j] = (
                    start[:, None]
                    + (b.mean_log[1:] - b.mean_log[0])[None, :]
                    + inc[1:][None, :] * w[:, : h - 1, j]
                )
            centre[:, j] = math.log(r["median"]) + (b.mean_log - b.mean_log[0])
        else:
            logp[:, :, j] = b.mean_log[None, :] + sd[None, :] * w[:, :, j]
            centre[:, j] = b.mean_log
    levels = np.exp(logp)
    # The base forecasts' error covariance per horizon, from the joint paths (h, k, k).
    dev = levels - levels.mean(axis=0)
    cov = np.einsum("dhi,dhj->hij", dev, dev) / (s.draws - 1)
    var = np.diagonal(cov, axis1=1, axis2=2)
    if np.any(var <= 0):
        raise (
            ValueError(
                "a national series' paths have no spread, so they cannot be reconciled by "
                f"{s.reconcile_method}; use reconcile_method: bottom_up or ols"
            )
            if s.reconcile_method in ("mint", "wls")
            else None
        )
    weights = cov if s.reconcile_method == "mint" else var
    rec = reconcile(levels, weights[None], s.reconcile_method)
    rec_centre = reconcile(np.exp(centre), weights, s.reconcile_method)
    # A linear projection can push a part below zero where its base spread is much wider than
    # the total's; investment cannot be negative, so such horizons are reconciled bottom-up
    # (PMA + PMDN, always positive) and the forecast table says so.
    method_used = np.full(h, s.reconcile_method, dtype=object)
    nonpositive = np.any(rec <= 0, axis=2)  # (draws, h)
    bad = nonpositive.any(axis=0)
    if s.reconcile_method != "bottom_up" and bad.any():
        share = float(nonpositive[:, bad].mean())
        rec[:, bad, :] = reconcile(levels[:, bad, :], method="bottom_up")
        rec_centre[bad] = reconcile(np.exp(centre[bad]), method="bottom_up")
        method_used[bad] = "bottom_up"
        notes.append(
            f"{s.reconcile_method} reconciliation gave non-positive paths in "
            f"{', '.join(str(y) for y in years[bad])} ({share:.1%} of paths there): those "
            "years are reconciled bottom-up (PMA + PMDN)."
        )
    paths = {m: rec[:, :, j] for j, m in enumerate(MEASURES)}

    # Reconciled forecasts as FlowForecast objects (their frames are the reconciled ones).
    forecasts: dict[str, FlowForecast] = {}
    calibration: dict[str, pd.DataFrame] = {}
    bt_frames, fail_frames = [], []
    for j, m in enumerate(MEASURES):
        b = bases[m]
        q = _quantiles(paths[m])
        frame = pd.DataFrame({"year": years, "median": rec_centre[:, j], **q})
        frame["source"] = "forecast"
        if has_nowcast:
            frame.loc[0, "source"] = "nowcast"
        # Reconciled values mix all three series: a horizon counts as backtested only if it
        # is for every one of them.
        longest = min(
            int(bb.calibration.attrs.get("longest_backtested_horizon", 0)) for bb in bases.values()
        )
        frame["backtested"] = np.arange(1, h + 1) <= longest
        frame["reconciliation"] = method_used
        fnotes = list(b.forecast.notes)
        if has_nowcast:
            fnotes.append(
                f"{years[0]} is the nowcast from the {INFO_LABELS[used.loc[m, 'info_set']]} "
                f"release, not the model's forecast; later years add the model's changes."
            )
        forecasts[m] = replace(b.forecast, forecast=frame, notes=fnotes)
        calibration[m] = b.calibration
        ht = horizon_table(b.errors)
        ht["series"] = m
        ht["chosen"] = ht["model"] == b.forecast.chosen
        cal = b.calibration.set_index("horizon")
        ht["coverage_80_calibrated"] = np.where(
            ht["chosen"], ht["horizon"].map(cal["coverage_calibrated"]), np.nan
        )
        ht["scale"] = np.where(ht["chosen"], ht["horizon"].map(cal["scale"]), np.nan)
        nfail = b.failures.groupby("model").size() if len(b.failures) else pd.Series(dtype=int)
        ht["failures"] = ht["model"].map(nfail).fillna(0).astype(int)
        bt_frames.append(ht)
        if len(b.failures):
            fail_frames.append(b.failures.assign(series=m))
    backtest = pd.concat(bt_frames, ignore_index=True)
    backtest = backtest[
        [
            "model",
            "horizon",
            "n",
            "mase",
            "mape",
            "coverage_80",
            "series",
            "chosen",
            "coverage_80_calibrated",
            "scale",
            "failures",
        ]
    ]
    failures = (
        pd.concat(fail_frames, ignore_index=True)
        if fail_frames
        else pd.DataFrame(columns=["model", "origin", "error", "series"])
    )

    views = _views(ledger, s, history, forecasts, paths, rng, deflator, deflator_source, notes)
    sectors, sector_series, sector_fc, pooled = _sectors(ledger, s, paths, years, rng)
    views = pd.concat([views, sector_fc], ignore_index=True) if len(sector_fc) else views
    longest = min(
        int(bb.calibration.attrs.get("longest_backtested_horizon", 0)) for bb in bases.values()
    )
    last_bt = int(years[0]) + longest - 1
    views = _limit_to_backtest(views, last_bt, history, s, notes)
    if len(sector_fc):
        sector_fc.loc[sector_fc["year"] > last_bt, ["lo_80", "hi_80", "lo_95", "hi_95"]] = np.nan

    from analysis.config import scenario_problem

    problem = scenario_problem(s.scenario) if s.scenario else None
    if problem:
        raise ValueError(problem)
    scenario = scenario_from_mapping(s.scenario)
    shares = partner_shares(ledger, list(s.partners), s.start_year, s.end_year)
    pma_share = float(history["pma"].values.iloc[-1] / history["total"].values.iloc[-1])
    scenarios = {
        m: apply_scenario(fc, scenario, shares=shares, pma_share_of_total=pma_share)
        for m, fc in forecasts.items()
    }
    draws = {m: paths[m] * scenarios[m].factors["factor"].to_numpy()[None, :] for m in MEASURES}
    if not scenario.is_baseline:
        # The scenario moves PMA and PMDN by their own factors; the total is their sum, path by
        # path, so the scenario stays coherent (a total-level factor would not be).
        draws["total"] = draws["pma"] + draws["pmdn"]
        tot = scenarios["total"]
        path = tot.path.copy()
        path["median"] = (
            scenarios["pma"].path["median"].to_numpy()
            + scenarios["pmdn"].path["median"].to_numpy()
        )
        for col, values in _quantiles(draws["total"]).items():
            path[col] = values
        base_median = forecasts["total"].forecast["median"].to_numpy()
        factors = tot.factors.copy()
        factors["factor"] = path["median"].to_numpy() / base_median
        scenarios["total"] = replace(
            tot,
            path=path,
            factors=factors,
            notes=[
                *tot.notes,
                "The total under the scenario is PMA + PMDN under the scenario (path by "
                "path); its factor is the ratio of that sum to the baseline total.",
            ],
        )
    hist_values = {m: history[m].values for m in MEASURES}
    tdata = _load_targets(ledger)
    annual = tdata[tdata["kind"] != "medium_term_total"]
    targets = targets_gap({m: scenarios[m].path for m in MEASURES}, draws, annual, hist_values)
    spaths = _scenario_paths(history, forecasts, s, _target_values(annual))
    targets = _targets_within_backtest(targets, spaths, last_bt)
    targets = pd.concat(
        [targets, _medium_term(tdata, hist_values, scenarios, draws, spaths, last_bt)],
        ignore_index=True,
    )
    fp = data_fingerprint(
        {
            "ledger": ledger.fingerprint,
            "settings": repr(asdict(s)),
            "deflator": None if deflator is None else deflator.round(6).to_json(),
        }
    )
    return FlowStudy(
        settings=s,
        nowcast=nc,
        forecasts=forecasts,
        paths=paths,
        calibration=calibration,
        backtest=backtest,
        failures=failures,
        history=history,
        views=views,
        sectors=sectors,
        sector_series=sector_series,
        sector_forecasts=sector_fc,
        pooled=pooled,
        scenario=scenario,
        scenarios=scenarios,
        shares=shares,
        targets=targets,
        roadmap=_roadmap_context(),
        fingerprint=fp,
        notes=notes,
        deflator_source=deflator_source,
        scenario_paths=spaths,
        last_backtested_year=last_bt,
        release=release,
        sector_shares=sector_shares(ledger, s.sectors, None),
        sector_partners=_sector_partners(ledger, s.sector),
        sector_projects=_sector_projects(s.sector),
    )
