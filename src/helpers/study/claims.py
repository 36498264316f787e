"""The paper's eight claims (the book's Method page), each turned into a statistic and a verdict.

Every verdict is computed from run records (``results.load_records``): the
seed mean of each grid cell, with the number of seeds beside it. A verdict is
one of ``held``, ``partly``, ``did not hold``, ``cannot be tested``, ``not tested at
this scale`` or ``no data``; claims 3 and 8 read ``held (one depth)`` or ``did not
hold (one depth)`` when the records hold one depth, so that only their first half
is tested;
it carries the scale it was measured at (profile, epochs, data, seeds), and it
is marked *indicative only* when the records are smoke results on synthetic
data or when a cell has fewer than ``MIN_SEEDS`` training seeds. Each verdict
has one number (``value``) and, where it rests on a test, that test's exact
two-sided permutation p-value (``p_value``; ``helpers.study.stats``: with 3 seeds a
bootstrap over seeds is too narrow to decide anything); ``stability`` bootstraps
seeds and noise draws for how often the verdict comes out the same, as a secondary
check. A verdict that rests on one model or one depth says so (``rests_on``), even
with 3 seeds. The thresholds are constants here, stated in each verdict's text,
fixed before any real run and never tuned to a result (``ALPHA`` and
``GRACEFUL_A_SMALL`` were added after the CPU study, in answer to its review).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..experiment import recipe
from ..experiment.noise_model import VERDICT_READINGS
from .paper import table
from .stats import (percentile_interval, permutation_p, pooled_difference, pooled_spread,
                    resample, t_interval, trend_test, welch_interval, welch_p,
                    contrast, estimate, welch_estimate,
                    within_rank_test)
from .theory import noise_power_bound, nonphysical, parallel_map
from .studies import (ADAPTIVE, CELL, LR_TOLERANCE, SGD_FAMILY,  # noqa: F401  (claims.model_name)
                      model_name, model_rows, select)
from .words import and_list, plural, plural_range  # noqa: F401  (claims.plural: re-exported)

MIN_SEEDS = 3
# claim 1: "barely depends" = the LR range of a0 stays within 3.5 points; the paper's
# own Table II spans up to 3.15 points and it calls that "barely" (fixed before any run)
BASELINE_RANGE_PP = 3.5
MONOTONE_TOL = 0.01          # claim 2: A^x may rise by at most 0.01 between noise levels
GRACEFUL_A_SMALL = 0.9       # claim 2: a graceful curve keeps A^x >= 0.9 at the smallest eta
ALPHA = 0.05                 # claims 3 and 7: a trend counts when its exact two-sided p < 0.05
SWEET_SPOT = (0.0005, 0.001)  # claim 4, the reference model (ResNet20 on CIFAR-10)
# claim 6: the dataset with the most classes against the one with the fewest
_FEW, _MANY = recipe.BY_CLASSES[0], recipe.BY_CLASSES[-1]


_REFERENCE = model_name(recipe.REFERENCE_DATASET, recipe.REFERENCE_DEPTH)
SETTLED = 0.9                # a verdict is settled when >= 90 % of bootstrap resamples give it


# The paper's eight claims, as the book states them (the Method page lists them with
# their sources), and a short name for each, for tables.
STATEMENTS = {
    1: "Baseline accuracy barely depends on the LR (Table II).",
    2: "Normalized accuracy falls gracefully as eta grows, for every model (the paper's Fig. 1, 2).",
    3: "Lower LRs give the most noise-resistant models; resistance falls as the LR grows, more "
       "steeply for deeper models (Table III).",
    4: "A sweet spot of the LR (about 0.0005-0.001 for ResNet20) balances baseline accuracy and "
       "noise resistance (the paper's Fig. 4).",
    5: "Adaptive optimizers beat the SGD variants on baseline accuracy and noise resistance at "
       "lr 0.00075 (the paper's Fig. 3).",
    6: f"{recipe.name('dataset', _MANY)} models are less noise resistant than "
       f"{recipe.name('dataset', _FEW)} models (III-6).",
    7: "The mechanism: the LR sets the power of SGD's gradient noise, bounded by alpha^2 C/|B| "
       "(eq. 1-3); more gradient noise gives less noise resistance.",
    8: "Batch normalization lowers noise resistance, the more BN layers the worse (second paper).",
}
NAMES = {1: "a0 barely depends on the LR", 2: "graceful fall with eta",
         3: "lower LR, more resistant", 4: "a sweet spot of the LR",
         5: "adaptive optimizers win", 6: f"{recipe.name('dataset', _MANY)} less resistant",
         7: "gradient noise is the mechanism", 8: "BN lowers resistance"}
# the one number each verdict rests on (``Verdict.value``), in the unit of its statistic
VALUES = {1: "largest range of a0 over the LRs (pp)", 2: "share of runs whose A^x falls gracefully",
          3: "rho(LR, A_avr) within seed (median over models)",
          4: "share of the plausible Pareto front inside the sweet spot",
          5: "worst adaptive minus best SGD, the smaller margin of a0 and A_avr (pp)",
          6: f"share of (depth, LR) pairs with lower A_avr on {recipe.name('dataset', _MANY)}",
          7: "rho(C, A_avr) within an LR", 8: "mean A_avr gap, without minus with BN (pp)"}


@dataclass
class Verdict:
    claim: int
    statement: str
    paper: str            # the paper's evidence, from its numbers
    ours: str             # our evidence, from the records
    statistic: str        # the number(s) the verdict rests on
    outcome: str          # held | partly | did not hold [(one depth)] | cannot be tested | not tested at this scale | no data
    indicative: str = ""  # why it is not a verdict yet ("" when it is one)
    value: float = float("nan")  # the one number the outcome is read from (VALUES)
    scale: str = ""       # what the verdict was measured at (profile, epochs, data, seeds)
    p_value: float = float("nan")  # exact two-sided permutation p of the test behind value
    rests_on: str = ""    # "one model (...)" or "one depth (...)" when it rests on so little


def completed(df: pd.DataFrame, profile: str | None = None) -> pd.DataFrame:
    """Completed runs (of one profile if given)."""
    if df.empty:
        return df
    out = df[df["status"] == "completed"]
    return out[out["profile"] == profile] if profile else out


def cell_means(df: pd.DataFrame, columns=("baseline_accuracy", "A_avr", "A_0.1", "C", "A_avr_cc")) -> pd.DataFrame:
    """Seed mean and std of each grid cell, with ``n_seeds``."""
    cols = [c for c in columns if c in df]
    g = df.groupby(CELL, dropna=False)
    out = g[cols].mean()
    for c in cols:
        out[f"{c}_std"] = g[c].std(ddof=1)
    out["n_seeds"] = g["seed"].nunique()
    return out.reset_index()


def _spearman(x, y, min_n: int = 3) -> float:
    """Rank correlation; NaN with fewer than ``min_n`` points or a constant variable."""
    x, y = pd.Series(np.asarray(x, float)), pd.Series(np.asarray(y, float))
    ok = x.notna() & y.notna()
    if ok.sum() < min_n or x[ok].nunique() < 2 or y[ok].nunique() < 2:
        return float("nan")
    return float(x[ok].rank().corr(y[ok].rank()))


def pareto_front(points: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Rows not dominated in (x, y), both to be maximized."""
    keep = []
    for i, r in points.iterrows():
        dominated = ((points[x] >= r[x]) & (points[y] >= r[y])
                     & ((points[x] > r[x]) | (points[y] > r[y]))).any()
        keep.append(not dominated)
    return points.loc[np.array(keep, dtype=bool)]


def _fraction_outcome(frac: float, n: int) -> str:
    if n == 0 or not np.isfinite(frac):
        return "no data"
    return "held" if frac >= 0.9 else ("did not hold" if frac <= 0.5 else "partly")


def _signed(r) -> str:
    """A correlation as +0.42, or "n/a" where it is undefined (e.g. over one depth)."""
    return f"{r:+.2f}" if r is not None and np.isfinite(r) else "n/a"


def _pct(v) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{100 * v:.2f} %"


# the outcome of a claim whose runs the study's scale leaves out (not "no data": nothing
# is missing that the study planned)
NOT_TESTED = "not tested at this scale"
UNTESTED = (NOT_TESTED, "cannot be tested", "no data")  # outcomes that are no verdict
ONE_DEPTH = " (one depth)"   # claims 3 and 8 with one depth: only their first half is tested


def _one_depth(first_half_holds: bool) -> str:
    """Outcome of claim 3 or 8 when the records hold one depth: the verdict on the half that
    can be tested, marked as such (the depth half is "not tested at this scale")."""
    return ("held" if first_half_holds else "did not hold") + ONE_DEPTH


def _lr_cells(m: pd.DataFrame) -> pd.DataFrame:
    """The LR study's rows (the paper's six LRs; claims 1-3, 6, 7 are about that range)."""
    return select(m, "lr")


def claim1(m):
    cells = _lr_cells(m)
    ranges = cells.groupby(["dataset", "depth"])["baseline_accuracy"].agg(lambda s: s.max() - s.min())
    ranges = ranges[cells.groupby(["dataset", "depth"])["lr"].nunique() >= 2]
    p = table("table2").groupby(["dataset", "depth"])["baseline_accuracy_pct"].agg(lambda s: s.max() - s.min())
    worst = 100 * ranges.max() if len(ranges) else float("nan")
    widest = f" ({model_name(*ranges.idxmax())})" if len(ranges) else ""
    return Verdict(1, STATEMENTS[1],
                   f"largest LR range of a0 over the 8 models: {p.max():.2f} points",
                   f"largest LR range of the seed-mean a0 over {plural(len(ranges), 'model')}: "
                   f"{worst:.2f} points{widest}",
                   f"max range = {worst:.2f} pp (threshold {BASELINE_RANGE_PP} pp, taken from the "
                   f"paper itself: its Table II spans up to {p.max():.2f} pp and it calls that "
                   "barely depending; fixed before any run)",
                   "no data" if not len(ranges) else
                   ("held" if worst <= BASELINE_RANGE_PP else "did not hold"), value=worst)


def claim2(df):
    """Graceful = A^x non-increasing in eta (within MONOTONE_TOL) *and* still at least
    GRACEFUL_A_SMALL at the smallest eta (a curve flat at chance is no graceful fall);
    the runs whose draws broke the model (non-finite outputs) are counted apart."""
    cols = sorted((c for c in df if c.startswith("A_") and c[2:].replace(".", "").isdigit()),
                  key=lambda c: float(c[2:]))
    rows = _lr_cells(df).dropna(subset=cols) if cols else df.iloc[:0]
    curves = rows[cols].to_numpy(float) if cols else np.zeros((0, 0))
    mono = np.all(np.diff(curves, axis=1) <= MONOTONE_TOL, axis=1) if len(rows) else np.zeros(0, bool)
    high = curves[:, 0] >= GRACEFUL_A_SMALL if len(rows) else np.zeros(0, bool)
    ok = mono & high
    n, k = len(ok), int(ok.sum())
    frac = k / n if n else float("nan")
    if "broken" in rows and rows["broken"].notna().any():
        broken = (rows["broken"].fillna(0) > 0).to_numpy()
        bad = ~ok
        why = (f"; of the {n - k} that do not, {int((bad & broken).sum())} have draws that "
               f"broke the model (non-finite outputs) and {int((bad & ~broken).sum())} do not "
               f"({int((bad & ~mono).sum())} not monotone, {int((bad & ~high).sum())} below "
               f"{GRACEFUL_A_SMALL} at eta = {cols[0][2:]}); {int(broken.sum())} of {n} runs have "
               "any broken draw" if n - k else f"; {int(broken.sum())} of {n} runs have a broken draw")
    else:
        why = (f"; {int((~mono).sum())} not monotone, {int((~high).sum())} below "
               f"{GRACEFUL_A_SMALL} at the smallest eta (breakage not recorded)" if n - k else "")
    return Verdict(2, STATEMENTS[2],
                   "every curve of its Fig. 1 and 2 decreases with eta",
                   f"{k} of {n} runs fall gracefully: A^x non-increasing in eta (tolerance "
                   f"{MONOTONE_TOL}) and A^x >= {GRACEFUL_A_SMALL} at the smallest eta" + why,
                   f"fraction graceful = {frac:.2f} (held >= 0.9, did not hold <= 0.5)",
                   _fraction_outcome(frac, n), value=frac)


MIN_TREND_LRS = 3   # a trend of A_avr with the LR is tested only over at least this many LRs


def _slopes(cells):
    out = []
    for (ds, d), g in cells.groupby(["dataset", "depth"]):
        if g["lr"].nunique() >= MIN_TREND_LRS and g["A_avr"].notna().sum() >= MIN_TREND_LRS:
            gg = g.dropna(subset=["A_avr"])
            slope = np.polyfit(gg["lr"] * 1000, gg["A_avr"], 1)[0]
            out.append({"dataset": ds, "depth": d, "rho": _spearman(gg["lr"], gg["A_avr"]),
                        "slope": slope})
    return pd.DataFrame(out, columns=["dataset", "depth", "rho", "slope"])


def lr_trends(runs: pd.DataFrame) -> pd.DataFrame:
    """Per model (dataset, depth) of the LR grid: Spearman rho(LR, A_avr) within each seed
    (averaged) with its exact permutation p-value (``stats.trend_test``: the LR labels
    permuted within each seed; over the cell means when ``runs`` has no ``seed``), the
    least-squares slope of the seed means per 0.001 of LR, and, where the records hold
    it, the same trend test of the share of broken draws (``broken``)."""
    cols = ["dataset", "depth", "rho", "p", "n_seeds", "n_lrs", "slope", "rho_broken",
            "p_broken", "broken_by_lr"]
    out = []
    for (ds, d), g in _lr_cells(runs).groupby(["dataset", "depth"]):
        g = g.dropna(subset=["A_avr"])
        if g["lr"].nunique() < MIN_TREND_LRS:
            continue
        strata = g["seed"] if "seed" in g else None
        t = trend_test(g["lr"], g["A_avr"], strata)
        means = g.groupby("lr")["A_avr"].mean()
        row = {"dataset": ds, "depth": d, "rho": t["rho"], "p": t["p"], "n_seeds": t["k"],
               "n_lrs": int(g["lr"].nunique()),
               "slope": float(np.polyfit(means.index * 1000, means.to_numpy(), 1)[0]),
               "rho_broken": np.nan, "p_broken": np.nan, "broken_by_lr": None}
        if "broken" in g and g["broken"].notna().any() and (g["broken"].fillna(0) > 0).any():
            b = g.dropna(subset=["broken"])
            tb = trend_test(b["lr"], b["broken"], b["seed"] if "seed" in b else None)
            row.update(rho_broken=tb["rho"], p_broken=tb["p"],
                       broken_by_lr=b.groupby("lr")["broken"].mean())
        out.append(row)
    return pd.DataFrame(out, columns=cols)


def _neighbours(depths) -> list[tuple[int, int]]:
    """Pairs of neighbouring depths, shallower first."""
    depths = sorted(set(int(d) for d in depths))
    return list(zip(depths, depths[1:]))


def _lr_key(lr) -> pd.Series:
    return pd.Series(lr).astype(float).round(12)


DEPTH_COLS = ["dataset", "shallow", "deep", "n_lrs", "n_shallow", "n_deep", "shallow_value",
              "deep_value", "diff", "lo", "hi", "p"]


def _depth_row(ds, a, b, n_lrs, ea, eb, na, nb) -> dict:
    d, lo, hi, p = contrast(eb, ea)
    return {"dataset": ds, "shallow": a, "deep": b, "n_lrs": n_lrs, "n_shallow": na,
            "n_deep": nb, "shallow_value": ea[0], "deep_value": eb[0], "diff": d, "lo": lo,
            "hi": hi, "p": p}


def depth_slopes(runs: pd.DataFrame) -> pd.DataFrame:
    """Claim 3's second half, "more steeply for deeper models": per dataset, each pair of
    neighbouring depths of the LR grid that share >= MIN_TREND_LRS LRs: the least-squares
    slope of A_avr against the LR (per 0.001 of LR) fitted per seed over those LRs (a seed
    counts when it has all of them; without a ``seed`` column the cell means give one
    slope), its mean per depth (``shallow_value``, ``deep_value``), and deeper minus
    shallower with its 95 % t-interval (Welch-Satterthwaite) and p (``stats.contrast``):
    below 0, the deeper model's A_avr falls more steeply. With one seed a side, no interval."""
    cells = _lr_cells(runs).dropna(subset=["A_avr"])
    out = []
    for ds, g in cells.groupby("dataset"):
        g = g.assign(lr_key=_lr_key(g["lr"]).to_numpy())
        for a, b in _neighbours(g["depth"]):
            lrs = set(g.loc[g["depth"] == a, "lr_key"]) & set(g.loc[g["depth"] == b, "lr_key"])
            if len(lrs) < MIN_TREND_LRS:
                continue
            ests, ns = [], []
            for depth in (a, b):
                h = g[(g["depth"] == depth) & g["lr_key"].isin(lrs)]
                per_seed = h.groupby("seed") if "seed" in h else [(None, h)]
                slopes = []
                for _, k in per_seed:
                    k = k.groupby("lr_key")["A_avr"].mean()
                    if len(k) == len(lrs):
                        slopes.append(float(np.polyfit(k.index * 1000, k.to_numpy(), 1)[0]))
                ests.append(estimate(slopes))
                ns.append(len(slopes) if "seed" in h else None)   # None: cell means
            out.append(_depth_row(ds, a, b, len(lrs), *ests, *ns))
    return pd.DataFrame(out, columns=DEPTH_COLS)


def depth_bn_gaps(runs: pd.DataFrame) -> pd.DataFrame:
    """Claim 8's second half, "the more BN layers the worse": per dataset, each pair of
    neighbouring depths trained both with and without BN (the BN study): the gap A_avr
    without minus with BN per depth (``stats.welch_estimate`` over its two groups of seeds;
    without a ``seed`` column, the cell means), and deeper minus shallower with its 95 %
    t-interval and p (``stats.contrast``): above 0, the model with more BN layers loses more
    of its noise resistance to BN. No interval when a group has one seed."""
    rows = select(runs, "batchnorm").dropna(subset=["A_avr"])
    out = []
    for ds, g in rows.groupby("dataset"):
        both = g.groupby("depth")["batch_norm"].nunique()
        for a, b in _neighbours(both.index[both == 2]):
            ests, ns = [], []
            for depth in (a, b):
                h = g[g["depth"] == depth]
                bn = h["batch_norm"].astype(bool)
                ests.append(welch_estimate(h.loc[~bn, "A_avr"], h.loc[bn, "A_avr"]))
                ns.append(f"{int((~bn).sum())}/{int(bn.sum())}" if "seed" in h else None)
            out.append(_depth_row(ds, a, b, 1, *ests, *ns))
    return pd.DataFrame(out, columns=DEPTH_COLS)


def _depth_test(pairs: pd.DataFrame, sign: int) -> tuple[bool, str]:
    """Whether every depth pair's difference has the ``sign`` the claim needs (its 95 %
    interval on that side of 0; a pair without an interval by its point value alone), and
    the pairs as text, in percentage points."""
    has = pairs["lo"].notna()
    bound = np.where(sign > 0, pairs["lo"], pairs["hi"])
    ok = np.where(has, sign * bound > 0, sign * pairs["diff"] > 0)
    parts = [f"{model_name(r.dataset, r.deep)} minus ResNet{r.shallow} {100 * r.diff:+.2f} "
             + (f"[{100 * r.lo:+.2f}, {100 * r.hi:+.2f}], p = {_p(r.p)}" if np.isfinite(r.lo)
                else "(no interval: one seed a side)" if r.n_shallow is not None
                else "(no interval)")
             + (f" ({r.n_shallow} and {r.n_deep} seeds)" if r.n_shallow is not None
                else " (cell means)") for r in pairs.itertuples()]
    return bool(len(pairs) and ok.all()), "; ".join(parts)


def _p(p) -> str:
    return "n/a" if p is None or not np.isfinite(p) else f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def smallest_p(n_lrs: int, n_seeds: int) -> float:
    """The smallest two-sided p an exact within-seed permutation test of a trend over
    ``n_lrs`` LRs and ``n_seeds`` seeds can give: 2 / (n_lrs!)^n_seeds (capped at 1)."""
    return min(1.0, 2.0 / math.factorial(int(n_lrs)) ** int(n_seeds))


def _unreachable(n_lrs, n_seeds) -> str:
    """" (cannot reach p < 0.05 with 1 seed and 3 LRs: ...)" for a test without the
    power to be significant, "" otherwise."""
    if pd.isna(n_lrs) or pd.isna(n_seeds):
        return ""
    p = smallest_p(n_lrs, n_seeds)
    return (f" (cannot reach p < {ALPHA} with {plural(int(n_seeds), 'seed')} and "
            f"{int(n_lrs)} LRs: the smallest attainable p is {_p(p)})" if p >= ALPHA else "")


def can_decide(n_lrs, n_seeds) -> bool:
    """Can an exact trend test over ``n_lrs`` LRs and ``n_seeds`` seeds reach p < ALPHA at
    all (``smallest_p``)? Unknown counts are taken as yes."""
    return bool(pd.isna(n_lrs) or pd.isna(n_seeds) or smallest_p(n_lrs, n_seeds) < ALPHA)


def _testable(trends: pd.DataFrame) -> pd.Series:
    """Per model (a row of ``lr_trends``): ``can_decide``."""
    return pd.Series([can_decide(n, k) for n, k in zip(trends["n_lrs"], trends["n_seeds"])],
                     index=trends.index, dtype=bool)


def _untestable_models(trends: pd.DataFrame) -> str:
    """The models whose trend test cannot reach p < ALPHA, with the direction they show."""
    rows = trends[~_testable(trends)]
    return ", ".join(f"{model_name(r.dataset, r.depth)} ({'rises' if r.rho > 0 else 'falls' if r.rho < 0 else 'flat'}, "
                     f"rho {_signed(r.rho)})" for r in rows.itertuples())


def _broken_text(trends: pd.DataFrame) -> str:
    """Claim 3's evidence on breakage: per model whose draws broke it, the share of broken
    draws per LR and its trend test; where the LR sets that share significantly, said."""
    out = ""
    for r in trends.itertuples():
        if r.broken_by_lr is None:
            continue
        shares = ", ".join(f"{v:.2f}" for v in r.broken_by_lr.to_numpy())
        out += (f"; {model_name(r.dataset, r.depth)}: share of draws that broke the model (non-finite "
                f"outputs) per LR {shares}, rho(LR, share) {_signed(r.rho_broken)}, p = "
                f"{_p(r.p_broken)}")
        if r.rho_broken > 0 and r.p_broken < ALPHA:
            out += ": here the LR sets how often the model breaks, and A_avr mostly measures that"
    return out


def claim3(runs, trends: pd.DataFrame | None = None):
    """Per model, an exact permutation test of the trend of A_avr with the LR (``lr_trends``
    of ``runs``, or ``trends`` where the caller has computed it);
    the claim's first half holds when it falls significantly (p < ALPHA) for >= 75 % of
    the models whose test can reach p < ALPHA (1 seed and 3 LRs cannot: ``smallest_p``);
    the others are named with their direction, not counted. Where draws broke the model, the share of broken draws per LR is given:
    there A_avr mostly measures how often the model breaks."""
    s = lr_trends(runs) if trends is None else trends
    p = _slopes(table("table3").assign(A_avr=lambda t: t["avg_normalized_accuracy_pct"] / 100))
    if s.empty:
        return Verdict(3, STATEMENTS[3], "", "", "", "no data")
    sig_fall = (s["rho"] < 0) & (s["p"] < ALPHA)
    sig_rise = (s["rho"] > 0) & (s["p"] < ALPHA)
    testable = _testable(s)
    if not testable.any():
        return Verdict(3, STATEMENTS[3], "", _untestable_models(s), "no model's trend test can "
                       f"reach p < {ALPHA} with its seeds and LRs", NOT_TESTED,
                       value=float(s["rho"].median()), p_value=float(s["p"].max()))
    neg = float(sig_fall[testable].mean())
    pairs = depth_slopes(runs)
    steeper, pair_text = _depth_test(pairs, -1)
    falls = neg >= 0.75
    outcome = "held" if falls and steeper else ("partly" if falls or steeper else "did not hold")
    untested = ("" if len(pairs) else "one depth only: " if s["depth"].nunique() < 2 else
                f"no two depths of a dataset share {MIN_TREND_LRS} LRs: ")
    if untested:  # "more steeply for deeper models" is untested
        outcome = _one_depth(falls)
    permuted = ("LR labels permuted within each seed" if "seed" in runs
                else "LR labels permuted over the cell means")
    per_model = "; ".join(
        f"{model_name(r.dataset, r.depth)}: rho {_signed(r.rho)}, "
        f"p = {_p(r.p)}" + _unreachable(r.n_lrs, r.n_seeds) for r in s.itertuples())
    broken = _broken_text(s)
    slopes = ("slope of A_avr per 0.001 of LR, fitted per seed over the LRs both depths "
              "share, deeper minus shallower, points with its 95 % t-interval: " + pair_text
              if len(pairs) else "")
    return Verdict(3, STATEMENTS[3],
                   f"Spearman rho(LR, A_avr) < 0 for {int((p['rho'] < 0).sum())} of {len(p)} models; "
                   f"rho(depth, slope) per dataset: "
                   + ", ".join(f"{_spearman(g['depth'], g['slope'], 2):+.2f}" for _, g in p.groupby('dataset')),
                   f"A_avr falls significantly with the LR for {int(sig_fall.sum())} and rises "
                   f"significantly for {int(sig_rise.sum())} of {plural(len(s), 'model')} "
                   f"({per_model}; exact two-sided permutation tests, {permuted})"
                   + (f"; {slopes}" if slopes else "") + broken,
                   f"fraction falling with p < {ALPHA} = {neg:.2f} of the "
                   f"{plural(int(testable.sum()), 'model')} whose test can reach it (needs >= 0.75)"
                   + ("; not counted: " + _untestable_models(s) if not testable.all() else "")
                   + ("; deeper falls more steeply in every pair of depths (needs its interval "
                      f"below 0, or its difference without one): {'yes' if steeper else 'no'}"
                      if len(pairs) else "")
                   + (f"; {untested}'more steeply for deeper models' is not tested at this "
                      "scale" if untested else ""), outcome,
                   value=float(s.loc[testable, "rho"].median()),
                   p_value=float(s.loc[testable, "p"].max()))


def sweet_spot(m, dataset=recipe.REFERENCE_DATASET, depth=recipe.REFERENCE_DEPTH):
    """Pareto front of (a0, A^0.1) over the LRs of one model (the paper's and those outside
    its range): the LRs no other LR beats on both (seed means)."""
    cells = model_rows(select(m, "lr", "lr_outside"), dataset, depth).dropna(
        subset=["baseline_accuracy", "A_0.1"])
    return pareto_front(cells, "baseline_accuracy", "A_0.1")


def front_uncertainty(runs: pd.DataFrame, dataset=recipe.REFERENCE_DATASET,
                      depth=recipe.REFERENCE_DEPTH) -> pd.DataFrame:
    """Per LR of one model: seed means of a0 and A^0.1, whether it is on the point Pareto
    front, and the LRs that beat it beyond doubt: better on one of the two beyond the 95 %
    paired t-interval of the difference (over the seeds both LRs share), and not worse
    beyond it on the other. The *plausible* front is the LRs nothing beats beyond doubt,
    so that an a0 gap smaller than the seed spread decides nothing. Without a ``seed``
    column (cell means) the plausible front is the point front."""
    cols = ["baseline_accuracy", "A_0.1"]
    cells = model_rows(select(runs, "lr", "lr_outside"), dataset, depth).dropna(subset=cols)
    means = cells.groupby("lr")[cols].mean().reset_index()
    front = set(pareto_front(means, *cols)["lr"])
    beaten = {lr: [] for lr in means["lr"]}
    if "seed" in cells:
        wide = {c: cells.pivot_table(index="seed", columns="lr", values=c) for c in cols}
        for i, k in itertools.permutations(means["lr"], 2):
            ci = [t_interval((wide[c][k] - wide[c][i]).dropna())[1:3] for c in cols]
            better = [lo > 0 for lo, _ in ci]
            not_worse = [hi >= 0 for _, hi in ci]
            if any(b and not_worse[1 - j] for j, b in enumerate(better)):
                beaten[i].append(k)
    else:
        beaten = {lr: ([] if lr in front else ["point front"]) for lr in means["lr"]}
    means["on_front"] = means["lr"].isin(front)
    means["beaten_by"] = [sorted(beaten[lr]) for lr in means["lr"]]
    means["plausible"] = [not b for b in means["beaten_by"]]
    return means


def sweet_spot_text(front: dict) -> str:
    """One line per model of ``{(dataset, depth): sweet_spot(...)}``: its Pareto-optimal LRs,
    and the seeds of its cells where they are too few for a verdict (``seeds_note``)."""
    def few(f):
        n = f["n_seeds"] if "n_seeds" in f else []
        return f" ({seeds_note(n)})" if len(n) and min(n) < MIN_SEEDS else ""
    return "\n".join(f"{model_name(ds, d)}{few(f)}: Pareto-optimal LRs "
                     + (", ".join(f"{lr:g}" for lr in sorted(f["lr"]))
                        or "none (not run at this scale)")
                     for (ds, d), f in front.items())


def claim4(runs):
    """The sweet spot against the *plausible* Pareto front of (a0, A^0.1) (``front_uncertainty``):
    an LR leaves the front only when another beats it on both beyond its 95 % paired
    t-interval, so a front chosen by gaps smaller than the seed spread is not mistaken for
    a sweet spot."""
    f = front_uncertainty(runs)
    lrs = sorted(f.loc[f["on_front"], "lr"])
    plaus = sorted(f.loc[f["plausible"], "lr"])
    inside = [SWEET_SPOT[0] - LR_TOLERANCE <= lr <= SWEET_SPOT[1] + LR_TOLERANCE for lr in plaus]
    cells = model_rows(select(runs, "lr_outside"))
    outside = sorted(cells["lr"].unique())
    frac = sum(inside) / len(plaus) if plaus else float("nan")
    if not plaus:
        outcome = "no data"
    elif not outside:  # only the paper's LRs: nothing outside the range could beat the spot
        outcome = "cannot be tested"
    else:
        outcome = "held" if all(inside) else "partly" if any(inside) else "did not hold"
    seeds = "seed" in runs

    def lrs_text(x):
        return ", ".join(f"{lr:g}" for lr in x) or "none"
    return Verdict(4, STATEMENTS[4],
                   f"sweet spot read off its Fig. 4: {SWEET_SPOT[0]:g}-{SWEET_SPOT[1]:g}",
                   f"Pareto-optimal LRs of the seed means of (a0, A^0.1), {_REFERENCE}: "
                   f"{lrs_text(lrs)}; plausible front (no other LR is better beyond "
                   + ("the 95 % paired t-interval over seeds" if seeds else "the point values")
                   + f" on one and not worse beyond it on the other): {lrs_text(plaus)}"
                   + (f"; LRs outside the paper's range run: {', '.join(f'{lr:g}' for lr in outside)}"
                      if outside else "; no LR outside the paper's range was run"),
                   f"{sum(inside)} of {len(plaus)} LRs of the plausible front inside "
                   f"[{SWEET_SPOT[0]:g}, {SWEET_SPOT[1]:g}]", outcome, value=frac)


def optimizer_margins(runs: pd.DataFrame, level: float = 0.95) -> dict | None:
    """Claim 5's two margins, worst adaptive optimizer minus best SGD variant (seed means),
    on a0 and on A_avr, each with its t-interval (``stats.pooled_difference``): the two
    cells' seeds and the pooled seed-to-seed spread of every cell of the model with two or
    more seeds (the LR grid's and the optimizers' own; ``stats.pooled_spread``), since the
    optimizers beside Adam have one seed each. None when the runs lack either family."""
    opt = select(runs, "optimizers").dropna(subset=["baseline_accuracy", "A_avr"])
    if opt.empty:
        return None
    ad = [o for o in ADAPTIVE if o in set(opt["optimizer"])]
    sg = [o for o in SGD_FAMILY if o in set(opt["optimizer"])]
    if not ad or not sg:
        return None
    ds, d = opt["dataset"].iloc[0], opt["depth"].iloc[0]
    model = model_rows(select(runs, "lr", "lr_outside", "optimizers"), ds, d)
    out = {}
    for metric in ("baseline_accuracy", "A_avr"):
        means = opt.groupby("optimizer")[metric].mean()
        worst, best = means[ad].idxmin(), means[sg].idxmax()
        sd, dof = pooled_spread(g[metric] for _, g in model.dropna(subset=[metric])
                                .assign(lr=lambda f: f["lr"].round(12)).groupby(CELL))
        diff, lo, hi = pooled_difference(opt.loc[opt["optimizer"] == worst, metric],
                                         opt.loc[opt["optimizer"] == best, metric], sd, dof, level)
        out[metric] = {"optimizers": ad + sg, "worst_adaptive": worst, "best_sgd": best,
                       "margin": diff, "low": lo,
                       "high": hi, "sd": sd, "dof": dof,
                       "seeds": (int((opt["optimizer"] == worst).sum()),
                                 int((opt["optimizer"] == best).sum()))}
    return out


def _margin_text(name: str, m: dict) -> str:
    seeds = f"{m['seeds'][0]} and {m['seeds'][1]} seeds"
    if not np.isfinite(m["low"]):
        return (f"{name} {100 * m['margin']:+.2f} pp ({m['worst_adaptive']} minus "
                f"{m['best_sgd']}, {seeds}; no interval: no cell of the model has two seeds)")
    return (f"{name} {100 * m['margin']:+.2f} pp, 95 % interval {100 * m['low']:+.2f} to "
            f"{100 * m['high']:+.2f} ({m['worst_adaptive']} minus {m['best_sgd']}, {seeds}; "
            f"pooled seed spread {100 * m['sd']:.2f} pp over {m['dof']} degrees of freedom)")


def claim5(runs):
    """Worst adaptive optimizer minus best SGD variant, on a0 and on A_avr, over the
    optimizers whose A_avr these records hold (under another reading, those re-swept).
    A margin counts when its 95 % interval (``optimizer_margins``) lies above 0, as a trend
    counts for claim 3 only when it is significant: held when both do, partly when one
    does. Without any spread (no cell with two seeds) the point margins decide, and the
    verdict is indicative through its one-seed caveat."""
    runs = completed(runs) if "status" in runs else runs
    p = table("figure3").set_index("optimizer")
    theirs = [p.loc[p.index.intersection(ADAPTIVE), c].min()
              - p.loc[p.index.intersection(SGD_FAMILY), c].max()
              for c in ("baseline_accuracy_pct", "avg_normalized_accuracy_pct")]
    ours = optimizer_margins(runs) if not runs.empty else None
    if ours is None:
        ran = set(select(runs, "optimizers")["optimizer"]) if not runs.empty else set()
        untested = not (ran & set(SGD_FAMILY)) and len(ran) <= 1
        return Verdict(5, STATEMENTS[5], "",
                       "the optimizers study (Figure 3) was not run" if untested else "", "",
                       NOT_TESTED if untested else "no data")
    a0, aavr = ours["baseline_accuracy"], ours["A_avr"]
    used = a0["optimizers"]
    missing = [o for o in (*ADAPTIVE, *SGD_FAMILY) if o not in used]
    scope = ""
    if missing:   # the paper's margin over the same optimizers, for a like-for-like reading
        same = [p.loc[p.index.intersection([o for o in used if o in ADAPTIVE]), c].min()
                - p.loc[p.index.intersection([o for o in used if o in SGD_FAMILY]), c].max()
                for c in ("baseline_accuracy_pct", "avg_normalized_accuracy_pct")]
        scope = (f"; over the optimizers with a value ({and_list(recipe.name('optimizer', o) for o in used)}"
                 f"; none for {and_list(recipe.name('optimizer', o) for o in missing)}), where "
                 f"the paper's Figure 3 gives a0 {same[0]:+.2f} and A_avr {same[1]:+.2f} points")
    wins = [(m["low"] > 0) if np.isfinite(m["low"]) else (m["margin"] > 0) for m in (a0, aavr)]
    rule = ("a margin counts when its 95 % interval lies above 0" if np.isfinite(a0["low"])
            and np.isfinite(aavr["low"]) else "both must be > 0; no interval")
    return Verdict(5, STATEMENTS[5],
                   f"worst adaptive minus best SGD: a0 {theirs[0]:+.2f} points, A_avr {theirs[1]:+.2f} points",
                   "worst adaptive minus best SGD: " + _margin_text("a0", a0) + "; "
                   + _margin_text("A_avr", aavr) + scope,
                   f"margins a0 {100 * a0['margin']:+.2f} pp, A_avr {100 * aavr['margin']:+.2f} pp "
                   f"({rule})",
                   "held" if all(wins) else ("partly" if any(wins) else "did not hold"),
                   value=100 * float(min(a0["margin"], aavr["margin"])))


def claim6(m):
    """Per (depth, LR) cell run on both datasets: is A_avr lower on the dataset with more
    classes? From the cell means; given the runs (a ``seed`` column), a pair counts when
    the 95 % Welch t-interval of its difference over the two datasets' seeds lies below 0,
    and by its difference alone when a side has fewer than 2 seeds (said). Held when
    >= 90 % of the pairs count, did not hold at <= 50 %."""
    runs = None
    if "seed" in m:
        runs, m = _lr_cells(m).dropna(subset=["A_avr"]), cell_means(m)
    c = _lr_cells(m).pivot_table(index=["depth", "lr"], columns="dataset", values="A_avr")
    few, many = _FEW, _MANY
    if not {few, many} <= set(c.columns):
        run = and_list(recipe.name("dataset", d) for d in sorted(c.columns)) or "none"
        return Verdict(6, STATEMENTS[6], "", f"it needs both datasets; only {run} was run", "",
                       NOT_TESTED)
    c = c.dropna()
    lower = c[many] < c[few]
    how = ""
    if runs is not None and len(c):
        key = runs.assign(lr=_lr_key(runs["lr"]).to_numpy())
        ivs = []
        for depth, lr in c.index:
            g = key[(key["depth"] == depth) & (key["lr"] == round(float(lr), 12))]
            ivs.append(welch_interval(g.loc[g["dataset"] == many, "A_avr"],
                                      g.loc[g["dataset"] == few, "A_avr"]))
        has = np.array([np.isfinite(hi) for _, _, hi in ivs], bool)
        lower = pd.Series(np.where(has, [hi < 0 for _, _, hi in ivs], lower.to_numpy()),
                          index=c.index)
        how = (f" (a pair counts when the 95 % Welch t-interval of its difference over the "
               f"seeds lies below 0: {plural(int(has.sum()), 'pair')}"
               + (f"; by its difference alone where a side has one seed: {int((~has).sum())}"
                  if (~has).any() else "") + ")")
    cc_txt = ""
    if "A_avr_cc" in m:
        cc = _lr_cells(m).pivot_table(index=["depth", "lr"], columns="dataset",
                                      values="A_avr_cc").dropna()
        if {few, many} <= set(cc.columns) and len(cc):
            cc_lower = cc[many] < cc[few]
            cc_txt = (f"; chance-corrected, (a^x - 1/K)/(a0 - 1/K) with K = "
                      f"{recipe.NUM_CLASSES[few]} or {recipe.NUM_CLASSES[many]}: lower on "
                      f"{recipe.name('dataset', many)} in {int(cc_lower.sum())} of {len(cc)} pairs"
                      " (cell means)" * (runs is not None))
    p = table("table3").pivot_table(index=["depth", "lr"], columns="dataset",
                                    values="avg_normalized_accuracy_pct")
    frac = float(lower.mean()) if len(c) else float("nan")
    return Verdict(6, STATEMENTS[6],
                   f"A_avr lower on {recipe.name('dataset', many)} in {int((p[many] < p[few]).sum())} of "
                   f"{len(p)} "
                   "(depth, LR) pairs of Table III",
                   f"A_avr lower on {recipe.name('dataset', many)} in {int(lower.sum())} of {len(c)} "
                   "(depth, LR) pairs" + how
                   + cc_txt,
                   f"fraction = {frac:.2f} (held >= 0.9, did not hold <= 0.5)",
                   _fraction_outcome(frac, len(c)), value=frac)




def partial_rank_correlation(runs: pd.DataFrame, x: str = "C", y: str = "A_avr") -> tuple[float, int]:
    """Spearman correlation of x and y with the LR partialled out: both are ranked within
    each (dataset, depth, LR) cell across its seeds and centred, then pooled. (The rank of
    alpha^2 C/|B| across LRs is nearly the rank of the LR, which claim 3 already tests; at a
    fixed LR, alpha and |B| are constant, so this asks whether runs with more gradient noise
    C are less noise resistant.) Returns (rho, number of runs used)."""
    r = runs.dropna(subset=[x, y])
    r = r[r.groupby(CELL)["seed"].transform("nunique") >= 2]
    if len(r) < 4:
        return float("nan"), len(r)
    g = r.groupby(CELL)
    rx = g[x].rank() - g[x].transform("count").add(1) / 2
    ry = g[y].rank() - g[y].transform("count").add(1) / 2
    if rx.std() == 0 or ry.std() == 0:
        return float("nan"), len(r)
    return float(np.corrcoef(rx, ry)[0, 1]), len(r)


def claim7_runs(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The runs claim 7 tests (LR study, C and A_avr measured, C physical and measured one
    example at a time, and usable by one of its two tests, ``_used``; all such runs when
    none is); those left out as non-physical (``theory.nonphysical``); and those left out
    because their C was measured with the per-example map 10 examples at a time
    (``theory.parallel_map``), which can change it by orders of magnitude from one repeat
    to the next: a test on such values is no evidence either way."""
    cells = _lr_cells(runs).dropna(subset=["C", "A_avr"]) if "C" in runs else runs.iloc[:0]
    flagged = nonphysical(cells) if len(cells) else pd.Series(False, index=cells.index)
    cells, dropped = cells[~flagged], cells[flagged]
    racy = parallel_map(cells) if len(cells) else pd.Series(False, index=cells.index)
    cells, corrupt = cells[~racy], cells[racy]
    used = _used(cells, 7)   # a run neither test can use (one seed, one LR) is not counted
    return (used if len(used) else cells), dropped, corrupt


def _min_p(sizes) -> float:
    """The smallest two-sided p of an exact permutation test whose values are permuted
    within groups of these sizes: 2 / prod(size!) (capped at 1)."""
    n = 1
    for k in sizes:
        n *= math.factorial(int(k))
    return min(1.0, 2.0 / n)


def claim7(runs):
    """The mechanism tested twice on the runs (not the cell means), exact permutation tests:
    *across LRs*, within each model and seed, does a larger bound alpha^2 C/|B| go with a lower A_avr
    (``stats.trend_test``, LR labels permuted within seeds)? *Within an LR*, across its
    seeds, does a larger C go with a lower A_avr (``stats.within_rank_test``, A_avr
    permuted within each LR)? Held when both are negative with p < ALPHA, partly when one
    is; a C flagged as non-physical (``theory.nonphysical``) is left out and named."""
    cells, dropped, corrupt = claim7_runs(runs)
    left_out = (f"; left out as non-physical: {plural(len(dropped), 'run')} ("
                + ", ".join(f"lr {r.lr:g} seed {r.seed}: C = {r.C:.3g}" for r in dropped.itertuples())
                + ")" if len(dropped) else "")
    if len(corrupt):
        left_out += (f"; left out: {plural(len(corrupt), 'run')} whose C was measured with the "
                     "per-example map 10 examples at a time, which can corrupt it (theory page)")
    if cells.empty:
        return Verdict(7, STATEMENTS[7], "argued from eq. 1-3, not measured",
                       "not testable here: no run with a C measured one example at a time"
                       + left_out, "", NOT_TESTED if len(corrupt) else "no data")
    groups = cells[CELL].astype(str).agg("|".join, axis=1)
    within = within_rank_test(cells["C"], cells["A_avr"], groups)
    bound = noise_power_bound(cells["lr"], cells["C"], cells["batch_size"]) \
        if "batch_size" in cells else cells["lr"] ** 2 * cells["C"]
    per = ["dataset", "depth", "optimizer", "batch_norm"] + (["seed"] if "seed" in cells else [])
    across = trend_test(bound, cells["A_avr"], cells[per].astype(str).agg("|".join, axis=1))
    tested = [t for t in (within, across) if np.isfinite(t["rho"])]
    if not tested:
        return Verdict(7, STATEMENTS[7], "argued from eq. 1-3, not measured",
                       f"not testable here: needs >= 2 seeds per LR with a measured C or >= 3 "
                       f"LRs ({len(cells)} runs)" + left_out, "",
                       NOT_TESTED if len(corrupt) else "no data")
    # the smallest p each exact test can give: 2 / prod(group size!) over its groups
    reach = {id(within): _min_p(groups.value_counts()),
             id(across): _min_p(cells.groupby(per)["lr"].nunique())}
    if all(reach[id(t)] >= ALPHA for t in tested):
        return Verdict(7, STATEMENTS[7], "argued from eq. 1-3, not measured",
                       f"across LRs rho {_signed(across['rho'])}, within an LR rho "
                       f"{_signed(within['rho'])} (over {len(cells)} runs)" + left_out,
                       f"neither test can reach p < {ALPHA} with these runs (smallest "
                       f"attainable p: {min(reach.values()):.3g})", NOT_TESTED,
                       value=within["rho"], p_value=within["p"])
    support = [t["rho"] < 0 and t["p"] < ALPHA for t in tested]
    outcome = ("held" if len(tested) == 2 and all(support) else
               "partly" if any(support) else "did not hold")

    def said(t, what):
        return (f"{what}: rho {_signed(t['rho'])}, p = {_p(t['p'])}" if np.isfinite(t["rho"])
                else f"{what}: not testable")
    return Verdict(7, STATEMENTS[7], "argued from eq. 1-3, not measured",
                   said(across, "across LRs, within each model and seed, rank correlation of "
                        "alpha^2 C/|B| with A_avr") + "; "
                   + said(within, "within each LR, across its seeds, rank correlation of C "
                          "with A_avr") + f" (over {len(cells)} runs; exact two-sided "
                   "permutation tests: A_avr permuted across the LRs of each model and seed, and across "
                   "the seeds of each LR)" + left_out,
                   f"across LRs rho {_signed(across['rho'])} (p = {_p(across['p'])}), within an "
                   f"LR rho {_signed(within['rho'])} (p = {_p(within['p'])}); held when both are "
                   f"< 0 with p < {ALPHA}, partly when one is", outcome,
                   value=within["rho"], p_value=within["p"])


def bn_layers(depth: int) -> int:
    """BN layers of ResNet v1 of this depth: one after the stem, two per residual block."""
    return depth - 1


def _bn_gap_tests(runs: pd.DataFrame, diff: pd.DataFrame) -> tuple[list, list, list]:
    """Per model of ``diff`` (dataset, depth): its BN gap's 95 % Welch interval (lo, hi),
    Welch p and exact permutation p over the seeds without and with BN."""
    lows, welch, perm = [], [], []
    for ds, depth in zip(diff["dataset"], diff["depth"]):
        g = model_rows(runs, ds, depth)
        off = g.loc[~g["batch_norm"].astype(bool), "A_avr"]
        on = g.loc[g["batch_norm"].astype(bool), "A_avr"]
        lows.append(welch_interval(off, on)[1:])
        welch.append(welch_p(off, on))
        perm.append(permutation_p(off, on))
    return lows, welch, perm


def claim8(m):
    """From the cell means; given the runs (a ``seed`` column), each model's gap (A_avr
    without BN minus with BN) gets its 95 % Welch t-interval over the two groups of seeds
    (``stats.welch_interval``) and, beside it, the exact permutation p (``permutation_p``:
    3 and 3 seeds cannot go below p = 0.1). A model counts as "BN lowers A_avr" when its
    interval lies above 0; one with fewer than 2 seeds on a side has no interval and
    counts by its gap alone (said in the statistic). The verdict's p is the largest Welch
    p of the models with an interval: the intersection-union test of "BN lowers A_avr in
    every model", which holds at level alpha when each model's test does."""
    runs = None
    if "seed" in m:
        runs, m = select(m, "batchnorm"), cell_means(m)
    c = select(m, "batchnorm").pivot_table(index=["dataset", "depth"], columns="batch_norm", values="A_avr").dropna()
    if not {True, False} <= set(c.columns) or c.empty:
        return Verdict(8, STATEMENTS[8], "abstract only: no numbers", "", "", "no data")
    diff = (c[False] - c[True]).rename("gap").reset_index()
    lows, welch, perm = _bn_gap_tests(runs, diff) if runs is not None else ([], [], [])
    has = [bool(np.isfinite(lo)) for lo, _ in lows]
    counts = [lo > 0 if ok else gap > 0
              for (lo, _), ok, gap in zip(lows, has, diff["gap"])] if lows else list(diff["gap"] > 0)
    frac = float(np.mean(counts))
    pairs = depth_bn_gaps(runs if runs is not None else select(m, "batchnorm"))
    grows_ok, pair_text = _depth_test(pairs, +1)
    untested = ("" if len(pairs) else "one depth only: " if diff["depth"].nunique() < 2 else
                "no dataset has two depths trained with and without BN: ")
    lower = frac >= 0.9
    names = [model_name(d, n) for d, n in zip(diff["dataset"], diff["depth"])]
    if lows:
        per = [f"{name} {100 * gap:+.2f} "
               + (f"[{100 * lo:+.2f}, {100 * hi:+.2f}]" if ok else "(no interval: < 2 seeds a side)")
               for name, gap, (lo, hi), ok in zip(names, diff["gap"], lows, has)]
        test_text = ("; gap per model, points, with its 95 % Welch t-interval over the seeds "
                     "with and without BN (a model counts when it lies above 0, else by its "
                     "gap alone): " + ", ".join(per) + "; exact permutation p per model "
                     "(3 and 3 seeds cannot go below 0.1): " + ", ".join(_p(p) for p in perm))
        by_gap = sum(1 for ok in has if not ok)
        counted = (f"counted by the interval in {plural(sum(has), 'model')}"
                   + (f", by the gap alone in {by_gap}" if by_gap else "")
                   if any(has) else f"counted by the gap alone in {plural(by_gap, 'model')}")
    else:
        test_text, counted = "", "counted by the gap of the cell means"
    p_value = max((p for p, ok in zip(welch, has) if ok), default=float("nan"))
    grows_text = ("; the gap of the model with more BN layers minus the other's (BN layers: "
                  "depth - 1; seeds without/with BN), points with its 95 % t-interval: "
                  + pair_text if len(pairs) else "")
    return Verdict(8, STATEMENTS[8], "abstract only: no numbers",
                   f"A_avr higher without BN in {int((diff['gap'] > 0).sum())} of {plural(len(diff), 'model')} "
                   f"(mean gap {100 * diff['gap'].mean():+.2f} points)" + grows_text,
                   f"fraction = {frac:.2f} ({counted}; needs >= 0.9)"
                   + ("; the gap grows with the BN layers in every pair of depths (needs its "
                      f"interval above 0, or its difference without one): {'yes' if grows_ok else 'no'}"
                      if len(pairs) else "")
                   + test_text + (f"; {untested}'the more BN layers the worse' is not tested at "
                                  "this scale" if untested else ""),
                   _one_depth(lower) if untested else
                   "held" if lower and grows_ok else ("partly" if lower or grows_ok else "did not hold"),
                   value=100 * float(diff["gap"].mean()),
                   p_value=float(p_value))


def caveats(df: pd.DataFrame) -> dict[str, str]:
    """Why verdicts from these records are indicative only, by reason (empty when they are
    verdicts): "synthetic" data, or too few "seeds", cells with fewer than ``MIN_SEEDS``
    training seeds (when only some cells have so few, how many and of which models, e.g.
    one CIFAR-100 cell beside CIFAR-10 cells with 3 seeds)."""
    df = completed(df)
    if df.empty:
        return {}
    reasons = {}
    if df["synthetic_data"].any():
        reasons["synthetic"] = "smoke results on synthetic data, not a reproduction"
    m = cell_means(df)
    few = m[m["n_seeds"] < MIN_SEEDS]
    if len(few) == len(m):
        reasons["seeds"] = (f"{plural(int(m['n_seeds'].min()), 'training seed')} per cell; a "
                            f"verdict needs >= {MIN_SEEDS}")
    elif len(few):
        models = dict.fromkeys(model_name(d, n) for d, n in zip(few["dataset"], few["depth"]))
        reasons["seeds"] = (f"{plural_range(few['n_seeds'], 'training seed')} in {len(few)} of "
                            f"its {len(m)} cells ({and_list(models)}); a verdict needs >= {MIN_SEEDS}")
    return reasons


def caveat(df: pd.DataFrame) -> str:
    """``caveats`` as one phrase ("" when the records give verdicts)."""
    return "; ".join(caveats(df).values())


def seeds_note(seeds) -> str:
    """The training seeds of some cells for a figure or a line of text: "3 seeds", or
    "1 seed, indicative only" when a cell has fewer than ``MIN_SEEDS``."""
    seeds = [int(n) for n in seeds]
    return plural_range(seeds, "seed") + (", indicative only" if min(seeds) < MIN_SEEDS else "")


def scale(df: pd.DataFrame) -> str:
    """What the records measure, in one line: models, data, epochs, seeds, profile."""
    df = completed(df)
    if df.empty:
        return "no completed run"
    seeds = cell_means(df)["n_seeds"]
    models = "; ".join(
        and_list(f"ResNet{d}" for d in sorted(g["depth"].unique())) + f" on {data}"
        for data, g in df.assign(data=df["data"].fillna("unknown data")).groupby("data"))
    epochs = ", ".join(str(e) for e in sorted(df["epochs"].unique()))
    return (f"{models}, {epochs} epochs, {plural_range(seeds, 'seed')} per cell, profile "
            f"{', '.join(sorted(df['profile'].unique()))} (the paper: 200 epochs, one run per cell)")


# The studies (``studies.STUDIES``) whose cells each claim rests on: a claim's verdict is
# indicative only when *its* cells have too few seeds (the optimizers study, run with one
# seed by design, does not make the LR claims indicative).
CLAIM_STUDIES = {1: ("lr",), 2: ("lr",), 3: ("lr",), 4: ("lr", "lr_outside"),
                 5: ("optimizers",), 6: ("lr",), 7: ("lr",), 8: ("batchnorm",)}


def claim_records(df: pd.DataFrame, claim: int) -> pd.DataFrame:
    """The records claim ``claim`` rests on: those of its studies (``CLAIM_STUDIES``) that
    its verdict can use (``_used``: e.g. a model with one LR adds nothing to claim 1, and
    claim 6 compares only the (depth, LR) cells run on both datasets); all of its studies'
    records when it can use none, all of ``df`` if it has none. A verdict's caveat, scale
    and ``rests_on`` are those of these records, so that a cell a verdict does not use
    (a one-seed CIFAR-100 cell beside a CIFAR-10 trend) does not qualify it."""
    rows = select(df, *CLAIM_STUDIES[claim]) if not df.empty else df
    if rows.empty:
        return df
    used = _used(rows, claim)
    return used if not used.empty else rows


_MODEL = ["dataset", "depth"]


def _in(rows: pd.DataFrame, columns: list, keys) -> pd.Series:
    """Which rows' ``columns`` (LRs rounded) are one of ``keys``."""
    def key(frame):
        return pd.MultiIndex.from_frame(frame[columns].assign(
            **({"lr": frame["lr"].round(12)} if "lr" in columns else {})))
    return pd.Series(key(rows).isin(keys), index=rows.index)


def _used(rows: pd.DataFrame, claim: int) -> pd.DataFrame:
    """The rows of a claim's studies that its statistic uses (see ``claim_records``)."""
    done = completed(rows) if "status" in rows else rows
    if claim == 3 and "A_avr" in done:   # the models whose trend test can decide it
        t = lr_trends(done)
        t = t[_testable(t)] if len(t) else t
        if len(t):
            return rows[_in(rows, _MODEL, pd.MultiIndex.from_frame(t[_MODEL]))]
    if claim in (1, 3):   # the models with 2 (claim 1) or 3 (claim 3) LRs measured
        metric, need = ("baseline_accuracy", 2) if claim == 1 else ("A_avr", 3)
        n = done.dropna(subset=[metric]).groupby(_MODEL)["lr"].nunique()
        return rows[_in(rows, _MODEL, n.index[n >= need])]
    if claim == 4:        # the reference model only
        return model_rows(rows)
    if claim == 6:        # the (depth, LR) cells run on both datasets compared
        both = done[done["dataset"].isin([_FEW, _MANY])].dropna(subset=["A_avr"])
        n = both.assign(lr=both["lr"].round(12)).groupby(["depth", "lr"])["dataset"].nunique()
        return rows[_in(rows, ["depth", "lr"], n.index[n == 2])]
    if claim == 7:        # cells with 2 seeds (within an LR), or 3 LRs of one model and seed
        if "C" not in done:
            return rows.iloc[:0]
        c = done.dropna(subset=["C", "A_avr"])
        per_seed = _MODEL + ["optimizer", "batch_norm", "seed"]
        keep = (c.groupby(CELL)["seed"].transform("nunique") >= 2) | (
            c.groupby(per_seed)["lr"].transform("nunique") >= 3)
        return rows[_in(rows, CELL, pd.MultiIndex.from_frame(
            c.loc[keep, CELL].assign(lr=c.loc[keep, "lr"].round(12))))]
    if claim == 8:        # the models trained both with and without BN
        n = done.groupby(_MODEL)["batch_norm"].nunique()
        return rows[_in(rows, _MODEL, n.index[n == 2])]
    return rows


def claim_caveats(df: pd.DataFrame, claim: int) -> dict[str, str]:
    """Why the verdict on ``claim`` is indicative only, by reason (empty when it is a
    verdict): the ``caveats`` of the records it rests on; for claim 5, also "optimizers":
    those of the paper's six without a value."""
    reasons = caveats(claim_records(df, claim))
    if claim == 5:
        ran = set(completed(select(df, "optimizers")).dropna(subset=["A_avr"])["optimizer"]) \
            if not df.empty else set()
        missing = [o for o in (*ADAPTIVE, *SGD_FAMILY) if o not in ran]
        if ran & set(SGD_FAMILY) and missing:
            reasons["optimizers"] = (f"{and_list(recipe.name('optimizer', o) for o in missing)} "
                                     f"not run, of the paper's six optimizers")
    return reasons


def claim_caveat(df: pd.DataFrame, claim: int) -> str:
    """``claim_caveats`` as one phrase ("" when the verdict is one)."""
    return "; ".join(claim_caveats(df, claim).values())


def verdicts(df: pd.DataFrame) -> list[Verdict]:
    """The eight verdicts from a table of run records (``results.load_records``), each
    with the scale and caveat of the records it rests on (``CLAIM_STUDIES``)."""
    done = completed(df)
    if done.empty:
        return [Verdict(i, "", "", "no completed run", "", "no data") for i in range(1, 9)]
    m = cell_means(done)
    out = [claim1(m), claim2(done), claim3(done), claim4(done), claim5(done), claim6(done),
           claim7(done), claim8(done)]
    for v in out:
        rows = claim_records(df, v.claim)
        n_div = int((rows["status"] == "diverged").sum())
        v.indicative = "" if v.outcome in UNTESTED else claim_caveat(df, v.claim)  # nothing to qualify
        v.rests_on = "" if v.outcome in UNTESTED else rests_on(claim_records(done, v.claim))
        v.scale = scale(rows) + (f"; {plural(n_div, 'diverged run')} left out of the means" if n_div else "")
    return out


def rests_on(runs: pd.DataFrame) -> str:
    """"one model (ResNet20 on CIFAR-10)" or "one depth (ResNet20)" when the runs hold no
    more (however many seeds), else "": a verdict from them is no general statement."""
    if runs.empty:
        return ""
    models = runs[["dataset", "depth"]].drop_duplicates()
    if len(models) == 1:
        return f"one model ({model_name(models['dataset'].iloc[0], models['depth'].iloc[0])})"
    if models["depth"].nunique() == 1:
        return f"one depth (ResNet{models['depth'].iloc[0]})"
    return ""


# The noise readings every verdict on resistance is recomputed under, label -> name
# (``noise_model.VERDICT_READINGS``), and each reading as a sentence says it
READINGS = {m.label: m.name for m in VERDICT_READINGS}
READING_PHRASES = {m.label: m.phrase for m in VERDICT_READINGS}


def under_reading(df: pd.DataFrame, reading: str) -> pd.DataFrame:
    """The records with ``A_avr`` replaced by its value under another noise reading.

    A model without BN has no non-trainable array and nothing to fold, so its three
    readings are the same sweep (same arrays, same draws): its own A_avr is used."""
    out = df.copy()
    col = f"A_avr|{reading}"
    own = out["reading"] == reading if "reading" in out else pd.Series(False, index=out.index)
    same = own | ~out["batch_norm"].astype(bool)
    alt = out[col] if col in out else pd.Series(np.nan, index=out.index)
    out["A_avr"] = np.where(same, out["A_avr"], alt)
    if "broken" in out:  # the share of broken draws of the same sweep
        b = out[f"broken|{reading}"] if f"broken|{reading}" in out else pd.Series(np.nan, index=out.index)
        out["broken"] = np.where(same, out["broken"], b)
    return out


def across_readings(df: pd.DataFrame, claims=(3, 5, 6, 7, 8)) -> pd.DataFrame:
    """Claims 3, 5, 6, 7 and 8 (``claims``: those asked for) under each noise reading of
    ``READINGS``, side by side, with each verdict's value and p-value (claims 3 and 7:
    exact permutation tests)."""
    on_runs = {3: claim3, 5: claim5, 6: claim6, 7: claim7, 8: claim8}
    rows = []
    for label, reading in READINGS.items():
        runs = completed(under_reading(df, reading))
        for c in claims:
            v = on_runs[c](runs)
            rows.append({"claim": c, "reading": label, "verdict": v.outcome,
                         "statistic": v.statistic, "value": v.value, "p": v.p_value})
    return pd.DataFrame(rows)


def readings_sentence(readings: pd.DataFrame, caveat: str = "") -> str:
    """Which claims of ``across_readings`` survive every noise reading, in one sentence
    (with ``caveat``, why it is indicative only, when there is one)."""
    untested = readings.groupby("claim")["verdict"].agg(lambda v: v.isin(UNTESTED).all())
    n = readings[~readings["claim"].map(untested)].groupby("claim")["verdict"].nunique()
    same, differ = list(n.index[n == 1]), list(n.index[n > 1])
    parts = []
    if same:
        parts.append(f"Claim{'s' if len(same) > 1 else ''} {and_list(same)} "
                     f"come{'' if len(same) > 1 else 's'} out the same under every noise reading")
    if differ:
        parts.append(f"claim{'s' if len(differ) > 1 else ''} {and_list(differ)} "
                     f"depend{'' if len(differ) > 1 else 's'} on the reading")
    if untested.any():
        idle = list(untested.index[untested])
        parts.append(f"claim{'s' if len(idle) > 1 else ''} {and_list(idle)} "
                     f"{'are' if len(idle) > 1 else 'is'} not tested under any")
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:] + (f" *Indicative only: {caveat}.*" if caveat else "")


def outcome_counts(vs: list[Verdict]) -> str:
    """How the claims come out, e.g. "3 held, 2 partly and 3 not tested at this scale"."""
    counts = pd.Series([v.outcome for v in vs]).value_counts()
    return and_list(f"{n} {k}" for k, n in counts.items())


def stability(df: pd.DataFrame, B: int = 200, seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """Per claim: its value and p-value, with a bootstrap interval (seeds and noise draws
    resampled, ``helpers.study.stats``; a secondary check: with 3 seeds it sees 10 distinct seed
    sets and is too narrow to decide on), the fraction of resamples whose verdict equals the point one, and
    the fraction in which the value is defined at all (``defined``: e.g. claim 7 needs
    two different seeds in a cell, which a resample of two seeds draws half the time);
    the interval is taken over those resamples only. A claim these records do not test
    (no point value) has no interval, ``same_verdict`` or ``defined`` (NaN)."""
    point = verdicts(df)
    done = completed(df)
    rng = np.random.default_rng(seed)
    boot = [verdicts(resample(done, rng)) for _ in range(B)] if not done.empty else []
    rows = []
    for i, v in enumerate(point):
        values = [b[i].value for b in boot]
        lo, hi = percentile_interval(values, level)
        tested = bool(boot) and np.isfinite(v.value)
        same = float(np.mean([b[i].outcome == v.outcome for b in boot])) if tested else float("nan")
        defined = float(np.mean(np.isfinite(np.asarray(values, float)))) if tested else float("nan")
        rows.append({"claim": v.claim, "verdict": v.outcome, "value": v.value,
                     "p_value": v.p_value, "ci_low": lo, "ci_high": hi, "same_verdict": same,
                     "defined": defined})
    return pd.DataFrame(rows)


def settled_sentence(table: pd.DataFrame) -> str:
    """Which tested verdicts of ``verdict_table`` (with ``stability``) are settled: the
    same outcome in at least ``SETTLED`` of the bootstrap resamples; and which of the
    settled ones are indicative only (an ``indicative only`` column), for which being the
    same in every resample says little: a resample cannot vary a cell of one seed."""
    tested = table[table["value"].notna() & table["same_verdict"].notna()]
    if tested.empty:
        return "No claim could be tested on these records."
    weak = tested[tested["same_verdict"] < SETTLED]
    rest = tested.drop(weak.index)
    why = (rest["indicative only"].fillna("no").astype(str).str.strip()
           if "indicative only" in rest else pd.Series("no", index=rest.index))
    flagged = ~why.isin(["", "no"])
    caution = ""
    if flagged.any():
        claims_ = rest.loc[flagged, "claim"].tolist()
        caution = (f" For claim{'s' if len(claims_) > 1 else ''} {and_list(claims_)} that says "
                   f"little: {'they rest' if len(claims_) > 1 else 'it rests'} partly on cells of "
                   "too few seeds, and a resample cannot vary a cell of one seed.")
    if weak.empty:
        return (f"Every tested claim comes out the same in at least {100 * SETTLED:.0f} % of the "
                f"bootstrap resamples (lowest: {100 * tested['same_verdict'].min():.0f} %)."
                + caution)
    defined = weak["defined"] if "defined" in weak else pd.Series(1.0, index=weak.index)
    names = and_list(f"{c} ({100 * s:.0f} %" + (f"; its statistic is defined in {100 * d:.0f} "
                                                "% of them)" if d < 1 else ")")
                     for c, s, d in zip(weak["claim"], weak["same_verdict"], defined))
    lowest = rest["same_verdict"].min() if len(rest) else None
    others = ("The other tested claim comes" if len(rest) == 1 else "The other tested claims come")
    return (f"Not settled at this scale: claim{'s' if len(weak) > 1 else ''} {names} "
            f"come{'s' if len(weak) == 1 else ''} out the same in fewer than "
            f"{100 * SETTLED:.0f} % of the bootstrap resamples, so more seeds could change "
            f"{'them' if len(weak) > 1 else 'it'}."
            + ("" if lowest is None else f" {others} out the same in every resample."
               if lowest == 1 else f" {others} out the same in at least {100 * lowest:.0f} %.")
            + caution)


def sentence(v: Verdict, caveat: str | None = None) -> str:
    """One claim's verdict as a markdown sentence built from its numbers."""
    why = v.indicative if caveat is None else caveat
    return (f"**Claim {v.claim} ({v.statement})** Paper: {v.paper or 'n/a'}. "
            f"Ours: {v.ours or 'n/a'}. Verdict: **{v.outcome}** ({v.statistic or 'no statistic'})."
            + (f" *It rests on {v.rests_on} only.*" if v.rests_on else "")
            + (f" *Indicative only: {why}.*" if why else ""))


def verdict_table(vs: list[Verdict], stab: pd.DataFrame | None = None) -> pd.DataFrame:
    out = pd.DataFrame([{"claim": v.claim, "statement": v.statement, "paper": v.paper,
                         "ours": v.ours, "statistic": v.statistic, "verdict": v.outcome,
                         "p_value": v.p_value, "rests on": v.rests_on or "–",
                         "indicative only": v.indicative or "no"} for v in vs])
    if stab is not None:
        out = out.merge(stab[["claim", "value", "ci_low", "ci_high", "same_verdict", "defined"]],
                        on="claim")
    return out


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """``verdict_table`` with ``stability`` as a compact table for the book: what each
    value is (``VALUES``), the value, the p-value of the test behind it (exact permutation;
    Welch for claim 8), then the secondary check: the value's 95 % bootstrap interval and
    the bootstrap shares in %, what the verdict rests on when that is one model or depth,
    and a dash where a claim is not tested (no value). An interval that every resample
    puts at one value on a verdict that is indicative only (it rests on one-seed cells,
    which a resample cannot vary) is no interval, and says so. The statements and
    statistics are given below it."""
    def num(x, fmt):
        return "–" if pd.isna(x) else fmt.format(x)

    def interval(v, lo, hi, weak):
        if pd.isna(v):
            return "–"
        if weak not in ("no", "", None) and pd.notna(lo) and pd.notna(hi) and \
                f"{lo:.3g}" == f"{hi:.3g}":
            return "none: too few seeds"
        return f"[{num(lo, '{:.3g}')}, {num(hi, '{:.3g}')}]"
    return pd.DataFrame({
        "claim": [f"{c}. {NAMES[c]}" for c in table["claim"]],
        "verdict": table["verdict"],
        "measure": [VALUES[c] for c in table["claim"]],
        "value": [num(v, "{:.3g}") for v in table["value"]],
        "p": [num(p, "{:.3g}") for p in table["p_value"]],
        "bootstrap 95 %": [
            interval(*x) for x in zip(table["value"], table["ci_low"], table["ci_high"],
                                      table["indicative only"])],
        # "100 %", as the book writes percentages (a no-break space: it never wraps)
        "same verdict": [num(100 * x, "{:.0f}\u00a0%") for x in table["same_verdict"]],
        "defined": [num(100 * x, "{:.0f}\u00a0%") for x in table["defined"]],
        "rests on": table["rests on"],
        "indicative only": table["indicative only"]})
