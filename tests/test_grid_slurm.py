"""The grid on a real Slurm: a one-node cluster on localhost (``.ci/slurm.sh start``).

Runs only where ``GRID_SLURM_PARTITION`` names a partition of a live Slurm (``.ci/run``
sets it after starting the cluster); elsewhere the submitit stand-ins of
test_grid_executors.py exercise the same submission code.

One smoke cell is submitted with a one-minute ``--time`` and more epochs than fit in
it, so that Slurm's time limit kills the task mid-run; the next call resumes the run
from its last finished epoch and writes its record. The epoch count comes from the
epoch time measured here first, so that the first call is cut on a fast machine and
the second is short on a slow one.
"""

import json
import math
import os
import shutil
import statistics
import subprocess
import time
import sys
from pathlib import Path

import pytest

from helpers.ops import grid

PARTITION = os.environ.get("GRID_SLURM_PARTITION")
pytestmark = pytest.mark.skipif(
    not PARTITION or shutil.which("sinfo") is None or shutil.which("sbatch") is None,
    reason="no real Slurm here (run .ci/slurm.sh start, then set GRID_SLURM_PARTITION=debug)")

ROOT = Path(__file__).resolve().parents[1]
# A one-minute task is killed by slurmctld's time-limit check, which runs every 30 s:
# between 60 and 90 s after it started (then SIGKILL after KillWait=5). Training for
# this long, plus the task's start, its first epoch's compiling and its sweeps (~10,
# ~5 and ~20 s on an idle 2-core machine), cannot end before that.
TRAIN_SECONDS = 75.0


def run_grid_cli(results_dir: Path, time_min: int, epochs: int):
    cmd = [sys.executable, "-m", "helpers.ops.grid", "--profile", "smoke", "--results-dir",
           str(results_dir), "--executor", "slurm", "--partition", PARTITION,
           "--gpus-per-task", "0", "--cpus-per-task", "1", "--time", str(time_min),
           "--poll-seconds", "5", "--studies", "optimizers", "--optimizers", "adam",
           "-p", "epochs", str(epochs)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)


def smoke_epoch_seconds(folder: Path) -> float:
    """The median seconds of a smoke ResNet20 epoch (after the first, which compiles),
    trained here in this process."""
    from helpers.experiment import data as data_mod
    from helpers.experiment import training
    from helpers.experiment.config import make_config

    config = make_config(profile="smoke", epochs=4, results_dir=str(folder))
    data = data_mod.preprocess(training.load_data(config))
    run = training.train(config, data, training.RunPaths(folder, "calibration"), progress=False)
    return statistics.median(h["seconds"] for h in run.history[1:])


def slurm_state(job_id: str) -> str:
    """A job's final state: while Slurm still cleans up after it (COMPLETING, which a job
    ended by its time limit passes through on its way to TIMEOUT), ask again, for at most
    a minute."""
    for _ in range(60):
        out = subprocess.run(["squeue", "--noheader", "--states=all", "--format=%T",
                              f"--jobs={job_id}"], capture_output=True, text=True)
        state = out.stdout.strip()
        if state != "COMPLETING":
            return state
        time.sleep(1)
    return state


def test_a_task_killed_by_its_time_limit_is_resumed_by_the_next_call(tmp_path):
    epochs = max(10, math.ceil(TRAIN_SECONDS / smoke_epoch_seconds(tmp_path / "calibration")))
    res = tmp_path / "results"

    first = run_grid_cli(res, 1, epochs)
    out = first.stdout + first.stderr
    assert first.returncode == 1, out[-3000:]
    assert "1 failed" in first.stdout
    (failed,) = [e for e in grid.read_log(res) if e["status"] == "failed"]
    key = failed["key"]
    assert slurm_state(failed["job_id"]) == "TIMEOUT"          # Slurm's limit ended it
    assert not (res / f"{key}.json").exists() and not (res / f"{key}.lock").exists()
    state = json.loads((res / f"{key}.ckpt" / "state.json").read_text())
    cut_at = state["epochs_done"]
    assert 1 <= cut_at < epochs, (cut_at, epochs)                # cut mid-run
    assert [h["epoch"] for h in state["history"]] == list(range(1, cut_at + 1))

    second = run_grid_cli(res, 10, epochs)
    out2 = second.stdout + second.stderr
    assert second.returncode == 0, out2[-3000:]
    assert "1 done, 0 skipped, 0 failed" in second.stdout
    rec = json.loads((res / f"{key}.json").read_text())
    assert rec["status"] == "completed" and rec["config"]["epochs"] == epochs
    assert rec["timings"]["resumed_from_epoch"] == cut_at          # from its last epoch
    assert [h["epoch"] for h in rec["history"]] == list(range(1, epochs + 1))
    assert rec["history"][:cut_at] == state["history"]           # the first call's epochs
    assert 0 <= rec["baseline_accuracy"] <= 1
    (done,) = [e for e in grid.read_log(res) if e["status"] == "done"]
    assert done["key"] == key and done["job_id"] and done["job_id"] != failed["job_id"]
    # accounting is off on this cluster: no sacct warning on any poll
    assert "sacct" not in out and "sacct" not in out2
