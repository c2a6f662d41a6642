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

from .audit import (
    RankingAudit,
)
from .audit import (
    _audit as _audit,
)
from .audit import (
    _cronbach as _cronbach,
)
from .audit import (
    _pca_share as _pca_share,
)
from .audit import (
    _prep_meta as _prep_meta,
)
from .core import (
    _aggregate as _aggregate,
)
from .core import (
    _normalise as _normalise,
)
from .core import (
    _percentile_rank as _percentile_rank,
)
from .core import (
    _positive as _positive,
)
from .core import (
    _row_order as _row_order,
)
from .core import (
    aggregate,
    kendall_tau,
    normalise,
    ranks_from_scores,
)
from .draws import (
    _CHUNK_ROWS as _CHUNK_ROWS,
)
from .draws import (
    _THREADED_CELLS as _THREADED_CELLS,
)
from .draws import (
    _alphas as _alphas,
)
from .draws import (
    _data as _data,
)
from .draws import (
    _dirichlet_weights as _dirichlet_weights,
)
from .draws import (
    _Draws as _Draws,
)
from .draws import (
    _evaluate as _evaluate,
)
from .draws import (
    _groups as _groups,
)
from .draws import (
    _impute as _impute,
)
from .draws import (
    _nominal_draws as _nominal_draws,
)
from .draws import (
    _random_draws as _random_draws,
)
from .draws import (
    _ranks as _ranks,
)
from .draws import (
    _threads as _threads,
)
from .inputs import (
    IndicatorSet,
)
from .preparation import (
    _outlier_plan as _outlier_plan,
)
from .preparation import (
    _outlying as _outlying,
)
from .preparation import (
    _prepare as _prepare,
)
from .preparation import (
    _Prepared as _Prepared,
)
from .preparation import (
    _skew_kurt as _skew_kurt,
)
from .preparation import (
    _treat as _treat,
)
from .rank import (
    rank_partners,
)
from .result import (
    RankingResult,
)
from .result import (
    _cells as _cells,
)
from .result import (
    _join as _join,
)
from .settings import (
    AGGREGATIONS,
    HUB_TREATMENTS,
    IMPUTATIONS,
    KNOWN_HUBS,
    NORMALISATIONS,
    OUTLIER_TREATMENTS,
    RankingSettings,
    effective_weights,
)
from .settings import (
    KURT_LIMIT as KURT_LIMIT,
)
from .settings import (
    SKEW_LIMIT as SKEW_LIMIT,
)
from .settings import (
    WINSOR_MAX_POINTS as WINSOR_MAX_POINTS,
)
from .sobol import (
    _NOISE_FIELDS as _NOISE_FIELDS,
)
from .sobol import (
    SOBOL_CHOICES as SOBOL_CHOICES,
)
from .sobol import (
    _sobol as _sobol,
)
from .sobol import (
    _sobol_draws as _sobol_draws,
)
from .sobol import (
    _sobol_problem as _sobol_problem,
)
from .sobol import (
    sobol_indices,
)

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
