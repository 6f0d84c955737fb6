"""The stack's resources by logical ID, refusing an ID made twice.

Logical IDs are built from names the user chooses (schedules, DataSync
tasks, mirrors) beside the stack's fixed ones; a plain dict would let a
schedule named "dead-letter-alarm" (ScheduleDeadLetterAlarm) silently
replace the alarm of that name, or task "a-role"'s task take the ID of
task "a"'s role. Every builder collects into this instead."""
from __future__ import annotations

from ..errors import ConfigError


class Resources(dict):
    def __setitem__(self, logical_id: str, resource) -> None:
        if logical_id in self:
            raise ConfigError(f"two resources of the stack would both be named {logical_id!r}: a name in SCHEDULES, "
                              f"DATASYNC_TASKS or MIRRORS makes an ID the stack already uses; rename it")
        super().__setitem__(logical_id, resource)

    def update(self, other=(), **more) -> None:   # noqa: D102 - as dict.update, refusing an ID made twice
        for logical_id, resource in dict(other, **more).items():
            self[logical_id] = resource
