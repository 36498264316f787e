"""The book's figures: one fixed, distinct colour per LR; legible sizes; legends off the data."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from helpers import plots  # noqa: E402
from helpers.studies import OUTSIDE_LRS  # noqa: E402
from helpers.paper import PAPER_LRS  # noqa: E402


def test_every_lr_of_the_study_has_its_own_colour_and_marker():
    lrs = list(PAPER_LRS) + list(OUTSIDE_LRS)
    colours = [to_hex(plots.lr_colour(lr)) for lr in lrs]
    assert len(set(colours)) == len(lrs) == 8
    assert plots.UNKNOWN_LR_COLOUR not in colours
    assert len({plots.lr_marker(lr) for lr in lrs}) == len(lrs)
    # the same colour whatever float arithmetic produced the LR
    assert plots.lr_colour(0.00075) == plots.lr_colour(0.0015 / 2)
    assert "#f0e442" not in colours  # Okabe-Ito yellow is unreadable on white


def test_style_sets_legible_fonts():
    assert matplotlib.rcParams["xtick.labelsize"] >= 10
    assert matplotlib.rcParams["font.size"] >= 11


def _grid_frame():
    rows = []
    for ds in ("cifar10", "cifar100"):
        for depth in (20, 32, 44, 56):
            for lr in list(PAPER_LRS) + list(OUTSIDE_LRS):
                row = {"dataset": ds, "depth": depth, "lr": lr, "optimizer": "adam",
                       "batch_norm": True, "baseline_accuracy": 0.9 - lr,
                       "A_0.1": 0.95 - 10 * lr}
                for e in (0.01, 0.05, 0.1, 0.2, 0.3, 0.4):
                    row[f"A_{e:g}"] = 1 - e * (1 + 100 * lr)
                rows.append(row)
    return pd.DataFrame(rows)


@pytest.mark.parametrize("draw", [
    lambda df: plots.noise_panels(df, "cifar10"),
    lambda df: plots.tradeoff(df, (("cifar10", 20), ("cifar100", 20))),
])
def test_figures_fit_the_page_and_keep_legends_off_the_axes(draw):
    fig = draw(_grid_frame())
    assert fig.get_figwidth() <= plots.PAGE_WIDTH + 1e-9
    assert not any(ax.get_legend() for ax in fig.axes)  # one figure legend, outside
    assert fig.legends
    fig.canvas.draw()
    legend_box = fig.legends[0].get_window_extent()
    for ax in fig.axes:
        if ax.get_visible():
            assert not legend_box.overlaps(ax.get_window_extent()), ax.get_title()
    plots.plt.close(fig)


def test_noise_panels_draw_every_lr_in_its_colour():
    fig = plots.noise_panels(_grid_frame(), "cifar10")
    ax = fig.axes[0]
    colours = {to_hex(line.get_color()) for line in ax.get_lines()}
    for lr in list(PAPER_LRS) + list(OUTSIDE_LRS):
        assert to_hex(plots.lr_colour(lr)) in colours
    plots.plt.close(fig)


def test_csv_link_carries_the_whole_table():
    import base64

    frame = pd.DataFrame({"lr": [0.001, 0.002], "A_avr": [91.5, np.nan]})
    html = plots.csv_link(frame, "t.csv").data
    payload = html.split("base64,", 1)[1].split('"', 1)[0]
    assert base64.b64decode(payload).decode() == frame.to_csv(index=False)
    assert 'download="t.csv"' in html and "2 rows" in html
