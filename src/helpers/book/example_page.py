"""The book's example-run page: one training notebook executed by the grid, made readable.

    python -m helpers.book.example_page results/cpu/notebooks/<key>.out.ipynb book/example_run.ipynb

The executed notebook is kept as it ran (outputs untouched, not re-run when the book
is built). Only its presentation changes: the parameter cells (which hold this
machine's paths; the run record holds the configuration) are removed from the page,
code is folded, stderr (progress bars, library log lines) is dropped, machine paths
in the parameter cells and the papermill metadata are shortened to their last part,
and a note names the run, its record and its scale (made again from a page, the note is
replaced: ``python -m helpers.book.example_page book/example_run.ipynb
book/example_run.ipynb --record <key>.json`` refreshes it). Outputs are made readable, not
changed (``readable``): a printed line longer than the page's output box wraps, and
the plain-text maths of Markdown outputs and table headers is typeset.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import textwrap
from pathlib import Path

import nbformat

from ..experiment.profiles import PROFILES
from .typeset import typeset

WRAP = 78   # characters of a printed line that fit the page's output box
# table headers of the sweep's frame, as a page writes them
HEADERS = {"eta": "\u03b7", "a_x": "<i>a</i><sup>x</sup>", "A_x": "<i>A</i><sup>x</sup>",
           "a_x_std": "<i>a</i><sup>x</sup> std", "A_x_std": "<i>A</i><sup>x</sup> std"}


NOTE_HEAD = "```{admonition} What this page is"
PAPER_EPOCHS = PROFILES["paper"].epochs   # the paper's recipe


def _note(record: dict, record_path: str | None = None) -> str:
    """The page's note: the run, its record (``record_path``, repository-relative; by
    default ``results/<profile>/<key>.json``), its scale, and, for a run resumed from its
    checkpoint, that the outputs are those of the last execution."""
    c, env = record["config"], record["environment"]
    record_path = record_path or f"results/{c['profile']}/{record['key']}.json"
    resumed = int(record.get("timings", {}).get("resumed_from_epoch") or 0)
    last = record["history"][-1] if record.get("history") else {}
    beside_paper = (c["optimizer"] == "adam" and c.get("batch_norm", True)
                    and c["epochs"] != PAPER_EPOCHS)
    return (
        f"{NOTE_HEAD}\n:class: note\n"
        f"An executed copy of `notebooks/train.ipynb`, kept as the study's grid ran it (it is "
        f"not re-run when the book is built): ResNet{c['depth']} on "
        f"{record['data']['label']}, {c['optimizer']} at lr = {c['lr']:g}, batch "
        f"{c['batch_size']}, seed {c['seed']}, profile `{c['profile']}` ({c['epochs']} epochs of "
        f"the compressed step schedule), N = {c['n_repeats']} noise draws per level"
        + (f" on a fixed subset of {c['noise_test_samples']} test images"
           if c.get("noise_test_samples") else "")
        + f"; {env['keras_backend']} on {env['device']}, code commit "
        f"`{(env['git']['commit'] or 'unknown')[:8]}`. Record: `{record_path}`. Final test "
        f"accuracy {100 * last.get('test_accuracy', float('nan')):.2f} % after "
        f"{record['timings']['train_seconds'] / 60:.0f} min of training"
        + (f" over all {len(record.get('history', []))} epochs. The run was interrupted and last "
           f"resumed from its checkpoint after epoch {resumed}: the page shows the resumed "
           f"execution, whose training history and figures cover every epoch."
           if resumed and resumed < c["epochs"] else ".")
        + (f" Its closing sentence sets $A_{{avr}}$ beside the paper's Table III: one training seed "
           f"of {c['epochs']} epochs against the paper's one run of {PAPER_EPOCHS}, which is no "
           "test of the paper (the learning-rate page compares cells over seeds, with "
           "intervals)." if beside_paper else "")
        + "\n```")


def _short(text: str) -> str:
    """Absolute paths -> their last part ("/a/b/c.npz" -> "c.npz")."""
    return re.sub(r"/(?:[\w.-]+/)+([\w.-]+)", r"\1", text)


def _wrap(text: str) -> str:
    return "\n".join(textwrap.fill(line, WRAP, subsequent_indent="  ", break_on_hyphens=False)
                     if len(line) > WRAP else line for line in text.split("\n"))


def readable(nb) -> None:
    """Outputs made readable in place (and again, unchanged): printed lines wrapped at
    ``WRAP`` characters, Markdown outputs typeset (``typeset``), table headers of
    ``HEADERS`` renamed."""
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                o["text"] = _wrap("".join(o["text"]))
            data = o.get("data", {})
            if "text/markdown" in data:
                data["text/markdown"] = typeset("".join(data["text/markdown"]))
            if "text/html" in data:
                data["text/html"] = re.sub(
                    r"<th>(\w+)</th>", lambda m: f"<th>{HEADERS.get(m.group(1), m.group(1))}</th>",
                    "".join(data["text/html"]))


def make_page(executed: Path, out: Path, record: dict, record_path: str | None = None) -> Path:
    nb = nbformat.read(executed, as_version=4)
    pm = nb.metadata.get("papermill", {})
    for k in ("input_path", "output_path"):
        if pm.get(k):
            pm[k] = Path(pm[k]).name
    for k, v in list(pm.get("parameters", {}).items()):
        if isinstance(v, str):
            pm["parameters"][k] = _short(v)
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type == "code":
            if tags & {"parameters", "injected-parameters"}:
                tags.add("remove-cell")
                cell.source = _short(cell.source)
            else:
                tags.add("hide-input")
            cell.outputs = [o for o in cell.get("outputs", [])
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
        cell.metadata["tags"] = sorted(tags)
    readable(nb)
    note = nbformat.v4.new_markdown_cell(_note(record, record_path))
    old = [i for i, c in enumerate(nb.cells)
           if c.cell_type == "markdown" and c.source.startswith(NOTE_HEAD)]
    if old:          # a page made before: its note is replaced, not doubled
        nb.cells[old[0]] = note
    else:
        nb.cells.insert(1, note)
    nbformat.write(nb, out)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.book.example_page", description=__doc__.split("\n")[0])
    ap.add_argument("executed", type=Path, help="an executed train notebook (<key>.out.ipynb)")
    ap.add_argument("out", type=Path, help="where the page goes, e.g. book/example_run.ipynb")
    ap.add_argument("--record", type=Path, default=None,
                    help="its run record (default: <results_dir>/<key>.json beside notebooks/)")
    args = ap.parse_args(argv)
    key = args.executed.name.removesuffix(".out.ipynb")
    record = args.record or args.executed.parent.parent / f"{key}.json"
    if not record.exists():
        ap.error(f"record={str(record)!r} does not exist; pass --record <key>.json")
    make_page(args.executed, args.out, json.loads(record.read_text()),
              os.path.relpath(record.resolve(), Path.cwd()))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
