"""The parameters cell of ``notebooks/train.py`` (and of its pair ``train.ipynb``), written
from the declaration of a run's parameters (``helpers.experiment.config.parameters_cell``).

    python -m helpers.ops.params --write   # rewrite the cell and sync train.ipynb
    python -m helpers.ops.params --check   # exit 1 when the committed cell differs
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from ..experiment.config import parameters_cell

ROOT = Path(__file__).resolve().parents[3]
TRAIN_PY = ROOT / "notebooks" / "train.py"
MARKER = '# %% tags=["parameters"]\n'
COMMAND = "python -m helpers.ops.params --write"


def split(source: str) -> tuple[str, str, str]:
    """A notebook's percent source in three: up to its parameters cell's marker line, the
    cell's text (its lines and the blank line before the next cell), the rest."""
    if MARKER not in source:
        raise ValueError(f"no parameters cell ({MARKER.strip()}) in the notebook")
    head, rest = source.split(MARKER, 1)
    end = rest.find("\n# %%") + 1 or len(rest)
    return head + MARKER, rest[:end], rest[end:]


def expected_cell() -> str:
    """The cell's text as ``split`` reads it: the rendered parameters and a blank line."""
    return parameters_cell() + "\n"


def is_current(py: Path = TRAIN_PY) -> bool:
    """Whether the notebook's parameters cell is the rendered one, to the character."""
    return split(py.read_text())[1] == expected_cell()


def write(py: Path = TRAIN_PY) -> bool:
    """Write the rendered cell into ``py`` and into its paired ``.ipynb`` (the cell tagged
    "parameters"; the rest of both files as they were, as ``jupytext --sync`` would leave
    them); whether anything changed."""
    head, cell, rest = split(py.read_text())
    ipynb = py.with_suffix(".ipynb")
    nb = nbformat.read(ipynb, as_version=4)
    (code,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if cell == expected_cell() and code.source == parameters_cell().rstrip("\n"):
        return False
    py.write_text(head + expected_cell() + rest)
    code.source = parameters_cell().rstrip("\n")
    nbformat.write(nb, ipynb)
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.ops.params",
                                 description=__doc__.split("\n")[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true",
                      help="rewrite the cell in notebooks/train.py and sync train.ipynb")
    mode.add_argument("--check", action="store_true",
                      help="exit 1 when the committed cell is not the rendered one")
    ap.add_argument("--notebook", type=Path, default=TRAIN_PY, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.check:
        if is_current(args.notebook):
            return 0
        print(f"{args.notebook.name}: the parameters cell is not the declared one; run "
              f"`{COMMAND}`", file=sys.stderr)
        return 1
    print(f"{args.notebook.name}: " + ("rewrote the parameters cell and synced its .ipynb"
                                       if write(args.notebook) else "already current"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
