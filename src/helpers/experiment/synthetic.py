"""Synthetic data in the real CIFAR formats, so that tests and smoke runs go through
the real parsers (``helpers.experiment.cifar_files``). It is marked as synthetic on disk
(``SYNTHETIC.json``) and on every page that shows a result from it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np

from .cifar_files import (ARCHIVES, FOLDERS, NPZ_NAMES, NUM_CLASSES, SYNTHETIC_MARKER,
                          TEST_FILES, TRAIN_FILES, md5sum)


def synthetic_arrays(name: str, n_train: int, n_test: int, seed: int = 0):
    """Learnable toy images: a class-specific colour gradient plus noise."""
    rng = np.random.default_rng(seed)
    k = NUM_CLASSES[name]
    protos = rng.uniform(40, 215, size=(k, 2, 3))  # colour at top-left and bottom-right

    def make(n):
        y = rng.integers(0, k, n)
        t = np.linspace(0, 1, 32)
        ramp = (t[:, None] + t[None, :])[None, :, :, None] / 2
        img = protos[y, 0][:, None, None, :] * (1 - ramp) + protos[y, 1][:, None, None, :] * ramp
        img = img + rng.normal(0, 25, img.shape)
        return np.clip(img, 0, 255).astype(np.uint8), y.astype(np.int64)

    return (*make(n_train), *make(n_test))


def _pickle_batch(name: str, x: np.ndarray, y: np.ndarray, label: str) -> bytes:
    data = x.transpose(0, 3, 1, 2).reshape(len(x), -1)
    d = {b"batch_label": label.encode(), b"data": data,
         b"filenames": [f"img_{i}.png".encode() for i in range(len(x))]}
    if name == "cifar10":
        d[b"labels"] = [int(v) for v in y]
    else:
        d[b"fine_labels"] = [int(v) for v in y]
        d[b"coarse_labels"] = [int(v) // 5 for v in y]
    return pickle.dumps(d, protocol=2)


def write_synthetic(root: str | os.PathLike, name: str = "cifar10", n_train: int = 500,
                    n_test: int = 200, seed: int = 0, fmt: str = "folder") -> Path:
    """Write a small synthetic ``name`` dataset under ``root`` in a real on-disk format.

    ``fmt``: "folder" (extracted python version), "archive" (.tar.gz) or "npz".
    A ``SYNTHETIC.json`` beside it holds the files' MD5 sums, which the loader
    uses instead of the published ones and which marks the data as synthetic.
    Returns the path to pass as ``data_dir``.
    """
    if fmt not in ("folder", "archive", "npz"):
        raise ValueError(f"fmt={fmt!r} is not one of ('folder', 'archive', 'npz')")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    xtr, ytr, xte, yte = synthetic_arrays(name, n_train, n_test, seed)
    sums = {}
    if fmt == "npz":
        path = root / NPZ_NAMES[name][0]
        np.savez(path, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
        sums[path.name] = md5sum(path)
    else:
        files = {}
        splits = np.array_split(np.arange(n_train), len(TRAIN_FILES[name]))
        for fname, idx in zip(TRAIN_FILES[name], splits):
            files[fname] = _pickle_batch(name, xtr[idx], ytr[idx], f"training {fname}")
        files[TEST_FILES[name][0]] = _pickle_batch(name, xte, yte, "testing batch")
        folder = FOLDERS[name]
        if fmt == "folder":
            (root / folder).mkdir(exist_ok=True)
            for fname, raw in files.items():
                (root / folder / fname).write_bytes(raw)
                sums[f"{folder}/{fname}"] = hashlib.md5(raw).hexdigest()
            path = root
        else:
            path = root / ARCHIVES[name]
            with tarfile.open(path, "w:gz") as tar:
                for fname, raw in files.items():
                    info = tarfile.TarInfo(f"{folder}/{fname}")
                    info.size = len(raw)
                    tar.addfile(info, io.BytesIO(raw))
            sums[path.name] = md5sum(path)
    marker = root / SYNTHETIC_MARKER
    old = json.loads(marker.read_text())["md5"] if marker.exists() else {}
    marker.write_text(json.dumps({"note": "synthetic data written by helpers.data; not CIFAR",
                                  "md5": {**old, **sums}}, indent=1))
    return path

