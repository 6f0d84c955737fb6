"""`fab datasync-preview`: the include filter a run would pass and the
source keys it selects, from the task's source; writes nothing."""
from __future__ import annotations

from datetime import datetime, timezone

from ..datasync.request import DataSyncRequest
from ..datasync.begin import prepare
from ..datasync.sources import selected_keys
from ..datasync.tasks import TaskSpec


LIMIT = 1000   # keys printed; all are counted


def preview(request: DataSyncRequest, spec: TaskSpec, store=None) -> dict:
    state = prepare(request, datetime.now(timezone.utc), spec, store)
    keys, count, size = [], 0, 0
    if state.get("status") != "SKIPPED":
        for key, length in selected_keys(spec.source, state["includes"], state["excludes"]):
            count, size = count + 1, size + length
            if len(keys) < LIMIT:
                keys.append(key)
    return {"task": spec.name, "source": spec.source.uri, "destination": spec.destination.uri,
            "dates": state["dates"], "empty_dates": state["empty_dates"], "includes": state["includes"],
            "excludes": state["excludes"], "keys": keys, "count": count, "bytes": size,
            "note": state.get("reason")}
