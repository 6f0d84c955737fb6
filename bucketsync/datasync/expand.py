"""From templates and dates to the include patterns one execution passes.

DataSync accepts `*` in an include pattern only at its end, so a `*` that
stands for a folder name (`/topics/*/year=2026/...`) is expanded here by
listing the source's folders at that level (every page of them). Folders
that do not exist are left out: a date whose folders are all absent is not
transferred and stays missed (its data may arrive late), and an execution
left with no pattern at all is not started, since DataSync with no include
filter would transfer the whole location.

`Folders` is what listing needs: `children(path)` (the folder names directly
under a "/a/b/" path) and `exists(path)` (anything at or under it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, Protocol

from .templates import render


class Folders(Protocol):
    def children(self, path: str) -> Iterable[str]: ...
    def exists(self, path: str) -> bool: ...


@dataclass
class Expansion:
    patterns: list[str] = field(default_factory=list)      # in order, no duplicates
    dates: list[date] = field(default_factory=list)        # dates that have at least one pattern
    empty_dates: list[date] = field(default_factory=list)  # dates with nothing at the source (yet)


def expand(templates: Iterable[str], dates: Iterable[date], folders: Folders | None) -> Expansion:
    """Every template for every date; with `folders`, `*` folder segments
    expanded and absent paths dropped (without it, as rendered: a source
    that cannot be listed from here, such as EFS)."""
    result = Expansion()
    cache: dict[str, list[str]] = {}
    present: dict[str, bool] = {}   # a path asked once per run, whatever the dates
    seen: set[str] = set()
    for day in dates:
        found = False
        for template in templates:
            for pattern in _concrete(render(template, day), folders, cache):
                if folders is not None:
                    path = _static_part(pattern)
                    if path not in present:
                        present[path] = folders.exists(path)
                    if not present[path]:
                        continue
                found = True
                if pattern not in seen:
                    seen.add(pattern)
                    result.patterns.append(pattern)
        (result.dates if found else result.empty_dates).append(day)
    return result


def _concrete(rendered: str, folders: Folders | None, cache: dict) -> list[str]:
    """The rendered template with each `*` folder segment (any segment but
    the last) replaced by the folder names that exist there."""
    segments = rendered.split("/")[1:]
    if folders is None:
        return [rendered]
    paths = ["/"]
    for segment in segments[:-1]:
        if "*" not in segment:
            paths = [f"{p}{segment}/" for p in paths]
            continue
        matcher = re.compile(re.escape(segment).replace(r"\*", ".*"), re.DOTALL)
        expanded = []
        for parent in paths:
            if parent not in cache:
                cache[parent] = sorted(folders.children(parent))
            expanded.extend(f"{parent}{name}/" for name in cache[parent] if matcher.fullmatch(name))
        paths = expanded
    return [p + segments[-1] for p in paths]


def _static_part(pattern: str) -> str:
    """The path before a trailing `*` ("/2026-11-22/*" -> "/2026-11-22/")."""
    return pattern[:-1] if pattern.endswith("*") else pattern
