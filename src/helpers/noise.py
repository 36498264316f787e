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
``kind="multiplicative"`` is an ablation: ``w * (1 + eta * e)`` with ``e ~ N(0, 1)``.

Every draw comes from a generator seeded by (seed, eta, repeat), so the same
seed gives the same draws, and the model's weights are restored bit-exactly.
"""

from __future__ import annotations

from contextlib import contextmanager

import keras
import numpy as np
import pandas as pd

from .models import evaluate
from .progress import progress_bar

PAPER_ETAS = (0.01, 0.05, 0.10, 0.20, 0.30, 0.40)
SCOPES = ("all", "trainable", "kernels", "folded")
GRANULARITIES = ("array", "layer")
KINDS = ("additive", "multiplicative")


def _check(name, value, accepted):
    if value not in accepted:
        raise ValueError(f"{name}={value!r} is not one of {accepted}")


def select_variables(model: keras.Model, scope: str = "all") -> list:
    """The weight variables that receive noise under ``scope`` (for "folded": the
    trainable ones; ``noise_targets`` then folds BN into the convolutions)."""
    _check("scope", scope, SCOPES)
    if scope == "all":
        return list(model.weights)
    if scope in ("trainable", "folded"):
        return list(model.trainable_weights)
    return [v for v in model.weights if v.path.endswith("kernel")]


def layer_of(variable) -> str:
    """The layer part of a variable path, e.g. 'conv2d_3' for 'conv2d_3/kernel'."""
    return variable.path.rsplit("/", 1)[0]


def sigma_w(arrays: list[np.ndarray], layers: list[str], granularity: str = "array") -> list[float]:
    """Standard deviation of each array, or of its layer's arrays pooled."""
    _check("granularity", granularity, GRANULARITIES)
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


def noise_targets(model: keras.Model, scope: str = "all", granularity: str = "array"):
    """(variables, base arrays, sigma_w per array) of one noise reading.

    Each variable is set to its base array plus noise of standard deviation
    ``eta * sigma``; a sigma of None means "set to the base array, no noise" (the
    identity BN arrays of the folded reading)."""
    _check("scope", scope, SCOPES)
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


def noisy_arrays(arrays, sigmas, eta, rng, kind="additive") -> list[np.ndarray]:
    _check("kind", kind, KINDS)
    out = []
    for a, s in zip(arrays, sigmas):
        if s is None:  # set, not noised (noise_targets)
            out.append(a)
            continue
        e = rng.standard_normal(a.shape).astype(a.dtype)
        if kind == "additive":
            out.append(a + (eta * s) * e)
        else:
            out.append(a * (1 + eta * e))
    return out


@contextmanager
def injected(model: keras.Model, eta: float, rng: np.random.Generator, scope: str = "all",
             granularity: str = "array", kind: str = "additive"):
    """Temporarily replace the model's weights by one noisy copy; always restored."""
    variables, base, sigmas = noise_targets(model, scope, granularity)
    originals = [keras.ops.convert_to_numpy(v.value).copy() for v in variables]
    try:
        for v, a in zip(variables, noisy_arrays(base, sigmas, eta, rng, kind)):
            v.assign(a)
        yield variables
    finally:
        for v, a in zip(variables, originals):
            v.assign(a)


def test_subset(x: np.ndarray, y: np.ndarray, n: int | None, seed: int = 0):
    """A fixed random subset of ``n`` test images (seeded, original order; all if None):
    the same images for every run, so runs are compared on the same images."""
    if n is None or n >= len(y):
        return x, y
    idx = np.sort(np.random.default_rng(seed).permutation(len(y))[:n])
    return x[idx], y[idx]


def noise_sweep(model: keras.Model, x: np.ndarray, y: np.ndarray, etas=PAPER_ETAS,
                n_repeats: int = 10, seed: int = 0, scope: str = "all",
                granularity: str = "array", kind: str = "additive",
                batch_size: int = 1000, progress: bool = True,
                engine: str = "auto") -> pd.DataFrame:
    """Test accuracy for each eta and repeat; eta = 0 (one row) is the baseline a0.

    Returns a long table with columns eta, repeat, accuracy (fractions in [0, 1]) and
    nonfinite (fraction of test images whose output was NaN/inf under that draw).
    ``engine``: "fit" evaluates one noisy copy at a time with ``model.predict``;
    "fast" (JAX only; "auto" on JAX) evaluates the N copies of each eta as one batched
    program (``helpers.engine.fast_noise_sweep``), with the same draws.
    """
    from .training import resolve_engine

    if resolve_engine(engine) == "fast":
        from .engine import fast_noise_sweep

        return fast_noise_sweep(model, x, y, etas, n_repeats, seed, scope, granularity, kind,
                                batch_size, progress)
    _check("scope", scope, SCOPES)
    _check("granularity", granularity, GRANULARITIES)
    _check("kind", kind, KINDS)
    if any(not 0 < e for e in etas):
        raise ValueError(f"etas={etas!r}: every noise level must be > 0 (eta = 0 is a0)")
    acc, bad = evaluate(model, x, y, batch_size)
    rows = [{"eta": 0.0, "repeat": 0, "accuracy": acc, "nonfinite": bad}]
    jobs = [(eta, r) for eta in etas for r in range(n_repeats)]
    for eta, r in progress_bar(iterable=jobs, desc="noise sweep", unit="eval",
                               disable=not progress):
        with injected(model, eta, draw_rng(seed, eta, r), scope, granularity, kind):
            acc, bad = evaluate(model, x, y, batch_size)
        rows.append({"eta": float(eta), "repeat": r, "accuracy": acc, "nonfinite": bad})
    return pd.DataFrame(rows)



# The noise-model ablation: the paper's description ("noise added to all the
# model weights") admits these readings; name -> (scope, granularity, kind).
ABLATION = {
    "all/array/additive": ("all", "array", "additive"),
    "trainable/array/additive": ("trainable", "array", "additive"),
    "kernels/array/additive": ("kernels", "array", "additive"),
    "all/layer/additive": ("all", "layer", "additive"),
    "all/array/multiplicative": ("all", "array", "multiplicative"),
    "folded/array/additive": ("folded", "array", "additive"),
}


def ablation_sweeps(model: keras.Model, x: np.ndarray, y: np.ndarray, n_repeats: int,
                    seed: int = 0, skip: tuple = (), progress: bool = True,
                    engine: str = "auto") -> dict:
    """A noise sweep for every noise model of ``ABLATION`` not named in ``skip``."""
    return {name: noise_sweep(model, x, y, n_repeats=n_repeats, seed=seed, scope=scope,
                              granularity=gran, kind=kind, progress=progress, engine=engine)
            for name, (scope, gran, kind) in ABLATION.items() if name not in skip}
