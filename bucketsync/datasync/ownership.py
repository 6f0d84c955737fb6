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

from ..errors import InvalidInputError
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


def check_beside_sync(request, datasync, spec) -> None:
    """Refuse (InvalidInputError) a DataSync part that cannot run beside the
    object sync `request` (None: no object sync): its task's locations must
    be known, and map keys as the sync does (`mapping_problem`). One check
    for ValidateInput, `fab sync` before it starts, and `fab deploy`."""
    if request is None:
        return
    if spec is None:
        raise InvalidInputError(
            f"datasync task {datasync.task!r} is not one of DATASYNC_TASKS: with 'source' and 'destination' also "
            f"given, bucketsync must know the task's locations to leave DataSync's keys to it")
    problem = mapping_problem(request, spec, bool(datasync.include))
    if problem:
        raise InvalidInputError(problem)


def mapping_problem(request, spec, templates: bool) -> str | None:
    """Why a task cannot run beside this object sync, or None.

    DataSync owns only this run's folders; the object sync owns the rest of
    its destination. A task that writes into the object sync's destination
    scope must therefore map keys as the sync does (the same relative path
    under both prefixes): else what DataSync wrote on earlier days has no
    counterpart at the sync's source and the sync would delete it. With no
    template DataSync owns its whole location every run, so nothing of it
    can look extra."""
    dst, src = spec.destination, spec.source
    if not templates or dst.kind != "s3" or dst.bucket != request.destination:
        return None
    if not (dst.prefix.startswith(request.destination_prefix) or request.destination_prefix.startswith(dst.prefix)):
        return None   # DataSync writes outside the sync's destination scope
    if src.kind == "s3" and src.bucket == request.source and _same_mapping(
            src.prefix, request.source_prefix, dst.prefix, request.destination_prefix):
        return None
    return (f"datasync task {spec.name!r} writes {src.uri} to {dst.uri}, inside this sync's destination "
            f"s3://{request.destination}/{request.destination_prefix}, which the sync fills from "
            f"s3://{request.source}/{request.source_prefix}: what DataSync wrote on earlier days would have no "
            f"counterpart at the source and be deleted. Give the task the sync's mapping (source and "
            f"destination locations at the same relative path under the sync's prefixes) or sync another "
            f"destination prefix")


def _same_mapping(task_source: str, sync_source: str, task_destination: str, sync_destination: str) -> bool:
    """Whether the task and the sync put every key both reach at one place:
    one location is the other's plus the same relative path on both sides."""
    if task_source.startswith(sync_source):
        return task_destination == sync_destination + task_source[len(sync_source):]
    if sync_source.startswith(task_source):
        return sync_destination == task_destination + sync_source[len(task_source):]
    return False

