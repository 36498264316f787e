"""Breakage apart from degradation: how often a noise draw breaks a model outright, and
what A^x is over the draws that did not break it.

Under the paper's reading one noisy BN moving variance below -epsilon makes every
output NaN: that draw scores chance whatever the rest of the weights do. A draw is
*broken* when any of its outputs is non-finite (``nonfinite > 0``). For every reading
and run this module gives the share of broken draws and A^x over the unbroken draws
beside the usual A^x (eq. 8 over all draws), from the per-draw data that training
records and re-sweep files (``helpers.ops.resweep``: ``<key>.sweep-<reading>.json`` beside
the record) both keep. It needs numpy and pandas only.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import claims, results
from .studies import ROW_ORDER
from ..experiment import recipe
from ..experiment.noise_model import PAPER, READINGS, NoiseModel

SWEEP_VERSION = 1


def split(draws: pd.DataFrame) -> pd.DataFrame:
    """Per noise level of a sweep's long table (eta, repeat, accuracy, nonfinite; the
    eta = 0 row is a0): draws ``n`` and ``n_unbroken``, ``broken`` (share with any
    non-finite output),
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
        rows.append({"eta": float(eta), "n": len(d), "n_unbroken": len(ok),
                     "broken": float(d["is_broken"].mean()),
                     "A_x": float(d["accuracy"].mean() / a0) if a0 > 0 else np.nan,
                     "A_x_unbroken": float(ok.mean() / a0) if len(ok) and a0 > 0 else np.nan})
    return pd.DataFrame(rows, columns=["eta", "n", "n_unbroken", "broken", "A_x", "A_x_unbroken"])


def summary(per_eta: pd.DataFrame) -> dict:
    """A run's numbers over the noise levels of ``split``: the share of broken draws,
    A_avr (eq. 9) and A_avr over the unbroken draws (the mean of ``A_x_unbroken``; None
    unless every level has an unbroken draw: a mean over fewer levels is not comparable),
    and how many of the ``etas`` levels have one (``etas_unbroken``)."""
    have = per_eta["A_x_unbroken"].notna()
    return {"broken": float((per_eta["broken"] * per_eta["n"]).sum() / per_eta["n"].sum()),
            "A_avr": float(per_eta["A_x"].mean()),
            "A_avr_unbroken": float(per_eta["A_x_unbroken"].mean()) if have.all() else None,
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


def _blocks(records: pd.DataFrame):
    """(run row, reading name, noise block) of every completed run of ``records`` that is
    not near chance (its A^x means nothing, ``results.near_chance``): the record's own
    blocks, and the re-sweep files beside it for the readings the record lacks."""
    done = records[(records["status"] == "completed") & ~records["near_chance"].astype(bool)]
    for _, run in done.iterrows():
        blocks = {**results.sweep_blocks(run["path"]), **record_blocks(results.read_record(run["path"]))}
        for name, b in blocks.items():
            yield run, name, b


def runs(records: pd.DataFrame) -> pd.DataFrame:
    """One row per (reading, run) of ``_blocks``: the run's cell, seed and key, the
    reading, and ``summary``'s numbers."""
    rows = [{**{c: run[c] for c in [*ROW_ORDER, "seed"]}, "key": run["key"], "reading": name,
             **summary(split(b["draws"]))} for run, name, b in _blocks(records)]
    return pd.DataFrame(rows, columns=[*ROW_ORDER, "seed", "key", "reading", "broken", "A_avr",
                                       "A_avr_unbroken", "etas_unbroken", "etas"])


def per_eta(records: pd.DataFrame) -> pd.DataFrame:
    """``split`` of every (reading, run) of ``_blocks``, one row per noise level (a CSV)."""
    return pd.DataFrame([{**{c: run[c] for c in [*ROW_ORDER, "seed"]}, "reading": name, **r}
                         for run, name, b in _blocks(records)
                         for r in split(b["draws"]).to_dict(orient="records")])


def cells(records: pd.DataFrame) -> pd.DataFrame:
    """Per reading and cell of ``records`` (``results.load_records`` rows): seeds; the
    share of broken draws (seed mean and spread, ddof = 1); A_avr (seed mean and spread);
    and A_avr over the unbroken draws of all seeds pooled (per level, the mean of a^x / a0
    over every unbroken draw, each normalized by its own run's a0; then the mean over the
    levels, NaN unless every level has an unbroken draw), with the number of levels that
    have one and the unbroken draws in all."""
    pe = per_eta(records)
    cols = ["reading", *ROW_ORDER, "seeds", "broken", "broken_std", "A_avr", "A_avr_std",
            "A_avr_unbroken", "levels_unbroken", "levels", "n", "n_unbroken"]
    if pe.empty:
        return pd.DataFrame(columns=cols)
    keys = ["reading", *ROW_ORDER]
    by_run = pe.assign(nb=pe["broken"] * pe["n"]).groupby([*keys, "seed"], sort=False).agg(
        nb=("nb", "sum"), n=("n", "sum"), n_unbroken=("n_unbroken", "sum"), A_avr=("A_x", "mean"))
    by_run["broken"] = by_run["nb"] / by_run["n"]
    out = by_run.groupby(keys, sort=False).agg(
        seeds=("broken", "size"), broken=("broken", "mean"), broken_std=("broken", "std"),
        A_avr=("A_avr", "mean"), A_avr_std=("A_avr", "std"), n=("n", "sum"),
        n_unbroken=("n_unbroken", "sum"))
    pooled = pe.assign(w=pe["A_x_unbroken"].fillna(0) * pe["n_unbroken"]).groupby(
        [*keys, "eta"], sort=False)[["w", "n_unbroken"]].sum()
    a_x = (pooled["w"] / pooled["n_unbroken"].where(pooled["n_unbroken"] > 0)).groupby(
        keys, sort=False)
    out["levels_unbroken"] = a_x.count()
    out["levels"] = a_x.size()
    out["A_avr_unbroken"] = a_x.mean().where(out["levels_unbroken"] == out["levels"])
    out = out.reset_index()
    order = {name: i for i, name in enumerate(READINGS)}  # the ablation's, then the mechanism's
    out = out.assign(_o=out["reading"].map(lambda r: order.get(r, len(order))))
    return out.sort_values(["_o", *ROW_ORDER], kind="stable").reset_index(drop=True)[cols]


def spearman_exact(x, y, n_random: int = 20_000) -> tuple[float, float]:
    """Spearman's rho of (x, y) and its two-sided permutation p-value: exact (every
    ordering of y) for up to 8 points, the handful of LRs of a grid; else from
    ``n_random`` seeded random orderings. (nan, nan) for fewer than 3 points or a
    constant variable."""
    rx, ry = pd.Series(x).rank().to_numpy(), pd.Series(y).rank().to_numpy()
    if len(rx) < 3 or np.std(ry) == 0 or np.std(rx) == 0:
        return float("nan"), float("nan")

    def rho(a, b):
        return float(np.corrcoef(a, b)[0, 1])

    r = rho(rx, ry)
    if len(rx) <= 8:
        orders = itertools.permutations(ry)
    else:
        rng = np.random.default_rng(0)
        orders = (rng.permutation(ry) for _ in range(n_random))
    perms = np.array([rho(rx, np.asarray(o)) for o in orders])
    return r, float(np.mean(np.abs(perms) >= abs(r) - 1e-12))


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def sentence(cell_table: pd.DataFrame, reading: str = PAPER.name) -> str:
    """What the split says under ``reading``, per model (dataset, depth, BN): how the
    share of broken draws and A_avr over the unbroken draws change with the LR (seed
    means; Spearman rho over the LRs with its permutation p, ``spearman_exact``), and so
    what A_avr measures there, one clause per model and optimizer with three LRs or more."""
    t = cell_table[(cell_table["reading"] == reading) & cell_table["batch_norm"]]
    if t.empty:
        return (f"No record or re-sweep holds draws {NoiseModel.from_name(reading).phrase} "
                "for a model with BN.")
    parts = []
    for (ds, depth, opt), m in t.sort_values("lr").groupby(["dataset", "depth", "optimizer"]):
        if m["lr"].nunique() < 3:
            continue
        lo, hi = m.iloc[0], m.iloc[-1]
        model = f"ResNet{depth} on {recipe.name('dataset', ds)} ({recipe.name('optimizer', opt)})"
        if not (m["broken"] > 0).any():
            ra, pa = spearman_exact(m["lr"], m["A_avr"])
            parts.append(f"for {model}, no draw broke the model at any of the "
                         f"{claims.plural(m['lr'].nunique(), 'LR')}, and A_avr goes from "
                         f"{100 * lo['A_avr']:.1f} % at lr = {lo['lr']:g} to "
                         f"{100 * hi['A_avr']:.1f} % at lr = {hi['lr']:g} (seed means of "
                         f"{claims.plural_range(m['seeds'], 'seed')}; Spearman rho(LR, A_avr) = "
                         f"{ra:+.2f}, permutation {_p(pa)})")
            continue
        rb, pb = spearman_exact(m["lr"], m["broken"])
        ok = m.dropna(subset=["A_avr_unbroken"])
        ru, pu = spearman_exact(ok["lr"], ok["A_avr_unbroken"])
        text = (f"for {model}, the share of broken draws goes from "
                f"{100 * lo['broken']:.0f} % at lr = {lo['lr']:g} to {100 * hi['broken']:.0f} % "
                f"at lr = {hi['lr']:g} (seed means of "
                f"{claims.plural_range(m['seeds'], 'seed')}; Spearman rho(LR, broken) = "
                f"{rb:+.2f} over the {claims.plural(m['lr'].nunique(), 'LR')}, permutation "
                f"{_p(pb)})")
        if len(ok) >= 3 and np.isfinite(ru):
            text += (f", while A_avr over the unbroken draws {'rises' if ru > 0 else 'falls'} "
                     f"with the LR (rho = {ru:+.2f}, {_p(pu)}, over the "
                     f"{claims.plural(len(ok), 'LR')} with an unbroken draw at every level: "
                     + ", ".join(f"{100 * v:.1f} %" for v in ok["A_avr_unbroken"]) + ")")
        if rb > 0 and pb < 0.05:
            text += ": there, the LR sets how often the model breaks, and A_avr mostly " \
                    "measures that"
        parts.append(text)
    if not parts:
        return "Fewer than three LRs per model: no trend to state."
    phrase = NoiseModel.from_name(reading).phrase
    return f"{phrase[0].upper()}{phrase[1:]}, " + "; ".join(parts) + "."
