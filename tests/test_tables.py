"""helpers.book.tables: the pages' tables hold the numbers of the frames they are made from."""

import numpy as np
import pandas as pd
import pytest

from helpers.experiment import recipe
from helpers.study import claims
from helpers.book import tables
from helpers.experiment.noise_model import PAPER


def _means():
    rows = []
    for ds in ("cifar10", "cifar100"):
        for depth in (20, 32):
            for bn in (True, False):
                rows.append({"dataset": ds, "depth": depth, "lr": 0.001, "optimizer": "adam",
                             "batch_norm": bn, "baseline_accuracy": 0.9 - 0.01 * bn,
                             "A_avr": 0.8 - 0.1 * bn - 0.001 * depth, "A_avr_std": 0.01,
                             "baseline_accuracy_std": 0.01, "n_seeds": 3})
    return pd.DataFrame(rows)


def test_numbered_table_is_a_captioned_myst_table_with_the_frames_numbers():
    t = pd.DataFrame({"lr": [0.0005, 0.000625], "std_pp": [float("nan"), 1.23456],
                      "reading": ["a|b", "c"], "n": [2, 3]})
    text = tables.numbered(t, "Caption with $a_0$ and `code`.", "tbl-x").data
    lines = text.splitlines()
    assert lines[:2] == [":::{table} Caption with $a_0$ and `code`.", ":name: tbl-x"]
    assert lines[3] == "| lr | std (pp) | reading | seeds |" and lines[-1] == ":::"
    # LRs as written, a dash for an undefined value, 2 decimals, '|' escaped in a cell
    assert lines[5:7] == ["| 0.0005 | – | a\\|b | 2 |", "| 0.000625 | 1.23 | c | 3 |"]
    assert "| 1.235 |" in tables.numbered(t, "c", "tbl-x", fmt="{:.4g}").data
    assert "| 80.00\u00a0±\u00a00.17 |" in tables.numbered(
        pd.DataFrame({"a0": ["80.00 ± 0.17"]}), "c", "tbl-x").data
    # no interval, no answer (paper_in_ci of a one-seed cell): a dash, not "None"
    assert "| – | – |" in tables.numbered(pd.DataFrame({"in": [None], "na": [pd.NA]}), "c",
                                          "tbl-x").data
    # datasets and optimizers as the paper writes them, truth values in words; other
    # columns keep their values
    words = pd.DataFrame({"dataset": ["cifar100"], "optimizer": ["sgd_nesterov"],
                          "batch_norm": [np.True_], "paper_in_ci": [False], "note": ["adam"]})
    assert tables.numbered(words, "c", "tbl-x").data.splitlines()[5] == (
        "| CIFAR\u2011100 | SGD with Nesterov momentum | yes | no | adam |")
    assert [recipe.name(c, v) for c, v in [("dataset", "cifar10"), ("optimizer", "sgd_momentum"),
                                           ("optimizer", "lion"), ("lr", 0.001)]] == [
        "CIFAR-10", "SGD with momentum", "lion", 0.001]
    with pytest.raises(ValueError, match="name='x'.*'tbl-'"):
        tables.numbered(t, "c", "x")


def test_per_dataset_gives_a_numbered_table_per_dataset():
    t = pd.DataFrame({"dataset": ["cifar10", "cifar100", "cifar10"], "lr": [0.001] * 3,
                      "ours_pct": [91.234, 70.0, 90.0]})
    out = [o.data for o in tables.per_dataset(t, "a0 (%).", "tbl-t2")]
    assert [o.splitlines()[:2] for o in out] == [
        [":::{table} CIFAR-10: $a_0$ (%).", ":name: tbl-t2-cifar10"],   # typeset
        [":::{table} CIFAR-100: $a_0$ (%).", ":name: tbl-t2-cifar100"]]
    assert "| 0.001 | 91.23 |" in out[0] and "| 0.001 | 90.00 |" in out[0]
    assert "dataset" not in out[0] and "91.234" not in out[0] and "70.00" not in out[0]


def test_paired_differences_in_percentage_points():
    paired = pd.DataFrame({"lr": [0.0005], "delta": [0.012], "lo": [-0.001], "hi": [0.02]})
    data = tables.paired_pp(paired)
    assert data["difference (pp)"].tolist() == [pytest.approx(1.2)]
    assert data["low (pp)"].tolist() == [pytest.approx(-0.1)]


def test_nonfinite_share_in_percent_by_eta():
    """Seed means per cell; another optimizer at the same LR is a row of its own (it was
    once averaged into Adam's row at lr 0.00075)."""
    runs = pd.DataFrame({"dataset": ["cifar10"] * 3, "depth": [20] * 3, "batch_norm": [True] * 3,
                         "optimizer": ["adam", "adam", "sgd"], "lr": [0.001] * 3,
                         "nonfinite_0.4": [0.5, 0.25, 1.0], "nonfinite_0.1": [0.0, 0.1, 1.0]})
    nf = tables.nonfinite(runs)
    assert list(nf.columns) == ["eta = 0.1", "eta = 0.4"]
    assert nf.loc[("cifar10", 20, "adam", True, 0.001)].tolist() == [5.0, 37.5]
    assert nf.loc[("cifar10", 20, "sgd", True, 0.001)].tolist() == [100.0, 100.0]
    assert "ResNet20 (SGD) with BN at lr = 0.001 (eta = 0.1: 100 %)" in tables.nonfinite_sentence(nf)
    assert tables.nonfinite(runs.drop(columns=["nonfinite_0.4", "nonfinite_0.1"])) is None


def test_ablation_means_per_reading_over_the_sweeping_runs():
    runs = pd.DataFrame({"dataset": ["cifar10"] * 4, "depth": [20, 32, 20, 20],
                         "lr": [0.001] * 4, "optimizer": ["adam"] * 4, "batch_norm": [True] * 4,
                         "seed": [0, 0, 1, 2], "baseline_accuracy": [0.9] * 4,
                         "noise_ablation": [True, True, False, True], "A_avr": [0.7, 0.5, 0.1, 0.9],
                         "A_avr|kernels/array/additive": [0.9, 0.7, np.nan, 1.1]})
    cells, full = tables.ablation(runs)
    assert list(cells.columns) == ["dataset", "depth", "optimizer", "batch_norm", "lr", "seeds",
                                   "a0", "A_avr paper (all arrays)", "A_avr kernels"]
    # two seeds of ResNet20 (0.7, 0.9 and 0.9, 1.1), one of ResNet32; the third run
    # did not sweep every reading
    assert cells["A_avr paper (all arrays)"].tolist() == ["80.00 ± 14.14", "50.00 ± –"]
    assert cells["A_avr kernels"].tolist() == ["100.00 ± 14.14", "70.00 ± –"]
    assert cells["seeds"].tolist() == [2, 1]
    assert len(cells[["dataset", "depth"]].drop_duplicates()) == 2 and len(full) == 2
    assert full.set_index("depth").loc[20, PAPER.name] == pytest.approx(80.0)   # seed mean
    assert tables.ablation(runs.drop(columns="A_avr|kernels/array/additive")) is None


def test_batchnorm_counts_bn_layers_and_shows_percent():
    bn = tables.batchnorm(_means())
    assert set(bn.loc[bn["batch_norm"], "BN layers"]) == {claims.bn_layers(20), claims.bn_layers(32)}
    assert set(bn.loc[~bn["batch_norm"], "BN layers"]) == {0}


def test_batchnorm_gaps_read_each_reading_and_the_no_bn_sweep_for_all():
    """BN rows take A_avr of the reading (their own column for the paper's); the model
    without BN keeps its one sweep under every reading."""
    etas = np.array([0.1, 0.2])
    rows = []
    for seed in range(2):
        for bn, paper_x, folded_x in ((True, 0.5, 0.8), (False, 0.9, 0.9)):
            acc = np.full((2, 4), 0.8)
            rows.append({"dataset": "cifar10", "depth": 20, "lr": 0.001, "optimizer": "adam",
                         "batch_norm": bn, "seed": seed, "status": "completed",
                         "baseline_accuracy": 0.8, "reading": "all/array/additive",
                         "A_avr": paper_x, "A_avr|folded/array/additive": folded_x if bn else np.nan,
                         "A_avr|trainable/array/additive": np.nan,
                         "draws": {"all/array/additive": (etas, acc * paper_x, 0.8),
                                   "folded/array/additive": (etas, acc * folded_x, 0.8)}})
    gaps = tables.batchnorm_gaps(pd.DataFrame(rows), B=50).set_index("reading")
    assert gaps.loc["paper (all arrays)", "gap (pp)"] == pytest.approx(40.0)
    assert gaps.loc["BN folded", "gap (pp)"] == pytest.approx(10.0)
    assert gaps.loc["BN folded", "seeds with / without BN"] == "2 / 2"
    assert np.isnan(gaps.loc["trainable only", "gap (pp)"])
    sentence = tables.batchnorm_sentence(gaps.reset_index())
    assert sentence.startswith("ResNet20 on CIFAR-10: $a_0$ is 80.00 ± 0.00 % with BN")
    assert ("40.0 pp higher under the paper's reading, which puts noise on the BN statistics "
            "too (95 % interval +40.0 to +40.0)") in sentence
    assert "trainable" not in sentence and "nan" not in sentence
    # one seed on each side: no Welch interval, and the sentence says so instead of "nan"
    one = tables.batchnorm_gaps(pd.DataFrame([r for r in rows if r["seed"] == 0]), B=50)
    sentence = tables.batchnorm_sentence(one)
    assert sentence.startswith("ResNet20 on CIFAR-10: $a_0$ is 80.00 % with BN and 80.00 % without")
    assert "nan" not in sentence and "95 % interval" not in sentence
    assert sentence.endswith("No interval: 1 / 1 seeds with / without BN (Welch's interval "
                             "needs two on each side).")


def test_theory_tables_pivot_c_and_rename_for_the_csv():
    th = pd.DataFrame({"key": list("abcd"), "depth": [20, 20, 32, 20], "lr": [0.001, 0.001, 0.001, 0.002],
                       "optimizer": ["adam", "adam", "adam", "sgd"], "batch_norm": [True] * 4,
                       "batch_size": [32] * 4, "seed": [0, 1, 0, 0], "n_examples": [64] * 4,
                       "C": [2.0, 4.0, 5.0, 9.0], "grad_mean_sq_norm": [1.0] * 4,
                       "bound": [1e-6] * 4, "A_avr": [0.8] * 4})
    c = tables.theory_c(th)
    assert list(c.columns) == ["ResNet20", "ResNet32"] and list(c.index) == ["0.001"]
    assert c.loc["0.001"].tolist() == [3.0, 5.0]                # seed median; sgd left out
    wild = pd.concat([th, th.iloc[:1].assign(key="e", seed=2, C=1e36)], ignore_index=True)
    assert tables.theory_c(wild).loc["0.001", "ResNet20"] == 4.0  # median of 2, 4, 1e36
    csv = tables.theory_models(th)
    assert "alpha2_C_over_B" in csv and "grad_L_D_sq_norm" in csv and len(csv) == 4
    # two datasets: a column per model, the reference dataset first; the CSV names the dataset
    two = pd.concat([th.assign(dataset="cifar100", C=th["C"] * 10), th.assign(dataset="cifar10")])
    c2 = tables.theory_c(two)
    assert list(c2.columns) == ["ResNet20 on CIFAR-10", "ResNet32 on CIFAR-10",
                                "ResNet20 on CIFAR-100", "ResNet32 on CIFAR-100"]
    assert c2.loc["0.001"].tolist() == [3.0, 5.0, 30.0, 50.0]
    assert tables.theory_models(two).columns[0] == "dataset"


def test_nonfinite_is_per_lr_in_percent_and_its_sentence_names_the_broken_models():
    runs = pd.DataFrame([
        {"dataset": "cifar10", "depth": 20, "optimizer": "adam", "batch_norm": True, "lr": lr,
         "seed": seed, "nonfinite_0.01": f01, "nonfinite_0.1": f1}
        for lr, seed, f01, f1 in [(0.001, 0, 0.0, 0.0), (0.001, 1, 0.0, 0.2),
                                  (0.00125, 0, 0.6, 1.0), (0.00125, 1, 0.4, 1.0)]])
    t = tables.nonfinite(runs)
    assert list(t.columns) == ["eta = 0.01", "eta = 0.1"] and len(t) == 2
    assert t.loc[("cifar10", 20, "adam", True, 0.001)].tolist() == [0.0, 10.0]
    assert t.loc[("cifar10", 20, "adam", True, 0.00125)].tolist() == [50.0, 100.0]
    text = tables.nonfinite_sentence(t)
    assert text.startswith("2 of 2 models") and "lr = 0.00125 (eta = 0.1: 100 %)" in text
    quiet = tables.nonfinite(runs.assign(**{"nonfinite_0.01": 0.0, "nonfinite_0.1": 0.0}))
    assert tables.nonfinite_sentence(quiet) == "No noisy model gave a non-finite output."
    assert tables.nonfinite(runs.drop(columns=["nonfinite_0.01", "nonfinite_0.1"])) is None


def test_breakage_sets_predicted_beside_observed_and_counts_the_draws():
    frame = pd.DataFrame({"key": ["a", "a", "b", "b"], "lr": [0.001, 0.001, 0.002, 0.002],
                          "eta": [0.1, 0.4, 0.1, 0.4], "p_predicted": [0.0, 0.5, 0.9, 1.0],
                          "broken_observed": [0.0, 0.4, 1.0, 1.0], "n_draws": [10] * 4})
    table, text = tables.breakage(frame)
    assert list(table.index) == ["0.001", "0.002"]
    # one column per level, "predicted / observed" in each cell: every level fits the page
    assert list(table.columns) == ["eta = 0.1", "eta = 0.4"]
    assert table.loc["0.001", "eta = 0.4"] == "50.0 / 40.0"
    assert table.loc["0.002", "eta = 0.1"] == "90.0 / 100.0"
    # sd = sqrt(10 (0.5 * 0.5 + 0.9 * 0.1)) = 1.84
    assert text == ("Over 2 models and 40 draws, the BN variances predict 24.0 ± 1.8 broken "
                    "draws (binomial standard deviation); the sweeps saw 24.")


def test_training_sentence_reports_the_late_change_and_the_lr_drops():
    rows = [{"dataset": "cifar10", "depth": 20, "lr": 0.001, "optimizer": "adam", "batch_norm": True,
             "seed": s, "epoch": e, "epoch_lr": 0.001 if e <= 4 else 0.0001,
             "test_accuracy": 0.80 + (0.01 * e if e <= 4 else 0.04 + 0.001 * s * (e - 4))}
            for s in (0, 1) for e in range(1, 9)]
    text = tables.training_sentence(pd.DataFrame(rows), last=4)
    # seed 0 flat after epoch 4 (0.00 pp), seed 1 +0.4 pp over the last 4 epochs
    assert text == ("The step schedule lowers the LR after epoch 4 of 8. Over the last 4 epochs, "
                    "the test accuracy of a run changed by +0.20 pp on average (largest change "
                    "0.40 pp, over 2 runs).")
    assert tables.training_sentence(pd.DataFrame(rows[:3]), last=4) == (
        "The runs are 3 epochs long: too short to judge convergence.")
    flat = pd.DataFrame(rows).assign(epoch_lr=0.001)
    assert tables.training_sentence(flat, last=4).startswith("The LR stays constant for the 8 epochs. ")


def test_reading_verdicts_puts_one_claim_per_row_and_one_reading_per_column():
    names = list(claims.READINGS)[::-1]                   # "BN folded" sorts first
    readings = pd.DataFrame({"claim": [3, 3, 8, 8], "reading": ["b", "a", "b", "a"],
                             "verdict": ["held", "did not hold", "held", "held"]}).replace(
        {"reading": {"a": names[0], "b": names[-1]}})
    t = tables.reading_verdicts(readings).rename(columns={names[0]: "a", names[-1]: "b"})
    assert list(t.columns) == ["claim", "b", "a"]        # the paper's reading first
    assert t.set_index("claim").loc["3. lower LR, more resistant"].tolist() == [
        "held", "did not hold"]


@pytest.mark.parametrize("plain, typeset", [
    ("rank correlation of alpha^2 C/|B| with A_avr: rho -0.79",
     r"rank correlation of $\alpha^2 C/\lvert B\rvert$ with $A_{avr}$: $\rho$ -0.79"),
    ("A^x >= 0.9 at eta = 0.01; A^0.1", r"$A^x$ >= 0.9 at $\eta$ = 0.01; $A^{0.1}$"),
    ("||grad L_D||^2 = 2.9e34; a0 = 84 %", r"$\lVert\nabla L_D\rVert^2$ = 2.9e34; $a_0$ = 84 %"),
    ("the 1/|B| law, per-layer sigma_w", r"the $1/\lvert B\rvert$ law, per-layer $\sigma_w$"),
    ("chance-corrected, (a^x - 1/K)/(a0 - 1/K) with K = 10; a^x alone",
     r"chance-corrected, $(a^x - 1/K)/(a_0 - 1/K)$ with K = 10; $a^x$ alone"),
    # typeset maths, code and words that only contain a Greek name stay as they are
    ("$A_{avr}$ and `A_avr`, metadata, beta-free", "$A_{avr}$ and `A_avr`, metadata, beta-free"),
])
def test_typeset_writes_the_helpers_plain_maths_as_the_book_does(plain, typeset):
    from helpers.book.typeset import typeset as t
    assert t(plain) == typeset
    assert t(t(plain)) == typeset        # and again, unchanged
    assert "|" not in t(plain).replace("`A_avr`", "")   # no cell of a table ends early


def test_numbered_typesets_headers_and_cells():
    t = pd.DataFrame({"A_avr unbroken": [0.5], "statistic": ["mean rho = n/a"]})
    md = tables.numbered(t, "Claim 3 (A_avr falls)", "tbl-x").data
    assert ":::{table} Claim 3 ($A_{avr}$ falls)" in md
    assert "| $A_{avr}$ unbroken | statistic |" in md
    assert "| 0.50 | mean $\\rho$ = n/a |" in md


def test_fixed_drops_the_columns_of_one_value_and_says_them():
    t = pd.DataFrame({"dataset": ["cifar10"] * 2, "depth": [20, 20], "optimizer": ["adam"] * 2,
                      "batch_norm": [True, False], "lr": [0.001, 0.002]})
    shown, said = tables.fixed(t)
    assert list(shown.columns) == ["batch_norm", "lr"]
    assert said == "CIFAR-10, ResNet20, Adam: "
    assert tables.fixed(t.assign(seeds=3), ("seeds",))[1] == "3 seeds: "
    shown, said = tables.fixed(t.assign(depth=[20, 32]), ("depth",))
    assert "depth" in shown and said == ""


def test_by_study_stacks_the_studies_so_that_the_table_stays_narrow():
    cells = pd.DataFrame({"lr": [0.001], "seeds | CPU": [3], "seeds | GPU": [1],
                          "a0 | CPU": ["83.00 ± 0.20"], "a0 | GPU": ["84.69 ± –"]})
    t = tables.by_study(cells)
    assert list(t.columns) == ["lr", "study", "seeds", "a0"]
    assert t.values.tolist() == [[0.001, "CPU", 3, "83.00 ± 0.20"], [0.001, "GPU", 1, "84.69 ± –"]]


def test_gap_interval_puts_the_interval_in_one_column():
    gaps = pd.DataFrame({"reading": ["paper (all arrays)"], "gap (pp)": [36.54],
                         "low (pp)": [2.8], "high (pp)": [70.2], "p (exact)": [0.1]})
    t = tables.gap_interval(gaps)
    assert list(t.columns) == ["reading", "gap (pp)", "95 % interval (pp)", "p (exact)"]
    assert t.iloc[0].tolist() == ["paper (all arrays)", "+36.5", "+2.8 to +70.2", 0.1]


def _breakage_cells(readings):
    """A hand-made ``breakage.cells``: ResNet20 Adam with BN at three LRs, two seeds, per
    reading: the larger the LR, the more draws break."""
    rows = []
    for reading in readings:
        for i, lr in enumerate((0.0005, 0.001, 0.002)):
            rows.append({"reading": reading, "dataset": "cifar10", "depth": 20,
                         "optimizer": "adam", "batch_norm": True, "lr": lr, "seeds": 2,
                         "broken": 0.1 * i, "broken_std": 0.01, "A_avr": 0.8 - 0.1 * i,
                         "A_avr_std": 0.02, "A_avr_unbroken": 0.85, "levels_unbroken": 6,
                         "levels": 6, "n": 120, "n_unbroken": 120 - 12 * i})
    return pd.DataFrame(rows)


def test_breakage_display_is_the_numbered_split_and_its_sentences():
    """One display for the breakage-split and mechanism tables: the numbered table (the
    dataset, depth and seeds said in the caption) and the sentences under the paper's reading
    and each mechanism reading present (the paper's always)."""
    from helpers.experiment.noise_model import FLOORED
    from helpers.study import breakage

    cells = _breakage_cells([PAPER.name, FLOORED.name])
    (table,), words = tables.breakage_display(cells, "the split.", "tbl-split")
    shown, said = tables.fixed(tables.breakage_table(cells), ("dataset", "depth", "seeds"))
    assert said == "CIFAR-10, ResNet20, 2 seeds: "
    note = " *Indicative only: 2 training seeds in every row (a verdict needs >= 3).*"
    assert table.data == tables.numbered(shown, said + "the split." + note, "tbl-split").data
    assert table.data.splitlines()[:2] == [
        ":::{table} CIFAR-10, ResNet20, 2 seeds: the split." + note, ":name: tbl-split"]
    expected = " ".join(breakage.sentence(cells, r) for r in (PAPER.name, FLOORED.name))
    assert "the share of broken draws goes from 0 % at lr = 0.0005 to 20 %" in expected
    assert words.data == tables.typeset(expected)
    # a reading the cells do not hold gets no sentence, but the paper's is always said
    floored = _breakage_cells([FLOORED.name])
    (_, only) = tables.breakage_display(floored, "c.", "tbl-m")
    assert only.data.startswith("No record or re-sweep holds draws")
    assert only.data == tables.typeset(breakage.sentence(floored, PAPER.name) + " "
                                       + breakage.sentence(floored, FLOORED.name))


def test_breakage_display_gives_each_model_its_own_table_reference_first():
    """Two datasets and two depths: one table per model, so that each fits the column
    (the dataset, depth and seeds in its caption, one-seed rows marked indicative only);
    the reference model's table keeps the name, the others end with their model."""
    ten = _breakage_cells([PAPER.name])
    hundred = ten.assign(dataset="cifar100", seeds=1)
    deep = ten.assign(depth=56, seeds=1)
    shown, _ = tables.breakage_display(pd.concat([hundred, deep, ten]), "the split.", "tbl-split")
    assert [t.data.splitlines()[:2] for t in shown] == [
        [":::{table} CIFAR-10, ResNet20, 2 seeds: the split. *Indicative only: 2 training "
         "seeds in every row (a verdict needs >= 3).*", ":name: tbl-split"],
        [":::{table} CIFAR-10, ResNet56, 1 seed: the split. *Indicative only: 1 training "
         "seed in every row (a verdict needs >= 3).*", ":name: tbl-split-cifar10-resnet56"],
        [":::{table} CIFAR-100, ResNet20, 1 seed: the split. *Indicative only: 1 training "
         "seed in every row (a verdict needs >= 3).*", ":name: tbl-split-cifar100-resnet20"]]
    assert all("| depth |" not in t.data for t in shown)
    assert all("| dataset |" not in t.data and "| seeds |" not in t.data for t in shown)


def test_the_optimizers_page_names_the_optimizers_run_and_those_without_a_record():
    """Figure 3 has six optimizers; the page says which have completed records (with their
    seeds) and which have none, instead of a title that reads as if all six were run."""
    from helpers.book import tables

    def run(opt, seed, lr=0.00075, depth=20):
        return {"dataset": "cifar10", "depth": depth, "lr": lr, "optimizer": opt,
                "batch_norm": True, "seed": seed}

    done = pd.DataFrame([run("adam", 0), run("adam", 1), run("sgd", 0),
                         run("nadam", 0, lr=0.001),          # another LR: not Figure 3's cell
                         run("adamax", 0, depth=56)])        # another depth: neither
    assert tables.optimizers_run_sentence(done) == (
        "Completed records at lr = 0.00075: Adam (2 seeds) and SGD (1 seed). Nadam, Adamax, "
        "SGD with momentum and SGD with Nesterov momentum have none yet: the tables, the "
        "figure and claim 5 leave them out.")
    every = pd.DataFrame([run(o, 0) for o in ("adam", "nadam", "adamax", "sgd",
                                               "sgd_momentum", "sgd_nesterov")])
    assert tables.optimizers_run_sentence(every).endswith("and SGD with Nesterov momentum (1 seed).")
    assert tables.optimizers_run_sentence(done.iloc[:0]) == (
        "No optimizer of Figure 3 has a completed record at lr = 0.00075 yet.")


def test_the_bn_page_names_the_models_run_on_each_side_and_counts_those_without_records():
    from helpers.book import tables

    def run(depth, bn, seed, dataset="cifar10", lr=0.001):
        return {"dataset": dataset, "depth": depth, "lr": lr, "optimizer": "adam",
                "batch_norm": bn, "seed": seed}

    done = pd.DataFrame([run(20, True, 0), run(20, True, 1), run(20, False, 0),
                         run(56, True, 0), run(20, True, 0, dataset="cifar100"),
                         run(32, False, 0, lr=0.0005)])        # another LR: not the BN study
    assert tables.batchnorm_run_sentence(done) == (
        "Completed records at lr = 0.001: ResNet20 on CIFAR-10 (2 seeds with BN, 1 without), "
        "ResNet56 on CIFAR-10 (1 seed with BN, none without) and ResNet20 on CIFAR-100 "
        "(1 seed with BN, none without); 5 of the design's 8 models (depths 20, 32, 44 and 56 "
        "on 2 datasets) have none yet. Only a model with records on both sides enters the "
        "comparison below.")
    assert tables.batchnorm_run_sentence(done.iloc[:0]).startswith("No model of the BN study")
