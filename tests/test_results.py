"""Run records (helpers.study.results): keys, atomic writes, assembling and loading."""

import dataclasses
import json
import math
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from helpers.study import results
from helpers.experiment.config import make_config
from helpers.book import page


@pytest.fixture
def config(synthetic_root):
    return make_config(profile="smoke", data_dir=str(synthetic_root)).to_dict()


# --------------------------------------------------------------------------
# run_key
# --------------------------------------------------------------------------

def test_run_key_is_stable_and_readable(config):
    k = results.run_key(config, "abc123")
    assert k == results.run_key(dict(config), "abc123")
    assert k == results.run_key(dict(reversed(list(config.items()))), "abc123")
    assert k.startswith("cifar10-resnet20-bn-adam-lr0.001-s0-smoke-")
    digest = k.rsplit("-", 1)[1]
    assert len(digest) == 10 and all(ch in "0123456789abcdef" for ch in digest)


def _other_value(name, value):
    return {"dataset": "cifar100", "depth": 32, "lr": 0.01, "optimizer": "sgd", "epochs": 7,
            "batch_size": 64, "seed": 1, "batch_norm": not value, "profile": "fast",
            "n_repeats": 3, "noise_scope": "kernels", "noise_granularity": "layer",
            "steps_per_epoch": 5, "train_samples": 100, "test_samples": 50,
            "noise_ablation": not value, "mixed_precision": not value}[name]


# everything that changes what a run computes (data_dir and results_dir do not)
KEY_FIELDS = ("dataset", "depth", "lr", "optimizer", "epochs", "batch_size", "seed",
              "batch_norm", "profile", "n_repeats", "noise_scope", "noise_granularity",
              "steps_per_epoch", "train_samples", "test_samples", "noise_ablation",
              "mixed_precision")


def test_key_fields():
    assert set(results.KEY_FIELDS) == set(KEY_FIELDS)


@pytest.mark.parametrize("name", KEY_FIELDS)
def test_run_key_changes_with_every_key_field(config, name):
    base = results.run_key(config, "fp")
    changed = {**config, name: _other_value(name, config[name])}
    assert changed[name] != config[name]
    assert results.run_key(changed, "fp") != base


def test_run_key_changes_with_the_data_and_ignores_paths(config):
    base = results.run_key(config, "fp1")
    assert results.run_key(config, "fp2") != base
    moved = {**config, "data_dir": "/somewhere/else", "results_dir": "/other/results"}
    assert results.run_key(moved, "fp1") == base


def test_run_key_shows_no_bn_and_small_lr(config):
    k = results.run_key({**config, "batch_norm": False, "lr": 1e-5}, "fp")
    assert "-nobn-" in k and "-lr1e-05-" in k


# --------------------------------------------------------------------------
# write_record / read_record
# --------------------------------------------------------------------------

def test_write_and_read_round_trip(tmp_path):
    rec = {"record_version": 1, "key": "k", "x": [1, 2.5, None], "nested": {"a": "b"},
           "nan": float("nan")}
    path = results.write_record(tmp_path / "sub" / "k.json", rec)
    assert path == tmp_path / "sub" / "k.json"
    back = results.read_record(path)
    # strict JSON: NaN/inf are stored as null
    assert "NaN" not in path.read_text()
    assert back.pop("nan") is None
    rec.pop("nan")
    assert back == rec
    assert os.listdir(tmp_path / "sub") == ["k.json"]


def test_non_finite_numbers_become_null_everywhere(tmp_path):
    rec = {"a": [float("inf"), 1.0, {"b": float("-inf")}], "c": (float("nan"), 2)}
    back = results.read_record(results.write_record(tmp_path / "r.json", rec))
    assert back == {"a": [None, 1.0, {"b": None}], "c": [None, 2]}
    assert rec["a"][0] == float("inf")  # the caller's record is not modified


def test_write_record_replaces_the_old_content(tmp_path):
    p = tmp_path / "r.json"
    results.write_record(p, {"v": 1})
    results.write_record(p, {"v": 2})
    assert results.read_record(p) == {"v": 2}
    assert os.listdir(tmp_path) == ["r.json"]


def test_failed_serialisation_keeps_the_old_record(tmp_path, monkeypatch):
    p = tmp_path / "r.json"
    results.write_record(p, {"v": 1})
    old = p.read_bytes()

    def broken(*a, **k):
        raise TypeError("not serialisable")

    monkeypatch.setattr(results.json, "dumps", broken)
    with pytest.raises(TypeError):
        results.write_record(p, {"v": 2})
    assert p.read_bytes() == old
    assert os.listdir(tmp_path) == ["r.json"]


def test_crash_in_the_middle_of_writing_keeps_the_old_record(tmp_path, monkeypatch):
    p = tmp_path / "r.json"
    results.write_record(p, {"v": 1, "payload": "x" * 1000})
    old = p.read_bytes()
    real_write_text = Path.write_text
    written = []

    def half_then_crash(self, text, *a, **k):
        real_write_text(self, text[: len(text) // 2], *a, **k)  # a partial file exists
        written.append(self)
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", half_then_crash)
    with pytest.raises(OSError, match="disk full"):
        results.write_record(p, {"v": 2, "payload": "y" * 1000})
    monkeypatch.undo()
    assert written and written[0] != p  # it wrote to a temporary file, not the record
    assert p.read_bytes() == old
    assert results.read_record(p)["v"] == 1
    assert os.listdir(tmp_path) == ["r.json"]  # no temporary file left behind


def test_failed_rename_keeps_the_old_record(tmp_path, monkeypatch):
    p = tmp_path / "r.json"
    results.write_record(p, {"v": 1})

    def broken(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(results.os, "replace", broken)
    with pytest.raises(OSError, match="rename failed"):
        results.write_record(p, {"v": 2})
    monkeypatch.undo()
    assert results.read_record(p) == {"v": 1}
    assert os.listdir(tmp_path) == ["r.json"]


# --------------------------------------------------------------------------
# make_record / load_records
# --------------------------------------------------------------------------

@dataclass
class FakeTrain:
    status: str = "completed"
    diverged_at_epoch: int | None = None
    history: list = field(default_factory=list)
    train_seconds: float = 12.5
    resumed_from_epoch: int = 0


def _sweep(a0, rows):
    return pd.DataFrame([(0.0, 0, a0)] + rows, columns=["eta", "repeat", "accuracy"])


# a0 = 0.5; eta 0.1: 0.5, 0.4 -> A 0.9 ; eta 0.2: 0.3, 0.2 -> A 0.5 ; A_avr 0.7
# per repeat: r0 (0.5 + 0.3) / 2 / 0.5 = 0.8, r1 (0.4 + 0.2) / 2 / 0.5 = 0.6 -> spread sqrt(0.02)
SWEEP_A = _sweep(0.5, [(0.1, 0, 0.5), (0.1, 1, 0.4), (0.2, 0, 0.3), (0.2, 1, 0.2)])
# a0 = 0.8; eta 0.1: 0.8, 0.8 -> A 1.0 ; eta 0.2: 0.4, 0.4 -> A 0.5 ; A_avr 0.75, spread 0
SWEEP_B = _sweep(0.8, [(0.1, 0, 0.8), (0.1, 1, 0.8), (0.2, 0, 0.4), (0.2, 1, 0.4)])

HISTORY = [{"epoch": 1, "lr": 0.001, "loss": 2.0, "accuracy": 0.2, "test_accuracy": 0.25,
            "seconds": 1.0}]


def _record(config, key, sweep, train=None, source=None):
    source = source or {"kind": "python-folder", "synthetic": True, "label": "synthetic data"}
    return results.make_record(config, key, source, train or FakeTrain(history=HISTORY), sweep,
                               {"noise_seconds": 3.0})


def test_make_record_completed(config):
    rec = _record(config, "key-a", SWEEP_A)
    assert rec["record_version"] == results.RECORD_VERSION
    assert rec["key"] == "key-a" and rec["status"] == "completed"
    # the record names its data and folders without this machine's paths
    assert rec["config"] == {**config, "data_dir": Path(config["data_dir"]).name,
                             "results_dir": Path(config["results_dir"]).name}
    assert "/" not in json.dumps({k: rec["config"][k] for k in ("data_dir", "results_dir")})
    assert rec["synthetic_data"] is True
    assert rec["baseline_accuracy"] == 0.5
    assert rec["noise"]["etas"] == [0.1, 0.2]
    assert rec["noise"]["A_avr"] == pytest.approx(0.7)
    assert rec["noise"]["A_avr_std"] == pytest.approx(math.sqrt(0.02))
    assert [s["A_x"] for s in rec["noise"]["summary"]] == pytest.approx([0.9, 0.5])
    assert len(rec["noise"]["draws"]) == 5
    assert rec["timings"] == {"train_seconds": 12.5, "resumed_from_epoch": 0, "noise_seconds": 3.0}
    assert rec["history"] == HISTORY
    # the record survives JSON exactly
    assert json.loads(json.dumps(rec)) == rec


def test_make_record_diverged(config):
    train = FakeTrain(status="diverged", diverged_at_epoch=3, history=HISTORY * 3)
    rec = _record(config, "key-d", None, train)
    assert rec["status"] == "diverged" and rec["diverged_at_epoch"] == 3
    assert rec["noise"] is None
    assert rec["baseline_accuracy"] == 0.25  # the last test accuracy


def test_load_records(tmp_path, config):
    folder = tmp_path / "results"
    cfg_b = {**config, "lr": 0.1, "seed": 3}
    results.write_record(folder / "a.json", _record(config, "key-a", SWEEP_A))
    results.write_record(folder / "deep" / "b.json", _record(cfg_b, "key-b", SWEEP_B))
    results.write_record(folder / "d.json", _record(
        {**config, "seed": 5}, "key-d", None, FakeTrain(status="diverged", diverged_at_epoch=1, history=HISTORY)))
    # files that are not records
    (folder / "SYNTHETIC.json").write_text(json.dumps({"md5": {}}))
    (folder / "list.json").write_text("[1, 2]")
    (folder / "broken.json").write_text("{not json")
    (folder / "state.json").write_text(json.dumps({"epochs_done": 3}))
    (folder / "notes.txt").write_text("hello")

    df = results.load_records(folder).set_index("key")
    assert sorted(df.index) == ["key-a", "key-b", "key-d"]
    assert df.loc["key-a", "A_avr"] == pytest.approx(0.7)
    assert df.loc["key-b", "A_avr"] == pytest.approx(0.75)
    assert df.loc["key-a", "A_avr_std"] == pytest.approx(math.sqrt(0.02))
    assert df.loc["key-b", "A_avr_std"] == pytest.approx(0.0)
    assert df.loc["key-a", "A_0.1"] == pytest.approx(0.9)
    assert df.loc["key-b", "A_0.2"] == pytest.approx(0.5)
    assert df.loc["key-a", "baseline_accuracy"] == 0.5
    assert df.loc["key-b", "baseline_accuracy"] == 0.8
    assert df.loc["key-b", "lr"] == 0.1 and df.loc["key-b", "seed"] == 3
    assert df.loc["key-a", "status"] == "completed"
    assert df.loc["key-d", "status"] == "diverged"
    assert pd.isna(df.loc["key-d", "A_avr"])
    assert df.loc["key-a", "backend"] == "tensorflow"
    assert df.loc["key-a", "data"] == "synthetic data"
    assert bool(df.loc["key-a", "synthetic_data"]) is True
    assert df.loc["key-b", "path"] == str(folder / "deep" / "b.json")


def test_histories_read_every_completed_run_epoch_by_epoch(tmp_path, config):
    two = HISTORY + [{**HISTORY[0], "epoch": 2, "lr": 0.0001, "test_accuracy": 0.4}]
    results.write_record(tmp_path / "a.json", _record(config, "key-a", SWEEP_A, FakeTrain(history=two)))
    results.write_record(tmp_path / "d.json", _record(
        {**config, "seed": 5}, "key-d", None, FakeTrain(status="diverged", history=HISTORY)))
    h = results.histories(results.load_records(tmp_path))
    assert h["epoch"].tolist() == [1, 2] and (h["seed"] == config["seed"]).all()   # diverged: left out
    assert h["test_accuracy"].tolist() == [0.25, 0.4] and h["epoch_lr"].tolist() == [0.001, 0.0001]
    assert results.histories(results.load_records(tmp_path).iloc[:0]).empty


def test_load_records_of_empty_folder(tmp_path):
    df = results.load_records(tmp_path)
    assert isinstance(df, pd.DataFrame) and len(df) == 0


def test_environment():
    env = results.environment()
    assert env["keras_backend"] == "tensorflow"
    assert isinstance(env["device"], str) and env["device"].split(":")[0] in ("CPU", "GPU")
    assert env["packages"]["keras"].startswith("3.")
    assert "numpy" in env["packages"]
    assert set(env["git"]) == {"commit", "dirty", "code_sha256"}
    assert env["git"]["code_sha256"] == results.code_sha256()
    assert env["python"].count(".") == 2


def test_zero_baseline_record_stores_null_and_loads_as_missing(tmp_path, config):
    sweep = _sweep(0.0, [(0.1, 0, 0.1), (0.1, 1, 0.1)])
    rec = _record(config, "key-z", sweep)
    assert math.isnan(rec["noise"]["A_avr"])
    results.write_record(tmp_path / "z.json", rec)
    back = results.read_record(tmp_path / "z.json")
    assert back["noise"]["A_avr"] is None and back["noise"]["summary"][0]["A_x"] is None
    df = results.load_records(tmp_path)
    assert len(df) == 1 and pd.isna(df.loc[0, "A_avr"]) and pd.isna(df.loc[0, "A_0.1"])


def test_load_study_without_records_names_the_parameters(tmp_path):
    with pytest.raises(FileNotFoundError, match="results_dir=.*profile='paper'.*helpers.ops.grid"):
        page.load_study(tmp_path, "paper")
    results.write_record(tmp_path / "a.json", {"record_version": 1, "key": "a", "status": "completed",
                                               "synthetic_data": True, "data": {"label": "x"},
                                               "config": {"profile": "smoke", "dataset": "cifar10",
                                                          "depth": 20, "lr": 0.001, "optimizer": "adam",
                                                          "batch_norm": True, "seed": 0, "epochs": 1},
                                               "baseline_accuracy": 0.5,
                                               "environment": {"keras_backend": "jax", "device": "cpu",
                                                               "git": {"commit": None}}})
    with pytest.raises(FileNotFoundError, match=r"it has profiles \['smoke'\]"):
        page.load_study(tmp_path, "paper")
    assert len(page.load_study(tmp_path, "smoke").records) == 1


def test_study_carries_what_every_page_opens_with(tmp_path):
    """load_study: the records, the completed runs, their seed means, the data label,
    caveat, scale and provenance, computed once from the same records."""
    from helpers.study import claims

    for key, status, seed, a0 in (("a", "completed", 0, 0.8), ("b", "completed", 1, 0.6),
                                   ("c", "diverged", 2, None)):
        results.write_record(tmp_path / f"{key}.json", {
            "record_version": 1, "key": key, "status": status, "synthetic_data": False,
            "created": f"2026-01-0{seed + 1}", "data": {"label": "CIFAR-10 (copy)"},
            "config": {"dataset": "cifar10", "depth": 20, "lr": 0.001, "optimizer": "adam",
                       "batch_norm": True, "seed": seed, "profile": "cpu", "epochs": 20},
            "baseline_accuracy": a0,
            "environment": {"keras_backend": "jax", "device": "cpu", "git": {"commit": None}}})
    study = page.load_study(tmp_path, "cpu")
    assert len(study.records) == 3 and list(study.done["key"]) == ["a", "b"]
    assert study.means["baseline_accuracy"].tolist() == [pytest.approx(0.7)]
    assert study.means["n_seeds"].tolist() == [2]
    assert study.data == "CIFAR-10 (copy)" and study.synthetic is False
    assert study.caveat == "2 training seeds per cell; a verdict needs >= 3"
    assert study.scale == claims.scale(study.records)
    assert study.provenance.startswith("From 3 run records (2 completed, 1 diverged)")
    # the caveat is stated once, at the top; each verdict points there
    assert study.provenance.endswith("*A verdict that rests on cells with fewer than 3 training "
                                     "seeds (the fewest here: 2) is indicative only.* Each "
                                     "verdict on this page says whether it does.")
    # one LR gives claim 1 no data; as a verdict, it would point to the page's caveat
    v = dataclasses.replace(claims.claim1(study.means), outcome="held")
    assert study.say(v).endswith(" *Indicative only: see the top of the page.*")
    assert study.caveat not in study.say(v)
    with pytest.raises(dataclasses.FrozenInstanceError):
        study.caveat = ""


def test_a_verdict_sentence_gives_the_caveat_of_its_own_cells(tmp_path):
    """The page's caveat comes from its weakest cell (one SGD seed); claim 1 rests on the
    LR cell with two seeds, so its sentence gives that reason, not the page's."""
    from helpers.study import claims

    for key, seed, opt, lr in (("a", 0, "adam", 0.001), ("b", 1, "adam", 0.001),
                               ("s", 0, "sgd", 0.00075)):
        results.write_record(tmp_path / f"{key}.json", {
            "record_version": 1, "key": key, "status": "completed", "synthetic_data": False,
            "created": "2026-01-01", "data": {"label": "CIFAR-10 (copy)"},
            "config": {"dataset": "cifar10", "depth": 20, "lr": lr, "optimizer": opt,
                       "batch_norm": True, "seed": seed, "profile": "cpu", "epochs": 20},
            "baseline_accuracy": 0.8,
            "environment": {"keras_backend": "jax", "device": "cpu", "git": {"commit": None}}})
    study = page.load_study(tmp_path, "cpu")
    assert study.caveat == "1 training seed per cell; a verdict needs >= 3"
    held = {c: dataclasses.replace(f(rows), outcome="held")
            for c, f, rows in ((1, claims.claim1, study.means), (5, claims.claim5, study.done))}
    said = study.say(held[1])
    assert said.endswith("*Indicative only: 2 training seeds per cell; a verdict needs >= 3.*")
    assert "see the top" in study.say(held[5])
    # a verdict drawn from fewer records (the PCM page's) takes the caveat of those
    adam_only = study.records[study.records["optimizer"] == "adam"]
    assert study.say(held[1], adam_only).endswith(
        "*Indicative only: 2 training seeds per cell; a verdict needs >= 3.*")
    assert study.say(held[5], adam_only).endswith(                 # not "see the top"
        "*Indicative only: 2 training seeds per cell; a verdict needs >= 3.*")
    # the table of a claim under each reading carries the same caveat in its caption
    from helpers.book import tables
    assert tables.readings_caption(study.records, 1) == (
        "Claim 1 under each noise reading. Indicative only: 2 training seeds per cell; a "
        "verdict needs >= 3.")
    assert tables.readings_caption(study.records, 5).startswith(
        "Claim 5 under each noise reading. Indicative only: 1 training seed")
    # and says which test its p column is where the claim has one (claim 8: Welch's)
    assert tables.readings_caption(study.records, 8).startswith(
        "Claim 8 under each noise reading. p: the largest Welch t-test p of the models' BN gaps")
    assert "Indicative" not in study.say(claims.claim6(study.means))   # not tested: no verdict


def test_code_sha256_names_the_code_not_its_caches(tmp_path):
    """The hash records identify what ran where a copy's git metadata lags its files."""
    (tmp_path / "src/helpers/__pycache__").mkdir(parents=True)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "src/helpers/engine.py").write_text("x = 1\n")
    (tmp_path / "notebooks/train.ipynb").write_text("{}")
    h = results.code_sha256(tmp_path)
    assert len(h) == 64
    (tmp_path / "src/helpers/__pycache__/engine.cpython-312.pyc").write_bytes(b"\0")
    assert results.code_sha256(tmp_path) == h
    (tmp_path / "src/helpers/engine.py").write_text("x = 2\n")
    assert results.code_sha256(tmp_path) != h
    assert results.git_commit()["code_sha256"] == results.code_sha256()


def test_git_dirty_means_the_code_changed_not_the_results_beside_it(tmp_path):
    """A grid appends to a tracked log in results/ while it runs: that is no code change."""
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)
    (tmp_path / "src/helpers").mkdir(parents=True)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "results").mkdir()
    (tmp_path / "src/helpers/engine.py").write_text("x = 1\n")
    (tmp_path / "notebooks/train.ipynb").write_text("{}")
    (tmp_path / "results/grid-log.jsonl").write_text("{}\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "c")
    clean = results.git_commit(tmp_path)
    assert clean["dirty"] is False and len(clean["commit"]) == 40
    (tmp_path / "results/grid-log.jsonl").write_text("{}\n{}\n")
    assert results.git_commit(tmp_path)["dirty"] is False
    (tmp_path / "notebooks/train.ipynb").write_text('{"cells": []}')
    assert results.git_commit(tmp_path)["dirty"] is True
    assert results.git_commit(tmp_path)["code_sha256"] == results.code_sha256(tmp_path)


REPO = Path(__file__).resolve().parents[1]


def _strings(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)
    elif isinstance(obj, str):
        yield obj


def test_no_committed_record_holds_a_machine_path():
    """Records name their data and folders, never the paths of the machine that ran:
    no string in any committed record is an absolute or home path, and the three
    path fields are bare names."""
    paths = sorted((REPO / "results").rglob("*.json"))
    assert len(paths) > 100
    bad = []
    for p in paths:
        rec = json.loads(p.read_text())
        bad += [(p.name, s) for s in _strings(rec) if os.path.isabs(s) or s.startswith("~")]
        if "config" in rec:
            named = [rec["config"].get("data_dir"), rec["config"].get("results_dir"),
                     (rec.get("data") or {}).get("path")]
            bad += [(p.name, s) for s in named if s and "/" in s]
    assert bad == []


def test_the_migration_reduces_paths_to_names_and_keeps_every_other_field(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "migrate", REPO / "scripts/migrate_machine_paths.py")
    migrate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migrate)
    old = {"key": "k", "status": "completed", "baseline_accuracy": 0.5,
           "config": {"lr": 0.001, "data_dir": "/tmp/helpers-synthetic/cifar10",
                      "results_dir": "/tmp/smoke-grid"},
           "data": {"kind": "python-folder", "synthetic": True,
                    "path": "/tmp/helpers-synthetic/cifar10/cifar-10-batches-py"},
           "history": [{"epoch": 1}]}
    clean = {**old, "key": "c", "config": {"lr": 0.001, "data_dir": "download",
                                          "results_dir": "runs"}, "data": {"path": None}}
    results.write_record(tmp_path / "sub" / "old.json", old)
    results.write_record(tmp_path / "clean.json", clean)
    (tmp_path / "other.json").write_text("[1, 2]\n")           # not a record: left alone
    before = (tmp_path / "clean.json").stat().st_mtime_ns
    assert migrate.migrate(tmp_path) == [tmp_path / "sub" / "old.json"]
    new = results.read_record(tmp_path / "sub" / "old.json")
    assert new["config"] == {"lr": 0.001, "data_dir": "cifar10", "results_dir": "smoke-grid"}
    assert new["data"] == {"kind": "python-folder", "synthetic": True,
                           "path": "cifar-10-batches-py"}
    assert {k: v for k, v in new.items() if k not in ("config", "data")} == \
        {k: v for k, v in old.items() if k not in ("config", "data")}
    assert (tmp_path / "clean.json").stat().st_mtime_ns == before
    assert migrate.migrate(tmp_path) == []                      # once is enough


def test_a_resweep_of_an_ablation_reading_fills_the_row_as_if_trained_with_it(tmp_path, config):
    """A record trained without the ablation (the optimizers study) gets its trainable and
    folded readings later from sweep files beside it (``resweep``): ``load_records`` reads
    them into ``A_avr|<reading>``, ``broken|<reading>`` and the draws, as it reads a
    record's own ablation; a mechanism reading's sweep file stays out of the row, and a
    reading the record swept itself is taken from the record."""
    from helpers.experiment.noise_model import BN_MEANS, FOLDED_BN, TRAINABLE
    folder = tmp_path / "results"
    path = results.write_record(folder / "a.json", _record(config, "key-a", SWEEP_A))
    for reading, sweep in ((TRAINABLE, SWEEP_B), (BN_MEANS, SWEEP_B)):
        results.write_record(results.sweep_path(path, reading), {
            "sweep_version": 1, "key": "key-a", "reading": {"name": reading.name},
            "noise": results.noise_block(sweep)})
    row = results.load_records(folder).iloc[0]
    assert row[f"A_avr|{TRAINABLE.name}"] == pytest.approx(0.75)      # SWEEP_B's
    assert f"broken|{TRAINABLE.name}" in row      # None here: these draws lack "nonfinite"
    assert set(row["draws"]) == {row["reading"], TRAINABLE.name}
    assert f"A_avr|{BN_MEANS.name}" not in row and f"A_avr|{FOLDED_BN.name}" not in row
    # the record's own ablation block wins over a sweep file of the same reading
    rec = results.read_record(path)
    rec["noise_ablation"] = {TRAINABLE.name: results.noise_block(SWEEP_A)}
    results.write_record(path, rec)
    assert results.load_records(folder).iloc[0][f"A_avr|{TRAINABLE.name}"] == pytest.approx(0.7)


def test_draw_spread_gives_the_median_and_largest_std_between_draws_per_large_eta(tmp_path):
    """The method page sets the 2,000-image subset's sampling error against this spread:
    per eta >= 0.2 over the records' own sweeps, the median and largest std of a^x."""
    for key, stds in (("a", (0.01, 0.10, 0.20, 0.00)), ("b", (0.03, 0.30, 0.40, 0.00)),
                      ("c", (0.05, 0.20, 0.90, 0.06))):
        summary = [{"eta": eta, "n": 10, "a_x": 0.5, "a_x_std": s, "A_x": 0.6, "A_x_std": s}
                   for eta, s in zip((0.1, 0.2, 0.3, 0.4), stds)]
        results.write_record(tmp_path / f"{key}.json", {
            "record_version": 1, "key": key, "status": "completed", "synthetic_data": False,
            "created": "2026-01-01", "data": {"label": "CIFAR-10 (copy)"},
            "config": {"dataset": "cifar10", "depth": 20, "lr": 0.001, "optimizer": "adam",
                       "batch_norm": True, "seed": 0, "profile": "cpu", "epochs": 20},
            "baseline_accuracy": 0.8, "noise": {"etas": [0.1, 0.2, 0.3, 0.4], "A_avr": 0.6,
                                                "summary": summary},
            "environment": {"keras_backend": "jax", "device": "cpu", "git": {"commit": None}}})
    spread = results.draw_spread(results.load_records(tmp_path, dedupe=False))
    assert list(spread["eta"]) == [0.2, 0.3, 0.4]            # eta 0.1 left out
    assert list(spread["n"]) == [3, 3, 3]
    assert spread["median"].round(6).tolist() == [0.2, 0.4, 0.0]
    assert spread["largest"].round(6).tolist() == [0.3, 0.9, 0.06]
