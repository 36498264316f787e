"""helpers.ops.run_cell: train.ipynb run in-process, without papermill or IPython, gives the
record papermill gives (same key, same numbers; only times and the creation stamp differ)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.ops import run_cell

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "train.ipynb"
PARAMS = ["-p", "profile", "smoke", "-p", "depth", "8", "-p", "results_dir", "res",
          "-p", "lr", "0.003"]
# without IPython and papermill, as on the offline GPU machine
NO_PAPERMILL = ("import sys; sys.modules['IPython'] = sys.modules['papermill'] = None; "
                "from helpers.ops.run_cell import main; sys.exit(main(sys.argv[1:]))")


def _record(folder: Path) -> dict:
    (path,) = folder.glob("*.json")
    rec = json.loads(path.read_text())
    rec.pop("created")
    rec.pop("timings")
    for row in rec["history"]:
        row.pop("seconds")
    rec["theory"].pop("seconds", None)
    return rec


def test_code_cells_find_the_parameters_cell():
    cells = code_cells = run_cell.code_cells(NOTEBOOK)
    flags = [p for _, p in code_cells]
    assert flags.count(True) == 1 and flags.index(True) == 0
    assert "lr = 0.001" in cells[0][0] and "check_parameters(globals())" in cells[1][0]
    assert "cell.prepare(globals())" in cells[2][0]     # after the check, before Keras


def test_a_notebook_without_parameters_cell_is_refused(tmp_path):
    nb = tmp_path / "x.ipynb"
    nb.write_text(json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "source": "1"}]}))
    with pytest.raises(ValueError, match="tagged 'parameters'"):
        run_cell.code_cells(nb)


def test_a_failing_cell_names_itself(tmp_path):
    nb = tmp_path / "x.ipynb"
    nb.write_text(json.dumps({"cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "a = 1"},
        {"cell_type": "code", "metadata": {}, "source": ["assert a == 2, 'a is ' + str(a)"]}]}))
    with pytest.raises(AssertionError, match="a is 5") as e:
        run_cell.run_notebook({"a": 5}, nb)
    assert "in code cell 1" in "".join(e.value.__notes__)
    assert run_cell.run_notebook({"a": 2}, nb)["a"] == 2


def test_without_ipython_display_prints_text_and_figures_work(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", None)          # as if not installed
    monkeypatch.setitem(sys.modules, "IPython.display", None)
    nb = tmp_path / "x.ipynb"
    nb.write_text(json.dumps({"cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "n = 1"},
        {"cell_type": "code", "metadata": {}, "source": [
            "from IPython.display import Markdown, display\n", "import pandas as pd\n",
            "import matplotlib.pyplot as plt\n",
            "fig, ax = plt.subplots(1, 2, constrained_layout=True)\n",
            "ax[0].plot([1, n])\n", "plt.show()\n",
            "display(Markdown('**n is %d**' % n))\n", "display(pd.DataFrame({'col': [n]}))\n"]}]}))
    ns = run_cell.run_notebook({"n": 7}, nb, log=tmp_path / "out.log", cwd=tmp_path)
    text = (tmp_path / "out.log").read_text()
    assert "**n is 7**" in text and "col" in text and "7" in text
    assert ns["n"] == 7 and sys.modules["IPython"] is None      # the stand-in is gone again


@pytest.mark.slow
def test_in_process_run_gives_papermills_record(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2"}
    (tmp_path / "pm").mkdir()
    (tmp_path / "rc").mkdir()
    pm = subprocess.run([sys.executable, "-m", "papermill", str(NOTEBOOK), "out.ipynb", *PARAMS,
                         "--no-progress-bar"], cwd=tmp_path / "pm", env=env,
                        capture_output=True, text=True, timeout=1500)
    assert pm.returncode == 0, pm.stderr[-3000:]
    rc = subprocess.run([sys.executable, "-c", NO_PAPERMILL, *PARAMS, "--log", "run.log"],
                        cwd=tmp_path / "rc", env=env, capture_output=True, text=True, timeout=1500)
    assert rc.returncode == 0, rc.stderr[-3000:]
    a, b = _record(tmp_path / "pm" / "res"), _record(tmp_path / "rc" / "res")
    assert b["environment"]["keras_backend"] == "jax" and b["status"] == "completed"
    assert b["key"] == a["key"] and b["config"] == a["config"]
    assert b["history"] == a["history"]
    assert b["noise"] == a["noise"] and b["baseline_accuracy"] == a["baseline_accuracy"]
    assert b == a                                      # every other field too
    assert "A_avr = " in (tmp_path / "rc" / "run.log").read_text()  # Markdown printed as text
