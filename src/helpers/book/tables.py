"""The book's tables: frames shaped for a page, and shown numbered and captioned (``numbered``).

Numbers come from the run records (``page.load_study``) and from the helpers that
compute on them (``claims``, ``stats``, ``paper``, ``theory``); this module only
selects, pivots, renames and formats. Accuracies are shown in % and differences in
percentage points (pp).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..experiment import recipe
from ..study import claims, paper, results, stats, studies, training_length
from ..study.breakage import sentence as breakage_sentence
from ..study.studies import ROW_ORDER
from ..study.words import plural
from ..experiment.noise_model import MECHANISM, PAPER, label
from .typeset import Markdown, typeset



def _lr_index(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.index = [f"{lr:g}" for lr in frame.index]
    frame.index.name = "lr"
    return frame


def _cell(x, fmt: str, column: str = "") -> str:
    if x is None or x is pd.NA:
        return "–"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, str) and (named := recipe.name(column, x)) != x:
        # a non-breaking hyphen: "CIFAR-10" never wraps in a narrow cell
        return named.replace("-", "\u2011")
    if isinstance(x, (float, np.floating)):
        return "–" if np.isnan(x) else fmt.format(x)
    # a mean ± std stays on one line (no-break spaces); a '|' would end the cell; the
    # helpers' plain-text maths (A_avr, rho) typeset
    return typeset(str(x)).replace(" ± ", "\u00a0±\u00a0").replace("|", "\\|")


# column names of the helpers' frames as a table's header says them
HEADERS = {"ours_pct": "ours (%)", "std_pp": "std (pp)", "ci_low_pct": "95 % low",
           "ci_high_pct": "95 % high", "paper_pct": "paper (%)",
           "paper_in_ci": "paper in interval", "n": "seeds", "n_diverged": "diverged",
           "p_positive": "P(>\u00a00)", "batch_norm": "BN"}


def numbered(frame: pd.DataFrame, caption: str, name: str, precision: int = 2,
             fmt: str | None = None):
    """A table as the book shows it, numbered and captioned ("Table 4.1", linkable as
    {numref}`name`): a MyST ``table`` directive (colon fence) around a Markdown table of
    ``frame``'s columns (not its index; headers as ``HEADERS`` says them, datasets and
    optimizers as ``recipe.name`` does, a truth value as yes or no; the plain-text maths of
    caption, headers and cells typeset, ``typeset``). Numbers get ``precision``
    decimals (or ``fmt``, e.g. "{:.4g}"), LRs are as written (0.0005), and an undefined
    value (e.g. a spread over one seed) is a dash. Pages parse Markdown
    output as MyST (``_config.yml``)."""
    from IPython.display import Markdown

    if not name.startswith("tbl-"):
        raise ValueError(f"name={name!r}: a table's name starts with 'tbl-' (e.g. 'tbl-table2')")
    fmt = fmt or f"{{:.{precision}f}}"
    cols = [str(c) for c in frame.columns]
    rows = [[_cell(x, "{:g}" if c == "lr" else fmt, c) for c, x in zip(cols, r)]
            for r in frame.itertuples(index=False)]
    lines = ["| " + " | ".join(_cell(HEADERS.get(c, c), fmt) for c in cols) + " |",
             "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    # a colon fence, since a backtick fence's first line may not hold a backtick
    return Markdown(f":::{{table}} {typeset(caption)}\n:name: {name}\n\n" + "\n".join(lines)
                    + "\n:::")


def fixed(frame: pd.DataFrame, columns=("dataset", "depth", "optimizer", "batch_norm")
          ) -> tuple[pd.DataFrame, str]:
    """``frame`` without those of ``columns`` that hold one value in every row, and those
    values said for a caption ("CIFAR-10, ResNet20, Adam, with BN: "; "" when none is
    fixed): a column that repeats one value only widens a table."""
    said, drop = [], []
    for c in columns:
        if c in frame and len(frame) and frame[c].nunique(dropna=False) == 1:
            v = frame[c].iloc[0]
            said.append(f"ResNet{v}" if c == "depth" else
                        ("with BN" if v else "without BN") if c == "batch_norm" else
                        plural(int(v), "seed") if c == "seeds" and str(v).isdigit() else
                        f"{v} seeds" if c == "seeds" else recipe.name(c, v))
            drop.append(c)
    return frame.drop(columns=drop), (", ".join(said) + ": " if said else "")


def per_dataset(table: pd.DataFrame, caption: str, name: str) -> list:
    """``numbered`` tables, one per dataset of a table with a ``dataset`` column (e.g.
    ``paper.with_intervals``: Table II, Table III), ready for ``display(*...)``; each
    caption starts with its dataset and each name ends with it, and says which rows are
    indicative only (``few_seeds``)."""
    return [numbered(t.drop(columns="dataset"),
                     f"{recipe.name('dataset', dataset)}: {caption}{few_seeds(t)}",
                     f"{name}-{dataset}") for dataset, t in table.groupby("dataset")]


def per_model(table: pd.DataFrame, caption: str, name: str, fixed_too=(),
              seeds: str | None = None, **kw) -> list:
    """``numbered`` tables, one per model (dataset and depth) of ``table``, so that each
    fits the text column: the model (and any of ``fixed_too`` that holds one value) said
    at the head of its caption (``fixed``), and, with a ``seeds`` column named, which rows
    are indicative only (``few_seeds``); the first model (the reference dataset first,
    then by depth) is named ``name``, another ``name-<dataset>-resnet<depth>``."""
    models = table[["dataset", "depth"]].drop_duplicates()
    order = {d: i for i, d in enumerate(studies.dataset_order(models["dataset"].unique()))}
    models = sorted(models.itertuples(index=False), key=lambda m: (order[m.dataset], m.depth))
    shown = []
    for i, m in enumerate(models):
        rows = table[(table["dataset"] == m.dataset) & (table["depth"] == m.depth)]
        t, said = fixed(rows, ("dataset", "depth", *fixed_too))
        shown.append(numbered(t, said + caption + (few_seeds(rows, seeds) if seeds else ""),
                              name if i == 0 else
                              f"{name}-{m.dataset}-resnet{m.depth}", **kw))
    return shown


def few_seeds(table: pd.DataFrame, column: str = "n") -> str:
    """What a caption adds when rows of ``table`` (seeds per row in ``column``) rest on
    fewer than ``claims.MIN_SEEDS`` training seeds: " Indicative only: 1 training seed per
    row ..." ("" when none does)."""
    if column not in table or not len(table):
        return ""
    n = table[column].astype(int)
    few = n[n < claims.MIN_SEEDS]
    if few.empty:
        return ""
    rows = "every row" if len(few) == len(n) else f"{plural(len(few), 'row')} of {len(n)}"
    return (f" *Indicative only: {claims.plural_range(few, 'training seed')} in {rows} "
            f"(a verdict needs >= {claims.MIN_SEEDS}).*")


def paired_pp(paired: pd.DataFrame) -> pd.DataFrame:
    """``stats.paired_differences`` in percentage points, with its t-interval and exact
    sign-flip p-value; the secondary bootstrap columns are left out of the page."""
    out = paired.drop(columns=[c for c in ("boot_lo", "boot_hi", "p_positive") if c in paired])
    return out.assign(**{c: 100 * out[c] for c in ("delta", "lo", "hi")}).rename(
        columns={"delta": "difference (pp)", "lo": "low (pp)", "hi": "high (pp)"})


def nonfinite(runs: pd.DataFrame) -> pd.DataFrame | None:
    """Mean share (%) of test images with a non-finite output, per (dataset, depth,
    optimizer, BN, LR) and noise level, over the seeds; None when no record holds the
    fractions. (Another optimizer at an LR of the grid is a cell of its own.)"""
    cols = sorted((c for c in runs if c.startswith("nonfinite_")), key=lambda c: float(c[10:]))
    if not cols:
        return None
    nf = runs.groupby(["dataset", "depth", "optimizer", "batch_norm", "lr"])[cols].mean()
    nf.columns = [f"eta = {c[10:]}" for c in cols]
    return (100 * nf).round(2)


def cell_readings(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per cell (dataset, depth, optimizer, BN, LR): its number of seeds, a0, and
    A_avr under every noise reading the runs measured, each as seed mean ± std in %
    (``pm``). A model without BN has one sweep for the trainable and folded readings
    (``claims.under_reading``), shown under both."""
    readings = {PAPER.name: "A_avr", **{c.split("|", 1)[1]: c for c in runs
                                        if c.startswith("A_avr|") and runs[c].notna().any()}}
    runs = runs.assign(**{readings[r]: claims.under_reading(runs, r)["A_avr"]
                          for r in claims.READINGS.values() if r in readings and r != PAPER.name})
    cols = ["baseline_accuracy", *readings.values()]
    g = runs.groupby(["dataset", "depth", "optimizer", "batch_norm", "lr"])
    mean, std = g[cols].mean(), g[cols].std(ddof=1)
    out = pd.DataFrame({"seeds": g["seed"].nunique()})
    out["a0"] = [pm(m, s) for m, s in zip(mean["baseline_accuracy"], std["baseline_accuracy"])]
    for name, c in readings.items():
        out[f"A_avr {label(name)}"] = [pm(m, s) for m, s in zip(mean[c], std[c])]
    return out.reset_index()


def ablation(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """A_avr per noise reading over the runs that swept every reading (``noise_ablation``):
    (``cell_readings`` of those runs, the seed means in % per dataset, depth and LR for a
    CSV file); None when fewer than two readings were measured."""
    cols = {PAPER.name: "A_avr",
            **{c.split("|", 1)[1]: c for c in runs if c.startswith("A_avr|")}}
    have = {name: c for name, c in cols.items() if c in runs and runs[c].notna().any()}
    if len(have) < 2:
        return None
    swept = runs[runs["noise_ablation"] == True]  # noqa: E712  (a column of booleans)
    m = swept.groupby(["dataset", "depth", "lr"])[list(have.values())].mean()
    m.columns = list(have)
    full = (100 * m).round(2).reset_index()
    return cell_readings(swept), full


def reading_verdicts(readings: pd.DataFrame) -> pd.DataFrame:
    """``claims.across_readings`` as a table: one row per claim (with its short name), one
    column per reading, the paper's first (``claims.READINGS``' order); a verdict that
    rests on a test carries its p-value (exact permutation for claims 3 and 7, Welch's
    t-test for claim 8: ``P_TESTS``)."""
    if "p" in readings:
        readings = readings.assign(verdict=[
            v + (f" (p = {claims._p(p)})" if pd.notna(p) else "")
            for v, p in zip(readings["verdict"], readings["p"])])
    t = readings.pivot(index="claim", columns="reading", values="verdict").reset_index()
    order = [r for r in claims.READINGS if r in t] + [r for r in t if r not in claims.READINGS
                                                      and r != "claim"]
    return t.assign(claim=[f"{c}. {claims.NAMES[c]}" for c in t["claim"]])[["claim", *order]]


def readings_caption(records: pd.DataFrame, claim: int) -> str:
    """The caption of one claim's table under each noise reading, with the caveat of the
    cells its verdicts rest on (``claims.claim_caveat``; the same cells under every
    reading), so that a verdict in the table reads as indicative where it is."""
    why = claims.claim_caveat(records, claim)
    return (f"Claim {claim} under each noise reading." + P_TESTS.get(claim, "")
            + (f" Indicative only: {why}." if why else ""))


# what the p column of a claim's verdicts is (``claims.across_readings``), for a caption
P_TESTS = {3: " p: the largest p of the models' exact permutation tests of the trend (LR "
              "labels permuted within seeds), the test behind the value; where two depths are "
              "compared, their t-intervals decide the depth half (in the statement).",
           7: " p: the exact permutation test within an LR (A_avr permuted across its seeds).",
           8: " p: the largest Welch t-test p of the models' BN gaps (each model's exact "
              "permutation p is in the statistic); where two depths are compared, their "
              "t-intervals decide the depth half (in the statement)."}


def batchnorm(means: pd.DataFrame) -> pd.DataFrame:
    """The seed means of the batchnorm study with their number of ``BN layers`` (0
    without BN), for its figure."""
    bn = studies.select(means, "batchnorm").copy()
    bn["BN layers"] = [claims.bn_layers(d) if b else 0
                       for d, b in zip(bn["depth"], bn["batch_norm"])]
    return bn


def pm(mean: float, std: float) -> str:
    """A seed mean ± its std, fractions shown in %: "83.91 ± 0.20"; "78.29 ± –" for one
    seed (no spread), "–" for no value."""
    if not np.isfinite(mean):
        return "–"
    return f"{100 * mean:.2f} ± " + (f"{100 * std:.2f}" if np.isfinite(std) else "–")


def batchnorm_gaps(records: pd.DataFrame, B: int = stats.B_DEFAULT) -> pd.DataFrame:
    """Per dataset, depth and noise reading (``claims.READINGS``): a0 and A_avr with and
    without BN (seed mean ± std, %), the A_avr gap without minus with BN in pp with its 95 %
    Welch t-interval and exact permutation p-value (``stats.unpaired_difference``), and the
    seeds behind each side.
    A model without BN has one sweep for every reading (``claims.under_reading``)."""
    runs = claims.completed(studies.select(records, "batchnorm"))
    rows = []
    for (ds, depth), g in runs.groupby(["dataset", "depth"]):
        with_bn, without = g[g["batch_norm"].astype(bool)], g[~g["batch_norm"].astype(bool)]
        if with_bn.empty or without.empty:
            continue
        for name, reading in claims.READINGS.items():
            col = "A_avr" if (with_bn["reading"] == reading).all() else f"A_avr|{reading}"
            if col not in with_bn:
                continue
            d = stats.unpaired_difference(without, with_bn, "A_avr", col, B=B)
            rows.append({"dataset": ds, "depth": depth, "reading": name,
                         "seeds with / without BN": f"{d['n_b']} / {d['n_a']}",
                         "a0 with BN": pm(with_bn["baseline_accuracy"].mean(),
                                           with_bn["baseline_accuracy"].std()),
                         "a0 without BN": pm(without["baseline_accuracy"].mean(),
                                              without["baseline_accuracy"].std()),
                         "A_avr with BN": pm(with_bn[col].mean(), with_bn[col].std()),
                         "A_avr without BN": pm(without["A_avr"].mean(), without["A_avr"].std()),
                         "gap (pp)": 100 * d["delta"], "low (pp)": 100 * d["lo"],
                         "high (pp)": 100 * d["hi"], "p (exact)": d["p"]})
    return pd.DataFrame(rows)


def gap_interval(gaps: pd.DataFrame) -> pd.DataFrame:
    """``batchnorm_gaps`` for a page: the 95 % interval in one column ("+2.8 to +70.2"),
    not two."""
    return gaps.drop(columns=["low (pp)", "high (pp)"]).assign(**{
        "gap (pp)": [f"{v:+.1f}" for v in gaps["gap (pp)"]],
        "95 % interval (pp)": [f"{lo:+.1f} to {hi:+.1f}" if pd.notna(lo) else "–"
                               for lo, hi in zip(gaps["low (pp)"], gaps["high (pp)"])]})[
        [c for c in gaps if c not in ("low (pp)", "high (pp)", "p (exact)")]
        + ["95 % interval (pp)", "p (exact)"]]


def batchnorm_sentence(gaps: pd.DataFrame) -> str:
    """How far A_avr moves without BN, under each reading, with its interval (one
    sentence per dataset and depth of ``batchnorm_gaps``)."""
    if gaps.empty:
        return "No depth was trained both with and without BN."
    out = []
    for (ds, depth), g in gaps.dropna(subset=["gap (pp)"]).groupby(["dataset", "depth"]):
        said = [claims.READING_PHRASES.get(r, f"under the {r} reading") for r in g["reading"]]
        parts = [f"{abs(r['gap (pp)']):.1f} pp {'higher' if r['gap (pp)'] > 0 else 'lower'} "
                 f"{how}" + (f" (95 % interval {r['low (pp)']:+.1f} to {r['high (pp)']:+.1f})"
                             if pd.notna(r["low (pp)"]) else "")
                 for how, (_, r) in zip(said, g.iterrows())]
        excl = [how for how, (_, r) in zip(said, g.iterrows())
                if r["low (pp)"] <= 0 <= r["high (pp)"]]
        first = g.iloc[0]
        a0 = [first[c].removesuffix(" ± –") for c in ("a0 with BN", "a0 without BN")]
        out.append(f"{studies.model_name(ds, depth)}: $a_0$ is {a0[0]} % with BN and {a0[1]} % "
                   "without. Without BN, $A_{avr}$ is " + "; ".join(parts) + "."
                   + (f" The interval includes 0 {claims.and_list(excl)}." if excl else
                      " No interval includes 0." if g["low (pp)"].notna().any() else
                      f" No interval: {first['seeds with / without BN']} seeds with / without "
                      "BN (Welch's interval needs two on each side)."))
    return " ".join(out)


def training_sentence(hist: pd.DataFrame, last: int = 4) -> str:
    """How much the test accuracy still moved in the last ``last`` epochs (per run, then
    the mean and the largest over runs), and where the schedule dropped the LR, from
    ``results.histories``: does the compressed schedule leave the models converged?"""
    if hist.empty:
        return "No record holds a training history."
    runs = hist.groupby(results.RUN)
    gain = 100 * runs["test_accuracy"].apply(
        lambda t: t.iloc[-1] - t.iloc[-1 - last] if len(t) > last else np.nan).dropna()
    drops = results.lr_drops(hist)
    epochs = int(hist["epoch"].max())
    if gain.empty:
        return (f"The runs are {epochs} epoch{'s' if epochs > 1 else ''} long: too short to "
                "judge convergence.")
    schedule = (f"The step schedule lowers the LR after epoch{'s' if len(drops) > 1 else ''} "
                + ", ".join(str(d) for d in drops) + f" of {epochs}." if drops else
                f"The LR stays constant for the {epochs} epochs.")
    return (schedule + f" Over the last {last} "
            f"epochs, the test accuracy of a run changed by {gain.mean():+.2f} pp on average "
            f"(largest change {gain.abs().max():.2f} pp, over {len(gain)} runs).")


def optimizers(means: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(a0, A_avr): the optimizers at lr = 0.00075 beside the paper's Figure 3, in %,
    for its figure."""
    return paper.beside(means, "figure3_a0"), paper.beside(means, "figure3_aavr")


def optimizers_run_sentence(done: pd.DataFrame) -> str:
    """Which of Figure 3's optimizers have completed records (with their seeds) and which
    have none, so that the page never reads as if all six were run."""
    design = studies.STUDIES["optimizers"]
    runs = studies.select(done, "optimizers") if len(done) else done
    seeds = runs.groupby("optimizer")["seed"].nunique() if len(runs) else pd.Series(dtype=int)
    ran = [f"{recipe.name('optimizer', o)} ({plural(int(seeds[o]), 'seed')})"
           for o in design.optimizers if o in seeds.index]
    missing = [recipe.name("optimizer", o) for o in design.optimizers if o not in seeds.index]
    if not ran:
        return f"No optimizer of Figure 3 has a completed record at lr = {design.lrs[0]:g} yet."
    return (f"Completed records at lr = {design.lrs[0]:g}: {claims.and_list(ran)}."
            + (f" {claims.and_list(missing)} {'has' if len(missing) == 1 else 'have'} none "
               "yet: the tables, the figure and claim 5 leave "
               f"{'it' if len(missing) == 1 else 'them'} out." if missing else ""))


def batchnorm_run_sentence(done: pd.DataFrame) -> str:
    """Which models of the BN study (every depth and dataset, with and without BN, at its
    one LR) have completed records, with their seeds on each side, so that the page never
    reads as if every depth were run."""
    design = studies.STUDIES["batchnorm"]
    runs = studies.select(done, "batchnorm") if len(done) else done
    if runs.empty:
        return f"No model of the BN study has a completed record at lr = {design.lrs[0]:g} yet."
    parts = []
    for (ds, depth), g in runs.groupby(["dataset", "depth"]):
        n = g.groupby(g["batch_norm"].astype(bool))["seed"].nunique()
        with_bn, without = int(n.get(True, 0)), int(n.get(False, 0))
        parts.append(f"{claims.model_name(ds, depth)} "
                     f"({plural(with_bn, 'seed') if with_bn else 'none'} with BN, "
                     f"{without or 'none'} without)")
    n_design = len(design.datasets) * len(design.depths)
    return (f"Completed records at lr = {design.lrs[0]:g}: {claims.and_list(parts)}; "
            f"{n_design - len(parts)} of the design's {n_design} models (depths "
            f"{claims.and_list(design.depths)} on {len(design.datasets)} datasets) have none "
            "yet. Only a model with records on both sides enters the comparison below.")


def convergence_sentence(conv: pd.DataFrame) -> str:
    """What ``training_length.convergence`` says, as a sentence: which optimizers are far
    from converged after the profile's epochs (their final training accuracy against
    Adam's), or that none is; "" without Adam and another optimizer to compare."""
    if len(conv) < 2 or conv["gap_pp"].isna().all():
        return ""
    ref = conv.loc[conv["optimizer"] == "adam"].iloc[0]
    far = conv[conv["far"]]
    epochs = claims.and_list(sorted(int(e) for e in conv["epochs"].unique()), "or")
    if far.empty:
        return (f"After {epochs} epochs every optimizer's final training accuracy lies within "
                f"{training_length.FAR_PP:g} pp of Adam's ({100 * ref['train_accuracy']:.1f} %).")
    names = claims.and_list(f"{recipe.name('optimizer', r.optimizer)} "
                            f"({100 * r.train_accuracy:.1f} %)" for r in far.itertuples())
    return (f"**Far from converged after {epochs} epochs:** {names}, against Adam's "
            f"{100 * ref['train_accuracy']:.1f} % final training accuracy (more than "
            f"{training_length.FAR_PP:g} pp below). Their $a_0$ and $A_{{avr}}$ describe models "
            "that have not fitted their training data yet, so the comparison with the "
            "adaptive optimizers mixes the optimizer with the training length.")


def theory_c(table: pd.DataFrame) -> pd.DataFrame:
    """C (seed median: one wild seed does not move it) per LR (rows) and depth (columns) of
    the Adam models with BN; with several datasets, a column per model ("ResNet20 on
    CIFAR-100"), the reference dataset first. ``table``: ``theory.from_records``."""
    g = table[(table["optimizer"] == "adam") & table["batch_norm"].astype(bool)]
    if "dataset" not in g:
        g = g.assign(dataset=recipe.REFERENCE_DATASET)
    c = g.pivot_table(index="lr", columns=["dataset", "depth"], values="C", aggfunc="median")
    order = studies.dataset_order(g["dataset"].unique())
    keys = sorted(c.columns, key=lambda k: (order.index(k[0]), k[1]))
    several = len(order) > 1
    c = c[keys]
    c.columns = [studies.model_name(*k) if several else f"ResNet{k[1]}" for k in keys]
    return _lr_index(c)


def theory_models(table: pd.DataFrame) -> pd.DataFrame:
    """Every model's C, ||grad L_D||^2, eq. 2 bound and A_avr (the page's CSV file), with
    whether its C is flagged as non-physical (``theory.nonphysical``)."""
    return table.sort_values(["optimizer", "batch_norm", "depth", "lr", "seed"])[
        (["dataset"] if "dataset" in table else [])
        + ["depth", "lr", "optimizer", "batch_norm", "batch_size", "seed", "n_examples", "C",
           "grad_mean_sq_norm", "bound", "A_avr"]
        + (["nonphysical"] if "nonphysical" in table else [])].rename(
        columns={"grad_mean_sq_norm": "grad_L_D_sq_norm", "bound": "alpha2_C_over_B"})


def nonfinite_sentence(table: pd.DataFrame | None) -> str:
    """Where the non-finite outputs are: the models that had any, with their worst level."""
    if table is None:
        return "No record holds the non-finite fractions."
    worst = table.max(axis=1)
    broken = worst[worst > 0]
    if broken.empty:
        return "No noisy model gave a non-finite output."
    several = table.index.get_level_values("dataset").nunique() > 1

    def model(ds, depth):
        return claims.model_name(ds, depth) if several else f"ResNet{depth}"
    parts = [f"{model(ds, depth)}{'' if opt == 'adam' else ' (' + recipe.name('optimizer', opt) + ')'} "
             f"{'with' if bn else 'without'} BN at lr = {lr:g} "
             f"({table.loc[(ds, depth, opt, bn, lr)].idxmax()}: {broken[(ds, depth, opt, bn, lr)]:.0f} %)"
             for ds, depth, opt, bn, lr in broken.index]
    return (f"{len(broken)} of {len(table)} models had non-finite outputs (the level where "
            "they were most frequent in brackets): " + "; ".join(parts) + ".")


def breakage(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """``scripts/bn_breakage.py``'s table per model (dataset, depth, where the file has
    them) and LR (rows) and eta (columns): the chance of a broken draw that the BN
    variances predict and the share observed in the sweeps (%, seed means) in one cell,
    "predicted / observed" (a column per eta: every level fits the page), and a sentence
    comparing the expected and observed counts of broken draws."""
    t = frame.assign(predicted=100 * frame["p_predicted"], observed=100 * frame["broken_observed"])
    keys = [c for c in ("dataset", "depth", "optimizer") if c in t] + ["lr"]
    m = t.pivot_table(index=keys, columns="eta", values=["predicted", "observed"]).round(1)
    etas = sorted(frame["eta"].unique())
    index = m.index.to_frame(index=False).assign(lr=lambda f: [f"{lr:g}" for lr in f["lr"]])
    table = pd.DataFrame({f"eta = {eta:g}": [f"{a:.1f} / {b:.1f}" for a, b in
                                             zip(m[("predicted", eta)], m[("observed", eta)])]
                          for eta in etas},
                         index=pd.MultiIndex.from_frame(index) if len(keys) > 1 else
                         pd.Index(index["lr"], name="lr"))
    p, n = frame["p_predicted"], frame["n_draws"]
    expected, sd = float((p * n).sum()), float(np.sqrt((p * (1 - p) * n).sum()))
    seen = int(round((frame["broken_observed"] * n).sum()))
    return table, (f"Over {frame['key'].nunique()} models and {int(n.sum())} draws, the BN "
                   f"variances predict {expected:.1f} ± {sd:.1f} broken draws (binomial "
                   f"standard deviation); the sweeps saw {seen}.")




def shared_cells(records: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Each study's records (name -> records) on the cells (``studies.ROW_ORDER``) that all of them
    ran; a ValueError naming ``records`` when they share none."""
    keys = [set(map(tuple, r[ROW_ORDER].itertuples(index=False))) for r in records.values()]
    common = set.intersection(*keys)
    if not common:
        raise ValueError(f"records: the studies {list(records)} share no cell "
                         f"({', '.join(ROW_ORDER)})")
    return {name: r[[k in common for k in r[ROW_ORDER].itertuples(index=False)]]
            for name, r in records.items()}


def across_studies(records: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two or more studies (name -> records) on the cells they all ran (``shared_cells``):
    per cell, each study's seeds, a0 and A_avr under the three readings of
    ``claims.READINGS`` (``cell_readings``, columns "<what> | <study>"), and claim 3 under
    each reading per study (``claims.across_readings``). The same cells on both sides,
    so that a difference is the hardware, backend or schedule, not the grid."""
    shown = ["seeds", "a0", *(f"A_avr {label(r)}" for r in claims.READINGS.values())]
    cells, verdicts = None, []
    for name, r in shared_cells(records).items():
        t = cell_readings(r)
        t = t[ROW_ORDER + [c for c in shown if c in t]].rename(
            columns={c: f"{c} | {name}" for c in shown})
        cells = t if cells is None else cells.merge(t, on=ROW_ORDER)
        verdicts.append(claims.across_readings(r, claims=(3,)).assign(study=name))
    order = [f"{c} | {n}" for c in shown for n in records if f"{c} | {n}" in cells]
    v = pd.concat(verdicts).pivot(index="reading", columns="study", values="verdict")
    v = v.loc[[r for r in claims.READINGS if r in v.index], list(records)]
    return cells[ROW_ORDER + order], v.reset_index()


def across_claim3(records: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Claim 3 per reading (rows) and study (columns) on the studies' shared cells, each
    verdict with its trend test's rho and exact p, so that a verdict that differs between
    the studies shows whether the trend or only the power differs (a study of one seed
    reaches p < 0.05 less easily)."""
    rows = []
    for name, r in shared_cells(records).items():
        for x in claims.across_readings(r, claims=(3,)).itertuples():
            said = ("" if pd.isna(x.value) else f" (rho {x.value:+.2f}"
                    + ("" if pd.isna(x.p) else f", p = {x.p:.2g}") + ")")
            rows.append({"reading": x.reading, "study": name, "claim 3": x.verdict + said})
    v = pd.DataFrame(rows).pivot(index="reading", columns="study", values="claim 3")
    return v.loc[[r for r in claims.READINGS if r in v.index], list(records)].reset_index()


def by_study(cells: pd.DataFrame) -> pd.DataFrame:
    """``across_studies``' cells with one row per LR and study (columns "<what> | <study>"
    stacked into a ``study`` column), so that the studies' numbers sit one above the other
    and the table stays as narrow as one study's."""
    studies_ = list(dict.fromkeys(c.split(" | ", 1)[1] for c in cells if " | " in c))
    whats = list(dict.fromkeys(c.split(" | ", 1)[0] for c in cells if " | " in c))
    keys = [c for c in cells if " | " not in c]
    rows = [{**{k: r[k] for k in keys}, "study": name,
             **{w: r.get(f"{w} | {name}") for w in whats}}
            for _, r in cells.iterrows() for name in studies_]
    return pd.DataFrame(rows, columns=[*keys, "study", *whats])


def across_sentence(records: dict[str, pd.DataFrame], verdicts: pd.DataFrame) -> str:
    """``across_studies`` in a sentence: the mean a0 gap between the last study and the
    first over their shared cells (pp, with its t-interval and range over the cells), and
    under which
    readings claim 3 comes out the same in all of them."""
    (first, a), *_, (last, b) = shared_cells(records).items()
    ma, mb = (r.groupby(ROW_ORDER)["baseline_accuracy"].mean() for r in (a, b))
    gap = 100 * (mb - ma).dropna()
    same = [r for r, row in verdicts.set_index("reading").iterrows() if row.nunique() == 1]
    differ = [r for r in verdicts["reading"] if r not in same]
    mean, lo, hi, n = stats.t_interval(gap)
    spread = ("" if n < 2 else f" [{lo:+.2f}, {hi:+.2f}] (95 % t-interval over the cells,"
              f" which differ in LR; from {gap.min():+.2f} to {gap.max():+.2f} pp by cell)")
    text = (f"Over the {claims.plural(len(gap), 'shared cell')}, $a_0$ of the {last} study is "
            f"{mean:+.2f} pp from the {first} study's{spread}. Claim 3 comes out the same "
            "in both ")
    if not differ:
        return text + f"under all {len(same)} noise readings ({claims.and_list(same)})."
    return text + (f"under the readings {claims.and_list(same)}, " if same else "under no reading, ") \
        + f"not under {claims.and_list(differ)}."


def breakage_table(cell_table: pd.DataFrame) -> pd.DataFrame:
    """``breakage.cells`` for a page: one row per reading (by its label) and cell (dataset,
    depth, BN, LR), in %: seeds, the
    share of broken draws and A_avr (seed mean ± std, ``pm``'s format: a dash for
    one seed), A_avr over the unbroken draws (pooled over the seeds; "–" unless every
    level has an unbroken draw) and the levels that have one ("levels unbroken")."""
    t = cell_table
    return pd.DataFrame({
        "reading": [label(r) for r in t["reading"]], "dataset": t["dataset"], "depth": t["depth"],
        "BN": t["batch_norm"].map({True: "yes", False: "no"}), "lr": [f"{v:g}" for v in t["lr"]],
        "seeds": t["seeds"],
        "broken (%)": [pm(m, s) for m, s in zip(t["broken"], t["broken_std"])],
        "A_avr": [pm(m, s) for m, s in zip(t["A_avr"], t["A_avr_std"])],
        "A_avr unbroken": [f"{100 * v:.2f}" if pd.notna(v) else "–" for v in t["A_avr_unbroken"]],
        "levels unbroken": [f"{int(a)} of {int(b)}" for a, b in
                            zip(t["levels_unbroken"], t["levels"])]})


def breakage_display(cells: pd.DataFrame, caption: str, name: str):
    """A page's display of ``breakage.cells``: one numbered table per model
    (``breakage_table``, ``per_model``; seeds said at the head of ``caption`` where they
    hold one value, one-seed rows marked indicative only), so that each fits the text
    column; the first (the reference model) is named ``name``. Returns the tables and what the split says
    (``breakage.sentence``) under the paper's reading and each mechanism reading
    (``noise_model.MECHANISM``) that the cells hold, as Markdown (its maths typeset)."""
    shown = per_model(breakage_table(cells), caption, name, fixed_too=("seeds",), seeds="seeds")
    held = set(cells["reading"])
    return shown, Markdown(" ".join(breakage_sentence(cells, m.name) for m in (PAPER, *MECHANISM)
                                    if m == PAPER or m.name in held))