"""One-off migration: committed run records written before records kept only names
held the paths of the machine that ran them (``config.data_dir``,
``config.results_dir``, ``data.path``). This rewrites each such record with those
fields reduced to their names (``results.without_machine_paths``) and leaves every
other field, and every record already clean, untouched.

    python scripts/migrate_machine_paths.py [results]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from helpers.study import results  # noqa: E402


def migrate(folder: Path) -> list[Path]:
    """Rewrite the records under ``folder`` that hold machine paths; the ones rewritten."""
    changed = []
    for path in sorted(folder.rglob("*.json")):
        record = results.read_record(path)
        if not isinstance(record, dict) or "config" not in record:
            continue
        migrated = results.without_machine_paths(record)
        if migrated != record:
            results.write_record(path, migrated)
            changed.append(path)
    return changed


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "results")
    if not folder.is_dir():
        sys.exit(f"error: {folder} is not a folder of run records")
    done = migrate(folder)
    print(f"{len(done)} records rewritten under {folder}")
