"""The configuration of one run: the parameters of ``notebooks/train.ipynb``.

``make_config`` checks every parameter before any expensive work starts and
fills what was left as ``None`` from the profile (``helpers.experiment.profiles``).
Every error names the parameter and the accepted values. The notebook's parameters
cell is rendered from the declarations (``parameters_cell``; ``python -m
helpers.ops.params --write`` writes it). This module does not
import Keras (``keras_backend`` reads the backend as Keras will), so that
``check_parameters`` can stop a bad notebook run, and the grid can plan its runs,
before TensorFlow loads.
"""

from __future__ import annotations

import difflib
import inspect
import json
import math
import os
import sys
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from . import cifar_files, synthetic
from .noise_model import GRANULARITIES, SCOPES, NoiseModel
from .profiles import PROFILES
from .recipe import BATCH_SIZE, DATASETS, ENGINES, N_REPEATS, OPTIMIZER_SETTINGS, PAPER_DEPTHS


class ConfigError(ValueError):
    """A parameter has a value outside the accepted ones."""


def _param(default, *, key: str | None = "always", grid: str | None = None,
           notebook: bool = True, comment: str = ""):
    """One run parameter, declared once (a field of ``TrainConfig``); everything else that
    lists parameters is derived from these declarations.

    ``key``: "always" (part of the run key, ``KEY_FIELDS``), "if set" (part of it only when
    not None: a field added later, so that older keys stay the same) or None (not in the
    key: where files are, and how a run is computed, which changes no number). ``grid``:
    "cell" (an axis of the grid's cell list, set by its filters) or "option" (set by a
    grid option: --profile, --results-dir, --data-dir), both refused as ``-p``; None: the
    grid passes it as ``-p name value``. ``notebook``: a parameter of the notebook's
    parameters cell (``PARAMETERS``), else filled from the profile by ``make_config``.
    ``comment``: its line's comment in that cell (``parameters_cell``), e.g. the accepted
    values."""
    return field(default=default, metadata={"key": key, "grid": grid, "notebook": notebook,
                                            "comment": comment})


def _choices(names) -> str:
    """``("a", "b")`` -> "a | b": the accepted values as a parameter's comment lists them."""
    return " | ".join(map(str, names))


@dataclass(frozen=True)
class TrainConfig:
    dataset: str = _param("cifar10", grid="cell", comment=_choices(DATASETS))
    depth: int = _param(20, grid="cell",
                        comment="6n+2: " + ", ".join(map(str, PAPER_DEPTHS)))
    lr: float = _param(0.001, grid="cell", comment="base learning rate eta of the optimizer")
    optimizer: str = _param("adam", grid="cell", comment=_choices(OPTIMIZER_SETTINGS))
    epochs: int | None = _param(None, comment="None: the profile's (" + ", ".join(
        f"{name} {p.epochs}" for name, p in PROFILES.items()) + ")")
    batch_size: int = _param(BATCH_SIZE)
    seed: int = _param(0, grid="cell")
    batch_norm: bool = _param(True, grid="cell")
    profile: str = _param("paper", grid="option", comment=_choices(PROFILES))
    # the data enter the key by their fingerprint
    data_dir: str | None = _param(None, key=None, grid="option",
                                  comment='folder / .tar.gz / .npz / "download"; '
                                          "None: $CIFAR_DATA_DIR")
    # the study passes its own
    results_dir: str = _param("runs", key=None, grid="option",
                              comment='where the record goes; "runs" is ignored by git')
    n_repeats: int | None = _param(None, comment="noisy copies per eta; None: the profile's "
                                                 f"(paper {N_REPEATS})")
    noise_scope: str = _param("all", comment=_choices(SCOPES))
    noise_granularity: str = _param("array", comment=_choices(GRANULARITIES))
    # the models of noise_model.ABLATION; the grid sets it per study
    noise_ablation: bool = _param(False, grid="cell", comment="also sweep the other noise "
                                                              "models (scope, granularity, kind)")
    # make_config stores fit or fast; the same numbers either way
    engine: str = _param("auto", key=None, comment=_choices(ENGINES) + " (JAX only)")
    mixed_precision: bool = _param(False, comment="bfloat16 compute (mixed_bfloat16); "
                                                  "off until its effect is measured")

    # filled from the profile by make_config
    steps_per_epoch: int | None = _param(None, notebook=False)
    train_samples: int | None = _param(None, notebook=False)
    test_samples: int | None = _param(None, notebook=False)
    # fixed test subset of the noise sweeps (added later: in the key only when set)
    noise_test_samples: int | None = _param(None, key="if set", notebook=False)

    @property
    def noise_model(self) -> NoiseModel:
        """The run's noise reading (additive noise; the ablation sweeps the others)."""
        return NoiseModel(self.noise_scope, self.noise_granularity)

    def to_dict(self) -> dict:
        return asdict(self)


def _declared(**want) -> tuple:
    """The names of ``TrainConfig``'s fields whose declaration (``_param``) has ``want``."""
    return tuple(f.name for f in fields(TrainConfig)
                 if all(f.metadata[k] == v for k, v in want.items()))


# The notebook's parameters (its parameters cell), in the order of the declarations.
PARAMETERS = _declared(notebook=True)
# The fields that change what a run computes: its key (``helpers.study.results.run_key``).
KEY_FIELDS = _declared(key="always")
KEY_FIELDS_IF_SET = _declared(key="if set")
# What the grid sets itself (its cell axes and options), never through ``-p``.
GRID_SET = _declared(grid="cell") + _declared(grid="option")


# The column where the parameters cell's comments start (a longer line: two spaces after it).
_COMMENT_COLUMN = 27


def parameters_cell() -> str:
    """The parameters cell of ``notebooks/train.py`` (the lines under its
    ``# %% tags=["parameters"]``), rendered from the declarations: one line per parameter of
    ``PARAMETERS``, ``name = default``, and its comment. ``python -m helpers.ops.params
    --write`` writes it into the notebook (and its ``train.ipynb``)."""
    lines = []
    for f in fields(TrainConfig):
        if f.name in PARAMETERS:
            value = json.dumps(f.default) if isinstance(f.default, str) else repr(f.default)
            line = f"{f.name} = {value}"
            comment = f.metadata["comment"]
            lines.append(f"{line:<{_COMMENT_COLUMN - 2}}  # {comment}" if comment else line)
    return "\n".join(lines) + "\n"


# Names IPython itself puts in a notebook's namespace.
_IPYTHON_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "open"})


def check_injected(namespace: dict) -> None:
    """Stop when the notebook's globals hold a value that is not a parameter.

    Papermill only warns about a ``-p name value`` that the parameters cell does
    not declare, and injects it anyway; called right after the parameters, this
    turns a misspelt name (``learning_rate`` for ``lr``) into an error that names
    it and the accepted names, before any work starts. Modules, functions,
    classes and names starting with ``_`` are not parameters and are ignored.
    """
    _reject_unknown([name for name, value in namespace.items()
                     if not name.startswith("_") and name not in PARAMETERS
                     and name not in _IPYTHON_NAMES
                     and not (inspect.ismodule(value) or callable(value))])


def check_parameters(namespace: dict) -> None:
    """The first code cell of ``train.ipynb``: stop on an unknown name or a bad value
    before TensorFlow is imported, with a short traceback (``check_injected``, then
    every check of ``make_config`` but the engine's, which needs Keras)."""
    try:
        check_injected(namespace)
        _checked({name: namespace[name] for name in PARAMETERS if name in namespace})
    except ConfigError as e:
        raise ConfigError(str(e)) from None


def _reject_unknown(names) -> None:
    """A ConfigError naming each unknown parameter (with the nearest accepted name
    for a near miss: ``learning_rat`` -> did you mean 'lr'?) and every accepted one."""
    if names:
        noun = "parameter" if len(names) == 1 else "parameters"
        hints = []
        for name in sorted(names):
            close = difflib.get_close_matches(name, PARAMETERS, n=1, cutoff=0.6)
            close = close or [p for p in PARAMETERS if _initials(name) == p]
            if close:
                hints.append(("" if len(names) == 1 else f"{name!r}: ")
                             + f"did you mean {close[0]!r}?")
        raise ConfigError(f"unknown {noun} {', '.join(map(repr, sorted(names)))}"
                          + (f" ({'; '.join(hints)})" if hints else "")
                          + f"; the accepted parameters are: {', '.join(map(repr, PARAMETERS))}")


def _initials(name: str) -> str:
    """``learning_rate`` -> ``lr``: a short name is often the initials of a long one."""
    return "".join(part[0] for part in name.split("_") if part)


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _check_int(name, value, minimum):
    if not _is_int(value) or value < minimum:
        raise ConfigError(f"{name}={value!r} is not accepted: it must be an integer >= {minimum}")


def _check_choice(name, value, accepted):
    if value not in accepted:
        close = (difflib.get_close_matches(value, [str(a) for a in accepted], n=1)
                 if isinstance(value, str) else [])
        raise ConfigError(f"{name}={value!r} is not accepted"
                          + (f" (did you mean {close[0]!r}?)" if close else "")
                          + "; accepted values: " + ", ".join(repr(a) for a in accepted))


def synthetic_data_dir(dataset: str) -> Path:
    """Where the smoke profile writes its synthetic dataset (content is deterministic),
    as many images as the profile trains and tests on."""
    root = Path(tempfile.gettempdir()) / "helpers-synthetic" / dataset
    if not (root / cifar_files.SYNTHETIC_MARKER).exists():
        smoke = PROFILES["smoke"]
        synthetic.write_synthetic(root, dataset, n_train=smoke.train_samples,
                                  n_test=smoke.test_samples, seed=0, fmt="folder")
    return root


def keras_backend() -> str:
    """The Keras backend of this process, without importing Keras: Keras's own answer
    once it is imported, else what Keras reads when it is (``KERAS_BACKEND``, else the
    "backend" of ``keras.json`` in ``$KERAS_HOME`` or ``~/.keras``, else tensorflow)."""
    if "keras" in sys.modules:
        return sys.modules["keras"].config.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.path.expanduser("~")
    folder = os.environ.get("KERAS_HOME") or os.path.join(
        home if os.access(home, os.W_OK) else "/tmp", ".keras")
    try:
        with open(os.path.join(folder, "keras.json")) as f:
            return json.load(f).get("backend") or "tensorflow"
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def resolve_engine(engine: str = "auto") -> str:
    """"fit" or "fast" for ``engine`` on this process's Keras backend (``keras_backend``)."""
    if engine not in ENGINES:
        raise ValueError(f"engine={engine!r} is not one of {ENGINES}")
    backend = keras_backend()
    if engine == "auto":
        return "fast" if backend == "jax" else "fit"
    if engine == "fast" and backend != "jax":
        raise ValueError(f"engine='fast' needs KERAS_BACKEND=jax (backend is "
                         f"{backend!r}); accepted here: 'auto', 'fit'")
    return engine


def make_config(**params) -> TrainConfig:
    """Validate the parameters and resolve the profile's defaults."""
    p, profile = _checked(params)
    try:
        engine = resolve_engine(p["engine"])
    except ValueError as e:
        raise ConfigError(f"engine={p['engine']!r} is not accepted: {e}") from None
    p.update(
        engine=engine,
        epochs=int(p["epochs"] if p["epochs"] is not None else profile.epochs),
        n_repeats=int(p["n_repeats"] if p["n_repeats"] is not None else profile.n_repeats),
        steps_per_epoch=profile.steps_per_epoch,
        train_samples=profile.train_samples,
        test_samples=profile.test_samples,
        noise_test_samples=profile.noise_test_samples,
    )
    return TrainConfig(**p)


def _data_source(dataset: str, data_dir, profile_name: str) -> str | None:
    """The run's data: ``data_dir`` checked to hold ``dataset`` ("download" as is), or,
    when None, the profile's synthetic set or the default source (``$CIFAR_DATA_DIR``)."""
    data_dir = cifar_files.resolve_data_dir(data_dir)
    if data_dir is None and PROFILES[profile_name].synthetic_without_data:
        return str(synthetic_data_dir(dataset))
    if data_dir is not None and data_dir != "download":
        try:
            cifar_files.find_source(dataset, data_dir)
        except cifar_files.DataError as e:
            raise ConfigError(f"data_dir={data_dir!r} is not accepted: {e}. Accepted: a folder "
                              "holding the standard CIFAR layout, a .tar.gz, an .npz, or "
                              "'download'") from None
    elif data_dir is None:
        try:
            data_dir = cifar_files.default_source(dataset)
        except cifar_files.DataError as e:
            raise ConfigError(f"data_dir=None is not accepted for profile {profile_name!r}: {e}") \
                from None
    return data_dir


def _checked(params: dict):
    """The parameters checked (all but the engine's resolution) and made canonical,
    and their profile."""
    _reject_unknown(set(params) - set(PARAMETERS))
    p = {**asdict(TrainConfig()), **params}

    _check_choice("profile", p["profile"], tuple(PROFILES))
    _check_choice("dataset", p["dataset"], DATASETS)
    _check_choice("optimizer", p["optimizer"], tuple(OPTIMIZER_SETTINGS))
    try:
        NoiseModel(p["noise_scope"], p["noise_granularity"])
    except ValueError as e:  # "scope=... is not accepted; ..." -> "noise_scope=..."
        raise ConfigError(f"noise_{e}") from None
    _check_choice("engine", p["engine"], ENGINES)
    if not _is_int(p["depth"]) or p["depth"] < 8 or (p["depth"] - 2) % 6:
        raise ConfigError(f"depth={p['depth']!r} is not accepted: it must be 6n+2 with n >= 1 "
                          "(20, 32, 44, 56 in the paper)")
    lr = p["lr"]
    if (isinstance(lr, bool) or not isinstance(lr, (int, float, np.integer, np.floating))
            or not math.isfinite(float(lr)) or lr <= 0):
        raise ConfigError(f"lr={lr!r} is not accepted: it must be a finite number > 0")
    if p["epochs"] is not None:
        _check_int("epochs", p["epochs"], 1)
    _check_int("batch_size", p["batch_size"], 1)
    _check_int("seed", p["seed"], 0)
    if p["n_repeats"] is not None:
        _check_int("n_repeats", p["n_repeats"], 1)
    for name in ("batch_norm", "noise_ablation", "mixed_precision"):
        if not isinstance(p[name], (bool, np.bool_)):
            raise ConfigError(f"{name}={p[name]!r} is not accepted: True or False")
    if not isinstance(p["results_dir"], (str, Path)) or not str(p["results_dir"]):
        raise ConfigError(f"results_dir={p['results_dir']!r} is not accepted: a folder path")

    profile = PROFILES[p["profile"]]
    p.update(
        data_dir=_data_source(p["dataset"], p["data_dir"], p["profile"]),
        results_dir=str(p["results_dir"]),
        lr=float(lr),
        depth=int(p["depth"]),
        batch_size=int(p["batch_size"]),
        seed=int(p["seed"]),
        batch_norm=bool(p["batch_norm"]),
        noise_ablation=bool(p["noise_ablation"]),
        mixed_precision=bool(p["mixed_precision"]),
    )
    return p, profile
