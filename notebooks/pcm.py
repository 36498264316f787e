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

# %%

# %% [markdown]
# # On a phase-change-memory device
#
# The other pages put Gaussian noise of $\eta\,\sigma_w$ on the weights. A reader who
# builds an analog in-memory accelerator asks instead what a real device does. This
# page reads every model with saved weights on a statistical model of phase-change
# memory (PCM) fitted to measured devices, IBM's aihwkit `PCMLikeNoiseModel`
# (described on the {doc}`../method` page): the BN layers folded into the
# convolutions, each kernel programmed onto pairs of PCM devices, read at
# $t$ = 1 s, 1 hour, 1 day and 1 year after programming, with aihwkit's global
# drift compensation. $A^t = a^t / a_0$ is the normalized accuracy at time $t$, the
# mean over N programmed chips; its mean over the four times stands in for
# $A_{avr}$ when claims 3 and 8 are judged under this reading.

# %% tags=["parameters", "remove-cell"]
results_dir = "../results/cpu"
profile = "cpu"
# the study's models retrained with their weights kept, cell for cell (a seed trained
# twice counts once): by default the folder beside results_dir named <folder>-retrain
retrain_dir = "auto"

# %% tags=["remove-input"]
from IPython.display import display

from helpers.book.typeset import Markdown  # plain-text maths of the helpers typeset
from helpers.book import page, pcm_page, plots, tables
from helpers.experiment import pcm
from helpers.study import claims, pcm_sweeps, results

study = page.load_study(results_dir, profile)
retrained = page.retrained_records(results_dir, retrain_dir)
records = page.prefer_retrained(study.records, retrained)
folders = [results_dir] + [str(page.retrain_folder(results_dir, retrain_dir))] * (not retrained.empty)
runs = pcm_sweeps.with_records(pcm_sweeps.load_sweeps(folders), records)
display(Markdown(page.provenance(records[records["key"].isin(runs["key"])])
                 if not runs.empty else study.provenance))
if runs.empty:
    display(Markdown(
        f"**No PCM sweep in these results folders yet.** A sweep (`<key>{pcm.SUFFIX}` beside "
        "the run's record) needs the model's saved weights and the project's analog extra "
        f"(`{pcm.EXTRA}`); the figure and tables below fill in when sweeps are committed."))
else:
    s = runs.iloc[0]
    display(Markdown(
        f"{claims.plural(runs['key'].nunique(), 'model')} read on the device: aihwkit "
        f"{s['aihwkit']}, $g_{{max}}$ = {s['g_max_uS']:g} µS, drift compensation "
        f"{s['drift_compensation'] or 'off'}, {s['bias']} biases, "
        f"{claims.plural_range(runs['n_draws'], 'chip')} per time on "
        f"{claims.plural_range(runs['n_test'], 'test image')}."))
table = pcm_sweeps.cell_table(runs)

# %% [markdown]
# ## Normalized accuracy against the time since programming
#
# {numref}`fig-pcm` draws $A^t$ against $t$, one line per learning rate, and
# {numref}`tbl-pcm` gives the numbers with their intervals.

# %% tags=["hide-input"]
plots.show(pcm_page.plot(table, synthetic=study.synthetic), "fig-pcm")
display(tables.numbered(
    pcm_page.display_table(table),
    "Normalized accuracy $A^t$ (%) on the PCM device at each time after programming: "
    "seed mean of each run's mean over its chips, and the 95 % t-interval over the "
    "training seeds (n: the number of seeds). A cell of one seed has no interval over "
    "training; its ± is the standard deviation over the programmed chips, the device's "
    "chip-to-chip spread.", "tbl-pcm",
    fmt="{:g}"))
if not runs.empty:
    display(Markdown(pcm_page.lr_sentence(table)))

# %% [markdown]
# ```{glue:figure} fig-pcm
# :name: fig-pcm
#
# Normalized accuracy $A^t$ on aihwkit's PCM model against the time after programming
# (log axis), one panel per dataset, depth and BN, one colour and marker per learning
# rate and one line style per optimizer (seed mean; error bars: 95 % t-interval over
# the training seeds, drawn only for a cell of two or more seeds; {numref}`tbl-pcm` gives a
# one-seed cell's chip-to-chip spread).
# ```

# %% [markdown]
# ## The claims under this reading
#
# Claim 3 (resistance falls as the LR grows, more steeply for deeper models) and
# claim 8 (models without BN resist better) with the statistics of the other
# readings, $A_{avr}$ replaced by the mean of $A^t$ over the four times; then
# claim 3 at each time alone.

# %% tags=["hide-input"]
if runs.empty:
    display(Markdown("No verdict: no PCM sweep in these records."))
else:
    pcm_verdicts = pcm_sweeps.verdicts(runs, study.records)
    swept = pcm_sweeps.as_records(runs, study.records)   # the models these verdicts read
    display(*(Markdown(study.say(v, swept)) for v in pcm_verdicts),
            tables.numbered(pcm_sweeps.per_time_claim3(runs, study.records),
                            "Claim 3 on $A^t$ at each time after programming alone.",
                            "tbl-pcm-times"),
            Markdown(pcm_page.compare_sentence(pcm_verdicts[0], claims.across_readings(
                study.records, claims=(3,)))))
