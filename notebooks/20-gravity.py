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
# # Gravity: which partners invest less in Indonesia than their size, distance and ties predict?
#
# A reduced-form gravity regression for one host (Indonesia) relates each partner's
# full-year foreign direct investment realisation (PMA) to its GDP, its distance to Jakarta,
# whether it is an investment hub (a conduit or phantom-FDI host in the cited lists) and
# whether an agreement is in force, with a level for each list. BKPM publishes only the top five
# or so investors of a period, so every other partner enters the likelihood as *below the
# fifth listed value*: an interval-censored Gamma regression with a log-linear mean, not PPML
# on the listed few. A year without a usable full-year list contributes its quarterly or
# half-year lists instead (never both: a year's quarters are the same flows as its full
# year), each with its own bound and level, and part-year flows their own dispersion. The model's expected PMA is the partner's *potential*; it is capped at the
# partner's total outward FDI (never at zero: a negative net outflow falls back to a multi-year
# or gross measure, flagged), checked against the share of the partner's outward FDI that
# Indonesia receives from comparable partners, and shown with an interval. Where the actual is
# known the untapped gap (potential minus actual) is identified; where it is only bounded, the
# gap has a signed lower bound.

# %% tags=["parameters"]
run_name: str = "default"  # name of the run (letters, digits, - _ .)
sector: str = "textile"  # textile | chemical | pharma
partners: list = ["SGP", "CHN", "HKG", "JPN", "KOR", "MYS", "USA", "TWN"]  # partner ISO3 codes
seed: int = 20261127  # random seed (coefficient draws)
fx_basis: str = "apbn"  # exchange-rate basis: apbn | market
fx_fallback: str = "market"  # basis for years the main one lacks: apbn | market | none
gravity_assumed: dict = {}  # fixed coefficients: {term: {value, citation}}
gravity_priors: dict = {"agreement": "kox_rojas_romagosa_2020_pta"}  # {term: prior id}
gravity_hubs: list = ["NLD", "GBR", "IRL", "SGP", "CHE", "LUX", "HKG", "VGB", "BMU", "CYM", "MUS"]  # hub economies
gravity_draws: int = 1000  # coefficient draws for the potential intervals
gravity_distribution_reps: int = 40  # simulated samples per scenario of the distribution check (0: skip)

# %%
import matplotlib.pyplot as plt

from analysis.base.i18n import count, label
from analysis.params import params_from
from analysis.present.plots import plot_potential
from analysis.reports import provenance_summary
from analysis.studies.gravity import run, settings
from analysis.studies.inputs import inputs

p = params_from(globals())
ledger = inputs(p).ledger
study = run(settings(p), inputs(p))  # one fit per batch
paths = study.write_tables()

# %%
# NBVAL_CHECK_OUTPUT
study.findings()

# %% [markdown]
# ## What the data identify, and what comes from a prior
#
# Each coefficient is *estimated* (from Indonesia's data alone), *prior* (a normal prior from
# the FDI literature or a labelled weakly-informative one, carried into the intervals) or
# *fixed*. Next to it, the PPML fit on the listed partner-years only: it selects on the
# outcome, so its size and distance effects are biased towards zero.

# %%
# NBVAL_CHECK_OUTPUT
print(f"partner-periods used: {len(study.frame)} "
      f"(listed {int((study.frame['status'] == 'listed').sum())})")
print(next(n for n in study.notes if n.startswith("Lists in the likelihood")))
for source, terms in study.coefficients().groupby("source", sort=False)["term"]:
    print(f"{label('coef_source', source)}: {', '.join(label('gravity_term', t) for t in terms)}")

# %% tags=["appendix"]
study.show("coefficients")
study.summary()

# %% [markdown]
# ## Potential against actual, latest year
#
# Expected PMA with a 95 % interval (coefficient and prior uncertainty), the actual where the
# partner was listed, "below this" where it was not, and the partner's total net FDI outflow,
# the cap: a hollow dot is a potential that the cap lowered.

# %%
fig = plot_potential(study.latest("total"))
plt.show()
study.show("potential_total")

# %% [markdown]
# ### Untapped potential and plausibility
#
# The gap is *identified* (with an interval) only where the partner was listed; for the others
# the actual is only known to be below the year's bound, so the gap has a signed lower bound
# (lower end of the potential minus the bound). A potential implying that Indonesia would take
# a larger share of the partner's outward FDI than it receives from any comparable partner
# (same hub status) is flagged with the reason.

# %%
# NBVAL_CHECK_OUTPUT
print(study.gap_sentence())
latest = study.latest("total")
for status, n in latest["gap_status"].value_counts().items():
    print(f"{label('gap_status', status)}: {count(n, 'partners')}")
for r in latest[latest["plausibility_flag"] != ""].itertuples():
    print(f"flagged: {label('partner', r.partner_iso3)}: {r.plausibility_flag}")

# %% [markdown]
# ## Sector potential
#
# An adaptation to investment of the supply x demand x ease decomposition of ITC's Export
# Potential Map: the aggregate potential (ease) times the sector's share of Indonesia's PMA
# (demand) times investor-side supply: how many of the sector's multinationals are
# headquartered in the partner (league tables) against what its GDP implies, shrunk towards
# the average so that one firm in a small economy does not lead the sector. A partner absent
# from the part of the tables we have has no sector potential: a gap in the evidence, flagged,
# not a zero; the table shows what one listed firm would imply as the most. No partner-by-
# sector investment series is published, so these have no actual to compare with.

# %%
# NBVAL_CHECK_OUTPUT
sector_rows = study.latest(study.settings.sector)
print(f"{int(sector_rows['predicted'].notna().sum())} partners with investor-side evidence, "
      f"{int(sector_rows['predicted'].isna().sum())} gaps")

# %%
study.show("potential_sector")

# %% [markdown]
# ## IEU-CEPA and the Indonesia-Canada CEPA in force
#
# The agreement term switched on for every EU member and Canada in the latest year: a
# partial-equilibrium FDI effect (no diversion from other partners, no change in Indonesia's
# total), with a 95 % interval.

# %%
study.show("counterfactual")

# %% [markdown]
# ### Pending agreements: effect on measured flows and on the model baseline
#
# The same agreement effect applied to two flows: the members' *measured* flows (the mean of
# their published full-year PMA; members never listed are only bounded) and the model's
# baseline for every member. The headline quotes the first: an agreement effect is a
# proportional change in a partner's own flows, and the baseline of members never listed is a
# prediction that no published figure confirms.

# %%
# NBVAL_CHECK_OUTPUT
print(study.agreement_headline("IEU-CEPA"))

# %%
study.show("agreement_effects")

# %% [markdown]
# ## Does the Gamma assumption matter?
#
# The censored likelihood relies on the outcome distribution for the unlisted partner-years.
# The same model refitted with a lognormal outcome (same mean) is compared by AIC, and
# simulated top-N samples (from the fitted Gamma, the fitted lognormal and a heavier-tailed
# lognormal) refitted with the Gamma model show the bias and the coverage of its 95 %
# intervals.

# %%
# NBVAL_CHECK_OUTPUT
print(next(n for n in study.notes if n.startswith("Distribution check:")))

# %%
study.show("distribution")
study.coverage

# %% [markdown] tags=["appendix"]
# ## Provenance

# %% tags=["appendix"]
provenance_summary(p, ledger.hashes)
