"""Shared fixtures for the helpers tests.

The Keras backend is pinned to TensorFlow (the project's default) before
anything imports keras, and TensorFlow's C++ logging is quietened.
"""

import json
import os
import subprocess
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers.experiment import cifar_files, synthetic  # noqa: E402

# Small sizes: every parser test reads real on-disk formats, but only a few images.
SYN_TRAIN = 20
SYN_TEST = 8


@pytest.fixture(scope="session")
def load_script():
    """Factory: ``load_script("bn_breakage")`` imports ``scripts/bn_breakage.py`` (the
    scripts are not a package) and returns the module."""
    import importlib.util
    from pathlib import Path

    def _load(name):
        path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return _load


@pytest.fixture
def synthetic_root(tmp_path):
    """A tmp folder holding a small synthetic CIFAR-10 in the standard folder layout
    (``cifar-10-batches-py/`` + ``SYNTHETIC.json``); pass it as ``data_dir``."""
    root = tmp_path / "synthetic"
    synthetic.write_synthetic(root, "cifar10", n_train=SYN_TRAIN, n_test=SYN_TEST, seed=0,
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
        path = synthetic.write_synthetic(root, name, n_train=n_train, n_test=n_test, seed=seed,
                                    fmt=fmt)
        return path, synthetic.synthetic_arrays(name, n_train, n_test, seed)

    return _write


@pytest.fixture
def no_cifar_env(monkeypatch, tmp_path):
    """No $CIFAR_DATA_DIR and an empty Keras cache: nothing found by default."""
    monkeypatch.delenv(cifar_files.ENV_VAR, raising=False)
    keras_home = tmp_path / "keras-home"
    keras_home.mkdir()
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    return keras_home


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="module")
def m(request, tmp_path_factory):
    """The JAX measurements of a test module (test_engine.py): the module
    run as a script under ``KERAS_BACKEND=jax`` (this session is pinned to TensorFlow),
    within its ``JAX_TIMEOUT`` seconds; returns the JSON it writes."""
    script = request.module.__file__
    tmp = tmp_path_factory.mktemp(request.module.__name__)
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2",
           "TMPDIR": str(tmp)}
    out = tmp / "measurements.json"
    proc = subprocess.run([sys.executable, script, str(out)], env=env, capture_output=True,
                          text=True, timeout=request.module.JAX_TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(out.read_text())
