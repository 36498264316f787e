"""notebooks/train.ipynb end to end through papermill on the smoke profile."""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill as pm
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

pytestmark = pytest.mark.slow


def _records(folder):
    return [json.loads(p.read_text()) for p in Path(folder).glob("*.json")]


def _outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(str(out.get("text", "")))
            parts.extend(str(v) for v in out.get("data", {}).values())
    return "\n".join(parts)


def test_train_notebook_smoke_tensorflow(tmp_path):
    out = tmp_path / "train.out.ipynb"
    pm.execute_notebook(str(NOTEBOOKS / "train.ipynb"), str(out), cwd=str(tmp_path),
                        parameters={"profile": "smoke", "results_dir": "res", "lr": 0.00075},
                        progress_bar=False)
    (rec,) = _records(tmp_path / "res")
    assert rec["status"] == "completed"
    assert rec["synthetic_data"] is True
    assert rec["config"]["lr"] == 0.00075 and rec["config"]["profile"] == "smoke"
    assert rec["environment"]["keras_backend"] == "tensorflow"
    assert len(rec["noise"]["draws"]) == 1 + 6 * 2          # a0 + 6 etas x N = 2
    assert 0 <= rec["baseline_accuracy"] <= 1
    assert (tmp_path / "res" / f"{rec['key']}.weights.h5").exists()
    text = _outputs_text(nbformat.read(out, as_version=4))
    assert "SMOKE RUN on synthetic data" in text
    # the closing sentence uses the record's numbers; a smoke model is usually near chance
    a0 = rec["baseline_accuracy"]
    if a0 < 0.2:
        assert f"a0 = {100 * a0:.2f} %, near chance" in text and "A_avr =" not in text
    else:
        assert f"A_avr = {100 * rec['noise']['A_avr']:.2f} %" in text
    assert f"a0 = {100 * a0:.2f} % on {rec['config']['test_samples']} test images" in text


def test_train_notebook_smoke_jax(tmp_path):
    out = tmp_path / "train.out.ipynb"
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    proc = subprocess.run(
        [sys.executable, "-m", "papermill", str(NOTEBOOKS / "train.ipynb"), str(out),
         "-p", "profile", "smoke", "-p", "results_dir", "res", "-p", "depth", "8",
         "--cwd", str(tmp_path), "--no-progress-bar"],
        env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (rec,) = _records(tmp_path / "res")
    assert rec["environment"]["keras_backend"] == "jax"
    assert rec["config"]["depth"] == 8 and rec["status"] == "completed"


@pytest.mark.parametrize("name,value,words", [
    ("depth", 21, ["depth", "6n+2"]),
    ("optimizer", "rmsprop", ["optimizer", "sgd_nesterov"]),
    ("dataset", "mnist", ["dataset", "cifar100"]),
    ("profile", "huge", ["profile", "smoke"]),
    ("lr", -0.1, ["lr", "> 0"]),
    ("epochs", 0, ["epochs", ">= 1"]),
    ("batch_size", 0, ["batch_size", ">= 1"]),
    ("data_dir", "/no/such/folder", ["data_dir", "does not exist"]),
    ("optimizer", "adamm", ["optimizer='adamm'", "did you mean 'adam'?"]),
    ("dept", 20, ["unknown parameter 'dept'", "did you mean 'depth'?"]),
])
def test_bad_parameter_stops_the_notebook_with_a_clear_message(tmp_path, name, value, words):
    with pytest.raises(pm.PapermillExecutionError) as err:
        pm.execute_notebook(str(NOTEBOOKS / "train.ipynb"), str(tmp_path / "o.ipynb"),
                            cwd=str(tmp_path), progress_bar=False,
                            parameters={"profile": "smoke", "results_dir": "res", name: value})
    e = err.value
    assert e.ename == "ConfigError"
    for w in words:
        assert w in e.evalue
    # in the first code cell after the parameters, which imports no TensorFlow
    assert e.source.strip().endswith("check_parameters(globals())")
    assert "import" not in e.source.replace("from helpers.experiment.config import check_parameters", "")
    assert not (tmp_path / "res").exists()  # stopped before any work


def test_paired_notebooks_are_in_sync():
    """Each committed .ipynb has the same cells as its reviewed jupytext .py twin."""
    import jupytext

    pairs = sorted(NOTEBOOKS.glob("*.py"))
    assert pairs, "no paired notebooks found"
    for py in pairs:
        text_nb = jupytext.read(py)
        ipynb = nbformat.read(py.with_suffix(".ipynb"), as_version=4)
        assert [(c.cell_type, c.source) for c in text_nb.cells] == \
               [(c.cell_type, c.source) for c in ipynb.cells], f"{py.name} and its .ipynb differ"
        assert all(not c.get("outputs") for c in ipynb.cells if c.cell_type == "code"), \
            f"{py.with_suffix('.ipynb').name} has outputs committed"


def test_unknown_papermill_parameter_stops_the_notebook_in_its_first_cell(tmp_path):
    out = tmp_path / "train.out.ipynb"
    proc = subprocess.run(
        [sys.executable, "-m", "papermill", str(NOTEBOOKS / "train.ipynb"), str(out),
         "-p", "learning_rate", "0.01", "-p", "profile", "smoke", "--cwd", str(tmp_path),
         "--no-progress-bar"],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    message = ("unknown parameter 'learning_rate' (did you mean 'lr'?); "
               "the accepted parameters are: ")
    assert message in proc.stderr
    assert "'dataset', 'depth', 'lr', 'optimizer'" in proc.stderr  # the accepted names
    nb = nbformat.read(out, as_version=4)
    ran = [c for c in nb.cells if c.cell_type == "code" and c.get("execution_count")]
    assert len(ran) == 3  # parameters, injected parameters, the check: nothing else ran
    assert "check_parameters(globals())" in ran[2].source and "keras" not in ran[2].source
    (error,) = [o for o in ran[2].outputs if o.output_type == "error"]
    # a short traceback: the cell and check_parameters, not the helpers' call chain
    lines = "\n".join(error.traceback).splitlines()
    assert len(lines) < 25 and message in lines[-1], lines
    assert not list(tmp_path.glob("**/*.json"))
