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
# # Baseline accuracy against the learning rate (Table II)
#
# The test accuracy $a_0$ of every model of the LR grid without noise, our seed
# mean beside the paper's Table II. Claim 1 of the paper: in this LR range the
# baseline accuracy barely depends on the LR.

# %% tags=["parameters", "remove-cell"]
results_dir = "../results/smoke"   # a folder of run records
profile = "smoke"                  # smoke | fast | paper

# %% tags=["remove-input"]
from IPython.display import Markdown, display

from helpers import claims, paper, results

df = results.load_study(results_dir, profile)
display(Markdown(results.provenance(df)))
means = claims.cell_means(claims.completed(df))

# %% [markdown]
# ## Table II, ours beside the paper's
#
# Accuracies in %; `ours_std_pct` is the spread over training seeds, `diff_pp`
# ours minus paper in percentage points. Empty cells: not run in this profile.

# %% tags=["hide-input"]
t2 = paper.beside(means, "table2")
for dataset, t in t2.groupby("dataset"):
    display(Markdown(f"**{dataset.upper()}**"))
    display(t.pivot_table(index="lr", columns="depth", values=["ours_pct", "paper_pct"],
                          dropna=False).round(2))

# %% tags=["hide-input"]
display(Markdown(claims.sentence(claims.claim1(means), claims.caveat(df))))
