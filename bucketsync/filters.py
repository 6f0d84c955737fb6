"""Include/exclude glob filters over relative keys (pure).

A key is in scope when it matches at least one `include` pattern (or there are
none) and no `exclude` pattern. Patterns are shell globs matched against the
whole relative key, case-sensitively; `*` also matches "/" (as in aws s3 sync),
so "*.tmp" excludes temporary files at any depth. Keys out of scope are neither
copied nor deleted: a filter never causes a delete.
"""
from __future__ import annotations

import re
from fnmatch import translate


class KeyFilter:
    def __init__(self, include=(), exclude=()):
        self._include = _compile(include)
        self._exclude = _compile(exclude)

    def __call__(self, relative_key: str) -> bool:
        if self._include and not self._include.match(relative_key):
            return False
        return not (self._exclude and self._exclude.match(relative_key))

    @property
    def passes_everything(self) -> bool:
        return self._include is None and self._exclude is None


def _compile(patterns):
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{translate(p)})" for p in patterns), re.DOTALL)
