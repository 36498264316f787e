"""scripts/bn_breakage.py: the table is recomputed from the weights at hand, and a model
whose weights are gone keeps its committed rows (weights never outlive the machine that
trained them)."""

import json

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def script(load_script):
    return load_script("bn_breakage")


def _rows(key, etas, p):
    return pd.DataFrame([{"key": key, "dataset": "cifar10", "depth": 20, "lr": 0.001,
                          "seed": 0, "eta": e, "p_predicted": p, "broken_observed": 0.0,
                          "n_draws": 10} for e in etas])


def test_merge_keeps_the_rows_of_models_it_did_not_recompute_and_replaces_the_others(script):
    old = pd.concat([_rows("a", [0.1, 0.2], 0.5), _rows("b", [0.1, 0.2], 0.5)])
    new = pd.concat([_rows("b", [0.1, 0.2], 0.9), _rows("c", [0.1], 0.7)])
    out = script.merge(old, new)
    assert list(out["key"]) == ["a", "a", "b", "b", "c"]
    assert list(out["p_predicted"]) == [0.5, 0.5, 0.9, 0.9, 0.7]  # b's old rows are replaced
    assert script.merge(pd.DataFrame(), new).equals(new.reset_index(drop=True))


def test_the_script_recomputes_a_model_from_its_weights_and_keeps_a_gone_models_rows(
        script, tmp_path):
    from math import erf, sqrt

    import keras
    import numpy as np

    from helpers.experiment import models

    key = "cifar10-resnet20-bn-adam-lr0.001-s0-test"
    model = models.resnet_v1(depth=20, num_classes=10, batch_norm=True)
    bns = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]
    rng = np.random.default_rng(0)
    for layer in bns:  # variances far from zero: these channels never break at eta <= 0.4
        layer.moving_variance.assign(rng.uniform(2.0, 3.0, layer.moving_variance.shape))
    first = rng.uniform(2.0, 3.0, bns[0].moving_variance.shape)
    first[0] = 0.0  # one dead channel: it breaks the model when its draw is < -eps
    bns[0].moving_variance.assign(first)
    model.save_weights(tmp_path / f"{key}.weights.h5")
    draws = [{"eta": e, "draw": d, "accuracy": 0.1, "nonfinite": int(d == 0)}
             for e in (0.1, 0.4) for d in range(4)]
    record = {"key": key, "status": "completed",
              "config": {"dataset": "cifar10", "depth": 20, "batch_norm": True,
                         "optimizer": "adam", "lr": 0.001, "seed": 0},
              "noise": {"etas": [0.1, 0.4], "draws": draws}}
    (tmp_path / f"{key}.json").write_text(json.dumps(record))
    _rows("gone-model", [0.1], 0.25).assign(optimizer="nadam").to_csv(
        tmp_path / "bn-breakage.csv", index=False)

    (tmp_path / f"{key}.sweep-bn_means-array-additive.json").write_text("{}")  # not a record
    script.main(["--results-dir", str(tmp_path)])   # the weights beside the records
    table = pd.read_csv(tmp_path / "bn-breakage.csv")
    assert sorted(table["key"].unique()) == sorted([key, "gone-model"])
    assert table.loc[table["key"] == "gone-model", "p_predicted"].tolist() == [0.25]
    ours = table[table["key"] == key].set_index("eta")
    assert ours["broken_observed"].tolist() == [0.25, 0.25]  # 1 of 4 draws non-finite
    assert ours["n_draws"].tolist() == [4, 4]
    # the dead channel alone: P(eta sigma_w e < -eps) = 1 - Phi(eps / (eta sigma_w))
    s, eps = float(np.std(first.astype(np.float32))), bns[0].epsilon
    for eta in (0.1, 0.4):
        expected = 1 - 0.5 * (1 + erf(eps / (eta * s) / sqrt(2)))
        assert ours.loc[eta, "p_predicted"] == pytest.approx(expected, abs=1e-4)
    assert ours.loc[0.4, "p_predicted"] > ours.loc[0.1, "p_predicted"]
    assert table.groupby("key")["optimizer"].first().to_dict() == {key: "adam", "gone-model": "nadam"}


def test_rows_without_an_optimizer_take_their_records_and_a_row_without_one_is_named(
        script, tmp_path):
    """A table written before the optimizer column gets it from each row's record, so that
    another optimizer at an LR of the grid is not averaged into the grid's cell; a row
    whose record is missing is refused by key."""
    for key, opt in (("a", "adam"), ("n", "nadam")):
        (tmp_path / f"{key}.json").write_text(json.dumps({"key": key, "config": {"optimizer": opt}}))
    old = pd.concat([_rows("a", [0.1], 0.5), _rows("n", [0.1], 0.5)])
    out = script.with_optimizer(old, tmp_path)
    assert list(out["optimizer"]) == ["adam", "nadam"]
    assert list(out.columns).index("optimizer") == list(out.columns).index("lr") - 1
    with pytest.raises(ValueError, match="no record for x"):
        script.with_optimizer(pd.concat([old, _rows("x", [0.1], 0.5)]), tmp_path)
