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
# # Noise injection: Figures 1, 2 and 4, Table III, and the noise-model ablation
#
# Every trained model of the LR grid gets additive Gaussian noise on its weights,
# $\sigma_{noise} = \eta\,\sigma_w$ (eq. 4-6), at
# $\eta$ = 1, 5, 10, 20, 30 and 40 %, N times per level; $A^x = a^x / a_0$ is the
# normalized accuracy (eq. 8) and $A_{avr}$ its mean over the six levels (eq. 9).

# %% tags=["parameters", "remove-cell"]
results_dir = "../results/cpu"
profile = "cpu"
# the study's models retrained with their weights kept (the mechanism readings' models):
# by default the folder beside results_dir named <folder>-retrain
retrain_dir = "auto"

# %% tags=["remove-input"]
from pathlib import Path

import pandas as pd
from IPython.display import display

from helpers.book.typeset import Markdown  # plain-text maths of the helpers typeset
from helpers.book import page, plots, tables
from helpers.experiment import noise_model, recipe
from helpers.study import breakage, claims, paper, results, stats, studies

study = page.load_study(results_dir, profile)
display(Markdown(study.provenance))


# %% [markdown]
# ## Figures 1 and 2: normalized accuracy against the noise level
#
# {numref}`fig-noise`: one panel per dataset and depth in the records, one line
# per LR (colour and marker fixed per LR across the book); crosses: the values the
# paper quotes in its text.

# %% tags=["hide-input"]
plots.show(plots.noise_panels(study.done, recipe.DATASETS, paper_in_text=paper.table("in_text"),
                              synthetic=study.synthetic), "fig-noise")
absent = [f"{recipe.name('dataset', ds)} (the paper's Figure {recipe.PAPER_NOISE_FIGURE[ds]})"
          for ds in recipe.DATASETS if ds not in set(study.done["dataset"])]
display(Markdown(("Not run at this scale: " + ", ".join(absent) + ". " if absent else "")
                 + study.say(claims.claim2(study.done))))


# %% [markdown]
# ```{glue:figure} fig-noise
# :name: fig-noise
#
# The paper's Figure 1 (CIFAR-10) and Figure 2 (CIFAR-100): normalized accuracy
# $A^x$ against the noise form factor $\eta$, one panel per dataset and depth in the
# records, one colour and marker per learning rate (seed mean; error bars: spread
# over seeds). Crosses: values the paper quotes in its text, in the colour of their
# learning rate.
# ```

# %% [markdown]
# ## Table III: average normalized accuracy $A_{avr}$ (%)
#
# {numref}`tbl-table3-cifar10` (and one table per other dataset in the records) sets
# our $A_{avr}$ beside the paper's Table III.
# Its interval is a Student-t interval over the training seeds (each seed's
# $A_{avr}$, noise draws included, is one observation); with 3 seeds it is wide,
# and a bootstrap of the seeds would be narrower than it can honestly be.

# %% tags=["hide-input"]
t3 = paper.with_intervals(stats.cell_intervals(study.records, metrics=("A_avr",)), "table3")
display(*tables.per_dataset(
    t3, "Table III of the paper beside ours: average normalized accuracy $A_{avr}$ (%) "
    "per depth and LR (Adam), the paper's noise reading: our seed mean, its spread over "
    "seeds, the number of seeds and of diverged runs, our 95 % t-interval over seeds, the "
    "paper's single run and whether it lies inside our interval.", "tbl-table3"),
    Markdown(paper.offset_sentences(t3, "$A_{avr}$")))
display(Markdown(study.say(claims.claim3(study.done))),
        Markdown(study.say(claims.claim6(study.means))))


# %% [markdown]
# ### LRs compared within a seed
#
# A seed fixes the initial weights and the order of the data, so two LRs with the
# same seed differ only by the LR. {numref}`tbl-paired-lr` takes the difference of
# $A_{avr}$ to lr = 0.001 within each seed the two LRs share.

# %% tags=["hide-input"]
paired, said = tables.fixed(
    tables.paired_pp(stats.paired_differences(study.records, "A_avr", reference_lr=0.001)))
display(tables.numbered(
    paired, said + "$A_{avr}$ of each LR minus that of lr = 0.001 with the same seed (percentage points), "
    "with its 95 % paired t-interval, the exact sign-flip p-value (two-sided; with 3 seeds "
    "it cannot go below 0.25) and the number of seeds the two LRs share.", "tbl-paired-lr"))


# %% [markdown]
# ### Models broken outright: non-finite outputs
#
# Under the paper's reading the BN moving variances get noise too; a variance
# pushed below zero makes the output NaN for every image, and the model then
# scores chance. The noise is scaled by the spread $\sigma_w$ of the whole variance
# array, so a channel whose variance is near zero (one that a ReLU keeps at zero)
# breaks already at a small $\eta$ when other channels of its layer have large
# variances. The mean share (%) of test images with a non-finite output, per
# noise level and model (the paper's reading; a model without BN has no
# statistics to break):

# %% tags=["hide-input"]
nonfinite = tables.nonfinite(study.done)
shown, said = (None, "") if nonfinite is None else tables.fixed(nonfinite.reset_index())
if shown is not None:   # the noise levels by their value alone; BN beside the optimizer
    shown = shown.rename(columns=lambda c: c.removeprefix("eta = "))
    if {"optimizer", "batch_norm"} <= set(shown):
        shown = shown.assign(optimizer=[recipe.name("optimizer", o) + ("" if bn else ", no BN")
                                        for o, bn in zip(shown["optimizer"], shown["batch_norm"])]
                             ).drop(columns="batch_norm")
display(*([] if nonfinite is None else [tables.numbered(
    shown, said + "mean share (%) of test images with a non-finite output, "
    "per model (rows) and noise level $\\eta$ (columns), the paper's noise reading.", "tbl-nonfinite",
    precision=1)]),
        Markdown(tables.nonfinite_sentence(nonfinite)))


# %% [markdown]
# Is that the whole story? `scripts/bn_breakage.py` computes, from each model's
# weights, the chance that one draw pushes some BN variance below $-\epsilon$:
# $1 - \prod_c \Phi\big((v_c + \epsilon) / (\eta\,\sigma_w)\big)$ over the
# channels $c$ of every BN layer. Predicted beside observed (% of draws):

# %% tags=["hide-input"]
breakage_csv = Path(results_dir) / "bn-breakage.csv"
if breakage_csv.exists():
    predicted, sentence = tables.breakage(pd.read_csv(breakage_csv))
    predicted, said = tables.fixed(predicted.reset_index(), ("dataset", "depth"))
    display(tables.numbered(predicted, said + "Broken draws (%) per LR and noise "
                            "level $\\eta$, each cell predicted / observed: predicted from the "
                            "BN variances, observed in the sweeps (seed means).", "tbl-breakage",
                            precision=1),
            Markdown(sentence))
else:
    display(Markdown("No `bn-breakage.csv` in this results folder (`scripts/bn_breakage.py` "
                     "makes it from the weights beside the records)."))


# %% [markdown]
# ### Breakage apart from degradation
#
# A broken draw (any non-finite output) scores chance whatever the rest of the
# weights do, so $A_{avr}$ mixes two things: how often a draw breaks the model, and
# how much the unbroken draws lose. {numref}`tbl-breakage-split` separates them for
# every reading and cell of the learning-rate and BN studies (Adam; the CSV below
# the tables holds every run, other optimizers too): the share of broken draws,
# $A_{avr}$ over all draws, and $A_{avr}$ over the unbroken draws alone. Two readings isolate the mechanism; they
# are swept over the saved weights of each model (`python -m helpers.ops.resweep`), not
# during training: the paper's reading with each noisy BN moving variance clipped at
# a floor of 1e-6 (the same draws, none broken), and noise on the BN moving means only.

# %% tags=["hide-input"]
split_cells = breakage.cells(studies.select(study.records, "lr", "lr_outside", "batchnorm"))
if split_cells.empty:
    display(Markdown("No completed model above chance holds per-draw noise data."))
else:
    split, words = tables.breakage_display(
        split_cells, "broken draws and $A_{avr}$ (%) per noise reading and "
        "cell: the share of draws with any non-finite output and $A_{avr}$ over all draws "
        "(seed mean ± std over the seeds), and $A_{avr}$ over the unbroken draws of all "
        "seeds pooled (a dash unless every noise level has an unbroken draw; the last column "
        "says how many levels do).", "tbl-breakage-split")
    display(*split, plots.csv_link(breakage.per_eta(study.records), "breakage-split.csv",
                                   "Download the split per run and noise level as CSV"), words)


# %% [markdown]
# The first 27 CIFAR-10 records of the study were trained without keeping their
# weights, so for them the two mechanism readings are swept over
# the models retrained with their weights kept, cell for cell
# ({numref}`tbl-mechanism`; the same seeds, a new training run). Models trained
# since keep their weights, and their mechanism readings appear in the split above.

# %% tags=["hide-input"]
retrained = page.retrained_records(results_dir, retrain_dir)
mech_cells = breakage.cells(retrained) if not retrained.empty else retrained
if mech_cells.empty:
    display(Markdown("No retrained model with saved weights in these records yet: the "
                     "mechanism readings wait for one."))
else:
    mech, words = tables.breakage_display(
        mech_cells, "the retrained models with saved weights: broken draws and "
        "$A_{avr}$ (%) under the paper's reading, with each noisy BN variance floored "
        "at 1e-6, and with noise on the BN moving means only (columns as in "
        "{numref}`tbl-breakage-split`).", "tbl-mechanism")
    display(*mech, words)


# %% [markdown]
# ## Figure 4: the sweet spot
#
# {numref}`fig-tradeoff`: baseline accuracy and normalized accuracy at $\eta$ = 10 %
# against the LR for each model of the LR grid in the records, ours (filled) beside the paper's points
# (hollow). The sweet spot is found as the Pareto front of the two (the LRs
# that no other LR beats on both), not by eye.

# %% tags=["hide-input"]
front = {model: claims.sweet_spot(study.means, *model)
         for model in studies.models(studies.select(study.means, "lr", "lr_outside"))}
plots.show(plots.tradeoff(study.means, list(front), front=front, synthetic=study.synthetic),
           "fig-tradeoff")
display(Markdown(claims.sweet_spot_text(front)))
display(Markdown(study.say(claims.claim4(study.done))))


# %% [markdown]
# ```{glue:figure} fig-tradeoff
# :name: fig-tradeoff
#
# The trade-off (Figure 4 of the paper), one panel per model of the LR grid in the records:
# baseline accuracy $a_0$ (circles, left axis) and normalized accuracy at
# $\eta$ = 10 % (squares, right axis) against the learning rate, ours filled
# (seed mean; error bars: spread over seeds), the paper's hollow; black rings: our
# learning rates on the Pareto front of the two.
# ```

# %% [markdown]
# ## Ablation: what "noise on all the weights" means
#
# The paper does not say which arrays receive noise or how $\sigma_w$ is pooled.
# The LR-grid runs repeat the sweep for the readings of `noise.ABLATION`:
# noise on every array including the BN statistics (the paper's reading, our
# default), on trainable arrays only, on kernels only, one $\sigma_w$ per layer
# instead of per array, multiplicative noise, and BN folded into the
# convolutions before the noise (how inference hardware maps BN).
# {numref}`tbl-ablation` gives $A_{avr}$ of each cell under the three main readings,
# {numref}`tbl-ablation-other` under the others, and
# {numref}`tbl-readings` claims 3, 5, 6, 7 and 8 recomputed under the three main readings.

# %% tags=["hide-input"]
ablation = tables.ablation(study.done)
if ablation is None:
    display(Markdown("No record holds ablation sweeps (run the grid: the LR-grid cells run them)."))
else:
    cells, full = ablation
    readings = claims.across_readings(study.records)
    shown = cells.drop(columns=["optimizer", "batch_norm"])
    main = [f"A_avr {noise_model.label(r)}" for r in claims.READINGS.values()]
    main = [c for c in main if c in shown]
    others = [c for c in shown if c.startswith("A_avr") and c not in main]
    keys = [c for c in shown if not c.startswith("A_avr") and c != "a0"]
    display(*tables.per_model(shown[keys + ["a0"] + main],
                              f"$a_0$ and $A_{{avr}}$ (%) of the cells of the LR grid (Adam with "
                              "BN) under the three main noise readings: seed mean ± std over the "
                              "`seeds` (a dash: one seed). The readings are defined on the "
                              "{doc}`../method` page.", "tbl-ablation"),
            *(tables.per_model(shown[keys + others], "$A_{avr}$ (%) of the same cells under "
                               "the other noise readings (seed mean ± std).",
                               "tbl-ablation-other") if others else []),
            plots.csv_link(full, "noise-ablation.csv", f"Download the seed means ({len(full)} "
                           f"rows: dataset, depth, LR; {full.shape[1] - 3} readings, "
                           "<i>A</i><sub>avr</sub> in %) as CSV"),
            tables.numbered(tables.reading_verdicts(readings),
                            "Claims 3, 5, 6, 7 and 8 recomputed under the three main noise "
                            "readings; the p beside a verdict is that of its test (exact "
                            "permutation for claims 3 and 7, Welch's t-test for claim 8).",
                            "tbl-readings"),
            Markdown(claims.readings_sentence(readings, study.note)))
