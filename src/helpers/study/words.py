"""Counts and lists in English, for the sentences built from numbers (verdicts, captions,
the pages' text). Nothing here depends on the rest of the package."""

from __future__ import annotations


def plural(n, word: str, many: str | None = None) -> str:
    """A count and its noun: "1 seed", "2 seeds", "2-3 seeds" (``many``: an irregular plural)."""
    return f"{n} {word if str(n) == '1' else many or word + 's'}"


def plural_range(counts, word: str, many: str | None = None) -> str:
    """``plural`` over several counts, as their range: "3 seeds", or "2-3 seeds" when the
    counts differ (e.g. the seeds per cell)."""
    lo, hi = int(min(counts)), int(max(counts))
    return plural(lo if lo == hi else f"{lo}-{hi}", word, many)


def and_list(items, conj: str = "and") -> str:
    """Items as an English list: "a", "a and b", "a, b and c" (or ``conj`` for "and")."""
    items = [str(x) for x in items]
    return f" {conj} ".join(filter(None, [", ".join(items[:-1]), items[-1] if items else ""]))
