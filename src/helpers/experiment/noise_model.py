"""The noise model as one value: which weights get noise, how sigma_w is measured,
and what noise (paper eq. 4-6 and the readings of our ablation).

``PAPER`` is the paper's reading ("noise added to all the model weights": every array,
BN moving statistics included, sigma_w per array, additive); ``ABLATION`` lists the
readings every LR-grid run also sweeps. A new kind of noise is one entry of ``KINDS``.
This module needs numpy only; ``helpers.experiment.noise`` applies a model to a Keras model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCOPES = ("all", "trainable", "kernels", "folded")
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


@dataclass(frozen=True)
class NoiseModel:
    """One reading of "noise on the weights": which arrays (``scope``), whose spread
    sets sigma_w (``granularity``: each array's, or its layer's pooled), and what
    noise (``kind``, a name of ``KINDS``). Checked once, here."""

    scope: str = "all"
    granularity: str = "array"
    kind: str = "additive"

    def __post_init__(self):
        # the message starts with the field's name (config.make_config prefixes "noise_")
        for field, accepted in (("scope", SCOPES), ("granularity", GRANULARITIES),
                                ("kind", tuple(KINDS))):
            value = getattr(self, field)
            if value not in accepted:
                raise ValueError(f"{field}={value!r} is not accepted; accepted values: "
                                 + ", ".join(repr(a) for a in accepted))

    @property
    def name(self) -> str:
        """"scope/granularity/kind", e.g. "all/array/additive": the key of the run
        records' ablation blocks."""
        return f"{self.scope}/{self.granularity}/{self.kind}"

    @classmethod
    def from_name(cls, name: str) -> NoiseModel:
        """The noise model called ``name`` ("scope/granularity/kind")."""
        parts = name.split("/")
        if len(parts) != 3:
            raise ValueError(f"name={name!r} is not accepted: it must be scope/granularity/kind")
        return cls(*parts)


PAPER = NoiseModel()

# The noise-model ablation: the paper's description ("noise added to all the model
# weights") admits these readings (the order is the order of the sweeps).
ABLATION = (
    PAPER,
    NoiseModel(scope="trainable"),
    NoiseModel(scope="kernels"),
    NoiseModel(granularity="layer"),
    NoiseModel(kind="multiplicative"),
    NoiseModel(scope="folded"),
)


# Short labels of the readings, for tables and sentences (by name).
LABELS = {PAPER.name: "all (paper)", "trainable/array/additive": "trainable",
          "kernels/array/additive": "kernels", "all/layer/additive": "per-layer sigma_w",
          "all/array/multiplicative": "multiplicative", "folded/array/additive": "folded BN"}


def label(name: str) -> str:
    """The short label of a reading's name (the name itself if it has none)."""
    return LABELS.get(name, name)
