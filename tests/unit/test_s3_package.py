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


def test_every_public_name_of_the_adapters_modules_is_reexported():
    missing = []
    for module_info in pkgutil.iter_modules(s3.__path__):
        module = importlib.import_module(f"bucketsync.s3.{module_info.name}")
        assert defined(module), module_info.name
        missing += [f"{module_info.name}.{name}" for name in sorted(defined(module))
                    if name not in s3.__all__ or getattr(s3, name) is not getattr(module, name)]
    assert missing == []


def test_the_package_defines_nothing_itself():
    assert sorted(s3.__all__) == s3.__all__
    assert defined(s3) == set()
