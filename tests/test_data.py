"""CIFAR parsers, checksums, sources, preprocessing and augmentation (helpers.experiment.data)."""

import io
import json
import pickle
import tarfile

import numpy as np
import pytest

from helpers.experiment import augmentation, cifar_files, data, synthetic
from helpers.experiment.data import DataError

FORMATS = ("folder", "archive", "npz")
NAMES = ("cifar10", "cifar100")


def _assert_same(ds, expected):
    xtr, ytr, xte, yte = expected
    for got, want in ((ds.x_train, xtr), (ds.y_train, ytr), (ds.x_test, xte), (ds.y_test, yte)):
        assert got.dtype == want.dtype
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)


# --------------------------------------------------------------------------
# parsers on the synthetic data, in every format
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_parsers_return_exactly_the_written_arrays(write_syn, name, fmt):
    path, expected = write_syn(name, fmt)
    ds = data.load_cifar(name, path)
    _assert_same(ds, expected)
    assert ds.x_train.dtype == np.uint8 and ds.x_train.shape == (20, 32, 32, 3)
    assert ds.x_test.shape == (8, 32, 32, 3)
    assert ds.y_train.dtype == np.int64 and ds.y_test.dtype == np.int64
    assert ds.name == name
    assert ds.num_classes == {"cifar10": 10, "cifar100": 100}[name]
    assert ds.source["synthetic"] is True
    assert "synthetic" in ds.source["label"] and "not CIFAR" in ds.source["label"]


def test_folder_can_also_be_given_directly(write_syn):
    root, expected = write_syn("cifar10", "folder")
    ds = data.load_cifar("cifar10", root / "cifar-10-batches-py")
    _assert_same(ds, expected)
    assert ds.source["kind"] == "python-folder"


def test_cifar10_train_set_is_the_five_batches_in_order(write_syn):
    # 20 images split 4/4/4/4/4 over data_batch_1..5; the order must be preserved.
    root, (xtr, ytr, _, _) = write_syn("cifar10", "folder")
    folder = root / "cifar-10-batches-py"
    with open(folder / "data_batch_3", "rb") as f:
        d = pickle.load(f, encoding="bytes")
    assert d[b"labels"] == [int(v) for v in ytr[8:12]]
    ds = data.load_cifar("cifar10", root)
    np.testing.assert_array_equal(ds.y_train[8:12], ytr[8:12])


def test_cifar100_uses_the_fine_labels(tmp_path):
    # Hand-made batch whose coarse labels differ from the fine ones.
    x = np.zeros((3, 32, 32, 3), np.uint8)
    fine, coarse = [97, 3, 50], [19, 0, 10]
    raw = pickle.dumps({b"data": x.transpose(0, 3, 1, 2).reshape(3, -1),
                        b"fine_labels": fine, b"coarse_labels": coarse}, protocol=2)
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    sums = {}
    for fname in ("train", "test"):
        (folder / fname).write_bytes(raw)
        sums[f"cifar-100-python/{fname}"] = cifar_files.md5sum(folder / fname)
    (tmp_path / "SYNTHETIC.json").write_text(json.dumps({"md5": sums}))
    ds = data.load_cifar("cifar100", tmp_path)
    assert ds.y_train.tolist() == fine
    assert ds.y_test.tolist() == fine


def test_chw_rows_are_converted_to_hwc(tmp_path):
    # One image whose channel c, row r, column k has value (c * 64 + r * 2 + k) % 256 in
    # the CIFAR CHW row layout: 1024 red, then 1024 green, then 1024 blue values.
    c, r, k = np.meshgrid(np.arange(3), np.arange(32), np.arange(32), indexing="ij")
    chw = ((c * 64 + r * 2 + k) % 256).astype(np.uint8)
    flat = chw.reshape(1, 3072)
    flat[0, 0] = 7           # red of pixel (0, 0)
    flat[0, 1024 + 33] = 201  # green of pixel (1, 1)
    flat[0, 2048 + 32 * 5 + 9] = 99  # blue of pixel (5, 9)
    raw = pickle.dumps({b"data": flat, b"labels": [4]}, protocol=2)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    sums = {}
    for fname in cifar_files.TRAIN_FILES["cifar10"] + cifar_files.TEST_FILES["cifar10"]:
        (folder / fname).write_bytes(raw)
        sums[f"cifar-10-batches-py/{fname}"] = cifar_files.md5sum(folder / fname)
    (tmp_path / "SYNTHETIC.json").write_text(json.dumps({"md5": sums}))

    ds = data.load_cifar("cifar10", tmp_path)
    assert ds.x_train.shape == (5, 32, 32, 3)
    img = ds.x_test[0]
    assert img[0, 0, 0] == 7
    assert img[1, 1, 1] == 201
    assert img[5, 9, 2] == 99
    assert img[3, 10, 0] == (0 * 64 + 3 * 2 + 10) % 256
    assert img[3, 10, 1] == (1 * 64 + 3 * 2 + 10) % 256
    assert img[31, 2, 2] == (2 * 64 + 31 * 2 + 2) % 256
    # the whole image, against numpy's own transposition
    expected = flat.reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(img, expected)
    assert ds.y_test.tolist() == [4]


# --------------------------------------------------------------------------
# checksums
# --------------------------------------------------------------------------

def _flip_byte(path, offset=-1):
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0xFF
    path.write_bytes(bytes(raw))


def test_corrupt_folder_file_is_refused(write_syn):
    root, _ = write_syn("cifar10", "folder")
    _flip_byte(root / "cifar-10-batches-py" / "data_batch_2", 200)
    with pytest.raises(DataError, match="MD5") as e:
        data.load_cifar("cifar10", root)
    assert "data_batch_2" in str(e.value)


def test_corrupt_archive_is_refused(write_syn):
    archive, _ = write_syn("cifar100", "archive")
    _flip_byte(archive, 100)
    with pytest.raises(DataError, match="MD5"):
        data.load_cifar("cifar100", archive)


@pytest.mark.parametrize("fmt", ("folder", "archive"))
def test_edited_marker_sum_is_refused(write_syn, fmt):
    path, _ = write_syn("cifar10", fmt)
    root = path if fmt == "folder" else path.parent
    marker = root / cifar_files.SYNTHETIC_MARKER
    meta = json.loads(marker.read_text())
    key = "cifar-10-batches-py/test_batch" if fmt == "folder" else path.name
    meta["md5"][key] = "0" * 32
    marker.write_text(json.dumps(meta))
    with pytest.raises(DataError, match="MD5"):
        data.load_cifar("cifar10", path)


@pytest.mark.parametrize("fmt", ("folder", "archive"))
def test_without_marker_the_published_md5_is_required(write_syn, fmt):
    path, _ = write_syn("cifar10", fmt)
    root = path if fmt == "folder" else path.parent
    (root / cifar_files.SYNTHETIC_MARKER).unlink()
    with pytest.raises(DataError, match="MD5") as e:
        data.load_cifar("cifar10", path)
    msg = str(e.value)
    published = (cifar_files.PUBLISHED_MD5["cifar-10-batches-py/data_batch_1"] if fmt == "folder"
                 else cifar_files.PUBLISHED_MD5["cifar-10-python.tar.gz"])
    assert published in msg


def test_md5sum_matches_hashlib(tmp_path):
    import hashlib

    p = tmp_path / "f.bin"
    blob = bytes(range(256)) * 5000
    p.write_bytes(blob)
    assert cifar_files.md5sum(p, chunk=1000) == hashlib.md5(blob).hexdigest()
    assert cifar_files.sha256sum(p, chunk=999) == hashlib.sha256(blob).hexdigest()


def test_archive_without_the_expected_member_is_refused(tmp_path):
    # A well-formed archive (its MD5 in the marker) with the wrong folder name inside.
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        raw = b"nothing"
        info = tarfile.TarInfo("other-folder/data_batch_1")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    (tmp_path / cifar_files.SYNTHETIC_MARKER).write_text(
        json.dumps({"md5": {archive.name: cifar_files.md5sum(archive)}}))
    with pytest.raises(DataError, match="no member cifar-10-batches-py/data_batch_1"):
        data.load_cifar("cifar10", archive)


def test_incomplete_folder_is_refused(write_syn):
    root, _ = write_syn("cifar10", "folder")
    (root / "cifar-10-batches-py" / "data_batch_5").unlink()
    with pytest.raises(DataError, match="data_batch_5 is missing"):
        data.load_cifar("cifar10", root)


# --------------------------------------------------------------------------
# npz: plain arrays and the JPEG pack
# --------------------------------------------------------------------------

def _jpeg_pack(path, n_train=5, n_test=3, k=10, seed=0, fmt="JPEG"):
    from PIL import Image

    rng = np.random.default_rng(seed)
    out = {}
    labels = {}
    for split, n in (("train", n_train), ("test", n_test)):
        blobs, offsets = [], [0]
        for i in range(n):
            img = np.full((32, 32, 3), (i * 40) % 256, np.uint8)
            buf = io.BytesIO()
            Image.fromarray(img).save(buf, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
            blobs.append(buf.getvalue())
            offsets.append(offsets[-1] + len(blobs[-1]))
        labels[split] = rng.integers(0, k, n).astype(np.int64)
        out[f"{split}_jpeg"] = np.frombuffer(b"".join(blobs), np.uint8)
        out[f"{split}_offsets"] = np.asarray(offsets, np.int64)
        out[f"{split}_labels"] = labels[split]
    np.savez(path, **out)
    return labels


def test_jpeg_pack_decodes(tmp_path):
    path = tmp_path / "cifar10-jpeg.npz"
    labels = _jpeg_pack(path)
    ds = data.load_cifar("cifar10", tmp_path)  # found by its standard name
    assert ds.x_train.shape == (5, 32, 32, 3) and ds.x_train.dtype == np.uint8
    assert ds.x_test.shape == (3, 32, 32, 3)
    np.testing.assert_array_equal(ds.y_train, labels["train"])
    np.testing.assert_array_equal(ds.y_test, labels["test"])
    assert ds.y_train.dtype == np.int64
    assert "JPEG copy" in ds.source["label"]
    assert ds.source["kind"] == "jpeg-pack"
    assert ds.source["synthetic"] is False
    # flat grey images survive JPEG almost exactly
    for i in range(5):
        assert abs(int(ds.x_train[i].mean()) - (i * 40) % 256) <= 2


def test_png_pack_is_lossless_and_labelled_by_its_bytes(tmp_path):
    """A pack of PNG files (the key names still say 'jpeg') is exact and labelled
    'CIFAR-100', not 'JPEG copy': the format is read from the bytes."""
    path = tmp_path / "cifar100-png.npz"
    labels = _jpeg_pack(path, k=100, fmt="PNG")
    ds = data.load_cifar("cifar100", path)
    assert ds.source["kind"] == "png-pack"
    assert ds.source["label"] == "CIFAR-100"
    np.testing.assert_array_equal(ds.y_train, labels["train"])
    for i in range(5):
        assert (ds.x_train[i] == (i * 40) % 256).all()          # lossless


def _pack_arrays(tmp_path):
    _jpeg_pack(tmp_path / "ok.npz")
    with np.load(tmp_path / "ok.npz") as z:
        return {k: z[k] for k in z.files}


@pytest.mark.parametrize("make, match", [
    (lambda p, a: p.write_bytes(b""), r"is empty \(0 bytes\)"),
    (lambda p, a: np.savez(p, x_train=np.zeros((0, 32, 32, 3), np.uint8),
                           y_train=np.zeros(0, np.int64), x_test=np.zeros((0, 32, 32, 3),
                           np.uint8), y_test=np.zeros(0, np.int64)), "an array is empty"),
    (lambda p, a: np.savez(p, **{**a, "train_offsets": a["train_offsets"] + 7}),
     "cannot be decoded|do not cut"),
    (lambda p, a: np.savez(p, **{**a, "train_offsets": a["train_offsets"][::-1]}),
     "do not cut"),
    (lambda p, a: np.savez(p, **{**a, "train_jpeg": np.zeros(50, np.uint8)}),
     "neither JPEG nor PNG"),
])
def test_bad_packs_name_the_file_and_the_problem(tmp_path, make, match):
    """A zero-byte npz, empty arrays and offsets that point at garbage stop with a
    DataError naming the file, not a raw EOFError/ValueError/UnidentifiedImageError."""
    arrays = _pack_arrays(tmp_path)
    path = tmp_path / "bad.npz"
    make(path, arrays)
    with pytest.raises(cifar_files.DataError, match=match) as e:
        data.load_cifar("cifar10", path)
    assert "bad.npz" in str(e.value)


def test_npz_source_records_sha256(write_syn):
    path, _ = write_syn("cifar10", "npz")
    ds = data.load_cifar("cifar10", path)
    assert ds.source["sha256"] == cifar_files.sha256sum(path)
    assert ds.source["kind"] == "npz"


def _arrays(n=4, k=10):
    return dict(x_train=np.zeros((n, 32, 32, 3), np.uint8), y_train=np.arange(n) % k,
                x_test=np.zeros((2, 32, 32, 3), np.uint8), y_test=np.array([0, k - 1]))


@pytest.mark.parametrize("bad, match", [
    (lambda a: {"images": a["x_train"], "labels": a["y_train"]}, "expected x_train"),
    (lambda a: {**a, "x_train": a["x_train"].astype(np.float32)}, "x_train must be uint8"),
    (lambda a: {**a, "x_test": np.zeros((2, 3, 32, 32), np.uint8)}, "x_test must be uint8"),
    (lambda a: {**a, "x_train": np.zeros((4, 32, 32), np.uint8)}, "x_train must be uint8"),
    (lambda a: {**a, "y_train": np.array([0, 1, 2, 10])}, "labels outside 0..9"),
    (lambda a: {**a, "y_test": np.array([-1, 3])}, "labels outside 0..9"),
])
def test_bad_npz_is_refused(tmp_path, bad, match):
    path = tmp_path / "mine.npz"
    np.savez(path, **bad(_arrays()))
    with pytest.raises(DataError, match=match):
        data.load_cifar("cifar10", path)


def test_npz_cifar100_labels_up_to_99_accepted_but_not_as_cifar10(tmp_path):
    path = tmp_path / "c100.npz"
    a = _arrays(k=100)
    a["y_train"] = np.array([[99], [0], [50], [7]])  # (N, 1) labels are flattened
    np.savez(path, **a)
    ds = data.load_cifar("cifar100", path)
    assert ds.y_train.tolist() == [99, 0, 50, 7] and ds.y_train.dtype == np.int64
    with pytest.raises(DataError, match="labels outside"):
        data.load_cifar("cifar10", path)


# --------------------------------------------------------------------------
# finding the data
# --------------------------------------------------------------------------

def test_missing_data_dir_names_the_parameter(tmp_path, no_cifar_env):
    missing = tmp_path / "does-not-exist"
    with pytest.raises(DataError, match="data_dir=") as e:
        data.load_cifar("cifar10", missing)
    assert str(missing) in str(e.value)


def test_empty_data_dir_lists_what_it_looked_for(tmp_path):
    with pytest.raises(DataError, match="data_dir=") as e:
        data.load_cifar("cifar100", tmp_path)
    assert "cifar-100-python" in str(e.value) and "cifar100.npz" in str(e.value)


def test_unknown_dataset_names_the_parameter(synthetic_root):
    with pytest.raises(DataError, match="dataset='mnist'"):
        data.load_cifar("mnist", synthetic_root)


def test_unreadable_file_type_is_refused(tmp_path):
    p = tmp_path / "cifar.zip"
    p.write_bytes(b"PK")
    with pytest.raises(DataError, match="cannot read cifar.zip"):
        data.load_cifar("cifar10", p)


def test_no_data_and_empty_cache_says_how_to_get_it(no_cifar_env):
    with pytest.raises(DataError, match="download"):
        data.load_cifar("cifar10", None)


def test_env_var_is_used_when_data_dir_is_none(write_syn, monkeypatch):
    path, expected = write_syn("cifar10", "npz", seed=3)
    monkeypatch.setenv("CIFAR_DATA_DIR", str(path))
    ds = data.load_cifar("cifar10", None)
    _assert_same(ds, expected)
    assert ds.source["path"] == str(path)
    assert cifar_files.resolve_data_dir(None) == str(path)
    assert cifar_files.resolve_data_dir("") == str(path)
    assert data.fingerprint("cifar10", None) == data.fingerprint("cifar10", path)


def test_explicit_data_dir_wins_over_env_var(write_syn, monkeypatch, tmp_path):
    path, expected = write_syn("cifar10", "folder", seed=1)
    monkeypatch.setenv("CIFAR_DATA_DIR", str(tmp_path / "nowhere"))
    _assert_same(data.load_cifar("cifar10", path), expected)


def test_keras_cache_archive_is_used_without_data_dir(write_syn, no_cifar_env):
    # the archive already in $KERAS_HOME/datasets is read when nothing else is given
    cache = no_cifar_env / "datasets"
    path, expected = write_syn("cifar10", "archive", subdir="keras-home/datasets")
    assert path == cache / "cifar-10-python.tar.gz"
    _assert_same(data.load_cifar("cifar10", None), expected)


# --------------------------------------------------------------------------
# fingerprint
# --------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_fingerprint_is_stable_and_content_based(tmp_path, fmt):
    a = synthetic.write_synthetic(tmp_path / "a", "cifar10", n_train=20, n_test=8, seed=0, fmt=fmt)
    b = synthetic.write_synthetic(tmp_path / "b", "cifar10", n_train=20, n_test=8, seed=0, fmt=fmt)
    c = synthetic.write_synthetic(tmp_path / "c", "cifar10", n_train=20, n_test=8, seed=1, fmt=fmt)
    fa = data.fingerprint("cifar10", a)
    assert isinstance(fa, str) and len(fa) == 12
    assert data.fingerprint("cifar10", a) == fa  # stable
    if fmt != "archive":  # a .tar.gz stores its write time, so only compare the others
        assert data.fingerprint("cifar10", b) == fa  # same content elsewhere, same id
    assert data.fingerprint("cifar10", c) != fa  # other content, other id


def test_fingerprint_changes_when_one_file_changes(synthetic_root):
    before = data.fingerprint("cifar10", synthetic_root)
    _flip_byte(synthetic_root / "cifar-10-batches-py" / "test_batch", 50)
    assert data.fingerprint("cifar10", synthetic_root) != before


def test_fingerprint_of_download_is_the_published_md5():
    assert data.fingerprint("cifar100", "download") == "eb9058c3a382"


# --------------------------------------------------------------------------
# preprocessing
# --------------------------------------------------------------------------

def _tiny_dataset():
    xtr = np.zeros((2, 32, 32, 3), np.uint8)
    xtr[0] = 0
    xtr[1] = 255
    xtr[1, 0, 0, 0] = 51  # pixel (0,0,red): train values 0 and 51 -> mean 25.5/255
    xte = np.full((1, 32, 32, 3), 102, np.uint8)
    return data.Dataset(xtr, np.array([0, 1]), xte, np.array([1]), "cifar10",
                        {"label": "hand-made"})


def test_preprocess_by_hand():
    p = data.preprocess(_tiny_dataset())
    assert p.x_train.dtype == np.float32 and p.x_test.dtype == np.float32
    assert p.mean.shape == (32, 32, 3)
    assert p.mean[0, 0, 0] == pytest.approx(25.5 / 255)
    assert p.mean[5, 5, 1] == pytest.approx(0.5)
    # training images: x/255 - mean
    assert p.x_train[0, 0, 0, 0] == pytest.approx(-25.5 / 255)
    assert p.x_train[1, 0, 0, 0] == pytest.approx(25.5 / 255)
    assert p.x_train[1, 5, 5, 1] == pytest.approx(0.5)
    # the test image is centred with the TRAINING mean, not its own (which would give 0)
    assert p.x_test[0, 0, 0, 0] == pytest.approx(102 / 255 - 25.5 / 255)
    assert p.x_test[0, 5, 5, 1] == pytest.approx(102 / 255 - 0.5)
    assert p.num_classes == 10
    assert p.source == {"label": "hand-made"}
    np.testing.assert_array_equal(p.y_train, [0, 1])


def test_preprocess_centres_the_training_set(synthetic_root):
    ds = data.load_cifar("cifar10", synthetic_root)
    p = data.preprocess(ds)
    assert np.abs(p.x_train.mean(axis=0)).max() < 1e-5
    np.testing.assert_allclose(p.x_train, ds.x_train / 255.0 - p.mean, atol=1e-6)
    np.testing.assert_allclose(p.x_test, ds.x_test / 255.0 - ds.x_train.mean(0) / 255.0,
                               atol=1e-6)
    # the test set is not centred on itself
    assert np.abs(p.x_test.mean(axis=0)).max() > 1e-3


# --------------------------------------------------------------------------
# augmentation
# --------------------------------------------------------------------------

def _grid(b=1, h=5, w=4):
    """Images whose pixel (r, c) holds 10 * r + c (channel 0) and 100 + i (channel 1)."""
    r, c = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    x = np.zeros((b, h, w, 2), np.int64)
    x[..., 0] = 10 * r + c
    x[..., 1] = 100 + np.arange(b)[:, None, None]
    return x


def _ints(*v):
    return np.asarray(v, dtype=np.int64)


def test_shift_flip_identity():
    x = _grid(2)
    out = augmentation.shift_flip(x, _ints(0, 0), _ints(0, 0), np.array([False, False]))
    np.testing.assert_array_equal(out, x)


def test_shift_down_by_one_copies_the_edge_row():
    x = _grid()[..., 0]  # (1, 5, 4): rows 0,1,2,3,4
    out = augmentation.shift_flip(x[..., None], _ints(1), _ints(0), np.array([False]))[0, ..., 0]
    expected = np.array([[0, 1, 2, 3],      # border: the edge row repeated
                         [0, 1, 2, 3],
                         [10, 11, 12, 13],
                         [20, 21, 22, 23],
                         [30, 31, 32, 33]])
    np.testing.assert_array_equal(out, expected)


def test_shift_up_and_right():
    x = _grid()[..., :1]
    out = augmentation.shift_flip(x, _ints(-2), _ints(1), np.array([False]))[0, ..., 0]
    expected = np.array([[20, 20, 21, 22],
                         [30, 30, 31, 32],
                         [40, 40, 41, 42],
                         [40, 40, 41, 42],
                         [40, 40, 41, 42]])
    np.testing.assert_array_equal(out, expected)


def test_flip_reverses_columns():
    x = _grid()[..., :1]
    out = augmentation.shift_flip(x, _ints(0), _ints(0), np.array([True]))
    np.testing.assert_array_equal(out, x[:, :, ::-1])
    np.testing.assert_array_equal(out[0, 2, :, 0], [23, 22, 21, 20])


def test_shift_flip_is_per_image():
    x = _grid(3)
    out = augmentation.shift_flip(x, _ints(0, 1, 0), _ints(0, 0, 0), np.array([False, False, True]))
    np.testing.assert_array_equal(out[0], x[0])
    np.testing.assert_array_equal(out[1, 1:], x[1, :-1])
    np.testing.assert_array_equal(out[2], x[2, :, ::-1])
    np.testing.assert_array_equal(out[..., 1], x[..., 1])  # images never mixed


def _candidates(img, max_shift=5):
    """Every shift (|dy|, |dx| <= max_shift, edge fill) and flip of img, computed
    independently of shift_flip (np.pad with mode='edge', then slicing)."""
    h, w = img.shape[:2]
    p = np.pad(img, ((max_shift, max_shift), (max_shift, max_shift), (0, 0)), mode="edge")
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            out = p[max_shift - dy:max_shift - dy + h, max_shift - dx:max_shift - dx + w]
            yield dy, dx, 0, out
            yield dy, dx, 1, out[:, ::-1]


def test_reference_agrees_with_shift_flip_on_one_case():
    x = _grid(1, 6, 5)
    ref = {(dy, dx, f): o for dy, dx, f, o in _candidates(x[0])}
    for dy, dx, f in ((2, -1, 1), (-3, 3, 0), (0, 0, 1)):
        got = augmentation.shift_flip(x, _ints(dy), _ints(dx), np.array([bool(f)]))[0]
        np.testing.assert_array_equal(got, ref[(dy, dx, f)])


def _augment(x, seed, **kw):
    """The images of the epoch plan (seed, epoch 0) over x, back in x's order."""
    plan = augmentation.epoch_plan(len(x), seed, 0, **kw)
    out, _ = plan.apply(x, np.arange(len(x)))
    return out[np.argsort(plan.perm)]


def test_augment_only_shifts_up_to_max_shift_and_flips():
    n = 64
    r, c = np.meshgrid(np.arange(32), np.arange(32), indexing="ij")
    x = np.zeros((n, 32, 32, 3), np.uint8)
    x[..., 0], x[..., 1] = r, c
    x[..., 2] = np.arange(n)[:, None, None]
    out = _augment(x, 7)
    assert out.shape == x.shape and out.dtype == x.dtype
    found = []
    for i in range(n):
        matches = [(dy, dx, f) for dy, dx, f, cand in _candidates(x[i])
                   if np.array_equal(out[i], cand)]
        assert len(matches) == 1, f"image {i} is not a shift/flip of its input"
        found.append(matches[0])
    dys, dxs, flips = map(np.array, zip(*found))
    assert np.abs(dys).max() <= augmentation.MAX_SHIFT and np.abs(dxs).max() <= augmentation.MAX_SHIFT
    # with 64 images the whole range and both flip states are used
    assert dys.min() == -3 and dys.max() == 3 and dxs.min() == -3 and dxs.max() == 3
    assert 10 < flips.sum() < 54


def test_augment_is_deterministic_per_seed(synthetic_root):
    x = data.load_cifar("cifar10", synthetic_root).x_train
    a, b, c = _augment(x, 1), _augment(x, 1), _augment(x, 2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == x.shape


def test_augment_max_shift_zero_only_flips():
    x = _grid(16, 6, 6)
    out = _augment(x, 0, max_shift=0)
    for i in range(16):
        assert np.array_equal(out[i], x[i]) or np.array_equal(out[i], x[i, :, ::-1])


# --------------------------------------------------------------------------
# Dataset.subset
# --------------------------------------------------------------------------

def test_subset_sizes_and_content(synthetic_root):
    ds = data.load_cifar("cifar10", synthetic_root)
    sub = ds.subset(7, 3)
    assert len(sub.x_train) == len(sub.y_train) == 7
    assert len(sub.x_test) == len(sub.y_test) == 3
    assert sub.name == "cifar10" and sub.source == ds.source
    # every kept image is an original image with its own label, in original order
    idx = [next(j for j in range(len(ds.y_train)) if np.array_equal(ds.x_train[j], img))
           for img in sub.x_train]
    assert idx == sorted(idx) and len(set(idx)) == 7
    np.testing.assert_array_equal(sub.y_train, ds.y_train[idx])
    # deterministic
    np.testing.assert_array_equal(ds.subset(7, 3).x_train, sub.x_train)


def test_subset_none_or_too_large_keeps_everything(synthetic_root):
    ds = data.load_cifar("cifar10", synthetic_root)
    for sub in (ds.subset(None, None), ds.subset(1000, 8)):
        np.testing.assert_array_equal(sub.x_train, ds.x_train)
        np.testing.assert_array_equal(sub.y_test, ds.y_test)
    assert len(ds.subset(None, 2).x_test) == 2 and len(ds.subset(None, 2).x_train) == 20


def test_write_synthetic_rejects_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="fmt='zip'"):
        synthetic.write_synthetic(tmp_path, fmt="zip")
