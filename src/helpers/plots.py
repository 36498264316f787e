"""Figures in the paper's style: labelled axes with units, one colour per LR everywhere.

Importing this module sets matplotlib's style for the book (``style``): fonts
legible at page width and a colour-blind-safe palette. Figures are at most
``PAGE_WIDTH`` inches wide, so that the book shows them at about their own size.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .paper import PAPER_LRS
from .studies import same_lr

PAGE_WIDTH = 8.0  # inches: the width of the book's text column at 96 dpi

# Okabe & Ito (2008), a palette that stays distinct under the common colour-vision
# deficiencies. One fixed colour (and marker) per learning rate, shared by every
# figure: the paper's six LRs, then the two outside its range (lr_outside study).
OKABE_ITO = {"orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73",
             "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00",
             "reddish purple": "#CC79A7", "black": "#000000"}
ALL_LRS = (0.00025,) + tuple(PAPER_LRS) + (0.003,)
LR_COLOURS = dict(zip(ALL_LRS, ("#666666", OKABE_ITO["orange"], OKABE_ITO["sky blue"],
                                OKABE_ITO["bluish green"], OKABE_ITO["blue"],
                                OKABE_ITO["vermillion"], OKABE_ITO["reddish purple"],
                                "#A08C00")))  # grey and a dark yellow, readable on white
LR_MARKERS = dict(zip(ALL_LRS, "v o s D ^ P X *".split()))
UNKNOWN_LR_COLOUR = "#000000"
SMOKE_NOTE = "SMOKE RUN on synthetic data: tests the code path, not a reproduction"


def style() -> None:
    """The book's matplotlib style (applied on import)."""
    mpl.rcParams.update({
        "font.size": 11, "axes.titlesize": 11, "axes.labelsize": 11,
        "xtick.labelsize": 10, "ytick.labelsize": 10, "legend.fontsize": 9.5,
        "figure.titlesize": 12, "figure.dpi": 150, "savefig.dpi": 150,
        "axes.prop_cycle": mpl.cycler(color=[OKABE_ITO[k] for k in (
            "blue", "orange", "bluish green", "vermillion", "reddish purple", "sky blue",
            "black")]),
        "axes.grid": True, "grid.alpha": 0.3, "legend.framealpha": 0.9,
    })


style()


def lr_colour(lr: float):
    for known, colour in LR_COLOURS.items():
        if same_lr(known, lr):
            return colour
    return UNKNOWN_LR_COLOUR


def lr_marker(lr: float) -> str:
    for known, marker in LR_MARKERS.items():
        if same_lr(known, lr):
            return marker
    return "o"


def show(fig, name: str | None = None) -> None:
    """Show ``fig``; in a book build with ``name``, glue it for a numbered
    ``{glue:figure}`` instead (myst_nb), so that the page places and captions it."""
    if name is not None:
        try:
            from myst_nb import glue
        except ImportError:
            name = None
        else:
            glue(name, fig, display=False)
    if name is None:
        from IPython.display import display
        display(fig)
    plt.close(fig)


def stamp(fig, synthetic: bool) -> None:
    """Mark a figure made from synthetic (smoke) data."""
    if synthetic:
        # above the figure's top edge: notebooks save figures with a tight bounding box
        fig.text(0.5, 1.0, SMOKE_NOTE, ha="center", va="bottom", color="crimson",
                 fontsize=9, weight="bold")


def training_curves(history: list[dict], title: str = "", synthetic: bool = False):
    """Loss and accuracy (train, test) per epoch, and the learning rate."""
    h = pd.DataFrame(history)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 3.4), layout="constrained")
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
    fig, ax = plt.subplots(figsize=(5.6, 3.8), layout="constrained")
    eta = np.concatenate([[0.0], 100 * summary["eta"].to_numpy()])
    mean = np.concatenate([[100.0], 100 * summary["A_x"].to_numpy()])
    std = np.concatenate([[0.0], 100 * summary["A_x_std"].fillna(0).to_numpy()])
    ax.errorbar(eta, mean, yerr=std, marker=lr_marker(lr), capsize=3, color=lr_colour(lr),
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
    ncols = 2 if len(depths) > 1 else 1
    nrows = max(1, -(-len(depths) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(PAGE_WIDTH if ncols == 2 else 5.6,
                                                    3.0 * nrows + 0.6),
                             sharey=True, sharex=True, layout="constrained", squeeze=False)
    axes = axes.ravel()
    for ax in axes[len(depths):]:
        ax.set_visible(False)
    if not depths:
        axes[0].set_visible(True)
        axes[0].text(0.5, 0.5, f"no {dataset.upper()} records", ha="center", va="center",
                     transform=axes[0].transAxes)
    for ax, depth in zip(axes, depths):
        for lr, g in d[d["depth"] == depth].groupby("lr"):
            cols = [f"A_{e:g}" for e in etas]
            mean = np.concatenate([[100.0], 100 * g[cols].mean().to_numpy()])
            std = np.concatenate([[0.0], 100 * g[cols].std(ddof=1).fillna(0).to_numpy()])
            ax.errorbar([0] + [100 * e for e in etas], mean, yerr=std, marker=lr_marker(lr),
                        ms=4, lw=1.3, capsize=2, color=lr_colour(lr), label=_lr_label(lr))
        if paper_in_text is not None:
            pt = paper_in_text[(paper_in_text["dataset"] == dataset) & (paper_in_text["depth"] == depth)]
            for lr, g in pt.groupby("lr"):
                ax.plot(g["noise_form_factor_pct"], g["normalized_accuracy_pct"], "x",
                        color=lr_colour(lr), ms=8, mew=2)
        ax.set_title(f"ResNet{depth}")
    for i, ax in enumerate(axes[:len(depths)]):
        if i % ncols == 0:
            ax.set_ylabel("normalized accuracy $A^x$ (%)")
        if i >= len(depths) - ncols:
            ax.set_xlabel(r"noise form factor $\eta$ (%)")
    from matplotlib.lines import Line2D
    lrs = sorted(d["lr"].unique())
    handles = [Line2D([], [], color=lr_colour(lr), marker=lr_marker(lr), ms=5,
                      label=_lr_label(lr)) for lr in lrs]
    if paper_in_text is not None:
        handles.append(Line2D([], [], color="black", marker="x", ls="none", mew=2,
                              label="paper (text)"))
    fig.legend(handles=handles, loc="outside right center")
    fig.suptitle(f"{dataset.upper()}: normalized accuracy under weight noise")
    stamp(fig, synthetic)
    return fig


def tradeoff(means: pd.DataFrame, panels=(("cifar10", 20), ("cifar100", 20)),
             front: dict | None = None, synthetic: bool = False, paper: bool = True):
    """Fig. 4: baseline accuracy a0 (%) and normalized accuracy at eta = 10 % (%) against
    the LR, one panel per (dataset, depth); LRs on the Pareto front of (a0, A^0.1) are
    ringed; the paper's points (Table II, and A^0.1 from its Sec. III-3) are drawn hollow.
    One legend for all panels, below them, where it cannot hide data."""
    from . import paper as paper_mod

    fig, axes = plt.subplots(1, len(panels), figsize=(PAGE_WIDTH, 4.2),
                             layout="constrained", squeeze=False)
    blue, orange = OKABE_ITO["blue"], OKABE_ITO["vermillion"]
    handles = {}
    for ax, (dataset, depth) in zip(axes[0], panels):
        m = means[(means["dataset"] == dataset) & (means["depth"] == depth)
                  & (means["optimizer"] == "adam") & means["batch_norm"]].sort_values("lr")
        ax.plot(1000 * m["lr"], 100 * m["baseline_accuracy"], "o-", color=blue,
                label="ours: $a_0$")
        ax.set_xlabel("learning rate (x 1e-3)")
        ax.set_ylabel("baseline accuracy $a_0$ (%)", color=blue)
        ax2 = ax.twinx()
        ax2.grid(False)
        ax2.plot(1000 * m["lr"], 100 * m["A_0.1"], "s--", color=orange,
                 label=r"ours: $A^{0.1}$")
        ax2.set_ylabel(r"$A^{0.1}$: normalized accuracy at $\eta$ = 10 % (%)", color=orange)
        if paper:
            t2 = paper_mod.lookup("table2", dataset=dataset, depth=depth)
            ax.plot(1000 * t2["lr"], t2["baseline_accuracy_pct"], "o", mfc="none",
                    color=blue, alpha=0.7, label="paper: $a_0$")
            it = paper_mod.lookup("in_text", dataset=dataset, depth=depth, optimizer="adam")
            it = it[it["noise_form_factor_pct"] == 10]
            ax2.plot(1000 * it["lr"], it["normalized_accuracy_pct"], "s", mfc="none",
                     color=orange, alpha=0.7, label=r"paper: $A^{0.1}$")
        if front and (dataset, depth) in front:
            f = front[(dataset, depth)]
            ax.plot(1000 * f["lr"], 100 * f["baseline_accuracy"], "o", ms=13, mfc="none",
                    color="black", label="our Pareto front")
        ax.set_title(f"ResNet{depth}, {dataset.upper()}")
        for a in (ax, ax2):
            for h, lab in zip(*a.get_legend_handles_labels()):
                handles.setdefault(lab, h)
    fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncols=3)
    stamp(fig, synthetic)
    return fig


def paired_bars(frame: pd.DataFrame, label: str, ours: str, paper: str | None, ylabel: str,
                ax=None, colour=OKABE_ITO["blue"]):
    """Our values (with std error bars where given) beside the paper's, per ``label``."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.4), layout="constrained")
    x = np.arange(len(frame))
    w = 0.38 if paper else 0.7
    err = frame.get(f"{ours.removesuffix('_pct')}_std_pct") if ours.endswith("_pct") else None
    ax.bar(x - (w / 2 if paper else 0), frame[ours], w, yerr=err, capsize=3, color=colour,
           label="ours")
    if paper:
        ax.bar(x + w / 2, frame[paper], w, color="lightgrey", edgecolor="black", label="paper")
    ax.set_xticks(x, frame[label], rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, frameon=False)
    return ax


def csv_link(frame: pd.DataFrame, filename: str, text: str | None = None):
    """An HTML link that downloads ``frame`` as a CSV file (the data is in the page
    itself, so the link works in a built book, offline, with no extra file)."""
    import base64

    from IPython.display import HTML

    data = base64.b64encode(frame.to_csv(index=False).encode()).decode()
    label = text or f"Download the full table ({len(frame)} rows) as CSV"
    return HTML(f'<p><a download="{filename}" href="data:text/csv;base64,{data}">'
                f'{label}</a></p>')
