"""The numbers of a study in one printout: a0 and A_avr per cell (seed mean ± std, under
every noise reading), the paper's values beside them, the claim verdicts at the study's
scale, and the compute the records used. Markdown, to paste into a note or a review:

    python scripts/study_summary.py --results-dir results/cpu --profile cpu

Percentages throughout; ± is the sample std over the cell's seeds (– with one seed).
"""
from __future__ import annotations

import argparse

import pandas as pd

from helpers.study import claims, paper, results
from helpers.book import page, tables


def cell_table(done: pd.DataFrame) -> pd.DataFrame:
    """``tables.cell_readings`` with the paper's a0 and A_avr where it has the cell."""
    out = tables.cell_readings(done)
    for name, col in (("table2", "paper a0"), ("table3", "paper A_avr")):
        p = paper.table(name)
        value = p.columns[p.columns.str.endswith("_pct")][0]
        lookup = {(r.dataset, r.depth, round(r.lr, 9)): r[value] for _, r in p.iterrows()}
        out[col] = [lookup.get((d, k, round(lr, 9))) if bn and opt == "adam" else None
                    for d, k, lr, bn, opt in zip(out["dataset"], out["depth"], out["lr"],
                                                 out["batch_norm"], out["optimizer"])]
    return out


def verdict_table(records: pd.DataFrame) -> pd.DataFrame:
    """One row per claim: verdict, its value (``claims.VALUES``) and exact permutation
    p-value (claims 3 and 7), what it rests on when that is one model or depth, the
    statistic and whether it is indicative only."""
    vs = claims.verdicts(records)
    return pd.DataFrame({"claim": [v.claim for v in vs], "verdict": [v.outcome for v in vs],
                         "value": [v.value for v in vs], "p": [v.p_value for v in vs],
                         "rests on": [v.rests_on or "–" for v in vs],
                         "statistic": [v.statistic for v in vs],
                         "indicative only": [v.indicative or "no" for v in vs]})


def readings_table(records: pd.DataFrame) -> pd.DataFrame:
    """Claims 3, 6, 7 and 8 under each noise reading, with value and p-value."""
    return claims.across_readings(records)[["claim", "reading", "verdict", "value", "p"]]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results-dir", default="results/cpu")
    ap.add_argument("--profile", default=None, help="only the records of this profile")
    args = ap.parse_args(argv)
    study = page.load_study(args.results_dir, args.profile)
    print(f"Scale: {study.scale}.\n")
    if study.caveat:
        print(f"Indicative only: {study.caveat}.\n")
    n_div = int((study.records["status"] == "diverged").sum())
    print(f"{claims.plural(len(study.done), 'completed run')}, {n_div} diverged.\n")
    print(cell_table(study.done).to_markdown(index=False), "\n")
    print(verdict_table(study.records).to_markdown(index=False), "\n")
    print(readings_table(study.records).to_markdown(index=False), "\n")
    print(results.compute(study.records))


if __name__ == "__main__":
    main()
