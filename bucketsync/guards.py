"""Delete guards (pure): checked after planning, before anything is written."""
from __future__ import annotations

from .errors import DeleteGuardError
from .diff import PlanTotals
from .sync_request import SyncRequest, delete_limit, describe_max_delete


def check_delete_guards(request: SyncRequest, totals: PlanTotals) -> None:
    """Raise DeleteGuardError, naming both numbers, when the planned deletes
    are not allowed. `allow_empty_source` lifts only the empty-source guard;
    `max_delete` always applies (give "100%" to allow deleting everything)."""
    if not request.delete:
        return
    deletes = totals.delete
    destination = totals.destination_objects
    if totals.source_objects == 0 and destination > 0 and not request.allow_empty_source:
        raise DeleteGuardError(
            f"the source s3://{request.source}/{request.source_prefix} lists no objects but the destination "
            f"has {destination}; refusing to delete them all (set allow_empty_source to allow it)")
    limit = delete_limit(request.max_delete, destination, totals.source_objects)
    if deletes > limit:
        raise DeleteGuardError(
            f"{deletes} deletes planned but {describe_max_delete(request.max_delete)} allows {limit} "
            f"(of {destination} destination objects; the source lists {totals.source_objects}); "
            f"nothing was deleted (give --max-delete / max_delete to allow more)")
