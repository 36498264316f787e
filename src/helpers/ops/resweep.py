"""Sweep noise readings over the saved weights of trained runs, without training.

    python -m helpers.ops.resweep results/cpu --reading mechanism --data-dir /path/to/data

For each training record (``<key>.json``, or every record of a folder) it loads the
record's config and its weights (``<key>.weights.h5`` beside it), rebuilds the model,
loads the same data (the record names it by file name and fingerprint: ``--data-dir`` is
the file or the folder holding it; a smoke record on synthetic data needs none) and
sweeps each reading with the record's seed, N, noise levels and test subset. Each
sweep is written to its own file beside the record (or in ``--out-dir``),
``<key>.sweep-<reading>.json`` (``results.sweep_path``), with the breakage split
(``breakage.block``): adding a reading never rewrites a training record. A sweep file
that exists is skipped (resumable). Every check (the readings, every weights file, the
data's fingerprint, the record's key rebuilt from its config) is made before the first
sweep.

``--reading`` takes a name of ``noise_model.READINGS`` ("all/array/additive", ...), any
other "scope/granularity/kind[/varfloor=<floor>]" (a reading of your own; in Python a
``NoiseModel``, with a kind you registered in ``noise_model.KINDS``, whose source the
sweep file then keeps), a group: "mechanism" (``noise_model.MECHANISM``), "ablation",
"every", or "pcm": the phase-change-memory device of ``helpers.experiment.pcm``
(aihwkit, the analog extra), written to ``<key>.pcm.json``. A reading that puts noise
on, or clips, BN statistics alone is skipped for a model without BN.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..experiment import data as data_mod
from ..experiment import pcm
from ..experiment.config import PARAMETERS, make_config
from ..experiment.progress import progress_bar
from ..study import breakage, results
from ..experiment.noise_model import (ABLATION, GRANULARITIES, KINDS, MECHANISM, READINGS,
                                      SCOPES, NoiseModel, kind_provenance)

GROUPS = {"mechanism": MECHANISM, "ablation": ABLATION, "every": tuple(READINGS.values())}
# the phase-change-memory device reading (helpers.experiment.pcm, the analog extra):
# not a Gaussian NoiseModel; its sweep is <key>.pcm.json (pcm.sweep_path)
PCM = pcm.READING


def accepted_readings() -> str:
    """What ``--reading`` accepts, as an error message says it."""
    return (", ".join(map(repr, [*READINGS, *GROUPS, PCM])) + ", or a reading of your own: "
            "'scope/granularity/kind' (optionally '/varfloor=<floor>') with scope in "
            + "|".join(SCOPES) + ", granularity in " + "|".join(GRANULARITIES)
            + ", kind a name of noise_model.KINDS (" + "|".join(KINDS) + ")")


def _readings_of(name) -> tuple:
    if isinstance(name, NoiseModel):
        return (name,)
    if name in GROUPS:
        return GROUPS[name]
    if name == PCM or name in READINGS:
        return (READINGS.get(name, name),)
    if not isinstance(name, str):
        raise ValueError("not a name")
    return (NoiseModel.from_name(name),)   # ValueError: what is wrong with it


def parse_readings(names) -> tuple[NoiseModel, ...]:
    """The readings called ``names``, in order, each once: names of ``READINGS``, groups
    of ``GROUPS``, "pcm", ``NoiseModel`` values, or any name ``NoiseModel.from_name``
    reads (a reading of your own, e.g. "trainable/layer/multiplicative", or a kind you
    registered in ``KINDS``); a ValueError naming each name not accepted, and why."""
    names = [names] if isinstance(names, (str, NoiseModel)) else list(names)
    out, bad = [], []
    for n in names:
        try:
            found = _readings_of(n)
        except ValueError as e:
            bad.append(f"{n!r} ({e})")
            continue
        out += [m for m in found if m not in out]
    if bad or not names:
        raise ValueError(f"reading={', '.join(bad) or 'none'} is not accepted; "
                         f"accepted: {accepted_readings()}")
    return tuple(out)


def record_paths(paths) -> list[Path]:
    """The training records of ``paths`` (record files, or folders whose records are
    taken: re-sweep files and other JSON are not records); a FileNotFoundError naming a
    path that does not exist or holds no record."""
    out = []
    for p in map(Path, [paths] if isinstance(paths, (str, Path)) else paths):
        if not p.exists():
            raise FileNotFoundError(f"records: {p} does not exist (give record files "
                                    "<key>.json or folders of them)")
        found = [f for f in (sorted(p.glob("*.json")) if p.is_dir() else [p])
                 if not results.is_sweep_file(f) and _is_record(f)]
        if not found:
            raise FileNotFoundError(f"records: {p} holds no training record (a JSON file "
                                    "with a record_version)")
        out += [f for f in found if f not in out]
    return out


def _is_record(path: Path) -> bool:
    try:
        rec = results.read_record(path)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(rec, dict) and rec.get("record_version") is not None


@dataclass(frozen=True)
class Job:
    """One record to re-sweep: its files, the readings it still lacks, and ``target``:
    the record's path in the folder its sweep files go to (the record itself by default)."""
    record_path: Path
    weights: Path
    readings: tuple
    target: Path


def _needs_bn(reading) -> bool:
    return reading != PCM and reading.needs_bn


def _sweep_path(record_path: Path, reading) -> Path:
    return pcm.sweep_path(record_path) if reading == PCM else results.sweep_path(record_path, reading)


def weights_path(record_path: Path) -> Path:
    return record_path.with_name(record_path.name[:-len(".json")] + ".weights.h5")


def plan(paths: list[Path], readings: tuple, missing_weights: str = "error",
         say=print, out_dir: str | Path | None = None) -> list[Job]:
    """The jobs of ``paths`` (training records) and ``readings``: diverged runs, sweeps
    that exist (beside the record, or in ``out_dir``) and BN-only readings of a model
    without BN are skipped (``say`` tells which); a record without its weights file is
    an error (FileNotFoundError naming every such file) unless ``missing_weights`` is
    "skip"."""
    if missing_weights not in ("error", "skip"):
        raise ValueError(f"missing_weights={missing_weights!r}: 'error' or 'skip'")
    jobs, missing = [], []
    for path in paths:
        rec = results.read_record(path)
        if rec.get("status") != "completed":
            say(f"skip {path.name}: status {rec.get('status')!r}, no model to sweep")
            continue
        bn = rec["config"].get("batch_norm", True)
        target = path if out_dir is None else Path(out_dir) / path.name
        todo = tuple(m for m in readings if (bn or not _needs_bn(m))
                     and not _sweep_path(target, m).exists())
        if not bn and any(_needs_bn(m) for m in readings):
            say(f"skip for {path.name} (no BN): "
                + ", ".join(m.name for m in readings if _needs_bn(m)))
        if not todo:
            continue
        if not weights_path(path).exists():
            missing.append(weights_path(path))
            continue
        jobs.append(Job(path, weights_path(path), todo, target))
    if missing and missing_weights == "error":
        raise FileNotFoundError(
            f"no weights file for {len(missing)} record(s): "
            + ", ".join(str(m) for m in missing[:5]) + (" ..." if len(missing) > 5 else "")
            + "; a record's weights are <key>.weights.h5 beside it (pass "
              "--missing-weights skip to sweep the others)")
    for m in missing:
        say(f"skip {m.name[:-len('.weights.h5')]}: no weights file")
    return jobs


def data_dir_for(record: dict, data_dir: str | Path | None) -> str | None:
    """The data a record was trained on: ``data_dir`` itself, or the file the record
    names (``config.data_dir``, a file name) inside the folder ``data_dir``; None (the
    profile's own, e.g. the smoke profile's synthetic data) when ``data_dir`` is None."""
    if data_dir is None:
        return None
    d = Path(data_dir)
    named = record["config"].get("data_dir")
    if d.is_dir() and named and (d / named).exists():
        return str(d / named)
    return str(d)


def rebuild_config(record: dict, data_dir: str | None, results_dir: Path, engine: str,
                   fingerprints: dict):
    """The record's config, rebuilt (``make_config``) on ``data_dir``; checks that the data
    has the record's fingerprint and that the config gives the record's key (ValueError
    naming the record otherwise). ``fingerprints`` caches (dataset, data_dir) -> id."""
    cfg, key = record["config"], record["key"]
    params = {k: cfg[k] for k in PARAMETERS if k in cfg}
    config = make_config(**{**params, "data_dir": data_dir, "results_dir": str(results_dir),
                            "engine": engine})
    ident = (config.dataset, config.data_dir)
    if ident not in fingerprints:
        fingerprints[ident] = data_mod.fingerprint(config.dataset, config.data_dir)
    want = (record.get("data") or {}).get("fingerprint")
    if fingerprints[ident] != want:
        raise ValueError(f"data_dir={config.data_dir!r}: its fingerprint {fingerprints[ident]} "
                         f"is not the {want} of the data {key} was trained on "
                         f"({(record.get('data') or {}).get('label')}, file "
                         f"{cfg.get('data_dir')!r}); pass --data-dir with that data")
    rebuilt = results.run_key(config.to_dict(), fingerprints[ident])
    if rebuilt != key:
        raise ValueError(f"{key}: its config rebuilt today gives the key {rebuilt} (the "
                         "profile's defaults changed since it ran?); not re-swept")
    return config


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _model_and_subset(config, weights: Path):
    from ..experiment import noise, training   # imports Keras

    data = data_mod.preprocess(training.load_data(config))
    x, y = noise.test_subset(data.x_test, data.y_test, config.noise_test_samples)
    model = training.build_model(config, data.num_classes)
    with warnings.catch_warnings():  # older files also hold the optimizer's state: not needed
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        model.load_weights(weights)
    return model, x, y


def trained_model(record_path: str | Path, data_dir=None):
    """A record's trained model and the test subset its sweeps use: ``(model, x, y)``,
    the Keras model rebuilt from the record's config with its weights loaded, and the
    images preprocessed as in training (x/255 minus the training images' per-pixel mean,
    so the data is needed: ``data_dir`` as for ``resweep``, checked by fingerprint).
    For a noise or device model that is not a ``NoiseModel``: apply it to ``model``,
    then ``model.evaluate(x, y)``."""
    path = record_paths([record_path])[0]
    rec = results.read_record(path)
    if rec.get("status") != "completed" or not weights_path(path).exists():
        raise FileNotFoundError(f"record_path={str(path)!r}: no trained model (status "
                                f"{rec.get('status')!r}; weights are {weights_path(path).name} "
                                "beside the record)")
    config = rebuild_config(rec, data_dir_for(rec, data_dir), path.parent, "auto", {})
    return _model_and_subset(config, weights_path(path))


def sweep_record(job: Job, config, environment: dict, progress: bool = True,
                 bar=None) -> list[Path]:
    """Re-sweep one record's readings over its weights; writes one file per reading.
    ``environment`` (``results.environment``) is taken when the command starts, so that a
    sweep names the code that ran, not the code its tree holds when it ends."""
    from ..experiment import sweeps   # imports Keras

    record = results.read_record(job.record_path)
    model, x, y = _model_and_subset(config, job.weights)
    etas = (record.get("noise") or {}).get("etas")
    written = []
    for reading in job.readings:
        if reading == PCM:      # one chip per draw, read at 1 s, 1 h, 1 day and 1 year
            sweep = pcm.pcm_sweep(model, x, y, n_draws=pcm.N_DRAWS, seed=config.seed)
            sweep["weights"] = {"file": job.weights.name, "sha256": sha256(job.weights)}
            sweep["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
            sweep["environment"] = environment
            written.append(pcm.write_sweep(job.target, sweep, record["key"]))
            if bar is not None:
                bar.update(1)
            continue
        t0 = time.perf_counter()
        table = sweeps.noise_sweep(model, x, y, reading, etas=tuple(etas), n_repeats=config.n_repeats,
                                   seed=config.seed, engine=config.engine, progress=progress)
        block = results.noise_block(table)
        block["a0"] = float(table.loc[table["eta"] == 0, "accuracy"].iloc[0])
        block["breakage"] = breakage.block(table)
        out = {
            "sweep_version": breakage.SWEEP_VERSION,
            "key": record["key"], "record": job.record_path.name,
            "reading": {"name": reading.name, "label": reading.label, "phrase": reading.phrase,
                        **({"kind": own} if (own := kind_provenance(reading.kind)) else {})},
            "synthetic_data": record["synthetic_data"],
            "data": {k: (record.get("data") or {}).get(k) for k in ("label", "fingerprint")},
            "settings": {"etas": list(etas), "n_repeats": config.n_repeats, "seed": config.seed,
                         "noise_test_samples": config.noise_test_samples,
                         "engine": config.engine},
            "weights": {"file": job.weights.name, "sha256": sha256(job.weights)},
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "seconds": time.perf_counter() - t0,
            "noise": block,
            "environment": environment,
        }
        written.append(results.write_record(results.sweep_path(job.target, reading), out))
        if bar is not None:
            bar.update(1)
    return written


def resweep(paths, readings, data_dir=None, engine: str = "auto",
            missing_weights: str = "error", progress: bool = True, say=print,
            out_dir: str | Path | None = None) -> list[Path]:
    """Check everything, then sweep: the files written (see the module's docstring);
    ``out_dir``: write them there instead of beside the records (a reading of your own
    then stays out of the project's results folders)."""
    readings = parse_readings(readings)
    if PCM in readings:
        pcm.require_aihwkit()     # the analog extra, before any work
    if out_dir is not None and Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise ValueError(f"out_dir={str(out_dir)!r} is a file; give a folder (made if missing)")
    jobs = plan(record_paths(paths), readings, missing_weights, say, out_dir)
    fingerprints, configs = {}, []
    for job in jobs:  # every check before the first sweep
        rec = results.read_record(job.record_path)
        configs.append(rebuild_config(rec, data_dir_for(rec, data_dir), job.record_path.parent,
                                      engine, fingerprints))
    bar = progress_bar(total=sum(len(j.readings) for j in jobs), desc="re-sweep", unit="sweep",
                       disable=not progress)
    written, environment = [], results.environment()   # the code as it starts
    try:
        for job, config in zip(jobs, configs):
            bar.set_postfix_str(job.record_path.name[:-len(".json")][-30:])
            written += sweep_record(job, config, environment, progress=False, bar=bar)
    finally:
        bar.close()
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.ops.resweep",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("records", nargs="+", help="training records (<key>.json) or folders of them")
    ap.add_argument("--reading", action="append", default=None,
                    help="a reading's name (any scope/granularity/kind[/varfloor=<floor>]), or "
                         "mechanism | ablation | every | pcm (repeatable; default: mechanism)")
    ap.add_argument("--data-dir", default=None,
                    help="the data the records were trained on (the file, or a folder holding "
                         "the file each record names); not needed for synthetic smoke records")
    ap.add_argument("--engine", default="auto", help="auto | fit | fast (JAX)")
    ap.add_argument("--missing-weights", default="error", choices=("error", "skip"))
    ap.add_argument("--out-dir", default=None,
                    help="write the sweep files to this folder (made if missing) instead of "
                         "beside each record")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    try:
        written = resweep(args.records, args.reading or ["mechanism"], args.data_dir, args.engine,
                          args.missing_weights, not args.no_progress, out_dir=args.out_dir)
    except (ValueError, FileNotFoundError, pcm.MissingExtraError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{len(written)} sweep file(s) written")
    for p in written:
        print(f"  {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
