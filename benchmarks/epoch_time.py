"""Seconds per training epoch of Keras ``fit`` for one ResNet, on this machine.

    KERAS_BACKEND=tensorflow python benchmarks/epoch_time.py --depth 20 --steps 150
    KERAS_BACKEND=jax        python benchmarks/epoch_time.py --depth 20 --steps 150

Times ``--steps`` batches of 32 after a warm-up epoch (compilation excluded)
through the same code path as ``helpers.experiment.training.train`` and extrapolates to
one CIFAR epoch (50,000 images = 1,563 steps). Random images: the time of a
step does not depend on the pixels.
"""

import argparse
import math
import time

import keras
import numpy as np

from helpers.experiment.config import make_config
from helpers.study.results import device
from helpers.experiment.training import build_model

p = argparse.ArgumentParser()
p.add_argument("--depth", type=int, default=20)
p.add_argument("--steps", type=int, default=150)
p.add_argument("--batch-size", type=int, default=32)
args = p.parse_args()

config = make_config(profile="smoke", depth=args.depth, batch_size=args.batch_size)
model = build_model(config, 10)
rng = np.random.default_rng(0)
n = args.steps * args.batch_size
x = rng.normal(size=(n, 32, 32, 3)).astype(np.float32)
y = rng.integers(0, 10, n)
model.fit(x[: 5 * args.batch_size], y[: 5 * args.batch_size], batch_size=args.batch_size,
          epochs=1, verbose=0)  # warm-up: tracing / compilation
t0, c0 = time.perf_counter(), time.process_time()
model.fit(x, y, batch_size=args.batch_size, epochs=1, shuffle=False, verbose=0)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
steps_per_epoch = math.ceil(50_000 / args.batch_size)
print(f"backend={keras.config.backend()} device={device()!r} ResNet{args.depth} "
      f"batch={args.batch_size}: {args.steps / wall:.2f} steps/s, "
      f"{args.steps * args.batch_size / wall:.0f} images/s; one epoch ({steps_per_epoch} steps) "
      f"= {wall / args.steps * steps_per_epoch:.0f} s wall, "
      f"{cpu / args.steps * steps_per_epoch:.0f} s CPU time")
