"""Shared fixtures for the helpers tests.

The Keras backend is pinned to TensorFlow (the project's default) before
anything imports keras, and TensorFlow's C++ logging is quietened.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import data  # noqa: E402

# Small sizes: every parser test reads real on-disk formats, but only a few images.
SYN_TRAIN = 20
SYN_TEST = 8


@pytest.fixture
def synthetic_root(tmp_path):
    """A tmp folder holding a small synthetic CIFAR-10 in the standard folder layout
    (``cifar-10-batches-py/`` + ``SYNTHETIC.json``); pass it as ``data_dir``."""
    root = tmp_path / "synthetic"
    data.write_synthetic(root, "cifar10", n_train=SYN_TRAIN, n_test=SYN_TEST, seed=0,
                         fmt="folder")
    return root


@pytest.fixture
def write_syn(tmp_path):
    """Factory: ``write_syn(name, fmt, subdir=...)`` writes a small synthetic dataset in
    its own tmp folder and returns (path to pass as data_dir, the expected arrays)."""
    counter = {"i": 0}

    def _write(name="cifar10", fmt="folder", n_train=SYN_TRAIN, n_test=SYN_TEST, seed=0,
               subdir=None):
        counter["i"] += 1
        root = tmp_path / (subdir or f"{name}-{fmt}-{counter['i']}")
        path = data.write_synthetic(root, name, n_train=n_train, n_test=n_test, seed=seed,
                                    fmt=fmt)
        return path, data.synthetic_arrays(name, n_train, n_test, seed)

    return _write


@pytest.fixture
def no_cifar_env(monkeypatch, tmp_path):
    """No $CIFAR_DATA_DIR and an empty Keras cache: nothing found by default."""
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    keras_home = tmp_path / "keras-home"
    keras_home.mkdir()
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    return keras_home


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
