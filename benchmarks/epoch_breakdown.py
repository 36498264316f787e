"""Where the time of one training epoch of ``notebooks/train.ipynb`` goes, on this machine.

    python benchmarks/epoch_breakdown.py --data path/to/cifar10-jpeg.npz

Times, on the real data and through the code paths of ``helpers.experiment.training.train``:
loading and preprocessing (once per run), one epoch's shuffle and augmentation
(``augmentation.epoch_plan``), ``--steps`` training steps of Keras ``fit`` (extrapolated to the
1,563 steps of an epoch), the per-epoch test pass on 10,000 images, the checkpoint,
and one noisy evaluation of the sweep (inject, evaluate ``--noise-images``, restore).
It prints each part's share of an epoch and the projected cost of one ``cpu``-profile
run (20 epochs, 6 noise readings x (1 + 6 x N) evaluations on the subset).
"""

import argparse
import math
import tempfile
import time
from pathlib import Path

import keras

from helpers.experiment import data as data_mod
from helpers.experiment import augmentation, noise, training
from helpers.experiment.config import make_config
from helpers.experiment.models import evaluate
from helpers.experiment.profiles import PROFILES
from helpers.study.results import device


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


p = argparse.ArgumentParser()
p.add_argument("--data", required=True, help="CIFAR-10 folder, archive or .npz")
p.add_argument("--steps", type=int, default=300)
p.add_argument("--noise-images", type=int, default=PROFILES["cpu"].noise_test_samples)
args = p.parse_args()

cfg = make_config(profile="cpu", epochs=1, data_dir=args.data, results_dir=tempfile.mkdtemp())
t_load, d = timed(lambda: data_mod.preprocess(training.load_data(cfg)))
model = training.build_model(cfg, d.num_classes)
t_aug, (xe, ye) = timed(lambda: augmentation.epoch_plan(len(d.y_train), 0, 0)
                        .apply(d.x_train, d.y_train))
n = args.steps * cfg.batch_size
model.fit(xe[:10 * cfg.batch_size], ye[:10 * cfg.batch_size], batch_size=cfg.batch_size,
          epochs=1, verbose=0)  # compile
t_fit, _ = timed(lambda: model.fit(xe[:n], ye[:n], batch_size=cfg.batch_size, epochs=1,
                                   shuffle=False, verbose=0,
                                   callbacks=[keras.callbacks.TerminateOnNaN()]))
steps = math.ceil(len(d.y_train) / cfg.batch_size)
t_epoch_steps = t_fit / args.steps * steps
evaluate(model, d.x_test[:1000], d.y_test[:1000])  # compile
t_test, _ = timed(lambda: evaluate(model, d.x_test, d.y_test))
t_ckpt, _ = timed(lambda: training.save_checkpoint(model, {"epochs_done": 1},
                                                   Path(cfg.results_dir) / "ckpt"))
xs, ys = noise.test_subset(d.x_test, d.y_test, args.noise_images)


def one_noisy_eval():
    with noise.injected(model, 0.1, noise.draw_rng(0, 0.1, 0), noise.PAPER):
        return evaluate(model, xs, ys)


t_noisy, _ = timed(one_noisy_eval)
other = t_aug + t_test + t_ckpt
epoch = t_epoch_steps + other
N = PROFILES["cpu"].n_repeats
sweeps = len(noise.ABLATION) * (1 + len(noise.PAPER_ETAS) * N) * t_noisy
print(f"device: {device()}; backend {keras.config.backend()}")
print(f"load + preprocess (once per run): {t_load:.1f} s")
print(f"one epoch: {epoch:.1f} s = training steps {t_epoch_steps:.1f} s "
      f"({100 * t_epoch_steps / epoch:.1f} %) + augmentation {t_aug:.1f} s "
      f"({100 * t_aug / epoch:.1f} %) + test pass {t_test:.1f} s ({100 * t_test / epoch:.1f} %) "
      f"+ checkpoint {t_ckpt:.2f} s ({100 * t_ckpt / epoch:.1f} %)")
print(f"non-step share of an epoch: {100 * other / epoch:.1f} %")
print(f"one noisy evaluation on {len(ys)} images: {t_noisy:.2f} s; {len(noise.ABLATION)} "
      f"readings x (1 + {len(noise.PAPER_ETAS)} x {N}) evaluations: {sweeps:.0f} s")
run = PROFILES["cpu"].epochs * epoch + sweeps + t_load
print(f"projected cpu-profile run: {run / 60:.1f} min; 27 runs (items 1-3 x 3 seeds): "
      f"{27 * run / 3600:.1f} h")
