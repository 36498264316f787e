"""Run ``notebooks/train.ipynb`` in this Python process, without papermill or a kernel.

    python -m helpers.ops.run_cell -p profile smoke -p lr 0.001 -p results_dir results/x

For machines without papermill, nbclient or ipykernel (the offline GPU machine). It
does what papermill does with the notebook, in plain Python: reads the ``.ipynb``
(JSON), runs its code cells in order in one fresh namespace, with the given parameters
assigned right after the cell tagged ``parameters`` (papermill's injected cell), and
the current folder (or ``cwd``) as working directory. The code that runs is the notebook's
own, so the run record is the one papermill would produce (same key, same fields;
``environment.packages`` lacks papermill when it is not installed, as everywhere).

Differences, none of which reaches the record: no executed ``.ipynb`` is written (the
printed output is kept in ``<results_dir>/notebooks/<key>.out.log``); figures go to
the non-interactive Agg backend and are not saved; ``display``/``Markdown`` print
plain text (a stand-in ``IPython.display`` during the run, IPython installed or not).

``grid_runner`` has the signature of ``helpers.ops.grid.run_grid``'s ``runner``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TRAIN_NOTEBOOK = ROOT / "notebooks" / "train.ipynb"


def code_cells(notebook: str | Path) -> list[tuple[str, bool]]:
    """(source, is_parameters_cell) of each code cell of an ``.ipynb``."""
    nb = json.loads(Path(notebook).read_text())
    cells = []
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        src = cell["source"]
        src = "".join(src) if isinstance(src, list) else src
        cells.append((src, "parameters" in cell.get("metadata", {}).get("tags", [])))
    if not any(p for _, p in cells):
        raise ValueError(f"{notebook}: no code cell is tagged 'parameters'")
    return cells


def _ipython_stub() -> types.ModuleType:
    """A stand-in ``IPython`` package whose ``display`` module prints ``display(...)``
    and ``Markdown`` as text (IPython's own, outside a kernel, prints only a repr for
    Markdown; on the GPU machine there is no IPython at all)."""

    class Markdown(str):
        pass

    def display(*objs, **_):
        for o in objs:
            print(o.to_string() if hasattr(o, "to_string") else o)

    pkg = types.ModuleType("IPython")
    mod = types.ModuleType("IPython.display")
    mod.display, mod.Markdown = display, Markdown
    pkg.display = mod
    # matplotlib probes a loaded IPython: no shell here, and no version to adapt to
    pkg.get_ipython = lambda: None
    pkg.version_info = (0, 0, 0)
    return pkg


class _Tee(io.TextIOBase):
    def __init__(self, *streams):
        self.streams = streams

    def write(self, s):
        for st in self.streams:
            st.write(s)
        return len(s)

    def flush(self):
        for st in self.streams:
            st.flush()


def run_notebook(parameters: dict, notebook: str | Path = TRAIN_NOTEBOOK,
                 log: str | Path | None = None, cwd: str | Path | None = None) -> dict:
    """Execute the notebook's code cells with ``parameters`` injected, in ``cwd`` (None:
    the current folder, as papermill); return the final namespace. An exception in a
    cell propagates, with the cell's number added."""
    import matplotlib

    matplotlib.use("Agg")
    notebook = Path(notebook).resolve()
    cells = code_cells(notebook)
    stub = _ipython_stub()
    absent = object()
    saved_modules = {k: sys.modules.get(k, absent) for k in ("IPython", "IPython.display")}
    sys.modules["IPython"], sys.modules["IPython.display"] = stub, stub.display
    try:
        import keras
        keras.backend.clear_session()  # a fresh kernel's layer names and graph
    except ImportError:
        pass
    namespace = {"__name__": "__main__"}
    injected = "".join(f"{k} = {v!r}\n" for k, v in parameters.items())
    here = os.getcwd()
    out = open(log, "w") if log else None
    stream = _Tee(sys.stdout, out) if out else sys.stdout
    try:
        os.chdir(cwd or here)
        with contextlib.redirect_stdout(stream):
            for i, (src, is_params) in enumerate(cells):
                try:
                    exec(compile(src, f"{notebook.name}[cell {i}]", "exec"), namespace)
                    if is_params:
                        exec(compile(injected, f"{notebook.name}[injected parameters]", "exec"),
                             namespace)
                except Exception as e:
                    e.add_note(f"in code cell {i} of {notebook}")
                    raise
    finally:
        os.chdir(here)
        if out:
            out.close()
        for k, v in saved_modules.items():
            if v is absent:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
        import matplotlib.pyplot as plt
        plt.close("all")
    return namespace


def grid_runner(cell, results_dir: Path, notebook: str | Path = TRAIN_NOTEBOOK) -> None:
    """``runner`` for ``helpers.ops.grid.run_grid``: the cell's run in this process."""
    results_dir = Path(results_dir).resolve()
    logs = results_dir / "notebooks"
    logs.mkdir(parents=True, exist_ok=True)
    params = {**cell.params, "results_dir": str(results_dir)}
    run_notebook(params, notebook, log=logs / f"{cell.key}.out.log", cwd=Path(notebook).parent)


def _parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.ops.run_cell",
                                 description="Run notebooks/train.ipynb in-process "
                                             "(no papermill), parameters as papermill's -p.")
    ap.add_argument("-p", "--param", nargs=2, action="append", default=[],
                    metavar=("NAME", "VALUE"), help="a notebook parameter, e.g. -p lr 0.001")
    ap.add_argument("--notebook", default=str(TRAIN_NOTEBOOK))
    ap.add_argument("--cwd", default=None, help="working folder of the run (default: here)")
    ap.add_argument("--log", default=None, help="also write the printed output here")
    args = ap.parse_args(argv)
    params = {k: _parse_value(v) for k, v in args.param}
    ns = run_notebook(params, args.notebook, args.log, args.cwd)
    print(f"record: {ns['setup'].paths.record}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
