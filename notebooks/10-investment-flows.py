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
# # Investment flows: this year's nowcast, where flows are heading, and what a policy changes
#
# How much foreign (PMA) and domestic (PMDN) investment flows into Indonesia and into this
# report's sector; what the partial-year releases say about the current year; what a
# statistically honest forecast says (models that must beat a naive baseline, PMA + PMDN =
# total on every path, intervals calibrated on their own backtest record); how a policy
# scenario shifts the path; and how far the published targets are. All rupiah amounts are
# **nominal** unless a table or axis says otherwise.

# %% tags=["parameters"]
run_name: str = "default"  # name of the run (letters, digits, - _ .)
sector: str = "textile"  # textile | chemical | pharma
start_year: int = 2015  # first year shown
end_year: int = 2024  # last year of full-year history used
horizon: int = 2030  # last forecast year
fx_basis: str = "apbn"  # exchange-rate basis: apbn | market
fx_fallback: str = "market"  # basis for years the main one lacks: apbn | market | none
interpolate: bool = False  # fill interior gaps log-linearly (flagged): true | false
partners: list = ["SGP", "CHN", "HKG", "JPN", "KOR", "MYS", "USA", "TWN"]  # partner ISO3 codes
scenario: dict = {"name": "no-policy-change", "description": "Baseline only, no policy assumption"}  # policy scenario (see analysis.models.scenarios)
nowcast_model: str = "ratio"  # nowcast of the partial year: ratio | seasonal_naive
reconcile_method: str = "mint"  # coherence of PMA, PMDN and total: mint | wls | ols | bottom_up
price_basis: str = "nominal"  # headline prices: nominal | real (GDP deflator)
deflator_base_year: int = 2015  # year in which the GDP deflator is 100 (real view)
usd_rate_year: int = 2024  # PMA in US$ at this year's fx_basis rate, for every year
min_fan_points: int = 5  # fewest consecutive usable years for a sector forecast
seed: int = 20261127  # random seed of the forecast paths

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from analysis.present.formatting import heading
from analysis.params import params_from
from analysis.present.plots import plot_quarterly
from analysis.reports import provenance_summary
from analysis.studies.flows import run, settings
from analysis.studies.inputs import inputs

p = params_from(globals())
ledger = inputs(p).ledger
study = run(settings(p), inputs(p))
paths = study.write_tables()
display(Markdown(study.headline()))

# %%
# NBVAL_CHECK_OUTPUT
study.findings()

# %% [markdown]
# ## This year: nowcast from the partial-year releases
#
# BKPM publishes realised investment cumulatively (January-March, -June, -September). The
# full year has been a stable multiple of each partial figure, so the latest partial release
# pins the current year down far better than an annual model can. Each nowcast below uses
# only the years before it.

# %%
display(Markdown(study.outlook_statement()))
display(Markdown(study.scored_statement()))
display(Markdown(study.nowcast_statement()))
study.show("nowcast")

# %% [markdown] tags=["appendix"]
# Out-of-sample record of the nowcasts: every information set, every year where the partial
# and the full-year figure both exist (APE = absolute percentage error of the full year).

# %% tags=["appendix"]
# NBVAL_CHECK_OUTPUT
study.show("nowcast_accuracy")

# %% [markdown]
# Year by year, from the release the nowcast uses: the model's own 80 % interval, and the
# interval widened by the errors of *earlier* years only (so each calibrated interval is
# judged on a year that did not set it). A miss of the foreign/domestic split shows here.

# %%
study.show("nowcast_record")

# %% [markdown] tags=["appendix"]
# ## What the data allow
#
# Each national series is modelled on its last unbroken run of full years; the model is the
# one with the lowest backtest MASE, and a model that does not beat the naive baseline is
# never chosen.

# %% tags=["appendix"]
study.show("overview")

# %% [markdown] tags=["appendix"]
# ## Model choice: rolling-origin backtest, by horizon
#
# Every model is re-fitted at each origin and scored at every horizon up to the one shown.
# MASE below 1 beats the in-sample naive change. "80 % interval held" is how often the 80 %
# interval held the actual value; where it falls short, the chosen model's intervals are
# widened by the conformal "widening factor" of its own errors, and the calibrated coverage is
# judged leave-one-out (each forecast with the factor the others set). A fit that fails is
# counted under "failed fits" and listed below, never dropped silently.

# %% tags=["appendix"]
# NBVAL_CHECK_OUTPUT
study.show("backtest")

# %% tags=["appendix"]
display(Markdown(study.coverage_statement()))
study.show("coverage")
if len(study.failures):
    study.show("failures")

# %% [markdown]
# ## National investment: history, nowcast and forecast
#
# Fans show reconciled, calibrated 80 % and 95 % intervals, in the report's price basis
# (nominal unless the `price_basis` parameter says real); the diamond is the nowcast.
# Intervals stop where the backtest stops: beyond the longest backtested horizon the model's
# median continues as a dotted line, and three labelled **scenario paths** (the growth the
# targets imply, the recent trend, a slowdown) show what each growth rate would give. They
# are arithmetic, not forecasts, and carry no interval.

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
for ax, measure in zip(axes, ("total", "pma", "pmdn")):
    study.plot(measure, ax=ax)
fig.tight_layout()
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
heading(study.coherence_statement(), level=0)

# %%
study.show("forecast")
for note in study.notes:
    display(Markdown(f"- {note}"))

# %%
display(Markdown(study.paths_statement()))
study.show("scenario_paths")

# %% [markdown]
# ## Prices and currency
#
# The national series above are nominal rupiah. The real view divides them by Indonesia's
# GDP deflator. The US$ view of PMA shows each history year as BKPM published it: in US$ where
# it printed US$, otherwise converted at that year's rate (rate and basis on every row);
# forecast years are converted at one rate, so a change of rate never moves a forecast.

# %%
display(Markdown(study.views_statement()))
study.show("pma_usd")
if (study.forecast_table()["basis"] == "real").any() and p.price_basis == "nominal":
    study.show("real")
    study.plot("total", basis="real")
    plt.show()

# %% [markdown]
# Quarterly figures exist nationally (some derived from cumulative releases, flagged); they
# show the within-year pattern the nowcast relies on.

# %%
fig = plot_quarterly(study.quarterly(ledger))
plt.show()

# %% [markdown]
# ## The sector
#
# The sector's share of national foreign (PMA) and domestic (PMDN) investment for every
# period BKPM published both (quarters, half-years, nine months, full years), and its growth
# on the same period a year earlier against the national growth.
# BKPM publishes chemicals and pharmaceuticals as **one** sector.

# %%
study.show("sector_shares")

# %% [markdown]
# Where the sector's foreign money comes from, as BKPM's releases name it (realised PMA only;
# commitments and share statements are not mixed in), and the major projects an investment
# desk tracks.

# %%
study.show("sector_partners")
study.show("sector_projects")

# %% [markdown]
# Sector figures are published irregularly. Points flagged as suspect or with an unclear period
# are excluded from every model and shown as such. A series with enough recent full years is
# forecast as its **share of the national series**, its own trend shrunk towards "grows like
# the nation" (the fewer its years, the stronger the pull), with a spread pooled across all
# sectors; the others get no forecast, only their data.

# %%
for sentence in study.sector_series["sentence"]:
    display(Markdown(f"- {sentence}"))
study.show("sectors")
display(Markdown(study.pooled_statement()))
if len(study.sector_forecasts):
    study.show("sector_forecasts")

# %% [markdown]
# ## Scenario against baseline
#
# The scenario's assumptions come from the params file (no code); they shift the baseline's
# path and its intervals alike.

# %%
display(Markdown(f"**{study.scenario.name}**: {study.scenario.description or '(no description)'}"))
study.show("scenario")
res = study.scenarios["total"]
for note in res.notes:
    display(Markdown(f"- {note}"))
study.plot_scenario("total")
plt.show()

# %% [markdown]
# ## Gap to the published targets
#
# Every dated national investment target in the ledger (presidential, BKPM and RPJMN): past
# ones against the realised figure, future ones against the scenario's reconciled, calibrated
# paths; the chance of reaching a target is the share of paths at or above it, given only
# inside the backtested horizon. For later targets the table says which scenario paths meet
# them instead of a probability. The Making Indonesia 4.0
# roadmap sets output, share and growth targets, not investment amounts: they are listed for
# context, not compared.

# %%
study.show("targets")
study.show("roadmap")

# %% [markdown] tags=["appendix"]
# ## Where the foreign money comes from
#
# Shares of full-year PMA. Releases list only the top partners: a partner not listed is below
# the smallest listed value (`< x`), and all of them together form the unlisted bucket.

# %% tags=["appendix"]
study.show("shares")
study.plot_shares()
plt.show()

# %% tags=["appendix"]
study.show("partner_projection")

# %% [markdown] tags=["appendix"]
# ## Provenance

# %% tags=["appendix"]
provenance_summary(p, ledger.hashes)
