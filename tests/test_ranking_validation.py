"""Ranking v3: relocation push, gross outward capacity, and the predictive-validity backtest."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.models.indicators import gross_outward_flow, relocation_push
from analysis.models.ranking import IndicatorSet, RankingSettings, rank_partners
from analysis.models.validation import (
    backtest,
    concordance,
    expected_top_hits,
    newcomer_auc,
    summarise_backtest,
    yardstick,
)


class _Panel:
    """The two calls :mod:`analysis.models.indicators` makes of the partner panel."""

    def __init__(self, code: str, wide: pd.DataFrame) -> None:
        self.catalogue = pd.DataFrame({"code": [code], "source": ["test"]})
        self._wide = wide
        self.economies = list(wide.index)

    def wide(self, code: str, iso3=None) -> pd.DataFrame:
        return self._wide if iso3 is None else self._wide.reindex(list(iso3))


# --- relocation push ------------------------------------------------------------------------

gdp_pc = st.floats(min_value=100, max_value=150_000, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(host=gdp_pc, others=st.lists(gdp_pc, min_size=2, max_size=8))
def test_a_partner_poorer_than_indonesia_gets_no_relocation_push(host, others):
    names = [f"P{i:02d}" for i in range(len(others))]
    wide = pd.DataFrame({2023: [host, *others]}, index=["IDN", *names])
    push, year = relocation_push(_Panel("gdp_pc_usd", wide), names, 2024)
    for p, v in zip(names, others, strict=True):
        if v <= host:
            assert push[p] == 0.0
        else:
            assert push[p] == pytest.approx(math.log(v / host)) and push[p] > 0
        assert year[p] == 2023


def test_relocation_push_reference_rows_from_the_partner_panel():
    from analysis.data.panel import load_panel

    panel = load_panel()
    push, year = relocation_push(panel, ["KOR", "VNM", "BGD", "CHN"], 2024)
    # WDI NY.GDP.PCAP.CD 2024 in the panel: KOR 36,238.64, IDN 4,925.43; VNM 4,717.29 and
    # BGD 2,593.42 are below Indonesia (no push).
    assert year["KOR"] == 2024
    assert push["KOR"] == pytest.approx(math.log(36238.64 / 4925.43), abs=1e-4)
    assert push["VNM"] == 0.0 and push["BGD"] == 0.0
    assert push["CHN"] == pytest.approx(math.log(13303.15 / 4925.43), abs=1e-4)


# --- capacity: a hub's negative net flow -----------------------------------------------------


def _capacity_scores(flows: pd.DataFrame, norm: str) -> pd.Series:
    partners = list(flows.index)
    mean, _, _ = gross_outward_flow(flows, partners)
    meta = pd.DataFrame(
        {"pillar": ["capacity"], "label": ["flow"], "direction": [1], "hub_sensitive": [True]},
        index=["ofdi_flow"],
    )
    data = IndicatorSet(
        values=pd.DataFrame({"ofdi_flow": mean}), meta=meta, hubs={"NLD": "known conduit"}
    )
    s = RankingSettings(normalisation=norm, outliers="none")
    r = rank_partners(data, s, uncertainty=False, sensitivity=False, audit=False)
    pil = r.pillar_scores.set_index("partner_iso3")
    return pil.loc[pil["pillar"] == "capacity", "score"].drop("NLD", errors="ignore")


@settings(max_examples=25, deadline=None)
@given(
    others=st.lists(
        st.lists(st.floats(0.0, 300.0, allow_nan=False), min_size=5, max_size=5),
        min_size=3,
        max_size=6,
    ),
    hub=st.lists(st.floats(-500.0, -0.01, allow_nan=False), min_size=5, max_size=5),
    norm=st.sampled_from(["minmax", "zscore", "rank"]),
)
def test_a_hubs_negative_net_flow_cannot_lower_another_partners_capacity_score(others, hub, norm):
    years = [2020, 2021, 2022, 2023, 2024]
    names = [f"P{i}" for i in range(len(others))]
    flows = pd.DataFrame([*others, hub], index=[*names, "NLD"], columns=years)
    negative = _capacity_scores(flows, norm)
    at_zero = flows.copy()
    at_zero.loc["NLD"] = 0.0
    zero = _capacity_scores(at_zero, norm)
    # However negative the hub's net flow, the others score as if it had invested nothing.
    pd.testing.assert_series_equal(negative, zero)
    if norm == "minmax":
        absent = _capacity_scores(flows.drop("NLD"), norm)
        assert (negative.reindex(absent.index) >= absent - 1e-12).all()


def test_gross_outward_flow_floors_each_year_and_says_which():
    w = pd.DataFrame({2022: [10.0, -64.5], 2023: [20.0, 5.0]}, index=["JPN", "NLD"])
    mean, year, floored = gross_outward_flow(w, ["JPN", "NLD"], 2)
    assert mean["JPN"] == 15.0 and mean["NLD"] == 2.5  # (0 + 5) / 2, not (-64.5 + 5) / 2
    assert floored == {"NLD": ["2022"]} and year["NLD"] == 2023


# --- the backtest ----------------------------------------------------------------------------


def _rows(lists: dict[tuple[int, str], dict[str, float]], partners: list[str]) -> pd.DataFrame:
    """Partner-panel rows: listed values, every other partner censored below the list."""
    out = []
    for (y, per), listed in lists.items():
        bound = min(listed.values())
        for p in partners:
            hit = p in listed
            out.append(
                {
                    "year": y,
                    "period": per,
                    "partner_iso3": p,
                    "value": listed[p] if hit else np.nan,
                    "upper_bound": np.nan if hit else bound,
                    "status": "observed" if hit else "censored",
                }
            )
    return pd.DataFrame(out)


def _concordance_pair_by_pair(score: pd.Series, ys) -> tuple[float, int]:
    """Harrell's C written out pair by pair (the definition the vectorised one must match)."""
    s = score.dropna()
    num, pairs = 0.0, 0
    for _, values, below in ys.lists:
        listed = [p for p in values.index if p in s.index]
        for i, a in enumerate(listed):
            for b in listed[i + 1 :]:
                if values[a] == values[b]:
                    continue
                hi, lo = (a, b) if values[a] > values[b] else (b, a)
                num += 1.0 if s[hi] > s[lo] else 0.5 if s[hi] == s[lo] else 0.0
                pairs += 1
            for b in below:
                if b in s.index:
                    num += 1.0 if s[a] > s[b] else 0.5 if s[a] == s[b] else 0.0
                    pairs += 1
    return (num / pairs if pairs else np.nan), pairs


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_concordance_equals_the_pair_by_pair_definition(seed):
    # Ties in list values and in scores, censored partners, partners without a score.
    rng = np.random.default_rng(seed)
    partners = [f"P{i}" for i in range(12)]
    lists = {}
    for year in (2019, 2020):
        chosen = rng.choice(partners, size=rng.integers(2, 8), replace=False)
        lists[(year, "FY")] = {p: float(rng.integers(1, 4)) for p in chosen}
    ys = yardstick(_rows(lists, partners), [2019, 2020])
    score = pd.Series(rng.integers(0, 4, len(partners)).astype(float), index=partners)
    score[rng.random(len(partners)) < 0.2] = np.nan
    got, want = concordance(score, ys), _concordance_pair_by_pair(score, ys)
    assert got[1] == want[1]
    assert (math.isnan(got[0]) and math.isnan(want[0])) or got[0] == want[0]


def test_concordance_treats_an_unlisted_partner_as_below_the_list_not_as_zero():
    rows = _rows({(2020, "FY"): {"A": 10.0, "B": 5.0}}, ["A", "B", "C", "D"])
    ys = yardstick(rows, [2020])
    # Comparable pairs: A>B, A>C, A>D, B>C, B>D; C vs D is unknown (both below the list).
    score = pd.Series({"A": 4.0, "B": 3.0, "C": 2.0, "D": 1.0})
    assert concordance(score, ys) == (1.0, 5)
    swapped = pd.Series({"A": 4.0, "B": 3.0, "C": 1.0, "D": 2.0})
    assert concordance(swapped, ys) == (1.0, 5)  # the order of two unlisted partners is unknown
    above = pd.Series({"A": 4.0, "B": 1.0, "C": 3.0, "D": 0.0})
    assert concordance(above, ys) == (0.8, 5)  # C above the listed B: one discordant pair


def test_expected_top_hits_splits_a_tie_at_the_cut_off():
    score = pd.Series({"A": 3.0, "B": 2.0, "C": 1.0, "D": 1.0, "E": 1.0})
    # Top 3: A, B, then one of the three tied; one of the three (C) is a hit.
    assert expected_top_hits(score, {"A", "C"}, k=3) == pytest.approx(1 + 1 / 3)


def test_newcomer_auc_counts_events_and_ties_half():
    score = pd.Series({"A": 3.0, "B": 2.0, "C": 2.0, "D": 0.0})
    auc, n = newcomer_auc(score, ["A", "B", "C", "D"], {"A", "C"})
    # Pairs (event, non-event): A>B, A>D, C=B (half), C>D -> 3.5 / 4.
    assert (auc, n) == (0.875, 2)
    assert math.isnan(newcomer_auc(score, ["B", "D"], {"A"})[0])  # no event among them


def test_backtest_scores_only_later_lists_and_an_oracle_beats_both_baselines():
    partners = ["A", "B", "C", "D", "E", "F"]
    lists = {
        (2018, "FY"): {"A": 50.0, "B": 40.0},
        (2019, "FY"): {"C": 60.0, "D": 30.0},
        (2020, "FY"): {"C": 70.0, "D": 20.0},
    }
    rows = _rows(lists, partners)
    # The index knows the future order (C > D > the rest); GDP says the opposite.
    meta = pd.DataFrame({"pillar": ["market", "presence"], "label": ["x", "gdp"],
                         "direction": [1, 1]}, index=["oracle", "gdp"])  # fmt: skip
    oracle = pd.Series({"A": 1.0, "B": 1.0, "C": 9.0, "D": 8.0, "E": 0.0, "F": 0.0})
    gdp = pd.Series({"A": 5.0, "B": 6.0, "C": 1.0, "D": 2.0, "E": 3.0, "F": 4.0})
    data = IndicatorSet(values=pd.DataFrame({"oracle": oracle, "gdp": gdp}), meta=meta)
    s = RankingSettings(pillar_weights={"market": 1, "presence": 0}, outliers="none")
    table = backtest({2018: data}, rows, s, sector="test")
    assert set(table["window"]) == {"2019-2021"}  # the 2018 list is not the yardstick
    summary = summarise_backtest(table).set_index(["method", "metric"])["mean"]
    assert summary[("index", "concordance")] == 1.0
    assert summary[("index", "concordance")] > summary[("gdp_only", "concordance")]
    # Last list's PMA puts A and B first, who are not listed again: C above them is discordant.
    assert summary[("last_pma", "concordance")] < 1.0
    # Newcomers (never listed up to 2018): C, D, E, F; events C and D.
    auc = table[(table["method"] == "index") & (table["metric"] == "newcomer_auc")]
    assert auc["value"].iloc[0] == 1.0 and auc["n"].iloc[0] == 2
    last = table[(table["method"] == "last_pma") & (table["metric"] == "newcomer_auc")]
    assert last["value"].iloc[0] == 0.5  # every newcomer ties below the last list


# --- investor-side sector evidence -----------------------------------------------------------

from analysis.models.investor_evidence import mnc_firms, project_pipeline, sector_pma  # noqa: E402

HOMES = ["KOR", "MYS", "JPN", "TWN", "CHN"]
project = st.fixed_dictionaries(
    {
        "home_iso3": st.sampled_from(HOMES),
        "recorded_iso3": st.sampled_from(HOMES),
        "sector": st.just("chemical"),
        "amount_usd_m": st.floats(1.0, 5000.0, allow_nan=False),
        "status": st.sampled_from(["operating", "under_construction", "announced", "cancelled"]),
        "year_announced": st.integers(2010, 2024),
        "company": st.just("firm"),
    }
)


def _both(values: pd.Series, lower: pd.Series, upper: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The nominal (lower bound where censored) and the best-case value of every partner."""
    return values.fillna(lower).fillna(0.0), values.fillna(upper).fillna(0.0)


@settings(max_examples=60, deadline=None)
@given(base=st.lists(project, min_size=1, max_size=6), extra=project)
def test_adding_a_cancelled_project_never_raises_presence(base, extra):
    before = pd.DataFrame(base)
    after = pd.DataFrame([*base, {**extra, "status": "cancelled"}])
    v0, lo0, up0, _, _ = project_pipeline(before, "chemical", HOMES, 2024)
    v1, lo1, up1, _, _ = project_pipeline(after, "chemical", HOMES, 2024)
    n0, b0 = _both(v0, lo0, up0)
    n1, b1 = _both(v1, lo1, up1)
    assert (n1 <= n0 + 1e-9).all() and (b1 <= b0 + 1e-9).all()


def test_investor_evidence_reference_rows_from_the_compiled_files():
    from analysis.data.investor import load_multinationals
    from analysis.data.projects import load_projects
    from analysis.data.sector_pma import load_partner_sector

    partners = ["KOR", "MYS", "THA", "USA", "IND", "LUX"]
    v, lo, up, _, notes = project_pipeline(load_projects(), "chemical", partners, 2025)
    # projects.csv: Lotte Chemical's cracker (US$3,950 m, operating) is recorded under
    # Malaysia, ultimate investor Korea; Dongsung Chemical US$93.75 m operating (Korea);
    # the LG consortium's US$8,450 m is cancelled (weight 0).
    assert np.isnan(v["KOR"]) and lo["KOR"] == pytest.approx(93.75)
    assert up["KOR"] == pytest.approx(3950 + 93.75)
    assert np.isnan(v["MYS"]) and (lo["MYS"], up["MYS"]) == (0.0, pytest.approx(3950))
    assert "routed" in notes["KOR"] and "MYS" in notes["KOR"]
    assert v["THA"] == pytest.approx(1300 * 0.5)  # Thaioil/SCG: announced, half weight
    assert np.isnan(v["LUX"]) and lo["LUX"] == 0.0 and up["LUX"] > 0  # none: an interval
    # pma_by_country_sector.csv: Korea's realised footwear PMA 2017 - S1 2022, US$860 m.
    v, lo, up, _ = sector_pma(load_partner_sector(), "textile", partners, 2024)
    assert v["KOR"] == pytest.approx(860.0)
    assert np.isnan(v["USA"]) and lo["USA"] == 0.0 and up["USA"] > 0
    # League tables: a national list (Indian textile firms only) is not a league table, and
    # a partner absent from the part we have is an interval [0, 1], never a plain zero.
    v, lo, up, _, src = mnc_firms(load_multinationals(), "textile", partners, 2025)
    assert "Wazir" not in src
    assert np.isnan(v["LUX"]) and (lo["LUX"], up["LUX"]) == (0.0, 1.0)
    v, *_ = mnc_firms(load_multinationals(), "chemical", ["DEU", "SAU"], 2025)
    assert v["DEU"] >= 1 and v["SAU"] >= 1  # BASF; Sabic (C&EN Global Top 50, 2021 sales)
