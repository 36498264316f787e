"""The PCM page's sentences, table and figure, from ``helpers.study.pcm_sweeps``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..experiment.pcm import TIME_LABELS, TIMES
from ..experiment import recipe
from ..study import studies
from ..study.claims import UNTESTED
from ..study.studies import model_name
from . import plots


def lr_sentence(table: pd.DataFrame) -> str:
    """How A^t of one Adam model with BN (the reference model, ``recipe.REFERENCE_DATASET``
    and ``REFERENCE_DEPTH``, where it has two LRs swept, else the first that has) goes with
    the LR at the first and last times, from ``cell_table``: one sentence of numbers."""
    t = table[table["batch_norm"].astype(bool) & (table["optimizer"] == "adam")].dropna(
        subset=["A_t_pct"])
    n_lrs = t.groupby(["dataset", "depth"])["lr"].nunique()
    models = sorted(n_lrs.index[n_lrs >= 2])
    if not models:
        return "Too few learning rates with a PCM sweep to compare them."
    reference = (recipe.REFERENCE_DATASET, recipe.REFERENCE_DEPTH)
    ds, depth = reference if reference in models else models[0]
    t = studies.model_rows(t, ds, depth)
    lo, hi = t["lr"].min(), t["lr"].max()
    def value(row) -> str:   # the seed mean with its interval, or one seed's chip spread
        if row["n_seeds"] >= 2 and np.isfinite(row["low_pct"]):
            return f"{row['A_t_pct']:.1f} % [{row['low_pct']:.1f}, {row['high_pct']:.1f}]"
        return (f"{row['A_t_pct']:.1f} % (± {row['chip_std_pct']:.1f} over chips)"
                if np.isfinite(row["chip_std_pct"]) else f"{row['A_t_pct']:.1f} %")

    parts = []
    for ts in (t["t_s"].min(), t["t_s"].max()):
        at = t[t["t_s"] == ts].set_index("lr")
        parts.append(f"{value(at.loc[lo])} (lr = {lo:g}) against {value(at.loc[hi])} "
                     f"(lr = {hi:g}) at t = {TIME_LABELS.get(ts, f'{ts:g} s')}")
    seeds = int(t["n_seeds"].min())
    return (f"{model_name(ds, depth)}: $A^t$ = " + "; ".join(parts)
            + (" (a cell of one training seed has no interval over training: its ± is "
               "the device's chip-to-chip spread)" if seeds < 2 else "") + ".")


def plot(table: pd.DataFrame, synthetic: bool = False):
    """A^t (%) against t (log axis) per LR (colour) and optimizer (line style), one panel
    per dataset, depth and BN; error bars: the t-interval over seeds (none for a cell of
    one seed)."""
    import matplotlib.pyplot as plt

    if table.empty:     # a page without sweeps still has its (empty, labelled) figure
        return plots.placeholder("no PCM sweep in these records yet")
    plots.style()
    panels = sorted(table.groupby(["dataset", "depth", "batch_norm"]).groups)
    fig, axes = plt.subplots(1, len(panels), figsize=(plots.PAGE_WIDTH, 3.2), squeeze=False,
                             sharey=True)
    for ax, (ds, depth, bn) in zip(axes[0], panels):
        g = table[(table["dataset"] == ds) & (table["depth"] == depth)
                  & (table["batch_norm"] == bn)]
        for (opt, lr), h in g.groupby(["optimizer", "lr"]):
            h = h.sort_values("t_s")
            err = np.vstack([h["A_t_pct"] - h["low_pct"], h["high_pct"] - h["A_t_pct"]])
            ax.errorbar(h["t_s"], h["A_t_pct"], yerr=np.nan_to_num(err), capsize=2,
                        color=plots.lr_colour(lr), marker=plots.lr_marker(lr),
                        linestyle=plots.OPTIMIZER_LINES.get(opt, "-"),
                        label=f"lr {lr:g}" + ("" if opt == "adam" else
                                              f" ({recipe.name('optimizer', opt)})"))
        ax.set_xscale("log")
        ax.set_xticks(list(TIMES), [TIME_LABELS[t] for t in TIMES])
        ax.set_title(f"ResNet{depth} {'' if bn else 'no BN '}{recipe.name('dataset', ds)}",
                     fontsize=9)
        ax.set_xlabel("time after programming")
    return plots.end_panels(fig, axes[0], "$A^t$ (%)", synthetic)


def _value(mean, low, high, chip_std) -> str | None:
    """One cell's A^t (%) as the PCM table shows it: "mean [low, high]" with an interval
    over seeds; with one seed "mean ± s", s the chip-to-chip standard deviation; None (a
    dash) for a run near chance."""
    if np.isnan(mean):
        return None
    if not np.isnan(low):
        return f"{mean:.1f} [{low:.1f}, {high:.1f}]"
    return f"{mean:.1f}" + ("" if np.isnan(chip_std) else f" ± {chip_std:.1f}")


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """``cell_table`` for a page: one row per cell, one column per time, "mean [low, high]"
    (%) over seeds, or "mean ± chip std" for a one-seed cell (``_value``), and the number
    of seeds n."""
    if table.empty:
        return pd.DataFrame(columns=["model", "lr", "n"])
    t = table.assign(
        model=lambda f: [f"ResNet{d} {recipe.name('dataset', ds)}{'' if bn else ' no BN'}"
                         f"{'' if o == 'adam' else ' ' + recipe.name('optimizer', o)}"
                         for ds, d, bn, o in zip(f["dataset"], f["depth"], f["batch_norm"],
                                                 f["optimizer"])],
        value=lambda f: [_value(m, lo, hi, c) for m, lo, hi, c in zip(
            f["A_t_pct"], f["low_pct"], f["high_pct"],
            f["chip_std_pct"] if "chip_std_pct" in f else [np.nan] * len(f))],
        t=lambda f: f["t_s"].map(lambda s: TIME_LABELS.get(s, f"{s:g} s")))
    wide = t.set_index(["model", "lr", "t"])["value"].unstack("t")
    wide = wide[[TIME_LABELS.get(s, f"{s:g} s") for s in sorted(t["t_s"].unique())]]
    n = t.groupby(["model", "lr"])["n_seeds"].min().astype(int).rename("n")
    return wide.join(n).reset_index().rename_axis(columns=None)


def compare_sentence(pcm_verdict, readings: pd.DataFrame) -> str:
    """Claim 3 under the PCM reading beside its verdicts under the Gaussian readings
    (``claims.across_readings``), in one sentence."""
    if pcm_verdict.outcome in UNTESTED:
        return f"Claim 3 under the PCM device reading: **{pcm_verdict.outcome}**; nothing to compare."
    c3 = readings[readings["claim"] == 3]
    gauss = ", ".join(f"{r.verdict} {r.reading}" for r in c3.itertuples())
    same = set(c3["verdict"]) == {pcm_verdict.outcome}
    return (f"Claim 3 under the PCM device reading: **{pcm_verdict.outcome}**; under the "
            f"Gaussian readings: {gauss or 'no verdict'}. "
            + ("The device model gives the same verdict as every Gaussian reading."
               if same else "The device model's verdict differs from at least one Gaussian "
                            "reading's."))
