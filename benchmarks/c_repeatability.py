"""Is the gradient-noise constant C the same every time it is measured on one model?

    python benchmarks/c_repeatability.py RECORD.json --data-dir DATA --parallel 10 1 --repeats 20

Why: one committed record (no BN, lr 0.001, seed 2, trained before
``theory.TF_MAP_PARALLEL`` was set to 1) holds C = 7.5e36 against 443-534 for its
twins; the same model trained again measures C = 672. TensorFlow's CPU build
segfaulted now and then inside the per-example gradient map when it ran 10 examples
at once (``benchmarks/per_example_crash.py``). A race that can crash a process can
also corrupt a value without crashing it. This script loads a record's committed
weights and its data, exactly as ``helpers.ops.resweep`` does, and measures C
(``theory.measure``, the record's profile settings and seed, on the same first training
images as the training notebook) ``--repeats`` times for each value of
``theory.TF_MAP_PARALLEL``, in child processes (a child that segfaults is counted and
replaced), then prints per value: the processes that crashed, the spread of the
repeats, and how many differ from the first repeat of the last value (1: one example
at a time) by more than 1e-6 relative, or are not finite.

Same code path, same weights and images: with a deterministic map every repeat gives
the same C to the last digits.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def child(record_path: Path, weights: Path, data_dir: str, parallel: int, repeats: int) -> None:
    """One process: load the model and images once, then measure C ``repeats`` times,
    printing each value as it comes (a crash loses only the measurement under way)."""
    from helpers.experiment import data as data_mod, training
    from helpers.ops import resweep
    from helpers.study import results, theory

    record = results.read_record(record_path)
    config = resweep.rebuild_config(record, resweep.data_dir_for(record, data_dir),
                                    record_path.parent, "fit", {})
    data = data_mod.preprocess(training.load_data(config))
    model = training.build_model(config, data.num_classes)
    model.load_weights(weights)
    settings = theory.settings(config.profile)
    n = min(settings["n_examples"], len(data.y_train))
    theory.TF_MAP_PARALLEL = parallel
    for _ in range(repeats):
        th = theory.measure(model, data.x_train[:n], data.y_train[:n],
                            **{**settings, "n_examples": n}, seed=config.seed)
        print(f"C {th['C']!r}", flush=True)


def measure(args, parallel: int) -> tuple[list, int]:
    """``args.repeats`` values of C with ``parallel``, from child processes: a child that
    crashes is counted and replaced by a new one for the measurements still to do."""
    values, crashes = [], 0
    while len(values) < args.repeats:
        out = subprocess.run(
            [sys.executable, __file__, args.record, "--data-dir", args.data_dir, "--child",
             str(parallel), "--repeats", str(args.repeats - len(values))],
            capture_output=True, text=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"})
        got = [float(line.split()[1]) for line in out.stdout.splitlines() if line.startswith("C ")]
        values += got
        if out.returncode:
            crashes += 1
            if out.returncode > 0 and out.returncode <= 128:   # an error, not a signal: stop
                raise SystemExit(f"child failed (rc {out.returncode}):\n{out.stderr[-2000:]}")
        print(f"\rparallel_iterations={parallel}: {len(values)}/{args.repeats}, "
              f"{crashes} crashed", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return values, crashes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("record", help="a training record (<key>.json) with <key>.weights.h5 beside it")
    ap.add_argument("--data-dir", required=True, help="the data the record was trained on")
    ap.add_argument("--parallel", type=int, nargs="+", default=[10, 1],
                    help="values of theory.TF_MAP_PARALLEL (default: 10 1)")
    ap.add_argument("--repeats", type=int, default=10, help="measurements per value")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if min(args.parallel) < 1 or args.repeats < 1:
        ap.error("--parallel and --repeats take positive integers")
    record_path = Path(args.record)
    weights = record_path.with_name(record_path.name.replace(".json", ".weights.h5"))
    for p, what in ((record_path, "record"), (weights, "weights")):
        if not p.is_file():
            ap.error(f"{what} {p} is not a file")
    if args.child is not None:
        child(record_path, weights, args.data_dir, args.child, args.repeats)
        return 0

    record = json.loads(record_path.read_text())
    print(f"{record['key']}: recorded C = {record['theory']['C']:.6g}, "
          f"||grad L_D||^2 = {record['theory']['grad_mean_sq_norm']:.6g}")
    values, crashes = {}, {}
    for parallel in args.parallel:
        v, crashes[parallel] = measure(args, parallel)
        values[parallel] = np.array(v)
    ref = values[args.parallel[-1]][0]
    for parallel, cs in values.items():
        finite = np.isfinite(cs)
        off = int((~finite).sum() + (np.abs(cs[finite] / ref - 1) > 1e-6).sum())
        print(f"parallel_iterations={parallel}: {crashes[parallel]} processes crashed; C min "
              f"{np.nanmin(cs):.6g}, median {np.nanmedian(cs):.6g}, max {np.nanmax(cs):.6g}; "
              f"{off} of {len(cs)} differ from {ref:.6g} by more than 1e-6 relative or are "
              "not finite")
    print(json.dumps({str(k): v.tolist() for k, v in values.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
