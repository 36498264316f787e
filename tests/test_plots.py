"""The book's figures: one fixed, distinct colour per LR; legible sizes; legends off the data."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from helpers.book import plots  # noqa: E402
from helpers.study.studies import OUTSIDE_LRS  # noqa: E402
from helpers.study.paper import PAPER_LRS  # noqa: E402


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


def test_noise_panels_show_one_panel_per_dataset_and_depth_in_the_records():
    df = _grid_frame()
    one = df[(df["dataset"] == "cifar10") & (df["depth"] == 20)]
    fig = plots.noise_panels(one, ("cifar10", "cifar100"))
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["ResNet20 on CIFAR-10"]
    plots.plt.close(fig)
    both = df[df["depth"].isin([20, 56])]
    fig = plots.noise_panels(both)
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == [
        "ResNet20 on CIFAR-10", "ResNet56 on CIFAR-10", "ResNet20 on CIFAR-100", "ResNet56 on CIFAR-100"]
    plots.plt.close(fig)
    fig = plots.noise_panels(one, "cifar100")
    assert [t.get_text() for t in fig.axes[0].texts] == ["no CIFAR-100 records"]
    plots.plt.close(fig)


def test_csv_link_carries_the_whole_table():
    import base64

    frame = pd.DataFrame({"lr": [0.001, 0.002], "A_avr": [91.5, np.nan]})
    html = plots.csv_link(frame, "t.csv").data
    payload = html.split("base64,", 1)[1].split('"', 1)[0]
    assert base64.b64decode(payload).decode() == frame.to_csv(index=False)
    assert 'download="t.csv"' in html and "2 rows" in html


def _theory_table():
    rows = []
    for depth in (20, 32):
        for lr in (0.0005, 0.001):
            for seed in (0, 1):
                C = 100 * depth * lr * (1 + seed)
                rows.append({"key": f"{depth}-{lr}-{seed}", "dataset": "cifar10",
                             "depth": depth, "lr": lr,
                             "optimizer": "adam", "batch_norm": True, "batch_size": 32,
                             "seed": seed, "n_examples": 64, "C": C, "bound": lr ** 2 * C / 32,
                             "A_avr": 0.9 - lr * 100})
    table = pd.DataFrame(rows)
    blocks = {k: {"n_examples": 64, "minibatch": [{"B": B, "measured": C / B, "measured_se": 0.0}
                                                  for B in (4, 16)]}
              for k, C in zip(table["key"], table["C"])}
    return table, blocks


def test_theory_bound_draws_the_seed_mean_per_depth_in_its_colour():
    table, _ = _theory_table()
    fig = plots.theory_bound(table)
    left, right = fig.axes[:2]
    lines = {to_hex(line.get_color()): line for line in left.get_lines()}
    line20 = lines[to_hex(plots.depth_colour(20))]
    assert list(line20.get_xdata()) == pytest.approx([0.5, 1.0])
    assert list(line20.get_ydata()) == pytest.approx([100 * 20 * lr * 1.5 for lr in (0.0005, 0.001)])
    assert right.get_yscale() == "log" and fig.get_figwidth() <= plots.PAGE_WIDTH
    plots.plt.close(fig)


def test_theory_law_divides_each_model_by_its_C_and_draws_the_median_per_depth():
    table, blocks = _theory_table()
    blocks["20-0.001-1"]["minibatch"][0]["measured"] *= 3      # one model off at |B| = 4
    fig = plots.theory_law(table, blocks)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    # one line per depth (the median over its 4 models), not one per model
    median = lines["ResNet20 on CIFAR-10, measured: median of 4 models (band: range)"]
    assert median.get_gid() == "summary"
    assert list(median.get_ydata()) == pytest.approx([1 / 4, 1 / 16])
    band = ax.collections[0].get_paths()[0].vertices[:, 1]      # the range over the models
    assert band.max() == pytest.approx(3 / 4)
    assert sum(lab.startswith("ResNet") for lab in lines) == 2
    assert plots.axis_problems(fig) == []
    plots.plt.close(fig)


def test_theory_figures_draw_each_dataset_in_its_own_style():
    """A second dataset's models get lines of their own (same depth colour, another line
    style and marker), named by model, and the title no longer names one dataset."""
    table, blocks = _theory_table()
    other = table.assign(dataset="cifar100", key=table["key"] + "-100", C=table["C"] * 10,
                         bound=table["bound"] * 10)
    blocks.update({k + "-100": b for k, b in blocks.items()})
    both = pd.concat([table, other], ignore_index=True)
    fig = plots.theory_bound(both)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    ten, hundred = lines["ResNet20 on CIFAR-10"], lines["ResNet20 on CIFAR-100"]
    assert to_hex(ten.get_color()) == to_hex(hundred.get_color()) == to_hex(plots.depth_colour(20))
    assert ten.get_linestyle() != hundred.get_linestyle()
    assert list(hundred.get_ydata()) == pytest.approx([10 * 100 * 20 * lr * 1.5 for lr in (0.0005, 0.001)])
    assert fig._suptitle.get_text() == "gradient-noise constant and the eq. 2 bound"
    plots.plt.close(fig)
    fig = plots.theory_law(both, blocks)
    assert sum(lab.startswith("ResNet") for lab in
               (line.get_label() for line in fig.axes[0].get_lines())) == 4
    plots.plt.close(fig)
    fig = plots.theory_resistance(both)
    markers = {c.get_label(): c.get_paths()[0] for c in fig.axes[0].collections}
    assert len(markers) == 4
    assert plots.theory_resistance(table).axes[0].get_title().startswith("CIFAR-10")
    plots.plt.close("all")


def test_batchnorm_and_optimizer_figures_show_percent():
    bn = pd.DataFrame({"dataset": ["cifar10"] * 2, "depth": [20, 20], "batch_norm": [True, False],
                       "A_avr": [0.7, 0.8], "A_avr_std": [0.01, np.nan]})
    fig = plots.batchnorm(bn)
    ys = [c.lines[0].get_ydata()[0] for c in fig.axes[0].containers]   # with BN, without
    assert ys == pytest.approx([70.0, 80.0])
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "CIFAR-10"   # no empty panel
    plots.plt.close(fig)
    frame = pd.DataFrame({"optimizer": ["adam", "sgd"], "ours_pct": [90.0, 80.0],
                          "paper_pct": [91.0, 85.0]})
    fig = plots.optimizers(frame, frame)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == [90.0, 80.0, 91.0, 85.0]
    plots.plt.close(fig)


def _history(lrs=(0.001, 0.0005), seeds=(0, 1), epochs=6):
    rows = []
    for lr in lrs:
        for seed in seeds:
            for e in range(1, epochs + 1):
                rows.append({"dataset": "cifar10", "depth": 20, "lr": lr, "optimizer": "adam",
                             "batch_norm": True, "seed": seed, "epoch": e,
                             "epoch_lr": lr if e <= 3 else lr / 10, "loss": 1.0 / e,
                             "accuracy": 0.5, "test_accuracy": 0.5 + 0.05 * e + 0.01 * seed})
    return pd.DataFrame(rows)


def test_test_curves_draw_the_seed_mean_per_lr_and_mark_the_lr_drop():
    fig = plots.test_curves(_history())
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}
    assert set(lines) == {"lr = 0.0005", "lr = 0.001"}
    assert ax.get_title() == "ResNet20 on CIFAR-10\n(2 seeds)"
    assert lines["lr = 0.001"].get_ydata()[0] == pytest.approx(100 * (0.55 + 0.005))
    assert to_hex(lines["lr = 0.001"].get_color()) == to_hex(plots.lr_colour(0.001))
    drops = [line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert drops == [pytest.approx(3.5)]
    plots.plt.close(fig)


def test_test_curves_share_one_legend_across_models():
    """Two models, the second with one seed and a no-BN line: one legend for the figure,
    each LR once, no-BN first; each panel's title gives its seeds."""
    other = _history(seeds=(0,)).assign(depth=56)
    nobn = _history(lrs=(0.001,), seeds=(0,)).assign(depth=56, batch_norm=False)
    fig = plots.test_curves(pd.concat([_history(), other, nobn]))
    assert [ax.get_title() for ax in fig.axes] == ["ResNet20 on CIFAR-10\n(2 seeds)",
                                                   "ResNet56 on CIFAR-10\n(1 seed)"]
    assert all(ax.get_legend() is None for ax in fig.axes)
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["lr = 0.001, no BN", "lr = 0.0005",
                                                          "lr = 0.001"]
    plots.plt.close(fig)


def test_tradeoff_draws_the_spread_over_seeds_as_error_bars():
    df = _grid_frame().assign(baseline_accuracy_std=0.01, **{"A_0.1_std": 0.02})
    fig = plots.tradeoff(df, (("cifar10", 20),), paper=False)
    a0_ax, a01_ax = fig.axes[0], fig.axes[1]
    for ax, half in ((a0_ax, 1.0), (a01_ax, 2.0)):      # std in % on each side of the mean
        (bars,) = ax.containers
        lows_highs = bars.lines[2][0].get_segments()
        assert len(lows_highs) == 8
        assert all(abs((hi[1] - lo[1]) - 2 * half) < 1e-9 for lo, hi in lows_highs)
    plots.plt.close(fig)


def test_one_depth_is_a_category_not_a_point_on_a_continuous_axis():
    """Fig. 6.1 drew one x value on an axis from 18.00 to 20.00 in steps of 0.25."""
    bn = pd.DataFrame({"dataset": ["cifar10"] * 2, "depth": [20, 20], "batch_norm": [True, False],
                       "A_avr": [0.7, 0.8], "A_avr_std": [0.01, np.nan]})
    fig = plots.batchnorm(bn)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ResNet20\n(19 BN layers)"]
    assert plots.axis_problems(fig) == []
    plots.plt.close(fig)
    # the same figure with the depth on a continuous axis is refused
    fig, ax = plots.plt.subplots()
    ax.errorbar([19, 19], [70, 80], yerr=[1, 1], fmt="o")
    (problem,) = plots.axis_problems(fig)
    assert "one x value on a continuous axis from 17.955 to 20.045" in problem
    # show() makes it a category (one epoch, one LR of a small study) ...
    plots.one_x_as_category(fig)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["19"]
    assert plots.axis_problems(fig) == []
    plots.plt.close(fig)
    # ... and refuses what it cannot mend
    fig, ax = plots.plt.subplots()
    ax.plot([1, 2], [1e-4, 1e28])
    ax.set_yscale("log")
    with pytest.raises(ValueError, match="fig-x: panel 1: the y axis spans 3"):
        plots.show(fig, "fig-x")


def test_a_log_axis_may_span_at_most_twelve_decades():
    fig, ax = plots.plt.subplots()
    ax.plot([1, 2], [1e-4, 1e8])
    ax.set_yscale("log")
    ax.set_ylim(1e-4, 1e8)                       # 12 decades: allowed
    assert plots.axis_problems(fig) == []
    ax.set_ylim(1e-4, 1e28)                      # the C = 7.5e36 model's Fig. 8.3: refused
    (problem,) = plots.axis_problems(fig)
    assert problem == "panel 1: the y axis spans 32 decades (1e-04 to 1e+28; at most 12)"
    plots.plt.close(fig)


def test_more_than_twelve_lines_need_a_summary():
    fig, ax = plots.plt.subplots()
    for i in range(12):
        ax.plot([1, 2, 3], [i, i + 1, i])
    ax.axvline(2.5, ls=":")                      # a reference line is no data line
    assert plots.axis_problems(fig) == []
    ax.plot([1, 2, 3], [0, 0, 0])
    assert plots.axis_problems(fig) == ["panel 1: 13 overlapping lines and no summary (at most 12)"]
    ax.plot([1, 2, 3], [1, 1, 1], gid="summary")
    assert plots.axis_problems(fig) == []
    plots.plt.close(fig)


def test_the_png_carries_the_description_of_its_axes():
    import json

    from helpers.ops.bookcheck import png_text

    fig, ax = plots.plt.subplots()
    ax.plot([0.5, 1.0], [2.0, 3.0])
    ax.set_title("A")
    data = plots.png(fig)
    assert data.startswith(b"\x89PNG")
    plots.plt.close(fig)
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "f.png").write_bytes(data)
        (facts,) = json.loads(png_text(Path(d) / "f.png")[plots.AXES_KEY])
    assert facts["panel"] == "A" and facts["x_values"] == 2 and facts["lines"] == 1
    assert facts["x"]["scale"] == "linear" and not facts["x"]["categorical"]


def test_the_legend_of_a_row_of_panels_names_every_line_of_every_panel():
    """The legend sits on the last panel but lists the lines of all of them, once each: the
    PCM figure's optimizers at lr 0.00075 are drawn in a CIFAR-10 panel, not the last."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    axes[0].plot([1, 2], [1, 2], label="lr 0.001")
    axes[0].plot([1, 2], [2, 1], label="lr 0.00075 (SGD)")
    axes[1].plot([1, 2], [1, 3], label="lr 0.001")
    plots.end_panels(fig, axes, "y")
    texts = [t.get_text() for t in axes[-1].get_legend().get_texts()]
    assert texts == ["lr 0.001", "lr 0.00075 (SGD)"] and axes[0].get_legend() is None
    plt.close(fig)


def test_pcm_lines_of_other_optimizers_differ_in_style_and_label():
    from helpers.book import pcm_page

    t = pd.DataFrame([{"dataset": "cifar10", "depth": 20, "batch_norm": True, "optimizer": opt,
                       "lr": 0.00075, "t_s": ts, "A_t_pct": 90.0, "low_pct": np.nan,
                       "high_pct": np.nan} for opt in ("adam", "sgd") for ts in (1.0, 3600.0)])
    fig = pcm_page.plot(t)
    ax = fig.axes[0]
    styles = {c.get_label(): c.lines[0].get_linestyle() for c in ax.containers}
    assert set(styles) == {"lr 0.00075", "lr 0.00075 (SGD)"}
    assert styles["lr 0.00075"] != styles["lr 0.00075 (SGD)"]
