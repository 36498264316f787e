"""Uncertainty of the study's numbers: a two-level bootstrap over seeds and noise draws.

A cell of the study (dataset, depth, LR, optimizer, BN) is trained once per
seed; each trained model is measured with N noise draws per eta. Both levels
vary, so a resample

1. draws the training seeds with replacement, *the same seeds for every cell*:
   the seed fixes the initial weights and the data order, so runs at different
   LRs with one seed are paired, and comparisons between LRs stay paired;
2. draws, inside each chosen run, its N noise draws of each eta with replacement
   and recomputes a^x, A^x and A_avr (eq. 7-9) from them.

``B`` resamples give percentile intervals (95 % by default). A cell's a0 varies
with the seeds only (one measurement per model). Records are rows of
``results.load_records`` (with their ``draws`` column).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .studies import REFERENCE_LR, same_lr

CELL = ["dataset", "depth", "lr", "optimizer", "batch_norm"]
B_DEFAULT = 1000
LEVEL = 0.95


def _seed_table(df: pd.DataFrame) -> list:
    return sorted(int(s) for s in df["seed"].unique())


def resample(df: pd.DataFrame, rng: np.random.Generator, readings=None) -> pd.DataFrame:
    """One bootstrap copy of the records: seeds drawn with replacement (the same for every
    cell, so LR comparisons stay paired), then each run's noise draws resampled within
    each eta, and its A^x and A_avr (every reading in its ``draws``) recomputed."""
    seeds = _seed_table(df)
    chosen = rng.choice(seeds, size=len(seeds), replace=True)
    parts = []
    for j, s in enumerate(chosen):
        part = df[df["seed"] == s].copy()
        part["seed"] = j  # duplicates of one seed count as separate draws of the seed
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    for i in out.index:
        draws = out.at[i, "draws"] if "draws" in out else None
        if not isinstance(draws, dict):
            continue
        for reading, (etas, acc, a0) in draws.items():
            if a0 is None or not a0 > 0:
                continue
            n = acc.shape[1]
            idx = rng.integers(0, n, size=acc.shape)
            a_x = np.take_along_axis(acc, idx, axis=1).mean(axis=1) / a0
            col = "A_avr" if reading == out.at[i, "reading"] else f"A_avr|{reading}"
            if col in out:
                out.at[i, col] = float(a_x.mean())
            if reading == out.at[i, "reading"]:
                for e, v in zip(etas, a_x):
                    if f"A_{e:g}" in out:
                        out.at[i, f"A_{e:g}"] = float(v)
    return out


def percentile_interval(values, level: float = LEVEL) -> tuple[float, float]:
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not len(v):
        return float("nan"), float("nan")
    q = (1 - level) / 2
    return float(np.quantile(v, q)), float(np.quantile(v, 1 - q))


def bootstrap(df: pd.DataFrame, statistic, B: int = B_DEFAULT, seed: int = 0) -> np.ndarray:
    """``statistic(resampled records)`` for B bootstrap resamples (an array of B results)."""
    rng = np.random.default_rng(seed)
    return np.array([statistic(resample(df, rng)) for _ in range(B)], dtype=object)


# Metrics that vary with the training seed only (no noise draws to resample): a cell
# with one seed has no interval for them.
SEED_ONLY = ("baseline_accuracy",)


def cell_intervals(df: pd.DataFrame, metrics=("baseline_accuracy", "A_avr"), B: int = B_DEFAULT,
                   seed: int = 0, level: float = LEVEL) -> pd.DataFrame:
    """Per cell: seed mean, seed std, n seeds, n diverged and a bootstrap interval of
    each metric (seeds and draws resampled; a0 varies with the seeds only, so a cell
    with one seed has no a0 interval: NaN)."""
    done = df[df["status"] == "completed"]
    g = df.groupby(CELL, dropna=False)
    out = done.groupby(CELL, dropna=False)[list(metrics)].agg(["mean", "std"])
    out.columns = [f"{m}_{s}" for m, s in out.columns]
    out["n"] = done.groupby(CELL, dropna=False)["seed"].nunique()
    out = out.join(g["status"].agg(lambda s: int((s == "diverged").sum())).rename("n_diverged"),
                   how="outer")
    out["n"] = out["n"].fillna(0).astype(int)
    if done.empty:
        return out.reset_index()
    rng = np.random.default_rng(seed)
    boots = {m: [] for m in metrics}
    for _ in range(B):
        r = resample(done, rng)
        means = r.groupby(CELL, dropna=False)[list(metrics)].mean()
        for m in metrics:
            boots[m].append(means[m])
    for m in metrics:
        b = pd.concat(boots[m], axis=1)
        lo = b.quantile((1 - level) / 2, axis=1)
        hi = b.quantile(1 - (1 - level) / 2, axis=1)
        out[f"{m}_lo"], out[f"{m}_hi"] = lo, hi
        if m in SEED_ONLY:  # one seed: no spread to resample, so no interval
            out.loc[out["n"] < 2, [f"{m}_lo", f"{m}_hi"]] = np.nan
    return out.reset_index()


def paired_differences(df: pd.DataFrame, metric: str = "A_avr", reference_lr: float = REFERENCE_LR,
                       B: int = B_DEFAULT, seed: int = 0, level: float = LEVEL) -> pd.DataFrame:
    """metric(LR) - metric(reference LR) per (dataset, depth, optimizer, BN), differences
    taken within each seed (same initial weights and data order), with a bootstrap
    interval and the fraction of resamples with a positive difference."""
    done = df[df["status"] == "completed"]

    def diffs(d: pd.DataFrame) -> pd.Series:
        key = ["dataset", "depth", "optimizer", "batch_norm", "seed"]
        ref = d[same_lr(d["lr"], reference_lr)].set_index(key)[metric]
        rows = d.set_index(key)
        delta = rows[metric] - ref.reindex(rows.index).to_numpy()
        per = pd.DataFrame({"lr": rows["lr"].to_numpy(), "delta": delta.to_numpy()},
                           index=rows.index).reset_index()
        per = per[~same_lr(per["lr"], reference_lr)].dropna(subset=["delta"])
        return per.groupby(["dataset", "depth", "optimizer", "batch_norm", "lr"])["delta"].mean()

    point = diffs(done)
    if point.empty:
        return pd.DataFrame(columns=["dataset", "depth", "optimizer", "batch_norm", "lr",
                                     "delta", "lo", "hi", "p_positive", "n"])
    rng = np.random.default_rng(seed)
    b = pd.concat([diffs(resample(done, rng)) for _ in range(B)], axis=1)
    out = point.rename("delta").to_frame()
    out["lo"] = b.quantile((1 - level) / 2, axis=1)
    out["hi"] = b.quantile(1 - (1 - level) / 2, axis=1)
    out["p_positive"] = (b > 0).mean(axis=1)
    out["n"] = done.groupby(["dataset", "depth", "optimizer", "batch_norm", "lr"])["seed"].nunique()
    return out.reset_index()
