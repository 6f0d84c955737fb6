"""Load `state_machines/*.yaml` and fill in its ${Name} placeholders."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from .frontmatter import ROOT

DEFINITION = ROOT / "state_machines" / "sync_buckets.yaml"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")


# libyaml's loader when PyYAML has it: the same safe loading, ~6x faster
# (the definition is loaded on every local run).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(path: Path = DEFINITION) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)   # noqa: S506 - a safe loader


def placeholders(node) -> set[str]:
    found = set()
    if isinstance(node, dict):
        for value in node.values():
            found |= placeholders(value)
    elif isinstance(node, list):
        for value in node:
            found |= placeholders(value)
    elif isinstance(node, str):
        found |= set(_PLACEHOLDER.findall(node))
    return found


def render(substitutions: dict, path: Path = DEFINITION) -> dict:
    """The definition with every placeholder replaced; a string that is a
    single placeholder takes the value's own type (MaxConcurrency: 40)."""
    definition = load(path)
    missing = placeholders(definition) - set(substitutions)
    if missing:
        raise KeyError(f"{path.name}: no value for placeholder(s) {', '.join(sorted(missing))}")

    def fill(node):
        if isinstance(node, dict):
            return {key: fill(value) for key, value in node.items()}
        if isinstance(node, list):
            return [fill(value) for value in node]
        if isinstance(node, str):
            whole = _PLACEHOLDER.fullmatch(node)
            if whole:
                return substitutions[whole.group(1)]
            return _PLACEHOLDER.sub(lambda m: str(substitutions[m.group(1)]), node)
        return node

    return fill(definition)
