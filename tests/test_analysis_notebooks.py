"""The analysis notebooks through papermill, on hand-made run records whose verdicts
are known: each page must print what ``helpers.study.claims`` computes from the records."""

import numpy as np
import nbformat
import pandas as pd
import papermill as pm
import pytest

from helpers.study import claims, results, theory
from helpers.ops import grid
from helpers.experiment.noise import PAPER_ETAS
from helpers.experiment.training import TrainResult

from test_notebook import NOTEBOOKS, _outputs_text
from helpers.book import page

pytestmark = pytest.mark.slow
ANALYSES = ("baselines", "noise", "optimizers", "theory", "batchnorm", "report")


def _sweep(a0, a_avr_target, seed):
    rng = np.random.default_rng(seed)
    rows = [{"eta": 0.0, "repeat": 0, "accuracy": a0, "nonfinite": 0.0}]
    for i, eta in enumerate(PAPER_ETAS):
        for r in range(3):
            a_x = a0 * (a_avr_target + 0.1 - 0.04 * i) + rng.normal(0, 0.002)
            rows.append({"eta": eta, "repeat": r, "accuracy": a_x, "nonfinite": 0.0})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory):
    """Records in the real format for a 2-depth study with 3 seeds; resistance falls with
    the LR, CIFAR-100 is less resistant, no-BN models are more resistant."""
    folder = tmp_path_factory.mktemp("records")
    for cell in grid.study_cells(depths=(20, 32), seeds=(0, 1, 2)):
        p = {**cell.params, "profile": "paper", "epochs": 200, "batch_size": 32,
             "n_repeats": 3, "noise_scope": "all", "noise_granularity": "array",
             "steps_per_epoch": None, "train_samples": None, "test_samples": None,
             "data_dir": "hand-made", "results_dir": str(folder)}
        c100 = p["dataset"] == "cifar100"
        a_avr = 0.8 - 0.1 * c100 - p["lr"] * (50 + p["depth"]) + 0.05 * (not p["batch_norm"])
        if p["optimizer"].startswith("sgd"):
            a_avr -= 0.1
        a0 = 0.91 - 0.2 * c100 + 0.001 * p["seed"] - 0.1 * (p["optimizer"] == "sgd")
        key = f"{cell.key or 'cell'}-{p['dataset']}-{p['depth']}-{p['lr']:g}-{p['optimizer']}-{p['batch_norm']}-{p['seed']}"
        run = TrainResult(model=None, history=[{"epoch": 200, "lr": p["lr"], "loss": 0.1,
                                                "accuracy": 0.99, "test_accuracy": a0,
                                                "seconds": 1.0}])
        rec = results.make_record(p, key, {"label": "hand-made test records", "synthetic": False},
                                  run, _sweep(a0, a_avr, p["seed"]), {"noise_seconds": 1.0})
        # per-example "gradients" whose spread grows with the LR: C known by construction
        g = np.random.default_rng(p["seed"]).normal(0, np.sqrt(p["lr"] * 1000), (32, 5))
        rec["theory"] = theory.from_gradients(g, batch_sizes=(2, 4, 8), n_batches=50)
        results.write_record(folder / f"{key}.json", rec)
    return folder


@pytest.fixture(scope="module")
def executed_nbs(study_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("executed")
    nbs = {}
    for name in ANALYSES:
        path = out / f"{name}.ipynb"
        pm.execute_notebook(str(NOTEBOOKS / f"{name}.ipynb"), str(path), cwd=str(NOTEBOOKS),
                            parameters={"results_dir": str(study_dir), "profile": "paper"},
                            progress_bar=False)
        nbs[name] = nbformat.read(path, as_version=4)
    return nbs


@pytest.fixture(scope="module")
def executed(executed_nbs):
    return {name: _outputs_text(nb) for name, nb in executed_nbs.items()}


def T(text: str) -> str:
    """A helper's sentence as a page shows it: its plain-text maths typeset."""
    from helpers.book.typeset import typeset
    return typeset(text)


def test_report_prints_every_verdict_the_helpers_compute(study_dir, executed):
    verdicts = claims.verdicts(page.load_study(study_dir, "paper").records)
    assert len(verdicts) == 8
    for v in verdicts:
        assert f"**Claim {v.claim}.**" in executed["report"]
        assert T(f"verdict: **{v.outcome}** ({v.statistic or 'no statistic'})") in executed["report"]
    assert {v.claim: v.outcome for v in verdicts}[3] == "held"


def test_pages_name_their_records_and_carry_no_smoke_banner(executed):
    for name in ANALYSES:
        assert "hand-made test records" in executed[name], name
        assert "SMOKE RUN" not in executed[name], name


def test_figures_are_in_the_pages(executed_nbs):
    for name in ("noise", "optimizers", "batchnorm", "theory"):
        # shown directly, or glued for a numbered {glue:figure} (key with a glue prefix)
        pngs = [o for c in executed_nbs[name].cells for o in c.get("outputs", [])
                if any(k.endswith("image/png") for k in o.get("data", {}))]
        assert pngs, f"{name} has no figure"


def test_noise_page_prints_the_pareto_front(study_dir, executed):
    means = page.load_study(study_dir, "paper").means
    lrs = ", ".join(f"{lr:g}" for lr in sorted(claims.sweet_spot(means, "cifar10", 20)["lr"]))
    assert f"ResNet20 on CIFAR-10: Pareto-optimal LRs {lrs}" in executed["noise"]


def test_noise_page_prints_the_breakage_split_the_helpers_compute(study_dir, executed):
    from helpers.book import tables
    from helpers.study import breakage

    cells = breakage.cells(page.load_study(study_dir, "paper").records)
    text = breakage.sentence(cells)
    assert "no draw broke the model at any of the" in text  # the hand-made draws are finite
    assert T(text) in executed["noise"] and "tbl-breakage-split" in executed["noise"]
    row = tables.breakage_table(cells).iloc[0]
    shown = executed["noise"].replace("\xa0", " ")  # numbered() keeps "±" with its numbers
    assert f"| {row['broken (%)']} | {row['A_avr']} | {row['A_avr unbroken']} |" in shown


def test_baselines_and_optimizers_sentences_match_the_helpers(study_dir, executed):
    study = page.load_study(study_dir, "paper")
    means = study.means
    assert T(claims.claim1(means).statistic) in executed["baselines"]
    assert T(claims.claim5(study.done).statistic) in executed["optimizers"]
    assert T(claims.claim8(study.done).statistic) in executed["batchnorm"]
    assert "Welch t-interval" in claims.claim8(study.done).statistic   # the runs, not the means


def test_smoke_records_get_the_banner(tmp_path):
    rec_dir = tmp_path / "res"
    pm.execute_notebook(str(NOTEBOOKS / "train.ipynb"), str(tmp_path / "t.ipynb"),
                        cwd=str(tmp_path), progress_bar=False,
                        parameters={"profile": "smoke", "results_dir": str(rec_dir), "depth": 8})
    pm.execute_notebook(str(NOTEBOOKS / "report.ipynb"), str(tmp_path / "r.ipynb"),
                        cwd=str(NOTEBOOKS), progress_bar=False,
                        parameters={"results_dir": str(rec_dir), "profile": "smoke"})
    text = _outputs_text(nbformat.read(tmp_path / "r.ipynb", as_version=4))
    assert "SMOKE RUN on synthetic data" in text
    assert "Indicative only: smoke results on synthetic data" in text


def test_the_books_summary_holds_the_numbers_of_the_chapters(study_dir):
    """``findings`` (the introduction) quotes a0, A_avr and the verdicts that the chapters'
    helpers compute from the same records."""
    from helpers.experiment import recipe
    from helpers.book import findings

    study = page.load_study(study_dir, "paper")
    text = findings.findings(study)
    m = study.means
    m = m[(m["dataset"] == "cifar10") & (m["depth"] == 20) & (m["optimizer"] == "adam")
          & m["batch_norm"].astype(bool) & m["lr"].isin(recipe.PAPER_LRS)].sort_values("lr")
    a0 = 100 * m["baseline_accuracy"]
    assert f"$a_0$ = {a0.min():.1f} to {a0.max():.1f} % over the paper's 6 learning rates" in text
    v1 = claims.claim1(study.means)
    assert (f"(claim 1, \"$a_0$ barely depends on the LR\": **{v1.outcome}**; {v1.ours}, "
            f"against a threshold of {claims.BASELINE_RANGE_PP:g} pp") in text
    assert "(ResNet20 on CIFAR-10)" in v1.ours      # the model whose range decides
    first, last = 100 * m["A_avr"].iloc[0], 100 * m["A_avr"].iloc[-1]
    assert (f"From lr = 0.0005 to 0.0015, the average normalized accuracy $A_{{avr}}$ of ResNet20 "
            f"on CIFAR-10 goes from {first:.1f} to {last:.1f} % under the paper's reading") in text
    assert first > last      # the hand-made records lose resistance with the LR
    counts = pd.Series([v.outcome for v in claims.verdicts(study.records)]).value_counts()
    assert all(f"{n} {k}" in text for k, n in counts.items())
    assert text.startswith(f"**What was run.** {study.scale}. The {len(study.records)} records hold")


def test_the_summary_counts_the_verdicts_that_rest_on_too_few_seeds(study_dir, tmp_path):
    """With 3 seeds no verdict is indicative; with 2, every tested one is, and says why."""
    import shutil

    from helpers.book import findings

    assert "indicative" not in findings.verdicts_sentence(page.load_study(study_dir, "paper"))
    for path in study_dir.glob("*.json"):
        if not path.stem.endswith("-2"):           # the key ends with the seed
            shutil.copy(path, tmp_path / path.name)
    two = page.load_study(tmp_path, "paper")
    weak = [v for v in claims.verdicts(two.records) if v.indicative]
    assert weak and findings.verdicts_sentence(two).endswith(
        f"*{len(weak)} of these verdicts are indicative only: they rest on cells with fewer "
        "than 3 training seeds.*")


def test_limitations_name_what_the_records_lack(study_dir, tmp_path):
    """The hand-made study has 2 depths, both datasets, 200 epochs and 3 seeds: only the
    depths, seeds and noise sampling are listed. With ResNet20 on CIFAR-10 alone, one
    depth and the missing dataset are named, with the claims they leave untested."""
    import json

    from helpers.book import findings

    text = findings.limitations(page.load_study(study_dir, "paper"))
    assert text.splitlines() == [
        "- **Depths:** ResNet20 and ResNet32 only, of the paper's 4 depths.",
        "- **Seeds:** 3 training seeds per cell, so the seed part of each interval rests on "
        "few values.",
        "- **Noise sampling:** 3 draws per noise level on all test images ($a_0$ on all of "
        "them); the intervals include the spread between draws."]
    for path in study_dir.glob("*.json"):
        if "-cifar10-20-" in path.name:       # ResNet20 on CIFAR-10, trained for 20 epochs
            rec = json.loads(path.read_text())
            rec["config"]["epochs"] = 20
            (tmp_path / path.name).write_text(json.dumps(rec))
    text = findings.limitations(page.load_study(tmp_path, "paper"))
    assert ("- **Training length:** 20 epochs instead of the paper's 200 (the same step "
            "schedule, compressed); the chapter \"Training length\" compares the cells "
            "trained for longer.") in text
    assert ("- **Depths:** ResNet20 only, of the paper's 4 depths. With one depth, \"more "
            "steeply for deeper models\" (claim 3)") in text
    assert "- **Datasets:** no CIFAR-100, so claim 6 is not tested." in text
    assert "JPEG" not in text


def test_pcm_page_reads_sweep_files_and_prints_the_verdicts(study_dir, tmp_path):
    """The PCM page on the hand-made records with hand-made sweep files (A^t falls with
    the LR) prints claim 3's verdict as ``helpers.study.pcm_sweeps`` computes it; without sweep files
    it says there is none and still runs."""
    import shutil

    from helpers.book import pcm_page
    from helpers.experiment import pcm
    from helpers.study import pcm_sweeps

    def run(folder):
        out = tmp_path / f"{folder.name}.ipynb"
        pm.execute_notebook(str(NOTEBOOKS / "pcm.ipynb"), str(out), cwd=str(NOTEBOOKS),
                            parameters={"results_dir": str(folder), "profile": "paper"},
                            progress_bar=False)
        return _outputs_text(nbformat.read(out, as_version=4))

    assert "No PCM sweep in these results folders yet" in run(study_dir)
    folder = tmp_path / "with-pcm"
    shutil.copytree(study_dir, folder)
    for path in folder.glob("*.json"):
        rec = results.read_record(path)
        c = rec["config"]
        if c["dataset"] != "cifar10" or c["optimizer"] != "adam":
            continue
        # falls with the LR, more steeply when deeper; without BN higher, more so when deeper
        fall = 0.9 - c["lr"] * (50 + c["depth"]) + 0.002 * c["depth"] * (not c["batch_norm"])
        a_t = [fall - 0.05 * i + 0.001 * c["seed"] for i in range(len(pcm.TIMES))]
        acc = [[rec["baseline_accuracy"] * a] * 2 for a in a_t]
        pcm.write_sweep(path, {"reading": "pcm", "times_s": list(pcm.TIMES), "n_draws": 2,
                               "seed": 0, "n_test": 100, "a0": rec["baseline_accuracy"],
                               "accuracy": acc, "nonfinite": [[0.0] * 2] * 4,
                               "alpha": [[1.2] * 2] * 4, "A_t": a_t, "A_avr": float(np.mean(a_t)),
                               "settings": {"aihwkit": "1.1.0", "g_max_uS": 25.0, "bias": "digital",
                                            "drift_compensation": "GlobalDriftCompensation()"}},
                        rec["key"])
    text = run(folder)
    study = page.load_study(folder, "paper")
    runs = pcm_sweeps.with_records(pcm_sweeps.load_sweeps(folder), study.records)
    c3, c8 = pcm_sweeps.verdicts(runs, study.records)
    assert c3.outcome == "held" and c8.outcome == "held"
    assert T(c3.statistic) in text and T(c8.statistic) in text
    assert "Claim 3 under the PCM device reading: **held**" in text
    assert T(pcm_page.lr_sentence(pcm_sweeps.cell_table(runs))) in text


def test_training_length_page_prints_the_gap_the_helpers_compute(study_dir, tmp_path):
    """The training-length page on records of one length (a missing folder skipped):
    no LR at two lengths, so no cell rows; the paired LR gap of that length as
    ``study.training_length`` and ``book.length_page`` compute it; its records named."""
    from helpers.book import length_page
    from helpers.study import training_length

    out = tmp_path / "length.ipynb"
    pm.execute_notebook(str(NOTEBOOKS / "length.ipynb"), str(out), cwd=str(NOTEBOOKS),
                        parameters={"results_dirs": [str(study_dir), str(tmp_path / "none")]},
                        progress_bar=False)
    text = _outputs_text(nbformat.read(out, as_version=4))
    records = results.load_records(study_dir)
    assert training_length.length_cells(records).empty
    gaps = training_length.length_gaps(records)
    assert len(gaps) >= 1 and T(length_page.sentence(gaps)) in text
    # its provenance names the records behind its cells, not every record of the folder
    used = length_page.used_records(records, training_length.length_cells(
        records, always=training_length.LR_PAIR))
    assert 0 < len(used) < len(records)
    assert f"From {len(used)} run records" in text and "tbl-length-gap" in text
