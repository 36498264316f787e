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
results_dir = "../results/smoke"
profile = "smoke"

# %% tags=["remove-input"]
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from helpers import claims, plots, results

df = results.load_study(results_dir, profile)
display(Markdown(results.provenance(df)))
means = claims.cell_means(claims.completed(df))
bn = means[(means["optimizer"] == "adam") & ((means["lr"] - 0.001).abs() < 1e-12)].copy()
bn["BN layers"] = [claims.bn_layers(d) if b else 0 for d, b in zip(bn["depth"], bn["batch_norm"])]
table = bn.pivot_table(index=["dataset", "depth"], columns="batch_norm",
                       values=["baseline_accuracy", "A_avr"])
display((100 * table).round(2))

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
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
# bars: spread over training seeds. Without BN the same depth has no BN layer;
# its points sit at the BN model's count for comparison.
# ```
#
# {numref}`fig-bn` sets the two variants of each depth side by side.

# %% tags=["hide-input"]
display(Markdown(claims.sentence(claims.claim8(means), claims.caveat(df))))
