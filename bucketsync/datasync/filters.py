"""DataSync's include and exclude filters (SIMPLE_PATTERN), pure.

The rules, from DataSync's filtering documentation
(docs.aws.amazon.com/datasync/latest/userguide/filtering.html):
- a filter is one string of patterns joined by `|`, at most 102,400
  characters (not adjustable); NUL is the one character it cannot hold;
- patterns are case-sensitive paths relative to the location's path; a
  pattern for a folder under the location starts with `/`;
- `/dir` and `/dir/` mean the same: the folder and everything in it;
- `*` matches any characters (`/reports*` matches `/reports2021/...`); include
  patterns accept it only as their last character (`/documents*` yes,
  `*.txt` no), exclude patterns anywhere (`*.temp`, `*/.snapshot`);
- a path is transferred when it matches an include pattern (or there are
  none) and no exclude pattern (exclude wins; the documentation gives no
  other precedence).
In S3, `/` in a key is read as a folder separator.
"""
from __future__ import annotations

import re
from typing import Iterable

from ..errors import InvalidInputError

MAX_FILTER_CHARS = 102_400
INCLUDE, EXCLUDE = "include", "exclude"


def pattern_problem(pattern, kind: str) -> str | None:
    """Why DataSync would refuse `pattern` in an `kind` filter, or None."""
    if not isinstance(pattern, str) or not pattern:
        return "must be a non-empty string"
    if "\x00" in pattern:
        return "must not contain a NUL character"
    if "|" in pattern:
        return "must not contain '|' (it separates patterns in a DataSync filter: give a list instead)"
    if kind == INCLUDE:
        if not pattern.startswith("/"):
            return "must start with '/' (include patterns are paths from the task's source location)"
        if "*" in pattern[:-1]:
            return "has '*' before its end: DataSync include filters accept '*' only as the last character"
    elif not pattern.startswith(("/", "*")):
        return "must start with '/' (a path from the location) or '*' (at any depth)"
    return None


def check_patterns(patterns: Iterable[str], kind: str) -> tuple[str, ...]:
    patterns = tuple(patterns)
    for pattern in patterns:
        problem = pattern_problem(pattern, kind)
        if problem:
            raise InvalidInputError(f"datasync {kind} pattern {pattern!r} {problem}")
    return patterns


def join(patterns: Iterable[str], kind: str) -> str:
    """The one filter string DataSync takes (`FilterRule.Value`), checked:
    each pattern by DataSync's rules, duplicates dropped (order kept), and
    the whole within 102,400 characters."""
    unique = tuple(dict.fromkeys(check_patterns(patterns, kind)))
    value = "|".join(unique)
    if len(value) > MAX_FILTER_CHARS:
        raise InvalidInputError(
            f"the datasync {kind} filter would be {len(value):,} characters ({len(unique)} patterns); DataSync "
            f"accepts at most {MAX_FILTER_CHARS:,}: use fewer dates (catch_up_days) or a wider folder pattern")
    return value


def filter_rules(value: str) -> list[dict]:
    """`Includes`/`Excludes` as StartTaskExecution takes them ([] for none)."""
    return [{"FilterType": "SIMPLE_PATTERN", "Value": value}] if value else []


def rule_value(rules) -> str:
    """The filter string of `Includes`/`Excludes` ("" for none)."""
    rules = list(rules or ())
    return rules[0].get("Value", "") if rules else ""


def pattern_regex(pattern: str) -> str:
    """A regular expression for the paths one pattern selects: `*` is any
    characters, and a pattern that names a folder selects what is in it."""
    body = pattern[:-1] if pattern.endswith("/") and len(pattern) > 1 else pattern
    return re.escape(body).replace(r"\*", ".*") + "(?:/.*)?"


def compile_filter(value: str | Iterable[str]) -> re.Pattern | None:
    """A filter (one `|`-joined string, or its patterns) as one regex; None
    for an empty filter."""
    patterns = value.split("|") if isinstance(value, str) else list(value)
    patterns = [p for p in patterns if p]
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{pattern_regex(p)})" for p in patterns), re.DOTALL)


def selects(path: str, includes: re.Pattern | None, excludes: re.Pattern | None) -> bool:
    """Whether DataSync transfers `path` ("/a/b.txt", from the location's root)."""
    if includes is not None and not includes.fullmatch(path):
        return False
    return not (excludes is not None and excludes.fullmatch(path))
