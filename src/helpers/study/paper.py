"""The paper's published numbers (Fagbohungbe & Qian 2022), as pandas tables.

Source files are in ``helpers/study/paper_data/`` (see its README for provenance).
Percentages are kept as printed, in columns ending in ``_pct``.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

TABLES = {
    "table2": "table2_baseline_accuracy.csv",
    "table3": "table3_avg_normalized_accuracy.csv",
    "figure3": "figure3_optimizers.csv",
    "in_text": "normalized_accuracy_in_text.csv",
}
from ..experiment.recipe import PAPER_DEPTHS, PAPER_LRS, name  # noqa: F401  (re-exported)
from .studies import select  # noqa: F401  (re-exported)


def table(name: str) -> pd.DataFrame:
    """One of ``TABLES``, with a numeric ``depth`` column derived from ``model``."""
    if name not in TABLES:
        raise ValueError(f"name={name!r} is not one of {tuple(TABLES)}")
    with resources.files("helpers.study.paper_data").joinpath(TABLES[name]).open() as f:
        df = pd.read_csv(f)
    df["depth"] = df["model"].str.removeprefix("resnet").astype(int)
    return df


def lookup(name: str, **where) -> pd.DataFrame:
    """Rows of a paper table matching ``where`` (lr matched to 1e-9)."""
    df = table(name)
    mask = pd.Series(True, index=df.index)
    for col, value in where.items():
        mask &= (df[col] - value).abs() < 1e-9 if col == "lr" else df[col] == value
    return df[mask]


# Our metric (a fraction in [0, 1]) beside the paper's column (printed in %).
_COMPARE = {
    "table2": (("dataset", "depth", "lr"), "baseline_accuracy", "baseline_accuracy_pct"),
    "table3": (("dataset", "depth", "lr"), "A_avr", "avg_normalized_accuracy_pct"),
    "figure3_a0": (("optimizer",), "baseline_accuracy", "baseline_accuracy_pct"),
    "figure3_aavr": (("optimizer",), "A_avr", "avg_normalized_accuracy_pct"),
}


def beside(means: pd.DataFrame, name: str) -> pd.DataFrame:
    """Our seed means (``claims.cell_means``) beside a paper table, in %, with the
    difference in points. Cells we have not run show NaN in the ``ours`` columns."""
    keys, ours, theirs = _COMPARE[name]
    paper = table(name.split("_")[0])
    keys = list(keys)
    means = select(means, "optimizers") if name.startswith("figure3") else select(means, "lr")
    m = means[keys + [ours, f"{ours}_std", "n_seeds"]].copy()
    m["lr_key"] = m["lr"].round(9) if "lr" in keys else 0
    p = paper[keys + [theirs]].copy()
    p["lr_key"] = p["lr"].round(9) if "lr" in keys else 0
    on = [k for k in keys if k != "lr"] + ["lr_key"]
    out = p.merge(m.drop(columns=["lr"], errors="ignore"), on=on, how="left")
    out = out.drop(columns="lr_key")
    out["ours_pct"] = 100 * out.pop(ours)
    out["ours_std_pct"] = 100 * out.pop(f"{ours}_std")
    out["paper_pct"] = out.pop(theirs)
    out["diff_pp"] = out["ours_pct"] - out["paper_pct"]
    return out


def with_intervals(ci: pd.DataFrame, name: str) -> pd.DataFrame:
    """Our cells (``stats.cell_intervals``) beside a paper table, in %: seed mean, seed
    std, n seeds, diverged runs, the 95 % bootstrap interval, the paper's value and
    whether it lies inside our interval (None without a paper value or an interval). Our
    cells the paper has no value for (e.g. LRs outside its range) are kept; paper cells
    we have not run are left out."""
    keys, ours, theirs = _COMPARE[name]
    keys = list(keys)
    ci = select(ci, "optimizers") if name.startswith("figure3") else select(ci, "lr", "lr_outside")
    out = ci[keys + [f"{ours}_mean", f"{ours}_std", f"{ours}_lo", f"{ours}_hi", "n",
                     "n_diverged"]].copy()
    p = table(name.split("_")[0])[keys + [theirs]].copy()
    if "lr" in keys:
        out["lr_key"], p["lr_key"] = out["lr"].round(9), p.pop("lr").round(9)
    on = [k for k in keys if k != "lr"] + (["lr_key"] if "lr" in keys else [])
    out = out.merge(p, on=on, how="left").drop(columns=["lr_key"], errors="ignore")
    for a, b in (("mean", "ours_pct"), ("std", "std_pp"), ("lo", "ci_low_pct"),
                 ("hi", "ci_high_pct")):
        out[b] = 100 * out.pop(f"{ours}_{a}")
    out["paper_pct"] = out.pop(theirs)
    out["paper_in_ci"] = np.where(out["paper_pct"].isna() | out["ci_low_pct"].isna(), None,
                                  (out["paper_pct"] >= out["ci_low_pct"] - 1e-9)
                                  & (out["paper_pct"] <= out["ci_high_pct"] + 1e-9))
    return out.reset_index(drop=True)


def offset_sentence(t: pd.DataFrame, metric: str) -> str:
    """How far our seed means lie from the paper's values (``with_intervals``), in the
    cells that have both, and in how many the paper's value is inside our interval."""
    both = t.dropna(subset=["ours_pct", "paper_pct"])
    if both.empty:
        return f"No cell of ours has a paper value of {metric}."
    d = both["ours_pct"] - both["paper_pct"]
    inside = both["paper_in_ci"].dropna()
    if len(d) == 1:
        where = (f"In the one cell that both have, our {metric} lies {abs(d.iloc[0]):.1f} pp "
                 f"{'below' if d.iloc[0] < 0 else 'above'} the paper's")
    elif (d < 0).all() or (d > 0).all():
        where = (f"In the {len(d)} cells that both have, our {metric} lies {abs(d).min():.1f} to "
                 f"{abs(d).max():.1f} pp {'below' if (d < 0).all() else 'above'} the paper's "
                 f"(median {d.median():+.1f} pp)")
    else:
        where = (f"In the {len(d)} cells that both have, our {metric} lies between "
                 f"{d.min():+.1f} and {d.max():+.1f} pp from the paper's (median {d.median():+.1f} pp)")
    if inside.empty:
        return where + "; no cell has an interval to hold the paper's value (one seed each)."
    return (where + f"; the paper's value is inside our 95 % interval in {int(inside.sum())} "
            f"of the {len(inside)} cell{'' if len(inside) == 1 else 's'} with an interval.")


def offset_sentences(t: pd.DataFrame, metric: str) -> str:
    """``offset_sentence`` for each dataset of ``t`` (``with_intervals``), each led by the
    dataset's name when ``t`` holds several: the paper's numbers differ by dataset, and one
    dataset's offset says nothing of another's."""
    if "dataset" not in t or t["dataset"].nunique() < 2:
        return offset_sentence(t, metric)
    return " ".join(f"{name('dataset', ds)}: {offset_sentence(g, metric)}"
                    for ds, g in t.groupby("dataset"))
