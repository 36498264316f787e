"""Two run records of the same run, field by field: does a retrained model reproduce?

    python scripts/compare_records.py results/cpu/KEY.json results/cpu-retrain/KEY.json

Prints a markdown table: the identity of the run (key, configuration, data), then the
numbers it produced (a0, A_avr under every noise reading, the gradient-noise constant
C, the final training loss and test accuracy), each with the two values and their
difference, and the environment (code commit, backend, device, cores). A retrained
model matches bit for bit only on the same code, packages and thread count; otherwise
the differences show how far the run's chaotic dependence on the order of float sums
carries, to be read against the spread between seeds.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

IDENTITY_SKIP = {"data_dir", "results_dir"}   # where the files were, not what ran


def _readings(rec: dict) -> dict:
    """A_avr per noise reading: the record's own reading, then its ablation's."""
    own = rec["config"].get("noise_scope", "all") + "/" + rec["config"].get(
        "noise_granularity", "array") + "/additive"
    out = {own: rec["noise"]["A_avr"]}
    out.update({name: block.get("A_avr") for name, block in (rec.get("noise_ablation") or {}).items()})
    return out


def rows(a: dict, b: dict) -> list[tuple[str, str, str, str]]:
    """(field, value in a, value in b, verdict or difference) for every compared field."""
    out = [("key", a["key"], b["key"], "same" if a["key"] == b["key"] else "DIFFERENT")]
    ca = {k: v for k, v in a["config"].items() if k not in IDENTITY_SKIP}
    cb = {k: v for k, v in b["config"].items() if k not in IDENTITY_SKIP}
    diff = sorted(k for k in set(ca) | set(cb) if ca.get(k) != cb.get(k))
    out.append(("configuration", f"{len(ca)} fields", f"{len(cb)} fields",
                "same" if not diff else "differs in " + ", ".join(diff)))
    fa, fb = a["data"].get("fingerprint"), b["data"].get("fingerprint")
    out.append(("data fingerprint", fa, fb, "same" if fa == fb else "DIFFERENT"))

    def num(name, va, vb, scale=1.0, unit=""):
        if va is None or vb is None:
            out.append((name, str(va), str(vb), "–"))
            return
        d = (vb - va) * scale
        out.append((name, f"{va * scale:.4g}", f"{vb * scale:.4g}",
                    "identical" if va == vb else f"{d:+.3g}{unit}"))

    out.append(("status", a["status"], b["status"], "same" if a["status"] == b["status"] else "DIFFERENT"))
    num("a0 (%)", a["baseline_accuracy"], b["baseline_accuracy"], 100, " pp")
    ra, rb = _readings(a), _readings(b)
    for name in ra:
        num(f"A_avr {name} (%)", ra[name], rb.get(name), 100, " pp")
    ta, tb = a.get("theory") or {}, b.get("theory") or {}
    num("C (gradient noise)", ta.get("C"), tb.get("C"))
    ha, hb = a.get("history") or [{}], b.get("history") or [{}]
    num("epochs trained", len(ha), len(hb))
    num("final training loss", ha[-1].get("loss"), hb[-1].get("loss"))
    num("final test accuracy (%)", ha[-1].get("test_accuracy"), hb[-1].get("test_accuracy"), 100, " pp")
    first = next((i + 1 for i, (x, y) in enumerate(zip(ha, hb)) if x.get("loss") != y.get("loss")), None)
    out.append(("first epoch whose loss differs", "", "", "none" if first is None else str(first)))
    ea, eb = a["environment"], b["environment"]
    for k in ("git", "keras_backend", "device", "cpu_affinity"):
        va = ea.get(k, {}).get("commit", "")[:10] if k == "git" else ea.get(k)
        vb = eb.get(k, {}).get("commit", "")[:10] if k == "git" else eb.get(k)
        out.append((f"environment: {k}", str(va), str(vb), "same" if va == vb else "differs"))
    for p in sorted(set(ea.get("packages", {})) | set(eb.get("packages", {}))):
        va, vb = ea.get("packages", {}).get(p), eb.get("packages", {}).get(p)
        if va != vb:
            out.append((f"package {p}", str(va), str(vb), "differs"))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("a", type=Path, help="the committed record")
    p.add_argument("b", type=Path, help="the retrained record")
    args = p.parse_args(argv)
    for path in (args.a, args.b):
        if not path.is_file():
            print(f"error: {path} is not a record file", file=sys.stderr)
            return 2
    a, b = (json.loads(x.read_text()) for x in (args.a, args.b))
    print("| field | committed | retrained | match |\n| --- | --- | --- | --- |")
    for r in rows(a, b):
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
