"""No function in src/helpers is longer than 60 lines (issue "three layers"): a long
function does several jobs; split it."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "helpers"
LIMIT = 60


def long_functions(root: Path = SRC, limit: int = LIMIT) -> list[tuple[str, str, int]]:
    out = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > limit:
                    out.append((str(path.relative_to(root)), node.name, n))
    return out


def test_no_function_is_longer_than_60_lines():
    assert long_functions() == []


def test_the_count_finds_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMIT))
    (tmp_path / "m.py").write_text(f"def short():\n    pass\n\n\ndef long():\n{body}\n")
    assert long_functions(tmp_path) == [("m.py", "long", LIMIT + 1)]
