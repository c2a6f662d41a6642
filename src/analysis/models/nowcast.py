"""Nowcasts of a full year from its partial-year (Q1, H1, 9M) cumulative releases.

BKPM publishes realised investment cumulatively from January: Q1, H1 (January-June), 9M
(January-September) and the full year (FY). The full year has been a stable multiple of each
partial figure (FY/9M between 1.33 and 1.38 for the national total, 2015-2024), so a partial
release pins the year down far better than any annual time-series model can.

Models (both on the log ratio r = log(FY / partial), so nowcasts stay positive):

- ``ratio``: r is the mean of all earlier years' ratios; the predictive interval is Student-t
  with n - 1 degrees of freedom and standard error ``sd * sqrt(1 + 1/n)`` (a new draw around an
  estimated mean).
- ``seasonal_naive``: r is last year's ratio (FY_t = FY_{t-1} x partial_t / partial_{t-1}, the
  year-on-year growth of the partial carried to the full year); the interval uses the root
  mean square of year-to-year changes of r, Student-t with as many degrees of freedom as
  changes.

Only years before the nowcast year are used, so the backtest (every year where both the
partial and the full-year figure exist and enough earlier years do) is a true out-of-sample
test.

Calibration: the model intervals assume the ratio's spread is known; the backtest shows the
PMA/PMDN split missing its 80 % band more often than that (2025: PMA nowcast 873 against about
901 published). Each interval is therefore widened by the split-conformal factor
``max(1, q / z)`` of the standardised log errors of *earlier* backtest years of the same
series, info set and model (:func:`calibration_scale`), so a calibrated interval is judged on
years that did not set it, and the backtest table carries both the raw and the calibrated
coverage.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.base.summary import Summary
from analysis.data.ledger import Ledger
from analysis.data.provenance import data_fingerprint
from analysis.models.flows import _conformal_quantile

__all__ = [
    "INFO_SETS",
    "NOWCAST_MODELS",
    "NowcastResult",
    "NowcastSettings",
    "calibration_scale",
    "nowcast_flows",
    "nowcast_one",
    "partial_table",
]

#: Cumulative partial periods, earliest first; the latest one available is the nowcast's basis.
INFO_SETS: tuple[str, ...] = ("Q1", "H1", "9M")
INFO_LABELS = {
    "Q1": "January-March (Q1)",
    "H1": "January-June (H1)",
    "9M": "January-September (9M)",
}
NOWCAST_MODELS: tuple[str, ...] = ("ratio", "seasonal_naive")
NOWCAST_LABELS = {
    "ratio": "mean full-year/partial ratio of earlier years",
    "seasonal_naive": "last year's full-year/partial ratio (seasonal naive)",
}


@dataclass(frozen=True)
class NowcastSettings:
    """Settings of a nowcast, recorded in its result.

    Attributes
    ----------
    model
        ``ratio`` or ``seasonal_naive`` (module docstring).
    min_years
        Fewest earlier years with both figures for a nowcast (3 gives 2 degrees of freedom
        for the ratio's spread).
    levels
        Interval levels.
    min_calibration
        Fewest earlier backtest years of the same series, info set and model for a
        calibrated (widened) interval; with fewer the model's own interval is kept, flagged by
        a NaN ``scale``.
    """

    model: str = "ratio"
    min_years: int = 3
    levels: tuple[float, ...] = (0.8, 0.95)
    min_calibration: int = 3

    def __post_init__(self) -> None:
        if self.model not in NOWCAST_MODELS:
            raise ValueError(
                f"nowcast model must be one of {', '.join(NOWCAST_MODELS)}, got {self.model!r}"
            )
        if self.min_years < 2:
            raise ValueError(f"min_years must be at least 2, got {self.min_years}")


def _z_norm(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def standardised_error(actual: float, median: float, lo: float, hi: float, level: float = 0.8):
    """Log error over the interval's effective standard deviation (half-width / z)."""
    sd = (math.log(hi) - math.log(lo)) / (2 * _z_norm(level))
    return math.log(actual / median) / sd if sd > 0 else math.nan


def calibration_scale(z: Sequence[float], level: float = 0.8, min_n: int = 3) -> float:
    """Interval widening factor from earlier standardised errors: ``max(1, q / z_level)``.

    ``q`` is the split-conformal ``level`` quantile of ``|z|`` (the ceil((n+1) level)-th
    smallest; the largest when that exceeds n). With fewer than ``min_n`` errors there is no
    record to calibrate on and the factor is NaN (the caller keeps the raw interval and says
    so). Intervals are only widened, never narrowed.
    """
    absz = np.abs(np.asarray([v for v in z if np.isfinite(v)], dtype=float))
    if len(absz) < min_n:
        return math.nan
    return max(1.0, _conformal_quantile(absz, level) / _z_norm(level))


def _widen(median: float, lo: float, hi: float, scale: float) -> tuple[float, float]:
    """Widen an interval on the log scale around the median by ``scale`` (NaN: unchanged)."""
    if not np.isfinite(scale):
        return lo, hi
    return (
        median * math.exp(math.log(lo / median) * scale),
        median * math.exp(math.log(hi / median) * scale),
    )


def partial_table(ledger: Ledger, measure: str, sector: str = "all") -> pd.DataFrame:
    """Cumulative Q1, H1, 9M and FY figures of one national series (Rp billion, nominal).

    Returns
    -------
    pandas.DataFrame
        Index ``year``; columns ``Q1``, ``H1``, ``9M``, ``FY`` (NaN where not published or
        derived) and ``<period>_origin`` (``published``/``derived``).
    """
    obs = ledger.select(
        measure=measure,
        sector=sector,
        region="IDN",
        partner_iso3="WLD",
        concept="realisation",
        period=[*INFO_SETS, "FY"],
    )
    cols = [*INFO_SETS, "FY"]
    if obs.empty:
        return pd.DataFrame(columns=cols + [f"{c}_origin" for c in cols]).rename_axis("year")
    values = obs.pivot(index="year", columns="period", values="value_idr_bn")
    origin = obs.pivot(index="year", columns="period", values="origin")
    values = values.reindex(columns=cols).astype(float)
    origin = origin.reindex(columns=cols).add_suffix("_origin")
    return values.join(origin).sort_index()


def nowcast_one(
    partial: pd.Series,
    full: pd.Series,
    year: int,
    model: str = "ratio",
    levels: Sequence[float] = (0.8, 0.95),
    min_years: int = 3,
) -> dict[str, float]:
    """Nowcast the full year ``year`` from its partial figure and earlier years' ratios.

    Parameters
    ----------
    partial, full
        Partial-year and full-year figures indexed by year (NaN where absent).
    year
        The year to nowcast; ``partial[year]`` must exist.

    Returns
    -------
    dict
        ``median``, ``sd_log`` (standard error of the log nowcast), ``dof``, ``n_years``,
        ``ratio`` (the full-year/partial multiple used) and ``lo_<pct>``/``hi_<pct>``.
        Empty when there are fewer than ``min_years`` earlier years with both figures.
    """
    if model not in NOWCAST_MODELS:
        raise ValueError(f"unknown nowcast model {model!r}; expected one of {NOWCAST_MODELS}")
    base = float(partial.get(year, np.nan))
    if not np.isfinite(base) or base <= 0:
        return {}
    both = pd.concat([partial, full], axis=1, keys=["p", "f"]).dropna()
    both = both[(both.index < year) & (both["p"] > 0) & (both["f"] > 0)]
    r = np.log(both["f"] / both["p"])
    n = len(r)
    if n < min_years:
        return {}
    if model == "ratio":
        mu = float(r.mean())
        dof = n - 1
        se = float(r.std(ddof=1)) * math.sqrt(1 + 1 / n)
    else:
        mu = float(r.iloc[-1])
        d = np.diff(r.to_numpy())
        dof = len(d)
        se = float(np.sqrt(np.mean(d**2)))
    out = {
        "median": base * math.exp(mu),
        "ratio": math.exp(mu),
        "sd_log": se,
        "dof": float(dof),
        "n_years": float(n),
    }
    for level in levels:
        pct = round(level * 100)
        q = float(stats.t.ppf(0.5 + level / 2, dof))
        out[f"lo_{pct}"] = base * math.exp(mu - q * se)
        out[f"hi_{pct}"] = base * math.exp(mu + q * se)
    return out


def _calibrate_backtest(bt: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """Add each backtest year's calibrated 80 % interval, set by earlier years' errors only."""
    bt = bt.copy()
    for col in ("scale", "lo_80_cal", "hi_80_cal", "covered_80_cal"):
        bt[col] = np.nan
    for _, g in bt.groupby(["series", "info_set", "model"], sort=False):
        g = g.sort_values("year")
        for i, r in g.iterrows():
            scale = calibration_scale(g.loc[g["year"] < r["year"], "z"], 0.8, min_n)
            if not np.isfinite(scale):
                continue
            lo, hi = _widen(r["nowcast"], r["lo_80"], r["hi_80"], scale)
            bt.loc[i, ["scale", "lo_80_cal", "hi_80_cal"]] = [scale, lo, hi]
            bt.loc[i, "covered_80_cal"] = float(lo <= r["actual"] <= hi)
    return bt


@dataclass
class NowcastResult:
    """Nowcasts of the latest partial year and their out-of-sample record.

    Attributes
    ----------
    year
        The year nowcast (latest year with a partial release and no full-year figure), or
        None when every year with a partial release already has its full year.
    nowcasts
        One row per (series, info set): ``series``, ``year``, ``info_set``, ``partial``,
        ``model``, ``median``, ``lo_80``, ``hi_80``, ``lo_95``, ``hi_95``, ``sd_log``,
        ``n_years``, ``ratio``, ``used`` (True for the latest info set: the one the forecast
        uses).
    backtest
        One row per (series, info set, model, year): ``actual``, ``nowcast``, ``ape``
        (percent), ``lo_80``, ``hi_80``, ``covered_80``.
    """

    settings: NowcastSettings
    year: int | None
    nowcasts: pd.DataFrame
    backtest: pd.DataFrame
    fingerprint: str = ""
    notes: list[str] = field(default_factory=list)

    def used(self) -> pd.DataFrame:
        """The nowcast of each series from its latest info set (what the forecast uses)."""
        if self.nowcasts.empty:
            return self.nowcasts
        return self.nowcasts[self.nowcasts["used"]].set_index("series")

    def accuracy(self) -> pd.DataFrame:
        """MAPE, largest APE, 80 % coverage and number of years by series, info set and model."""
        bt = self.backtest
        if bt.empty:
            return pd.DataFrame()
        out = (
            bt.groupby(["series", "info_set", "model"], sort=False)
            .agg(
                years=("year", "size"),
                first=("year", "min"),
                last=("year", "max"),
                mape=("ape", "mean"),
                max_ape=("ape", "max"),
                coverage_80=("covered_80", "mean"),
                coverage_80_calibrated=("covered_80_cal", "mean"),
                calibrated_years=("covered_80_cal", "count"),
            )
            .reset_index()
        )
        return out

    def table(self) -> pd.DataFrame:
        """Backtest of the chosen model: series, info set, year, actual, nowcast, APE, interval."""
        bt = self.backtest
        keep = [
            "series",
            "info_set",
            "year",
            "actual",
            "nowcast",
            "ape",
            "model",
            "error_pct",
            "lo_80",
            "hi_80",
            "covered_80",
            "scale",
            "lo_80_cal",
            "hi_80_cal",
            "covered_80_cal",
        ]
        if bt.empty:
            return pd.DataFrame(columns=keep)
        return bt.loc[bt["model"] == self.settings.model, keep].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """The nowcasts, one row per series and info set."""
        return self.nowcasts.copy()

    def summary(self) -> Summary:
        """Nowcasts, the backtest's accuracy and the settings."""
        return Summary(
            title=f"Nowcast of {self.year} from partial-year releases"
            if self.year
            else "Nowcast: no partial year to nowcast",
            settings={
                "model": NOWCAST_LABELS[self.settings.model],
                "fewest earlier years": self.settings.min_years,
                "fingerprint": self.fingerprint,
            },
            tables=[
                ("Nowcasts (Rp billion, nominal)", self.nowcasts.round(1)),
                ("Out-of-sample accuracy (APE in percent)", self.accuracy().round(3)),
            ],
            notes=self.notes,
        )


def nowcast_flows(
    ledger: Ledger,
    settings: NowcastSettings | None = None,
    *,
    measures: Sequence[str] = ("total", "pma", "pmdn"),
    last_full_year: int | None = None,
) -> NowcastResult:
    """Nowcast the latest partial year of each national series and backtest every info set.

    Parameters
    ----------
    ledger
        The investment ledger.
    settings
        Model and interval settings.
    measures
        Series to nowcast.
    last_full_year
        Treat full-year figures after this year as unknown (the report's ``end_year``): the
        nowcast year is then ``last_full_year + 1`` if it has a partial release.

    Returns
    -------
    NowcastResult
    """
    settings = settings or NowcastSettings()
    tables = {m: partial_table(ledger, m) for m in measures}
    bt_rows: list[dict[str, object]] = []
    for m, t in tables.items():
        for info in INFO_SETS:
            for model in NOWCAST_MODELS:
                full = t["FY"]
                if last_full_year is not None:
                    full = full[full.index <= last_full_year]
                for year in full.dropna().index:
                    nc = nowcast_one(t[info], full, int(year), model, (0.8,), settings.min_years)
                    if not nc:
                        continue
                    actual = float(full[year])
                    bt_rows.append(
                        {
                            "series": m,
                            "info_set": info,
                            "model": model,
                            "year": int(year),
                            "actual": actual,
                            "nowcast": nc["median"],
                            "ape": abs(nc["median"] - actual) / actual * 100,
                            "error_pct": (nc["median"] - actual) / actual * 100,
                            "lo_80": nc["lo_80"],
                            "hi_80": nc["hi_80"],
                            "covered_80": float(nc["lo_80"] <= actual <= nc["hi_80"]),
                            "z": standardised_error(
                                actual, nc["median"], nc["lo_80"], nc["hi_80"]
                            ),
                        }
                    )
    backtest = pd.DataFrame(
        bt_rows,
        columns=[
            "series",
            "info_set",
            "model",
            "year",
            "actual",
            "nowcast",
            "ape",
            "lo_80",
            "hi_80",
            "covered_80",
            "z",
            "error_pct",
        ],
    )
    backtest = _calibrate_backtest(backtest, settings.min_calibration)
    # The nowcast year: the latest year with a partial release and no full-year figure.
    candidates = []
    for t in tables.values():
        full = t["FY"] if last_full_year is None else t["FY"].where(t.index <= last_full_year)
        has_partial = t[list(INFO_SETS)].notna().any(axis=1)
        candidates += [int(y) for y in t.index[has_partial & full.isna()]]
    year = max(candidates) if candidates else None
    notes: list[str] = []
    if year is not None and last_full_year is not None and year != last_full_year + 1:
        notes.append(
            f"The latest partial release is for {year}, not the first forecast year "
            f"{last_full_year + 1}: no nowcast is used."
        )
        year = None
    rows: list[dict[str, object]] = []
    if year is not None:
        for m, t in tables.items():
            full = t["FY"][t.index < year]
            avail = [i for i in INFO_SETS if year in t.index and np.isfinite(t.loc[year, i])]
            for info in avail:
                nc = nowcast_one(
                    t[info], full, year, settings.model, settings.levels, settings.min_years
                )
                if not nc:
                    notes.append(
                        f"{m} {info} {year}: fewer than {settings.min_years} earlier years "
                        "with both figures, no nowcast"
                    )
                    continue
                prior = backtest[
                    (backtest["series"] == m)
                    & (backtest["info_set"] == info)
                    & (backtest["model"] == settings.model)
                    & (backtest["year"] < year)
                ]
                scale = calibration_scale(prior["z"], 0.8, settings.min_calibration)
                raw = {k: nc[k] for k in nc if k.startswith(("lo_", "hi_"))}
                for level in settings.levels:
                    pct = round(level * 100)
                    nc[f"lo_{pct}"], nc[f"hi_{pct}"] = _widen(
                        nc["median"], nc[f"lo_{pct}"], nc[f"hi_{pct}"], scale
                    )
                rows.append(
                    {
                        "series": m,
                        "year": year,
                        "info_set": info,
                        "partial": float(t.loc[year, info]),
                        "partial_origin": t.loc[year, f"{info}_origin"],
                        "model": settings.model,
                        **nc,
                        **{f"{k}_raw": v for k, v in raw.items()},
                        "scale": scale,
                        "n_calibration": len(prior),
                        "used": info == avail[-1],
                    }
                )
    nowcasts = pd.DataFrame(rows)
    if len(nowcasts):
        # The latest info set that produced a nowcast is the one used.
        latest = nowcasts.groupby("series")["info_set"].transform(
            lambda s: s.map(INFO_SETS.index).max()
        )
        nowcasts["used"] = nowcasts["info_set"].map(INFO_SETS.index) == latest
    fp = data_fingerprint(
        {
            "ledger": ledger.fingerprint,
            "settings": repr(asdict(settings)),
            "measures": list(measures),
            "last_full_year": last_full_year,
        }
    )
    return NowcastResult(settings, year, nowcasts, backtest, fp, notes)
