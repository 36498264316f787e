"""The training-length comparison (study.training_length) on hand-made records whose
answers are known, and on the committed records."""

import numpy as np
import pandas as pd
import pytest

from helpers.book import length_page, page
from helpers.study import claims, headline, stats, training_length as tl

TRAINABLE, FOLDED = claims.READINGS["trainable only"], claims.READINGS["BN folded"]


def _row(epochs, profile, lr, seed, a_avr, folded, a0=0.8):
    return {"status": "completed", "profile": profile, "epochs": epochs, "dataset": "cifar10",
            "depth": 20, "optimizer": "adam", "batch_norm": True, "lr": lr, "seed": seed,
            "reading": claims.READINGS["paper (all arrays)"], "baseline_accuracy": a0,
            "A_avr": a_avr, f"A_avr|{FOLDED}": folded, f"A_avr|{TRAINABLE}": folded}


def _records():
    """20 epochs: the larger LR resists better under BN folded by 0.05, 0.06, 0.07 per
    seed; 60 epochs: by 0.01 and 0.03 (two seeds); one LR trained at 20 epochs only."""
    rows = []
    for seed, gap in enumerate([0.05, 0.06, 0.07]):
        rows += [_row(20, "cpu", 0.0005, seed, 0.9, 0.70, a0=0.80 + 0.01 * seed),
                 _row(20, "cpu", 0.0015, seed, 0.3, 0.70 + gap),
                 _row(20, "cpu", 0.003, seed, 0.1, 0.9)]
    for seed, gap in enumerate([0.01, 0.03]):
        rows += [_row(60, "long", 0.0005, seed, 0.9, 0.80),
                 _row(60, "long", 0.0015, seed, 0.8, 0.80 + gap)]
    return pd.DataFrame(rows)


def test_cells_are_per_length_seed_means_with_t_intervals_and_only_shared_lrs():
    cells = tl.length_cells(_records())
    assert set(cells["lr"]) == {0.0005, 0.0015}          # 0.003 has one length only
    one = cells[(cells["reading"] == "paper (all arrays)") & (cells["epochs"] == 20)
                & (cells["lr"] == 0.0005)].iloc[0]
    mean, lo, hi, n = stats.t_interval([0.80, 0.81, 0.82])
    assert (one["a0"], one["a0_low"], one["a0_high"], one["n"]) == pytest.approx((mean, lo, hi, 3))
    long = cells[(cells["epochs"] == 60) & (cells["reading"] == "BN folded")]
    assert long.set_index("lr")["A_avr"].to_dict() == pytest.approx({0.0005: 0.80, 0.0015: 0.82})
    assert (long["n"] == 2).all() and (long["profile"] == "long").all()


def test_a_repeat_of_one_seed_is_averaged_not_counted_as_a_seed():
    r = _records()
    repeat = r[(r["epochs"] == 20) & (r["seed"] == 0) & (r["lr"] == 0.0005)].assign(A_avr=0.7)
    cells = tl.length_cells(pd.concat([r, repeat], ignore_index=True))
    one = cells[(cells["reading"] == "paper (all arrays)") & (cells["epochs"] == 20)
                & (cells["lr"] == 0.0005)].iloc[0]
    assert one["n"] == 3 and one["A_avr"] == pytest.approx((0.8 + 0.9 + 0.9) / 3)


def test_gaps_are_paired_within_seed_with_their_sign_flip_p():
    gaps = tl.length_gaps(_records()).set_index(["reading", "epochs"])
    g20 = gaps.loc[("BN folded", 20)]
    mean, lo, hi, n = stats.t_interval([-0.05, -0.06, -0.07])
    assert (g20["gap"], g20["gap_low"], g20["gap_high"], g20["n_pairs"]) == pytest.approx(
        (mean, lo, hi, 3))
    assert g20["p"] == pytest.approx(0.25)               # 2 of the 8 sign flips as extreme
    g60 = gaps.loc[("BN folded", 60)]
    assert g60["gap"] == pytest.approx(-0.02) and g60["n_pairs"] == 2 and g60["p"] == 0.5
    assert gaps.loc[("paper (all arrays)", 20), "gap"] == pytest.approx(0.6)


def test_the_committed_records_give_the_20_epoch_gap_of_the_headline():
    study = page.load_study("results/cpu", "cpu")
    gaps = tl.length_gaps(study.records).set_index("reading")
    runs = claims.under_reading(claims.completed(study.records), FOLDED)
    runs = runs[runs["batch_norm"].astype(bool) & (runs["depth"] == 20)
                & (runs["dataset"] == "cifar10") & (runs["optimizer"] == "adam")]
    wide = runs.pivot_table(index="seed", columns="lr", values="A_avr")
    d = wide[0.0005] - wide[0.0015]
    assert gaps.loc["BN folded", "gap"] == pytest.approx(d.mean())
    assert gaps.loc["BN folded", "n_pairs"] == 3 and np.isfinite(gaps.loc["BN folded", "p"])


def test_the_page_provenance_names_the_records_of_its_cells_only():
    """The page reads folders that also hold other models, datasets and optimizers: its
    provenance counts the runs behind its table, a diverged one included."""
    records = _records()
    extra = pd.concat([
        records.head(1).assign(dataset="cifar100"), records.head(1).assign(depth=56),
        records.head(1).assign(optimizer="nadam"), records.head(1).assign(batch_norm=False),
        records.head(1).assign(status="diverged")], ignore_index=True)
    both = pd.concat([records, extra], ignore_index=True)
    cells = tl.length_cells(both, always=(0.0005, 0.0015))
    used = length_page.used_records(both, cells)
    assert sorted(cells["lr"].unique()) == [0.0005, 0.0015]
    # 6 + 4 runs at the two LRs, and the diverged twin of the first: not the LR 0.003 ones
    assert len(used) == 11 and set(used["lr"]) == {0.0005, 0.0015}
    assert (used["status"] == "diverged").sum() == 1
    assert set(used["dataset"]) == {"cifar10"} and set(used["depth"]) == {20}
    assert set(used["optimizer"]) == {"adam"} and used["batch_norm"].all()
    assert length_page.used_records(both, cells.iloc[0:0]).empty


def test_the_page_table_sentence_and_figure_carry_the_helpers_numbers():
    from helpers.book import length_page, plots

    r = _records()
    cells, gaps = tl.length_cells(r), tl.length_gaps(r)
    table = length_page.display_table(cells)
    assert len(table) == 4 and list(table["n"]) == [3, 2, 3, 2]  # (lr, epochs) sorted
    row = table[(table["lr"] == 0.0015) & (table["epochs"] == 60)].iloc[0]
    assert row["$A_{avr}$ BN folded"] == "82.0 [69.3, 94.7]"     # 0.81, 0.83: t(0.975, 1)
    text = length_page.sentence(gaps)
    assert "at 20 epochs (cpu, 3 seed pairs): -6.0 pp with BN folded" in text
    assert "at 60 epochs (long, 2 seed pairs): -2.0 pp with BN folded" in text
    assert "p = 0.25" in text and "p = 0.5" in text
    shown = length_page.display_gaps(gaps)
    assert set(shown["pairs"]) == {2, 3} and "p" in shown
    assert plots.axis_problems(plots.axis_facts(length_page.plot(cells))) == []
    assert "cannot be paired" in length_page.sentence(gaps.iloc[:0])


def test_the_compared_pair_is_shown_and_the_longer_smaller_lr_is_set_against_the_larger():
    """``always`` keeps an LR trained at one length (the page's pair); the sentence sets the
    smaller LR at its longest against the larger at its shortest, under BN folded first,
    and says whether the longer training closed the gap."""
    from helpers.book import length_page

    r = _records()
    r = r[~((r["epochs"] == 60) & (r["lr"] == 0.0015))]      # the larger LR at 20 epochs only
    assert set(tl.length_cells(r)["lr"]) == {0.0005}
    cells = tl.length_cells(r, always=(0.0005, 0.0015))
    assert set(cells["lr"]) == {0.0005, 0.0015}
    text = length_page.across_lengths_sentence(cells, 0.0005, 0.0015)
    # 0.0005 at 60 epochs: 0.80 folded (2 seeds); 0.0015 at 20: 0.76 (0.75, 0.76, 0.77)
    assert text.startswith("lr = 0.0005 at its longest training (60 epochs, 2 seeds")
    assert "80.0 against 76.0 % with BN folded" in text
    assert "3 times the training the smaller LR reaches the larger one's resistance" in text
    assert text.endswith("(indicative: fewer than 3 seeds).")
    worse = cells.assign(A_avr=np.where(cells["epochs"] == 60, 0.70, cells["A_avr"]))
    assert "undertraining alone does not explain" in length_page.across_lengths_sentence(
        worse, 0.0005, 0.0015)
    assert length_page.across_lengths_sentence(cells[cells["epochs"] == 20], 0.0005, 0.0015) == ""


def test_the_paired_gap_across_lengths_says_narrowed_reversed_or_kept_per_reading():
    """With both LRs at two lengths the verdict is the paired gap at the shortest against
    the longest, per headline reading, and it is that verdict the page and the front page
    give (not the smaller LR's longest against the larger's shortest)."""
    from helpers.book import length_page

    r = _records()          # BN folded and trainable: -6.0 pp at 20 epochs, -2.0 at 60
    cells, gaps = tl.length_cells(r), tl.length_gaps(r)
    text = length_page.paired_lengths_sentence(gaps)
    assert "(3 seed pairs at 20 epochs, 2 seed pairs at 60;" in text
    assert ("with BN folded into the convolutions, from -6.0 pp [-8.5, -3.5] at 20 epochs "
            "to -2.0 pp [-14.7, +10.7] at 60 (narrowed)") in text
    assert "Longer training narrows the LR effect with BN folded" in text
    assert text.endswith("(indicative: 2 seed pairs at 60 epochs).")
    assert length_page.verdict_sentence(cells, gaps, 0.0005, 0.0015) == text
    # the smaller LR more resistant at 60 epochs under trainable only: reversed there
    flip = r.copy()
    at60 = (flip["epochs"] == 60) & (flip["lr"] == 0.0005)
    flip.loc[at60, f"A_avr|{TRAINABLE}"] = 0.95
    text = length_page.paired_lengths_sentence(tl.length_gaps(flip))
    assert "to +13.0 pp [+0.3, +25.7] at 60 (reversed)" in text
    assert ("Longer training reverses the LR effect with noise on the trainable arrays only "
            "and narrows it with BN folded into the convolutions") in text
    # a larger gap at 60 epochs: kept; one seed pair: no interval
    wide = r[~((r["epochs"] == 60) & (r["seed"] == 1))].copy()
    wide.loc[(wide["epochs"] == 60) & (wide["lr"] == 0.0005), [f"A_avr|{FOLDED}", f"A_avr|{TRAINABLE}"]] = 0.70
    text = length_page.paired_lengths_sentence(tl.length_gaps(wide))
    assert "to -11.0 pp at 60 (kept)" in text and "Longer training keeps the LR effect" in text
    assert text.endswith("(indicative: 1 seed pair at 60 epochs, no interval).")
    # one length only: no paired verdict, the page falls back on the cross-length sentence
    only20 = tl.length_gaps(r[r["epochs"] == 20])
    assert length_page.paired_lengths_sentence(only20) == ""
    assert length_page.verdict_sentence(cells, only20, 0.0005, 0.0015).startswith(
        "lr = 0.0005 at its longest training (60 epochs")


def test_the_figure_without_lengths_is_the_placeholder_and_with_them_ends_its_panels():
    """Without an LR trained at two lengths the page shows plots.placeholder's figure; with
    them, plots.end_panels ends the row: y label on the first panel, legend on the last."""
    from helpers.book import length_page, plots

    cells = tl.length_cells(_records())
    empty = length_page.plot(cells.iloc[:0])
    (ax,) = empty.axes
    assert not ax.axison and [t.get_text() for t in ax.texts] == [
        "no LR trained at two lengths in these records yet"]
    assert [t.get_text() for t in plots.placeholder("nothing yet").axes[0].texts] == ["nothing yet"]
    axes = length_page.plot(cells, synthetic=True).axes
    assert axes[0].get_ylabel() == "$A_{avr}$ (%)" and axes[-1].get_legend() is not None
    assert all(a.get_legend() is None for a in axes[:-1])
    assert any(plots.SMOKE_NOTE in t.get_text() for t in axes[0].figure.texts)


def _optimizer_history(final_train):
    """Two seeds of the optimizers study's cells, 3 epochs each, ending at the given
    training accuracies (per optimizer)."""
    rows = []
    for opt, acc in final_train.items():
        for seed in (0, 1):
            for epoch in (1, 2, 3):
                rows.append({"dataset": "cifar10", "depth": 20, "lr": 0.00075,
                             "optimizer": opt, "batch_norm": True, "seed": seed,
                             "epoch": epoch, "epoch_lr": 0.00075, "loss": 1.0 / epoch,
                             "accuracy": acc * epoch / 3 + 0.01 * seed,
                             "test_accuracy": 0.5})
    return pd.DataFrame(rows)


def test_convergence_flags_an_optimizer_far_below_adams_training_accuracy():
    from helpers.book import tables
    from helpers.study import training_length
    hist = _optimizer_history({"adam": 0.9, "sgd": 0.6, "nadam": 0.85})
    c = training_length.convergence(hist).set_index("optimizer")
    assert c.loc["sgd", "train_accuracy"] == pytest.approx(0.605)   # last epoch, seed mean
    assert c.loc["sgd", "gap_pp"] == pytest.approx(30.0)
    assert c["far"].to_dict() == {"adam": False, "nadam": False, "sgd": True}
    assert c.loc["adam", "epochs"] == 3 and c.loc["adam", "n"] == 2
    s = tables.convergence_sentence(c.reset_index())
    assert s.startswith("**Far from converged after 3 epochs:** SGD (60.5 %), against Adam's "
                        "90.5 % final training accuracy (more than 10 pp below).")
    near = training_length.convergence(_optimizer_history({"adam": 0.9, "sgd": 0.85}))
    assert tables.convergence_sentence(near) == (
        "After 3 epochs every optimizer's final training accuracy lies within 10 pp of "
        "Adam's (90.5 %).")
    # an LR-grid cell is not in the optimizers study: nothing to say
    other = _optimizer_history({"adam": 0.9}).assign(lr=0.001)
    assert training_length.convergence(other).empty
    alone = training_length.convergence(_optimizer_history({"adam": 0.9}))
    assert len(alone) == 1 and tables.convergence_sentence(alone) == ""


def test_load_reads_the_folders_that_exist_and_skips_the_others(tmp_path):
    from helpers.book import length_page

    assert length_page.load([str(tmp_path / "none")]).empty
    both = length_page.load(["results/cpu", str(tmp_path / "none"), "results/cpu-long"])
    alone = length_page.load(["results/cpu"])
    assert len(both) > len(alone) and set(both["profile"]) >= {"cpu", "long"}
    assert set(length_page.load(["results/cpu-long"])["epochs"]) == {60}


def test_the_front_page_line_sets_the_pair_across_lengths_or_says_there_is_none():
    from helpers.book import length_page

    both = length_page.load(["results/cpu", "results/cpu-long"])
    line = length_page.front_sentence(both)
    # both LRs at 60 epochs on seed 0: the paired gap at 20 epochs against 60
    assert line.startswith("Training length (ResNet20 on CIFAR-10, BN, Adam): $A_{avr}$(lr = "
                           "0.0005) − $A_{avr}$(lr = 0.0015), paired within seed (3 seed pairs "
                           "at 20 epochs, ")
    assert "from -8.9 pp [-13.1, -4.7] at 20 epochs" in line
    # where the cells come from: their records only (not the 30-epoch GPU record), and a
    # 60-epoch cell counts apart from the 20-epoch cell of the same LR
    used = headline.headline_runs(both).query("epochs in (20, 60) and lr in (0.0005, 0.0015)")
    n_long = int((used["epochs"] == 60).sum())
    seeds = used.groupby(["lr", "epochs"])["seed"].nunique()
    assert f"From {6 + n_long} run records" in line and "profile cpu, long;" in line
    assert n_long >= 2 and seeds[(0.0005, 20)] == 3
    assert "device CPU" in line and (f"{seeds.min()}-3 training seeds per cell" in line
                                      if seeds.min() < 3 else "3 training seeds per cell" in line)
    # the smaller LR alone trained longer: the cross-length sentence
    low_only = both[~((both["profile"] == "long") & (both["lr"] == 0.0015))]
    assert "lr = 0.0015 at its shortest (20 epochs" in length_page.front_sentence(low_only)
    assert length_page.front_sentence(length_page.load(["results/cpu"])) == (
        "Training length: no record yet trains the smaller learning rate longer than the larger.")
