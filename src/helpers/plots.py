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


def _stamp(fig, synthetic: bool) -> None:
    if synthetic:
        fig.text(0.5, 0.995, SMOKE_NOTE, ha="center", va="top", color="crimson",
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
    _stamp(fig, synthetic)
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
    _stamp(fig, synthetic)
    return fig
