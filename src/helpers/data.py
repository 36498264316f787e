"""CIFAR-10 / CIFAR-100 (fine labels): loading, preprocessing, augmentation.

Three sources, chosen by ``data_dir`` (or the ``CIFAR_DATA_DIR`` environment
variable):

1. ``"download"``: the standard archives from the dataset's home page, MD5
   checked and cached in ``~/.keras/datasets`` (the only network access of
   the project, and only when asked for).
2. A directory or ``.tar.gz`` in the standard *python version* layout
   (``cifar-10-batches-py/``, ``cifar-100-python/``), every file checked
   against the published MD5 sums.
3. An ``.npz`` with ``x_train, y_train, x_test, y_test`` (uint8 NHWC, int
   labels), or the JPEG pack of ``shared/data`` (decoded on the fly).

``write_synthetic`` writes small synthetic datasets in the same on-disk
formats, so tests and smoke runs go through the real parsers.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DATASETS = ("cifar10", "cifar100")
NUM_CLASSES = {"cifar10": 10, "cifar100": 100}
ENV_VAR = "CIFAR_DATA_DIR"

URLS = {
    "cifar10": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    "cifar100": "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
}
ARCHIVES = {"cifar10": "cifar-10-python.tar.gz", "cifar100": "cifar-100-python.tar.gz"}
FOLDERS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}
NPZ_NAMES = {"cifar10": ("cifar10.npz", "cifar10-jpeg.npz"), "cifar100": ("cifar100.npz",)}
TRAIN_FILES = {"cifar10": [f"data_batch_{i}" for i in range(1, 6)], "cifar100": ["train"]}
TEST_FILES = {"cifar10": ["test_batch"], "cifar100": ["test"]}
LABEL_KEY = {"cifar10": b"labels", "cifar100": b"fine_labels"}

# Published MD5 sums (dataset home page for the archives; per-file sums of the
# extracted python version as distributed).
PUBLISHED_MD5 = {
    "cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a",
    "cifar-100-python.tar.gz": "eb9058c3a382ffc7106e4002c42a8d85",
    "cifar-10-batches-py/data_batch_1": "c99cafc152244af753f735de768cd75f",
    "cifar-10-batches-py/data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "cifar-10-batches-py/data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "cifar-10-batches-py/data_batch_4": "634d18415352ddfa80567beed471001a",
    "cifar-10-batches-py/data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "cifar-10-batches-py/test_batch": "40351d587109b95175f43aff81a1287e",
    "cifar-100-python/train": "16019d7e3df5f24257cddd939b257f8d",
    "cifar-100-python/test": "f0ef6b0ae62326f3e7ffdfab6717acfc",
}
SYNTHETIC_MARKER = "SYNTHETIC.json"

# Augmentation (book, Method page): shifts of up to 10 % of 32 px, nearest fill.
MAX_SHIFT = 3


class DataError(ValueError):
    """The data could not be found, verified or parsed."""


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

    @property
    def synthetic(self) -> bool:
        return bool(self.source.get("synthetic"))

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


# --------------------------------------------------------------------------
# checksums
# --------------------------------------------------------------------------

def _digest(path: str | Path, h, chunk: int = 1 << 20) -> str:
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def md5sum(path: str | Path, chunk: int = 1 << 20) -> str:
    return _digest(path, hashlib.md5(), chunk)


def sha256sum(path: str | Path, chunk: int = 1 << 20) -> str:
    return _digest(path, hashlib.sha256(), chunk)


def _expected_md5(root: Path, relname: str) -> tuple[str, bool]:
    """(expected md5, synthetic?) for a file of the standard layout under root."""
    marker = root / SYNTHETIC_MARKER
    if marker.exists():
        sums = json.loads(marker.read_text())["md5"]
        if relname in sums:
            return sums[relname], True
    if relname not in PUBLISHED_MD5:
        raise DataError(f"no published MD5 known for {relname!r}")
    return PUBLISHED_MD5[relname], False


def verify_md5(path: Path, expected: str) -> None:
    got = md5sum(path)
    if got != expected:
        raise DataError(
            f"MD5 mismatch for {path}: got {got}, expected {expected}. The file is "
            "corrupt or not the original CIFAR release; delete it and fetch it again "
            "(data_dir='download')."
        )


# --------------------------------------------------------------------------
# parsers
# --------------------------------------------------------------------------

def _unpickle(raw: bytes) -> dict:
    return pickle.loads(raw, encoding="bytes")


def _batch_arrays(d: dict, name: str) -> tuple[np.ndarray, np.ndarray]:
    data = np.asarray(d[b"data"], dtype=np.uint8)
    x = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # CHW rows -> NHWC
    y = np.asarray(d[LABEL_KEY[name]], dtype=np.int64)
    return np.ascontiguousarray(x), y


def _concat(parts):
    xs, ys = zip(*parts)
    return np.concatenate(xs), np.concatenate(ys)


def read_python_folder(folder: Path, name: str) -> Dataset:
    """Parse an extracted ``cifar-10-batches-py``/``cifar-100-python`` folder."""
    root = folder.parent
    synthetic = False
    parts = {}
    for split, files in (("train", TRAIN_FILES[name]), ("test", TEST_FILES[name])):
        arrays = []
        for fname in files:
            path = folder / fname
            if not path.exists():
                raise DataError(f"{path} is missing: not a complete {FOLDERS[name]} folder")
            expected, syn = _expected_md5(root, f"{FOLDERS[name]}/{fname}")
            verify_md5(path, expected)
            synthetic |= syn
            arrays.append(_batch_arrays(_unpickle(path.read_bytes()), name))
        parts[split] = _concat(arrays)
    source = {"kind": "python-folder", "path": str(folder), "synthetic": synthetic,
              "label": _label(name, synthetic, "original python version")}
    return Dataset(*parts["train"], *parts["test"], name=name, source=source)


def read_python_archive(archive: Path, name: str) -> Dataset:
    """Parse the standard ``.tar.gz`` without extracting it to disk."""
    expected, synthetic = _expected_md5(archive.parent, archive.name)
    verify_md5(archive, expected)
    members = {}
    with tarfile.open(archive, "r:gz") as tar:
        for m in tar.getmembers():
            if m.isfile():
                members[m.name] = m
        parts = {}
        for split, files in (("train", TRAIN_FILES[name]), ("test", TEST_FILES[name])):
            arrays = []
            for fname in files:
                key = f"{FOLDERS[name]}/{fname}"
                if key not in members:
                    raise DataError(f"{archive} has no member {key}: not a {name} archive")
                raw = tar.extractfile(members[key]).read()
                arrays.append(_batch_arrays(_unpickle(raw), name))
            parts[split] = _concat(arrays)
    source = {"kind": "archive", "path": str(archive), "md5": expected, "synthetic": synthetic,
              "label": _label(name, synthetic, "original archive")}
    return Dataset(*parts["train"], *parts["test"], name=name, source=source)


def _decode_jpegs(blob: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    from PIL import Image

    data = blob.tobytes()
    return np.stack([
        np.asarray(Image.open(io.BytesIO(data[a:b])).convert("RGB"))
        for a, b in zip(offsets[:-1], offsets[1:])
    ])


def read_npz(path: Path, name: str) -> Dataset:
    """Arrays ``x_train, y_train, x_test, y_test``, or a JPEG pack (train_jpeg, ...)."""
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise DataError(f"{path} is not a readable .npz: {e}") from None
    with z:
        keys = set(z.files)
        if {"x_train", "y_train", "x_test", "y_test"} <= keys:
            arrays = [z[k] for k in ("x_train", "y_train", "x_test", "y_test")]
            kind, what = "npz", f"npz {path.name}"
        elif {f"{s}_{k}" for s in ("train", "test") for k in ("jpeg", "offsets", "labels")} <= keys:
            arrays = [_decode_jpegs(z["train_jpeg"], z["train_offsets"]), z["train_labels"],
                      _decode_jpegs(z["test_jpeg"], z["test_offsets"]), z["test_labels"]]
            kind, what = "jpeg-pack", "JPEG copy"
        else:
            raise DataError(
                f"{path} has arrays {sorted(keys)}; expected x_train, y_train, x_test, "
                "y_test (or a JPEG pack with train_jpeg/train_offsets/train_labels)"
            )
    xtr, ytr, xte, yte = arrays
    for x, split in ((xtr, "x_train"), (xte, "x_test")):
        if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (32, 32, 3):
            raise DataError(f"{path}: {split} must be uint8 of shape (N, 32, 32, 3), "
                            f"got {x.dtype} {x.shape}")
    ytr, yte = ytr.reshape(-1).astype(np.int64), yte.reshape(-1).astype(np.int64)
    if len(xtr) != len(ytr) or len(xte) != len(yte):
        raise DataError(f"{path}: image and label counts differ "
                        f"({len(xtr)}/{len(ytr)} train, {len(xte)}/{len(yte)} test)")
    k = NUM_CLASSES[name]
    if ytr.max() >= k or yte.max() >= k or min(ytr.min(), yte.min()) < 0:
        raise DataError(f"{path}: labels outside 0..{k - 1}: is this really {name}?")
    synthetic = (path.parent / SYNTHETIC_MARKER).exists()
    source = {"kind": kind, "path": str(path), "sha256": sha256sum(path),
              "synthetic": synthetic, "label": _label(name, synthetic, what)}
    return Dataset(xtr, ytr, xte, yte, name=name, source=source)


def _label(name: str, synthetic: bool, what: str) -> str:
    pretty = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}[name]
    if synthetic:
        return f"synthetic data in the {pretty} format (not CIFAR)"
    return f"{pretty} ({what})"


# --------------------------------------------------------------------------
# the one entry point
# --------------------------------------------------------------------------

def default_cache_dir() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


def resolve_data_dir(data_dir: str | os.PathLike | None) -> str | None:
    """The explicit parameter wins, then the environment variable."""
    if data_dir in (None, ""):
        data_dir = os.environ.get(ENV_VAR) or None
    return None if data_dir is None else str(data_dir)


def find_source(name: str, data_dir: str | os.PathLike) -> Path:
    """The file or folder that ``load_cifar`` will read for ``name`` under ``data_dir``."""
    p = Path(data_dir).expanduser()
    if p.is_file():
        return p
    if not p.is_dir():
        raise DataError(f"data_dir={str(data_dir)!r} does not exist")
    if p.name == FOLDERS[name]:
        return p
    candidates = [p / FOLDERS[name], p / ARCHIVES[name], *(p / n for n in NPZ_NAMES[name])]
    for c in candidates:
        if c.exists():
            return c
    raise DataError(
        f"data_dir={str(data_dir)!r} holds no {name} data; looked for "
        + ", ".join(c.name for c in candidates)
    )


def download(name: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """Fetch the standard archive once (MD5 checked); return its path."""
    import keras

    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = keras.utils.get_file(
        fname=ARCHIVES[name], origin=URLS[name], file_hash=PUBLISHED_MD5[ARCHIVES[name]],
        hash_algorithm="md5", cache_dir=str(cache_dir.parent), cache_subdir=cache_dir.name,
    )
    return Path(path)


def _default_source(name: str) -> str:
    cached = default_cache_dir() / ARCHIVES[name]
    if not cached.exists():
        raise DataError(
            f"no data for {name}: set data_dir (or ${ENV_VAR}) to a folder, .tar.gz "
            f"or .npz, or data_dir='download' to fetch {URLS[name]}"
        )
    return str(cached)


def load_cifar(name: str, data_dir: str | os.PathLike | None) -> Dataset:
    """Load CIFAR ``name`` from ``data_dir`` (a folder, archive or npz, or "download").

    Without ``data_dir`` (and no ``$CIFAR_DATA_DIR``) the archive already in the
    Keras cache is used; nothing is downloaded unless data_dir="download".
    """
    if name not in DATASETS:
        raise DataError(f"dataset={name!r} is not one of {DATASETS}")
    data_dir = resolve_data_dir(data_dir) or _default_source(name)
    src = download(name) if data_dir == "download" else find_source(name, data_dir)
    if src.is_dir():
        return read_python_folder(src, name)
    if src.name.endswith((".tar.gz", ".tgz")):
        return read_python_archive(src, name)
    if src.suffix == ".npz":
        return read_npz(src, name)
    raise DataError(f"data_dir={str(data_dir)!r}: cannot read {src.name}; accepted: a "
                    "folder, a .tar.gz archive or an .npz")


def fingerprint(name: str, data_dir: str | os.PathLike | None) -> str:
    """A short content id of the data ``load_cifar`` would read (for run keys)."""
    data_dir = resolve_data_dir(data_dir) or _default_source(name)
    if data_dir == "download":
        return PUBLISHED_MD5[ARCHIVES[name]][:12]
    src = find_source(name, data_dir)
    files = sorted(f for f in src.rglob("*") if f.is_file()) if src.is_dir() else [src]
    h = hashlib.sha256()
    for f in files:
        h.update(md5sum(f).encode())
    return h.hexdigest()[:12]


# --------------------------------------------------------------------------
# preprocessing and augmentation (the book's Method page)
# --------------------------------------------------------------------------

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


def shift_flip(x, dy, dx, flip, xp=np):
    """Shift each image by (dy, dx) pixels with nearest (edge) fill, then flip if asked.

    Works on numpy or jax.numpy arrays (``xp``); x is (B, H, W, C), dy/dx int (B,),
    flip bool (B,). Output pixel (r, c) reads input pixel (r - dy, c - dx), clipped
    to the image, i.e. the edge row/column fills the border.
    """
    b, h, w = x.shape[0], x.shape[1], x.shape[2]
    rows = xp.clip(xp.arange(h)[None, :] - dy[:, None], 0, h - 1)
    cols = xp.arange(w)[None, :]
    cols = xp.where(flip[:, None], w - 1 - cols, cols)
    cols = xp.clip(cols - dx[:, None], 0, w - 1)
    return x[xp.arange(b)[:, None, None], rows[:, :, None], cols[:, None, :]]


def augment(x: np.ndarray, rng: np.random.Generator, max_shift: int = MAX_SHIFT) -> np.ndarray:
    """Random shifts of up to max_shift pixels in x and y (nearest fill), random h-flips."""
    n = len(x)
    dy = rng.integers(-max_shift, max_shift + 1, n)
    dx = rng.integers(-max_shift, max_shift + 1, n)
    flip = rng.random(n) < 0.5
    return shift_flip(x, dy, dx, flip)


# --------------------------------------------------------------------------
# synthetic data in the real formats
# --------------------------------------------------------------------------

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
