"""Does the TensorFlow per-example gradient map crash, and what does serial cost?

TensorFlow's CPU build segfaulted now and then inside ``theory._per_example_tf``
(a ``tf.map_fn`` in a ``tf.function``), which CI saw on CIFAR-100 no-BN smoke
cells. This script runs the gradient-noise measurement of the smoke profile
(ResNet20 without BN, 100 classes, 64 random images, measured three times) in
``--trials`` fresh processes for each value of ``theory.TF_MAP_PARALLEL`` given,
and counts the processes killed by a signal; then it times the per-example
gradients of 256 images of a ResNet20 with BN for each value (best of
``--repeats``, after one warm-up call).

    python benchmarks/per_example_crash.py --parallel 10 1 --trials 50

Expected (2-core CPU, TensorFlow 2.21, 2026-11-26; see benchmarks/RESULTS.md):
some crashes out of 50 with 10 (TensorFlow's default), none with 1, and the same
time per 256 images within a few per cent.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

CRASH = """
import numpy as np
from helpers.experiment import models
from helpers.study import theory
theory.TF_MAP_PARALLEL = {parallel}
rng = np.random.default_rng({trial})
m = models.resnet_v1(depth=20, num_classes=100, batch_norm=False)
x = rng.random((64, 32, 32, 3), dtype=np.float32)
y = rng.integers(0, 100, 64)
for _ in range(3):
    theory.measure(m, x, y, **theory.settings("smoke"), seed=0)
"""

TIME = """
import time
import numpy as np
from helpers.experiment import models
from helpers.study import theory
theory.TF_MAP_PARALLEL = {parallel}
rng = np.random.default_rng(0)
m = models.resnet_v1(depth=20, num_classes=10, batch_norm=True)
x = rng.random((256, 32, 32, 3), dtype=np.float32)
y = rng.integers(0, 10, 256)
theory.per_example_gradients(m, x[:8], y[:8])
best = float("inf")
for _ in range({repeats}):
    t = time.perf_counter()
    theory.per_example_gradients(m, x, y)
    best = min(best, time.perf_counter() - t)
print(best)
"""


def _python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.run([sys.executable, "-X", "faulthandler", "-c", code], env=env,
                          capture_output=True, text=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parallel", type=int, nargs="+", default=[10, 1],
                    help="values of theory.TF_MAP_PARALLEL to compare (default: 10 1)")
    ap.add_argument("--trials", type=int, default=50, help="fresh processes per value")
    ap.add_argument("--repeats", type=int, default=3, help="timed calls per value")
    args = ap.parse_args(argv)
    if min(args.parallel) < 1 or args.trials < 1 or args.repeats < 1:
        ap.error("--parallel, --trials and --repeats take positive integers")

    for p in args.parallel:
        crashed, failed = 0, 0
        for trial in range(args.trials):
            rc = _python(CRASH.format(parallel=p, trial=trial)).returncode
            crashed += rc < 0 or rc > 128  # killed by a signal (e.g. -11 or 139)
            failed += 0 < rc <= 128
            print(f"\rparallel_iterations={p}: trial {trial + 1}/{args.trials}, "
                  f"{crashed} crashed", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        print(f"parallel_iterations={p}: {crashed} of {args.trials} processes crashed"
              + (f", {failed} failed with an error" if failed else ""))
    times = {}
    for p in args.parallel:
        out = _python(TIME.format(parallel=p, repeats=args.repeats))
        if out.returncode:
            print(f"parallel_iterations={p}: timing run failed (rc {out.returncode})")
            continue
        times[p] = float(out.stdout.split()[-1])
        print(f"parallel_iterations={p}: {times[p]:.2f} s per 256 images (best of "
              f"{args.repeats})")
    if len(times) > 1:
        ref = times[args.parallel[0]] if args.parallel[0] in times else next(iter(times.values()))
        print("time ratios to the first:", ", ".join(f"{p}: {t / ref:.2f}" for p, t in times.items()))


if __name__ == "__main__":
    main()
