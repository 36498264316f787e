"""Training images per second of one CPU machine, for several ways of using its cores.

    python benchmarks/cpu_throughput.py --window 40 --repeats 2

Why: a `cpu`-profile ResNet20 run costs about an hour on a 2-core machine, and the
training steps use a fraction of what the cores compute in a matrix product. Each
configuration below runs K processes at once (started together, as the grid's
``--executor local --workers K`` would run K cells), each training ResNet``--depth``
with Keras ``fit`` at batch 32 through ``training.build_model`` (the study's code
path) on random images (a step's time does not depend on the pixels), after a
warm-up that traces and compiles. Each process counts the images it trains in a
``--window``-second window; the machine's rate is their sum.

Configurations (``--configs`` picks some): ``KxT`` is K processes of T threads each
(TensorFlow's intra- and inter-op pools and OpenMP set to T; each 1-thread process
pinned to its own core), then the precision (``f32``, or ``bf16``: Keras
``mixed_bfloat16``, float32 weights) and ``xla`` where the train step is compiled by
XLA (``jit_compile=True``; Keras leaves XLA off on a CPU-only TensorFlow).

Printed: one line per configuration and repeat, then a table of the median rate and
its ratio to the first configuration (today's: one process using every core).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BATCH = 32
CONFIGS = ("1x2-f32", "2x1-f32", "1x2-bf16", "2x1-bf16", "1x2-f32-xla", "2x1-f32-xla",
           "2x1-bf16-xla")


def parse(name: str) -> dict:
    """'2x1-bf16-xla' -> {'procs': 2, 'threads': 1, 'bf16': True, 'xla': True}."""
    parts = name.split("-")
    procs, threads = (int(v) for v in parts[0].split("x"))
    if parts[1] not in ("f32", "bf16") or not set(parts[2:]) <= {"xla"}:
        raise SystemExit(f"--configs: {name!r} is not KxT-f32|bf16[-xla]")
    return {"procs": procs, "threads": threads, "bf16": parts[1] == "bf16",
            "xla": "xla" in parts[2:]}


def child(args) -> None:
    """One process: build, warm up, report ready, wait for go, count a window's images."""
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    from helpers.experiment.config import make_config
    from helpers.experiment.training import build_model

    config = make_config(profile="smoke", depth=args.depth, mixed_precision=args.bf16)
    model = build_model(config, 10)
    if args.xla:
        model.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"],
                      jit_compile=True)
    rng = np.random.default_rng(args.index)
    chunk = 20 * BATCH
    x = rng.normal(size=(chunk, 32, 32, 3)).astype(np.float32)
    y = rng.integers(0, 10, chunk)
    model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0)          # trace + compile
    sync = Path(args.sync)
    (sync / f"ready-{args.index}").touch()
    while not (sync / "go").exists():
        time.sleep(0.01)
    images, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < args.window:
        model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        images += chunk
    wall = time.perf_counter() - t0
    print(json.dumps({"index": args.index, "images": images, "seconds": wall}), flush=True)


def run_config(name: str, args) -> float:
    """The summed images/s of one configuration's K processes."""
    spec = parse(name)
    cores = sorted(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as sync:
        procs = []
        for i in range(spec["procs"]):
            env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
                       OMP_NUM_THREADS=str(spec["threads"]),
                       TF_NUM_INTRAOP_THREADS=str(spec["threads"]),
                       TF_NUM_INTEROP_THREADS=str(spec["threads"]))
            cmd = [sys.executable, __file__, "--child", "--index", str(i), "--sync", sync,
                   "--threads", str(spec["threads"]), "--depth", str(args.depth),
                   "--window", str(args.window)]
            if spec["threads"] == 1 and spec["procs"] <= len(cores):
                cmd = ["taskset", "-c", str(cores[i])] + cmd
            cmd += ["--bf16"] if spec["bf16"] else []
            cmd += ["--xla"] if spec["xla"] else []
            procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True))
        while len(list(Path(sync).glob("ready-*"))) < spec["procs"]:
            if any(p.poll() not in (None, 0) for p in procs):
                raise SystemExit(f"{name}: a process failed before the window")
            time.sleep(0.2)
        (Path(sync) / "go").touch()
        outs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    return sum(o["images"] / o["seconds"] for o in outs)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--configs", nargs="+", default=list(CONFIGS))
    p.add_argument("--window", type=float, default=40.0, help="seconds timed per process")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--depth", type=int, default=20)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--sync", help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--bf16", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--xla", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args)
    for name in args.configs:
        parse(name)
    rates = {name: [] for name in args.configs}
    for r in range(args.repeats):            # repeats interleaved: drift hits all alike
        for name in args.configs:
            rates[name].append(run_config(name, args))
            print(f"repeat {r + 1} {name}: {rates[name][-1]:.0f} images/s", flush=True)
    base = statistics.median(rates[args.configs[0]])
    print(f"\n| configuration (ResNet{args.depth}, batch {BATCH}) | images/s (each repeat) "
          f"| median | vs {args.configs[0]} |\n| --- | --- | --- | --- |")
    for name, values in rates.items():
        med = statistics.median(values)
        print(f"| {name} | {', '.join(f'{v:.0f}' for v in values)} | {med:.0f} | "
              f"{med / base:.2f}x |")


if __name__ == "__main__":
    main()
