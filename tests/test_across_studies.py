"""tables.across_studies: two studies compared on the cells both ran, from the committed
CPU (results/cpu: CIFAR-10 and CIFAR-100 records) and GPU (results/gpu-fast: CIFAR-10)
records."""

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers.book import page
from helpers.experiment import recipe

ROOT = Path(__file__).resolve().parents[1]


def _a0(folder, profile, lr, dataset=recipe.REFERENCE_DATASET, depth=recipe.REFERENCE_DEPTH):
    recs = [json.loads(p.read_text()) for p in (ROOT / "results" / folder).glob("*.json")]
    recs = [r for r in recs if "record_version" in r]   # not the sweep files beside them
    return [r["baseline_accuracy"] for r in recs
            if r["config"]["profile"] == profile and r["config"]["batch_norm"]
            and r["config"]["dataset"] == dataset and r["config"]["depth"] == depth
            and r["config"]["optimizer"] == "adam" and abs(r["config"]["lr"] - lr) < 1e-12
            and r["status"] == "completed"]


def test_only_shared_cells_each_studys_numbers_and_claim3_per_reading():
    import numpy as np

    from helpers.study import claims, results
    from helpers.book import tables

    cpu = page.load_study(ROOT / "results" / "cpu", "cpu").records
    gpu = page.load_study(ROOT / "results" / "gpu-fast", "fast").records
    cells, verdicts = tables.across_studies({"CPU": cpu, "GPU": gpu})
    gpu_lrs = sorted(set(gpu["lr"]))
    assert sorted(cells["lr"]) == gpu_lrs          # the CPU's 0.00025, 0.003 and no-BN: out
    # ... and its CIFAR-100 cells, which the GPU study did not run
    assert set(cpu["dataset"]) == set(recipe.DATASETS)
    assert set(cells["dataset"]) == set(gpu["dataset"]) == {recipe.REFERENCE_DATASET}
    assert cells["batch_norm"].all()
    row = cells[(cells["lr"] - 0.001).abs() < 1e-12].iloc[0]
    g, c = np.array(_a0("gpu-fast", "fast", 0.001)), np.array(_a0("cpu", "cpu", 0.001))
    assert row["seeds | GPU"] == len(g) and row["seeds | CPU"] == len(c) == 3
    assert row["a0 | CPU"] == f"{100 * c.mean():.2f} ± {100 * c.std(ddof=1):.2f}"
    assert row["a0 | GPU"].startswith(f"{100 * g.mean():.2f} ± ")
    assert list(cells.columns[5:9]) == ["seeds | CPU", "seeds | GPU", "a0 | CPU", "a0 | GPU"]
    assert list(verdicts["reading"]) == list(claims.READINGS)
    # the CPU side is claim 3 on the shared cells only, as across_readings gives it
    shared = cpu[cpu["lr"].isin(gpu_lrs) & cpu["batch_norm"].astype(bool)
                 & cpu["dataset"].isin(set(gpu["dataset"]))]
    expect = claims.across_readings(shared, claims=(3,)).set_index("reading")["verdict"]
    assert list(verdicts["CPU"]) == [expect[r] for r in claims.READINGS]
    # the page's table: each verdict with its rho and p, the same verdicts
    shown = tables.across_claim3({"CPU": cpu, "GPU": gpu}).set_index("reading")
    full = claims.across_readings(shared, claims=(3,)).set_index("reading")
    for r in claims.READINGS:
        assert shown.loc[r, "CPU"] == (f"{expect[r]} (rho {full.loc[r, 'value']:+.2f}, "
                                       f"p = {full.loc[r, 'p']:.2g})")
        assert shown.loc[r, "GPU"].startswith(verdicts.set_index("reading").loc[r, "GPU"] + " (rho ")


def test_studies_without_a_shared_cell_are_refused_by_name():
    from helpers.study import results
    from helpers.book import tables

    cpu = page.load_study(ROOT / "results" / "cpu", "cpu").records
    with pytest.raises(ValueError, match="records: the studies"):
        tables.across_studies({"a": cpu[cpu["lr"] < 0.0004], "b": cpu[cpu["lr"] > 0.002]})


@pytest.mark.slow
def test_the_page_shows_the_tables_figure_and_sentence_the_helpers_compute(tmp_path):
    import nbformat
    import papermill as pm

    from helpers.study import results
    from helpers.book import tables
    from test_notebook import NOTEBOOKS, _outputs_text

    out = tmp_path / "hardware.ipynb"
    pm.execute_notebook(str(NOTEBOOKS / "hardware.ipynb"), str(out), cwd=str(NOTEBOOKS),
                        progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    text = _outputs_text(nb)
    records = {"CPU": page.load_study(ROOT / "results" / "cpu", "cpu").done,
               "GPU": page.load_study(ROOT / "results" / "gpu-fast", "fast").done}
    sentence = tables.across_sentence(records, tables.across_studies(records)[1])
    assert sentence in text and "*The GPU side is indicative only:" in text
    assert "NVIDIA H200" in text and "Keras backend tensorflow" in text
    assert any(k.endswith("image/png") for c in nb.cells for o in c.get("outputs", [])
               for k in o.get("data", {}))


def test_the_figure_draws_the_shared_cells_only():
    from helpers.study import results
    from helpers.book import plots, tables

    cpu = page.load_study(ROOT / "results" / "cpu", "cpu").done
    gpu = page.load_study(ROOT / "results" / "gpu-fast", "fast").done
    shared = tables.shared_cells({"CPU": cpu, "GPU": gpu})
    assert set(shared["CPU"]["lr"]) == set(gpu["lr"]) and len(shared["GPU"]) == len(gpu)
    fig = plots.across_studies(shared)
    cpu_line = fig.axes[0].lines[0]                   # the paper's reading, the CPU study
    means = shared["CPU"].groupby("lr")["A_avr"].mean()
    assert list(cpu_line.get_xdata()) == pytest.approx(list(1e3 * means.index))
    assert list(cpu_line.get_ydata()) == pytest.approx(list(100 * means))
    assert not fig.texts
    from helpers.study.results import SMOKE_NOTE

    assert [t.get_text() for t in plots.across_studies(shared, synthetic=True).texts] == [SMOKE_NOTE]


def test_the_sentence_gives_the_a0_gap_with_its_t_interval_over_the_cells():
    """Two studies on three shared cells, the second's a0 higher by 1, 2 and 3 pp: mean
    +2.00 pp, t-interval 2 -+ t(0.975, 2) * 1 / sqrt(3) = [-0.48, +4.48]."""
    from helpers.book import tables

    def study(offsets):
        return pd.DataFrame([{"dataset": "cifar10", "depth": 20, "optimizer": "adam",
                              "batch_norm": True, "lr": lr, "baseline_accuracy": 0.8 + d}
                             for lr, d in zip((0.0005, 0.001, 0.0015), offsets)])

    records = {"CPU": study((0, 0, 0)), "GPU": study((0.01, 0.02, 0.03))}
    verdicts = pd.DataFrame({"reading": ["paper (all arrays)"], "CPU": ["held"],
                             "GPU": ["held"]})
    said = tables.across_sentence(records, verdicts)
    assert said.startswith("Over the 3 shared cells, $a_0$ of the GPU study is +2.00 pp from "
                           "the CPU study's [-0.48, +4.48] (95 % t-interval over the cells, "
                           "which differ in LR; from +1.00 to +3.00 pp by cell).")
