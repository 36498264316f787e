"""The CIFAR-10 study on an offline GPU machine, in a time budget, packed for the trip back.

    python -m helpers.ops.gpu_study check                       # JAX sees a GPU (or --allow-cpu)
    python -m helpers.ops.gpu_study run --data D --budget 480   # train cells until the budget
    python -m helpers.ops.gpu_study pack --out OUT --since T    # new records -> OUT/*.tar.gz

``scripts/gpu_study.sh`` (``make gpu-study``) runs check, the engine benchmark if asked,
run (under ``timeout``; ``WORKERS`` processes of it share the device and split the cells
through the grid's claim files) and pack. Cells run in the study's order, seed by seed: the LR
study (4 depths x 6 LRs, Adam, BN), then the batch-norm study (its new cells: no BN),
then the optimizers (ResNet20, lr 0.00075), then the LRs outside the paper's range
(4 depths x 2 LRs, which claim 4's sweet spot needs). Each cell is
``notebooks/train.ipynb`` run in-process (``helpers.ops.run_cell``; no papermill there)
through ``grid.run_grid`` and its time budget, so a recorded cell is skipped, a failure
is logged in ``grid-log.jsonl``, no run starts that its measured time says cannot
finish, and an interrupted cell resumes from its last epoch; after ``--max-failures``
failed runs in a row it stops. JAX's persistent compilation cache
(``JAX_COMPILATION_CACHE_DIR``, default ``.jax-cache``) lets runs of one depth
compile once, across processes and calls.

``scripts/gpu_study.sh`` with ``GRID_VIA=cli`` calls ``python -m helpers.ops.grid
--in-process --time-budget`` instead: the same budget rule, the cells filtered by
study rather than ordered study by study.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tarfile
import time
from pathlib import Path

from ..experiment import recipe
from ..experiment.profiles import PROFILES
from ..study.words import plural
from . import grid, run_cell

ROOT = Path(__file__).resolve().parents[3]
# per seed; lr_outside (claim 4: LRs 0.00025 and 0.003, 4 depths) last, after Figure 3
STUDY_ORDER = ("lr", "batchnorm", "optimizers", "lr_outside")


class StudyError(RuntimeError):
    pass


def setup_jax(cache_dir: str | Path | None = None) -> None:
    """KERAS_BACKEND=jax and the persistent compilation cache (before keras is imported)."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    cache = Path(cache_dir or os.environ.get("JAX_COMPILATION_CACHE_DIR") or ROOT / ".jax-cache")
    cache.mkdir(parents=True, exist_ok=True)
    os.environ["JAX_COMPILATION_CACHE_DIR"] = str(cache)
    import jax

    jax.config.update("jax_compilation_cache_dir", str(cache))


def check_device(allow_cpu: bool = False) -> str:
    """The JAX platform; a clear error when it is the CPU and ``allow_cpu`` is off."""
    import jax

    platform = jax.default_backend()
    if platform == "cpu" and not allow_cpu:
        raise StudyError(f"JAX sees no GPU (default backend 'cpu', devices {jax.devices()}); "
                         "install jax with CUDA, or set ALLOW_CPU=1 (--allow-cpu) for a dry "
                         "proof on the CPU")
    return f"{platform}: {jax.devices()[0].device_kind} x{len(jax.devices())}"


def study_plan(profile: str, results_dir: Path, data_dir, seeds, extra: dict | None = None):
    """[(study, planned grid.Cell)] in the study order, seed by seed, each cell once
    (a cell of two studies, e.g. BN at lr 0.001, runs with the first)."""
    out = []
    for seed in seeds:
        cells = grid.study_cells(studies=STUDY_ORDER, datasets=(recipe.REFERENCE_DATASET,),
                                 seeds=(seed,))
        grid.plan(cells, profile, str(results_dir), data_dir, extra)
        first = [(min(STUDY_ORDER.index(s) for s in c.studies), i) for i, c in enumerate(cells)]
        out += [(STUDY_ORDER[k], cells[i]) for k, i in sorted(first)]
    return out


def run_study(profile: str, results_dir: Path, data_dir, seeds, budget: float,
              extra: dict | None = None, progress: bool = False,
              runner=None, clock=time.monotonic, max_failures: int | None = 2,
              max_cells: int | None = None) -> dict:
    """Train the planned cells in order until ``budget`` seconds are spent: one
    ``grid.run_grid`` call with its time budget (a run starts only if its measured time
    fits in what is left), so the next call resumes where this one stopped. After ``max_failures`` failed
    runs in a row it stops: a GPU call must not spend its minutes failing every cell.
    ``max_cells``: only the next that many cells without a record (a quick check, or a
    test that must end with its cells rather than with its budget)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    planned = [cell for _, cell in study_plan(profile, results_dir, data_dir, seeds, extra)]
    if max_cells is not None:
        planned = [c for c in planned if not grid.finished(results_dir, c.key)][:max_cells]
    s = grid.run_grid(planned, results_dir, runner=runner or run_cell.grid_runner,
                      progress=progress, time_budget=budget, clock=clock,
                      max_failures=max_failures)
    return {"planned": len(planned), "done_now": s["done"], "left_for_budget": s["left"]}


def summary(profile: str, results_dir: Path, data_dir, seeds, new: int, seconds: float,
            budget: float, extra: dict | None = None) -> str:
    """One line: what this call did and what is left, per study."""
    planned = study_plan(profile, results_dir, data_dir, seeds, extra)
    parts, left = [], 0
    for study in STUDY_ORDER:
        keys = [c.key for s, c in planned if s == study]
        n_done = sum(grid.finished(results_dir, k) for k in keys)
        left += len(keys) - n_done
        parts.append(f"{study} {n_done}/{len(keys)}")
    failed = 0
    log = results_dir / "grid-log.jsonl"
    if log.exists():
        failed = sum(json.loads(line).get("status") == "failed" for line in log.read_text().splitlines()
                     if line.strip())
    return (f"gpu-study {profile} seeds {' '.join(map(str, seeds))}: {new} new records in "
            f"{seconds:.0f} s of {budget:.0f} s; recorded {', '.join(parts)}; {left} cells left"
            f"; {plural(failed, 'failure')} logged in {log.name}")


def pack(out: Path, results_dir: Path, since: float, extra_files=(), root: Path = ROOT) -> Path:
    """OUT/gpu-study-<time>.tar.gz: the records written since ``since`` (epoch seconds),
    the grid log, the run logs and ``extra_files``, under their paths from ``root``
    (``results/...``), so that ``tar xzf`` in the repository puts them in place."""
    out.mkdir(parents=True, exist_ok=True)
    results_dir = results_dir.resolve()
    members = [p for p in sorted(results_dir.glob("*.json")) if p.stat().st_mtime >= since]
    members += [p for p in sorted((results_dir / "notebooks").glob("*.out.log"))
                if p.stat().st_mtime >= since]
    members += [p for p in [results_dir / "grid-log.jsonl", *map(Path, extra_files)] if p.exists()]
    name = out / time.strftime("gpu-study-%Y%m%dT%H%M%S.tar.gz", time.gmtime())
    with tarfile.open(name, "w:gz") as tar:
        for p in members:
            p = p.resolve()
            try:
                arc = p.relative_to(root.resolve())
            except ValueError:
                raise StudyError(f"{p} is outside the repository {root}: pack writes paths "
                                 "relative to it; put results and benchmark output under it")
            tar.add(p, arcname=str(arc))
    return name


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.ops.gpu_study", description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=("check", "run", "summary", "pack"))
    ap.add_argument("--allow-cpu", action="store_true", help="run on the CPU (a dry proof)")
    ap.add_argument("--profile", default="fast",
                    help=" | ".join(PROFILES) + " (default: fast)")  # every declared profile
    ap.add_argument("--data", default=None, help="CIFAR-10 (folder, .tar.gz, .npz, JPEG pack)")
    ap.add_argument("--results-dir", default=None, help="default: results/gpu-<profile>")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--budget", type=float, default=480.0, help="seconds for the training")
    ap.add_argument("--max-failures", type=int, default=2,
                    help="stop after this many failed runs in a row (0: never stop)")
    ap.add_argument("--cells", type=int, default=None,
                    help="run: only the next N cells of the plan without a record")
    ap.add_argument("-p", "--param", nargs=2, action="append", default=[],
                    metavar=("NAME", "VALUE"), help="another notebook parameter, e.g. -p epochs 2")
    ap.add_argument("--out", default="gpu-out", help="pack: folder of the archive")
    ap.add_argument("--since", type=float, default=0.0, help="pack/summary: start (epoch s)")
    ap.add_argument("--new", type=int, default=None, help="summary: records made in this call")
    ap.add_argument("--extra", nargs="*", default=[], help="pack: more files (benchmark output)")
    ap.add_argument("--root", default=None,
                    help="pack: the archive's paths are relative to it (default: the repository)")
    ap.add_argument("--cache-dir", default=None, help="JAX compilation cache (default .jax-cache)")
    args = ap.parse_args(argv)
    if args.profile not in PROFILES:
        ap.error(f"--profile {args.profile!r} is not accepted; accepted: {', '.join(PROFILES)}")
    if args.max_failures < 0:
        ap.error(f"--max-failures must be 0 (never stop) or more, not {args.max_failures}")
    if args.cells is not None and args.cells < 1:
        ap.error(f"--cells must be 1 or more (or left out: every cell), not {args.cells}")

    results_dir = Path(args.results_dir or ROOT / "results" / f"gpu-{args.profile}")
    extra = {"engine": "fast", **{k: grid._parse_value(v) for k, v in args.param}}
    try:
        if args.command == "pack":
            name = pack(Path(args.out), results_dir, args.since, args.extra,
                        root=Path(args.root) if args.root else ROOT)
            print(f"archive: {name} ({name.stat().st_size / 2**20:.2f} MiB)")
            return 0
        setup_jax(args.cache_dir)
        device = check_device(args.allow_cpu)
        if args.command == "check":
            print(f"device {device}; compilation cache {os.environ['JAX_COMPILATION_CACHE_DIR']}")
            return 0
        if args.command == "summary":
            new = args.new if args.new is not None else sum(
                p.stat().st_mtime >= args.since for p in results_dir.glob("*.json"))
            print(summary(args.profile, results_dir, args.data, args.seeds, new,
                          time.time() - args.since, args.budget, extra))
            return 0
        print(f"device {device}; results {results_dir}", flush=True)
        run_study(args.profile, results_dir, args.data, args.seeds, args.budget, extra,
                  max_failures=args.max_failures or None, max_cells=args.cells)
    except StudyError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
