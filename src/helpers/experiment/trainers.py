"""One epoch of training, two ways: Keras ``fit``, or the fast JAX engine.

``training.train`` drives a run epoch by epoch (learning rate, history,
checkpoints) and sees only the ``Trainer`` interface; ``make_trainer`` picks the
implementation once per run. Both train the same model on the same epoch plan
(``augmentation.epoch_plan``), so they differ in speed, not in what is trained
(``helpers.experiment.engine`` lists the deviations of the fast one).
"""

from __future__ import annotations

from typing import Callable, Protocol

import keras

from .augmentation import epoch_plan
from .data import Prepared
from .models import accuracy

# on_steps(k, logs=None): k more training steps are done (logs: loss and accuracy now)
OnSteps = Callable[..., None]


class Trainer(Protocol):
    """Trains one model epoch by epoch at its optimizer's current learning rate."""

    def train_epoch(self, seed: int, epoch: int, n: int | None = None,
                    on_steps: OnSteps | None = None) -> tuple[float, float]:
        """One epoch of the plan (seed, epoch, n); (loss, accuracy) as ``fit`` reports them."""

    def test_accuracy(self) -> float:
        """Top-1 accuracy of the model now on the test images."""


class _BatchProgress(keras.callbacks.Callback):
    """Reports each batch to ``on_steps`` (with the running loss every 50 batches)."""

    def __init__(self, on_steps: OnSteps):
        super().__init__()
        self.on_steps = on_steps

    def on_train_batch_end(self, batch, logs=None):
        self.on_steps(1, logs if batch % 50 == 0 else None)


class FitTrainer:
    """Keras ``fit``, one call per epoch, on the epoch plan applied with numpy.

    ``TerminateOnNaN`` stops an epoch at its first NaN batch; ``callbacks`` go to
    ``fit`` (which numbers each of its one-epoch calls as epoch 0)."""

    def __init__(self, model: keras.Model, data: Prepared, batch_size: int, callbacks=()):
        self.model, self.data, self.batch_size = model, data, int(batch_size)
        self.callbacks = list(callbacks)

    def epoch_arrays(self, seed: int, epoch: int, n: int | None = None):
        """The images and labels ``fit`` trains on in this epoch."""
        plan = epoch_plan(len(self.data.y_train), seed, epoch, n)
        return plan.apply(self.data.x_train, self.data.y_train)

    def train_epoch(self, seed: int, epoch: int, n: int | None = None,
                    on_steps: OnSteps | None = None) -> tuple[float, float]:
        x, y = self.epoch_arrays(seed, epoch, n)
        progress = [_BatchProgress(on_steps)] if on_steps is not None else []
        h = self.model.fit(x, y, batch_size=self.batch_size, epochs=1, shuffle=False, verbose=0,
                           callbacks=[keras.callbacks.TerminateOnNaN(), *progress,
                                      *self.callbacks])
        return float(h.history["loss"][-1]), float(h.history["accuracy"][-1])

    def test_accuracy(self) -> float:
        return accuracy(self.model, self.data.x_test, self.data.y_test)


class EpochCallbacks:
    """A trainer whose epochs run outside ``fit`` (``engine.FastTrainer``), with the Keras
    ``callbacks``' ``on_epoch_begin`` and ``on_epoch_end`` (logs: loss, accuracy) called
    around each epoch as ``fit`` calls them; per-batch callbacks are not called."""

    def __init__(self, trainer: Trainer, model: keras.Model, callbacks=()):
        self.trainer, self.callbacks = trainer, list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)

    def train_epoch(self, seed: int, epoch: int, n: int | None = None,
                    on_steps: OnSteps | None = None) -> tuple[float, float]:
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch)
        loss, acc = self.trainer.train_epoch(seed, epoch, n, on_steps=on_steps)
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, {"loss": loss, "accuracy": acc})
        return loss, acc

    def test_accuracy(self) -> float:
        return self.trainer.test_accuracy()


def make_trainer(engine: str, model: keras.Model, data: Prepared, batch_size: int,
                 callbacks=()) -> Trainer:
    """The trainer of ``engine`` ("fit" or "fast", as ``config.resolve_engine`` gives it)."""
    if engine == "fit":
        return FitTrainer(model, data, batch_size, callbacks)
    if engine == "fast":
        from .engine import FastTrainer  # imports JAX: only when it is asked for

        fast = FastTrainer(model, data.x_train, data.y_train, data.x_test, data.y_test, batch_size)
        return EpochCallbacks(fast, model, callbacks)
    raise ValueError(f"engine={engine!r} is not one of ('fit', 'fast')")
