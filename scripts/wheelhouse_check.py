"""Check a wheelhouse against a pinned requirements file: every requirement has exactly
one wheel, at the pinned version, and there is no other wheel; print the total size.

    python scripts/wheelhouse_check.py .whl requirements-offline.txt
"""

import re
import sys
from pathlib import Path


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main(folder: str, reqs: str) -> int:
    pins = {}
    for line in Path(reqs).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[norm(name)] = version.strip()
    wheels = sorted(Path(folder).glob("*.whl"))
    found: dict[str, list[str]] = {}
    for w in wheels:
        name, version = w.name.split("-")[:2]
        found.setdefault(norm(name), []).append(version)
    errors = [f"{n}: no wheel" for n in pins if n not in found]
    errors += [f"{n}: {len(v)} versions {v}" for n, v in found.items() if len(v) > 1]
    errors += [f"{n}: wheel {v[0]}, pinned {pins[n]}" for n, v in found.items()
               if n in pins and pins[n] and v[0] != pins[n]]
    errors += [f"{n}: not in {reqs}" for n in found if n not in pins]
    size = sum(w.stat().st_size for w in wheels)
    print(f"{folder}: {len(wheels)} wheels, {size / 2**20:.2f} MiB")
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
