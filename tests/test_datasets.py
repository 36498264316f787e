"""A results folder holding two datasets (the CPU study: ResNet20 on CIFAR-10 with 3 seeds,
and its first CIFAR-100 cells with one seed): the reference model's numbers are those of the
folder without the other dataset, claim 6 gets a verdict, and one-seed cells are labelled
indicative only wherever they are shown. Hand-made records in the real format."""

import numpy as np
import pandas as pd
import pytest

from helpers.book import findings, page, plots, tables
from helpers.experiment import recipe
from helpers.experiment.noise import PAPER_ETAS
from helpers.experiment.training import TrainResult
from helpers.ops import grid
from helpers.study import breakage, claims, headline, paper, results, stats

REF, OTHER = recipe.REFERENCE_DATASET, recipe.BY_CLASSES[-1]   # CIFAR-10, CIFAR-100
DEPTH = recipe.REFERENCE_DEPTH


def _sweep(a0, a_avr, seed, lr):
    """A noise sweep (3 draws per eta) whose A^x falls linearly around ``a_avr``; at the
    larger LRs one draw per high eta breaks the model (a non-finite output, chance)."""
    rng = np.random.default_rng(seed)
    rows = [{"eta": 0.0, "repeat": 0, "accuracy": a0, "nonfinite": 0.0}]
    for i, eta in enumerate(PAPER_ETAS):
        for r in range(3):
            broken = lr >= 0.00125 and eta >= 0.2 and r == 0
            a_x = 0.1 if broken else a0 * (a_avr + 0.1 - 0.04 * i) + rng.normal(0, 0.002)
            rows.append({"eta": eta, "repeat": r, "accuracy": a_x,
                         "nonfinite": 1.0 if broken else 0.0})
    return pd.DataFrame(rows)


def _write(folder, cells):
    """One record per cell: A_avr falls with the LR, CIFAR-100 is less resistant and
    less accurate, a model without BN is more resistant."""
    for cell in cells:
        p = {**cell.params, "profile": "cpu", "epochs": 20, "batch_size": 32, "n_repeats": 3,
             "noise_scope": "all", "noise_granularity": "array", "steps_per_epoch": None,
             "train_samples": None, "test_samples": None, "data_dir": "hand-made",
             "results_dir": str(folder)}
        other = p["dataset"] == OTHER
        a_avr = 0.8 - 0.15 * other - 100 * p["lr"] + 0.1 * (not p["batch_norm"]) \
            - 0.01 * p["seed"]
        a0 = 0.84 - 0.28 * other + 0.002 * p["seed"] - 2 * abs(p["lr"] - 0.001)
        key = (f"{p['dataset']}-{p['depth']}-{'bn' if p['batch_norm'] else 'nobn'}-"
               f"{p['lr']:g}-s{p['seed']}")
        run = TrainResult(model=None, history=[{"epoch": 20, "lr": p["lr"], "loss": 0.1,
                                                "accuracy": 0.9, "test_accuracy": a0,
                                                "seconds": 1.0}])
        label = recipe.name("dataset", p["dataset"])
        rec = results.make_record(p, key, {"label": label, "synthetic": False}, run,
                                  _sweep(a0, a_avr, p["seed"], p["lr"]), {"noise_seconds": 1.0})
        results.write_record(folder / f"{key}.json", rec)


def _reference_cells():
    return grid.study_cells(studies=("lr", "lr_outside", "batchnorm"), datasets=(REF,),
                            depths=(DEPTH,), seeds=(0, 1, 2))


def _other_cells(lrs):
    return grid.study_cells(studies=("lr",), datasets=(OTHER,), depths=(DEPTH,), lrs=lrs,
                            seeds=(0,), batch_norm=(True,))


@pytest.fixture(scope="module", params=[(0.001,), (0.0005, 0.001, 0.0015)],
                ids=["one-other-lr", "three-other-lrs"])
def folders(request, tmp_path_factory):
    """(the reference dataset alone, the same records with CIFAR-100 cells beside them)."""
    alone, mixed = tmp_path_factory.mktemp("alone"), tmp_path_factory.mktemp("mixed")
    _write(alone, _reference_cells())
    _write(mixed, _reference_cells() + _other_cells(request.param))
    return page.load_study(alone, "cpu"), page.load_study(mixed, "cpu"), request.param


def _table(study, name, metric):
    """The reference dataset's table of ``name`` as the page shows it (Markdown)."""
    t = paper.with_intervals(stats.cell_intervals(study.records, metrics=(metric,)), name)
    shown = tables.per_dataset(t, "caption", f"tbl-{name}")
    return {x.data.split(":name: ")[1].split("\n")[0]: x.data for x in shown}


def test_a_second_dataset_leaves_the_reference_models_numbers_alone(folders):
    alone, mixed, _ = folders
    assert set(mixed.done["dataset"]) == {REF, OTHER} and set(alone.done["dataset"]) == {REF}
    # the front page: its figure's cells, its trend tests and its sentence, scale included
    cells = [headline.headline_cells(s.records) for s in (alone, mixed)]
    trends = [headline.headline_trends(s.records) for s in (alone, mixed)]
    pd.testing.assert_frame_equal(cells[0], cells[1])
    pd.testing.assert_frame_equal(trends[0], trends[1])
    said = [findings.headline_sentence(c, t, claims.scale(headline.headline_runs(s.records)))
            for c, t, s in zip(cells, trends, (alone, mixed))]
    assert said[0] == said[1] and "ResNet20 on CIFAR-10" in said[0] and "3 seeds per cell" in said[0]
    # a one-seed cell of another optimizer or without BN is not in the sentence's scale
    first = alone.records[alone.records["status"] == "completed"].iloc[[0]]
    extra = pd.concat([alone.records, first.assign(optimizer="sgd", lr=0.00075),
                       first.assign(batch_norm=False)], ignore_index=True)
    assert "1-3 seeds per cell" in claims.scale(headline.reference_runs(extra))
    assert claims.scale(headline.headline_runs(extra)) == claims.scale(
        headline.headline_runs(alone.records))
    assert "broke the model" in said[0]               # the hand-made breakage is in it
    # the summary's reference sentences, and the reference model's trend test
    assert findings.breakage_sentence(alone) == findings.breakage_sentence(mixed) != ""
    trend = [claims.lr_trends(s.done).set_index(["dataset", "depth"]).loc[(REF, DEPTH)]
             for s in (alone, mixed)]
    assert (trend[0]["rho"], trend[0]["p"]) == (trend[1]["rho"], trend[1]["p"])
    assert trend[0]["rho"] < 0 and trend[0]["p"] < claims.ALPHA
    # Tables II and III: the CIFAR-10 table is the same, CIFAR-100 gets a table of its own
    for name, metric in (("table2", "baseline_accuracy"), ("table3", "A_avr")):
        t = [_table(s, name, metric) for s in (alone, mixed)]
        assert t[1][f"tbl-{name}-{REF}"] == t[0][f"tbl-{name}-{REF}"]
        assert set(t[1]) == {f"tbl-{name}-{REF}", f"tbl-{name}-{OTHER}"}
    # claim 4 (the reference model's sweet spot): the same verdict, value and bootstrap
    v = [claims.claim4(s.done) for s in (alone, mixed)]
    assert claims.sentence(v[0]) == claims.sentence(v[1])
    stab = [claims.stability(s.records, B=20).set_index("claim").loc[4] for s in (alone, mixed)]
    pd.testing.assert_series_equal(stab[0], stab[1])
    per_cell = [tables.cell_readings(s.done) for s in (alone, mixed)]   # the ablation's table
    pd.testing.assert_frame_equal(
        per_cell[0], per_cell[1][per_cell[1]["dataset"] == REF].reset_index(drop=True))


def test_a_one_seed_cell_beside_the_reference_qualifies_only_the_verdicts_that_use_it(folders):
    alone, mixed, lrs = folders
    before = {v.claim: v for v in claims.verdicts(alone.records)}
    after = {v.claim: v for v in claims.verdicts(mixed.records)}
    assert all(v.indicative == "" for v in before.values())
    # claim 4 reads the reference model only: no caveat, the same model it rests on
    assert after[4].indicative == "" and after[4].rests_on == before[4].rests_on \
        == "one model (ResNet20 on CIFAR-10)"
    # claim 1 uses the CIFAR-100 cells when they have two LRs; claim 3 only when their trend
    # test can reach p < 0.05 (one seed: 5 LRs or more), else it names the model as not counted
    for claim, used in ((1, len(lrs) >= 2), (3, claims.can_decide(len(lrs), 1))):
        if not used:
            assert after[claim].indicative == before[claim].indicative == ""
            assert after[claim].rests_on == before[claim].rests_on
            if claim == 1:   # a model at one LR adds nothing to claim 1
                assert claims.sentence(after[1]) == claims.sentence(before[1])
        else:
            assert "ResNet20 on CIFAR-100" in after[claim].indicative
            assert after[claim].rests_on == "one depth (ResNet20)"
    if len(lrs) >= 3:
        assert "not counted: ResNet20 on CIFAR-100" in after[3].statistic
    # the page says once that some cells have too few seeds, and which
    assert alone.caveat == "" and "indicative only" not in alone.provenance
    n = len(mixed.means)
    assert mixed.caveat == (f"1 training seed in {len(lrs)} of its {n} cells (ResNet20 on "
                            "CIFAR-100); a verdict needs >= 3")
    assert "(the fewest here: 1) is indicative only" in mixed.provenance


def test_claim6_gets_a_verdict_from_mixed_records(folders):
    alone, mixed, lrs = folders
    assert claims.claim6(alone.means).outcome == claims.NOT_TESTED
    v = {x.claim: x for x in claims.verdicts(mixed.records)}[6]
    k = len(lrs)                    # every CIFAR-100 cell has a CIFAR-10 twin, less resistant
    assert v.outcome == "held" and v.value == 1.0
    assert f"A_avr lower on CIFAR-100 in {k} of {k} (depth, LR) pairs" in v.ours
    # its caveat names the one-seed cells it rests on: CIFAR-100's, not CIFAR-10's 3-seed twins
    assert v.indicative == (f"1 training seed in {k} of its {2 * k} cells (ResNet20 on "
                            "CIFAR-100); a verdict needs >= 3")
    assert v.rests_on == "one depth (ResNet20)"
    said = mixed.say(claims.claim6(mixed.means))
    assert "**held**" in said and said.endswith(f"*Indicative only: {v.indicative}.*")
    readings = claims.across_readings(mixed.records, claims=(6,)).set_index("reading")
    assert readings.loc["paper (all arrays)", "verdict"] == "held"


def test_one_seed_cells_are_labelled_wherever_they_are_shown(folders):
    _, mixed, lrs = folders
    t2 = paper.with_intervals(stats.cell_intervals(mixed.records, metrics=("baseline_accuracy",)),
                              "table2")
    captions = {x.data.split(":name: ")[1].split("\n")[0]: x.data.split("\n")[0]
                for x in tables.per_dataset(t2, "caption.", "tbl-table2")}
    assert captions[f"tbl-table2-{OTHER}"].endswith(
        "caption. *Indicative only: 1 training seed in every row (a verdict needs >= 3).*")
    assert "Indicative" not in captions[f"tbl-table2-{REF}"]
    sentences = paper.offset_sentences(t2, "a0")
    assert sentences.startswith("CIFAR-10: In the 6 cells") and "CIFAR-100: In the" in sentences
    fig = plots.noise_panels(mixed.done, recipe.DATASETS)
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == [
        "ResNet20 on CIFAR-10\n(3 seeds)", "ResNet20 on CIFAR-100\n(1 seed, indicative only)"]
    plots.plt.close(fig)
    front = {(ds, DEPTH): claims.sweet_spot(mixed.means, ds, DEPTH) for ds in (REF, OTHER)}
    text = claims.sweet_spot_text(front).splitlines()
    assert text[0].startswith("ResNet20 on CIFAR-10: Pareto-optimal LRs")
    assert text[1].startswith("ResNet20 on CIFAR-100 (1 seed, indicative only): Pareto")
    fig = plots.tradeoff(mixed.means, paper=False)
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == [
        "ResNet20 on CIFAR-10\n(3 seeds)", "ResNet20 on CIFAR-100\n(1 seed, indicative only)"]
    plots.plt.close(fig)
    split = tables.breakage_table(breakage.cells(mixed.records))
    assert set(split.loc[split["dataset"] == OTHER, "seeds"]) == {1}
    assert "CIFAR-100 (1 seed, indicative only)" in findings.limitations(mixed)


def test_one_helper_selects_a_model_and_orders_the_datasets():
    """``studies.model_rows`` keeps the rows of one (dataset, depth), the reference model by
    default; ``studies.dataset_order`` puts the reference dataset first, then the paper's
    order, then any other by name; ``studies.model_name`` is the one spelling of a model."""
    from helpers.study import studies
    df = pd.DataFrame({"dataset": ["cifar100", "cifar10", "cifar10", "mine"],
                       "depth": [20, 56, 20, 20], "x": [1, 2, 3, 4]})
    assert studies.model_rows(df)["x"].tolist() == [3]
    assert studies.model_rows(df, "cifar100", 20)["x"].tolist() == [1]
    assert studies.model_rows(df.iloc[:0]).empty
    assert studies.dataset_order(["mine", "cifar100", "cifar10", "cifar10"]) == [
        "cifar10", "cifar100", "mine"]
    assert studies.model_name("cifar100", 56) == "ResNet56 on CIFAR-100"
