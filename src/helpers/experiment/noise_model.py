"""The noise model as one value: which weights get noise, how sigma_w is measured,
and what noise (paper eq. 4-6 and the readings of our ablation).

``PAPER`` is the paper's reading ("noise added to all the model weights": every array,
BN moving statistics included, sigma_w per array, additive); ``ABLATION`` lists the
readings every LR-grid run also sweeps; ``MECHANISM`` two readings that isolate why the
paper's reading breaks BN models (``helpers.ops.resweep`` sweeps them over saved weights).
Every reading carries its ``name``, ``label`` and ``phrase``; ``READINGS`` holds them all
by name. A new kind of noise is one entry of ``KINDS``.
This module needs numpy only; ``helpers.experiment.noise`` applies a model to a Keras model.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

import numpy as np

SCOPES = ("all", "trainable", "kernels", "folded", "bn_means")
GRANULARITIES = ("array", "layer")


def _normal(a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """e ~ N(0, 1) of ``a``'s shape and dtype: the one draw each kind makes per array."""
    return rng.standard_normal(a.shape).astype(a.dtype)


def additive(a: np.ndarray, sigma: float, eta: float, rng: np.random.Generator) -> np.ndarray:
    """The paper's noise (eq. 4-6): ``a + eta * sigma_w * e``."""
    return a + (eta * sigma) * _normal(a, rng)


def multiplicative(a: np.ndarray, sigma: float, eta: float,
                   rng: np.random.Generator) -> np.ndarray:
    """The ablation's relative noise: ``a * (1 + eta * e)`` (sigma_w unused)."""
    return a * (1 + eta * _normal(a, rng))


# The kinds of noise: name -> f(array, sigma_w, eta, rng) -> noisy array. A new kind is
# one entry here; NoiseModel accepts every name registered when it is made.
KINDS = {"additive": additive, "multiplicative": multiplicative}
_OWN_KINDS = dict(KINDS)   # this package's kinds; any other entry is a user's


def kind_provenance(kind: str) -> dict | None:
    """None for a kind of this package; for a kind a user registered in ``KINDS``, its
    function's module, name and source (None where Python cannot read it), so that a
    sweep file says which noise it drew."""
    f = KINDS[kind]
    if _OWN_KINDS.get(kind) is f:
        return None
    try:
        source = inspect.getsource(f)
    except (OSError, TypeError):
        source = None
    return {"module": getattr(f, "__module__", None),
            "function": getattr(f, "__qualname__", repr(f)), "source": source}


@dataclass(frozen=True)
class NoiseModel:
    """One reading of "noise on the weights": which arrays (``scope``), whose spread
    sets sigma_w (``granularity``: each array's, or its layer's pooled), what noise
    (``kind``, a name of ``KINDS``), and ``variance_floor``: each noisy BN moving
    variance clipped from below at this value (None: not clipped). Checked once, here."""

    scope: str = "all"
    granularity: str = "array"
    kind: str = "additive"
    variance_floor: float | None = None

    def __post_init__(self):
        # the message starts with the field's name (config.make_config prefixes "noise_")
        for field, accepted in (("scope", SCOPES), ("granularity", GRANULARITIES),
                                ("kind", tuple(KINDS))):
            value = getattr(self, field)
            if value not in accepted:
                raise ValueError(f"{field}={value!r} is not accepted; accepted values: "
                                 + ", ".join(repr(a) for a in accepted))
        f = self.variance_floor
        if f is not None and (isinstance(f, bool) or not isinstance(f, (int, float))
                              or not math.isfinite(f) or f <= 0):
            raise ValueError(f"variance_floor={f!r} is not accepted: a finite number > 0, "
                             "or None (no clipping)")
        if f is not None and self.scope not in ("all",):
            raise ValueError(f"variance_floor={f!r} needs scope='all' (the only scope that "
                             f"puts noise on the BN moving variances), not {self.scope!r}")

    @property
    def name(self) -> str:
        """"scope/granularity/kind", e.g. "all/array/additive": the key of the run
        records' ablation blocks; a clipped reading adds "/varfloor=<floor>"."""
        base = f"{self.scope}/{self.granularity}/{self.kind}"
        return base if self.variance_floor is None else f"{base}/varfloor={self.variance_floor:g}"

    @property
    def slug(self) -> str:
        """The name as a file-name part: "all-array-additive-varfloor1e-06"."""
        return self.name.replace("/", "-").replace("=", "")

    @property
    def label(self) -> str:
        """The short label of tables (``DESCRIPTIONS``; the name if it has none)."""
        return LABELS.get(self.name, self.name)

    @property
    def phrase(self) -> str:
        """The reading as a sentence says it ("under the paper's reading, ...")."""
        return PHRASES.get(self.name, f"under the noise reading {self.name}")

    @property
    def needs_bn(self) -> bool:
        """Whether the reading only means something for a model with BN layers (it puts
        noise on, or clips, BN statistics alone)."""
        return self.scope == "bn_means" or self.variance_floor is not None

    @classmethod
    def from_name(cls, name: str) -> NoiseModel:
        """The noise model called ``name`` ("scope/granularity/kind", optionally
        followed by "/varfloor=<floor>")."""
        parts = name.split("/")
        if len(parts) == 4 and parts[3].startswith("varfloor="):
            try:
                floor = float(parts[3][len("varfloor="):])
            except ValueError:
                raise ValueError(f"name={name!r} is not accepted: varfloor= needs a number") \
                    from None
            return cls(*parts[:3], variance_floor=floor)
        if len(parts) != 3:
            raise ValueError(f"name={name!r} is not accepted: it must be scope/granularity/kind"
                             " (optionally /varfloor=<floor>)")
        return cls(*parts)


PAPER = NoiseModel()
TRAINABLE = NoiseModel(scope="trainable")
FOLDED_BN = NoiseModel(scope="folded")

# The noise-model ablation: the paper's description ("noise added to all the model
# weights") admits these readings (the order is the order of the sweeps).
ABLATION = (
    PAPER,
    TRAINABLE,
    NoiseModel(scope="kernels"),
    NoiseModel(granularity="layer"),
    NoiseModel(kind="multiplicative"),
    FOLDED_BN,
)


# The floor of the clipped reading: far below Keras' BN epsilon (1e-3), so it changes
# only draws that push a variance below it, and a clipped channel's scale
# gamma / sqrt(v + eps) stays finite (at most gamma / sqrt(1e-3 + 1e-6)).
VARIANCE_FLOOR = 1e-6

# Two readings that isolate why the paper's reading breaks BN models (a single
# negative noisy BN variance makes every output NaN): the paper's reading with each
# noisy BN moving variance clipped at VARIANCE_FLOOR (the same draws, none broken), and
# noise on the BN moving means only (the statistics without the variances).
FLOORED = NoiseModel(variance_floor=VARIANCE_FLOOR)
BN_MEANS = NoiseModel(scope="bn_means")
MECHANISM = (FLOORED, BN_MEANS)

# The readings every verdict on noise resistance is recomputed under
# (``helpers.study.claims.READINGS``): the paper's, the trainable arrays only, and BN
# folded into the convolutions (how inference hardware maps BN).
VERDICT_READINGS = (PAPER, TRAINABLE, FOLDED_BN)


# Each reading's short label (tables, figure titles, the verdicts' reading column) and
# the phrase a sentence says it with, by name: the one place they are written.
DESCRIPTIONS = {
    PAPER.name: ("paper (all arrays)",
                 "under the paper's reading, which puts noise on the BN statistics too"),
    TRAINABLE.name: ("trainable only", "with noise on the trainable arrays only"),
    "kernels/array/additive": ("kernels", "with noise on the convolution and dense kernels only"),
    "all/layer/additive": ("per-layer sigma_w",
                           "under the paper's reading with one sigma_w per layer"),
    "all/array/multiplicative": ("multiplicative", "with multiplicative noise on every array"),
    FOLDED_BN.name: ("BN folded", "with BN folded into the convolutions"),
    FLOORED.name: ("paper, BN variances floored",
                   f"under the paper's reading with each noisy BN moving variance clipped "
                   f"at {VARIANCE_FLOOR:g}"),
    BN_MEANS.name: ("BN means only", "with noise on the BN moving means only"),
}
LABELS = {name: label for name, (label, _) in DESCRIPTIONS.items()}
PHRASES = {name: phrase for name, (_, phrase) in DESCRIPTIONS.items()}

# Every reading this package can sweep, by name (the ablation's, then the mechanism's).
READINGS = {m.name: m for m in (*ABLATION, *MECHANISM)}


def label(name: str) -> str:
    """The short label of a reading's name (the name itself if it has none)."""
    return LABELS.get(name, name)
