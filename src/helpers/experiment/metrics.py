"""The paper's metrics (eq. 7-9), computed from a noise sweep table.

a^x   = mean test accuracy over the N noisy copies at eta = x   (eq. 7)
A^x   = a^x / a0, a0 the accuracy without noise                  (eq. 8)
A_avr = mean of A^x over the noise levels (six in the paper)     (eq. 9)

The spread over repeats is reported beside each mean (sample std, ddof = 1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def normalized_accuracy(a_x, a0):
    """A^x = a^x / a0 (NaN where a0 is 0, e.g. a diverged model)."""
    a_x = np.asarray(a_x, dtype=float)
    return a_x / a0 if a0 > 0 else np.full_like(a_x, np.nan)


def baseline(sweep: pd.DataFrame) -> float:
    """a0: the eta = 0 row of a sweep."""
    rows = sweep.loc[sweep["eta"] == 0, "accuracy"]
    if len(rows) != 1:
        raise ValueError(f"a sweep needs exactly one eta = 0 row, found {len(rows)}")
    return float(rows.iloc[0])


def summarize_sweep(sweep: pd.DataFrame) -> pd.DataFrame:
    """Per noise level: a^x and A^x with their spread over repeats (eq. 7-8)."""
    a0 = baseline(sweep)
    g = sweep[sweep["eta"] > 0].groupby("eta")["accuracy"]
    out = pd.DataFrame({"n": g.size(), "a_x": g.mean(), "a_x_std": g.std(ddof=1)})
    out["A_x"] = normalized_accuracy(out["a_x"].to_numpy(), a0)
    out["A_x_std"] = normalized_accuracy(out["a_x_std"].to_numpy(), a0)
    if "nonfinite" in sweep:
        out["nonfinite"] = sweep[sweep["eta"] > 0].groupby("eta")["nonfinite"].mean()
    return out.reset_index()


def average_normalized_accuracy(sweep: pd.DataFrame) -> tuple[float, float]:
    """A_avr (eq. 9) and its spread: the std over repeats of each repeat's A_avr."""
    a0 = baseline(sweep)
    noisy = sweep[sweep["eta"] > 0]
    per_repeat = noisy.groupby("repeat")["accuracy"].mean().to_numpy()
    per_repeat = normalized_accuracy(per_repeat, a0)
    a_avr = float(np.mean(normalized_accuracy(noisy.groupby("eta")["accuracy"].mean().to_numpy(), a0)))
    spread = float(np.std(per_repeat, ddof=1)) if len(per_repeat) > 1 else float("nan")
    return a_avr, spread
