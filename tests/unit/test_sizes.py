"""Code a newcomer can read: no module of `bucketsync/` above 300 lines and
no function above 50, unless the reason is written at its top (a comment
`# Long: <why>` among a module's first ten lines, or among a function's
first lines, its docstring included)."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2] / "bucketsync"
MODULE_LINES, FUNCTION_LINES = 300, 50
MODULES = sorted(ROOT.rglob("*.py"))


def _reason(lines: list[str], first: int, count: int) -> bool:
    return any(line.strip().startswith("# Long:") for line in lines[first:first + count])


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_modules_and_functions_stay_small_or_say_why(path):
    lines = path.read_text().splitlines()
    too_long = []
    if len(lines) > MODULE_LINES and not _reason(lines, 0, 10):
        too_long.append(f"module: {len(lines)} lines")
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            size = node.end_lineno - node.lineno + 1
            body_start = node.body[0].lineno - 1
            if isinstance(node.body[0], ast.Expr) and isinstance(getattr(node.body[0], "value", None), ast.Constant):
                body_start = node.body[0].end_lineno    # after the docstring
            if size > FUNCTION_LINES and not _reason(lines, node.lineno - 1, body_start - node.lineno + 4):
                too_long.append(f"{node.name} (line {node.lineno}): {size} lines")
    assert not too_long, f"{path.name}: " + "; ".join(too_long)
