"""FDI potential against actual flows: plausibility guards, untapped gaps, agreement effects.

Model-level arithmetic behind report 20's potential table (the study in
:mod:`analysis.studies.gravity` fits the gravity equation and calls these functions):

- :func:`outflow_cap`: the partner's outward FDI that bounds a potential. A net outflow that
  is zero or negative (conduit economies net large gross flows) never sets a cap of zero:
  the mean net outflow over the last ``window`` years is used when positive, otherwise the
  partner's outward FDI stock (a gross position), otherwise no cap; each is flagged.
- :func:`share_guard`: the share of the partner's outward FDI that a potential implies
  Indonesia would take, against the largest multi-year share Indonesia actually receives
  from a comparable partner (same hub status). A potential above it is flagged and explained,
  not silently cut.
- :func:`untapped_gap`: potential minus actual with an interval where the actual is known or
  measured (``identified``), a signed lower bound where the actual is only bounded
  (``bounded``: the actual lies in ``[0, bound]``), nothing where it is unknown.
- :func:`agreement_effect`: a proportional agreement effect ``exp(b) - 1`` applied to a flow
  (measured actual or model baseline), with an interval from coefficient draws.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = [
    "GAP_STATUS",
    "NO_FIGURE",
    "agreement_effect",
    "comparable_shares",
    "outflow_cap",
    "share_guard",
    "untapped_gap",
]

#: Guard text where no outward FDI figure exists at all.
NO_FIGURE = "no outward FDI figure: not checked"
#: ``gap_status`` values, in the order of how much is known about the actual.
GAP_STATUS = ("identified", "bounded", "unidentified")


def outflow_cap(
    net_flows: pd.Series, stock: float = np.nan, window: int = 5
) -> tuple[float, str, bool]:
    """The outward FDI that caps a potential in the last year of ``net_flows``.

    Parameters
    ----------
    net_flows
        The partner's net outward FDI flows by year (US$ million), up to the year in question
        (the last entry is that year; missing years are NaN).
    stock
        The partner's outward FDI stock (US$ million) that year, the gross fallback.
    window
        Years in the multi-year mean used when the year's net flow is not positive.

    Returns
    -------
    (cap, basis, flagged)
        ``cap`` is NaN when no positive measure exists (then nothing is capped). ``flagged``
        is True whenever the cap is not the year's own net outflow. A cap is never 0.
    """
    s = pd.Series(net_flows, dtype=float)
    last = float(s.iloc[-1]) if len(s) else np.nan
    if last == last and last > 0:
        return last, "net outward FDI (year)", False
    recent = s.iloc[-window:].dropna()
    mean = float(recent.mean()) if len(recent) else np.nan
    if mean == mean and mean > 0:
        return (
            mean,
            f"mean net outward FDI over {len(recent)} years (the year's net flow is "
            + ("missing" if last != last else "<= 0")
            + ")",
            True,
        )
    if stock == stock and stock > 0:
        return float(stock), "outward FDI stock (gross position; net flows <= 0 or missing)", True
    if not len(recent) and stock != stock:
        return np.nan, NO_FIGURE, False
    return np.nan, f"net outward FDI <= 0 over {len(recent)} years, no stock: not capped", True


def comparable_shares(
    actual: pd.DataFrame, outflow: pd.DataFrame, groups: dict[str, str]
) -> pd.DataFrame:
    """Multi-year share of each partner's outward FDI that Indonesia received, by group.

    ``actual``: ``partner_iso3, year, value`` (measured flows into Indonesia, US$ million);
    ``outflow``: ``partner_iso3, year, cap`` (the partner's outward FDI, US$ million, > 0);
    ``groups``: partner -> comparability group (e.g. ``hub``/``non-hub``).

    Returns ``partner_iso3, group, share, years, n_years``: the sum of the measured flows over
    the sum of outward FDI in the same years (a multi-year ratio, steadier than one year's).
    """
    d = actual.merge(outflow, on=["partner_iso3", "year"], how="inner")
    d = d[(d["value"] > 0) & (d["cap"] > 0)]
    rows = []
    for iso, g in d.groupby("partner_iso3"):
        rows.append(
            {
                "partner_iso3": iso,
                "group": groups.get(iso, ""),
                "share": float(g["value"].sum() / g["cap"].sum()),
                "years": f"{int(g['year'].min())}-{int(g['year'].max())}",
                "n_years": len(g),
            }
        )
    return pd.DataFrame(rows, columns=["partner_iso3", "group", "share", "years", "n_years"])


def share_guard(
    potential: float,
    cap: float,
    group: str,
    shares: pd.DataFrame,
    partner: str = "",
    actual: float = np.nan,
) -> tuple[float, float, str]:
    """Implied share of the partner's outward FDI, the comparable bound, and a flag text.

    The bound is the largest multi-year share Indonesia receives from any partner of the
    same group (:func:`comparable_shares`), the partner's own measured share included (a
    potential no larger than what the partner already gives Indonesia is not implausible).
    The flag is empty when the implied share is within the bound, when the potential does
    not exceed the partner's ``actual`` flow that year (the actual shows the share is
    possible), or when it cannot be computed.
    """
    if not (cap == cap and cap > 0 and potential == potential):
        return np.nan, np.nan, ""
    implied = potential / cap
    if actual == actual and potential <= actual:
        return implied, actual / cap, ""
    comp = shares[(shares["group"] == group) | (shares["partner_iso3"] == partner)]
    if comp.empty:
        return implied, np.nan, ""
    top = comp.loc[comp["share"].idxmax()]
    bound = float(top["share"])
    if implied <= bound:
        return implied, bound, ""
    return (
        implied,
        bound,
        f"implausible: the potential is {implied:.0%} of the partner's outward FDI, above the "
        f"largest share Indonesia receives from a comparable ({group}) partner "
        f"({bound:.0%}, {top['partner_iso3']} {top['years']})",
    )


def untapped_gap(
    predicted: float,
    lo: float,
    hi: float,
    actual: float = np.nan,
    upper: float = np.nan,
    actual_lo: float = np.nan,
    actual_hi: float = np.nan,
) -> tuple[float, float, float, str]:
    """Untapped potential ``predicted - actual`` with an interval, and what is known.

    - actual known or measured: ``(predicted - actual, lo - actual_hi, hi - actual_lo,
      "identified")``; a measured actual (e.g. a mirror statistic) carries its interval
      ``[actual_lo, actual_hi]``, a published one is exact (both default to ``actual``);
    - actual only known to lie in ``[0, upper]``: no point value; ``lo - upper`` is a signed
      lower bound of the gap and ``hi`` its upper bound (actual >= 0): ``"bounded"``;
    - otherwise (or no potential): NaNs, ``"unidentified"``.
    """
    if predicted != predicted:
        return np.nan, np.nan, np.nan, "unidentified"
    if actual == actual:
        a_lo = actual if actual_lo != actual_lo else actual_lo
        a_hi = actual if actual_hi != actual_hi else actual_hi
        return predicted - actual, lo - a_hi, hi - a_lo, "identified"
    if upper == upper:
        return np.nan, lo - upper, hi, "bounded"
    return np.nan, np.nan, np.nan, "unidentified"


def agreement_effect(
    flow: float | np.ndarray,
    coef_draws: Iterable[float],
    coef: float,
    alpha: float = 0.05,
) -> tuple[float, float, float]:
    """Effect of switching an agreement on: ``flow * (exp(b) - 1)`` with an interval.

    ``flow`` is a number (a measured flow held fixed) or one value per draw (a model
    baseline drawn with the coefficients, so the two uncertainties combine). The interval is
    the ``alpha/2`` and ``1 - alpha/2`` quantiles over the draws of ``b``.
    """
    b = np.asarray(list(coef_draws), dtype=float)
    f = np.asarray(flow, dtype=float)
    point = float(np.mean(f) if f.ndim else f) * (np.exp(coef) - 1.0)
    sims = f * (np.exp(b) - 1.0)
    return point, float(np.quantile(sims, alpha / 2)), float(np.quantile(sims, 1 - alpha / 2))
