"""The claim verdicts on hand-made record tables whose answers are known."""

import numpy as np
import pandas as pd
import pytest

from helpers.study import claims
from helpers.study.paper import PAPER_DEPTHS, PAPER_LRS

ETAS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.4)


def _row(dataset, depth, lr, a0, a_avr, seed=0, optimizer="adam", bn=True, curve=None, C=None,
         synthetic=False):
    # a graceful fall: from 0.99 at the smallest eta, linear, with mean a_avr
    curve = curve if curve is not None else [0.99 - (0.99 - a_avr) / 2.5 * i for i in range(6)]
    row = {"status": "completed", "profile": "paper", "synthetic_data": synthetic, "epochs": 200,
           "data": "CIFAR", "reading": "all/array/additive",
           "dataset": dataset, "depth": depth, "lr": lr, "optimizer": optimizer,
           "batch_norm": bn, "seed": seed, "baseline_accuracy": a0, "A_avr": a_avr, "C": C}
    row.update({f"A_{e:g}": v for e, v in zip(ETAS, curve)})
    return row


def _paperlike(seeds=(0, 1, 2), synthetic=False):
    """A study where every claim holds by construction."""
    rows = []
    for seed in seeds:
        for ds in ("cifar10", "cifar100"):
            for d in PAPER_DEPTHS:
                for lr in PAPER_LRS:
                    a_avr = 0.8 - (0.1 if ds == "cifar100" else 0) - lr * (50 + d)  # steeper when deep
                    a0 = 0.91 - (0.2 if ds == "cifar100" else 0) + 0.001 * seed
                    # ResNet20 / CIFAR-10: a0 rises up to lr 0.001, A^0.1 falls: front = lr <= 0.001
                    if ds == "cifar10" and d == 20:
                        a0 = 0.90 + 0.01 * min(lr, 0.001) / 0.001
                    # within a cell, the seed with more gradient noise C is less resistant
                    row = _row(ds, d, lr, a0, a_avr - 0.002 * seed, seed, C=1.0 / lr + seed,
                               synthetic=synthetic)
                    rows.append(row)
                if ds == "cifar10" and d == 20:  # LRs outside the paper's range, both dominated
                    rows.append(_row(ds, d, 0.00025, 0.89, 0.8 - 0.00025 * 70, seed, C=4000.0 + seed,
                                     curve=[0.5] * 6))
                    rows.append(_row(ds, d, 0.003, 0.88, 0.8 - 0.003 * 70, seed, C=333.0 + seed,
                                     curve=[0.5] * 6))
                # no BN: more resistant, the gap grows with depth
                rows.append(_row(ds, d, 0.001, 0.9, 0.8 - 0.001 * (50 + d) + 0.001 * d, seed, bn=False))
        for opt, a0, aavr in (("nadam", 0.9, 0.75), ("adamax", 0.9, 0.74), ("sgd", 0.7, 0.5),
                              ("sgd_momentum", 0.87, 0.6), ("sgd_nesterov", 0.86, 0.6)):
            rows.append(_row("cifar10", 20, 0.00075, a0, aavr, seed, optimizer=opt))
    return pd.DataFrame(rows)


def _by_claim(df):
    return {v.claim: v for v in claims.verdicts(df)}


def test_every_claim_holds_on_a_study_built_to_agree():
    v = _by_claim(_paperlike())
    assert {k: v[k].outcome for k in v} == {k: "held" for k in range(1, 9)}
    assert all(x.indicative == "" for x in v.values())


def test_indicative_with_one_seed_and_with_synthetic_data():
    v = _by_claim(_paperlike(seeds=(0,)))
    assert "1 training seed" in v[1].indicative
    v = _by_claim(_paperlike(synthetic=True))
    assert "synthetic" in v[3].indicative


def test_a_claim_is_indicative_only_through_the_cells_it_rests_on():
    """The optimizers study has one seed by design: it makes claim 5 indicative, not the
    LR claims; the no-BN model with one seed makes claim 8 indicative."""
    df = _paperlike()
    df = df[(df["optimizer"] == "adam") | (df["seed"] == 0)]
    v = _by_claim(df)
    assert "1 training seed" in v[5].indicative and "1-3 seeds per cell" in v[5].scale  # Adam: 3
    assert all(v[k].indicative == "" for k in (1, 2, 3, 4, 6, 7, 8))
    assert "3 seeds per cell" in v[1].scale
    assert claims.claim_caveat(df, 1) == "" and "1 training seed" in claims.claim_caveat(df, 5)
    nobn_one_seed = df[df["batch_norm"] | (df["seed"] == 0)]
    assert "1 training seed" in _by_claim(nobn_one_seed)[8].indicative
    assert _by_claim(nobn_one_seed)[3].indicative == ""


def test_claim1_fails_when_the_baseline_moves_with_lr():
    df = _paperlike()
    df.loc[(df["dataset"] == "cifar10") & (df["depth"] == 56) & (df["lr"] == 0.0015), "baseline_accuracy"] = 0.85
    v = _by_claim(df)[1]
    assert v.outcome == "did not hold"
    assert "6.10 pp" in v.statistic  # 0.911 - 0.85


def test_claim2_counts_a_non_monotone_curve():
    df = _paperlike(seeds=(0,))
    i = df.index[0]
    df.loc[i, "A_0.3"] = df.loc[i, "A_0.2"] + 0.05
    v = _by_claim(df)[2]
    n = len(claims._lr_cells(df))
    assert f"{n - 1} of {n} runs" in v.ours


def test_claim3_reversed_lr_effect_does_not_hold():
    df = _paperlike()
    df["A_avr"] = np.where(df["optimizer"] == "adam", 0.5 + df["lr"] * 100, df["A_avr"])
    v = _by_claim(df)[3]
    assert v.outcome == "did not hold"   # rises for every model, at the same slope
    assert "falls significantly with the LR for 0 and rises significantly for 8 of 8 models" in v.ours
    # 3 seeds x 6 LRs, LR labels permuted within each seed: rho = +1 in every seed has
    # p = 2 / 720^3 (two-sided)
    assert v.value == pytest.approx(1.0) and v.p_value == pytest.approx(2 / 720 ** 3)


def test_pareto_front_by_hand():
    pts = pd.DataFrame({"lr": [1, 2, 3, 4], "a": [0.9, 0.8, 0.95, 0.7], "b": [0.5, 0.6, 0.4, 0.3]})
    front = claims.pareto_front(pts, "a", "b")
    assert sorted(front["lr"]) == [1, 2, 3]      # 4 is dominated by all


def test_claim4_sweet_spot_outside_range():
    df = _paperlike()
    sel = (df["dataset"] == "cifar10") & (df["depth"] == 20) & (df["optimizer"] == "adam")
    df.loc[sel, "A_0.1"] = df.loc[sel, "lr"]                     # resistance grows with LR
    df.loc[sel, "baseline_accuracy"] = df.loc[sel, "lr"]         # and so does a0
    v = _by_claim(df)[4]
    assert v.outcome == "did not hold" and "0.003" in v.ours


def test_claim5_partly_when_sgd_momentum_is_more_resistant():
    df = _paperlike()
    df.loc[df["optimizer"] == "sgd_momentum", "A_avr"] = 0.95
    v = _by_claim(df)[5]
    assert v.outcome == "partly"


def test_claim5_a_margin_within_the_seed_spread_does_not_count():
    """Adaptive optimizers ahead by 0.1 pp of a0, with a0 varying by 1 pp from seed to seed
    in the LR grid: the point margin is positive, its 95 % interval is not above 0, so only
    the A_avr margin counts (partly); with the a0 lead ten times the spread, both count."""
    df = _paperlike()
    grid = (df["optimizer"] == "adam") & (df["dataset"] == "cifar10") & (df["depth"] == 20)
    df.loc[grid, "baseline_accuracy"] += 0.01 * (df.loc[grid, "seed"] - 1)
    df.loc[df["optimizer"] == "sgd_momentum", "baseline_accuracy"] = 0.899   # nadam, adamax: 0.9
    v = claims.claim5(df)
    assert v.outcome == "partly" and v.value == pytest.approx(0.1)
    m = claims.optimizer_margins(df)["baseline_accuracy"]
    assert (m["worst_adaptive"], m["best_sgd"]) == ("nadam", "sgd_momentum")
    assert m["low"] < 0 < m["margin"] and m["dof"] == 2 * 13   # 8 LRs and 5 optimizers, 3 seeds each
    assert "95 % interval" in v.ours and "pooled seed spread" in v.ours
    df.loc[df["optimizer"] == "sgd_momentum", "baseline_accuracy"] = 0.8
    assert claims.claim5(df).outcome == "held"
    df.loc[df["optimizer"] == "sgd_momentum", "A_avr"] = 0.95                 # SGD more resistant
    df.loc[df["optimizer"] == "sgd_momentum", "baseline_accuracy"] = 0.95     # and more accurate
    assert claims.claim5(df).outcome == "did not hold"


def test_claim5_with_one_seed_everywhere_falls_back_to_the_point_margins():
    v = claims.claim5(_paperlike(seeds=(0,)))
    assert v.outcome == "held" and "no interval: no cell of the model has two seeds" in v.ours
    assert "both must be > 0" in v.statistic


def test_claim6_and_8_reverse():
    df = _paperlike()
    df.loc[df["dataset"] == "cifar100", "A_avr"] += 0.5
    df.loc[~df["batch_norm"], "A_avr"] -= 0.5
    v = _by_claim(df)
    assert v[6].outcome == "did not hold"
    assert v[8].outcome in ("did not hold", "partly")
    assert "0 of 8 models" in v[8].ours


def test_claim7_needs_measured_C():
    df = _paperlike().drop(columns="C")
    assert _by_claim(df)[7].outcome == "no data"


def test_claim7_partly_when_only_the_across_lr_half_holds():
    df = _paperlike()
    df["C"] = 1.0 / df["lr"] - df["seed"]          # within each LR: more C, more resistance
    v = _by_claim(df)[7]                           # across LRs the bound ~ lr still rises
    assert v.outcome == "partly" and v.value > 0.9 and v.p_value < 0.05
    assert "across LRs rho -1.00" in v.statistic


def test_claim7_does_not_hold_when_both_halves_are_reversed():
    df = _paperlike()
    # the bound alpha^2 C/|B| = 1/lr falls with the LR, as A_avr does; within an LR the
    # seed with more C is the more resistant one
    df["C"] = (1 - 0.01 * df["seed"]) / df["lr"] ** 3
    v = _by_claim(df)[7]
    assert v.outcome == "did not hold" and v.value > 0.9
    assert "across LRs rho +1.00" in v.statistic


def test_claim7_within_an_lr_needs_c_to_vary_there():
    """C that only follows the LR (no within-LR variation) leaves the within-LR half
    untested; the across-LR half alone makes it partly."""
    df = _paperlike()
    df["C"] = 1.0 / df["lr"]
    v = _by_claim(df)[7]
    assert v.outcome == "partly" and np.isnan(v.value)
    assert "rank correlation of C with A_avr: not testable" in v.ours


def test_claim7_partly_for_a_weak_negative_correlation():
    df = _paperlike()
    rng = np.random.default_rng(0)
    df["C"] = 1.0 / df["lr"] + rng.permutation(len(df)) % 3   # unrelated to A_avr within cells
    rho, n = claims.partial_rank_correlation(claims._lr_cells(df))
    v = _by_claim(df)[7]
    # the across-LR half holds; the weak within-LR correlation is not significant
    assert v.value == pytest.approx(rho) and v.p_value >= claims.ALPHA
    assert v.outcome == "partly"
    assert abs(rho) < 0.3 and n == len(claims._lr_cells(df))


def test_claim4_cannot_be_tested_without_lrs_outside_the_paper_range():
    df = _paperlike()
    df = df[~df["lr"].isin([0.00025, 0.003])]
    v = _by_claim(df)[4]
    assert v.outcome == "cannot be tested" and "no LR outside" in v.ours


def test_claim4_partly_when_a_low_lr_is_on_the_front():
    df = _paperlike()
    sel = (df["lr"] == 0.00025)
    df.loc[sel, "A_0.1"] = 0.99                                  # most resistant of all
    v = _by_claim(df)[4]
    assert v.outcome == "partly" and "0.00025" in v.ours


def test_claim6_reports_chance_corrected_accuracy():
    df = _paperlike()
    df["A_avr_cc"] = df["A_avr"]
    v = _by_claim(df)[6]
    assert "chance-corrected" in v.ours and v.outcome == "held"


def test_verdicts_carry_their_scale_and_count_diverged_runs():
    df = _paperlike()
    bad = df.iloc[:1].assign(status="diverged", A_avr=np.nan, seed=9)
    v = _by_claim(pd.concat([df, bad], ignore_index=True))
    assert "200 epochs" in v[1].scale and "1 diverged run" in v[1].scale


def test_readings_side_by_side_follow_the_ablation_columns():
    df = _paperlike()
    # under "trainable", BN models' resistance grows with the LR: claim 3 fails there only
    df["A_avr|trainable/array/additive"] = 0.5 + df["lr"] * 100
    df["A_avr|folded/array/additive"] = df["A_avr"]
    t = claims.across_readings(df).set_index(["claim", "reading"])["verdict"]
    assert t[(3, "paper (all arrays)")] == "held" and t[(3, "BN folded")] == "held"
    assert t[(3, "trainable only")] in ("did not hold", "partly")
    # a model without BN is the same sweep under every reading
    u = claims.under_reading(df, "trainable/array/additive")
    nobn = ~df["batch_norm"]
    assert (u.loc[nobn, "A_avr"] == df.loc[nobn, "A_avr"]).all()


def test_stability_of_a_clear_study_is_one():
    st = claims.stability(_paperlike(), B=20).set_index("claim")
    assert (st.loc[[1, 3, 4, 6, 8], "same_verdict"] == 1.0).all()
    assert (st.loc[[1, 3, 4, 6, 8], "defined"] == 1.0).all()


def test_stability_says_how_often_a_statistic_is_defined():
    """Claim 7 compares seeds within an LR: a resample that draws one seed twice leaves it
    undefined, so with two seeds per cell it is defined in about half of the resamples."""
    df = _paperlike(seeds=(0, 1))
    st = claims.stability(df, B=40).set_index("claim")
    assert 0.2 < st.loc[7, "defined"] < 0.8
    assert st.loc[1, "defined"] == 1.0
    assert st.loc[1, "ci_low"] <= st.loc[1, "value"] <= st.loc[1, "ci_high"]


def test_no_records():
    v = claims.verdicts(pd.DataFrame())
    assert [x.outcome for x in v] == ["no data"] * 8


def test_diverged_runs_are_left_out_of_the_means():
    df = _paperlike()
    bad = df.iloc[:1].assign(status="diverged", baseline_accuracy=0.1, A_avr=np.nan, seed=9)
    m = claims.cell_means(claims.completed(pd.concat([df, bad])))
    first = m[(m["dataset"] == bad["dataset"].iloc[0]) & (m["depth"] == bad["depth"].iloc[0])
              & (m["lr"] == bad["lr"].iloc[0]) & m["batch_norm"] & (m["optimizer"] == "adam")]
    assert int(first["n_seeds"].iloc[0]) == 3


@pytest.mark.parametrize("depth", [20, 32, 44, 56])
def test_bn_layer_count_matches_the_model(depth):
    from helpers.experiment.models import count_bn_layers, resnet_v1
    assert claims.bn_layers(depth) == count_bn_layers(resnet_v1(depth, 10))


def test_readings_sentence_names_what_survives():
    r = pd.DataFrame({"claim": [3, 3, 8, 8], "reading": ["a", "b", "a", "b"],
                      "verdict": ["held", "held", "held", "did not hold"]})
    assert claims.readings_sentence(r) == ("Claim 3 comes out the same under every noise "
                                           "reading; claim 8 depends on the reading.")
    # a claim no reading tests does not "come out the same": it is named apart
    idle = pd.DataFrame({"claim": [5, 5], "reading": ["a", "b"],
                         "verdict": [claims.NOT_TESTED, "no data"]})
    assert claims.readings_sentence(pd.concat([r, idle])) == (
        "Claim 3 comes out the same under every noise reading; claim 8 depends on the "
        "reading; claim 5 is not tested under any.")


def test_claim5_under_a_reading_compares_only_the_optimizers_swept_under_it():
    """Under a reading swept for Adam alone (the other optimizers' A_avr missing), claim 5
    has no SGD to compare with: no verdict, rather than one from Adam against nothing."""
    df = _paperlike()
    df["A_avr|folded/array/additive"] = np.where(df["optimizer"] == "adam", df["A_avr"], np.nan)
    r = claims.across_readings(df, claims=(5,)).set_index("reading")
    assert r.loc["paper (all arrays)", "verdict"] == "held"
    assert r.loc["BN folded", "verdict"] in claims.UNTESTED


def test_claim8_at_one_depth_says_the_layer_part_is_not_tested():
    df = _paperlike()
    v = _by_claim(df[df["depth"] == 20])[8]
    assert v.outcome == "held (one depth)" and "not tested at this scale" in v.statistic
    assert "one depth only: 'the more BN layers the worse'" in v.statistic
    assert "nan" not in v.ours + v.statistic


def test_claim3_at_one_depth_says_the_depth_part_is_not_tested():
    df = _paperlike()
    v = _by_claim(df[df["depth"] == 20])[3]
    assert v.outcome == "held (one depth)" and "'more steeply for deeper models' is not tested" in v.statistic
    assert "nan" not in v.ours + v.statistic


def test_claims_3_and_8_at_one_depth_fail_when_their_first_half_fails():
    df = _paperlike()
    df = df[df["depth"] == 20].copy()
    lr_grid = claims._lr_cells(df).index
    df.loc[lr_grid, "A_avr"] = 0.5 + df.loc[lr_grid, "lr"] * 100    # resistance rises with the LR
    nobn = df["batch_norm"] == False  # noqa: E712
    df.loc[nobn, "A_avr"] = 0.1                                      # no-BN models far worse
    v = _by_claim(df)
    assert v[3].outcome == "did not hold (one depth)"
    assert "fraction falling with p < 0.05 = 0.00" in v[3].statistic
    assert v[8].outcome == "did not hold (one depth)" and "fraction = 0.00" in v[8].statistic


def _break_monotone(df, frac):
    """Make the A^x curve of the first ``frac`` of the LR-study runs rise at eta = 0.3."""
    rows = claims._lr_cells(df).index
    k = int(round(frac * len(rows)))
    df.loc[rows[:k], "A_0.3"] = df.loc[rows[:k], "A_0.2"] + 0.05
    return df


def test_claim2_each_outcome():
    assert _by_claim(_break_monotone(_paperlike(), 0.0))[2].outcome == "held"
    assert _by_claim(_break_monotone(_paperlike(), 0.3))[2].outcome == "partly"
    assert _by_claim(_break_monotone(_paperlike(), 0.8))[2].outcome == "did not hold"


def test_claim6_partly_when_some_pairs_reverse():
    df = _paperlike()
    sel = (df["dataset"] == "cifar100") & (df["depth"].isin([20, 32]))
    df.loc[sel, "A_avr"] += 0.5          # 12 of 24 (depth, LR) pairs reverse -> fraction 0.5
    assert _by_claim(df)[6].outcome == "did not hold"
    df.loc[sel & (df["depth"] == 32), "A_avr"] -= 0.5   # 6 of 24 reverse -> 0.75
    assert _by_claim(df)[6].outcome == "partly"


def _two_depths(slopes20, slopes56, lrs=(0.0005, 0.001, 0.0015)):
    """LR-grid runs of ResNet20 and ResNet56 on CIFAR-10, one seed per slope given (A_avr
    per 0.001 of LR), all falling significantly with 3 seeds."""
    rows = []
    for depth, slopes in ((20, slopes20), (56, slopes56)):
        for seed, k in enumerate(slopes):
            rows += [_row("cifar10", depth, lr, 0.9, 0.8 + k * lr * 1000, seed) for lr in lrs]
    df = pd.DataFrame(rows)
    return df


def test_claim3_depth_half_compares_slopes_with_an_interval():
    """"More steeply for deeper models": the per-seed slopes of the two depths over their
    shared LRs, deeper minus shallower with its t-interval; held when it lies below 0,
    partly when it reaches over 0 although the point difference is negative."""
    df = _two_depths([-0.10, -0.11, -0.12], [-0.20, -0.22, -0.24])
    pairs = claims.depth_slopes(df)
    assert len(pairs) == 1 and (pairs.loc[0, "shallow"], pairs.loc[0, "deep"]) == (20, 56)
    assert pairs.loc[0, "diff"] == pytest.approx(-0.22 - -0.11)
    assert pairs.loc[0, "hi"] < 0 and (pairs.loc[0, "n_shallow"], pairs.loc[0, "n_deep"]) == (3, 3)
    v = claims.claim3(df)
    assert v.outcome == "held" and "ResNet56 on CIFAR-10 minus ResNet20 -11.00 [" in v.ours
    wide = _two_depths([-0.10, -0.11, -0.12], [-0.02, -0.22, -0.42])   # same mean, wide spread
    pw = claims.depth_slopes(wide)
    assert pw.loc[0, "diff"] == pytest.approx(-0.11) and pw.loc[0, "lo"] < 0 < pw.loc[0, "hi"]
    assert claims.claim3(wide).outcome == "partly"


def test_claim3_depth_half_with_one_seed_counts_the_point_and_says_so():
    """One seed of the deeper model: no interval, the point difference decides, and the
    evidence says so; a deeper model sharing fewer than 3 LRs leaves the half untested."""
    df = _two_depths([-0.10, -0.11, -0.12], [-0.30])
    v = claims.claim3(df)
    assert v.outcome == "held" and "(no interval: one seed a side) (3 and 1 seeds)" in v.ours
    two_lrs = df[~((df["depth"] == 56) & (df["lr"] == 0.0015))]
    v = claims.claim3(two_lrs)
    assert claims.depth_slopes(two_lrs).empty and v.outcome == "held (one depth)"
    means = claims.depth_slopes(df.drop(columns="seed"))   # cell means: one slope a depth
    assert means.loc[0, "n_deep"] is None and np.isnan(means.loc[0, "lo"])
    assert claims._depth_test(means, -1) == (True, "ResNet56 on CIFAR-10 minus ResNet20 "
                                             f"{100 * means.loc[0, 'diff']:+.2f} (no interval) (cell means)")


def test_claim8_depth_half_compares_bn_gaps_with_an_interval():
    """"The more BN layers the worse": the BN gap of each depth (Welch over its seeds),
    deeper minus shallower with its interval; models of two depths on different datasets
    leave it untested."""
    rows = []
    for depth, gap in ((20, 0.05), (56, 0.15)):
        for seed in range(3):
            rows.append(_row("cifar10", depth, 0.001, 0.9, 0.70 + 0.01 * seed, seed))
            rows.append(_row("cifar10", depth, 0.001, 0.9, 0.70 + gap + 0.005 * seed, seed, bn=False))
    df = pd.DataFrame(rows)
    pairs = claims.depth_bn_gaps(df)
    assert len(pairs) == 1 and pairs.loc[0, "diff"] == pytest.approx(0.10)
    assert pairs.loc[0, "lo"] > 0 and pairs.loc[0, "n_deep"] == "3/3"
    v = claims.claim8(df)
    assert v.outcome == "held" and "ResNet56 on CIFAR-10 minus ResNet20 +10.00 [" in v.ours
    apart = df[(df["depth"] == 20)].assign(dataset="cifar100")
    v = claims.claim8(pd.concat([df[df["depth"] == 56], apart]))
    assert v.outcome == "held (one depth)" and "no dataset has two depths" in v.statistic


def test_claim3_partly_when_resistance_falls_but_not_more_steeply_with_depth():
    df = _paperlike()
    lr_grid = claims._lr_cells(df).index
    df.loc[lr_grid, "A_avr"] = 0.8 - df.loc[lr_grid, "lr"] * (150 - df.loc[lr_grid, "depth"])
    v = _by_claim(df)[3]
    assert v.outcome == "partly" and "fraction falling with p < 0.05 = 1.00" in v.statistic


def test_sweet_spot_text_names_the_pareto_lrs():
    front = {("cifar10", 20): pd.DataFrame({"lr": [0.001, 0.0005]}),
             ("cifar100", 20): pd.DataFrame({"lr": []})}
    assert claims.sweet_spot_text(front) == ("ResNet20 on CIFAR-10: Pareto-optimal LRs 0.0005, 0.001\n"
                                             "ResNet20 on CIFAR-100: Pareto-optimal LRs none (not run "
                                             "at this scale)")


def test_readings_sentence_adds_the_caveat():
    readings = pd.DataFrame({"claim": [3, 3], "reading": ["a", "b"], "verdict": ["held", "held"]})
    assert claims.readings_sentence(readings) == "Claim 3 comes out the same under every noise reading."
    assert claims.readings_sentence(readings, "1 seed").endswith("reading. *Indicative only: 1 seed.*")


def test_claims_5_and_6_are_not_tested_at_a_scale_without_their_runs():
    """A ResNet20, CIFAR-10, Adam-only study leaves Figure 3 and CIFAR-100 out by design:
    that is "not tested at this scale", not "no data"."""
    df = _paperlike()
    df = df[(df["dataset"] == "cifar10") & (df["optimizer"] == "adam")]
    v = _by_claim(df)
    assert v[5].outcome == claims.NOT_TESTED and "optimizers study" in v[5].ours
    assert v[6].outcome == claims.NOT_TESTED and "only CIFAR-10 was run" in v[6].ours
    some_sgd = _paperlike()
    some_sgd = some_sgd[(some_sgd["optimizer"] != "adam") & (some_sgd["dataset"] == "cifar10")
                        & ~some_sgd["optimizer"].isin(["nadam", "adamax"])]
    assert len(some_sgd) == 9        # SGD variants only: planned but incomplete
    assert _by_claim(some_sgd)[5].outcome == "no data"


def test_settled_sentence_names_the_verdicts_the_bootstrap_does_not_settle():
    t = pd.DataFrame({"claim": [1, 2, 5, 7], "value": [0.01, 0.9, np.nan, -1.0],
                      "same_verdict": [1.0, 0.38, 1.0, 0.515]})
    assert claims.settled_sentence(t) == (
        "Not settled at this scale: claims 2 (38 %) and 7 (52 %) come out the same in fewer "
        "than 90 % of the bootstrap resamples, so more seeds could change them. The other "
        "tested claim comes out the same in every resample.")
    three = t.assign(claim=[1, 2, 3, 7], value=[0.01, 0.9, 0.5, -1.0],
                     same_verdict=[0.95, 0.38, 0.5, 0.515])
    assert claims.settled_sentence(three).startswith(
        "Not settled at this scale: claims 2 (38 %), 3 (50 %) and 7 (52 %) come out")
    assert claims.settled_sentence(three).endswith(
        "The other tested claim comes out the same in at least 95 %.")
    assert claims.settled_sentence(t[t["claim"] != 2].assign(same_verdict=[0.95, 1.0, 0.92])) == (
        "Every tested claim comes out the same in at least 90 % of the bootstrap resamples "
        "(lowest: 92 %).")
    assert claims.settled_sentence(t[t["claim"] == 5]) == "No claim could be tested on these records."
    t["defined"] = [1.0, 1.0, 1.0, 0.5]
    assert "claims 2 (38 %) and 7 (52 %; its statistic is defined in 50 % of them) come out" in (
        claims.settled_sentence(t))
    # a settled verdict that rests on one-seed cells: its stability says little, and the
    # sentence says so
    t["indicative only"] = ["1 training seed in 3 of its 9 cells", "no", "no", "no"]
    assert claims.settled_sentence(t).endswith(
        "The other tested claim comes out the same in every resample. For claim 1 that says "
        "little: it rests partly on cells of too few seeds, and a resample cannot vary a cell "
        "of one seed.")


def test_an_untested_claim_has_no_stability_and_shows_dashes():
    """Without the optimizers study claim 5 is not tested: it gets no interval, no share
    of resamples and no 'defined', and the book's table shows dashes, not 'nan'."""
    df = _paperlike(seeds=(0, 1))
    df = df[df["optimizer"] == "adam"]
    st = claims.stability(df, B=10)
    row = st.set_index("claim").loc[5]
    assert np.isnan(row["value"]) and np.isnan(row["same_verdict"]) and np.isnan(row["defined"])
    shown = claims.display_table(claims.verdict_table(claims.verdicts(df), st))
    assert shown["claim"].tolist()[:2] == ["1. a0 barely depends on the LR",
                                           "2. graceful fall with eta"]
    shown.index = range(1, 9)
    assert shown.loc[5, "bootstrap 95 %"] == "–" and shown.loc[5, "same verdict"] == "–"
    assert shown.loc[5, "value"] == "–"
    assert shown.loc[1, "same verdict"] == "100\u00a0%" and shown.loc[1, "defined"] == "100\u00a0%"
    lo, hi = st.set_index("claim").loc[1, ["ci_low", "ci_high"]]
    # two seeds are indicative only: an interval at one value is shown as none
    assert shown.loc[1, "bootstrap 95 %"] == (
        f"[{lo:.3g}, {hi:.3g}]" if f"{lo:.3g}" != f"{hi:.3g}" else "none: too few seeds")
    assert list(shown.columns[:5]) == ["claim", "verdict", "measure", "value", "p"]
    assert "nan" not in shown.to_string()
    # each value says what it is, in the unit of its statistic (claim 1: pp, as "max range")
    assert shown.loc[1, "measure"] == "largest range of a0 over the LRs (pp)"
    v1 = claims.verdicts(df)[0]
    assert f"max range = {v1.value:.2f} pp" in v1.statistic


def test_and_list_joins_items_as_english():
    assert [claims.and_list(x) for x in ([], [3], [3, 7], ["a", "b", "c"])] == [
        "", "3", "3 and 7", "a, b and c"]
    assert claims.and_list([1, 2], "or") == "1 or 2"


def test_plural_counts_in_words():
    assert [claims.plural(n, "seed") for n in (0, 1, 2, "1-3", "1")] == [
        "0 seeds", "1 seed", "2 seeds", "1-3 seeds", "1 seed"]
    assert claims.plural(2, "analysis", "analyses") == "2 analyses"


def test_plural_range_gives_the_range_only_when_counts_differ():
    assert claims.plural_range(pd.Series([3, 3]), "seed") == "3 seeds"
    assert claims.plural_range([1, 1], "seed") == "1 seed"
    assert claims.plural_range(np.array([3, 1, 2]), "training seed") == "1-3 training seeds"


def test_outcome_counts_says_how_the_claims_come_out():
    vs = claims.verdicts(_paperlike())
    text = claims.outcome_counts(vs)
    n_held = sum(v.outcome == "held" for v in vs)
    assert text.startswith(f"{n_held} held") and text.count(" and ") <= 1
    assert claims.outcome_counts(claims.verdicts(pd.DataFrame())) == "8 no data"


def test_claim2_a_curve_flat_at_chance_is_not_graceful_and_breakage_is_counted_apart():
    """A curve flat at chance (10.7 %) is monotone but no graceful fall; the runs that fail
    because their draws broke the model are counted apart from those that fail otherwise."""
    df = _paperlike(seeds=(0,))
    df["broken"] = 0.0
    rows = claims._lr_cells(df).index
    df.loc[rows[0], [f"A_{e:g}" for e in ETAS]] = 0.107        # flat at chance, broken
    df.loc[rows[0], "broken"] = 1.0
    df.loc[rows[1], [f"A_{e:g}" for e in ETAS]] = [0.85, 0.8, 0.75, 0.7, 0.65, 0.6]  # too low at 0.01
    v = _by_claim(df)[2]
    n = len(rows)
    assert f"{n - 2} of {n} runs fall gracefully" in v.ours
    assert "of the 2 that do not, 1 have draws that broke the model" in v.ours
    assert "and 1 do not (0 not monotone, 2 below 0.9 at eta = 0.01)" in v.ours
    assert v.value == pytest.approx((n - 2) / n)


def test_claim3_names_breakage_when_the_lr_sets_it():
    df = _paperlike()
    df = df[df["depth"] == 20].copy()
    df["broken"] = df["lr"] * 300 + 0.01 * df["seed"]          # rises with the LR in every seed
    v = _by_claim(df)[3]
    assert "share of draws that broke the model" in v.ours
    assert "here the LR sets how often the model breaks" in v.ours
    df["broken"] = 0.0
    assert "broke" not in _by_claim(df)[3].ours


def test_claim3_a_fall_that_is_not_significant_is_no_fall():
    """A_avr falls with the LR in one seed and not in the others: rho < 0 but the exact
    within-seed test gives p >= 0.05, so no model counts as falling: did not hold."""
    df = _paperlike()
    patterns = {0: [4, 6, 2, 5, 1, 3], 1: [3, 5, 1, 6, 2, 4], 2: [5, 2, 6, 1, 4, 3]}  # ranks by LR
    lr_grid = claims._lr_cells(df).index
    lrs = sorted(df.loc[lr_grid, "lr"].unique())
    df.loc[lr_grid, "A_avr"] = [0.7 + 0.01 * patterns[s][lrs.index(lr)]
                                for lr, s in zip(df.loc[lr_grid, "lr"], df.loc[lr_grid, "seed"])]
    v = _by_claim(df)[3]
    assert v.value < 0 and v.p_value >= 0.05
    assert v.outcome == "did not hold" and "fraction falling with p < 0.05 = 0.00" in v.statistic


def test_claim4_a_front_decided_by_gaps_within_the_seed_spread_is_not_a_sweet_spot():
    """Every LR has the same A^0.1, and a0 means 0.01 pp apart under a seed spread of 1 pp:
    the point front is the one LR with the highest mean a0, but no LR beats another beyond
    its paired t-interval, so the plausible front is every LR, outside the sweet spot too:
    partly. (Each LR gets its own ordering of the 4 seeds' offsets, so that every paired
    difference has a spread.)"""
    import itertools

    df = _paperlike(seeds=(0, 1, 2, 3))
    sel = (df["dataset"] == "cifar10") & (df["depth"] == 20) & (df["optimizer"] == "adam") & df["batch_norm"]
    orders = list(itertools.permutations([-1.5, -0.5, 0.5, 1.5]))[::3]
    lrs = sorted(df.loc[sel, "lr"].unique())
    df.loc[sel, "A_0.1"] = 0.9
    df.loc[sel, "baseline_accuracy"] = [
        0.9 + 0.01 * orders[lrs.index(lr)][seed] + 1e-4 * lrs.index(lr)
        for lr, seed in zip(df.loc[sel, "lr"], df.loc[sel, "seed"])]
    f = claims.front_uncertainty(df)
    assert f["on_front"].sum() == 1 and f["plausible"].all() and len(f) == 8
    v = _by_claim(df)[4]
    assert v.outcome == "partly" and v.value == pytest.approx(4 / 8)
    assert "plausible front" in v.ours and "0.00025" in v.ours.split("plausible front")[1]


def test_verdicts_say_when_they_rest_on_one_model_or_one_depth():
    df = _paperlike()
    # the optimizers study is one model by design (the paper's Figure 3), and the sweet
    # spot is read off the reference model's LRs only (the paper's Figure 4)
    assert {v.claim: v.rests_on for v in claims.verdicts(df) if v.rests_on} == {
        4: "one model (ResNet20 on CIFAR-10)", 5: "one model (ResNet20 on CIFAR-10)"}
    one_depth = _by_claim(df[df["depth"] == 20])
    assert one_depth[1].rests_on == "one depth (ResNet20)"
    one_model = _by_claim(df[(df["depth"] == 20) & (df["dataset"] == "cifar10")])
    assert one_model[3].rests_on == "one model (ResNet20 on CIFAR-10)"
    assert "It rests on one model (ResNet20 on CIFAR-10) only." in claims.sentence(one_model[3])
    assert one_model[6].rests_on == ""          # not tested: nothing to qualify
    table = claims.verdict_table(list(one_model.values()))
    assert table.set_index("claim").loc[3, "rests on"] == "one model (ResNet20 on CIFAR-10)"


def test_across_readings_tests_claim7_and_gives_p_values():
    df = _paperlike()
    df["A_avr|trainable/array/additive"] = 0.5 + df["lr"] * 100      # rises with the LR
    df["A_avr|folded/array/additive"] = df["A_avr"]
    t = claims.across_readings(df).set_index(["claim", "reading"])
    assert t.loc[(7, "paper (all arrays)"), "verdict"] == "held"
    assert t.loc[(7, "trainable only"), "verdict"] in ("did not hold", "partly")
    assert t.loc[(3, "trainable only"), "p"] < 0.05 and t.loc[(3, "trainable only"), "value"] > 0


def test_claim8_gives_each_gap_its_welch_interval_and_exact_permutation_p():
    """3 seeds with and 3 without BN, fully separated: each gap's Welch interval lies above
    0, so every model counts; the exact permutation p, 2 of 20 relabellings = 0.1 (the
    smallest 3 and 3 seeds can give), is printed beside it. The verdict's p is the largest
    Welch p (intersection-union); cell means alone give no interval and no p."""
    v = _by_claim(_paperlike())[8]
    assert v.outcome == "held" and 0 < v.p_value < 0.05
    assert "ResNet20 on CIFAR-10 +2.20 [+1.70, +2.70]" in v.statistic
    assert "counted by the interval in 8 models;" in v.statistic
    assert "exact permutation p per model" in v.statistic and v.statistic.count("0.100") == 8
    means = claims.claim8(claims.cell_means(_paperlike()))
    assert np.isnan(means.p_value) and "counted by the gap of the cell means" in means.statistic


def test_claim8_does_not_count_a_gap_whose_interval_crosses_zero():
    """A positive mean gap whose seeds scatter across 0 is not evidence that BN lowers
    A_avr: with its Welch interval over 0 in every model the fraction is 0 and the claim
    fails, though every mean gap is positive; a model with one seed a side has no interval
    and counts by its gap alone, and says so."""
    df = _paperlike()
    df = df[df["depth"] == 20]
    nobn = ~df["batch_norm"].astype(bool)
    df.loc[nobn, "A_avr"] = df.loc[nobn, "A_avr"] + np.where(df.loc[nobn, "seed"] == 0, 0.3, -0.2)
    v = _by_claim(df)[8]
    assert v.outcome == "did not hold (one depth)" and v.p_value > 0.05
    assert "fraction = 0.00 (counted by the interval in 2 models;" in v.statistic
    one = _by_claim(_paperlike(seeds=(0,)))[8]
    assert "(no interval: < 2 seeds a side)" in one.statistic
    assert "by the gap alone in 8" in one.statistic and one.outcome == "held"


def test_a_degenerate_interval_on_an_indicative_verdict_is_shown_as_none():
    """A one-seed cell cannot vary under resampling: where every resample puts an
    indicative verdict's value at one number, the table says there is no interval
    instead of printing [x, x]; a verdict on enough seeds keeps its interval as is."""
    table = pd.DataFrame({"claim": [1, 4], "verdict": ["held", "held"],
                          "p_value": [np.nan, 0.02], "rests on": ["–", "–"],
                          "indicative only": ["1 seed per cell (CIFAR-100)", "no"],
                          "value": [1.62, 0.5], "ci_low": [1.62, 0.5], "ci_high": [1.62, 0.5],
                          "same_verdict": [1.0, 1.0], "defined": [1.0, 1.0]})
    shown = claims.display_table(table)
    assert shown["bootstrap 95 %"].tolist() == ["none: too few seeds", "[0.5, 0.5]"]
    assert shown["value"].tolist() == ["1.62", "0.5"]


def test_a_trend_test_that_cannot_be_significant_says_so():
    """One seed and 3 LRs: 3! = 6 relabellings, the smallest two-sided p is 2/6; claim 3
    names such a model's test as unable to reach p < 0.05, and not a 3-seed one."""
    assert claims.smallest_p(3, 1) == pytest.approx(1 / 3)
    assert claims.smallest_p(6, 3) == pytest.approx(2 / 720 ** 3)
    assert claims._unreachable(3, 1) == (" (cannot reach p < 0.05 with 1 seed and 3 LRs: the "
                                         "smallest attainable p is 0.333)")
    assert claims._unreachable(4, 2) == ""   # 2 / 24^2 = 0.0035


def test_claim3_counts_only_the_models_whose_test_can_decide():
    """ResNet20 on CIFAR-10 with 3 seeds falls significantly; CIFAR-100 with 1 seed and 3 LRs
    rises, but its exact test cannot reach p < 0.05 (smallest p 0.33): it is named with its
    direction and not counted, so the fraction is 1 of 1, not 1 of 2."""
    df = _paperlike()
    df = df[df["depth"] == 20].copy()
    c100 = df["dataset"] == "cifar100"
    lrs = sorted(PAPER_LRS)[:3]
    df = df[~c100 | ((df["seed"] == 0) & df["lr"].isin(lrs) & df["batch_norm"].astype(bool)
                     & (df["optimizer"] == "adam"))].copy()
    c100 = df["dataset"] == "cifar100"
    df.loc[c100, "A_avr"] = 0.5 + df.loc[c100, "lr"] * 100                # rises with the LR
    v = _by_claim(df)[3]
    assert v.outcome == "held (one depth)"
    assert "= 1.00 of the 1 model whose test can reach it" in v.statistic
    assert "not counted: ResNet20 on CIFAR-100 (rises, rho +1.00)" in v.statistic
    assert "smallest attainable p is 0.333" in v.ours
    assert v.p_value < 0.05 and v.value < 0          # the counted model's test, not the other


def test_claim3_is_not_tested_when_no_model_can_reach_significance():
    df = _paperlike(seeds=(0,))
    lrs = sorted(PAPER_LRS)[:3]
    df = df[df["lr"].isin(lrs)]
    v = _by_claim(df)[3]
    assert v.outcome == claims.NOT_TESTED
    assert "no model's trend test can reach p < 0.05" in v.statistic
    assert "ResNet20 on CIFAR-10 (falls, rho -1.00)" in v.ours.replace("−", "-")


def test_claim7_leaves_out_c_measured_by_the_parallel_map():
    """C measured with the per-example map 10 examples at a time can be off by orders of
    magnitude: claim 7 tests the other runs and says how many it left out; when all of a
    seed's runs are out the within-LR test loses that seed; when every run is out, the
    claim is not tested (not "did not hold")."""
    from helpers.study import theory
    df = _paperlike()
    clean = _by_claim(df)[7]
    assert clean.outcome == "held" and "left out" not in clean.ours
    racy = df["seed"] == 0
    df["commit"] = np.where(racy, theory.PARALLEL_MAP_COMMITS[1] + "d38713a54", "24c3fec169")
    df["backend"] = "tensorflow"
    v = _by_claim(df)[7]
    cells, _, corrupt = claims.claim7_runs(claims.completed(df))
    assert len(corrupt) > 0 and set(corrupt["seed"]) == {0} and 0 not in set(cells["seed"])
    assert v.ours.endswith(f"left out: {len(corrupt)} runs whose C was measured with the "
                           "per-example map 10 examples at a time, which can corrupt it "
                           "(theory page)")
    assert f"over {len(cells)} runs" in v.ours and v.outcome == "held"
    assert "per-example map" not in v.indicative and claims.claim_caveats(df, 7) == {}
    df["commit"] = theory.PARALLEL_MAP_COMMITS[1] + "d38713a54"
    none_left = _by_claim(df)[7]
    assert none_left.outcome == claims.NOT_TESTED
    assert "no run with a C measured one example at a time" in none_left.ours


def test_claim7_is_not_tested_when_neither_test_can_reach_significance():
    """One seed at 3 LRs: the across-LR test's smallest p is 2/3! = 0.33 and there is no
    within-LR test, so the claim is not tested, whatever the correlation."""
    df = _paperlike(seeds=(0,))
    df = df[(df["depth"] == 20) & (df["dataset"] == "cifar100")]
    df = df[df["lr"].isin([0.0005, 0.001, 0.0015]) | ~df["batch_norm"]]
    v = claims.claim7(claims.completed(df))
    assert v.outcome == claims.NOT_TESTED
    assert v.statistic == "neither test can reach p < 0.05 with these runs (smallest attainable p: 0.333)"


def test_claim5_names_the_optimizers_not_run_and_the_papers_margin_over_those_run():
    """With SGD with momentum and with Nesterov missing, the margin is over the optimizers
    run: the evidence names the missing ones and gives the paper's Figure 3 margin over the
    same optimizers (worst of Adam/Nadam/Adamax minus SGD), and the caveat says it."""
    from helpers.study.paper import table

    df = _paperlike()
    df = df[~df["optimizer"].isin(["sgd_momentum", "sgd_nesterov"])]
    v = _by_claim(df)[5]
    f3 = table("figure3").set_index("optimizer")
    same = [f3.loc[["adam", "nadam", "adamax"], c].min() - f3.loc["sgd", c]
            for c in ("baseline_accuracy_pct", "avg_normalized_accuracy_pct")]
    assert v.ours.endswith(
        "over the optimizers with a value (Adam, Nadam, Adamax and SGD; none for SGD with momentum and "
        f"SGD with Nesterov momentum), where the paper's Figure 3 gives a0 {same[0]:+.2f} and "
        f"A_avr {same[1]:+.2f} points")
    assert claims.claim_caveats(df, 5) == {
        "optimizers": "SGD with momentum and SGD with Nesterov momentum not run, of the "
                      "paper's six optimizers"}
    full = _by_claim(_paperlike())[5]
    assert "none for" not in full.ours and full.indicative == ""


def test_claim3_rests_only_on_the_models_its_test_can_decide():
    """A one-seed model at 3 LRs cannot reach p < 0.05 and is not counted: claim 3 then
    rests on the other model alone (one model, not indicative with its 3 seeds), and the
    one-seed model does not make it indicative."""
    df = _paperlike()
    ref = (df["dataset"] == "cifar10") & (df["depth"] == 20)
    few = (df["dataset"] == "cifar100") & (df["depth"] == 20) & (df["seed"] == 0) \
        & df["lr"].isin([0.0005, 0.001, 0.0015])
    v = _by_claim(df[ref | few])[3]
    assert "not counted: ResNet20 on CIFAR-100" in v.statistic
    assert v.rests_on == "one model (ResNet20 on CIFAR-10)" and v.indicative == ""
