"""Which keys belong to DataSync when one execution input asks for both a
DataSync transfer and an object-level sync.

DataSync owns exactly what this run's execution is asked to transfer: the
paths its include filter selects (the templates expanded for this run's
dates), or, with no template, everything under the task's locations. The
object-level sync neither copies nor deletes those keys, and owns every
other key, dated folders of other days included: a file that lands in a
folder after its day was transferred is copied by the next run's object
sync, and one deleted there is deleted as the object sync deletes. A run
that starts no execution owns nothing. DataSync's `exclude` does not narrow
what it owns (what the user keeps out of DataSync is not handed to the
object sync for the run).

Decided on full keys, per bucket, so the two sides' prefixes may differ
from the task's locations; the planner leaves a relative key out of both
sides when either side's DataSync owns it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from . import filters
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


def owned(location: Location, includes: str) -> Owned | None:
    """What an execution with the include filter `includes` (one `|`-joined
    string, "" for everything) owns at an S3 location (None for other
    kinds): the paths DataSync's filter rules select there."""
    if location.kind != "s3":
        return None
    selected = filters.compile_filter(includes)
    return Owned(location.bucket, location.prefix, selected.pattern if selected is not None else "/.*")


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
