"""Imports sit at the top of a module, where they show what it depends on.

An import inside a function is allowed for a heavy or optional framework (``FRAMEWORKS``),
so that reading records, checking a configuration or ``--help`` does not load it, and
for a module of the package that loads such a framework when it is imported
(``helpers.experiment.engine`` loads JAX): importing it lazily is the same lazy framework
import one step removed. Every other import inside a function counts, and at most
``LIMIT`` may exist. Read from the source with ``ast`` (nothing is imported).
"""

import ast
from pathlib import Path

from test_imports import SRC, imported_modules, module_name

# Heavy or optional frameworks: deep learning (Keras and its backends), the analog extra
# (aihwkit on torch), the cluster extra (submitit), notebook execution (papermill), plots
# (matplotlib), the notebook display stack (IPython; myst_nb, of the book extra), and
# the browser drivers of the book check.
FRAMEWORKS = frozenset({"keras", "tensorflow", "jax", "jaxlib", "torch", "aihwkit", "submitit",
                        "papermill", "matplotlib", "IPython", "myst_nb", "selenium",
                        "playwright"})
LIMIT = 3


def _imports(tree: ast.AST, *, top_level: bool):
    """The import statements of ``tree``: those outside every function (``top_level``),
    or those inside one, with the function's name."""
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, getattr(child, "name", "<lambda>"))
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                if (function is None) == top_level:
                    found.append((child, function))
            else:
                visit(child, function)
    visit(tree, None)
    return found


def _roots(node) -> set:
    """The third-party top-level packages an import statement names ("" for the package's
    own, relative or ``helpers.``)."""
    if isinstance(node, ast.Import):
        return {a.name.split(".")[0] for a in node.names}
    if node.level:
        return {""}
    return {(node.module or "").split(".")[0]}


def _own(node, path: Path, modules: set, src: Path) -> set:
    """The package's modules one import statement names."""
    one = ast.Module(body=[node], type_ignores=[])
    tmp = ast.unparse(one)
    return imported_modules(path, modules, src, source=tmp)


def framework_modules(src: Path = SRC) -> set:
    """The package's modules that load a framework when imported: through their own
    top-level imports, or those of a package module they import at the top."""
    paths = {module_name(p, src): p for p in src.rglob("*.py") if "__pycache__" not in p.parts}
    modules = set(paths)
    direct, edges = {}, {}
    for m, p in paths.items():
        tops = [n for n, _ in _imports(ast.parse(p.read_text()), top_level=True)]
        direct[m] = any(_roots(n) & FRAMEWORKS for n in tops)
        edges[m] = set().union(*(_own(n, p, modules, src) for n in tops)) if tops else set()
    heavy = {m for m in modules if direct[m]}
    while True:
        more = {m for m in modules - heavy if edges[m] & heavy}
        if not more:
            return heavy
        heavy |= more


def counted(src: Path = SRC) -> list[str]:
    """Every import inside a function that is not a lazy framework import, as
    "path:line function: import ..."."""
    paths = {module_name(p, src): p for p in src.rglob("*.py") if "__pycache__" not in p.parts}
    modules = set(paths)
    heavy = framework_modules(src)
    out = []
    for m, p in sorted(paths.items()):
        for node, function in _imports(ast.parse(p.read_text()), top_level=False):
            roots = _roots(node) - {""}
            own = _own(node, p, modules, src) if "" in _roots(node) or "helpers" in roots else set()
            roots.discard("helpers")
            lazy = bool(roots) and roots <= FRAMEWORKS or bool(own) and own <= heavy
            if not lazy:
                out.append(f"{p.relative_to(src)}:{node.lineno} {function}: {ast.unparse(node)}")
    return out


def test_the_counter_tells_framework_imports_from_the_others(tmp_path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "__init__.py").write_text("")
    (tmp_path / "a" / "heavy.py").write_text("import keras\n")
    (tmp_path / "a" / "via.py").write_text("from .heavy import x\n")
    (tmp_path / "a" / "light.py").write_text("import numpy as np\n\ndef f():\n    import jax\n")
    (tmp_path / "b" / "user.py").write_text(
        "def f():\n    from ..a import via\n    from ..a.light import g\n    import math\n"
        "    import matplotlib.pyplot as plt\n    from IPython.display import HTML\n")
    assert framework_modules(tmp_path) == {"a.heavy", "a.via"}
    assert counted(tmp_path) == ["b/user.py:3 f: from ..a.light import g",
                                 "b/user.py:4 f: import math"]


def test_at_most_three_imports_inside_functions_besides_lazy_framework_imports():
    found = counted()
    assert len(found) <= LIMIT, "imports inside functions:\n" + "\n".join(found)
    assert {"experiment.engine", "experiment.training"} <= framework_modules()
    assert "experiment.config" not in framework_modules()   # a config check loads no Keras
