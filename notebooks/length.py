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
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Training length: does the learning rate's effect survive longer training?
#
# The CPU study trains for 20 epochs, where $a_0$ stays 7-8 points below the
# paper's and the base learning rate lasts 8 epochs. If the larger learning rate
# resists noise better only because the smaller one is less trained, the gap
# between them should shrink as training gets longer. The same ResNet20 cells
# (CIFAR-10, JPEG copy, BN, Adam) trained for 20 epochs (`cpu` profile), 30
# (`fast`, on a GPU), 60 (`long`) and 200 (`paper`, on a GPU) are set side by side
# here, as far as their records exist.

# %% tags=["parameters", "remove-cell"]
# one folder per training length; a folder with no records is skipped
results_dirs = ["../results/cpu", "../results/gpu-fast", "../results/cpu-long",
                "../results/gpu-paper"]
lr_low = 0.0005      # the pair of LRs whose paired gap is compared across lengths
lr_high = 0.0015

# %% tags=["remove-input"]
from IPython.display import display

from helpers.book import length_page, page, plots, tables
from helpers.book.typeset import Markdown
from helpers.experiment import recipe
from helpers.study import claims, training_length

records = length_page.load(results_dirs)
cells = training_length.length_cells(records, always=(lr_low, lr_high))
display(Markdown(page.provenance(length_page.used_records(records, cells))))
gaps = training_length.length_gaps(records, lr_low, lr_high)
synthetic = bool(records["synthetic_data"].any())

# %% [markdown]
# ## The cells at each length
#
# {numref}`tbl-length` gives $a_0$ and $A_{avr}$ under the three main noise
# readings for every learning rate trained at more than one length and for the
# two compared below, and
# {numref}`fig-length` draws $A_{avr}$ against the number of epochs.

# %% tags=["hide-input"]
display(tables.numbered(
    length_page.display_table(cells),
    f"{claims.model_name(recipe.REFERENCE_DATASET, recipe.REFERENCE_DEPTH)}, with BN, Adam: "
    "$a_0$ and $A_{avr}$ (%) per learning "
    "rate and training length, seed mean and 95 % t-interval over the n training seeds "
    "(no interval with one seed). The profiles differ in more than their length: `fast` "
    "ran on a GPU with 5 draws per noise level on all 10,000 test images, `cpu` and "
    "`long` with 10 draws on a fixed 2,000-image subset.", "tbl-length"))
plots.show(length_page.plot(cells, synthetic=synthetic), "fig-length")

# %% [markdown]
# ```{glue:figure} fig-length
# :name: fig-length
#
# $A_{avr}$ against the training length under the paper's reading, with only the
# trainable arrays perturbed, and with BN folded into the convolutions; one line
# per learning rate, error bars the 95 % t-interval over seeds.
# ```
#
# ## The learning-rate gap, paired within seed
#
# {numref}`tbl-length-gap` gives, at each length, the difference in $A_{avr}$
# between the two learning rates over the seeds that trained both, with its
# t-interval and the exact sign-flip p-value (with three pairs the smallest
# p-value possible is 0.25).

# %% tags=["hide-input"]
display(tables.numbered(
    length_page.display_gaps(gaps),
    f"$A_{{avr}}$(lr = {lr_low:g}) − $A_{{avr}}$(lr = {lr_high:g}) in percentage points "
    "per reading and training length: mean over the seed pairs, 95 % t-interval and exact "
    "two-sided sign-flip p-value.", "tbl-length-gap"))
display(Markdown(length_page.sentence(gaps)))
display(Markdown(length_page.verdict_sentence(cells, gaps, lr_low, lr_high)))
