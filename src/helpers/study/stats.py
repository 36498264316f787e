"""Uncertainty of the study's numbers: t-intervals and exact permutation tests over the
training seeds, and a two-level bootstrap over seeds and noise draws as a secondary check.

With the 3 seeds a cell usually has, a bootstrap that resamples the seeds sees only 10
distinct seed sets and its interval never leaves the range of the 3 seed values: it is
too narrow. The intervals a table or verdict shows are therefore Student-t intervals
over the seeds (``t_interval``: each seed's value, noise draws included, is one
observation), and trends and differences are tested by exact permutation tests
(``sign_flip_p``, ``permutation_p``, ``trend_test``), which enumerate every relabelling
the null hypothesis allows and so hold at any n. Their p-values are two-sided.

The bootstrap:

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

import functools
import itertools
import math
import zlib

import numpy as np
import pandas as pd
from scipy import stats as sps

from .studies import CELL, REFERENCE_LR, same_lr

B_DEFAULT = 1000
LEVEL = 0.95


def resample(df: pd.DataFrame, rng: np.random.Generator, readings=None) -> pd.DataFrame:
    """One bootstrap copy of the records: seeds drawn with replacement (one draw shared
    by every cell, so LR comparisons stay paired), then each run's noise draws resampled
    within each eta, and its A^x and A_avr (every reading in its ``draws``) recomputed.

    The shared draw is a list of uniforms u_j; a cell with seeds s_1 < ... < s_n takes
    s_k with k = floor(u_j n) for j < n, and labels it seed j (duplicates of one seed
    count as separate draws of the seed). Each cell's noise draws come from a stream of
    its own (``rng``'s draw and the cell's name), so that a cell's resample does not
    change when other cells (another dataset) join the records."""
    if df.empty:
        return df.copy()
    u = rng.random(int(df.groupby(CELL, dropna=False)["seed"].nunique().max()))
    base = int(rng.integers(2 ** 63))
    parts = []
    for cell, runs in df.groupby(CELL, dropna=False, sort=False):
        cell_rng = np.random.default_rng([base, zlib.crc32("|".join(map(str, cell)).encode())])
        seeds = np.array(sorted(runs["seed"].unique()))
        for j, k in enumerate((u[:len(seeds)] * len(seeds)).astype(int)):
            part = runs[runs["seed"] == seeds[k]].copy()
            part["seed"] = j
            _redraw(part, cell_rng)
            parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _redraw(runs: pd.DataFrame, rng: np.random.Generator) -> None:
    """In place: each run's A^x and A_avr (every reading in its ``draws``) recomputed from
    its noise draws resampled within each eta."""
    for i in runs.index:
        draws = runs.at[i, "draws"] if "draws" in runs else None
        if not isinstance(draws, dict):
            continue
        for reading, (etas, acc, a0) in draws.items():
            if a0 is None or not a0 > 0:
                continue
            a_x = _resampled_a_x(acc, a0, 1, rng)[0]
            col = "A_avr" if reading == runs.at[i, "reading"] else f"A_avr|{reading}"
            if col in runs:
                runs.at[i, col] = float(a_x.mean())
            if reading == runs.at[i, "reading"]:
                for e, v in zip(etas, a_x):
                    if f"A_{e:g}" in runs:
                        runs.at[i, f"A_{e:g}"] = float(v)


def percentile_interval(values, level: float = LEVEL) -> tuple[float, float]:
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not len(v):
        return float("nan"), float("nan")
    q = (1 - level) / 2
    return float(np.quantile(v, q)), float(np.quantile(v, 1 - q))


@functools.lru_cache(maxsize=256)
def _t_quantile(q: float, dof: float) -> float:
    return float(sps.t.ppf(q, dof))


def t_interval(values, level: float = LEVEL) -> tuple[float, float, float, int]:
    """(mean, lo, hi, n): the Student-t interval of the mean of independent values (one
    per training seed); lo and hi are NaN with fewer than two values (no spread)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    n = len(v)
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    mean = float(v.mean())
    if n < 2:
        return mean, float("nan"), float("nan"), n
    half = _t_quantile((1 + level) / 2, n - 1) * float(v.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half, n


def pooled_spread(groups) -> tuple[float, int]:
    """(sd, dof): the pooled within-group standard deviation of several groups of seeds
    (one group per cell) and its degrees of freedom, sum(n_i - 1) over the groups with two
    or more values; (NaN, 0) when none has two. It lends a spread to a cell with one seed,
    assuming every cell of a model varies as much from seed to seed as its others do."""
    ss, dof = 0.0, 0
    for g in groups:
        v = np.asarray(g, float)
        v = v[np.isfinite(v)]
        if len(v) >= 2:
            ss += float(((v - v.mean()) ** 2).sum())
            dof += len(v) - 1
    return (math.sqrt(ss / dof) if dof else float("nan")), dof


def pooled_difference(a, b, sd: float, dof: int, level: float = LEVEL) -> tuple[float, float, float]:
    """(mean(a) - mean(b), lo, hi): the t-interval of a difference of two cells' seed means
    whose spread is the pooled ``sd`` with ``dof`` degrees of freedom (``pooled_spread``),
    so that cells of one seed each still get an interval; NaN bounds without a spread."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if not len(a) or not len(b):
        return float("nan"), float("nan"), float("nan")
    d = float(a.mean() - b.mean())
    if not dof or not np.isfinite(sd):
        return d, float("nan"), float("nan")
    half = _t_quantile((1 + level) / 2, dof) * sd * math.sqrt(1 / len(a) + 1 / len(b))
    return d, d - half, d + half


def _welch(a, b) -> tuple[float, float, float]:
    """(mean(a) - mean(b), its standard error, Welch's degrees of freedom) over the finite
    values; NaN for what needs two values in a group."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if not len(a) or not len(b):
        return float("nan"), float("nan"), float("nan")
    d = float(a.mean() - b.mean())
    if len(a) < 2 or len(b) < 2:
        return d, float("nan"), float("nan")
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return d, 0.0, float("nan")
    return d, se, (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))


def welch_estimate(a, b) -> tuple[float, float, float]:
    """(mean(a) - mean(b), its standard error, Welch's degrees of freedom) of two
    independent groups of seeds: an estimate for ``contrast``; NaN standard error with
    fewer than two values in a group."""
    return _welch(a, b)


def welch_interval(a, b, level: float = LEVEL) -> tuple[float, float, float]:
    """(mean(a) - mean(b), lo, hi): Welch's t-interval of a difference of two independent
    groups of seeds; NaN bounds when a group has fewer than two values."""
    d, se, dof = _welch(a, b)
    if se == 0:
        return d, d, d
    if not np.isfinite(se):
        return d, float("nan"), float("nan")
    half = float(sps.t.ppf((1 + level) / 2, dof) * se)
    return d, d - half, d + half


def welch_p(a, b) -> float:
    """Two-sided p-value of Welch's t-test of mean(a) - mean(b), the test whose interval
    is ``welch_interval`` (p < 0.05 exactly when its 95 % interval leaves 0); NaN when a
    group has fewer than two values or neither varies."""
    d, se, dof = _welch(a, b)
    if not (np.isfinite(se) and se > 0):
        return float("nan")
    return float(2 * sps.t.sf(abs(d) / se, dof))


def estimate(values) -> tuple[float, float, float]:
    """(mean, standard error, degrees of freedom) of one group of seed values (finite ones);
    NaN standard error and degrees of freedom with fewer than two. ``contrast`` takes it,
    as it takes ``_welch``'s difference of two groups."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not len(v):
        return float("nan"), float("nan"), float("nan")
    if len(v) < 2:
        return float(v.mean()), float("nan"), float("nan")
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v))), float(len(v) - 1)


def contrast(x: tuple[float, float, float], y: tuple[float, float, float],
             level: float = LEVEL) -> tuple[float, float, float, float]:
    """x - y of two independent estimates, each (value, standard error, degrees of freedom)
    (``estimate``, or ``_welch`` for a difference of two groups): the difference, its
    t-interval with Welch-Satterthwaite degrees of freedom, and its two-sided p. NaN bounds
    and p when either has no standard error (one seed); with no spread at all, the interval
    is the point and p is NaN. E.g. the slope of a deeper model minus a shallower one's."""
    d = float(x[0] - y[0])
    se2 = [float(e[1]) ** 2 for e in (x, y)]
    if not all(np.isfinite(se2)):
        return d, float("nan"), float("nan"), float("nan")
    se = math.sqrt(sum(se2))
    if se == 0:
        return d, d, d, float("nan")
    dof = sum(se2) ** 2 / sum(v ** 2 / float(e[2]) for v, e in zip(se2, (x, y)) if v > 0)
    half = float(sps.t.ppf((1 + level) / 2, dof) * se)
    return d, d - half, d + half, float(2 * sps.t.sf(abs(d) / se, dof))


# --------------------------------------------------------------------------
# exact permutation tests (two-sided): every relabelling the null allows
# --------------------------------------------------------------------------

_EPS = 1e-9  # ties of the statistic with the observed one count as "as extreme"


def sign_flip_p(differences) -> float:
    """Exact two-sided p-value of paired differences (one per seed) under H0 "no
    difference": each difference's sign is flipped in all 2^n ways (with 3 seeds the
    smallest possible p is 2/8 = 0.25)."""
    d = np.asarray(differences, float)
    d = d[np.isfinite(d)]
    if not len(d):
        return float("nan")
    signs = np.array(list(itertools.product((1.0, -1.0), repeat=len(d))))
    return float(np.mean(np.abs(signs @ d) >= abs(d.sum()) - _EPS))


def permutation_p(a, b) -> float:
    """Exact two-sided p-value of mean(a) - mean(b) for two independent groups under H0
    "same distribution": every split of the pooled values into groups of the same sizes
    (3 and 3 seeds: 20 splits, smallest p 2/20 = 0.1)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if not len(a) or not len(b):
        return float("nan")
    pooled, n = np.concatenate([a, b]), len(a)
    obs = abs(a.mean() - b.mean())
    diffs = [abs(pooled[list(i)].mean() - np.delete(pooled, list(i)).mean())
             for i in itertools.combinations(range(len(pooled)), n)]
    return float(np.mean(np.asarray(diffs) >= obs - _EPS))


def _sum_distribution(parts) -> tuple[np.ndarray, np.ndarray]:
    """(values, probabilities) of the sum of independent parts, each given as the array of
    its equally likely values: the exact null distribution of a statistic that adds up
    over strata, by convolution (values rounded to 1e-9 to merge equal sums)."""
    vals, probs = np.zeros(1), np.ones(1)
    for part in parts:
        v, c = np.unique(np.round(np.asarray(part, float), 9), return_counts=True)
        sums = np.round((vals[:, None] + v[None, :]).ravel(), 9)
        weights = (probs[:, None] * (c / c.sum())[None, :]).ravel()
        vals, inverse = np.unique(sums, return_inverse=True)
        probs = np.bincount(inverse.ravel(), weights=weights)
    return vals, probs


def _permutations(n: int) -> np.ndarray:
    """All n! orderings of range(n), one per row."""
    return np.array(list(itertools.permutations(range(n))), dtype=int)


MAX_STRATUM = 8  # permutations of at most 8! = 40320 labels per stratum are enumerated


def _ranks_centred(v) -> np.ndarray:
    r = pd.Series(np.asarray(v, float)).rank().to_numpy()
    return r - r.mean()


def trend_test(x, y, strata=None) -> dict:
    """Spearman's rho of ``y`` on ``x`` with an exact two-sided permutation p-value.

    Without ``strata``: rho over the points, and H0 "x does not order y" permutes y over
    the x values in all n! ways. With ``strata`` (e.g. the training seed, which pairs the
    runs of different LRs): rho within each stratum, averaged (``rho``), and y is
    permuted within each stratum only, all prod(n_s!) relabellings, enumerated exactly
    by convolving the strata's null distributions. Returns rho, p, n (points), k
    (strata) and n_perm (relabellings); rho and p are NaN with fewer than 3 points in
    every stratum or a constant variable."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    s = np.zeros(len(x)) if strata is None else np.asarray(strata)
    ok = np.isfinite(x) & np.isfinite(y)
    parts, obs, n_perm, used = [], 0.0, 1, 0
    for g in pd.unique(s[ok]):
        m = ok & (s == g)
        if m.sum() < 3 or len(set(x[m])) < 2 or len(set(y[m])) < 2:
            continue
        if m.sum() > MAX_STRATUM:
            raise ValueError(f"trend_test: a stratum of {int(m.sum())} points; exact "
                             f"enumeration takes at most {MAX_STRATUM} per stratum")
        rx, ry = _ranks_centred(x[m]), _ranks_centred(y[m])
        scale = math.sqrt((rx ** 2).sum() * (ry ** 2).sum())
        obs += float(rx @ ry / scale)
        parts.append(ry[_permutations(len(ry))] @ rx / scale)
        n_perm *= math.factorial(len(ry))
        used += 1
    if not parts:
        return {"rho": float("nan"), "p": float("nan"), "n": int(ok.sum()), "k": 0, "n_perm": 0}
    vals, probs = _sum_distribution(parts)
    p = float(probs[np.abs(vals) >= abs(obs) - _EPS].sum())
    return {"rho": obs / used, "p": min(p, 1.0), "n": int(ok.sum()), "k": used, "n_perm": n_perm}


def within_rank_test(x, y, groups) -> dict:
    """Pooled rank correlation of ``x`` and ``y`` within groups (each group's ranks
    centred, so that what the groups share, e.g. their LR, is partialled out), with an
    exact two-sided p-value: y permuted within each group (3 seeds x 6 LRs: 6^6 = 46656
    relabellings), enumerated by convolution. Returns rho, p, n, k (groups used)."""
    x, y, groups = np.asarray(x, float), np.asarray(y, float), np.asarray(groups)
    ok = np.isfinite(x) & np.isfinite(y)
    rx_all, ry_all, parts = [], [], []
    for g in pd.unique(groups[ok]):
        m = ok & (groups == g)
        if m.sum() < 2:
            continue
        if m.sum() > MAX_STRATUM:
            raise ValueError(f"within_rank_test: a group of {int(m.sum())} points; exact "
                             f"enumeration takes at most {MAX_STRATUM} per group")
        rx, ry = _ranks_centred(x[m]), _ranks_centred(y[m])
        rx_all.append(rx)
        ry_all.append(ry)
        parts.append(ry[_permutations(len(ry))] @ rx)
    if not parts:
        return {"rho": float("nan"), "p": float("nan"), "n": 0, "k": 0}
    rx, ry = np.concatenate(rx_all), np.concatenate(ry_all)
    scale = math.sqrt((rx ** 2).sum() * (ry ** 2).sum())
    if scale == 0:
        return {"rho": float("nan"), "p": float("nan"), "n": len(rx), "k": len(parts)}
    obs = float(rx @ ry)
    vals, probs = _sum_distribution(parts)
    p = float(probs[np.abs(vals) >= abs(obs) - _EPS * scale].sum())
    return {"rho": obs / scale, "p": min(p, 1.0), "n": len(rx), "k": len(parts)}


def bootstrap(df: pd.DataFrame, statistic, B: int = B_DEFAULT, seed: int = 0) -> np.ndarray:
    """``statistic(resampled records)`` for B bootstrap resamples (an array of B results)."""
    rng = np.random.default_rng(seed)
    return np.array([statistic(resample(df, rng)) for _ in range(B)], dtype=object)


# Metrics that vary with the training seed only (no noise draws to resample): a cell
# with one seed has no interval for them.
SEED_ONLY = ("baseline_accuracy",)


def cell_intervals(df: pd.DataFrame, metrics=("baseline_accuracy", "A_avr"), B: int = B_DEFAULT,
                   seed: int = 0, level: float = LEVEL) -> pd.DataFrame:
    """Per cell: seed mean, seed std, n seeds, n diverged, the t-interval of each metric's
    seed mean (``<m>_lo``, ``<m>_hi``: what tables and "paper in interval" use; NaN with
    one seed, which has no spread), and the two-level bootstrap interval beside it as a
    secondary check (``<m>_boot_lo``, ``<m>_boot_hi``: seeds and noise draws resampled;
    with 3 seeds it is narrower than the t-interval and is not used for a verdict)."""
    done = df[df["status"] == "completed"]
    g = df.groupby(CELL, dropna=False)
    out = done.groupby(CELL, dropna=False)[list(metrics)].agg(["mean", "std"])
    out.columns = [f"{m}_{s}" for m, s in out.columns]
    out["n"] = done.groupby(CELL, dropna=False)["seed"].nunique()
    out = out.join(g["status"].agg(lambda s: int((s == "diverged").sum())).rename("n_diverged"),
                   how="outer")
    out["n"] = out["n"].fillna(0).astype(int)
    for m in metrics:
        out[f"{m}_lo"] = out[f"{m}_hi"] = out[f"{m}_boot_lo"] = out[f"{m}_boot_hi"] = np.nan
    rng = np.random.default_rng(seed)
    q = (1 - level) / 2
    for cell, runs in done.groupby(CELL, dropna=False):
        for m in metrics:
            r = runs[runs[m].notna()]
            out.loc[cell, [f"{m}_lo", f"{m}_hi"]] = t_interval(r[m], level)[1:3]
            if len(r) < (2 if m in SEED_ONLY else 1):  # one seed: no spread to resample
                continue
            boot = _runs_mean_bootstrap(r, m, B, rng)
            out.loc[cell, [f"{m}_boot_lo", f"{m}_boot_hi"]] = np.quantile(boot, [q, 1 - q])
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
    for two different models (e.g. with and without BN: a seed does not pair them):
    Welch's t-interval (``lo``, ``hi``), the exact permutation p-value of the two groups
    of seeds (``p``), and, as a secondary check, a bootstrap interval (``boot_lo``,
    ``boot_hi``: each group's seeds resampled on their own, and each run's noise draws)
    with the fraction of its resamples above 0 (``p_positive``)."""
    a, b = a.dropna(subset=[metric_a]), b.dropna(subset=[metric_b])
    if a.empty or b.empty:
        return {"delta": np.nan, "lo": np.nan, "hi": np.nan, "p": np.nan, "boot_lo": np.nan,
                "boot_hi": np.nan, "p_positive": np.nan, "n_a": len(a), "n_b": len(b)}
    rng = np.random.default_rng(seed)
    d = _runs_mean_bootstrap(a, metric_a, B, rng) - _runs_mean_bootstrap(b, metric_b, B, rng)
    q = (1 - level) / 2
    delta, lo, hi = welch_interval(a[metric_a], b[metric_b], level)
    return {"delta": delta, "lo": lo, "hi": hi, "p": permutation_p(a[metric_a], b[metric_b]),
            "boot_lo": float(np.quantile(d, q)), "boot_hi": float(np.quantile(d, 1 - q)),
            "p_positive": float((d > 0).mean()), "n_a": len(a), "n_b": len(b)}


PAIR = ["dataset", "depth", "optimizer", "batch_norm"]


def paired_differences(df: pd.DataFrame, metric: str = "A_avr", reference_lr: float = REFERENCE_LR,
                       B: int = B_DEFAULT, seed: int = 0, level: float = LEVEL) -> pd.DataFrame:
    """metric(LR) - metric(reference LR) per (dataset, depth, optimizer, BN), taken within
    each seed the two LRs share (same initial weights and data order; ``n`` of them): the
    paired t-interval over those seeds (``lo``, ``hi``), the exact sign-flip p-value
    (``p``; with 3 seeds it cannot go below 0.25), and, as a secondary check, a bootstrap
    interval (``boot_lo``, ``boot_hi``: the shared seeds resampled as pairs, and each
    run's noise draws) with the fraction of its resamples above 0 (``p_positive``)."""
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
            diffs = [x.at[s, metric] - ref.at[s, metric] for s in seeds]
            delta, lo, hi, _ = t_interval(diffs, level)
            rows.append({**dict(zip(PAIR, key)), "lr": lr, "delta": delta, "lo": lo, "hi": hi,
                         "p": sign_flip_p(diffs),
                         "boot_lo": float(np.quantile(boot, q)),
                         "boot_hi": float(np.quantile(boot, 1 - q)),
                         "p_positive": float((boot > 0).mean()), "n": len(seeds)})
    return pd.DataFrame(rows, columns=[*PAIR, "lr", "delta", "lo", "hi", "p", "boot_lo",
                                       "boot_hi", "p_positive", "n"])
