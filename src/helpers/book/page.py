"""The run records of one page, and what every page says about them first: where they
come from (``provenance``), their scale and why a verdict drawn from them is indicative
only. Every analysis page opens with ``load_study``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from ..study import claims, paper, stats
from ..study.results import SMOKE_NOTE, load_records
from ..study.studies import CELL
from ..study.words import plural, plural_range


def provenance(df: pd.DataFrame) -> str:
    """One markdown paragraph saying which runs a page's numbers come from."""
    if df.empty:
        return "**No run records found.**"
    def vals(col):
        return ", ".join(sorted({str(v) for v in df[col].dropna()})) or "n/a"
    cell = [c for c in (*CELL, "profile") if c in df]   # another profile: another cell
    seeds = df.groupby(cell)["seed"].nunique()
    commits = sorted({str(c)[:8] for c in df["commit"].dropna()})
    text = (f"From {plural(len(df), 'run record')} ({int((df['status'] == 'completed').sum())} completed, "
            f"{int((df['status'] == 'diverged').sum())} diverged): profile {vals('profile')}; "
            f"data {vals('data')}; {plural_range(seeds, 'training seed')} per cell; "
            f"Keras backend {vals('backend')}; device {vals('device')}; "
            f"code {'commit' if len(commits) < 2 else 'commits'} {', '.join(commits) or 'n/a'}.")
    if df["synthetic_data"].any():
        text = (f"**{SMOKE_NOTE}. The numbers below exercise the pipeline; they are not a "
                f"reproduction of the paper.**\n\n" + text)
    return text



@dataclass(frozen=True, eq=False)
class Study:
    """The run records of one page, with what every page says about them first:
    where they come from (``provenance``), their ``scale`` and why a verdict drawn from
    them is indicative only (``caveat``, "" when it is a verdict)."""
    records: pd.DataFrame   # one row per run (``load_records``), diverged runs included
    done: pd.DataFrame      # the completed runs
    means: pd.DataFrame     # seed mean and std of each grid cell (``claims.cell_means``)
    data: str               # the data's label(s)
    synthetic: bool         # smoke records on synthetic data
    caveat: str
    scale: str
    provenance: str         # markdown: where the records come from, and the caveat once

    @property
    def note(self) -> str:
        """What a verdict sentence says of the caveat: the page's top states it once."""
        return "see the top of the page" if self.caveat else ""

    def say(self, verdict, records: pd.DataFrame | None = None) -> str:
        """A claim's verdict as a sentence with the caveat of the cells it rests on
        (``claims.claim_caveat`` of ``records``, by default the page's: pass the records
        a verdict was drawn from when it reads fewer, such as the PCM-swept models): none,
        the page's (stated once, at the top), or its own."""
        rows = self.records if records is None else records
        why = ("" if verdict.outcome in claims.UNTESTED
               else claims.claim_caveat(rows, verdict.claim))
        return claims.sentence(verdict, self.note if why and why == self.caveat else why)

    @cached_property
    def table2(self) -> pd.DataFrame:
        """Our a0 per cell beside the paper's Table II (``paper.with_intervals`` of
        ``stats.cell_intervals``): computed once, for every sentence that needs it."""
        return paper.with_intervals(stats.cell_intervals(self.records,
                                                         metrics=("baseline_accuracy",)), "table2")


def _banner(done: pd.DataFrame, caveat: str) -> str:
    """What a page says once, under its provenance, about the verdicts on it: smoke
    records make every verdict indicative; too few seeds make only the verdicts that
    rest on such cells indicative, and each verdict says whether it does."""
    if not caveat:
        return ""
    if done["synthetic_data"].any():
        return (f"\n\n*Indicative only: {caveat}.* Each verdict on this page says whether "
                "this holds for the cells it rests on.")
    fewest = int(claims.cell_means(done)["n_seeds"].min())
    return (f"\n\n*A verdict that rests on cells with fewer than {claims.MIN_SEEDS} training "
            f"seeds (the fewest here: {fewest}) is indicative only.* Each verdict on this page "
            "says whether it does.")


def load_study(results_dir: str | Path, profile: str | None = None) -> Study:
    """The records of one profile in ``results_dir`` (all profiles if None); a clear
    error, naming both parameters, when there is none (a page without data says so)."""
    every = load_records(results_dir)
    df = every[every["profile"] == profile] if profile and not every.empty else every
    if df.empty:
        found = sorted(set(every.get("profile", [])))
        raise FileNotFoundError(
            f"results_dir={str(results_dir)!r} holds no run record of profile={profile!r}"
            + (f" (it has profiles {found})" if found else "")
            + f"; run `python -m helpers.ops.grid --profile {profile or 'smoke'} --results-dir "
              f"{results_dir}` first, or point results_dir at a folder of records")
    df = df.reset_index(drop=True)
    done = claims.completed(df)
    caveat = claims.caveat(df)
    return Study(records=df, done=done, means=claims.cell_means(done),
                 data="; ".join(sorted(df["data"].dropna().unique())) or "unknown data",
                 synthetic=bool(df["synthetic_data"].any()), caveat=caveat,
                 scale=claims.scale(df), provenance=provenance(df) + _banner(done, caveat))


def retrain_folder(results_dir: str | Path, retrain_dir: str | None = "auto") -> Path | None:
    """The folder of a study's retrained models (the same cells trained again with their
    weights kept): ``<results_dir>-retrain`` beside it for "auto"; None if it is absent."""
    if not retrain_dir:
        return None
    folder = (Path(results_dir).with_name(Path(results_dir).name + "-retrain")
              if retrain_dir == "auto" else Path(retrain_dir))
    return folder if folder.is_dir() else None


def retrained_records(results_dir: str | Path, retrain_dir: str | None = "auto") -> pd.DataFrame:
    """The run records of ``retrain_folder`` (empty when there is none)."""
    folder = retrain_folder(results_dir, retrain_dir)
    return load_records(folder) if folder is not None else pd.DataFrame()


def prefer_retrained(records: pd.DataFrame, retrained: pd.DataFrame) -> pd.DataFrame:
    """``records`` with each run that was retrained replaced by the retrained record (the
    one beside its weights, which the re-sweeps read), by key."""
    if retrained.empty:
        return records
    return pd.concat([retrained, records[~records["key"].isin(retrained["key"])]],
                     ignore_index=True)
