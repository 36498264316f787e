"""The package's layers point one way: experiment < study < book, and ops above them all.

A module may import its own layer and the layers below it, never one above; nothing
in the three layers imports ``ops`` (the grid, the GPU study, the book check), which
may import anything. Every module lives in one of the four subpackages. The imports
are read from the source (``test_imports.import_graph``: every import, inside
functions too), so a hidden arrow counts as much as one at the top of a file.
"""

from test_imports import SRC, import_graph

LAYERS = ("experiment", "study", "book", "ops")  # lowest first


def layer(module: str) -> str | None:
    """The layer of a module named as ``import_graph`` names it, None outside them."""
    top = module.split(".")[0]
    return top if top in LAYERS else None


def violations(graph: dict) -> list[str]:
    """Each arrow of ``graph`` that points up a layer, and each module outside the layers."""
    bad = []
    for module, imports in sorted(graph.items()):
        if module == "":  # the package's own __init__.py
            continue
        if layer(module) is None:
            bad.append(f"{module}: not in a layer ({', '.join(LAYERS)})")
            continue
        for target in sorted(imports):
            if layer(target) and LAYERS.index(layer(target)) > LAYERS.index(layer(module)):
                bad.append(f"{module} -> {target}: {layer(module)} may not import {layer(target)}")
    return bad


def test_the_checker_sees_an_upward_arrow_a_hidden_one_and_a_flat_module(tmp_path):
    for sub in LAYERS:
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "__init__.py").write_text("")
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "experiment" / "recipe.py").write_text("X = 1\n")
    (tmp_path / "study" / "claims.py").write_text("from ..experiment.recipe import X\n")
    (tmp_path / "book" / "tables.py").write_text("from ..study import claims\n")
    (tmp_path / "ops" / "grid.py").write_text("from helpers.book import tables\n")
    assert violations(import_graph(tmp_path)) == []

    (tmp_path / "experiment" / "noise.py").write_text("def f():\n    from ..study import claims\n")
    (tmp_path / "book" / "plots.py").write_text("import helpers.ops.grid\n")
    (tmp_path / "flat.py").write_text("")
    assert violations(import_graph(tmp_path)) == [
        "book.plots -> ops.grid: book may not import ops",
        "experiment.noise -> study.claims: experiment may not import study",
        "flat: not in a layer (experiment, study, book, ops)",
    ]


def test_no_arrow_points_up_a_layer_or_into_ops():
    graph = import_graph()
    assert {layer(m) for m in graph if m} == set(LAYERS), sorted(graph)
    assert len(graph) > 30, "the package's modules were not found under " + str(SRC)
    assert violations(graph) == []
