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
# A composite index built the OECD/JRC way and audited the COINr way. Five pillars, weighted
# pillar first: **sector strength** as evidence about *investors* (the sector's
# multinationals headquartered in the partner, its realised PMA in this Indonesian industry,
# statements naming it among the main investors, its project pipeline; exports, revealed
# comparative advantage and value added as lower-weight capability evidence; for textiles,
# the relocation push of higher labour costs), **capacity** to invest abroad (outward FDI
# stock and flows), **market**, **presence** in Indonesia (every BKPM list) and **ties**
# (trade agreements, investment and tax treaties). Sector and presence weigh twice the
# others by default, the choice the backtest below supports. Missing data never help (a gap takes the worst observed value and is
# flagged), partners below BKPM's top-N lists enter as intervals, and hubs that route
# third-country capital are flagged. Then the uncertainty: a Monte Carlo over every choice
# gives each partner a rank band, and Sobol indices say which choice moves the ranks most.

# %% tags=["parameters"]
run_name: str = "default"  # name of the run (letters, digits, - _ .)
sector: str = "textile"  # textile | chemical | pharma
end_year: int = 2024  # latest year of data used
partners: list = ["SGP", "CHN", "HKG", "JPN", "KOR", "MYS", "USA", "TWN"]  # partners to profile
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
# The gravity study whose agreement effects this report reads: the same settings as report 20.
gravity_assumed: dict = {}  # fixed coefficients: {term: {value, citation}}
gravity_priors: dict = {"agreement": "kox_rojas_romagosa_2020_pta"}  # {term: prior id}
gravity_hubs: list = ["NLD", "GBR", "IRL", "SGP", "CHE", "LUX", "HKG", "VGB", "BMU", "CYM", "MUS"]  # hub economies
gravity_draws: int = 1000  # coefficient draws for the potential intervals
gravity_distribution_reps: int = 40  # simulated samples per scenario of the distribution check (0: skip)

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from analysis.params import params_from
from analysis.reports import provenance_summary
from analysis.studies.inputs import inputs
from analysis.studies.ranking import run, settings

p = params_from(globals())
ledger = inputs(p).ledger
study = run(settings(p), inputs(p))

# %%
# NBVAL_CHECK_OUTPUT
study.findings()

# %% [markdown] tags=["appendix"]
# ## The indicators and their effective weights
#
# Each indicator with its pillar, the pillar's weight, its weight within the pillar and the
# resulting effective weight, its unit, source and the years used. Pillar weights are
# respected exactly: the effective weights of a pillar sum to the pillar's weight.

# %% tags=["appendix"]
study.show("weights")

# %% [markdown]
# ## The ranking and its uncertainty
#
# Nominal rank from the chosen methods; median rank and 5-95 % band over the Monte Carlo
# draws, which vary every choice at once: normalisation, aggregation, weights (Dirichlet
# around the chosen ones, at pillar and indicator level), missing-data rule, pillar-coverage
# threshold, hub treatment, indicator noise, and the censored values inside their intervals.
# A long band means "number 3" is not robust. Hubs are marked.

# %%
# NBVAL_CHECK_OUTPUT
study.show("ranking")

# %%
fig = study.plot_bands(top=25)
plt.show()
study.summary()

# %% [markdown] tags=["appendix"]
# ## Pillar scores and flags
#
# Each partner's score per pillar (0-1 under min-max), the share of the pillar's weight it
# covers, and which of its indicators were imputed, excluded as a hub, or entered as a
# censored interval. A pillar below the coverage rule has no score and the partner is not
# ranked.

# %% tags=["appendix"]
study.show("pillar_matrix")
study.show("flagged_pillars")

# %% [markdown] tags=["appendix"]
# ## Sensitivity: which choice moves the ranks? (Sobol)
#
# First-order (S1) and total (ST) Sobol indices of the ranked partners' ranks, pooled as a
# share of the total rank variance, with 95 % bootstrap intervals: the share of rank
# variance due to each choice alone, and with its interactions. Investment routed through a
# third country (chemicals: Lotte Chemical, recorded under Malaysia, ultimate investor Korea)
# has two views, not a range: the nominal index takes the recorded one, each Monte Carlo draw
# takes one view for every routed cell at once, and the Sobol design treats the view as a
# factor. The ranks of the partners concerned under each view follow (none in other sectors).

# %% tags=["appendix"]
study.show("sobol")
study.show("routed_views")

# %% [markdown] tags=["appendix"]
# ## Convergence and stability
#
# The bands from the first half of the draws (N) against all draws (2N): they agree when
# every band end moves by at most one rank. Kendall's tau between the nominal ranking and
# each draw.

# %% tags=["appendix"]
study.show("convergence")
study.show("stability")

# %% [markdown] tags=["appendix"]
# ## Audit
#
# As COINr does: correlations within and across pillars, a reliability measure per pillar
# (Cronbach's alpha and the first principal component's share of variance), outliers
# (absolute skewness > 2 and kurtosis > 3.5) and how they were treated, and how ranks move
# when each indicator is dropped.

# %% tags=["appendix"]
study.show("audit_pillars")
study.show("pillar_correlations")
study.show("outliers")
study.show("indicator_removal")

# %% [markdown]
# ## Drivers
#
# Each indicator's weighted distance from the average ranked partner: what lifts (blue) or
# sinks (red) a partner's score.

# %%
fig = study.plot_drivers()
plt.show()

# %% [markdown] tags=["appendix"]
# ## Sectors compared
#
# The same settings rank the candidates for each sector; only the sector pillar differs.
# Kendall's tau between the sectors' rankings (partners ranked in both), then the top 10
# of each.

# %% tags=["appendix"]
study.show("sector_correlation")
study.show("sector_top10")

# %% [markdown]
# ## Predictive validity: does the ranking find the next investors?
#
# A backtest: for every origin year t from 2014, the ranking is built only from data up to t
# and scored against BKPM's country lists of t+1 to t+3 (every published period). A partner
# missing from a top-N list is below the list's last value, not zero, so the concordance
# counts only the pairs the lists order. Two naive baselines are scored the same way: last
# list's PMA ranking and GDP alone. Newcomers are partners absent from every list up to t.
# The lists of t+1 to t+3 never enter the indicators of origin t (hold-out by time); the
# panel holds the latest vintage of each series, and the yardstick is PMA from all sectors,
# so it validates finding investors, not the sector pillar as such. `validation.csv` holds
# every origin, method and metric.

# %%
# NBVAL_CHECK_OUTPUT
study.show("validation_summary")
study.show("validation_variants")

# %% [markdown]
# ## Documented investors: where does the ranking put them?
#
# The partners that the compiled data show investing in this Indonesian industry: realised
# PMA by partner in the sector (BKPM, including its host-side figures by country), BKPM or
# ministry statements naming the industry's main foreign investors, and projects of the
# partner's firms that are operating or under construction. The same evidence also enters
# the sector pillar, so the yardstick is the ranking re-run **without** those three
# indicators (realised partner x sector PMA, statements, project pipeline): its nominal rank,
# median rank and 5-95 % band. The full ranking's ranks are shown beside it.

# %%
study.show("documented_investors")

# %% [markdown]
# ## Pending agreements: what would they add?
#
# Candidates with an agreement signed or negotiated but not in force (IEU-CEPA members,
# Canada; the EAEU members and Peru are not candidates): the agreement's effect on actual
# flows with its 95 % interval, read from the gravity study (report 20) without refitting.
# A member without a published flow has only a bound ("bounded"); its effect on the model
# baseline is shown beside it.

# %%
study.show("agreement_effects")

# %% [markdown]
# ## What if?
#
# In JupyterLab: move the pillar weights or change a method and the ranking and the band
# chart recompute in place (nominal ranking plus a 1,000-draw Monte Carlo). Inert in a batch
# run.

# %%
study.what_if()

# %% [markdown] tags=["appendix"]
# ## Partner profiles

# %% tags=["appendix"]
for partner in p.partners:
    if partner not in set(study.result.table["partner_iso3"]):
        display(Markdown(f"### {partner}: not among the candidates"))
        continue
    display(Markdown(f"### {partner}"))
    display(study.profile(partner))

# %% [markdown] tags=["appendix"]
# ## Tables
#
# The ranking, pillar scores, effective weights, Sobol indices and every indicator cell
# with its flags, written as CSV next to the report.

# %% tags=["appendix"]
paths = study.write_tables()
display(Markdown(", ".join(f"`{path.name}`" for path in paths.values())))

# %% [markdown] tags=["appendix"]
# ## Provenance

# %% tags=["appendix"]
provenance_summary(p, ledger.hashes)
