"""The ranking's statistical audit: :class:`RankingAudit` (Cronbach's alpha, PCA shares)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .core import kendall_tau, ranks_from_scores
from .draws import _evaluate, _nominal_draws
from .preparation import _Prepared
from .settings import RankingSettings, effective_weights

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
                "mean_correlation_within": (
                    float(np.nanmean(off)) if np.isfinite(off).any() else np.nan
                ),
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
