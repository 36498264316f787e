"""The fast JAX engine (helpers.experiment.engine) trains and evaluates what Keras ``fit`` does.

The pytest session is pinned to TensorFlow (conftest.py), so the JAX checks run
once, in one subprocess with ``KERAS_BACKEND=jax`` that executes this file as a
script: it measures everything the tests need (fit vs fast on the same seeds)
and prints one JSON object; the tests below assert on it. Run the script alone
with ``KERAS_BACKEND=jax python tests/test_engine.py OUT.json``.
"""

import json
import sys
from pathlib import Path

LR = 0.01


# --------------------------------------------------------------------------
# the measurements (run under KERAS_BACKEND=jax)
# --------------------------------------------------------------------------

def _max_diff(a, b):
    import numpy as np
    return max(float(np.max(np.abs(np.asarray(p) - np.asarray(q)))) for p, q in zip(a, b))


def _values(variables):
    import numpy as np
    return [np.array(v.value) for v in variables]


def measure(tmp: Path) -> dict:
    import keras
    import numpy as np

    from helpers.experiment import (augmentation, engine, noise, sweeps, synthetic, trainers,
                                    training)
    from helpers.experiment import data as data_mod
    from helpers.experiment.config import make_config

    out = {"backend": keras.config.backend()}
    smoke = make_config(profile="smoke", depth=8, results_dir=str(tmp))
    data = data_mod.preprocess(training.load_data(smoke))

    # 1. the epoch plan + device augmentation give fit's epoch arrays bit for bit
    xe, ye = trainers.FitTrainer(None, data, 32).epoch_arrays(3, 5, 100)
    p = augmentation.epoch_plan(len(data.y_train), 3, 5, 100)
    xf = np.asarray(augmentation.shift_flip(keras.ops.convert_to_tensor(data.x_train)[p.perm], p.dy,
                                            p.dx, p.flip, xp=__import__("jax.numpy").numpy))
    out["plan_images_equal"] = bool(np.array_equal(xe, xf))
    out["plan_labels_equal"] = bool(np.array_equal(ye, data.y_train[p.perm]))
    out["plan_augments"] = bool(not np.array_equal(xe, data.x_train[p.perm]))

    # 2. one step on a fixed batch (augmentation off): fit and fast give the same weights
    x, y = data.x_train[:64], data.y_train[:64]
    for opt in ("adam", "sgd_momentum"):
        config = make_config(profile="smoke", depth=8, optimizer=opt, lr=LR)
        a, b = training.build_model(config, 10), training.build_model(config, 10)
        w0 = _values(a.weights)
        perm = augmentation.epoch_plan(len(y), 0, 0, 32, augment=False).perm
        h = a.fit(x[perm], y[perm], batch_size=32, epochs=1, shuffle=False, verbose=0)
        loss, acc = engine.FastTrainer(b, x, y, batch_size=32, augment=False).train_epoch(0, 0, 32)
        # conv biases feeding a BN layer have a zero gradient in exact arithmetic: Adam turns
        # their rounding noise into steps of +-lr, so they are compared on their own
        before_bn = {v.path for layer, nxt in zip(a.layers, a.layers[1:])
                     if isinstance(nxt, keras.layers.BatchNormalization)
                     for v in layer.weights if v.path.endswith("bias")}
        out[f"n_bias_before_bn_{opt}"] = len(before_bn)
        pairs = [(p, q) for p, q in zip(_values(a.weights), _values(b.weights))]
        paths = [v.path for v in a.weights]
        out[f"step_{opt}"] = {
            "fit_loss": float(h.history["loss"][-1]), "fast_loss": loss,
            "fit_acc": float(h.history["accuracy"][-1]), "fast_acc": acc,
            "moved": _max_diff(_values(a.weights), w0),
            "weights": _max_diff(*zip(*[pq for pq, n in zip(pairs, paths) if n not in before_bn])),
            "bias_before_bn": _max_diff(*zip(*[pq for pq, n in zip(pairs, paths) if n in before_bn]))
            if before_bn else 0.0,
            "optimizer": _max_diff(_values(a.optimizer.variables), _values(b.optimizer.variables)),
            "iterations": [int(a.optimizer.iterations.value), int(b.optimizer.iterations.value)],
        }

    # 3. weight decay: the engine's loss is cross-entropy + 1e-4 * sum of squared kernels
    t = engine.FastTrainer(b, x, y, batch_size=32, augment=False)
    tv, ntv = [v.value for v in b.trainable_variables], [v.value for v in b.non_trainable_variables]
    total, (y_pred, _) = t._loss_fn(tv, ntv, x[:32], y[:32])
    ce = keras.losses.SparseCategoricalCrossentropy()(y[:32], y_pred)
    l2 = sum(float(np.sum(np.square(v.value))) for v in b.trainable_variables
             if v.path.endswith("kernel"))
    out["decay"] = {"total": float(total), "ce": float(ce), "l2": 1e-4 * l2,
                    "n_regularized": len(b.losses)}

    # 4. a short run (2 epochs, augmentation on) on a small dataset in the real format
    root = synthetic.write_synthetic(tmp / "syn", "cifar10", n_train=480, n_test=200, seed=1)
    runs, lrs_seen = {}, {}

    class SeeLR(keras.callbacks.Callback):  # the LR in the optimizer during each epoch
        def on_epoch_end(self, epoch, logs=None):
            self.seen.append(float(self.model.optimizer.learning_rate.value))

    for eng in ("fit", "fast"):
        config = make_config(profile="fast", data_dir=str(root), depth=8, epochs=2, lr=LR,
                             results_dir=str(tmp / eng), engine=eng)
        short = data_mod.preprocess(training.load_data(config))
        cb = SeeLR()
        cb.seen = []
        runs[eng] = training.train(config, short, training.RunPaths(tmp / eng, "run"),
                                   callbacks=[cb], progress=False)
        lrs_seen[eng] = cb.seen
        out[f"short_{eng}"] = {"history": runs[eng].history, "engine": config.engine,
                               "epochs_per_lr": [training.lr_at_epoch(e, LR, 2) for e in range(2)]}
    out["short_lr_seen"] = lrs_seen
    out["short_weights"] = _max_diff(_values(runs["fit"].model.weights),
                                     _values(runs["fast"].model.weights))

    # 5. the fast noise sweep equals the plain one for the same seeds
    model = runs["fast"].model
    plain = sweeps.noise_sweep(model, short.x_test, short.y_test, n_repeats=2, seed=4,
                               progress=False, engine="fit")
    fast = sweeps.noise_sweep(model, short.x_test, short.y_test, n_repeats=2, seed=4,
                              progress=False)  # auto: fast on JAX
    kernels_layer = noise.NoiseModel(scope="kernels", granularity="layer")
    looped = engine.fast_noise_sweep(model, short.x_test, short.y_test, kernels_layer,
                                     n_repeats=2, seed=4, progress=False, vectorize="map",
                                     batch_size=64)
    plain_k = sweeps.noise_sweep(model, short.x_test, short.y_test, kernels_layer, n_repeats=2,
                                 seed=4, progress=False, engine="fit")
    out["sweep"] = {"plain": plain.to_dict(orient="list"), "fast": fast.to_dict(orient="list"),
                    "plain_kernels_layer": plain_k.to_dict(orient="list"),
                    "fast_kernels_layer_map": looped.to_dict(orient="list")}

    # 6. an interrupted fast run resumes to the same result as a straight one
    cfg2 = make_config(profile="smoke", depth=8, epochs=2, results_dir=str(tmp))
    straight = training.train(cfg2, data, training.RunPaths(tmp / "straight", "run"),
                              progress=False)

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    paths = training.RunPaths(tmp / "resumed", "run")
    try:
        training.train(cfg2, data, paths, callbacks=[Interrupt()], progress=False)
        out["interrupted"] = False
    except KeyboardInterrupt:
        out["interrupted"] = True
    resumed = training.train(cfg2, data, paths, progress=False)
    out["resume"] = {"from": resumed.resumed_from_epoch,
                     "straight": straight.history, "resumed": resumed.history,
                     "weights": _max_diff(_values(straight.model.weights),
                                          _values(resumed.model.weights))}

    # 7. a NaN loss is a diverged run
    bad = make_config(profile="smoke", depth=8, optimizer="sgd", lr=1e8, epochs=3,
                      results_dir=str(tmp / "bad"))
    r = training.train(bad, data, training.RunPaths(tmp / "bad", "run"), progress=False)
    out["diverged"] = {"status": r.status, "at": r.diverged_at_epoch, "rows": len(r.history)}

    # 8. the state donated on accelerators holds no buffer twice (XLA refuses that on any
    #    backend; donation is asked for only off the CPU, so it is forced on here)
    donate, engine._donate = engine._donate, lambda: (0,)
    out["donated"] = {}
    try:
        model = training.build_model(make_config(profile="smoke", depth=8, lr=0.001), 10)
        try:
            res = engine.FastTrainer(model, x, y, batch_size=32).train_epoch(0, 0, 64)
            out["donated"]["fast"] = bool(np.all(np.isfinite(np.asarray(res, float))))
        except Exception as e:
            out["donated"]["fast"] = f"{type(e).__name__}: {e}"[:300]
    finally:
        engine._donate = donate
    return out


# --------------------------------------------------------------------------
# the tests (TF-pinned session: run the script once)
# --------------------------------------------------------------------------

import pytest  # noqa: E402

pytestmark = pytest.mark.slow
JAX_TIMEOUT = 600  # seconds for the measurements (fixture ``m``, conftest.py)


def test_runs_on_jax(m):
    assert m["backend"] == "jax"


def test_epoch_plan_and_device_augmentation_are_fits_epoch_arrays(m):
    assert m["plan_images_equal"] and m["plan_labels_equal"]
    assert m["plan_augments"]  # the check is not vacuous: the images were shifted/flipped


@pytest.mark.parametrize("opt", ["adam", "sgd_momentum"])
def test_one_step_on_a_fixed_batch_equals_fit(m, opt):
    s = m[f"step_{opt}"]
    assert m[f"n_bias_before_bn_{opt}"] == 7         # ResNet8: stem + 6 block convs
    assert s["iterations"] == [1, 1]
    assert s["fast_loss"] == pytest.approx(s["fit_loss"], rel=1e-6)
    assert s["fast_acc"] == s["fit_acc"]
    assert s["moved"] > 0.1 * LR                 # the step did change the weights
    assert s["optimizer"] < 1e-6                 # same gradients: same moments / momenta
    assert s["weights"] < 1e-3 * LR              # same update, to float tolerance
    assert s["bias_before_bn"] <= 1.01 * LR      # zero-gradient biases: at most one step apart


def test_weight_decay_is_l2_1e4_on_every_kernel_added_to_the_loss(m):
    d = m["decay"]
    assert d["n_regularized"] == 10              # ResNet8: 9 conv kernels + 1 dense kernel
    assert d["total"] == pytest.approx(d["ce"] + d["l2"], rel=1e-5)
    assert d["l2"] > 1e-4


def test_schedule_lr_used_at_each_epoch_is_lr_at_epoch(m):
    for eng in ("fit", "fast"):
        s = m[f"short_{eng}"]
        assert [h["lr"] for h in s["history"]] == pytest.approx(s["epochs_per_lr"])
        assert m["short_lr_seen"][eng] == pytest.approx(s["epochs_per_lr"])
    assert m["short_fast"]["epochs_per_lr"] == pytest.approx([LR, 0.1 * LR])


def test_short_run_matches_fit(m):
    fit, fast = m["short_fit"], m["short_fast"]
    assert (fit["engine"], fast["engine"]) == ("fit", "fast")
    assert [h["epoch"] for h in fast["history"]] == [1, 2]
    assert set(fast["history"][0]) == set(fit["history"][0])
    for a, b in zip(fit["history"], fast["history"]):
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-3)
        assert b["accuracy"] == pytest.approx(a["accuracy"], abs=0.03)
        assert b["test_accuracy"] == pytest.approx(a["test_accuracy"], abs=0.03)
    assert fast["history"][-1]["test_accuracy"] > 0.3   # it learned (10 classes: chance 0.1)


def test_fast_noise_sweep_equals_the_plain_sweep(m):
    s = m["sweep"]
    for plain, fast in ((s["plain"], s["fast"]), (s["plain_kernels_layer"],
                                                  s["fast_kernels_layer_map"])):
        assert fast["eta"] == plain["eta"] and fast["repeat"] == plain["repeat"]
        assert fast["accuracy"] == plain["accuracy"]
        assert fast["nonfinite"] == plain["nonfinite"]
    assert len(set(s["fast"]["accuracy"])) > 2       # the draws did something


def test_interrupted_fast_run_resumes_to_the_same_result(m):
    r = m["resume"]
    assert m["interrupted"] and r["from"] == 1
    assert [h["epoch"] for h in r["resumed"]] == [1, 2]
    for a, b in zip(r["straight"], r["resumed"]):
        assert (a["lr"], a["loss"], a["accuracy"], a["test_accuracy"]) == \
            (b["lr"], b["loss"], b["accuracy"], b["test_accuracy"])
    assert r["weights"] < 1e-6


def test_the_donated_training_state_holds_no_buffer_twice(m):
    # on a GPU, XLA refused a state whose three accumulators were one zeros array
    assert m["donated"] == {"fast": True}


def test_nan_loss_is_diverged_with_the_fast_engine(m):
    assert m["diverged"] == {"status": "diverged", "at": 1, "rows": 1}


if __name__ == "__main__":
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="engine-test-"))
    result = measure(tmp)
    Path(sys.argv[1]).write_text(json.dumps(result, default=float))
