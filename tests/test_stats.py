"""The two-level bootstrap (helpers.study.stats), deduplication and the record loader's new columns."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from helpers.study import results, stats

ETAS = np.array([0.1, 0.2])


def _run(seed, lr, a_avr_true, rng, n_draws=10, sd_draw=0.05, a0=0.9, depth=20):
    """One record row whose draws scatter around a known A^x at both etas."""
    acc = a0 * (a_avr_true + sd_draw * rng.standard_normal((len(ETAS), n_draws)))
    row = {"dataset": "cifar10", "depth": depth, "lr": lr, "optimizer": "adam",
           "batch_norm": True, "seed": seed, "status": "completed", "baseline_accuracy": a0,
           "reading": "all/array/additive", "draws": {"all/array/additive": (ETAS, acc, a0)}}
    a_x = acc.mean(axis=1) / a0
    row["A_avr"] = float(a_x.mean())
    row.update({f"A_{e:g}": float(v) for e, v in zip(ETAS, a_x)})
    return row


def test_resample_keeps_seeds_paired_across_lrs():
    rng = np.random.default_rng(0)
    df = pd.DataFrame([_run(s, lr, 0.8, rng) for s in range(3) for lr in (0.001, 0.002)])
    r = stats.resample(df, np.random.default_rng(1))
    # every resampled seed label holds both LRs of one original seed
    assert (r.groupby("seed")["lr"].nunique() == 2).all() and len(r) == len(df)
    # and the draws were resampled: A_avr moved, but stays within the draws' range
    assert not np.allclose(np.sort(r["A_avr"]), np.sort(df["A_avr"]))


def test_interval_covers_the_true_value_at_about_its_nominal_rate():
    """Ten seeds with a seed effect and noisy draws: the 90 % interval of the cell mean
    covers the true A_avr in about 90 % of simulated studies."""
    hits, n_sim = 0, 40
    for k in range(n_sim):
        rng = np.random.default_rng(100 + k)
        rows = [_run(s, 0.001, 0.8 + 0.03 * rng.standard_normal(), rng) for s in range(10)]
        ci = stats.cell_intervals(pd.DataFrame(rows), metrics=("A_avr",), B=100, seed=k,
                                  level=0.9)
        hits += ci["A_avr_lo"].iloc[0] <= 0.8 <= ci["A_avr_hi"].iloc[0]
    assert 0.72 <= hits / n_sim <= 1.0


def test_cell_intervals_count_seeds_and_diverged_runs():
    rng = np.random.default_rng(2)
    rows = [_run(s, 0.001, 0.8, rng) for s in range(3)]
    rows.append({**rows[0], "seed": 3, "status": "diverged", "A_avr": np.nan, "draws": None})
    ci = stats.cell_intervals(pd.DataFrame(rows), B=50)
    assert ci["n"].iloc[0] == 3 and ci["n_diverged"].iloc[0] == 1
    assert ci["A_avr_lo"].iloc[0] <= ci["A_avr_mean"].iloc[0] <= ci["A_avr_hi"].iloc[0]


def test_one_seed_gives_no_interval_over_seeds_only_the_secondary_draw_bootstrap():
    """One seed has no spread: no t-interval (NaN, and no verdict on whether the paper's
    value lies inside); A_avr keeps its noise-draw bootstrap as a secondary column."""
    rng = np.random.default_rng(4)
    one = pd.DataFrame([{**_run(0, 0.001, 0.8, rng), "baseline_accuracy": 0.9}])
    ci = stats.cell_intervals(one, B=50)
    for m in ("baseline_accuracy", "A_avr"):
        assert np.isnan(ci[f"{m}_lo"].iloc[0]) and np.isnan(ci[f"{m}_hi"].iloc[0])
    assert np.isnan(ci["baseline_accuracy_boot_lo"].iloc[0])
    assert ci["A_avr_boot_lo"].iloc[0] < ci["A_avr_mean"].iloc[0] < ci["A_avr_boot_hi"].iloc[0]
    two = pd.concat([one, pd.DataFrame([{**_run(1, 0.001, 0.8, rng), "baseline_accuracy": 0.8}])])
    ci2 = stats.cell_intervals(two, B=50)
    # the t-interval of {0.8, 0.9}: 0.85 +- t(0.975, 1) * 0.0707 / sqrt(2) = 0.85 +- 0.635
    assert ci2["baseline_accuracy_lo"].iloc[0] == pytest.approx(0.85 - 12.7062 * 0.05, abs=1e-3)
    assert ci2["baseline_accuracy_hi"].iloc[0] == pytest.approx(0.85 + 12.7062 * 0.05, abs=1e-3)
    # the bootstrap of two seeds cannot leave their range: it is narrower
    assert ci2["baseline_accuracy_boot_lo"].iloc[0] == pytest.approx(0.8)
    assert ci2["baseline_accuracy_boot_hi"].iloc[0] == pytest.approx(0.9)


def test_the_paper_value_is_judged_only_against_an_interval():
    from helpers.study import paper

    rng = np.random.default_rng(5)
    rows = [{**_run(0, 0.001, 0.8, rng), "baseline_accuracy": 0.9, "study": "lr"}]
    t = paper.with_intervals(stats.cell_intervals(pd.DataFrame(rows), B=20), "table2")
    assert len(t) == 1 and t["paper_pct"].notna().all() and t["paper_in_ci"].isna().all()
    rows.append({**_run(1, 0.001, 0.8, rng), "baseline_accuracy": 0.95, "study": "lr"})
    t = paper.with_intervals(stats.cell_intervals(pd.DataFrame(rows), B=50), "table2")
    # the paper's 91.27 % (Table II, ResNet20, CIFAR-10, lr 0.001) lies in [90, 95]
    assert t["paper_in_ci"].tolist() == [True]
    # our mean 92.5 is 1.23 pp above the paper's 91.27
    assert paper.offset_sentence(t, "a0") == (
        "In the one cell that both have, our a0 lies 1.2 pp above the paper's; the paper's "
        "value is inside our 95 % interval in 1 of the 1 cell with an interval.")
    t.loc[0, "paper_pct"] = np.nan
    assert paper.offset_sentence(t, "a0") == "No cell of ours has a paper value of a0."


def test_paired_differences_see_a_small_effect_that_seeds_would_hide():
    """Seeds shift A_avr by +-5 points at every LR; the LR effect is 1 point. Paired within
    seeds, the interval of the difference excludes 0."""
    rng = np.random.default_rng(3)
    rows = []
    for s in range(4):
        shift = 0.05 * (s - 1.5)
        rows += [_run(s, 0.001, 0.8 + shift, rng, sd_draw=0.002),
                 _run(s, 0.002, 0.79 + shift, rng, sd_draw=0.002)]
    d = stats.paired_differences(pd.DataFrame(rows), reference_lr=0.001, B=200)
    assert len(d) == 1 and d["delta"].iloc[0] == pytest.approx(-0.01, abs=0.003)
    assert d["hi"].iloc[0] < 0 and d["boot_hi"].iloc[0] < 0 and d["p_positive"].iloc[0] == 0
    # 4 seeds, every difference negative: the sign-flip p is 2/16
    assert d["p"].iloc[0] == pytest.approx(2 / 16)


def test_unbalanced_seeds_keep_every_cell_in_a_resample_and_pair_only_shared_seeds():
    """A study filling in seed by seed: lr 0.002 has seeds 0 and 1, the reference lr 0.001
    seed 0 only. No cell drops out of a resample; the difference uses the shared seed
    only (n = 1), and its share of positive resamples agrees with its interval."""
    rng = np.random.default_rng(6)
    rows = [_run(0, 0.001, 0.80, rng, sd_draw=0.01), _run(0, 0.002, 0.83, rng, sd_draw=0.01),
            _run(1, 0.002, 0.60, rng, sd_draw=0.01)]
    df = pd.DataFrame(rows)
    for k in range(20):
        r = stats.resample(df, np.random.default_rng(k))
        assert r.groupby("lr").size().to_dict() == {0.001: 1, 0.002: 2}
    d = stats.paired_differences(df, reference_lr=0.001, B=400)
    assert d["n"].tolist() == [1]
    assert d["delta"].iloc[0] == pytest.approx(rows[1]["A_avr"] - rows[0]["A_avr"])
    # one shared seed: no t-interval, and the sign-flip test cannot reject (p = 1)
    assert np.isnan(d["lo"].iloc[0]) and d["p"].iloc[0] == 1.0
    assert d["boot_lo"].iloc[0] > 0 and d["p_positive"].iloc[0] > 0.975
    # the per-cell interval of lr 0.002 spans both of its seeds
    ci = stats.cell_intervals(df, metrics=("A_avr",), B=400).set_index("lr")
    assert ci.at[0.002, "A_avr_lo"] < 0.65 and ci.at[0.002, "A_avr_hi"] > 0.78
    assert ci.at[0.002, "A_avr_boot_lo"] < 0.65 and ci.at[0.002, "A_avr_boot_hi"] > 0.78


def test_run_bootstrap_resamples_the_draws_of_the_metrics_reading():
    rng = np.random.default_rng(7)
    row = _run(0, 0.001, 0.8, rng)
    acc = row["draws"]["all/array/additive"][1]
    b = stats.run_bootstrap(row, "A_avr", 500, np.random.default_rng(0))
    assert b.mean() == pytest.approx(row["A_avr"], abs=0.01) and b.std() > 0
    b2 = stats.run_bootstrap(row, "A_0.2", 500, np.random.default_rng(0))
    assert b2.min() >= acc[1].min() / 0.9 - 1e-9 and b2.max() <= acc[1].max() / 0.9 + 1e-9
    assert (stats.run_bootstrap(row, "baseline_accuracy", 5, rng) == 0.9).all()


def test_unpaired_difference_finds_a_real_gap_and_not_a_null_one():
    rng = np.random.default_rng(11)
    high = pd.DataFrame([_run(s, 0.001, 0.85, rng) for s in range(3)])
    low = pd.DataFrame([_run(s, 0.001, 0.75, rng) for s in range(3)])
    same = pd.DataFrame([_run(s, 0.001, 0.75, rng) for s in range(3)])
    d = stats.unpaired_difference(high, low, "A_avr", "A_avr", B=500)
    assert d["delta"] == pytest.approx(high["A_avr"].mean() - low["A_avr"].mean())
    assert 0 < d["lo"] < 0.1 < d["hi"] and d["p_positive"] == 1.0 and (d["n_a"], d["n_b"]) == (3, 3)
    assert d["p"] == pytest.approx(0.1)          # 3 vs 3 seeds, fully separated: 2 / 20
    assert d["lo"] <= d["boot_lo"] and d["boot_hi"] <= d["hi"]   # Welch is the wider
    null = stats.unpaired_difference(same, low, "A_avr", "A_avr", B=500)
    assert null["lo"] < 0 < null["hi"] and null["p"] > 0.1
    # a group without a value gives NaN, not an error
    assert np.isnan(stats.unpaired_difference(high, low.assign(A_avr=np.nan), "A_avr", "A_avr")["lo"])


def _record(tmp_path, name, created, a0=0.9, label="CIFAR-10 (JPEG copy)", seed=0, **cfg):
    config = {"dataset": "cifar10", "depth": 20, "lr": 0.001, "optimizer": "adam", "epochs": 20,
              "batch_size": 32, "seed": seed, "batch_norm": True, "profile": "cpu",
              "noise_scope": "all", "noise_granularity": "array", **cfg}
    draws = [{"eta": 0.0, "repeat": 0, "accuracy": a0, "nonfinite": 0.0}]
    draws += [{"eta": e, "repeat": r, "accuracy": a0 * 0.8, "nonfinite": 0.01}
              for e in (0.1, 0.2) for r in range(2)]
    summary = [{"eta": e, "n": 2, "a_x": a0 * 0.8, "a_x_std": 0.0, "A_x": 0.8, "A_x_std": 0.0,
                "nonfinite": 0.01} for e in (0.1, 0.2)]
    rec = {"record_version": 1, "key": name, "created": created, "status": "completed",
           "synthetic_data": False, "config": config,
           "data": {"label": label, "fingerprint": "abc"}, "baseline_accuracy": a0,
           "noise": {"A_avr": 0.8, "A_avr_std": 0.0, "summary": summary, "draws": draws,
                     "a0": a0},
           "environment": {"keras_backend": "tensorflow", "device": "CPU", "git": {"commit": "x"}}}
    (tmp_path / f"{name}.json").write_text(json.dumps(rec))


def test_one_record_per_run_the_newest_with_a_warning(tmp_path):
    _record(tmp_path, "old", "2026-01-01T00:00:00+00:00", a0=0.5)
    _record(tmp_path, "new", "2026-02-01T00:00:00+00:00", a0=0.9)
    _record(tmp_path, "other-seed", "2026-01-01T00:00:00+00:00", seed=1)
    with pytest.warns(UserWarning, match="old.json"):
        df = results.load_records(tmp_path)
    assert sorted(df["key"]) == ["new", "other-seed"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(results.load_records(tmp_path, dedupe=False)) == 3


def test_records_of_different_epochs_are_different_runs(tmp_path):
    _record(tmp_path, "a", "2026-01-01T00:00:00+00:00", epochs=20)
    _record(tmp_path, "b", "2026-01-02T00:00:00+00:00", epochs=30)
    assert len(results.load_records(tmp_path)) == 2


def test_loader_columns_draws_nonfinite_and_chance(tmp_path):
    _record(tmp_path, "good", "2026-01-01T00:00:00+00:00", a0=0.9)
    _record(tmp_path, "chance", "2026-01-01T00:00:00+00:00", a0=0.15, seed=1)  # < 2/10
    df = results.load_records(tmp_path).set_index("key")
    etas, acc, a0 = df.loc["good", "draws"]["all/array/additive"]
    assert list(etas) == [0.1, 0.2] and acc.shape == (2, 2) and a0 == 0.9
    assert df.loc["good", "nonfinite_0.1"] == 0.01
    # chance-corrected: (0.72 - 0.1) / (0.9 - 0.1)
    assert df.loc["good", "A_avr_cc"] == pytest.approx((0.72 - 0.1) / 0.8)
    assert bool(df.loc["chance", "near_chance"]) and pd.isna(df.loc["chance", "A_avr"])
    assert df.loc["chance", "draws"] is None


def test_t_interval_covers_the_mean_at_its_nominal_rate_with_three_seeds():
    """4000 simulated cells of 3 seeds (normal, seeded): the 95 % t-interval covers the
    true mean in 95 % of them; a percentile interval over the 3 values would cover far
    less (it cannot leave their range)."""
    rng = np.random.default_rng(0)
    x = 0.8 + 0.05 * rng.standard_normal((4000, 3))
    ci = np.array([stats.t_interval(v)[1:3] for v in x])
    cover = np.mean((ci[:, 0] <= 0.8) & (0.8 <= ci[:, 1]))
    assert 0.94 <= cover <= 0.96
    in_range = np.mean((x.min(axis=1) <= 0.8) & (0.8 <= x.max(axis=1)))
    assert in_range == pytest.approx(0.75, abs=0.02)   # 1 - 2 / 2^3
    assert stats.t_interval([0.5])[1:] == (pytest.approx(np.nan, nan_ok=True),
                                           pytest.approx(np.nan, nan_ok=True), 1)


def test_welch_interval_by_hand():
    d, lo, hi = stats.welch_interval([1.0, 2.0, 3.0], [0.0, 0.0, 3.0])
    # se = sqrt(1/3 + 3/3) = 1.1547; dof = (4/3)^2 / ((1/9 + 1) / 2) = 3.2; t(0.975, 3.2) = 3.0728
    assert d == pytest.approx(1.0)
    assert hi - d == pytest.approx(3.0728 * 1.1547, rel=1e-3) and d - lo == pytest.approx(hi - d)


def test_welch_p_agrees_with_its_interval_and_with_scipy():
    """Welch's p is scipy's unequal-variance t-test, and is below 0.05 exactly when the
    95 % interval leaves 0; NaN with one value in a group or no spread at all."""
    from scipy.stats import ttest_ind
    a, b = [1.0, 2.0, 3.0], [0.0, 0.0, 3.0]
    assert stats.welch_p(a, b) == pytest.approx(ttest_ind(a, b, equal_var=False).pvalue)
    assert stats.welch_p(a, b) == pytest.approx(0.4465, abs=1e-3)   # t = 0.866, 3.2 d.o.f.
    far = [10.0, 10.5, 11.0]
    _, lo, _ = stats.welch_interval(far, b)
    assert lo > 0 and stats.welch_p(far, b) < 0.05
    assert np.isnan(stats.welch_p([1.0], b)) and np.isnan(stats.welch_p([1.0, 1.0], [2.0, 2.0]))


def test_pooled_spread_and_difference_by_hand():
    # groups [1, 2, 3] and [4, 6]: squared deviations 2 + 2 over 2 + 1 degrees of freedom;
    # a one-value group adds nothing
    sd, dof = stats.pooled_spread([[1.0, 2.0, 3.0], [4.0, 6.0], [9.0]])
    assert dof == 3 and sd == pytest.approx(np.sqrt(4 / 3))
    assert stats.pooled_spread([[1.0], [2.0]])[1] == 0
    d, lo, hi = stats.pooled_difference([5.0], [3.0], sd=2.0, dof=10)
    # t(0.975, 10) = 2.2281; one seed each: se = 2 * sqrt(2)
    assert d == 2.0 and hi - d == pytest.approx(2.2281 * 2 * np.sqrt(2), rel=1e-4)
    assert np.isnan(stats.pooled_difference([5.0], [3.0], sd=float("nan"), dof=0)[1])


def test_pooled_difference_of_one_seed_cells_covers_at_its_nominal_rate():
    """4000 simulated studies (normal, seeded): two cells of one seed each, their spread
    lent by 8 other cells of 3 seeds (16 degrees of freedom); the 95 % interval of their
    difference covers the true difference (0.02) in 95 % of the studies."""
    rng = np.random.default_rng(1)
    cover = []
    for _ in range(4000):
        others = 0.05 * rng.standard_normal((8, 3))
        sd, dof = stats.pooled_spread(others)
        a, b = 0.82 + 0.05 * rng.standard_normal(1), 0.80 + 0.05 * rng.standard_normal(1)
        _, lo, hi = stats.pooled_difference(a, b, sd, dof)
        cover.append(lo <= 0.02 <= hi)
    assert dof == 16 and 0.94 <= np.mean(cover) <= 0.96


def test_sign_flip_p_values_by_hand():
    # the 8 signed sums of +-1 +-2 +-3 are 6, 4, 2, 0, 0, -2, -4, -6
    assert stats.sign_flip_p([1, 2, 3]) == pytest.approx(2 / 8)
    assert stats.sign_flip_p([3, -1, 2]) == pytest.approx(4 / 8)   # |sum| 4: 6, 4, -4, -6
    assert stats.sign_flip_p([1, 2, -3]) == 1.0
    assert np.isnan(stats.sign_flip_p([]))


def test_two_group_permutation_p_by_hand():
    # of the 20 splits of {1..6} into 3 and 3, only {1,2,3} | {4,5,6} and its mirror
    # differ by 3 in mean
    assert stats.permutation_p([1, 2, 3], [4, 5, 6]) == pytest.approx(2 / 20)
    # |mean difference| >= 1: the splits whose sums differ by >= 3 (sum of a in 6..15)
    sums = [sum(c) for c in __import__("itertools").combinations(range(1, 7), 3)]
    expected = np.mean([abs(s - (21 - s)) / 3 >= 1 - 1e-9 for s in sums])
    assert stats.permutation_p([1, 2, 6], [3, 4, 5]) == pytest.approx(expected)


def test_trend_test_p_values_by_hand():
    x = [1, 2, 3, 4, 5, 6]
    t = stats.trend_test(x, [10, 20, 30, 40, 50, 60])
    assert t["rho"] == pytest.approx(1.0) and t["p"] == pytest.approx(2 / 720)
    # one adjacent swap: rho = 1 - 6 * 2 / 210; as extreme: the identity and the 5 adjacent
    # swaps, each way: 12 of 720
    t = stats.trend_test(x, [1, 2, 3, 4, 6, 5])
    assert t["rho"] == pytest.approx(1 - 12 / 210) and t["p"] == pytest.approx(12 / 720)
    assert t["n_perm"] == 720 and t["k"] == 1
    # three seeds, each perfectly falling: permuted within seed, p = 2 / 720^3
    t = stats.trend_test(x * 3, [6, 5, 4, 3, 2, 1] * 3, strata=np.repeat([0, 1, 2], 6))
    assert t["rho"] == pytest.approx(-1.0) and t["p"] == pytest.approx(2 / 720 ** 3)
    assert t["n_perm"] == 720 ** 3 and t["k"] == 3


def test_stratified_trend_and_within_tests_match_brute_force_enumeration():
    """The convolution gives the same p as listing every within-stratum relabelling."""
    import itertools

    rng = np.random.default_rng(1)
    x = np.tile([1.0, 2.0, 3.0, 4.0], 3)
    y = x + rng.normal(0, 1.5, size=12)
    s = np.repeat([0, 1, 2], 4)
    t = stats.trend_test(x, y, strata=s)

    def mean_rho(yy):
        return np.mean([stats.sps.spearmanr(x[s == k], yy[s == k])[0] for k in range(3)])
    perms = list(itertools.permutations(range(4)))
    null = [mean_rho(np.concatenate([y[s == k][list(p)] for k, p in enumerate(ps)]))
            for ps in itertools.product(perms, repeat=3)]
    assert t["rho"] == pytest.approx(mean_rho(y))
    assert t["p"] == pytest.approx(np.mean(np.abs(null) >= abs(t["rho"]) - 1e-9))

    g = np.repeat([0, 1, 2, 3], 3)          # 4 LRs x 3 seeds
    c = rng.normal(size=12)
    a = -c + rng.normal(0, 1, size=12)
    w = stats.within_rank_test(c, a, g)

    def pooled(aa):
        rc = np.concatenate([stats._ranks_centred(c[g == k]) for k in range(4)])
        ra = np.concatenate([stats._ranks_centred(aa[g == k]) for k in range(4)])
        return rc @ ra / np.sqrt((rc ** 2).sum() * (ra ** 2).sum())
    perms3 = list(itertools.permutations(range(3)))
    null = [pooled(np.concatenate([a[g == k][list(p)] for k, p in enumerate(ps)]))
            for ps in itertools.product(perms3, repeat=4)]
    assert w["rho"] == pytest.approx(pooled(a)) and w["k"] == 4
    assert w["p"] == pytest.approx(np.mean(np.abs(null) >= abs(w["rho"]) - 1e-9))


def test_trend_test_refuses_a_stratum_too_large_to_enumerate():
    with pytest.raises(ValueError, match="at most 8 per stratum"):
        stats.trend_test(range(9), range(9))


def test_contrast_of_two_group_means_is_welchs_test():
    """The difference of two seed means through ``estimate`` and ``contrast`` is Welch's
    interval and p; a difference of two such differences widens by its second part;
    one seed a side gives the point without an interval."""
    a, b = [1.0, 2.0, 3.0, 4.5], [0.0, 0.5, 3.0]
    d, lo, hi, p = stats.contrast(stats.estimate(a), stats.estimate(b))
    assert (d, lo, hi) == pytest.approx(stats.welch_interval(a, b))
    assert p == pytest.approx(stats.welch_p(a, b))
    x, y = stats.welch_estimate(a, b), stats.welch_estimate([5.0, 6.0, 7.5], [0.0, 1.0, 1.5])
    d2, lo2, hi2, p2 = stats.contrast(x, y)
    assert d2 == pytest.approx(x[0] - y[0]) and hi2 - lo2 > hi - lo and 0 < p2 < 1
    assert lo2 < d2 < hi2 and (p2 < 0.05) == (hi2 < 0 or lo2 > 0)
    d1, lo1, hi1, p1 = stats.contrast(stats.estimate([2.0]), stats.estimate(b))
    assert d1 == pytest.approx(2.0 - np.mean(b)) and np.isnan(lo1) and np.isnan(p1)
    assert stats.contrast(stats.estimate([1.0, 1.0]), stats.estimate([0.0, 0.0]))[:3] == (1.0, 1.0, 1.0)
