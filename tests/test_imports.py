"""The modules of src/helpers import each other without a cycle.

Read from the source with ``ast`` (nothing is imported): every import at any level,
inside functions too, relative (``from . import x``, ``from .x import y``) or absolute
(``import helpers.x``, ``from helpers import x``).
"""

import ast
from pathlib import Path

PACKAGE = "helpers"
SRC = Path(__file__).resolve().parents[1] / "src" / PACKAGE


def imported_modules(path: Path, modules: set) -> set:
    """The modules of the package that the file at ``path`` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == PACKAGE and len(parts) > 1:
                    found.add(parts[1])
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and (node.module or "").split(".")[0] != PACKAGE:
                continue
            parts = (node.module or "").split(".")
            if node.level == 0:
                parts = parts[1:]  # from helpers.x import y / from helpers import x
            if parts and parts[0]:
                found.add(parts[0])  # from .x import y
            else:
                found.update(a.name for a in node.names)  # from . import x, y
    return found & modules


def import_graph() -> dict:
    modules = {p.stem for p in SRC.glob("*.py") if p.stem != "__init__"}
    return {m: imported_modules(SRC / f"{m}.py", modules) for m in sorted(modules)}


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
    f = tmp_path / "m.py"
    f.write_text("import os\nfrom . import a, b as bb\nfrom .c import x\nimport helpers.d\n"
                 "from helpers import e\nfrom helpers.f import y\n\n"
                 "def g():\n    from .h import z\n    from . import i\n")
    assert imported_modules(f, set("abcdefhijz")) == set("abcdefhi")
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    assert {"noise", "engine", "sweeps", "training", "config"} <= set(graph)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_noise_imports_neither_engine_nor_training():
    assert not import_graph()["noise"] & {"engine", "training", "sweeps"}


def test_records_claims_and_noise_models_load_without_keras():
    """Reading records and naming noise readings needs no deep-learning framework."""
    import subprocess
    import sys

    code = ("import sys, helpers.results, helpers.claims, helpers.tables, helpers.noise_model; "
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
