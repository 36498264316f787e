"""The paper's eight claims (PROTOCOL.md), each turned into a statistic and a verdict.

Every verdict is computed from run records (``results.load_records``): the
seed mean of each grid cell, with the number of seeds beside it. A verdict is
one of ``held``, ``partly``, ``did not hold`` or ``no data``; it is marked
*indicative only* when the records are smoke results on synthetic data or
when a cell has fewer than ``MIN_SEEDS`` training seeds. The thresholds are
constants here, stated in each verdict's text, and never tuned to a result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .paper import table

MIN_SEEDS = 3
CELL = ["dataset", "depth", "lr", "optimizer", "batch_norm"]
# claim 1: "barely depends" = the LR range of a0 stays within 3.5 points; the paper's
# own Table II spans up to 3.15 points and it calls that "barely" (fixed before any run)
BASELINE_RANGE_PP = 3.5
MONOTONE_TOL = 0.01          # claim 2: A^x may rise by at most 0.01 between noise levels
SWEET_SPOT = (0.0005, 0.001)  # claim 4, ResNet20 on CIFAR-10
ADAPTIVE = ("adam", "nadam", "adamax")
SGD_FAMILY = ("sgd", "sgd_momentum", "sgd_nesterov")


@dataclass
class Verdict:
    claim: int
    statement: str
    paper: str            # the paper's evidence, from its numbers
    ours: str             # our evidence, from the records
    statistic: str        # the number(s) the verdict rests on
    outcome: str          # held | partly | did not hold | no data
    indicative: str = ""  # why it is not a verdict yet ("" when it is one)


def completed(df: pd.DataFrame, profile: str | None = None) -> pd.DataFrame:
    """Completed runs (of one profile if given)."""
    if df.empty:
        return df
    out = df[df["status"] == "completed"]
    return out[out["profile"] == profile] if profile else out


def cell_means(df: pd.DataFrame, columns=("baseline_accuracy", "A_avr", "A_0.1", "C")) -> pd.DataFrame:
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


def _nanmean(values) -> float:
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else float("nan")


def _fraction_outcome(frac: float, n: int) -> str:
    if n == 0 or not np.isfinite(frac):
        return "no data"
    return "held" if frac >= 0.9 else ("did not hold" if frac <= 0.5 else "partly")


def _pct(v) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{100 * v:.2f} %"


def _lr_cells(m: pd.DataFrame) -> pd.DataFrame:
    return m[(m["optimizer"] == "adam") & m["batch_norm"]]


def claim1(m):
    cells = _lr_cells(m)
    ranges = cells.groupby(["dataset", "depth"])["baseline_accuracy"].agg(lambda s: s.max() - s.min())
    ranges = ranges[cells.groupby(["dataset", "depth"])["lr"].nunique() >= 2]
    p = table("table2").groupby(["dataset", "depth"])["baseline_accuracy_pct"].agg(lambda s: s.max() - s.min())
    worst = 100 * ranges.max() if len(ranges) else float("nan")
    return Verdict(1, "Baseline accuracy barely depends on the LR (Table II).",
                   f"largest LR range of a0 over the 8 models: {p.max():.2f} points",
                   f"largest LR range of the seed-mean a0 over {len(ranges)} models: {worst:.2f} points",
                   f"max range = {worst:.2f} pp (threshold {BASELINE_RANGE_PP} pp)",
                   "no data" if not len(ranges) else
                   ("held" if worst <= BASELINE_RANGE_PP else "did not hold"))


def claim2(df):
    cols = sorted((c for c in df if c.startswith("A_") and c[2:].replace(".", "").isdigit()),
                  key=lambda c: float(c[2:]))
    rows = _lr_cells(df).dropna(subset=cols) if cols else df.iloc[:0]
    ok = [bool(np.all(np.diff(r[cols].to_numpy(float)) <= MONOTONE_TOL)) for _, r in rows.iterrows()]
    frac = float(np.mean(ok)) if ok else float("nan")
    return Verdict(2, "Normalized accuracy falls gracefully as eta grows, for every model (Fig. 1, 2).",
                   "every curve of Fig. 1 and 2 decreases with eta",
                   f"{sum(ok)} of {len(ok)} runs have A^x non-increasing in eta (tolerance {MONOTONE_TOL})",
                   f"fraction monotone = {frac:.2f}", _fraction_outcome(frac, len(ok)))


def _slopes(cells):
    out = []
    for (ds, d), g in cells.groupby(["dataset", "depth"]):
        if g["lr"].nunique() >= 3 and g["A_avr"].notna().sum() >= 3:
            gg = g.dropna(subset=["A_avr"])
            slope = np.polyfit(gg["lr"] * 1000, gg["A_avr"], 1)[0]
            out.append({"dataset": ds, "depth": d, "rho": _spearman(gg["lr"], gg["A_avr"]),
                        "slope": slope})
    return pd.DataFrame(out, columns=["dataset", "depth", "rho", "slope"])


def claim3(m):
    s = _slopes(_lr_cells(m))
    p = _slopes(table("table3").assign(A_avr=lambda t: t["avg_normalized_accuracy_pct"] / 100))
    if s.empty:
        return Verdict(3, "Lower LRs give the most noise-resistant models; resistance falls as the LR "
                       "grows, more steeply for deeper models (Table III).", "", "", "", "no data")
    neg = float((s["rho"] < 0).mean())
    depth_rho = [_spearman(g["depth"], g["slope"], 2) for _, g in s.groupby("dataset")]
    steeper = bool(_nanmean(depth_rho) < 0) if np.isfinite(_nanmean(depth_rho)) else False
    falls = neg >= 0.75
    outcome = "held" if falls and steeper else ("partly" if falls or steeper else "did not hold")
    return Verdict(3, "Lower LRs give the most noise-resistant models; resistance falls as the LR "
                   "grows, more steeply for deeper models (Table III).",
                   f"Spearman rho(LR, A_avr) < 0 for {int((p['rho'] < 0).sum())} of {len(p)} models; "
                   f"rho(depth, slope) per dataset: "
                   + ", ".join(f"{_spearman(g['depth'], g['slope'], 2):+.2f}" for _, g in p.groupby('dataset')),
                   f"rho(LR, A_avr) < 0 for {int((s['rho'] < 0).sum())} of {len(s)} models "
                   f"(median rho {s['rho'].median():+.2f}); rho(depth, slope) per dataset: "
                   + ", ".join(f"{r:+.2f}" for r in depth_rho),
                   f"fraction falling = {neg:.2f} (needs >= 0.75); mean rho(depth, slope) = "
                   f"{_nanmean(depth_rho):+.2f} (needs < 0)", outcome)


def sweet_spot(m, dataset="cifar10", depth=20):
    """Pareto front of (a0, A^0.1) over the LRs of one model: the LRs no other LR beats on both."""
    cells = _lr_cells(m)
    cells = cells[(cells["dataset"] == dataset) & (cells["depth"] == depth)].dropna(
        subset=["baseline_accuracy", "A_0.1"])
    return pareto_front(cells, "baseline_accuracy", "A_0.1")


def claim4(m):
    front = sweet_spot(m)
    lrs = sorted(front["lr"])
    inside = [SWEET_SPOT[0] - 1e-12 <= lr <= SWEET_SPOT[1] + 1e-12 for lr in lrs]
    outcome = ("no data" if not lrs else "held" if all(inside) else
               "partly" if any(inside) else "did not hold")
    return Verdict(4, "A sweet spot of the LR (about 0.0005-0.001 for ResNet20) balances baseline "
                   "accuracy and noise resistance (Fig. 4).",
                   f"sweet spot read off Fig. 4: {SWEET_SPOT[0]:g}-{SWEET_SPOT[1]:g}",
                   "Pareto-optimal LRs of (a0, A^0.1), ResNet20 on CIFAR-10: "
                   + (", ".join(f"{lr:g}" for lr in lrs) or "none"),
                   f"{sum(inside)} of {len(lrs)} Pareto-optimal LRs inside "
                   f"[{SWEET_SPOT[0]:g}, {SWEET_SPOT[1]:g}]", outcome)


def claim5(m):
    c = m[(m["dataset"] == "cifar10") & (m["depth"] == 20) & m["batch_norm"]
          & ((m["lr"] - 0.00075).abs() < 1e-12)].set_index("optimizer")
    p = table("figure3").set_index("optimizer")
    def margins(frame, a0, aavr):
        ad = frame.index.intersection(ADAPTIVE)
        sg = frame.index.intersection(SGD_FAMILY)
        if not len(ad) or not len(sg):
            return None
        return (frame.loc[ad, a0].min() - frame.loc[sg, a0].max(),
                frame.loc[ad, aavr].min() - frame.loc[sg, aavr].max())
    ours, theirs = margins(c, "baseline_accuracy", "A_avr"), margins(
        p, "baseline_accuracy_pct", "avg_normalized_accuracy_pct")
    if ours is None:
        return Verdict(5, "Adaptive optimizers beat the SGD variants on baseline accuracy and "
                       "noise resistance at lr 0.00075 (Fig. 3).", "", "", "", "no data")
    wins = (ours[0] > 0, ours[1] > 0)
    return Verdict(5, "Adaptive optimizers beat the SGD variants on baseline accuracy and noise "
                   "resistance at lr 0.00075 (Fig. 3).",
                   f"worst adaptive minus best SGD: a0 {theirs[0]:+.2f} points, A_avr {theirs[1]:+.2f} points",
                   f"worst adaptive minus best SGD: a0 {100 * ours[0]:+.2f} points, "
                   f"A_avr {100 * ours[1]:+.2f} points",
                   f"margins a0 {100 * ours[0]:+.2f} pp, A_avr {100 * ours[1]:+.2f} pp (both must be > 0)",
                   "held" if all(wins) else ("partly" if any(wins) else "did not hold"))


def claim6(m):
    c = _lr_cells(m).pivot_table(index=["depth", "lr"], columns="dataset", values="A_avr")
    if not {"cifar10", "cifar100"} <= set(c.columns):
        return Verdict(6, "CIFAR-100 models are less noise resistant than CIFAR-10 models (III-6).",
                       "", "", "", "no data")
    c = c.dropna()
    lower = c["cifar100"] < c["cifar10"]
    p = table("table3").pivot_table(index=["depth", "lr"], columns="dataset",
                                    values="avg_normalized_accuracy_pct")
    frac = float(lower.mean()) if len(c) else float("nan")
    return Verdict(6, "CIFAR-100 models are less noise resistant than CIFAR-10 models (III-6).",
                   f"A_avr lower on CIFAR-100 in {int((p['cifar100'] < p['cifar10']).sum())} of {len(p)} "
                   "(depth, LR) pairs of Table III",
                   f"A_avr lower on CIFAR-100 in {int(lower.sum())} of {len(c)} (depth, LR) pairs",
                   f"fraction = {frac:.2f} (held >= 0.9, did not hold <= 0.5)",
                   _fraction_outcome(frac, len(c)))


def claim7(m, batch_size: int = 32):
    cells = _lr_cells(m).dropna(subset=["C", "A_avr"]) if "C" in m else m.iloc[:0]
    rhos = []
    for _, g in cells.groupby(["dataset", "depth"]):
        bound = g["lr"] ** 2 * g["C"] / batch_size
        rhos.append(_spearman(bound, g["A_avr"]))
    rhos = [r for r in rhos if np.isfinite(r)]
    if not rhos:
        return Verdict(7, "The mechanism: the LR sets the power of SGD's gradient noise, bounded by "
                       "alpha^2 C/|B| (eq. 1-3); above the sweet spot, more gradient noise gives less noise resistance.",
                       "argued from eq. 1-3, not measured", "no record holds a measured C", "",
                       "no data")
    neg = float(np.mean(np.array(rhos) < 0))
    return Verdict(7, "The mechanism: the LR sets the power of SGD's gradient noise, bounded by "
                   "alpha^2 C/|B| (eq. 1-3); above the sweet spot, more gradient noise gives less noise resistance.",
                   "argued from eq. 1-3, not measured",
                   f"rank correlation between alpha^2 C/|B| and A_avr across LRs: negative for "
                   f"{sum(r < 0 for r in rhos)} of {len(rhos)} models (median {np.median(rhos):+.2f})",
                   f"fraction negative = {neg:.2f} (held >= 0.9, did not hold <= 0.5)",
                   _fraction_outcome(neg, len(rhos)))


def bn_layers(depth: int) -> int:
    """BN layers of ResNet v1 of this depth: one after the stem, two per residual block."""
    return depth - 1


def claim8(m):
    c = m[(m["optimizer"] == "adam") & ((m["lr"] - 0.001).abs() < 1e-12)]
    c = c.pivot_table(index=["dataset", "depth"], columns="batch_norm", values="A_avr").dropna()
    if not {True, False} <= set(c.columns) or c.empty:
        return Verdict(8, "Batch normalization lowers noise resistance, the more BN layers the worse "
                       "(second paper).", "abstract only: no numbers", "", "", "no data")
    diff = (c[False] - c[True]).rename("gap").reset_index()
    frac = float((diff["gap"] > 0).mean())
    grows = [_spearman(g["depth"].map(bn_layers), g["gap"], 2) for _, g in diff.groupby("dataset")]
    grows_ok = bool(_nanmean(grows) > 0) if np.isfinite(_nanmean(grows)) else False
    lower = frac >= 0.9
    return Verdict(8, "Batch normalization lowers noise resistance, the more BN layers the worse "
                   "(second paper).", "abstract only: no numbers",
                   f"A_avr higher without BN in {int((diff['gap'] > 0).sum())} of {len(diff)} models "
                   f"(mean gap {100 * diff['gap'].mean():+.2f} points); rho(BN layers, gap) per dataset: "
                   + ", ".join(f"{r:+.2f}" for r in grows),
                   f"fraction = {frac:.2f} (needs >= 0.9); mean rho = {_nanmean(grows):+.2f} (needs > 0)",
                   "held" if lower and grows_ok else ("partly" if lower or grows_ok else "did not hold"))


def caveat(df: pd.DataFrame) -> str:
    """Why verdicts from these records are indicative only ("" when they are verdicts)."""
    df = completed(df)
    if df.empty:
        return ""
    reasons = []
    if df["synthetic_data"].any():
        reasons.append("smoke results on synthetic data, not a reproduction")
    n = int(cell_means(df)["n_seeds"].min())
    if n < MIN_SEEDS:
        reasons.append(f"{n} training seed(s) per cell; a verdict needs >= {MIN_SEEDS}")
    return "; ".join(reasons)


def verdicts(df: pd.DataFrame) -> list[Verdict]:
    """The eight verdicts from a table of run records (``results.load_records``)."""
    done = completed(df)
    if done.empty:
        return [Verdict(i, "", "", "no completed run", "", "no data") for i in range(1, 9)]
    m = cell_means(done)
    out = [claim1(m), claim2(done), claim3(m), claim4(m), claim5(m), claim6(m), claim7(m),
           claim8(m)]
    why = caveat(done)
    for v in out:
        v.indicative = why
    return out


def sentence(v: Verdict, caveat: str | None = None) -> str:
    """One claim's verdict as a markdown sentence built from its numbers."""
    why = v.indicative if caveat is None else caveat
    return (f"**Claim {v.claim} ({v.statement})** Paper: {v.paper or 'n/a'}. "
            f"Ours: {v.ours or 'n/a'}. Verdict: **{v.outcome}** ({v.statistic or 'no statistic'})."
            + (f" *Indicative only: {why}.*" if why else ""))


def verdict_table(vs: list[Verdict]) -> pd.DataFrame:
    return pd.DataFrame([{"claim": v.claim, "statement": v.statement, "paper": v.paper,
                          "ours": v.ours, "statistic": v.statistic, "verdict": v.outcome,
                          "indicative only": v.indicative or "no"} for v in vs])
