"""The committed PCM sweeps (``<key>.pcm.json``, written by ``helpers.experiment.pcm``)
read back, joined to their records, summarised per cell with t-intervals over seeds, and
judged by the claims. pandas only: the book builds from them without aihwkit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from ..experiment.pcm import SUFFIX, TIME_LABELS
from . import claims, stats
from .studies import ROW_ORDER

def load_sweeps(folder) -> pd.DataFrame:
    """One row per run and time of every ``*.pcm.json`` under ``folder`` (or under each
    of a list of folders): key, t_s,
    A_t (mean over draws), A_t_chip_std (the standard deviation of a^t / a0 over the draws,
    each a programmed chip: the device's chip-to-chip spread, not a training one), a0,
    n_draws, n_test, alpha (mean) and the settings' g_max, compensation and aihwkit
    version. Empty (with those columns) when there is none."""
    folders = [folder] if isinstance(folder, (str, Path)) else list(folder)
    rows = []
    for path in sorted(p for f in folders for p in Path(f).rglob(f"*{SUFFIX}")):
        s = json.loads(path.read_text())
        for i, t in enumerate(s["times_s"]):
            chips = np.asarray(s["accuracy"][i], float) / s["a0"]
            rows.append({"key": s["key"], "t_s": float(t), "A_t": s["A_t"][i],
                         "A_t_chip_std": float(chips.std(ddof=1)) if len(chips) > 1 else np.nan,
                         "a0": s["a0"],
                         "a_t": float(np.mean(s["accuracy"][i])), "n_draws": s["n_draws"],
                         "n_test": s["n_test"], "alpha": float(np.mean(s["alpha"][i])),
                         "g_max_uS": s["settings"]["g_max_uS"],
                         "drift_compensation": s["settings"]["drift_compensation"],
                         "bias": s["settings"]["bias"], "aihwkit": s["settings"]["aihwkit"]})
    return pd.DataFrame(rows, columns=["key", "t_s", "A_t", "A_t_chip_std", "a0", "a_t", "n_draws", "n_test",
                                       "alpha", "g_max_uS", "drift_compensation", "bias",
                                       "aihwkit"])


def with_records(sweeps: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """The sweeps joined to their runs' records (``results.load_records``) by key; a run
    whose a0 is near chance (``near_chance``) gets no A^t, as in the records. Models
    trained in bfloat16 (``mixed_precision``) are left out: the study's cells are float32."""
    cols = ["key", "dataset", "depth", "lr", "optimizer", "batch_norm", "seed", "study",
            "status", "near_chance"]
    if "mixed_precision" in records:   # one precision per cell: float32, the study's
        records = records[~records["mixed_precision"].fillna(False).astype(bool)]
    out = sweeps.merge(records[[c for c in cols if c in records]], on="key", how="inner")
    out.loc[out["near_chance"].astype(bool), ["A_t", "A_t_chip_std"]] = np.nan
    return out




def cell_table(runs: pd.DataFrame, level: float = stats.LEVEL) -> pd.DataFrame:
    """Per cell and time: the seed mean of A^t (%), its t-interval over the seeds
    (``stats.t_interval``; none with one seed), the number of seeds n and the mean over
    its models of the chip-to-chip standard deviation (``chip_std_pct``: what one seed
    can say of the device's spread). Two models of one seed (a retrain) are averaged into
    one value: they are not two seeds."""
    cols = [*ROW_ORDER, "t_s", "A_t_pct", "low_pct", "high_pct", "n_seeds", "chip_std_pct"]
    if runs.empty:
        return pd.DataFrame(columns=cols)
    if "A_t_chip_std" not in runs:
        runs = runs.assign(A_t_chip_std=np.nan)
    per_seed = runs.groupby([*ROW_ORDER, "t_s", "seed"])[["A_t", "A_t_chip_std"]].mean().reset_index()
    rows = []
    for cell, g in per_seed.groupby([*ROW_ORDER, "t_s"]):
        mean, lo, hi, n = stats.t_interval(100 * g["A_t"].to_numpy(float), level)
        rows.append({**dict(zip([*ROW_ORDER, "t_s"], cell)), "A_t_pct": mean, "low_pct": lo,
                     "high_pct": hi, "n_seeds": n,
                     "chip_std_pct": 100 * g["A_t_chip_std"].mean()})
    return pd.DataFrame(rows, columns=cols)


def as_records(runs: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """The records with ``A_avr`` replaced by the PCM reading's (the mean of A^t over the
    times, the analogue of eq. 9 with time in place of eta), so that ``claims`` can judge
    the claims under this reading; runs without a PCM sweep are left out."""
    a = runs.groupby("key")["A_t"].mean(numeric_only=True)
    out = records[records["key"].isin(a.index)].copy()
    out["A_avr"] = out["key"].map(a)
    return out


def verdicts(runs: pd.DataFrame, records: pd.DataFrame) -> list:
    """Claims 3 and 8 under the PCM reading (``claims.claim3``/``claim8`` on the runs of
    ``as_records``, one per model and seed), with the same statistics as the other
    readings: trend tests within seeds, Welch intervals over seeds."""
    done = one_per_seed(claims.completed(as_records(runs, records)))
    return [claims.claim3(done), claims.claim8(done)]


def one_per_seed(done: pd.DataFrame) -> pd.DataFrame:
    """One row per cell and seed: a seed trained twice (the study's model and its
    retrain, read from two folders) counts once, with the mean of its models' A_avr, as
    in ``cell_table``; otherwise a test over seeds would count it twice."""
    if done.empty or "seed" not in done:
        return done
    by = claims.CELL + ["seed"]
    key = done[by].astype(str).agg("|".join, axis=1)
    out = done.loc[~key.duplicated()].copy()
    out["A_avr"] = key[~key.duplicated()].map(done.groupby(key)["A_avr"].mean()).to_numpy()
    return out


def per_time_claim3(runs: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """Claim 3's verdict on A^t at each time alone (does the LR effect depend on t?)."""
    rows = []
    for t, g in runs.groupby("t_s"):
        v = claims.claim3(one_per_seed(claims.completed(as_records(g, records))))
        rows.append({"t": TIME_LABELS.get(t, f"{t:g} s"), "verdict": v.outcome,
                     "statistic": v.statistic})
    return pd.DataFrame(rows, columns=["t", "verdict", "statistic"])
