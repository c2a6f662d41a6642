"""Partner ranking: a composite index built pillar by pillar, with every choice under uncertainty.

Follows the OECD/JRC *Handbook on Constructing Composite Indicators* (2008) and the audit of
the R package COINr: an indicator framework in pillars, explicit missing data, outlier
treatment, normalisation, weights, aggregation, then uncertainty analysis (Monte Carlo over
every choice) and sensitivity analysis (Sobol indices with bootstrap intervals).

One production path scores the nominal index, every Monte Carlo draw, every Sobol design row
and every indicator-removal run: :func:`_evaluate` takes a batch of *draws* (one choice of
method, weights, imputation, coverage threshold, hub treatment, noise and censored values per
row) and returns the scores of every partner in every draw, vectorised over the batch.

Choices (all inside the Monte Carlo and the Sobol design):

- **Weights, pillars first.** Each pillar gets a weight (equal by default); each indicator a
  weight within its pillar (equal by default). The effective weight of an indicator is the
  product; pillar weights are therefore respected exactly. The Monte Carlo draws both levels
  from Dirichlet distributions centred on the chosen weights.
- **Coverage.** A partner's pillar score exists only when it covers at least
  ``pillar_coverage`` of the pillar's indicator weight (a censored value counts as covered:
  it is an interval, not a gap). A partner is ranked only when every weighted pillar has a
  score; in a Monte Carlo draw whose threshold it fails, it is not ranked (the others are
  ranked among themselves) and ``ranked_share`` reports how often it is ranked. An
  indicator covering fewer than ``min_indicator_coverage`` of the candidates is left out.
- **Missing data.** Imputation happens after normalisation. The default ``worst`` fills a gap
  with the worst value observed among the candidates on that indicator, so a gap can never
  score above any observed value (it cannot reward a gap). ``pillar_mean`` fills with the
  partner's mean over the pillar's other indicators, ``median`` with the indicator's median
  (both more generous; offered so the uncertainty analysis shows what the choice does).
  Every imputed cell is flagged.
- **Censored values** (top-N lists: the partner is below a bound) enter as an interval
  ``[lower, upper]``: the nominal index uses the lower bound (missing data never helps), the
  Monte Carlo draws a value uniformly inside the interval. They are never shown as observed.
- **Hubs.** Partners that route third-country capital (SGP, HKG, NLD, LUX, and any the data
  show) are flagged; ``hub_treatment`` decides how their hub-sensitive indicators count:
  ``as_is``, ``discounted`` (positive values times ``hub_discount``) or ``excluded`` (a
  flagged gap, filled by the imputation rule).
- **Noise**: each measured value is multiplied by exp(e), e uniform on the log scale with
  standard deviation ``noise`` (definitional indicators such as distance are exact).
- **Outliers** (COINr's rule: absolute skewness > 2 and kurtosis > 3.5) are ``winsorise``-d
  (up to five points, then log if still outlying), ``log``-transformed, or left (``none``);
  the treatment is recorded per indicator.
- **Normalisation** ``minmax`` (0-1), ``zscore``, ``rank`` (percentile, ties averaged) and
  ``vector`` (x / ||x||, classic TOPSIS; TOPSIS only). **Aggregation** ``arithmetic``,
  ``geometric`` (values mapped into (0, 1]: 0.01 + 0.99 v, z-scores through the normal CDF)
  and ``topsis`` (closeness to the ideal, Hwang & Yoon 1981) over the effective weights.

References
----------
OECD/JRC (2008), *Handbook on Constructing Composite Indicators: Methodology and User
Guide*, OECD Publishing.
Becker, W. et al. (2022), "COINr: An R package for developing composite indicators", Journal
of Open Source Software 7(78): 4567.
Hwang, C.-L. and Yoon, K. (1981), *Multiple Attribute Decision Making*, Springer.
Saltelli, A. et al. (2010), "Variance based sensitivity analysis of model output", Computer
Physics Communications 181(2): 259-270.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import special, stats

from analysis.data.provenance import data_fingerprint
from analysis.summary import Summary
from analysis.vocab import DEFAULT_SEED

__all__ = [
    "AGGREGATIONS",
    "HUB_TREATMENTS",
    "IMPUTATIONS",
    "KNOWN_HUBS",
    "NORMALISATIONS",
    "OUTLIER_TREATMENTS",
    "IndicatorSet",
    "RankingAudit",
    "RankingResult",
    "RankingSettings",
    "aggregate",
    "effective_weights",
    "kendall_tau",
    "normalise",
    "rank_partners",
    "ranks_from_scores",
    "sobol_indices",
]

NORMALISATIONS = ("minmax", "zscore", "rank", "vector")
AGGREGATIONS = ("arithmetic", "geometric", "topsis")
IMPUTATIONS = ("worst", "pillar_mean", "median")
HUB_TREATMENTS = ("as_is", "discounted", "excluded")
OUTLIER_TREATMENTS = ("winsorise", "log", "none")
#: Known conduit economies (IMF CDIS "special purpose entity" hosts, UNCTAD WIR 2016 ch. IV).
KNOWN_HUBS = {
    "SGP": "known conduit (regional holding companies)",
    "HKG": "known conduit (round-tripping and China's outward FDI)",
    "NLD": "known conduit (special financial institutions)",
    "LUX": "known conduit (special purpose entities)",
}
# COINr's default outlier rule (Becker et al. 2022): both thresholds must be exceeded.
SKEW_LIMIT, KURT_LIMIT, WINSOR_MAX_POINTS = 2.0, 3.5, 5


# --- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorSet:
    """The raw indicator matrix of one sector, with its bounds, hubs and documentation.

    Attributes
    ----------
    values
        Partners (index, ISO3) x indicators (columns): observed raw values; NaN where the
        value is missing **or** censored.
    meta
        One row per indicator (index = the columns of ``values``): ``pillar``, ``label``,
        ``direction`` (+1 more is better, -1 less is better), ``unit``, ``source``, ``year``;
        optional ``hub_sensitive`` (bool: the indicator measures capital that conduits
        inflate) and ``noisy`` (bool, default True: measured with error; False for
        definitional indicators such as a distance or a 0/1 agreement flag).
    lower, upper
        Bounds of censored cells (same shape as ``values``, NaN elsewhere), or None.
    hubs
        Partner -> reason it is flagged as a hub (only flagged partners).
    years
        Partners x indicators: the year each value refers to (display only), or None.
    cell_notes
        Partners x indicators: text flags of single cells (a fallback source, an old
        vintage), shown with the cell in every table, or None.
    notes
        Caveats the report must show (sources dropped, fallbacks used).
    """

    values: pd.DataFrame
    meta: pd.DataFrame
    lower: pd.DataFrame | None = None
    upper: pd.DataFrame | None = None
    hubs: Mapping[str, str] = field(default_factory=dict)
    years: pd.DataFrame | None = None
    cell_notes: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        missing = [c for c in self.values.columns if c not in self.meta.index]
        if missing:
            raise ValueError(f"indicators without a meta row: {missing}")
        need = {"pillar", "label", "direction"}
        if not need <= set(self.meta.columns):
            raise ValueError(f"meta needs columns {sorted(need)}, has {list(self.meta.columns)}")
        bad = set(self.meta["direction"]) - {1, -1}
        if bad:
            raise ValueError(f"direction must be +1 or -1, got {sorted(bad)}")
        for name, frame in (("lower", self.lower), ("upper", self.upper)):
            if frame is not None and (
                list(frame.index) != list(self.values.index)
                or list(frame.columns) != list(self.values.columns)
            ):
                raise ValueError(f"{name} bounds must have the same partners and indicators")

    def drop(self, indicators: Sequence[str]) -> IndicatorSet:
        """The same set without ``indicators`` (e.g. a whole pillar)."""
        keep = [c for c in self.values.columns if c not in set(indicators)]
        sub = lambda f: None if f is None else f[keep]  # noqa: E731
        return replace(
            self,
            values=self.values[keep],
            meta=self.meta.loc[keep],
            lower=sub(self.lower),
            upper=sub(self.upper),
            years=sub(self.years),
            cell_notes=None if self.cell_notes is None else self.cell_notes.reindex(columns=keep),
        )

    @property
    def pillars(self) -> list[str]:
        """Pillars in order of first appearance."""
        return list(dict.fromkeys(self.meta.loc[list(self.values.columns), "pillar"]))


# --- the core, vectorised over draws (leading axis) ------------------------------------------


def normalise(X: np.ndarray, method: str, directions: np.ndarray) -> np.ndarray:
    """Normalise each indicator across partners; NaN stays NaN.

    ``X`` has shape (..., partners, indicators); ``directions`` (+1 / -1) per indicator.
    The production path works on the transposed layout (partners last) through
    :func:`_normalise`; this wrapper only swaps the axes.
    """
    Xt = np.swapaxes(np.asarray(X, dtype=float), -1, -2)
    d = np.asarray(directions, dtype=float)[:, None]
    return np.swapaxes(_normalise(Xt, method, d), -1, -2)


def _normalise(X: np.ndarray, method: str, directions: np.ndarray) -> np.ndarray:
    """Normalise along the last axis (partners) of (..., indicators, partners)."""
    X = X * directions.astype(X.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "minmax":
            lo = np.fmin.reduce(X, axis=-1, keepdims=True)  # fmin/fmax skip NaN, fast
            hi = np.fmax.reduce(X, axis=-1, keepdims=True)
            span = hi - lo
            # A spread at rounding level (a few ulps of the values) is no signal: scaling a
            # column could otherwise turn 0/1 scores into 0.5 and back.
            flat = span <= 1e-12 * np.fmax(np.abs(lo), np.abs(hi))
            Z = (X - lo) / np.where(flat, np.nan, span)
            if flat.any():
                Z = np.where(flat & ~np.isnan(X), 0.5, Z)  # constant: no signal
            return Z
        if method == "zscore":
            gap = np.isnan(X)
            X0 = np.where(gap, 0, X)
            n = (~gap).sum(axis=-1, keepdims=True)
            mu = X0.sum(axis=-1, keepdims=True) / n
            sd = np.sqrt((np.where(gap, 0, X - mu) ** 2).sum(axis=-1, keepdims=True) / n)
            Z = (X - mu) / np.where(sd > 0, sd, np.nan)
            if (sd == 0).any():
                Z = np.where((sd == 0) & ~gap, 0.0, Z)
            return Z
        if method == "rank":
            return _percentile_rank(X)
        if method == "vector":
            norm = np.sqrt(np.nansum(X**2, axis=-1, keepdims=True))
            return X / np.where(norm > 0, norm, np.nan)
    raise ValueError(f"normalisation must be one of {NORMALISATIONS}, got {method!r}")


def _row_order(X2: np.ndarray) -> np.ndarray:
    """``argsort`` of each row of float32 ``X2`` (NaN last; ties in any order), by a value sort.

    A float32 value is exact in float64 with 29 low mantissa bits zero: the column index
    written there makes every key distinct without changing the order of distinct values
    (only tied values are ordered, by column), so a plain sort of the keys (several times
    faster than an argsort) carries each column index with its value; gaps get a key above
    any float32. Other dtypes, wide rows and infinite values (whose keys would become NaN)
    use ``argsort``.
    """
    m = X2.shape[-1]
    if X2.dtype != np.float32 or m > 1 << 20 or np.isinf(X2).any():
        return np.argsort(X2, axis=-1)
    keys = X2.astype(np.float64)
    # NaN (gaps) last: a finite key above every float32 (a SIMD sort may rewrite NaN bits).
    np.copyto(keys, 2.0**1023, where=np.isnan(X2))
    bits = keys.view(np.uint64)
    bits |= np.arange(m, dtype=np.uint64)
    keys.sort(axis=-1)
    return (bits & np.uint64((1 << 20) - 1)).astype(np.intp)


def _percentile_rank(X: np.ndarray) -> np.ndarray:
    """Percentile rank (0-1) along the last axis among available values, ties averaged.

    One argsort; positions are computed in sorted order (ties, common in 0/1 and winsorised
    indicators, get the mean position of their run, only in the rows that have them) and
    put back with one scatter.
    """
    shape = X.shape
    m = shape[-1]
    X2 = X.reshape(-1, m)
    order = _row_order(X2)  # NaN sorts last; ties are averaged, so their order is free
    s = np.take_along_axis(X2, order, axis=-1)
    pos = np.broadcast_to(np.arange(m, dtype=X.dtype), s.shape).copy()
    same = s[:, 1:] == s[:, :-1]  # NaN != NaN: gaps never tie
    rows = np.flatnonzero(same.any(axis=1))
    if len(rows):
        new = np.ones((len(rows), m), dtype=bool)
        new[:, 1:] = ~same[rows]
        idx = pos[rows]
        first = np.maximum.accumulate(np.where(new, idx, 0), axis=-1)
        end = np.ones_like(new)
        end[:, :-1] = new[:, 1:]
        last = np.minimum.accumulate(np.where(end, idx, m)[:, ::-1], axis=-1)[:, ::-1]
        pos[rows] = (first + last) / 2
    n = (~np.isnan(s)).sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore"):
        pos = np.where(n > 1, pos / np.maximum(n - 1, 1), 0.5)
    pos[np.isnan(s)] = np.nan
    out = np.empty_like(X2)
    np.put_along_axis(out, order, pos, axis=-1)
    return out.reshape(shape)


def _positive(Z: np.ndarray, method: str) -> np.ndarray:
    if method == "zscore":
        return special.ndtr(Z)
    return 0.01 + 0.99 * Z


def aggregate(
    Z: np.ndarray, weights: np.ndarray, method: str, norm_method: str = "minmax"
) -> np.ndarray:
    """Composite scores (higher is better) from complete normalised values.

    ``Z`` (..., partners, indicators); ``weights`` (summing to one) of shape (indicators,)
    or (..., 1, indicators). The matrix must be complete: impute first. The production
    path is :func:`_aggregate` (partners last); this wrapper only swaps the axes.
    """
    Zt = np.swapaxes(np.asarray(Z, dtype=float), -1, -2)
    W = np.asarray(weights, dtype=float)
    W = W[..., 0, :] if W.ndim >= 2 else W
    W = np.broadcast_to(W, Zt.shape[:-1])
    return _aggregate(Zt, W, method, norm_method)


def _aggregate(Z: np.ndarray, W: np.ndarray, method: str, norm_method: str) -> np.ndarray:
    """Scores (..., partners) from Z (..., indicators, partners) and W (..., indicators)."""
    Wc = W[..., None, :].astype(Z.dtype)
    if method == "arithmetic":
        return (Wc @ Z)[..., 0, :]
    if method == "geometric":
        if norm_method == "vector":
            raise ValueError("vector normalisation is for TOPSIS only")
        return np.exp((Wc @ np.log(_positive(Z, norm_method)))[..., 0, :])
    if method == "topsis":
        V = Z * W[..., :, None].astype(Z.dtype)
        best = V.max(axis=-1, keepdims=True)
        worst = V.min(axis=-1, keepdims=True)
        d_best = np.sqrt(((V - best) ** 2).sum(axis=-2))
        d_worst = np.sqrt(((V - worst) ** 2).sum(axis=-2))
        with np.errstate(invalid="ignore", divide="ignore"):
            c = d_worst / (d_best + d_worst)
        return np.where(np.isnan(c), 0.5, c)  # every partner identical: no ranking signal
    raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {method!r}")


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
    reference = np.asarray(reference)
    ranks = np.atleast_2d(ranks)
    ref = np.sign(reference[:, None] - reference[None, :])
    out = np.empty(len(ranks))
    for start in range(0, len(ranks), 1000):  # chunks keep memory at ~1000 x n x n
        r = ranks[start : start + 1000]
        s = np.sign(r[:, :, None] - r[:, None, :])
        out[start : start + 1000] = (s * ref[None]).sum(axis=(1, 2)) / 2
    n = reference.shape[0]
    return out / (n * (n - 1) / 2)


# --- settings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankingSettings:
    """Choices of the composite index and of its uncertainty and sensitivity analysis.

    Parameters
    ----------
    normalisation, aggregation, imputation, hub_treatment, outliers
        Nominal choices (see the module docstring).
    pillar_weights
        Pillar -> weight (relative; empty or a missing pillar = 1).
    indicator_weights
        Indicator -> weight within its pillar (relative; missing = 1).
    pillar_coverage
        Share of a pillar's indicator weight a partner must cover for a pillar score.
    min_indicator_coverage
        An indicator observed (or bounded) for fewer than this share of the candidates is
        left out, with a note: imputing most of a column would turn it into a flag of who
        has data (and a pillar rule on it would decide who is ranked at all).
    hub_discount
        Multiplier of hub-sensitive indicators of hubs under ``discounted``.
    draws
        Monte Carlo draws (2N: the convergence check compares the first N with all 2N).
    weight_concentration
        Dirichlet concentration per indicator/pillar (larger: weights closer to nominal).
    noise
        Indicator noise, log-scale standard deviation (multiplicative).
    mc_normalisations, mc_aggregations, mc_imputations, mc_hub_treatments
        Alternatives drawn uniformly in the Monte Carlo and the Sobol design.
    coverage_spread
        The coverage threshold varies over nominal -spread, nominal, +spread (clipped).
    sobol_base
        Base sample size N of the Sobol design (power of two; N x (groups + 2) runs).
    sobol_resamples
        Bootstrap resamples for the Sobol confidence intervals (95 %).
    """

    normalisation: str = "minmax"
    aggregation: str = "arithmetic"
    pillar_weights: Mapping[str, float] = field(default_factory=dict)
    indicator_weights: Mapping[str, float] = field(default_factory=dict)
    imputation: str = "worst"
    pillar_coverage: float = 0.5
    min_indicator_coverage: float = 0.5
    hub_treatment: str = "as_is"
    hub_discount: float = 0.5
    outliers: str = "winsorise"
    draws: int = 2000
    weight_concentration: float = 20.0
    noise: float = 0.1
    mc_normalisations: tuple[str, ...] = ("minmax", "zscore", "rank")
    mc_aggregations: tuple[str, ...] = AGGREGATIONS
    mc_imputations: tuple[str, ...] = IMPUTATIONS
    mc_hub_treatments: tuple[str, ...] = HUB_TREATMENTS
    coverage_spread: float = 0.2
    sobol_base: int = 256
    sobol_resamples: int = 200
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        def check(value: object, allowed: Sequence[str], name: str) -> None:
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")

        check(self.normalisation, NORMALISATIONS, "normalisation")
        check(self.aggregation, AGGREGATIONS, "aggregation")
        check(self.imputation, IMPUTATIONS, "imputation")
        check(self.hub_treatment, HUB_TREATMENTS, "hub_treatment")
        check(self.outliers, OUTLIER_TREATMENTS, "outliers")
        if self.normalisation == "vector" and self.aggregation != "topsis":
            raise ValueError(
                "normalisation 'vector' is the classic TOPSIS one: use it with topsis"
            )
        for name, allowed, chosen in (
            ("mc_normalisations", NORMALISATIONS[:3], self.mc_normalisations),
            ("mc_aggregations", AGGREGATIONS, self.mc_aggregations),
            ("mc_imputations", IMPUTATIONS, self.mc_imputations),
            ("mc_hub_treatments", HUB_TREATMENTS, self.mc_hub_treatments),
        ):
            if not chosen:
                raise ValueError(f"{name} must list at least one choice")
            for c in chosen:
                check(c, allowed, name)
        for name in (
            "pillar_coverage",
            "hub_discount",
            "coverage_spread",
            "min_indicator_coverage",
        ):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise ValueError(f"{name} must be between 0 and 1, got {v!r}")
        for name, given in (
            ("pillar", self.pillar_weights),
            ("indicator", self.indicator_weights),
        ):
            for k, v in given.items():
                if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
                    raise ValueError(f"{name} weight of {k!r} must be a number >= 0, got {v!r}")
        if self.draws < 2 or self.noise < 0 or self.weight_concentration <= 0:
            raise ValueError("draws >= 2, noise >= 0 and weight_concentration > 0 required")

    @property
    def coverage_levels(self) -> tuple[float, ...]:
        """Coverage thresholds the Monte Carlo and the Sobol design draw from."""
        c, s = self.pillar_coverage, self.coverage_spread
        return tuple(sorted({round(min(max(c + d, 0.0), 1.0), 6) for d in (-s, 0.0, s)}))


def effective_weights(meta: pd.DataFrame, settings: RankingSettings) -> pd.DataFrame:
    """Pillar weight, weight within the pillar and effective weight of every indicator.

    Raises
    ------
    ValueError
        A weight names an unknown pillar or indicator, or every weight is zero.
    """
    pillars = list(dict.fromkeys(meta["pillar"]))
    unknown = [k for k in settings.pillar_weights if k not in pillars]
    unknown += [k for k in settings.indicator_weights if k not in meta.index]
    if unknown:
        raise ValueError(
            f"unknown pillar or indicator in weights: {unknown}; pillars: {pillars}; "
            f"indicators: {list(meta.index)}"
        )
    pw = pd.Series({p: float(settings.pillar_weights.get(p, 1.0)) for p in pillars})
    iw = pd.Series({k: float(settings.indicator_weights.get(k, 1.0)) for k in meta.index})
    within = iw / iw.groupby(meta["pillar"]).transform("sum").replace(0.0, np.nan)
    within = within.fillna(0.0)
    # A pillar whose indicators all weigh zero cannot carry its pillar weight.
    alive = within.groupby(meta["pillar"]).sum() > 0
    pw = pw.where(alive.reindex(pw.index, fill_value=False), 0.0)
    if pw.sum() <= 0:
        raise ValueError("weights must not all be zero")
    pw = pw / pw.sum()
    out = pd.DataFrame(
        {
            "indicator": meta.index,
            "label": meta["label"].to_numpy(),
            "pillar": meta["pillar"].to_numpy(),
            "pillar_weight": pw.reindex(meta["pillar"]).to_numpy(),
            "weight_in_pillar": within.to_numpy(),
        }
    )
    out["effective_weight"] = out["pillar_weight"] * out["weight_in_pillar"]
    return out


# --- preparation: everything that does not change between draws -----------------------------


@dataclass
class _Prepared:
    partners: list[str]
    codes: list[str]
    pillars: list[str]
    pillar_of: np.ndarray  # (K,) pillar index per indicator
    membership: np.ndarray  # (K, Pl) 0/1
    directions: np.ndarray  # (K,)
    weights: pd.DataFrame  # effective_weights()
    w: np.ndarray  # (K,) effective weights
    pw: np.ndarray  # (Pl,) pillar weights
    v: np.ndarray  # (K,) weights within pillar
    X_hub: np.ndarray  # (3, P, K): data under as_is / discounted / excluded (censored: lower)
    Xt_hub: np.ndarray  # (3, K, P): the same, partners last, for the draws
    cens_idx: tuple[np.ndarray, np.ndarray]  # censored cells (partner, indicator)
    lo_hub: np.ndarray  # (3, C)
    hi_hub: np.ndarray  # (3, C)
    noisy: np.ndarray  # (K,) bool
    observed: np.ndarray  # (P, K) observed value
    censored: np.ndarray  # (P, K) censored (interval)
    hub_cells: np.ndarray  # (P, K) hub partner x hub-sensitive indicator
    hub: np.ndarray  # (P,) bool
    pillar_coverage: np.ndarray  # (P, Pl)
    coverage: np.ndarray  # (P,)
    outliers: pd.DataFrame
    caps: np.ndarray  # (2, K) winsorisation caps (-inf/inf: none)
    log_shift: np.ndarray  # (K,) NaN: no log; else log(x - shift + 1)
    treated: np.ndarray  # (K,) bool: an outlier treatment applies
    gap_cols: np.ndarray  # (K,) bool: the column can have a gap (missing or hub-excluded)


def _skew_kurt(x: np.ndarray) -> tuple[float, float]:
    if len(x) < 4 or np.ptp(x) == 0:
        return 0.0, 0.0
    return float(stats.skew(x, bias=False)), float(stats.kurtosis(x, bias=False))


def _outlying(x: np.ndarray) -> bool:
    s, k = _skew_kurt(x)
    return abs(s) > SKEW_LIMIT and k > KURT_LIMIT


def _outlier_plan(
    X: np.ndarray, codes: list[str], method: str
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """COINr's outlier rule and treatment per indicator, planned on the observed values."""
    caps = np.vstack([np.full(len(codes), -np.inf), np.full(len(codes), np.inf)])
    shift = np.full(len(codes), np.nan)
    rows = []
    for k, code in enumerate(codes):
        x = X[:, k][~np.isnan(X[:, k])]
        s, kt = _skew_kurt(x)
        # A 0/1 (or few-valued) indicator is skewed by design, not by outliers.
        flagged = abs(s) > SKEW_LIMIT and kt > KURT_LIMIT and len(np.unique(x)) > 4
        treatment, points = "none", 0
        if flagged and method == "winsorise":
            y = np.sort(x)
            high = s > 0
            while points < WINSOR_MAX_POINTS and _outlying(y):
                points += 1
                if high:
                    y[-points:] = y[-points - 1]
                else:
                    y[:points] = y[points]
            if _outlying(y):
                # COINr's fallback: five points were not enough, log-transform instead.
                treatment, points = "log (winsorising 5 points was not enough)", 0
                shift[k] = float(np.min(x))
            else:
                treatment = f"winsorised {points} point(s) at the {'top' if high else 'bottom'}"
                if high:
                    caps[1, k] = y[-1]
                else:
                    caps[0, k] = y[0]
        elif flagged and method == "log":
            treatment = "log"
            shift[k] = float(np.min(x))
        elif flagged:
            treatment = "none (outliers kept: outliers = none)"
        after = _treat(X[:, k : k + 1], caps[:, k : k + 1], shift[k : k + 1])[:, 0]
        s2, k2 = _skew_kurt(after[~np.isnan(after)])
        rows.append(
            {
                "indicator": code,
                "skewness": s,
                "kurtosis": kt,
                "outlying": flagged,
                "treatment": treatment,
                "points": points,
                "skewness_after": s2,
                "kurtosis_after": k2,
            }
        )
    return pd.DataFrame(rows), caps, shift


def _treat(X: np.ndarray, caps: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Apply the planned outlier treatment; indicators on the last axis (of caps too)."""
    out = np.clip(X, caps[0], caps[1])
    logged = ~np.isnan(shift)
    if logged.any():
        # COINr's log(x - min + 1); values below the planned minimum (noise) clamp at log 1.
        lx = np.log(np.maximum(out - np.where(logged, shift, 0.0), 0.0) + 1.0)
        out = np.where(logged, lx, out)
    return out


def _prepare(data: IndicatorSet, s: RankingSettings) -> _Prepared:
    codes = list(data.values.columns)
    meta = data.meta.loc[codes]
    partners = [str(p) for p in data.values.index]
    X = data.values.to_numpy(dtype=float)
    lower = data.lower.to_numpy(dtype=float) if data.lower is not None else np.full_like(X, np.nan)
    upper = data.upper.to_numpy(dtype=float) if data.upper is not None else np.full_like(X, np.nan)
    observed = ~np.isnan(X)
    censored = ~observed & ~np.isnan(upper)
    lower = np.where(censored & np.isnan(lower), 0.0, lower)  # a top-N bound: at least zero
    if (censored & (lower > upper)).any():
        raise ValueError("a censored cell has lower > upper bound")
    empty = [c for c, k in zip(codes, range(len(codes)), strict=True) if not observed[:, k].any()]
    if empty:
        raise ValueError(f"indicators without any observed value: {empty}; drop them first")
    weights = effective_weights(meta, s)
    pillars = list(dict.fromkeys(meta["pillar"]))
    pillar_of = np.array([pillars.index(p) for p in meta["pillar"]])
    membership = np.zeros((len(codes), len(pillars)))
    membership[np.arange(len(codes)), pillar_of] = 1.0
    v = weights["weight_in_pillar"].to_numpy()
    pw = weights.drop_duplicates("pillar").set_index("pillar")["pillar_weight"]
    pw = pw.reindex(pillars).to_numpy()
    hub = np.array([p in data.hubs for p in partners])
    sensitive = (
        meta["hub_sensitive"].fillna(False).astype(bool).to_numpy()
        if "hub_sensitive" in meta
        else np.zeros(len(codes), bool)
    )
    noisy = (
        meta["noisy"].fillna(True).astype(bool).to_numpy()
        if "noisy" in meta
        else np.ones(len(codes), bool)
    )
    hub_cells = hub[:, None] & sensitive[None, :]
    base = np.where(censored, lower, X)

    def discount(x: np.ndarray, cells: np.ndarray) -> np.ndarray:
        # Only positive values shrink: halving a net disinvestment would reward it.
        return np.where(cells & (x > 0), x * s.hub_discount, x)

    X_hub = np.stack([base, discount(base, hub_cells), np.where(hub_cells, np.nan, base)])
    ci, ck = np.nonzero(censored)
    hc = hub_cells[ci, ck]
    lo, hi = lower[ci, ck], upper[ci, ck]
    lo_hub = np.stack([lo, discount(lo, hc), np.where(hc, np.nan, lo)])
    hi_hub = np.stack([hi, discount(hi, hc), np.where(hc, np.nan, hi)])
    available = (observed | censored).astype(float)
    pcov = (available * v) @ membership
    outliers, caps, shift = _outlier_plan(X, codes, s.outliers)
    return _Prepared(
        partners=partners,
        codes=codes,
        pillars=pillars,
        pillar_of=pillar_of,
        membership=membership,
        directions=meta["direction"].to_numpy(dtype=float),
        weights=weights,
        w=weights["effective_weight"].to_numpy(),
        pw=pw,
        v=v,
        X_hub=X_hub,
        Xt_hub=np.ascontiguousarray(np.swapaxes(X_hub, -1, -2)),
        cens_idx=(ci, ck),
        lo_hub=lo_hub,
        hi_hub=hi_hub,
        noisy=noisy,
        observed=observed,
        censored=censored,
        hub_cells=hub_cells,
        hub=hub,
        pillar_coverage=pcov,
        coverage=(available * weights["effective_weight"].to_numpy()).sum(axis=1),
        outliers=outliers,
        caps=caps,
        log_shift=shift,
        treated=np.isfinite(caps).any(axis=0) | ~np.isnan(shift),
        gap_cols=(~(observed | censored)).any(axis=0) | (hub_cells.any(axis=0)),
    )


# --- draws and the one evaluation path -------------------------------------------------------


@dataclass
class _Draws:
    """One row per evaluation: the choices and the data perturbations of that run."""

    norm: np.ndarray  # (n,) index into NORMALISATIONS
    agg: np.ndarray  # (n,) index into AGGREGATIONS
    imp: np.ndarray  # (n,) index into IMPUTATIONS
    hub: np.ndarray  # (n,) index into HUB_TREATMENTS
    coverage: np.ndarray  # (n,) threshold
    weights: np.ndarray  # (n, K) effective weights
    noise: np.ndarray | None = None  # (n, K, P) log multipliers
    censored_u: np.ndarray | None = None  # (n, C) or (n, 1) position in [lower, upper]

    def __len__(self) -> int:
        return len(self.norm)


def _nominal_draws(prep: _Prepared, s: RankingSettings, weights: np.ndarray | None = None):
    w = prep.w[None, :] if weights is None else np.atleast_2d(weights)
    n = len(w)
    return _Draws(
        norm=np.full(n, NORMALISATIONS.index(s.normalisation)),
        agg=np.full(n, AGGREGATIONS.index(s.aggregation)),
        imp=np.full(n, IMPUTATIONS.index(s.imputation)),
        hub=np.full(n, HUB_TREATMENTS.index(s.hub_treatment)),
        coverage=np.full(n, s.pillar_coverage),
        weights=w,
    )


def _groups(index: np.ndarray):
    """(value, selector) per distinct value; a slice when every row shares it (no copy)."""
    values = np.unique(index)
    if len(values) == 1:
        yield int(values[0]), slice(None)
        return
    for val in values:
        yield int(val), index == val


def _impute(Z: np.ndarray, method: str, prep: _Prepared) -> np.ndarray:
    """Fill NaN cells of normalised ``Z`` (..., K, P) by ``method``, in place where possible.

    Only the columns that can have gaps are touched (the rest are complete by construction).
    """
    cols = np.flatnonzero(prep.gap_cols)
    if not len(cols):
        return Z
    full = len(cols) == Z.shape[-2]
    Zc = Z if full else Z[..., cols, :]
    gap = np.isnan(Zc)
    if not gap.any():
        return Z
    worst = np.fmin.reduce(Zc, axis=-1, keepdims=True)
    if method == "worst":
        fill = worst
    elif method == "median":
        srt = np.sort(Zc, axis=-1)  # NaN last
        cnt = (~gap).sum(axis=-1, keepdims=True)
        lo = np.take_along_axis(srt, np.maximum(cnt - 1, 0) // 2, axis=-1)
        hi = np.take_along_axis(srt, cnt // 2, axis=-1)
        fill = (lo + hi) / 2
    elif method == "pillar_mean":
        # Only the pillars that hold a gap column are needed.
        need = np.unique(prep.pillar_of[cols])
        M = prep.membership[:, need].astype(Z.dtype)
        members = np.flatnonzero(M.any(axis=1))
        Zm = Z[..., members, :]
        gm = np.isnan(Zm)
        Mt = np.ascontiguousarray(M[members].T)  # (pillars, members): a batched matmul
        sums = Mt @ np.where(gm, 0, Zm)
        counts = Mt @ (~gm).astype(Z.dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = sums / counts
        fill = mean[..., np.searchsorted(need, prep.pillar_of[cols]), :]
        fill = np.where(np.isnan(fill), worst, fill)  # nothing in the pillar: worst
    else:
        raise ValueError(f"imputation must be one of {IMPUTATIONS}, got {method!r}")
    if full:
        np.copyto(Z, np.broadcast_to(fill, Z.shape), where=gap)  # in place, no temporary
    else:
        Z[..., cols, :] = np.where(gap, fill, Zc)
    return Z


def _data(prep: _Prepared, h: int, d: _Draws, rows: np.ndarray | slice, dtype) -> np.ndarray:
    """The raw data of draws ``rows`` (all with hub treatment ``h``): (g, K, P).

    Censored cells take their position in the interval, noise multiplies, the planned
    outlier treatment applies.
    """
    base = prep.Xt_hub[h].astype(dtype)
    if d.noise is not None:
        X = np.exp(d.noise[rows], dtype=dtype)
        X *= base
    else:
        X = np.repeat(base[None], len(d.norm[rows]), axis=0)
    ci, ck = prep.cens_idx
    if d.censored_u is not None and len(ci):
        lo, hi = prep.lo_hub[h], prep.hi_hub[h]
        X[:, ck, ci] = lo + d.censored_u[rows] * (hi - lo)
        if d.noise is not None:
            X[:, ck, ci] *= np.exp(d.noise[rows][:, ck, ci])
    treated = np.flatnonzero(prep.treated)
    if len(treated):
        Xk = np.swapaxes(X[:, treated, :], -1, -2)
        X[:, treated, :] = np.swapaxes(
            _treat(Xk, prep.caps[:, treated], prep.log_shift[treated]), -1, -2
        )
    return X


#: Draws evaluated together (see :func:`_evaluate`): 256 x 15 x 40 float32 values are 600 KB.
_CHUNK_ROWS = 256
#: Below this many cells (draws x indicators x partners), one thread: threads cost more.
_THREADED_CELLS = 200_000


def _threads() -> int:
    """Threads for the Monte Carlo: the CPUs this process may use (``MITRA_THREADS`` caps)."""
    import os

    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    cap = os.environ.get("MITRA_THREADS", "")
    return max(1, min(cpus, int(cap))) if cap.isdigit() else cpus


def _evaluate(prep: _Prepared, d: _Draws, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Scores (n, P) and whether each partner qualifies (n, P) in every draw.

    Used for the nominal index (one draw), the Monte Carlo, the Sobol design and the
    indicator-removal test: one code path for all. Works with partners on the last axis
    (float32 for the Monte Carlo and Sobol, float64 for the nominal index). Draws are
    processed in groups of identical method choices (sorted, so each group is a contiguous
    slice) and the scores returned in the original order.
    """
    n = len(d)
    nn, na, ni = len(NORMALISATIONS), len(AGGREGATIONS), len(IMPUTATIONS)
    key = ((d.hub * ni + d.imp) * na + d.agg) * nn + d.norm
    runs = np.count_nonzero(np.diff(key)) + 1
    # Monte Carlo draws arrive grouped (runs of equal choices): slices, no copies. Other
    # designs (Sobol) are sorted first and the scores put back in order.
    order = np.arange(n) if runs <= 2 * len(np.unique(key)) else np.argsort(key, kind="stable")
    key = key[order]
    bounds = np.flatnonzero(np.diff(key)) + 1
    starts = np.r_[0, bounds]
    ends = np.r_[bounds, n]
    W = d.weights[order].astype(dtype)
    scores = np.empty((n, len(prep.partners)), dtype=dtype)

    def group(a: int, b: int) -> None:
        k = int(key[a])
        m, k = k % nn, k // nn
        ag, k = k % na, k // na
        im, h = k % ni, k // ni
        rows = order[a:b]
        if rows[-1] - rows[0] == b - a - 1:  # contiguous: a slice is a view, not a copy
            rows = slice(int(rows[0]), int(rows[-1]) + 1)
        X = _data(prep, h, d, rows, dtype)
        Z = _normalise(X, NORMALISATIONS[m], prep.directions[:, None])
        Z = _impute(Z, IMPUTATIONS[im], prep)
        scores[rows] = _aggregate(Z, W[a:b], AGGREGATIONS[ag], NORMALISATIONS[m])

    # Each group in chunks of rows, spread over threads (numpy releases the GIL in its loops).
    # Every step works row by row and each chunk writes its own rows of ``scores``, so the
    # scores are bit-identical whatever the chunking and the number of threads (a test checks).
    tasks = [
        (c, min(c + _CHUNK_ROWS, b))
        for a, b in zip(starts, ends, strict=True)
        for c in range(a, b, _CHUNK_ROWS)
    ]
    threads = min(_threads(), len(tasks))
    if threads > 1 and n * len(prep.codes) * len(prep.partners) >= _THREADED_CELLS:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads) as pool:
            for _ in pool.map(lambda t: group(*t), tasks):
                pass
    else:
        for a, b in tasks:
            group(a, b)
    weighted = prep.pw > 0
    worst_cov = prep.pillar_coverage[:, weighted].min(axis=1)  # (P,)
    qualifies = worst_cov[None, :] >= d.coverage[:, None] - 1e-12
    return scores, qualifies


def _ranks(scores: np.ndarray, qualifies: np.ndarray) -> np.ndarray:
    """Ranks among the partners that meet the draw's coverage rule (float; NaN: not ranked).

    A partner a stricter threshold drops is not "last" in that draw: it is not ranked, and
    the others are ranked among those that remain.
    """
    r = ranks_from_scores(np.where(qualifies, scores, -np.inf)).astype(float)
    return np.where(qualifies, r, np.nan)


def _dirichlet_weights(
    prep: _Prepared, s: RankingSettings, gp: np.ndarray, gi: np.ndarray
) -> np.ndarray:
    """Effective weights from gamma variates at pillar (n, Pl) and indicator (n, K) level."""
    pw = gp / gp.sum(axis=1, keepdims=True)
    sums = gi @ prep.membership
    v = gi / np.where(sums > 0, sums, 1.0)[:, prep.pillar_of]
    return pw[:, prep.pillar_of] * v


def _alphas(prep: _Prepared, s: RankingSettings) -> tuple[np.ndarray, np.ndarray]:
    """Dirichlet parameters centred on the nominal weights (zero weights stay zero)."""
    c = s.weight_concentration
    ap = c * len(prep.pw) * prep.pw
    sizes = prep.membership.sum(axis=0)[prep.pillar_of]
    ai = c * sizes * prep.v
    return ap, ai


def _random_draws(prep: _Prepared, s: RankingSettings, n: int, rng: np.random.Generator):
    ap, ai = _alphas(prep, s)
    gp = np.where(ap > 0, rng.standard_gamma(np.maximum(ap, 1e-9), size=(n, len(ap))), 0.0)
    gi = np.where(ai > 0, rng.standard_gamma(np.maximum(ai, 1e-9), size=(n, len(ai))), 0.0)
    P, K = len(prep.partners), len(prep.codes)
    noise = None
    if s.noise > 0:
        # Uniform on the log scale with standard deviation ``noise`` (half-width sqrt(3)
        # noise), the usual perturbation in composite-indicator uncertainty analysis
        # (Saisana, Saltelli & Tarantola 2005); uniform variates are also the cheap ones.
        width = (2 * np.sqrt(3.0) * s.noise * prep.noisy).astype(np.float32)[:, None]
        noise = rng.random((n, K, P), dtype=np.float32)
        noise -= np.float32(0.5)
        noise *= width
    choice = lambda options, table: np.array([table.index(o) for o in options])[  # noqa: E731
        rng.integers(len(options), size=n)
    ]
    levels = np.array(s.coverage_levels)
    norm, agg = (
        choice(s.mc_normalisations, NORMALISATIONS),
        choice(s.mc_aggregations, AGGREGATIONS),
    )
    imp, hub = choice(s.mc_imputations, IMPUTATIONS), choice(s.mc_hub_treatments, HUB_TREATMENTS)
    # Every component is drawn independently, so sorting the method choices within each
    # half keeps the distribution (and keeps the halves independent for the convergence
    # check) while letting the evaluation work on contiguous slices.
    key = ((hub * len(IMPUTATIONS) + imp) * len(AGGREGATIONS) + agg) * len(NORMALISATIONS) + norm
    half_n = n // 2
    order = np.r_[
        np.argsort(key[:half_n], kind="stable"), half_n + np.argsort(key[half_n:], kind="stable")
    ]
    return _Draws(
        norm=norm[order],
        agg=agg[order],
        imp=imp[order],
        hub=hub[order],
        coverage=levels[rng.integers(len(levels), size=n)],
        weights=_dirichlet_weights(prep, s, gp, gi),
        noise=noise,
        censored_u=rng.random((n, len(prep.cens_idx[0]))),
    )


# --- Sobol -----------------------------------------------------------------------------------

SOBOL_CHOICES = (
    "normalisation",
    "aggregation",
    "imputation",
    "coverage threshold",
    "hub treatment",
    "pillar weights",
    "indicator weights",
    "indicator noise",
    "censored values",
)
_NOISE_FIELDS = 64  # the noise factor picks one of these seeded fields


def _sobol_problem(prep: _Prepared) -> dict:
    names, groups = [], []
    for choice in SOBOL_CHOICES:
        width = {"pillar weights": len(prep.pillars), "indicator weights": len(prep.codes)}.get(
            choice, 1
        )
        for j in range(width):
            names.append(f"{choice} {j}" if width > 1 else choice)
            groups.append(choice)
    return {
        "num_vars": len(names),
        "names": names,
        "bounds": [[0.0, 1.0]] * len(names),
        "groups": groups,
    }


def _sobol_draws(prep: _Prepared, s: RankingSettings, U: np.ndarray) -> _Draws:
    """Map a unit-hypercube design onto choices: categories by floor, weights by gamma ppf."""
    col = 0

    def cat(options: Sequence[str], table: Sequence[str]) -> np.ndarray:
        nonlocal col
        u = U[:, col]
        col += 1
        idx = np.minimum((u * len(options)).astype(int), len(options) - 1)
        return np.array([table.index(o) for o in options])[idx]

    norm = cat(s.mc_normalisations, NORMALISATIONS)
    agg = cat(s.mc_aggregations, AGGREGATIONS)
    imp = cat(s.mc_imputations, IMPUTATIONS)
    levels = np.array(s.coverage_levels)
    coverage = levels[np.minimum((U[:, col] * len(levels)).astype(int), len(levels) - 1)]
    col += 1
    hub = cat(s.mc_hub_treatments, HUB_TREATMENTS)
    ap, ai = _alphas(prep, s)
    Up = np.clip(U[:, col : col + len(ap)], 1e-12, 1 - 1e-12)
    col += len(ap)
    Ui = np.clip(U[:, col : col + len(ai)], 1e-12, 1 - 1e-12)
    col += len(ai)
    gp = np.where(ap > 0, stats.gamma.ppf(Up, np.maximum(ap, 1e-9)), 0.0)
    gi = np.where(ai > 0, stats.gamma.ppf(Ui, np.maximum(ai, 1e-9)), 0.0)
    field_idx = np.minimum((U[:, col] * _NOISE_FIELDS).astype(int), _NOISE_FIELDS - 1)
    col += 1
    noise = None
    if s.noise > 0:
        rng = np.random.default_rng(s.seed + 1)
        shape = (_NOISE_FIELDS, len(prep.codes), len(prep.partners))
        half = np.float32(np.sqrt(3.0) * s.noise)  # as in the Monte Carlo: uniform, sd noise
        fields = (2 * rng.random(shape, dtype=np.float32) - 1) * half
        noise = fields[field_idx] * prep.noisy.astype(np.float32)[:, None]
    censored_u = U[:, col : col + 1]  # one common quantile for every censored cell
    return _Draws(
        norm, agg, imp, hub, coverage, _dirichlet_weights(prep, s, gp, gi), noise, censored_u
    )


def sobol_indices(
    Y: np.ndarray, groups: int, resamples: int, seed: int, conf: float = 0.95
) -> pd.DataFrame:
    """First-order and total Sobol indices of many outputs, pooled, with bootstrap intervals.

    ``Y`` (runs, outputs) is ordered as SALib's ``sobol.sample`` without second order:
    blocks of ``groups + 2`` rows (A, AB_1..AB_g, B). Per output, Saltelli et al. (2010)
    first-order and Jansen total-effect estimators (as SALib computes them); pooled over
    outputs as the share of the summed output variance, so partners whose rank never moves
    weigh nothing. Intervals: percentile bootstrap over the base rows.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``S1, S1_lo, S1_hi, ST, ST_lo, ST_hi``.
    """
    step = groups + 2
    Y = Y - Y.mean(axis=0)  # centred, as SALib does: the first-order estimator needs it
    A, B = Y[0::step], Y[step - 1 :: step]
    AB = np.stack([Y[j + 1 :: step] for j in range(groups)])  # (g, N, outputs)

    def pooled(idx: np.ndarray | slice):
        a, b, ab = A[idx], B[idx], AB[:, idx]
        var = np.concatenate([a, b], axis=-2).var(axis=-2).sum(axis=-1)  # (...,)
        var = np.where(var > 0, var, np.nan)
        v1 = (b[None] * (ab - a[None])).mean(axis=-2).sum(axis=-1)
        vt = 0.5 * ((a[None] - ab) ** 2).mean(axis=-2).sum(axis=-1)
        return v1 / var, vt / var

    s1, st = pooled(slice(None))
    rng = np.random.default_rng(seed)
    N = len(A)
    boot = rng.integers(N, size=(resamples, N))
    b1 = np.empty((resamples, groups))
    bt = np.empty((resamples, groups))
    for r in range(resamples):
        b1[r], bt[r] = pooled(boot[r])
    q = [(1 - conf) / 2, (1 + conf) / 2]
    if np.isnan(b1).all():  # no output varies: the indices are undefined
        lo1 = hi1 = lot = hit = np.full(groups, np.nan)
    else:
        lo1, hi1 = np.nanquantile(b1, q, axis=0)
        lot, hit = np.nanquantile(bt, q, axis=0)
    return pd.DataFrame(
        {"S1": s1, "S1_lo": lo1, "S1_hi": hi1, "ST": st, "ST_lo": lot, "ST_hi": hit}
    )


def _sobol(prep: _Prepared, s: RankingSettings, ranked: np.ndarray) -> pd.DataFrame:
    """Sobol indices of the nominally ranked partners' ranks for every choice."""
    from SALib.sample import sobol as sobol_sample

    problem = _sobol_problem(prep)
    U = sobol_sample.sample(problem, s.sobol_base, calc_second_order=False, seed=s.seed)
    scores, qual = _evaluate(prep, _sobol_draws(prep, s, U))
    # The output is every partner's rank; a partner that some coverage threshold drops has
    # no rank in those runs, so the indices pool the partners ranked in every run.
    pool = ranked & qual.all(axis=0)
    Y = _ranks(scores, qual)[:, pool]
    out = sobol_indices(Y, len(SOBOL_CHOICES), s.sobol_resamples, s.seed)
    out.insert(0, "choice", SOBOL_CHOICES)
    out["runs"] = len(U)
    out["partners"] = int(pool.sum())
    return out


# --- audit -----------------------------------------------------------------------------------


@dataclass
class RankingAudit:
    """COINr-style statistical audit of the index.

    Attributes
    ----------
    correlations
        Spearman correlations between normalised indicators (pairwise complete).
    pillars
        Per pillar: indicators, mean correlation within the pillar, Cronbach's alpha, share
        of variance on the first principal component, correlation with the index.
    pillar_correlations
        Spearman correlations between pillar scores and with the index.
    outliers
        Per indicator: skewness, kurtosis, outlying (COINr rule), treatment, points treated.
    removal
        Per indicator: how ranks move when it is dropped (weights renormalised within its
        pillar): mean and largest absolute change and Kendall's tau against the nominal.
    """

    correlations: pd.DataFrame
    pillars: pd.DataFrame
    pillar_correlations: pd.DataFrame
    outliers: pd.DataFrame
    removal: pd.DataFrame


def _cronbach(Zp: np.ndarray) -> float:
    k = Zp.shape[1]
    if k < 2:
        return np.nan
    item_var = Zp.var(axis=0, ddof=1).sum()
    total_var = Zp.sum(axis=1).var(ddof=1)
    return float(k / (k - 1) * (1 - item_var / total_var)) if total_var > 0 else np.nan


def _pca_share(Zp: np.ndarray) -> float:
    if Zp.shape[1] < 2 or (Zp.std(axis=0) == 0).any():
        return np.nan
    ev = np.linalg.eigvalsh(np.corrcoef(Zp, rowvar=False))
    return float(ev[-1] / ev.sum()) if np.isfinite(ev).all() and ev.sum() > 0 else np.nan


def _audit(
    prep: _Prepared,
    s: RankingSettings,
    Z: np.ndarray,
    Zraw: np.ndarray,
    pillar_scores: pd.DataFrame,
    index: pd.Series,
    nominal_rank: np.ndarray,
    ranked: np.ndarray,
) -> RankingAudit:
    labels = list(prep.codes)
    Zobs = pd.DataFrame(np.where(prep.observed, Zraw, np.nan), index=prep.partners, columns=labels)
    corr = Zobs.corr(method="spearman", min_periods=5)
    rows = []
    for j, p in enumerate(prep.pillars):
        members = [c for c, q in zip(labels, prep.pillar_of, strict=True) if q == j]
        sub = corr.loc[members, members].to_numpy()
        off = sub[~np.eye(len(members), dtype=bool)]
        complete = Z[ranked][:, prep.pillar_of == j]  # imputed matrix of ranked partners
        rows.append(
            {
                "pillar": p,
                "indicators": len(members),
                "mean_correlation_within": float(np.nanmean(off)) if off.size else np.nan,
                "cronbach_alpha": _cronbach(complete),
                "pca_first_share": _pca_share(complete),
                "correlation_with_index": float(
                    pillar_scores[p][ranked].corr(index[ranked], method="spearman")
                ),
            }
        )
    pcorr = pd.concat([pillar_scores[ranked], index[ranked].rename("index")], axis=1).corr(
        method="spearman"
    )
    # Indicator removal: one draw per indicator with its weight zeroed (renormalised within
    # its pillar; a pillar losing its only indicator gives its weight to the others).
    Wrem = []
    for code in labels:
        iw = {c: float(s.indicator_weights.get(c, 1.0)) for c in labels}
        iw[code] = 0.0
        try:
            w = effective_weights(_prep_meta(prep), replace(s, indicator_weights=iw))
        except ValueError:
            w = None
        Wrem.append(prep.w * 0 if w is None else w["effective_weight"].to_numpy())
    scores, _ = _evaluate(prep, _nominal_draws(prep, s, np.array(Wrem)), np.float64)
    # Ranks among the nominally ranked partners only, so changes are like for like.
    r = ranks_from_scores(scores[:, ranked])
    ref = nominal_rank[ranked]
    delta = np.abs(r - ref[None, :])
    removal = pd.DataFrame(
        {
            "indicator": labels,
            "mean_abs_rank_change": delta.mean(axis=1),
            "max_abs_rank_change": delta.max(axis=1),
            "kendall_tau": kendall_tau(ref, r),
        }
    )
    return RankingAudit(corr, pd.DataFrame(rows), pcorr, prep.outliers.copy(), removal)


def _prep_meta(prep: _Prepared) -> pd.DataFrame:
    """The (pillar, label) frame of a prepared set, for :func:`effective_weights`."""
    return pd.DataFrame(
        {"pillar": prep.weights["pillar"].to_numpy(), "label": prep.weights["label"].to_numpy()},
        index=pd.Index(prep.codes),
    )


# --- result ----------------------------------------------------------------------------------


@dataclass
class RankingResult:
    """Nominal index, pillar scores, rank bands, Sobol indices and audit for one sector.

    ``table`` is the source of truth: one row per partner with ``partner_iso3, rank,
    median_rank, rank_p05, rank_p95, score, coverage, status, hub``, plus ``imputed``
    (indicators imputed for the partner) and ``censored`` (indicators entered as bounds).
    """

    settings: RankingSettings
    data: IndicatorSet
    table: pd.DataFrame
    pillar_scores: pd.DataFrame  # long: partner_iso3, pillar, score, coverage, imputed, ...
    weights: pd.DataFrame  # effective_weights()
    cells: pd.DataFrame  # long: partner x indicator, value, status, flags
    drivers: pd.DataFrame  # partners x indicators: contribution vs the average partner
    stability: pd.DataFrame
    convergence: pd.DataFrame
    sobol: pd.DataFrame
    audit: RankingAudit | None
    mc_ranks: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))
    fingerprint: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ranked(self) -> pd.DataFrame:
        """Ranked partners, best first."""
        return self.table[self.table["status"] == "ranked"].sort_values("rank")

    def to_frame(self) -> pd.DataFrame:
        """The ranking table (one row per partner)."""
        return self.table.copy()

    @property
    def converged(self) -> bool:
        """Whether the rank bands at N and 2N draws agree (every band end within one rank)."""
        c = self.convergence
        return bool(len(c) == 0 or (c["max_band_shift"] <= 1).all())

    def summary(self) -> Summary:
        """Settings, the ranking with bands, effective weights, Sobol indices and notes."""
        settings = {
            k: v
            for k, v in asdict(self.settings).items()
            if not k.startswith("mc_") and k not in ("pillar_weights", "indicator_weights")
        }
        pw = self.weights.drop_duplicates("pillar").set_index("pillar")["pillar_weight"]
        settings["pillar weights"] = {str(k): round(float(v), 3) for k, v in pw.items()}
        settings["fingerprint"] = self.fingerprint
        cols = [
            "partner_iso3",
            "rank",
            "median_rank",
            "rank_p05",
            "rank_p95",
            "score",
            "coverage",
            "hub",
            "imputed",
            "censored",
        ]
        cols += ["ranked_share"] if "ranked_share" in self.table else []
        return Summary(
            title="Partner ranking",
            settings=settings,
            tables=[
                ("Ranks with 5-95 % Monte Carlo bands", self.ranked[cols].round(3)),
                ("Effective weights", self.weights.round(3)),
                ("Sobol indices of the ranks (95 % bootstrap intervals)", self.sobol.round(3)),
                ("Rank stability against the nominal ranking", self.stability.round(3)),
                (
                    "Not ranked (pillar coverage below the rule)",
                    self.table[self.table["status"] != "ranked"][
                        ["partner_iso3", "coverage", "missing_pillars"]
                    ],
                ),
            ],
            notes=self.notes,
        )

    def profile(self, partner: str) -> Summary:
        """One-page view of a partner: score, rank band, pillar scores, indicator cells."""
        row = self.table.set_index("partner_iso3").loc[partner]
        cells = self.cells[self.cells["partner_iso3"] == partner]
        pil = self.pillar_scores[self.pillar_scores["partner_iso3"] == partner]
        return Summary(
            title=f"Partner profile: {partner}",
            settings={
                "status": row["status"],
                "score": round(float(row["score"]), 3) if pd.notna(row["score"]) else "n/a",
                "rank": row["rank"],
                "rank band (5-95 %)": f"{row['rank_p05']:.0f}-{row['rank_p95']:.0f}",
                "hub": row["hub"] or "no",
            },
            tables=[
                ("Pillar scores", pil.drop(columns="partner_iso3").round(3)),
                (
                    "Indicators",
                    cells.drop(columns="partner_iso3").assign(
                        indicator=cells["indicator"].map(self.data.meta["label"])
                    ),
                ),
            ],
        )

    # Figures are drawn by the presentation layer: analysis.plots.plot_rank_bands(result)
    # and plot_drivers(result) (models draw no figures).


def _cells(
    data: IndicatorSet, prep: _Prepared, s: RankingSettings, Z: np.ndarray, gap: np.ndarray
) -> pd.DataFrame:
    """Long table of every partner x indicator: value, bound, year, status and flags."""
    P, K = Z.shape
    lower = prep.X_hub[0]  # censored cells hold their lower bound here
    upper = data.upper.to_numpy(dtype=float) if data.upper is not None else np.full((P, K), np.nan)
    years = (
        data.years.reindex(index=data.values.index, columns=prep.codes).to_numpy()
        if data.years is not None
        else np.full((P, K), np.nan)
    )
    status = np.where(prep.observed, "observed", np.where(prep.censored, "censored", "missing"))
    given = (
        data.cell_notes.reindex(index=data.values.index, columns=prep.codes).fillna("").to_numpy()
        if data.cell_notes is not None
        else np.full((P, K), "", dtype=object)
    )
    rows = []
    for i, partner in enumerate(prep.partners):
        for k, code in enumerate(prep.codes):
            flags = [str(given[i, k])] if given[i, k] else []
            if prep.censored[i, k]:
                flags.append(
                    f"interval [{lower[i, k]:g}, {upper[i, k]:g}]: nominal uses the lower "
                    "bound, the Monte Carlo draws inside"
                )
            if gap[i, k]:
                flags.append(f"imputed ({s.imputation})")
            if prep.hub_cells[i, k] and s.hub_treatment != "as_is":
                flags.append(f"hub: {s.hub_treatment}")
            rows.append(
                {
                    "partner_iso3": partner,
                    "indicator": code,
                    "pillar": prep.weights["pillar"].iat[k],
                    "value": data.values.iat[i, k],
                    "upper_bound": upper[i, k],
                    "year": years[i, k],
                    "status": status[i, k],
                    "normalised": Z[i, k],
                    "flags": "; ".join(flags),
                }
            )
    return pd.DataFrame(rows)


def _join(codes: Sequence[str], mask: np.ndarray) -> str:
    return ", ".join(c for c, m in zip(codes, mask, strict=True) if m)


def rank_partners(
    data: IndicatorSet,
    settings: RankingSettings | None = None,
    *,
    uncertainty: bool = True,
    sensitivity: bool = True,
    audit: bool = True,
) -> RankingResult:
    """Nominal ranking, Monte Carlo rank bands, Sobol indices, audit and drivers.

    Parameters
    ----------
    data
        The indicator set (values, bounds, documentation, hubs).
    settings
        The choices; default :class:`RankingSettings`.
    uncertainty, sensitivity, audit
        Skip the Monte Carlo, the Sobol design or the audit (the what-if view does, for
        speed); skipped parts are empty.

    Returns
    -------
    RankingResult
    """
    s = settings or RankingSettings()
    notes: list[str] = list(data.notes)
    available = data.values.notna()
    if data.upper is not None:
        available |= data.upper.notna()
    share = available.mean()
    sparse = [c for c in data.values.columns if share[c] < s.min_indicator_coverage]
    if sparse:
        labels = data.meta.loc[sparse, "label"]
        notes.append(
            "Left out for coverage below "
            f"{s.min_indicator_coverage:.0%} of the candidates: "
            + "; ".join(f"{lab} ({share[c]:.0%})" for c, lab in labels.items())
            + "."
        )
        data = data.drop(sparse)
    prep = _prepare(data, s)
    P, codes = len(prep.partners), prep.codes
    nominal = _nominal_draws(prep, s)
    scores, qual = _evaluate(prep, nominal, np.float64)
    score, ok = scores[0].astype(float), qual[0]
    nominal_rank = _ranks(scores, qual)[0]

    # The nominal normalised and imputed matrix, for pillar scores, drivers and the audit.
    Xt = _data(prep, int(nominal.hub[0]), nominal, np.array([0]), np.float64)
    Zt = _normalise(Xt, s.normalisation, prep.directions[:, None])
    Zraw = Zt[0].T.copy()
    Z = _impute(Zt, s.imputation, prep)[0].T
    gap = np.isnan(Zraw)  # imputed cells (missing data and hub exclusions)
    v = prep.v
    with np.errstate(invalid="ignore", divide="ignore"):
        if s.aggregation == "geometric":
            P_ = np.log(_positive(Z, s.normalisation)) * v
            pil = np.exp(P_ @ prep.membership / (v @ prep.membership))
        else:
            pil = (Z * v) @ prep.membership / (v @ prep.membership)
    pil_frame = pd.DataFrame(pil, index=prep.partners, columns=prep.pillars)

    rows = []
    for j, p in enumerate(prep.pillars):
        members = prep.pillar_of == j
        for i, partner in enumerate(prep.partners):
            has = prep.pillar_coverage[i, j] >= s.pillar_coverage - 1e-12
            rows.append(
                {
                    "partner_iso3": partner,
                    "pillar": p,
                    "score": pil[i, j] if has else np.nan,
                    "coverage": prep.pillar_coverage[i, j],
                    "status": "scored" if has else "insufficient data",
                    "imputed": _join(codes, gap[i] & members & ~prep.hub_cells[i]),
                    "hub_excluded": _join(codes, gap[i] & members & prep.hub_cells[i]),
                    "censored": _join(codes, prep.censored[i] & members),
                }
            )
    pillar_scores = pd.DataFrame(rows)

    # Cells: every partner x indicator with its status, so every imputed cell is flagged.
    cells = _cells(data, prep, s, Z, gap)
    upper = data.upper

    hub_names = [data.hubs.get(p, "") for p in prep.partners]
    table = pd.DataFrame(
        {
            "partner_iso3": prep.partners,
            "rank": pd.array(np.where(ok, nominal_rank, 0), dtype="Int64"),
            "median_rank": np.nan,
            "rank_p05": np.nan,
            "rank_p95": np.nan,
            "score": np.where(ok, score, np.nan),
            "coverage": prep.coverage,
            "status": np.where(ok, "ranked", "insufficient data"),
            "hub": hub_names,
            "imputed": [_join(codes, gap[i] & ~prep.hub_cells[i]) for i in range(P)],
            "censored": [_join(codes, prep.censored[i]) for i in range(P)],
            "missing_pillars": [
                _join(prep.pillars, prep.pillar_coverage[i] < s.pillar_coverage - 1e-12)
                for i in range(P)
            ],
        }
    )
    table.loc[~ok, "rank"] = pd.NA

    rng = np.random.default_rng(s.seed)
    mc_ranks = np.zeros((0, P))
    stability = pd.DataFrame(columns=["median", "p05", "p95", "draws"])
    convergence = pd.DataFrame()
    if uncertainty:
        draws = _random_draws(prep, s, s.draws, rng)
        mc_scores, mc_qual = _evaluate(prep, draws)
        mc_ranks = _ranks(mc_scores, mc_qual)

        def q(r: np.ndarray, p: float) -> np.ndarray:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # never ranked: all NaN
                return np.nanquantile(r, p, axis=0, method="nearest")

        # Bands over the draws in which the partner is ranked, only for the nominally
        # ranked partners; ``ranked_share`` says in how many draws it is ranked at all.
        table["median_rank"] = np.where(ok, q(mc_ranks, 0.5), np.nan)
        table["rank_p05"] = np.where(ok, q(mc_ranks, 0.05), np.nan)
        table["rank_p95"] = np.where(ok, q(mc_ranks, 0.95), np.nan)
        table["ranked_share"] = mc_qual.mean(axis=0)
        half = mc_ranks[: s.draws // 2]
        convergence = pd.DataFrame(
            {
                "partner_iso3": prep.partners,
                "p05_N": q(half, 0.05),
                "p95_N": q(half, 0.95),
                "median_N": q(half, 0.5),
                "p05_2N": q(mc_ranks, 0.05),
                "p95_2N": q(mc_ranks, 0.95),
                "median_2N": q(mc_ranks, 0.5),
            }
        )[ok]
        convergence["max_band_shift"] = np.maximum(
            np.abs(convergence["p05_N"] - convergence["p05_2N"]),
            np.abs(convergence["p95_N"] - convergence["p95_2N"]),
        )
        taus = kendall_tau(nominal_rank[ok], ranks_from_scores(mc_scores[:, ok]))
        stability = pd.DataFrame(
            {
                "median": [np.median(taus)],
                "p05": [np.quantile(taus, 0.05)],
                "p95": [np.quantile(taus, 0.95)],
                "draws": [len(taus)],
            },
            index=pd.Index(["Kendall tau among ranked partners"], name="measure"),
        )
        shifted = int((convergence["max_band_shift"] > 1).sum())
        notes.append(
            f"Convergence: rank bands from {s.draws // 2} and {s.draws} draws "
            + (
                "agree (every band end within one rank)."
                if shifted == 0
                else f"differ by more than one rank for {shifted} partner(s): raise the draws."
            )
        )

    sobol = pd.DataFrame(columns=["choice", "S1", "S1_lo", "S1_hi", "ST", "ST_lo", "ST_hi"])
    if sensitivity and ok.sum() > 1:
        sobol = _sobol(prep, s, ok)

    drivers = pd.DataFrame(
        prep.w * (Z - Z[ok].mean(axis=0)), index=prep.partners, columns=codes
    ).loc[ok]
    index = pd.Series(score, index=prep.partners)
    aud = (
        _audit(prep, s, Z, Zraw, pil_frame, index, nominal_rank, ok)
        if audit and ok.sum() > 2
        else None
    )

    n_imp = int((gap & ~prep.hub_cells).sum())
    if n_imp:
        notes.append(
            f"{n_imp} missing cell(s) imputed ({s.imputation}); each is listed in the "
            "'imputed' column and flagged in the indicator cells."
        )
    if prep.censored.any():
        notes.append(
            f"{int(prep.censored.sum())} censored cell(s) enter as intervals: the nominal index "
            "uses the lower bound, the Monte Carlo draws a value inside the interval."
        )
    if (~ok).any():
        notes.append(
            f"{int((~ok).sum())} partner(s) lack at least one pillar (coverage below "
            f"{s.pillar_coverage:.0%} of the pillar's weight): not ranked."
        )
    if prep.hub.any():
        notes.append(
            f"Hubs ({', '.join(p for p, h in zip(prep.partners, prep.hub, strict=True) if h)}):"
            f" hub-sensitive indicators counted {s.hub_treatment.replace('_', ' ')}."
        )
    treated = prep.outliers[prep.outliers["treatment"] != "none"]
    for r in treated.itertuples(index=False):
        notes.append(f"Outliers in {r.indicator}: {r.treatment}.")
    fp = data_fingerprint(
        {
            "values": str(pd.util.hash_pandas_object(data.values).sum()),
            "upper": "" if upper is None else str(pd.util.hash_pandas_object(upper).sum()),
            "hubs": repr(sorted(data.hubs)),
            "settings": repr(asdict(s)),
        }
    )
    order = table.assign(_o=table["rank"].fillna(10**6)).sort_values(["_o", "partner_iso3"])
    return RankingResult(
        settings=s,
        data=data,
        table=order.drop(columns="_o").reset_index(drop=True),
        pillar_scores=pillar_scores,
        weights=prep.weights,
        cells=cells,
        drivers=drivers,
        stability=stability,
        convergence=convergence,
        sobol=sobol,
        audit=aud,
        mc_ranks=mc_ranks,
        fingerprint=fp,
        notes=notes,
    )
