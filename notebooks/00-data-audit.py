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
# # Data audit: what is published about investment in the sector, and how far to trust it
#
# Which figures on realised investment (foreign PMA, domestic PMDN) exist for Indonesia and
# for this report's sector, where do sources disagree, which accounting identities fail, what
# had to be derived, and which partner figures are censored by top-N lists? Every number
# below comes from the validated ledger (`analysis.data`), with its sources.

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
import pandas as pd
from IPython.display import Markdown, display

from analysis.data import LedgerSettings, build_ledger
from analysis.data.check import check_data
from analysis.params import params_from
from analysis.plots import plot_coverage, plot_fy_totals, plot_partner_panel
from analysis.reports import provenance_summary

pd.set_option("display.width", 160)
p = params_from(globals())
ledger = build_ledger(settings=LedgerSettings(fx_basis=p.fx_basis, fx_fallback=p.fx_fallback_basis))
audit = check_data(ledger)
display(Markdown(f"**Sector:** {p.sector} (ledger sectors: {', '.join(p.sectors)}); "
                 f"**years:** {p.start_year}-{p.end_year}; **exchange-rate basis:** {p.fx_basis}"))

# %% [markdown]
# ## The ledger at a glance
#
# Raw rows become one observation per cell; agreeing reprints collapse, disagreeing ones are
# settled by the documented conflict rule and stay listed.

# %%
ledger.summary()

# %% [markdown]
# ## National realisation, full year
#
# PMA in US$ million (converted from the published rupiah at the chosen basis, flagged) and
# PMDN and totals in Rp billion.

# %%
# NBVAL_CHECK_OUTPUT
print(audit.national_table(p.start_year, p.end_year).to_string(index=False))

# %%
fig = plot_fy_totals(ledger, p.start_year, p.end_year)
plt.show()

# %% [markdown]
# ## The sector
#
# Which periods are published for the sector's series (`*` = derived from cumulative
# figures). BKPM publishes chemicals and pharmaceuticals as **one** sector (`chem_pharma`):
# the chemical and the pharma reports both use it and say so.

# %%
coverage = audit.sector_coverage(p.sectors, p.start_year, p.end_year)
display(coverage)
fig = plot_coverage(coverage, "Published periods per year and sector")
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
series = audit.sector_table(p.sectors, p.start_year, p.end_year)
print(series.to_string(index=False))

# %% [markdown]
# ## Where the foreign money comes from
#
# Releases list only the top five (sometimes ten) countries. A partner absent from a list is
# **below** the smallest listed value, not zero: shown as `<x` and as open triangles.

# %%
panel = ledger.partner_panel(list(p.partners), periods=["FY"])
panel = panel[(panel["year"] >= p.start_year) & (panel["year"] <= p.end_year)]
display(audit.partner_table(panel))
fig = plot_partner_panel(panel, p.partners)
plt.show()

# %% [markdown]
# ## Conflicts, identity violations and derived values
#
# Reported, never silently fixed. The full tables are in `reports/data-check/` (`mitra data
# check`).

# %%
# NBVAL_CHECK_OUTPUT
print(audit.issue_counts(p.sectors, p.start_year, p.end_year).to_string())

# %%
display(audit.conflicts_for(p.sectors, p.start_year, p.end_year))
display(audit.violations_for(p.sectors, p.start_year, p.end_year))

# %% [markdown]
# ## Provenance

# %%
provenance_summary(p, ledger.hashes)
