"""SGD's inherent gradient noise (eq. 1-3 of the paper), measured on a model.

With alpha the learning rate, B the minibatch, L_i the loss of example i and
L_D the mean loss over the data D (n examples), one SGD step is (eq. 1)

    alpha grad L_B = alpha grad L_D + (alpha / |B|) sum_{i in B} (grad L_i - grad L_D),

so the step carries a zero-mean noise alpha (g_B - g_D), with g = grad L. Its
power is bounded (eq. 2-3) by

    E ||alpha g_B - alpha g_D||^2 <= alpha^2 C / |B|,   C = E_i ||g_i - g_D||^2.

For B drawn *without* replacement from the n examples (what an epoch of Keras
``fit`` over a shuffled set does) the exact value is

    E ||g_B - g_D||^2 = (C / |B|) (n - |B|) / (n - 1)

(the finite-population correction: the cross terms E<d_i, d_j> of the centred
gradients d_i = g_i - g_D are -C / (n - 1), because sum_i d_i = 0); with
replacement it is exactly C / |B|. ``measure`` computes C on a subset of the
training data, draws minibatches from that subset and checks both.

All gradients are taken with ``training=False``: BatchNormalization then uses its
moving statistics, so the loss of example i depends on example i only and a
per-example gradient is well defined (in training mode the batch statistics
couple the examples of a batch, and g_B would not be the mean of the g_i).
The model measured is therefore the one that is deployed and noise-tested.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..experiment import recipe

# How much to measure per profile (the smoke profile must stay ~1-2 s on a CPU).
SETTINGS = {
    "smoke": {"n_examples": 64, "batch_sizes": (4, 8, 16, 32), "n_batches": 200},
    "fast": {"n_examples": 256, "batch_sizes": (8, 16, 32, 64, 128), "n_batches": 500},
    "cpu": {"n_examples": 256, "batch_sizes": (8, 16, 32, 64, 128), "n_batches": 500},
    "paper": {"n_examples": 256, "batch_sizes": (8, 16, 32, 64, 128), "n_batches": 500},
}

_CHUNK = 32  # examples per vectorised gradient call

# Concurrent iterations of the TensorFlow per-example map. With TensorFlow's default
# (10) the CPU build segfaulted in 5 of 108 fresh processes, with 1 in none of 107, at
# the same speed (benchmarks/per_example_crash.py; benchmarks/RESULTS.md). It also
# corrupts values without crashing: on one model's committed weights, 10 at a time gave
# another C in 4 of 8 repeats (two of them ~1e60), 1 at a time the same C every time
# (benchmarks/c_repeatability.py).
TF_MAP_PARALLEL = 1
# The code commits of committed records whose TensorFlow measurement of C still ran the
# map 10 examples at a time (their code predates TF_MAP_PARALLEL = 1, commit aab1068;
# tests/test_theory.py checks the list against git where the history is at hand). Their
# C may be off, a little or by many orders of magnitude, with nothing in the record to
# show it; only the grossly wrong ones are caught by ``nonphysical``.
PARALLEL_MAP_COMMITS = ("4de61349ed", "823e4d8d38", "bc65e60bf5")
MAP_FIX_COMMIT = "aab1068"


def settings(profile: str) -> dict:
    """The ``measure`` keyword arguments for a run profile (paper's for unknown names)."""
    return dict(SETTINGS.get(profile, SETTINGS["paper"]))


def noise_power_bound(alpha, C, B):
    """Eq. 2-3: the bound alpha^2 C / |B| on the power of the SGD gradient noise
    (numbers, arrays or pandas Series)."""
    return alpha ** 2 * C / B


def without_replacement_variance(C, B, n):
    """Exact E||g_B - g_D||^2 for |B| = B examples drawn without replacement from n:
    (C / B) (n - B) / (n - 1), C with divisor n (0 at B = n)."""
    B = np.asarray(B, dtype=float)
    return np.asarray(C) / B * (n - B) / (n - 1)


# --------------------------------------------------------------------------
# per-example gradients
# --------------------------------------------------------------------------

def _regularization(model, values):
    """Sum of the weight penalties (L2 1e-4 on kernels) at the given trainable values."""
    return sum(v.regularizer(val) for v, val in zip(model.trainable_variables, values)
               if v.regularizer is not None)


def _has_regularizer(model) -> bool:
    return any(v.regularizer is not None for v in model.trainable_variables)


def _per_example_tf(model, x, y, regularization):
    import keras
    import tensorflow as tf

    variables = model.trainable_variables
    penalty = regularization and _has_regularizer(model)

    def one(xy):
        with tf.GradientTape() as tape:
            # float32 loss: under mixed_bfloat16 the outputs are bfloat16, the penalty float32
            p = tf.cast(model(xy[0][None], training=False), tf.float32)
            loss = keras.losses.sparse_categorical_crossentropy(xy[1][None], p)[0]
            if penalty:
                loss = loss + _regularization(model, variables)
        return tf.concat([tf.reshape(g, (-1,)) for g in tape.gradient(
            loss, variables, unconnected_gradients=tf.UnconnectedGradients.ZERO)], 0)

    # a graph-mode map_fn over examples: faster on CPU than tf.vectorized_map or a
    # pfor jacobian here (pfor falls back to while loops for the conv gradients).
    # TF_MAP_PARALLEL examples at a time (see there)
    all_grads = tf.function(lambda xs, ys: tf.map_fn(
        one, (xs, ys), parallel_iterations=TF_MAP_PARALLEL, fn_output_signature=tf.float32))
    return np.concatenate([all_grads(tf.constant(x[i:i + 256]), tf.constant(y[i:i + 256])).numpy()
                           for i in range(0, len(y), 256)], axis=0)


def _per_example_jax(model, x, y, regularization):
    import jax
    import keras
    import jax.numpy as jnp

    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    penalty = regularization and _has_regularizer(model)

    def loss_one(tv, xi, yi):
        p, _ = model.stateless_call(tv, non_trainable, xi[None], training=False)
        p = jnp.asarray(p, jnp.float32)   # float32 loss under mixed_bfloat16 too
        loss = keras.losses.sparse_categorical_crossentropy(yi[None], p)[0]
        return loss + _regularization(model, tv) if penalty else loss

    def flat(grads):
        return jnp.concatenate([jnp.reshape(g, (g.shape[0], -1)) for g in grads], axis=1)

    chunk_grads = jax.jit(lambda tv, xc, yc: flat(jax.vmap(jax.grad(loss_one),
                                                          in_axes=(None, 0, 0))(tv, xc, yc)))
    rows = []
    for i in range(0, len(y), _CHUNK):
        xc, yc = x[i:i + _CHUNK], y[i:i + _CHUNK]
        m = len(yc)
        if m < _CHUNK and len(y) > _CHUNK:  # pad to the compiled shape, drop the padding after
            xc = np.concatenate([xc, np.repeat(xc[:1], _CHUNK - m, axis=0)])
            yc = np.concatenate([yc, np.repeat(yc[:1], _CHUNK - m, axis=0)])
        rows.append(np.asarray(chunk_grads(trainable, xc, yc))[:m])
    return np.concatenate(rows, axis=0)


def per_example_gradients(model, x, y, regularization: bool = True) -> np.ndarray:
    """Gradient of each example's training loss w.r.t. the trainable weights, flattened
    in ``model.trainable_variables`` order: an (n, n_params) float32 array.

    The loss is the one Keras ``fit`` minimises for these models: sparse categorical
    cross-entropy of example i, plus (``regularization=True``) the L2 weight penalty,
    so the mean of the rows is the full-batch gradient g_D. The penalty's gradient
    is the same for every example, so it cancels in C and only shifts g_D.
    ``training=False`` (BN moving statistics): see the module docstring.
    Works on the TensorFlow (GradientTape jacobian, vectorised) and JAX
    (``jax.vmap(jax.grad)`` of ``model.stateless_call``) backends.
    """
    import keras  # here, not at the top: the statistics below need numpy only

    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y).reshape(-1).astype(np.int32)
    backend = keras.config.backend()
    if backend == "tensorflow":
        return _per_example_tf(model, x, y, regularization)
    if backend == "jax":
        return _per_example_jax(model, x, y, regularization)
    raise NotImplementedError(f"per-example gradients on the {backend!r} backend")


# --------------------------------------------------------------------------
# statistics of the gradients
# --------------------------------------------------------------------------

def _centred_gram(grads: np.ndarray, block: int = 16384) -> tuple[np.ndarray, np.ndarray]:
    """(K, g_mean): K[i, j] = <g_i - g_D, g_j - g_D> in float64, g_D the row mean."""
    grads = np.asarray(grads)
    n = grads.shape[0]
    mean = grads.mean(axis=0, dtype=np.float64)
    K = np.zeros((n, n))
    for c in range(0, grads.shape[1], block):
        d = grads[:, c:c + block].astype(np.float64) - mean[c:c + block]
        K += d @ d.T
    return K, mean


def gradient_noise_constant(grads) -> tuple[float, float]:
    """(C, ||g_D||^2) of per-example gradients (rows): C = mean_i ||g_i - g_D||^2
    (eq. 3, divisor n: the n rows are the population), g_D = mean_i g_i.
    For C of a larger set from which the rows are a random sample, n / (n - 1) C
    is unbiased."""
    grads = np.asarray(grads)
    mean = grads.mean(axis=0, dtype=np.float64)
    d2 = np.zeros(grads.shape[0])
    for c in range(0, grads.shape[1], 16384):
        d2 += ((grads[:, c:c + 16384].astype(np.float64) - mean[c:c + 16384]) ** 2).sum(axis=1)
    return float(d2.mean()), float(mean @ mean)


def _draw_batches(n: int, B: int, n_batches: int, rng: np.random.Generator) -> np.ndarray:
    """(n_batches, B) indices, each row B distinct examples (uniform random subset)."""
    return np.argsort(rng.random((n_batches, n)), axis=1)[:, :B]


def minibatch_variance_from_grads(grads, batch_sizes, n_batches: int = 200,
                                  seed: int = 0) -> pd.DataFrame:
    """Empirical E||g_B - g_D||^2 over ``n_batches`` minibatches of each size B drawn
    without replacement from the examples whose gradients are the rows of ``grads``;
    g_D is their mean. Columns: B, measured (mean over the draws), measured_se (its
    standard error), predicted = (C / B) (n - B) / (n - 1), bound = C / B (eq. 2
    without alpha^2)."""
    K, _ = _centred_gram(grads)
    n = K.shape[0]
    C = float(np.trace(K) / n)
    rng = np.random.default_rng(seed)
    rows = []
    for B in batch_sizes:
        if not 1 <= B <= n:
            raise ValueError(f"batch size {B} is not in 1..n = {n}")
        idx = _draw_batches(n, int(B), n_batches, rng)
        # ||g_B - g_D||^2 = (1/B^2) sum_{i,j in B} K_ij = m^T K m / B^2, m the indicator of B
        m = np.zeros((n_batches, n))
        m[np.arange(n_batches)[:, None], idx] = 1.0
        v = np.einsum("bi,bi->b", m @ K, m) / B ** 2
        rows.append({"B": int(B), "measured": float(v.mean()),
                     "measured_se": float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else np.nan,
                     "predicted": float(without_replacement_variance(C, B, n)),
                     "bound": C / B})
    return pd.DataFrame(rows)


def loglog_slope(B, v) -> float:
    """Least-squares slope of log v against log B (the 1/B law says -1)."""
    return float(np.polyfit(np.log(np.asarray(B, float)), np.log(np.asarray(v, float)), 1)[0])


def from_gradients(grads, batch_sizes=(8, 16, 32, 64, 128), n_batches: int = 200,
                   seed: int = 0) -> dict:
    """C, ||g_D||^2, the minibatch variance per B (B > n dropped) and the fitted
    log-log slopes, from per-example gradients (rows): the body of ``measure``."""
    grads = np.asarray(grads)
    n = grads.shape[0]
    batch_sizes = [int(B) for B in batch_sizes if B <= n]
    C, gmean2 = gradient_noise_constant(grads)
    table = minibatch_variance_from_grads(grads, batch_sizes, n_batches, seed)
    inner = table[table["B"] < n]
    return {
        "C": C,
        "C_unbiased": C * n / (n - 1) if n > 1 else None,
        "grad_mean_sq_norm": gmean2,
        "n_examples": int(n),
        "n_params": int(grads.shape[1]),
        "n_batches": int(n_batches),
        "seed": int(seed),
        "minibatch": table.to_dict(orient="records"),
        "slope": loglog_slope(table["B"], table["measured"]) if len(table) > 1 else None,
        "slope_fpc_corrected": (loglog_slope(inner["B"], inner["measured"] * (n - 1)
                                             / (n - inner["B"])) if len(inner) > 1 else None),
    }


def measure(model, x, y, batch_sizes=(8, 16, 32, 64, 128), n_examples: int = 256,
            n_batches: int = 200, seed: int = 0) -> dict:
    """C, ||g_D||^2 and the minibatch gradient variance per B on the first
    ``n_examples`` of (x, y): a JSON-serialisable dict for ``record["theory"]``.
    Gradients at ``training=False``, L2 penalty included (``per_example_gradients``)."""
    import keras

    t0 = time.perf_counter()
    n = min(int(n_examples), len(y))
    out = from_gradients(per_example_gradients(model, x[:n], y[:n]), batch_sizes,
                         n_batches, seed)
    out.update({"training": False, "regularization": True,
                "backend": keras.config.backend(), "seconds": time.perf_counter() - t0})
    return out


# --------------------------------------------------------------------------
# the measurements of a study, read back from its run records
# --------------------------------------------------------------------------

# A measured C more than this many orders of magnitude from that of its twins (the other
# seeds of its cell) is not physical: the seeds of one cell give C within a factor ~1.3.
NONPHYSICAL_DECADES = 3


def nonphysical(table: pd.DataFrame, column: str = "C",
                decades: float = NONPHYSICAL_DECADES) -> pd.Series:
    """Which rows' ``column`` cannot be a physical gradient-noise measurement: not finite,
    not positive, or more than ``decades`` orders of magnitude from the median (of log10)
    over its cell (dataset, depth, LR, optimizer, BN) when the cell has >= 3 such values,
    else over all rows. A median of 3 is not moved by one wild seed; with 2 the pair
    could not tell which one is wild. Such a value is flagged and left out of plots and
    correlations, not plotted: one corrupted example can make C 1e34 times larger."""
    cell = [c for c in ("dataset", "depth", "lr", "optimizer", "batch_norm") if c in table]
    v = pd.to_numeric(table[column], errors="coerce").astype(float)
    bad = ~np.isfinite(v) | ~(v > 0)
    logv = np.log10(v.where(~bad))
    overall = logv.median()
    if cell:
        ref = logv.groupby([table[c] for c in cell], dropna=False).transform(
            lambda g: g.median() if g.notna().sum() >= 3 else np.nan)
    else:
        ref = pd.Series(np.nan, index=table.index)
    ref = ref.fillna(overall)
    return (bad | ((logv - ref).abs() > decades)).astype(bool)


def stacked(tables) -> pd.DataFrame:
    """``from_records``' tables of several datasets as one (an empty frame when no
    dataset has a model with a gradient-noise measurement)."""
    return pd.concat([t for t in tables if len(t)] or [pd.DataFrame()])


def from_records(runs: pd.DataFrame, dataset: str) -> tuple[pd.DataFrame, dict, int]:
    """(table, blocks, missing) for the completed ``runs`` of ``dataset`` (rows of
    ``results.load_records``): one table row per model with a ``record["theory"]``
    block (C, ||g_D||^2, slopes, A_avr, a0 and the eq. 2 ``bound`` at its base LR and
    batch size), the blocks by run key, and how many records had no block."""
    runs = runs[runs["dataset"] == dataset] if len(runs) else runs
    rows, blocks = [], {}
    for r in runs.itertuples():
        th = json.loads(Path(r.path).read_text()).get("theory")
        if not th:
            continue
        blocks[r.key] = th
        rows.append({"key": r.key, "depth": r.depth, "lr": r.lr, "optimizer": r.optimizer,
                     "batch_norm": r.batch_norm, "batch_size": r.batch_size, "seed": r.seed,
                     "C": th["C"], "grad_mean_sq_norm": th["grad_mean_sq_norm"],
                     "n_examples": th["n_examples"], "slope": th["slope"],
                     "slope_fpc_corrected": th["slope_fpc_corrected"],
                     "A_avr": r.A_avr, "baseline_accuracy": r.baseline_accuracy,
                     # the backend that measured C (the block's), not the run's Keras backend
                     "parallel_map": measured_in_parallel(getattr(r, "commit", None),
                                                          th.get("backend"))})
    table = pd.DataFrame(rows)
    if len(table):
        table["bound"] = noise_power_bound(table["lr"], table["C"], table["batch_size"])
        table["dataset"] = dataset
        table["nonphysical"] = (nonphysical(table, "C")
                                | nonphysical(table, "grad_mean_sq_norm"))
    return table, blocks, len(runs) - len(table)


def flagged_sentence(table: pd.DataFrame, retrained: pd.DataFrame | None = None) -> str:
    """The models ``from_records`` flags as non-physical (``nonphysical``), named with their
    C beside their twins', or that none is; they are left out of the figures and
    correlations of the page. Where ``retrained`` (``from_records`` of the same cells
    trained again, same key) holds a flagged model, its C is given too: whether the value
    comes back when the model is trained again."""
    if table.empty or "nonphysical" not in table or not table["nonphysical"].any():
        return "No measured C is non-physical (none is non-finite or more than " \
               f"{NONPHYSICAL_DECADES} orders of magnitude from its twins')."
    parts = []
    several = "dataset" in table and table["dataset"].nunique() > 1   # then each is named
    for r in table[table["nonphysical"]].itertuples():
        twins = table[(table["depth"] == r.depth) & (table["lr"] == r.lr)
                      & (table["optimizer"] == r.optimizer) & (table["batch_norm"] == r.batch_norm)
                      & ((table["dataset"] == r.dataset) if "dataset" in table else True)
                      & ~table["nonphysical"]]["C"]
        where = f" on {recipe.name('dataset', r.dataset)}" if several else ""
        parts.append(f"ResNet{r.depth}{where} {'with' if r.batch_norm else 'without'} BN, lr {r.lr:g}, "
                     f"seed {r.seed}: C = {r.C:.3g}, ||grad L_D||^2 = {r.grad_mean_sq_norm:.3g}"
                     + (f" (its twins: C = {twins.min():.3g} to {twins.max():.3g})" if len(twins)
                        else "") + _retrained_c(getattr(r, "key", None), retrained))
    return (f"Flagged as non-physical and left out of the figures and rank correlations "
            f"below ({len(parts)} of {len(table)} models): " + "; ".join(parts) + ".")


def measured_in_parallel(commit, backend) -> bool:
    """Was C measured by TensorFlow with the per-example map 10 examples at a time: code
    of one of ``PARALLEL_MAP_COMMITS`` on the TensorFlow backend."""
    return backend == "tensorflow" and str(commit or "")[:10] in PARALLEL_MAP_COMMITS


def parallel_map(runs: pd.DataFrame) -> pd.Series:
    """``measured_in_parallel`` for each run (``results.load_records`` rows, with
    ``commit`` and the run's ``backend``; without that column, TensorFlow: the only
    backend those commits measured C with)."""
    if runs.empty or "commit" not in runs:
        return pd.Series(False, index=runs.index)
    backends = runs["backend"] if "backend" in runs else ["tensorflow"] * len(runs)
    return pd.Series([measured_in_parallel(c, b) for c, b in zip(runs["commit"], backends)],
                     index=runs.index, dtype=bool)


def parallel_map_sentence(table: pd.DataFrame) -> str:
    """How many of the models' C were measured with the per-example map 10 examples at a
    time (``PARALLEL_MAP_COMMITS``), which can corrupt a value silently; "" for none."""
    if table.empty or "parallel_map" not in table or not table["parallel_map"].any():
        return ""
    k = int(table["parallel_map"].sum())
    return (f"{k} of {len(table)} models had $C$ measured by code that ran TensorFlow's "
            "per-example gradient map 10 examples at a time. Measured that way on one model's "
            "saved weights, $C$ changed from one repeat to the next, by a little or by many "
            "orders of magnitude, while one example at a time gave the same value every time "
            "(`benchmarks/c_repeatability.py`), which is how the code measures it. Those $C$ "
            "values may be off without being flagged; models trained again since were measured "
            "one example at a time.")


def _retrained_c(key: str, retrained: pd.DataFrame | None) -> str:
    """", trained again (same key): C = 672, ..." for a flagged model, "" when not retrained."""
    if retrained is None or retrained.empty or key not in set(retrained["key"]):
        return ""
    r = retrained[retrained["key"] == key].iloc[0]
    return (f"; trained again with the same configuration and data: C = {r['C']:.3g}, "
            f"||grad L_D||^2 = {r['grad_mean_sq_norm']:.3g}"
            + (", again non-physical" if r.get("nonphysical", False) else ""))


def law_fit(table: pd.DataFrame, blocks: dict) -> dict:
    """How well the models' minibatch variances follow the 1/|B| law: the fitted
    log-log slopes (raw, and with the finite-sample factor removed: the law says -1)
    and the largest and median relative gap between measured and predicted variance."""
    mb = pd.concat([pd.DataFrame(blocks[k]["minibatch"]) for k in table["key"]])
    gap = (mb["measured"] / mb["predicted"] - 1).abs()
    out = {"n_models": len(table), "gap_max": float(gap.max()), "gap_median": float(gap.median())}
    for name, col in (("raw", "slope"), ("fpc", "slope_fpc_corrected")):
        s = table[col].astype(float)
        out.update({f"{name}_mean": float(s.mean()), f"{name}_min": float(s.min()),
                    f"{name}_max": float(s.max())})
    return out


def law_sentence(fit: dict) -> str:
    return (f"Fitted log-log slope over {fit['n_models']} models: raw {fit['raw_mean']:.3f} "
            f"(range {fit['raw_min']:.3f} to {fit['raw_max']:.3f}); corrected for the "
            f"finite-sample factor {fit['fpc_mean']:.3f} (range {fit['fpc_min']:.3f} to "
            f"{fit['fpc_max']:.3f}); the law predicts -1. Measured/predicted variance differs "
            f"by at most {100 * fit['gap_max']:.1f} % (median {100 * fit['gap_median']:.1f} %).")


# --------------------------------------------------------------------------
# a problem with exact numbers: linear regression
# --------------------------------------------------------------------------

def regression_gradients(n: int = 512, d: int = 20, seed: int = 0) -> np.ndarray:
    """Per-example gradients (rows) of L_i(w) = (x_i^T w - y_i)^2 / 2, i.e.
    (x_i^T w - y_i) x_i, at a point w away from the least-squares solution (so that
    g_D != 0): n examples with d Gaussian features and noisy linear targets."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w_true = rng.normal(size=d)
    y = X @ w_true + 0.5 * rng.normal(size=n)
    w = w_true + 0.3 * rng.normal(size=d)
    return (X @ w - y)[:, None] * X


def regression_demo(n: int = 512, d: int = 20, batch_sizes=(1, 2, 4, 8, 16, 32, 64, 128, 256),
                    n_batches: int = 4000, seed: int = 0) -> dict:
    """C, ||g_D||^2 and the minibatch variance per |B| on ``regression_gradients``, with
    the log-log slopes of the measured variance, raw and with the finite-sample factor
    (n - |B|) / (n - 1) removed (the 1/|B| law says -1)."""
    G = regression_gradients(n, d, seed)
    C, gD2 = gradient_noise_constant(G)
    table = minibatch_variance_from_grads(G, list(batch_sizes), n_batches=n_batches, seed=seed)
    table["measured/predicted"] = table["measured"] / table["predicted"]
    return {"n": n, "C": C, "grad_mean_sq_norm": gD2, "table": table,
            "slope": loglog_slope(table["B"], table["measured"]),
            "slope_fpc_corrected": loglog_slope(table["B"],
                                                table["measured"] * (n - 1) / (n - table["B"]))}


def regression_sentence(demo: dict) -> str:
    t = demo["table"]
    at1 = t.loc[t["B"] == 1, "measured"]
    return (f"C = {demo['C']:.4f}, |grad L_D|^2 = {demo['grad_mean_sq_norm']:.4f}; log-log slope "
            f"of the measured variance {demo['slope']:.3f} (raw), "
            f"{demo['slope_fpc_corrected']:.3f} (finite-sample factor removed; the law says "
            f"-1)" + (f"; at |B| = 1 the variance is C itself: {at1.iloc[0]:.4f} vs "
                      f"{demo['C']:.4f}." if len(at1) else "."))
