"""`fab datasync-preview`: the include filter a run would pass and the
source keys it selects, from the task's source; writes nothing."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterator

from .. import clients, s3
from . import filters
from .request import DataSyncRequest
from .steps import prepare
from .sources import walk_files
from .tasks import Location, TaskSpec


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


def selected_keys(location: Location, includes: str, excludes: str) -> Iterator[tuple[str, int]]:
    """(key or path, size) of what the filters select at `location`, listing
    only below each include pattern's fixed part."""
    include_rx, exclude_rx = filters.compile_filter(includes), filters.compile_filter(excludes)
    roots = sorted({p.rstrip("*") for p in includes.split("|")}) if includes else ["/"]
    if location.kind != "s3":
        roots = ["/"]   # one walk sees every path
    # A root under another one would list its keys twice: keep the outer one.
    roots = [r for r in roots if not any(r != other and r.startswith(other) for other in roots)]
    for root in roots:
        for path, size in _listing(location, root):
            if filters.selects(path, include_rx, exclude_rx):
                yield (location.key(path) if location.kind == "s3" else location.path + path), size


def _listing(location: Location, root: str) -> Iterator[tuple[str, int]]:
    if location.kind == "s3":
        # An S3 prefix is a string prefix: the pattern's fixed part lists
        # exactly the keys it can select (and a few the filter then drops).
        prefix = location.key(root)
        for page in s3.list_pages(clients.data_client(), location.bucket, prefix):
            for entry in page:
                yield "/" + (prefix + entry.key)[len(location.prefix):], entry.size
    elif location.kind == "file":
        for path, file in walk_files(location.path):
            yield path, file.stat().st_size
    else:
        raise ValueError(f"{location.uri} cannot be listed from here (EFS): only the filter is shown")
