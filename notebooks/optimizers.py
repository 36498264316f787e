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
from IPython.display import display

from helpers.book.typeset import Markdown  # plain-text maths of the helpers typeset
from helpers.study import claims, paper, results, stats, studies, training_length
from helpers.book import page, plots, tables

study = page.load_study(results_dir, profile)
display(Markdown(study.provenance))
display(Markdown(tables.optimizers_run_sentence(study.done)))
ran = studies.select(study.means, "optimizers")["optimizer"].nunique()
if ran < 2:
    display(Markdown(f"**Not tested at this scale** ({study.scale}): the records hold "
                     f"{claims.plural(ran, 'optimizer')} at lr 0.00075; the comparison below is empty."))
a0, aavr = tables.optimizers(study.means)


# %% [markdown]
# Accuracies in %: our seed mean, its spread over seeds, the number of
# seeds and of diverged runs, a 95 % t-interval over seeds (none with one seed),
# the paper's value read off its Figure 3, and whether it lies inside our
# interval.

# %% tags=["hide-input"]
ci = stats.cell_intervals(study.records, metrics=("baseline_accuracy", "A_avr"))
for name, metric in (("figure3_a0", "$a_0$"), ("figure3_aavr", "$A_{avr}$")):
    fig3 = paper.with_intervals(ci, name)
    o = studies.STUDIES["optimizers"]   # the one model and LR of the paper's Figure 3
    display(tables.numbered(fig3, f"{metric} (%) per optimizer, "
                            f"{claims.model_name(o.datasets[0], o.depths[0])} at "
                            f"lr = {o.lrs[0]:g}: our seed mean, spread, seeds, 95 % t-interval "
                            "over seeds, and the paper's value read off its Figure 3.",
                            f"tbl-{name.replace('_', '-')}"),
            Markdown(paper.offset_sentence(fig3, metric)))


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
display(Markdown(study.say(claims.claim5(study.done))),
        Markdown(tables.convergence_sentence(
            training_length.convergence(results.histories(study.done)))))


# %% [markdown]
# Training sweeps these models under the paper's reading only; the other readings
# are swept over their saved weights (`python -m helpers.ops.resweep`).
# Claim 5 recomputed under each reading, over the optimizers that reading was swept
# for ({numref}`tbl-optimizer-readings`):

# %% tags=["hide-input"]
readings = claims.across_readings(study.records, claims=(5,))
display(tables.numbered(readings, tables.readings_caption(study.records, 5),
                          "tbl-optimizer-readings"))
