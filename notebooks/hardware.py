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
# # The same cells on a GPU: another backend, another schedule
#
# The CPU study trains with TensorFlow for 20 epochs; the GPU study
# (`make gpu-study`, resumable across time-limited GPU sessions) trains the same ResNet20 cells
# with JAX's fast engine for 30 epochs of the same compressed step schedule, and
# sweeps N = 5 draws per noise level on all 10,000 test images. Do the baseline
# accuracy and the learning rate's effect on noise resistance come out the same?

# %% tags=["parameters", "remove-cell"]
results_dir = "../results/cpu"       # the CPU study's records
profile = "cpu"
gpu_results_dir = "../results/gpu-fast"
gpu_profile = "fast"

# %% tags=["remove-input"]
from IPython.display import display

from helpers.book.typeset import Markdown  # plain-text maths of the helpers typeset
from helpers.study import results
from helpers.book import page, plots, tables

cpu = page.load_study(results_dir, profile)
gpu = page.load_study(gpu_results_dir, gpu_profile)
display(Markdown(f"**CPU study.** {cpu.provenance}\n\n**GPU study.** {gpu.provenance}"))
records = tables.shared_cells({"CPU": cpu.done, "GPU": gpu.done})
cells, verdicts = tables.across_studies(records)

# %% [markdown]
# ## The shared cells side by side
#
# {numref}`tbl-across` sets the two studies' numbers side by side on the cells
# that both ran; {numref}`fig-across` draws $A_{avr}$ against the LR under the
# three main noise readings (defined on the {doc}`../method` page).

# %% tags=["hide-input"]
shown, said = tables.fixed(tables.by_study(cells))
display(tables.numbered(
    shown, said + f"$a_0$ and $A_{{avr}}$ (%) per LR in the "
    f"CPU study ({cpu.scale}) and the GPU study ({gpu.scale}), one row per LR and study; "
    "seed mean ± std over the `seeds` (a dash: one seed).", "tbl-across"))
plots.show(plots.across_studies(records, synthetic=cpu.synthetic or gpu.synthetic), "fig-across")
display(tables.numbered(tables.across_claim3(records), "Claim 3 (A_avr falls as the LR "
                        "grows) on the shared cells of each study, under each noise reading: "
                        "the verdict, the median Spearman rho(LR, A_avr) within seeds and the "
                        "exact permutation p of its trend test.", "tbl-across-claim3"))
display(Markdown(tables.across_sentence(records, verdicts)
                 + (f" *The GPU side is indicative only: {gpu.caveat}.*" if gpu.caveat else "")))

# %% [markdown]
# ```{glue:figure} fig-across
# :name: fig-across
#
# $A_{avr}$ against the learning rate under the paper's reading (every array, BN
# statistics included), with only the trainable arrays perturbed, and with BN
# folded into the convolutions: the CPU study (seed mean, error bars: std over
# seeds) and the GPU study on the same cells.
# ```
