"""The training loop on the smoke profile: seeding, resume, divergence, records."""

from pathlib import Path

import h5py

import keras
import numpy as np
import pytest

from helpers.experiment import data as data_mod
from helpers.experiment.config import make_config
from helpers.experiment.augmentation import epoch_plan, shift_flip
from helpers.experiment.data import Prepared
from helpers.experiment.trainers import FitTrainer
from helpers.experiment.training import RunPaths, build_model, load_data, save_weights, train


def _setup(tmp_path, **overrides):
    config = make_config(profile="smoke", results_dir=str(tmp_path), **overrides)
    data = data_mod.preprocess(load_data(config))
    return config, data


def _weights(model):
    return [np.array(w) for w in model.get_weights()]


class Interrupt(keras.callbacks.Callback):
    """Raises KeyboardInterrupt at the given (0-based) fit call and batch."""

    def __init__(self, call, batch):
        super().__init__()
        self.call, self.batch, self.calls = call, batch, -1

    def on_train_begin(self, logs=None):
        self.calls += 1

    def on_train_batch_begin(self, batch, logs=None):
        if self.calls == self.call and batch == self.batch:
            raise KeyboardInterrupt


def test_same_seed_same_initial_weights_and_different_seed_differs(tmp_path):
    config, data = _setup(tmp_path)
    a = _weights(build_model(config, 10))
    b = _weights(build_model(config, 10))
    c = _weights(build_model(make_config(profile="smoke", seed=1), 10))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_saved_weights_hold_the_model_without_the_optimizer_state(tmp_path):
    """A model after a training step (Adam has its moments): the weights file has no
    optimizer group, is smaller than Keras' own, and loads into a fresh model that then
    predicts exactly as the trained one."""
    config = make_config(profile="smoke")
    model = build_model(config, 10)
    x = np.random.default_rng(0).normal(size=(8, 32, 32, 3)).astype(np.float32)
    model.train_on_batch(x, np.arange(8))
    model.save_weights(tmp_path / "keras.weights.h5")
    save_weights(model, tmp_path / "ours.weights.h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keras.weights.h5", "ours.weights.h5"]
    with h5py.File(tmp_path / "keras.weights.h5") as f, h5py.File(tmp_path / "ours.weights.h5") as g:
        assert "optimizer" in f and "optimizer" not in g and set(g) == set(f) - {"optimizer"}
    ours, theirs = ((tmp_path / n).stat().st_size for n in ("ours.weights.h5", "keras.weights.h5"))
    assert ours < 0.5 * theirs
    fresh = build_model(make_config(profile="smoke", seed=1), 10)
    fresh.load_weights(tmp_path / "ours.weights.h5")
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


def _fit_arrays(seed, epoch, n=16):
    x = np.random.default_rng(0).normal(size=(40, 32, 32, 3)).astype(np.float32)
    y = np.arange(40)
    data = Prepared(x, y, x[:4], y[:4], x.mean(axis=0), 40, {})
    return x, y, FitTrainer(None, data, batch_size=8).epoch_arrays(seed, epoch, n)


def test_fit_epoch_arrays_are_a_function_of_seed_and_epoch():
    _, _, (x1, y1) = _fit_arrays(3, 5)
    _, _, (x2, y2) = _fit_arrays(3, 5)
    _, _, (x3, y3) = _fit_arrays(3, 6)
    assert len(y1) == 16 and np.array_equal(y1, y2) and np.array_equal(x1, x2)
    assert not np.array_equal(y1, y3)
    assert len(set(y1.tolist())) == 16  # a permutation: no sample twice


def test_fit_trains_on_the_epoch_plan_applied_and_the_plan_keeps_its_draws():
    x, y, (xe, ye) = _fit_arrays(3, 5)
    plan = epoch_plan(len(y), 3, 5, 16)
    xp, yp = plan.apply(x, y)
    assert np.array_equal(xe, xp) and np.array_equal(ye, yp)
    # the draws of every recorded run: from one generator seeded by (seed, epoch), the
    # permutation, then per image dy, dx in -3..3 and a flip with probability 1/2
    rng = np.random.default_rng([3, 5])
    perm = rng.permutation(40)[:16]
    dy, dx = rng.integers(-3, 4, 16), rng.integers(-3, 4, 16)
    flip = rng.random(16) < 0.5
    assert np.array_equal(xe, shift_flip(x[perm], dy, dx, flip)) and np.array_equal(ye, y[perm])


def test_smoke_training_history_and_checkpoint(tmp_path):
    config, data = _setup(tmp_path, epochs=2)
    paths = RunPaths(Path(tmp_path), "run")
    result = train(config, data, paths, progress=False)
    assert result.status == "completed"
    assert [h["epoch"] for h in result.history] == [1, 2]
    assert all(np.isfinite(h["loss"]) and 0 <= h["test_accuracy"] <= 1 for h in result.history)
    # the schedule scaled to 2 epochs: epoch 2 starts at 50 % of training, past the 40 % step
    assert [h["lr"] for h in result.history] == pytest.approx([config.lr, 0.1 * config.lr])
    assert (paths.checkpoint / "model.keras").exists()
    # a finished run is reloaded, not retrained
    again = train(config, data, paths, progress=False)
    assert again.resumed_from_epoch == 2 and again.history == result.history
    assert all(np.array_equal(a, b) for a, b in zip(_weights(again.model), _weights(result.model)))


def test_interrupted_run_resumes_to_the_same_weights(tmp_path):
    config, data = _setup(tmp_path, epochs=2)
    straight = train(config, data, RunPaths(tmp_path / "a", "run"), progress=False)

    paths = RunPaths(tmp_path / "b", "run")
    with pytest.raises(KeyboardInterrupt):
        train(config, data, paths, callbacks=[Interrupt(call=1, batch=2)], progress=False)
    resumed = train(config, data, paths, progress=False)
    assert resumed.resumed_from_epoch == 1
    assert [h["epoch"] for h in resumed.history] == [1, 2]
    for a, b in zip(_weights(straight.model), _weights(resumed.model)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert resumed.history[0]["loss"] == straight.history[0]["loss"]


def test_nan_loss_is_recorded_as_diverged(tmp_path):
    config, data = _setup(tmp_path, optimizer="sgd", lr=1e8, epochs=3)
    paths = RunPaths(Path(tmp_path), "run")
    result = train(config, data, paths, progress=False)
    assert result.status == "diverged"
    assert result.diverged_at_epoch == 1
    assert len(result.history) == 1 and np.isnan(result.history[0]["loss"])
    # and it stays diverged when the run is started again
    assert train(config, data, paths, progress=False).status == "diverged"


def test_mixed_precision_computes_in_bfloat16_and_keeps_float32_weights(tmp_path, synthetic_root):
    config = make_config(profile="smoke", depth=8, data_dir=str(synthetic_root),
                         mixed_precision=True, results_dir=str(tmp_path))
    model = build_model(config, 10)
    convs = [l for l in model.layers if isinstance(l, keras.layers.Conv2D)]
    assert {l.compute_dtype for l in convs} == {"bfloat16"}
    assert {w.dtype for w in model.trainable_weights} == {"float32"}
    assert keras.config.dtype_policy().name == "float32"      # the global policy is restored
    x = np.random.default_rng(0).normal(size=(64, 32, 32, 3)).astype("float32")
    h = model.fit(x, np.arange(64) % 10, batch_size=32, epochs=1, verbose=0)
    assert np.isfinite(h.history["loss"][-1])
    plain = build_model(make_config(profile="smoke", depth=8, data_dir=str(synthetic_root)), 10)
    assert {l.compute_dtype for l in plain.layers if isinstance(l, keras.layers.Conv2D)} == {"float32"}
