"""The paper's published numbers (Fagbohungbe & Qian 2022), as pandas tables.

Source files are in ``helpers/paper_data/`` (see its README for provenance).
Percentages are kept as printed, in columns ending in ``_pct``.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

TABLES = {
    "table2": "table2_baseline_accuracy.csv",
    "table3": "table3_avg_normalized_accuracy.csv",
    "figure3": "figure3_optimizers.csv",
    "in_text": "normalized_accuracy_in_text.csv",
}
PAPER_LRS = (0.0005, 0.000625, 0.00075, 0.001, 0.00125, 0.0015)
PAPER_DEPTHS = (20, 32, 44, 56)


def table(name: str) -> pd.DataFrame:
    """One of ``TABLES``, with a numeric ``depth`` column derived from ``model``."""
    if name not in TABLES:
        raise ValueError(f"name={name!r} is not one of {tuple(TABLES)}")
    with resources.files("helpers.paper_data").joinpath(TABLES[name]).open() as f:
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
