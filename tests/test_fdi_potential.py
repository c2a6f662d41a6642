"""Plausibility guards, untapped gaps and agreement-effect arithmetic
(analysis.models.fdi_potential)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.models.fdi_potential import (
    NO_FIGURE,
    agreement_effect,
    comparable_shares,
    outflow_cap,
    share_guard,
    untapped_gap,
)

flows = st.floats(min_value=-5e5, max_value=5e5, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(flows, st.just(float("nan"))), min_size=1, max_size=8),
    st.one_of(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.just(float("nan"))),
)
def test_a_negative_net_outflow_never_produces_a_zero_cap(net, stock):
    cap, basis, flagged = outflow_cap(pd.Series(net), stock)
    # The cap is either a positive amount or absent (NaN: not capped), never 0 or negative.
    assert math.isnan(cap) or cap > 0
    if not net[-1] > 0:
        assert flagged or basis == NO_FIGURE
        assert "(year)" not in basis
    else:
        assert cap == net[-1] and not flagged


def test_outflow_cap_falls_back_to_the_multi_year_mean_then_the_stock():
    cap, basis, flagged = outflow_cap(pd.Series([500.0, 300.0, -2000.0]))
    assert math.isnan(cap) and flagged and "not capped" in basis  # the mean is negative
    cap, basis, _ = outflow_cap(pd.Series([900.0, 600.0, -300.0]))
    assert cap == pytest.approx(400.0) and "mean net outward FDI over 3 years" in basis
    cap, basis, _ = outflow_cap(pd.Series([-900.0, -600.0]), stock=12_000.0)
    assert cap == 12_000.0 and "stock" in basis
    assert outflow_cap(pd.Series([np.nan]), np.nan)[1] == NO_FIGURE


def _shares():
    actual = pd.DataFrame(
        {"partner_iso3": ["MYS", "MYS", "KOR", "SGP"], "year": [2023, 2024, 2024, 2024],
         "value": [3000.0, 4000.0, 2000.0, 20000.0]}
    )  # fmt: skip
    outflow = pd.DataFrame(
        {"partner_iso3": ["MYS", "MYS", "KOR", "SGP", "PHL"],
         "year": [2023, 2024, 2024, 2024, 2024],
         "cap": [10000.0, 10000.0, 40000.0, 50000.0, 3000.0]}
    )  # fmt: skip
    groups = {"MYS": "non-hub", "KOR": "non-hub", "SGP": "hub", "PHL": "non-hub"}
    return comparable_shares(actual, outflow, groups)


def test_comparable_shares_are_multi_year_ratios_by_group():
    s = _shares().set_index("partner_iso3")
    assert s.loc["MYS", "share"] == pytest.approx(7000 / 20000)
    assert s.loc["MYS", "years"] == "2023-2024" and s.loc["MYS", "n_years"] == 2
    assert s.loc["KOR", "share"] == pytest.approx(0.05)
    assert s.loc["SGP", "group"] == "hub"


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=1, max_value=1e5), st.floats(min_value=1, max_value=1e5))
def test_a_guard_flag_appears_exactly_when_the_implied_share_exceeds_the_bound(pot, cap):
    shares = _shares()
    implied, bound, flag = share_guard(pot, cap, "non-hub", shares, "PHL")
    assert bound == pytest.approx(0.35)  # MYS, the largest non-hub share
    assert implied == pytest.approx(pot / cap)
    assert bool(flag) == (pot / cap > 0.35)
    if flag:
        assert "Malaysia 2023-2024" in flag and "35%" in flag


def test_a_potential_below_the_partners_own_actual_is_not_flagged():
    shares = _shares()
    # SGP's multi-year share is 40 %: a potential of 30,000 on 50,000 (60 %) is flagged ...
    assert share_guard(30_000, 50_000, "hub", shares, "SGP")[2]
    # ... unless SGP actually invested at least that much that year.
    assert share_guard(30_000, 50_000, "hub", shares, "SGP", actual=31_000)[2] == ""


def test_untapped_gap_is_identified_bounded_or_unidentified():
    assert untapped_gap(1000, 800, 1300, actual=600) == (400, 200, 700, "identified")
    gap, lo, hi, status = untapped_gap(1000, 800, 1300, upper=3700)
    assert math.isnan(gap) and (lo, hi, status) == (800 - 3700, 1300, "bounded")
    assert untapped_gap(1000, 800, 1300)[3] == "unidentified"
    assert untapped_gap(np.nan, np.nan, np.nan, actual=5)[3] == "unidentified"


def test_agreement_effect_on_an_actual_flow_is_flow_times_exp_b_minus_one():
    # Reference arithmetic: 1,900 a year, b = ln(1.175) -> +332.5; the interval comes from
    # the draws' 2.5 % and 97.5 % quantiles of 1,900 (exp(b) - 1).
    b = math.log(1.175)
    draws = np.linspace(-0.1, 0.43, 1001)
    eff, lo, hi = agreement_effect(1900.0, draws, b)
    assert eff == pytest.approx(1900 * 0.175)
    assert lo == pytest.approx(1900 * (math.exp(np.quantile(draws, 0.025)) - 1))
    assert hi == pytest.approx(1900 * (math.exp(np.quantile(draws, 0.975)) - 1))
    assert lo < 0 < eff < hi  # an interval including zero when the coefficient's does
    # A flow drawn with the coefficients (model baseline) combines both uncertainties.
    base = np.full(1001, 1000.0)
    assert agreement_effect(base, draws, b)[0] == pytest.approx(175.0)


# -- investor-side supply -------------------------------------------------------------------


def test_investor_supply_is_relative_shrunk_and_a_missing_partner_is_a_gap():
    from analysis.models.fdi_potential import investor_supply

    firms = pd.Series({"USA": 9.0, "CHE": 2.0, "SMALL": 1.0, "IRL": np.nan, "NOGDP": 3.0})
    gdp = pd.Series({"USA": 27.0, "CHE": 0.9, "SMALL": 0.05, "IRL": 0.5, "NOGDP": np.nan})
    out = investor_supply(firms, gdp, ["USA", "CHE", "SMALL", "IRL"], prior=1.0)
    ratio = 12.0 / (27.0 + 0.9 + 0.05 + 0.5)  # reference firms per unit of GDP; IRL counts 0
    assert out["reference_ratio"].iloc[0] == pytest.approx(ratio)
    e = ratio * gdp
    assert out.loc["USA", "supply_index"] == pytest.approx((9 + 1) / (e["USA"] + 1))
    assert out.loc["USA", "supply_raw"] == pytest.approx(9 / e["USA"])
    # Shrinkage: one firm in a tiny economy is not the sector's leader.
    assert out.loc["SMALL", "supply_raw"] > out.loc["CHE", "supply_raw"]
    assert out.loc["SMALL", "supply_index"] < out.loc["SMALL", "supply_raw"]
    # No evidence: a gap (no index, never 0), with what one firm would give as the most.
    assert out.loc["IRL", "supply_status"] == "gap"
    assert np.isnan(out.loc["IRL", "supply_index"])
    assert out.loc["IRL", "supply_upper"] == pytest.approx(2 / (e["IRL"] + 1))
    assert out.loc["NOGDP", "supply_status"] == "no size"
    assert np.isnan(out.loc["NOGDP", "supply_index"])
    from analysis.models.fdi_potential import FdiPotentialError

    with pytest.raises(FdiPotentialError, match="prior"):
        investor_supply(firms, gdp, ["USA"], prior=0)


def test_a_sector_without_supply_evidence_has_no_potential_and_never_exceeds_the_total():
    from analysis.models.fdi_potential import NO_SUPPLY, guarded_potential

    base = pd.DataFrame(
        {"partner_iso3": ["AAA", "BBB", "CCC"], "year": 2024, "actual": np.nan,
         "actual_status": "censored", "actual_upper": 500.0}
    )  # fmt: skip
    si = pd.DataFrame(
        {"sector": "chemical", "partner_iso3": ["AAA", "BBB", "CCC"], "demand_share": 0.2,
         "demand_split": 0.5, "supply_index": [2.0, np.nan, 40.0],
         "supply_upper": [np.nan, 3.0, np.nan], "supply_status": ["evidence", "gap", "evidence"]}
    )  # fmt: skip
    point = np.array([100.0, 200.0, 50.0])
    pot = guarded_potential(
        base, point, point * 0.8, point * 1.2, np.full(3, 1e6), si, "US$ m", "outflow"
    ).set_index(["sector", "partner_iso3"])
    assert pot.loc[("chemical", "AAA"), "predicted"] == pytest.approx(100 * 0.1 * 2)
    gap = pot.loc[("chemical", "BBB")]
    assert np.isnan(gap["predicted"]) and NO_SUPPLY in gap["guard"]
    assert gap["predicted_at_most"] == pytest.approx(200 * 0.1 * 3)
    over = pot.loc[("chemical", "CCC")]
    assert over["predicted"] == pytest.approx(pot.loc[("total", "CCC"), "predicted"])
    assert "capped at the partner's total potential" in over["guard"]
    from analysis.models.fdi_potential import FdiPotentialError

    with pytest.raises(FdiPotentialError, match="supply_index"):
        guarded_potential(
            base, point, point, point, np.full(3, 1e6), si.drop(columns="supply_index"),
            "US$ m", "outflow",
        )  # fmt: skip
