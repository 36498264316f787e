"""scripts/pinned_queue.sh: one worker pinned to one core, with 1-thread pools, running its
queue's commands in order; a failing command is logged and the queue goes on."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pinned_queue.sh"

pytestmark = pytest.mark.skipif(
    shutil.which("taskset") is None or not hasattr(os, "sched_getaffinity"),
    reason="needs taskset and sched_getaffinity (Linux)")

STAMP = r"\[queue core (\d+)\] \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def test_the_queue_runs_pinned_with_one_thread_and_goes_on_after_a_failing_line(tmp_path):
    core = max(os.sched_getaffinity(0))   # a core this process may use
    py = sys.executable
    queue = tmp_path / "queue.txt"
    queue.write_text(
        "# a comment, then an empty line and an indented comment\n\n   # skipped\n"
        f"{py} -c \"import os; print('affinity', sorted(os.sched_getaffinity(0)))\"\n"
        "false\n"
        f"  {py} -c \"import os; print('threads', *(os.environ[v] for v in "
        "('TF_NUM_INTRAOP_THREADS', 'TF_NUM_INTEROP_THREADS', 'OMP_NUM_THREADS')))\"\n"
        "echo after the failure; exit 3\n"
        "echo last")  # no final newline: still run
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")}
    p = subprocess.run(["bash", str(SCRIPT), str(core), str(queue)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 1, p.stderr      # a line failed
    out = p.stdout.splitlines()
    assert f"affinity [{core}]" in out
    assert "threads 1 1 1" in out
    starts = [line for line in out if re.match(STAMP + " start ", line)]
    commands = [line.lstrip() for line in queue.read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert len(commands) == 5 and commands[1] == "false"
    assert [re.match(STAMP + r" start (\d+): (.*)$", s).group(2, 3) for s in starts] == [
        (str(n), c) for n, c in enumerate(commands, 1)]
    assert all(re.match(STAMP, s).group(1) == str(core) for s in starts)
    # each command's output follows its own start line; the failures are logged, and the
    # queue goes on after them
    i = out.index
    assert i(starts[0]) < i(f"affinity [{core}]") < i(starts[1]) < i(starts[2])
    assert re.fullmatch(STAMP + r" FAILED 2 \(exit status 1\): false", out[i(starts[1]) + 1])
    assert i(starts[2]) < i("threads 1 1 1") < i(starts[3]) < i("after the failure")
    assert re.fullmatch(STAMP + r" FAILED 4 \(exit status 3\): echo after the failure; exit 3",
                        out[i("after the failure") + 1])
    assert out[-2] == "last" and re.fullmatch(STAMP + " done: 5 commands, 2 failed", out[-1])


def test_a_queue_without_failures_exits_0_and_bad_arguments_exit_2(tmp_path):
    queue = tmp_path / "q.txt"
    queue.write_text("true\n# nothing else\n")
    core = str(min(os.sched_getaffinity(0)))
    ok = subprocess.run(["bash", str(SCRIPT), core, str(queue)], capture_output=True, text=True,
                        timeout=60)
    assert ok.returncode == 0 and "done: 1 commands, 0 failed" in ok.stdout
    for args, words in ((["0"], "usage:"), (["zero", str(queue)], "CORE=zero"),
                        ([core, str(tmp_path / "none.txt")], "QUEUE_FILE=")):
        bad = subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True,
                             timeout=60)
        assert bad.returncode == 2 and words in bad.stderr


def test_the_example_queue_holds_only_comments_with_the_grid_and_a_resweep():
    example = SCRIPT.parent / "queues" / "example.txt"
    lines = [line for line in example.read_text().splitlines() if line.strip()]
    assert all(line.startswith("#") for line in lines)  # runs nothing as committed
    commands = [line[2:] for line in lines if line.startswith("# python -m helpers.ops.")]
    assert [c.split()[2] for c in commands] == ["helpers.ops.grid", "helpers.ops.resweep"]
    assert "--profile cpu" in commands[0]
