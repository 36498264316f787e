"""Run records: one JSON per trained model, and a loader for a folder of them.

A record holds everything needed to tell where a number came from: the full
config, a content key derived from it and from the data, the data's identity,
baseline accuracy, the noise sweep and its summary (eq. 7-9), the training
history, timings, seed, package versions, Keras backend, device and git commit.
Records are written atomically (a temporary file, then a rename), so a crash
never leaves half a record. The weights are saved beside the record and never
committed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import subprocess
import sys
import warnings
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from ..experiment.config import KEY_FIELDS, KEY_FIELDS_IF_SET
from ..experiment.metrics import average_normalized_accuracy, baseline, summarize_sweep
from ..experiment.noise_model import ABLATION, NoiseModel
from ..experiment.recipe import NUM_CLASSES
from .studies import CELL
from .words import plural

# the banner of every page, figure and record built from synthetic (smoke) data
SMOKE_NOTE = "SMOKE RUN on synthetic data: tests the code path, not a reproduction"

RECORD_VERSION = 1

# Config fields that change what a run computes (data_dir/results_dir do not:
# the data enters the key through its fingerprint), declared with each parameter
# (``helpers.experiment.config.TrainConfig``); KEY_FIELDS_IF_SET: fields added later, part
# of the key only when set, so older keys stay the same.


def run_key(config: dict, data_fingerprint: str) -> str:
    """Readable, content-derived id: same config and data -> same key."""
    content = {k: config[k] for k in KEY_FIELDS if k in config}
    content.update({k: config[k] for k in KEY_FIELDS_IF_SET if config.get(k) is not None})
    content["data"] = data_fingerprint
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:10]
    bn = "bn" if config["batch_norm"] else "nobn"
    return (f"{config['dataset']}-resnet{config['depth']}-{bn}-{config['optimizer']}"
            f"-lr{config['lr']:g}-s{config['seed']}-{config['profile']}-{digest}")


ROOT = Path(__file__).resolve().parents[3]   # the repository (src/helpers/study/ -> root)
CODE_PATHS = ("src/helpers", "notebooks/train.ipynb")   # the code a run executes


def code_sha256(root: Path | None = None) -> str:
    """SHA-256 of the code a run executes (``src/helpers/**/*.py`` and the training
    notebook, by path and bytes): where a copy's git metadata lags its files (a device
    machine's copy kept its session's first commit, ``dirty``), the commit whose code
    hashes the same identifies what ran."""
    root = Path(root) if root else ROOT
    files = sorted((root / CODE_PATHS[0]).rglob("*.py")) + [root / CODE_PATHS[1]]
    h = hashlib.sha256()
    for f in files:
        if f.exists() and "__pycache__" not in f.parts:
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def git_commit(root: Path | None = None) -> dict:
    """The commit of the code that ran, whether that code had local changes (``dirty``:
    the files ``code_sha256`` hashes, so a results folder written beside the code does not
    count), and the hash of the code itself (``code_sha256``)."""
    where = Path(root) if root else Path(__file__).resolve().parent
    code = {"code_sha256": code_sha256(root)}
    code_paths = [f":(top){c}" for c in CODE_PATHS]
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                             text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                *code_paths], cwd=where, capture_output=True, text=True,
                               timeout=10)
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None, **code}
    if rev.returncode != 0:
        return {"commit": None, "dirty": None, **code}
    return {"commit": rev.stdout.strip(), "dirty": bool(dirty.stdout.strip()), **code}


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device() -> str:
    """The accelerator Keras computes on (GPU name), or the CPU."""
    import keras

    backend = keras.config.backend()
    try:
        if backend == "jax":
            import jax

            d = jax.devices()[0]
            if d.platform != "cpu":
                return f"{d.platform.upper()}: {d.device_kind} x{len(jax.devices())}"
        elif backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
                return f"GPU: {name} x{len(gpus)}"
    except Exception:  # a device query must never lose a finished run
        pass
    return f"CPU: {_cpu_name()} ({os.cpu_count()} cores)"


def environment() -> dict:
    import keras

    packages = ("helpers", "keras", "tensorflow", "tensorflow-cpu", "jax", "jaxlib", "numpy",
                "pandas", "papermill")
    return {
        "keras_backend": keras.config.backend(),
        "device": device(),
        # the cores this run could use (a local grid worker is pinned to its share)
        "cpu_affinity": len(os.sched_getaffinity(0)),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": {p: v for p in packages if (v := _version(p))},
        "git": git_commit(),
    }


def _strict(obj):
    """JSON has no NaN/inf: store them as null (a diverged run says so in ``status``)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_strict(v) for v in obj]
    return obj


def write_record(path: str | Path, record: dict) -> Path:
    """Write ``record`` as JSON atomically: readers see the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(_strict(record), indent=1, allow_nan=False) + "\n")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def read_record(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def noise_block(sweep: pd.DataFrame, draws: bool = True) -> dict:
    """The record's summary of one noise sweep: eq. 7-9 with spreads (and the raw draws)."""
    a_avr, a_avr_std = average_normalized_accuracy(sweep)
    block = {"etas": sorted(float(e) for e in set(sweep["eta"]) if e > 0),
             "A_avr": a_avr, "A_avr_std": a_avr_std,
             "summary": summarize_sweep(sweep).to_dict(orient="records")}
    if draws:
        block["draws"] = sweep.to_dict(orient="records")
    return block


def names_only(config: dict, data_source: dict) -> tuple[dict, dict]:
    """``config`` and ``data_source`` with their folders and files (``data_dir``,
    ``results_dir``, the data's ``path``) reduced to their names: records name their
    data by label, file name and hash, never by the paths of the machine that ran."""
    data_source = {k: (Path(v).name if k == "path" and v else v) for k, v in data_source.items()}
    config = {**config, **{k: Path(config[k]).name for k in ("data_dir", "results_dir")
                           if config.get(k) and config[k] != "download"}}
    return config, data_source


def without_machine_paths(record: dict) -> dict:
    """A record written before ``make_record`` kept only names, migrated: its
    ``config`` and ``data`` paths reduced to names (``names_only``), every other field
    as it was."""
    config, data_source = names_only(record["config"], record.get("data") or {})
    out = {**record, "config": config}
    if "data" in record:
        out["data"] = data_source if record["data"] is not None else None
    return out


def make_record(config: dict, key: str, data_source: dict, train_result,
                sweep: pd.DataFrame | None, timings: dict, a0: float | None = None,
                env: dict | None = None) -> dict:
    """Assemble a run record from a ``training.TrainResult`` and the long table of
    ``sweeps.noise_sweep`` (None for a diverged run, which gets no sweep).

    ``a0``: the accuracy on the full test set when the sweep ran on a test subset
    (the sweep's own eta = 0 row, the a0 of its A^x, is then kept as ``noise.a0``).
    ``env``: the ``environment()`` taken when the run started (the code that started a
    long run, even if the tree changed under it); None: taken now."""
    noise = None
    if sweep is not None:
        noise = noise_block(sweep)
        noise["a0"] = baseline(sweep)
        a0 = baseline(sweep) if a0 is None else a0
    elif train_result.history and a0 is None:
        a0 = train_result.history[-1]["test_accuracy"]
    config, data_source = names_only(config, data_source)
    return {
        "record_version": RECORD_VERSION,
        "key": key,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "status": train_result.status,
        "diverged_at_epoch": train_result.diverged_at_epoch,
        "synthetic_data": bool(data_source.get("synthetic")),
        "config": config,
        "data": data_source,
        "baseline_accuracy": a0,
        "noise": noise,
        "history": train_result.history,
        "timings": {"train_seconds": train_result.train_seconds,
                    "resumed_from_epoch": train_result.resumed_from_epoch, **timings},
        "environment": environment() if env is None else env,
    }


# A^x is not defined for a model whose a0 is within twice chance (1/K): its "noise
# resistance" would be the ratio of two near-chance numbers.
NEAR_CHANCE = 2.0


def near_chance(a0: float, num_classes: int) -> bool:
    """a0 below NEAR_CHANCE times chance (1/K): the model learned too little for its
    normalized accuracies A^x = a^x / a0 to mean anything."""
    return a0 < NEAR_CHANCE / num_classes


def _draw_arrays(block: dict, a0: float | None):
    """(etas, accuracies [eta x draw], a0) of a noise block that kept its draws."""
    draws = pd.DataFrame(block.get("draws") or [])
    if draws.empty:
        return None
    noisy = draws[draws["eta"] > 0]
    etas = sorted(noisy["eta"].unique())
    acc = np.array([noisy.loc[noisy["eta"] == e, "accuracy"].to_numpy(float) for e in etas])
    base = draws.loc[draws["eta"] == 0, "accuracy"]
    return np.array(etas), acc, (float(base.iloc[0]) if len(base) else a0)


def broken_share(block: dict) -> float | None:
    """Share of a sweep's noisy draws (eta > 0) with any non-finite output; None when the
    block kept no per-draw ``nonfinite``."""
    noisy = [d for d in (block.get("draws") or []) if d.get("eta", 0) > 0 and "nonfinite" in d]
    return float(np.mean([d["nonfinite"] > 0 for d in noisy])) if noisy else None


ABLATION_NAMES = {m.name for m in ABLATION}   # readings a training record may have swept


def sweep_path(record_path: str | Path, reading: NoiseModel) -> Path:
    """Where the re-sweep of ``reading`` over a record's weights lives: beside the record,
    ``<key>.sweep-<slug>.json`` (a training record is never rewritten)."""
    record_path = Path(record_path)
    return record_path.with_name(f"{record_path.name[:-len('.json')]}.sweep-{reading.slug}.json")


def is_sweep_file(path: str | Path) -> bool:
    return ".sweep-" in Path(path).name


def sweep_blocks(record_path: str | Path) -> dict:
    """reading name -> noise block of every re-sweep file beside a record."""
    record_path = Path(record_path)
    stem = record_path.name[:-len(".json")]
    out = {}
    for path in sorted(record_path.parent.glob(f"{stem}.sweep-*.json")):
        s = json.loads(path.read_text())
        out[s["reading"]["name"]] = s["noise"]
    return out


def _record_row(rec: dict, path: Path) -> dict:
    cfg = rec["config"]
    data = rec.get("data") or {}
    row = {"key": rec["key"], "status": rec["status"], "created": rec.get("created"),
           "synthetic_data": rec["synthetic_data"], "data": data.get("label"),
           "data_id": (data.get("fingerprint") or data.get("sha256") or data.get("md5")
                       or data.get("label")),
           **cfg, "baseline_accuracy": rec["baseline_accuracy"],
           "backend": rec["environment"]["keras_backend"],
           "device": rec["environment"]["device"],
           "commit": rec["environment"]["git"]["commit"], "path": str(path)}
    row.setdefault("noise_test_samples", None)
    row["reading"] = NoiseModel(cfg.get("noise_scope", "all"),
                                cfg.get("noise_granularity", "array")).name
    noise = rec.get("noise") or {}
    k = NUM_CLASSES.get(cfg.get("dataset"), 10)
    a0 = rec["baseline_accuracy"]
    row["near_chance"] = a0 is not None and near_chance(a0, k)
    row["a0_noise"] = noise.get("a0", a0)
    row["A_avr"], row["A_avr_std"] = noise.get("A_avr"), noise.get("A_avr_std")
    summary = noise.get("summary", [])
    for s in summary:
        row[f"A_{s['eta']:g}"] = s["A_x"]
        if "nonfinite" in s:
            row[f"nonfinite_{s['eta']:g}"] = s["nonfinite"]
    # chance-corrected A_avr: mean over eta of (a^x - 1/K) / (a0 - 1/K)
    a0n = row["a0_noise"]
    if summary and a0n is not None and a0n > 1 / k:
        row["A_avr_cc"] = float(np.mean([(s["a_x"] - 1 / k) / (a0n - 1 / k) for s in summary]))
    # the share of noisy draws that broke the model (any non-finite output: a negative
    # noisy BN variance makes every image's output NaN); None where draws are not kept
    row["broken"] = broken_share(noise)
    # the ablation readings: swept in training, or re-swept later over the saved weights
    # (a sweep file beside the record, ``sweep_blocks``; the record's own block wins)
    ablation = {name: b for name, b in sweep_blocks(path).items()
                if name in ABLATION_NAMES and name != row["reading"]}
    ablation.update(rec.get("noise_ablation") or {})
    for name, block in ablation.items():
        row[f"broken|{name}"] = broken_share(block)
    draws = {}
    if noise.get("draws"):
        draws[row["reading"]] = _draw_arrays(noise, a0n)
    for name, block in ablation.items():
        row[f"A_avr|{name}"] = block["A_avr"]
        if block.get("draws"):
            draws[name] = _draw_arrays(block, a0n)
    row["draws"] = {n: d for n, d in draws.items() if d is not None} or None
    if row["near_chance"]:  # no resistance to speak of: A^x and A_avr are not computed
        for c in [c for c in row if c.startswith("A_")]:
            row[c] = None
        row["draws"] = None
    row["C"] = (rec.get("theory") or {}).get("C")
    return row


def load_records(folder: str | Path, dedupe: bool = True) -> pd.DataFrame:
    """One row per record in ``folder`` (recursively): config, status, a0, A_avr, A^x per
    eta, the ablation readings (``A_avr|<reading>``: swept in training, or re-swept over the
    saved weights into a sweep file beside the record), the nonfinite fraction per eta, the
    chance-corrected ``A_avr_cc`` and the raw noise draws (``draws``, for the bootstrap).

    With ``dedupe`` only the newest record of each run is kept (``deduplicate``)."""
    rows = []
    for path in sorted(Path(folder).rglob("*.json")):
        try:
            rec = read_record(path)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if not isinstance(rec, dict) or rec.get("record_version") is None:
            continue
        rows.append(_record_row(rec, path))
    df = pd.DataFrame(rows)
    return deduplicate(df) if dedupe and not df.empty else df


# One run: the cell, the seed, and what makes its numbers comparable.
RUN_IDENTITY = ["dataset", "depth", "lr", "optimizer", "batch_norm", "seed", "profile", "epochs",
                "data_id"]


def deduplicate(df: pd.DataFrame) -> pd.DataFrame:
    """Exactly one record per run (``RUN_IDENTITY``): the newest; a warning names the
    records left out, so that no run is counted twice."""
    order = df.sort_values("created", na_position="first", kind="stable")
    ident = [c for c in RUN_IDENTITY if c in df]
    dup = order.duplicated(ident, keep="last")
    if dup.any():
        dropped = order.loc[dup, "path"].map(lambda p: Path(p).name).tolist()
        warnings.warn(f"{plural(len(dropped), 'duplicate record')} of the same run left "
                      f"out (the newest is used): {', '.join(dropped)}", stacklevel=2)
    return order[~dup].sort_index().reset_index(drop=True)


RUN = [*CELL, "seed"]   # what identifies one trained model in a table of runs


def histories(df: pd.DataFrame) -> pd.DataFrame:
    """The training history of every completed run of ``df`` (``load_records`` rows), one
    row per epoch: the run's cell and seed, epoch, learning rate, loss, training and
    test accuracy. Read from the records themselves (``load_records`` does not keep it)."""
    rows = []
    for _, run in df[df["status"] == "completed"].iterrows():
        for h in read_record(run["path"]).get("history") or []:
            rows.append({**{c: run[c] for c in RUN}, "epoch": h["epoch"], "epoch_lr": h["lr"],
                         "loss": h.get("loss"), "accuracy": h.get("accuracy"),
                         "test_accuracy": h.get("test_accuracy")})
    return pd.DataFrame(rows, columns=RUN + ["epoch", "epoch_lr", "loss", "accuracy",
                                             "test_accuracy"])


def lr_drops(hist: pd.DataFrame) -> list[int]:
    """The epochs after which the step schedule lowers the LR, read from the first run of
    ``histories`` (every run of a study shares the schedule's shape)."""
    if hist.empty:
        return []
    first = next(iter(hist.groupby(RUN)))[1].sort_values("epoch")
    return [int(e) - 1 for e in first["epoch"][first["epoch_lr"].diff() < 0]]


def draw_spread(records: pd.DataFrame, min_eta: float = 0.2) -> pd.DataFrame:
    """Per eta >= ``min_eta``: over the records' own sweeps, the number of records and the
    median and largest standard deviation of a^x between their noise draws (fractions):
    what a fixed test subset's sampling error is to be set against."""
    rows = []
    for path in records["path"]:
        for s in (read_record(path).get("noise") or {}).get("summary") or []:
            if s["eta"] >= min_eta - 1e-12 and s.get("a_x_std") is not None:
                rows.append((s["eta"], s["a_x_std"]))
    t = pd.DataFrame(rows, columns=["eta", "std"])
    return t.groupby("eta")["std"].agg(n="size", median="median", largest="max").reset_index()


def compute(records: pd.DataFrame) -> str:
    """The compute the records hold, in one sentence: the wall seconds of their epochs
    (time between epochs, such as a stop and resume, left out) and of their noise
    sweeps, in all and per model."""
    rows = []
    for path in records["path"]:
        rec = read_record(path)
        t = rec.get("timings") or {}
        train = sum(h.get("seconds") or 0 for h in rec.get("history") or [])
        rows.append((train, t.get("noise_seconds", 0) + t.get("ablation_seconds", 0)))
    t = pd.DataFrame(rows, columns=["train", "noise"])
    total = t.sum(axis=1)
    return (f"{len(t)} records hold {total.sum() / 3600:.2f} h of compute (training "
            f"{t['train'].sum() / 3600:.2f} h, noise sweeps {t['noise'].sum() / 3600:.2f} h); "
            f"per model, the median is {total.median() / 60:.1f} min (training "
            f"{t['train'].median() / 60:.1f}, sweeps {t['noise'].median() / 60:.1f}).")
