"""helpers.study.theory: per-example gradients, C (eq. 3) and the 1/|B| law (eq. 2), checked
on problems small enough to compute by hand."""

import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from helpers.book.typeset import typeset
from helpers.book import findings
from helpers.study import theory
from helpers.book import page

ROOT = Path(__file__).resolve().parents[1]
L2 = 0.01


def softmax_regression(d=4, k=3, l2=L2, seed=0):
    """One Dense softmax layer (L2 on the kernel): p = softmax(x W + b)."""
    keras.utils.set_random_seed(seed)
    reg = keras.regularizers.L2(l2) if l2 else None
    model = keras.Sequential([keras.Input((d,)),
                              keras.layers.Dense(k, activation="softmax", kernel_regularizer=reg,
                                                 bias_initializer="random_normal")])
    return model


def closed_form(model, x, y, l2=L2):
    """Per-example gradient of -log p_y + l2 ||W||^2: [x (p - e_y)^T + 2 l2 W, p - e_y]."""
    W, b = (np.asarray(v, dtype=np.float64) for v in model.get_weights())
    z = x @ W + b
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    r = p - np.eye(W.shape[1])[y]
    gW = x[:, :, None] * r[:, None, :] + 2 * l2 * W
    return np.concatenate([gW.reshape(len(y), -1), r], axis=1)


def small_convnet(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((6, 6, 2))
    h = keras.layers.Conv2D(3, 3, padding="same",
                            kernel_regularizer=keras.regularizers.L2(1e-2))(inputs)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.Activation("relu")(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    outputs = keras.layers.Dense(4, activation="softmax",
                                 kernel_regularizer=keras.regularizers.L2(1e-2))(h)
    model = keras.Model(inputs, outputs)
    # non-trivial BN moving statistics, so training=False differs from batch statistics
    bn = model.layers[2]
    bn.moving_mean.assign(np.array([0.3, -0.2, 0.1], np.float32))
    bn.moving_variance.assign(np.array([2.0, 0.5, 1.5], np.float32))
    return model


# --------------------------------------------------------------------------
# per-example gradients
# --------------------------------------------------------------------------

@pytest.mark.parametrize("l2", [0.0, L2])
def test_per_example_gradients_match_the_closed_form_of_softmax_regression(rng, l2):
    x = rng.normal(size=(7, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=7)
    model = softmax_regression(l2=l2)
    g = theory.per_example_gradients(model, x, y)
    assert g.shape == (7, 4 * 3 + 3) and g.dtype == np.float32
    np.testing.assert_allclose(g, closed_form(model, x, y, l2=l2), atol=2e-6)


def test_without_regularization_the_rows_differ_by_the_l2_gradient_only(rng):
    x, y = rng.normal(size=(5, 4)).astype(np.float32), rng.integers(0, 3, size=5)
    model = softmax_regression()
    diff = theory.per_example_gradients(model, x, y) - \
        theory.per_example_gradients(model, x, y, regularization=False)
    W = model.get_weights()[0]
    np.testing.assert_allclose(diff, np.tile(np.r_[2 * L2 * W.ravel(), 0, 0, 0], (5, 1)),
                               atol=1e-7)


def test_mean_of_rows_is_the_gradient_of_the_keras_training_loss_at_inference_bn(rng):
    """g_D = mean_i g_i is the gradient of fit's loss (mean cross-entropy + L2 penalties),
    with BN on its moving statistics; and measuring leaves the BN statistics alone."""
    import tensorflow as tf

    model = small_convnet()
    x = rng.normal(size=(9, 6, 6, 2)).astype(np.float32)
    y = rng.integers(0, 4, size=9)
    before = [np.array(v) for v in model.non_trainable_variables]
    g = theory.per_example_gradients(model, x, y)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=False)) + tf.add_n(model.losses)
    expected = np.concatenate([np.ravel(t) for t in
                               tape.gradient(loss, model.trainable_variables)])
    np.testing.assert_allclose(g.mean(axis=0), expected, rtol=1e-4, atol=1e-6)
    for b, a in zip(before, model.non_trainable_variables):
        np.testing.assert_array_equal(b, np.array(a))


# --------------------------------------------------------------------------
# C and the minibatch variance
# --------------------------------------------------------------------------

def test_gradient_noise_constant_on_hand_made_gradients():
    g = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]])
    assert theory.gradient_noise_constant(g) == pytest.approx((2.5, 0.0))
    # a common shift moves g_D, not C
    assert theory.gradient_noise_constant(g + [3.0, 4.0]) == pytest.approx((2.5, 25.0))
    # identical gradients: no noise
    assert theory.gradient_noise_constant(np.ones((5, 3))) == pytest.approx((0.0, 3.0))


@pytest.mark.parametrize("B", [1, 2, 3, 5, 6])
def test_without_replacement_formula_equals_exact_enumeration(rng, B):
    n = 6
    g = rng.normal(size=(n, 5)) + rng.normal(size=5)
    C, _ = theory.gradient_noise_constant(g)
    gD = g.mean(axis=0)
    exact = np.mean([np.sum((g[list(s)].mean(axis=0) - gD) ** 2)
                     for s in itertools.combinations(range(n), B)])
    assert theory.without_replacement_variance(C, B, n) == pytest.approx(exact, rel=1e-12)
    assert exact <= C / B + 1e-12            # eq. 2's bound holds (with equality at B = 1)


def test_monte_carlo_minibatches_match_the_formula(rng):
    n = 6
    g = rng.normal(size=(n, 5))
    table = theory.minibatch_variance_from_grads(g, [2, 3], n_batches=20000, seed=1)
    for row in table.itertuples():
        assert abs(row.measured - row.predicted) < 4 * row.measured_se
        assert row.predicted < row.bound
    # each drawn minibatch has B distinct examples
    idx = theory._draw_batches(n, 3, 100, np.random.default_rng(0))
    assert all(len(set(r)) == 3 for r in idx)


def test_one_over_B_law(rng):
    n = 400
    g = rng.normal(size=(n, 50)) * rng.uniform(0.5, 2.0, size=50) + 1.0
    B = np.array([4, 8, 16, 32, 64])
    table = theory.minibatch_variance_from_grads(g, B, n_batches=2000, seed=2)
    np.testing.assert_allclose(table["measured"], table["predicted"], rtol=0.08)
    corrected = table["measured"] * (n - 1) / (n - B)
    assert theory.loglog_slope(B, corrected) == pytest.approx(-1.0, abs=0.05)
    assert theory.noise_power_bound(0.1, 3.2, 32) == pytest.approx(0.01 * 3.2 / 32)


def test_measure_returns_a_json_record_block(rng):
    model = small_convnet()
    x = rng.normal(size=(40, 6, 6, 2)).astype(np.float32)
    y = rng.integers(0, 4, size=40)
    out = theory.measure(model, x, y, batch_sizes=(2, 4, 8, 64), n_examples=32, n_batches=300)
    json.dumps(out, allow_nan=False)
    assert out["n_examples"] == 32 and out["backend"] == "tensorflow"
    assert [r["B"] for r in out["minibatch"]] == [2, 4, 8]     # B > n dropped
    C, gm = theory.gradient_noise_constant(theory.per_example_gradients(model, x[:32], y[:32]))
    assert out["C"] == pytest.approx(C) and out["grad_mean_sq_norm"] == pytest.approx(gm)
    for r in out["minibatch"]:
        assert r["predicted"] == pytest.approx(C / r["B"] * (32 - r["B"]) / 31)
        assert abs(r["measured"] - r["predicted"]) < 5 * r["measured_se"]
    assert out["slope_fpc_corrected"] == pytest.approx(-1.0, abs=0.15)
    assert theory.settings("smoke")["n_examples"] <= 64


def test_jax_backend_matches_the_closed_form_and_tensorflow(tmp_path):
    """On JAX: the softmax-regression closed form, and the same per-example gradients as
    TensorFlow for the same conv/BN model and weights."""
    cm = small_convnet()
    cm.save_weights(tmp_path / "cm.weights.h5")
    xc = np.random.default_rng(4).normal(size=(20, 6, 6, 2)).astype(np.float32)
    yc = np.arange(20) % 4
    np.savez(tmp_path / "data.npz", x=xc, y=yc, g=theory.per_example_gradients(cm, xc, yc))
    script = textwrap.dedent("""
        import json, numpy as np, keras
        from helpers.study import theory
        import test_theory as t
        rng = np.random.default_rng(3)
        x = rng.normal(size=(7, 4)).astype(np.float32); y = rng.integers(0, 3, size=7)
        m = t.softmax_regression()
        g = theory.per_example_gradients(m, x, y)
        cm = t.small_convnet()
        cm.load_weights("cm.weights.h5")
        d = np.load("data.npz")
        gc = theory.per_example_gradients(cm, d["x"], d["y"])
        out = theory.measure(cm, d["x"], d["y"], batch_sizes=(2, 4), n_examples=20,
                             n_batches=100)
        print(json.dumps({"backend": keras.config.backend(),
                          "err": float(np.abs(g - t.closed_form(m, x, y)).max()),
                          "err_tf": float(np.abs(gc - d["g"]).max() / np.abs(d["g"]).max()),
                          "measure": out}))
    """)
    env = {**os.environ, "KERAS_BACKEND": "jax",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["backend"] == "jax" and res["measure"]["backend"] == "jax"
    assert res["err"] < 2e-6
    assert res["err_tf"] < 1e-5
    assert res["measure"]["C"] > 0 and len(res["measure"]["minibatch"]) == 2


# --------------------------------------------------------------------------
# the analysis notebook, on hand-made records
# --------------------------------------------------------------------------

def _fake_record(folder, depth, lr, a_x, grads, theory_block=True, seed=0):
    """A run record as the training notebook writes it, with made-up numbers."""
    from types import SimpleNamespace

    import pandas as pd

    from helpers.study import results

    config = {"dataset": "cifar10", "depth": depth, "lr": lr, "optimizer": "adam", "epochs": 1,
              "batch_size": 32, "seed": seed, "batch_norm": True, "profile": "smoke",
              "n_repeats": 2, "noise_scope": "all", "noise_granularity": "array"}
    sweep = pd.DataFrame([{"eta": 0.0, "repeat": 0, "accuracy": 0.8, "nonfinite": 0.0}] +
                         [{"eta": e, "repeat": r, "accuracy": 0.8 * a_x, "nonfinite": 0.0}
                          for e in (0.01, 0.05, 0.1, 0.2, 0.3, 0.4) for r in range(2)])
    run = SimpleNamespace(status="completed", history=[], diverged_at_epoch=None,
                          train_seconds=1.0, resumed_from_epoch=0)
    key = results.run_key(config, "fake")
    rec = results.make_record(config, key, {"synthetic": True, "label": "hand-made"}, run,
                              sweep, {})
    if theory_block:
        rec["theory"] = theory.from_gradients(grads, (2, 4, 8, 16), n_batches=100)
    results.write_record(Path(folder) / f"{key}.json", rec)


def test_theory_notebook_reads_records_and_defers_to_claim7(tmp_path, rng):
    import nbformat
    import papermill as pm

    res = tmp_path / "res"
    # larger bound alpha^2 C / |B| -> lower A_avr: rank correlation -1
    # bounds lr^2 C / 32 in the ratio 1 : 4 : 9 : 81 (C ~ scale^2), A_avr falling
    for i, (depth, lr, scale) in enumerate([(8, 0.0005, 1.0), (14, 0.0005, 2.0),
                                            (8, 0.001, 1.5), (14, 0.0015, 3.0)]):
        _fake_record(res, depth, lr, 0.9 - 0.1 * i, scale * rng.normal(size=(32, 10)))
    _fake_record(res, 8, 0.0015, 0.5, None, theory_block=False)      # an older record
    # a twin of the first model whose one corrupted example makes C ~1e30 times larger
    wild = rng.normal(size=(32, 10))
    wild[3] *= 1e15
    _fake_record(res, 8, 0.0005, 0.9, wild, seed=1)
    out = tmp_path / "theory.out.ipynb"
    pm.execute_notebook(str(ROOT / "notebooks" / "theory.ipynb"), str(out), cwd=str(tmp_path),
                        parameters={"results_dir": str(res), "profile": "smoke"},
                        progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    text = "\n".join(str(o.get("text", "")) + "".join(str(v) for v in o.get("data", {}).values())
                     for c in nb.cells for o in c.get("outputs", []))
    assert "SMOKE RUN on synthetic data" in text
    assert "6 completed runs on CIFAR-10, 5 with a gradient-noise measurement (1 older record without one skipped)" in text
    # the wild twin is named, and left out of the figures and correlations
    assert "Flagged as non-physical and left out of the figures and rank correlations below " \
           "(1 of 5 models): ResNet8 with BN, lr 0.0005, seed 1: C = " in text
    # the page shows the models and defers the verdict to claim 7 (LR held fixed)
    assert "Over 4 models, the bound's rank correlation with the LR is" in text and "Claim 7" in text
    assert typeset("the bound's with A_avr is -1.00") in text   # as the page shows it
    assert "the law says -1" in text                         # the live demonstration ran


def test_from_records_reads_each_models_block_and_its_bound(tmp_path, rng):
    from helpers.study import results

    for i, (depth, lr, scale) in enumerate([(8, 0.0005, 1.0), (14, 0.001, 2.0)]):
        _fake_record(tmp_path, depth, lr, 0.9 - 0.1 * i, scale * rng.normal(size=(32, 10)))
    _fake_record(tmp_path, 8, 0.0015, 0.5, None, theory_block=False)
    runs = page.load_study(tmp_path, "smoke").done
    table, blocks, missing = theory.from_records(runs, "cifar10")
    assert len(table) == 2 and missing == 1 and set(blocks) == set(table["key"])
    for r in table.itertuples():
        assert r.C == blocks[r.key]["C"]
        assert r.bound == pytest.approx(r.lr ** 2 * r.C / 32)
    assert theory.from_records(runs, "cifar100")[0].empty


def test_law_fit_summarises_slopes_and_the_measured_to_predicted_gap():
    blocks = {"a": {"minibatch": [{"measured": 1.1, "predicted": 1.0},
                                  {"measured": 0.45, "predicted": 0.5}]},
              "b": {"minibatch": [{"measured": 2.0, "predicted": 2.0}]}}
    table = pd.DataFrame({"key": ["a", "b"], "slope": [-1.2, -1.0],
                          "slope_fpc_corrected": [-1.0, -0.98]})
    fit = theory.law_fit(table, blocks)
    assert fit["gap_max"] == pytest.approx(0.1) and fit["gap_median"] == pytest.approx(0.1)
    assert fit["raw_mean"] == pytest.approx(-1.1) and fit["fpc_max"] == pytest.approx(-0.98)
    assert "over 2 models: raw -1.100 (range -1.200 to -1.000)" in theory.law_sentence(fit)


def test_regression_demo_follows_the_law():
    G = theory.regression_gradients(n=64, d=3, seed=1)
    assert G.shape == (64, 3) and np.linalg.norm(G.mean(axis=0)) > 0   # not at the minimum
    demo = theory.regression_demo(n=128, d=5, batch_sizes=(1, 4, 16, 64), n_batches=3000)
    t = demo["table"]
    assert demo["C"] == pytest.approx(theory.gradient_noise_constant(
        theory.regression_gradients(128, 5, 0))[0])
    assert t["measured/predicted"].between(0.9, 1.1).all()
    assert demo["slope_fpc_corrected"] == pytest.approx(-1, abs=0.05)
    assert demo["slope"] < demo["slope_fpc_corrected"]           # the finite-sample factor
    assert "at |B| = 1 the variance is C itself" in theory.regression_sentence(demo)


def test_bound_sentence_gives_the_rank_correlations_and_reads_them():
    from helpers.study import theory as th

    lr = np.array([0.0005, 0.001, 0.002, 0.004])
    t = pd.DataFrame({"lr": lr, "C": [400.0, 300.0, 200.0, 100.0], "A_avr": [0.9, 0.8, 0.7, 0.6]})
    t["bound"] = lr ** 2 * t["C"] / 32
    text = findings.bound_sentence(t)
    assert text.startswith("Over 4 models, the bound's rank correlation with the LR is +1.00, "
                           "C's is -1.00, and the bound's with A_avr is -1.00. Across LRs the "
                           "bound thus mostly follows the LR")
    t["bound"] = [3.0, 1.0, 4.0, 2.0]        # a bound unrelated to the LR (rank rho 0)
    assert "with the LR is +0.00" in findings.bound_sentence(t) and "more than the LR in disguise" in findings.bound_sentence(t)
    assert findings.bound_sentence(t.iloc[:2]).endswith("too few for a rank correlation.")


def test_bound_sentence_speaks_per_dataset_when_there_are_several():
    """A_avr of CIFAR-10 and CIFAR-100 models are not on one scale: one rank correlation
    each, named by dataset, and the pointer to claim 7 once."""
    lr = np.array([0.0005, 0.001, 0.002, 0.004])
    t = pd.DataFrame({"lr": lr, "C": [400.0, 300.0, 200.0, 100.0], "A_avr": [0.9, 0.8, 0.7, 0.6]})
    t["bound"] = lr ** 2 * t["C"] / 32
    both = pd.concat([t.assign(dataset="cifar10"),
                      t.assign(dataset="cifar100", A_avr=t["A_avr"][::-1].to_numpy())])
    text = findings.bound_sentence(both)
    assert text.startswith("CIFAR-10: Over 4 models,")
    assert "CIFAR-100: Over 4 models" in text
    assert "bound's with A_avr is -1.00" in text and "bound's with A_avr is +1.00" in text
    assert text.count("Claim 7 (below)") == 1
    assert findings.bound_sentence(t.iloc[:2]) == "2 models with a bound and a noise sweep: too few for a rank correlation."


def test_nonphysical_flags_a_c_orders_of_magnitude_from_its_twins():
    """The CPU study's no-BN model at lr 0.001: seeds 0 and 1 give C = 534 and 443, seed 2
    7.48e36 (one example's gradient row ~4e19). Only that one is flagged; so are a
    non-finite and a negative C; a model alone in its cell is judged against the others."""
    t = pd.DataFrame({"dataset": "cifar10", "depth": 20, "optimizer": "adam",
                      "lr": [0.001] * 6 + [0.0005, 0.003, 0.003],
                      "batch_norm": [False] * 3 + [True] * 6,
                      "seed": [0, 1, 2, 0, 1, 2, 0, 0, 1],
                      "C": [534.0, 443.0, 7.48e36, 479.0, 602.0, 512.0, 300.0, np.nan, -1.0]})
    flags = theory.nonphysical(t)
    assert flags.tolist() == [False, False, True, False, False, False, False, True, True]
    # 2.9 decades from its twins is still physical; 3.1 is not
    t2 = t.iloc[:3].assign(C=[534.0, 443.0, 534.0 * 10 ** 2.9])
    assert not theory.nonphysical(t2).any()
    assert theory.nonphysical(t2.assign(C=[534.0, 443.0, 534.0 * 10 ** 3.1])).tolist() == [
        False, False, True]


def test_flagged_sentence_names_the_model_and_its_twins():
    t = pd.DataFrame({"depth": 20, "optimizer": "adam", "lr": 0.001, "batch_norm": False,
                      "seed": [0, 1, 2], "C": [534.0, 443.0, 7.48e36],
                      "grad_mean_sq_norm": [33.0, 24.1, 2.93e34],
                      "nonphysical": [False, False, True]})
    assert theory.flagged_sentence(t) == (
        "Flagged as non-physical and left out of the figures and rank correlations below (1 of "
        "3 models): ResNet20 without BN, lr 0.001, seed 2: C = 7.48e+36, ||grad L_D||^2 = "
        "2.93e+34 (its twins: C = 443 to 534).")
    assert theory.flagged_sentence(t.assign(nonphysical=False)).startswith("No measured C is")
    # the same model trained again: its C is said beside the flagged one
    t["key"] = ["k0", "k1", "k2"]
    again = pd.DataFrame({"key": ["k2"], "C": [672.1], "grad_mean_sq_norm": [46.46],
                          "nonphysical": [False]})
    assert theory.flagged_sentence(t, again).endswith(
        "(its twins: C = 443 to 534); trained again with the same configuration and data: "
        "C = 672, ||grad L_D||^2 = 46.5.")
    assert theory.flagged_sentence(t, again.assign(key="other")) == theory.flagged_sentence(t)


def test_per_example_gradients_of_a_bfloat16_model_with_l2(rng):
    """A model built with mixed_bfloat16 (bfloat16 outputs, float32 weights and L2
    penalty) gets finite float32 per-example gradients (it raised a dtype error before,
    losing the bfloat16 run's record after training)."""
    from helpers.experiment.config import make_config
    from helpers.experiment.training import build_model

    model = build_model(make_config(profile="smoke", depth=8, mixed_precision=True), 10)
    x = rng.normal(size=(4, 32, 32, 3)).astype(np.float32)
    g = theory.per_example_gradients(model, x, rng.integers(0, 10, size=4))
    assert g.shape == (4, sum(int(np.prod(v.shape)) for v in model.trainable_variables))
    assert g.dtype == np.float32 and np.isfinite(g).all() and (np.abs(g).sum(axis=1) > 0).all()


def test_parallel_map_sentence_counts_the_models_measured_ten_at_a_time():
    t = pd.DataFrame({"parallel_map": [True, True, False]})
    s = theory.parallel_map_sentence(t)
    assert s.startswith("2 of 3 models had $C$ measured by code that ran TensorFlow's "
                        "per-example gradient map 10 examples at a time.")
    assert theory.parallel_map_sentence(t.assign(parallel_map=False)) == ""
    assert theory.parallel_map_sentence(pd.DataFrame()) == ""


def test_from_records_marks_c_measured_by_the_parallel_map(tmp_path, rng):
    """A TensorFlow measurement by code of a PARALLEL_MAP_COMMITS commit is marked; one by
    any other commit is not."""
    _fake_record(tmp_path, 8, 0.0005, 0.9, rng.normal(size=(32, 10)))
    _fake_record(tmp_path, 14, 0.001, 0.8, rng.normal(size=(32, 10)))
    runs = page.load_study(tmp_path, "smoke").done.sort_values("depth")
    backend = json.loads(Path(runs["path"].iloc[0]).read_text())["theory"].get("backend")
    runs["commit"] = [theory.PARALLEL_MAP_COMMITS[1] + "d38713a54", "24c3fec169"]
    table = theory.from_records(runs, "cifar10")[0].sort_values("depth")
    assert table["parallel_map"].tolist() == [backend == "tensorflow", False]


def test_the_parallel_map_commits_predate_the_fix_and_no_other_record_does():
    """Against git, where the history is at hand: every listed commit lacks the fix
    (TF_MAP_PARALLEL = 1), and every other commit of a committed TensorFlow measurement
    of C has it."""
    import shutil
    if shutil.which("git") is None or subprocess.run(
            ["git", "-C", str(ROOT), "cat-file", "-e", theory.MAP_FIX_COMMIT],
            capture_output=True).returncode:
        pytest.skip("no git history here")

    def has_fix(commit):
        return subprocess.run(["git", "-C", str(ROOT), "merge-base", "--is-ancestor",
                               theory.MAP_FIX_COMMIT, commit], capture_output=True).returncode == 0
    commits = set()
    for p in (ROOT / "results").rglob("*.json"):
        try:
            r = json.loads(p.read_text())
        except ValueError:
            continue
        if isinstance(r, dict) and (r.get("theory") or {}).get("backend") == "tensorflow":
            commits.add(((r.get("environment") or {}).get("git") or {}).get("commit") or "")
    assert commits, "no committed record with a TensorFlow measurement of C"
    for c in sorted(commits):
        assert (c[:10] in theory.PARALLEL_MAP_COMMITS) == (not has_fix(c)), c


def test_parallel_map_marks_runs_by_commit_and_backend():
    runs = pd.DataFrame({"commit": [theory.PARALLEL_MAP_COMMITS[0] + "abc", "24c3fec169",
                                    theory.PARALLEL_MAP_COMMITS[0], None],
                         "backend": ["tensorflow", "tensorflow", "jax", "tensorflow"]})
    assert theory.parallel_map(runs).tolist() == [True, False, False, False]
    assert theory.parallel_map(runs.drop(columns="commit")).tolist() == [False] * 4
