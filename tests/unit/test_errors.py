"""Every exception of the project lives in `bucketsync/errors.py`, named
`...Error` (Step Functions' ErrorEquals and the one-line messages use the
class name). One exception to the name: `RunInterrupted`, a stop the user
asked for rather than an error, printed by that name (README)."""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2] / "bucketsync"
BASES = {"Exception", "BaseException", "ValueError", "RuntimeError", "OSError", "KeyError"}
NAMED_OTHERWISE = {"RunInterrupted"}


def _classes(path):
    return [node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ClassDef)]


def test_every_exception_is_in_errors_py_with_an_error_name():
    errors = {node.name for node in _classes(ROOT / "errors.py")}
    raised_elsewhere = []
    for path in sorted(ROOT.rglob("*.py")):
        if path.name == "errors.py":
            continue
        for node in _classes(path):
            bases = {getattr(base, "id", getattr(base, "attr", "")) for base in node.bases}
            if bases & (BASES | errors):
                raised_elsewhere.append(f"{path.relative_to(ROOT.parent)}: {node.name}")
    assert raised_elsewhere == []
    assert sorted(name for name in errors - NAMED_OTHERWISE if not name.endswith("Error")) == []
