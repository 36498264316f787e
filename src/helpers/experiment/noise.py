"""Analog-noise injection into a trained model's weights (paper eq. 4-6).

Each selected weight array ``w`` becomes ``w + n`` with ``n ~ N(0, sigma_noise^2)``
and ``sigma_noise = eta * sigma_w``, where ``sigma_w`` is the standard deviation
of that array (``granularity="array"``, the default) or of all selected arrays
of its layer pooled (``"layer"``). ``scope`` picks the arrays: ``"all"`` (every
weight of every layer, BN moving statistics included: the paper's "all the
model weights"), ``"trainable"``, ``"kernels"``, or ``"folded"``: every batch
normalization is first folded into the convolution before it (kernel
``W * s``, bias ``(b - mean) * s + beta``, ``s = gamma / sqrt(var + eps)``), the
way inference hardware maps BN, and the noise goes on the folded kernels and
biases and on the other trainable arrays (the BN layers become the identity).
``"bn_means"`` puts the noise on the BN moving means only. A reading with a
``variance_floor`` clips each noisy BN moving variance from below at that floor
(the same draws as without it; ``floored``), so no draw can take the square root of
a negative variance.
``kind="multiplicative"`` is an ablation: ``w * (1 + eta * e)`` with ``e ~ N(0, 1)``.
The three choices travel together as one ``NoiseModel`` (``helpers.experiment.noise_model``,
numpy only, so records and claims can name readings without Keras).

Every draw comes from a generator seeded by (seed, eta, repeat), so the same
seed gives the same draws, and the model's weights are restored bit-exactly.
``sweep_table`` builds a sweep's table around an evaluator of noisy copies; this
module has Keras ``fit``'s (``fit_noise_sweep``), ``helpers.experiment.engine`` the batched
JAX one, and ``helpers.experiment.sweeps`` picks between them by the run's engine.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import partial
from math import erf, exp, log, sqrt

import keras
import numpy as np
import pandas as pd

from .models import evaluate
from .progress import progress_bar
from .noise_model import ABLATION, KINDS, PAPER, SCOPES, NoiseModel  # noqa: F401
from .recipe import N_REPEATS, PAPER_ETAS


def select_variables(model: keras.Model, scope: str = "all") -> list:
    """The weight variables that receive noise under ``scope`` (one of ``SCOPES``; for
    "folded": the trainable ones, ``noise_targets`` then folds BN into the convolutions)."""
    if scope == "all":
        return list(model.weights)
    if scope in ("trainable", "folded"):
        return list(model.trainable_weights)
    if scope == "bn_means":
        return [v for v in model.weights if v.path.endswith("moving_mean")]
    return [v for v in model.weights if v.path.endswith("kernel")]


def layer_of(variable) -> str:
    """The layer part of a variable path, e.g. 'conv2d_3' for 'conv2d_3/kernel'."""
    return variable.path.rsplit("/", 1)[0]


def sigma_w(arrays: list[np.ndarray], layers: list[str], granularity: str = "array") -> list[float]:
    """Standard deviation of each array ("array"), or of its layer's arrays pooled ("layer")."""
    if granularity == "array":
        return [float(np.std(a)) for a in arrays]
    pooled = {}
    for a, name in zip(arrays, layers):
        pooled.setdefault(name, []).append(np.ravel(a))
    per_layer = {name: float(np.std(np.concatenate(parts))) for name, parts in pooled.items()}
    return [per_layer[name] for name in layers]


def bn_conv_pairs(model: keras.Model) -> list:
    """(BatchNormalization layer, the Conv2D layer feeding it) for every BN of ``model``."""
    pairs = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            conv = layer.input._keras_history.operation
            if not isinstance(conv, keras.layers.Conv2D) or not conv.use_bias:
                raise ValueError(f"cannot fold {layer.name}: its input comes from {conv.name}, "
                                 "not from a Conv2D with a bias")
            pairs.append((layer, conv))
    return pairs


def folded_arrays(model: keras.Model) -> dict:
    """variable path -> array of the model with every BN folded into its convolution:
    folded kernels and biases, and identity values for the BN arrays (gamma 1, beta 0,
    mean 0, variance 1 - eps), so the same graph computes the folded model."""
    out = {}
    np_ = keras.ops.convert_to_numpy
    for bn, conv in bn_conv_pairs(model):
        gamma = np_(bn.gamma.value) if bn.scale else 1.0
        beta = np_(bn.beta.value) if bn.center else 0.0
        mean, var = np_(bn.moving_mean.value), np_(bn.moving_variance.value)
        s = (gamma / np.sqrt(var + bn.epsilon)).astype(np.float32)
        out[conv.kernel.path] = (np_(conv.kernel.value) * s).astype(np.float32)
        out[conv.bias.path] = ((np_(conv.bias.value) - mean) * s + beta).astype(np.float32)
        for v, value in ((bn.gamma if bn.scale else None, 1.0), (bn.beta if bn.center else None, 0.0),
                         (bn.moving_mean, 0.0), (bn.moving_variance, 1.0 - bn.epsilon)):
            if v is not None:
                out[v.path] = np.full(v.shape, value, dtype=np.float32)
    return out


def noise_targets(model: keras.Model, noise_model: NoiseModel = PAPER):
    """(variables, base arrays, sigma_w per array) of one noise reading.

    Each variable is set to its base array plus noise of standard deviation
    ``eta * sigma``; a sigma of None means "set to the base array, no noise" (the
    identity BN arrays of the folded reading)."""
    scope, granularity = noise_model.scope, noise_model.granularity
    variables = select_variables(model, scope)
    base = [keras.ops.convert_to_numpy(v.value).copy() for v in variables]
    if scope != "folded":
        return variables, base, sigma_w(base, [layer_of(v) for v in variables], granularity)
    folded = folded_arrays(model)
    identity = [v for v in model.non_trainable_weights if v.path in folded]
    base = [folded.get(v.path, a) for v, a in zip(variables, base)]
    noised = [v.path not in folded or v.path.endswith(("kernel", "bias")) for v in variables]
    sig = sigma_w([a for a, n in zip(base, noised) if n],
                  [layer_of(v) for v, n in zip(variables, noised) if n], granularity)
    it = iter(sig)
    sigmas = [next(it) if n else None for n in noised]
    return (variables + identity, base + [folded[v.path] for v in identity],
            sigmas + [None] * len(identity))


def draw_rng(seed: int, eta: float, repeat: int) -> np.random.Generator:
    """Independent generator for one noisy copy; keyed by the eta value, not its index."""
    return np.random.default_rng([int(seed), int(round(eta * 1_000_000)), int(repeat)])


def noisy_arrays(arrays, sigmas, eta, rng, kind: str = "additive") -> list[np.ndarray]:
    """One noisy copy of ``arrays``: ``KINDS[kind]`` on each, in order, from ``rng``
    (an array whose sigma is None is passed through: set, not noised)."""
    noisy = KINDS[kind]
    return [a if s is None else noisy(a, s, eta, rng) for a, s in zip(arrays, sigmas)]


def floored(variables: list, arrays: list, floor: float | None) -> list[np.ndarray]:
    """``arrays`` with every BN moving variance among ``variables`` clipped from below at
    ``floor`` (unchanged when ``floor`` is None): a noisy variance below -epsilon would
    make the BN layer take the square root of a negative number, every output NaN."""
    if floor is None:
        return arrays
    return [np.maximum(a, np.asarray(floor, a.dtype)) if v.path.endswith("moving_variance")
            else a for v, a in zip(variables, arrays)]


@contextmanager
def assigned(variables: list, arrays: list):
    """Temporarily set ``variables`` to ``arrays``; restored bit-exactly, also on an error."""
    originals = [keras.ops.convert_to_numpy(v.value).copy() for v in variables]
    try:
        for v, a in zip(variables, arrays):
            v.assign(a)
        yield variables
    finally:
        for v, a in zip(variables, originals):
            v.assign(a)


@contextmanager
def injected(model: keras.Model, eta: float, rng: np.random.Generator,
             noise_model: NoiseModel = PAPER):
    """Temporarily replace the model's weights by one noisy copy; always restored."""
    variables, base, sigmas = noise_targets(model, noise_model)
    noisy = noisy_arrays(base, sigmas, eta, rng, noise_model.kind)
    with assigned(variables, floored(variables, noisy, noise_model.variance_floor)):
        yield variables


def test_subset(x: np.ndarray, y: np.ndarray, n: int | None, seed: int = 0):
    """A fixed random subset of ``n`` test images (seeded, original order; all if None):
    the same images for every run, so runs are compared on the same images."""
    if n is None or n >= len(y):
        return x, y
    idx = np.sort(np.random.default_rng(seed).permutation(len(y))[:n])
    return x[idx], y[idx]


# --------------------------------------------------------------------------
# the sweep: a0, then N noisy copies per eta, evaluated by an evaluator
# --------------------------------------------------------------------------

def sweep_table(model: keras.Model, evaluate_model, evaluate_copies,
                noise_model: NoiseModel = PAPER, etas=PAPER_ETAS, n_repeats: int = N_REPEATS,
                seed: int = 0, progress: bool = True) -> pd.DataFrame:
    """Test accuracy for each eta and repeat; eta = 0 (one row) is the baseline a0.

    Returns a long table with columns eta, repeat, accuracy (fractions in [0, 1]) and
    nonfinite (fraction of test images whose output was NaN/inf under that draw).
    The draw of (eta, repeat) comes from ``draw_rng(seed, eta, repeat)`` whatever
    evaluates it. The evaluator is two functions: ``evaluate_model()`` -> (accuracy,
    nonfinite) of the model as it is (a0), and ``evaluate_copies(variables, draws)``
    -> a function returning [(accuracy, nonfinite)] of each noisy copy (``draws``
    yields one array list per copy); those functions are called after every eta was
    handed over, so a device can evaluate one eta while the host draws the next.
    """
    if any(not 0 < e for e in etas):
        raise ValueError(f"etas={etas!r}: every noise level must be > 0 (eta = 0 is a0)")
    acc, bad = evaluate_model()
    rows = [{"eta": 0.0, "repeat": 0, "accuracy": acc, "nonfinite": bad}]
    variables, base, sigmas = noise_targets(model, noise_model)
    bar = progress_bar(total=len(etas) * n_repeats, desc="noise sweep", unit="eval",
                       disable=not progress)

    def draws(eta):
        for r in range(n_repeats):
            noisy = noisy_arrays(base, sigmas, eta, draw_rng(seed, eta, r), noise_model.kind)
            yield floored(variables, noisy, noise_model.variance_floor)
            bar.update(1)  # the consumer is done with copy r

    try:
        pending = [(eta, evaluate_copies(variables, draws(eta))) for eta in etas]
        for eta, result in pending:
            for r, (acc, bad) in enumerate(result()):
                rows.append({"eta": float(eta), "repeat": r, "accuracy": acc, "nonfinite": bad})
    finally:
        bar.close()
    return pd.DataFrame(rows)


def fit_copies(model: keras.Model, x: np.ndarray, y: np.ndarray, variables: list, draws,
               batch_size: int = 1000):
    """Keras' evaluator of noisy copies: each copy injected in turn and evaluated with
    ``models.evaluate`` (``model.predict``); see ``sweep_table``."""
    out = []
    for arrays in draws:
        with assigned(variables, arrays):
            out.append(evaluate(model, x, y, batch_size))
    return lambda: out


def fit_noise_sweep(model: keras.Model, x: np.ndarray, y: np.ndarray,
                    noise_model: NoiseModel = PAPER, etas=PAPER_ETAS, n_repeats: int = N_REPEATS,
                    seed: int = 0, batch_size: int = 1000, progress: bool = True) -> pd.DataFrame:
    """``sweep_table`` with Keras ``predict``, one noisy copy at a time (any backend)."""
    return sweep_table(model, partial(evaluate, model, x, y, batch_size),
                       partial(fit_copies, model, x, y, batch_size=batch_size),
                       noise_model, etas, n_repeats, seed, progress)


def p_broken(model: keras.Model, etas=PAPER_ETAS) -> dict[float, float]:
    """Under the paper's reading, the chance that one draw at ``eta`` makes every output
    non-finite by pushing a BN moving variance ``v`` below ``-epsilon`` (the layer then
    takes the square root of a negative number): ``1 - prod Phi((v + eps) / (eta sigma_w))``
    over every channel of every BN layer, ``sigma_w`` the std of the layer's variance
    array. A channel whose variance is near zero (one a ReLU keeps at zero) beside
    channels with large variances breaks the model at a small eta."""
    layers = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]
    variances = [np.asarray(keras.ops.convert_to_numpy(l.moving_variance)) for l in layers]
    sigmas = sigma_w(variances, [l.name for l in layers])  # per array, as the sweep draws
    # (v + eps) / sigma_w of every channel: a draw at eta breaks it when e < -z / eta
    z = [zi for v, l, s in zip(variances, layers, sigmas)
         for zi in ((v.astype(np.float64) + l.epsilon) / s).ravel()]

    def log_phi(x: float) -> float:
        return log(max(0.5 * (1 + erf(x / sqrt(2))), 1e-300))

    return {float(eta): 1 - exp(sum(log_phi(zi / eta) for zi in z)) for eta in etas}
