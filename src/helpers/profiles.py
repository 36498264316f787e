"""Run profiles: defaults for how long to train and how often to repeat the noise.

A profile sets defaults; a parameter given explicitly always wins.

- ``smoke``: seconds on a CPU. One epoch of a few steps, N = 2 noise repeats.
  Without ``data_dir`` it trains on a small synthetic dataset written in the
  real CIFAR format; with one it takes a small subset of the real data.
  Its numbers test the code path, never the science.
- ``fast``: the full data, 30 epochs (the PROTOCOL.md step schedule compressed
  to 30 epochs), batch 32, N = 5: a quick look at the real effect.
- ``paper``: PROTOCOL.md's defaults: 200 epochs, batch 32, N = 10.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    epochs: int
    n_repeats: int
    steps_per_epoch: int | None = None  # None: the whole training set each epoch
    train_samples: int | None = None    # None: all training images
    test_samples: int | None = None     # None: all test images
    synthetic_without_data: bool = False


PROFILES = {
    "smoke": Profile("smoke", epochs=1, n_repeats=2, steps_per_epoch=4, train_samples=512,
                     test_samples=256, synthetic_without_data=True),
    "fast": Profile("fast", epochs=30, n_repeats=5),
    "paper": Profile("paper", epochs=200, n_repeats=10),
}

# Size of the synthetic dataset the smoke profile writes when no data is given.
SYNTHETIC_SIZE = {"n_train": 512, "n_test": 256}
