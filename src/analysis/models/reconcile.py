"""Coherent forecasts of a hierarchy: PMA + PMDN = total, for point forecasts and every path.

Base forecasts of the total and of its parts are made separately and do not add up. A linear
reconciliation projects them onto the coherent subspace,

    y_tilde = S (S' W^-1 S)^-1 S' W^-1 y_hat,

with S the summing matrix (rows: total, PMA, PMDN; columns: PMA, PMDN) and W the base
forecasts' error covariance. ``mint`` takes the full covariance (MinT, Wickramasuriya et
al. 2019; the caller passes the covariance of the joint base sample paths); ``wls`` takes W
diagonal with each series' forecast variance
(MinT with a diagonal covariance, Wickramasuriya et al. 2019); ``ols`` takes W = I;
``bottom_up`` keeps the parts and sums them. Applied to every joint sample path, the
projection gives coherent paths, whose quantiles are the reconciled intervals (Panagiotelis
et al. 2023).

References
----------
Wickramasuriya, S.L., Athanasopoulos, G. and Hyndman, R.J. (2019), "Optimal forecast
reconciliation for hierarchical and grouped time series through trace minimization", JASA
114(526): 804-819.
Panagiotelis, A., Gamakumara, P., Athanasopoulos, G. and Hyndman, R.J. (2023), "Probabilistic
forecast reconciliation: properties, evaluation and score optimisation", EJOR 306(2): 693-706.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RECONCILE_METHODS", "SUMMING", "reconcile"]

#: Rows: total, PMA, PMDN; columns: the bottom level (PMA, PMDN).
SUMMING = np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
RECONCILE_METHODS = ("mint", "wls", "ols", "bottom_up")


def reconcile(
    base: np.ndarray,
    variances: np.ndarray | None = None,
    method: str = "mint",
    summing: np.ndarray = SUMMING,
) -> np.ndarray:
    """Project base forecasts (last axis: the hierarchy's series) onto coherent values.

    Parameters
    ----------
    base
        Array of shape (..., m): the m series' base forecasts (one vector, or many paths).
    variances
        For ``wls``: shape (m,) or broadcastable to ``base``, the base forecasts' error
        variances. For ``mint``: shape (m, m) or (..., m, m) broadcastable against the
        vectors of ``base``, their covariance. A zero, negative or NaN variance is an error.
    method
        ``mint``, ``wls``, ``ols`` or ``bottom_up``.
    summing
        The m x b summing matrix; the bottom series are its last b rows (identity).

    Returns
    -------
    numpy.ndarray
        Same shape as ``base``; ``summing @ bottom`` holds exactly for every vector.
    """
    base = np.asarray(base, dtype=float)
    s = np.asarray(summing, dtype=float)
    m, b = s.shape
    if base.shape[-1] != m:
        raise ValueError(f"base has {base.shape[-1]} series on its last axis, summing has {m}")
    if method == "bottom_up":
        return base[..., m - b :] @ s.T
    if method == "mint":
        if variances is None:
            raise ValueError("mint reconciliation needs the base forecasts' covariance")
        cov = np.asarray(variances, dtype=float)
        if cov.shape[-2:] != (m, m) or not np.all(np.isfinite(cov)):
            raise ValueError(f"mint needs a finite {m} x {m} covariance, got shape {cov.shape}")
        w_full = np.linalg.inv(cov)  # (..., m, m)
        stw = np.einsum("mb,...mk->...bk", s, w_full)  # S' W^-1
        g = np.linalg.solve(stw @ s, stw)
        bottom = np.einsum("...bm,...m->...b", g, base)
        return bottom @ s.T
    if method == "ols":
        w_inv = np.ones((*base.shape[:-1], m))
    elif method == "wls":
        if variances is None:
            raise ValueError("wls reconciliation needs the base forecasts' variances")
        v = np.broadcast_to(np.asarray(variances, dtype=float), base.shape)
        if not np.all(np.isfinite(v)) or np.any(v <= 0):
            raise ValueError("wls reconciliation needs finite, positive variances")
        w_inv = 1.0 / v
    else:
        raise ValueError(f"unknown method {method!r}; expected one of {RECONCILE_METHODS}")
    # G = (S' W^-1 S)^-1 S' W^-1, one per vector (W differs by horizon).
    stw = np.einsum("mb,...m->...bm", s, w_inv)  # S' W^-1
    a = stw @ s  # (..., b, b)
    g = np.linalg.solve(a, stw)  # (..., b, m)
    bottom = np.einsum("...bm,...m->...b", g, base)
    return bottom @ s.T
