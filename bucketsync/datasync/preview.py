"""`fab datasync-preview`: the include filter a run would pass and the
source keys it selects, from the task's source; writes nothing."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from .. import clients, s3
from . import filters
from .request import DataSyncRequest
from .steps import prepare
from .tasks import Location, TaskSpec


def preview(request: DataSyncRequest, spec: TaskSpec, now: datetime | None = None, store=None,
            limit: int = 1000) -> dict:
    state = prepare(request, now or datetime.now(timezone.utc), spec, store)
    keys, count, size = [], 0, 0
    if state.get("status") != "SKIPPED":
        for key, length in selected_keys(spec.source, state["includes"], state["excludes"]):
            count, size = count + 1, size + length
            if len(keys) < limit:
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
    seen = set()
    for root in roots:
        for path, size in _listing(location, root):
            if path not in seen and filters.selects(path, include_rx, exclude_rx):
                seen.add(path)
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
        base = Path(location.path)
        for directory, _, files in os.walk(base):
            for name in files:
                path = Path(directory) / name
                yield "/" + path.relative_to(base).as_posix(), path.stat().st_size
    else:
        raise ValueError(f"{location.uri} cannot be listed from here (EFS): only the filter is shown")
