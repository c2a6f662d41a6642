"""``rank_partners``: the ranking from indicators and settings to a :class:`RankingResult`."""

from __future__ import annotations

import warnings
from dataclasses import asdict

import numpy as np
import pandas as pd

from analysis.base.i18n import count
from analysis.data.provenance import data_fingerprint

from .audit import _audit
from .core import _normalise, _positive, kendall_tau, ranks_from_scores
from .draws import _data, _evaluate, _impute, _nominal_draws, _random_draws, _ranks
from .inputs import IndicatorSet
from .preparation import _prepare
from .result import RankingResult, _cells, _join
from .settings import RankingSettings
from .sobol import _sobol


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
    Xt = _data(prep, int(nominal.hub[0]), nominal, np.array([0]), np.float64)  # (P, K, 1)
    Zt = _normalise(Xt, s.normalisation, prep.directions[:, None])
    Zraw = Zt[:, :, 0].copy()
    Z = _impute(Zt, s.imputation, prep)[:, :, 0]
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
                else f"differ by more than one rank for {count(shifted, 'partners')}: "
                "raise the draws."
            )
        )

    routed_views = None
    if uncertainty and len(prep.routed_cols):
        routed_views = _routed_views(prep, draws.routed_view, mc_ranks, ok)
        notes.append(
            "Investment routed through a third country: the nominal index takes the recorded "
            "view; each Monte Carlo draw takes the recorded or the ultimate-investor view for "
            "every routed cell at once (half the draws each)."
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
            f"{count(n_imp, 'missing_cells')} imputed ({s.imputation}); each is listed in the "
            "'imputed' column and flagged in the indicator cells."
        )
    if prep.censored.any():
        notes.append(
            f"{count(int(prep.censored.sum()), 'censored_cells')} enter as intervals: the "
            "nominal index uses the lower bound, the Monte Carlo draws a value inside the "
            "interval."
        )
    if (~ok).any():
        notes.append(
            f"{count(int((~ok).sum()), 'partners')} lack at least one pillar (coverage below "
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
        routed_views=routed_views,
    )


def _routed_views(prep, view: np.ndarray, mc_ranks: np.ndarray, ok: np.ndarray) -> pd.DataFrame:
    """Median rank and 5-95 % band of each routed partner under each view of the draws."""
    rows = []
    ci = prep.cens_idx[0]
    for i in sorted({int(ci[j]) for j in prep.routed_cols}):
        for name, sel in (("recorded", ~view), ("ultimate investor", view)):
            r = mc_ranks[sel, i]
            r = r[~np.isnan(r)]
            q = np.quantile(r, [0.5, 0.05, 0.95], method="nearest") if len(r) else [np.nan] * 3
            rows.append({"partner_iso3": prep.partners[i], "view": name, "draws": int(sel.sum()),
                         "median_rank": q[0] if ok[i] else np.nan, "rank_p05": q[1],
                         "rank_p95": q[2]})  # fmt: skip
    return pd.DataFrame(rows)
