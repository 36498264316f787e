"""The study's result in one table: A_avr against the LR under the three main noise
readings (the paper's, trainable arrays only, BN folded), each cell's mean with its
Student-t interval over the training seeds, the share of draws that broke the model,
and per reading the exact permutation test of the trend (``claims.lr_trends``).

The front page's figure and sentence (``helpers.book.findings.headline``) are drawn
from these numbers only."""

from __future__ import annotations

import pandas as pd

from ..experiment.recipe import REFERENCE_DATASET, REFERENCE_DEPTH
from . import claims, stats
from .studies import model_rows, select

COLUMNS = ["reading", "lr", "n", "A_avr", "low", "high", "broken", "broken_low",
           "broken_high"]


def reference_runs(records: pd.DataFrame, dataset: str = REFERENCE_DATASET,
                   depth: int = REFERENCE_DEPTH) -> pd.DataFrame:
    """The records of one model (by default the reference model, ResNet20 on the first
    dataset): what the front page's figure and sentence are about, whatever other
    datasets or depths the folder holds (``claims.scale`` of these says their scale)."""
    return model_rows(records, dataset, depth)


def headline_runs(records: pd.DataFrame, dataset: str = REFERENCE_DATASET,
                  depth: int = REFERENCE_DEPTH) -> pd.DataFrame:
    """The completed runs the front page's figure and sentence, and the training-length
    comparison, read: one model's BN models trained with Adam (not its no-BN or
    other-optimizer cells, whose seeds would otherwise enter a sentence's scale)."""
    runs = claims.completed(records)
    return runs if runs.empty else headline_rows(runs, dataset, depth)


def headline_rows(records: pd.DataFrame, dataset: str = REFERENCE_DATASET,
                  depth: int = REFERENCE_DEPTH) -> pd.DataFrame:
    """``headline_runs`` whatever their status (a diverged run included), for a page's
    provenance."""
    rows = reference_runs(records, dataset, depth)
    return rows[rows["batch_norm"].astype(bool) & (rows["optimizer"] == "adam")]


def headline_cells(records: pd.DataFrame, dataset: str = REFERENCE_DATASET,
                   depth: int = REFERENCE_DEPTH,
                   level: float = stats.LEVEL) -> pd.DataFrame:
    """Per reading (``claims.READINGS``' labels) and LR of the BN models of one
    (dataset, depth), Adam: A_avr and the share of broken draws, seed mean and t-interval
    (``stats.t_interval``; no interval with one seed; the share's interval clipped to
    [0, 1]), n the number of seeds."""
    runs = headline_runs(records, dataset, depth)
    rows = []
    for label, reading in claims.READINGS.items():
        r = claims.under_reading(runs, reading)
        for lr, g in r.groupby("lr"):
            mean, lo, hi, n = stats.t_interval(g["A_avr"], level)
            b = g["broken"] if "broken" in g else pd.Series(dtype=float)
            bmean, blo, bhi, _ = stats.t_interval(b, level)
            blo, bhi = max(blo, 0.0), min(bhi, 1.0)   # a share: its interval clipped to [0, 1]
            rows.append({"reading": label, "lr": float(lr), "n": n, "A_avr": mean,
                         "low": lo, "high": hi, "broken": bmean, "broken_low": blo,
                         "broken_high": bhi})
    return pd.DataFrame(rows, columns=COLUMNS)


def headline_trends(records: pd.DataFrame, dataset: str = REFERENCE_DATASET,
                    depth: int = REFERENCE_DEPTH,
                    pooled: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per reading: Spearman rho(LR, A_avr) within seeds, its exact two-sided permutation
    p-value, the number of seeds and LRs, and the same test of the share of broken draws
    (``claims.lr_trends`` under that reading), for one model. ``pooled``, the
    ``across_models`` table of the same records, is reused rather than recomputed."""
    pooled = across_models(records) if pooled is None else pooled
    rows = []
    for label, per_model in zip(pooled["reading"], pooled["models"]):
        t = model_rows(per_model, dataset, depth)
        if len(t):
            r = t.iloc[0]
            rows.append({"reading": label, "rho": r["rho"], "p": r["p"],
                         "n_seeds": int(r["n_seeds"]), "n_lrs": int(r["n_lrs"]),
                         "rho_broken": r["rho_broken"], "p_broken": r["p_broken"]})
    return pd.DataFrame(rows, columns=["reading", "rho", "p", "n_seeds", "n_lrs",
                                       "rho_broken", "p_broken"])


def across_models(records: pd.DataFrame) -> pd.DataFrame:
    """Per reading: the trend of A_avr with the LR in every model of the LR grid (Adam,
    BN; ``claims.lr_trends``), and one exact permutation test pooled over all of them:
    Spearman rho within each (model, seed), averaged, with the LR labels permuted within
    each (model, seed) only (``stats.trend_test``). Pooling lets models trained with too
    few seeds for a test of their own (1 seed and 3 LRs: p >= 0.33) add to a joint one.
    Columns: reading, models (``lr_trends``' rows), rho, p, n_models, n_strata."""
    rows = []
    for label, reading in claims.READINGS.items():
        runs = claims.completed(claims.under_reading(records, reading))
        per_model = claims.lr_trends(runs)
        grid = select(runs, "lr").dropna(subset=["A_avr"])
        grid = grid[grid.groupby(["dataset", "depth"])["lr"].transform("nunique")
                    >= claims.MIN_TREND_LRS]
        strata = (grid["dataset"] + "|" + grid["depth"].astype(str) + "|"
                  + grid["seed"].astype(str)) if "seed" in grid else None
        t = stats.trend_test(grid["lr"], grid["A_avr"], strata) if len(grid) else {
            "rho": float("nan"), "p": float("nan"), "k": 0}
        rows.append({"reading": label, "models": per_model, "rho": t["rho"], "p": t["p"],
                     "n_models": len(per_model), "n_strata": t["k"]})
    return pd.DataFrame(rows, columns=["reading", "models", "rho", "p", "n_models", "n_strata"])
