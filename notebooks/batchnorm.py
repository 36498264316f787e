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
# # Batch normalization and noise resistance (the second paper)
#
# Every depth trained with and without batch normalization (Adam, lr = 0.001,
# both datasets), then injected with the same noise. The BN paper's claim
# (claim 8): BN lowers the noise resistance, the more BN layers the worse. A
# ResNet v1 of depth $6n+2$ has $6n+1$ BN layers (one after the stem, two per
# residual block), so depth and BN-layer count move together here.

# %% tags=["parameters", "remove-cell"]
results_dir = "../results/cpu"
profile = "cpu"

# %% tags=["remove-input"]
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from helpers import claims, plots, results, studies

df = results.load_study(results_dir, profile)
display(Markdown(results.provenance(df)))
means = claims.cell_means(claims.completed(df))
bn = studies.select(means, "batchnorm").copy()
bn["BN layers"] = [claims.bn_layers(d) if b else 0 for d, b in zip(bn["depth"], bn["batch_norm"])]
table = bn.pivot_table(index=["dataset", "depth"], columns="batch_norm",
                       values=["baseline_accuracy", "A_avr"])
display((100 * table).round(2))

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(plots.PAGE_WIDTH, 3.6), layout="constrained")
for ax, (dataset, g) in zip(axes, bn.groupby("dataset")):
    for flag, style in ((True, "o-"), (False, "s--")):
        h = g[g["batch_norm"] == flag].sort_values("depth")
        ax.errorbar(h["depth"].map(claims.bn_layers), 100 * h["A_avr"],
                    yerr=100 * h["A_avr_std"].fillna(0), fmt=style, capsize=3,
                    label="with BN" if flag else "without BN")
    ax.set_xlabel("BN layers of the BN model (depth - 1)")
    ax.set_ylabel("average normalized accuracy $A_{avr}$ (%)")
    ax.set_title(dataset.upper())
    ax.legend()
plots.stamp(fig, bool(df["synthetic_data"].any()))
plots.show(fig, "fig-bn")


# %% [markdown]
# ```{glue:figure} fig-bn
# :name: fig-bn
#
# Average normalized accuracy $A_{avr}$ against the number of BN layers of the
# BN model, with BN (circles) and without (squares), Adam at lr = 0.001; error
# bars: spread over training seeds. A model without BN has no BN layer; it is
# drawn at its BN twin's count, so that the two variants of a depth stand side
# by side.
# ```

# %% tags=["hide-input"]
display(Markdown(claims.sentence(claims.claim8(means), claims.caveat(df))))

# %% [markdown]
# ## Does the conclusion survive another noise reading?
#
# Under the paper's reading the BN moving statistics receive noise too, and a
# negative noisy variance turns a whole model's output into NaN; a BN model has
# such arrays, a model without BN has none. Claim 8 recomputed with noise on the
# trainable arrays only, and with BN folded into the convolutions (how
# inference hardware maps BN):

# %% tags=["hide-input"]
readings = claims.across_readings(df, claims=(8,))
display(readings.style.hide(axis="index"))
