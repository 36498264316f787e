"""The front page's result (study.headline, book.findings.headline_sentence,
book.plots.headline): on the committed CPU study and on hand-made records whose
answers are known."""

import numpy as np
import pandas as pd
import pytest

from helpers.book import findings, plots
from helpers.study import claims, headline, results, stats
from helpers.study.paper import PAPER_LRS
from helpers.book import page

TRAINABLE, FOLDED = claims.READINGS["trainable only"], claims.READINGS["BN folded"]


def _records(paper_slope, folded_slope, seeds=(0, 1, 2), noise=0.002):
    """ResNet20/CIFAR-10 BN models at the paper's LRs: A_avr = 0.7 + slope * LR * 100
    (+ a small seeded spread) under the paper's reading and BN folded; trainable flat."""
    rng = np.random.default_rng(0)
    rows = []
    for seed in seeds:
        for lr in PAPER_LRS:
            jitter = noise * rng.standard_normal(3)
            rows.append({"status": "completed", "profile": "paper", "dataset": "cifar10",
                         "depth": 20, "optimizer": "adam", "batch_norm": True, "lr": lr,
                         "seed": seed, "reading": "all/array/additive",
                         "A_avr": 0.7 + paper_slope * lr * 100 + jitter[0],
                         f"A_avr|{FOLDED}": 0.7 + folded_slope * lr * 100 + jitter[1],
                         f"A_avr|{TRAINABLE}": 0.8 + jitter[2],
                         "broken": min(1.0, max(0.0, -paper_slope * lr * 100)),
                         f"broken|{FOLDED}": 0.0, f"broken|{TRAINABLE}": 0.0})
    return pd.DataFrame(rows)


def test_cells_are_seed_means_with_t_intervals_of_the_committed_records():
    study = page.load_study("results/cpu", "cpu")
    cells = headline.headline_cells(study.records)
    assert set(cells["reading"]) == set(claims.READINGS) and (cells["n"] == 3).all()
    one = cells[(cells["reading"] == "BN folded") & np.isclose(cells["lr"], 0.001)].iloc[0]
    runs = claims.under_reading(claims.completed(study.records), FOLDED)
    runs = runs[np.isclose(runs["lr"], 0.001) & runs["batch_norm"].astype(bool)
                & (runs["dataset"] == "cifar10") & (runs["depth"] == 20)]   # the reference model
    mean, lo, hi, n = stats.t_interval(runs["A_avr"])
    assert (one["A_avr"], one["low"], one["high"], one["n"]) == pytest.approx((mean, lo, hi, n))
    assert ((cells["broken_low"] >= 0) & (cells["broken_high"] <= 1)).all()  # clipped shares


def test_the_sentence_says_falls_rises_or_no_trend_as_the_tests_decide():
    falls_rises = _records(paper_slope=-0.3, folded_slope=0.1)
    cells, trends = headline.headline_cells(falls_rises), headline.headline_trends(falls_rises)
    text = findings.headline_sentence(cells, trends, "hand-made")
    assert "falls under the paper's reading" in text
    assert "rises with BN folded" in text
    assert "shows no significant trend with noise on the trainable arrays" in text
    assert "mostly measures how often a noisy BN variance breaks the model" in text
    p = trends.set_index("reading")["p"]
    assert p["paper (all arrays)"] < claims.ALPHA and p["trainable only"] >= claims.ALPHA

    flat = _records(paper_slope=0.0, folded_slope=0.0)
    text = findings.headline_sentence(headline.headline_cells(flat),
                                      headline.headline_trends(flat), "hand-made")
    assert text.count("shows no significant trend") == 3
    assert "broke the model" not in text            # nothing broke: no breakage sentence


def test_the_figure_has_both_panels_and_the_smoke_stamp():
    recs = _records(paper_slope=-0.3, folded_slope=0.1)
    fig = plots.headline(headline.headline_cells(recs), synthetic=True)
    ax1, ax2 = fig.axes
    assert len(ax1.containers) == 3                 # one error-bar series per reading
    assert len(ax2.containers) == 1                 # only the paper's reading breaks
    assert any(results.SMOKE_NOTE in t.get_text() for t in fig.texts)


def test_across_models_pools_a_one_seed_model_into_a_joint_test():
    """A second model with one seed and 3 LRs cannot be tested alone (smallest p 0.33);
    pooled with the first, within each (model, seed), the joint test is the exact
    stratified one: rho the mean of the 4 strata, p from their convolved null."""
    first = _records(paper_slope=-0.3, folded_slope=0.1, noise=0.0002)
    second = _records(paper_slope=0.3, folded_slope=0.1, seeds=(0,), noise=0.0002)
    second = second[second["lr"].isin(sorted(PAPER_LRS)[:3])].assign(dataset="cifar100")
    # a third model at two LRs only has no trend to test: it is left out of the pool
    third = first[first["lr"].isin(sorted(PAPER_LRS)[:2])].assign(depth=56)
    with_third = headline.across_models(pd.concat([first, second, third], ignore_index=True))
    table = headline.across_models(pd.concat([first, second], ignore_index=True)).set_index("reading")
    assert with_third.set_index("reading")[["rho", "p", "n_models", "n_strata"]].equals(
        table[["rho", "p", "n_models", "n_strata"]])
    folded = table.loc["BN folded"]
    assert (folded["n_models"], folded["n_strata"]) == (2, 4)
    both = pd.concat([first, second], ignore_index=True)
    runs = claims.under_reading(both, FOLDED)
    t = stats.trend_test(runs["lr"], runs["A_avr"],
                         runs["dataset"] + runs["seed"].astype(str))
    assert (folded["rho"], folded["p"]) == pytest.approx((t["rho"], t["p"]))
    assert folded["rho"] == pytest.approx(1.0) and folded["p"] < 1e-4
    models = folded["models"].set_index("dataset")
    assert models.loc["cifar100", "p"] == pytest.approx(1 / 3)      # 2 of the 3! orders
    paper = table.loc["paper (all arrays)"]
    assert paper["rho"] == pytest.approx((3 * -1.0 + 1.0) / 4)        # falls in 3, rises in 1
    text = findings.models_sentence(table.reset_index())
    assert text.startswith("Pooled over the 2 models of the learning-rate grid trained at 3 "
                           "or more learning rates and their 4 (model, seed) pairs")
    assert "rises with BN folded into the convolutions ($\\rho$ +1.00, exact p = " in text
    assert "ResNet20 on CIFAR-10 (3 seeds) $\\rho$ -1.00 / " in text
    assert "ResNet20 on CIFAR-100 (1 seed, 3 LRs: its own test cannot reach p < 0.05) $\\rho$ +1.00 / " in text
    assert findings.models_sentence(headline.across_models(first)) == ""
