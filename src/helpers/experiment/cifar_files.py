"""The CIFAR files on disk: where they are, what they hold, whether they are intact.

Three sources, chosen by ``data_dir`` (or the ``CIFAR_DATA_DIR`` environment
variable):

1. ``"download"``: the standard archives from the dataset's home page, MD5
   checked and cached in ``~/.keras/datasets`` (the only network access of
   the project, and only when asked for).
2. A directory or ``.tar.gz`` in the standard *python version* layout
   (``cifar-10-batches-py/``, ``cifar-100-python/``), every file checked
   against the published MD5 sums.
3. An ``.npz`` with ``x_train, y_train, x_test, y_test`` (uint8 NHWC, int
   labels), or a JPEG pack (our CIFAR-10 copy) (decoded on the fly).

Each reader returns the arrays and a ``source`` dict (kind, path, checksum,
whether the data are synthetic, a label for pages); ``helpers.experiment.data`` makes
the ``Dataset``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import tarfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .recipe import DATASET_NAMES, DATASETS, NUM_CLASSES

ENV_VAR = "CIFAR_DATA_DIR"

URLS = {
    "cifar10": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    "cifar100": "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
}
ARCHIVES = {"cifar10": "cifar-10-python.tar.gz", "cifar100": "cifar-100-python.tar.gz"}
FOLDERS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}
NPZ_NAMES = {"cifar10": ("cifar10.npz", "cifar10-jpeg.npz"), "cifar100": ("cifar100.npz", "cifar100-png.npz")}
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


class DataError(ValueError):
    """The data could not be found, verified or parsed."""



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


def read_python_folder(folder: Path, name: str) -> tuple:
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
    return (*parts["train"], *parts["test"], source)


def read_python_archive(archive: Path, name: str) -> tuple:
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
    return (*parts["train"], *parts["test"], source)


# An image pack's format, read from its first file's leading bytes (the key names say
# "jpeg" for every pack): JPEG is lossy, so a JPEG pack's label says "JPEG copy".
MAGIC = {b"\xff\xd8\xff": ("jpeg-pack", "JPEG copy"),
         b"\x89PNG\r\n\x1a\n": ("png-pack", None)}


def pack_format(path: Path, blob: np.ndarray) -> tuple[str, str | None]:
    """(kind, what) of an image pack from its bytes: ('jpeg-pack', 'JPEG copy') or
    ('png-pack', None), lossless, labelled by the dataset's name alone."""
    head = blob[:8].tobytes()
    for magic, kind in MAGIC.items():
        if head.startswith(magic):
            return kind
    raise DataError(f"{path}: the image pack's first file starts with {head!r}, which is "
                    "neither JPEG nor PNG; accepted: a pack of JPEG or PNG files")


def _decode_images(path: Path, blob: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Every file of a pack (file i is bytes offsets[i]:offsets[i+1]) as uint8 NHWC."""
    data = blob.tobytes()
    if len(offsets) < 2 or offsets[0] < 0 or offsets[-1] > len(data) \
            or np.any(np.diff(offsets) <= 0):
        raise DataError(f"{path}: the image pack's offsets do not cut its {len(data)} bytes "
                        "into files (they must rise from 0 to at most the byte count)")
    try:
        return np.stack([np.asarray(Image.open(io.BytesIO(data[a:b])).convert("RGB"))
                         for a, b in zip(offsets[:-1], offsets[1:])])
    except (UnidentifiedImageError, OSError) as e:
        raise DataError(f"{path}: a file of the image pack cannot be decoded ({e}); its "
                        "offsets may point at the wrong bytes") from None


def read_npz(path: Path, name: str) -> tuple:
    """Arrays ``x_train, y_train, x_test, y_test``, or a JPEG pack (train_jpeg, ...)."""
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty (0 bytes): not an .npz")
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"{path} is not a readable .npz: {e}") from None
    with z:
        keys = set(z.files)
        if {"x_train", "y_train", "x_test", "y_test"} <= keys:
            arrays = [z[k] for k in ("x_train", "y_train", "x_test", "y_test")]
            kind, what = "npz", f"npz {path.name}"
        elif {f"{s}_{k}" for s in ("train", "test") for k in ("jpeg", "offsets", "labels")} <= keys:
            if z["train_jpeg"].size == 0 or z["test_jpeg"].size == 0:
                raise DataError(f"{path}: the image pack holds no bytes (train_jpeg or "
                                "test_jpeg is empty)")
            kind, what = pack_format(path, z["train_jpeg"])
            arrays = [_decode_images(path, z["train_jpeg"], z["train_offsets"]),
                      z["train_labels"],
                      _decode_images(path, z["test_jpeg"], z["test_offsets"]),
                      z["test_labels"]]
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
    if min(len(xtr), len(xte), len(ytr), len(yte)) == 0:
        raise DataError(f"{path}: an array is empty ({len(xtr)} training and {len(xte)} "
                        "test images); a dataset needs both")
    if len(xtr) != len(ytr) or len(xte) != len(yte):
        raise DataError(f"{path}: image and label counts differ "
                        f"({len(xtr)}/{len(ytr)} train, {len(xte)}/{len(yte)} test)")
    k = NUM_CLASSES[name]
    if ytr.max() >= k or yte.max() >= k or min(ytr.min(), yte.min()) < 0:
        raise DataError(f"{path}: labels outside 0..{k - 1}: is this really {name}?")
    synthetic = (path.parent / SYNTHETIC_MARKER).exists()
    source = {"kind": kind, "path": str(path), "sha256": sha256sum(path),
              "synthetic": synthetic, "label": _label(name, synthetic, what)}
    return xtr, ytr, xte, yte, source


def _label(name: str, synthetic: bool, what: str) -> str:
    pretty = DATASET_NAMES[name]
    if synthetic:
        return f"synthetic data in the {pretty} format (not CIFAR)"
    return pretty if what is None else f"{pretty} ({what})"


# --------------------------------------------------------------------------
# where the data are
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


def default_source(name: str) -> str:
    cached = default_cache_dir() / ARCHIVES[name]
    if not cached.exists():
        raise DataError(
            f"no data for {name}: set data_dir (or ${ENV_VAR}) to a folder, .tar.gz "
            f"or .npz, or data_dir='download' to fetch {URLS[name]}"
        )
    return str(cached)


def read(name: str, data_dir: str | os.PathLike | None):
    """(x_train, y_train, x_test, y_test, source) of CIFAR ``name`` from ``data_dir``
    (a folder, archive or npz, or "download"); see ``data.load_cifar``."""
    if name not in DATASETS:
        raise DataError(f"dataset={name!r} is not one of {DATASETS}")
    data_dir = resolve_data_dir(data_dir) or default_source(name)
    src = download(name) if data_dir == "download" else find_source(name, data_dir)
    if src.is_dir():
        return read_python_folder(src, name)
    if src.name.endswith((".tar.gz", ".tgz")):
        return read_python_archive(src, name)
    if src.suffix == ".npz":
        return read_npz(src, name)
    raise DataError(f"data_dir={str(data_dir)!r}: cannot read {src.name}; accepted: a "
                    "folder, a .tar.gz archive or an .npz")
