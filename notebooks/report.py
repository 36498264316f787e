# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Reproduction report: the paper's eight claims
#
# For each claim of the paper (see the {doc}`../method` page), the paper's evidence,
# ours, and a verdict with the statistic it rests on. Everything on this page is
# computed from the run records by `helpers.claims`; the thresholds are fixed
# there in advance (e.g. "barely depends" = the LR range of $a_0$ stays within
# 3.5 points, the largest range in the paper's own Table II being 3.15). A verdict needs at least three training seeds per cell on the real
# data; otherwise it is marked *indicative only*, with the reason.

# %% tags=["parameters", "remove-cell"]
results_dir = "../results/smoke"
profile = "smoke"

# %% tags=["remove-input"]
import pandas as pd
from IPython.display import Markdown, display

from helpers import claims, results

df = results.load_study(results_dir, profile)
display(Markdown(results.provenance(df)))
verdicts = claims.verdicts(df)

# %% tags=["hide-input"]
table = claims.verdict_table(verdicts)
# a caveat shared by every claim is stated once, below the table, not in each row
shared = table["indicative only"].nunique() == 1
columns = ["claim", "statement", "verdict", "statistic"] + ([] if shared else ["indicative only"])
with pd.option_context("display.max_colwidth", None):
    display(table[columns].style.hide(axis="index").format(escape="html"))

# %% tags=["hide-input"]
counts = table["verdict"].value_counts()
display(Markdown(
    "Of the eight claims, " + ", ".join(f"{n} {k}" for k, n in counts.items()) + "."
    + (f" **None of these is a verdict yet: {verdicts[0].indicative}.**" if verdicts[0].indicative else "")))
for v in verdicts:
    display(Markdown(f"**Claim {v.claim}.** {v.statement}\n\n- paper: {v.paper or 'n/a'}\n"
                     f"- ours: {v.ours or 'n/a'}\n- verdict: **{v.outcome}** ({v.statistic or 'no statistic'})"))
