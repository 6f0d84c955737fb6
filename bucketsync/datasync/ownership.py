"""Which keys belong to DataSync when one execution input asks for both a
DataSync transfer and an object-level sync.

Every key that a `datasync` include template matches for any date (or, with
no template, every key under the task's location) belongs to DataSync: the
object-level sync neither copies nor deletes it, so nothing is copied twice,
old dated folders are not bulk-copied by the object sync, and nothing
DataSync wrote is deleted. Decided on full keys, per bucket, so the two
sides' prefixes may differ from the task's locations.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .templates import any_date_regex
from .tasks import Location


@dataclass(frozen=True)
class Owned:
    """Keys of `bucket` under `prefix` whose DataSync path ("/" + the rest)
    matches `pattern` (a regex source)."""
    bucket: str
    prefix: str
    pattern: str

    def to_dict(self) -> dict:
        return {"bucket": self.bucket, "prefix": self.prefix, "pattern": self.pattern}


def owned(location: Location, templates) -> Owned | None:
    """What DataSync owns at an S3 location (None for other kinds)."""
    if location.kind != "s3":
        return None
    paths = [any_date_regex(t) for t in templates] or ["/.*"]
    return Owned(location.bucket, location.prefix, "|".join(f"(?:{p}(?:/.*)?)" for p in paths))


class OwnedKeys:
    """The `Owned` areas of a run, as predicates on each side's keys."""

    def __init__(self, areas):
        self._compiled = [(a.bucket, a.prefix, re.compile(a.pattern, re.DOTALL))
                          for a in (Owned(**a) if isinstance(a, dict) else a for a in areas or ())]

    def within(self, bucket: str, side_prefix: str):
        """Whether DataSync owns a relative key of one side (keys of
        `bucket` under `side_prefix`), with what is fixed for the side
        worked out once; None when no area reaches that side."""
        checks = []
        for owned_bucket, prefix, pattern in self._compiled:
            if owned_bucket != bucket:
                continue
            if side_prefix.startswith(prefix):       # every key of the side is under the area
                head = "/" + side_prefix[len(prefix):]
                checks.append(lambda rel, head=head, match=pattern.fullmatch: match(head + rel) is not None)
            elif prefix.startswith(side_prefix):     # the area is one folder of the side
                rest = prefix[len(side_prefix):]
                checks.append(lambda rel, rest=rest, cut=len(rest), match=pattern.fullmatch:
                              rel.startswith(rest) and match("/" + rel[cut:]) is not None)
        if not checks:
            return None
        return lambda rel: any(check(rel) for check in checks)
