"""The Lambda zip holds exactly the handlers, the runtime package and the
awscrt wheel built for the functions' architecture: nothing of the local
engine (the local DataSync and its preview included) nor of the deploy
tooling, no shipped module imports either, and the zip alone runs.

The wheels come from the project's cache (.bucketsync/wheels), filled from
PyPI by the first build that needs one (crt_wheel.wheel_path)."""
import ast
import io
import json
import platform
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bucketsync.deploy import crt_wheel, package
from bucketsync.project.frontmatter import FUNCTIONS_DIR, ROOT, lambda_files
from bucketsync.project.setting_checks import LAMBDA_ARCHITECTURES

NOT_SHIPPED = ("bucketsync/local/", "bucketsync/deploy/", "bucketsync/project/")
# What shipped code may import besides the standard library and itself:
# the AWS SDK, which Lambda's Python runtime provides (boto3, botocore and
# urllib3 under it), and awscrt, which the zip carries.
ALLOWED_IMPORTS = {"boto3", "botocore", "urllib3", "awscrt"}
# Loaded under boto3 in Lambda's runtime: boto3's and botocore's own
# dependencies (certifi is an optional import of botocore's, when present).
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3", "certifi"}
# The Lambda architecture of this machine, whose wheel can be loaded here.
HERE = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine()]


@pytest.fixture(scope="module", params=LAMBDA_ARCHITECTURES)
def built(request) -> tuple[str, bytes]:
    return request.param, package.build(request.param)


def wheel_files(architecture: str) -> set[str]:
    """The wheel's files, read from the wheel itself (not through package)."""
    with zipfile.ZipFile(crt_wheel.wheel_path(architecture)) as wheel:
        return {name for name in wheel.namelist() if not name.endswith("/")}


def test_the_zip_holds_the_handlers_the_runtime_package_and_the_wheel_exactly(built):
    architecture, data = built
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    handlers = {path.name for path in FUNCTIONS_DIR.glob("*.py")}
    runtime = {path.relative_to(ROOT).as_posix() for path in (ROOT / "bucketsync").rglob("*.py")
               if "__pycache__" not in path.parts}
    wheel = wheel_files(architecture)
    assert {"_awscrt.abi3.so", "awscrt/__init__.py", "awscrt/s3.py"} <= wheel
    assert set(names) == handlers | {name for name in runtime if not name.startswith(NOT_SHIPPED)} | wheel
    assert len(names) == len(set(names)) and names == sorted(names)
    assert {f"{f.path.stem}.py" for f in lambda_files()} <= handlers
    for local_only in ("bucketsync/local/datasync.py", "bucketsync/local/datasync_preview.py"):
        assert local_only in runtime and local_only not in names
    assert not any(name.startswith(NOT_SHIPPED) for name in names)
    assert not {"bucketsync/datasync/local.py", "bucketsync/datasync/preview.py"} & set(names)


def test_each_architecture_gets_its_own_build_of_the_library(built):
    """The ELF header names the machine: 183 is AArch64, 62 is x86-64."""
    architecture, data = built
    library = zipfile.ZipFile(io.BytesIO(data)).read("_awscrt.abi3.so")
    assert library[:4] == b"\x7fELF"
    assert int.from_bytes(library[18:20], "little") == {"arm64": 183, "x86_64": 62}[architecture]


def test_entries_have_fixed_times_and_world_readable_modes(built):
    """Lambda needs every file readable by all (644), and the shared
    library keeps its executable bits (755); Unix modes, fixed times."""
    _, data = built
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    modes = {info.filename: info.external_attr >> 16 for info in infos}
    assert modes["_awscrt.abi3.so"] == stat.S_IFREG | 0o755
    assert {mode for name, mode in modes.items() if name != "_awscrt.abi3.so"} == {stat.S_IFREG | 0o644}
    assert {(info.create_system, info.date_time) for info in infos} == {(3, (1980, 1, 1, 0, 0, 0))}


def test_the_same_tree_builds_the_same_bytes(built):
    architecture, data = built
    assert package.build(architecture) == data
    other = [a for a in LAMBDA_ARCHITECTURES if a != architecture][0]
    assert package.object_key(package.build(other)) != package.object_key(data)


def test_sizes_are_far_below_lambdas_quotas(built):
    """Lambda: 250 MB extracted (262,144,000 bytes, layers included), and
    50 MB zipped for a direct upload (ours goes through S3, but fits that too).
    Measured with awscrt 0.38.0: arm64 4.2 MB zipped, 11.9 MB extracted;
    x86_64 4.5 MB and 12.8 MB."""
    _, data = built
    extracted = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    assert len(data) < 10 * 2**20 and extracted < 20 * 2**20
    assert extracted < package.UNZIPPED_LIMIT == 262_144_000 and len(data) < 50 * 2**20


def test_a_zip_over_the_extracted_quota_is_refused(monkeypatch):
    monkeypatch.setattr(package, "UNZIPPED_LIMIT", 1_000_000)
    with pytest.raises(package.DeployError, match=r"would extract to [\d,]+ bytes, over Lambda's 1,000,000"):
        package.build("arm64")


def test_a_name_both_we_and_the_wheel_hold_is_refused(monkeypatch, tmp_path):
    clash = tmp_path / "s3.py"
    clash.write_text("")
    real = package.files
    monkeypatch.setattr(package, "files", lambda: real() + [("awscrt/s3.py", clash)])
    with pytest.raises(package.DeployError, match=r"would hold awscrt/s3\.py twice"):
        package.build("arm64")


def test_the_wheel_pin_is_the_runtime_requirement():
    pins = re.findall(r"^awscrt==(\S+)", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert pins == [crt_wheel.VERSION]
    for path in ROOT.glob("requirements*.txt"):
        if path.name != "requirements.txt":
            assert not re.search(r"^awscrt\b", path.read_text(), re.MULTILINE), f"{path.name}: one pin, in requirements.txt"
    assert set(crt_wheel.WHEELS) == set(LAMBDA_ARCHITECTURES)


def test_every_shipped_package_has_an_init(built):
    names = zipfile.ZipFile(io.BytesIO(built[1])).namelist()
    folders = {name.rsplit("/", 1)[0] for name in names if "/" in name and ".dist-info/" not in name}
    assert folders >= {"bucketsync", "bucketsync/datasync", "bucketsync/s3", "awscrt"}
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


def test_shipped_code_imports_only_the_stdlib_the_aws_sdk_and_awscrt():
    """Imports anywhere in a module count, a lazy one inside a function too."""
    allowed = set(sys.stdlib_module_names) | ALLOWED_IMPORTS | {"bucketsync"}
    offenders = []
    for name, path in package.files():
        module = name[:-3].replace("/", ".")
        roots = {imported.split(".")[0] for imported in _imported(module, ast.parse(path.read_text()))}
        offenders += [(name, root) for root in sorted(roots - allowed) if root]
    assert offenders == []


def test_the_relative_import_resolution_finds_a_local_import():
    tree = ast.parse("from ..local import datasync\nfrom .. import deploy\n")
    assert {"bucketsync.local.datasync", "bucketsync.deploy"} <= _imported("bucketsync.datasync.steps", tree)


def test_every_handler_and_awscrt_import_from_the_zip_alone(tmp_path):
    """This machine's build of the wheel (x86_64 here: python3.11 loads the
    cp311-abi3 library) really loads from the extracted zip, and nothing is
    imported beyond the stdlib, the zip and what Lambda's runtime provides."""
    zipfile.ZipFile(io.BytesIO(package.build(HERE))).extractall(tmp_path)
    handlers = sorted(path.stem for path in tmp_path.glob("*.py"))
    code = f"""
import importlib, json, sys, sysconfig
before = set(sys.modules)
sys.path.insert(0, {str(tmp_path)!r})
for handler in {handlers!r}:
    importlib.import_module(handler)
import awscrt.auth, awscrt.checksums, awscrt.http, awscrt.s3
assert awscrt.checksums.crc32(b"abc") == 0x352441C2   # the library runs, not only loads
where = {{"zip": set(), "installed": set()}}
for name in set(sys.modules) - before:
    path = getattr(sys.modules[name], "__file__", None) or ""
    if path.startswith({str(tmp_path)!r}):
        where["zip"].add(name.split(".")[0])
    elif path and not path.startswith(sysconfig.get_paths()["stdlib"]):
        where["installed"].add(name.split(".")[0])
print(json.dumps({{place: sorted(names) for place, names in where.items()}}))
"""
    # -I: neither the working directory nor PYTHONPATH on the path, so only
    # the zip's files (and the installed AWS SDK) can be imported.
    answer = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert answer.returncode == 0, answer.stderr
    loaded = json.loads(answer.stdout)
    assert set(loaded["zip"]) == {"bucketsync", "awscrt", "_awscrt"} | set(handlers)
    assert set(loaded["installed"]) <= RUNTIME_PROVIDED and {"boto3", "botocore"} <= set(loaded["installed"])
    assert Path(tmp_path, "bucketsync", "datasync", "__init__.py").exists()
