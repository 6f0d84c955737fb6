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
    """A predicate on (bucket, key) from the `Owned` areas of a run."""

    def __init__(self, areas):
        self.areas = [(Owned(**a) if isinstance(a, dict) else a) for a in areas or ()]
        self._compiled = [(a.bucket, a.prefix, re.compile(a.pattern, re.DOTALL)) for a in self.areas]

    def __bool__(self) -> bool:
        return bool(self.areas)

    def __call__(self, bucket: str, key: str) -> bool:
        for owned_bucket, prefix, pattern in self._compiled:
            if bucket == owned_bucket and key.startswith(prefix) and pattern.fullmatch("/" + key[len(prefix):]):
                return True
        return False
