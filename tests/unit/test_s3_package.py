"""The S3 adapter is one package whose modules hold its parts; callers use
`from bucketsync import s3` and `s3.<name>`, so every public name defined
in its modules is re-exported, as the very same object."""
import ast
import importlib
import inspect
import pkgutil

from bucketsync import s3


def defined(module) -> set[str]:
    """The public names a module defines at its top level (not imports)."""
    names = set()
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
    return {name for name in names if not name.startswith("_")}


# The CRT transport: beneath the adapter (what `clients` gives it as a
# client), not what callers use; nothing outside s3/ and clients.py imports them.
TRANSPORT = {"crt", "wire", "answers"}


def test_every_public_name_of_the_adapters_modules_is_reexported():
    missing = []
    for module_info in pkgutil.iter_modules(s3.__path__):
        if module_info.name in TRANSPORT:
            continue
        module = importlib.import_module(f"bucketsync.s3.{module_info.name}")
        assert defined(module), module_info.name
        missing += [f"{module_info.name}.{name}" for name in sorted(defined(module))
                    if name not in s3.__all__ or getattr(s3, name) is not getattr(module, name)]
    assert missing == []


def test_the_package_defines_nothing_itself():
    assert sorted(s3.__all__) == s3.__all__
    assert defined(s3) == set()


def test_only_the_clients_reach_the_transport():
    """The transport modules are imported by the adapter's clients alone
    (clients.py makes CrtClients), never by the steps that use s3."""
    import pathlib
    root = pathlib.Path(s3.__file__).parent.parent
    users = sorted(str(path.relative_to(root)) for path in root.rglob("*.py")
                   if "s3" not in path.relative_to(root).parts[:1]
                   and any(f"s3.{name}" in path.read_text() or f"s3 import {name}" in path.read_text()
                           for name in TRANSPORT))
    assert users == ["clients.py"], users
