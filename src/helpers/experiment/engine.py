"""The fast JAX engine: training and noise sweeps as a few compiled programs.

Keras ``fit`` drives every step from Python: one jitted call, one host-to-device
copy of the batch and one round of callbacks per batch of 32. Here, with
``KERAS_BACKEND=jax``, the same Keras model is trained by

- ``model.stateless_call`` + ``optimizer.stateless_apply`` under ``jax.jit``;
- one ``jax.lax.scan`` over all the full batches of an epoch (or over chunks of
  ``chunk_steps`` steps), the training set on the device (``loop="scan"``, the
  default on accelerators). On a CPU, XLA runs convolutions inside a loop ~20x
  slower (jax-ml/jax#12868), so there the default is ``loop="unroll"``: blocks
  of 8 steps unrolled into one program, looped over from the host;
- augmentation (shift with nearest fill, horizontal flip) as tensor ops on the
  device (``helpers.experiment.augmentation.shift_flip`` with ``xp=jax.numpy``).

What it trains is what ``helpers.experiment.training`` trains with ``fit``:

- the same loss: the compiled loss (mean sparse cross-entropy) plus the sum of
  the regularization losses (L2 1e-4 on every kernel), summed as Keras'
  ``Trainer.compute_loss`` sums them; the same optimizer object and state, the
  learning rate set per epoch (``training.lr_at_epoch``) in its variable;
- the same data order and augmentation: the epoch plan of ``fit``
  (``augmentation.epoch_plan``: the permutation and the per-image shifts/flips,
  drawn on the host from a generator seeded by (seed, epoch)); only its
  application runs on the device, so an epoch of the fast engine sees
  bit-identical images to an epoch of ``fit`` (a few integers per image cross
  to the device, not the images);
- the same epoch metrics: loss and accuracy averaged over the epoch's images as
  Keras' metric trackers average them;
- the last partial batch (when the epoch's image count is not a multiple of the
  batch size, e.g. 50,000 / 32) is one extra step of the smaller size, exactly
  as ``fit`` does it (no padding: padded images would enter the BN batch
  statistics); it costs one extra compilation.

Deviations: no per-batch Keras callbacks (only ``on_epoch_begin`` /
``on_epoch_end`` are called); a NaN loss does not stop the epoch early (fit's
``TerminateOnNaN`` stops at the batch), the epoch's loss is NaN all the same and
the run is recorded as diverged at the same epoch.

``fast_noise_sweep`` evaluates all N noisy copies of one noise level as one
batched program (``jax.vmap`` over the draws), the test set on the device and
large evaluation batches. The draws are those of ``helpers.experiment.noise`` (numpy
generators ``draw_rng(seed, eta, repeat)``, made on the host while the device
evaluates the previous level), so the noisy weights are bit-identical to the
plain path's.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pandas as pd
from keras import ops

from . import noise as noise_mod
from .augmentation import epoch_plan, shift_flip
from .recipe import BATCH_SIZE, N_REPEATS


LOOPS = ("auto", "scan", "unroll")
UNROLL_STEPS = 8


def _require_jax() -> None:
    if keras.config.backend() != "jax":
        raise RuntimeError(f"the fast engine needs KERAS_BACKEND=jax (backend is "
                           f"{keras.config.backend()!r}); use engine='fit'")


def _donate() -> tuple:
    # buffer donation saves a copy of the state per call; the CPU client ignores it
    # with a warning, so it is asked for only on accelerators
    return (0,) if jax.default_backend() != "cpu" else ()


# --------------------------------------------------------------------------
# evaluation on the device
# --------------------------------------------------------------------------

class Evaluator:
    """Top-1 accuracy and non-finite fraction of a model's outputs on a fixed test
    set kept on the device, in batches of ``batch_size`` (the last one padded and
    masked: inference BN is per image, so padding changes nothing)."""

    def __init__(self, model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int = 1000):
        _require_jax()
        self.model, self.n = model, len(y)
        b = max(1, min(int(batch_size), self.n))
        nb = math.ceil(self.n / b)
        pad = nb * b - self.n
        xp = np.concatenate([np.asarray(x, np.float32), np.zeros((pad, *x.shape[1:]), np.float32)])
        yp = np.concatenate([np.asarray(y).reshape(-1).astype(np.int32), np.zeros(pad, np.int32)])
        mask = np.arange(nb * b) < self.n
        self.x = jnp.asarray(xp.reshape(nb, b, *x.shape[1:]))
        self.y = jnp.asarray(yp.reshape(nb, b))
        self.mask = jnp.asarray(mask.reshape(nb, b))
        self._counts = jax.jit(self._counts_fn)
        self._batched = {}

    def _counts_fn(self, tv, ntv, x, y, mask):
        def body(_, batch):
            xb, yb, mb = batch
            p, _ = self.model.stateless_call(tv, ntv, xb, training=False)
            correct = jnp.sum((jnp.argmax(p, axis=-1) == yb) & mb)
            bad = jnp.sum(~jnp.all(jnp.isfinite(p), axis=-1) & mb)
            return None, (correct, bad)

        _, (c, b) = jax.lax.scan(body, None, (x, y, mask))
        return jnp.sum(c), jnp.sum(b)

    def state(self):
        return ([v.value for v in self.model.trainable_variables],
                [v.value for v in self.model.non_trainable_variables])

    def counts(self, tv=None, ntv=None):
        """(correct, nonfinite) counts as device scalars (not waited for)."""
        if tv is None:
            tv, ntv = self.state()
        return self._counts(tv, ntv, self.x, self.y, self.mask)

    def evaluate(self, tv=None, ntv=None) -> tuple[float, float]:
        """(accuracy, nonfinite fraction), as ``models.evaluate`` returns them."""
        c, b = self.counts(tv, ntv)
        return int(c) / self.n, int(b) / self.n

    def batched_counts(self, positions, stacks, vectorize: str = "vmap"):
        """Counts for K weight sets at once: ``stacks[j]`` (K, ...) replaces the variable at
        ``positions[j]`` = ("t" | "n", index); returns device arrays (K,), (K,)."""
        key = (tuple(positions), vectorize)
        if key not in self._batched:
            def fn(tv, ntv, stacks, x, y, mask):
                def one(noised):
                    tv2, ntv2 = list(tv), list(ntv)
                    for (kind, i), w in zip(positions, noised):
                        (tv2 if kind == "t" else ntv2)[i] = w
                    return self._counts_fn(tv2, ntv2, x, y, mask)
                if vectorize == "vmap":
                    return jax.vmap(one)(stacks)
                return jax.lax.map(one, stacks)
            self._batched[key] = jax.jit(fn)
        tv, ntv = self.state()
        return self._batched[key](tv, ntv, stacks, self.x, self.y, self.mask)


# --------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------

class FastTrainer:
    """Trains a compiled Keras model (``training.build_model``) epoch by epoch on the
    device. ``train_epoch`` reads the model's variables (weights, BN statistics,
    optimizer state with its learning rate), runs the epoch and writes them back,
    so the Keras model is always the trained one between epochs."""

    def __init__(self, model: keras.Model, x_train: np.ndarray, y_train: np.ndarray,
                 x_test: np.ndarray | None = None, y_test: np.ndarray | None = None,
                 batch_size: int = BATCH_SIZE, loop: str = "auto", chunk_steps: int | None = None,
                 augment: bool = True, eval_batch: int = 1000):
        _require_jax()
        if loop not in LOOPS:
            raise ValueError(f"loop={loop!r} is not one of {LOOPS}")
        if loop == "auto":
            loop = "unroll" if jax.default_backend() == "cpu" else "scan"
        self.model, self.batch_size, self.augment, self.loop = model, int(batch_size), augment, loop
        # steps per compiled call: scan: the whole epoch unless given; unroll: 8
        self.chunk_steps = chunk_steps or (UNROLL_STEPS if loop == "unroll" else None)
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        self.x = jnp.asarray(np.asarray(x_train, np.float32))
        self.y = jnp.asarray(np.asarray(y_train).reshape(-1).astype(np.int32))
        self.n_train = len(y_train)
        self.evaluator = None if x_test is None else Evaluator(model, x_test, y_test, eval_batch)
        run_fn = self._scan_fn if loop == "scan" else self._unrolled_fn
        self._run = jax.jit(run_fn, donate_argnums=_donate())

    # one step and one scan -------------------------------------------------
    def _loss_fn(self, tv, ntv, x, y):
        model = self.model
        y_pred, ntv, losses = model.stateless_call(tv, ntv, x, training=True, return_losses=True)
        # Trainer.compute_loss: [compiled loss] + [sum of each extra loss], summed
        terms = [model.loss(y, y_pred)] + [ops.sum(l) for l in losses]
        loss = terms[0] if len(terms) == 1 else ops.sum(terms)
        return loss, (y_pred, ntv)

    def _step(self, state, batch, x_all, y_all):
        tv, ntv, ov, (loss_sum, correct, count) = state
        idx, dy, dx, flip = batch
        x = shift_flip(jnp.take(x_all, idx, axis=0), dy, dx, flip, xp=jnp)
        y = jnp.take(y_all, idx, axis=0)
        (loss, (y_pred, ntv)), grads = jax.value_and_grad(self._loss_fn, has_aux=True)(
            tv, ntv, x, y)
        tv, ov = self.model.optimizer.stateless_apply(ov, grads, tv)
        b = idx.shape[0]
        hits = ops.cast(jnp.argmax(y_pred, axis=-1) == y, "float32")
        # Keras' Mean trackers: total += value * batch size; count += batch size
        metrics = (loss_sum + loss * b, correct + ops.sum(hits), count + b)
        return (tv, ntv, ov, metrics)

    def _scan_fn(self, state, x_all, y_all, idx, dy, dx, flip):
        def body(carry, batch):
            return self._step(carry, batch, x_all, y_all), None

        state, _ = jax.lax.scan(body, state, (idx, dy, dx, flip))
        return state

    def _unrolled_fn(self, state, x_all, y_all, idx, dy, dx, flip):
        for i in range(idx.shape[0]):  # traced k times: one straight-line program
            state = self._step(state, (idx[i], dy[i], dx[i], flip[i]), x_all, y_all)
        return state

    # an epoch ----------------------------------------------------------------
    def _run_plan(self, state, plan, on_steps=None):
        """Run one epoch plan through the compiled program, a chunk of k steps at a time."""
        for start, k, b in self._segments(len(plan.perm)):
            sl = slice(start, start + k * b)
            state = self._run(state, self.x, self.y, *(a[sl].reshape(k, b) for a in
                                                       (plan.perm, plan.dy, plan.dx, plan.flip)))
            if on_steps is not None:
                on_steps(k)
        return state

    def _segments(self, m: int):
        """(start, steps, batch) of the compiled calls that cover m images."""
        b = self.batch_size
        full, rem = divmod(m, b)
        chunk = max(1, full if not self.chunk_steps else min(self.chunk_steps, full))
        out, s = [], 0
        while s < full:
            # unroll: the steps left after the last whole chunk run one by one (a program
            # of one step), not as a third program size to compile
            k = chunk if full - s >= chunk else (full - s if self.loop == "scan" else 1)
            out.append((s * b, k, b))
            s += k
        if rem:
            out.append((full * b, 1, rem))
        return out

    def train_epoch(self, seed: int, epoch: int, n: int | None = None, on_steps=None):
        """One epoch (images ``augmentation.epoch_plan(seed, epoch, n)``) at the
        optimizer's current learning rate. Returns (loss, accuracy) as ``fit``'s history
        reports them; ``on_steps(k)`` is called after each compiled chunk of k steps."""
        model = self.model
        plan = epoch_plan(self.n_train, seed, epoch, n, self.augment)
        tv = [v.value for v in model.trainable_variables]
        ntv = [v.value for v in model.non_trainable_variables]
        ov = [v.value for v in model.optimizer.variables]
        # three buffers, not one thrice: a donated state may not hold a buffer twice
        state = (tv, ntv, ov, tuple(jnp.zeros((), jnp.float32) for _ in range(3)))
        state = self._run_plan(state, plan, on_steps)
        tv, ntv, ov, (loss_sum, correct, count) = state
        for v, a in zip(model.trainable_variables, tv):
            v.assign(a)
        for v, a in zip(model.non_trainable_variables, ntv):
            v.assign(a)
        for v, a in zip(model.optimizer.variables, ov):
            v.assign(a)
        return float(loss_sum / count), float(correct / count)

    def test_accuracy(self) -> float:
        return self.evaluator.evaluate()[0]


# --------------------------------------------------------------------------
# the noise sweep
# --------------------------------------------------------------------------

VECTORIZE = ("auto", "vmap", "map")


def batched_copies(ev: Evaluator, variables: list, draws, vectorize: str = "vmap"):
    """The fast evaluator of noisy copies (``noise.sweep_table``): the K copies of
    ``draws`` stacked per variable and their counts dispatched as one batched program
    (not waited for); returns the function that waits and gives [(accuracy, nonfinite)]."""
    where = {id(v): ("t", i) for i, v in enumerate(ev.model.trainable_variables)}
    where.update({id(v): ("n", i) for i, v in enumerate(ev.model.non_trainable_variables)})
    copies = list(draws)
    stacks = [jnp.asarray(np.stack([c[j] for c in copies])) for j in range(len(variables))]
    del copies
    c, b = ev.batched_counts([where[id(v)] for v in variables], stacks, vectorize)

    def result():
        return [(int(ci) / ev.n, int(bi) / ev.n) for ci, bi in zip(np.asarray(c), np.asarray(b))]
    return result


def fast_noise_sweep(model: keras.Model, x: np.ndarray, y: np.ndarray,
                     noise_model: noise_mod.NoiseModel = noise_mod.PAPER,
                     etas=noise_mod.PAPER_ETAS, n_repeats: int = N_REPEATS, seed: int = 0,
                     batch_size: int = 1000, progress: bool = True, vectorize: str = "auto",
                     evaluator: Evaluator | None = None) -> pd.DataFrame:
    """``noise.fit_noise_sweep`` with the N noisy copies of each eta evaluated as one
    batched program (``vectorize``: "vmap" over the draws, or "map": a compiled loop over
    them; "auto": map on a CPU, where XLA runs the vmapped (grouped) convolutions ~10x
    slower than N plain ones, vmap elsewhere). Same draws, same table."""
    _require_jax()
    if vectorize not in VECTORIZE:
        raise ValueError(f"vectorize={vectorize!r} is not one of {VECTORIZE}")
    if vectorize == "auto":
        vectorize = "map" if jax.default_backend() == "cpu" else "vmap"
    ev = evaluator or Evaluator(model, x, y, batch_size)
    return noise_mod.sweep_table(model, ev.evaluate,
                                 partial(batched_copies, ev, vectorize=vectorize),
                                 noise_model, etas, n_repeats, seed, progress)
