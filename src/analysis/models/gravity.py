"""Gravity models: PPML with high-dimensional fixed effects, OLS on logs, and potential.

:func:`fit_gravity` wraps pyfixest (``fepois`` for PPML, ``feols`` for OLS on logs): fixed
effects are absorbed, never built as dummy columns, so a million-row panel with three sets
of fixed effects fits in memory. Around the estimator Mitra adds what users of statsmodels
and of bare pyfixest keep missing:

- **Dropped observations, listed with a reason**: missing values; fixed-effect groups whose
  outcome is all zero (PPML estimates do not exist for them: perfectly predicted,
  "separated", Santos Silva & Tenreyro 2010), found iteratively across fixed-effect
  dimensions; singleton groups. Separation through the regressors is checked by pyfixest
  (``separation_check=["ir"]``) and counted.
- **Convergence** reported (pyfixest's flag, the tolerance and the iteration cap).
- **Assumed coefficients**: where the data cannot identify a coefficient, a literature value
  (with its citation) enters as an offset; the result lists which terms were estimated and
  which assumed.
- **Predictions and counterfactuals with intervals** (delta method on the linear predictor,
  fixed effects held at their estimates).

References
----------
Santos Silva, J.M.C. and Tenreyro, S. (2006), "The Log of Gravity", Review of Economics and
Statistics 88(4): 641-658.
Santos Silva, J.M.C. and Tenreyro, S. (2010), "On the existence of the maximum likelihood
estimates in Poisson regression", Economics Letters 107(2): 310-312.
Yotov, Y.V., Piermartini, R., Monteiro, J.-A. and Larch, M. (2016), *An Advanced Guide to
Trade Policy Analysis: The Structural Gravity Model*, WTO/UNCTAD.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.base.errors import MitraError
from analysis.base.i18n import count
from analysis.base.summary import Summary
from analysis.data.provenance import data_fingerprint

__all__ = [
    "AssumedCoef",
    "GravityError",
    "GravityResult",
    "GravitySettings",
    "fit_gravity",
    "fit_multihost",
]


class GravityError(MitraError, ValueError):
    """The gravity model cannot be fitted as specified (names the column or term)."""


@dataclass(frozen=True)
class AssumedCoef:
    """A coefficient taken from the literature instead of estimated."""

    value: float
    citation: str


@dataclass(frozen=True)
class GravitySettings:
    """What produced a gravity result."""

    y: str
    x: tuple[str, ...]
    fe: tuple[str, ...] = ()
    estimator: str = "ppml"
    vcov: str | Mapping[str, str] = "hetero"
    tol: float = 1e-10
    maxiter: int = 100
    assumed: Mapping[str, AssumedCoef] = field(default_factory=dict)


@dataclass
class GravityResult:
    """Estimates, diagnostics and the data behind them.

    Attributes
    ----------
    table
        The single source of truth for estimates: ``term``, ``estimate``, ``se``, ``t``,
        ``p``, ``ci_low``, ``ci_high``, ``source`` (``estimated`` or the citation). ``t`` and
        ``p`` are pyfixest's: a t statistic with a t reference distribution (the name says
        so; it is not a z).
    converged
        pyfixest's own convergence flag, or None when the model does not report one (never
        assumed to be True).
    dropped
        Input rows not used, with ``reason``.
    """

    settings: GravitySettings
    table: pd.DataFrame
    nobs: int
    dropped: pd.DataFrame
    converged: bool | None
    n_separation_ir: int
    pseudo_r2: float
    data: pd.DataFrame
    vcov_matrix: pd.DataFrame
    fingerprint: str
    model: object = field(repr=False, default=None)

    # -- accessors read from the one table -----------------------------------------------

    def coef(self) -> pd.Series:
        """Estimates (estimated and assumed) by term."""
        return self.table.set_index("term")["estimate"]

    def se(self) -> pd.Series:
        """Standard errors by term (NaN for assumed terms)."""
        return self.table.set_index("term")["se"]

    def confint(self, alpha: float = 0.05) -> pd.DataFrame:
        """Intervals at level ``1 - alpha`` by term (``lower``, ``upper``), from pyfixest's
        public ``confint`` for estimated terms; assumed terms have none (NaN)."""
        ci = self._model().confint(alpha=alpha)
        out = pd.DataFrame(
            {"lower": ci.iloc[:, 0].to_numpy(), "upper": ci.iloc[:, 1].to_numpy()},
            index=ci.index.astype(str),
        )
        return out.reindex(self.table["term"])

    def _model(self):
        if self.model is None:
            raise GravityError(
                "this result holds no pyfixest model (restored from the cache): refit with "
                "fit_gravity to predict or compute intervals at another level"
            )
        return self.model

    def to_frame(self) -> pd.DataFrame:
        """The estimates table with settings columns, long and mergeable."""
        out = self.table.copy()
        out["estimator"] = self.settings.estimator
        out["nobs"] = self.nobs
        out["fingerprint"] = self.fingerprint
        return out

    def summary(self) -> Summary:
        """Estimates, diagnostics and dropped observations."""
        s = self.settings
        dropped = (
            self.dropped["reason"].value_counts().rename_axis("reason").to_frame("rows")
            if len(self.dropped)
            else pd.DataFrame()
        )
        notes = [
            f"{self.n_separation_ir} further rows dropped by pyfixest's regressor-based "
            "separation check."
            if self.n_separation_ir
            else "No separation through the regressors detected."
        ]
        assumed = [t for t in s.assumed]
        if assumed:
            notes.append(
                "Assumed (not estimated): "
                + "; ".join(
                    f"{t} = {s.assumed[t].value} ({s.assumed[t].citation})" for t in assumed
                )
            )
        return Summary(
            title=f"Gravity ({s.estimator.upper()}): {s.y} ~ {' + '.join(s.x)}"
            + (f" | {' + '.join(s.fe)}" if s.fe else ""),
            settings={
                "observations": self.nobs,
                "converged": "not reported" if self.converged is None else self.converged,
                "vcov": s.vcov,
                "pseudo R2": round(self.pseudo_r2, 4),
                "tolerance": s.tol,
                "fingerprint": self.fingerprint,
            },
            tables=[
                ("Estimates", self.table.set_index("term").round(4)),
                ("Dropped observations", dropped),
            ],
            notes=notes,
        )

    # -- predictions ----------------------------------------------------------------------

    def _design(self, data: pd.DataFrame) -> np.ndarray:
        est = [t for t in self.table["term"] if t in self._estimated()]
        cols = [np.ones(len(data)) if t == "Intercept" else data[t].to_numpy(float) for t in est]
        return np.column_stack(cols) if cols else np.zeros((len(data), 0))

    def _estimated(self) -> list[str]:
        return list(self.table.loc[self.table["source"] == "estimated", "term"])

    def predict(self, data: pd.DataFrame | None = None, level: float = 0.95) -> pd.DataFrame:
        """Predicted mean with a confidence interval for rows of the estimation data.

        The interval comes from the delta method on the linear predictor with the
        coefficients' covariance; fixed effects and assumed coefficients are held at their
        values (their uncertainty is not included, and the report says so).
        """
        data = self.data if data is None else data
        eta = self._eta(data)
        X = self._design(data)
        V = self.vcov_matrix.loc[self._estimated(), self._estimated()].to_numpy()
        se = np.sqrt(np.einsum("ij,jk,ik->i", X, V, X)) if X.shape[1] else np.zeros(len(data))
        z = stats.norm.ppf(0.5 + level / 2)
        return pd.DataFrame(
            {
                "predicted": np.exp(eta),
                "ci_low": np.exp(eta - z * se),
                "ci_high": np.exp(eta + z * se),
                "se_link": se,
            },
            index=data.index,
        )

    def _eta(self, data: pd.DataFrame) -> np.ndarray:
        model = self._model()
        assumed = self.settings.assumed
        if assumed:
            # pyfixest adds the offset column itself when predicting.
            data = data.assign(_offset=_offset(data, assumed))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            eta = np.asarray(model.predict(newdata=data, type="link"), dtype=float)  # type: ignore[union-attr]
        if self.settings.estimator == "ols" and assumed:
            eta = eta + data["_offset"].to_numpy()
        return eta

    def counterfactual(
        self, data: pd.DataFrame, changes: Mapping[str, float], level: float = 0.95
    ) -> pd.DataFrame:
        """Predicted change when terms change by ``changes`` (e.g. ``{"agreement": 1}``).

        Returns per row the baseline prediction, the counterfactual, and the ratio with its
        confidence interval (from the covariance of the changed, estimated terms).
        """
        unknown = [t for t in changes if t not in set(self.table["term"])]
        if unknown:
            raise GravityError(
                f"counterfactual changes unknown "
                f"{count(len(unknown), 'terms_named', names=unknown)}; "
                "terms are "
                f"{list(self.table['term'])}"
            )
        base = self.predict(data, level)
        est = [t for t in changes if t in self._estimated()]
        b = self.coef()
        delta = np.array([changes[t] for t in est])
        shift = float(sum(changes[t] * b[t] for t in changes))
        V = self.vcov_matrix.loc[est, est].to_numpy() if est else np.zeros((0, 0))
        se = float(np.sqrt(delta @ V @ delta)) if est else 0.0
        z = stats.norm.ppf(0.5 + level / 2)
        out = base[["predicted"]].rename(columns={"predicted": "baseline"})
        out["counterfactual"] = out["baseline"] * math.exp(shift)
        out["ratio"] = math.exp(shift)
        out["ratio_low"] = math.exp(shift - z * se)
        out["ratio_high"] = math.exp(shift + z * se)
        out["change"] = out["counterfactual"] - out["baseline"]
        return out


def _offset(data: pd.DataFrame, assumed: Mapping[str, AssumedCoef]) -> np.ndarray:
    off = np.zeros(len(data))
    for term, a in assumed.items():
        off = off + a.value * data[term].to_numpy(float)
    return off


def _drop_separated(
    data: pd.DataFrame, y: str, fe: Sequence[str], estimator: str
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Drop all-zero-outcome FE groups (PPML) and singletons, iterating to a fixed point."""
    dropped: list[pd.DataFrame] = []
    changed = True
    while changed and fe:
        changed = False
        for f in fe:
            sizes = data.groupby(f, observed=True)[y].transform("size")
            single = sizes == 1
            if single.any():
                dropped.append(data[single].assign(reason=f"singleton group in {f}"))
                data = data[~single]
                changed = True
            if estimator == "ppml":
                total = data.groupby(f, observed=True)[y].transform("sum")
                zero = total == 0
                if zero.any():
                    dropped.append(
                        data[zero].assign(
                            reason=f"all-zero outcome in {f} group (separated: no finite PPML "
                            "estimate)"
                        )
                    )
                    data = data[~zero]
                    changed = True
    return data, dropped


def fit_gravity(
    data: pd.DataFrame,
    y: str,
    x: Sequence[str],
    fe: Sequence[str] = (),
    *,
    estimator: str = "ppml",
    vcov: str | Mapping[str, str] = "hetero",
    assumed: Mapping[str, AssumedCoef] | None = None,
    tol: float = 1e-10,
    maxiter: int = 100,
) -> GravityResult:
    """Fit a gravity equation by PPML (default) or OLS on logs with absorbed fixed effects.

    Parameters
    ----------
    data
        One row per flow.
    y
        Outcome (levels; PPML keeps zeros, OLS drops them and says so).
    x
        Regressors to estimate.
    fe
        Fixed-effect columns (absorbed).
    estimator
        ``ppml`` or ``ols``.
    vcov
        ``hetero`` (Eicker-White robust, as in SST 2006), ``iid``, or ``{"CRV1": "col"}``.
    assumed
        Terms with literature values (enter as an offset), e.g.
        ``{"ldist": AssumedCoef(-0.784, "SST 2006, Table 3")}``; their columns must exist.

    Returns
    -------
    GravityResult

    Raises
    ------
    GravityError
        Unknown columns, negative outcomes, or nothing left to estimate.
    """
    assumed = dict(assumed or {})
    if estimator not in ("ppml", "ols"):
        raise GravityError(f"estimator must be 'ppml' or 'ols', got {estimator!r}")
    x = [t for t in x if t not in assumed]
    clusters = (
        [c.strip() for v in vcov.values() for c in str(v).split("+")]
        if isinstance(vcov, Mapping)
        else []
    )
    cols = [y, *x, *fe, *assumed, *clusters]
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise GravityError(
            f"{count(len(missing), 'columns_named', names=missing)} not in the data; "
            f"columns are {list(data.columns)}"
        )
    work = data[list(dict.fromkeys(cols))].copy()
    if (work[y] < 0).any():
        bad = work.index[work[y] < 0][0]
        raise GravityError(f"negative outcome in column '{y}' (row {bad}): flows are >= 0")
    dropped: list[pd.DataFrame] = []
    na = work.isna().any(axis=1)
    if na.any():
        dropped.append(
            work[na].assign(
                reason="missing value in "
                + work[na].isna().apply(lambda r: ", ".join(r.index[r]), axis=1)
            )
        )
        work = work[~na]
    if estimator == "ols":
        zero = work[y] <= 0
        if zero.any():
            dropped.append(
                work[zero].assign(
                    reason="zero outcome (log undefined: OLS drops it, PPML would keep it)"
                )
            )
            work = work[~zero]
    work, more = _drop_separated(work, y, fe, estimator)
    dropped += more
    if len(work) <= len(x) + 1:
        raise GravityError(f"only {len(work)} usable rows for {len(x)} regressors")
    import pyfixest as pf

    fml_y = f"np.log({y})" if estimator == "ols" else y
    rhs = " + ".join(x) if x else "1"
    fml = f"{fml_y} ~ {rhs}" + (f" | {' + '.join(fe)}" if fe else "")
    work = work.assign(_offset=_offset(work, assumed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if estimator == "ppml":
            model = pf.fepois(
                fml,
                data=work,
                vcov=vcov,
                offset="_offset" if assumed else None,
                iwls_tol=tol,
                iwls_maxiter=maxiter,
                fixef_rm="none",
                separation_check=["ir"],
            )
            flag = getattr(model, "convergence", None)
            converged = None if flag is None else bool(flag)
            n_sep = int(getattr(model, "n_separation_na", 0) or 0)
        else:
            if assumed:
                work = work.assign(**{y: work[y] * np.exp(-work["_offset"])})
            model = pf.feols(fml, data=work, vcov=vcov, fixef_rm="none")
            converged, n_sep = True, 0  # OLS is closed form: nothing to converge
    tidy = model.tidy()
    table = pd.DataFrame(
        {
            "term": tidy.index.astype(str),
            "estimate": tidy["Estimate"].to_numpy(),
            "se": tidy["Std. Error"].to_numpy(),
            "t": tidy["t value"].to_numpy(),
            "p": tidy["Pr(>|t|)"].to_numpy(),
            "ci_low": tidy["2.5%"].to_numpy(),
            "ci_high": tidy["97.5%"].to_numpy(),
            "source": "estimated",
        }
    )
    for term, a in assumed.items():
        table.loc[len(table)] = [term, a.value, np.nan, np.nan, np.nan, np.nan, np.nan, a.citation]
    vc = _vcov_matrix(model, tidy)
    used = work.drop(columns="_offset")
    pr2 = _pseudo_r2(model, used, y, estimator)
    settings = GravitySettings(
        y,
        tuple(x),
        tuple(fe),
        estimator,
        vcov if isinstance(vcov, str) else dict(vcov),
        tol,
        maxiter,
        assumed,
    )
    fp = data_fingerprint(
        {
            "data": str(pd.util.hash_pandas_object(used, index=False).sum()),
            "settings": repr(asdict(settings)),
        }
    )
    drop = pd.concat(dropped) if dropped else pd.DataFrame(columns=[*work.columns, "reason"])
    nobs = len(np.asarray(model.resid()))  # public API: one residual per row used
    return GravityResult(settings, table, nobs, drop, converged, n_sep, pr2, used, vc, fp, model)


def _vcov_matrix(model, tidy: pd.DataFrame) -> pd.DataFrame:
    """The coefficients' covariance matrix, checked against pyfixest's public standard errors.

    pyfixest 0.60 exposes standard errors (``se()``, ``tidy()``) but no public accessor for the
    full matrix the delta method needs, so this is the one place the package reads the
    stored matrix; its diagonal must reproduce the public ``se()``, else this raises.
    """
    names = tidy.index.astype(str)
    vc = pd.DataFrame(np.asarray(model._vcov), index=names, columns=names)
    se = np.asarray(model.se(), dtype=float)
    if not np.allclose(np.sqrt(np.diag(vc.to_numpy())), se, rtol=1e-8, atol=0):
        raise GravityError("pyfixest's covariance matrix does not match its standard errors")
    return vc


def _pseudo_r2(model, data: pd.DataFrame, y: str, estimator: str) -> float:
    """Squared correlation of outcome and fitted values (comparable across estimators)."""
    try:
        fitted = np.asarray(model.predict(type="response"), dtype=float)
        actual = data[y].to_numpy(float)[: len(fitted)]
        if estimator == "ols":
            actual = np.log(actual)
            fitted = np.asarray(model.predict(), dtype=float)
        return float(np.corrcoef(actual, fitted)[0, 1] ** 2)
    except Exception:
        return float("nan")


def fit_multihost(
    positions: pd.DataFrame,
    covariates: pd.DataFrame,
    *,
    x: Sequence[str] = ("ldist", "agreement"),
    pair_fe: bool | None = None,
    host: str = "IDN",
) -> tuple[GravityResult, pd.DataFrame]:
    """PPML on a multi-host FDI panel (IMF Direct Investment Positions) and the host's potential.

    Parameters
    ----------
    positions
        ``reporter_iso3`` (host), ``counterpart_iso3`` (source), ``year``, ``value`` (inward
        position, >= 0).
    covariates
        Bilateral covariates by ``reporter_iso3, counterpart_iso3, year`` (columns ``x``).
    pair_fe
        Add pair fixed effects (identifies only time-varying regressors); default: when some
        regressor varies within pairs.

    Returns
    -------
    (fit, potential)
        The PPML fit with host-year and source-year effects (plus pair effects if used), and
        the predicted positions into ``host`` by source and year from the host-year and
        source-year effects and the covariates (the pair effect left out: potential is what
        gravity predicts for the pair, not its own history).
    """
    d = positions.merge(covariates, on=["reporter_iso3", "counterpart_iso3", "year"], how="left")
    d["host_year"] = d["reporter_iso3"] + "_" + d["year"].astype(str)
    d["source_year"] = d["counterpart_iso3"] + "_" + d["year"].astype(str)
    d["pair"] = d["reporter_iso3"] + "_" + d["counterpart_iso3"]
    varying = [t for t in x if d.groupby("pair")[t].nunique().gt(1).any()]
    if pair_fe is None:
        pair_fe = bool(varying)
    base = fit_gravity(d, "value", list(x), ["host_year", "source_year"])
    fit = (
        fit_gravity(d, "value", varying, ["host_year", "source_year", "pair"])
        if pair_fe and varying
        else base
    )
    target = d[d["reporter_iso3"] == host]
    pred = base.predict(target)
    pot = (
        target[["counterpart_iso3", "year", "value"]]
        .rename(columns={"counterpart_iso3": "partner_iso3", "value": "actual"})
        .assign(
            predicted=pred["predicted"].to_numpy(),
            lo=pred["ci_low"].to_numpy(),
            hi=pred["ci_high"].to_numpy(),
        )
    )
    return fit, pot.reset_index(drop=True)
