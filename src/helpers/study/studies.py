"""The studies of the project, each defined once.

A study is a set of trained models (cells: dataset, depth, LR, optimizer, BN)
and the paper artifact it reproduces. The same definition feeds the grid that
trains the cells (``StudyDesign.cells``) and the analyses that read their records
(``select``), so a study cannot mean one thing to the runner and another to a
verdict. Nothing here depends on the rest of the package but ``helpers.experiment.recipe``.

- ``lr``: the paper's LR grid, 2 datasets x 4 depths x 6 LRs, Adam (Tables II
  and III, Figures 1, 2 and 4); these cells also sweep the noise-model ablation.
- ``optimizers``: the reference model (``recipe.REFERENCE_DATASET``, ``REFERENCE_DEPTH``:
  ResNet20 on CIFAR-10) at lr 0.00075 with the paper's six
  optimizers (Figure 3).
- ``batchnorm``: every depth with and without BN, both datasets, Adam at lr
  0.001 (the BN paper's abstract gives no LR; 0.001 is the middle of the grid).
- ``lr_outside``: the LR grid extended past the paper's range (0.00025 and
  0.003), so that the sweet-spot claim can fail; with the ablation.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

# The paper's datasets, depths, LRs and optimizers (Figure 3) come from helpers.experiment.recipe.
# A new optimizer in recipe.OPTIMIZER_SETTINGS does not enter a study unless
# recipe.PAPER_OPTIMIZERS lists it.
from ..experiment.recipe import (DATASETS, OPTIMIZER_LR, PAPER_DEPTHS, PAPER_LRS,  # noqa: F401
                                 PAPER_OPTIMIZERS, REFERENCE_DATASET, REFERENCE_DEPTH)
from ..experiment.recipe import name as recipe_name

ADAPTIVE = ("adam", "nadam", "adamax")
SGD_FAMILY = ("sgd", "sgd_momentum", "sgd_nesterov")
BN_LR = 0.001                  # the batch-norm study
REFERENCE_LR = 0.001           # paired LR comparisons are made against this LR
OUTSIDE_LRS = (0.00025, 0.003)  # below and above the paper's range (claim 4)
LR_TOLERANCE = 1e-12
# what one grid cell is (a model, trained with one or more seeds): the columns of
# ``StudyDesign.cells``' tuples, as the records and the tables of cell means name them
CELL = ["dataset", "depth", "lr", "optimizer", "batch_norm"]
# the same columns in the pages' row order: each model's optimizers and BN variants, each
# over its LRs (tables of cells sort and show them in this order)
ROW_ORDER = ["dataset", "depth", "optimizer", "batch_norm", "lr"]


def same_lr(a, b):
    """Whether two learning rates are the same (floats from JSON, CSV or a command line);
    ``a`` may be a pandas Series or numpy array, giving a boolean mask."""
    diff = a - b
    return diff.abs() < LR_TOLERANCE if isinstance(diff, pd.Series) else \
        np.abs(diff) < LR_TOLERANCE


def lr_in(lr: float, lrs) -> bool:
    """Whether ``lr`` is one of ``lrs``."""
    return any(bool(same_lr(lr, x)) for x in lrs)


@dataclass(frozen=True)
class StudyDesign:
    """What one study trains (its cells) and which paper artifact it reproduces; the
    records of a page are ``helpers.book.page.Study``."""
    name: str
    datasets: tuple
    depths: tuple
    lrs: tuple
    optimizers: tuple
    batch_norm: tuple
    artifact: str        # what of the paper it reproduces
    ablation: bool       # its runs also sweep the noise-model ablation

    def cells(self) -> list[tuple]:
        """(dataset, depth, lr, optimizer, batch_norm) of every model, in run order."""
        return list(itertools.product(self.datasets, self.depths, self.lrs, self.optimizers,
                                      self.batch_norm))

    def mask(self, df: pd.DataFrame) -> pd.Series:
        """Which rows (records or cell means) belong to this study."""
        if df.empty:
            return pd.Series(False, index=df.index)
        lr = pd.Series(False, index=df.index)
        for x in self.lrs:
            lr |= same_lr(df["lr"], x)
        return (df["dataset"].isin(self.datasets) & df["depth"].isin(self.depths) & lr
                & df["optimizer"].isin(self.optimizers)
                & df["batch_norm"].astype(bool).isin(self.batch_norm))


STUDIES = {
    "lr": StudyDesign("lr", DATASETS, PAPER_DEPTHS, PAPER_LRS, ("adam",), (True,),
                      "Tables II and III, Figures 1, 2 and 4", ablation=True),
    "optimizers": StudyDesign("optimizers", (REFERENCE_DATASET,), (REFERENCE_DEPTH,), (OPTIMIZER_LR,),
                              PAPER_OPTIMIZERS, (True,), "Figure 3", ablation=False),
    "batchnorm": StudyDesign("batchnorm", DATASETS, PAPER_DEPTHS, (BN_LR,), ("adam",),
                             (True, False), "the batch-normalization paper", ablation=False),
    "lr_outside": StudyDesign("lr_outside", DATASETS, PAPER_DEPTHS, OUTSIDE_LRS, ("adam",),
                              (True,), "Figure 4's sweet spot, tested beyond the paper's LRs",
                              ablation=True),
}


def select(df: pd.DataFrame, *names: str) -> pd.DataFrame:
    """The rows of ``df`` that belong to any of the named studies."""
    bad = [n for n in names if n not in STUDIES]
    if bad or not names:
        raise ValueError(f"studies={list(names)!r} is not accepted; accepted: {list(STUDIES)}")
    mask = pd.Series(False, index=df.index)
    for n in names:
        mask |= STUDIES[n].mask(df)
    return df[mask]


def model_rows(df: pd.DataFrame, dataset: str = REFERENCE_DATASET,
               depth: int = REFERENCE_DEPTH) -> pd.DataFrame:
    """The rows of ``df`` (records, cell means, or any table with ``dataset`` and ``depth``
    columns) of one model: by default the reference model, the one every profile trains."""
    if df.empty:
        return df
    return df[(df["dataset"] == dataset) & (df["depth"] == depth)]


def models(df: pd.DataFrame) -> list[tuple]:
    """The (dataset, depth) of the models in ``df``, in the pages' order: datasets as
    ``dataset_order``, then by depth."""
    if df.empty:
        return []
    order = dataset_order(df["dataset"].unique())
    return sorted(set(zip(df["dataset"], df["depth"])), key=lambda k: (order.index(k[0]), k[1]))


def model_name(dataset: str, depth: int) -> str:
    """One model as every page, title and sentence names it: "ResNet20 on CIFAR-10"."""
    return f"ResNet{depth} on {recipe_name('dataset', dataset)}"


def dataset_order(datasets) -> list:
    """``datasets`` in the order the pages show them: the reference dataset first, then
    the paper's order (``recipe.DATASETS``), then any other by name."""
    return sorted(set(datasets), key=lambda d: (d != REFERENCE_DATASET,
                                                DATASETS.index(d) if d in DATASETS else
                                                len(DATASETS), str(d)))
