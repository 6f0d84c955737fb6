"""The Lambda zip holds exactly the handlers and the runtime package: nothing
of the local engine (the local DataSync and its preview included) nor of the
deploy tooling, and no shipped module imports either, so the zip alone runs."""
import ast
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bucketsync.deploy import package
from bucketsync.project.frontmatter import FUNCTIONS_DIR, ROOT, lambda_files

NOT_SHIPPED = ("bucketsync/local/", "bucketsync/deploy/", "bucketsync/project/")


@pytest.fixture(scope="module")
def names() -> list[str]:
    return zipfile.ZipFile(io.BytesIO(package.build())).namelist()


def test_the_zip_holds_the_handlers_and_the_runtime_package_exactly(names):
    handlers = {path.name for path in FUNCTIONS_DIR.glob("*.py")}
    runtime = {path.relative_to(ROOT).as_posix() for path in (ROOT / "bucketsync").rglob("*.py")
               if "__pycache__" not in path.parts}
    assert set(names) == handlers | {name for name in runtime if not name.startswith(NOT_SHIPPED)}
    assert len(names) == len(set(names))
    assert {f"{f.path.stem}.py" for f in lambda_files()} <= handlers
    for local_only in ("bucketsync/local/datasync.py", "bucketsync/local/datasync_preview.py"):
        assert local_only in runtime and local_only not in names
    assert not any(name.startswith(NOT_SHIPPED) for name in names)
    assert not {"bucketsync/datasync/local.py", "bucketsync/datasync/preview.py"} & set(names)


def test_every_shipped_package_has_an_init(names):
    folders = {name.rsplit("/", 1)[0] for name in names if "/" in name}
    assert folders >= {"bucketsync", "bucketsync/datasync", "bucketsync/s3"}
    assert sorted(f for f in folders if f"{f}/__init__.py" not in names) == []


def _imported(module: str, tree: ast.AST) -> set[str]:
    """Full names of the modules (or package members) a module imports,
    relative imports resolved: `module` is its dotted name."""
    package_parts = module.split(".")[:-1]   # a package's __init__ is in the package too
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module.split(".") if node.module else []
            if node.level:
                base = package_parts[:len(package_parts) - node.level + 1] + base
            found |= {".".join(base + [alias.name]) for alias in node.names} | {".".join(base)}
    return found


def test_no_shipped_module_imports_the_local_engine_or_the_deploy_tooling():
    offenders = []
    for name, path in package.files():
        module = name[:-3].replace("/", ".")
        for imported in _imported(module, ast.parse(path.read_text())):
            if imported.startswith(("bucketsync.local", "bucketsync.deploy")):
                offenders.append((name, imported))
    assert offenders == []


def test_the_relative_import_resolution_finds_a_local_import():
    tree = ast.parse("from ..local import datasync\nfrom .. import deploy\n")
    assert {"bucketsync.local.datasync", "bucketsync.deploy"} <= _imported("bucketsync.datasync.steps", tree)


def test_every_handler_imports_from_the_zip_alone(tmp_path):
    zipfile.ZipFile(io.BytesIO(package.build())).extractall(tmp_path)
    handlers = sorted(path.stem for path in tmp_path.glob("*.py"))
    code = (f"import importlib, sys; sys.path.insert(0, {str(tmp_path)!r}); "
            f"[importlib.import_module(h) for h in {handlers!r}]; "
            "loaded = [m for m, v in sys.modules.items() if m.split('.')[0] == 'bucketsync']; "
            f"print(sorted(m for m in loaded if not (getattr(sys.modules[m], '__file__', None) or '')"
            f".startswith({str(tmp_path)!r}) or m.startswith(('bucketsync.local', 'bucketsync.deploy'))))")
    # -I: neither the working directory nor PYTHONPATH on the path, so only
    # the zip's files (and the installed boto3) can be imported.
    answer = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == "[]"
    assert Path(tmp_path, "bucketsync", "datasync", "__init__.py").exists()
