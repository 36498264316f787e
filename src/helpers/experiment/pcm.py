"""A phase-change-memory (PCM) device reading of a trained model, through IBM's aihwkit.

The Gaussian readings (``helpers.experiment.noise``) ask what noise of ``eta * sigma_w`` does; this
one asks what a PCM chip does, with aihwkit's statistical PCM model (``PCMLikeNoiseModel``,
fitted to measured devices: programming noise that depends on the target conductance,
drift ``g(t) = g_prog (t / t_0)^-nu``, 1/f read noise) and its global drift compensation
(``GlobalDriftCompensation``). Nothing of the device model is re-implemented here:

1. BN is folded into the convolutions (``noise.noise_targets`` of the ``folded`` reading):
   a device stores the folded kernels.
2. Each kernel (Conv2D or Dense) is one crossbar: its matrix (out x in, aihwkit's layout)
   is programmed with ``noise_model.apply_programming_noise`` (aihwkit's default converter,
   one pair of devices per weight, ``g_max`` = 25 uS), which also draws the drift
   exponents ``nu`` of that chip.
3. At each time t the same programmed chip is drifted and read
   (``noise_model.apply_drift_noise``), as aihwkit's ``InferenceTile.drift_weights`` does.
4. Global drift compensation, as aihwkit's inference tile applies it: a reference read
   right after programming (the tile's read-out of the identity, i.e. the weights
   themselves, ``GlobalDriftCompensation.readout``: mean |W|) and one at t give
   ``alpha = ref / read(t)`` (``GlobalDriftCompensation.apply``); aihwkit multiplies the
   tile's outputs by alpha, which for a linear layer is the same as multiplying its
   weights by alpha, as done here. Biases are digital by default (aihwkit's
   ``MappingParameter.digital_bias = True``): exact and not scaled; with
   ``analog_bias=True`` each bias is a column of its crossbar (aihwkit's combined weights).

Not modelled: the split of a crossbar larger than 512 x 512 into tiles, and the
periphery (DAC/ADC quantization, output noise) of aihwkit's inference tiles.

aihwkit and torch are an optional extra (``pip install -e ".[analog]"``): they are
imported inside the functions that need them, and ``load_sweeps`` and the summaries
need only pandas, so the book builds from committed sweep files without them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .noise_model import NoiseModel

EXTRA = 'pip install -e ".[analog]"'
READING = "pcm"
SUFFIX = ".pcm.json"          # a run's PCM sweep: <key>.pcm.json beside <key>.json
# t = 1 s: just after programming (drift over 1 s is < 0.5 %); 1 hour, 1 day, 1 year
TIMES = (1.0, 3600.0, 86400.0, 31536000.0)
TIME_LABELS = {1.0: "1 s", 3600.0: "1 h", 86400.0: "1 day", 31536000.0: "1 year"}
N_DRAWS = 5


class MissingExtraError(ImportError):
    """The PCM reading was asked for without aihwkit and torch installed."""


def require_aihwkit():
    """(aihwkit, torch), or a clear error naming the extra that installs them."""
    try:
        import aihwkit
        import torch
    except ImportError as e:
        raise MissingExtraError(
            f"the pcm reading needs IBM's aihwkit 1.1.0 and torch ({e.name} is not "
            f"installed); install the project's analog extra: {EXTRA}") from e
    return aihwkit, torch


def device(g_max: float | None = None, compensation: bool = True, noise_model=None):
    """(noise model, drift compensation or None): ``noise_model`` (an aihwkit noise model)
    or ``PCMLikeNoiseModel`` with aihwkit's defaults (g_max None: its default converter,
    ``SinglePairConductanceConverter``, 25 uS)."""
    require_aihwkit()
    from aihwkit.inference import GlobalDriftCompensation, PCMLikeNoiseModel

    return (noise_model or PCMLikeNoiseModel(g_max=g_max),
            GlobalDriftCompensation() if compensation else None)


def settings(noise_model, compensation, analog_bias: bool = False) -> dict:
    """What a sweep used, for its file: aihwkit's version and the device's parameters."""
    aihwkit, torch = require_aihwkit()
    conv = noise_model.g_converter
    return {"aihwkit": aihwkit.__version__, "torch": torch.__version__,
            "noise_model": type(noise_model).__name__, "g_max_uS": float(noise_model.g_max),
            "converter": str(conv), "prog_coeff": [float(c) for c in noise_model.prog_coeff],
            "t_0_s": float(noise_model.t_0), "t_read_s": float(noise_model.t_read),
            "scales": {k: float(getattr(noise_model, k, 1.0)) for k in
                       ("prog_noise_scale", "read_noise_scale", "drift_scale")},
            "drift_compensation": None if compensation is None else str(compensation),
            "bias": "analog" if analog_bias else "digital",
            "bn": "folded into the convolutions", "tiling": "one crossbar per kernel"}


# --------------------------------------------------------------------------
# one chip: program, drift, read, compensate
# --------------------------------------------------------------------------

def crossbars(model) -> tuple[list, list, list]:
    """(variables, base arrays, crossbars) of the folded model: ``noise_targets`` of the
    ``folded`` reading, and per kernel a pair (kernel index, bias index or None)."""
    from .noise import layer_of, noise_targets   # imports Keras

    variables, base, sigmas = noise_targets(model, NoiseModel(scope="folded"))
    biases = {layer_of(v): i for i, v in enumerate(variables)
              if v.path.endswith("bias") and sigmas[i] is not None}
    pairs = [(i, biases.get(layer_of(v))) for i, v in enumerate(variables)
             if v.path.endswith("kernel")]
    return variables, base, pairs


def to_matrix(kernel: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """A Keras kernel (kh, kw, in, out) or (in, out) as a crossbar matrix (out x in),
    with the bias as its last column when given (aihwkit's combined weights)."""
    m = kernel.reshape(-1, kernel.shape[-1]).T
    return m if bias is None else np.concatenate([m, bias[:, None]], axis=1)


def from_matrix(matrix: np.ndarray, kernel_shape, with_bias: bool):
    """(kernel, bias or None) back from ``to_matrix``."""
    w, b = (matrix[:, :-1], matrix[:, -1]) if with_bias else (matrix, None)
    return w.T.reshape(kernel_shape), b


def chip(matrices: list[np.ndarray], noise_model, compensation, times, seed: int):
    """One programmed chip read at each of ``times``: for each time, the list of read
    matrices (drift-compensated when ``compensation``) and the alphas. Seeded: the same
    seed gives the same chip; torch's global generator is left as it was."""
    _, torch = require_aihwkit()
    out = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        programmed = []
        for m in matrices:
            w_prog, nu = noise_model.apply_programming_noise(torch.from_numpy(m.astype(np.float32)))
            ref = None if compensation is None else compensation.readout(w_prog)
            programmed.append((w_prog, nu, ref))
        for t in times:
            read, alphas = [], []
            for w_prog, nu, ref in programmed:
                w_t = noise_model.apply_drift_noise(w_prog, nu, float(t))
                alpha = 1.0 if ref is None else float(compensation.apply(w_t, ref))
                read.append((alpha * w_t).numpy().astype(np.float32))
                alphas.append(alpha)
            out.append((read, alphas))
    return out


def draw_seed(seed: int, draw: int) -> int:
    """torch seed of chip ``draw`` of a sweep seeded ``seed``."""
    return int(np.random.SeedSequence([int(seed), int(draw)]).generate_state(1)[0])


def chip_arrays(base: list, pairs: list, reads: list, analog_bias: bool) -> list:
    """The model's arrays with every crossbar replaced by its read (biases stay exact
    when digital)."""
    arrays = list(base)
    for (k, b), m in zip(pairs, reads):
        with_bias = analog_bias and b is not None
        kernel, bias = from_matrix(m, base[k].shape, with_bias)
        arrays[k] = kernel
        if with_bias:
            arrays[b] = bias
    return arrays


# --------------------------------------------------------------------------
# the sweep
# --------------------------------------------------------------------------

def check_times(times) -> tuple:
    """``times`` as sorted floats; a clear error unless all are > 0 seconds."""
    ts = tuple(float(t) for t in times)
    if not ts or any(not np.isfinite(t) or t <= 0 for t in ts):
        raise ValueError(f"times={times!r}: give seconds after programming, each > 0 "
                         f"(aihwkit's model needs t > 0; e.g. {TIMES})")
    return tuple(sorted(set(ts)))


def pcm_sweep(model, x: np.ndarray, y: np.ndarray, times=TIMES, n_draws: int = N_DRAWS,
              seed: int = 0, g_max: float | None = None, compensation: bool = True,
              analog_bias: bool = False, batch_size: int = 1000, noise_model=None) -> dict:
    """The PCM reading of ``model`` on (x, y): a0, then ``n_draws`` chips, each read at
    every time of ``times`` (seconds after programming); accuracy and A^t = a^t / a0.

    Returns a JSON-ready dict: ``times_s``, ``accuracy`` and ``nonfinite`` (one list
    of ``n_draws`` values per time), ``alpha`` (per time and draw, the mean drift
    compensation factor over the crossbars), ``A_t`` (per time, mean over draws),
    ``A_avr`` (mean of A_t over the times), ``a0``, ``n_test``, ``seed`` and the
    device ``settings``. ``noise_model``: another aihwkit noise model (tests). The
    model's weights are restored bit-exactly."""
    from .models import evaluate
    from .noise import assigned

    ts = check_times(times)
    if int(n_draws) < 1:
        raise ValueError(f"n_draws={n_draws!r}: give at least 1 chip per time")
    noise_model, comp = device(g_max, compensation, noise_model)
    t0 = time.perf_counter()
    a0, bad0 = evaluate(model, x, y, batch_size)
    variables, base, pairs = crossbars(model)
    matrices = [to_matrix(base[k], base[b] if analog_bias and b is not None else None)
                for k, b in pairs]
    acc = [[None] * n_draws for _ in ts]
    bad = [[None] * n_draws for _ in ts]
    alpha = [[None] * n_draws for _ in ts]
    for r in range(n_draws):
        for i, (reads, alphas) in enumerate(chip(matrices, noise_model, comp, ts,
                                                 draw_seed(seed, r))):
            with assigned(variables, chip_arrays(base, pairs, reads, analog_bias)):
                acc[i][r], bad[i][r] = evaluate(model, x, y, batch_size)
            alpha[i][r] = float(np.mean(alphas))
    a_t = [float(np.mean(a)) / a0 if a0 > 0 else None for a in acc]
    return {"reading": READING, "times_s": list(ts), "n_draws": int(n_draws), "seed": int(seed),
            "n_test": int(len(y)), "a0": a0, "a0_nonfinite": bad0, "accuracy": acc,
            "nonfinite": bad, "alpha": alpha, "A_t": a_t,
            "A_avr": None if None in a_t else float(np.mean(a_t)),
            "settings": settings(noise_model, comp, analog_bias),
            "seconds": time.perf_counter() - t0}


def sweep_path(record_path: str | Path) -> Path:
    """Where the PCM sweep of the run recorded at ``record_path`` (<key>.json) lives."""
    p = Path(record_path)
    return p.with_name(p.name.removesuffix(".json") + SUFFIX)


def write_sweep(record_path: str | Path, sweep: dict, key: str | None = None) -> Path:
    """Write ``sweep`` beside its record (atomically); ``key``: the record's run key."""
    path = sweep_path(record_path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps({"key": key or Path(record_path).stem, **sweep}, indent=1,
                              allow_nan=False) + "\n")
    tmp.replace(path)
    return path
