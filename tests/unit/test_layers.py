"""The deploy tooling stands apart from the local engine: `fab status`,
`fab start`, `fab versions` and `fab rollback` import no moto."""
import subprocess
import sys

import pytest

from bucketsync.deploy import tasks
from bucketsync.errors import DeployError


def test_deploy_tasks_import_no_moto():
    code = ("import sys, bucketsync.deploy.tasks, bucketsync.deploy.stack; "
            "print(sorted(m for m in sys.modules if m == 'moto' or m.startswith(('moto.', 'bucketsync.local.engine'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


@pytest.mark.parametrize("typed, number", [(None, None), ("3", 3), (7, 7)])
def test_rollback_to_takes_a_version_number(typed, number):
    assert tasks.version_number(typed) == number


@pytest.mark.parametrize("typed", ["latest", "-1", "0", "2.5", ""])
def test_rollback_to_anything_else_is_a_deploy_error(typed):
    with pytest.raises(DeployError, match="--to must be a version number"):
        tasks.version_number(typed)


def test_the_unit_tier_needs_no_emulator():
    """Unit tests are pure logic: moto, servers and the engine belong to the
    functional and integration tiers."""
    from pathlib import Path
    offenders = [path.name for path in Path(__file__).parent.glob("test_*.py")
                 if any(line.startswith(("from moto", "import moto", "from bucketsync.local import engine",
                                         "from bucketsync.local.engine", "from tests.backends", "from tests.servers"))
                        for line in path.read_text().splitlines())]
    assert offenders == []


def _imported_packages(path) -> set[str]:
    """The bucketsync packages a module imports, at its top or inside a
    function, by absolute or relative name ("bucketsync.local", ...)."""
    import ast
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names = [module] if node.module else [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {".".join(name.split(".")[:2]) for name in names if name.startswith("bucketsync.")}
    return found


@pytest.mark.parametrize("layer, never", [
    ("deploy", {"bucketsync.local"}),
    ("local", {"bucketsync.deploy"}),
    ("project", {"bucketsync.local", "bucketsync.deploy"}),
])
def test_layers_point_one_way(layer, never):
    """DESIGN.md: local/ and deploy/ may both use the runtime package (and
    what they share, project/), never each other."""
    from pathlib import Path
    directory = Path(__file__).resolve().parents[2] / "bucketsync" / layer
    offenders = {f"{path.name} imports {name}" for path in directory.rglob("*.py")
                 for name in _imported_packages(path) & never}
    assert offenders == set()


def test_shipped_code_imports_nothing_that_is_not_shipped():
    """The Lambda zip holds neither local/, deploy/ nor project/: code that
    is shipped must not import them."""
    from pathlib import Path

    from bucketsync.deploy import package
    shipped = [path for _, path in package.files()]   # the handler files and the runtime package
    unshipped = {f"bucketsync.{name}" for name in package.NOT_SHIPPED}
    offenders = {f"{Path(path).name} imports {name}" for path in shipped
                 for name in _imported_packages(path) & unshipped}
    assert offenders == set()
