"""The paper's metrics, eq. 7-9 (helpers.experiment.metrics), on hand-computed numbers."""

import math

import numpy as np
import pandas as pd
import pytest

from helpers.experiment import metrics


def _sweep(a0=0.8):
    """a0 = 0.8; two noise levels x three repeats."""
    rows = [(0.0, 0, a0),
            (0.1, 0, 0.72), (0.1, 1, 0.76), (0.1, 2, 0.68),
            (0.3, 0, 0.40), (0.3, 1, 0.48), (0.3, 2, 0.56)]
    return pd.DataFrame(rows, columns=["eta", "repeat", "accuracy"])


def test_baseline():
    assert metrics.baseline(_sweep()) == 0.8
    assert isinstance(metrics.baseline(_sweep()), float)


@pytest.mark.parametrize("n_zero", (0, 2))
def test_baseline_needs_exactly_one_eta_zero_row(n_zero):
    df = _sweep()
    df = df[df["eta"] > 0] if n_zero == 0 else pd.concat([df, df[df["eta"] == 0]])
    with pytest.raises(ValueError, match=f"found {n_zero}"):
        metrics.baseline(df)
    with pytest.raises(ValueError, match="eta = 0"):
        metrics.summarize_sweep(df)
    with pytest.raises(ValueError, match="eta = 0"):
        metrics.average_normalized_accuracy(df)


def test_normalized_accuracy():
    np.testing.assert_allclose(metrics.normalized_accuracy([0.4, 0.8, 0.2], 0.8), [0.5, 1.0, 0.25])
    assert metrics.normalized_accuracy(0.3, 0.6) == pytest.approx(0.5)
    out = metrics.normalized_accuracy([0.1, 0.2], 0.0)
    assert out.shape == (2,) and np.isnan(out).all()


def test_summarize_sweep_by_hand():
    s = metrics.summarize_sweep(_sweep())
    assert list(s["eta"]) == [0.1, 0.3]
    assert list(s["n"]) == [3, 3]
    # a^0.1 = (0.72 + 0.76 + 0.68) / 3 = 0.72 ; a^0.3 = (0.40 + 0.48 + 0.56) / 3 = 0.48
    np.testing.assert_allclose(s["a_x"], [0.72, 0.48])
    # sample std: eta 0.1 deviations 0, 0.04, -0.04 -> sqrt(0.0032 / 2) = 0.04
    #             eta 0.3 deviations -0.08, 0, 0.08  -> sqrt(0.0128 / 2) = 0.08
    np.testing.assert_allclose(s["a_x_std"], [0.04, 0.08])
    # A^x = a^x / a0 with a0 = 0.8
    np.testing.assert_allclose(s["A_x"], [0.9, 0.6])
    np.testing.assert_allclose(s["A_x_std"], [0.05, 0.1])


def test_average_normalized_accuracy_by_hand():
    a_avr, spread = metrics.average_normalized_accuracy(_sweep())
    # A_avr = mean(0.9, 0.6) = 0.75
    assert a_avr == pytest.approx(0.75)
    # per repeat: r0 (0.72 + 0.40) / 2 = 0.56 -> 0.70 ; r1 (0.76 + 0.48) / 2 = 0.62 -> 0.775
    #             r2 (0.68 + 0.56) / 2 = 0.62 -> 0.775 ; mean 0.75
    # sample std = sqrt(((-0.05)^2 + 0.025^2 + 0.025^2) / 2) = sqrt(0.001875)
    assert spread == pytest.approx(math.sqrt(0.001875))
    assert spread == pytest.approx(np.std([0.70, 0.775, 0.775], ddof=1))


def test_a_avr_is_mean_over_etas_not_over_rows():
    # unequal repeats per eta: the mean over etas differs from the mean over rows
    rows = [(0.0, 0, 0.5), (0.1, 0, 0.5), (0.2, 0, 0.1), (0.2, 1, 0.1), (0.2, 2, 0.1)]
    df = pd.DataFrame(rows, columns=["eta", "repeat", "accuracy"])
    a_avr, _ = metrics.average_normalized_accuracy(df)
    assert a_avr == pytest.approx((1.0 + 0.2) / 2)


def test_row_order_does_not_matter():
    df = _sweep().sample(frac=1.0, random_state=3)
    assert metrics.average_normalized_accuracy(df) == pytest.approx((0.75, math.sqrt(0.001875)))
    np.testing.assert_allclose(metrics.summarize_sweep(df)["A_x"], [0.9, 0.6])


def test_zero_baseline_gives_nan():
    df = _sweep(a0=0.0)
    s = metrics.summarize_sweep(df)
    assert s["A_x"].isna().all() and s["A_x_std"].isna().all()
    np.testing.assert_allclose(s["a_x"], [0.72, 0.48])  # a^x is still defined
    a_avr, spread = metrics.average_normalized_accuracy(df)
    assert math.isnan(a_avr) and math.isnan(spread)


def test_single_repeat_has_no_spread():
    rows = [(0.0, 0, 0.5), (0.1, 0, 0.4), (0.2, 0, 0.3)]
    df = pd.DataFrame(rows, columns=["eta", "repeat", "accuracy"])
    a_avr, spread = metrics.average_normalized_accuracy(df)
    assert a_avr == pytest.approx((0.8 + 0.6) / 2)
    assert math.isnan(spread)
    assert metrics.summarize_sweep(df)["a_x_std"].isna().all()
