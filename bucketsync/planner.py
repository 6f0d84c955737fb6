"""The planner: list both sides, merge, and write chunk files.

One call plans until the listings end or its time budget runs out, then
returns a cursor; the state machine calls it again with that cursor, so no
Lambda invocation runs longer than the budget however large the buckets.
The cursor is the last relative key planned: both listings resume with
StartAfter at that key, and chunk numbering and totals carry over.
Memory is bounded by one chunk of actions plus a few listing pages.
"""
from __future__ import annotations

import time
from typing import Callable, Iterator

from . import clients, interrupt, progress, s3
from .datasync.ownership import OwnedKeys
from .filters import KeyFilter
from .plan import (CHECK, COPY, DELETE, META, UNCHANGED, CopyAction, DeleteAction, Entry, PlanTotals,
                   UnchangedAction, check_order, encode_action, merge)
from .prefetch import Prefetch
from .settings import Settings
from .work import Run

# Unchanged keys are written down only for the report, in larger chunks.
UNCHANGED_CHUNK_ACTIONS = 10_000


def new_cursor() -> dict:
    return {"after": None, "copy_chunks": 0, "delete_chunks": 0, "unchanged_chunks": 0,
            "totals": PlanTotals().to_dict()}


def entries(pages: Iterator[list[Entry]], keep: KeyFilter) -> Iterator[Entry]:
    """The entries in scope. The prefix's own key (relative key "", e.g. the
    folder marker "photos/" of prefix "photos/") is the scope's root, not a
    member: it is neither copied nor deleted (on the other side it would
    name the other prefix, or no key at all)."""
    for page in pages:
        interrupt.check("listing")
        progress.emit("listed", len(page))
        for entry in page:
            if entry.key and keep(entry.key):
                yield entry


def _not_owned(keep: KeyFilter, owned: OwnedKeys, bucket: str, prefix: str):
    """The side's filter, less the keys DataSync owns in this run."""
    owns = owned.within(bucket, prefix)
    if owns is None:
        return keep
    return lambda relative_key: keep(relative_key) and not owns(relative_key)


class ChunkWriter:
    """Buffers actions and writes a chunk file every `max_actions` actions or
    `max_bytes` bytes; its index entries say how many actions each holds."""

    def __init__(self, run: Run, kind: str, first_number: int, max_actions: int, max_bytes: int,
                 write: Callable[[str, object], None]):
        self.run, self.kind, self.number = run, kind, first_number
        self.max_actions, self.max_bytes = max_actions, max_bytes
        self.write = write
        self.actions: list = []
        self.bytes = 0

    def add(self, action: CopyAction | DeleteAction, size: int) -> None:
        if self.actions and self.bytes + size > self.max_bytes:
            self.flush()
        self.actions.append(encode_action(action))
        self.bytes += size
        if len(self.actions) >= self.max_actions:
            self.flush()

    def flush(self) -> None:
        if not self.actions:
            return
        self.number += 1
        self.write(self.run.chunk_key(self.kind, self.number), {"actions": self.actions})
        self.actions, self.bytes = [], 0


def plan_step(run: Run, cursor: dict | None, settings: Settings,
              now: Callable[[], float] = time.monotonic) -> tuple[dict, bool]:
    """Plan from `cursor` for at most `settings.plan_seconds`.

    Returns (cursor, done). When done, the chunk indexes are written and the
    cursor's totals are the plan's totals."""
    cursor = cursor or new_cursor()
    request = run.request
    keep = KeyFilter(request.include, request.exclude)
    owned = OwnedKeys(run.owned)
    work = clients.work_client()

    def write(key, document):
        s3.put_json(work, run.work_bucket, key, document)

    copies = ChunkWriter(run, COPY, cursor["copy_chunks"], settings.chunk_actions, settings.chunk_bytes, write)
    deletes = ChunkWriter(run, DELETE, cursor["delete_chunks"], settings.chunk_actions, 1 << 62, write)
    same = ChunkWriter(run, UNCHANGED, cursor.get("unchanged_chunks", 0), UNCHANGED_CHUNK_ACTIONS, 1 << 62, write)
    totals = PlanTotals.from_dict(cursor["totals"])
    after = cursor["after"]
    deadline = now() + settings.plan_seconds

    src_client = clients.data_client(run.source_region, run.source_endpoint)
    dst_client = clients.data_client(run.destination_region, run.destination_endpoint)
    retry = settings.retry_seconds
    with Prefetch(s3.list_pages(src_client, request.source, request.source_prefix, after,
                                retry_seconds=retry)) as src_pages, \
         Prefetch(s3.list_pages(dst_client, request.destination, request.destination_prefix, after,
                                retry_seconds=retry)) as dst_pages:
        source = check_order(entries(src_pages, _not_owned(keep, owned, request.source, request.source_prefix)),
                             "source", after)
        destination = check_order(entries(dst_pages, _not_owned(keep, owned, request.destination,
                                                                request.destination_prefix)), "destination", after)
        done = True
        for count, decision in enumerate(merge(source, destination), start=1):
            _account(decision, totals, copies, deletes if request.delete else None, same,
                     request.check_metadata)
            after = decision.key
            if count % 1000 == 0 and now() >= deadline:
                done = False
                break

    for writer in (copies, deletes, same):
        writer.flush()
    cursor = {"after": after, "copy_chunks": copies.number, "delete_chunks": deletes.number,
              "unchanged_chunks": same.number, "totals": totals.to_dict()}
    if done:
        _write_indexes(run, cursor, write)
    return cursor, done


def _account(decision, totals: PlanTotals, copies: ChunkWriter, deletes: ChunkWriter | None,
             same: ChunkWriter, check_metadata: bool = False) -> None:
    src, dst = decision.source, decision.destination
    if src is not None:
        totals.source_objects += 1
        totals.source_bytes += src.size
    if dst is not None:
        totals.destination_objects += 1
        totals.destination_bytes += dst.size
    if decision.action == COPY:
        totals.copy += 1
        totals.copy_bytes += src.size
    elif decision.action == CHECK:
        totals.check += 1
        totals.check_bytes += src.size
    if decision.action in (COPY, CHECK):
        copies.add(CopyAction(decision.action, decision.key, src.size, src.etag,
                              dst.etag if dst is not None else None, dst.size if dst is not None else None),
                   src.size)
    elif decision.action == DELETE:
        totals.delete += 1
        totals.delete_bytes += dst.size
        if deletes is not None:   # with delete off, extras are counted, never written down
            deletes.add(DeleteAction(decision.key, dst.size, dst.etag), 0)
    elif check_metadata:   # same content: the copy step compares metadata and tags
        assert decision.action == UNCHANGED
        totals.meta += 1
        # Counted at full size in the chunk's byte budget: a difference in
        # system or user metadata is mended by a (server-side) copy.
        copies.add(CopyAction(META, decision.key, src.size, src.etag, dst.etag, dst.size), src.size)
    else:
        assert decision.action == UNCHANGED
        totals.unchanged += 1
        same.add(UnchangedAction(decision.key, src.size, "both empty" if src.size == 0 else "same size and ETag"), 0)


def _write_indexes(run: Run, cursor: dict, write) -> None:
    """The chunk indexes are JSON arrays read by the Distributed Maps'
    ItemReader: one small item per chunk, never one per object."""
    for kind in (COPY, DELETE, UNCHANGED):
        count = cursor[f"{kind}_chunks"]
        write(run.index_key(kind), [{"kind": kind, "number": n} for n in range(1, count + 1)])
