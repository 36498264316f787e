"""Progress bars for long work (training, noise sweeps, the grid)."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


def progress_bar(**kwargs) -> tqdm:
    """A tqdm bar that redraws often in a terminal and rarely in a notebook or log,
    so that executed notebooks stay small."""
    interactive = getattr(sys.stderr, "isatty", lambda: False)()
    kwargs.setdefault("mininterval", 0.5 if interactive else 15.0)
    return tqdm(**kwargs)
