"""Training one ResNet with Keras ``fit``, as the book's Method page describes.

Each epoch is one ``fit`` call over a freshly shuffled and augmented copy of
the training set, drawn from a generator seeded by (seed, epoch): an epoch is
the same whether the run went straight through or was resumed. After every
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
import numpy as np
from .data import Dataset, Prepared, augment, load_cifar
from .models import accuracy, resnet_v1
from .progress import progress_bar

OPTIMIZERS = {
    "adam": lambda lr: keras.optimizers.Adam(lr),
    "nadam": lambda lr: keras.optimizers.Nadam(lr),
    "adamax": lambda lr: keras.optimizers.Adamax(lr),
    "sgd": lambda lr: keras.optimizers.SGD(lr),
    "sgd_momentum": lambda lr: keras.optimizers.SGD(lr, momentum=0.9),
    "sgd_nesterov": lambda lr: keras.optimizers.SGD(lr, momentum=0.9, nesterov=True),
}

# The step schedule for 200 epochs (book, Method page): (first epoch of the step, LR factor).
SCHEDULE = ((80, 0.1), (120, 0.01), (160, 1e-3), (180, 5e-4))
SCHEDULE_EPOCHS = 200


def lr_at_epoch(epoch: int, lr: float, epochs: int = SCHEDULE_EPOCHS) -> float:
    """Learning rate of 0-based ``epoch``: base lr for the first 80 of 200 epochs, then
    x0.1, x0.01, x1e-3 (from epoch 160) and x5e-4 (from 180). With ``epochs`` other
    than 200 the boundaries scale in proportion (epoch / epochs >= 80 / 200, ...)."""
    factor = 1.0
    for boundary, f in SCHEDULE:
        if epoch * SCHEDULE_EPOCHS >= boundary * epochs:
            factor = f
    return lr * factor


# How a run is trained: Keras ``fit``, or the compiled JAX loop of ``helpers.engine``
# (same model, loss, optimizer, data order and augmentation; KERAS_BACKEND=jax only).
# "auto" is "fast" on the JAX backend and "fit" otherwise.
ENGINES = ("auto", "fit", "fast")


def resolve_engine(engine: str = "auto") -> str:
    """"fit" or "fast" for ``engine`` on the current Keras backend."""
    if engine not in ENGINES:
        raise ValueError(f"engine={engine!r} is not one of {ENGINES}")
    if engine == "auto":
        return "fast" if keras.config.backend() == "jax" else "fit"
    if engine == "fast" and keras.config.backend() != "jax":
        raise ValueError(f"engine='fast' needs KERAS_BACKEND=jax (backend is "
                         f"{keras.config.backend()!r}); accepted here: 'auto', 'fit'")
    return engine


def make_optimizer(name: str, lr: float) -> keras.optimizers.Optimizer:
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer={name!r} is not one of {tuple(OPTIMIZERS)}")
    return OPTIMIZERS[name](lr)


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


def epoch_arrays(x: np.ndarray, y: np.ndarray, seed: int, epoch: int, n: int | None = None):
    """Shuffled, augmented training arrays of one epoch (first n samples if given)."""
    rng = np.random.default_rng([seed, epoch])
    perm = rng.permutation(len(y))[:n]
    return augment(x[perm], rng), y[perm]


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

class _BatchProgress(keras.callbacks.Callback):
    """Advances one tqdm bar (the whole run) per batch, showing loss and accuracy."""

    def __init__(self, bar, epoch):
        super().__init__()
        self.bar, self.epoch = bar, epoch

    def on_train_batch_end(self, batch, logs=None):
        self.bar.update(1)
        if logs and batch % 50 == 0:
            self.bar.set_postfix(epoch=self.epoch + 1, loss=f"{logs.get('loss', float('nan')):.3f}",
                                 acc=f"{logs.get('accuracy', float('nan')):.3f}", refresh=False)


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


def train(config, data: Prepared, paths: RunPaths, callbacks=(), progress: bool = True) -> TrainResult:
    """Train (or resume, or reload if finished) the model of ``config`` on ``data``.

    ``config.engine`` (``resolve_engine``) picks Keras ``fit`` or the fast JAX engine
    (``helpers.engine``); the fast engine calls only ``on_epoch_begin``/``on_epoch_end``
    of ``callbacks``."""
    x_train, y_train, x_test, y_test = data.x_train, data.y_train, data.x_test, data.y_test
    result, state = start_or_resume(config, paths, data.num_classes)
    if state["status"] in ("completed", "diverged"):
        return result
    model = result.model

    n = None if config.steps_per_epoch is None else config.steps_per_epoch * config.batch_size
    steps = math.ceil(min(n or len(y_train), len(y_train)) / config.batch_size)
    start = state["epochs_done"]
    fast = resolve_engine(getattr(config, "engine", "auto")) == "fast"
    if fast:  # helpers.engine: the same training as fit, compiled per epoch (JAX only)
        from .engine import FastTrainer
        runner = FastTrainer(model, x_train, y_train, x_test, y_test, config.batch_size)
        for cb in callbacks:
            cb.set_model(model)
    bar = progress_bar(total=(config.epochs - start) * steps, desc=f"train {paths.key}",
                       unit="step", disable=not progress)
    try:
        for epoch in range(start, config.epochs):
            t0 = time.perf_counter()
            lr = lr_at_epoch(epoch, config.lr, config.epochs)
            model.optimizer.learning_rate.assign(lr)
            if fast:
                for cb in callbacks:
                    cb.on_epoch_begin(epoch)
                loss, acc = runner.train_epoch(config.seed, epoch, n, on_steps=bar.update)
                test_acc = runner.test_accuracy()
                bar.set_postfix(epoch=epoch + 1, loss=f"{loss:.3f}", acc=f"{acc:.3f}", refresh=False)
            else:
                xe, ye = epoch_arrays(x_train, y_train, config.seed, epoch, n)
                h = model.fit(xe, ye, batch_size=config.batch_size, epochs=1, shuffle=False,
                              verbose=0, callbacks=[keras.callbacks.TerminateOnNaN(),
                                                    _BatchProgress(bar, epoch), *callbacks])
                loss, acc = float(h.history["loss"][-1]), float(h.history["accuracy"][-1])
                test_acc = accuracy(model, x_test, y_test)
            row = {"epoch": epoch + 1, "lr": lr, "loss": loss, "accuracy": acc,
                   "test_accuracy": test_acc, "seconds": time.perf_counter() - t0}
            result.history.append(row)
            result.train_seconds += row["seconds"]
            if not math.isfinite(loss):
                result.status, result.diverged_at_epoch = "diverged", epoch + 1
            state = {"epochs_done": epoch + 1, "history": result.history,
                     "status": result.status if result.status == "diverged" else
                     ("completed" if epoch + 1 == config.epochs else "running"),
                     "diverged_at_epoch": result.diverged_at_epoch,
                     "train_seconds": result.train_seconds}
            save_checkpoint(model, state, paths.checkpoint)
            if fast:
                for cb in callbacks:
                    cb.on_epoch_end(epoch, row)
            if result.status == "diverged":
                break
    finally:
        bar.close()
    return result



# --------------------------------------------------------------------------
# several learning rates at once (fast engine)
# --------------------------------------------------------------------------

# What the models of one batch must share: everything but the learning rate (and
# what does not change the training: results and data folders, noise settings).
BATCH_SHARED = ("dataset", "depth", "optimizer", "epochs", "batch_size", "seed", "batch_norm",
                "steps_per_epoch", "train_samples", "mixed_precision")


def train_batched(configs, data: Prepared, paths_list, progress: bool = True,
                  vectorize: str = "vmap") -> list[TrainResult]:
    """``train`` for several runs that differ only in ``lr``, as one compiled program
    (``engine.BatchedTrainer``: a model axis, one batch of images for all).

    Each run keeps its own checkpoint folder, written after every epoch as ``train``
    writes it, so ``train(config, data, paths)`` afterwards finds it finished (or,
    interrupted, resumes it) and the notebook makes the record from it unchanged.
    A finished run is skipped; a diverged run stops at its epoch while the others go
    on. An epoch's ``seconds`` is the wall time of the shared epoch."""
    from .engine import BatchedTrainer, Evaluator

    configs, paths_list = list(configs), list(paths_list)
    if not configs or len(configs) != len(paths_list):
        raise ValueError(f"train_batched needs one RunPaths per config (got {len(configs)} "
                         f"configs and {len(paths_list)} paths)")
    for name in BATCH_SHARED:
        values = {getattr(c, name) for c in configs}
        if len(values) > 1:
            raise ValueError(f"train_batched: the configs differ in {name} ({sorted(map(str, values))}); "
                             f"only lr may differ within a batch (shared: {BATCH_SHARED})")
    if any(resolve_engine(getattr(c, "engine", "auto")) != "fast" for c in configs):
        raise ValueError("train_batched needs engine='fast' or 'auto' on KERAS_BACKEND=jax")

    results, states = [], []
    for config, paths in zip(configs, paths_list):
        r, state = start_or_resume(config, paths, num_classes=data.num_classes)
        results.append(r)
        states.append(state)

    c0 = configs[0]
    n = None if c0.steps_per_epoch is None else c0.steps_per_epoch * c0.batch_size
    steps = math.ceil(min(n or len(data.y_train), len(data.y_train)) / c0.batch_size)
    running = [i for i, s in enumerate(states) if s["status"] == "running"]
    if not running:
        return results
    start = min(states[i]["epochs_done"] for i in running)
    evaluator = Evaluator(results[running[0]].model, data.x_test, data.y_test)
    trainer, members = None, None
    bar = progress_bar(total=(c0.epochs - start) * steps, desc=f"train {len(running)} lrs",
                       unit="step", disable=not progress)
    try:
        for epoch in range(start, c0.epochs):
            # the runs at this epoch (a resumed run further on waits until the others catch up)
            active = [i for i in running if states[i]["epochs_done"] == epoch
                      and states[i]["status"] == "running"]
            if not active:
                continue
            if active != members:  # a new set of models: a new program
                trainer = BatchedTrainer([results[i].model for i in active], data.x_train,
                                         data.y_train, c0.batch_size, vectorize=vectorize)
                members = active
            t0 = time.perf_counter()
            lrs = [lr_at_epoch(epoch, configs[i].lr, configs[i].epochs) for i in active]
            for i, lr in zip(active, lrs):
                results[i].model.optimizer.learning_rate.assign(lr)
            metrics = trainer.train_epoch(c0.seed, epoch, n, on_steps=bar.update)
            test = [evaluator.evaluate([v.value for v in results[i].model.trainable_variables],
                                       [v.value for v in results[i].model.non_trainable_variables])[0]
                    for i in active]
            seconds = time.perf_counter() - t0
            for i, lr, (loss, acc), test_acc in zip(active, lrs, metrics, test):
                r = results[i]
                row = {"epoch": epoch + 1, "lr": lr, "loss": loss, "accuracy": acc,
                       "test_accuracy": test_acc, "seconds": seconds}
                r.history.append(row)
                r.train_seconds += seconds
                if not math.isfinite(loss):
                    r.status, r.diverged_at_epoch = "diverged", epoch + 1
                states[i] = {"epochs_done": epoch + 1, "history": r.history,
                             "status": r.status if r.status == "diverged" else
                             ("completed" if epoch + 1 == c0.epochs else "running"),
                             "diverged_at_epoch": r.diverged_at_epoch,
                             "train_seconds": r.train_seconds}
                save_checkpoint(r.model, states[i], paths_list[i].checkpoint)
    finally:
        bar.close()
    return results
