"""The noise sweeps of a trained model on the run's engine.

``helpers.experiment.noise`` makes the draws and the table; how the noisy copies are
evaluated depends on the engine (``training.resolve_engine``): "fit" evaluates one
copy at a time with Keras ``predict`` (``noise.fit_noise_sweep``, any backend),
"fast" the N copies of each eta as one batched JAX program
(``engine.fast_noise_sweep``). Both give the same table for the same seed. The
choice is made here, so that ``noise`` imports neither ``training`` nor ``engine``.
"""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd

from .noise import fit_noise_sweep
from .noise_model import ABLATION, PAPER, NoiseModel
from .recipe import N_REPEATS, PAPER_ETAS
from .training import resolve_engine


def noise_sweep(model: keras.Model, x: np.ndarray, y: np.ndarray,
                noise_model: NoiseModel = PAPER, etas=PAPER_ETAS, n_repeats: int = N_REPEATS,
                seed: int = 0, batch_size: int = 1000, progress: bool = True,
                engine: str = "auto") -> pd.DataFrame:
    """The long table (eta, repeat, accuracy, nonfinite) of ``noise.sweep_table`` for
    ``noise_model``; ``engine``: "fit", "fast" (JAX) or "auto" (fast on JAX)."""
    if resolve_engine(engine) == "fast":
        from .engine import fast_noise_sweep  # imports JAX: only when it is the engine

        return fast_noise_sweep(model, x, y, noise_model, etas, n_repeats, seed, batch_size,
                                progress)
    return fit_noise_sweep(model, x, y, noise_model, etas, n_repeats, seed, batch_size,
                           progress)


def ablation_sweeps(model: keras.Model, x: np.ndarray, y: np.ndarray, n_repeats: int,
                    seed: int = 0, skip: tuple = (), progress: bool = True,
                    engine: str = "auto") -> dict:
    """noise model name -> its sweep, for every noise model of ``noise_model.ABLATION`` not in
    ``skip`` (NoiseModel values, e.g. the run's own, already swept)."""
    if not all(isinstance(m, NoiseModel) for m in skip):
        raise TypeError(f"skip={skip!r}: give NoiseModel values (NoiseModel.from_name(name) "
                        "for a name)")
    return {m.name: noise_sweep(model, x, y, m, n_repeats=n_repeats, seed=seed,
                                progress=progress, engine=engine)
            for m in ABLATION if m not in skip}
