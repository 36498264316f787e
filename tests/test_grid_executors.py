"""The grid's executors (serial, local, slurm through submitit), its claims and its time budget.

Stand-in runners write the record a real run would write, so that everything else
(claims, logs, skipping, resuming, submission) runs the real code; one real papermill
check of local workers against a serial run is in test_grid.py.
"""

import json
import multiprocessing
import os
import shlex
import socket
import subprocess
import sys
import time

import pytest

from helpers.study import results
from helpers.ops import grid
from helpers.experiment.config import ConfigError


def _cells(n=4):
    cells = grid.study_cells(studies=("optimizers",))[:n]
    return grid.plan(cells, "smoke", "unused")


def _calls(folder):
    """The (key, pid, CUDA_VISIBLE_DEVICES) lines the stand-in runner appended."""
    path = folder / "calls.txt"
    return [line.split(" ") for line in path.read_text().splitlines()] if path.exists() else []


def make_runner(folder, fail=(), die=(), sleep=0.0):
    """A stand-in for the papermill call: notes who ran what (one atomic append), then
    writes a completed record; raises for keys in ``fail``, kills its process for ``die``."""
    folder = str(folder)

    def runner(cell, results_dir):
        line = f"{cell.key} {os.getpid()} {os.environ.get('CUDA_VISIBLE_DEVICES', '-')}\n"
        fd = os.open(os.path.join(folder, "calls.txt"), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, line.encode())
        os.close(fd)
        time.sleep(sleep)
        if cell.key in die:
            os._exit(3)
        if cell.key in fail:
            raise RuntimeError("boom")
        results.write_record(results_dir / f"{cell.key}.json",
                             {"status": "completed", "baseline_accuracy": 0.5})

    return runner


# --------------------------------------------------------------------------- claims

def test_a_claim_is_exclusive_says_who_holds_it_and_is_released(tmp_path):
    token = grid.try_claim(tmp_path, "k")
    assert token is not None
    info = json.loads((tmp_path / "k.lock").read_text())
    assert info["pid"] == os.getpid() and info["host"] == socket.gethostname()
    assert {"job_id", "claimed"} <= set(info) and info["token"] == token
    assert grid.try_claim(tmp_path, "k") is None            # our pid is alive: not stale
    grid.release_claim(tmp_path, "k", "someone else's token")
    assert (tmp_path / "k.lock").exists()
    grid.release_claim(tmp_path, "k", token)
    assert not (tmp_path / "k.lock").exists()
    assert grid.try_claim(tmp_path, "k") is not None


def _write_claim(path, pid, host, age=0.0):
    path.write_text(json.dumps({"pid": pid, "host": host, "job_id": None, "token": "old"}))
    t = time.time() - age
    os.utime(path, (t, t))


def test_stale_claims_are_given_up_live_ones_are_not(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _write_claim(tmp_path / "a.lock", dead.pid, socket.gethostname())    # pid gone here
    _write_claim(tmp_path / "b.lock", 1, "another-host", age=1000)        # not touched for long
    _write_claim(tmp_path / "c.lock", 1, "another-host", age=10)          # alive elsewhere
    assert grid.try_claim(tmp_path, "a", stale_after=600) is not None
    assert grid.try_claim(tmp_path, "b", stale_after=600) is not None
    assert grid.try_claim(tmp_path, "c", stale_after=600) is None
    assert json.loads((tmp_path / "a.lock").read_text())["pid"] == os.getpid()
    assert not list(tmp_path.glob("*.break"))


def test_the_heartbeat_keeps_a_claim_fresh(tmp_path):
    with grid.claimed(tmp_path, "k", heartbeat=0.05) as mine:
        assert mine
        t = time.time() - 1000
        os.utime(tmp_path / "k.lock", (t, t))
        time.sleep(0.4)
        assert time.time() - (tmp_path / "k.lock").stat().st_mtime < 5
        assert not grid.claim_is_stale(tmp_path / "k.lock", stale_after=60)
    assert not (tmp_path / "k.lock").exists()


def test_a_cell_claimed_by_a_live_worker_is_left_to_it(tmp_path):
    cells = _cells(3)
    _write_claim(tmp_path / f"{cells[1].key}.lock", 1, "another-host")
    s = grid.run_grid(cells, tmp_path, runner=make_runner(tmp_path), progress=False)
    assert s["done"] == 2 and s["busy"] == 1 and s["busy_keys"] == [cells[1].key]
    assert cells[1].key not in [c[0] for c in _calls(tmp_path)]
    assert grid.running_keys(tmp_path, [c.key for c in cells]) == {cells[1].key}


# --------------------------------------------------------------------------- local

def test_local_workers_run_each_cell_once_a_failure_is_logged_and_a_rerun_resumes(tmp_path):
    cells = _cells(4)
    bad = cells[2].key
    ex = grid.Local(workers=2)
    s = grid.run_grid(cells, tmp_path, runner=make_runner(tmp_path, fail={bad}, sleep=0.3),
                      progress=False, executor=ex)
    assert (s["done"], s["failed"], s["failed_keys"]) == (3, 1, [bad])
    calls = _calls(tmp_path)
    assert sorted(c[0] for c in calls) == sorted(c.key for c in cells)
    assert len({c[1] for c in calls}) == 2 and str(os.getpid()) not in {c[1] for c in calls}
    log = grid.read_log(tmp_path)
    assert [e["key"] for e in log if e["status"] == "failed"] == [bad]
    assert "boom" in next(e for e in log if e["key"] == bad)["error"]
    assert not list(tmp_path.glob("*.lock"))
    (tmp_path / "calls.txt").unlink()
    s = grid.run_grid(cells, tmp_path, runner=make_runner(tmp_path), progress=False, executor=ex)
    assert [c[0] for c in _calls(tmp_path)] == [bad] and (s["done"], s["skipped"]) == (1, 3)


def test_local_workers_are_pinned_each_to_its_gpu(tmp_path):
    ex = grid.Local(workers=2, gpus=("3", "5"))
    s = grid.run_grid(_cells(4), tmp_path, runner=make_runner(tmp_path, sleep=0.3),
                      progress=False, executor=ex)
    assert s["done"] == 4
    gpu_of = {}
    for _, pid, gpu in _calls(tmp_path):
        assert gpu_of.setdefault(pid, gpu) == gpu          # a worker keeps its GPU
    assert sorted(gpu_of.values()) == ["3", "5"]            # and the two workers differ


def _affinity_runner(folder):
    """A stand-in run that notes its pid, its cores and its thread-pool sizes."""
    def runner(cell, results_dir):
        line = (f"{os.getpid()} {','.join(map(str, sorted(os.sched_getaffinity(0))))} "
                f"{os.environ.get('TF_NUM_INTRAOP_THREADS')} {os.environ.get('OMP_NUM_THREADS')}\n")
        fd = os.open(os.path.join(folder, "cores.txt"), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, line.encode())
        os.close(fd)
        time.sleep(0.3)
        results.write_record(results_dir / f"{cell.key}.json",
                             {"status": "completed", "baseline_accuracy": 0.5})
    return runner


def test_local_cpu_workers_are_pinned_each_to_its_share_of_the_cores(tmp_path):
    """Without GPUs, worker i runs on its block of cores with thread pools of that size
    (two 1-thread runs beat one 2-thread run on a 2-core machine)."""
    shares = grid.cpu_shares(2)
    s = grid.run_grid(_cells(4), tmp_path, runner=_affinity_runner(str(tmp_path)),
                      progress=False, executor=grid.Local(workers=2))
    assert s["done"] == 4
    seen = {}
    for line in (tmp_path / "cores.txt").read_text().splitlines():
        pid, cores, intra, omp = line.split(" ")
        share = tuple(int(c) for c in cores.split(","))
        assert seen.setdefault(pid, share) == share             # a worker keeps its cores
        assert share in shares and intra == omp == str(len(share))
    if len(shares) == 2 and shares[0] != shares[1]:
        assert len(set(seen.values())) == 2                     # the two workers differ


def _grid_process(results_dir, executor, queue):
    cells = _cells(4)
    queue.put(grid.run_grid(cells, results_dir, runner=make_runner(results_dir, sleep=0.3),
                            progress=False, executor=executor))


@pytest.mark.parametrize("executor", [None, grid.Local(workers=2)], ids=["serial", "local"])
def test_two_grid_processes_at_once_never_run_a_cell_twice(tmp_path, executor):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_grid_process, args=(tmp_path, executor, queue))
             for _ in range(2)]
    for p in procs:
        p.start()
    summaries = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join()
    keys = [c.key for c in _cells(4)]
    ran = [c[0] for c in _calls(tmp_path)]
    assert sorted(ran) == sorted(keys)                          # every cell once, no more
    assert sum(s["done"] for s in summaries) == 4
    assert all(grid.finished(tmp_path, k) for k in keys)
    assert sorted(e["key"] for e in grid.read_log(tmp_path)) == sorted(keys)


# --------------------------------------------------------------------------- slurm

def test_slurm_through_submitit_local_cluster_failures_and_resume(tmp_path):
    pytest.importorskip("submitit")
    cells = _cells(3)              # one job each: a good one, one that raises, one that dies
    bad, dies = cells[1].key, cells[2].key
    ex = grid.Slurm(cluster="local", time_min=5, gpus_per_task=0, poll_seconds=0.5)
    s = grid.run_grid(cells, tmp_path, runner=make_runner(tmp_path, fail={bad}, die={dies}),
                      progress=False, executor=ex)
    assert s["done"] == 1 and s["failed"] == 2 and sorted(s["failed_keys"]) == sorted([bad, dies])
    assert len(s["job_ids"]) == 3 and grid.finished(tmp_path, cells[0].key)
    assert list((tmp_path / "slurm").glob("*_result.pkl"))      # submitit's own result files
    log = {e["key"]: e for e in grid.read_log(tmp_path)}
    assert "boom" in log[bad]["error"] and log[bad]["job_id"]    # logged inside the job
    assert log[dies]["status"] == "failed"                       # logged by the submitter
    assert not (tmp_path / f"{dies}.lock").exists()        # the dead job's claim is dropped
    (tmp_path / "calls.txt").unlink()
    # the resume, through submitit's debug cluster (in this process); a cell claimed by a
    # live worker elsewhere is not submitted
    _write_claim(tmp_path / f"{cells[0].key}.lock", 1, "another-host")
    (tmp_path / f"{cells[0].key}.json").unlink()
    s = grid.run_grid(cells, tmp_path, runner=make_runner(tmp_path), progress=False,
                      executor=grid.Slurm(cluster="debug", gpus_per_task=0))
    assert sorted(c[0] for c in _calls(tmp_path)) == sorted([bad, dies])
    assert (s["done"], s["busy"], len(s["job_ids"])) == (2, 1, 2)
    assert all(grid.finished(tmp_path, c.key) for c in cells[1:])
    assert [p.stem for p in tmp_path.glob("*.lock")] == [cells[0].key]


def test_the_dry_run_sbatch_line_is_what_submitit_writes(tmp_path, monkeypatch):
    pytest.importorskip("submitit")
    from submitit.slurm import slurm

    (tmp_path / "bin").mkdir()                  # submitit's Slurm executor looks for srun
    (tmp_path / "bin" / "srun").write_text("#!/bin/sh\n")
    (tmp_path / "bin" / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")

    ex = grid.Slurm(partition="gpu", time_min=90, gpus_per_task=1, cpus_per_task=8, mem_gb=32,
                    array_parallelism=4, extra=(("constraint", "a100"), ("exclusive", True)))
    line = ex.sbatch_line(10)
    assert line.startswith("sbatch ") and "--array=0-9%4" in line
    auto = __import__("submitit").AutoExecutor(folder=tmp_path, cluster="slurm")
    auto.update_parameters(**ex.submitit_parameters())
    script = slurm._make_sbatch_string(command="true", folder=tmp_path, map_count=10,
                                       **auto._executor.parameters)
    flags = {ln.removeprefix("#SBATCH ") for ln in script.splitlines() if ln.startswith("#SBATCH")}
    assert set(line.split()[1:]) <= flags


def test_cli_slurm_dry_run_prints_the_submission(tmp_path, capsys):
    args = ["--profile", "smoke", "--results-dir", str(tmp_path), "--studies", "optimizers",
            "--optimizers", "adam", "sgd", "--dry-run", "--executor", "slurm", "--partition",
            "gpu", "--time", "120", "--array-parallelism", "8", "--sbatch", "account=proj"]
    assert grid.main(args) == 0
    out = capsys.readouterr().out
    assert ("sbatch --array=0-1%2 --job-name=grid-smoke --time=120 --partition=gpu --gpus-per-task=1 "
            "--account=proj") in out
    assert "slurm_partition='gpu'" in out and "timeout_min=120" in out
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("extra, word", [
    (["--executor", "pbs"], "--executor"),
    (["--workers", "2"], "--workers"),                                  # serial has no workers
    (["--executor", "local", "--workers", "0"], "--workers"),
    (["--executor", "local", "--gpus", "0;1"], "--gpus"),
    (["--executor", "local", "--partition", "gpu"], "--partition"),
    (["--executor", "slurm", "--sbatch", "--mem 4G"], "--sbatch"),
    (["--executor", "slurm", "--submitit-cluster", "k8s"], "--submitit-cluster"),
    (["--executor", "slurm", "--time-budget", "60"], "--time-budget"),
    (["--executor", "slurm", "--poll-seconds", "0"], "--poll-seconds"),
    (["--poll-seconds", "5"], "--poll-seconds"),                         # slurm only
    (["--time-budget", "-5"], "--time-budget"),
])
def test_cli_bad_executor_flags_fail_before_any_work(tmp_path, capsys, extra, word):
    args = ["--profile", "smoke", "--results-dir", str(tmp_path / "res"), "--studies",
            "optimizers", *extra]
    assert grid.main(args) == 2
    assert word in capsys.readouterr().err and not (tmp_path / "res").exists()


def test_short_limits_get_no_early_signal_long_ones_submitits_90_s(tmp_path, monkeypatch):
    pytest.importorskip("submitit")
    from submitit.slurm import slurm

    assert grid.Slurm(time_min=9).submitit_parameters()["slurm_signal_delay_s"] == 0
    assert "slurm_signal_delay_s" not in grid.Slurm(time_min=10).submitit_parameters()
    _fake_tool(tmp_path / "bin", "srun")          # submitit's Slurm executor looks for srun
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    for time_min, flag in ((2, "--signal=USR2@0"), (720, "--signal=USR2@90")):
        auto = __import__("submitit").AutoExecutor(folder=tmp_path, cluster="slurm")
        auto.update_parameters(**grid.Slurm(time_min=time_min).submitit_parameters())
        script = slurm._make_sbatch_string(command="true", folder=tmp_path,
                                           **auto._executor.parameters)
        assert f"#SBATCH {flag}" in script.splitlines()


def _fake_tool(bin_dir, name, stdout="", stderr="", rc=0):
    """An executable ``name`` in ``bin_dir`` (shell builtins only) that notes its arguments
    in ``<name>.args``, prints ``stdout`` and ``stderr`` and exits with ``rc``."""
    bin_dir.mkdir(exist_ok=True)
    tool = bin_dir / name
    tool.write_text(f'#!/bin/sh\necho "$@" >> {shlex.quote(str(bin_dir / (name + ".args")))}\n'
                    f"printf '%s' {shlex.quote(stdout)}\nprintf '%s' {shlex.quote(stderr)} >&2\n"
                    f"exit {rc}\n")
    tool.chmod(0o755)


def test_accounting_is_read_from_scontrol(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert grid.accounting_disabled() is False                     # no scontrol at all
    _fake_tool(tmp_path / "bin", "scontrol", "ClusterName             = x\n"
               "AccountingStorageType   = accounting_storage/none\nAuthType = auth/munge\n")
    assert grid.accounting_disabled() is True
    _fake_tool(tmp_path / "bin", "scontrol", "AccountingStorageType = accounting_storage/slurmdbd\n")
    assert grid.accounting_disabled() is False


def test_without_accounting_job_states_come_from_squeue_with_one_warning_at_most(
        tmp_path, monkeypatch, capsys):
    pytest.importorskip("submitit")
    bin_dir = tmp_path / "bin"
    _fake_tool(bin_dir, "squeue", "7_0|RUNNING|vm\n7_1|TIMEOUT|vm\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    w = grid.squeue_watcher(delay_s=0)
    for job_id in ("7_0", "7_1", "8"):
        w.register_job(job_id)
    w.update()
    assert (bin_dir / "squeue.args").read_text().split() == [
        "--noheader", "--array", "--states=all", "--format=%i|%T|%N", "--jobs=7,8"]
    states = {j: w.get_state(j, mode="cache") for j in ("7_0", "7_1", "8")}
    assert states == {"7_0": "RUNNING", "7_1": "TIMEOUT", "8": "NOT_IN_QUEUE"}
    assert [w.is_done(j, mode="cache") for j in ("7_0", "7_1", "8")] == [False, True, True]
    # the controller does not answer: states kept, said once for any number of polls
    _fake_tool(bin_dir, "squeue", stderr="squeue: error: Unable to contact slurm controller",
               rc=1)
    w.update()
    w.update()
    assert w.get_state("7_0", mode="cache") == "RUNNING"
    assert capsys.readouterr().err.count("Unable to contact slurm controller") == 1
    # every job purged (squeue refuses the ids): the unfinished ones have ended
    _fake_tool(bin_dir, "squeue", stderr="slurm_load_jobs error: Invalid job id specified",
               rc=1)
    w.update()
    assert w.get_state("7_0", mode="cache") == "NOT_IN_QUEUE" and w.is_done("7_0", mode="cache")
    assert (bin_dir / "squeue.args").read_text().splitlines()[-1].endswith("--jobs=7")


def test_cli_slurm_without_submitit_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "submitit", None)      # import submitit -> ImportError
    args = ["--profile", "smoke", "--results-dir", str(tmp_path / "res"), "--executor", "slurm"]
    assert grid.main(args) == 2
    err = capsys.readouterr().err
    assert "submitit" in err and ".[cluster]" in err and not (tmp_path / "res").exists()
    with pytest.raises(ConfigError, match="cluster"):
        grid.run_grid(_cells(1), tmp_path, runner=make_runner(tmp_path), progress=False,
                      executor=grid.Slurm(cluster="debug"))


# --------------------------------------------------------------------------- time budget

class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def _timed_runner(folder, clock, seconds):
    inner = make_runner(folder)

    def runner(cell, results_dir):
        clock.t += seconds
        inner(cell, results_dir)

    return runner


def test_a_time_budget_for_two_of_four_runs_stops_after_two_and_the_next_call_finishes(tmp_path):
    cells = _cells(4)
    clock = FakeClock()
    s = grid.run_grid(cells, tmp_path, runner=_timed_runner(tmp_path, clock, 10), progress=False,
                      time_budget=25, clock=clock)
    assert (s["done"], s["left"]) == (2, 2) and len(_calls(tmp_path)) == 2
    assert [e["seconds"] for e in grid.read_log(tmp_path)] == [10, 10]
    clock = FakeClock()          # the next call: its measured time comes from the log
    s = grid.run_grid(cells, tmp_path, runner=_timed_runner(tmp_path, clock, 10), progress=False,
                      time_budget=25, clock=clock)
    assert (s["done"], s["skipped"], s["left"]) == (2, 2, 0)
    assert sorted(c[0] for c in _calls(tmp_path)) == sorted(c.key for c in cells)


def test_the_time_budget_works_with_local_workers(tmp_path):
    cells = _cells(4)
    clock = FakeClock()
    grid._log(tmp_path, {"key": "x", "status": "done", "profile": "smoke", "depth": 20,
                         "seconds": 30})
    s = grid.run_grid(cells, tmp_path, runner=make_runner(tmp_path), progress=False,
                      executor=grid.Local(workers=2), time_budget=20, clock=clock)
    assert (s["done"], s["left"]) == (0, 4) and not _calls(tmp_path)
    s = grid.run_grid(cells, tmp_path, runner=make_runner(tmp_path), progress=False,
                      executor=grid.Local(workers=2), time_budget=40, clock=clock)
    assert s["done"] == 4 and s["left"] == 0


def test_estimates_come_from_measured_epochs_and_sweeps_else_from_whole_runs(tmp_path):
    (cell,) = _cells(1)                                   # ResNet20, smoke: 1 epoch
    assert grid.estimate_seconds(cell, grid.measured_seconds(tmp_path)) is None
    # an old log entry without profile/depth (read from its key) and no record: whole runs
    grid._log(tmp_path, {"key": "cifar10-resnet20-bn-adam-lr0.001-s0-smoke-c33c12491b",
                         "status": "done", "seconds": 7.0})
    grid._log(tmp_path, {"key": "x", "status": "failed", "profile": "smoke", "depth": 20,
                         "seconds": 1.0})
    assert grid.estimate_seconds(cell, grid.measured_seconds(tmp_path)) == 7.0
    # a ResNet56 record: median epoch 4 s (the 100 s paused epoch does not count),
    # 8 + 2 s of sweeps and 1 s of gradient noise after training
    results.write_record(tmp_path / "r.json", {
        "status": "completed", "config": {"profile": "smoke", "depth": 56},
        "history": [{"seconds": s} for s in (3.0, 100.0, 4.0, 5.0, 4.0)],
        "timings": {"train_seconds": 116.0, "noise_seconds": 8.0, "ablation_seconds": 2.0,
                    "resumed_from_epoch": 0}, "theory": {"seconds": 1.0}})
    m = grid.measured_seconds(tmp_path)
    assert m[("smoke", 56)]["epoch"] == [4.0] and m[("smoke", 56)]["after"] == [11.0]
    assert grid.estimate_seconds(cell, m) == 7.0          # depth 20 itself was measured
    deep = grid.Cell({**cell.params, "depth": 56, "epochs": 10}, cell.studies, cell.key + "x")
    assert grid.estimate_seconds(deep, m) == pytest.approx(10 * 4.0 + 11.0)
    del m[("smoke", 20)]                                   # scaled from depth 56 to 20
    assert grid.estimate_seconds(cell, m) == pytest.approx((1 * 4.0 + 11.0) * 20 / 56)


def test_estimates_count_a_runs_fixed_seconds_from_the_log_joined_with_its_record(tmp_path):
    """The GPU case that cost a run: 30 epochs of 2.8 s, 14.4 s of sweeps, yet 129 s in
    all (data, compiling, the a0 pass). Without the 30.6 s outside epochs and sweeps the
    estimate said 98.4 s, and a run started with 115 s left was cut by the timeout."""
    (cell,) = _cells(1)
    cell = grid.Cell({**cell.params, "epochs": 30}, cell.studies, cell.key)
    history = [{"seconds": 6.8}] + [{"seconds": 2.8}] * 29      # 88 s; median 2.8
    rec = {"key": "k0", "status": "completed", "config": {"profile": "smoke", "depth": 20},
           "history": history, "theory": {"seconds": 4.1},
           "timings": {"noise_seconds": 1.7, "ablation_seconds": 8.6, "resumed_from_epoch": 0}}
    results.write_record(tmp_path / "k0.json", rec)
    m = grid.measured_seconds(tmp_path)
    assert m[("smoke", 20)]["fixed"] == [] and grid.estimate_seconds(cell, m) == pytest.approx(98.4)
    grid._log(tmp_path, {"key": "k0", "status": "done", "profile": "smoke", "depth": 20,
                         "seconds": 129.0})
    m = grid.measured_seconds(tmp_path)
    assert m[("smoke", 20)]["fixed"] == [pytest.approx(129.0 - 30 * 2.8 - 14.4)]   # 30.6
    assert grid.estimate_seconds(cell, m) == pytest.approx(129.0)          # 129 > 115 left
    # a resumed run's seconds cover only its last epochs: no fixed seconds from it
    assert grid.fixed_seconds({**rec, "timings": {**rec["timings"], "resumed_from_epoch": 12}},
                              40.0) is None
    assert grid.fixed_seconds(rec, 50.0) == 0.0                  # never below zero
    # learn() adds the same from a run that just finished in this call
    m2 = {}
    grid.learn(m2, grid.Cell({"profile": "smoke", "depth": 20}, (), "k0"), tmp_path, 129.0)
    assert m2[("smoke", 20)]["fixed"] == [pytest.approx(30.6)]


def test_cli_time_budget_stops_cleanly_and_says_what_is_left(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(grid, "execute", make_runner(tmp_path))
    grid._log(tmp_path, {"key": "x", "status": "done", "profile": "smoke", "depth": 20,
                         "seconds": 100})
    args = ["--profile", "smoke", "--results-dir", str(tmp_path), "--studies", "optimizers",
            "--optimizers", "adam", "sgd", "nadam"]
    assert grid.main([*args, "--time-budget", "50"]) == 0
    assert "stopped by the time budget: 3 runs left" in capsys.readouterr().out
    assert not _calls(tmp_path)
    assert grid.main([*args, "--time-budget", "500"]) == 0
    assert "time budget" not in capsys.readouterr().out and len(_calls(tmp_path)) == 3


def test_cli_in_process_runs_the_notebook_without_papermill(tmp_path, monkeypatch):
    from helpers.ops import run_cell

    monkeypatch.setattr(grid, "execute", lambda *a: pytest.fail("papermill path taken"))
    monkeypatch.setattr(run_cell, "grid_runner", make_runner(tmp_path))
    args = ["--profile", "smoke", "--results-dir", str(tmp_path), "--studies", "optimizers",
            "--optimizers", "adam", "sgd", "--in-process"]
    assert grid.main(args) == 0
    assert len(_calls(tmp_path)) == 2
