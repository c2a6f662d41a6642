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
# # Partner ranking: which countries should Indonesia court for this sector, and how sure is that?
#
# A composite index built the OECD/JRC way: documented indicators in pillars (capacity to
# invest abroad, sector strength, market, presence in Indonesia, ties, untapped gravity
# potential), explicit missing-data rules, normalisation, weights and aggregation as
# parameters. Then the uncertainty: Monte Carlo over weights, methods and indicator noise
# gives every partner a rank band, and Sobol indices say which choice moves the ranks most.

# %% tags=["parameters"]
run_name: str = "adhoc"  # name of the run (letters, digits, - _ .)
sector: str = "textile"  # textile | chemical | pharma
end_year: int = 2024  # latest year of data used
partners: list = ["SGP", "CHN", "HKG", "JPN", "MYS", "KOR", "USA", "NLD"]  # partners to profile
gravity_assumed: dict = {}  # literature coefficients for the gravity potential
ranking_normalisation: str = "minmax"  # minmax | zscore | rank
ranking_aggregation: str = "arithmetic"  # arithmetic | geometric | topsis
ranking_weights: dict = {}  # weights by indicator or pillar (empty: equal)
ranking_imputation: str = "none"  # none | median | min (imputed cells are flagged)
ranking_min_coverage: float = 0.6  # share of indicator weight a partner must cover
ranking_draws: int = 2000  # Monte Carlo draws for rank bands
ranking_noise: float = 0.1  # indicator noise (log-scale sd) in the Monte Carlo
seed: int = 20261127  # random seed

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from analysis.data import build_ledger
from analysis.indicators import build_indicators
from analysis.params import params_from
from analysis.studies.gravity import GravityStudySettings, latest_potential
from analysis.ranking import RankingSettings, rank_partners
from analysis.reports import provenance_summary

pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 80)
p = params_from(globals())
ledger = build_ledger()
potential = latest_potential(GravityStudySettings.from_params(p), ledger=ledger)  # report 20's fit
values, years, meta = build_indicators(ledger, p.sector, p.end_year, potential=potential)
settings = RankingSettings(
    normalisation=p.ranking_normalisation, aggregation=p.ranking_aggregation,
    weights=dict(p.ranking_weights), imputation=p.ranking_imputation,
    min_coverage=float(p.ranking_min_coverage), draws=int(p.ranking_draws),
    noise=float(p.ranking_noise), seed=int(p.seed))
result = rank_partners(values, meta, settings)
display(Markdown(f"**Sector:** {p.sector}; **candidates:** {len(values)}; **weights:** "
                 f"{dict(p.ranking_weights) or 'equal'}; **method:** {p.ranking_normalisation} "
                 f"+ {p.ranking_aggregation}; **missing data:** {p.ranking_imputation}"))

# %% [markdown]
# ## The indicators
#
# Each indicator with its pillar, direction (+1: more is better), unit, source, the years
# used and the share of partners with a value.

# %%
display(meta)

# %% [markdown]
# ## The ranking and its uncertainty
#
# Nominal rank from the chosen method; median rank and 5-95 % band over the Monte Carlo
# draws (weights drawn around the chosen ones, normalisation and aggregation drawn from all
# methods, multiplicative indicator noise). A long band means "number 3" is not robust.

# %%
# NBVAL_CHECK_OUTPUT
ranked = result.table[result.table["status"] == "ranked"].sort_values("rank")
print(ranked[["partner_iso3", "rank", "median_rank", "rank_p05", "rank_p95"]]
      .head(10).to_string(index=False))

# %%
fig = result.plot_bands()
plt.show()
result.summary()

# %% [markdown]
# ## Sensitivity: which choice moves the ranks?
#
# First-order (S1) and total (ST) Sobol indices of the partners' ranks, averaged over
# partners: the share of rank variance due to each choice alone, and with its interactions.

# %%
display(result.sobol.round(3))

# %% [markdown]
# ## Drivers
#
# Each indicator's weighted distance from the average partner: what lifts (blue) or sinks
# (red) a partner's score.

# %%
fig = result.plot_drivers()
plt.show()
top = result.table[result.table["status"] == "ranked"].sort_values("rank").head(15)
display(result.drivers.loc[top["partner_iso3"]].round(3))

# %% [markdown]
# ## Partner profiles

# %%
history = ledger.partner_panel(list(p.partners), periods=["FY"])
for partner in p.partners:
    if partner not in set(result.table["partner_iso3"]):
        display(Markdown(f"### {partner}: not among the candidates (no partner facts)"))
        continue
    display(Markdown(f"### {partner}"))
    display(result.profile(partner))
    h = history[history["partner_iso3"] == partner]
    shown = h.assign(pma=h["value"].map(lambda v: f"{v:,.0f}" if pd.notna(v) else "")
                     .where(h["status"] == "observed", "<" + h["upper_bound"].map("{:,.0f}".format)))
    display(shown.set_index("year")[["pma", "status"]].T)

# %% [markdown]
# ## Provenance

# %%
provenance_summary(p, ledger.hashes)
