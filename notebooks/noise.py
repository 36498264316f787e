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
results_dir = "../results/smoke"
profile = "smoke"

# %% tags=["remove-input"]
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from helpers import claims, paper, plots, results

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

# %% tags=["hide-input"]
t3 = paper.beside(means, "table3")
for dataset, t in t3.groupby("dataset"):
    display(Markdown(f"**{dataset.upper()}**: ours (seed mean) and the paper's"))
    display(t.pivot_table(index="lr", columns="depth", values=["ours_pct", "paper_pct"],
                          dropna=False).round(2))
display(Markdown(say(claims.claim3(means))))
display(Markdown(say(claims.claim6(means))))

# %% [markdown]
# ## Figure 4: the sweet spot
#
# {numref}`fig-tradeoff`: baseline accuracy and normalized accuracy at $\eta$ = 10 %
# against the LR for ResNet20 and ResNet32 on CIFAR-10. The sweet spot is found as the Pareto front
# of the two (the LRs that no other LR beats on both), not by eye.

# %% tags=["hide-input"]
front = {d: claims.sweet_spot(means, "cifar10", d) for d in (20, 32)}
plots.show(plots.tradeoff(means, "cifar10", (20, 32), front=front, synthetic=synthetic),
           "fig-tradeoff")
for d, f in front.items():
    print(f"ResNet{d}: Pareto-optimal LRs " + (", ".join(f"{lr:g}" for lr in sorted(f["lr"])) or "none"))
display(Markdown(say(claims.claim4(means))))

# %% [markdown]
# ```{glue:figure} fig-tradeoff
# :name: fig-tradeoff
#
# The trade-off (Figure 4 of the paper), ResNet20 and ResNet32 on CIFAR-10:
# baseline accuracy $a_0$ (circles, left axis) and normalized accuracy at
# $\eta$ = 10 % (squares, right axis) against the learning rate; rings: the
# learning rates on the Pareto front of the two.
# ```

# %% [markdown]
# ## Ablation: what "noise on all the weights" means
#
# The paper does not say which arrays receive noise or how $\sigma_w$ is pooled.
# The LR-grid runs repeat the sweep for the readings of `noise.ABLATION`:
# noise on every array including the BN statistics (our default), on trainable
# arrays only, on kernels only, one $\sigma_w$ per layer instead of per array,
# and multiplicative noise. The table gives $A_{avr}$ (%) per reading, and the
# claim-3 statistic recomputed under each.

# %% tags=["hide-input"]
cols = {"all/array/additive": "A_avr",
        **{c.split("|", 1)[1]: c for c in done if c.startswith("A_avr|")}}
have = {name: c for name, c in cols.items() if c in done and done[c].notna().any()}
if len(have) > 1:
    lr_runs = done[done["noise_ablation"] == True]  # noqa: E712  (a column of booleans)
    m = lr_runs.groupby(["dataset", "depth", "lr"])[list(have.values())].mean()
    m.columns = list(have)
    full = (100 * m).round(2).reset_index()
    # compact: one row per model, one column per reading, the mean over the LRs
    short = {"all/array/additive": "all (default)", "trainable/array/additive": "trainable",
             "kernels/array/additive": "kernels", "all/layer/additive": "per-layer sigma_w",
             "all/array/multiplicative": "multiplicative", "folded/array/additive": "folded BN"}
    compact = (100 * m).groupby(["dataset", "depth"]).mean()
    compact.index = [f"{ds.upper()} ResNet{d}" for ds, d in compact.index]
    compact.columns = [short.get(c, c) for c in compact.columns]
    display(Markdown("Mean $A_{avr}$ (%) over the learning rates, per model and noise reading "
                     "(the readings are defined on the {doc}`../method` page):"))
    display(compact.style.format(precision=2))
    display(plots.csv_link(full, "noise-ablation.csv",
                           f"Download the full table ({len(full)} models x {len(have)} readings, "
                           "A_avr in %) as CSV"))
    rows = []
    for name, c in have.items():
        mm = claims.cell_means(lr_runs.assign(A_avr=lr_runs[c]))
        v = claims.claim3(mm)
        rows.append({"noise model": name, "mean A_avr (%)": 100 * lr_runs[c].mean(),
                     "claim 3 verdict": v.outcome, "statistic": v.statistic})
    ablation = pd.DataFrame(rows)
    display(ablation.round(2))
    agree = (ablation["claim 3 verdict"] == ablation["claim 3 verdict"].iloc[0]).all()
    display(Markdown(
        f"Across the {len(ablation)} noise models, mean $A_{{avr}}$ ranges from "
        f"{ablation['mean A_avr (%)'].min():.2f} % to {ablation['mean A_avr (%)'].max():.2f} %; "
        f"the claim-3 verdict is {'the same under every reading' if agree else 'not the same under every reading: the conclusion depends on the noise model'}."
        + (f" *Indicative only: {caveat}.*" if caveat else "")))
else:
    display(Markdown("No record holds ablation sweeps (run the grid: the LR-grid cells run them)."))
