"""Training one ResNet, epoch by epoch, as the book's Method page describes.

Each epoch trains on a freshly shuffled and augmented copy of the training set,
the epoch plan drawn from a generator seeded by (seed, epoch)
(``augmentation.epoch_plan``): an epoch is the same whether the run went
straight through or was resumed. A trainer (``trainers.make_trainer``: Keras
``fit`` or the fast JAX engine) runs the epoch at the scheduled learning rate
(``lr_at_epoch``, ``recipe.SCHEDULE``). After every
epoch the model (weights and optimizer state) is checkpointed atomically, so
an interrupted run resumes at the last finished epoch. A run whose loss
becomes NaN stops and is marked ``diverged``.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras

from .data import Dataset, Prepared, load_cifar
from .models import resnet_v1
from .progress import progress_bar
from .config import resolve_engine
from .recipe import OPTIMIZER_SETTINGS, SCHEDULE, SCHEDULE_EPOCHS
from .trainers import make_trainer


def lr_at_epoch(epoch: int, lr: float, epochs: int = SCHEDULE_EPOCHS) -> float:
    """Learning rate of 0-based ``epoch``: base lr for the first 80 of 200 epochs, then
    x0.1, x0.01, x1e-3 (from epoch 160) and x5e-4 (from 180). With ``epochs`` other
    than 200 the boundaries scale in proportion (epoch / epochs >= 80 / 200, ...)."""
    factor = 1.0
    for boundary, f in SCHEDULE:
        if epoch * SCHEDULE_EPOCHS >= boundary * epochs:
            factor = f
    return lr * factor


def make_optimizer(name: str, lr: float) -> keras.optimizers.Optimizer:
    """The Keras optimizer ``name`` of ``recipe.OPTIMIZER_SETTINGS`` at learning rate ``lr``."""
    if name not in OPTIMIZER_SETTINGS:
        raise ValueError(f"optimizer={name!r} is not one of {tuple(OPTIMIZER_SETTINGS)}")
    cls, settings = OPTIMIZER_SETTINGS[name]
    return getattr(keras.optimizers, cls)(lr, **settings)


def build_model(config, num_classes: int) -> keras.Model:
    """A compiled ResNet for ``config`` (seeded: same seed, same initial weights)."""
    keras.utils.set_random_seed(config.seed)
    # mixed_bfloat16: layers compute in bfloat16 and keep float32 weights (and the
    # optimizer state); the policy is set for this build only
    mixed = getattr(config, "mixed_precision", False)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16" if mixed else "float32")
    try:
        model = resnet_v1(config.depth, num_classes, batch_norm=config.batch_norm)
    finally:
        keras.config.set_dtype_policy(previous)
    model.compile(optimizer=make_optimizer(config.optimizer, config.lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    return model


def load_data(config) -> Dataset:
    """The dataset of a run, cut to the profile's subset sizes."""
    return load_cifar(config.dataset, config.data_dir).subset(config.train_samples,
                                                               config.test_samples)


# --------------------------------------------------------------------------
# checkpoints
# --------------------------------------------------------------------------

@dataclass
class RunPaths:
    """Where a run keeps its files: ``<results_dir>/<key>.*``."""
    results_dir: Path
    key: str

    @property
    def record(self) -> Path:
        return self.results_dir / f"{self.key}.json"

    @property
    def weights(self) -> Path:
        return self.results_dir / f"{self.key}.weights.h5"

    @property
    def checkpoint(self) -> Path:
        return self.results_dir / f"{self.key}.ckpt"


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def drop_optimizer_state(src: Path, dst: Path | None = None) -> Path:
    """Keras' ``.weights.h5`` file ``src`` without its optimizer group, written to ``dst``
    (default: ``src`` itself, replaced atomically). ``load_weights`` gives the same model
    from it; Adam's two moment arrays per weight, two thirds of the file, are gone (a
    ResNet20: 1.3 MB instead of 3.5). Resuming training reads the checkpoint instead."""
    import h5py   # a Keras dependency
    src, dst = Path(src), Path(dst or src)
    tmp = dst.with_name(f".{dst.name}.tmp")
    with h5py.File(src, "r") as f, h5py.File(tmp, "w") as g:
        g.attrs.update(dict(f.attrs))
        for name in f:
            if name != "optimizer":
                f.copy(f[name], g, name=name)
    os.replace(tmp, dst)
    return dst


def save_weights(model: keras.Model, path: Path) -> None:
    """The trained model's weights, ``<key>.weights.h5``, without the optimizer's state
    (``drop_optimizer_state``): what a noise reading or a user's own device model reads."""
    path = Path(path)
    tmp = path.with_name(f".{path.name[:-len('.weights.h5')]}.tmp.weights.h5")  # Keras wants the suffix
    model.save_weights(tmp)
    drop_optimizer_state(tmp, path)
    tmp.unlink()


def save_checkpoint(model: keras.Model, state: dict, folder: Path) -> None:
    """Model + optimizer state and the run state, each replaced atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / ".model.tmp.keras"
    model.save(tmp)
    os.replace(tmp, folder / "model.keras")
    _atomic_write_text(folder / "state.json", json.dumps(state, indent=1))


def load_checkpoint(folder: Path):
    """(model, state) from a checkpoint folder, or (None, None) if there is none."""
    if not (folder / "state.json").exists() or not (folder / "model.keras").exists():
        return None, None
    state = json.loads((folder / "state.json").read_text())
    return keras.saving.load_model(folder / "model.keras"), state


# --------------------------------------------------------------------------
# the training loop
# --------------------------------------------------------------------------

@dataclass
class TrainResult:
    model: keras.Model
    history: list = field(default_factory=list)   # one dict per finished epoch
    status: str = "completed"                     # or "diverged"
    diverged_at_epoch: int | None = None
    train_seconds: float = 0.0
    resumed_from_epoch: int = 0


def start_or_resume(config, paths: RunPaths, num_classes: int):
    """(TrainResult, checkpoint state) of a run: a fresh model, or the checkpointed one with
    its history; a finished run comes back with its status."""
    model, state = load_checkpoint(paths.checkpoint)
    if model is None:
        model = build_model(config, num_classes)
        state = {"epochs_done": 0, "history": [], "status": "running", "train_seconds": 0.0}
    result = TrainResult(model, list(state["history"]), resumed_from_epoch=state["epochs_done"],
                         train_seconds=state["train_seconds"])
    if state["status"] in ("completed", "diverged"):
        result.status, result.diverged_at_epoch = state["status"], state.get("diverged_at_epoch")
    return result, state


def epoch_size(config, n_train: int) -> tuple[int | None, int]:
    """(images per epoch, None for all; steps per epoch) of ``config`` on n_train images."""
    n = None if config.steps_per_epoch is None else config.steps_per_epoch * config.batch_size
    return n, math.ceil(min(n or n_train, n_train) / config.batch_size)


def set_epoch_lr(model: keras.Model, config, epoch: int) -> float:
    """Put the scheduled learning rate of ``epoch`` in the model's optimizer; return it."""
    lr = lr_at_epoch(epoch, config.lr, config.epochs)
    model.optimizer.learning_rate.assign(lr)
    return lr


def end_epoch(result: TrainResult, epochs: int, checkpoint: Path, epoch: int, lr: float,
              loss: float, acc: float, test_acc: float, seconds: float) -> dict:
    """Book a finished 0-based ``epoch``: its history row, divergence (a non-finite loss)
    and the checkpoint (model and run state); returns the run state."""
    row = {"epoch": epoch + 1, "lr": lr, "loss": loss, "accuracy": acc,
           "test_accuracy": test_acc, "seconds": seconds}
    result.history.append(row)
    result.train_seconds += seconds
    if not math.isfinite(loss):
        result.status, result.diverged_at_epoch = "diverged", epoch + 1
    state = {"epochs_done": epoch + 1, "history": result.history,
             "status": result.status if result.status == "diverged" else
             ("completed" if epoch + 1 == epochs else "running"),
             "diverged_at_epoch": result.diverged_at_epoch,
             "train_seconds": result.train_seconds}
    save_checkpoint(result.model, state, checkpoint)
    return state


def _on_steps(bar, epoch: int):
    """Advance the run's progress bar by k steps, showing the loss and accuracy when given."""
    def on_steps(k: int, logs=None):
        bar.update(k)
        if logs:
            bar.set_postfix(epoch=epoch + 1, loss=f"{logs.get('loss', float('nan')):.3f}",
                            acc=f"{logs.get('accuracy', float('nan')):.3f}", refresh=False)
    return on_steps


def train(config, data: Prepared, paths: RunPaths, callbacks=(), progress: bool = True) -> TrainResult:
    """Train (or resume, or reload if finished) the model of ``config`` on ``data``.

    ``config.engine`` (``resolve_engine``) picks the trainer (``trainers.make_trainer``):
    Keras ``fit`` or the fast JAX engine, which calls only ``on_epoch_begin`` and
    ``on_epoch_end`` of ``callbacks``."""
    result, state = start_or_resume(config, paths, data.num_classes)
    if state["status"] in ("completed", "diverged"):
        return result
    n, steps = epoch_size(config, len(data.y_train))
    start = state["epochs_done"]
    trainer = make_trainer(resolve_engine(getattr(config, "engine", "auto")), result.model,
                           data, config.batch_size, callbacks)
    bar = progress_bar(total=(config.epochs - start) * steps, desc=f"train {paths.key}",
                       unit="step", disable=not progress)
    try:
        for epoch in range(start, config.epochs):
            t0 = time.perf_counter()
            lr = set_epoch_lr(result.model, config, epoch)
            loss, acc = trainer.train_epoch(config.seed, epoch, n, on_steps=_on_steps(bar, epoch))
            test_acc = trainer.test_accuracy()
            _on_steps(bar, epoch)(0, {"loss": loss, "accuracy": acc})
            end_epoch(result, config.epochs, paths.checkpoint, epoch, lr, loss, acc, test_acc,
                      time.perf_counter() - t0)
            if result.status == "diverged":
                break
    finally:
        bar.close()
    return result
