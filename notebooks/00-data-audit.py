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
sector: str = "textile"  # textile | chemical | pharma
start_year: int = 2015  # first year shown
end_year: int = 2024  # last year shown
fx_basis: str = "apbn"  # exchange-rate basis: apbn | market
fx_fallback: str = "market"  # basis for years the main one lacks: apbn | market | none
partners: list = ["SGP", "CHN", "HKG", "JPN", "KOR", "MYS", "USA", "TWN"]  # partner ISO3 codes

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from analysis.base.i18n import label
from analysis.params import params_from
from analysis.reports import provenance_summary
from analysis.studies.audit import run, settings
from analysis.studies.inputs import inputs

p = params_from(globals())
ledger = inputs(p).ledger
audit = run(settings(p), inputs(p))
display(audit.title())

# %% [markdown]
# Which figures on realised investment (foreign PMA, domestic PMDN) exist for Indonesia and
# for this report's sector, where do sources disagree, which accounting identities fail, what
# had to be derived, and which partner figures are censored by top-N lists? Every number
# below comes from the validated investment ledger, with its sources.

# %%
display(Markdown(
    f"**Sector:** {label('sector', p.sector)} (BKPM series used: "
    f"{', '.join(label('ledger_sector', s) for s in p.sectors)}); **years:** "
    f"{p.start_year}-{p.end_year}; **exchange-rate basis:** "
    f"{'state-budget (APBN) rate' if p.fx_basis == 'apbn' else 'market average rate'}"))

# %%
# NBVAL_CHECK_OUTPUT
audit.key_findings()

# %% [markdown]
# ## National realisation, full year
#
# Foreign investment (PMA) in US$ million as BKPM publishes it and in rupiah at the chosen
# exchange-rate basis (flagged); domestic investment (PMDN) and totals in Rp trillion, as in
# the chart (the CSV table keeps the ledger's Rp billion).

# %%
audit.show("national")
fig = audit.plot_national()
plt.show()

# %% [markdown]
# ## The sector
#
# Which periods are published for the sector's national series (`*` = derived from
# cumulative figures). BKPM publishes chemicals and pharmaceuticals as **one** sector: the
# chemical and the pharma reports both use it and say so.

# %%
audit.show("coverage")
audit.show("sector")

# %% [markdown]
# ## Where the foreign money comes from
#
# Releases list only the top five (sometimes ten) countries. A partner absent from a list is
# **below** the smallest listed value, not zero: written `< x` and drawn as open triangles.

# %%
audit.show("partners")
fig = audit.plot_partners()
plt.show()

# %% [markdown] tags=["appendix"]
# ## Conflicts, identity violations and derived values
#
# Reported, never silently fixed. The full tables are in `reports/data-check/` (`mitra data
# check`).

# %% tags=["appendix"]
audit.show("counts")
audit.show("conflicts")
audit.show("violations")

# %% [markdown] tags=["appendix"]
# ## Provenance

# %% tags=["appendix"]
provenance_summary(p, ledger.hashes)
