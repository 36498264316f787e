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
results_dir = "../results/cpu"   # a folder of run records
profile = "cpu"                  # smoke | fast | cpu | paper

# %% tags=["remove-input"]
from IPython.display import display

from helpers.book.typeset import Markdown  # plain-text maths of the helpers typeset
from helpers.study import claims, paper, results, stats
from helpers.book import page, plots, tables

study = page.load_study(results_dir, profile)
display(Markdown(study.provenance))


# %% [markdown]
# ## Table II, ours beside the paper's
#
# {numref}`tbl-table2-cifar10` (and one table per other dataset in the records)
# sets our baseline accuracy beside the paper's Table II. The interval is a Student-t
# interval over the training seeds; our LRs outside the paper's range have no paper
# value, and a cell with fewer than three seeds is labelled indicative only.

# %% tags=["hide-input"]
t2 = paper.with_intervals(stats.cell_intervals(study.records, metrics=("baseline_accuracy",)),
                          "table2")
display(*tables.per_dataset(
    t2, "Table II of the paper beside ours: baseline accuracy $a_0$ (%) per depth and LR "
    "(Adam): our seed mean, its spread over seeds, the number of seeds and of diverged "
    "runs, our 95 % t-interval over seeds, the paper's single "
    "run and whether it lies inside our interval.", "tbl-table2"))


# %% tags=["hide-input"]
display(Markdown(paper.offset_sentences(t2, "$a_0$") + f" Scale: {study.scale}. "
                 + study.say(claims.claim1(study.means))))


# %% [markdown]
# ## Are the models trained out?
#
# This study compresses the paper's 200-epoch step schedule into fewer epochs. If
# the test accuracy were still rising at the end, $a_0$ and the noise results
# would describe models caught mid-training. {numref}`fig-test-curves` shows the
# test accuracy of every run after each epoch.

# %% tags=["hide-input"]
hist = results.histories(study.done)
plots.show(plots.test_curves(hist, study.synthetic), "fig-test-curves")
display(Markdown(tables.training_sentence(hist)))

# %% [markdown]
# ```{glue:figure} fig-test-curves
# :name: fig-test-curves
#
# Test accuracy after each epoch (all 10,000 test images in the `cpu` profile), one line per learning
# rate (seed mean; band: range over seeds), models with BN solid and the model
# without BN dashed. Dotted lines: the epochs where the step schedule lowers the
# learning rate.
# ```
