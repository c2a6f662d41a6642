"""Chart conventions: every plot function draws a source line and plain-number axes."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from analysis.present import plots

matplotlib.use("Agg")

PLOT_FUNCTIONS = sorted(n for n in plots.__all__ if n.startswith("plot_"))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _source_text(fig) -> str:
    texts = [t.get_text() for t in fig.texts if t.get_gid() == plots.SOURCE_GID]
    assert len(texts) == 1, "exactly one source line per chart"
    return texts[0]


def _no_offset_or_scientific(fig) -> None:
    fig.canvas.draw()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            assert axis.get_offset_text().get_text() == "", "offset notation on an axis"
            for tick in axis.get_ticklabels():
                text = tick.get_text()
                assert "e+" not in text and "e-" not in text and "$10^" not in text, text


@pytest.mark.parametrize("name", PLOT_FUNCTIONS)
def test_every_public_plot_function_follows_the_chart_conventions(name):
    fn = getattr(plots, name)
    assert hasattr(fn, "chart_source"), f"{name} is not decorated with @chart(...)"


@pytest.fixture(scope="module")
def figures(ledger):
    """One real figure per plot function, built from the shipped data."""
    from dataclasses import replace

    from analysis.models.flows import ForecastSettings, build_series, forecast_flows
    from analysis.models.scenarios import apply_scenario, partner_shares, scenario_from_mapping
    from analysis.params import load_params
    from analysis.studies.gravity import gravity_study
    from analysis.studies.gravity import settings as gravity_settings
    from analysis.studies.ranking import run_ranking
    from analysis.studies.ranking import settings as ranking_settings

    panel = ledger.partner_panel(["SGP", "CHN", "JPN", "DEU"], periods=["FY"])
    cov = ledger.coverage("year", "measure", sector="all", region="IDN", partner_iso3="WLD")
    ci = load_params("params/base.yaml", "params/textile.yaml", "params/ci.yaml")
    potential = gravity_study(gravity_settings(ci), ledger=ledger).latest("textile")
    ranking = run_ranking(
        replace(ranking_settings(ci), compare_sectors=False), ledger=ledger
    ).result
    ranking_pillars = pd.DataFrame(
        {"capacity": [0.2, 0.9], "market": [0.5, np.nan]}, index=["SGP", "JPN"]
    )
    series = build_series(ledger, "all", "total", 2010, 2024)
    fc = forecast_flows(series, ForecastSettings(horizon_year=2027))
    scen = apply_scenario(fc, scenario_from_mapping({"name": "no-policy-change"}))
    shares = partner_shares(ledger, ["SGP", "CHN", "JPN"], 2019, 2024)
    from analysis.studies.flows import run_flows
    from analysis.studies.flows import settings as flow_settings_of

    flow_settings = flow_settings_of(ci)
    study = run_flows(ledger, flow_settings)
    quarterly = pd.DataFrame(
        {"total": [100000.0, 120000.0, np.nan], "total_origin": ["published", "derived", None]},
        index=["2024Q1", "2024Q2", "2024Q3"],
    )
    return {
        "plot_fy_totals": lambda **kw: plots.plot_fy_totals(ledger, 2015, 2024, **kw),
        "plot_partner_panel": lambda **kw: plots.plot_partner_panel(panel, **kw),
        "plot_coverage": lambda **kw: plots.plot_coverage(cov, "Coverage", **kw),
        "plot_fan": lambda **kw: plots.plot_fan(fc, **kw),
        "plot_flow_fan": lambda **kw: plots.plot_flow_fan(study, **kw),
        "plot_pillar_profile": lambda **kw: plots.plot_pillar_profile(
            ranking_pillars, "SGP", **kw
        ),
        "plot_scenario": lambda **kw: plots.plot_scenario(scen, **kw),
        "plot_partner_shares": lambda **kw: plots.plot_partner_shares(shares, **kw),
        "plot_quarterly": lambda **kw: plots.plot_quarterly(quarterly, **kw),
        "plot_potential": lambda **kw: plots.plot_potential(potential, **kw),
        "plot_rank_bands": lambda **kw: plots.plot_rank_bands(ranking, **kw),
        "plot_drivers": lambda **kw: plots.plot_drivers(ranking, **kw),
    }


@pytest.mark.parametrize("name", PLOT_FUNCTIONS)
@pytest.mark.parametrize("language", ["en", "id"])
def test_every_chart_has_a_source_line_and_plain_numbers(figures, name, language):
    if name not in figures:
        pytest.fail(f"{name}: add a real-data case to the `figures` fixture")
    fig = figures[name](language=language)
    source = _source_text(fig)
    assert source.startswith("Source: " if language == "en" else "Sumber: ")
    assert fig.axes[0].get_title(), f"{name}: a chart needs a title in words"
    _no_offset_or_scientific(fig)


def test_partner_axes_show_names_not_codes(figures):
    fig = figures["plot_rank_bands"](language="id")
    names = {t.get_text() for t in fig.axes[0].get_yticklabels()}
    assert "Jerman" in names or "Jepang" in names
    assert not any(len(n) == 3 and n.isupper() for n in names), names


def test_a_large_rupiah_axis_has_separators_not_an_offset():
    fig, ax = plt.subplots()
    ax.plot([2020, 2021], [1_500_000.0, 1_957_287.4])

    @plots.chart("source_ledger")
    def draw(ax=None, language="en"):
        return fig

    draw(language="id")
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.yaxis.get_ticklabels() if t.get_text()]
    assert any("." in t and len(t) >= 9 for t in labels), labels  # e.g. 1.600.000
    assert ax.yaxis.get_offset_text().get_text() == ""
    years = [t.get_text() for t in ax.xaxis.get_ticklabels() if t.get_text()]
    assert years and all(len(y) == 4 and y.isdigit() for y in years), years
