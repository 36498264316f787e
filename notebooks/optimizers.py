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
# # Six optimizers at lr = 0.00075 (Figure 3)
#
# ResNet20 on CIFAR-10 trained with Adam, Nadam, Adamax, SGD, SGD with momentum
# and SGD with Nesterov momentum at the same base LR, then injected with noise.
# Claim 5 of the paper: the adaptive optimizers beat the SGD variants on both
# baseline accuracy and noise resistance. {numref}`fig-optimizers` sets our
# values beside the paper's Figure 3.

# %% tags=["parameters", "remove-cell"]
results_dir = "../results/cpu"
profile = "cpu"

# %% tags=["remove-input"]
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from helpers import claims, paper, plots, results, studies

df = results.load_study(results_dir, profile)
display(Markdown(results.provenance(df)))
means = claims.cell_means(claims.completed(df))
ran = studies.select(means, "optimizers")["optimizer"].nunique()
if ran < 2:
    display(Markdown(f"**Not tested at this scale** ({claims.scale(df)}): the records hold "
                     f"{ran} optimizer(s) at lr 0.00075; the comparison below is empty."))
a0 = paper.beside(means, "figure3_a0")
aavr = paper.beside(means, "figure3_aavr")
display(a0.merge(aavr, on="optimizer", suffixes=("_a0", "_A_avr"))[
    ["optimizer", "n_seeds_a0", "ours_pct_a0", "paper_pct_a0", "ours_pct_A_avr",
     "paper_pct_A_avr"]].round(2))

# %% tags=["hide-input"]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(plots.PAGE_WIDTH, 4.2), layout="constrained")
plots.paired_bars(a0, "optimizer", "ours_pct", "paper_pct", "baseline accuracy $a_0$ (%)", ax1)
plots.paired_bars(aavr, "optimizer", "ours_pct", "paper_pct", "average normalized accuracy $A_{avr}$ (%)",
                  ax2, colour="tab:orange")
fig.suptitle("ResNet20, CIFAR-10, lr = 0.00075: ours (seed mean) and the paper's Figure 3")
plots.stamp(fig, bool(df["synthetic_data"].any()))
plots.show(fig, "fig-optimizers")


# %% [markdown]
# ```{glue:figure} fig-optimizers
# :name: fig-optimizers
#
# ResNet20 on CIFAR-10 at lr = 0.00075, one bar pair per optimizer: baseline
# accuracy $a_0$ (left) and average normalized accuracy $A_{avr}$ (right), ours
# (seed mean; error bars: spread over seeds) beside the paper's Figure 3 (grey).
# ```

# %% tags=["hide-input"]
display(Markdown(claims.sentence(claims.claim5(means), claims.caveat(df))))
