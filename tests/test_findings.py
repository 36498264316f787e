"""The front page's GPU sentence: read from the committed benchmark output and the CPU
study's records, not typed by hand."""

import json
from pathlib import Path

import pandas as pd
import pytest

from helpers.book import findings

ROOT = Path(__file__).resolve().parents[1]
BENCH = """backend=jax jax=0.11.2 keras=3.15.1 device='GPU: NVIDIA H200 x1' platform=gpu
ResNet20 batch 32, 100 steps (scan, 100 steps/call): fast 10000 images/s (compile: fast 6.3 s)
  fast: training     14.8 h + per-epoch test    0.1 h + sweeps   0.11 h =     15.0 h (0.6 days); +BN study training 4.6 h
"""


def _records(tmp_path, epoch_seconds):
    rows = []
    for i, seconds in enumerate(epoch_seconds):
        path = tmp_path / f"r{i}.json"
        path.write_text(json.dumps({"history": [{"epoch": e + 1, "seconds": s}
                                                for e, s in enumerate(seconds)]}))
        rows.append({"dataset": "cifar10", "depth": 20, "path": str(path), "batch_size": 32,
                     "steps_per_epoch": None, "train_samples": None})
    return pd.DataFrame(rows)


def test_the_gpu_sentence_reads_the_benchmark_and_the_records(tmp_path):
    """CPU speed: 50,000 images over the median epoch of each run (100 s and 200 s: 500 and
    250 images/s), median over runs 375; GPU 10,000 images/s: 27 times."""
    bench = tmp_path / "bench.txt"
    bench.write_text(BENCH)
    records = _records(tmp_path, [[90.0, 100.0, 500.0], [200.0]])
    assert findings.images_per_second(records) == pytest.approx(375.0)
    text = findings.gpu_sentence(bench, records, "results/x/")
    assert text == ("Measured on one NVIDIA H200 (`results/x/`): ResNet20 trains at about 10,000 "
                    "images/s, 27 times the median 375 images/s of a ResNet20 run of the CPU "
                    "study (its records); the paper's full grid (200 epochs, its 48 "
                    "learning-rate and 6 optimizer models) projects to about 15.0 h there, and "
                    "4.6 h more for the BN study's models without BN.")
    bench.write_text("something else\n")
    with pytest.raises(ValueError, match="bench.txt: not an engine_speed.py output"):
        findings.gpu_sentence(bench, records, "results/x/")


def test_the_committed_benchmark_output_is_read():
    bench = next((ROOT / "results" / "gpu-fast" / "benchmarks").glob("engine_speed-*.txt"))
    text = findings.gpu_sentence(bench, _records_none(), "b")
    assert "NVIDIA H200" in text and "18,249 images/s" in text and "15.0 h" in text


def _records_none():
    return pd.DataFrame(columns=["dataset", "depth", "path", "batch_size", "steps_per_epoch",
                                 "train_samples"])
