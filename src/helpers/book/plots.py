"""Figures in the paper's style: labelled axes with units, one colour per LR everywhere.

Importing this module sets matplotlib's style for the book (``style``): fonts
legible at page width and a colour-blind-safe palette. Figures are at most
``PAGE_WIDTH`` inches wide, so that the book shows them at about their own size.

No figure leaves with an axis that says nothing (``axis_problems``): ``show`` turns one
x value on a continuous axis into a category, and refuses a log axis over more than
``MAX_DECADES`` decades or more than ``MAX_LINES`` lines in one panel unless one of
them is a summary (``gid="summary"``). It writes the description of the axes (``axis_facts``) into the
PNG, where the book's page check (``helpers.ops.bookcheck``) reads it again.
"""

from __future__ import annotations

import base64
import io
import json

import matplotlib as mpl
import matplotlib.category  # noqa: F401  (mpl.category, mpl.collections, mpl.patches)
import matplotlib.collections  # noqa: F401
import matplotlib.patches  # noqa: F401
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..experiment import recipe
from ..study import paper as paper_mod
from ..study.claims import READINGS, bn_layers, seeds_note, under_reading
from ..study.paper import PAPER_LRS
from ..experiment.recipe import DATASETS
from ..study.results import SMOKE_NOTE, lr_drops
from ..study.studies import STUDIES, dataset_order, model_name, model_rows, models, same_lr
from ..study.theory import without_replacement_variance
from ..study.words import plural, plural_range

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


# line style per optimizer where lines of several optimizers share a panel (colour: LR)
OPTIMIZER_LINES = {"adam": "-", "nadam": "--", "adamax": "-.", "sgd": ":",
                   "sgd_momentum": (0, (5, 1)), "sgd_nesterov": (0, (3, 1, 1, 1))}


def lr_marker(lr: float) -> str:
    for known, marker in LR_MARKERS.items():
        if same_lr(known, lr):
            return marker
    return "o"


# Limits on what a figure's axes may show (``axis_problems``).
MAX_DECADES = 12    # a log axis spanning more is dominated by one wild value
MAX_LINES = 12      # more lines in one panel overlap into a tangle
AXES_KEY = "helpers-axes"   # the PNG text chunk that holds ``axis_facts``
# ticks placed by hand (set_xticks) or categories (strings): not a continuous axis
_CATEGORICAL = (mpl.ticker.FixedLocator, mpl.category.StrCategoryLocator)


def _xs(ax) -> np.ndarray:
    """The x values of the data drawn in ``ax`` (lines, scatter points, bars)."""
    xs = [np.asarray(line.get_xdata(), dtype=float).ravel() for line in ax.get_lines()
          if line.get_transform() == ax.transData]
    for c in ax.collections:
        if isinstance(c, mpl.collections.PathCollection) and len(c.get_offsets()):
            xs.append(np.asarray(c.get_offsets(), dtype=float)[:, 0])
    xs += [np.array([r.get_x() + r.get_width() / 2]) for r in ax.patches
           if isinstance(r, mpl.patches.Rectangle) and r.get_transform() == ax.transData]
    xs = np.concatenate(xs) if xs else np.array([])
    return xs[np.isfinite(xs)]


def axis_facts(fig) -> list[dict]:
    """What each visible panel of ``fig`` shows: per axis its scale, limits and whether
    its ticks are categories; the number of distinct x values, of lines, and whether one
    line is marked as a summary (``gid="summary"``)."""
    out = []
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible() or not ax.has_data():
            continue
        lines = [ln for ln in ax.get_lines() if ln.get_visible()
                 and ln.get_transform() == ax.transData and len(ln.get_xdata()) >= 2
                 and ln.get_linestyle() not in ("None", "none", "", " ")]
        fact = {"panel": ax.get_title() or f"panel {i + 1}",
                "x_values": int(len(np.unique(np.round(_xs(ax), 12)))),
                "lines": len(lines), "summary": any(ln.get_gid() == "summary" for ln in lines)}
        for name, axis, lim in (("x", ax.xaxis, ax.get_xlim()), ("y", ax.yaxis, ax.get_ylim())):
            fact[name] = {"scale": axis.get_scale(), "lim": [float(v) for v in lim],
                          "categorical": isinstance(axis.get_major_locator(), _CATEGORICAL)}
        out.append(fact)
    return out


def axis_problems(facts) -> list[str]:
    """What says nothing in a figure (a figure, or its ``axis_facts``): one x value on a
    continuous axis, a log axis over more than ``MAX_DECADES`` decades, more than
    ``MAX_LINES`` lines in a panel without a summary line."""
    if not isinstance(facts, list):
        facts = axis_facts(facts)
    out = []
    for f in facts:
        where = f["panel"]
        x = f["x"]
        if f["x_values"] == 1 and x["scale"] == "linear" and not x["categorical"]:
            out.append(f"{where}: one x value on a continuous axis from {x['lim'][0]:g} to "
                       f"{x['lim'][1]:g} (make it a category)")
        for name in ("x", "y"):
            a = f[name]
            lo, hi = sorted(a["lim"])
            if a["scale"] == "log" and lo > 0 and np.log10(hi / lo) > MAX_DECADES:
                out.append(f"{where}: the {name} axis spans {np.log10(hi / lo):.0f} decades "
                           f"({lo:.0e} to {hi:.0e}; at most {MAX_DECADES})")
        if f["lines"] > MAX_LINES and not f["summary"]:
            out.append(f"{where}: {f['lines']} overlapping lines and no summary "
                       f"(at most {MAX_LINES})")
    return out


def one_x_as_category(fig) -> None:
    """A panel whose data have one x value on a continuous axis (one epoch, one LR, one
    depth) gets that value as its only tick, a category, instead of a numeric range
    around it."""
    for ax in fig.axes:
        xs = np.unique(np.round(_xs(ax), 12))
        if (ax.get_visible() and len(xs) == 1 and ax.get_xscale() == "linear"
                and not isinstance(ax.xaxis.get_major_locator(), _CATEGORICAL)):
            ax.set_xticks([xs[0]], [f"{xs[0]:g}"])


def png(fig) -> bytes:
    """``fig`` as the notebook shows it (its dpi, a tight box), its ``axis_facts`` in the
    PNG's text chunk ``AXES_KEY``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi, bbox_inches="tight",
                facecolor=fig.get_facecolor(), edgecolor=fig.get_edgecolor(),
                metadata={AXES_KEY: json.dumps(axis_facts(fig))})
    return buf.getvalue()


def show(fig, name: str | None = None) -> None:
    """Show ``fig``; in a book build with ``name``, glue it for a numbered
    ``{glue:figure}`` instead (myst_nb), so that the page places and captions it. A
    panel with one x value shows it as a category (``one_x_as_category``); a figure with
    an axis that still says nothing (``axis_problems``) is refused: ValueError."""
    from IPython.display import Image, display

    one_x_as_category(fig)
    problems = axis_problems(fig)
    if problems:
        plt.close(fig)
        raise ValueError(f"figure {name or ''}: " + "; ".join(problems))
    image = Image(data=png(fig), format="png")
    plt.close(fig)
    if name is not None:
        try:
            from myst_nb import glue
        except ImportError:
            name = None
        else:
            glue(name, image, display=False)
    if name is None:
        display(image)


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


def test_curves(hist: pd.DataFrame, synthetic: bool = False):
    """Test accuracy (%) against the epoch, one panel per model (dataset, depth) titled with
    its seeds, one line per LR (seed mean; band: range over seeds), models with BN solid
    and without BN dashed; dotted lines where the LR drops. One legend below the panels:
    an LR has one colour and marker in every panel. ``hist``: ``results.histories``."""
    models = sorted(hist.groupby(["dataset", "depth"]).groups) if len(hist) else [None]
    fig, axes = plt.subplots(1, len(models), figsize=(PAGE_WIDTH * (0.75 if len(models) == 1
                                                                    else 1), 3.6),
                             sharey=True, layout="constrained", squeeze=False)
    legend = {}
    for ax, model in zip(axes[0], models):
        h = hist if model is None else model_rows(hist, *model)
        _test_curves(ax, h)
        seeds = h.groupby(["batch_norm", "lr"])["seed"].nunique() if len(h) else [0]
        ax.set_title(("" if model is None else model_name(*model) + "\n")
                     + f"({plural_range(seeds, 'seed')})")
        legend.update(zip(*reversed(ax.get_legend_handles_labels())))
    axes[0][0].set_ylabel("test accuracy (%)")
    if legend:
        order = sorted(legend, key=lambda k: (", no BN" not in k, float(k.split()[2].strip(","))))
        fig.legend([legend[k] for k in order], order, loc="outside lower center",
                   ncol=min(4, len(order)), fontsize=8, frameon=False)
    stamp(fig, synthetic)
    return fig


def _test_curves(ax, hist: pd.DataFrame) -> None:
    """``test_curves``' lines of one model in ``ax``."""
    for (bn, lr), g in hist.groupby(["batch_norm", "lr"]):
        acc = 100 * g.pivot_table(index="epoch", columns="seed", values="test_accuracy")
        ax.plot(acc.index, acc.mean(axis=1), color=lr_colour(lr), marker=lr_marker(lr),
                markersize=4, ls="-" if bn else "--", label=f"lr = {lr:g}" + ("" if bn else ", no BN"))
        if acc.shape[1] > 1:
            ax.fill_between(acc.index, acc.min(axis=1), acc.max(axis=1), color=lr_colour(lr),
                            alpha=0.15, lw=0)
    for e in lr_drops(hist):   # between the last epoch at one LR and the first at the next
        ax.axvline(e + 0.5, color="grey", ls=":", lw=1)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(nbins=4, integer=True))


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


def noise_panels(df: pd.DataFrame, datasets=DATASETS, paper_in_text: pd.DataFrame | None = None,
                 synthetic: bool = False):
    """Fig. 1 (CIFAR-10) and 2 (CIFAR-100): normalized accuracy (%) against eta (%), one
    panel per (dataset, depth) the records hold, titled with the seeds of its cells
    (``claims.seeds_note``: "1 seed, indicative only"), one line per LR (seed mean; error
    bars: std over seeds where there are several). ``datasets``: one name or several."""
    datasets = (datasets,) if isinstance(datasets, str) else tuple(datasets)
    etas = sorted(float(c[2:]) for c in df if c.startswith("A_") and c[2:].replace(".", "").isdigit())
    d = df[df["dataset"].isin(datasets) & (df["optimizer"] == "adam") & df["batch_norm"]]
    panels = [(ds, depth) for ds in dataset_order(datasets)
              for depth in sorted(d.loc[d["dataset"] == ds, "depth"].unique())]
    ncols = 2 if len(panels) > 1 else 1
    nrows = max(1, -(-len(panels) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(PAGE_WIDTH if ncols == 2 else 5.6,
                                                    3.0 * nrows + 0.6),
                             sharey=True, sharex=True, layout="constrained", squeeze=False)
    axes = axes.ravel()
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    if not panels:
        axes[0].set_visible(True)
        axes[0].text(0.5, 0.5, f"no {' or '.join(recipe.name('dataset', ds) for ds in datasets)} records",
                     ha="center", va="center", transform=axes[0].transAxes)
    for ax, (ds, depth) in zip(axes, panels):
        runs = model_rows(d, ds, depth)
        for lr, g in runs.groupby("lr"):
            cols = [f"A_{e:g}" for e in etas]
            mean = np.concatenate([[100.0], 100 * g[cols].mean().to_numpy()])
            std = np.concatenate([[0.0], 100 * g[cols].std(ddof=1).fillna(0).to_numpy()])
            ax.errorbar([0] + [100 * e for e in etas], mean, yerr=std, marker=lr_marker(lr),
                        ms=4, lw=1.3, capsize=2, color=lr_colour(lr), label=_lr_label(lr))
        if paper_in_text is not None:
            pt = model_rows(paper_in_text, ds, depth)
            for lr, g in pt.groupby("lr"):
                ax.plot(g["noise_form_factor_pct"], g["normalized_accuracy_pct"], "x",
                        color=lr_colour(lr), ms=8, mew=2)
        seeds = f" ({seeds_note(runs.groupby('lr')['seed'].nunique())})" if "seed" in d else ""
        ax.set_title(f"{model_name(ds, depth)}" + (f"\n{seeds.strip()}" if seeds and len(panels) > 1 else seeds))
    for i, ax in enumerate(axes[:len(panels)]):
        if i % ncols == 0:
            ax.set_ylabel("normalized accuracy $A^x$ (%)")
        if i >= len(panels) - ncols:   # no panel below: this one carries the x axis
            ax.set_xlabel(r"noise form factor $\eta$ (%)")
            ax.xaxis.set_tick_params(labelbottom=True)
    from matplotlib.lines import Line2D
    lrs = sorted(d["lr"].unique())
    handles = [Line2D([], [], color=lr_colour(lr), marker=lr_marker(lr), ms=5,
                      label=_lr_label(lr)) for lr in lrs]
    if paper_in_text is not None:
        handles.append(Line2D([], [], color="black", marker="x", ls="none", mew=2,
                              label="paper (text)"))
    fig.legend(handles=handles, loc="outside right center")
    fig.suptitle("Normalized accuracy under weight noise")
    stamp(fig, synthetic)
    return fig


def _spread(means: pd.DataFrame, metric: str):
    """The spread over seeds of ``metric`` in % for error bars (0 for one seed), or None
    when the frame has no spread."""
    col = f"{metric}_std"
    return 100 * means[col].fillna(0) if col in means else None


def _adam_bn_models(means: pd.DataFrame) -> list[tuple]:
    """The (dataset, depth) of the Adam models with BN in ``means``, datasets in the
    pages' order (``studies.dataset_order``), then by depth."""
    return models(means[(means["optimizer"] == "adam") & means["batch_norm"].astype(bool)])


def tradeoff(means: pd.DataFrame, panels=None, front: dict | None = None,
             synthetic: bool = False, paper: bool = True):
    """Fig. 4: baseline accuracy a0 (%) and normalized accuracy at eta = 10 % (%) against
    the LR, one panel per (dataset, depth) of ``panels`` (default: every Adam model with BN
    in ``means``), titled with the seeds of its cells (``claims.seeds_note``), ours with
    error bars of their spread over seeds; LRs on the Pareto front of (a0, A^0.1) are
    ringed; the paper's points (Table II, and A^0.1 from its Sec. III-3) are drawn hollow.
    One legend for all panels, below them, where it cannot hide data."""
    panels = (_adam_bn_models(means) if panels is None else list(panels)) or [
        (recipe.REFERENCE_DATASET, recipe.REFERENCE_DEPTH)]   # an empty panel says so
    ncols = min(2, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(PAGE_WIDTH, 0.6 + 3.6 * nrows),
                             layout="constrained", squeeze=False)
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    blue, orange = OKABE_ITO["blue"], OKABE_ITO["vermillion"]
    handles = {}
    for ax, (dataset, depth) in zip(axes.ravel(), panels):
        m = model_rows(means, dataset, depth)
        m = m[(m["optimizer"] == "adam") & m["batch_norm"]].sort_values("lr")
        ax.errorbar(1000 * m["lr"], 100 * m["baseline_accuracy"],
                    yerr=_spread(m, "baseline_accuracy"), fmt="o-", capsize=3,
                    color=blue, label="ours: $a_0$")
        ax.set_xlabel("learning rate (x 1e-3)")
        ax.set_ylabel("baseline accuracy $a_0$ (%)", color=blue)
        ax2 = ax.twinx()
        ax2.grid(False)
        ax2.errorbar(1000 * m["lr"], 100 * m["A_0.1"], yerr=_spread(m, "A_0.1"),
                     fmt="s--", capsize=3, color=orange, label=r"ours: $A^{0.1}$")
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
        ax.set_title(model_name(dataset, depth)
                     + (f"\n({seeds_note(m['n_seeds'])})" if "n_seeds" in m and len(m) else ""))
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
    ax.set_xticks(x, [recipe.name(label, v) for v in frame[label]], rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, frameon=False)
    return ax


def csv_link(frame: pd.DataFrame, filename: str, text: str | None = None):
    """An HTML link that downloads ``frame`` as a CSV file (the data is in the page
    itself, so the link works in a built book, offline, with no extra file)."""
    from IPython.display import HTML

    data = base64.b64encode(frame.to_csv(index=False).encode()).decode()
    label = text or f"Download the full table ({len(frame)} rows) as CSV"
    return HTML(f'<p><a download="{filename}" href="data:text/csv;base64,{data}">'
                f'{label}</a></p>')


# One colour per depth in the mechanism figures (the LR keeps its colour in the markers).
DEPTH_COLOURS = {8: "tab:brown", 14: "tab:pink", 20: "tab:blue", 32: "tab:orange",
                 44: "tab:green", 56: "tab:red"}


def depth_colour(depth) -> str:
    return DEPTH_COLOURS.get(int(depth), "tab:grey")


def _adam_bn(frame: pd.DataFrame) -> pd.DataFrame:
    """The paper's grid: the Adam models with BN."""
    return frame[(frame["optimizer"] == "adam") & frame["batch_norm"].astype(bool)]


# One line style and marker per dataset in the mechanism figures (the depth keeps its colour)
DATASET_STYLES = (("-", "o"), ("--", "s"), (":", "^"))


def _model_styles(table: pd.DataFrame) -> dict:
    """Per model (dataset, depth) of ``table``, in the pages' order: its label
    (``model_name``), colour (its depth's), line style and marker (its dataset's)."""
    order = dataset_order(table["dataset"].unique()) if len(table) else []
    style = {ds: DATASET_STYLES[i % len(DATASET_STYLES)] for i, ds in enumerate(order)}
    return {(ds, d): {"label": model_name(ds, d), "color": depth_colour(d),
                      "ls": style[ds][0], "marker": style[ds][1]}
            for ds, d in models(table)}


def _datasets_title(table: pd.DataFrame, what: str) -> str:
    """"CIFAR-10: what" for one dataset, "what" for several (each line names its own)."""
    datasets = table["dataset"].unique() if len(table) else []
    return f"{recipe.name('dataset', datasets[0])}: {what}" if len(datasets) == 1 else what


def theory_bound(table: pd.DataFrame, synthetic: bool = False):
    """C (left) and the eq. 2 bound alpha^2 C / |B| (right) against the base LR, one
    line per model (Adam with BN, seed mean; colour: depth, line style: dataset),
    markers in the colour of the LR. ``table``: ``theory.from_records`` of one or more
    datasets."""
    grid = _adam_bn(table)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 3.6), layout="constrained")
    for (ds, depth), style in _model_styles(grid).items():
        g = model_rows(grid, ds, depth).groupby("lr", as_index=False)[["C", "bound"]].mean()
        for ax, col in ((ax1, "C"), (ax2, "bound")):
            ax.plot(1000 * g["lr"], g[col], ls=style["ls"], color=style["color"],
                    label=style["label"])
            ax.scatter(1000 * g["lr"], g[col], c=[lr_colour(lr) for lr in g["lr"]],
                       marker=style["marker"], edgecolors=style["color"], s=45, zorder=3)
    ax1.set_ylabel(r"$C = E\|\nabla L_i - \nabla L_D\|^2$")
    ax2.set_ylabel(r"$\alpha^2 C / |B|$")
    for ax in (ax1, ax2):
        ax.set_yscale("log")  # C spans decades across models
        ax.set_xlabel("base learning rate $\\alpha$ (x 1e-3)")
    lr_marks = [plt.Line2D([], [], ls="none", marker="o", color=lr_colour(lr), label=_lr_label(lr))
                for lr in sorted(grid["lr"].unique())]
    fig.legend(handles=ax1.get_legend_handles_labels()[0] + lr_marks, loc="outside right center")
    fig.suptitle(_datasets_title(grid, "gradient-noise constant and the eq. 2 bound"))
    stamp(fig, synthetic)
    return fig


def theory_law(table: pd.DataFrame, blocks: dict, synthetic: bool = False):
    """The minibatch gradient variance divided by the model's C against |B| (log-log),
    per model (dataset, depth) the median over its trained models (band: their range;
    one line per trained model would overlap into a tangle), beside the exact prediction
    (n - |B|) / (|B| (n - 1)) for each n and the 1/|B| of eq. 2. ``table``, ``blocks``:
    ``theory.from_records`` of one or more datasets (blocks merged)."""
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 4.2), layout="constrained")
    for (ds, depth), style in _model_styles(table).items():
        g = model_rows(table, ds, depth)
        ratio = pd.concat([pd.DataFrame(blocks[r.key]["minibatch"]).assign(
            ratio=lambda m, C=r.C: m["measured"] / C, key=r.key) for r in g.itertuples()])
        by_b = ratio.groupby("B")["ratio"]
        n = ratio["key"].nunique()
        if n > 1:
            ax.fill_between(by_b.min().index, by_b.min(), by_b.max(), color=style["color"],
                            alpha=0.2, lw=0)
        ax.plot(by_b.median().index, by_b.median(), marker=style["marker"], ls=style["ls"],
                ms=4, color=style["color"], gid="summary",
                label=f"{style['label']}, measured: median of {plural(n, 'model')}"
                      + (" (band: range)" if n > 1 else ""))
    keys = set(table["key"])
    used = [b for k, b in blocks.items() if k in keys]
    for n in sorted(table["n_examples"].unique()):
        B = np.unique(np.concatenate([pd.DataFrame(b["minibatch"])["B"].to_numpy()
                                      for b in used if b["n_examples"] == n]))
        ax.plot(B, without_replacement_variance(1.0, B, n), "k--",
                label=f"(n-|B|)/(|B|(n-1)), n = {n}")
    B_all = np.array(sorted({m["B"] for b in used for m in b["minibatch"]}))
    ax.plot(B_all, 1.0 / B_all, "k:", label="1/|B| (eq. 2)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("minibatch size |B| (examples)")
    ax.set_ylabel(r"$E\|\nabla L_B - \nabla L_D\|^2 / C$ (dimensionless)")
    # below the axes: the per-model labels are long, and a legend at the side squeezed them
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2,
               fontsize="small")
    ax.grid(alpha=0.3, which="both")
    ax.set_title(_datasets_title(table, "minibatch gradient variance"))
    stamp(fig, synthetic)
    return fig


def theory_resistance(table: pd.DataFrame, synthetic: bool = False):
    """A_avr (%) of each model against its eq. 2 bound (log axis); colour: depth,
    marker: dataset."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    t = table.dropna(subset=["bound", "A_avr"])
    for (ds, depth), style in _model_styles(t).items():
        g = model_rows(t, ds, depth)
        ax.scatter(g["bound"], 100 * g["A_avr"], color=style["color"], marker=style["marker"],
                   s=40, label=style["label"])
    ax.set_xscale("log")
    # labels at 1, 2 and 5 of each decade only: matplotlib's minor labels (2, 3, 4, 6 x
    # 10^-5) ran into each other on this axis
    ax.xaxis.set_major_locator(mpl.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(mpl.ticker.LogFormatterSciNotation(
        labelOnlyBase=False, minor_thresholds=(np.inf, np.inf)))
    ax.xaxis.set_minor_formatter(mpl.ticker.NullFormatter())
    ax.set_xlabel(r"$\alpha^2 C / |B|$ at the base LR (squared SGD step norm)")
    ax.set_ylabel("average normalized accuracy $A_{avr}$ (%)")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right center")
    ax.set_title(_datasets_title(t, "the eq. 2 bound and noise resistance"))
    stamp(fig, synthetic)
    return fig


def batchnorm(bn: pd.DataFrame, synthetic: bool = False):
    """A_avr (%) with and without BN per depth, one category per depth (named with the BN
    model's number of BN layers: a single depth is one category, not a point on a
    continuous axis), one panel per dataset (seed mean; error bars: spread over seeds).
    ``bn``: seed means of the batchnorm study (``tables.batchnorm``)."""
    datasets = dataset_order(bn["dataset"].unique())
    n = max(1, len(datasets))   # a panel per dataset in the records, none left empty
    fig, axes = plt.subplots(1, n, figsize=(PAGE_WIDTH * (0.6 if n == 1 else 1), 4.2),
                             layout="constrained", squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        g = bn[bn["dataset"] == dataset]
        depths = sorted(g["depth"].unique())
        where = {d: i for i, d in enumerate(depths)}
        for flag, style, shift in ((True, "o-", -0.06), (False, "s--", 0.06)):
            h = g[g["batch_norm"] == flag].sort_values("depth")
            ax.errorbar(h["depth"].map(where) + shift, 100 * h["A_avr"],
                        yerr=100 * h["A_avr_std"].fillna(0), fmt=style, capsize=3,
                        label="with BN" if flag else "without BN")
        ax.set_xticks(range(len(depths)),
                      [f"ResNet{d}\n({bn_layers(d)} BN layers)" for d in depths])
        ax.set_xlim(-0.5, len(depths) - 0.5)
        ax.set_xlabel("depth (BN layers of the model with BN)")
        ax.set_ylabel("average normalized accuracy $A_{avr}$ (%)")
        ax.set_title(recipe.name("dataset", dataset))
    if datasets:   # one legend below the panels, where it hides no point
        fig.legend(*axes[0][0].get_legend_handles_labels(), loc="outside lower center", ncols=2)
    stamp(fig, synthetic)
    return fig


def optimizers(a0: pd.DataFrame, aavr: pd.DataFrame, synthetic: bool = False):
    """Fig. 3: a0 (left) and A_avr (right) per optimizer, ours beside the paper's.
    ``a0``, ``aavr``: ``paper.beside(means, "figure3_a0" | "figure3_aavr")``."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 4.2), layout="constrained")
    paired_bars(a0, "optimizer", "ours_pct", "paper_pct", "baseline accuracy $a_0$ (%)", ax1)
    paired_bars(aavr, "optimizer", "ours_pct", "paper_pct",
                "average normalized accuracy $A_{avr}$ (%)", ax2, colour="tab:orange")
    o = STUDIES["optimizers"]   # the one model and LR of the paper's Figure 3
    fig.suptitle(f"{model_name(o.datasets[0], o.depths[0])}, lr = "
                 f"{o.lrs[0]:g}: ours (seed mean) and the paper's Figure 3")
    stamp(fig, synthetic)
    return fig


def across_studies(records: dict, synthetic: bool = False):
    """A_avr (%) against the LR under each noise reading of ``claims.READINGS`` (one
    panel each), one line per study and model (name -> records, BN models with Adam; seed mean,
    error bars: spread over seeds, none with one seed): does a study on other hardware,
    backend or schedule tell the same story?"""
    fig, axes = plt.subplots(1, len(READINGS), figsize=(PAGE_WIDTH, 3.4), sharey=True,
                             layout="constrained", squeeze=False)
    models = sorted({k for r in records.values() for k in _adam_bn_models(r)})
    for ax, (title, reading) in zip(axes[0], READINGS.items()):
        for (name, r), fmt in zip(records.items(), ("o-", "s--", "D:", "^-.")):
            r = under_reading(r[r["batch_norm"].astype(bool) & (r["optimizer"] == "adam")],
                              reading)
            for (ds, depth), m in r.groupby(["dataset", "depth"]):   # a line per model
                g = m.groupby("lr")["A_avr"]
                ax.errorbar(1e3 * g.mean().index, 100 * g.mean(),
                            yerr=100 * g.std(ddof=1).fillna(0), fmt=fmt, capsize=3,
                            label=name if len(models) < 2 else
                            f"{name}: {model_name(ds, depth)}")
        ax.set_title(title)
        ax.set_xlabel("learning rate (x 1e-3)")
    axes[0][0].set_ylabel("average normalized accuracy $A_{avr}$ (%)")
    axes[0][0].legend()
    stamp(fig, synthetic)
    return fig


# the three main readings' colours and markers on the front page
READING_STYLE = {"paper (all arrays)": ("vermillion", "o"), "trainable only": ("blue", "s"),
                 "BN folded": ("bluish green", "^")}


def _interval_bars(ax, frame, y, lo, hi, scale=100.0, **kw):
    """Points at ``y`` with t-interval bars (``lo``, ``hi``; none where NaN)."""
    err = np.vstack([(frame[y] - frame[lo]).fillna(0), (frame[hi] - frame[y]).fillna(0)])
    ax.errorbar(frame["lr"], scale * frame[y], yerr=scale * err, capsize=3, **kw)


def headline(cells: pd.DataFrame, synthetic: bool = False):
    """The front page's figure (``study.headline.headline_cells``): A_avr (%) against the
    LR under the three main readings, and the share of draws that broke the model,
    seed means with their 95 % t-intervals; the paper's LR range shaded."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 3.4), layout="constrained")
    for ax in (ax1, ax2):
        ax.axvspan(min(PAPER_LRS), max(PAPER_LRS), color="grey", alpha=0.12, lw=0)
        ax.set_xscale("log")
    for label, g in cells.groupby("reading", sort=False):
        colour, marker = READING_STYLE.get(label, ("black", "o"))
        g = g.sort_values("lr")
        _interval_bars(ax1, g, "A_avr", "low", "high", color=OKABE_ITO[colour], marker=marker,
                       label=label)
        if g["broken"].notna().any() and (g["broken"].fillna(0) > 0).any():
            _interval_bars(ax2, g, "broken", "broken_low", "broken_high",
                           color=OKABE_ITO[colour], marker=marker, label=label)
    ticks = sorted(cells["lr"].unique())
    for ax in (ax1, ax2):
        ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())
        ax.set_xticks(ticks, [f"{v * 1000:g}" for v in ticks], rotation=45)
        ax.set_xlabel("learning rate $\\eta$ (Adam, $\\times 10^{-3}$)")
    ax1.set_ylabel("$A_{avr}$ (%)")
    ax1.legend(loc="lower left")
    ax2.set_ylabel("draws that broke the model (%)")
    ax2.set_ylim(-5, 105)
    if ax2.get_legend_handles_labels()[0]:
        ax2.legend(loc="upper left")
    stamp(fig, synthetic)
    return fig


def placeholder(message: str):
    """A page's figure while its records hold nothing to draw: page-wide, short, empty but
    for ``message`` ("no PCM sweep in these records yet"), so the page keeps its figure."""
    style()
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 2.0))
    ax.text(0.5, 0.5, message, ha="center", va="center")
    ax.set_axis_off()
    return fig


def end_panels(fig, axes, ylabel: str, synthetic: bool = False):
    """The end of a row of panels sharing their y axis: ``ylabel`` on the first, the legend
    on the last, the stamp of a figure of synthetic data (``stamp``), a tight layout."""
    axes[0].set_ylabel(ylabel)
    seen = {}   # every line of every panel, once: a panel may lack a line another has
    for ax in axes:
        for handle, text in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(text, handle)
    if seen:
        axes[-1].legend(list(seen.values()), list(seen), fontsize=7)
    stamp(fig, synthetic)
    fig.tight_layout()
    return fig
