"""Keras ``fit`` against the fast JAX engine (helpers.experiment.engine), on this machine.

    KERAS_BACKEND=jax python benchmarks/engine_speed.py                  # GPU defaults
    KERAS_BACKEND=jax python benchmarks/engine_speed.py --depths 20 --steps 100 \\
        --test-size 1000                                                 # a small CPU run

For each depth (ResNet20 and ResNet56 by default), in one process on one device:

1. training at batch 32: Keras ``fit`` exactly as ``helpers.experiment.training.train`` calls it
   (one ``fit`` per epoch on the epoch plan applied on the host, TerminateOnNaN) and
   ``engine.FastTrainer`` (the same model, optimizer and augmentation), each for
   ``--steps`` steps after a warm-up call that compiles; images/s of each and the ratio;
2. one noise sweep (6 eta x N draws on ``--test-size`` images; 10 x 10,000 in the
   paper profile) with ``engine.fast_noise_sweep``, against the bare forward passes it
   needs (1 + 6 N passes over the test set, jitted, clean weights); the ratio;
3. the projected wall time of the paper profile's grid from these numbers.

Random images: a step's time does not depend on the pixels. Compilation is excluded
from every rate and reported on its own.
"""

import argparse
import os
import platform
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from helpers.experiment import augmentation, engine, noise, training  # noqa: E402
from helpers.experiment.config import make_config  # noqa: E402
from helpers.study.results import device  # noqa: E402

# The paper profile's grid (helpers.ops.grid): LR study 2 datasets x 4 depths x 6 LRs
# (Adam), optimizer study 6 x ResNet20 on CIFAR-10; the BN study adds 2 x 4 no-BN models.
GRID = {20: 12 + 6, 32: 12, 44: 12, 56: 12}     # 54 models
BN_STUDY = {20: 4, 32: 4, 44: 4, 56: 4}         # +16 models without BN (counted apart)
EPOCHS, STEPS, BATCH, TEST = 200, 1563, 32, 10_000

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
p.add_argument("--depths", default="20,56", help="comma-separated depths (6n+2)")
p.add_argument("--steps", type=int, default=500, help="timed training steps, ResNet20")
p.add_argument("--steps-deep", type=int, default=None,
               help="timed steps for deeper models (default: --steps scaled by 20/depth)")
p.add_argument("--test-size", type=int, default=TEST, help="test images of the noise sweep")
p.add_argument("--n-repeats", type=int, default=10, help="noise draws per eta (paper: 10)")
p.add_argument("--eval-batch", type=int, default=1000, help="images per evaluation batch")
p.add_argument("--loop", default="auto", choices=engine.LOOPS,
               help="fast engine loop: scan (GPU default) or unroll (CPU default)")
p.add_argument("--chunk-steps", type=int, default=None, help="steps per compiled call")
p.add_argument("--vectorize", default="auto", choices=("auto", "vmap", "map"),
               help="noise sweep: vmap over the N draws, or a compiled loop over them "
                    "(auto: map on CPU, vmap on GPU)")
p.add_argument("--skip-fit", action="store_true", help="time the fast engine only")
p.add_argument("--skip-sweep", action="store_true")
args = p.parse_args()
if args.vectorize == "auto":
    args.vectorize = "map" if jax.default_backend() == "cpu" else "vmap"

print(f"backend={keras.config.backend()} jax={jax.__version__} keras={keras.__version__} "
      f"device={device()!r} platform={jax.default_backend()} python={platform.python_version()}")
rng = np.random.default_rng(0)
measured = {}


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


for depth in [int(d) for d in args.depths.split(",")]:
    steps = args.steps if depth <= 20 else (args.steps_deep or max(10, args.steps * 20 // depth))
    n = steps * BATCH
    x = rng.normal(size=(n, 32, 32, 3)).astype(np.float32)
    y = rng.integers(0, 10, n)
    config = make_config(profile="smoke", depth=depth, engine="fit")
    m = {"steps": steps}

    # 1a. Keras fit, as training.train runs an epoch
    if not args.skip_fit:
        model = training.build_model(config, 10)
        warm = min(n, 5 * BATCH)
        _, m["fit_compile_s"] = timed(lambda: model.fit(x[:warm], y[:warm], batch_size=BATCH,
                                                        epochs=1, verbose=0))

        def fit_epoch():
            xe, ye = augmentation.epoch_plan(len(y), 0, 1).apply(x, y)
            model.fit(xe, ye, batch_size=BATCH, epochs=1, shuffle=False, verbose=0,
                      callbacks=[keras.callbacks.TerminateOnNaN()])

        _, wall = timed(fit_epoch)
        m["fit_ips"] = n / wall

    # 1b. the fast engine, same model, same steps
    model = training.build_model(config, 10)
    trainer = engine.FastTrainer(model, x, y, batch_size=BATCH, loop=args.loop,
                                 chunk_steps=args.chunk_steps)
    _, m["fast_first_epoch_s"] = timed(lambda: trainer.train_epoch(0, 0))   # compiles
    _, wall = timed(lambda: trainer.train_epoch(0, 1))
    m["fast_ips"] = n / wall
    m["fast_compile_s"] = m["fast_first_epoch_s"] - wall
    line = f"ResNet{depth} batch {BATCH}, {steps} steps ({trainer.loop}, " \
           f"{trainer.chunk_steps or steps} steps/call): fast {m['fast_ips']:.0f} images/s"
    if "fit_ips" in m:
        m["ratio"] = m["fast_ips"] / m["fit_ips"]
        line += f", fit {m['fit_ips']:.0f} images/s, fast/fit = {m['ratio']:.2f}x"
    print(line + f" (compile: fast {m['fast_compile_s']:.1f} s"
          + (f", fit {m['fit_compile_s']:.1f} s)" if "fit_compile_s" in m else ")"), flush=True)

    # 2. the noise sweep against its bare forward passes
    if not args.skip_sweep:
        xt = rng.normal(size=(args.test_size, 32, 32, 3)).astype(np.float32)
        yt = rng.integers(0, 10, args.test_size)
        ev = engine.Evaluator(model, xt, yt, args.eval_batch)
        passes = 1 + len(noise.PAPER_ETAS) * args.n_repeats

        def forward():
            out = [ev.counts() for _ in range(passes)]
            jax.block_until_ready(out)

        forward()                                        # compile
        _, m["forward_s"] = timed(forward)

        def sweep():
            return engine.fast_noise_sweep(model, xt, yt, n_repeats=args.n_repeats,
                                           batch_size=args.eval_batch, progress=False,
                                           vectorize=args.vectorize, evaluator=ev)

        _, first = timed(sweep)                          # compiles the batched program
        _, m["sweep_s"] = timed(sweep)
        m["sweep_compile_s"] = first - m["sweep_s"]
        m["sweep_ratio"] = m["sweep_s"] / m["forward_s"]
        print(f"ResNet{depth} noise sweep 6 eta x N={args.n_repeats} on {args.test_size} images "
              f"({args.vectorize}, eval batch {args.eval_batch}): {m['sweep_s']:.2f} s; its "
              f"{passes} bare forward passes {m['forward_s']:.2f} s; sweep/forward = "
              f"{m['sweep_ratio']:.2f}x (compile {m['sweep_compile_s']:.1f} s)", flush=True)
    measured[depth] = m


# 3. projection of the paper profile's grid
def per_image_seconds(key):
    """Seconds per training image at each grid depth, linear in depth between the
    measured ones (a ResNet's cost is linear in its number of blocks)."""
    pts = sorted((d, 1 / m[key]) for d, m in measured.items() if key in m)
    if not pts:
        return None
    if len(pts) == 1:
        d0, t0 = pts[0]
        return {d: t0 * d / d0 for d in GRID}
    (d0, t0), (d1, t1) = pts[0], pts[-1]
    return {d: t0 + (t1 - t0) * (d - d0) / (d1 - d0) for d in GRID}


def per_sweep_seconds():
    pts = sorted((d, m["sweep_s"] * TEST / args.test_size, m["forward_s"] * TEST / args.test_size
                  / (1 + len(noise.PAPER_ETAS) * args.n_repeats))
                 for d, m in measured.items() if "sweep_s" in m)
    if not pts:
        return None, None
    if len(pts) == 1:
        d0, s0, f0 = pts[0]
        return {d: s0 * d / d0 for d in GRID}, {d: f0 * d / d0 for d in GRID}
    (d0, s0, f0), (d1, s1, f1) = pts[0], pts[-1]
    return ({d: s0 + (s1 - s0) * (d - d0) / (d1 - d0) for d in GRID},
            {d: f0 + (f1 - f0) * (d - d0) / (d1 - d0) for d in GRID})


sweep_s, pass_s = per_sweep_seconds()
print(f"\nprojected paper profile grid ({sum(GRID.values())} models = 48 LR-grid + 6 optimizer "
      f"models, {EPOCHS} epochs x {STEPS} steps of {BATCH}; sweeps 6 eta x N=10 on {TEST} "
      f"images; test accuracy after each epoch; the BN study's {sum(BN_STUDY.values())} no-BN "
      "models and the noise ablation's extra sweeps are not counted):")
for key, name in (("fit_ips", "fit"), ("fast_ips", "fast")):
    t_img = per_image_seconds(key)
    if t_img is None:
        continue
    train_s = sum(k * EPOCHS * STEPS * BATCH * t_img[d] for d, k in GRID.items())
    eval_s = sum(k * EPOCHS * pass_s[d] for d, k in GRID.items()) if pass_s else 0.0
    sw_s = sum(k * sweep_s[d] for d, k in GRID.items()) if sweep_s else 0.0
    bn_s = sum(k * EPOCHS * STEPS * BATCH * t_img[d] for d, k in BN_STUDY.items())
    total = train_s + eval_s + sw_s
    print(f"  {name:4s}: training {train_s / 3600:8.1f} h + per-epoch test {eval_s / 3600:6.1f} h"
          f" + sweeps {sw_s / 3600:6.2f} h = {total / 3600:8.1f} h "
          f"({total / 86400:.1f} days); +BN study training {bn_s / 3600:.1f} h")
    if name == "fast" and sweep_s is None:
        print("        (no sweep measured: sweeps and per-epoch tests not included)")
print("  (one device, models one after another; depths between the measured ones are "
      "interpolated linearly in depth; compilation not included)")
