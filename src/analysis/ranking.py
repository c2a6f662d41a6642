"""Partner ranking: a transparent composite index per sector, with uncertainty and sensitivity.

Follows the OECD/JRC *Handbook on Constructing Composite Indicators* (2008): an indicator
framework, explicit treatment of missing data, normalisation, weighting, aggregation, then
uncertainty analysis (Monte Carlo over the choices) and sensitivity analysis (Sobol indices
of the ranks), as the R package COINr does.

Core functions work on a matrix ``X`` (partners x indicators, NaN = missing) and are
vectorised over Monte Carlo draws:

- :func:`normalise`: ``minmax`` (0-1), ``zscore``, ``rank`` (percentile, 0-1); directions
  turn lower-is-better indicators around first.
- :func:`aggregate`: ``arithmetic`` (weighted mean), ``geometric`` (weighted geometric mean
  of values mapped into (0, 1]: minmax and rank values as 0.01 + 0.99 v, z-scores through
  the normal CDF), ``topsis`` (closeness to the ideal, Hwang & Yoon 1981).
- Missing values: with imputation ``none`` a partner's score uses its available indicators
  with weights renormalised over them; ``median`` and ``min`` fill from the other partners
  and every filled cell is flagged. Partners covering less than ``min_coverage`` of the
  weight are reported as "insufficient data" and not ranked.

References
----------
OECD/JRC (2008), *Handbook on Constructing Composite Indicators: Methodology and User
Guide*, OECD Publishing.
Hwang, C.-L. and Yoon, K. (1981), *Multiple Attribute Decision Making*, Springer.
Saltelli, A. et al. (2010), "Variance based sensitivity analysis of model output", Computer
Physics Communications 181(2): 259-270.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.data.provenance import data_fingerprint
from analysis.summary import Summary

__all__ = [
    "AGGREGATIONS",
    "NORMALISATIONS",
    "RankingResult",
    "RankingSettings",
    "aggregate",
    "kendall_tau",
    "normalise",
    "rank_partners",
    "ranks_from_scores",
    "topsis",
]

NORMALISATIONS = ("minmax", "zscore", "rank")
AGGREGATIONS = ("arithmetic", "geometric", "topsis")
IMPUTATIONS = ("none", "median", "min")


# --- the core, vectorised over draws (leading axis) ------------------------------------------


def normalise(X: np.ndarray, method: str, directions: np.ndarray) -> np.ndarray:
    """Normalise each indicator across partners (axis -2); NaN stays NaN.

    ``X`` has shape (..., partners, indicators); ``directions`` (+1 / -1) per indicator.
    """
    X = np.asarray(X, dtype=float) * directions
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "minmax":
            lo = np.nanmin(X, axis=-2, keepdims=True)
            hi = np.nanmax(X, axis=-2, keepdims=True)
            span = np.where(hi - lo > 0, hi - lo, np.nan)
            Z = (X - lo) / span
            return np.where(np.isnan(span) & ~np.isnan(X), 0.5, Z)  # constant: no signal
        if method == "zscore":
            mu = np.nanmean(X, axis=-2, keepdims=True)
            sd = np.nanstd(X, axis=-2, keepdims=True)
            Z = (X - mu) / np.where(sd > 0, sd, np.nan)
            return np.where((sd == 0) & ~np.isnan(X), 0.0, Z)
        if method == "rank":
            # Percentile rank among available values; ties share the average rank.
            ranks = stats.rankdata(np.where(np.isnan(X), np.inf, X), axis=-2)
            n = (~np.isnan(X)).sum(axis=-2, keepdims=True)
            Z = (ranks - 1) / np.where(n > 1, n - 1, np.nan)
            Z = np.where(n == 1, 0.5, Z)
            return np.where(np.isnan(X), np.nan, Z)
    raise ValueError(f"normalisation must be one of {NORMALISATIONS}, got {method!r}")


def _positive(Z: np.ndarray, method: str) -> np.ndarray:
    if method == "zscore":
        return stats.norm.cdf(Z)
    return 0.01 + 0.99 * Z


def aggregate(
    Z: np.ndarray, weights: np.ndarray, method: str, norm_method: str = "minmax"
) -> np.ndarray:
    """Composite scores (higher is better) from normalised values; NaN cells are skipped.

    ``weights`` broadcast against ``Z`` (shape (..., 1, indicators) or (indicators,)).
    Weights are renormalised over each partner's available indicators.
    """
    W = np.broadcast_to(np.asarray(weights, dtype=float), Z.shape)
    avail = ~np.isnan(Z)
    Wa = np.where(avail, W, 0.0)
    wsum = Wa.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "arithmetic":
            return (np.where(avail, Z, 0.0) * Wa).sum(axis=-1) / wsum
        if method == "geometric":
            P = _positive(Z, norm_method)
            return np.exp((np.where(avail, np.log(P), 0.0) * Wa).sum(axis=-1) / wsum)
        if method == "topsis":
            V = np.where(avail, Z, np.nan) * W
            best = np.nanmax(V, axis=-2, keepdims=True)
            worst = np.nanmin(V, axis=-2, keepdims=True)
            d_best = np.sqrt(np.nansum((V - best) ** 2, axis=-1))
            d_worst = np.sqrt(np.nansum((V - worst) ** 2, axis=-1))
            return d_worst / (d_best + d_worst)
    raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {method!r}")


def topsis(X: np.ndarray, weights: Sequence[float], benefit: Sequence[bool]) -> np.ndarray:
    """Classic TOPSIS (Hwang & Yoon 1981): vector normalisation, weights, closeness.

    Returns the relative closeness C_i = S_i^- / (S_i^+ + S_i^-) of each alternative.
    """
    X = np.asarray(X, dtype=float)
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    R = X / np.sqrt((X**2).sum(axis=0))
    V = R * w
    b = np.asarray(benefit)
    ideal = np.where(b, V.max(axis=0), V.min(axis=0))
    anti = np.where(b, V.min(axis=0), V.max(axis=0))
    s_plus = np.sqrt(((V - ideal) ** 2).sum(axis=1))
    s_minus = np.sqrt(((V - anti) ** 2).sum(axis=1))
    return s_minus / (s_plus + s_minus)


def ranks_from_scores(scores: np.ndarray) -> np.ndarray:
    """Ranks (1 = best) along the last axis; ties broken by position (a permutation)."""
    order = np.argsort(-scores, axis=-1, kind="stable")
    ranks = np.empty_like(order)
    values = np.broadcast_to(np.arange(1, scores.shape[-1] + 1), scores.shape)
    np.put_along_axis(ranks, order, values, axis=-1)
    return ranks


def kendall_tau(reference: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Kendall's tau between a reference ranking and each row of ``ranks`` (no ties).

    Vectorised over rows: tau = (concordant - discordant) / (n (n - 1) / 2).
    """
    ref = np.sign(reference[:, None] - reference[None, :])
    out = np.empty(len(ranks))
    for start in range(0, len(ranks), 1000):  # chunks keep memory at ~1000 x n x n
        r = ranks[start : start + 1000]
        s = np.sign(r[:, :, None] - r[:, None, :])
        out[start : start + 1000] = (s * ref[None]).sum(axis=(1, 2)) / 2
    n = reference.shape[0]
    return out / (n * (n - 1) / 2)


def _impute(X: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    missing = np.isnan(X)
    if method == "none":
        return X, np.zeros_like(missing)
    fill = np.nanmedian(X, axis=0) if method == "median" else np.nanmin(X, axis=0)
    return np.where(missing, fill[None, :], X), missing


# --- settings and result ---------------------------------------------------------------------


@dataclass(frozen=True)
class RankingSettings:
    """Choices of the composite index and of its uncertainty analysis."""

    normalisation: str = "minmax"
    aggregation: str = "arithmetic"
    weights: Mapping[str, float] = field(default_factory=dict)
    imputation: str = "none"
    min_coverage: float = 0.6
    draws: int = 2000
    weight_concentration: float = 20.0
    noise: float = 0.1
    mc_normalisations: tuple[str, ...] = NORMALISATIONS
    mc_aggregations: tuple[str, ...] = AGGREGATIONS
    sobol_base: int = 128
    seed: int = 20261127

    def __post_init__(self) -> None:
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(f"normalisation must be one of {NORMALISATIONS}")
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {AGGREGATIONS}")
        if self.imputation not in IMPUTATIONS:
            raise ValueError(f"imputation must be one of {IMPUTATIONS}")


@dataclass
class RankingResult:
    """Nominal index, rank bands, sensitivity and drivers for one sector.

    ``table`` is the source of truth: one row per partner with ``score``, ``rank``,
    ``median_rank``, ``rank_p05``, ``rank_p95``, ``coverage``, ``status`` (``ranked`` or
    ``insufficient data``) and ``imputed`` (the imputed indicators).
    """

    settings: RankingSettings
    indicators: pd.DataFrame  # partners x indicators, raw values
    meta: pd.DataFrame  # one row per indicator: pillar, label, direction, unit, source, year
    table: pd.DataFrame
    drivers: pd.DataFrame  # partners x indicators: contribution to the score vs average
    sobol: pd.DataFrame
    stability: pd.DataFrame
    mc_ranks: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))
    fingerprint: str = ""
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """The ranking table (long, one row per partner)."""
        return self.table.copy()

    def summary(self) -> Summary:
        t = self.table
        ranked = t[t["status"] == "ranked"].sort_values("rank")
        return Summary(
            title="Partner ranking",
            settings={
                **{
                    k: v
                    for k, v in asdict(self.settings).items()
                    if k not in ("mc_normalisations", "mc_aggregations")
                },
                "fingerprint": self.fingerprint,
            },
            tables=[
                (
                    "Ranks with 5-95 % bands",
                    ranked[
                        [
                            "partner_iso3",
                            "score",
                            "rank",
                            "median_rank",
                            "rank_p05",
                            "rank_p95",
                            "coverage",
                            "imputed",
                        ]
                    ].round(3),
                ),
                ("Sobol indices of the ranks (mean over ranked partners)", self.sobol.round(3)),
                ("Rank stability against the nominal ranking", self.stability.round(3)),
                ("Insufficient data", t[t["status"] != "ranked"][["partner_iso3", "coverage"]]),
            ],
            notes=self.notes,
        )

    def profile(self, partner: str) -> Summary:
        """One-page view of a partner: score, rank band, drivers, indicator values."""
        row = self.table.set_index("partner_iso3").loc[partner]
        vals = self.indicators.loc[partner]
        drv = self.drivers.loc[partner] if partner in self.drivers.index else pd.Series()
        detail = self.meta.assign(
            value=vals.reindex(self.meta.index).to_numpy(),
            contribution=drv.reindex(self.meta.index).to_numpy(),
        )
        return Summary(
            title=f"Partner profile: {partner}",
            settings={
                "status": row["status"],
                "score": round(float(row["score"]), 3) if pd.notna(row["score"]) else "n/a",
                "rank": row["rank"],
                "rank band (5-95 %)": f"{row['rank_p05']}-{row['rank_p95']}",
                "median rank": row["median_rank"],
                "imputed": row["imputed"] or "none",
            },
            tables=[
                (
                    "Indicators and their contribution",
                    detail[["pillar", "label", "value", "unit", "contribution", "year", "source"]],
                )
            ],
        )

    def plot_bands(self, ax=None):
        from analysis.plots import plot_rank_bands

        return plot_rank_bands(self, ax=ax)

    def plot_drivers(self, ax=None):
        from analysis.plots import plot_drivers

        return plot_drivers(self, ax=ax)


def _weights(meta: pd.DataFrame, given: Mapping[str, float]) -> np.ndarray:
    """Indicator weights: equal, or user-given per indicator or per pillar (then split)."""
    w = pd.Series(1.0, index=meta.index)
    unknown = [k for k in given if k not in meta.index and k not in set(meta["pillar"])]
    if unknown:
        raise ValueError(
            f"unknown indicator or pillar in weights: {unknown}; indicators: "
            f"{list(meta.index)}; pillars: {sorted(set(meta['pillar']))}"
        )
    for pillar in set(meta["pillar"]):
        if pillar in given:
            members = meta.index[meta["pillar"] == pillar]
            w[members] = float(given[pillar]) / len(members)
    for ind, v in given.items():
        if ind in meta.index:
            w[ind] = float(v)
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be >= 0 and not all zero")
    return (w / w.sum()).to_numpy()


def _score(X: np.ndarray, w: np.ndarray, d: np.ndarray, norm: str, agg: str) -> np.ndarray:
    return aggregate(normalise(X, norm, d), w, agg, norm)


def rank_partners(
    indicators: pd.DataFrame, meta: pd.DataFrame, settings: RankingSettings | None = None
) -> RankingResult:
    """Nominal ranking, Monte Carlo rank bands, Sobol indices, stability and drivers.

    Parameters
    ----------
    indicators
        Partners (index, ISO3) x indicators (columns), raw values, NaN = missing.
    meta
        One row per indicator (index = column names) with ``pillar``, ``label``,
        ``direction`` (+1 higher is better, -1 lower is better), ``unit``, ``source``,
        ``year``.
    """
    s = settings or RankingSettings()
    meta = meta.loc[list(indicators.columns)]
    d = meta["direction"].to_numpy(dtype=float)
    w = _weights(meta, s.weights)
    X_raw = indicators.to_numpy(dtype=float)
    coverage = ((~np.isnan(X_raw)) * w).sum(axis=1)
    ok = coverage >= s.min_coverage
    X, imputed_mask = _impute(X_raw[ok], s.imputation)
    partners = indicators.index[ok]
    rng = np.random.default_rng(s.seed)
    notes: list[str] = []

    nominal = _score(X, w, d, s.normalisation, s.aggregation)
    nominal_rank = ranks_from_scores(nominal)

    # Monte Carlo: weights ~ Dirichlet around the chosen ones, a random normalisation and
    # aggregation from the allowed sets, and multiplicative indicator noise.
    n = s.draws
    W = rng.dirichlet(np.maximum(w * s.weight_concentration * len(w), 1e-3), size=n)
    norms = rng.choice(len(s.mc_normalisations), size=n)
    aggs = rng.choice(len(s.mc_aggregations), size=n)
    if s.noise > 0:
        Xd = X[None, :, :] * np.exp(s.noise * rng.standard_normal((n, *X.shape)))
    else:
        Xd = np.broadcast_to(X[None, :, :], (n, *X.shape))
    mc_scores = np.empty((n, len(partners)))
    for i, nm in enumerate(s.mc_normalisations):
        for j, ag in enumerate(s.mc_aggregations):
            sel = (norms == i) & (aggs == j)
            if sel.any():
                mc_scores[sel] = aggregate(normalise(Xd[sel], nm, d), W[sel][:, None, :], ag, nm)
    mc_ranks = ranks_from_scores(mc_scores)

    taus = kendall_tau(nominal_rank, mc_ranks)
    # Weighted tau (Vigna 2015; top ranks count more) has no vectorised form in scipy: it
    # is computed on a seeded subsample of at most 500 draws, and the table says how many.
    sub = rng.choice(n, size=min(n, 500), replace=False)
    wtaus = np.array([stats.weightedtau(-nominal_rank, -mc_ranks[i]).statistic for i in sub])
    stability = pd.DataFrame(
        {
            "median": [np.median(taus), np.median(wtaus)],
            "p05": [np.quantile(taus, 0.05), np.quantile(wtaus, 0.05)],
            "p95": [np.quantile(taus, 0.95), np.quantile(wtaus, 0.95)],
            "draws": [len(taus), len(wtaus)],
        },
        index=pd.Index(["Kendall tau", "weighted tau"], name="measure"),
    )

    sobol = _sobol(X, w, d, meta, s, rng)

    # Drivers: under arithmetic aggregation of the nominal normalisation, each indicator's
    # weighted distance from the average partner (positive lifts, negative sinks).
    Z = normalise(X, s.normalisation, d)
    drivers = pd.DataFrame(
        w * (Z - np.nanmean(Z, axis=0)), index=partners, columns=indicators.columns
    )

    table = pd.DataFrame(
        {
            "partner_iso3": indicators.index,
            "coverage": coverage,
            "status": np.where(ok, "ranked", "insufficient data"),
        }
    )
    table["score"] = np.nan
    table["rank"] = pd.array([pd.NA] * len(table), dtype="Int64")
    for col in ("median_rank", "rank_p05", "rank_p95"):
        table[col] = np.nan
    table.loc[ok, "score"] = nominal
    table.loc[ok, "rank"] = nominal_rank
    table.loc[ok, "median_rank"] = np.median(mc_ranks, axis=0)
    table.loc[ok, "rank_p05"] = np.quantile(mc_ranks, 0.05, axis=0, method="nearest")
    table.loc[ok, "rank_p95"] = np.quantile(mc_ranks, 0.95, axis=0, method="nearest")
    imputed = [", ".join(indicators.columns[imputed_mask[i]]) for i in range(len(partners))]
    table["imputed"] = ""
    table.loc[ok, "imputed"] = imputed
    if (~ok).any():
        notes.append(
            f"{int((~ok).sum())} partner(s) cover less than {s.min_coverage:.0%} of "
            "the indicator weight: reported as insufficient data, not ranked."
        )
    if s.imputation != "none" and imputed_mask.any():
        notes.append(
            f"{int(imputed_mask.sum())} missing cells imputed ({s.imputation}); "
            "each is listed in the 'imputed' column."
        )
    elif s.imputation == "none":
        notes.append(
            "Missing indicators are not imputed: a partner's score uses its "
            "available indicators with weights renormalised over them."
        )
    fp = data_fingerprint(
        {"X": str(pd.util.hash_pandas_object(indicators).sum()), "settings": repr(asdict(s))}
    )
    return RankingResult(
        s,
        indicators,
        meta,
        table.sort_values(["status", "rank"]).reset_index(drop=True),
        drivers,
        sobol,
        stability,
        mc_ranks,
        fp,
        notes,
    )


def _sobol(
    X: np.ndarray,
    w: np.ndarray,
    d: np.ndarray,
    meta: pd.DataFrame,
    s: RankingSettings,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """First-order and total Sobol indices of every partner's rank, averaged over partners.

    Inputs: one weight multiplier per pillar (uniform 0.5-1.5), the normalisation and the
    aggregation (uniform over the allowed choices), and the noise level (0 to 2x the chosen
    one, applied to a fixed seeded noise field so the model stays deterministic).
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    pillars = sorted(set(meta["pillar"]))
    names = [f"weight: {p}" for p in pillars] + ["normalisation", "aggregation", "noise"]
    bounds = [[0.5, 1.5]] * len(pillars) + [
        [0, len(s.mc_normalisations)],
        [0, len(s.mc_aggregations)],
        [0, max(2 * s.noise, 1e-9)],
    ]
    problem = {"num_vars": len(names), "names": names, "bounds": bounds}
    design = sobol_sample.sample(problem, s.sobol_base, calc_second_order=False, seed=s.seed)
    field_ = rng.standard_normal(X.shape)
    pillar_of = np.array([pillars.index(p) for p in meta["pillar"]])
    n = len(design)
    mult = design[:, : len(pillars)][:, pillar_of]  # (n, indicators)
    Wd = w[None, :] * mult
    Wd = Wd / Wd.sum(axis=1, keepdims=True)
    norm_idx = np.minimum(design[:, len(pillars)].astype(int), len(s.mc_normalisations) - 1)
    agg_idx = np.minimum(design[:, len(pillars) + 1].astype(int), len(s.mc_aggregations) - 1)
    sigma = design[:, -1]
    Xd = X[None] * np.exp(sigma[:, None, None] * field_[None])
    scores = np.empty((n, X.shape[0]))
    for i, nm in enumerate(s.mc_normalisations):
        for j, ag in enumerate(s.mc_aggregations):
            sel = (norm_idx == i) & (agg_idx == j)
            if sel.any():
                scores[sel] = aggregate(normalise(Xd[sel], nm, d), Wd[sel][:, None, :], ag, nm)
    ranks = ranks_from_scores(scores).astype(float)
    s1, st = [], []
    for k in range(ranks.shape[1]):
        y = ranks[:, k]
        if np.var(y) == 0:
            continue  # a partner whose rank never moves contributes no variance to explain
        with warnings.catch_warnings():
            # SALib warns when a resampled subset is constant: common for stable partners.
            warnings.simplefilter("ignore", UserWarning)
            res = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=s.seed)
        s1.append(res["S1"])
        st.append(res["ST"])
    if not s1:
        return pd.DataFrame({"S1": 0.0, "ST": 0.0}, index=pd.Index(names, name="input"))
    return pd.DataFrame(
        {"S1": np.mean(s1, axis=0), "ST": np.mean(st, axis=0)}, index=pd.Index(names, name="input")
    )
