"""CIFAR-10 / CIFAR-100 (fine labels) as the study uses them: a ``Dataset`` of raw
images, and the ``Prepared`` arrays the models train on (book, Method page: Data).

Where the files come from and how they are checked is ``helpers.experiment.cifar_files``;
the augmentation and the epoch plan are ``helpers.experiment.augmentation``; synthetic
stand-ins in the real formats are ``helpers.experiment.synthetic``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

import numpy as np

from . import cifar_files
from .cifar_files import NUM_CLASSES, DataError  # noqa: F401  (the errors of load_cifar)


@dataclass
class Dataset:
    """Raw uint8 images (NHWC) and int64 labels, plus where they came from."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str
    source: dict = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return NUM_CLASSES[self.name]

    def subset(self, n_train: int | None, n_test: int | None) -> "Dataset":
        """A fixed random subset (seed 0) of n images per split, in the original order."""
        def take(x, y, n):
            if n is None or n >= len(y):
                return x, y
            idx = np.random.default_rng(0).permutation(len(y))[:n]
            idx.sort()
            return x[idx], y[idx]

        xtr, ytr = take(self.x_train, self.y_train, n_train)
        xte, yte = take(self.x_test, self.y_test, n_test)
        return Dataset(xtr, ytr, xte, yte, self.name, dict(self.source))



def load_cifar(name: str, data_dir: str | os.PathLike | None) -> Dataset:
    """Load CIFAR ``name`` from ``data_dir`` (a folder, archive or npz, or "download").

    Without ``data_dir`` (and no ``$CIFAR_DATA_DIR``) the archive already in the
    Keras cache is used; nothing is downloaded unless data_dir="download".
    """
    xtr, ytr, xte, yte, source = cifar_files.read(name, data_dir)
    return Dataset(xtr, ytr, xte, yte, name=name, source=source)


def fingerprint(name: str, data_dir: str | os.PathLike | None) -> str:
    """A short content id of the data ``load_cifar`` would read (for run keys)."""
    data_dir = cifar_files.resolve_data_dir(data_dir) or cifar_files.default_source(name)
    if data_dir == "download":
        return cifar_files.PUBLISHED_MD5[cifar_files.ARCHIVES[name]][:12]
    src = cifar_files.find_source(name, data_dir)
    files = sorted(f for f in src.rglob("*") if f.is_file()) if src.is_dir() else [src]
    h = hashlib.sha256()
    for f in files:
        h.update(cifar_files.md5sum(f).encode())
    return h.hexdigest()[:12]


@dataclass
class Prepared:
    """Model-ready float32 arrays: x/255 minus the per-pixel training mean."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    mean: np.ndarray
    num_classes: int
    source: dict


def preprocess(ds: Dataset) -> Prepared:
    """x/255 minus the per-pixel mean of the training images (book, Method page)."""
    xtr = ds.x_train.astype(np.float32) / 255.0
    xte = ds.x_test.astype(np.float32) / 255.0
    mean = xtr.mean(axis=0)
    return Prepared(xtr - mean, ds.y_train, xte - mean, ds.y_test, mean, ds.num_classes,
                    ds.source)

