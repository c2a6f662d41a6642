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

# %% tags=["parameters"]
run_name: str = "default"  # name of the run (letters, digits, - _ .)
partner: str = "DEU"  # ISO 3166 alpha-3 code of the partner, e.g. DEU, JPN, KOR
sector: str = "textile"  # textile | chemical | pharma
language: str = "en"  # en | id (Bahasa Indonesia)
start_year: int = 2015  # first year of the investment history
end_year: int = 2024  # latest year of data used
gravity_assumed: dict = {}  # fixed coefficients: {term: {value, citation}}
gravity_priors: dict = {"agreement": "kox_rojas_romagosa_2020_pta"}  # {term: prior id}
gravity_hubs: list = ["NLD", "GBR", "IRL", "SGP", "CHE", "LUX", "HKG", "VGB", "BMU", "CYM", "MUS"]  # hub economies
gravity_draws: int = 1000  # coefficient draws for the potential intervals
gravity_distribution_reps: int = 40  # simulated samples per scenario of the distribution check (0: skip)
ranking_normalisation: str = "minmax"  # minmax | zscore | rank
ranking_aggregation: str = "arithmetic"  # arithmetic | geometric | topsis
ranking_weights: dict = {"sector": 2, "capacity": 1, "market": 1, "presence": 2, "ties": 1, "sector_exports": 0.5, "sector_rca": 0.5, "sector_value_added": 0.25}  # pillar weights; indicator weights within pillar
ranking_validation_first_origin: int = 2014  # first origin year of the ranking backtest
ranking_imputation: str = "worst"  # worst | pillar_mean | median (imputed cells are flagged)
ranking_min_coverage: float = 0.5  # share of each pillar's indicator weight a partner must cover
ranking_hub_treatment: str = "as_is"  # as_is | discounted | excluded
ranking_hub_discount: float = 0.5  # multiplier of hubs' indicators when discounted
ranking_outliers: str = "winsorise"  # winsorise | log | none
ranking_draws: int = 2000  # Monte Carlo draws for rank bands
ranking_noise: float = 0.1  # indicator noise (log-scale sd) in the Monte Carlo
seed: int = 20261127  # random seed
fx_basis: str = "apbn"  # exchange-rate basis: apbn | market
fx_fallback: str = "market"  # basis for years the main one lacks: apbn | market | none

# %%
# A partner brief: every heading, sentence and label comes from the message catalogue
# (analysis/messages/<language>.yaml), every number from analysis.studies.brief.
import matplotlib.pyplot as plt
from IPython.display import display

from analysis.present.formatting import heading
from analysis.params import params_from
from analysis.reports import provenance_summary
from analysis.studies.brief import run, settings
from analysis.studies.inputs import inputs

p = params_from(globals())
ledger = inputs(p).ledger
brief = run(settings(p), inputs(p))
display(brief.title())

# %%
# NBVAL_CHECK_OUTPUT
brief.key_findings()

# %%
display(brief.heading("rank"))
brief.show("rank")

# %%
display(brief.heading("profile"))
brief.show("profile", shown=False)  # the chart shows it; the scores are in profile.csv
fig = brief.plot_profile()
plt.show()

# %%
display(brief.heading("history"))
brief.show("history")

# %%
display(brief.heading("investment"))
brief.show("investment")

# %%
display(brief.heading("trade"))
brief.show("trade")

# %%
display(brief.heading("firms"))
brief.show("projects")
display(heading(brief.firms_text(), level=0))

# %%
display(brief.heading("agreements"))
brief.show("agreements")

# %%
display(brief.heading("gravity"))
brief.show("gravity")

# %%
display(brief.heading("move"))
brief.show("movers")

# %%
# The appendix starts on a new printed page, after the two pages of the brief.
hashes = brief.data_hashes(ledger.hashes)  # every file the brief reads
provenance_summary(p, hashes, language=brief.settings.language, appendix=True)
