"""The book's opening summary: what the run records show, in sentences computed from them.

The introduction shows ``findings(study)``. Every number in it comes from the records
through the same helpers the chapters use (``claims``, ``paper``, ``stats``, ``tables``),
so the summary cannot disagree with the pages it points to.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..experiment import recipe
from ..study import claims, paper, studies
from . import tables
from ..study.results import compute, read_record
from ..study.words import and_list
from .page import Study


REFERENCE = (recipe.REFERENCE_DATASET, recipe.REFERENCE_DEPTH)


def _lr_cells(means: pd.DataFrame, dataset: str = REFERENCE[0],
              depth: int = REFERENCE[1]) -> pd.DataFrame:
    """The LR study's cells of one model (the reference model, ResNet20 on the first
    dataset: the one model every profile trains) at the paper's LRs, sorted by LR."""
    m = studies.model_rows(studies.select(means, "lr"), dataset, depth)
    return m[m["lr"].isin(recipe.PAPER_LRS)].sort_values("lr")


def baseline_sentence(study: Study) -> str:
    """a0 of the reference model over the paper's LRs, claim 1's verdict, and how far it
    lies from Table II."""
    m, model = _lr_cells(study.means), claims.model_name(*REFERENCE)
    if m.empty:
        return f"No {model} was trained at the paper's learning rates."
    v = claims.claim1(study.means)
    why = "" if v.outcome in claims.UNTESTED else claims.claim_caveat(study.records, 1)
    return (f"**Baseline accuracy.** {model} reaches $a_0$ = "
            f"{100 * m['baseline_accuracy'].min():.1f} to {100 * m['baseline_accuracy'].max():.1f} % "
            f"over the paper's {len(m)} learning rates (claim 1, \"$a_0$ barely depends on the "
            f"LR\": **{v.outcome}**; {v.ours}, against a threshold of "
            f"{claims.BASELINE_RANGE_PP:g} pp" + (f"; indicative only: {why}" if why else "")
            + "). "
            + paper.offset_sentence(studies.model_rows(study.table2, *REFERENCE), "$a_0$"))


def _reference_trend(trends: pd.DataFrame) -> str:
    """The reference model's rank correlation of A_avr with the LR and its exact p
    (a row of ``claims.lr_trends``), as a sentence says it; "" when it has no trend test."""
    t = studies.model_rows(trends, *REFERENCE)
    if t.empty or pd.isna(t["p"].iloc[0]):
        return ""
    return f", rho {t['rho'].iloc[0]:+.2f}, exact p = {claims._p(t['p'].iloc[0])}"


def noise_sentence(study: Study) -> str:
    """A_avr of the reference model at the lowest and the highest paper LR under each main
    noise reading, with claim 3's verdict under that reading (``claims.READINGS``) and the
    reference model's trend test."""
    parts, outcomes, ends, model = [], set(), None, claims.model_name(*REFERENCE)
    for label, reading in claims.READINGS.items():
        runs = claims.completed(claims.under_reading(study.records, reading))
        m = _lr_cells(claims.cell_means(runs)).dropna(subset=["A_avr"])
        if len(m) < 2:
            continue
        trends = claims.lr_trends(runs)
        outcome = claims.claim3(runs, trends).outcome
        ends = (m["lr"].iloc[0], m["lr"].iloc[-1])
        outcomes.add(outcome)
        parts.append(f"{100 * m['A_avr'].iloc[0]:.1f} to {100 * m['A_avr'].iloc[-1]:.1f} % "
                     f"{claims.READING_PHRASES.get(label, label)} (claim 3: **{outcome}**"
                     f"{_reference_trend(trends)})")
    if ends is None:
        return f"No noise sweep of {model} at the paper's learning rates."
    return (f"**Noise resistance against the learning rate.** From lr = {ends[0]:g} to "
            f"{ends[1]:g}, the average normalized accuracy $A_{{avr}}$ of {model} "
            f"goes from " + "; from ".join(parts) + ". Claim 3 says that it falls as the LR "
            "grows; " + ("which arrays receive noise decides whether it does." if len(outcomes) > 1
                         else "every reading gives the same verdict."))


def breakage_sentence(study: Study) -> str:
    """How often a noisy output of the reference model is non-finite under the paper's
    reading, at the lowest and the highest paper LR (noise on the BN variances can make
    them negative)."""
    nf = tables.nonfinite(study.done)
    if nf is None:
        return ""
    t = nf.reset_index()
    t = studies.model_rows(t, *REFERENCE)
    t = t[t["batch_norm"].astype(bool) & t["lr"].isin(recipe.PAPER_LRS)].sort_values("lr")
    col = "eta = 0.1"
    if len(t) < 2 or col not in t:
        return ""
    return (f"**Why.** Under the paper's reading the BN moving variances receive noise too, "
            f"and a variance pushed below zero makes every output non-finite: at $\\eta$ = "
            f"10 %, {t[col].iloc[0]:.0f} % of the outputs are non-finite at lr = "
            f"{t['lr'].iloc[0]:g} and {t[col].iloc[-1]:.0f} % at lr = {t['lr'].iloc[-1]:g} "
            f"(mean over draws and seeds).")


def verdicts_sentence(study: Study) -> str:
    """How the eight claims come out, and how many of the verdicts are indicative only, why."""
    vs = claims.verdicts(study.records)
    text = ("**The paper's eight claims** at this scale: " + claims.outcome_counts(vs)
            + " (the {doc}`notebooks/report` gives each with its statistic and test).")
    weak = [v for v in vs if v.indicative]
    if study.synthetic:
        return text + f" *Indicative only: {study.caveat}.*"
    if weak:
        why_of = {v.claim: claims.claim_caveats(study.records, v.claim) for v in weak}
        few = [v for v in weak if "seeds" in why_of[v.claim]]
        why = []
        if few:
            who = ("it rests" if len(weak) == 1 else "they rest") if len(few) == len(weak) \
                else f"{len(few)} rest"
            why.append(f"{who} on cells with fewer than {claims.MIN_SEEDS} training seeds")
        partial = [v.claim for v in weak if "optimizers" in why_of[v.claim]]
        if partial:
            why.append(f"claim {and_list(str(c) for c in partial)}{' also' if few else ''} on "
                       "some of the paper's six optimizers only")
        text += (f" *{len(weak)} of these verdicts {'is' if len(weak) == 1 else 'are'} "
                 f"indicative only: {'; '.join(why)}.*")
    return text


def findings(study: Study) -> str:
    """The introduction's summary of ``study`` as markdown paragraphs."""
    gaps = tables.batchnorm_gaps(study.records)
    bn = ("**Batch normalization.** " + tables.batchnorm_sentence(gaps)) if len(gaps) else ""
    paras = [f"**What was run.** {study.scale}. The {compute(study.records)}",
             baseline_sentence(study), noise_sentence(study),
             breakage_sentence(study), bn, verdicts_sentence(study)]
    return "\n\n".join(p for p in paras if p)


def _length_gap(study: Study) -> str:
    """How far our a0 lies below the paper's Table II, per dataset ("" unless every cell
    with a paper value lies below it): "7.4 to 8.1 pp on CIFAR-10 and 10.6 pp on CIFAR-100
    (1 seed, indicative only)"."""
    t2 = study.table2.dropna(subset=["ours_pct", "paper_pct"])
    gap = t2["ours_pct"] - t2["paper_pct"]
    if not len(gap) or not (gap < 0).all():
        return ""
    parts = []
    for ds, g in t2.assign(gap=-gap).groupby("dataset"):
        lo, hi = g["gap"].min(), g["gap"].max()
        few = f" ({claims.seeds_note(g['n'])})" if g["n"].min() < claims.MIN_SEEDS else ""
        parts.append((f"{lo:.1f} to {hi:.1f}" if f"{lo:.1f}" != f"{hi:.1f}" else f"{lo:.1f}")
                     + " pp" + (f" on {recipe.name('dataset', ds)}{few}" if t2["dataset"].nunique() > 1
                                else few))
    return (f" Our $a_0$ lies {claims.and_list(parts)} below the paper's Table II; models "
            "trained to the paper's accuracy may resist noise differently.")


def limitations(study: Study) -> str:
    """What the records cannot tell, as markdown bullets computed from them: the depths,
    datasets, epochs, data, seeds and noise sampling against the paper's."""
    done = study.done
    out = []
    depths = sorted(done["depth"].unique())
    if len(depths) < len(recipe.PAPER_DEPTHS):
        out.append(f"**Depths:** {claims.and_list(f'ResNet{d}' for d in depths)} only, of the "
                   f"paper's {len(recipe.PAPER_DEPTHS)} depths."
                   + (" With one depth, \"more steeply for deeper models\" (claim 3) and \"the "
                      "more BN layers the worse\" (claim 8) are not tested." if len(depths) == 1
                      else ""))
    missing = [recipe.name("dataset", d) for d in recipe.DATASETS if d not in set(done["dataset"])]
    if missing:
        out.append(f"**Datasets:** no {claims.and_list(missing, 'or')}, so claim 6 is not tested.")
    epochs = sorted(int(e) for e in done["epochs"].unique())
    if max(epochs) < 200:
        out.append(f"**Training length:** {claims.and_list(epochs, 'or')} epochs instead of the "
                   "paper's 200 (the same step schedule, compressed); the chapter \"Training "
                   "length\" compares the cells trained for longer." + _length_gap(study))
    jpeg = [d for d in sorted(done["data"].dropna().unique()) if "JPEG" in d]
    if jpeg:
        out.append(f"**Data:** {claims.and_list(jpeg)}: a JPEG re-encoding of the original "
                   "images; its pixels differ slightly from them.")
    seeds = claims.plural_range(study.means["n_seeds"], "training seed")
    few = claims.caveat(study.records) if study.means["n_seeds"].min() < claims.MIN_SEEDS else ""
    out.append(f"**Seeds:** {seeds} per cell, so the seed part of each interval rests on few "
               "values." + (f" Indicative only: {few}." if few and not study.synthetic else ""))
    n = sorted(int(r) for r in done["n_repeats"].dropna().unique())
    images = [f"{x:,}" for x in sorted({int(x) for x in done["noise_test_samples"].dropna()})]
    out.append(f"**Noise sampling:** {claims.and_list(n, 'or')} draws per noise level on "
               f"{claims.and_list(images, 'or') or 'all'} test images ($a_0$ on all of them); the "
               "intervals include the spread between draws.")
    return "\n".join(f"- {x}" for x in out)


def _trend_words(rho: float, p: float) -> str:
    if pd.notna(p) and p < claims.ALPHA:
        return "rises" if rho > 0 else "falls"
    return "shows no significant trend"


def headline_sentence(cells: pd.DataFrame, trends: pd.DataFrame, scale: str) -> str:
    """One plain sentence on ``study.headline``'s numbers: per reading the direction of
    A_avr with the LR and its exact permutation p, its ends over the paper's LRs with
    their t-intervals, and the share of broken draws under the paper's reading."""
    if trends.empty:
        return "No LR sweep of one model with enough learning rates to test a trend."
    lrs = sorted(lr for lr in set(cells["lr"]) if any(studies.same_lr(lr, p) for p in paper.PAPER_LRS))
    parts = []
    for r in trends.itertuples():
        c = cells[(cells["reading"] == r.reading) & cells["lr"].isin([lrs[0], lrs[-1]])]
        ends = " to ".join(f"{100 * x.A_avr:.1f} %" + (
            f" [{100 * x.low:.1f}, {100 * x.high:.1f}]" if pd.notna(x.low) else "")
            for x in c.sort_values("lr").itertuples())
        parts.append(f"{_trend_words(r.rho, r.p)} {claims.READING_PHRASES.get(r.reading, r.reading)}"
                     f" ($\\rho$ {r.rho:+.2f}, exact p = {claims._p(r.p)}; {ends})")
    ours = cells[(cells["reading"] == next(iter(claims.READINGS))) & cells["lr"].isin(lrs)]
    t0 = trends.iloc[0]
    broken = ""
    if ours["broken"].notna().any() and (ours["broken"] > 0).any() and pd.notna(t0.p_broken):
        b = ours.sort_values("lr")["broken"]
        broken = (f" Under the paper's reading the share of draws that broke the model "
                  f"(non-finite outputs) goes from {100 * b.iloc[0]:.0f} % to "
                  f"{100 * b.iloc[-1]:.0f} % over the same range ($\\rho$ "
                  f"{t0.rho_broken:+.2f}, exact p = {claims._p(t0.p_broken)})")
        broken += (": there $A_{avr}$ mostly measures how often a noisy BN variance breaks "
                   "the model." if t0.rho_broken > 0 and t0.p_broken < claims.ALPHA else ".")
    return (f"Over the paper's learning rates {lrs[0]:g} to {lrs[-1]:g} ({scale}; 95 % "
            "t-intervals over the seeds), $A_{avr}$ " + claims.and_list(parts, "and") + "."
            + broken)


def models_sentence(table: pd.DataFrame) -> str:
    """``headline.across_models`` in words: per reading, the pooled trend over every model
    of the LR grid with its exact p; then per model its rho under each reading, with its
    own p where its test can reach p < ALPHA (``claims.can_decide``) and why not where it
    cannot. "" when the records hold one model."""
    if table.empty or table["n_models"].max() < 2:
        return ""
    pooled = claims.and_list(
        f"{_trend_words(r.rho, r.p)} {claims.READING_PHRASES.get(r.reading, r.reading)} "
        f"($\\rho$ {r.rho:+.2f}, exact p = {claims._p(r.p)})" for r in table.itertuples())
    per = pd.concat([r.models.assign(reading=r.reading) for r in table.itertuples()])
    each = []
    for (ds, depth), g in per.groupby(["dataset", "depth"], sort=False):
        m = g.iloc[0]
        testable = claims.can_decide(m.n_lrs, m.n_seeds)
        each.append(f"{studies.model_name(ds, depth)} ({claims.plural(int(m.n_seeds), 'seed')}"
                    + ("" if testable else f", {int(m.n_lrs)} LRs: its own test cannot reach "
                       f"p < {claims.ALPHA}") + ") $\\rho$ "
                    + " / ".join(f"{x:+.2f}" for x in g["rho"])
                    + (" (p = " + " / ".join(claims._p(x) for x in g["p"]) + ")" if testable else ""))
    readings = " / ".join(table["reading"])
    return (f"Pooled over the {table['n_models'].max()} models of the learning-rate grid "
            f"trained at {claims.MIN_TREND_LRS} or more learning rates and "
            f"their {table['n_strata'].max()} (model, seed) pairs ($\\rho$ within each pair, "
            "averaged; the learning rates permuted within each pair), $A_{avr}$ " + pooled
            + f". Per model, under the readings {readings}: " + "; ".join(each) + ".")


def bound_sentence(table: pd.DataFrame) -> str:
    """What the bound adds to the LR: rank correlations, over the models of ``table``
    (``theory.from_records``, with A_avr), of the bound with the LR, of C with the LR, and of
    the bound with A_avr; per dataset where ``table`` holds several (A_avr is not
    comparable across datasets)."""
    several = "dataset" in table and table["dataset"].nunique() > 1
    groups = ([(f"{recipe.name('dataset', ds)}: ", table[table["dataset"] == ds])
               for ds in studies.dataset_order(table["dataset"].unique())] if several
              else [("", table)])
    tested = any(len(g.dropna(subset=["bound", "A_avr"])) >= _MIN_MODELS for _, g in groups)
    return " ".join(name + _bound_words(g) for name, g in groups) + (
        " Claim 7 (below) asks whether C explains what the LR does not, within each LR."
        if tested else "")


_MIN_MODELS = 3   # models a rank correlation of the bound needs


def _bound_words(table: pd.DataFrame) -> str:
    """``bound_sentence`` of one dataset's models."""
    t = table.dropna(subset=["bound", "A_avr"])
    if len(t) < _MIN_MODELS:
        return (f"{claims.plural(len(t), 'model')} with a bound and a noise sweep: too few "
                "for a rank correlation.")

    def rho(a, b):
        return claims._spearman(t[a], t[b])

    follows = abs(rho("lr", "bound")) >= 0.8
    return (f"Over {len(t)} models, the bound's rank correlation with the LR is "
            f"{rho('lr', 'bound'):+.2f}, C's is {rho('lr', 'C'):+.2f}, and the bound's with "
            f"A_avr is {rho('bound', 'A_avr'):+.2f}. "
            + ("Across LRs the bound thus mostly follows the LR, which claim 3 already tests."
               if follows else "The bound is thus more than the LR in disguise."))


def images_per_second(records: pd.DataFrame, dataset: str = "cifar10", depth: int = 20) -> float:
    """Median training speed of the ResNet``depth`` runs on ``dataset`` in ``records``:
    images per epoch (the training split, ``recipe.TRAIN_IMAGES``, or the run's subset or
    steps) over the wall seconds of the run's median epoch. NaN without such a run."""
    runs = records[(records["dataset"] == dataset) & (records["depth"] == depth)]
    speeds = []
    for r in runs.itertuples():
        seconds = [h.get("seconds") for h in read_record(r.path).get("history") or []]
        seconds = [x for x in seconds if x]
        images = int(r.train_samples) if pd.notna(r.train_samples) else recipe.TRAIN_IMAGES[dataset]
        if pd.notna(r.steps_per_epoch):
            images = min(images, int(r.steps_per_epoch) * int(r.batch_size))
        if seconds:
            speeds.append(images / float(np.median(seconds)))
    return float(np.median(speeds)) if speeds else float("nan")


def gpu_sentence(bench: str | Path, records: pd.DataFrame, shown: str) -> str:
    """The GPU benchmark's training speed and its projection of the paper's grid, read from
    its committed output ``bench`` (``benchmarks/engine_speed.py``; ``shown``: the path to
    name), beside the CPU study's own speed (``images_per_second`` of ``records``)."""
    text = Path(bench).read_text()
    device = re.search(r"device='GPU: ([^']+?)(?: x1)?'", text)
    speed = re.search(r"ResNet20 batch 32, .*?: fast (\d+) images/s", text)
    grid = re.search(r"fast: training .*?=\s*([\d.]+) h", text)
    bn = re.search(r"\+BN study training ([\d.]+) h", text)
    if not (device and speed and grid):
        raise ValueError(f"{bench}: not an engine_speed.py output (no device, speed or projection line)")
    gpu, cpu = float(speed.group(1)), images_per_second(records)
    ratio = (f", {gpu / cpu:.0f} times the median {cpu:.0f} images/s of a ResNet20 run of the "
             "CPU study (its records)" if np.isfinite(cpu) else "")
    extra = f", and {float(bn.group(1)):.1f} h more for the BN study's models without BN" if bn else ""
    return (f"Measured on one {device.group(1)} (`{shown}`): ResNet20 trains at about "
            f"{gpu:,.0f} images/s{ratio}; the paper's full grid (200 epochs, its 48 "
            f"learning-rate and 6 optimizer models) projects to about {float(grid.group(1)):.1f} h "
            f"there{extra}.")
