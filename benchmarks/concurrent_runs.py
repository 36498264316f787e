"""K training processes sharing one device: does the device train more images per second?

    KERAS_BACKEND=jax python benchmarks/concurrent_runs.py --workers 1 2 4 --steps 400

Why: on an H200 one ResNet20 at batch 32 trains 18,249 images/s (benchmarks/RESULTS.md),
about 2 TFLOP/s, a few per cent of the chip: each step is a chain of small kernels, so
the device waits on launches, not on arithmetic. Training the six LRs as one vmapped
program was slower (0.80x). Independent processes, each its own model, its own
compiled epoch and its own CUDA context, may fill those gaps instead. ``make gpu-study
WORKERS=K`` runs K study processes that way (they split the cells through the grid's
claim files).

For each K: K processes (``--child``), each builds ResNet``--depth`` with the fast engine
(``engine.FastTrainer``) on ``--steps`` x 32 random images (a step's time does not depend
on the pixels), trains one epoch to compile, says it is ready, waits until all K are,
then times one epoch. Printed per K: the summed images/s and the ratio to K = 1; the
last line names the K with the most images/s (``best workers K``), which
``scripts/gpu_study.sh`` reads with ``WORKERS=auto``. Each child sets
``XLA_PYTHON_CLIENT_PREALLOCATE=false`` so that K of them fit in the device's memory.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BATCH = 32


def child(args) -> None:
    """One process: compile, report ready, wait for the start file, time one epoch."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import jax
    import numpy as np

    from helpers.experiment import engine, training
    from helpers.experiment.config import make_config

    n = args.steps * BATCH
    rng = np.random.default_rng(args.index)
    x = rng.normal(size=(n, 32, 32, 3)).astype(np.float32)
    y = rng.integers(0, 10, n)
    model = training.build_model(make_config(profile="smoke", depth=args.depth), 10)
    trainer = engine.FastTrainer(model, x, y, batch_size=BATCH)
    trainer.train_epoch(0, 0)                                     # compiles
    sync = Path(args.sync)
    (sync / f"ready-{args.index}").touch()
    while not (sync / "go").exists():
        time.sleep(0.01)
    t0 = time.perf_counter()
    trainer.train_epoch(0, 1)   # returns floats: the epoch is done on the device
    wall = time.perf_counter() - t0
    print(json.dumps({"index": args.index, "seconds": wall, "images": n,
                      "device": str(jax.devices()[0].device_kind)}), flush=True)


def measure(k: int, args) -> dict:
    """K children at once; their summed images/s over the slowest one's wall time."""
    env = {**os.environ, "XLA_PYTHON_CLIENT_PREALLOCATE": "false", "KERAS_BACKEND": "jax"}
    with tempfile.TemporaryDirectory() as sync:
        procs = [subprocess.Popen([sys.executable, __file__, "--child", "--index", str(i),
                                   "--sync", sync, "--steps", str(args.steps),
                                   "--depth", str(args.depth)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=env) for i in range(k)]
        deadline = time.time() + args.compile_timeout
        while len(list(Path(sync).glob("ready-*"))) < k:
            if time.time() > deadline or any(p.poll() not in (None, 0) for p in procs):
                for p in procs:
                    p.kill()
                errs = [p.communicate()[1][-800:] for p in procs]
                raise SystemExit(f"K = {k}: a child failed or did not compile within "
                                 f"{args.compile_timeout} s:\n" + "\n".join(errs))
            time.sleep(0.05)
        (Path(sync) / "go").touch()
        outs = [p.communicate() for p in procs]
    rows = [json.loads(o.strip().splitlines()[-1]) for o, _ in outs]
    wall = max(r["seconds"] for r in rows)
    return {"k": k, "images_per_s": sum(r["images"] for r in rows) / wall,
            "slowest_s": wall, "device": rows[0]["device"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4],
                   help="the K to measure (K = 1 is the baseline; it is added if missing)")
    p.add_argument("--steps", type=int, default=400, help="timed steps of 32 per process")
    p.add_argument("--depth", type=int, default=20, help="ResNet depth (6n+2)")
    p.add_argument("--compile-timeout", type=float, default=120.0,
                   help="seconds for the K processes to compile and train one epoch")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--sync", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args)
    bad = [k for k in args.workers if k < 1]
    if bad or args.steps < 1:
        p.error(f"--workers must be 1 or more (got {bad}) and --steps 1 or more "
                f"(got {args.steps})")
    ks = sorted(set(args.workers) | {1})
    rows = []
    for k in ks:
        r = measure(k, args)
        rows.append(r)
        print(f"K = {k}: {r['images_per_s']:.0f} images/s summed over {k} ResNet{args.depth} "
              f"processes on {r['device']} ({args.steps} steps "
              f"each, slowest {r['slowest_s']:.2f} s); {r['images_per_s'] / rows[0]['images_per_s']:.2f}x K = 1",
              flush=True)
        # the best so far after each K: a run stopped by a timeout still names one
        print(f"best workers {max(rows, key=lambda r: r['images_per_s'])['k']}", flush=True)


if __name__ == "__main__":
    main()
