"""Augmentation and the epoch plan: which images an epoch sees, shifted and flipped how.

The plan of epoch ``epoch`` is drawn from a numpy generator seeded by (seed, epoch)
(the permutation, then per image a vertical and a horizontal shift of up to
``MAX_SHIFT`` pixels and a flip with probability 1/2: the Keras example's
``width/height_shift_range=0.1``, nearest fill, ``horizontal_flip``), so an epoch
is the same whether a run went straight through or was resumed. Keras ``fit``
(``helpers.experiment.trainers.FitTrainer``) applies it with numpy (``EpochPlan.apply``);
the fast engine applies the same draws on the device (``shift_flip`` with
``xp=jax.numpy``), so both see bit-identical images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .recipe import FLIP_PROBABILITY, MAX_SHIFT


def shift_flip(x, dy, dx, flip, xp=np):
    """Shift each image by (dy, dx) pixels with nearest (edge) fill, then flip if asked.

    Works on numpy or jax.numpy arrays (``xp``); x is (B, H, W, C), dy/dx int (B,),
    flip bool (B,). Output pixel (r, c) reads input pixel (r - dy, c - dx), clipped
    to the image, i.e. the edge row/column fills the border.
    """
    b, h, w = x.shape[0], x.shape[1], x.shape[2]
    rows = xp.clip(xp.arange(h)[None, :] - dy[:, None], 0, h - 1)
    cols = xp.arange(w)[None, :]
    cols = xp.where(flip[:, None], w - 1 - cols, cols)
    cols = xp.clip(cols - dx[:, None], 0, w - 1)
    return x[xp.arange(b)[:, None, None], rows[:, :, None], cols[:, None, :]]



@dataclass(frozen=True)
class EpochPlan:
    """One epoch: image indices ``perm`` and per image the shifts ``dy``, ``dx`` and ``flip``."""

    perm: np.ndarray   # int32 (k,): which training images, in which order
    dy: np.ndarray     # int32 (k,): vertical shift in pixels
    dx: np.ndarray     # int32 (k,): horizontal shift in pixels
    flip: np.ndarray   # bool (k,): mirror left-right

    def apply(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The epoch's images (shifted and flipped, with numpy) and labels."""
        return shift_flip(x[self.perm], self.dy, self.dx, self.flip), y[self.perm]


def epoch_plan(n_samples: int, seed: int, epoch: int, n: int | None = None,
               augment: bool = True, max_shift: int = MAX_SHIFT) -> EpochPlan:
    """The plan of 0-based ``epoch`` over ``n_samples`` training images (the first ``n``
    of the permutation if given). ``augment=False`` keeps the draws (the order is the
    same) but applies no shift or flip."""
    rng = np.random.default_rng([seed, epoch])
    perm = rng.permutation(n_samples)[:n]
    k = len(perm)
    dy = rng.integers(-max_shift, max_shift + 1, k)
    dx = rng.integers(-max_shift, max_shift + 1, k)
    flip = rng.random(k) < FLIP_PROBABILITY
    if not augment:
        dy, dx, flip = np.zeros_like(dy), np.zeros_like(dx), np.zeros_like(flip)
    return EpochPlan(perm.astype(np.int32), dy.astype(np.int32), dx.astype(np.int32), flip)
