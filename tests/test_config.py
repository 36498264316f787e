"""Parameter checking and profile defaults (helpers.experiment.config.make_config)."""

import tempfile
from pathlib import Path

import pytest

from helpers.experiment import cifar_files, data, synthetic
from helpers.experiment.config import PARAMETERS, ConfigError, TrainConfig, make_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def synthetic_tmp(monkeypatch, tmp_path):
    """The smoke profile's synthetic data goes to this test's tmp dir, not the shared /tmp."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.delenv(cifar_files.ENV_VAR, raising=False)
    return tmp_path / "tmp"


def _ok(synthetic_root, **kw):
    """make_config with valid data, so that only the parameter under test can fail."""
    return make_config(**{"data_dir": str(synthetic_root), **kw})


@pytest.mark.parametrize("name, value, accepted", [
    ("dataset", "cifar1000", ["'cifar10'", "'cifar100'"]),
    ("optimizer", "rmsprop", ["'adam'", "'nadam'", "'adamax'", "'sgd'", "'sgd_momentum'",
                              "'sgd_nesterov'"]),
    ("profile", "huge", ["'smoke'", "'fast'", "'paper'"]),
    ("noise_scope", "biases", ["'all'", "'trainable'", "'kernels'"]),
    ("noise_granularity", "model", ["'array'", "'layer'"]),
    ("depth", 21, ["6n+2"]),
    ("depth", 20.0, ["6n+2"]),
    ("depth", "20", ["6n+2"]),
    ("depth", True, ["6n+2"]),
    ("depth", 2, ["6n+2"]),
    ("lr", 0, ["> 0"]),
    ("lr", -1e-3, ["> 0"]),
    ("lr", float("nan"), ["finite", "> 0"]),
    ("lr", float("inf"), ["finite", "> 0"]),
    ("lr", True, ["> 0"]),
    ("lr", "0.1", ["> 0"]),
    ("epochs", 0, [">= 1"]),
    ("epochs", 2.5, [">= 1"]),
    ("batch_size", 0, [">= 1"]),
    ("batch_size", True, [">= 1"]),
    ("seed", -1, [">= 0"]),
    ("seed", 1.0, [">= 0"]),
    ("n_repeats", 0, [">= 1"]),
    ("batch_norm", "yes", ["True", "False"]),
    ("batch_norm", 1, ["True", "False"]),
    ("results_dir", "", ["folder"]),
    ("engine", "turbo", ["'auto'", "'fit'", "'fast'"]),
    ("engine", "fast", ["KERAS_BACKEND=jax", "'auto'", "'fit'"]),  # the session runs on TF
])
def test_bad_parameter_names_itself_and_the_accepted_values(synthetic_root, name, value,
                                                            accepted):
    with pytest.raises(ConfigError) as e:
        _ok(synthetic_root, **{name: value})
    msg = str(e.value)
    assert msg.startswith(f"{name}="), msg
    assert repr(value) in msg
    for a in accepted:
        assert a in msg, (a, msg)


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_missing_data_dir_is_refused(monkeypatch):
    monkeypatch.delenv(cifar_files.ENV_VAR, raising=False)
    with pytest.raises(ConfigError) as e:
        make_config(data_dir="/nonexistent")
    msg = str(e.value)
    assert msg.startswith("data_dir='/nonexistent'")
    assert "does not exist" in msg
    for accepted in (".tar.gz", ".npz", "'download'", "folder"):
        assert accepted in msg


def test_data_dir_without_cifar_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="data_dir=.*holds no cifar10 data"):
        make_config(data_dir=str(tmp_path))


def test_unknown_parameter_is_refused(synthetic_root):
    with pytest.raises(ConfigError) as e:
        _ok(synthetic_root, learning_rate=0.1)
    msg = str(e.value)
    assert msg.startswith("unknown parameter 'learning_rate' (did you mean 'lr'?); the accepted "
                          "parameters are: ")
    for p in PARAMETERS:
        assert repr(p) in msg
    with pytest.raises(ConfigError, match="^unknown parameters 'eta', 'learning_rate' "
                                          r"\('learning_rate': did you mean 'lr'\?\); "):
        _ok(synthetic_root, learning_rate=0.1, eta=0.2)


def test_derived_fields_cannot_be_set(synthetic_root):
    with pytest.raises(ConfigError, match="steps_per_epoch"):
        _ok(synthetic_root, steps_per_epoch=3)


@pytest.mark.parametrize("profile, epochs, n_repeats, steps", [
    ("smoke", 1, 2, 4), ("fast", 30, 5, None), ("paper", 200, 10, None)])
def test_profile_defaults(synthetic_root, profile, epochs, n_repeats, steps):
    c = _ok(synthetic_root, profile=profile)
    assert isinstance(c, TrainConfig)
    assert (c.epochs, c.n_repeats, c.steps_per_epoch) == (epochs, n_repeats, steps)
    if profile == "smoke":
        assert (c.train_samples, c.test_samples) == (512, 256)
    else:
        assert (c.train_samples, c.test_samples) == (None, None)


@pytest.mark.parametrize("profile", ("smoke", "fast", "paper"))
def test_explicit_values_win_over_the_profile(synthetic_root, profile):
    c = _ok(synthetic_root, profile=profile, epochs=3, n_repeats=7)
    assert (c.epochs, c.n_repeats) == (3, 7)


def _synthetic(config) -> bool:
    """Whether the run of ``config`` reads synthetic data (as its record will say)."""
    return data.load_cifar(config.dataset, config.data_dir).source["synthetic"]


def test_smoke_without_data_uses_synthetic_data(synthetic_tmp):
    c = make_config(profile="smoke")
    assert _synthetic(c) is True
    assert c.data_dir is not None and str(synthetic_tmp) in c.data_dir
    ds = data.load_cifar("cifar10", c.data_dir)
    assert len(ds.y_train) == 512 and len(ds.y_test) == 256
    # cifar100 gets its own synthetic set
    c100 = make_config(profile="smoke", dataset="cifar100")
    assert _synthetic(c100) and c100.data_dir != c.data_dir
    assert data.load_cifar("cifar100", c100.data_dir).num_classes == 100
    assert (c.epochs, c.n_repeats, c.steps_per_epoch) == (1, 2, 4)


def test_synthetic_folder_is_accepted(synthetic_root):
    c = make_config(profile="fast", data_dir=synthetic_root)  # a Path is fine too
    assert c.data_dir == str(synthetic_root)
    assert _synthetic(c) is True


def test_real_looking_data_is_not_marked_synthetic(tmp_path):
    root = tmp_path / "d"  # an npz (no MD5 to fail) without the synthetic marker
    synthetic.write_synthetic(root, "cifar10", n_train=10, n_test=5, fmt="npz")
    (root / cifar_files.SYNTHETIC_MARKER).unlink()
    c = make_config(data_dir=str(root))
    assert _synthetic(c) is False


def test_paper_profile_without_data_asks_for_it(no_cifar_env):
    with pytest.raises(ConfigError) as e:
        make_config(profile="paper")
    msg = str(e.value)
    assert "data_dir" in msg and "download" in msg and "'paper'" in msg


def test_paper_profile_uses_the_cached_archive(no_cifar_env):
    archive = synthetic.write_synthetic(no_cifar_env / "datasets", "cifar10", n_train=10, n_test=5,
                                   fmt="archive")
    c = make_config(profile="paper")
    assert c.data_dir == str(archive)


def test_env_var_supplies_data_dir(synthetic_root, monkeypatch):
    monkeypatch.setenv(cifar_files.ENV_VAR, str(synthetic_root))
    assert make_config(profile="fast").data_dir == str(synthetic_root)


def test_download_is_accepted_without_network():
    c = make_config(data_dir="download", profile="paper")
    assert c.data_dir == "download"


def test_values_are_normalised(synthetic_root):
    import numpy as np

    c = _ok(synthetic_root, lr=1, depth=np.int64(32), batch_size=np.int32(16), seed=np.int64(2),
            batch_norm=np.bool_(False), results_dir=synthetic_root / "res")
    assert c.lr == 1.0 and isinstance(c.lr, float)
    assert c.depth == 32 and type(c.depth) is int
    assert c.batch_size == 16 and type(c.batch_size) is int
    assert c.seed == 2 and type(c.seed) is int
    assert c.batch_norm is False
    assert c.results_dir == str(synthetic_root / "res")


def test_defaults(synthetic_root):
    c = _ok(synthetic_root)
    assert (c.dataset, c.depth, c.lr, c.optimizer, c.batch_size, c.seed, c.batch_norm,
            c.profile, c.noise_scope, c.noise_granularity) == (
        "cifar10", 20, 0.001, "adam", 32, 0, True, "paper", "all", "array")
    d = c.to_dict()
    assert set(PARAMETERS) <= set(d) and d["epochs"] == 200


def test_engine_auto_resolves_to_fit_on_tensorflow_and_stays_out_of_the_run_key(synthetic_root):
    from helpers.study.results import KEY_FIELDS, run_key

    assert _ok(synthetic_root).engine == "fit"
    assert _ok(synthetic_root, engine="auto").engine == "fit"
    assert _ok(synthetic_root, engine="fit").engine == "fit"
    assert "engine" not in KEY_FIELDS
    d = _ok(synthetic_root).to_dict()
    assert d["engine"] == "fit"                        # the record's config says which ran
    assert run_key(d, "fp") == run_key({**d, "engine": "fast"}, "fp")


def test_check_injected_names_an_unknown_parameter_and_the_accepted_ones():
    import math

    from helpers.experiment.config import check_injected

    namespace = {name: None for name in PARAMETERS}
    namespace.update(math=math, make_config=make_config, In=[], _i1="", _=None)
    check_injected(namespace)  # parameters, modules, functions and IPython names: fine
    namespace["learning_rate"] = 0.01
    with pytest.raises(ConfigError) as e:
        check_injected(namespace)
    msg = str(e.value)
    assert "learning_rate" in msg
    assert all(name in msg for name in PARAMETERS)


def test_a_single_run_writes_outside_the_committed_results():
    assert TrainConfig().results_dir == "runs"
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "/runs/" in ignored


def test_config_checks_the_noise_model_once_and_keeps_its_fields(synthetic_root):
    from helpers.experiment.noise import NoiseModel

    c = _ok(synthetic_root, noise_scope="folded", noise_granularity="layer")
    assert c.noise_model == NoiseModel("folded", "layer", "additive")
    d = c.to_dict()
    assert (d["noise_scope"], d["noise_granularity"]) == ("folded", "layer")
    assert "noise_model" not in d                      # run keys and records unchanged
    with pytest.raises(ConfigError, match="^noise_granularity='pixel'.*'array', 'layer'"):
        _ok(synthetic_root, noise_granularity="pixel")


@pytest.mark.parametrize("name, hint", [("learning_rate", "lr"), ("lrr", "lr"),
                                        ("dept", "depth"), ("batchsize", "batch_size")])
def test_a_near_miss_gets_a_did_you_mean(name, hint):
    from helpers.experiment.config import check_parameters

    with pytest.raises(ConfigError) as e:
        check_parameters({"profile": "smoke", name: 1})
    assert f"unknown parameter {name!r} (did you mean {hint!r}?)" in str(e.value)


def test_check_parameters_checks_values_and_a_far_miss_gets_no_hint():
    from helpers.experiment.config import check_parameters

    check_parameters({"profile": "smoke", "lr": 0.001, "optimizer": "sgd"})  # fine
    with pytest.raises(ConfigError, match=r"optimizer='adamm' is not accepted \(did you mean "
                                          r"'adam'\?\)"):
        check_parameters({"profile": "smoke", "optimizer": "adamm"})
    with pytest.raises(ConfigError, match="lr=-1 is not accepted"):
        check_parameters({"profile": "smoke", "lr": -1})
    with pytest.raises(ConfigError) as e:
        check_parameters({"profile": "smoke", "zzzz": 1})
    assert "did you mean" not in str(e.value)


def test_config_imports_no_keras():
    """The notebook's first cell imports helpers.experiment.config to check the parameters before
    TensorFlow loads."""
    import subprocess
    import sys

    code = ("import sys, helpers.experiment.config; "
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**__import__("os").environ,
                                          "PYTHONPATH": str(ROOT / "src")}).stdout
    assert out.strip() == "[]"


def test_one_list_of_optimizers_and_engines(synthetic_tmp, monkeypatch):
    """recipe.OPTIMIZER_SETTINGS and recipe.ENGINES are the only lists: config accepts, and
    training builds, what they hold, an optimizer added there included."""
    from helpers.experiment import config, recipe, training

    assert training.resolve_engine is config.resolve_engine
    with pytest.raises(ConfigError, match="engine='jit' is not accepted.*'auto', 'fit', 'fast'"):
        make_config(profile="smoke", engine="jit")
    with pytest.raises(ConfigError, match="optimizer='rmsprop' is not accepted"):
        make_config(profile="smoke", optimizer="rmsprop")
    monkeypatch.setitem(recipe.OPTIMIZER_SETTINGS, "rmsprop", ("RMSprop", {"rho": 0.8}))
    assert make_config(profile="smoke", optimizer="rmsprop").optimizer == "rmsprop"
    opt = training.make_optimizer("rmsprop", 0.01)
    assert type(opt).__name__ == "RMSprop" and opt.rho == pytest.approx(0.8)


_BACKEND_CODE = """
import json, sys
from helpers.experiment.config import keras_backend
before = keras_backend()
import keras
print(json.dumps([before, keras.config.backend()]))
"""


@pytest.mark.parametrize("env_backend, file_backend, expected", [
    ("jax", "tensorflow", "jax"),          # KERAS_BACKEND wins over keras.json
    (None, "jax", "jax"),                  # else keras.json in $KERAS_HOME
    (None, None, "tensorflow"),            # else Keras's default
])
def test_keras_backend_without_keras_is_what_keras_then_says(tmp_path, env_backend,
                                                             file_backend, expected):
    """The grid plans (and keys) runs without importing Keras: its reading of the backend
    must be the one Keras makes when it is imported."""
    import json
    import os
    import subprocess
    import sys

    home = tmp_path / "keras-home"
    home.mkdir()
    if file_backend:
        (home / "keras.json").write_text(json.dumps({"backend": file_backend}))
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env.update(KERAS_HOME=str(home), PYTHONPATH=str(ROOT / "src"), TF_CPP_MIN_LOG_LEVEL="3")
    if env_backend:
        env["KERAS_BACKEND"] = env_backend
    out = subprocess.run([sys.executable, "-c", _BACKEND_CODE], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [expected, expected]


def test_each_run_parameter_is_declared_once_and_the_other_lists_agree():
    """TrainConfig's fields are the declaration: the notebook's parameters cell, the run
    key's fields and what the grid sets itself are read from it, and agree with it."""
    import ast
    import dataclasses
    from pathlib import Path

    from helpers.experiment import config as cfg
    from helpers.ops import grid
    from helpers.study import results

    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    # the notebook's parameters cell is rendered from them: every parameter, in order, with
    # the declared default (test_the_parameters_cell_is_the_rendered_one: the committed cell)
    cell = cfg.parameters_cell()
    declared = [(n.targets[0].id, ast.literal_eval(n.value)) for n in ast.parse(cell).body]
    assert declared == [(name, fields[name].default) for name in PARAMETERS]
    # the run key: every field but where files are and how it is computed
    assert results.KEY_FIELDS == cfg.KEY_FIELDS and results.KEY_FIELDS_IF_SET == ("noise_test_samples",)
    assert set(fields) - set(cfg.KEY_FIELDS) - set(cfg.KEY_FIELDS_IF_SET) == {
        "data_dir", "results_dir", "engine"}
    # the grid: its cells set exactly the "cell" parameters, its options the others
    cells = grid.study_cells(seeds=(0,))
    assert {k for c in cells for k in c.params} == set(cfg._declared(grid="cell"))
    assert set(cfg._declared(grid="option")) == {"profile", "results_dir", "data_dir"}
    with pytest.raises(ConfigError, match="the grid sets these itself"):
        grid.plan(cells[:1], "smoke", "/tmp/unused", extra={"seed": 1})


def test_the_parameters_cell_is_the_rendered_one():
    """notebooks/train.py's parameters cell is the one rendered from TrainConfig's
    declarations, to the character (and train.ipynb follows it: test_paired_notebooks_...)."""
    from helpers.experiment.config import parameters_cell
    from helpers.ops import params

    _, cell, _ = params.split(params.TRAIN_PY.read_text())
    assert cell == params.expected_cell(), (
        f"the parameters cell of notebooks/train.py is not the declared one: run "
        f"`{params.COMMAND}` (it rewrites the cell and syncs train.ipynb)")
    lines = parameters_cell().splitlines()
    assert lines[0] == 'dataset = "cifar10"        # cifar10 | cifar100'
    assert 'profile = "paper"          # smoke | fast | cpu | long | paper' in lines
    assert "batch_size = 32" in lines and 'noise_granularity = "array"  # array | layer' in lines


def test_params_command_rewrites_the_cell_and_syncs_the_ipynb(tmp_path, capsys):
    import shutil

    import nbformat

    from helpers.ops import params

    py = tmp_path / "train.py"
    shutil.copy(params.TRAIN_PY, py)
    shutil.copy(params.TRAIN_PY.with_suffix(".ipynb"), py.with_suffix(".ipynb"))
    head, cell, rest = params.split(py.read_text())
    py.write_text(head + cell.replace("lr = 0.001 ", "lr = 0.5   ") + rest)
    assert params.main(["--check", "--notebook", str(py)]) == 1
    assert params.COMMAND in capsys.readouterr().err
    assert params.main(["--write", "--notebook", str(py)]) == 0
    assert py.read_text() == head + cell + rest
    assert params.main(["--check", "--notebook", str(py)]) == 0
    nb = nbformat.read(py.with_suffix(".ipynb"), as_version=4)
    (code,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert code.source + "\n\n" == cell
