"""The whole study as a grid of runs of ``notebooks/train.ipynb``.

    python -m helpers.grid --profile smoke --results-dir results/smoke
    python -m helpers.grid --profile paper --data-dir ~/cifar --seeds 0 1 2 --depths 20 32

Three studies, merged into one list of unique cells (one trained model each):

- ``lr``: the paper's LR grid, 2 datasets x 4 depths x 6 LRs, Adam (Tables II, III);
  these cells also run the noise-model ablation (``noise_ablation=True``);
- ``optimizers``: ResNet20 on CIFAR-10 at lr 0.00075 with the six optimizers (Fig. 3);
- ``batchnorm``: every depth with and without BN, both datasets, Adam at lr 0.001
  (the BN paper's abstract gives no LR; 0.001 is the middle of the LR grid);
- ``lr_outside``: the LR grid extended past the paper's range (lr 0.00025 and 0.003,
  Adam, with the ablation), so that the sweet-spot claim can fail.

Every cell runs once per training seed. Each run's executed notebook is kept
in ``<results_dir>/notebooks/``, its record in ``<results_dir>/``. A cell whose
record exists is skipped; a failed run is logged in ``<results_dir>/grid-log.jsonl``
and the grid goes on; an interrupted grid (or run: it checkpoints every epoch)
resumes where it stopped when the same command is run again.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from . import data as data_mod
from .config import ConfigError, make_config
from .paper import PAPER_DEPTHS, PAPER_LRS
from .progress import progress_bar
from .results import read_record, run_key
from .training import OPTIMIZERS

ROOT = Path(__file__).resolve().parents[2]
TRAIN_NOTEBOOK = ROOT / "notebooks" / "train.ipynb"
STUDIES = ("lr", "optimizers", "batchnorm", "lr_outside")
DATASETS = ("cifar10", "cifar100")
OPTIMIZER_LR = 0.00075
BN_LR = 0.001
OUTSIDE_LRS = (0.00025, 0.003)  # below and above the paper's six LRs (claim 4)


@dataclass
class Cell:
    """One trained model of the study: its notebook parameters and the studies it serves."""
    params: dict
    studies: set = field(default_factory=set)
    key: str = ""

    @property
    def label(self) -> str:
        p = self.params
        bn = "" if p["batch_norm"] else " noBN"
        return (f"{p['dataset']} ResNet{p['depth']}{bn} {p['optimizer']} lr={p['lr']:g} "
                f"seed={p['seed']}")


def study_cells(studies=STUDIES, datasets=DATASETS, depths=PAPER_DEPTHS, lrs=None,
                optimizers=tuple(OPTIMIZERS), seeds=(0,), batch_norm=(True, False)) -> list[Cell]:
    """The unique cells of the chosen studies, restricted by the filters (``lrs=None``:
    every LR of the chosen studies)."""
    for name, values, accepted in (("studies", studies, STUDIES), ("datasets", datasets, DATASETS),
                                   ("optimizers", optimizers, tuple(OPTIMIZERS))):
        bad = [v for v in values if v not in accepted]
        if bad:
            raise ConfigError(f"{name}={bad!r} is not accepted; accepted values: "
                              + ", ".join(map(repr, accepted)))
    wanted = []
    if "lr" in studies:
        wanted += [("lr", ds, d, lr, "adam", True) for ds in DATASETS for d in PAPER_DEPTHS
                   for lr in PAPER_LRS]
    if "optimizers" in studies:
        wanted += [("optimizers", "cifar10", 20, OPTIMIZER_LR, opt, True) for opt in OPTIMIZERS]
    if "batchnorm" in studies:
        wanted += [("batchnorm", ds, d, BN_LR, "adam", bn) for ds in DATASETS
                   for d in PAPER_DEPTHS for bn in (True, False)]
    if "lr_outside" in studies:
        wanted += [("lr_outside", ds, d, lr, "adam", True) for ds in DATASETS
                   for d in PAPER_DEPTHS for lr in OUTSIDE_LRS]

    def keep(ds, d, lr, opt, bn):
        return (ds in datasets and d in depths
                and (lrs is None or any(abs(lr - x) < 1e-12 for x in lrs))
                and opt in optimizers and bn in batch_norm)

    cells: dict[tuple, Cell] = {}
    for seed in seeds:
        for study, ds, d, lr, opt, bn in wanted:
            if not keep(ds, d, lr, opt, bn):
                continue
            ident = (ds, d, lr, opt, bn, seed)
            cell = cells.setdefault(ident, Cell({"dataset": ds, "depth": d, "lr": lr,
                                                 "optimizer": opt, "batch_norm": bn,
                                                 "seed": seed}))
            cell.studies.add(study)
    for cell in cells.values():
        cell.params["noise_ablation"] = bool({"lr", "lr_outside"} & cell.studies)
    return list(cells.values())


def plan(cells: list[Cell], profile: str, results_dir: str, data_dir=None,
         extra: dict | None = None) -> list[Cell]:
    """Check every cell's parameters (before any training) and compute its run key."""
    fixed = {"dataset", "depth", "lr", "optimizer", "batch_norm", "seed", "noise_ablation",
             "profile", "results_dir", "data_dir"}
    clash = sorted(fixed & set(extra or {}))
    if clash:
        raise ConfigError(f"-p {clash} is not accepted: the grid sets these itself; use the "
                          "filters (--datasets, --depths, --lrs, --optimizers, --seeds, "
                          "--batch-norm) and --profile/--results-dir/--data-dir")
    fingerprints = {}
    for cell in cells:
        cell.params.update(profile=profile, results_dir=str(results_dir), data_dir=data_dir,
                           **(extra or {}))
        config = make_config(**cell.params)
        if config.data_dir not in (None, "download"):  # the notebook runs in notebooks/
            cell.params["data_dir"] = str(Path(config.data_dir).resolve())
        fp_id = (config.dataset, config.data_dir)
        if fp_id not in fingerprints:
            fingerprints[fp_id] = data_mod.fingerprint(config.dataset, config.data_dir)
        cell.key = run_key(config.to_dict(), fingerprints[fp_id])
    return cells


def finished(results_dir: Path, key: str) -> bool:
    """A record exists and says the run ended (completed or diverged)."""
    path = results_dir / f"{key}.json"
    try:
        return read_record(path)["status"] in ("completed", "diverged")
    except (OSError, ValueError, KeyError):
        return False


def _log(results_dir: Path, entry: dict) -> None:
    with open(results_dir / "grid-log.jsonl", "a") as f:
        f.write(json.dumps(entry) + "\n")


def execute(cell: Cell, results_dir: Path, notebook: Path = TRAIN_NOTEBOOK) -> None:
    """Run the training notebook for one cell through papermill (raises on failure)."""
    import papermill as pm

    out = results_dir / "notebooks" / f"{cell.key}.out.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    params = {**cell.params, "results_dir": str(results_dir.resolve())}
    pm.execute_notebook(str(notebook), str(out), parameters=params, cwd=str(notebook.parent),
                        progress_bar=False, kernel_name="python3")


def run_grid(cells: list[Cell], results_dir: str | Path, runner=execute,
             progress: bool = True) -> dict:
    """Run every planned cell whose record does not exist yet; never stop on a failure.

    Returns counts and the failed cells' keys. ``runner(cell, results_dir)`` is the
    function that trains one cell (the papermill call; tests pass a stand-in).
    """
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    todo = [c for c in cells if not finished(results_dir, c.key)]
    summary = {"planned": len(cells), "skipped": len(cells) - len(todo), "done": 0,
               "failed": 0, "failed_keys": []}
    bar = progress_bar(total=len(todo), desc="grid", unit="run", disable=not progress)
    bar.set_postfix(done=0, failed=0, skipped=summary["skipped"])
    try:
        for cell in todo:
            bar.set_description(f"grid: {cell.label}")
            if finished(results_dir, cell.key):  # finished meanwhile (another grid process)
                summary["skipped"] += 1
                bar.update(1)
                continue
            t0 = time.perf_counter()
            try:
                runner(cell, results_dir)
                if not finished(results_dir, cell.key):
                    raise RuntimeError(f"the run ended without a finished record {cell.key}.json")
                summary["done"] += 1
                _log(results_dir, {"key": cell.key, "status": "done",
                                   "seconds": time.perf_counter() - t0})
            except KeyboardInterrupt:
                raise
            except Exception as e:  # one failed run must not stop the others
                summary["failed"] += 1
                summary["failed_keys"].append(cell.key)
                _log(results_dir, {"key": cell.key, "status": "failed",
                                   "seconds": time.perf_counter() - t0,
                                   "error": f"{type(e).__name__}: {e}"[-2000:],
                                   "traceback": traceback.format_exc()[-4000:]})
                bar.write(f"FAILED {cell.label} ({cell.key}): {type(e).__name__}; "
                          f"see {results_dir / 'grid-log.jsonl'}")
            bar.update(1)
            bar.set_postfix(done=summary["done"], failed=summary["failed"],
                            skipped=summary["skipped"])
    finally:
        bar.close()
    return summary


def _parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.grid", description=__doc__.split("\n")[0])
    ap.add_argument("--profile", required=True, help="smoke | fast | cpu | paper")
    ap.add_argument("--results-dir", default=None, help="default: results/<profile>")
    ap.add_argument("--data-dir", default=None,
                    help="CIFAR folder / .tar.gz / .npz / 'download' (default: $CIFAR_DATA_DIR; "
                         "the smoke profile uses synthetic data without it)")
    ap.add_argument("--studies", nargs="+", default=list(STUDIES))
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS))
    ap.add_argument("--depths", nargs="+", type=int, default=list(PAPER_DEPTHS))
    ap.add_argument("--lrs", nargs="+", type=float, default=None,
                    help="default: every LR of the chosen studies")
    ap.add_argument("--optimizers", nargs="+", default=list(OPTIMIZERS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--batch-norm", nargs="+", choices=["on", "off"], default=["on", "off"])
    ap.add_argument("-p", "--param", nargs=2, action="append", default=[],
                    metavar=("NAME", "VALUE"), help="any other notebook parameter, e.g. -p epochs 5")
    ap.add_argument("--dry-run", action="store_true", help="list the runs and exit")
    args = ap.parse_args(argv)

    results_dir = Path(args.results_dir or f"results/{args.profile}")
    try:
        cells = study_cells(args.studies, args.datasets, args.depths, args.lrs, args.optimizers,
                            args.seeds, tuple(b == "on" for b in args.batch_norm))
        if not cells:
            raise ConfigError("the filters select no run of the chosen studies")
        plan(cells, args.profile, str(results_dir), args.data_dir,
             {k: _parse_value(v) for k, v in args.param})
    except (ConfigError, data_mod.DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    todo = sum(not finished(results_dir, c.key) for c in cells)
    print(f"{len(cells)} runs planned ({todo} to do, {len(cells) - todo} already recorded) "
          f"into {results_dir}/")
    if args.dry_run:
        for c in cells:
            print(f"  {'done' if finished(results_dir, c.key) else 'todo'}  {c.key}  "
                  f"[{', '.join(sorted(c.studies))}]")
        return 0
    t0 = time.perf_counter()
    s = run_grid(cells, results_dir)
    print(f"grid finished in {time.perf_counter() - t0:.0f} s: {s['done']} done, "
          f"{s['skipped']} skipped, {s['failed']} failed")
    for key in s["failed_keys"]:
        print(f"  failed: {key} (details in {results_dir / 'grid-log.jsonl'})")
    return 1 if s["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
