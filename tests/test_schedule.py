"""The step learning-rate schedule and the optimizers (helpers.experiment.training)."""

import keras
import numpy as np
import pytest

from helpers.experiment.recipe import OPTIMIZER_SETTINGS
from helpers.experiment.training import lr_at_epoch, make_optimizer

LR = 0.01


@pytest.mark.parametrize("epoch, factor", [
    (0, 1.0), (79, 1.0),
    (80, 0.1), (119, 0.1),
    (120, 0.01), (159, 0.01),
    (160, 1e-3), (179, 1e-3),
    (180, 5e-4), (199, 5e-4),
])
def test_paper_schedule_boundaries(epoch, factor):
    assert lr_at_epoch(epoch, LR, 200) == pytest.approx(LR * factor, rel=1e-12)
    assert lr_at_epoch(epoch, LR) == pytest.approx(LR * factor, rel=1e-12)  # 200 is the default


@pytest.mark.parametrize("epoch, factor", [
    (0, 1.0), (11, 1.0),
    (12, 0.1), (17, 0.1),
    (18, 0.01), (23, 0.01),
    (24, 1e-3), (26, 1e-3),
    (27, 5e-4), (29, 5e-4),
])
def test_schedule_compressed_to_30_epochs(epoch, factor):
    assert lr_at_epoch(epoch, LR, 30) == pytest.approx(LR * factor, rel=1e-12)


def test_single_epoch_uses_the_base_rate():
    assert lr_at_epoch(0, 0.3, 1) == 0.3


def test_schedule_is_monotone_and_uses_five_rates():
    rates = [lr_at_epoch(e, 1e-3, 200) for e in range(200)]
    assert all(a >= b for a, b in zip(rates, rates[1:]))
    assert sorted(set(rates), reverse=True) == pytest.approx([1e-3, 1e-4, 1e-5, 1e-6, 5e-7])
    assert rates.count(1e-3) == 80


@pytest.mark.parametrize("name, cls", [
    ("adam", keras.optimizers.Adam), ("nadam", keras.optimizers.Nadam),
    ("adamax", keras.optimizers.Adamax), ("sgd", keras.optimizers.SGD),
    ("sgd_momentum", keras.optimizers.SGD), ("sgd_nesterov", keras.optimizers.SGD),
])
def test_make_optimizer(name, cls):
    opt = make_optimizer(name, 0.0123)
    assert type(opt) is cls
    lr = float(np.asarray(keras.ops.convert_to_numpy(opt.learning_rate)))
    assert lr == pytest.approx(0.0123, rel=1e-6)
    if cls is keras.optimizers.SGD:
        expected = {"sgd": (0.0, False), "sgd_momentum": (0.9, False),
                    "sgd_nesterov": (0.9, True)}[name]
        assert opt.momentum == pytest.approx(expected[0])
        assert bool(opt.nesterov) is expected[1]


def test_six_optimizers():
    assert set(OPTIMIZER_SETTINGS) == {"adam", "nadam", "adamax", "sgd", "sgd_momentum", "sgd_nesterov"}


def test_unknown_optimizer_raises():
    with pytest.raises(ValueError, match="optimizer='rmsprop'") as e:
        make_optimizer("rmsprop", 0.1)
    assert "sgd_nesterov" in str(e.value)
