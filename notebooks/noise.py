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
# # Noise injection: Figures 1, 2 and 4, Table III, and the noise-model ablation
#
# Every trained model of the LR grid gets additive Gaussian noise on its weights,
# $\sigma_{noise} = \eta\,\sigma_w$ (eq. 4-6), at
# $\eta$ = 1, 5, 10, 20, 30 and 40 %, N times per level; $A^x = a^x / a_0$ is the
# normalized accuracy (eq. 8) and $A_{avr}$ its mean over the six levels (eq. 9).

# %% tags=["parameters", "remove-cell"]
results_dir = "../results/cpu"
profile = "cpu"

# %% tags=["remove-input"]
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from helpers import claims, paper, plots, results, stats

df = results.load_study(results_dir, profile)
display(Markdown(results.provenance(df)))
done = claims.completed(df)
means = claims.cell_means(done)
synthetic = bool(df["synthetic_data"].any())
caveat = claims.caveat(df)    # why the verdicts below are indicative only, if they are


def say(v):
    return claims.sentence(v, caveat)


# %% [markdown]
# ## Figures 1 and 2: normalized accuracy against the noise level
#
# {numref}`fig-noise-cifar10` and {numref}`fig-noise-cifar100`: one panel per
# depth, one line per LR (colour and marker fixed per LR across the book);
# crosses: the values the paper quotes in its text.

# %% tags=["hide-input"]
in_text = paper.table("in_text")
for dataset in ("cifar10", "cifar100"):
    fig = plots.noise_panels(done, dataset, paper_in_text=in_text, synthetic=synthetic)
    plots.show(fig, f"fig-noise-{dataset}")
display(Markdown(say(claims.claim2(done))))


# %% [markdown]
# ```{glue:figure} fig-noise-cifar10
# :name: fig-noise-cifar10
#
# CIFAR-10 (Figure 1 of the paper): normalized accuracy $A^x$ against the noise
# form factor $\eta$, one panel per depth, one colour and marker per learning
# rate (seed mean; error bars: spread over seeds). Crosses: values the paper
# quotes in its text, in the colour of their learning rate.
# ```
#
# ```{glue:figure} fig-noise-cifar100
# :name: fig-noise-cifar100
#
# CIFAR-100 (Figure 2 of the paper), drawn as {numref}`fig-noise-cifar10`.
# ```

# %% [markdown]
# ## Table III: average normalized accuracy $A_{avr}$ (%)
#
# Our seed mean with its spread over seeds, the number of seeds and of diverged
# runs, a 95 % bootstrap interval (training seeds resampled, and the noise draws
# resampled inside each run), the paper's single run and whether it lies inside
# our interval.

# %% tags=["hide-input"]
ci = stats.cell_intervals(df, metrics=("A_avr",))
t3 = paper.with_intervals(ci, "table3")
for dataset, t in t3.groupby("dataset"):
    display(Markdown(f"**{dataset.upper()}**"))
    display(t.drop(columns="dataset").style.hide(axis="index").format(precision=2).format({"lr": "{:g}"}))
display(Markdown(say(claims.claim3(means))))
display(Markdown(say(claims.claim6(means))))

# %% [markdown]
# ### LRs compared within a seed
#
# A seed fixes the initial weights and the order of the data, so two LRs with the
# same seed differ only by the LR. The difference of $A_{avr}$ to lr = 0.001,
# taken within each seed, with its 95 % bootstrap interval and the share of
# resamples in which it is positive:

# %% tags=["hide-input"]
paired = stats.paired_differences(df, "A_avr", reference_lr=0.001)
display((paired.assign(**{c: 100 * paired[c] for c in ("delta", "lo", "hi")})
         .rename(columns={"delta": "difference (pp)", "lo": "low (pp)", "hi": "high (pp)"}))
        .style.hide(axis="index").format(precision=2).format({"lr": "{:g}"}))

# %% [markdown]
# ### Models broken outright: non-finite outputs
#
# Under the paper's reading the BN moving variances get noise too; a variance
# pushed below zero makes the output NaN for every image, and the model then
# scores chance. The mean share of test images with a non-finite output, per
# noise level and depth (BN models, the paper's reading):

# %% tags=["hide-input"]
nf_cols = sorted((c for c in done if c.startswith("nonfinite_")), key=lambda c: float(c[10:]))
if nf_cols:
    nf = done.groupby(["dataset", "depth", "batch_norm"])[nf_cols].mean()
    nf.columns = [f"eta = {c[10:]}" for c in nf_cols]
    display((100 * nf).round(2))
else:
    display(Markdown("No record holds the non-finite fractions."))

# %% [markdown]
# ## Figure 4: the sweet spot
#
# {numref}`fig-tradeoff`: baseline accuracy and normalized accuracy at $\eta$ = 10 %
# against the LR for ResNet20 on CIFAR-10 and CIFAR-100, ours (filled) beside the paper's points
# (hollow). The sweet spot is found as the Pareto front of the two (the LRs
# that no other LR beats on both), not by eye.

# %% tags=["hide-input"]
panels = [(ds, 20) for ds in ("cifar10", "cifar100")]
front = {p: claims.sweet_spot(means, *p) for p in panels}
plots.show(plots.tradeoff(means, panels, front=front, synthetic=synthetic), "fig-tradeoff")
for (ds, d), f in front.items():
    print(f"ResNet{d} on {ds.upper()}: Pareto-optimal LRs "
          + (", ".join(f"{lr:g}" for lr in sorted(f["lr"])) or "none (not run at this scale)"))
display(Markdown(say(claims.claim4(means))))


# %% [markdown]
# ```{glue:figure} fig-tradeoff
# :name: fig-tradeoff
#
# The trade-off (Figure 4 of the paper), ResNet20 on CIFAR-10 and CIFAR-100:
# baseline accuracy $a_0$ (circles, left axis) and normalized accuracy at
# $\eta$ = 10 % (squares, right axis) against the learning rate, ours filled,
# the paper's hollow; black rings: our learning rates on the Pareto front of
# the two.
# ```

# %% [markdown]
# ## Ablation: what "noise on all the weights" means
#
# The paper does not say which arrays receive noise or how $\sigma_w$ is pooled.
# The LR-grid runs repeat the sweep for the readings of `noise.ABLATION`:
# noise on every array including the BN statistics (the paper's reading, our
# default), on trainable arrays only, on kernels only, one $\sigma_w$ per layer
# instead of per array, multiplicative noise, and BN folded into the
# convolutions before the noise (how inference hardware maps BN). First the
# mean $A_{avr}$ (%) per LR under each reading, then claims 3, 6 and 8
# recomputed under the three main readings.

# %% tags=["hide-input"]
cols = {"all/array/additive": "A_avr",
        **{c.split("|", 1)[1]: c for c in done if c.startswith("A_avr|")}}
have = {name: c for name, c in cols.items() if c in done and done[c].notna().any()}
if len(have) > 1:
    lr_runs = done[done["noise_ablation"] == True]  # noqa: E712  (a column of booleans)
    m = lr_runs.groupby(["dataset", "depth", "lr"])[list(have.values())].mean()
    m.columns = list(have)
    full = (100 * m).round(2).reset_index()
    # compact: one row per LR, one column per reading (mean over the models);
    # every model is in the CSV file
    short = {"all/array/additive": "all (paper)", "trainable/array/additive": "trainable",
             "kernels/array/additive": "kernels", "all/layer/additive": "per-layer sigma_w",
             "all/array/multiplicative": "multiplicative", "folded/array/additive": "folded BN"}
    compact = (100 * m).groupby("lr").mean()
    compact.index = [f"{lr:g}" for lr in compact.index]
    compact.index.name = "lr"
    compact.columns = [short.get(c, c) for c in compact.columns]
    n_models = m.reset_index()[["dataset", "depth"]].drop_duplicates().shape[0]
    display(Markdown(f"Mean $A_{{avr}}$ (%) per LR and noise reading, over {n_models} "
                     "model(s) (dataset, depth); the readings are defined on the "
                     "{doc}`../method` page:"))
    display(compact.style.format(precision=2))
    display(plots.csv_link(full, "noise-ablation.csv",
                           f"Download the full table ({len(full)} rows: dataset, depth, LR; "
                           f"{len(have)} readings, A_avr in %) as CSV"))
    readings = claims.across_readings(df)
    display(readings.pivot(index="claim", columns="reading", values="verdict"))
    display(Markdown(claims.readings_sentence(readings)
                     + (f" *Indicative only: {caveat}.*" if caveat else "")))
else:
    display(Markdown("No record holds ablation sweeps (run the grid: the LR-grid cells run them)."))
