"""Run profiles: defaults for how long to train and how often to repeat the noise.

A profile sets defaults; a parameter given explicitly always wins.

- ``smoke``: seconds on a CPU. One epoch of a few steps, N = 2 noise repeats.
  Without ``data_dir`` it trains on a small synthetic dataset written in the
  real CIFAR format; with one it takes a small subset of the real data.
  Its numbers test the code path, never the science.
- ``fast``: the full data, 30 epochs (the step schedule compressed
  to 30 epochs), batch 32, N = 5: a quick look at the real effect.
- ``cpu``: what a 2-core CPU can finish for ResNet20 on CIFAR-10: the full
  data, the step schedule compressed to 20 epochs (lr 0.001 reaches about 85 %),
  batch 32. The noise is measured with N = 10 draws per eta on a fixed, seeded
  subset of 2,000 test images (the spread between draws, 10-17 points at
  eta >= 0.2, dwarfs the ~1 point sampling error of 2,000 images); a0 is always
  measured on the full test set. See the book's Method page.
- ``long``: the ``cpu`` profile trained 3x longer (60 epochs of the compressed step
  schedule): does a result of 20 epochs survive longer training? About 3x a ``cpu``
  run's training time (see ``benchmarks/RESULTS.md``).
- ``paper``: the full recipe of the book's Method page: 200 epochs, batch 32, N = 10.
"""

from __future__ import annotations

from dataclasses import dataclass

from .recipe import N_REPEATS, SCHEDULE_EPOCHS


@dataclass(frozen=True)
class Profile:
    name: str
    epochs: int
    n_repeats: int
    steps_per_epoch: int | None = None  # None: the whole training set each epoch
    train_samples: int | None = None    # None: all training images
    test_samples: int | None = None     # None: all test images
    synthetic_without_data: bool = False
    noise_test_samples: int | None = None  # None: the noise sweeps use every test image


PROFILES = {
    "smoke": Profile("smoke", epochs=1, n_repeats=2, steps_per_epoch=4, train_samples=512,
                     test_samples=256, synthetic_without_data=True),
    "fast": Profile("fast", epochs=30, n_repeats=5),
    "cpu": Profile("cpu", epochs=20, n_repeats=N_REPEATS, noise_test_samples=2000),
    "long": Profile("long", epochs=60, n_repeats=N_REPEATS, noise_test_samples=2000),
    "paper": Profile("paper", epochs=SCHEDULE_EPOCHS, n_repeats=N_REPEATS),
}
