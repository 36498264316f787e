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
# # Batch normalization and noise resistance (the second paper)
#
# The design: every depth trained with and without batch normalization (Adam,
# lr = 0.001, both datasets), then injected with the same noise; the records below
# say which of its models have been run. The BN paper's claim
# (claim 8): BN lowers the noise resistance, the more BN layers the worse. A
# ResNet v1 of depth $6n+2$ has $6n+1$ BN layers (one after the stem, two per
# residual block), so depth and BN-layer count move together here.

# %% tags=["parameters", "remove-cell"]
results_dir = "../results/cpu"
profile = "cpu"

# %% tags=["remove-input"]
from IPython.display import display

from helpers.book.typeset import Markdown  # plain-text maths of the helpers typeset
from helpers.study import claims, results
from helpers.book import page, plots, tables

study = page.load_study(results_dir, profile)
display(Markdown(study.provenance))
display(Markdown(tables.batchnorm_run_sentence(study.done)))
bn = tables.batchnorm(study.means)


# %% tags=["hide-input"]
plots.show(plots.batchnorm(bn, study.synthetic), "fig-bn")


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
display(Markdown(study.say(claims.claim8(study.done))))


# %% [markdown]
# ## Does the conclusion survive another noise reading?
#
# Under the paper's reading the BN moving statistics receive noise too, and a
# negative noisy variance turns a whole model's output into NaN; a BN model has
# such arrays, a model without BN has none. So the gap is measured again with
# noise on the trainable arrays only, and with BN folded into the convolutions
# (how inference hardware maps BN).
#
# How large is the gap, and how sure is it? {numref}`tbl-bn-gap` gives $A_{avr}$
# without BN minus with BN under each reading, with Welch's t-interval over the
# seeds of the two models (a seed does not pair a model with its no-BN twin) and
# the exact permutation p-value of the two groups of seeds (3 and 3 seeds: 20
# splits, so p cannot go below 0.1).

# %% tags=["hide-input"]
gaps = tables.batchnorm_gaps(study.records)
shown, said = tables.fixed(tables.gap_interval(gaps.drop(columns=["a0 with BN", "a0 without BN"])),
                           ("dataset", "depth"))
display(tables.numbered(shown, said +
                        "the BN gap per noise reading: $A_{avr}$ (%) with and without BN, "
                        "mean ± std over seeds, and their difference without minus with BN "
                        "(pp) with its 95 % Welch t-interval and exact permutation p-value.",
                        "tbl-bn-gap", precision=1),
        Markdown(tables.batchnorm_sentence(gaps)))

# %% [markdown]
# Claim 8 recomputed under each reading ({numref}`tbl-bn-readings`):

# %% tags=["hide-input"]
readings = claims.across_readings(study.records, claims=(8,))
display(tables.numbered(readings, tables.readings_caption(study.records, 8),
                          "tbl-bn-readings"))
