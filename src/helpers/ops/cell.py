"""One cell of the study, step by step: the body of ``notebooks/train.ipynb``.

A run trains one ResNet (``training.train``), sweeps Gaussian weight noise over the
paper's eta levels on a fixed test subset, with a0 on the full test set (eq. 4-9),
optionally repeats the sweep for the other noise readings (``noise_model.ABLATION``),
measures SGD's gradient noise C on the trained model (eq. 1-3, ``helpers.study.theory``)
and writes everything to one run record. The notebook calls these steps in order and
shows what they return; they print nothing and need no IPython (``helpers.ops.run_cell``
runs the notebook on machines without it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..experiment import data as data_mod
from ..experiment import metrics, models, noise, sweeps, training
from ..study import paper, results, theory
from ..study.words import plural
from ..book import plots
from ..experiment.config import PARAMETERS, TrainConfig, check_injected, make_config
from ..experiment.profiles import PROFILES


@dataclass(frozen=True)
class Setup:
    """What a run is before any work: its checked config, its key and its files."""
    config: TrainConfig
    fingerprint: str           # the data's identity (part of the key)
    key: str                   # ``results.run_key``
    paths: training.RunPaths
    environment: dict          # ``results.environment()`` as the run starts: its record's


@dataclass(frozen=True, eq=False)
class Sweep:
    """The noise sweep of eq. 4-9 (``table`` None: a diverged run, no sweep)."""
    table: pd.DataFrame | None  # long table of ``sweeps.noise_sweep``: eta, repeat, accuracy
    summary: pd.DataFrame | None  # A^x per eta (``metrics.summarize_sweep``)
    a0: float | None            # on the full test set
    A_avr: float | None
    A_avr_std: float | None     # spread over the repeats
    x: np.ndarray               # the test subset the sweeps use
    y: np.ndarray
    seconds: float

    def text(self, n_test: int) -> str:
        return (f"a0 = {100 * self.a0:.2f} % on {n_test} test images; noise sweeps on "
                f"{len(self.y)} of them (a0 there {100 * metrics.baseline(self.table):.2f} %)")


@dataclass(frozen=True)
class Ablation:
    """The record blocks of the other noise readings, by name ({} when not run)."""
    blocks: dict
    seconds: float

    def text(self) -> str:
        return "\n".join(f"{name:26s} A_avr = {100 * b['A_avr']:.2f} %"
                         for name, b in self.blocks.items())


def prepare(namespace: dict) -> Setup:
    """The run of the notebook's parameters (its globals): an unknown name or a bad
    value stops here, before any work (``config.check_injected``, ``make_config``).
    The environment (commit, code, versions) is taken here, once: the record names the
    code that started the run, even if the tree changes during a long one."""
    check_injected(namespace)
    config = make_config(**{name: namespace[name] for name in PARAMETERS})
    fingerprint = data_mod.fingerprint(config.dataset, config.data_dir)
    key = results.run_key(config.to_dict(), fingerprint)
    return Setup(config, fingerprint, key, training.RunPaths(Path(config.results_dir), key),
                 results.environment())


def load_data(setup: Setup) -> data_mod.Prepared:
    """The run's data, preprocessed as for training."""
    return data_mod.preprocess(training.load_data(setup.config))


def data_text(data) -> str:
    """Markdown: the data in one line, after a bold warning if it is synthetic."""
    text = (f"{data.source['label']}: {len(data.y_train)} training and {len(data.y_test)} "
            f"test images, {data.num_classes} classes")
    return f"**{results.SMOKE_NOTE}.**\n\n{text}" if data.source["synthetic"] else text


def train(setup: Setup, data) -> training.TrainResult:
    """Train (resuming from the last finished epoch; a NaN loss stops it as diverged)."""
    return training.train(setup.config, data, setup.paths)


def train_text(run) -> str:
    return (f"status: {run.status}; {len(run.history)} epochs, {run.train_seconds:.1f} s "
            "of training")


def sweep_noise(setup: Setup, data, run) -> Sweep:
    """Eq. 4-9 on the trained model: the sweep on the profile's fixed test subset
    (``noise_test_samples``), a0 on every test image."""
    config, t0 = setup.config, time.perf_counter()
    x, y = noise.test_subset(data.x_test, data.y_test, config.noise_test_samples)
    if run.status != "completed":
        return Sweep(None, None, None, None, None, x, y, time.perf_counter() - t0)
    sweep = sweeps.noise_sweep(run.model, x, y, config.noise_model, n_repeats=config.n_repeats,
                               seed=config.seed, engine=config.engine)
    a0 = metrics.baseline(sweep) if len(y) == len(data.y_test) else \
        models.accuracy(run.model, data.x_test, data.y_test)
    a_avr, a_avr_std = metrics.average_normalized_accuracy(sweep)
    return Sweep(sweep, metrics.summarize_sweep(sweep), a0, a_avr, a_avr_std, x, y,
                 time.perf_counter() - t0)


def sweep_ablation(setup: Setup, run, sweep: Sweep) -> Ablation:
    """The same sweep under every other reading of ``noise_model.ABLATION`` (when the config
    asks for it and the run has a sweep)."""
    config, t0 = setup.config, time.perf_counter()
    if not (config.noise_ablation and sweep.table is not None):
        return Ablation({}, time.perf_counter() - t0)
    blocks = {name: results.noise_block(s) for name, s in sweeps.ablation_sweeps(
        run.model, sweep.x, sweep.y, config.n_repeats, config.seed,
        skip=(config.noise_model,), engine=config.engine).items()}
    return Ablation(blocks, time.perf_counter() - t0)


def gradient_noise(setup: Setup, data, run) -> dict | None:
    """C and the minibatch gradient variance (eq. 1-3) on the first training images,
    as the profile says (``theory.settings``); None for a diverged run."""
    if run.status != "completed":
        return None
    config = setup.config
    n = min(theory.settings(config.profile)["n_examples"], len(data.y_train))
    return theory.measure(run.model, data.x_train[:n], data.y_train[:n],
                          **{**theory.settings(config.profile), "n_examples": n},
                          seed=config.seed)


def gradient_noise_text(setup: Setup, measured: dict) -> str:
    """C and the eq. 2 bound at this run's base LR and batch size."""
    c = setup.config
    bound = theory.noise_power_bound(c.lr, measured["C"], c.batch_size)
    return (f"C = {measured['C']:.4g}; alpha^2 C / |B| = {bound:.4g} at alpha = {c.lr:g}, "
            f"|B| = {c.batch_size} ({measured['seconds']:.1f} s, "
            f"{measured['n_examples']} images)")


def write_record(setup: Setup, data, run, sweep: Sweep, ablation: Ablation,
                 measured: dict | None) -> dict:
    """Save the weights beside the record, then write the run record (atomically)."""
    training.save_weights(run.model, setup.paths.weights)
    record = results.make_record(setup.config.to_dict(), setup.key,
                                 {**data.source, "fingerprint": setup.fingerprint}, run,
                                 sweep.table,
                                 {"noise_seconds": sweep.seconds,
                                  "ablation_seconds": ablation.seconds},
                                 a0=sweep.a0, env=setup.environment)
    record["noise_ablation"] = ablation.blocks or None
    record["theory"] = measured
    results.write_record(setup.paths.record, record)
    return record


def title(setup: Setup, data) -> str:
    c = setup.config
    return (f"ResNet{c.depth} {'' if c.batch_norm else 'without BN '}on "
            f"{data.source['label']}, {c.optimizer} lr = {c.lr:g}, seed {c.seed}, "
            f"{c.profile} profile")


def figures(setup: Setup, data, run, sweep: Sweep) -> list:
    """The training curves and, for a completed run, A^x against eta beside the
    values the paper quotes in its text (for the BN models it trained)."""
    c, synthetic = setup.config, data.source["synthetic"]
    figs = [plots.training_curves(run.history, title=title(setup, data), synthetic=synthetic)]
    if sweep.table is not None:
        in_text = paper.lookup("in_text", dataset=c.dataset, depth=c.depth, lr=c.lr,
                               optimizer=c.optimizer)
        figs.append(plots.noise_curve(sweep.summary, c.lr, title=title(setup, data),
                                      synthetic=synthetic,
                                      paper=None if c.batch_norm is False else in_text))
    return figs


def conclusion(setup: Setup, data, run, sweep: Sweep) -> str:
    """What the run says, in markdown: a0, A^x at eta = 10 %, A_avr beside the paper's
    Table III for its cell (Adam with BN), or that it diverged."""
    c = setup.config
    if sweep.table is None:
        text = (f"The run **diverged** at epoch {run.diverged_at_epoch} (NaN loss); it is "
                "recorded as diverged and has no noise sweep.")
    elif results.near_chance(sweep.a0, data.num_classes):
        text = (f"Baseline test accuracy a0 = {100 * sweep.a0:.2f} %, near chance (below "
                f"{results.NEAR_CHANCE:g} / K = {100 * results.NEAR_CHANCE / data.num_classes:.0f} % "
                f"for K = {data.num_classes} classes): the model learned too "
                "little for its noise resistance A^x = a^x / a0 to mean anything, so the "
                "analyses leave its A values out.")
    else:
        s = sweep.summary
        row10 = s.loc[(s["eta"] - 0.10).abs() < 1e-9]
        at10 = f"{100 * row10['A_x'].iloc[0]:.1f} %" if len(row10) else "n/a"
        ref = paper.lookup("table3", dataset=c.dataset, depth=c.depth, lr=c.lr)
        paper_epochs = PROFILES["paper"].epochs
        paper_txt = (f"; the paper's Table III gives "
                     f"{ref['avg_normalized_accuracy_pct'].iloc[0]:.2f} % for this cell, from "
                     f"one run of {paper_epochs} epochs. This is one training seed"
                     + (f" of {plural(c.epochs, 'epoch')}" if c.epochs != paper_epochs else "")
                     + ", so the two values are no test of the paper: the study's pages "
                     "compare cells over seeds, with intervals"
                     if len(ref) and c.optimizer == "adam" and c.batch_norm else "")
        text = (f"Baseline test accuracy a0 = {100 * sweep.a0:.2f} %. At eta = 10 % the model "
                f"keeps {at10} of it; averaged over the {len(s)} noise levels, "
                f"A_avr = {100 * sweep.A_avr:.2f} % (spread over the {c.n_repeats} repeats "
                f"{100 * sweep.A_avr_std:.2f} %){paper_txt}.")
    if data.source["synthetic"]:
        text += f" **{results.SMOKE_NOTE}: these numbers say nothing about the paper.**"
    return text
