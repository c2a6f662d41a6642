"""Interval-censored gravity: a Gamma likelihood with a log-linear mean, optional priors.

A partner absent from a published top-N list is not a zero and not "at the bound": its flow
lies somewhere in ``(0, c)``, where ``c`` is the N-th listed value of that list. PPML cannot
use such an observation (its score needs the outcome), so :func:`fit_censored_gravity`
writes down a likelihood that can:

.. math::

    Y_i \\sim \\text{Gamma}(\\text{shape}=k, \\text{scale}=\\mu_i / k), \\quad
    \\mu_i = E[Y_i] = \\exp(x_i'\\beta + o_i)

so the mean is the gravity equation (as in PPML) and the variance is ``mu^2 / k`` (a
constant coefficient of variation ``1/sqrt(k)``, the variance assumption of Gamma PML, which
Santos Silva & Tenreyro 2006 discuss next to PPML; Manning & Mullahy 2001). A listed value
contributes its density; an unlisted one contributes the probability of its interval,

.. math::

    \\log L_i = \\log [G(k, k\\,hi_i/\\mu_i) - G(k, k\\,lo_i/\\mu_i)]

with ``G`` the regularised lower incomplete gamma function (``lo = 0`` for "below the N-th
value"). This is the Tobit idea (Tobin 1958) with a Gamma instead of a normal outcome, the
standard censored-data likelihood (Cameron & Trivedi 2005, ch. 16). When the unlisted are
those below the N-th order statistic of each list, the likelihood of what is observed is
exactly this product (the listed values' densities times ``F(c)`` for each unlisted one), so
the estimator is the maximum-likelihood estimator of the censored sample.

Unlike PPML, the censored estimator relies on the distribution (Gamma) for the censored
part: it is consistent when the Gamma is right, where the listed-only fit is inconsistent
whatever the distribution (the listed sample is selected on the outcome). The simulation
test in ``tests/test_censored.py`` shows both.

Priors: a coefficient may carry a normal prior ``N(m, s^2)``; the estimate is then the
posterior mode (penalised likelihood) and its standard error the Laplace approximation
(inverse Hessian of the negative log posterior), so the prior's uncertainty is carried into
the intervals. Each term is reported as ``estimated`` (flat prior), ``prior`` (normal prior)
or ``fixed`` (an offset).

References
----------
Cameron, A.C. and Trivedi, P.K. (2005), *Microeconometrics: Methods and Applications*,
Cambridge University Press, ch. 16 (censored and truncated models).
Manning, W.G. and Mullahy, J. (2001), "Estimating log models: to transform or not to
transform?", Journal of Health Economics 20(4): 461-494.
Santos Silva, J.M.C. and Tenreyro, S. (2006), "The Log of Gravity", Review of Economics and
Statistics 88(4): 641-658.
Tobin, J. (1958), "Estimation of relationships for limited dependent variables",
Econometrica 26(1): 24-36.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from analysis.base.errors import MitraError
from analysis.base.i18n import count
from analysis.base.summary import Summary
from analysis.data.provenance import data_fingerprint

#: Outcome distributions of :func:`fit_censored_gravity` (same log-linear mean).
FAMILIES = ("gamma", "lognormal")
#: Convergence when the Newton decrement (log-likelihood units) falls below this.
DECREMENT_TOL = 1e-9

__all__ = [
    "DECREMENT_TOL",
    "FAMILIES",
    "CensoredGravityResult",
    "CensoredGravitySettings",
    "CensoringError",
    "Prior",
    "compare_families",
    "coverage_by_simulation",
    "fit_censored_gravity",
]


class CensoringError(MitraError, ValueError):
    """The censored model cannot be fitted as specified (names the column or row)."""


@dataclass(frozen=True)
class Prior:
    """A normal prior ``N(mean, sd^2)`` on one coefficient, with where it comes from.

    ``kind`` is ``literature`` (a published estimate, cited in ``source``) or
    ``weakly_informative`` (a wide prior chosen for regularisation, not from a study).
    """

    mean: float
    sd: float
    source: str
    kind: str = "literature"

    def __post_init__(self) -> None:
        if not self.sd > 0:
            raise CensoringError(f"prior sd must be > 0 (got {self.sd!r}) for {self.source!r}")
        if self.kind not in ("literature", "weakly_informative"):
            raise CensoringError(
                f"prior kind must be 'literature' or 'weakly_informative' (got {self.kind!r})"
            )


@dataclass(frozen=True)
class CensoredGravitySettings:
    """What produced a censored gravity result."""

    y: str
    x: tuple[str, ...]
    lower: str | None
    upper: str | None
    intercept: bool = True
    priors: Mapping[str, Prior] = field(default_factory=dict)
    fixed: Mapping[str, float] = field(default_factory=dict)
    gtol: float = 1e-6
    maxiter: int = 500
    family: str = "gamma"
    #: Column whose values give each row its own dispersion group (None: one for all).
    dispersion_by: str | None = None


@dataclass
class CensoredGravityResult:
    """Estimates of the interval-censored Gamma gravity model.

    Attributes
    ----------
    table
        The single source of truth: ``term, estimate, se, z, p, ci_low, ci_high, source``
        (``source`` is ``estimated``, ``prior`` or ``fixed``). ``z`` is a Wald z statistic
        (asymptotic normal; the model-based variance is not a small-sample t).
    shape
        The Gamma shape ``k`` (coefficient of variation ``1/sqrt(k)``; the lognormal's sigma),
        of the first dispersion group when there are several.
    shapes
        The dispersion of each group of ``settings.dispersion_by`` (one entry ``"all"``
        when the model has one dispersion).
    converged
        True when, after BFGS and up to 20 Newton steps, the largest absolute gradient of the
        (penalised) log likelihood is below ``gtol`` or the Newton decrement is below
        :data:`DECREMENT_TOL`; ``convergence`` reports both, and BFGS's own flag and message.
    not_identified
        Regressors dropped before fitting because they are constant or collinear in the
        sample (and had no prior to pin them down).
    """

    settings: CensoredGravitySettings
    table: pd.DataFrame
    shape: float
    loglik: float
    nobs: int
    n_censored: int
    converged: bool
    convergence: dict[str, object]
    not_identified: list[str]
    vcov_matrix: pd.DataFrame
    data: pd.DataFrame
    fingerprint: str
    shapes: dict[str, float] = field(default_factory=dict)

    def dispersion_of(self, data: pd.DataFrame) -> np.ndarray:
        """Each row's dispersion (its group's shape or sigma)."""
        by = self.settings.dispersion_by
        if by is None:
            return np.full(len(data), self.shape)
        groups = data[by].astype(str)
        unknown = sorted(set(groups) - set(self.shapes))
        if unknown:
            raise CensoringError(
                f"column '{by}': groups not in the fitted sample: {unknown} "
                f"(groups: {sorted(self.shapes)})"
            )
        return groups.map(self.shapes).to_numpy(float)

    def coef(self) -> pd.Series:
        """Estimates by term (estimated, prior-informed and fixed)."""
        return self.table.set_index("term")["estimate"]

    def se(self) -> pd.Series:
        """Standard errors by term (NaN for fixed terms)."""
        return self.table.set_index("term")["se"]

    def confint(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals at level ``1 - alpha`` (``lower``, ``upper``) by term."""
        z = stats.norm.ppf(1 - alpha / 2)
        t = self.table.set_index("term")
        return pd.DataFrame(
            {"lower": t["estimate"] - z * t["se"], "upper": t["estimate"] + z * t["se"]}
        )

    def to_frame(self) -> pd.DataFrame:
        """The estimates table with the model's settings, long and mergeable."""
        out = self.table.copy()
        out["model"] = f"interval-censored {self.settings.family}, log mean"
        out["nobs"] = self.nobs
        out["n_censored"] = self.n_censored
        out["fingerprint"] = self.fingerprint
        return out

    def summary(self) -> Summary:
        """Estimates, shape, convergence and identification notes."""
        notes = [
            "Unlisted partner-years enter as 'below the N-th listed value' (interval "
            "likelihood), never as zeros or at the bound.",
            "z: Wald statistic with the model-based (inverse Hessian) variance; for "
            "prior-informed terms the posterior (Laplace) standard deviation.",
        ]
        if self.not_identified:
            notes.append("Not identified in this sample: " + ", ".join(self.not_identified))
        for term, p in self.settings.priors.items():
            notes.append(f"Prior on {term}: N({p.mean:.3f}, {p.sd:.3f}^2), {p.kind}: {p.source}")
        return Summary(
            title="Interval-censored Gamma gravity (log-linear mean)",
            settings={
                "observations": self.nobs,
                "censored (below a bound)": self.n_censored,
                "Gamma shape k": round(self.shape, 4),
                "log likelihood": round(self.loglik, 3),
                "converged": self.converged,
                "fingerprint": self.fingerprint,
            },
            tables=[("Estimates", self.table.set_index("term").round(4))],
            notes=notes,
        )

    # -- predictions ----------------------------------------------------------------------

    def _design(self, data: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        free = list(self.vcov_matrix.index)
        cols = [np.ones(len(data)) if t == "Intercept" else data[t].to_numpy(float) for t in free]
        return (np.column_stack(cols) if cols else np.zeros((len(data), 0))), free

    def linear_predictor(self, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Linear predictor ``x'b + offset`` and its standard error (delta method)."""
        X, free = self._design(data)
        b = self.coef()
        eta = X @ b[free].to_numpy() if free else np.zeros(len(data))
        for term, v in self.settings.fixed.items():
            eta = eta + v * data[term].to_numpy(float)
        V = self.vcov_matrix.to_numpy()
        se = np.sqrt(np.einsum("ij,jk,ik->i", X, V, X)) if free else np.zeros(len(data))
        return eta, se

    def predict(self, data: pd.DataFrame | None = None, alpha: float = 0.05) -> pd.DataFrame:
        """Predicted mean ``exp(eta)`` with a ``1 - alpha`` interval from the coefficients."""
        data = self.data if data is None else data
        eta, se = self.linear_predictor(data)
        z = stats.norm.ppf(1 - alpha / 2)
        return pd.DataFrame(
            {
                "predicted": np.exp(eta),
                "ci_low": np.exp(eta - z * se),
                "ci_high": np.exp(eta + z * se),
                "se_link": se,
            },
            index=data.index,
        )

    def draw_coefficients(self, n: int, seed: int) -> pd.DataFrame:
        """Draws of the free coefficients from their normal approximation (seeded)."""
        rng = np.random.default_rng(seed)
        free = list(self.vcov_matrix.index)
        mean = self.coef()[free].to_numpy()
        draws = rng.multivariate_normal(mean, self.vcov_matrix.to_numpy(), size=n)
        return pd.DataFrame(draws, columns=free)


# -- likelihood ----------------------------------------------------------------------------


def _loglik_parts(
    eta: np.ndarray,
    logk: float,
    y: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    exact: np.ndarray,
    family: str = "gamma",
) -> tuple[float, np.ndarray]:
    """Log likelihood and its derivative with respect to each row's ``eta``.

    ``logk`` is the log of the family's dispersion parameter: the Gamma shape ``k`` or the
    lognormal ``sigma``; a scalar, or one value per row (dispersion groups).
    """
    logk = np.broadcast_to(np.asarray(logk, dtype=float), eta.shape)
    if family == "lognormal":
        return _loglik_lognormal(eta, np.exp(logk), y, lo, hi, exact)
    k_all = np.exp(logk)
    mu = np.exp(eta)
    ll = 0.0
    grad = np.zeros_like(eta)
    if exact.any():
        ye, me, ee, k = y[exact], mu[exact], eta[exact], k_all[exact]
        ll += float(
            np.sum(
                k * np.log(k) - special.gammaln(k) + (k - 1) * np.log(ye) - k * ee - k * ye / me
            )
        )
        grad[exact] = k * (ye / me - 1.0)
    cens = ~exact
    if cens.any():
        mc, k = mu[cens], k_all[cens]
        zl = k * lo[cens] / mc
        zh = np.where(np.isinf(hi[cens]), np.inf, k * hi[cens] / mc)
        # Upper tail for intervals far above the mean keeps precision (1 - G underflows).
        # Each row's probability from one of the two forms only (the incomplete gamma
        # functions are most of the fit's time).
        upper_tail = zl > k
        lower = ~upper_tail
        p = np.empty_like(zl)
        # Most intervals start at zero, where G(k, 0) = 0 exactly: computed only above it.
        g_lo = np.zeros_like(zl)
        above = lower & (zl > 0)
        g_lo[above] = special.gammainc(k[above], zl[above])
        p[lower] = special.gammainc(k[lower], zh[lower]) - g_lo[lower]
        p[upper_tail] = special.gammaincc(k[upper_tail], zl[upper_tail]) - special.gammaincc(
            k[upper_tail], zh[upper_tail]
        )
        p = np.maximum(p, 1e-300)
        ll += float(np.sum(np.log(p)))
        # d G(k, z) / d eta = -z g(z), with z g(z) = exp(k log z - z - lgamma(k)) -> 0 at
        # z = 0 and z = inf.
        grad[cens] = (-_z_density(zh, k) + _z_density(zl, k)) / p
    return ll, grad


def _loglik_lognormal(
    eta: np.ndarray,
    sigma: np.ndarray,
    y: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    exact: np.ndarray,
) -> tuple[float, np.ndarray]:
    """Lognormal with mean ``exp(eta)``: ``log Y ~ N(eta - sigma^2 / 2, sigma^2)``."""
    m = eta - sigma**2 / 2
    ll = 0.0
    grad = np.zeros_like(eta)
    if exact.any():
        ly = np.log(y[exact])
        se_ = sigma[exact]
        r = (ly - m[exact]) / se_
        ll += float(np.sum(-ly - np.log(se_) - 0.5 * np.log(2 * np.pi) - 0.5 * r**2))
        grad[exact] = r / se_
    cens = ~exact
    if cens.any():
        mc, sigma = m[cens], sigma[cens]
        with np.errstate(divide="ignore"):
            zl = np.where(lo[cens] > 0, (np.log(lo[cens]) - mc) / sigma, -np.inf)
        zh = np.where(np.isinf(hi[cens]), np.inf, (np.log(hi[cens]) - mc) / sigma)
        # Upper tail for intervals above the median keeps precision.
        p = np.where(
            zl > 0, stats.norm.sf(zl) - stats.norm.sf(zh), stats.norm.cdf(zh) - stats.norm.cdf(zl)
        )
        p = np.maximum(p, 1e-300)
        ll += float(np.sum(np.log(p)))
        grad[cens] = (stats.norm.pdf(zl) - stats.norm.pdf(zh)) / sigma / p
    return ll, grad


def _z_density(z: np.ndarray, k: np.ndarray | float) -> np.ndarray:
    """``z * gamma_pdf(z; k)``, zero at ``z = 0`` and ``z = inf``."""
    out = np.zeros_like(z, dtype=float)
    ok = np.isfinite(z) & (z > 0)
    kk = np.broadcast_to(np.asarray(k, dtype=float), z.shape)[ok]
    out[ok] = np.exp(kk * np.log(z[ok]) - z[ok] - special.gammaln(kk))
    return out


def fit_censored_gravity(
    data: pd.DataFrame,
    y: str,
    x: Sequence[str],
    *,
    lower: str | None = None,
    upper: str | None = None,
    priors: Mapping[str, Prior] | None = None,
    fixed: Mapping[str, float] | None = None,
    intercept: bool = True,
    gtol: float = 1e-6,
    maxiter: int = 500,
    family: str = "gamma",
    dispersion_by: str | None = None,
) -> CensoredGravityResult:
    """Fit the interval-censored Gamma gravity model by (penalised) maximum likelihood.

    Parameters
    ----------
    data
        One row per flow (e.g. partner-year).
    y
        Outcome in levels (> 0 where observed); NaN where censored.
    x
        Regressors (an intercept is added unless ``intercept=False``).
    lower, upper
        Columns with the interval of a censored row (``lower`` default 0; ``upper`` the
        N-th listed value). A row with ``y`` missing must have a finite ``upper``.
    priors
        ``{term: Prior}``: normal priors (posterior mode and Laplace standard errors).
    fixed
        ``{term: value}``: coefficients held fixed (an offset; reported as ``fixed``).
    family
        ``gamma`` (default; ``shape`` is the Gamma shape ``k``) or ``lognormal`` (same mean
        ``exp(x'b)``, ``log Y ~ N(x'b - sigma^2/2, sigma^2)``; ``shape`` is ``sigma``), for
        the distribution check (:func:`compare_families`).
    dispersion_by
        A column grouping the rows by dispersion: each group gets its own shape (or sigma),
        e.g. full-year and part-year lists, whose flows are not equally noisy around their
        means. None: one dispersion for all rows.

    Returns
    -------
    CensoredGravityResult

    Raises
    ------
    CensoringError
        Unknown columns, non-positive observed outcomes, censored rows without a bound,
        or nothing to estimate.
    """
    if family not in FAMILIES:
        raise CensoringError(f"family must be one of {FAMILIES} (got {family!r})")
    priors = dict(priors or {})
    fixed = dict(fixed or {})
    x = [t for t in x if t not in fixed]
    cols = [y, *x, *fixed, *(c for c in (lower, upper, dispersion_by) if c)]
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise CensoringError(
            f"{count(len(missing), 'columns_named', names=missing)} not in the data; "
            f"columns are {list(data.columns)}"
        )
    unknown_prior = [t for t in priors if t not in x and not (t == "Intercept" and intercept)]
    if unknown_prior:
        raise CensoringError(
            f"{count(len(unknown_prior), 'priors_named', names=unknown_prior)}, which are not "
            f"regressors {x}"
        )
    work = data.copy()
    yv = work[y].to_numpy(float)
    exact = ~np.isnan(yv)
    if (yv[exact] <= 0).any():
        row = work.index[exact & (yv <= 0)][0]
        raise CensoringError(
            f"observed outcome in column '{y}' must be > 0 (row {row}); a flow known only to "
            "be small is censored: give it an upper bound instead"
        )
    hi = work[upper].to_numpy(float) if upper else np.full(len(work), np.nan)
    lo = work[lower].to_numpy(float) if lower else np.zeros(len(work))
    lo = np.where(np.isnan(lo), 0.0, lo)
    bad = ~exact & ~(hi > lo)
    if bad.any():
        row = work.index[bad][0]
        raise CensoringError(
            f"row {row}: '{y}' is missing but no interval is given (column "
            f"'{upper or '<upper>'}' must be a finite bound above '{lower or '0'}')"
        )
    regs = work[x].astype(float)
    na = (
        regs.isna().any(axis=1).to_numpy()
        | pd.DataFrame({t: work[t] for t in fixed}, index=work.index).isna().any(axis=1).to_numpy()
    )
    if na.any():
        raise CensoringError(
            f"missing regressor values in rows {list(work.index[na][:5])}: drop or explain "
            "them before fitting (the study lists dropped rows)"
        )
    # Identification: drop constant or collinear regressors that have no prior.
    terms = (["Intercept"] if intercept else []) + list(x)
    X = np.column_stack(
        ([np.ones(len(work))] if intercept else []) + [regs[t].to_numpy() for t in x]
    )
    keep, not_identified = _identified(X, tuple(terms), frozenset(priors))
    terms = [terms[j] for j in keep]
    X = X[:, keep]
    if exact.sum() + (~exact).sum() <= len(terms) + 1:
        raise CensoringError(f"only {len(work)} rows for {len(terms)} coefficients")
    off = np.zeros(len(work))
    for t, v in fixed.items():
        off = off + v * work[t].to_numpy(float)
    pm = np.array([priors[t].mean if t in priors else 0.0 for t in terms])
    prec = np.array([1 / priors[t].sd ** 2 if t in priors else 0.0 for t in terms])
    p = len(terms)
    if dispersion_by is None:
        levels, gidx = ["all"], np.zeros(len(work), dtype=int)
    else:
        if work[dispersion_by].isna().any():
            row = work.index[work[dispersion_by].isna()][0]
            raise CensoringError(
                f"row {row}: column '{dispersion_by}' (dispersion group) is missing"
            )
        groups = work[dispersion_by].astype(str)
        levels = sorted(groups.unique())
        gidx = groups.map({g: i for i, g in enumerate(levels)}).to_numpy(int)
        for g in levels:
            if not (exact & (groups == g).to_numpy()).any():
                raise CensoringError(
                    f"column '{dispersion_by}': group {g!r} has no observed (listed) value, so "
                    "its dispersion is not identified"
                )
    n_g = len(levels)
    masks = [gidx == i for i in range(n_g)]

    def negpost(theta: np.ndarray) -> tuple[float, np.ndarray]:
        b, logk = theta[:p], theta[p:]
        eta = X @ b + off
        ll, g_eta = _loglik_parts(eta, logk[gidx], yv, lo, hi, exact, family)
        # d/d log k by central difference, group by group: scipy has no derivative of the
        # incomplete gamma in its shape. h = 1e-4 keeps rounding error (~eps |ll| / h) near
        # 1e-8.
        h = 1e-4
        grad_k = np.empty(n_g)
        for i, m in enumerate(masks):
            args = (yv[m], lo[m], hi[m], exact[m], family)
            ll_k, _ = _loglik_parts(eta[m], logk[i] + h, *args)
            ll_m, _ = _loglik_parts(eta[m], logk[i] - h, *args)
            grad_k[i] = -(ll_k - ll_m) / (2 * h)
        pen = 0.5 * np.sum(prec * (b - pm) ** 2)
        grad_b = -(X.T @ g_eta) + prec * (b - pm)
        return -ll + pen, np.append(grad_b, grad_k)

    # Start: intercept at the log mean of listed values (shifted down for the censored),
    # slopes at their prior means or 0, k = 1 (coefficient of variation 1).
    theta0 = np.append(pm.copy(), np.zeros(n_g))
    if intercept and "Intercept" in terms and "Intercept" not in priors:
        theta0[terms.index("Intercept")] = (
            float(np.log(np.mean(yv[exact]))) if exact.any() else 0.0
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        opt = optimize.minimize(
            negpost, theta0, jac=True, method="BFGS", options={"gtol": gtol, "maxiter": maxiter}
        )
        # BFGS often stops with "precision loss" a hair from the optimum when the intercept
        # and the year effects are large; a few Newton steps on the numerical Hessian (with
        # step halving) finish the job, and convergence is then judged on the gradient.
        theta, newton = opt.x, 0
        H = _hessian(lambda t: negpost(t)[1], theta)
        while maxiter > 1 and newton < 20:
            f0, g0 = negpost(theta)
            if np.max(np.abs(g0)) < gtol or _decrement(H, g0) < DECREMENT_TOL:
                break
            try:
                step = np.linalg.solve(H, g0)
            except np.linalg.LinAlgError:
                break
            t = 1.0
            while t > 1e-4 and not negpost(theta - t * step)[0] <= f0:
                t /= 2
            if t <= 1e-4:
                break
            theta = theta - t * step
            H = _hessian(lambda t: negpost(t)[1], theta)
            newton += 1
    g_final = negpost(theta)[1]
    grad_max = float(np.max(np.abs(g_final)))
    decrement = _decrement(H, g_final)
    # Converged when the gradient is below gtol or, scale-free, when the Newton decrement
    # says the log likelihood is within DECREMENT_TOL of its local maximum (the gradient in
    # log k is a finite difference, accurate to ~1e-6 on a log likelihood of thousands).
    converged = bool(grad_max < gtol or decrement < DECREMENT_TOL)
    try:
        V_full = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        V_full = np.linalg.pinv(H)
        converged = False
    V = V_full[:p, :p]
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    est = theta[:p]
    zc = stats.norm.ppf(0.975)
    with np.errstate(divide="ignore", invalid="ignore"):
        zstat = est / se
    table = pd.DataFrame(
        {
            "term": terms,
            "estimate": est,
            "se": se,
            "z": zstat,
            "p": 2 * stats.norm.sf(np.abs(zstat)),
            "ci_low": est - zc * se,
            "ci_high": est + zc * se,
            "source": ["prior" if t in priors else "estimated" for t in terms],
        }
    )
    for t, v in fixed.items():
        table.loc[len(table)] = [t, v, np.nan, np.nan, np.nan, np.nan, np.nan, "fixed"]
    settings = CensoredGravitySettings(
        y, tuple(x), lower, upper, intercept, priors, fixed, gtol, maxiter, family, dispersion_by
    )
    used = work[[c for c in dict.fromkeys(cols)]]
    fp = data_fingerprint(
        {
            "data": str(pd.util.hash_pandas_object(used, index=False).sum()),
            "settings": repr(asdict(settings)),
        }
    )
    return CensoredGravityResult(
        settings=settings,
        table=table,
        shape=float(np.exp(theta[p])),
        # The log likelihood at the final estimate (after the Newton steps), prior removed.
        loglik=float(-negpost(theta)[0] + 0.5 * np.sum(prec * (est - pm) ** 2)),
        nobs=len(work),
        n_censored=int((~exact).sum()),
        converged=converged,
        convergence={
            "optimizer": "scipy BFGS",
            "success": bool(opt.success),
            "message": str(opt.message),
            "iterations": int(opt.nit),
            "newton_steps": newton,
            "max_abs_gradient": grad_max,
            "newton_decrement": decrement,
            "gtol": gtol,
        },
        not_identified=not_identified,
        vcov_matrix=pd.DataFrame(V, index=terms, columns=terms),
        data=work,
        fingerprint=fp,
        shapes={g: float(np.exp(theta[p + i])) for i, g in enumerate(levels)},
    )


def _identified(
    X: np.ndarray, terms: tuple[str, ...], priors: frozenset[str]
) -> tuple[list[int], list[str]]:
    """Columns of ``X`` kept (identified or with a prior) and the terms dropped, in order.

    A term is kept when its column raises the rank of the columns kept before it. The
    distribution check refits the same design hundreds of times with simulated outcomes, so
    the answer is remembered per design (its bytes), terms and priors.
    """
    key = (hashlib.sha256(np.ascontiguousarray(X).tobytes()).hexdigest(), X.shape, terms, priors)
    found = _IDENTIFIED.get(key)
    if found is None:
        # The rank of any set of X's columns is the rank of the same columns of R in X = QR
        # (Q has orthonormal columns: the same singular values), so one QR of the n x p
        # design replaces an SVD of all n rows per term.
        R = np.linalg.qr(X, mode="r") if len(X) > X.shape[1] else X
        keep: list[int] = []
        dropped: list[str] = []
        for j, t in enumerate(terms):
            trial = [*keep, j]
            if t in priors or np.linalg.matrix_rank(R[:, trial], tol=1e-8) == len(trial):
                keep.append(j)
            else:
                dropped.append(t)
        if len(_IDENTIFIED) >= 64:
            _IDENTIFIED.clear()
        found = _IDENTIFIED[key] = (keep, dropped)
    return list(found[0]), list(found[1])


_IDENTIFIED: dict[tuple, tuple[list[int], list[str]]] = {}


def _decrement(H: np.ndarray, g: np.ndarray) -> float:
    """Newton decrement ``g' H^-1 g / 2``: the gain still available under the quadratic model."""
    try:
        L = np.linalg.cholesky(H)  # not positive definite: not at a maximum
    except np.linalg.LinAlgError:
        return float("inf")
    z = np.linalg.solve(L, g)
    return float(z @ z / 2)


def _hessian(grad, theta: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central-difference Hessian from an analytic gradient, symmetrised."""
    n = len(theta)
    H = np.zeros((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = h * max(1.0, abs(theta[j]))
        H[:, j] = (grad(theta + e) - grad(theta - e)) / (2 * e[j])
    return (H + H.T) / 2


def compare_families(
    data: pd.DataFrame,
    y: str,
    x: Sequence[str],
    *,
    families: Sequence[str] = FAMILIES,
    terms: Sequence[str] | None = None,
    **kwargs: object,
) -> tuple[pd.DataFrame, dict[str, CensoredGravityResult]]:
    """Fit the same censored gravity model under each outcome family and compare them.

    Both families share the mean ``exp(x'b)`` and one dispersion parameter, and both
    likelihoods are densities of ``y`` (listed rows) times probabilities (censored rows), so
    their maximised log likelihoods (without the prior penalty) are comparable: the AIC
    difference is the log-likelihood difference times -2. ``kwargs`` go to
    :func:`fit_censored_gravity` (bounds, priors, fixed terms).

    Returns
    -------
    (table, fits)
        ``table``: one row per family with ``loglik, n_params, aic, delta_aic`` (0 for the
        preferred family), ``dispersion`` (Gamma shape k or lognormal sigma), ``cv`` (the
        implied coefficient of variation of a flow), ``converged`` and each term of ``terms``
        (default: the non-year regressors) as ``estimate`` and ``<term>_se``.
    """
    fits = {f: fit_censored_gravity(data, y, x, family=f, **kwargs) for f in families}
    terms = [t for t in x if not str(t).startswith("year_")] if terms is None else list(terms)
    rows = []
    for fam, fit in fits.items():
        n_params = len(fit.vcov_matrix) + len(fit.shapes)
        cv = 1 / np.sqrt(fit.shape) if fam == "gamma" else float(np.sqrt(np.expm1(fit.shape**2)))
        row = {
            "family": fam,
            "loglik": fit.loglik,
            "n_params": n_params,
            "aic": 2 * n_params - 2 * fit.loglik,
            "dispersion": fit.shape,
            "cv": cv,
            "converged": fit.converged,
        }
        coef, se = fit.coef(), fit.se()
        for t in terms:
            row[t] = float(coef.get(t, np.nan))
            row[f"{t}_se"] = float(se.get(t, np.nan))
        rows.append(row)
    table = pd.DataFrame(rows)
    table.insert(4, "delta_aic", table["aic"] - table["aic"].min())
    return table, fits


def coverage_by_simulation(
    truth: CensoredGravityResult,
    data: pd.DataFrame,
    group: str,
    n_listed: Mapping[object, int],
    *,
    family: str,
    dispersion: float | Mapping[str, float],
    reps: int = 50,
    seed: int = 0,
    fit_family: str = "gamma",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Bias and interval coverage of the censored estimator when the outcome is ``family``.

    Flows are drawn for every row from ``family`` (``gamma`` with shape ``dispersion`` or
    ``lognormal`` with sigma ``dispersion``; a mapping gives each dispersion group of
    ``truth`` its own) with the mean of ``truth`` at the rows'
    regressors; each ``group`` (e.g. year, or list) then publishes a top-``n_listed[group]`` list,
    the others censored below its smallest listed value, as the real lists are. The model is
    refitted with ``fit_family`` (same regressors, priors and fixed terms as ``truth``).

    Returns one row per free term: ``true, mean_estimate, bias, coverage`` (share of the
    ``1 - alpha`` Wald intervals that contain the true value), ``sd_over_se`` (spread of the
    estimates over their mean standard error: above 1, the intervals are too narrow by that
    factor), ``reps`` (fits that converged), ``family, dispersion, fit_family``.
    """
    if family not in FAMILIES or fit_family not in FAMILIES:
        raise CensoringError(f"family must be one of {FAMILIES}")
    st = truth.settings
    eta, _ = truth.linear_predictor(data)
    mu = np.exp(eta)
    if isinstance(dispersion, Mapping):
        if st.dispersion_by is None:
            raise CensoringError("a dispersion per group needs a model fitted with dispersion_by")
        disp = data[st.dispersion_by].astype(str).map(dict(dispersion)).to_numpy(float)
        if np.isnan(disp).any():
            raise CensoringError(
                f"dispersion: no value for the groups "
                f"{sorted(set(data[st.dispersion_by].astype(str)) - set(dispersion))}"
            )
        label = float(next(iter(dispersion.values())))
    else:
        disp = np.full(len(data), float(dispersion))
        label = float(dispersion)
    rng = np.random.default_rng(seed)
    free = list(truth.vcov_matrix.index)
    true = truth.coef()[free]
    z = stats.norm.ppf(1 - alpha / 2)
    est, cover, ses, ok = [], [], [], 0
    groups = data[group].to_numpy()
    for _ in range(reps):
        if family == "gamma":
            yv = rng.gamma(disp, mu / disp)
        else:
            yv = np.exp(rng.normal(np.log(mu) - disp**2 / 2, disp))
        sim = data.copy()
        sim["_y"], sim["_upper"] = np.nan, np.nan
        for g, n in n_listed.items():
            idx = np.flatnonzero(groups == g)
            if not len(idx) or n <= 0:
                continue
            order = idx[np.argsort(-yv[idx])]
            top, rest = order[:n], order[n:]
            sim.iloc[top, sim.columns.get_loc("_y")] = yv[top]
            sim.iloc[rest, sim.columns.get_loc("_upper")] = yv[top].min()
        try:
            fit = fit_censored_gravity(
                sim, "_y", list(st.x), upper="_upper", priors=st.priors, fixed=st.fixed,
                intercept=st.intercept, family=fit_family, dispersion_by=st.dispersion_by,
            )  # fmt: skip
        except CensoringError:
            continue
        if not fit.converged:
            continue
        ok += 1
        b, se = fit.coef().reindex(free), fit.se().reindex(free)
        est.append(b.to_numpy())
        ses.append(se.to_numpy())
        cover.append((np.abs(b - true) <= z * se).to_numpy())
    est_a = np.array(est) if est else np.full((1, len(free)), np.nan)
    cov_a = np.array(cover, dtype=float) if cover else np.full((1, len(free)), np.nan)
    se_a = np.array(ses) if ses else np.full((1, len(free)), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = est_a.std(axis=0, ddof=1) / se_a.mean(axis=0) if len(est) > 1 else np.nan
    return pd.DataFrame(
        {
            "term": free,
            "true": true.to_numpy(),
            "mean_estimate": est_a.mean(axis=0),
            "bias": est_a.mean(axis=0) - true.to_numpy(),
            "coverage": cov_a.mean(axis=0),
            "sd_over_se": ratio,
            "reps": ok,
            "family": family,
            "dispersion": label,
            "fit_family": fit_family,
        }
    )
