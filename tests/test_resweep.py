"""helpers.ops.resweep: a re-sweep of a trained smoke model's saved weights gives the numbers
of its own record, reading by reading; the two mechanism readings; bad input stops
before any sweep, naming what is wrong; and the breakage split (helpers.study.breakage)."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from helpers.study import breakage
from helpers.ops import resweep
from helpers.experiment import noise
from helpers.study import results
from helpers.ops import run_cell
from helpers.experiment.noise_model import BN_MEANS, FLOORED, PAPER, READINGS, VARIANCE_FLOOR, NoiseModel

OWN = (PAPER, NoiseModel(scope="trainable"), NoiseModel(scope="folded"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One smoke cell (synthetic data, ResNet8, the ablation swept) trained into tmp: its
    record and its weights, as the study writes them."""
    folder = tmp_path_factory.mktemp("smoke")
    run_cell.run_notebook({"profile": "smoke", "depth": 8, "lr": 0.003, "noise_ablation": True,
                           "results_dir": str(folder)}, cwd=folder)
    (path,) = folder.glob("*.json")
    return path


@pytest.fixture(scope="module")
def swept(trained, tmp_path_factory):
    """A copy of the trained folder re-swept under the record's own reading, two ablation
    readings and the two mechanism readings."""
    folder = tmp_path_factory.mktemp("swept")
    for f in trained.parent.glob(f"{trained.stem}*"):
        if f.is_file():
            shutil.copy(f, folder / f.name)
    record = folder / trained.name
    before = record.read_bytes()
    written = resweep.resweep([folder], [m.name for m in OWN] + ["mechanism"], progress=False,
                              say=lambda s: None)
    assert record.read_bytes() == before          # the training record is never rewritten
    return record, written


def _sweep(record, reading):
    return json.loads(results.sweep_path(record, reading).read_text())


def test_a_resweep_of_saved_weights_gives_the_numbers_of_its_own_record(swept):
    record, written = swept
    rec = results.read_record(record)
    assert len(written) == 5 and all(p.parent == record.parent for p in written)
    blocks = breakage.record_blocks(rec)
    for reading in OWN:
        s = _sweep(record, reading)
        assert s["key"] == rec["key"] and s["reading"]["name"] == reading.name
        theirs = blocks[reading.name]
        assert s["noise"]["draws"] == theirs["draws"]       # every draw, bit for bit
        assert s["noise"]["A_avr"] == theirs["A_avr"]
        assert s["noise"]["summary"] == theirs["summary"]
    assert _sweep(record, PAPER)["noise"]["a0"] == rec["noise"]["a0"]
    assert len(rec["noise"]["draws"]) == 1 + 6 * rec["config"]["n_repeats"]


def test_sweep_files_carry_their_reading_settings_and_the_breakage_split(swept):
    record, _ = swept
    rec = results.read_record(record)
    s = _sweep(record, FLOORED)
    assert s["reading"] == {"name": "all/array/additive/varfloor=1e-06",
                            "label": FLOORED.label, "phrase": FLOORED.phrase}
    assert "1e-06" in s["reading"]["phrase"]
    assert s["settings"]["n_repeats"] == rec["config"]["n_repeats"]
    assert s["settings"]["seed"] == rec["config"]["seed"] and s["synthetic_data"] is True
    assert "record_version" not in s               # results.load_records never reads it
    split = breakage.split(pd.DataFrame(s["noise"]["draws"]))
    assert s["noise"]["breakage"]["per_eta"] == json.loads(
        json.dumps(split.replace({np.nan: None}).to_dict(orient="records")))
    # the floored reading makes the paper's draws, clipped: it never breaks the model
    assert s["noise"]["breakage"]["broken"] == 0.0
    assert all(d["nonfinite"] == 0 for d in s["noise"]["draws"])
    assert len(results.load_records(record.parent)) == 1  # sweep files are not records


def test_a_resweep_skips_what_exists_and_load_sees_every_reading(swept):
    record, _ = swept
    again = resweep.resweep([record], ["mechanism", PAPER.name], progress=False,
                            say=lambda s: None)
    assert again == []
    blocks = results.sweep_blocks(record)
    assert set(blocks) == {m.name for m in (*OWN, FLOORED, BN_MEANS)}
    runs = breakage.runs(results.load_records(record.parent))
    # a smoke model is near chance: left out of the split, as of every A^x table
    near = results.load_records(record.parent)["near_chance"].iloc[0]
    assert runs.empty == bool(near)


def test_bad_input_stops_before_any_sweep(trained, tmp_path):
    with pytest.raises(ValueError) as e:
        resweep.parse_readings(["all/array/additive", "bn_variances"])
    assert "'bn_variances'" in str(e.value) and "'mechanism'" in str(e.value)
    assert all(f"'{n}'" in str(e.value) for n in READINGS)
    folder = tmp_path / "noweights"
    folder.mkdir()
    shutil.copy(trained, folder / trained.name)
    with pytest.raises(FileNotFoundError, match="no weights file for 1 record.*weights.h5"):
        resweep.resweep([folder], ["mechanism"], progress=False, say=lambda s: None)
    assert resweep.resweep([folder], ["mechanism"], missing_weights="skip", progress=False,
                           say=lambda s: None) == []
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no training record"):
        resweep.record_paths([tmp_path / "empty"])
    # other data than the record's: its fingerprint differs, nothing is written
    shutil.copy(resweep.weights_path(trained), folder / resweep.weights_path(trained).name)
    from helpers.experiment import synthetic

    other = synthetic.write_synthetic(tmp_path / "other", "cifar10", n_train=512, n_test=256,
                                      seed=1, fmt="folder")
    with pytest.raises(ValueError, match="fingerprint .* is not the"):
        resweep.resweep([folder], ["mechanism"], data_dir=other, progress=False,
                        say=lambda s: None)
    assert not list(folder.glob("*.sweep-*.json"))
    assert resweep.main([str(folder), "--reading", "nope", "--no-progress"]) == 2


# --------------------------------------------------------------------------
# the two mechanism readings, on a model whose BN variances are set by hand
# --------------------------------------------------------------------------

@pytest.fixture
def resnet8():
    import keras

    from helpers.experiment import models

    keras.utils.set_random_seed(0)
    model = models.resnet_v1(8, 10, input_shape=(8, 8, 3))
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):  # one dead channel each
            rng = np.random.default_rng(0)
            v = rng.uniform(1, 2, layer.moving_variance.shape)
            v[0] = 0.0
            layer.moving_variance.assign(v.astype(np.float32))
            layer.moving_mean.assign(rng.normal(0, 1, layer.moving_mean.shape).astype(np.float32))
    return model


def _weights(model):
    return {v.path: np.array(v.numpy()) for v in model.weights}


def test_bn_means_reading_noises_the_moving_means_only(resnet8):
    before = _weights(resnet8)
    with noise.injected(resnet8, 0.4, noise.draw_rng(0, 0.4, 0), BN_MEANS):
        during = _weights(resnet8)
    changed = {p for p in before if not np.array_equal(before[p], during[p])}
    assert changed == {p for p in before if p.endswith("moving_mean")} and changed
    assert all(np.array_equal(before[p], a) for p, a in _weights(resnet8).items())


def test_floored_reading_is_the_papers_draw_with_the_variances_clipped(resnet8):
    rng = lambda: noise.draw_rng(3, 0.4, 1)  # noqa: E731
    with noise.injected(resnet8, 0.4, rng()):
        paper = _weights(resnet8)
    with noise.injected(resnet8, 0.4, rng(), FLOORED):
        floored = _weights(resnet8)
    var = [p for p in paper if p.endswith("moving_variance")]
    assert any((paper[p] < 0).any() for p in var)     # the dead channels went negative
    for p in paper:
        want = np.maximum(paper[p], np.float32(VARIANCE_FLOOR)) if p in var else paper[p]
        assert np.array_equal(floored[p], want), p
    x = np.random.default_rng(0).normal(size=(16, 8, 8, 3)).astype(np.float32)
    y = np.arange(16) % 10
    t = noise.fit_noise_sweep(resnet8, x, y, FLOORED, etas=(0.4,), n_repeats=3, progress=False)
    p = noise.fit_noise_sweep(resnet8, x, y, PAPER, etas=(0.4,), n_repeats=3, progress=False)
    assert (t["nonfinite"] == 0).all() and (p.loc[p["eta"] > 0, "nonfinite"] == 1).all()


def test_a_floor_needs_the_scope_that_noises_variances_and_names_round_trip():
    assert NoiseModel.from_name(FLOORED.name) == FLOORED
    assert NoiseModel.from_name(BN_MEANS.name) == BN_MEANS and BN_MEANS.needs_bn
    assert FLOORED.slug == "all-array-additive-varfloor1e-06"
    with pytest.raises(ValueError, match="variance_floor=0.001 needs scope='all'"):
        NoiseModel(scope="trainable", variance_floor=1e-3)
    with pytest.raises(ValueError, match="variance_floor=-1"):
        NoiseModel(variance_floor=-1)
    assert PAPER.label == "paper (all arrays)" and "paper's reading" in PAPER.phrase


# --------------------------------------------------------------------------
# the breakage split, on hand-made draws
# --------------------------------------------------------------------------

def _draws(a0, per_eta):
    rows = [{"eta": 0.0, "repeat": 0, "accuracy": a0, "nonfinite": 0.0}]
    for eta, accs in per_eta.items():
        rows += [{"eta": eta, "repeat": r, "accuracy": a, "nonfinite": float(a == 0.1)}
                 for r, a in enumerate(accs)]
    return pd.DataFrame(rows)


def test_split_separates_broken_draws_from_degraded_ones():
    d = _draws(0.8, {0.1: [0.8, 0.6, 0.1, 0.1], 0.4: [0.1, 0.1, 0.1, 0.1]})
    s = breakage.split(d).set_index("eta")
    assert s.loc[0.1, "broken"] == 0.5 and s.loc[0.4, "broken"] == 1.0
    assert s.loc[0.1, "A_x"] == pytest.approx((0.8 + 0.6 + 0.2) / 4 / 0.8)
    assert s.loc[0.1, "A_x_unbroken"] == pytest.approx(0.7 / 0.8)
    assert np.isnan(s.loc[0.4, "A_x_unbroken"])
    m = breakage.summary(s.reset_index())
    assert m["broken"] == 0.75 and m["etas_unbroken"] == 1 and m["etas"] == 2
    assert m["A_avr_unbroken"] is None       # a level without an unbroken draw: no mean
    assert m["A_avr"] == pytest.approx(((0.8 + 0.6 + 0.2) / 4 / 0.8 + 0.1 / 0.8) / 2)
    full = breakage.summary(breakage.split(_draws(0.8, {0.1: [0.8, 0.1], 0.4: [0.4, 0.6]})))
    assert full["A_avr_unbroken"] == pytest.approx((1.0 + 0.625) / 2)


def test_cells_pool_the_unbroken_draws_of_the_seeds(tmp_path):
    from helpers.experiment.training import TrainResult

    for seed, (a0, accs) in enumerate([(0.8, [0.8, 0.1, 0.4, 0.1]), (0.5, [0.1, 0.1, 0.25, 0.5])]):
        cfg = {"dataset": "cifar10", "depth": 20, "lr": 0.001, "optimizer": "adam",
               "batch_norm": True, "seed": seed, "profile": "paper", "epochs": 1,
               "noise_scope": "all", "noise_granularity": "array", "noise_ablation": False}
        run = TrainResult(model=None, history=[{"epoch": 1, "lr": 0.001, "test_accuracy": a0}])
        rec = results.make_record(cfg, f"k{seed}", {"label": "hand-made", "synthetic": False},
                                  run, _draws(a0, {0.1: accs[:2], 0.4: accs[2:]}), {})
        results.write_record(tmp_path / f"k{seed}.json", rec)
    (c,) = breakage.cells(results.load_records(tmp_path)).to_dict(orient="records")
    assert c["seeds"] == 2 and c["broken"] == pytest.approx((0.5 + 0.5) / 2)
    # eta 0.1: unbroken 0.8 / 0.8 (seed 0) only; eta 0.4: 0.4 / 0.8, 0.25 / 0.5, 0.5 / 0.5
    assert c["A_avr_unbroken"] == pytest.approx((1.0 + (0.5 + 0.5 + 1.0) / 3) / 2)
    assert c["levels_unbroken"] == c["levels"] == 2 and c["n_unbroken"] == 4


def test_spearman_exact_p_counts_the_orderings():
    r, p = breakage.spearman_exact([1, 2, 3, 4, 5], [1, 2, 3, 4, 5])
    assert r == pytest.approx(1.0) and p == pytest.approx(2 / 120)  # two orderings of 120
    assert np.isnan(breakage.spearman_exact([1, 2], [2, 1])[0])
    r, p = breakage.spearman_exact(range(10), range(10))  # 10! orderings: sampled
    assert r == pytest.approx(1.0) and p < 0.001


def test_sentence_states_that_the_lr_sets_how_often_the_model_breaks():
    lrs = [0.0005, 0.001, 0.0015, 0.002, 0.003]
    rows = [{"reading": PAPER.name, "dataset": "cifar10", "depth": 20, "optimizer": "adam",
             "batch_norm": True, "lr": lr, "seeds": 3, "broken": b, "A_avr_unbroken": u,
             "A_avr": u - b / 2}
            for lr, b, u in zip(lrs, [0.1, 0.2, 0.4, 0.8, 0.9], [0.7, 0.72, 0.75, 0.8, 0.82])]
    text = breakage.sentence(pd.DataFrame(rows))
    assert text.startswith("Under the paper's reading")
    assert "from 10 % at lr = 0.0005 to 90 % at lr = 0.003" in text
    assert "for ResNet20 on CIFAR-10 (Adam), the share of broken draws" in text
    assert "rho(LR, broken) = +1.00 over the 5 LRs, permutation p = 0.017" in text
    assert "A_avr over the unbroken draws rises with the LR (rho = +1.00, p = 0.017" in text
    assert "70.0 %, 72.0 %, 75.0 %, 80.0 %, 82.0 %" in text
    assert "the LR sets how often the model breaks" in text
    assert "No record" in breakage.sentence(pd.DataFrame(rows), BN_MEANS.name)
    flat = pd.DataFrame(rows).assign(broken=0.0, A_avr=[0.9, 0.8, 0.7, 0.6, 0.5])
    text = breakage.sentence(flat)
    assert "no draw broke the model at any of the 5 LRs, and A_avr goes from 90.0 %" in text
    assert "rho(LR, A_avr) = -1.00, permutation p = 0.017" in text
    # another optimizer at one LR of the grid is a model of its own, not a sixth LR
    sgd = pd.DataFrame(rows).assign(optimizer="sgd", lr=0.00075).iloc[:1]
    assert breakage.sentence(pd.concat([pd.DataFrame(rows), sgd])) == breakage.sentence(
        pd.DataFrame(rows))


def test_the_pcm_device_reading_runs_through_the_resweep_command(trained, tmp_path, monkeypatch):
    """--reading pcm writes <key>.pcm.json beside the record from its weights (aihwkit's
    PCM model at 1 s, 1 h, 1 day, 1 year), leaves the record and the weights unchanged,
    and a second call writes nothing; without the analog extra it stops before any work
    with an error naming the extra."""
    from helpers.experiment import pcm

    for f in trained.parent.glob(f"{trained.stem}*"):
        if f.is_file():
            shutil.copy(f, tmp_path / f.name)
    record = tmp_path / trained.name
    before, weights = record.read_bytes(), resweep.weights_path(record).read_bytes()
    monkeypatch.setattr(pcm, "N_DRAWS", 2)
    try:
        pcm.require_aihwkit()
    except pcm.MissingExtraError:
        monkeypatch.setattr(pcm, "require_aihwkit", lambda: (_ for _ in ()).throw(
            pcm.MissingExtraError("aihwkit is missing: pip install -e \".[analog]\"")))
        assert resweep.main([str(tmp_path), "--reading", "pcm", "--no-progress"]) == 2
        assert not pcm.sweep_path(record).exists()
        return
    (path,) = resweep.resweep([tmp_path], ["pcm"], progress=False, say=lambda s: None)
    assert path == pcm.sweep_path(record)
    s = json.loads(path.read_text())
    rec = results.read_record(record)
    assert s["key"] == rec["key"] and s["times_s"] == list(pcm.TIMES) and s["n_draws"] == 2
    assert len(s["accuracy"]) == 4 and all(len(a) == 2 for a in s["accuracy"])
    assert s["weights"]["sha256"] == resweep.sha256(resweep.weights_path(record))
    assert record.read_bytes() == before and resweep.weights_path(record).read_bytes() == weights
    assert resweep.resweep([tmp_path], ["pcm"], progress=False, say=lambda s: None) == []


def test_every_sweep_names_the_code_as_the_command_started(trained, tmp_path, monkeypatch):
    """The environment (commit, code hash) of each sweep file is taken once, before the
    first sweep: a tree that changes while a long re-sweep runs is not what its files
    name. Each pcm sweep file carries it too."""
    from helpers.experiment import pcm

    for f in trained.parent.glob(f"{trained.stem}*"):
        if f.is_file():
            shutil.copy(f, tmp_path / f.name)
    calls = []
    monkeypatch.setattr(results, "environment",
                        lambda: calls.append(1) or {"git": {"commit": f"call-{len(calls)}"}})
    readings = [FLOORED.name, BN_MEANS.name]
    try:
        pcm.require_aihwkit()
        monkeypatch.setattr(pcm, "N_DRAWS", 1)
        readings.append("pcm")
    except pcm.MissingExtraError:
        pass
    written = resweep.resweep([tmp_path], readings, progress=False, say=lambda s: None)
    assert len(written) == len(readings) and len(calls) == 1
    for path in written:
        assert json.loads(path.read_text())["environment"] == {"git": {"commit": "call-1"}}


def test_a_reading_of_your_own_sweeps_into_its_own_folder_and_keeps_its_kind(
        trained, tmp_path, monkeypatch):
    """A kind a user registers (here: no noise at all, so every draw must score a0) and a
    combination no study sweeps, given by name: both written to ``out_dir``, the
    records' folder untouched; the user's kind is kept by its source."""
    from helpers.experiment import noise_model

    def unchanged(a, sigma, eta, rng):
        return a.copy()

    monkeypatch.setitem(noise_model.KINDS, "unchanged", unchanged)
    folder = tmp_path / "records"
    folder.mkdir()
    for f in trained.parent.glob(f"{trained.stem}*"):
        if f.is_file() and not results.is_sweep_file(f):
            shutil.copy(f, folder / f.name)
    before = sorted(p.name for p in folder.iterdir())
    out, mine = tmp_path / "mine", NoiseModel(scope="trainable", kind="unchanged")
    written = resweep.resweep([folder], [mine, "kernels/layer/multiplicative"], out_dir=out,
                              progress=False, say=lambda s: None)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert len(written) == 2 and {p.parent for p in written} == {out}
    rec = results.read_record(trained)
    s = json.loads(results.sweep_path(out / trained.name, mine).read_text())
    assert s["reading"]["name"] == "trainable/array/unchanged"
    assert [d["accuracy"] for d in s["noise"]["draws"]] == \
        [rec["noise"]["a0"]] * (1 + 6 * rec["config"]["n_repeats"])
    assert s["noise"]["A_avr"] == pytest.approx(1.0)
    assert s["reading"]["kind"]["function"].endswith("unchanged")
    assert "return a.copy()" in s["reading"]["kind"]["source"]
    other = json.loads(results.sweep_path(
        out / trained.name, NoiseModel("kernels", "layer", "multiplicative")).read_text())
    assert "kind" not in other["reading"]             # a kind of this package: its code is named
    assert other["noise"]["a0"] == rec["noise"]["a0"]
    assert resweep.resweep([folder], [mine], out_dir=out, progress=False,
                           say=lambda s: None) == []  # resumable in out_dir too
    # a kind nobody registered, or a file as out_dir: refused before any sweep
    with pytest.raises(ValueError, match=r"'trainable/array/nope' \(kind='nope'.*unchanged"):
        resweep.parse_readings(["trainable/array/nope"])
    (tmp_path / "a_file").write_text("")
    with pytest.raises(ValueError, match="out_dir=.*a_file.*is a file"):
        resweep.resweep([folder], [mine], out_dir=tmp_path / "a_file", progress=False)
    assert resweep.main([str(folder), "--reading", "trainable/array/nope", "--no-progress"]) == 2


def test_the_your_noise_page_runs_as_written(trained, tmp_path, monkeypatch, capsys):
    """The Python of book/your_noise.md, run as a script as written, on a smoke record
    (the record and the data are its only changes): it writes the stuck-at-zero sweep
    to my-sweeps/, which keeps the function's source, and prints its numbers."""
    import re
    import runpy
    from pathlib import Path

    from helpers.experiment import noise_model

    page = (Path(__file__).parents[1] / "book" / "your_noise.md").read_text()
    code = "\n".join(re.findall(r"```python\n(.*?)```", page, re.S))
    code, n = re.subn(r"^records = .*$", f"records = [{str(trained)!r}]", code, flags=re.M)
    code, m = re.subn(r"^data_dir = .*$", "data_dir = None", code, flags=re.M)
    assert n == m == 1
    script = tmp_path / "your_noise_example.py"
    script.write_text(code)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(noise_model.KINDS, "stuck_at_zero", None)   # removed afterwards
    ns = runpy.run_path(str(script))
    (path,) = map(Path, ns["written"])
    assert path.parent == Path("my-sweeps") and (tmp_path / path).exists()
    assert not list(trained.parent.glob("*stuck_at_zero*"))
    s = json.loads(path.read_text())
    rec = results.read_record(trained)
    assert s["reading"]["name"] == "folded/array/stuck_at_zero"
    assert "np.where(rng.random(w.shape) < eta, 0, w)" in s["reading"]["kind"]["source"]
    assert s["noise"]["a0"] == rec["noise"]["a0"]
    assert len(s["noise"]["draws"]) == 1 + 6 * rec["config"]["n_repeats"]
    out = capsys.readouterr().out
    assert f"folded/array/stuck_at_zero A_avr = {s['noise']['A_avr']}" in out
    assert f"a0 = {rec['noise']['a0']:.4f} on " in out     # trained_model: the record's a0


def test_trained_model_gives_the_records_accuracy_and_refuses_a_record_without_weights(
        trained, tmp_path):
    """``trained_model``: the rebuilt model with its weights scores the record's a0 on the
    sweeps' test subset; a record without weights is refused, naming the file it lacks."""
    model, x, y = resweep.trained_model(trained)
    rec = results.read_record(trained)
    assert len(y) == min(rec["config"]["noise_test_samples"] or len(y), len(y))
    predicted = np.argmax(model.predict(x, verbose=0), axis=1)
    assert float(np.mean(predicted == np.asarray(y).ravel())) == pytest.approx(
        rec["noise"]["a0"], abs=1e-9)
    shutil.copy(trained, tmp_path / trained.name)
    with pytest.raises(FileNotFoundError, match=r"record_path=.*no trained model.*weights\.h5"):
        resweep.trained_model(tmp_path / trained.name)
