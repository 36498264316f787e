"""Figures in the paper's style: labelled axes with units, one colour per LR everywhere."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .paper import PAPER_LRS

# One fixed colour per learning rate, shared by every figure of the book.
LR_COLOURS = dict(zip(PAPER_LRS, plt.get_cmap("viridis")(np.linspace(0.0, 0.9, len(PAPER_LRS)))))
SMOKE_NOTE = "SMOKE RUN on synthetic data: tests the code path, not a reproduction"


def lr_colour(lr: float):
    for known, colour in LR_COLOURS.items():
        if abs(known - lr) < 1e-12:
            return colour
    return "tab:red"


def stamp(fig, synthetic: bool) -> None:
    """Mark a figure made from synthetic (smoke) data."""
    if synthetic:
        # above the figure's top edge: notebooks save figures with a tight bounding box
        fig.text(0.5, 1.0, SMOKE_NOTE, ha="center", va="bottom", color="crimson",
                 fontsize=9, weight="bold")


def training_curves(history: list[dict], title: str = "", synthetic: bool = False):
    """Loss and accuracy (train, test) per epoch, and the learning rate."""
    h = pd.DataFrame(history)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
    ax1.plot(h["epoch"], h["loss"], marker="o", label="training loss")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("cross-entropy loss (incl. L2)")
    ax1b = ax1.twinx()
    ax1b.step(h["epoch"], h["lr"], where="post", color="grey", ls="--", label="learning rate")
    ax1b.set_ylabel("learning rate")
    ax1.legend(loc="upper right")
    ax2.plot(h["epoch"], 100 * h["accuracy"], marker="o", label="training (augmented)")
    ax2.plot(h["epoch"], 100 * h["test_accuracy"], marker="s", label="test")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy (%)")
    ax2.legend()
    fig.suptitle(title)
    stamp(fig, synthetic)
    return fig


def noise_curve(summary: pd.DataFrame, lr: float, title: str = "", synthetic: bool = False,
                paper: pd.DataFrame | None = None):
    """Normalized accuracy A^x (%) against the noise form factor eta (%), with the
    spread over repeats; eta = 0 is 100 % by definition. ``paper``: optional points
    (columns noise_form_factor_pct, normalized_accuracy_pct) drawn for comparison."""
    fig, ax = plt.subplots(figsize=(5.2, 3.8), constrained_layout=True)
    eta = np.concatenate([[0.0], 100 * summary["eta"].to_numpy()])
    mean = np.concatenate([[100.0], 100 * summary["A_x"].to_numpy()])
    std = np.concatenate([[0.0], 100 * summary["A_x_std"].fillna(0).to_numpy()])
    ax.errorbar(eta, mean, yerr=std, marker="o", capsize=3, color=lr_colour(lr),
                label=f"ours, lr = {lr:g}")
    if paper is not None and len(paper):
        ax.plot(paper["noise_form_factor_pct"], paper["normalized_accuracy_pct"], "x",
                color="black", label="paper (text)")
    ax.set_xlabel(r"noise form factor $\eta$ (%)")
    ax.set_ylabel("normalized test accuracy $A^x$ (%)")
    ax.set_ylim(bottom=0)
    ax.legend()
    ax.set_title(title)
    stamp(fig, synthetic)
    return fig


def _lr_label(lr: float) -> str:
    return f"lr = {lr:g}"


def noise_panels(df: pd.DataFrame, dataset: str, paper_in_text: pd.DataFrame | None = None,
                 synthetic: bool = False):
    """Fig. 1/2: normalized accuracy (%) against eta (%), one panel per depth, one line
    per LR (seed mean; error bars: std over seeds where there are several)."""
    etas = sorted(float(c[2:]) for c in df if c.startswith("A_") and c[2:].replace(".", "").isdigit())
    d = df[(df["dataset"] == dataset) & (df["optimizer"] == "adam") & df["batch_norm"]]
    depths = sorted(d["depth"].unique())
    fig, axes = plt.subplots(1, max(len(depths), 1), figsize=(3.4 * max(len(depths), 1), 3.4),
                             sharey=True, constrained_layout=True, squeeze=False)
    for ax, depth in zip(axes[0], depths):
        for lr, g in d[d["depth"] == depth].groupby("lr"):
            cols = [f"A_{e:g}" for e in etas]
            mean = np.concatenate([[100.0], 100 * g[cols].mean().to_numpy()])
            std = np.concatenate([[0.0], 100 * g[cols].std(ddof=1).fillna(0).to_numpy()])
            ax.errorbar([0] + [100 * e for e in etas], mean, yerr=std, marker="o", ms=3,
                        capsize=2, color=lr_colour(lr), label=_lr_label(lr))
        if paper_in_text is not None:
            pt = paper_in_text[(paper_in_text["dataset"] == dataset) & (paper_in_text["depth"] == depth)]
            for lr, g in pt.groupby("lr"):
                ax.plot(g["noise_form_factor_pct"], g["normalized_accuracy_pct"], "x",
                        color=lr_colour(lr), ms=7)
        ax.set_title(f"ResNet{depth}")
        ax.set_xlabel(r"noise form factor $\eta$ (%)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("normalized accuracy $A^x$ (%)")
    from matplotlib.lines import Line2D
    lrs = sorted(d["lr"].unique())
    handles = [Line2D([], [], color=lr_colour(lr), marker="o", ms=3, label=_lr_label(lr)) for lr in lrs]
    if paper_in_text is not None:
        handles.append(Line2D([], [], color="black", marker="x", ls="none", label="paper (text)"))
    fig.legend(handles=handles, loc="outside right center", fontsize=8)
    fig.suptitle(f"{dataset.upper()}: normalized accuracy under weight noise (ours: lines)")
    stamp(fig, synthetic)
    return fig


def tradeoff(means: pd.DataFrame, panels=(("cifar10", 20), ("cifar100", 20)),
             front: dict | None = None, synthetic: bool = False, paper: bool = True):
    """Fig. 4: baseline accuracy a0 (%) and normalized accuracy at eta = 10 % (%) against
    the LR, one panel per (dataset, depth); LRs on the Pareto front of (a0, A^0.1) are
    ringed; the paper's points (Table II, and A^0.1 from its Sec. III-3) are drawn hollow."""
    from . import paper as paper_mod

    fig, axes = plt.subplots(1, len(panels), figsize=(4.8 * len(panels), 3.8),
                             constrained_layout=True, squeeze=False)
    for ax, (dataset, depth) in zip(axes[0], panels):
        m = means[(means["dataset"] == dataset) & (means["depth"] == depth)
                  & (means["optimizer"] == "adam") & means["batch_norm"]].sort_values("lr")
        ax.plot(1000 * m["lr"], 100 * m["baseline_accuracy"], "o-", color="tab:blue",
                label="ours: $a_0$")
        ax.set_xlabel("learning rate (x 1e-3)")
        ax.set_ylabel("baseline accuracy $a_0$ (%)", color="tab:blue")
        ax2 = ax.twinx()
        ax2.plot(1000 * m["lr"], 100 * m["A_0.1"], "s--", color="tab:orange",
                 label=r"ours: $A^{0.1}$")
        ax2.set_ylabel(r"normalized accuracy at $\eta$ = 10 % (%)", color="tab:orange")
        if paper:
            t2 = paper_mod.lookup("table2", dataset=dataset, depth=depth)
            ax.plot(1000 * t2["lr"], t2["baseline_accuracy_pct"], "o", mfc="none",
                    color="tab:blue", alpha=0.7, label="paper: $a_0$")
            it = paper_mod.lookup("in_text", dataset=dataset, depth=depth, optimizer="adam")
            it = it[it["noise_form_factor_pct"] == 10]
            ax2.plot(1000 * it["lr"], it["normalized_accuracy_pct"], "s", mfc="none",
                     color="tab:orange", alpha=0.7, label=r"paper: $A^{0.1}$")
        if front and (dataset, depth) in front:
            f = front[(dataset, depth)]
            ax.plot(1000 * f["lr"], 100 * f["baseline_accuracy"], "o", ms=13, mfc="none",
                    color="black", label="our Pareto front")
        ax.set_title(f"ResNet{depth}, {dataset.upper()}")
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2),
                  ncol=2, frameon=False)
    stamp(fig, synthetic)
    return fig


def paired_bars(frame: pd.DataFrame, label: str, ours: str, paper: str | None, ylabel: str,
                ax=None, colour="tab:blue"):
    """Our values (with std error bars where given) beside the paper's, per ``label``."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.4), constrained_layout=True)
    x = np.arange(len(frame))
    w = 0.38 if paper else 0.7
    err = frame.get(f"{ours.removesuffix('_pct')}_std_pct") if ours.endswith("_pct") else None
    ax.bar(x - (w / 2 if paper else 0), frame[ours], w, yerr=err, capsize=3, color=colour,
           label="ours")
    if paper:
        ax.bar(x + w / 2, frame[paper], w, color="lightgrey", edgecolor="black", label="paper")
    ax.set_xticks(x, frame[label], rotation=20)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return ax
