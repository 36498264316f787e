"""The modules of src/helpers import each other without a cycle.

Read from the source with ``ast`` (nothing is imported): every import at any level,
inside functions too, relative (``from . import x``, ``from ..study.x import y``) or
absolute (``import helpers.x.y``, ``from helpers.x import y``). A module is named by its
dotted path below the package (``experiment.noise``; a subpackage's ``__init__`` by the
subpackage's name, ``experiment``).
"""

import ast
from pathlib import Path

PACKAGE = "helpers"
SRC = Path(__file__).resolve().parents[1] / "src" / PACKAGE


def module_name(path: Path, src: Path = SRC) -> str:
    """``experiment/noise.py`` -> ``experiment.noise``; ``experiment/__init__.py`` ->
    ``experiment``; the package's own ``__init__.py`` -> ``""``."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, modules: set, src: Path = SRC, source: str | None = None) -> set:
    """The modules of the package (names as ``module_name`` gives them) that the file at
    ``path`` imports: ``from X import n`` counts as module ``X.n`` where that is a module,
    else as ``X``. ``source``: the code to read instead of the file's."""
    name = module_name(path, src)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()

    def add(base: str, names=()):
        hits = [f"{base}.{n}".strip(".") for n in names if f"{base}.{n}".strip(".") in modules]
        found.update(hits)
        if len(hits) < len(names) or not names:
            found.add(base)

    for node in ast.walk(ast.parse(path.read_text() if source is None else source, str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == PACKAGE and len(parts) > 1:
                    add(".".join(parts[1:]))
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 0:
                if module.split(".")[0] != PACKAGE:
                    continue
                base = module.partition(".")[2]
            else:
                up = package.split(".") if package else []
                up = up[:len(up) - (node.level - 1)]
                base = ".".join([*up, *([module] if module else [])])
            add(base, [a.name for a in node.names])
    return found & modules


def import_graph(src: Path = SRC) -> dict:
    """Every module below ``src`` -> the package modules it imports."""
    paths = {module_name(p, src): p for p in src.rglob("*.py") if "__pycache__" not in p.parts}
    modules = set(paths)
    return {m: imported_modules(paths[m], modules, src) for m in sorted(modules)}


def find_cycle(graph: dict) -> list | None:
    """One cycle of ``graph`` as [a, b, ..., a], or None."""
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                return stack[stack.index(n):] + [n]
            if n not in state and (cycle := visit(n)):
                return cycle
        state[m] = "done"
        stack.pop()
        return None

    for m in graph:
        if m not in state and (cycle := visit(m)):
            return cycle
    return None


def test_the_finder_sees_every_kind_of_import(tmp_path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "__init__.py").write_text("")
    for m in ("a/c", "a/h", "a/i", "b/d", "b/e", "b/f", "b/j"):
        (tmp_path / f"{m}.py").write_text("")
    f = tmp_path / "a" / "m.py"
    f.write_text("import os\nfrom . import c, h as hh\nfrom .i import x\nimport helpers.b.d\n"
                 "from helpers.b import e\nfrom helpers.b.f import y\nfrom ..b import CONST\n\n"
                 "def g():\n    from ..b.j import z\n    from .. import a\n")
    modules = {module_name(p, tmp_path) for p in tmp_path.rglob("*.py")}
    assert module_name(f, tmp_path) == "a.m"
    assert module_name(tmp_path / "a" / "__init__.py", tmp_path) == "a"
    assert imported_modules(f, modules, tmp_path) == {"a", "a.c", "a.h", "a.i", "b", "b.d", "b.e",
                                                      "b.f", "b.j"}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    assert {f"experiment.{m}" for m in ("noise", "engine", "sweeps", "training", "config")} \
        <= set(graph)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_noise_imports_neither_engine_nor_training():
    lower = {f"experiment.{m}" for m in ("engine", "training", "sweeps")}
    assert not import_graph()["experiment.noise"] & lower


def test_records_claims_and_noise_models_load_without_keras():
    """Reading records and naming noise readings needs no deep-learning framework."""
    import subprocess
    import sys

    code = ("import sys, helpers.study.results, helpers.study.claims, helpers.book.tables, "
            "helpers.experiment.noise_model; "
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
