"""Date-templated folder patterns (pure, no I/O).

A template is a DataSync filter path with date fields, e.g.
`/{date:%Y-%m-%d}/*` or `/topics/*/year={date:%Y}/month={date:%m}/day={date:%d}/*`.
`{date:<strftime>}` is replaced by the run's date(s); a `*` that stands for a
whole folder name before the last segment is expanded later by listing the
source (`expand.py`), because DataSync itself accepts a wildcard only at a
pattern's end.

Dates are computed in the request's time zone from the execution's start
time, never from the machine's clock or zone: "yesterday" at 00:30 in
Europe/Paris is the day before in Paris, whatever UTC says.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from ..errors import InvalidInputError

FIELD = re.compile(r"\{date:([^{}]*)\}")
# strftime directives a folder name can carry.
# Locale-dependent or ambiguous ones (%c, %x, %X, %p, %Z, %z ...) are refused:
# the same template must name the same folders on every machine.
DIRECTIVES = ("Y", "y", "m", "d", "j", "e", "H", "U", "W", "V", "G", "u", "w", "b", "B", "a", "A", "%")
_ENGLISH_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                   "October", "November", "December")
_ENGLISH_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def check_template(template) -> str:
    """The template, or InvalidInputError naming what is wrong with it."""
    if not isinstance(template, str) or not template:
        raise InvalidInputError(f"datasync include template must be a non-empty string, got {template!r}")
    if not template.startswith("/"):
        raise InvalidInputError(f"datasync template {template!r} must start with '/' (DataSync filter paths are "
                                f"relative to the task's source location and start with '/')")
    rest = FIELD.sub("", template)
    if "{" in rest or "}" in rest:
        raise InvalidInputError(f"datasync template {template!r} has a brace that is not a {{date:<format>}} field")
    for fmt in FIELD.findall(template):
        if not fmt:
            raise InvalidInputError(f"datasync template {template!r} has an empty {{date:}} field")
        for directive in re.findall(r"%(.?)", fmt):
            if directive not in DIRECTIVES:
                raise InvalidInputError(
                    f"datasync template {template!r}: %{directive} is not a supported date directive "
                    f"(use {', '.join('%' + d for d in DIRECTIVES)})")
        if "/" in fmt or "|" in fmt or "*" in fmt:
            raise InvalidInputError(f"datasync template {template!r}: a date field cannot hold '/', '|' or '*'")
    return template


def render(template: str, day: date) -> str:
    """The template with its date fields filled in for `day` (English month
    and day names, whatever the machine's locale)."""
    def fill(match):
        out = []
        for part in re.split(r"(%.)", match.group(1)):
            if len(part) == 2 and part[0] == "%":
                out.append(_directive(part[1], day))
            else:
                out.append(part)
        return "".join(out)
    return FIELD.sub(fill, template)


def _directive(directive: str, day: date) -> str:
    if directive == "%":
        return "%"
    if directive in "bB":
        name = _ENGLISH_MONTHS[day.month - 1]
        return name[:3] if directive == "b" else name
    if directive in "aA":
        name = _ENGLISH_DAYS[day.weekday()]
        return name[:3] if directive == "a" else name
    if directive == "e":
        return f"{day.day:2d}"
    return day.strftime("%" + directive)


def local_today(now: datetime, zone: str) -> date:
    """The calendar date at instant `now` in time zone `zone`."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(ZoneInfo(zone)).date()


def target_date(spec: str, now: datetime, zone: str) -> date:
    """"yesterday" (default), "today" or an ISO date, in `zone` at `now`."""
    today = local_today(now, zone)
    if spec == "today":
        return today
    if spec == "yesterday":
        return today - timedelta(days=1)
    return date.fromisoformat(spec)


def run_dates(target: date, catch_up_days: int, done: set[date]) -> list[date]:
    """The dates one run transfers, oldest first: `target` always, and each
    of the `catch_up_days` days before it not yet transferred (not in
    `done`, the dates runs transferred successfully). A date that failed or
    had nothing at the source yet stays missed until a run transfers it.
    Without a record the whole window is missed (with TransferMode CHANGED,
    folders already in place cost a comparison only)."""
    window = [target - timedelta(days=n) for n in range(catch_up_days, 0, -1)]
    return [d for d in window if d not in done] + [target]
