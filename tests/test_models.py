"""ResNet v1 architecture (helpers.experiment.models): sizes, BN switch, depth check, L2, init."""

import keras
import numpy as np
import pytest
from keras import layers

from helpers.experiment import models

# Total parameters of the Keras cifar10_resnet example's ResNet v1 (BN included).
PARAMS = {
    (20, 10): 274_442, (20, 100): 280_292,
    (32, 10): 470_218, (32, 100): 476_068,
    (44, 10): 665_994, (44, 100): 671_844,
    (56, 10): 861_770, (56, 100): 867_620,
}


@pytest.mark.parametrize("depth, classes", sorted(PARAMS))
def test_parameter_counts(depth, classes):
    model = models.resnet_v1(depth, classes)
    assert model.count_params() == PARAMS[depth, classes]
    assert model.output_shape == (None, classes)
    n = (depth - 2) // 6
    assert models.count_bn_layers(model) == 6 * n + 1
    # each BN layer holds 4 vectors (gamma, beta, moving mean/variance) of its width;
    # only moving mean/variance are not trainable
    bn_width = 16 + 2 * n * 16 + 2 * n * 32 + 2 * n * 64
    non_trainable = sum(int(np.prod(v.shape)) for v in model.non_trainable_weights)
    assert non_trainable == 2 * bn_width


@pytest.mark.parametrize("depth", (20, 32, 44, 56))
def test_without_batch_norm(depth):
    n = (depth - 2) // 6
    model = models.resnet_v1(depth, 10, batch_norm=False)
    assert models.count_bn_layers(model) == 0
    assert not any(isinstance(layer, layers.BatchNormalization) for layer in model.layers)
    bn_params = 4 * (16 + 2 * n * 16 + 2 * n * 32 + 2 * n * 64)
    assert model.count_params() == PARAMS[depth, 10] - bn_params
    assert model.non_trainable_weights == []
    assert model.name == f"resnet{depth}_v1_nobn"


def test_resnet20_without_bn_has_271690_parameters():
    assert models.resnet_v1(20, 10, batch_norm=False).count_params() == 271_690


def test_layer_structure_of_resnet8():
    model = models.resnet_v1(8, 10)
    convs = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
    # stem + 3 stages x 1 block x 2 convs + 2 projection shortcuts
    assert len(convs) == 1 + 6 + 2
    assert sorted({c.filters for c in convs}) == [16, 32, 64]
    assert [c.kernel_size for c in convs].count((1, 1)) == 2
    assert sum(c.strides == (2, 2) for c in convs) == 4  # first conv + shortcut of stages 2, 3
    assert isinstance(model.layers[-2], layers.GlobalAveragePooling2D)
    dense = model.layers[-1]
    assert isinstance(dense, layers.Dense) and dense.units == 10
    assert dense.activation is keras.activations.softmax
    assert model.name == "resnet8_v1"


@pytest.mark.parametrize("depth", (21, 18, 2, 0, -4, 20.0, True, "20", None, 7))
def test_bad_depth_raises(depth):
    with pytest.raises(ValueError) as e:
        models.resnet_v1(depth)
    assert "depth" in str(e.value) and "6n+2" in str(e.value)
    with pytest.raises(ValueError, match="6n\\+2"):
        models.check_depth(depth)


@pytest.mark.parametrize("depth, n", ((8, 1), (14, 2), (20, 3), (56, 9), (np.int64(32), 5)))
def test_check_depth_gives_blocks_per_stage(depth, n):
    assert models.check_depth(depth) == n


def _kernels(model):
    return [layer.kernel for layer in model.layers if isinstance(layer, (layers.Conv2D, layers.Dense))]


def test_l2_regularization_on_every_kernel():
    model = models.resnet_v1(8, 10, input_shape=(8, 8, 3))
    ks = _kernels(model)
    assert len(ks) == 10
    for layer in model.layers:
        if isinstance(layer, (layers.Conv2D, layers.Dense)):
            reg = layer.kernel_regularizer
            assert isinstance(reg, keras.regularizers.L2)
            assert reg.l2 == pytest.approx(1e-4)
            assert layer.bias_regularizer is None
    # the total penalty is 1e-4 * sum of squared kernel entries (biases/BN excluded)
    total = float(sum(keras.ops.convert_to_numpy(x) for x in model.losses))
    expected = 1e-4 * sum(float(np.sum(np.square(keras.ops.convert_to_numpy(k), dtype=np.float64)))
                          for k in ks)
    assert len(model.losses) == 10
    assert total == pytest.approx(expected, rel=1e-5)
    assert total > 0


def test_default_initializer_is_glorot_uniform():
    model = models.resnet_v1(8, 10, input_shape=(8, 8, 3))
    for layer in model.layers:
        if isinstance(layer, (layers.Conv2D, layers.Dense)):
            assert isinstance(layer.kernel_initializer, keras.initializers.GlorotUniform)
            w = keras.ops.convert_to_numpy(layer.kernel)
            receptive = int(np.prod(w.shape[:-2])) if w.ndim > 2 else 1
            fan_in, fan_out = w.shape[-2] * receptive, w.shape[-1] * receptive
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            assert np.abs(w).max() <= limit + 1e-7
            # uniform on [-limit, limit]: std = limit / sqrt(3)
            if w.size >= 1000:
                assert np.std(w) == pytest.approx(limit / np.sqrt(3), rel=0.1)


def test_other_initializer_is_passed_through():
    model = models.resnet_v1(8, 10, input_shape=(8, 8, 3), initializer="he_normal")
    kinds = {type(layer.kernel_initializer) for layer in model.layers
             if isinstance(layer, (layers.Conv2D, layers.Dense))}
    assert kinds == {keras.initializers.HeNormal}


def _identity_model(k):
    inputs = keras.Input(shape=(k,))
    return keras.Model(inputs, layers.Identity()(inputs))


def test_accuracy_on_a_controlled_model():
    model = _identity_model(3)
    x = np.array([[0.9, 0.05, 0.05],   # -> 0
                  [0.1, 0.7, 0.2],     # -> 1
                  [0.2, 0.3, 0.5],     # -> 2
                  [0.6, 0.3, 0.1],     # -> 0
                  [0.1, 0.1, 0.8]],    # -> 2
                 dtype=np.float32)
    assert models.accuracy(model, x, np.array([0, 1, 2, 0, 2])) == 1.0
    assert models.accuracy(model, x, np.array([0, 1, 0, 1, 2])) == pytest.approx(3 / 5)
    assert models.accuracy(model, x, np.array([[1], [0], [0], [1], [0]])) == 0.0  # (N, 1) labels
    assert isinstance(models.accuracy(model, x, np.zeros(5, int)), float)
    assert models.accuracy(model, x, np.zeros(5, int), batch_size=1) == pytest.approx(2 / 5)
    # non-finite outputs are counted, and such an image is not a hit for a real label
    x_bad = x.copy()
    x_bad[1, :] = np.nan
    acc, nonfinite = models.evaluate(model, x_bad, np.array([0, 1, 2, 0, 2]), batch_size=2)
    assert nonfinite == pytest.approx(1 / 5)
    assert acc == pytest.approx(4 / 5)
