"""The noise model as one value (noise.NoiseModel), its registry of kinds, and the two
sweeps (helpers.experiment.sweeps) that share the table and differ only in their evaluator.

The pytest session is pinned to TensorFlow (conftest.py); the fast (JAX) sweep is
checked in one subprocess with ``KERAS_BACKEND=jax`` that runs this file as a script
(as tests/test_engine.py does) and prints its measurements as JSON.
"""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest

# 12 of 40 labels are class 0: a model whose weights are all zero outputs equal
# logits, arg-max picks class 0, so its accuracy is exactly 0.3
Y_ZERO_FRACTION = 0.3


def zero(a, sigma, eta, rng):
    """A test kind: every noised weight becomes 0 (no draw)."""
    return np.zeros_like(a)


def _data():
    x = np.random.default_rng(0).normal(size=(40, 8, 8, 3)).astype(np.float32)
    y = np.r_[np.zeros(12, int), np.arange(28) % 9 + 1]
    return x, y


def _model():
    import keras

    from helpers.experiment import models

    keras.utils.set_random_seed(0)
    return models.resnet_v1(8, 10, input_shape=(8, 8, 3))


# --------------------------------------------------------------------------
# NoiseModel: checked once, named as the records name it
# --------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, accepted", [
    ("scope", "biases", ["'all'", "'trainable'", "'kernels'", "'folded'"]),
    ("granularity", "model", ["'array'", "'layer'"]),
    ("kind", "uniform", ["'additive'", "'multiplicative'"]),
])
def test_a_bad_field_names_itself_and_the_accepted_values(field, value, accepted):
    from helpers.experiment.noise import NoiseModel

    with pytest.raises(ValueError) as e:
        NoiseModel(**{field: value})
    msg = str(e.value)
    assert msg.startswith(f"{field}={value!r}"), msg
    assert all(a in msg for a in accepted), msg


def test_names_are_the_records_names_in_the_ablations_order():
    from helpers.experiment import noise

    assert noise.PAPER == noise.NoiseModel("all", "array", "additive")
    assert noise.PAPER.name == "all/array/additive"
    assert [m.name for m in noise.ABLATION] == [
        "all/array/additive", "trainable/array/additive", "kernels/array/additive",
        "all/layer/additive", "all/array/multiplicative", "folded/array/additive"]
    assert all(noise.NoiseModel.from_name(m.name) == m for m in noise.ABLATION)
    with pytest.raises(ValueError, match="scope/granularity/kind"):
        noise.NoiseModel.from_name("all/array")
    with pytest.raises(ValueError, match="kind='x'"):
        noise.NoiseModel.from_name("all/array/x")


def test_a_noise_model_is_a_frozen_value():
    from helpers.experiment.noise import ABLATION, NoiseModel

    m = NoiseModel(scope="folded")
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.scope = "all"
    assert m in ABLATION and len(set(ABLATION)) == len(ABLATION)


# --------------------------------------------------------------------------
# kinds: a registry; the draws are the ones made before it existed
# --------------------------------------------------------------------------

def _reference_noisy_arrays(arrays, sigmas, eta, rng, kind):
    """``noise.noisy_arrays`` as it was before the registry (a copy, to compare)."""
    out = []
    for a, s in zip(arrays, sigmas):
        if s is None:
            out.append(a)
            continue
        e = rng.standard_normal(a.shape).astype(a.dtype)
        out.append(a + (eta * s) * e if kind == "additive" else a * (1 + eta * e))
    return out


@pytest.mark.parametrize("name", ["all/array/additive", "all/layer/additive",
                                  "all/array/multiplicative", "folded/array/additive"])
def test_draws_are_bit_identical_to_the_draws_before_the_registry(name):
    from helpers.experiment import noise

    model = noise.NoiseModel.from_name(name)
    variables, base, sigmas = noise.noise_targets(_model(), model)
    for eta, r in ((0.1, 0), (0.4, 3)):
        got = noise.noisy_arrays(base, sigmas, eta, noise.draw_rng(5, eta, r), model.kind)
        ref = _reference_noisy_arrays(base, sigmas, eta, noise.draw_rng(5, eta, r), model.kind)
        for g, f in zip(got, ref):
            assert g.dtype == f.dtype
            np.testing.assert_array_equal(g, f)


def test_a_new_kind_is_one_registry_entry_and_shows_in_the_sweep(monkeypatch):
    from helpers.experiment import noise, sweeps

    x, y = _data()
    model = _model()
    with pytest.raises(ValueError, match="kind='zero'"):
        noise.NoiseModel(kind="zero")
    monkeypatch.setitem(noise.KINDS, "zero", zero)
    zeroed = noise.NoiseModel(kind="zero")
    assert zeroed.name == "all/array/zero"

    etas = (0.1, 0.3)
    paper = sweeps.noise_sweep(model, x, y, noise.PAPER, etas=etas, n_repeats=2, seed=1,
                               progress=False, engine="fit")
    table = sweeps.noise_sweep(model, x, y, zeroed, etas=etas, n_repeats=2, seed=1,
                               progress=False, engine="fit")
    assert list(table.columns) == ["eta", "repeat", "accuracy", "nonfinite"]
    assert table["accuracy"].iloc[0] == paper["accuracy"].iloc[0]   # a0: the model as it is
    noisy = table[table["eta"] > 0]
    assert len(noisy) == 4
    assert (noisy["accuracy"] == Y_ZERO_FRACTION).all() and (noisy["nonfinite"] == 0).all()
    assert not (paper[paper["eta"] > 0]["accuracy"] == Y_ZERO_FRACTION).all()


def test_ablation_sweeps_every_reading_but_the_skipped_ones():
    from helpers.experiment import noise, sweeps

    x, y = _data()
    got = sweeps.ablation_sweeps(_model(), x, y, 1, seed=0, skip=noise.ABLATION[2:],
                                 progress=False, engine="fit")
    assert list(got) == ["all/array/additive", "trainable/array/additive"]
    assert all(len(t) == 1 + len(noise.PAPER_ETAS) for t in got.values())
    with pytest.raises(TypeError, match="NoiseModel"):
        sweeps.ablation_sweeps(_model(), x, y, 1, skip=("all/array/additive",), engine="fit")


# --------------------------------------------------------------------------
# the fast sweep (JAX): same table as the fit sweep, the new kind included
# --------------------------------------------------------------------------

def measure() -> dict:
    import keras

    from helpers.experiment import noise, sweeps

    x, y = _data()
    model = _model()
    out = {"backend": keras.config.backend()}
    noise.KINDS["zero"] = zero
    try:
        for m in (noise.PAPER, noise.NoiseModel(kind="zero"), noise.NoiseModel("folded", "layer")):
            out[m.name] = {engine: sweeps.noise_sweep(model, x, y, m, etas=(0.1, 0.4),
                                                      n_repeats=3, seed=2, progress=False,
                                                      engine=engine).to_dict(orient="list")
                           for engine in ("fit", "fast")}
    finally:
        del noise.KINDS["zero"]
    out["kinds_after"] = sorted(noise.KINDS)
    return out


@pytest.mark.slow
def test_the_fast_sweep_gives_the_fit_sweeps_table_for_every_kind(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2",
           "TMPDIR": str(tmp_path)}
    out = tmp_path / "measurements.json"
    proc = subprocess.run([sys.executable, __file__, str(out)], env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    m = json.loads(out.read_text())
    assert m["backend"] == "jax"
    for name in ("all/array/additive", "all/array/zero", "folded/layer/additive"):
        assert m[name]["fast"] == m[name]["fit"], name
    zeroed = m["all/array/zero"]["fast"]
    assert zeroed["accuracy"][1:] == [Y_ZERO_FRACTION] * 6
    assert zeroed["accuracy"][0] == m["all/array/additive"]["fast"]["accuracy"][0]
    assert m["kinds_after"] == ["additive", "multiplicative"]


if __name__ == "__main__":
    from pathlib import Path

    Path(sys.argv[1]).write_text(json.dumps(measure(), default=float))
