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
# A structural gravity model estimated by Poisson pseudo-maximum likelihood (PPML; Santos
# Silva & Tenreyro 2006) relates each partner's full-year direct investment in Indonesia to
# its economic size, distance, regional ties and agreements in force, with year fixed
# effects. Predicted minus actual is the *untapped potential*, as in the ITC Export
# Potential Map. Indonesia's own data are thin and censored: the report says what they can
# identify and what had to be assumed.

# %% tags=["parameters"]
run_name: str = "default"  # name of the run (letters, digits, - _ .)
sector: str = "textile"  # textile | chemical | pharma
partners: list = ["SGP", "CHN", "HKG", "JPN", "KOR", "MYS", "USA", "TWN"]  # partner ISO3 codes
gravity_assumed: dict = {"lgdp": {"value": 0.733, "citation": "Santos Silva & Tenreyro (2006), Table 3, PPML, exporter GDP (trade elasticity used as a proxy)"}, "ldist": {"value": -0.784, "citation": "Santos Silva & Tenreyro (2006), Table 3, PPML, distance (trade elasticity used as a proxy)"}}  # literature coefficients, as in params/base.yaml

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from analysis.data import build_ledger
from analysis.params import params_from
from analysis.partners import fit_indonesia_gravity
from analysis.plots import plot_potential
from analysis.reports import provenance_summary

pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 100)
p = params_from(globals())
ledger = build_ledger()
estimated = fit_indonesia_gravity(ledger)
used = fit_indonesia_gravity(ledger, assumed=p.gravity_assumed) if p.gravity_assumed else estimated
display(Markdown(
    f"**Sector:** {p.sector}. No partner-by-sector investment series is published, so the "
    "gravity model is fitted on national PMA by partner; sector strength enters the partner "
    "ranking instead."))

# %% [markdown]
# ## What Indonesia's data can identify
#
# First every coefficient estimated from Indonesia's own data, then the fit used for
# potential, where coefficients the data cannot pin down come from the literature (listed
# with their citations). "listed only" uses partner-years in the published top lists;
# "censored at bound" adds the unlisted ones at their upper bound.

# %%
# NBVAL_CHECK_OUTPUT
print(f"partner-years listed with covariates: {estimated.main.nobs if estimated.main else 0}")
print(estimated.estimates().round(3).to_string())

# %%
for note in estimated.notes:
    display(Markdown(f"- {note}"))
used.main.summary() if used.main is not None else Markdown("No fit possible.")

# %% [markdown]
# ## Potential against actual
#
# Predicted PMA (95 % confidence interval from the estimated coefficients; fixed effects and
# assumed coefficients held at their values) against the latest full-year actual. A partner
# not in the top list has an actual *below* the marked bound, so its untapped potential is
# *at least* predicted minus bound.

# %%
pot = used.potential
if len(pot):
    fig = plot_potential(pot[pot["partner_iso3"].isin(p.partners) | (pot.index < 12)])
    plt.show()
    display(pot.head(15).round(1))

# %% [markdown]
# ## Counterfactual: an agreement in force with each partner that has none

# %%
if used.main is not None and "agreement" in set(used.main.table["term"]):
    latest = used.panel[used.panel["year"] == used.panel.loc[used.panel["status"] == "observed", "year"].max()]
    latest = latest[latest["partner_iso3"].isin(p.partners) & (latest["agreement"] == 0)]
    latest = latest.dropna(subset=["lgdp", "ldist"])
    if len(latest):
        cf = used.main.counterfactual(latest, {"agreement": 1})
        cf.insert(0, "partner_iso3", latest["partner_iso3"].to_numpy())
        display(cf.round(3))
    else:
        display(Markdown("Every selected partner already has an agreement in force."))
else:
    display(Markdown("The agreement effect is not identified from the data."))

# %% [markdown]
# ## Provenance

# %%
provenance_summary(p, ledger.hashes)
