"""helpers.ops.gpu_study: the study's order, the GPU check, the archive and the summary line."""

import os
import tarfile
import time

import pytest

from helpers.ops import gpu_study
from test_grid_executors import FakeClock


def test_study_order_lr_batchnorm_optimizers_outside_seed_by_seed(tmp_path):
    plan = gpu_study.study_plan("smoke", tmp_path / "res", None, seeds=(0, 1))
    studies = [s for s, _ in plan]
    per_seed = ["lr"] * 24 + ["batchnorm"] * 4 + ["optimizers"] * 5 + ["lr_outside"] * 8
    assert studies == per_seed * 2           # BN at lr 0.001 and Adam at 0.00075 run as LR cells
    assert [c.params["seed"] for _, c in plan] == [0] * 41 + [1] * 41
    assert len({c.key for _, c in plan}) == 82
    assert sorted({c.params["lr"] for s, c in plan if s == "lr_outside"}) == [0.00025, 0.003]
    assert {c.params["dataset"] for _, c in plan} == {"cifar10"}
    lr = [c for s, c in plan if s == "lr"]
    assert all(c.params["noise_ablation"] and c.params["batch_norm"] for c in lr)
    assert [c.params["depth"] for c in lr[:24:6]] == [20, 32, 44, 56]   # 6 LRs of a depth together
    assert all(not c.params["batch_norm"] for s, c in plan if s == "batchnorm")
    assert {c.params["optimizer"] for s, c in plan if s == "optimizers"} == \
        {"nadam", "adamax", "sgd", "sgd_momentum", "sgd_nesterov"}


def test_no_gpu_is_a_clear_error_unless_allowed():
    import jax
    if jax.default_backend() != "cpu":
        pytest.skip("a GPU is here")
    with pytest.raises(gpu_study.StudyError, match="JAX sees no GPU.*ALLOW_CPU=1"):
        gpu_study.check_device(allow_cpu=False)
    assert gpu_study.check_device(allow_cpu=True).startswith("cpu")


def test_pack_holds_the_new_records_under_results_and_unpacks_there(tmp_path):
    root = tmp_path / "repo"
    res = root / "results" / "gpu-fast"
    (res / "notebooks").mkdir(parents=True)
    (res / "benchmarks").mkdir()
    old = res / "old.json"
    old.write_text("{}")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    since = time.time() - 60
    for name in ("a.json", "b.json", "grid-log.jsonl", "notebooks/a.out.log",
                 "benchmarks/engine_speed.txt"):
        (res / name).write_text(name)
    (res / "a.weights.h5").write_text("weights stay")
    name = gpu_study.pack(tmp_path / "out", res, since, [res / "benchmarks/engine_speed.txt"],
                          root=root)
    with tarfile.open(name) as tar:
        names = sorted(tar.getnames())
        tar.extractall(tmp_path / "unpacked", filter="data")
    assert names == sorted(f"results/gpu-fast/{n}" for n in (
        "a.json", "b.json", "grid-log.jsonl", "notebooks/a.out.log", "benchmarks/engine_speed.txt"))
    assert (tmp_path / "unpacked/results/gpu-fast/b.json").read_text() == "b.json"


def test_pack_refuses_files_outside_the_repository(tmp_path):
    res = tmp_path / "elsewhere"
    res.mkdir()
    (res / "a.json").write_text("{}")
    with pytest.raises(gpu_study.StudyError, match="outside the repository"):
        gpu_study.pack(tmp_path / "out", res, 0.0, root=tmp_path / "repo")


def test_summary_says_what_is_done_and_left(tmp_path):
    res = tmp_path / "res"
    res.mkdir()
    (res / "grid-log.jsonl").write_text('{"key": "x", "status": "failed"}\n'
                                        '{"key": "y", "status": "done"}\n')
    line = gpu_study.summary("smoke", res, None, (0,), new=0, seconds=12.3, budget=100)
    assert line == ("gpu-study smoke seeds 0: 0 new records in 12 s of 100 s; recorded "
                    "lr 0/24, batchnorm 0/4, optimizers 0/5, lr_outside 0/8; 41 cells left; "
                    "1 failure logged in grid-log.jsonl")


def _fake_runner(clock, seconds, calls):
    """Stands in for the in-process notebook: advances the clock, writes a record."""
    from helpers.study import results

    def runner(cell, results_dir):
        clock.t += seconds
        calls.append(cell.key)
        results.write_record(results_dir / f"{cell.key}.json",
                             {"status": "completed", "baseline_accuracy": 0.5})

    return runner


def test_the_budget_is_the_grids_it_stops_between_runs_and_the_next_call_resumes(tmp_path):
    res = tmp_path / "res"
    planned = [c.key for _, c in gpu_study.study_plan("smoke", res, None, (0,))]
    calls, clock = [], FakeClock()
    s = gpu_study.run_study("smoke", res, None, (0,), budget=35,
                            runner=_fake_runner(clock, 10, calls), clock=clock)
    # nothing measured: the first run starts; then each run needs 10 s: 3 fit in 35 s
    assert calls == planned[:3]
    assert (s["done_now"], s["left_for_budget"]) == (3, len(planned) - 3)
    clock2 = FakeClock()                       # the next call learns 10 s from the grid log
    s = gpu_study.run_study("smoke", res, None, (0,), budget=25,
                            runner=_fake_runner(clock2, 10, calls), clock=clock2)
    assert calls == planned[:5] and s["done_now"] == 2
    line = gpu_study.summary("smoke", res, None, (0,), new=2, seconds=20, budget=25)
    assert f"{len(planned) - 5} cells left" in line and "0 failures" in line


def test_a_call_stops_after_two_failed_runs_in_a_row(tmp_path):
    """The first GPU call failed all 31 cells it tried, 10 s each: a broken setup must
    cost two runs, not the call."""
    res, clock, calls = tmp_path / "res", FakeClock(), []

    def broken(cell, results_dir):
        clock.t += 10
        calls.append(cell.key)
        raise RuntimeError("Attempt to donate the same buffer twice")

    s = gpu_study.run_study("smoke", res, None, (0,), budget=1e6,
                            runner=broken, clock=clock)
    assert len(calls) == 2 and s["done_now"] == 0 and s["left_for_budget"] == 41 - 2
    calls.clear()
    s = gpu_study.run_study("smoke", res, None, (0,), budget=1e6,
                            runner=broken, clock=clock, max_failures=None)
    assert len(calls) == 41                  # None: every cell is tried, as the grid does


def test_max_cells_takes_the_next_cells_without_a_record(tmp_path):
    from helpers.study import results

    res, calls = tmp_path / "res", []

    def runner(cell, results_dir):
        calls.append(cell.key)
        results.write_record(results_dir / f"{cell.key}.json", {"status": "completed"})

    plan = [c.key for _, c in gpu_study.study_plan("smoke", res, None, (0,))]
    s = gpu_study.run_study("smoke", res, None, (0,), budget=1e6,
                            runner=runner, max_cells=2)
    assert calls == plan[:2] and s["done_now"] == 2
    s = gpu_study.run_study("smoke", res, None, (0,), budget=1e6,
                            runner=runner, max_cells=3)
    assert calls == plan[:5] and s["planned"] == 3          # the next three, not 1-3 again


def test_cells_below_one_is_a_clear_error(capsys):
    with pytest.raises(SystemExit):
        gpu_study.main(["run", "--cells", "0"])
    assert "--cells must be 1 or more (or left out: every cell), not 0" in capsys.readouterr().err


def test_max_failures_below_zero_is_a_clear_error(capsys):
    with pytest.raises(SystemExit):
        gpu_study.main(["run", "--max-failures", "-1"])
    assert "--max-failures must be 0 (never stop) or more, not -1" in capsys.readouterr().err


def test_the_script_runs_k_processes_that_split_the_cells(tmp_path):
    """scripts/gpu_study.sh, dry on the CPU, smoke profile: WORKERS=auto takes K from a
    stored concurrency measurement of this device (no new measurement), K processes
    train different cells, and the archive holds every new record. ``--cells 2`` ends
    it with the plan's first two cells; the budget is far beyond any run, so that how
    fast the machine is cannot change the outcome. The script runs in a copy of the
    repository under tmp_path (its code linked), so nothing is written into results/."""
    import json
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(root / "scripts/gpu_study.sh", repo / "scripts")
    for name in ("src", "notebooks", "benchmarks"):
        (repo / name).symlink_to(root / name)
    rel = "results/gpu-smoke"
    res = repo / rel
    (res / "benchmarks").mkdir(parents=True)
    (res / "benchmarks/concurrent_runs-20260101T000000.txt").write_text(
        "K = 1: 100 images/s summed over 1 ResNet20 processes on cpu (4 steps each)\n"
        "K = 2: 150 images/s summed over 2 ResNet20 processes on cpu (4 steps each)\n"
        "best workers 2\n")
    env = {**os.environ, "OUT": str(tmp_path / "out"), "BUDGET": "1000000", "SEEDS": "0",
           "PROFILE": "smoke", "ALLOW_CPU": "1", "WORKERS": "auto", "PYTHON": sys.executable,
           "RESULTS": rel, "PYTHONPATH": ""}
    p = subprocess.run(["bash", "scripts/gpu_study.sh", "--cells", "2"], cwd=repo, env=env,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "workers: 2 (" in p.stdout and "2 study processes" in p.stdout
    assert len(list((res / "benchmarks").glob("concurrent_runs-*"))) == 1   # not re-measured
    done = [json.loads(line)["key"] for line in (res / "grid-log.jsonl").read_text().splitlines()
            if json.loads(line)["status"] == "done"]
    # the plan's first two cells, each trained once (keys without their hash: the
    # script's fast engine is part of it, and this process runs TensorFlow)
    plan = [c.key.rsplit("-", 1)[0] for _, c in gpu_study.study_plan("smoke", res, None, (0,))]
    assert sorted(k.rsplit("-", 1)[0] for k in done) == sorted(plan[:2])
    assert {p.name for p in (res / "notebooks").glob("worker-*.out.log")} == \
        {"worker-1.out.log", "worker-2.out.log"}
    [archive] = (tmp_path / "out").glob("gpu-study-*.tar.gz")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {f"{rel}/{k}.json" for k in done} <= names
    assert f"gpu-study smoke seeds 0: {len(done)} new records" in p.stdout


def test_the_script_refuses_a_bad_worker_count(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "OUT": str(tmp_path / "out"), "ALLOW_CPU": "1", "WORKERS": "two",
           "PYTHON": sys.executable, "RESULTS": "results/.test-gpu-study-bad", "BUDGET": "30"}
    try:
        p = subprocess.run(["bash", "scripts/gpu_study.sh"], cwd=root, env=env,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 2
        assert "WORKERS must be auto or a count of 1 or more, not 'two'" in p.stderr
    finally:
        import shutil
        shutil.rmtree(root / "results/.test-gpu-study-bad", ignore_errors=True)


def test_an_unknown_profile_is_a_clear_error_that_lists_the_profiles(capsys):
    with pytest.raises(SystemExit) as e:
        gpu_study.main(["check", "--profile", "huge"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "--profile 'huge' is not accepted; accepted: smoke, fast, cpu, long, paper" in err
