"""Learning rates batched (engine.BatchedTrainer, training.train_batched): K models that
differ only in their learning rate, trained as one program, follow the trajectories
they follow alone (engine.FastTrainer, training.train) to float tolerance.

As in test_engine.py, the JAX measurements run once in a subprocess with
``KERAS_BACKEND=jax`` that executes this file as a script and prints JSON;
``KERAS_BACKEND=jax python tests/test_batched.py OUT.json`` runs it alone.
"""

import json
import math
import sys
from pathlib import Path

LRS = (0.01, 0.003, 0.001)


def _values(variables):
    import numpy as np
    return [np.array(v.value) for v in variables]


def _diff(a, b, idx):
    import numpy as np
    return max(float(np.max(np.abs(a[i] - b[i]))) for i in idx)


def _bias_before_bn(model):
    """Indices in (model.weights, model.optimizer.variables) of the conv biases that feed
    a BN layer and of their optimizer slots: zero gradient in exact arithmetic, so Adam
    turns rounding noise into steps of +-lr (see test_engine.py); compared on their own."""
    import keras
    paths = {v.path for layer, nxt in zip(model.layers, model.layers[1:])
             if isinstance(nxt, keras.layers.BatchNormalization)
             for v in layer.weights if v.path.endswith("bias")}
    w = {i for i, v in enumerate(model.weights) if v.path in paths}
    o = {i for i, v in enumerate(model.optimizer.variables)
         if any(f"/{p.replace('/', '_')}_" in v.path for p in paths)}
    return w, o


def measure(tmp: Path) -> dict:
    import keras
    import numpy as np

    from helpers.experiment import data as data_mod
    from helpers.experiment import engine, synthetic, training
    from helpers.experiment.config import make_config

    out = {"backend": keras.config.backend(), "lr_batch_default": engine.lr_batch_default()}
    base = make_config(profile="smoke", depth=8)
    data = data_mod.preprocess(training.load_data(base))

    # 1. a few steps (augmentation on): K=3 batched vs three single FastTrainers
    for opt in ("adam", "sgd_momentum"):
        for vec in ("vmap", "map") if opt == "adam" else ("vmap",):
            cfgs = [make_config(profile="smoke", depth=8, optimizer=opt, lr=lr) for lr in LRS]
            singles = [training.build_model(c, 10) for c in cfgs]
            batch = [training.build_model(c, 10) for c in cfgs]
            alone = [engine.FastTrainer(m, data.x_train, data.y_train, batch_size=32)
                     .train_epoch(0, 0, 128) for m in singles]
            together = engine.BatchedTrainer(batch, data.x_train, data.y_train, batch_size=32,
                                             vectorize=vec).train_epoch(0, 0, 128)
            rows = []
            for a, b in zip(singles, batch):
                wskip, oskip = _bias_before_bn(a)
                w0 = _values(training.build_model(cfgs[0], 10).weights)
                wa, wb = _values(a.weights), _values(b.weights)
                oa, ob = _values(a.optimizer.variables), _values(b.optimizer.variables)
                keep = sorted(set(range(len(wa))) - wskip)
                gap = math.sqrt(sum(float(np.sum((wa[i] - wb[i]) ** 2)) for i in keep))
                step = math.sqrt(sum(float(np.sum((wa[i] - w0[i]) ** 2)) for i in keep))
                rows.append({"weights": _diff(wa, wb, keep), "relative_l2": gap / step,
                             "bias_before_bn": _diff(wa, wb, wskip),
                             "optimizer": _diff(oa, ob, set(range(len(oa))) - oskip),
                             "n_skipped": [len(wskip), len(oskip)],
                             "moved": _diff(wa, w0, range(len(wa))),
                             "iterations": [int(a.optimizer.iterations.value),
                                            int(b.optimizer.iterations.value)],
                             "lr_kept": float(b.optimizer.learning_rate.value)})
            out[f"steps_{opt}_{vec}"] = {"alone": alone, "together": together, "models": rows}

    # 2. train_batched vs train: 2 epochs (the LR schedule steps), records from checkpoints
    root = synthetic.write_synthetic(tmp / "syn", "cifar10", n_train=256, n_test=100, seed=1)
    cfgs = [make_config(profile="fast", data_dir=str(root), depth=8, epochs=2, lr=lr,
                        results_dir=str(tmp)) for lr in LRS]
    small = data_mod.preprocess(training.load_data(cfgs[0]))
    alone = [training.train(c, small, training.RunPaths(tmp / "alone", f"run{i}"), progress=False)
             for i, c in enumerate(cfgs)]
    paths = [training.RunPaths(tmp / "batched", f"run{i}") for i in range(len(cfgs))]
    together = training.train_batched(cfgs, small, paths, progress=False)
    again = [training.train(c, small, p, progress=False) for c, p in zip(cfgs, paths)]
    out["train"] = {
        "alone": [{"status": r.status, "at": r.diverged_at_epoch, "history": r.history}
                  for r in alone],
        "together": [{"status": r.status, "at": r.diverged_at_epoch, "history": r.history}
                     for r in together],
        "reloaded": [{"status": r.status, "from": r.resumed_from_epoch,
                      "history": r.history} for r in again],
    }
    # a diverging run (SGD at lr 1e8: NaN loss in epoch 1) beside one that trains
    sgd = [make_config(profile="fast", data_dir=str(root), depth=8, epochs=2, lr=lr,
                       optimizer="sgd", results_dir=str(tmp)) for lr in (0.01, 1e8)]
    div = training.train_batched(sgd, small, [training.RunPaths(tmp / "div", f"d{i}")
                                              for i in range(2)], progress=False)
    out["diverged"] = [{"status": r.status, "at": r.diverged_at_epoch, "rows": len(r.history)}
                       for r in div]
    # a run already finished is skipped, a partly trained one resumes in the batch
    partial = training.RunPaths(tmp / "mixed", "p")
    cfg1 = make_config(profile="fast", data_dir=str(root), depth=8, epochs=1, lr=LRS[0],
                       results_dir=str(tmp))
    training.train(cfg1, small, partial, progress=False)  # 1 epoch done, in a 1-epoch run
    mixed = training.train_batched(cfgs[:2], small, [training.RunPaths(tmp / "alone", "run0"),
                                                     training.RunPaths(tmp / "mixed", "m1")],
                                   progress=False)
    out["skip"] = {"finished_from": mixed[0].resumed_from_epoch,
                   "other_rows": len(mixed[1].history)}

    # 3. bad input: configs that differ in more than lr
    errors = {}
    for name, other in (("depth", make_config(profile="smoke", depth=14)),
                        ("optimizer", make_config(profile="smoke", depth=8, optimizer="sgd"))):
        try:
            training.train_batched([base, other], data, [paths[0], paths[1]], progress=False)
        except ValueError as e:
            errors[name] = str(e)
    try:
        engine.BatchedTrainer([training.build_model(base, 10)], data.x_train, data.y_train,
                              vectorize="pmap")
    except ValueError as e:
        errors["vectorize"] = str(e)
    out["errors"] = errors
    return out


# --------------------------------------------------------------------------
# the tests (TF-pinned session: run the script once)
# --------------------------------------------------------------------------

import pytest  # noqa: E402

pytestmark = pytest.mark.slow
JAX_TIMEOUT = 2400  # seconds for the measurements (fixture ``m``, conftest.py)


def test_runs_on_jax_and_is_off_by_default_on_cpu(m):
    assert m["backend"] == "jax"
    assert m["lr_batch_default"] is False


@pytest.mark.parametrize("case", ["adam_vmap", "adam_map", "sgd_momentum_vmap"])
def test_batched_steps_equal_three_single_runs(m, case):
    s = m[f"steps_{case}"]
    adam = case.startswith("adam")
    for (la, aa), (lb, ab) in zip(s["alone"], s["together"]):
        assert lb == pytest.approx(la, rel=1e-4 if adam else 1e-6)
        assert ab == aa
    assert len({round(l, 4) for l, _ in s["alone"]}) == 3   # the three LRs trained differently
    for lr, row in zip(LRS, s["models"]):
        assert row["iterations"] == [4, 4]
        assert row["n_skipped"] == [7, 14 if case.startswith("adam") else 7]
        assert row["lr_kept"] == pytest.approx(lr)
        assert row["moved"] > 0.1 * min(LRS)                # it trained
        if adam:
            # Adam's first steps are nearly sign steps (m / sqrt(v) = +-1 at step 1), so a
            # gradient within rounding of 0 can step either way: a few weights differ by up
            # to a step, the weights as a whole by under 2 % of how far they moved
            assert row["weights"] < 0.5 * lr
            assert row["relative_l2"] < 0.02
            assert row["optimizer"] < 1e-3                  # moments
        else:                                               # SGD: same updates to rounding
            assert row["weights"] < 1e-3 * lr
            assert row["relative_l2"] < 1e-4
            assert row["optimizer"] < 1e-5                  # momenta
        assert row["bias_before_bn"] <= 4.01 * lr           # 4 steps of +-lr at most


def test_train_batched_gives_each_run_its_single_history(m):
    t = m["train"]
    for a, b in zip(t["alone"], t["together"]):
        assert a["status"] == b["status"] == "completed"
        assert [h["epoch"] for h in b["history"]] == [1, 2]
        for ha, hb in zip(a["history"], b["history"]):
            assert hb["lr"] == ha["lr"]
            assert hb["loss"] == pytest.approx(ha["loss"], rel=1e-3)
            assert hb["accuracy"] == pytest.approx(ha["accuracy"], abs=1 / 256 + 1e-9)
            assert hb["test_accuracy"] == pytest.approx(ha["test_accuracy"], abs=0.02)
            assert set(hb) == set(ha)


def test_a_diverged_run_stops_alone_in_the_batch(m):
    assert m["diverged"] == [{"status": "completed", "at": None, "rows": 2},
                             {"status": "diverged", "at": 1, "rows": 1}]


def test_train_after_train_batched_reloads_the_finished_checkpoints(m):
    for r, b in zip(m["train"]["reloaded"], m["train"]["together"]):
        assert r["status"] == b["status"]
        assert r["history"] == b["history"]
        assert r["from"] == len(b["history"])


def test_finished_runs_are_skipped_and_others_train(m):
    assert m["skip"] == {"finished_from": 2, "other_rows": 2}


def test_configs_that_differ_in_more_than_lr_are_refused(m):
    e = m["errors"]
    assert "depth" in e["depth"] and "only lr may differ" in e["depth"]
    assert "optimizer" in e["optimizer"]
    assert "vectorize='pmap'" in e["vectorize"] and "'vmap'" in e["vectorize"]


if __name__ == "__main__":
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="batched-test-"))
    result = measure(tmp)
    Path(sys.argv[1]).write_text(json.dumps(result, default=float))
