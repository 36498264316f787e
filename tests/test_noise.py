"""Analog-noise injection (helpers.experiment.noise): statistics, scopes, restore, seeding, sweep."""

import keras
import numpy as np
import pandas as pd
import pytest
from keras import layers

from helpers.experiment import models, noise


def _np(v):
    return np.array(keras.ops.convert_to_numpy(v.value if hasattr(v, "value") else v))


def _snapshot(model):
    return [_np(v).copy() for v in model.weights]


def _randomize(model, seed=0):
    """Give every weight array (BN statistics included) a non-zero spread, so that
    every array receives noise (fresh biases, gamma, beta have std 0)."""
    rng = np.random.default_rng(seed)
    for v in model.weights:
        shape = tuple(v.shape)
        if v.path.endswith("moving_variance"):
            a = rng.uniform(0.5, 1.5, shape)
        elif v.path.endswith("gamma"):
            a = rng.normal(1.0, 0.2, shape)
        else:
            a = rng.normal(0.0, 0.1 + 0.05 * rng.random(), shape)
        v.assign(a.astype(np.float32))


@pytest.fixture(scope="module")
def resnet8():
    keras.utils.set_random_seed(0)
    model = models.resnet_v1(8, 10, input_shape=(8, 8, 3))
    _randomize(model)
    return model


@pytest.fixture
def wide_dense():
    """One Dense layer with a 4x2000 kernel (std ~1) and a 2000 bias (mean 5, std 0.1)."""
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(2000, name="wide")])
    rng = np.random.default_rng(1)
    model.layers[0].kernel.assign(rng.normal(0, 1.0, (4, 2000)).astype(np.float32))
    model.layers[0].bias.assign(rng.normal(5, 0.1, (2000,)).astype(np.float32))
    return model


def _noisy_weights(model, eta, rng, **kw):
    with noise.injected(model, eta, rng, noise.NoiseModel(**kw)):
        return _snapshot(model)


def test_additive_noise_statistics_per_array(resnet8):
    before = _snapshot(resnet8)
    eta = 0.2
    after = _noisy_weights(resnet8, eta, np.random.default_rng(3))
    checked = 0
    for v, a, b in zip(resnet8.weights, before, after):
        diff = (b.astype(np.float64) - a)
        if a.size >= 1000:
            target = eta * np.std(a)
            assert np.std(diff) == pytest.approx(target, rel=0.1), v.path
            assert abs(np.mean(diff)) < 4 * target / np.sqrt(a.size), v.path
            checked += 1
        assert np.all(diff != 0) or a.size < 2 or np.std(a) == 0, v.path
    assert checked >= 6  # the 3x3 kernels from 16x16 on
    # small arrays (BN, biases) changed too under scope 'all'
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))


def test_noise_level_scales_with_eta(wide_dense):
    k = _np(wide_dense.layers[0].kernel)
    s = np.std(k)
    for eta in (0.01, 0.1, 0.4):
        after = _noisy_weights(wide_dense, eta, np.random.default_rng(0))
        assert np.std(after[0] - k) == pytest.approx(eta * s, rel=0.05)


def test_eta_zero_changes_nothing(resnet8):
    before = _snapshot(resnet8)
    inside = _noisy_weights(resnet8, 0.0, np.random.default_rng(0))
    for a, b in zip(before, inside):
        np.testing.assert_array_equal(a, b)


def test_weights_restored_bit_exactly(resnet8):
    before = _snapshot(resnet8)
    with noise.injected(resnet8, 0.3, np.random.default_rng(5)) as variables:
        assert len(variables) == len(resnet8.weights)
        assert not np.array_equal(_np(resnet8.weights[0]), before[0])
    for a, b in zip(before, _snapshot(resnet8)):
        assert a.dtype == b.dtype
        assert np.array_equal(a, b)


def test_weights_restored_after_an_exception(resnet8):
    before = _snapshot(resnet8)
    with pytest.raises(RuntimeError, match="boom"):
        with noise.injected(resnet8, 0.3, np.random.default_rng(5)):
            assert not np.array_equal(_np(resnet8.weights[0]), before[0])
            raise RuntimeError("boom")
    for a, b in zip(before, _snapshot(resnet8)):
        assert np.array_equal(a, b)


def test_a_kind_that_fails_leaves_the_weights_untouched(resnet8, monkeypatch):
    def fails(a, sigma, eta, rng):
        raise RuntimeError("no noise")

    monkeypatch.setitem(noise.KINDS, "fails", fails)
    failing = noise.NoiseModel(kind="fails")
    before = _snapshot(resnet8)
    with pytest.raises(RuntimeError, match="no noise"):
        with noise.injected(resnet8, 0.3, np.random.default_rng(5), failing):
            pass
    for a, b in zip(before, _snapshot(resnet8)):
        assert np.array_equal(a, b)


def test_same_seed_same_draws_other_seed_or_repeat_other_draws(resnet8):
    ref = _noisy_weights(resnet8, 0.1, noise.draw_rng(0, 0.1, 0))
    same = _noisy_weights(resnet8, 0.1, noise.draw_rng(0, 0.1, 0))
    for a, b in zip(ref, same):
        assert np.array_equal(a, b)
    for rng in (noise.draw_rng(1, 0.1, 0), noise.draw_rng(0, 0.1, 1)):
        other = _noisy_weights(resnet8, 0.1, rng)
        assert not np.array_equal(ref[0], other[0])
        assert not any(np.array_equal(a, b) for a, b in zip(ref, other) if a.size > 100)
    # same generator used twice: two different noisy copies
    g = np.random.default_rng(9)
    first, second = _noisy_weights(resnet8, 0.1, g), _noisy_weights(resnet8, 0.1, g)
    assert not np.array_equal(first[0], second[0])


def test_draw_rng_keyed_by_eta_value():
    a = noise.draw_rng(0, 0.05, 2).standard_normal(8)
    np.testing.assert_array_equal(a, noise.draw_rng(0, 0.05, 2).standard_normal(8))
    np.testing.assert_array_equal(a, noise.draw_rng(np.int64(0), 0.05, np.int64(2)).standard_normal(8))
    assert not np.array_equal(a, noise.draw_rng(0, 0.10, 2).standard_normal(8))
    assert not np.array_equal(a, noise.draw_rng(0, 0.05, 3).standard_normal(8))
    assert not np.array_equal(a, noise.draw_rng(1, 0.05, 2).standard_normal(8))


def _changed_paths(model, **kw):
    before = _snapshot(model)
    after = _noisy_weights(model, 0.2, np.random.default_rng(0), **kw)
    return {v.path for v, a, b in zip(model.weights, before, after) if not np.array_equal(a, b)}


def test_scopes(resnet8):
    paths = {v.path for v in resnet8.weights}
    moving = {p for p in paths if p.endswith(("moving_mean", "moving_variance"))}
    kernels = {p for p in paths if p.endswith("kernel")}
    assert len(moving) == 2 * models.count_bn_layers(resnet8) == 14
    assert len(kernels) == 10

    assert _changed_paths(resnet8, scope="all") == paths
    trainable = _changed_paths(resnet8, scope="trainable")
    assert trainable == paths - moving
    assert not trainable & moving
    assert any(p.endswith("bias") for p in trainable) and any(p.endswith("gamma") for p in trainable)
    assert _changed_paths(resnet8, scope="kernels") == kernels

    assert {v.path for v in noise.select_variables(resnet8, "all")} == paths
    assert {v.path for v in noise.select_variables(resnet8, "trainable")} == paths - moving
    assert {v.path for v in noise.select_variables(resnet8, "kernels")} == kernels


def test_layer_of():
    inputs = keras.Input(shape=(3,))
    h = layers.Dense(2, name="dense_x")(inputs)
    model = keras.Model(inputs, layers.Dense(2, name="dense_y")(h))
    assert [v.path for v in model.weights] == ["dense_x/kernel", "dense_x/bias",
                                               "dense_y/kernel", "dense_y/bias"]
    assert [noise.layer_of(v) for v in model.weights] == ["dense_x"] * 2 + ["dense_y"] * 2
    # in a Sequential model the path is prefixed by the model's name; still per layer
    seq = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(2, name="d1"),
                            layers.Dense(2, name="d2")])
    names = [noise.layer_of(v) for v in seq.weights]
    assert names[0] == names[1] != names[2] == names[3]
    assert names[0].endswith("d1") and names[2].endswith("d2")


def test_sigma_w_array_and_layer_by_hand():
    a = np.array([0.0, 4.0])            # mean 2, std 2
    b = np.array([2.0, 2.0, 2.0, 2.0])  # std 0
    c = np.array([1.0, 7.0])            # std 3
    assert noise.sigma_w([a, b, c], ["l1", "l1", "l2"], "array") == [2.0, 0.0, 3.0]
    # l1 pooled: [0, 4, 2, 2, 2, 2], mean 2, variance (4 + 4) / 6
    pooled = np.sqrt(8 / 6)
    assert pooled == pytest.approx(np.std(np.concatenate([a, b])))
    got = noise.sigma_w([a, b, c], ["l1", "l1", "l2"], "layer")
    assert got == pytest.approx([pooled, pooled, 3.0])
    # the layer of each array decides the pooling, not its position
    got = noise.sigma_w([a, c, b], ["l1", "l2", "l1"], "layer")
    assert got == pytest.approx([pooled, 3.0, pooled])


def test_layer_granularity_uses_the_pooled_std(wide_dense):
    k = _np(wide_dense.layers[0].kernel)
    bias = _np(wide_dense.layers[0].bias)
    pooled = float(np.std(np.concatenate([k.ravel(), bias.ravel()])))
    assert pooled > 2 * np.std(k)  # the bias's offset of 5 dominates the pooled spread
    eta = 0.1
    kn, bn = _noisy_weights(wide_dense, eta, np.random.default_rng(2), granularity="layer")
    assert np.std(kn - k) == pytest.approx(eta * pooled, rel=0.1)
    assert np.std(bn - bias) == pytest.approx(eta * pooled, rel=0.1)
    # per array: each its own spread
    kn, bn = _noisy_weights(wide_dense, eta, np.random.default_rng(2), granularity="array")
    assert np.std(kn - k) == pytest.approx(eta * np.std(k), rel=0.1)
    assert np.std(bn - bias) == pytest.approx(eta * np.std(bias), rel=0.1)


def test_layer_granularity_pools_only_selected_arrays(wide_dense):
    # with scope 'kernels' the bias is not selected, so it does not enter the pooled std
    k = _np(wide_dense.layers[0].kernel)
    bias = _np(wide_dense.layers[0].bias)
    kn, bn = _noisy_weights(wide_dense, 0.1, np.random.default_rng(2), scope="kernels",
                            granularity="layer")
    assert np.std(kn - k) == pytest.approx(0.1 * np.std(k), rel=0.1)
    np.testing.assert_array_equal(bn, bias)


def test_multiplicative_noise_proportional_to_magnitude():
    model = keras.Sequential([keras.Input(shape=(10,)), layers.Dense(400, use_bias=False)])
    w = np.ones((10, 400), np.float32)
    w[:, 200:] = -10.0
    w[0, :] = 0.0
    model.layers[0].kernel.assign(w)
    eta = 0.1
    (noisy,) = _noisy_weights(model, eta, np.random.default_rng(4), kind="multiplicative")
    d = noisy - w
    np.testing.assert_array_equal(d[0], 0.0)  # zero weights stay zero
    small, large = d[1:, :200], d[1:, 200:]
    assert np.std(small) == pytest.approx(eta * 1.0, rel=0.1)
    assert np.std(large) == pytest.approx(eta * 10.0, rel=0.1)
    assert abs(np.mean(small)) < 0.02 and abs(np.mean(large)) < 0.2
    # the relative change has the same spread everywhere
    rel = d[1:] / w[1:]
    assert np.std(rel) == pytest.approx(eta, rel=0.1)


def test_noisy_arrays_by_hand():
    a = np.array([1.0, -2.0, 3.0], np.float32)
    e = np.random.default_rng(0).standard_normal(3).astype(np.float32)
    out = noise.noisy_arrays([a], [2.0], 0.5, np.random.default_rng(0))[0]
    np.testing.assert_array_equal(out, a + (0.5 * 2.0) * e)
    assert out.dtype == np.float32
    out = noise.noisy_arrays([a], [2.0], 0.5, np.random.default_rng(0), "multiplicative")[0]
    np.testing.assert_array_equal(out, a * (1 + 0.5 * e))
    # sigma None: set, not noised, and no draw made for it
    out = noise.noisy_arrays([a, a], [None, 2.0], 0.5, np.random.default_rng(0))
    assert out[0] is a
    np.testing.assert_array_equal(out[1], a + (0.5 * 2.0) * e)




@pytest.fixture(scope="module")
def sweep_data():
    rng = np.random.default_rng(0)
    return rng.normal(0, 1, (24, 8, 8, 3)).astype(np.float32), rng.integers(0, 10, 24)


def test_noise_sweep_shape_and_reproducibility(resnet8, sweep_data):
    x, y = sweep_data
    before = _snapshot(resnet8)
    etas = (0.1, 0.5)
    df = noise.fit_noise_sweep(resnet8, x, y, etas=etas, n_repeats=3, seed=4, progress=False)
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["eta", "repeat", "accuracy", "nonfinite"]
    assert df["nonfinite"].between(0, 1).all()
    assert len(df) == 1 + 3 * len(etas)
    base = df[df["eta"] == 0]
    assert len(base) == 1 and base["repeat"].tolist() == [0]
    assert base["accuracy"].iloc[0] == models.accuracy(resnet8, x, y)
    for eta in etas:
        rows = df[df["eta"] == eta]
        assert sorted(rows["repeat"]) == [0, 1, 2]
    assert df["accuracy"].between(0, 1).all()
    # each accuracy is a multiple of 1/24
    np.testing.assert_allclose(df["accuracy"] * 24, np.round(df["accuracy"] * 24), atol=1e-9)
    # weights untouched afterwards
    for a, b in zip(before, _snapshot(resnet8)):
        assert np.array_equal(a, b)
    again = noise.fit_noise_sweep(resnet8, x, y, etas=etas, n_repeats=3, seed=4, progress=False)
    pd.testing.assert_frame_equal(df, again)


def test_noise_sweep_row_uses_the_draw_of_its_eta_and_repeat(resnet8, sweep_data):
    x, y = sweep_data
    df = noise.fit_noise_sweep(resnet8, x, y, etas=(0.5,), n_repeats=2, seed=7, progress=False)
    with noise.injected(resnet8, 0.5, noise.draw_rng(7, 0.5, 1)):
        acc = models.accuracy(resnet8, x, y)
    assert df[(df["eta"] == 0.5) & (df["repeat"] == 1)]["accuracy"].iloc[0] == acc


@pytest.mark.parametrize("etas", [(0.0, 0.1), (0.1, -0.2), (0,)])
def test_noise_sweep_rejects_non_positive_etas(resnet8, sweep_data, etas):
    x, y = sweep_data
    with pytest.raises(ValueError, match="etas="):
        noise.fit_noise_sweep(resnet8, x, y, etas=etas, n_repeats=1, progress=False)


def test_paper_etas():
    assert noise.PAPER_ETAS == (0.01, 0.05, 0.10, 0.20, 0.30, 0.40)


# --------------------------------------------------------------------------
# the folded reading: BN folded into the convolutions, as inference hardware maps it
# --------------------------------------------------------------------------

FOLDED = noise.NoiseModel(scope="folded")

def test_folding_without_noise_keeps_the_outputs(resnet8):
    x = np.random.default_rng(3).normal(size=(16, 8, 8, 3)).astype(np.float32)
    before = resnet8.predict(x, verbose=0)
    weights = _snapshot(resnet8)
    with noise.injected(resnet8, 0.0, np.random.default_rng(0), FOLDED):
        folded = resnet8.predict(x, verbose=0)
        bn = [l for l in resnet8.layers if isinstance(l, layers.BatchNormalization)]
        assert all(np.allclose(_np(l.gamma), 1) and np.allclose(_np(l.moving_mean), 0)
                   for l in bn)  # the BN layers became the identity
    np.testing.assert_allclose(folded, before, rtol=1e-4, atol=1e-5)
    for a, b in zip(_snapshot(resnet8), weights):  # restored bit-exactly
        np.testing.assert_array_equal(a, b)


def test_folded_arrays_match_the_formula(resnet8):
    bn, conv = noise.bn_conv_pairs(resnet8)[0]
    s = _np(bn.gamma) / np.sqrt(_np(bn.moving_variance) + bn.epsilon)
    folded = noise.folded_arrays(resnet8)
    np.testing.assert_allclose(folded[conv.kernel.path], _np(conv.kernel) * s, rtol=1e-6)
    np.testing.assert_allclose(folded[conv.bias.path],
                               (_np(conv.bias) - _np(bn.moving_mean)) * s + _np(bn.beta),
                               rtol=1e-5, atol=1e-6)
    assert len(noise.bn_conv_pairs(resnet8)) == models.count_bn_layers(resnet8)


def test_folded_noise_is_eta_sigma_of_the_folded_array(resnet8):
    """The noise on a folded kernel has std eta * std(folded kernel); BN arrays get none."""
    variables, base, sigmas = noise.noise_targets(resnet8, FOLDED)
    eta = 0.3
    with noise.injected(resnet8, eta, np.random.default_rng(5), FOLDED):
        after = {v.path: _np(v) for v in variables}
    checked = 0
    for v, b, s in zip(variables, base, sigmas):
        if s is None:
            np.testing.assert_array_equal(after[v.path], b)
            assert "batch_normalization" in v.path
        elif b.size >= 400:
            assert s == pytest.approx(np.std(b), rel=1e-6)
            assert np.std(after[v.path] - b) == pytest.approx(eta * s, rel=0.15)
            checked += 1
    assert checked >= 3


def test_folded_without_bn_is_the_trainable_reading():
    keras.utils.set_random_seed(1)
    model = models.resnet_v1(8, 10, batch_norm=False, input_shape=(8, 8, 3))
    a = _noisy_weights(model, 0.2, noise.draw_rng(0, 0.2, 0), scope="folded")
    b = _noisy_weights(model, 0.2, noise.draw_rng(0, 0.2, 0), scope="trainable")
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_folded_reading_has_no_nonfinite_outputs_where_all_has(resnet8):
    """Noise on moving variances can make them negative (NaN outputs); folded cannot."""
    x = np.random.default_rng(4).normal(size=(64, 8, 8, 3)).astype(np.float32)
    y = np.zeros(64, dtype=np.int64)
    rng = np.random.default_rng(6)
    for v in resnet8.non_trainable_weights:  # small variances: noise flips some signs
        if v.path.endswith("moving_variance"):
            v.assign(rng.uniform(0.0, 0.02, v.shape).astype(np.float32))
    try:
        s_all = noise.fit_noise_sweep(resnet8, x, y, noise.PAPER, etas=(2.0,), n_repeats=3,
                                      progress=False)
        s_fold = noise.fit_noise_sweep(resnet8, x, y, FOLDED, etas=(2.0,), n_repeats=3,
                                       progress=False)
    finally:
        _randomize(resnet8)
    assert s_all["nonfinite"].max() > 0
    assert s_fold["nonfinite"].max() == 0




def test_p_broken_predicts_how_often_the_paper_reading_gives_non_finite_outputs():
    """One BN channel with a near-zero variance beside two large ones: at eta = 1 % about
    half the draws push it below -epsilon. The share of broken draws of the real sweep
    matches p_broken within four binomial standard errors; without the near-zero channel
    no draw breaks."""
    import keras

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.BatchNormalization()(keras.layers.Dense(3)(inputs)))
    bn = model.layers[-1]
    x = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)
    y = np.zeros(8, dtype=np.int64)
    bn.moving_variance.assign(np.array([1e-12, 4.0, 8.0], dtype=np.float32))
    p = noise.p_broken(model, etas=(0.01, 0.4))
    # z = (0 + 1e-3) / (0.01 * std([0, 4, 8])) = 0.0306, Phi(z) = 0.512
    assert p[0.01] == pytest.approx(0.488, abs=0.002) and p[0.4] == pytest.approx(0.5, abs=0.01)
    n = 300
    sweep = noise.fit_noise_sweep(model, x, y, noise.PAPER, etas=(0.01,), n_repeats=n,
                                  progress=False)
    broken = float((sweep.loc[sweep["eta"] > 0, "nonfinite"] > 0).mean())
    assert abs(broken - p[0.01]) < 4 * np.sqrt(p[0.01] * (1 - p[0.01]) / n)
    bn.moving_variance.assign(np.array([2.0, 4.0, 8.0], dtype=np.float32))
    assert noise.p_broken(model, etas=(0.01,))[0.01] < 1e-12


def test_test_subset_is_fixed_and_sorted():
    x = np.arange(100)[:, None]
    y = np.arange(100)
    xs, ys = noise.test_subset(x, y, 20)
    xs2, ys2 = noise.test_subset(x, y, 20)
    np.testing.assert_array_equal(ys, ys2)
    assert len(ys) == 20 and np.all(np.diff(ys) > 0) and np.array_equal(xs[:, 0], ys)
    assert noise.test_subset(x, y, None)[1] is y and noise.test_subset(x, y, 500)[1] is y
