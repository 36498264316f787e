"""The grid runner: which cells, skipping, resuming, failure isolation, filters."""

import json
import os
from pathlib import Path

import pytest

from helpers.study import results
from helpers.ops import grid
from helpers.experiment.config import ConfigError


def _cells(**filters):
    return grid.plan(grid.study_cells(**filters), "smoke", "unused")


def test_the_full_study_has_77_unique_models_per_seed():
    cells = grid.study_cells(seeds=(0, 1, 2))
    # LR grid + 5 other optimizers + 8 without BN + 2 LRs outside the paper's range x 8
    assert len(cells) == 3 * (48 + 5 + 8 + 16)
    outside = [c for c in cells if c.studies == {"lr_outside"}]
    assert sorted({c.params["lr"] for c in outside}) == [0.00025, 0.003]
    assert len(outside) == 3 * 16 and all(c.params["noise_ablation"] for c in outside)
    assert len(grid.study_cells(studies=("lr", "optimizers", "batchnorm"))) == 61
    lr_grid = [c for c in cells if "lr" in c.studies]
    assert len(lr_grid) == 3 * 48 and all(c.params["noise_ablation"] for c in lr_grid)
    shared = [c for c in cells if c.studies == {"lr", "optimizers"}]
    assert len(shared) == 3                      # ResNet20/CIFAR-10/adam/0.00075 serves both
    assert {c.params["optimizer"] for c in cells if "optimizers" in c.studies} == \
        set(grid.OPTIMIZER_SETTINGS)
    assert all(c.params["lr"] == 0.001 for c in cells if not c.params["batch_norm"])


def test_filters_intersect():
    cells = grid.study_cells(studies=("lr",), datasets=("cifar100",), depths=(32,),
                             lrs=(0.0005, 0.0015), seeds=(4,))
    assert sorted(c.params["lr"] for c in cells) == [0.0005, 0.0015]
    assert {(c.params["dataset"], c.params["depth"], c.params["seed"]) for c in cells} == {("cifar100", 32, 4)}
    assert grid.study_cells(studies=("batchnorm",), batch_norm=(False,), depths=(20,), datasets=("cifar10",))[0].params["batch_norm"] is False


@pytest.mark.parametrize("kw, word", [({"studies": ("lrs",)}, "studies"),
                                      ({"datasets": ("mnist",)}, "datasets"),
                                      ({"optimizers": ("rmsprop",)}, "optimizers")])
def test_bad_filter_names_the_parameter(kw, word):
    with pytest.raises(ConfigError, match=word):
        grid.study_cells(**kw)


def test_plan_refuses_overriding_a_grid_dimension():
    with pytest.raises(ConfigError, match="depth"):
        grid.plan(grid.study_cells(studies=("optimizers",)), "smoke", "x", extra={"depth": 8})


def test_cli_bad_profile_fails_before_any_run(tmp_path, capsys):
    assert grid.main(["--profile", "quick", "--results-dir", str(tmp_path)]) == 2
    assert "profile" in capsys.readouterr().err and not list(tmp_path.iterdir())


def _fake_runner(fail=(), interrupt_after=None):
    calls = []

    def runner(cell, results_dir):
        calls.append(cell.key)
        if interrupt_after is not None and len(calls) > interrupt_after:
            raise KeyboardInterrupt
        if cell.key in fail:
            raise RuntimeError("boom")
        results.write_record(results_dir / f"{cell.key}.json", {"status": "completed"})

    runner.calls = calls
    return runner


def test_skip_existing_records(tmp_path):
    cells = _cells(studies=("optimizers",))
    r1 = _fake_runner()
    s = grid.run_grid(cells, tmp_path, runner=r1, progress=False)
    assert s["done"] == 6 and s["skipped"] == 0 and len(r1.calls) == 6
    r2 = _fake_runner()
    s = grid.run_grid(cells, tmp_path, runner=r2, progress=False)
    assert s["skipped"] == 6 and r2.calls == []


def test_a_failed_run_does_not_stop_the_others_and_is_retried(tmp_path):
    cells = _cells(studies=("optimizers",))
    bad = cells[2].key
    s = grid.run_grid(cells, tmp_path, runner=_fake_runner(fail={bad}), progress=False)
    assert s["done"] == 5 and s["failed"] == 1 and s["failed_keys"] == [bad]
    log = [json.loads(line) for line in (tmp_path / "grid-log.jsonl").read_text().splitlines()]
    assert [e["key"] for e in log if e["status"] == "failed"] == [bad]
    assert "boom" in log[2]["error"]
    r = _fake_runner()
    s = grid.run_grid(cells, tmp_path, runner=r, progress=False)
    assert r.calls == [bad] and s["done"] == 1 and s["skipped"] == 5


def test_a_run_without_a_finished_record_counts_as_failed(tmp_path):
    cells = _cells(studies=("optimizers",), optimizers=("adam",))
    s = grid.run_grid(cells, tmp_path, runner=lambda c, d: None, progress=False)
    assert s["failed"] == 1


def test_an_interrupted_grid_resumes_where_it_stopped(tmp_path):
    cells = _cells(studies=("optimizers",))
    with pytest.raises(KeyboardInterrupt):
        grid.run_grid(cells, tmp_path, runner=_fake_runner(interrupt_after=2), progress=False)
    r = _fake_runner()
    s = grid.run_grid(cells, tmp_path, runner=r, progress=False)
    assert s["skipped"] == 2 and r.calls == [c.key for c in cells[2:]]


def test_diverged_record_counts_as_finished(tmp_path):
    (cell,) = _cells(studies=("optimizers",), optimizers=("sgd",))
    results.write_record(tmp_path / f"{cell.key}.json", {"status": "diverged"})
    assert grid.finished(tmp_path, cell.key)
    results.write_record(tmp_path / f"{cell.key}.json", {"status": "running"})
    assert not grid.finished(tmp_path, cell.key)


@pytest.mark.slow
def test_real_grid_through_papermill(tmp_path, monkeypatch):
    """One real cell (ResNet20, smoke) end to end; the second call skips it; two local
    workers running it and another cell at once give the same record's numbers. Local
    CPU workers are pinned to their share of the cores with thread pools of that size,
    and the float sums of a step depend on the number of threads: so the serial
    reference runs with a worker's thread count (with another count the losses differ
    in their last digits)."""
    args = ["--profile", "smoke", "--results-dir", str(tmp_path / "res"), "--studies",
            "optimizers", "--optimizers", "sgd_nesterov"]
    share, cores = grid.cpu_shares(2)[0], os.sched_getaffinity(0)
    for name in grid.THREAD_VARIABLES:
        monkeypatch.setenv(name, str(len(share)))
    os.sched_setaffinity(0, set(share))
    try:
        assert grid.main(args) == 0
    finally:
        os.sched_setaffinity(0, cores)
    (rec,) = [results.read_record(p) for p in (tmp_path / "res").glob("*.json")]
    assert rec["status"] == "completed" and rec["config"]["optimizer"] == "sgd_nesterov"
    assert rec["config"]["noise_ablation"] is False and rec["synthetic_data"] is True
    assert (tmp_path / "res" / "notebooks" / f"{rec['key']}.out.ipynb").exists()
    assert grid.main(args) == 0
    log = (tmp_path / "res" / "grid-log.jsonl").read_text().splitlines()
    assert len(log) == 1                          # the second call ran nothing
    assert not list((tmp_path / "res").glob("*.lock"))

    # the same cell and one more, by two local workers at once: the same numbers
    local = ["--profile", "smoke", "--results-dir", str(tmp_path / "local"), "--studies",
             "optimizers", "--optimizers", "sgd_nesterov", "sgd", "--executor", "local",
             "--workers", "2"]
    assert grid.main(local) == 0
    recs = {r["config"]["optimizer"]: r for r in map(results.read_record,
                                                      (tmp_path / "local").glob("*.json"))}
    assert sorted(recs) == ["sgd", "sgd_nesterov"]
    twin = recs["sgd_nesterov"]
    assert twin["key"] == rec["key"] and twin["status"] == "completed"
    assert twin["baseline_accuracy"] == rec["baseline_accuracy"]
    assert twin["noise"]["A_avr"] == rec["noise"]["A_avr"]
    assert twin["noise"]["summary"] == rec["noise"]["summary"]
    assert [h["loss"] for h in twin["history"]] == [h["loss"] for h in rec["history"]]
    log = [json.loads(line) for line in (tmp_path / "local" / "grid-log.jsonl").read_text()
           .splitlines()]
    assert sorted(e["status"] for e in log) == ["done", "done"]


def test_a_cell_finished_meanwhile_by_another_process_is_skipped(tmp_path):
    cells = _cells(studies=("optimizers",))
    calls = []

    def runner(cell, results_dir):      # while running cell 0, "another grid" finishes cell 1
        calls.append(cell.key)
        for c in (cell, cells[1]) if cell is cells[0] else (cell,):
            results.write_record(results_dir / f"{c.key}.json", {"status": "completed"})

    s = grid.run_grid(cells, tmp_path, runner=runner, progress=False)
    assert cells[1].key not in calls and s["skipped"] == 1 and s["done"] == 5


def test_a_new_optimizer_enters_no_study_unless_listed(monkeypatch):
    """recipe.OPTIMIZER_SETTINGS may grow; the Figure 3 study is what helpers.study.studies lists."""
    from helpers.experiment import recipe
    from helpers.study import studies

    monkeypatch.setitem(recipe.OPTIMIZER_SETTINGS, "rmsprop", ("RMSprop", {}))
    cells = grid.study_cells(studies=("optimizers",))
    assert {c.params["optimizer"] for c in cells} == set(studies.PAPER_OPTIMIZERS)
    # it can still be run by name, as a filter of a study that lists it: here none does
    assert grid.study_cells(studies=("optimizers",), optimizers=("rmsprop",)) == []


def test_studies_select_what_the_grid_runs():
    """The analyses' select() and the grid's cells() read the same definition."""
    import pandas as pd

    from helpers.study import studies

    cells = grid.study_cells(seeds=(0,))
    df = pd.DataFrame([c.params for c in cells]).assign(studies=[c.studies for c in cells])
    for name in studies.STUDIES:
        picked = studies.select(df, name)
        assert len(picked) == len(studies.STUDIES[name].cells())
        assert picked["studies"].map(lambda s: name in s).all()
    assert studies.same_lr(0.1 + 0.2, 0.3) and not studies.same_lr(0.001, 0.00125)
    with pytest.raises(ValueError, match="studies"):
        studies.select(df, "figure9")


@pytest.mark.parametrize("text, value", [("true", True), ("True", True), ("False", False),
                                         ("None", None), ("5", 5), ("0.001", 0.001),
                                         ("adam", "adam")])
def test_param_values_parse_as_json_or_python_literals(text, value):
    """-p mixed_precision True works as -p mixed_precision true does (it was refused as
    the string 'True')."""
    assert grid._parse_value(text) == value and type(grid._parse_value(text)) is type(value)


def test_cpu_shares_split_the_cores_into_blocks():
    assert grid.cpu_shares(2, cores=[0, 1]) == [(0,), (1,)]
    assert grid.cpu_shares(1, cores=[0, 1]) == [(0, 1)]
    assert grid.cpu_shares(2, cores=[0, 1, 2, 3]) == [(0, 1), (2, 3)]
    assert grid.cpu_shares(3, cores=[0, 1]) == [(0,), (1,), (0,)]


_HEAVY_CODE = """
import json, runpy, sys
sys.argv = ["grid"] + json.loads(sys.argv[1])
try:
    runpy.run_module("helpers.ops.grid", run_name="__main__")
except SystemExit as e:
    code = e.code
print(json.dumps({"exit": code, "loaded": sorted(m for m in ("keras", "tensorflow", "jax")
                                                 if m in sys.modules)}))
"""


@pytest.mark.parametrize("args", [["--help"],
                                  ["--profile", "smoke", "--studies", "optimizers", "--dry-run"],
                                  ["--profile", "smoke", "--optimizers", "rmsprop"]],
                         ids=["help", "dry-run", "config-error"])
def test_help_dry_run_and_config_checks_load_no_keras(tmp_path, args):
    """Planning a grid (its keys included) and refusing a bad filter need no TensorFlow."""
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(grid.__file__).resolve().parents[2])}
    proc = subprocess.run([sys.executable, "-c", _HEAVY_CODE,
                           json.dumps(args + ["--results-dir", str(tmp_path)] if len(args) > 1
                                      else args)],
                          capture_output=True, text=True, env=env, timeout=300)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"exit": 0 if "rmsprop" not in args else 2, "loaded": []}, proc.stderr[-2000:]
    if "--dry-run" in args:
        assert "6 runs planned (6 to do, 0 already recorded)" in proc.stdout
    if "rmsprop" in args:
        assert "optimizers=['rmsprop'] is not accepted" in proc.stderr


def test_help_lists_every_declared_profile():
    """--profile's help is read from the profiles' declaration (long included), not typed."""
    from helpers.experiment.profiles import PROFILES

    (action,) = [a for a in grid.parser()._actions if "--profile" in a.option_strings]
    assert action.help == " | ".join(PROFILES)
    assert "long" in PROFILES
    text = " ".join(grid.parser().format_help().split())
    assert "--profile PROFILE " + " | ".join(PROFILES) in text
