"""Does the LR effect survive longer training? The same cells (the reference model,
``recipe.REFERENCE_DATASET`` and ``REFERENCE_DEPTH``, with BN, Adam)
trained for different numbers of epochs (20: ``cpu``, 30: ``fast``, 60: ``long``, 200:
``paper``), set side by side: a0 and A_avr under each main noise reading, each the seed
mean with its Student-t interval, and within each length the paired LR gap
A_avr(lo) - A_avr(hi) over the seeds both LRs share.

Records of different lengths differ in more than the epochs (the ``fast`` records ran on
a GPU, with 5 draws per eta on all 10,000 test images): ``profile`` and ``n`` are in every
row so that a table says what it compares."""

from __future__ import annotations

import pandas as pd

from ..experiment.recipe import REFERENCE_DATASET, REFERENCE_DEPTH
from . import claims, stats
from .headline import headline_runs
from .studies import select

COLUMNS = ["reading", "epochs", "profile", "lr", "n", "a0", "a0_low", "a0_high",
           "A_avr", "low", "high"]
GAP_COLUMNS = ["reading", "epochs", "profile", "lr_low", "lr_high", "n_pairs", "gap",
               "gap_low", "gap_high", "p"]


def length_cells(records: pd.DataFrame, lrs=None, dataset: str = REFERENCE_DATASET,
                 depth: int = REFERENCE_DEPTH,
                 level: float = stats.LEVEL, always=()) -> pd.DataFrame:
    """Per reading (``claims.READINGS``' labels), training length and LR (``lrs``, or all
    LRs trained at more than one length and those of ``always``, e.g. the pair a page
    compares): a0 and A_avr (fractions), seed means with t-intervals (NaN bounds with
    one seed), n the number of seeds. Repeats of one seed (a retrain) are averaged into
    one value, so that they never count as more seeds."""
    runs = headline_runs(records, dataset, depth)
    if runs.empty:
        return pd.DataFrame(columns=COLUMNS)
    if lrs is None:
        per_lr = runs.groupby("lr")["epochs"].nunique()
        lrs = sorted(set(per_lr[per_lr > 1].index) | set(always))
    runs = runs[runs["lr"].isin(list(lrs))]
    rows = []
    for label, reading in claims.READINGS.items():
        r = claims.under_reading(runs, reading)
        for (epochs, profile, lr), g in r.groupby(["epochs", "profile", "lr"]):
            g = g.groupby("seed")[["baseline_accuracy", "A_avr"]].mean()  # one value a seed
            a0, a0_lo, a0_hi, _ = stats.t_interval(g["baseline_accuracy"], level)
            a, lo, hi, n = stats.t_interval(g["A_avr"], level)
            rows.append({"reading": label, "epochs": int(epochs), "profile": profile,
                         "lr": float(lr), "n": n, "a0": a0, "a0_low": a0_lo,
                         "a0_high": a0_hi, "A_avr": a, "low": lo, "high": hi})
    return pd.DataFrame(rows, columns=COLUMNS)


LR_PAIR = (0.0005, 0.0015)   # the paper's lowest and highest LR: the pair compared across lengths


def length_gaps(records: pd.DataFrame, lr_low: float = LR_PAIR[0], lr_high: float = LR_PAIR[1],
                dataset: str = REFERENCE_DATASET, depth: int = REFERENCE_DEPTH,
                level: float = stats.LEVEL) -> pd.DataFrame:
    """Per reading and training length: the paired gap A_avr(lr_low) - A_avr(lr_high)
    over the seeds that trained both LRs, its t-interval and its exact sign-flip p-value
    (``stats.sign_flip_p``; NaN below two pairs). A negative gap: the larger LR resists
    better."""
    runs = headline_runs(records, dataset, depth)
    rows = []
    if runs.empty:
        return pd.DataFrame(columns=GAP_COLUMNS)
    for label, reading in claims.READINGS.items():
        r = claims.under_reading(runs, reading)
        for (epochs, profile), g in r.groupby(["epochs", "profile"]):
            wide = g.pivot_table(index="seed", columns="lr", values="A_avr")
            if lr_low not in wide or lr_high not in wide:
                continue
            d = (wide[lr_low] - wide[lr_high]).dropna()
            gap, lo, hi, n = stats.t_interval(d, level)
            p = stats.sign_flip_p(d.to_numpy()) if n >= 2 else float("nan")
            rows.append({"reading": label, "epochs": int(epochs), "profile": profile,
                         "lr_low": lr_low, "lr_high": lr_high, "n_pairs": n, "gap": gap,
                         "gap_low": lo, "gap_high": hi, "p": p})
    return pd.DataFrame(rows, columns=GAP_COLUMNS)


FAR_PP = 10.0   # "far from converged": final training accuracy this far (pp) below the reference's
CONVERGENCE_COLUMNS = ["optimizer", "n", "epochs", "train_accuracy", "test_accuracy", "loss",
                       "gap_pp", "far"]


def convergence(hist: pd.DataFrame, study: str = "optimizers", reference: str = "adam",
                far_pp: float = FAR_PP) -> pd.DataFrame:
    """Per optimizer of ``study``'s cells in ``hist`` (``results.histories``): the seed
    means at the last epoch of training accuracy, test accuracy and loss (fractions), the
    gap of the training accuracy below ``reference``'s in pp, and whether it is *far from
    converged*: more than ``far_pp`` below. A model that has not fitted its training data
    in the profile's epochs is compared at a different stage, and its a0 and A_avr say so
    much about the epochs as about the optimizer."""
    h = select(hist, study) if len(hist) else hist
    if h.empty:
        return pd.DataFrame(columns=CONVERGENCE_COLUMNS)
    last = h[h["epoch"] == h.groupby(["optimizer", "seed"])["epoch"].transform("max")]
    g = last.groupby("optimizer")
    out = pd.DataFrame({"n": g["seed"].nunique(), "epochs": g["epoch"].max(),
                        "train_accuracy": g["accuracy"].mean(),
                        "test_accuracy": g["test_accuracy"].mean(),
                        "loss": g["loss"].mean()}).reset_index()
    ref = out.loc[out["optimizer"] == reference, "train_accuracy"]
    out["gap_pp"] = 100 * (ref.iloc[0] - out["train_accuracy"]) if len(ref) else float("nan")
    out["far"] = out["gap_pp"] > far_pp
    return out[CONVERGENCE_COLUMNS]
