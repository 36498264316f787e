"""The whole study as a grid of runs of ``notebooks/train.ipynb``.

    python -m helpers.ops.grid --profile smoke --results-dir results/smoke
    python -m helpers.ops.grid --profile paper --data-dir ~/cifar --seeds 0 1 2 --depths 20 32

The studies of ``helpers.study.studies`` (lr, optimizers, batchnorm, lr_outside), merged
into one list of unique cells (one trained model each); the cells of a study with
the ablation also sweep the noise-model ablation (``noise_ablation=True``).

Every cell runs once per training seed. Each run's executed notebook is kept
in ``<results_dir>/notebooks/``, its record in ``<results_dir>/``. A cell whose
record exists is skipped; a failed run is logged in ``<results_dir>/grid-log.jsonl``
and the grid goes on; an interrupted grid (or run: it checkpoints every epoch)
resumes where it stopped when the same command is run again.

Executors (``--executor``): ``serial`` (the default, one run at a time), ``local``
(``--workers N`` concurrent runs here, ``--gpus 0,1`` pins each to a GPU) and
``slurm`` (a job array through submitit). Under every one a worker claims a cell
with ``<key>.lock`` (created with O_EXCL beside the record) before running it, so
two workers, or two grid processes, never run the same cell; a claim whose owner
is gone is given up. ``--time-budget`` starts no run that cannot finish in time,
judged from measured seconds per epoch and per sweep (``estimate_seconds``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shlex
import socket
import statistics
import subprocess
import sys
import threading
import time
import traceback
import uuid
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ..experiment import cifar_files
from ..experiment import data as data_mod
from ..experiment.config import GRID_SET, ConfigError, make_config
from ..experiment.profiles import PROFILES
from ..experiment.progress import progress_bar
from ..study.results import read_record, run_key
from ..experiment.recipe import DATASETS, OPTIMIZER_SETTINGS, PAPER_DEPTHS, PAPER_OPTIMIZERS
from ..study.studies import STUDIES, lr_in
from . import run_cell as run_cell_mod

ROOT = Path(__file__).resolve().parents[3]
TRAIN_NOTEBOOK = ROOT / "notebooks" / "train.ipynb"
STUDY_NAMES = tuple(STUDIES)


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


def study_cells(studies=STUDY_NAMES, datasets=DATASETS, depths=PAPER_DEPTHS, lrs=None,
                optimizers=PAPER_OPTIMIZERS, seeds=(0,), batch_norm=(True, False)) -> list[Cell]:
    """The unique cells of the chosen studies (``helpers.study.studies``), restricted by the
    filters (``lrs=None``: every LR of the chosen studies)."""
    for name, values, accepted in (("studies", studies, STUDY_NAMES), ("datasets", datasets, DATASETS),
                                   ("optimizers", optimizers, tuple(OPTIMIZER_SETTINGS))):
        bad = [v for v in values if v not in accepted]
        if bad:
            raise ConfigError(f"{name}={bad!r} is not accepted; accepted values: "
                              + ", ".join(map(repr, accepted)))
    cells: dict[tuple, Cell] = {}
    for seed in seeds:
        for study in (STUDIES[n] for n in STUDY_NAMES if n in studies):
            for ds, d, lr, opt, bn in study.cells():
                if not (ds in datasets and d in depths and (lrs is None or lr_in(lr, lrs))
                        and opt in optimizers and bn in batch_norm):
                    continue
                cell = cells.setdefault((ds, d, lr, opt, bn, seed), Cell(
                    {"dataset": ds, "depth": d, "lr": lr, "optimizer": opt, "batch_norm": bn,
                     "seed": seed}))
                cell.studies.add(study.name)
    for cell in cells.values():
        cell.params["noise_ablation"] = any(STUDIES[n].ablation for n in cell.studies)
    return list(cells.values())


def plan(cells: list[Cell], profile: str, results_dir: str, data_dir=None,
         extra: dict | None = None) -> list[Cell]:
    """Check every cell's parameters (before any training) and compute its run key."""
    clash = sorted(set(GRID_SET) & set(extra or {}))
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
    """Append one line to ``grid-log.jsonl`` in a single write (several workers share it)."""
    line = (json.dumps(entry) + "\n").encode()
    fd = os.open(results_dir / "grid-log.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read_log(results_dir: Path) -> list[dict]:
    """The entries of ``grid-log.jsonl`` (none if there is no log yet)."""
    try:
        lines = (Path(results_dir) / "grid-log.jsonl").read_text().splitlines()
    except OSError:
        return []
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return entries


def execute(cell: Cell, results_dir: Path, notebook: Path = TRAIN_NOTEBOOK) -> None:
    """Run the training notebook for one cell through papermill (raises on failure)."""
    import papermill as pm

    out = results_dir / "notebooks" / f"{cell.key}.out.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    params = {**cell.params, "results_dir": str(results_dir.resolve())}
    pm.execute_notebook(str(notebook), str(out), parameters=params, cwd=str(notebook.parent),
                        progress_bar=False, kernel_name="python3")


# --------------------------------------------------------------------------
# claims: two workers never run the same cell
# --------------------------------------------------------------------------
# A worker claims a cell by creating ``<key>.lock`` beside the record with O_EXCL
# (atomic, also on NFS v3+), holding its pid, host, job id and time. While the run
# goes on a heartbeat thread touches the file; a claim is given up as stale when
# its pid is gone on this host, or when it has not been touched for STALE_AFTER.

STALE_AFTER = 600.0   # seconds without a heartbeat before a claim counts as abandoned
HEARTBEAT = 60.0


def claim_path(results_dir: Path, key: str) -> Path:
    return Path(results_dir) / f"{key}.lock"


def _job_id() -> str | None:
    env = os.environ
    if env.get("SLURM_ARRAY_JOB_ID"):
        return f"{env['SLURM_ARRAY_JOB_ID']}_{env.get('SLURM_ARRAY_TASK_ID', '')}"
    return env.get("SLURM_JOB_ID") or env.get("SUBMITIT_LOCAL_JOB_ID")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # alive, another user's
        return True
    return True


def claim_is_stale(path: Path, stale_after: float = STALE_AFTER) -> bool:
    """True when the claim's owner is gone: its pid is dead on this host, or the file
    has not been touched for ``stale_after`` seconds. A missing claim counts as stale."""
    try:
        age = time.time() - path.stat().st_mtime
        info = json.loads(path.read_text() or "{}")
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        info = {}   # being written right now: judged by its age only
    if info.get("host") == socket.gethostname() and isinstance(info.get("pid"), int):
        if not _pid_alive(info["pid"]):
            return True
    return age > stale_after


def _break_stale(path: Path, stale_after: float) -> bool:
    """Remove a stale claim; True if the caller may try to claim again. One breaker at a
    time (a guard file, itself O_EXCL), so a breaker never removes a fresh claim."""
    guard = path.with_name(path.name + ".break")
    try:
        os.close(os.open(guard, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        try:   # a breaker killed inside this short window leaves its guard behind
            if time.time() - guard.stat().st_mtime > 60:
                guard.unlink()
        except OSError:
            pass
        return False
    try:
        if not claim_is_stale(path, stale_after):
            return False
        path.unlink(missing_ok=True)
        return True
    finally:
        guard.unlink(missing_ok=True)


def try_claim(results_dir: Path, key: str, stale_after: float = STALE_AFTER) -> str | None:
    """Claim a cell; returns the claim's token, or None if another live worker holds it."""
    path = claim_path(results_dir, key)
    token = uuid.uuid4().hex
    for attempt in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if attempt == 0 and _break_stale(path, stale_after):
                continue
            return None
        with os.fdopen(fd, "w") as f:
            json.dump({"pid": os.getpid(), "host": socket.gethostname(), "job_id": _job_id(),
                       "claimed": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                       "token": token}, f)
        return token
    return None


def release_claim(results_dir: Path, key: str, token: str) -> None:
    """Remove the claim if it is still ours (a stale-claim breaker may have taken it over)."""
    path = claim_path(results_dir, key)
    try:
        if json.loads(path.read_text()).get("token") == token:
            path.unlink()
    except (OSError, ValueError):
        pass


@contextmanager
def claimed(results_dir: Path, key: str, stale_after: float = STALE_AFTER,
            heartbeat: float = HEARTBEAT):
    """``with claimed(...) as mine:``: ``mine`` is True when this worker holds the cell;
    the claim is kept fresh while the block runs and released when it ends."""
    token = try_claim(results_dir, key, stale_after)
    if token is None:
        yield False
        return
    stop = threading.Event()

    def beat():
        while not stop.wait(heartbeat):
            try:
                os.utime(claim_path(results_dir, key))
            except OSError:
                pass

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield True
    finally:
        stop.set()
        thread.join()
        release_claim(results_dir, key, token)


def _drop_claim_of(results_dir: Path, key: str, job_id: str) -> None:
    """Remove the claim a job left when it died (its job id says it is that job's)."""
    path = claim_path(results_dir, key)
    try:
        if str(json.loads(path.read_text()).get("job_id")) == str(job_id):
            path.unlink()
    except (OSError, ValueError):
        pass


def running_keys(results_dir: Path, keys, stale_after: float = STALE_AFTER) -> set[str]:
    """The keys among ``keys`` held by a live claim (some worker is running them)."""
    return {k for k in keys if claim_path(results_dir, k).exists()
            and not claim_is_stale(claim_path(results_dir, k), stale_after)}


# --------------------------------------------------------------------------
# one cell, in whichever worker runs it
# --------------------------------------------------------------------------

def run_cell(cell: Cell, results_dir: Path, runner=execute, stale_after: float = STALE_AFTER,
             clock=time.monotonic) -> dict:
    """Run one cell unless its record exists or another worker holds its claim.

    Returns ``{"key", "status"}`` with status done, failed, skipped (recorded) or busy
    (claimed elsewhere); done and failed runs are also logged in ``grid-log.jsonl``.
    A failure is caught and logged, never raised (the other cells go on).
    """
    results_dir = Path(results_dir)
    if finished(results_dir, cell.key):
        return {"key": cell.key, "status": "skipped"}
    with claimed(results_dir, cell.key, stale_after) as mine:
        if not mine:
            return {"key": cell.key, "status": "busy"}
        if finished(results_dir, cell.key):   # finished between our check and our claim
            return {"key": cell.key, "status": "skipped"}
        entry = {"key": cell.key, "profile": cell.params.get("profile"),
                 "depth": cell.params.get("depth"), "host": socket.gethostname(),
                 "job_id": _job_id()}
        t0 = clock()
        try:
            runner(cell, results_dir)
            if not finished(results_dir, cell.key):
                raise RuntimeError(f"the run ended without a finished record {cell.key}.json")
            entry.update(status="done", seconds=clock() - t0)
        except KeyboardInterrupt:
            raise
        except Exception as e:  # one failed run must not stop the others
            entry.update(status="failed", seconds=clock() - t0,
                         error=f"{type(e).__name__}: {e}"[-2000:],
                         traceback=traceback.format_exc()[-4000:])
        _log(results_dir, entry)
        return entry


# --------------------------------------------------------------------------
# the time budget: measured seconds per epoch and per sweep
# --------------------------------------------------------------------------

_KEY_RE = re.compile(r"-resnet(\d+)-.*-s\d+-(\w+)-[0-9a-f]{10}$")


def run_costs(rec: dict) -> tuple[float, float] | None:
    """(seconds per training epoch, seconds after training) of a finished record: the
    median epoch of its history (robust to a first compiling epoch or a paused one)
    and its noise, ablation and gradient-noise seconds; None without a history."""
    epochs = [h["seconds"] for h in rec.get("history") or []
              if isinstance(h.get("seconds"), (int, float))]
    if not epochs:
        return None
    t = rec.get("timings") or {}
    after = sum(v for k, v in t.items() if k in ("noise_seconds", "ablation_seconds")
                and isinstance(v, (int, float)))
    after += (rec.get("theory") or {}).get("seconds") or 0.0
    return statistics.median(epochs), after


def fixed_seconds(rec: dict, run_seconds: float) -> float | None:
    """A finished run's seconds that ``run_costs`` leaves out (loading the data, the
    first epoch's compiling, the a0 test pass, writing the record): its whole run minus
    its epochs at their median and its after-training seconds, so that an estimate from
    this one run gives its own length back. On a GPU this is ~30 s of a ~130 s run, and
    an estimate without it started runs that the call's timeout then cut. None for a
    resumed run (its run seconds cover only some of its epochs) or without a history."""
    costs = run_costs(rec)
    if costs is None or (rec.get("timings") or {}).get("resumed_from_epoch"):
        return None
    n = sum(isinstance(h.get("seconds"), (int, float)) for h in rec["history"])
    return max(0.0, run_seconds - n * costs[0] - costs[1])


def _bucket(measured: dict, ident: tuple) -> dict[str, list[float]]:
    """The measured costs of one (profile, depth), created empty on first use."""
    return measured.setdefault(ident, {"epoch": [], "after": [], "run": [], "fixed": []})


def _add_costs(m: dict[str, list[float]], costs: tuple[float, float],
               fixed: float | None = None) -> None:
    m["epoch"].append(costs[0])
    m["after"].append(costs[1])
    if fixed is not None:
        m["fixed"].append(fixed)


def measured_seconds(results_dir: Path) -> dict[tuple, dict[str, list[float]]]:
    """What finished runs cost, by (profile, depth): from the records, the seconds per
    epoch and after training (``run_costs``); from the grid log's ``done`` entries,
    whole runs (used where no record has a history, e.g. an older record) and, joined
    with their records, each run's fixed seconds (``fixed_seconds``)."""
    results_dir = Path(results_dir)
    out: dict[tuple, dict[str, list[float]]] = {}
    run_seconds: dict[str, float] = {}
    for e in read_log(results_dir):
        if e.get("status") != "done" or not isinstance(e.get("seconds"), (int, float)):
            continue
        run_seconds[str(e.get("key"))] = float(e["seconds"])
        profile, depth = e.get("profile"), e.get("depth")
        m = _KEY_RE.search(str(e.get("key", "")))
        if (profile is None or depth is None) and m:
            depth, profile = int(m.group(1)), m.group(2)
        if profile is not None and depth is not None:
            _bucket(out, (profile, int(depth)))["run"].append(float(e["seconds"]))
    for path in results_dir.glob("*.json"):
        try:
            rec = read_record(path)
            ident = (rec["config"]["profile"], int(rec["config"]["depth"]))
            costs = run_costs(rec) if rec.get("status") in ("completed", "diverged") else None
            fixed = (fixed_seconds(rec, run_seconds[rec["key"]])
                     if costs is not None and rec.get("key") in run_seconds else None)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        if costs is not None:
            _add_costs(_bucket(out, ident), costs, fixed)
    return out


def learn(measured: dict, cell: Cell, results_dir: Path, seconds: float) -> None:
    """Add a run that just finished to ``measured`` (its record's costs, or its seconds)."""
    m = _bucket(measured, (cell.params.get("profile"), cell.params.get("depth")))
    try:
        rec = read_record(Path(results_dir) / f"{cell.key}.json")
        costs, fixed = run_costs(rec), fixed_seconds(rec, seconds)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        costs = fixed = None
    if costs is None:
        m["run"].append(seconds)
    else:
        _add_costs(m, costs, fixed)


def _epochs(cell: Cell) -> int:
    """The epochs the cell trains: its ``epochs`` parameter, else its profile's."""
    p = cell.params
    return int(p.get("epochs") or PROFILES[p["profile"]].epochs)


def estimate_seconds(cell: Cell, measured: dict[tuple, dict[str, list[float]]]) -> float | None:
    """The cell's expected seconds: its epochs times the median measured epoch, plus the
    median sweeps and the median fixed seconds (``fixed_seconds``), of runs of its profile
    and depth (else the median whole run); for a depth not measured, runs of other depths
    scaled by depth (compute grows with it); None if nothing is measured."""
    profile, depth = cell.params.get("profile"), cell.params.get("depth")

    def cost(m):
        fixed = statistics.median(m["fixed"]) if m.get("fixed") else 0.0
        if m["epoch"]:
            return (_epochs(cell) * statistics.median(m["epoch"])
                    + statistics.median(m["after"]) + fixed)
        return statistics.median(m["run"]) if m["run"] else None

    if measured.get((profile, depth)) and (c := cost(measured[(profile, depth)])) is not None:
        return c
    scaled = [c * depth / d for (p, d), m in measured.items()
              if p == profile and d and (c := cost(m)) is not None]
    return max(scaled) if scaled else None


# --------------------------------------------------------------------------
# executors
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Local:
    """N concurrent runs on this machine; worker i sees GPU ``gpus[i % len(gpus)]``
    (``CUDA_VISIBLE_DEVICES``), or all share the CPU when ``gpus`` is empty."""
    workers: int = 1
    gpus: tuple = ()


SUBMITIT_SIGNAL_DELAY_S = 90   # submitit's default signal_delay_s


@dataclass(frozen=True)
class Slurm:
    """A Slurm job array through submitit, one task per cell. ``cluster`` is submitit's:
    ``slurm``, or ``local``/``debug`` (the same submission code without Slurm)."""
    partition: str | None = None
    time_min: int = 240
    gpus_per_task: int = 1
    cpus_per_task: int | None = None
    mem_gb: float | None = None
    array_parallelism: int = 32
    extra: tuple = ()            # (("constraint", "a100"), ...): more sbatch options
    cluster: str = "slurm"
    folder: str | None = None    # submitit's logs and pickles; default <results_dir>/slurm
    wait: bool = True
    poll_seconds: float = 30.0

    @property
    def signal_delay_s(self) -> int:
        """Seconds before the time limit at which Slurm sends submitit's USR2, which ends
        the task (a cell is not requeued by submitit: it resumes from its checkpoint at the
        next call). submitit's 90 s for limits of 10 minutes or more; none (0) below, where
        Slurm's own kill at the limit ends the task: Slurm sends the signal up to 30 s
        earlier still (its time-limit check period), so a 2-minute task would get it
        at its start."""
        return SUBMITIT_SIGNAL_DELAY_S if self.time_min >= 10 else 0

    def submitit_parameters(self, name: str = "grid") -> dict:
        """The parameters given to ``AutoExecutor.update_parameters``."""
        params = {"name": name, "timeout_min": self.time_min, "cpus_per_task": self.cpus_per_task,
                  "mem_gb": self.mem_gb, "slurm_partition": self.partition,
                  "slurm_gpus_per_task": self.gpus_per_task or None,
                  "slurm_array_parallelism": self.array_parallelism,
                  "slurm_additional_parameters": dict(self.extra) or None,
                  "slurm_signal_delay_s": (self.signal_delay_s if self.signal_delay_s
                                           != SUBMITIT_SIGNAL_DELAY_S else None)}
        return {k: v for k, v in params.items() if v is not None}

    def sbatch_line(self, n_tasks: int, name: str = "grid") -> str:
        """The sbatch options submitit will write for ``n_tasks`` cells, as one command line."""
        opts = [f"--array=0-{n_tasks - 1}%{min(n_tasks, self.array_parallelism)}",
                f"--job-name={name}", f"--time={self.time_min}"]
        if self.partition:
            opts.append(f"--partition={self.partition}")
        if self.gpus_per_task:
            opts.append(f"--gpus-per-task={self.gpus_per_task}")
        if self.cpus_per_task:
            opts.append(f"--cpus-per-task={self.cpus_per_task}")
        if self.mem_gb:
            mem = self.mem_gb
            opts.append(f"--mem={int(mem)}GB" if mem == int(mem) else f"--mem={int(mem * 1024)}MB")
        opts += [f"--{k}" if v is True else f"--{k}={shlex.quote(str(v))}" for k, v in self.extra]
        return "sbatch " + " ".join(opts)


def job_name(cells) -> str:
    """The Slurm job name of a grid: ``grid-<profile>``."""
    profiles = sorted({str(c.params.get("profile")) for c in cells})
    return "grid-" + "-".join(profiles) if profiles else "grid"


def _import_submitit():
    try:
        import submitit
    except ImportError:
        raise ConfigError("--executor slurm needs the optional package submitit: "
                          "pip install -e '.[cluster]' (or pip install submitit)") from None
    return submitit


def accounting_disabled() -> bool:
    """True when this Slurm keeps no accounting (``AccountingStorageType=accounting_storage/none``,
    e.g. a one-node cluster): ``sacct``, which submitit polls for job states, then fails."""
    try:
        out = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(re.search(r"^AccountingStorageType\s*=\s*accounting_storage/none\s*$", out, re.M))


def squeue_watcher(delay_s: float = 60.0):
    """submitit's Slurm job watcher reading states from ``squeue`` instead of ``sacct``, for a
    Slurm without accounting: submitit's own one warns on every poll there and never learns
    that a task died without a result file (a time limit's SIGKILL), so the grid would wait
    for ever. A task squeue no longer lists (gone for ``MinJobAge``) counts as ended
    (state ``NOT_IN_QUEUE``); an squeue error is reported once and the states kept."""
    from submitit.slurm.slurm import SlurmInfoWatcher

    class SqueueWatcher(SlurmInfoWatcher):
        warned = False

        def _make_command(self):
            ids = sorted({x.split("_")[0] for x in self._registered - self._finished})
            return ["squeue", "--noheader", "--array", "--states=all", "--format=%i|%T|%N",
                    "--jobs=" + ",".join(ids)] if ids else None

        def update(self) -> None:
            command = self._make_command()
            if command is None:
                return
            self._num_calls += 1
            try:
                proc = subprocess.run(command, capture_output=True, text=True, timeout=60)
            except (OSError, subprocess.SubprocessError) as e:
                proc = subprocess.CompletedProcess(command, 1, "", str(e))
            gone = proc.returncode != 0 and "Invalid job id" in proc.stderr   # all purged
            if proc.returncode != 0 and not gone:
                if not self.warned:
                    print(f"squeue failed ({proc.stderr.strip()[:300]}); job states may be "
                          "stale (reported once)", file=sys.stderr, flush=True)
                    self.warned = True
            else:
                info = self.read_info("JobID|State|NodeList\n" + ("" if gone else proc.stdout))
                for job_id in self._registered - self._finished:
                    info.setdefault(job_id, {"JobID": job_id, "State": "NOT_IN_QUEUE"})
                self._info_dict.update(info)
            self._last_status_check = time.time()
            for job_id in self._registered - self._finished:
                if self.is_done(job_id, mode="cache"):
                    self._finished.add(job_id)

    return SqueueWatcher(delay_s=delay_s)


def describe(executor, n_tasks: int, results_dir: Path, name: str = "grid") -> list[str]:
    """How the runs would be submitted (for ``--dry-run``)."""
    if executor is None:
        return ["executor: serial (one run at a time in this process)"]
    if isinstance(executor, Local):
        pins = ([f"worker {i}: CUDA_VISIBLE_DEVICES={executor.gpus[i % len(executor.gpus)]}"
                 for i in range(executor.workers)] if executor.gpus else
                [f"worker {i}: cores {','.join(map(str, c))}"
                 for i, c in enumerate(cpu_shares(executor.workers))])
        return [f"executor: local, {executor.workers} concurrent runs; " + "; ".join(pins)]
    folder = executor.folder or str(results_dir / "slurm")
    params = ", ".join(f"{k}={v!r}" for k, v in executor.submitit_parameters(name).items())
    return [f"executor: slurm job array of {n_tasks} tasks through submitit "
            f"(cluster={executor.cluster!r})",
            f"  {executor.sbatch_line(n_tasks, name)}",
            f"  submitit.AutoExecutor(folder={folder!r}, cluster={executor.cluster!r})"
            f".update_parameters({params})"]


_WORKER = {}


def cpu_shares(workers: int, cores=None) -> list[tuple[int, ...]]:
    """The cores of each of ``workers`` runs sharing this CPU: equal contiguous blocks
    (one core each, round robin, when there are more workers than cores). Two pinned
    1-thread runs train ~1.5x the images/s of one 2-thread run on a 2-core machine
    (``benchmarks/cpu_throughput.py``)."""
    cores = sorted(os.sched_getaffinity(0) if cores is None else cores)
    per = max(1, len(cores) // workers)
    return [tuple(cores[(i * per + j) % len(cores)] for j in range(per))
            for i in range(workers)]


# the thread pools a worker's runs size to its cores (TensorFlow, OpenMP/oneDNN, XLA)
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")


def pin_to_cores(cores) -> None:
    """This process and the runs it starts use ``cores`` only, with one thread each."""
    os.sched_setaffinity(0, set(cores))
    for name in THREAD_VARIABLES:
        os.environ[name] = str(len(cores))


def _init_worker(runner, gpu_queue):
    """A local worker's start: its runner (inherited through fork), and its GPU or, on
    a CPU, its share of the cores."""
    _WORKER["runner"] = runner
    item = gpu_queue.get() if gpu_queue is not None else None
    if isinstance(item, tuple):
        pin_to_cores(item)
    elif item is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(item)


def _worker_run(cell, results_dir, stale_after):
    return run_cell(cell, results_dir, _WORKER["runner"], stale_after)


def _local_pool(executor: Local, runner):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    items = ([executor.gpus[i % len(executor.gpus)] for i in range(executor.workers)]
             if executor.gpus else cpu_shares(executor.workers))
    for item in items:
        queue.put(item)
    return ProcessPoolExecutor(executor.workers, mp_context=ctx, initializer=_init_worker,
                               initargs=(runner, queue))


def _tally(summary: dict, entry: dict) -> None:
    status = entry["status"]
    summary[status] += 1
    if status in ("failed", "busy"):
        summary[f"{status}_keys"].append(entry["key"])


@dataclass(frozen=True)
class Budget:
    """The time budget of one grid call: ``seconds`` (None: no budget) counted from
    ``start`` on ``clock``, and the measured costs runs are judged by (``measured_seconds``;
    the dict grows as runs of this call end, ``learn``)."""
    seconds: float | None
    clock: Callable[[], float]
    start: float
    measured: dict

    def fits(self, cell: Cell, idle: bool) -> bool:
        """The cell's estimate fits in what is left; with nothing measured, only when no
        run is going (``idle``: start one and learn from it)."""
        if self.seconds is None:
            return True
        need = estimate_seconds(cell, self.measured)
        if need is None:
            return idle
        return need <= self.seconds - (self.clock() - self.start)


def _next_fitting(pending: list[Cell], budget: Budget, idle: bool) -> Cell | None:
    """Take the first pending cell that fits in the budget, if any."""
    for i, cell in enumerate(pending):
        if budget.fits(cell, idle):
            return pending.pop(i)
    return None


def _show(bar, summary: dict, running: int, queued: int) -> None:
    bar.set_postfix(done=summary["done"], running=running, failed=summary["failed"],
                    queued=queued, skipped=summary["skipped"], busy=summary["busy"])


def _book(entry: dict, cell: Cell, summary: dict, budget: Budget, results_dir: Path,
          bar, in_a_row: int) -> int:
    """Count an ended run (``_tally``), learn its cost, report a failure on the bar;
    returns the failures in a row, this run included."""
    _tally(summary, entry)
    if entry["status"] == "done":
        learn(budget.measured, cell, results_dir, entry["seconds"])
    elif entry["status"] == "failed":
        bar.write(f"FAILED {cell.label} ({cell.key}): {entry['error'].split(':')[0]}; "
                  f"see {results_dir / 'grid-log.jsonl'}")
    bar.update(1)
    return in_a_row + 1 if entry["status"] == "failed" else 0


def _ended_workers(inflight: dict, results_dir: Path) -> list[tuple[dict, Cell]]:
    """Wait for a local worker's run to end; (entry, cell) of each ended one, removed from
    ``inflight`` (a worker process that died is a failed run, logged here)."""
    ended = []
    for fut in wait(list(inflight), return_when=FIRST_COMPLETED)[0]:
        cell = inflight.pop(fut)
        try:
            entry = fut.result()
        except Exception as e:   # the worker process itself died
            entry = {"key": cell.key, "status": "failed", "seconds": None,
                     "error": f"{type(e).__name__}: {e}"}
            _log(results_dir, entry)
        ended.append((entry, cell))
    return ended


def run_grid(cells: list[Cell], results_dir: str | Path, runner=execute,
             progress: bool = True, executor=None, time_budget: float | None = None,
             stale_after: float = STALE_AFTER, clock=time.monotonic,
             max_failures: int | None = None) -> dict:
    """Run every planned cell whose record does not exist yet; a failure does not stop
    the others, unless ``max_failures`` runs in a row failed (a broken setup fails them
    all: start no more, and count the rest as ``left``).

    ``executor``: None (serial, here), ``Local`` (a pool of processes) or ``Slurm``
    (a submitit job array). ``runner(cell, results_dir)`` trains one cell (the papermill
    call; tests pass a stand-in). ``time_budget`` (seconds, serial and local): start no
    run whose measured time does not fit in what is left. Returns counts (done, failed,
    skipped, busy: claimed by another worker, left: not started for the budget) and keys.
    """
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    todo = [c for c in cells if not finished(results_dir, c.key)]
    summary = {"planned": len(cells), "skipped": len(cells) - len(todo), "done": 0,
               "failed": 0, "busy": 0, "left": 0, "failed_keys": [], "busy_keys": [],
               "job_ids": []}
    if isinstance(executor, Slurm):
        if time_budget is not None:
            raise ConfigError("--time-budget applies to the serial and local executors; "
                              "on Slurm each task's limit is --time")
        return _run_slurm(todo, results_dir, runner, executor, summary, progress, stale_after)
    budget = Budget(time_budget, clock, clock(),
                    measured_seconds(results_dir) if time_budget is not None else {})
    summary["left"] = _run_here(todo, results_dir, runner, executor, summary, progress,
                                budget, stale_after, max_failures)
    return summary


def _run_here(todo, results_dir: Path, runner, executor: Local | None, summary: dict,
              progress: bool, budget: Budget, stale_after: float,
              max_failures: int | None) -> int:
    """The serial and local executors: whenever a slot is free, start the next cell that
    fits in the budget, until none does or ``max_failures`` runs in a row failed; returns
    how many cells were left unstarted."""
    serial = not isinstance(executor, Local)
    slots = 1 if serial else executor.workers
    pending, inflight, in_a_row = list(todo), {}, 0
    pool = None if serial else _local_pool(executor, runner)
    bar = progress_bar(total=len(todo), desc="grid", unit="run", disable=not progress)
    _show(bar, summary, 0, len(pending))
    try:
        while True:
            while (len(inflight) < slots and (max_failures is None or in_a_row < max_failures)
                   and (cell := _next_fitting(pending, budget, idle=not inflight)) is not None):
                if not serial:
                    inflight[pool.submit(_worker_run, cell, results_dir, stale_after)] = cell
                    _show(bar, summary, len(inflight), len(pending))
                    continue
                bar.set_description(f"grid: {cell.label}")
                _show(bar, summary, 1, len(pending))
                entry = run_cell(cell, results_dir, runner, stale_after, budget.clock)
                in_a_row = _book(entry, cell, summary, budget, results_dir, bar, in_a_row)
                _show(bar, summary, 0, len(pending))
            if not inflight:
                break
            for entry, cell in _ended_workers(inflight, results_dir):
                in_a_row = _book(entry, cell, summary, budget, results_dir, bar, in_a_row)
                _show(bar, summary, len(inflight), len(pending))
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    return len(pending)


def _run_slurm(todo, results_dir, runner, executor: Slurm, summary, progress, stale_after):
    """Submit the cells as one job array; wait for it (unless ``executor.wait`` is off)."""
    submitit = _import_submitit()
    live = running_keys(results_dir, [c.key for c in todo], stale_after)
    for cell in todo:                  # cells some worker runs now: not submitted again
        if cell.key in live:
            _tally(summary, {"key": cell.key, "status": "busy"})
    todo = [c for c in todo if c.key not in live]
    if not todo:
        return summary
    folder = Path(executor.folder or results_dir / "slurm")
    ex = submitit.AutoExecutor(folder=folder, cluster=executor.cluster)
    ex.update_parameters(**executor.submitit_parameters(job_name(todo)))
    n = len(todo)
    where = results_dir.resolve()      # the tasks may start in another working directory
    jobs = ex.map_array(run_cell, todo, [where] * n, [runner] * n, [stale_after] * n)
    summary["job_ids"] = [j.job_id for j in jobs]
    if executor.cluster == "slurm" and accounting_disabled():
        watcher = squeue_watcher(delay_s=executor.poll_seconds)
        for job in jobs:       # states from squeue: no sacct warning on every poll
            job.watcher = watcher
    print(f"submitted {n} tasks as job array {jobs[0].job_id.split('_')[0]} "
          f"(logs in {folder}/)", flush=True)
    if not executor.wait:
        summary["left"] = n
        return summary
    bar = progress_bar(total=n, desc="grid (slurm)", unit="run", disable=not progress)
    waiting = dict(zip(jobs, todo))
    try:
        while waiting:
            ready = [j for j in waiting if executor.cluster == "debug" or j.done()]
            for job in ready:   # (submitit's debug jobs run in this process on .result())
                cell = waiting.pop(job)
                try:
                    entry = job.result()
                except Exception as e:   # the job died (time limit, node failure...)
                    entry = {"key": cell.key, "status": "failed", "seconds": None,
                             "job_id": job.job_id, "error": f"{type(e).__name__}: {e}"[-2000:]}
                    _log(results_dir, entry)
                    _drop_claim_of(results_dir, cell.key, job.job_id)
                _tally(summary, entry)
                if entry["status"] == "failed":
                    bar.write(f"FAILED {cell.label} ({cell.key}), job {job.job_id}; "
                              f"see {results_dir / 'grid-log.jsonl'} and {folder}/")
                bar.update(1)
            running = len(running_keys(results_dir, [c.key for c in waiting.values()],
                                       stale_after))
            bar.set_postfix(done=summary["done"], running=running, failed=summary["failed"],
                            queued=len(waiting) - running, skipped=summary["skipped"],
                            busy=summary["busy"])
            if waiting:
                time.sleep(min(executor.poll_seconds, 1.0) if executor.cluster != "slurm"
                           else executor.poll_seconds)
    finally:
        bar.close()
    return summary


def _parse_value(text: str):
    """A ``-p NAME VALUE`` value: JSON (5, 0.001, true, null), Python's True/False/None
    as typed in a notebook, or else the string itself."""
    python = {"True": True, "False": False, "None": None}
    if text in python:
        return python[text]
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


EXECUTORS = ("serial", "local", "slurm")
SUBMITIT_CLUSTERS = ("slurm", "local", "debug")
_LOCAL_FLAGS = {"workers": "--workers", "gpus": "--gpus"}
_SLURM_FLAGS = {"partition": "--partition", "time": "--time", "gpus_per_task": "--gpus-per-task",
                "cpus_per_task": "--cpus-per-task", "mem_gb": "--mem-gb",
                "array_parallelism": "--array-parallelism", "sbatch": "--sbatch",
                "submitit_cluster": "--submitit-cluster", "no_wait": "--no-wait",
                "poll_seconds": "--poll-seconds"}


def _positive(name, value, integer=True, zero=False):
    if value is None:
        return None
    if (value < 0 if zero else value <= 0) or (integer and value != int(value)):
        raise ConfigError(f"{name}={value!r} is not accepted; accepted values: "
                          f"{'an integer' if integer else 'a number'} "
                          f"{'>= 0' if zero else '> 0'}")
    return value


def executor_from_args(args) -> Local | Slurm | None:
    """The executor the flags ask for; a clear error for a flag of another executor."""
    if args.executor not in EXECUTORS:
        raise ConfigError(f"--executor={args.executor!r} is not accepted; accepted values: "
                          + ", ".join(EXECUTORS))
    for kind, flags in (("local", _LOCAL_FLAGS), ("slurm", _SLURM_FLAGS)):
        used = [flag for attr, flag in flags.items() if getattr(args, attr) not in (None, False)]
        if used and args.executor != kind:
            raise ConfigError(f"{', '.join(used)} applies to --executor {kind} only "
                              f"(the executor is {args.executor})")
    if args.executor == "serial":
        return None
    if args.executor == "local":
        gpus = tuple(g.strip() for g in args.gpus.split(",")) if args.gpus is not None else ()
        if any(not re.fullmatch(r"[\w:-]+", g) for g in gpus):
            raise ConfigError(f"--gpus={args.gpus!r} is not accepted; accepted values: "
                              "device ids separated by commas, e.g. --gpus 0,1,2,3")
        workers = _positive("--workers", args.workers) or len(gpus) or 1
        return Local(workers=int(workers), gpus=gpus)
    if args.submitit_cluster is not None and args.submitit_cluster not in SUBMITIT_CLUSTERS:
        raise ConfigError(f"--submitit-cluster={args.submitit_cluster!r} is not accepted; "
                          "accepted values: " + ", ".join(SUBMITIT_CLUSTERS))
    extra = []
    for item in args.sbatch or []:
        name, eq, value = item.partition("=")
        if not re.fullmatch(r"[a-z][a-z0-9-]*", name):
            raise ConfigError(f"--sbatch {item!r} is not accepted; accepted values: "
                              "NAME=VALUE or NAME, an sbatch long option without its dashes, "
                              "e.g. --sbatch constraint=a100 --sbatch account=myproj")
        extra.append((name, value if eq else True))
    defaults = Slurm()
    return Slurm(partition=args.partition,
                 time_min=int(_positive("--time", args.time) or defaults.time_min),
                 gpus_per_task=int(_positive("--gpus-per-task", args.gpus_per_task, zero=True)
                                   if args.gpus_per_task is not None else defaults.gpus_per_task),
                 cpus_per_task=_positive("--cpus-per-task", args.cpus_per_task),
                 mem_gb=_positive("--mem-gb", args.mem_gb, integer=False),
                 array_parallelism=int(_positive("--array-parallelism", args.array_parallelism)
                                       or defaults.array_parallelism),
                 extra=tuple(extra), cluster=args.submitit_cluster or "slurm",
                 wait=not args.no_wait,
                 poll_seconds=float(_positive("--poll-seconds", args.poll_seconds, integer=False)
                                    or defaults.poll_seconds))


def parser() -> argparse.ArgumentParser:
    """The grid's command line: the study's filters, the run options and the executors'."""
    ap = argparse.ArgumentParser(prog="python -m helpers.ops.grid", description=__doc__.split("\n")[0])
    ap.add_argument("--profile", required=True, help=" | ".join(PROFILES))  # every declared profile
    ap.add_argument("--results-dir", default=None, help="default: results/<profile>")
    ap.add_argument("--data-dir", default=None,
                    help="CIFAR folder / .tar.gz / .npz / 'download' (default: $CIFAR_DATA_DIR; "
                         "the smoke profile uses synthetic data without it)")
    ap.add_argument("--studies", nargs="+", default=list(STUDY_NAMES))
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS))
    ap.add_argument("--depths", nargs="+", type=int, default=list(PAPER_DEPTHS))
    ap.add_argument("--lrs", nargs="+", type=float, default=None,
                    help="default: every LR of the chosen studies")
    ap.add_argument("--optimizers", nargs="+", default=list(PAPER_OPTIMIZERS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--batch-norm", nargs="+", choices=["on", "off"], default=["on", "off"])
    ap.add_argument("-p", "--param", nargs=2, action="append", default=[],
                    metavar=("NAME", "VALUE"), help="any other notebook parameter, e.g. -p epochs 5")
    ap.add_argument("--dry-run", action="store_true",
                    help="list the runs, and how they would be submitted, and exit")
    ap.add_argument("--time-budget", type=float, default=None, metavar="SECONDS",
                    help="start no run that cannot finish in the time left (judged from "
                         "measured run times), then stop with status 0; serial and local")
    ap.add_argument("--in-process", action="store_true",
                    help="run each notebook in this process (helpers.ops.run_cell), without "
                         "papermill: for machines that lack it (the same record)")
    ap.add_argument("--stale-after", type=float, default=STALE_AFTER, metavar="SECONDS",
                    help="a cell's claim (<key>.lock) not touched for this long is abandoned")
    _add_executor_arguments(ap)
    return ap


def _add_executor_arguments(ap: argparse.ArgumentParser) -> None:
    """The options of ``--executor`` and of the local and Slurm executors."""
    g = ap.add_argument_group("executors")
    g.add_argument("--executor", default="serial",
                   help="serial (default: one run at a time) | local (concurrent runs on this "
                        "machine) | slurm (a job array through submitit, pip install '.[cluster]')")
    g.add_argument("--workers", type=int, default=None,
                   help="local: concurrent runs (default: one per --gpus entry, else 1)")
    g.add_argument("--gpus", default=None,
                   help="local: e.g. 0,1,2,3; worker i gets CUDA_VISIBLE_DEVICES=<i-th id> "
                        "(round robin); without it the workers share what they see")
    g.add_argument("--partition", default=None, help="slurm: the partition")
    g.add_argument("--time", type=int, default=None, metavar="MINUTES",
                   help=f"slurm: time limit of each task (default {Slurm.time_min})")
    g.add_argument("--gpus-per-task", type=int, default=None,
                   help=f"slurm: GPUs of each task (default {Slurm.gpus_per_task})")
    g.add_argument("--cpus-per-task", type=int, default=None, help="slurm: CPUs of each task")
    g.add_argument("--mem-gb", type=float, default=None, help="slurm: memory of each task")
    g.add_argument("--array-parallelism", type=int, default=None,
                   help=f"slurm: tasks of the array running at once "
                        f"(default {Slurm.array_parallelism})")
    g.add_argument("--sbatch", action="append", default=None, metavar="NAME=VALUE",
                   help="slurm: any other sbatch option, e.g. --sbatch constraint=a100 "
                        "--sbatch account=myproj (repeatable)")
    g.add_argument("--submitit-cluster", default=None,
                   help="slurm: submitit's cluster, slurm (default) | local | debug "
                        "(the same submission without Slurm, for tests)")
    g.add_argument("--poll-seconds", type=float, default=None, metavar="SECONDS",
                   help=f"slurm: seconds between checks of the array (default "
                        f"{Slurm.poll_seconds:g})")
    g.add_argument("--no-wait", action="store_true",
                   help="slurm: submit and exit; run the same command later to resume")


def _planned(args, results_dir: Path):
    """(executor, planned cells) of the command line; raises ConfigError (or DataError)
    on any bad option before a run starts."""
    executor = executor_from_args(args)
    _positive("--time-budget", args.time_budget, integer=False)
    _positive("--stale-after", args.stale_after, integer=False)
    if args.time_budget is not None and isinstance(executor, Slurm):
        raise ConfigError("--time-budget applies to --executor serial and local; on Slurm "
                          "each task's limit is --time")
    if isinstance(executor, Slurm) and not args.dry_run:
        _import_submitit()
    cells = study_cells(args.studies, args.datasets, args.depths, args.lrs, args.optimizers,
                        args.seeds, tuple(b == "on" for b in args.batch_norm))
    if not cells:
        raise ConfigError("the filters select no run of the chosen studies")
    plan(cells, args.profile, str(results_dir), args.data_dir,
         {k: _parse_value(v) for k, v in args.param})
    return executor, cells


def _print_dry_run(cells: list[Cell], todo: int, results_dir: Path, executor,
                   stale_after: float) -> None:
    """Each planned run with its state (done, busy, todo) and how the rest would be submitted."""
    busy = running_keys(results_dir, [c.key for c in cells], stale_after)
    for c in cells:
        state = "done" if finished(results_dir, c.key) else "busy" if c.key in busy else "todo"
        print(f"  {state}  {c.key}  [{', '.join(sorted(c.studies))}]")
    if todo:
        print("\n".join(describe(executor, todo, results_dir, job_name(cells))))


def _print_report(s: dict, results_dir: Path, seconds: float) -> None:
    """What a finished grid call did: counts, the failed and busy keys, what is left."""
    print(f"grid finished in {seconds:.0f} s: {s['done']} done, "
          f"{s['skipped']} skipped, {s['failed']} failed, {s['busy']} run by another worker")
    for key in s["failed_keys"]:
        print(f"  failed: {key} (details in {results_dir / 'grid-log.jsonl'})")
    for key in s["busy_keys"]:
        print(f"  running elsewhere: {key} ({claim_path(results_dir, key).name})")
    if s["left"]:
        print(f"stopped by the time budget: {s['left']} runs left; the same command resumes them")


def main(argv=None) -> int:
    """The command line: plan (every check before a run), then list or run the cells."""
    args = parser().parse_args(argv)
    results_dir = Path(args.results_dir or f"results/{args.profile}")
    try:
        executor, cells = _planned(args, results_dir)
    except (ConfigError, cifar_files.DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    todo = sum(not finished(results_dir, c.key) for c in cells)
    print(f"{len(cells)} runs planned ({todo} to do, {len(cells) - todo} already recorded) "
          f"into {results_dir}/")
    if args.dry_run:
        _print_dry_run(cells, todo, results_dir, executor, args.stale_after)
        return 0
    t0 = time.perf_counter()
    runner = run_cell_mod.grid_runner if args.in_process else execute
    s = run_grid(cells, results_dir, runner=runner, executor=executor,
                 time_budget=args.time_budget, stale_after=args.stale_after)
    if isinstance(executor, Slurm) and not executor.wait:
        print(f"submitted {len(s['job_ids'])} tasks; run the same command again to resume "
              "what is missing once they have ended")
        return 0
    _print_report(s, results_dir, time.perf_counter() - t0)
    return 1 if s["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
