# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python (mitra)
#     language: python
#     name: mitra
# ---

# %% [markdown]
# # Investment flows: where they stand, where they are heading, and what a policy changes
#
# How much foreign (PMA) and domestic (PMDN) investment flows into Indonesia and into this
# report's sector, what a statistically honest forecast says (models that must beat a naive
# baseline, intervals that admit the uncertainty), how a policy scenario shifts the path,
# how far the published targets are, and which partners the foreign money comes from.

# %% tags=["parameters"]
run_name: str = "default"  # name of the run (letters, digits, - _ .)
sector: str = "textile"  # textile | chemical | pharma
start_year: int = 2015  # first year shown
end_year: int = 2024  # last year of history used
horizon: int = 2030  # last forecast year
fx_basis: str = "apbn"  # exchange-rate basis: apbn | market
fx_fallback: str = "market"  # basis for years the main one lacks: apbn | market | none
interpolate: bool = False  # fill interior gaps log-linearly (flagged): true | false
partners: list = ["SGP", "CHN", "HKG", "JPN", "KOR", "MYS", "USA", "TWN"]  # partner ISO3 codes
scenario: dict = {"name": "no-policy-change", "description": "Baseline only, no policy assumption"}  # policy scenario (see analysis.scenarios)

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from analysis.data import LedgerSettings, build_ledger
from analysis.flowreport import build_flow_report
from analysis.params import params_from
from analysis.reports import provenance_summary

pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 120)
p = params_from(globals())
ledger = build_ledger(settings=LedgerSettings(fx_basis=p.fx_basis, fx_fallback=p.fx_fallback_basis))
report = build_flow_report(ledger, p)
display(Markdown(
    f"**Sector:** {p.sector} (ledger sectors: {', '.join(p.sectors)}); **history to** "
    f"{p.end_year}; **forecast to** {p.horizon}; **scenario:** {report.scenario.name}; "
    f"**interpolation:** {'ON (flagged)' if p.interpolate else 'off (gaps stay gaps)'}"))

# %% [markdown]
# ## What the data allow
#
# Each series is modelled on its last unbroken run of full years. Where that run is too short,
# the report falls back to the naive or drift baseline, or gives no forecast, and says why.

# %%
# NBVAL_CHECK_OUTPUT
overview = report.overview()
has_data = overview[overview["model"] != "none"]
print(has_data.drop(columns="why").to_string(index=False))

# %%
display(has_data[["sector", "measure", "why"]])
missing = overview[overview["model"] == "none"]
if len(missing):
    display(Markdown("No full-year figure published (no forecast): "
                     + ", ".join(f"{r.sector} {r.measure}" for r in missing.itertuples())))

# %% [markdown]
# ## Model choice: rolling-origin backtest
#
# Every model is re-fitted at each origin and scored on the same 1-3-year-ahead forecasts.
# MASE below 1 beats the in-sample naive change; a model that does not beat the naive
# baseline is not chosen. `coverage_80` is how often the 80 % interval held the actual value.

# %%
# NBVAL_CHECK_OUTPUT
print(report.backtests().to_string(index=False))

# %% [markdown]
# ## National investment: history and forecast

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
for ax, measure in zip(axes, ("total", "pma", "pmdn")):
    report.forecasts[("all", measure)].plot(ax=ax)
fig.tight_layout()
plt.show()

# %%
report.forecasts[("all", "total")].summary()

# %% [markdown]
# Quarterly figures exist nationally (some derived from cumulative releases, flagged); they
# show the within-year pattern but the forecasts above are annual.

# %%
from analysis.plots import plot_quarterly

fig = plot_quarterly(report.quarterly(ledger))
plt.show()

# %% [markdown]
# ## The sector
#
# Sector figures are published irregularly; most series are too short for anything but a
# baseline. BKPM publishes chemicals and pharmaceuticals as **one** sector.

# %%
sector_keys = [k for k in report.forecasts if k[0] != "all"]
if sector_keys:
    ncols = min(3, len(sector_keys))
    nrows = -(-len(sector_keys) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5 * ncols, 3.8 * nrows), squeeze=False)
    for ax, key in zip(axes.flat, sector_keys):
        report.forecasts[key].plot(ax=ax)
    for ax in list(axes.flat)[len(sector_keys):]:
        ax.set_visible(False)
    fig.tight_layout()
    plt.show()
else:
    display(Markdown("No full-year figure is published for this sector's series."))

# %% [markdown]
# ## Scenario against baseline
#
# The scenario's assumptions come from the params file (no code); they shift the baseline's
# path and its intervals alike.

# %%
display(Markdown(f"**{report.scenario.name}**: {report.scenario.description or '(no description)'}"))
display(report.scenario_table())
res = report.scenarios.get(("all", "total"))
if res is not None:
    for note in res.notes:
        display(Markdown(f"- {note}"))
    res.plot()
    plt.show()

# %% [markdown]
# ## Gap to the published targets
#
# National realised-investment targets (BKPM/President, RPJMN), compared with the scenario's
# path; `p_reach` is the probability of reaching the target under the forecast's predictive
# distribution. The Making Indonesia 4.0 roadmap sets output, share and growth targets, not
# investment amounts: they are listed for context, not compared.

# %%
display(report.targets)
display(report.roadmap)

# %% [markdown]
# ## Where the foreign money comes from
#
# Shares of full-year PMA. Releases list only the top partners: a partner not listed is below
# the smallest listed value (`<x%`), and all of them together form the unlisted bucket.

# %%
display(report.shares.wide())
report.shares.plot()
plt.show()

# %%
display(report.partner_projection().pivot_table(index="partner_iso3", columns="year",
                                                 values=["pma_rp_bn", "pma_rp_bn_upper"]).round(0))

# %% [markdown]
# ## Provenance

# %%
provenance_summary(p, ledger.hashes)
