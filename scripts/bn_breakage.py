"""Why do BN models break outright under the paper's noise reading? Predicted vs observed.

For every BN record of a results folder whose weights (``<key>.weights.h5``) are in
``--weights-dir`` (by default the results folder itself, where the committed studies
keep them beside their records), the chance that one noise draw at each eta pushes
some BN moving variance below -epsilon (``noise.p_broken``, from the weights alone),
beside the share of the record's own draws whose outputs were non-finite. Writes
``<results-dir>/bn-breakage.csv``, which the noise page shows. A model whose weights
are not at hand keeps its rows from the existing table (``merge``):

    python scripts/bn_breakage.py --results-dir results/cpu [--weights-dir <folder>]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from helpers.experiment import models, noise
from helpers.study import results


def breakage(results_dir: Path, weights_dir: Path) -> pd.DataFrame:
    rows = []
    for path in sorted(results_dir.glob("*.json")):
        if ".sweep-" in path.name:  # a re-sweep file (helpers.ops.resweep), not a record
            continue
        record = results.read_record(path)
        config, key = record.get("config", {}), record.get("key", path.stem)
        weights = weights_dir / f"{key}.weights.h5"
        if not config.get("batch_norm") or record.get("status") != "completed" or not weights.exists():
            continue
        model = models.resnet_v1(depth=config["depth"],
                                 num_classes=results.NUM_CLASSES[config["dataset"]],
                                 batch_norm=True)
        model.load_weights(weights)
        draws = pd.DataFrame(record["noise"]["draws"])
        for eta, p in noise.p_broken(model, record["noise"]["etas"]).items():
            d = draws[(draws["eta"] - eta).abs() < 1e-9]
            rows.append({"key": key, "dataset": config["dataset"], "depth": config["depth"],
                         "optimizer": config["optimizer"], "lr": config["lr"],
                         "seed": config["seed"], "eta": eta,
                         "p_predicted": p, "broken_observed": float((d["nonfinite"] > 0).mean()),
                         "n_draws": len(d)})
    return pd.DataFrame(rows)


def merge(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """The new rows, plus the old rows of every model the new table does not hold.

    A table recomputed where only some weights are at hand (older runs kept their
    weights only on the machine that trained them) can cover fewer models than the
    committed one; their rows are kept, not dropped.
    """
    if old.empty:
        return new.reset_index(drop=True)
    kept = old[~old["key"].isin(set(new["key"]))] if not new.empty else old
    return (pd.concat([kept, new], ignore_index=True)
            .sort_values(["key", "eta"], kind="stable").reset_index(drop=True))


def with_optimizer(table: pd.DataFrame, results_dir: Path) -> pd.DataFrame:
    """``table`` with each row's optimizer, taken from its record in ``results_dir`` where
    the row lacks it (rows kept from a table written before the column existed), so that
    a cell of the LR grid and another optimizer at the same LR stay apart."""
    if "optimizer" in table and table["optimizer"].notna().all():
        return table
    by_key = {}
    for path in results_dir.glob("*.json"):
        if ".sweep-" not in path.name and not path.name.endswith(".pcm.json"):
            record = results.read_record(path)
            by_key[record.get("key", path.stem)] = record.get("config", {}).get("optimizer")
    known = table["optimizer"] if "optimizer" in table else pd.Series(None, index=table.index)
    out = table.assign(optimizer=known.fillna(table["key"].map(by_key)))
    missing = out.loc[out["optimizer"].isna(), "key"].unique()
    if len(missing):
        raise ValueError(f"{results_dir}: no record for {', '.join(missing)} (bn-breakage.csv "
                         "rows need their record's optimizer)")
    cols = list(out.columns)
    cols.insert(cols.index("lr"), cols.pop(cols.index("optimizer")))
    return out[cols]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results-dir", type=Path, required=True, help="folder of run records")
    ap.add_argument("--weights-dir", type=Path, default=None,
                    help="folder holding <key>.weights.h5 (default: --results-dir, where "
                         "committed studies keep them)")
    args = ap.parse_args(argv)
    args.weights_dir = args.weights_dir or args.results_dir
    for name in ("results_dir", "weights_dir"):
        if not getattr(args, name).is_dir():
            ap.error(f"--{name.replace('_', '-')}: {getattr(args, name)} is not a folder")
    new = breakage(args.results_dir, args.weights_dir)
    if new.empty:
        ap.error(f"no completed BN record of {args.results_dir} has its weights in {args.weights_dir}")
    out = args.results_dir / "bn-breakage.csv"
    old = pd.read_csv(out) if out.exists() else pd.DataFrame()
    table = with_optimizer(merge(old, new), args.results_dir)
    table.to_csv(out, index=False, float_format="%.6g")
    print(f"{len(table)} rows ({table['key'].nunique()} models, {new['key'].nunique()} "
          f"recomputed from their weights) -> {out}")


if __name__ == "__main__":
    main()
