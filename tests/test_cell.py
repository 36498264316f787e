"""helpers.ops.cell, the steps of one run (notebooks/train.ipynb), on hand-made objects:
each step's numbers and sentences are the ones its inputs imply."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from helpers.experiment import metrics
from helpers.study import paper, results, theory
from helpers.ops import cell
from helpers.experiment.config import PARAMETERS, ConfigError, TrainConfig


def _namespace(tmp_path, **changes):
    ns = {name: getattr(TrainConfig(), name) for name in PARAMETERS}
    return {**ns, "profile": "smoke", "depth": 20, "results_dir": str(tmp_path / "res"),
            **changes}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return cell.prepare(_namespace(tmp_path_factory.mktemp("cell")))


def _sweep_table(a0=0.8, keep=(0.99, 0.95, 0.9, 0.7, 0.5, 0.3)):
    rows = [{"eta": 0.0, "repeat": 0, "accuracy": a0, "nonfinite": 0.0}]
    for eta, k in zip((0.01, 0.05, 0.1, 0.2, 0.3, 0.4), keep):
        rows += [{"eta": eta, "repeat": r, "accuracy": a0 * k + d, "nonfinite": 0.0}
                 for r, d in enumerate((-0.01, 0.01))]
    return pd.DataFrame(rows)


def _sweep(table, a0, n_subset=100):
    a_avr, a_avr_std = metrics.average_normalized_accuracy(table)
    return cell.Sweep(table, metrics.summarize_sweep(table), a0, a_avr, a_avr_std,
                      np.zeros((n_subset, 1)), np.zeros(n_subset), 0.0)


def _data(synthetic):
    return SimpleNamespace(source={"label": "CIFAR-10 (test copy)", "synthetic": synthetic},
                           y_train=np.zeros(50), y_test=np.zeros(20), num_classes=10)


def test_prepare_gives_the_key_and_files_of_the_config(setup, tmp_path):
    assert setup.key == results.run_key(setup.config.to_dict(), setup.fingerprint)
    assert setup.paths.record.name == f"{setup.key}.json"
    assert setup.config.profile == "smoke" and setup.config.depth == 20
    with pytest.raises(ConfigError, match="unknown parameter"):
        cell.prepare({**_namespace(tmp_path), "learning_rate": 0.1})
    with pytest.raises(ConfigError, match="depth"):
        cell.prepare(_namespace(tmp_path, depth=21))
    assert not (tmp_path / "res").exists()


def test_data_and_training_lines():
    assert cell.data_text(_data(False)) == ("CIFAR-10 (test copy): 50 training and 20 test "
                                            "images, 10 classes")
    assert cell.data_text(_data(True)).startswith("**SMOKE RUN on synthetic data")
    run = SimpleNamespace(status="completed", history=[{}, {}, {}], train_seconds=12.34)
    assert cell.train_text(run) == "status: completed; 3 epochs, 12.3 s of training"


def test_sweep_and_ablation_lines_carry_their_numbers():
    table = _sweep_table()
    sweep = _sweep(table, a0=0.85)
    assert sweep.text(1000) == ("a0 = 85.00 % on 1000 test images; noise sweeps on 100 of them "
                                "(a0 there 80.00 %)")
    abl = cell.Ablation({"kernels/array/additive": {"A_avr": 0.8123}}, 0.0)
    assert abl.text() == f"{'kernels/array/additive':26s} A_avr = 81.23 %"
    assert cell.Ablation({}, 0.0).text() == ""


def test_no_ablation_and_no_gradient_noise_unless_asked_and_completed(setup):
    sweep = _sweep(_sweep_table(), 0.8)
    assert cell.sweep_ablation(setup, None, sweep).blocks == {}   # noise_ablation=False
    diverged = SimpleNamespace(status="diverged")
    assert cell.gradient_noise(setup, _data(True), diverged) is None
    data = SimpleNamespace(x_test=np.arange(10.0)[:, None], y_test=np.arange(10))
    s = cell.sweep_noise(setup, data, diverged)
    assert s.table is None and s.a0 is None and len(s.y) == 10


def test_gradient_noise_line_gives_the_eq2_bound(setup):
    measured = {"C": 2.5, "seconds": 1.0, "n_examples": 64}
    line = cell.gradient_noise_text(setup, measured)
    bound = theory.noise_power_bound(setup.config.lr, 2.5, setup.config.batch_size)
    assert f"alpha^2 C / |B| = {bound:.4g}" in line and "64 images" in line
    assert bound == pytest.approx(0.001 ** 2 * 2.5 / 32)


def test_conclusion_reads_the_sweep_and_the_papers_table3(setup):
    table = _sweep_table()
    sweep = _sweep(table, a0=0.8)
    text = cell.conclusion(setup, _data(False), None, sweep)
    a_avr, _ = metrics.average_normalized_accuracy(table)
    assert f"A_avr = {100 * a_avr:.2f} %" in text
    assert "At eta = 10 % the model keeps 90.0 % of it" in text
    ref = paper.lookup("table3", dataset="cifar10", depth=20, lr=0.001)
    assert f"Table III gives {ref['avg_normalized_accuracy_pct'].iloc[0]:.2f} %" in text
    # one seed beside the paper's one run is no test, and the sentence says so
    epochs = setup.config.epochs
    assert (f"from one run of 200 epochs. This is one training seed"
            + ("" if epochs == 200 else f" of {epochs} epoch" + ("" if epochs == 1 else "s"))
            + ", so the two values are no test of the paper") in text
    assert "SMOKE RUN" in cell.conclusion(setup, _data(True), None, sweep)
    none = cell.Sweep(None, None, None, None, None, np.zeros(0), np.zeros(0), 0.0)
    diverged = SimpleNamespace(diverged_at_epoch=3)
    assert "**diverged** at epoch 3" in cell.conclusion(setup, _data(False), diverged, none)
    chance = cell.conclusion(setup, _data(False), None, _sweep(_sweep_table(a0=0.0), a0=0.0))
    assert "a0 = 0.00 %, near chance (below 2 / K = 20 % for K = 10 classes)" in chance
    assert "nan" not in chance and "A_avr =" not in chance


def test_the_record_names_the_environment_taken_as_the_run_started(tmp_path, monkeypatch):
    """A long run's record names the code that started it: the environment is taken once, in
    ``prepare``, and that one is written, whatever ``results.environment`` says later (a tree
    that changed during training)."""
    calls = []

    def environment():
        calls.append(1)
        return {"keras_backend": "tensorflow", "device": "CPU", "cpu_affinity": 1,
                "python": "3", "platform": "test", "packages": {},
                "git": {"commit": "started" if len(calls) == 1 else "changed later",
                        "dirty": False, "code_sha256": f"hash{len(calls)}"}}

    monkeypatch.setattr(results, "environment", environment)
    setup = cell.prepare(_namespace(tmp_path))
    assert len(calls) == 1 and setup.environment["git"]["commit"] == "started"
    environment()  # the tree changes during training
    saved = []
    monkeypatch.setattr(cell.training, "save_weights", lambda model, path: saved.append(path))
    run = SimpleNamespace(status="completed", diverged_at_epoch=None, train_seconds=1.0,
                          resumed_from_epoch=0, history=[{"epoch": 1, "test_accuracy": 0.8}],
                          model=None)
    record = cell.write_record(setup, _data(True), run, _sweep(_sweep_table(), 0.8),
                               cell.Ablation({}, 0.0), None)
    written = results.read_record(setup.paths.record)
    assert written["environment"] == record["environment"] == setup.environment
    assert written["environment"]["git"] == {"commit": "started", "dirty": False,
                                             "code_sha256": "hash1"}
    assert saved == [setup.paths.weights]
    # without an environment given, make_record takes it when it is called (as before)
    late = results.make_record(setup.config.to_dict(), setup.key, {"synthetic": True}, run,
                               None, {})
    assert late["environment"]["git"]["commit"] == "changed later"
