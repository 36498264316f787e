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


def test_one_seed_gives_an_a_avr_interval_from_the_draws_but_no_a0_interval():
    """a0 varies with the seed only: one seed gives it no interval (NaN, and no verdict on
    whether the paper's value lies inside); A_avr still has its noise-draw interval."""
    rng = np.random.default_rng(4)
    one = pd.DataFrame([{**_run(0, 0.001, 0.8, rng), "baseline_accuracy": 0.9}])
    ci = stats.cell_intervals(one, B=50)
    assert np.isnan(ci["baseline_accuracy_lo"].iloc[0]) and np.isnan(ci["baseline_accuracy_hi"].iloc[0])
    assert ci["A_avr_lo"].iloc[0] < ci["A_avr_mean"].iloc[0] < ci["A_avr_hi"].iloc[0]
    two = pd.concat([one, pd.DataFrame([{**_run(1, 0.001, 0.8, rng), "baseline_accuracy": 0.8}])])
    ci2 = stats.cell_intervals(two, B=50)
    assert ci2["baseline_accuracy_lo"].iloc[0] == pytest.approx(0.8)
    assert ci2["baseline_accuracy_hi"].iloc[0] == pytest.approx(0.9)


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
    assert d["hi"].iloc[0] < 0 and d["p_positive"].iloc[0] == 0


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
    assert d["lo"].iloc[0] > 0 and d["p_positive"].iloc[0] > 0.975
    # the per-cell interval of lr 0.002 spans both of its seeds
    ci = stats.cell_intervals(df, metrics=("A_avr",), B=400).set_index("lr")
    assert ci.at[0.002, "A_avr_lo"] < 0.65 and ci.at[0.002, "A_avr_hi"] > 0.78


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
    null = stats.unpaired_difference(same, low, "A_avr", "A_avr", B=500)
    assert null["lo"] < 0 < null["hi"]
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
