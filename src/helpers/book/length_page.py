"""The training-length page's table, figure and sentence, from
``helpers.study.training_length``: the same ResNet20 cells trained for 20, 30, 60 or 200
epochs, side by side."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..experiment import recipe
from ..study import claims, headline, results, training_length
from ..study.words import plural
from . import page, plots


# one folder per training length, relative to the book's pages; a missing folder is skipped
LENGTH_DIRS = ("../results/cpu", "../results/gpu-fast", "../results/cpu-long",
               "../results/gpu-paper")


def load(results_dirs=LENGTH_DIRS) -> pd.DataFrame:
    """The records of every folder of ``results_dirs`` that exists, in one frame."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # a retrain's duplicate is averaged, not dropped
        frames = [results.load_records(d) for d in results_dirs if Path(d).is_dir()]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def used_records(records: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """The records behind ``cells`` (``training_length.length_cells``), diverged runs
    included: the reference model's BN runs with Adam at the cells' LRs and profiles,
    so that a page's provenance names these, not every record of its folders."""
    if records.empty or cells.empty:
        return records.iloc[0:0]
    rows = headline.headline_rows(records)
    return rows[rows["lr"].isin(cells["lr"].unique())
                & rows["profile"].isin(cells["profile"].unique())]


def _value(mean, lo, hi, digits=1) -> str | None:
    if mean is None or np.isnan(mean):
        return None
    return f"{100 * mean:.{digits}f}" + ("" if np.isnan(lo) else
                                        f" [{100 * lo:.{digits}f}, {100 * hi:.{digits}f}]")


def display_table(cells: pd.DataFrame) -> pd.DataFrame:
    """``length_cells`` for a page: one row per LR and length (epochs, profile, n), a0 and
    A_avr under each reading as "mean [low, high]" (%), the t-interval over seeds."""
    if cells.empty:
        return pd.DataFrame(columns=["lr", "epochs", "n", "a0"])
    first = cells.drop_duplicates(["epochs", "profile", "lr"]).set_index(
        ["lr", "epochs", "profile"])
    out = pd.DataFrame({"n": first["n"].astype(int),
                        "$a_0$": [_value(m, lo, hi) for m, lo, hi in
                                  zip(first["a0"], first["a0_low"], first["a0_high"])]})
    for label in claims.READINGS:
        c = cells[cells["reading"] == label].set_index(["lr", "epochs", "profile"])
        out[f"$A_{{avr}}$ {label}"] = pd.Series(
            [_value(m, lo, hi) for m, lo, hi in zip(c["A_avr"], c["low"], c["high"])],
            index=c.index)
    return out.sort_index().reset_index()


def display_gaps(gaps: pd.DataFrame) -> pd.DataFrame:
    """``length_gaps`` for a page: per reading and length, the paired gap (pp) with its
    t-interval, the number of seed pairs and the exact sign-flip p."""
    if gaps.empty:
        return pd.DataFrame(columns=["reading", "epochs", "pairs", "gap (pp)", "p"])
    return pd.DataFrame({
        "reading": gaps["reading"], "epochs": gaps["epochs"].astype(int),
        "profile": gaps["profile"], "pairs": gaps["n_pairs"].astype(int),
        "gap (pp)": [_value(m, lo, hi) for m, lo, hi in
                     zip(gaps["gap"], gaps["gap_low"], gaps["gap_high"])],
        "p": [None if np.isnan(p) else f"{p:.3g}" for p in gaps["p"]]})


def plot(cells: pd.DataFrame, synthetic: bool = False):
    """A_avr (%) against the training length (epochs, a category axis), one panel per
    reading, one line per LR; error bars: the t-interval over seeds."""
    import matplotlib.pyplot as plt

    if cells.empty:
        return plots.placeholder("no LR trained at two lengths in these records yet")
    plots.style()
    lengths = sorted(cells["epochs"].unique())
    pos = {e: i for i, e in enumerate(lengths)}
    fig, axes = plt.subplots(1, len(claims.READINGS), figsize=(plots.PAGE_WIDTH, 3.0),
                             squeeze=False, sharey=True)
    for ax, label in zip(axes[0], claims.READINGS):
        for lr, g in cells[cells["reading"] == label].groupby("lr"):
            g = g.sort_values("epochs")
            x = g["epochs"].map(pos).to_numpy(float)
            err = np.nan_to_num(100 * np.vstack([g["A_avr"] - g["low"], g["high"] - g["A_avr"]]))
            ax.errorbar(x, 100 * g["A_avr"], yerr=err, capsize=2, color=plots.lr_colour(lr),
                        marker=plots.lr_marker(lr), label=f"lr {lr:g}")
        ax.set_xticks(range(len(lengths)), [f"{e}" for e in lengths])
        ax.set_xlim(-0.5, len(lengths) - 0.5)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("epochs")
    return plots.end_panels(fig, axes[0], "$A_{avr}$ (%)", synthetic)


def sentence(gaps: pd.DataFrame) -> str:
    """What the paired LR gaps say per training length, under the two readings of the
    headline (BN folded, trainable only) and the paper's, with the number of seed pairs
    and p."""
    if gaps.empty:
        return ("No training length yet has both learning rates of the comparison on the "
                "same seeds, so the gap cannot be paired.")
    parts = []
    for (epochs, profile), g in gaps.groupby(["epochs", "profile"]):
        g = g.set_index("reading")
        said = []
        for label in ("BN folded", "trainable only", "paper (all arrays)"):
            if label in g.index:
                r = g.loc[label]
                said.append(f"{100 * r['gap']:+.1f} pp {claims.READING_PHRASES[label]}"
                            + ("" if np.isnan(r["p"]) else f" (p = {r['p']:.2g})"))
        r0 = g.iloc[0]
        parts.append(f"at {epochs} epochs ({profile}, {plural(int(r0['n_pairs']), 'seed pair')}): "
                     + ", ".join(said))
    lo, hi = gaps["lr_low"].iloc[0], gaps["lr_high"].iloc[0]
    return (f"$A_{{avr}}$(lr = {lo:g}) − $A_{{avr}}$(lr = {hi:g}), paired within seed, "
            + "; ".join(parts) + ". A negative gap: the larger LR resists better.")


def across_lengths_sentence(cells: pd.DataFrame, lr_low: float, lr_high: float) -> str:
    """Has longer training closed the LR gap? ``lr_low`` at its longest training against
    ``lr_high`` at its shortest, with BN folded and trainable only (``length_cells``): if
    the smaller LR only looked less resistant because it was less trained, its longest
    run should reach the larger LR's shortest. The verdict follows the folded reading
    (the headline's). "" when either LR is missing or the smaller LR was not trained
    longer than the larger."""
    lo, hi = cells[cells["lr"] == lr_low], cells[cells["lr"] == lr_high]
    if lo.empty or hi.empty or lo["epochs"].max() <= hi["epochs"].min():
        return ""
    a = lo[lo["epochs"] == lo["epochs"].max()].set_index("reading")
    b = hi[hi["epochs"] == hi["epochs"].min()].set_index("reading")
    readings = [r for r in ("BN folded", "trainable only") if r in a.index and r in b.index]
    if not readings:
        return ""
    said = ", ".join(f"{100 * a.loc[r, 'A_avr']:.1f} against {100 * b.loc[r, 'A_avr']:.1f} % "
                     f"{claims.READING_PHRASES[r]}" for r in readings)
    closed = a.loc[readings[0], "A_avr"] >= b.loc[readings[0], "A_avr"]
    ra, rb = a.iloc[0], b.iloc[0]
    return (f"lr = {lr_low:g} at its longest training ({ra['epochs']} epochs, "
            f"{plural(int(ra['n']), 'seed')}, $a_0$ {100 * ra['a0']:.1f} %) against lr = "
            f"{lr_high:g} at its shortest ({rb['epochs']} epochs, "
            f"{plural(int(rb['n']), 'seed')}, $a_0$ {100 * rb['a0']:.1f} %): $A_{{avr}}$ "
            f"{said}. With {ra['epochs'] / rb['epochs']:g} times the training the smaller LR "
            + ("reaches the larger one's resistance, so the LR effect may be one of training "
               "length" if closed else "still resists less than the larger one trained "
               "shorter: undertraining alone does not explain the LR effect")
            + ("" if int(ra["n"]) >= 3 else " (indicative: fewer than 3 seeds)") + ".")


def _gap_text(r) -> str:
    return f"{100 * r['gap']:+.1f} pp" + ("" if np.isnan(r["gap_low"]) else
                                          f" [{100 * r['gap_low']:+.1f}, {100 * r['gap_high']:+.1f}]")


def paired_lengths_sentence(gaps: pd.DataFrame) -> str:
    """Has longer training closed the LR gap, judged within seed? The paired gap
    A_avr(lo) - A_avr(hi) (``length_gaps``) at the shortest length against the longest,
    with BN folded and trainable only (the headline's readings): still negative and as
    large (the larger LR resists better as before), smaller (narrowed) or of the other
    sign (reversed). Marked indicative with fewer than 3 seed pairs at the longest
    length. "" when fewer than two lengths have both LRs on a seed."""
    if gaps.empty or gaps["epochs"].nunique() < 2:
        return ""
    first, last = sorted(gaps["epochs"].unique())[0], sorted(gaps["epochs"].unique())[-1]
    g0 = gaps[gaps["epochs"] == first].set_index("reading")
    g1 = gaps[gaps["epochs"] == last].set_index("reading")
    readings = [r for r in ("BN folded", "trainable only") if r in g0.index and r in g1.index]
    if not readings:
        return ""
    said, fates = [], {}
    for label in readings:
        a, b = g0.loc[label], g1.loc[label]
        if np.sign(a["gap"]) != np.sign(b["gap"]):
            fates[label] = "reversed"
        elif abs(b["gap"]) < abs(a["gap"]):
            fates[label] = "narrowed"
        else:
            fates[label] = "kept"
        said.append(f"{claims.READING_PHRASES[label]}, from {_gap_text(a)} at {first} epochs "
                    f"to {_gap_text(b)} at {last} ({fates[label]})")
    n0, n1 = int(g0["n_pairs"].iloc[0]), int(g1["n_pairs"].iloc[0])
    lo, hi = gaps["lr_low"].iloc[0], gaps["lr_high"].iloc[0]
    verbs = {"reversed": "reverses", "narrowed": "narrows", "kept": "keeps"}
    parts = [f"{verbs[fate]} {'the LR effect' if not k else 'it'} "
             + claims.and_list(claims.READING_PHRASES[r] for r in readings if fates[r] == fate)
             for k, fate in enumerate(f for f in verbs if f in fates.values())]
    verdict = "Longer training " + claims.and_list(parts)
    return (f"$A_{{avr}}$(lr = {lo:g}) − $A_{{avr}}$(lr = {hi:g}), paired within seed "
            f"({plural(n0, 'seed pair')} at {first} epochs, {plural(n1, 'seed pair')} at "
            f"{last}; a negative gap: the larger LR resists better): " + "; ".join(said)
            + f". {verdict}" + ("" if n1 >= 3 else
                                f" (indicative: {plural(n1, 'seed pair')} at {last} epochs"
                                + (", no interval" if n1 < 2 else "") + ")") + ".")


def verdict_sentence(cells: pd.DataFrame, gaps: pd.DataFrame, lr_low: float,
                     lr_high: float) -> str:
    """The page's and the front page's verdict on training length: the paired gap across
    lengths (``paired_lengths_sentence``) once two lengths have both LRs on a seed, else
    the smaller LR's longest training against the larger's shortest
    (``across_lengths_sentence``)."""
    return paired_lengths_sentence(gaps) or across_lengths_sentence(cells, lr_low, lr_high)


def front_sentence(records: pd.DataFrame | None = None,
                   lr_pair=training_length.LR_PAIR) -> str:
    """The front page's line on training length: ``verdict_sentence`` of the
    compared pair over ``records`` (by default every length folder, ``load``)."""
    records = load() if records is None else records
    cells = training_length.length_cells(records, always=lr_pair)
    gaps = training_length.length_gaps(records, *lr_pair)
    paired = paired_lengths_sentence(gaps)
    said = paired or across_lengths_sentence(cells, *lr_pair)   # verdict_sentence's choice
    if not said:
        return ("Training length: no record yet trains the smaller learning rate longer "
                "than the larger.")
    runs = headline.headline_runs(records)   # the cells the sentence reads
    low, high = (runs[runs["lr"] == lr] for lr in lr_pair)
    if paired:
        ends = (gaps["epochs"].min(), gaps["epochs"].max())
        used = runs[runs["lr"].isin(lr_pair) & runs["epochs"].isin(ends)]
    else:
        used = pd.concat([low[low["epochs"] == low["epochs"].max()],
                          high[high["epochs"] == high["epochs"].min()]])
    return (f"Training length "
            f"({claims.model_name(recipe.REFERENCE_DATASET, recipe.REFERENCE_DEPTH)}, BN, "
            f"Adam): {said} {page.provenance(used)}")
