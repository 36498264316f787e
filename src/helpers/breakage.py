"""Breakage apart from degradation: how often a noise draw breaks a model outright, and
what A^x is over the draws that did not break it.

Under the paper's reading one noisy BN moving variance below -epsilon makes every
output NaN: that draw scores chance whatever the rest of the weights do. A draw is
*broken* when any of its outputs is non-finite (``nonfinite > 0``). For every reading
and run this module gives the share of broken draws and A^x over the unbroken draws
beside the usual A^x (eq. 8 over all draws), from the per-draw data that training
records and re-sweep files (``helpers.resweep``: ``<key>.sweep-<reading>.json`` beside
the record) both keep. It needs numpy and pandas only.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import claims, results
from .noise_model import PAPER, NoiseModel, label

SWEEP_VERSION = 1
CELL = ["dataset", "depth", "optimizer", "batch_norm", "lr"]


def sweep_path(record_path: str | Path, reading: NoiseModel) -> Path:
    """Where the re-sweep of ``reading`` over a record's weights lives: beside the record,
    ``<key>.sweep-<slug>.json`` (a training record is never rewritten)."""
    record_path = Path(record_path)
    return record_path.with_name(f"{record_path.name[:-len('.json')]}.sweep-{reading.slug}.json")


def is_sweep_file(path: str | Path) -> bool:
    return ".sweep-" in Path(path).name


def split(draws: pd.DataFrame) -> pd.DataFrame:
    """Per noise level of a sweep's long table (eta, repeat, accuracy, nonfinite; the
    eta = 0 row is a0): draws ``n``, ``broken`` (share with any non-finite output),
    ``A_x`` over all draws and ``A_x_unbroken`` over the unbroken ones (NaN if none)."""
    draws = pd.DataFrame(draws)
    base = draws.loc[draws["eta"] == 0, "accuracy"]
    if len(base) != 1:
        raise ValueError(f"draws: a sweep needs exactly one eta = 0 row, found {len(base)}")
    a0 = float(base.iloc[0])
    noisy = draws[draws["eta"] > 0].assign(is_broken=lambda d: d["nonfinite"].fillna(1) > 0)
    rows = []
    for eta, d in noisy.groupby("eta"):
        ok = d.loc[~d["is_broken"], "accuracy"]
        rows.append({"eta": float(eta), "n": len(d), "broken": float(d["is_broken"].mean()),
                     "A_x": float(d["accuracy"].mean() / a0) if a0 > 0 else np.nan,
                     "A_x_unbroken": float(ok.mean() / a0) if len(ok) and a0 > 0 else np.nan})
    return pd.DataFrame(rows, columns=["eta", "n", "broken", "A_x", "A_x_unbroken"])


def summary(per_eta: pd.DataFrame) -> dict:
    """A run's numbers over the noise levels of ``split``: the share of broken draws,
    A_avr (eq. 9) and A_avr over the unbroken draws (the mean of ``A_x_unbroken`` over
    the levels that have any, ``etas_unbroken`` of them)."""
    have = per_eta["A_x_unbroken"].notna()
    return {"broken": float((per_eta["broken"] * per_eta["n"]).sum() / per_eta["n"].sum()),
            "A_avr": float(per_eta["A_x"].mean()),
            "A_avr_unbroken": float(per_eta.loc[have, "A_x_unbroken"].mean()) if have.any()
            else None,
            "etas_unbroken": int(have.sum()), "etas": len(per_eta)}


def block(draws: pd.DataFrame) -> dict:
    """What a sweep file keeps of the split: per level and in all (JSON-ready)."""
    per_eta = split(draws)
    return {**summary(per_eta), "per_eta": per_eta.to_dict(orient="records")}


def record_blocks(record: dict) -> dict:
    """reading name -> noise block (with its draws) of a training record: its own
    reading and every ablation reading it swept."""
    cfg = record.get("config") or {}
    own = NoiseModel(cfg.get("noise_scope", "all"), cfg.get("noise_granularity", "array"))
    blocks = {own.name: record["noise"]} if (record.get("noise") or {}).get("draws") else {}
    for name, b in (record.get("noise_ablation") or {}).items():
        if b.get("draws"):
            blocks.setdefault(name, b)
    return blocks


def sweep_blocks(record_path: str | Path) -> dict:
    """reading name -> noise block of every re-sweep file beside a record."""
    record_path = Path(record_path)
    stem = record_path.name[:-len(".json")]
    out = {}
    for path in sorted(record_path.parent.glob(f"{stem}.sweep-*.json")):
        s = json.loads(path.read_text())
        out[s["reading"]["name"]] = s["noise"]
    return out


def _blocks(records: pd.DataFrame):
    """(run row, reading name, noise block) of every completed run of ``records`` that is
    not near chance (its A^x means nothing, ``results.near_chance``): the record's own
    blocks, and the re-sweep files beside it for the readings the record lacks."""
    done = records[(records["status"] == "completed") & ~records["near_chance"].astype(bool)]
    for _, run in done.iterrows():
        blocks = {**sweep_blocks(run["path"]), **record_blocks(results.read_record(run["path"]))}
        for name, b in blocks.items():
            yield run, name, b


def runs(records: pd.DataFrame) -> pd.DataFrame:
    """One row per (reading, run) of ``_blocks``: the run's cell, seed and key, the
    reading, and ``summary``'s numbers."""
    rows = [{**{c: run[c] for c in [*CELL, "seed"]}, "key": run["key"], "reading": name,
             **summary(split(b["draws"]))} for run, name, b in _blocks(records)]
    return pd.DataFrame(rows, columns=[*CELL, "seed", "key", "reading", "broken", "A_avr",
                                       "A_avr_unbroken", "etas_unbroken", "etas"])


def per_eta(records: pd.DataFrame) -> pd.DataFrame:
    """``split`` of every (reading, run) of ``_blocks``, one row per noise level (a CSV)."""
    return pd.DataFrame([{**{c: run[c] for c in [*CELL, "seed"]}, "reading": name, **r}
                         for run, name, b in _blocks(records)
                         for r in split(b["draws"]).to_dict(orient="records")])


def cells(by_run: pd.DataFrame) -> pd.DataFrame:
    """Seed means of ``runs`` per reading and cell: seeds, the share of broken draws,
    A_avr and A_avr over the unbroken draws (with their spread over seeds, ddof = 1), and
    the fewest noise levels with an unbroken draw in any seed."""
    g = by_run.groupby(["reading", *CELL], sort=False)
    out = g.agg(seeds=("seed", "nunique"), broken=("broken", "mean"),
                A_avr=("A_avr", "mean"), A_avr_std=("A_avr", "std"),
                A_avr_unbroken=("A_avr_unbroken", "mean"),
                A_avr_unbroken_std=("A_avr_unbroken", "std"),
                etas_unbroken=("etas_unbroken", "min"), etas=("etas", "max"))
    return out.reset_index()


def table(cell_table: pd.DataFrame) -> pd.DataFrame:
    """``cells`` for a page: one row per reading (by its label) and cell, percentages,
    seed mean ± std (``tables.pm``' format: a dash for one seed)."""
    from .tables import pm

    t = cell_table
    return pd.DataFrame({
        "reading": [label(r) for r in t["reading"]], "depth": t["depth"],
        "BN": t["batch_norm"].map({True: "yes", False: "no"}), "lr": [f"{v:g}" for v in t["lr"]],
        "seeds": t["seeds"], "broken (%)": (100 * t["broken"]).round(1),
        "A_avr": [pm(m, s) for m, s in zip(t["A_avr"], t["A_avr_std"])],
        "A_avr unbroken": [pm(m, s) if pd.notna(m) else "none unbroken"
                           for m, s in zip(t["A_avr_unbroken"], t["A_avr_unbroken_std"])],
        "levels unbroken": [f"{int(a)} of {int(b)}" for a, b in
                            zip(t["etas_unbroken"], t["etas"])]})


def spearman_exact(x, y) -> tuple[float, float]:
    """Spearman's rho of (x, y) and its exact two-sided permutation p-value (every
    ordering of y; for the handful of LRs of a grid, at most 8! orderings)."""
    rx, ry = pd.Series(x).rank().to_numpy(), pd.Series(y).rank().to_numpy()
    if len(rx) < 3 or len(rx) > 8 or np.std(ry) == 0 or np.std(rx) == 0:
        return float("nan"), float("nan")

    def rho(a, b):
        return float(np.corrcoef(a, b)[0, 1])

    r = rho(rx, ry)
    perms = [rho(rx, np.array(p)) for p in itertools.permutations(ry)]
    return r, float(np.mean(np.abs(perms) >= abs(r) - 1e-12))


def sentence(cell_table: pd.DataFrame, reading: str = PAPER.name) -> str:
    """What the split says under ``reading``, per model (dataset, depth, BN): how the
    share of broken draws and A_avr over the unbroken draws change with the LR (seed
    means; Spearman rho over the LRs with its exact permutation p), and so what A_avr
    measures there."""
    t = cell_table[(cell_table["reading"] == reading) & cell_table["batch_norm"]]
    if t.empty:
        return (f"No record or re-sweep holds draws {NoiseModel.from_name(reading).phrase} "
                "for a model with BN.")
    parts = []
    for (ds, depth), m in t.sort_values("lr").groupby(["dataset", "depth"]):
        if m["lr"].nunique() < 3:
            continue
        rb, pb = spearman_exact(m["lr"], m["broken"])
        ok = m.dropna(subset=["A_avr_unbroken"])
        ru, pu = spearman_exact(ok["lr"], ok["A_avr_unbroken"])
        lo, hi = m.iloc[0], m.iloc[-1]
        text = (f"for ResNet{depth} on {ds}, the share of broken draws goes from "
                f"{100 * lo['broken']:.0f} % at lr = {lo['lr']:g} to {100 * hi['broken']:.0f} % "
                f"at lr = {hi['lr']:g} (rho(LR, broken) = {rb:+.2f}, exact p = {pb:.3f}, "
                f"{claims.plural(m['lr'].nunique(), 'LR')}, seed means of "
                f"{claims.plural_range(m['seeds'], 'seed')})")
        if len(ok) >= 3:
            text += (f", while A_avr over the unbroken draws {'rises' if ru > 0 else 'falls'} "
                     f"(rho = {ru:+.2f}, exact p = {pu:.3f}, over the "
                     f"{claims.plural(len(ok), 'LR')} with an unbroken draw)")
        if rb > 0 and pb < 0.05:
            text += ": there, the LR sets how often the model breaks, and A_avr mostly " \
                    "measures that"
        parts.append(text)
    if not parts:
        return "Fewer than three LRs per model: no trend to state."
    phrase = NoiseModel.from_name(reading).phrase
    return f"{phrase[0].upper()}{phrase[1:]}, " + "; ".join(parts) + "."
