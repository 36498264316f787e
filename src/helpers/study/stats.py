"""Uncertainty of the study's numbers: a two-level bootstrap over seeds and noise draws.

A cell of the study (dataset, depth, LR, optimizer, BN) is trained once per
seed; each trained model is measured with N noise draws per eta. Both levels
vary, so a resample

1. draws the training seeds with replacement, *with one draw shared by every cell*:
   the seed fixes the initial weights and the data order, so runs at different
   LRs with one seed are paired, and comparisons between LRs stay paired. Cells with
   the same seeds get the same seeds; a cell with fewer seeds (a study still filling
   in, or a run left out) draws among its own, so that no cell drops out of a
   resample;
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


def resample(df: pd.DataFrame, rng: np.random.Generator, readings=None) -> pd.DataFrame:
    """One bootstrap copy of the records: seeds drawn with replacement (one draw shared
    by every cell, so LR comparisons stay paired), then each run's noise draws resampled
    within each eta, and its A^x and A_avr (every reading in its ``draws``) recomputed.

    The shared draw is a list of uniforms u_j; a cell with seeds s_1 < ... < s_n takes
    s_k with k = floor(u_j n) for j < n, and labels it seed j (duplicates of one seed
    count as separate draws of the seed)."""
    if df.empty:
        return df.copy()
    u = rng.random(int(df.groupby(CELL, dropna=False)["seed"].nunique().max()))
    parts = []
    for _, cell in df.groupby(CELL, dropna=False, sort=False):
        seeds = np.array(sorted(cell["seed"].unique()))
        for j, k in enumerate((u[:len(seeds)] * len(seeds)).astype(int)):
            part = cell[cell["seed"] == seeds[k]].copy()
            part["seed"] = j
            parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    for i in out.index:
        draws = out.at[i, "draws"] if "draws" in out else None
        if not isinstance(draws, dict):
            continue
        for reading, (etas, acc, a0) in draws.items():
            if a0 is None or not a0 > 0:
                continue
            a_x = _resampled_a_x(acc, a0, 1, rng)[0]
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
    for m in metrics:
        out[f"{m}_lo"] = out[f"{m}_hi"] = np.nan
    rng = np.random.default_rng(seed)
    q = (1 - level) / 2
    for cell, runs in done.groupby(CELL, dropna=False):
        for m in metrics:
            r = runs[runs[m].notna()]
            if len(r) < (2 if m in SEED_ONLY else 1):  # one seed: no spread to resample
                continue
            boot = _runs_mean_bootstrap(r, m, B, rng)
            out.loc[cell, [f"{m}_lo", f"{m}_hi"]] = np.quantile(boot, [q, 1 - q])
    return out.reset_index()


def _resampled_a_x(acc: np.ndarray, a0: float, B: int, rng: np.random.Generator) -> np.ndarray:
    """A^x per eta (B x eta) of B resamples of the noise draws ``acc`` (eta x draw), each
    eta's draws drawn with replacement (eq. 7-8)."""
    idx = rng.integers(0, acc.shape[1], size=(B,) + acc.shape)
    return np.take_along_axis(np.broadcast_to(acc, idx.shape), idx, axis=2).mean(axis=2) / a0


def run_bootstrap(row, metric: str, B: int, rng: np.random.Generator) -> np.ndarray:
    """B bootstrap values of one run's ``metric``: its noise draws resampled within each
    eta when the metric is made from them (``A_avr``, ``A_<eta>``, ``A_avr|<reading>``),
    else its one value B times (a0 varies with the seed only)."""
    reading = metric.split("|", 1)[1] if metric.startswith("A_avr|") else row.get("reading")
    draws = row.get("draws")
    block = draws.get(reading) if isinstance(draws, dict) else None
    from_draws = metric.startswith("A_avr") or metric[2:].replace(".", "").isdigit()
    if block is None or not from_draws or block[2] is None or not block[2] > 0:
        return np.full(B, float(row[metric]))
    etas, acc, a0 = block
    a_x = _resampled_a_x(acc, a0, B, rng)
    if metric.startswith("A_avr"):
        return a_x.mean(axis=1)
    return a_x[:, int(np.argmin(np.abs(np.asarray(etas) - float(metric[2:]))))]


def _seed_mean_bootstrap(per: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """B bootstrap values of a mean over seeds, from ``per`` (seed x B: each seed's own
    bootstrap values): in resample b, the seeds are drawn with replacement."""
    n, B = per.shape
    pick = rng.integers(0, n, size=(B, n))
    return per[pick, np.arange(B)[:, None]].mean(axis=1)


def _runs_mean_bootstrap(runs: pd.DataFrame, metric: str, B: int,
                         rng: np.random.Generator) -> np.ndarray:
    """B bootstrap values of the seed mean of ``metric`` over ``runs`` (one model): each
    run's noise draws resampled (``run_bootstrap``), then the seeds drawn with replacement."""
    return _seed_mean_bootstrap(
        np.array([run_bootstrap(row, metric, B, rng) for _, row in runs.iterrows()]), rng)


def unpaired_difference(a: pd.DataFrame, b: pd.DataFrame, metric_a: str, metric_b: str,
                        B: int = B_DEFAULT, seed: int = 0, level: float = LEVEL) -> dict:
    """Seed mean of ``metric_a`` over the runs ``a`` minus that of ``metric_b`` over ``b``,
    for two different models (e.g. with and without BN: a seed does not pair them),
    with a bootstrap interval (each group's seeds resampled on their own, and each
    run's noise draws) and the fraction of resamples with a positive difference."""
    a, b = a.dropna(subset=[metric_a]), b.dropna(subset=[metric_b])
    if a.empty or b.empty:
        return {"delta": np.nan, "lo": np.nan, "hi": np.nan, "p_positive": np.nan,
                "n_a": len(a), "n_b": len(b)}
    rng = np.random.default_rng(seed)
    d = _runs_mean_bootstrap(a, metric_a, B, rng) - _runs_mean_bootstrap(b, metric_b, B, rng)
    q = (1 - level) / 2
    return {"delta": float(a[metric_a].mean() - b[metric_b].mean()),
            "lo": float(np.quantile(d, q)), "hi": float(np.quantile(d, 1 - q)),
            "p_positive": float((d > 0).mean()), "n_a": len(a), "n_b": len(b)}


PAIR = ["dataset", "depth", "optimizer", "batch_norm"]


def paired_differences(df: pd.DataFrame, metric: str = "A_avr", reference_lr: float = REFERENCE_LR,
                       B: int = B_DEFAULT, seed: int = 0, level: float = LEVEL) -> pd.DataFrame:
    """metric(LR) - metric(reference LR) per (dataset, depth, optimizer, BN), taken within
    each seed the two LRs share (same initial weights and data order; ``n`` of them), with
    a bootstrap interval (the shared seeds resampled as pairs, and each run's noise draws)
    and the fraction of resamples with a positive difference."""
    done = df[df["status"] == "completed"].dropna(subset=[metric])
    rng = np.random.default_rng(seed)
    q = (1 - level) / 2
    rows = []
    for key, g in done.groupby(PAIR, dropna=False):
        is_ref = same_lr(g["lr"], reference_lr)
        ref = g[is_ref].set_index("seed")
        for lr, x in g[~is_ref].groupby("lr"):
            x = x.set_index("seed")
            seeds = sorted(set(x.index) & set(ref.index))
            if not seeds:
                continue
            per = np.array([run_bootstrap(x.loc[s], metric, B, rng)
                            - run_bootstrap(ref.loc[s], metric, B, rng) for s in seeds])
            boot = _seed_mean_bootstrap(per, rng)
            rows.append({**dict(zip(PAIR, key)), "lr": lr,
                         "delta": float(np.mean([x.at[s, metric] - ref.at[s, metric] for s in seeds])),
                         "lo": float(np.quantile(boot, q)), "hi": float(np.quantile(boot, 1 - q)),
                         "p_positive": float((boot > 0).mean()), "n": len(seeds)})
    return pd.DataFrame(rows, columns=[*PAIR, "lr", "delta", "lo", "hi", "p_positive", "n"])
