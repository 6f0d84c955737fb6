"""SCHEDULES: each entry checked into a Schedule (its expression, time
zone, and an input a deployed run may carry out)."""
from __future__ import annotations

import json
import re
import zoneinfo
from dataclasses import dataclass

from .. import endpoints
from ..datasync.ownership import check_beside_sync
from ..errors import InvalidInputError
from ..execution_input import validate_input
from ..errors import ConfigError
from .reach_checks import check_reachable
from .setting_checks import distinct_ids, fail, logical_id


@dataclass(frozen=True)
class Schedule:
    name: str
    expression: str
    timezone: str
    input: dict
    enabled: bool = True

    @property
    def logical_name(self) -> str:
        """Its resource's name in the template (letters and digits only)."""
        return logical_id("Schedule", self.name)


def check_schedules(values: dict, buckets: dict, where: str, tasks: dict, secrets=()) -> tuple[Schedule, ...]:
    schedules = values.get("schedules", [])
    if not isinstance(schedules, (list, tuple)):
        fail(where, "schedules", f"must be a list, got {type(schedules).__name__}")
    checked = tuple(check_schedule(s, buckets, where, tasks, secrets) for s in schedules)
    # Names are unique within the stack's schedule group; their letters and
    # digits alone also name the template resources, so those must differ too.
    names = [s.name for s in checked]
    if len(set(names)) != len(names):
        fail(where, "schedules", f"has duplicate names: {sorted({n for n in names if names.count(n) > 1})}")
    distinct_ids(where, "schedules", names, "Schedule")
    return checked


SCHEDULE_KEYS = {"name", "expression", "timezone", "input", "enabled"}


def check_schedule(entry, buckets: dict, where: str, tasks: dict | None = None, secrets=()) -> Schedule:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: each SCHEDULES entry must be a dict, got {entry!r}")
    label = f"{where}: schedule {entry.get('name', '?')!r}"
    unknown = sorted(set(entry) - SCHEDULE_KEYS)
    if unknown:
        raise ConfigError(f"{label} has unknown key(s) {unknown}; allowed: {sorted(SCHEDULE_KEYS)}")
    for key in ("name", "expression", "timezone", "input"):
        if key not in entry:
            raise ConfigError(f"{label} is missing {key!r}")
    name = entry["name"]
    if not isinstance(name, str) or not re.fullmatch(r"[0-9A-Za-z_.-]{1,64}", name):
        raise ConfigError(f"{label}: name must be 1-64 letters, digits, '.', '_' or '-' (EventBridge Scheduler's rule)")
    problem = expression_problem(entry["expression"])
    if problem:
        raise ConfigError(f"{label}: expression {entry['expression']!r} {problem}")
    timezone = entry["timezone"]
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigError(f"{label}: timezone {timezone!r} is not an IANA time zone name (like Europe/Paris or UTC)") from None
    try:
        inputs = validate_input(entry["input"], endpoints.DEPLOYED)
    except InvalidInputError as exc:
        raise ConfigError(f"{label}: input is not valid: {exc}") from None
    if inputs.sync is not None:
        check_reachable(inputs.sync, label, buckets, secrets)
    if inputs.datasync is not None and not inputs.datasync.by_arn and inputs.datasync.task not in (tasks or {}):
        raise ConfigError(f"{label}: datasync task {inputs.datasync.task!r} is not in DATASYNC_TASKS")
    if inputs.datasync is not None and not inputs.datasync.by_arn:
        try:
            check_beside_sync(inputs.sync, inputs.datasync, tasks[inputs.datasync.task])
        except InvalidInputError as exc:
            raise ConfigError(f"{label}: {exc}") from None
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{label}: enabled must be true or false")
    return Schedule(name, entry["expression"], timezone, json.loads(json.dumps(entry["input"])), enabled)


_CRON_FIELD = re.compile(r"^[0-9A-Za-z*?,/#L W-]+$")


def expression_problem(expression) -> str | None:
    """Why an EventBridge Scheduler expression is malformed, or None."""
    if not isinstance(expression, str):
        return "must be a string"
    if m := re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression):
        value, unit = int(m.group(1)), m.group(2)
        if value < 1:
            return "must have a rate of at least 1"
        if (value == 1) != (not unit.endswith("s")):
            return "must use a singular unit for 1 and a plural one otherwise (rate(1 hour), rate(2 hours))"
        return None
    if re.fullmatch(r"at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)", expression):
        return None
    if m := re.fullmatch(r"cron\((.*)\)", expression):
        parts = m.group(1).split()
        if len(parts) != 6:
            return "must have 6 fields: minutes hours day-of-month month day-of-week year"
        if not all(_CRON_FIELD.match(p) for p in parts):
            return "has characters a cron field cannot hold"
        day_of_month, day_of_week = parts[2], parts[4]
        if (day_of_month == "?") == (day_of_week == "?"):
            return "must have '?' in exactly one of day-of-month and day-of-week"
        for value, low, high, what in ((parts[0], 0, 59, "minutes"), (parts[1], 0, 23, "hours")):
            for number in re.findall(r"\d+", value):
                if not low <= int(number) <= high:
                    return f"has {what} {number} outside {low}-{high}"
        return None
    return "must be cron(...), rate(...) or at(...)"
