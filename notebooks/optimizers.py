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
from IPython.display import Markdown, display

from helpers import claims, plots, results, studies, tables

study = results.load_study(results_dir, profile)
display(Markdown(study.provenance))
ran = studies.select(study.means, "optimizers")["optimizer"].nunique()
if ran < 2:
    display(Markdown(f"**Not tested at this scale** ({study.scale}): the records hold "
                     f"{ran} optimizer(s) at lr 0.00075; the comparison below is empty."))
a0, aavr, both = tables.optimizers(study.means)
display(both)


# %% tags=["hide-input"]
plots.show(plots.optimizers(a0, aavr, study.synthetic), "fig-optimizers")


# %% [markdown]
# ```{glue:figure} fig-optimizers
# :name: fig-optimizers
#
# ResNet20 on CIFAR-10 at lr = 0.00075, one bar pair per optimizer: baseline
# accuracy $a_0$ (left) and average normalized accuracy $A_{avr}$ (right), ours
# (seed mean; error bars: spread over seeds) beside the paper's Figure 3 (grey).
# ```

# %% tags=["hide-input"]
display(Markdown(study.say(claims.claim5(study.means))))
