"""The execution input's `datasync` key, checked (pure):

    {"task": <name in DATASYNC_TASKS, or a task ARN>,
     "include": [<folder templates>], "exclude": [<patterns>],
     "date": "yesterday" | "today" | "YYYY-MM-DD", "timezone": <IANA name>,
     "catch_up_days": <int>, "allow_empty_source": <bool>}
"""
from __future__ import annotations

import zoneinfo
from dataclasses import asdict, dataclass
from datetime import date

from ..errors import InvalidInputError
from ..sync_request import _bool
from . import filters
from .tasks import NAME, TASK_ARN
from .templates import check_template

KEYS = ("task", "include", "exclude", "date", "timezone", "catch_up_days", "allow_empty_source")
MAX_CATCH_UP_DAYS = 366


@dataclass(frozen=True)
class DataSyncRequest:
    task: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    date: str = "yesterday"
    timezone: str = "UTC"
    catch_up_days: int = 0
    # With PreserveDeletedFiles REMOVE, a source with nothing in the
    # execution's filters would empty the destination there: only with this
    # consent (as the object sync's own `allow_empty_source`).
    allow_empty_source: bool = False

    @property
    def by_arn(self) -> bool:
        return self.task.startswith("arn:")

    def to_dict(self) -> dict:
        return dict(asdict(self), include=list(self.include), exclude=list(self.exclude))

    @classmethod
    def from_dict(cls, data: dict) -> "DataSyncRequest":
        return cls(**dict(data, include=tuple(data.get("include") or ()), exclude=tuple(data.get("exclude") or ())))


def validate_datasync(data) -> DataSyncRequest:
    if not isinstance(data, dict):
        raise InvalidInputError(f"'datasync' must be a JSON object with at least 'task', got {data!r}")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise InvalidInputError(f"unknown 'datasync' key(s) {unknown}; allowed: {', '.join(KEYS)}")
    task = data.get("task")
    if not isinstance(task, str) or not (NAME.fullmatch(task) or TASK_ARN.fullmatch(task)):
        raise InvalidInputError(f"'datasync.task' must name a task of DATASYNC_TASKS or be a DataSync task ARN "
                                f"(arn:aws:datasync:REGION:ACCOUNT:task/task-ID), got {task!r}")
    include = _list(data, "include")
    for template in include:
        check_template(template)
        # A template is an include pattern once its dates are filled in,
        # except for a '*' standing for a folder name, expanded by listing.
        problem = filters.pattern_problem(template.replace("{", "").replace("}", ""), filters.EXCLUDE)
        if problem:
            raise InvalidInputError(f"datasync include template {template!r} {problem}")
        if "*" in template.rsplit("/", 1)[-1][:-1]:
            raise InvalidInputError(f"datasync include template {template!r}: DataSync include filters accept '*' "
                                    f"only at the end, and a '*' inside the last name cannot be expanded by "
                                    f"listing folders")
    exclude = filters.check_patterns(_list(data, "exclude"), filters.EXCLUDE)
    day = data.get("date", "yesterday")
    if day not in ("yesterday", "today"):
        try:
            date.fromisoformat(day if isinstance(day, str) and len(day) == 10 else "")
        except ValueError:
            raise InvalidInputError(f"'datasync.date' must be \"yesterday\", \"today\" or a date YYYY-MM-DD, "
                                    f"got {day!r}") from None
    zone = data.get("timezone", "UTC")
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidInputError(f"'datasync.timezone' must be an IANA time zone name (like Europe/Paris or UTC), "
                                f"got {zone!r}") from None
    days = data.get("catch_up_days", 0)
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_CATCH_UP_DAYS:
        raise InvalidInputError(f"'datasync.catch_up_days' must be an integer from 0 to {MAX_CATCH_UP_DAYS}, "
                                f"got {days!r}")
    allow_empty = _bool({"datasync.allow_empty_source": data.get("allow_empty_source", False)},
                        "datasync.allow_empty_source", False)
    return DataSyncRequest(task, include, exclude, day, zone, days, allow_empty)


def _list(data: dict, key: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise InvalidInputError(f"'datasync.{key}' must be a list of patterns, got {value!r}")
    return tuple(value)
