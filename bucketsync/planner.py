"""The planner: list both sides, merge, and write chunk files.

One call plans until the listings end or its time budget runs out, then
returns a cursor; the state machine calls it again with that cursor, so no
Lambda invocation runs longer than the budget however large the buckets.
The cursor is the last relative key planned: both listings resume with
StartAfter at that key, and chunk numbering and totals carry over.
Memory is bounded by one chunk of actions plus a few listing pages.

A side whose server does not list in UTF-8 byte order (SeaweedFS lists
`d/1.txt` before `d.txt`) is found out by the order check. Everything planned
so far is then dropped (the chunk index, written last, is what counts), the
side's whole listing is sorted with bounded memory (sorting.py) into one JSON
Lines file in the work area, and planning starts again from the beginning,
reading that side from the file (`cursor["sorted"]`). Nothing planned from a
listing out of order is ever executed; in-order listings (AWS) never pay.
"""
from __future__ import annotations

import time
from typing import Callable, Iterator

from . import interrupt, progress, s3, sorting
from .clients import RunClients
from .errors import ListingOrderError
from .datasync.ownership import OwnedKeys
from .filters import KeyFilter
from .diff import (CHECK, COPY, DELETE, META, UNCHANGED, CopyAction, DeleteAction, Entry, PlanTotals,
                   UnchangedAction, check_order, encode_action, merge)
from .prefetch import Prefetch
from .settings import Settings
from .stores import read_run_file
from .work import Run

# Unchanged keys are written down only for the report, in larger chunks.
UNCHANGED_CHUNK_ACTIONS = 10_000


PAGE = 1000   # entries per page read back from a sorted listing


def new_cursor(sorted_listings: dict | None = None) -> dict:
    """`sorted_listings`: {side: work-area key of its sorted listing}."""
    return {"after": None, "copy_chunks": 0, "delete_chunks": 0, "unchanged_chunks": 0,
            "totals": PlanTotals().to_dict(), "sorted": dict(sorted_listings or {})}


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


def _not_owned(keep: KeyFilter, owned: OwnedKeys, sides: list[tuple[str, str]]):
    """The filter of both sides: in scope, and owned by DataSync on neither
    side. The merge pairs the sides by relative key, so a key left out of
    one side only would be read as absent there: a source key left out is a
    destination copy deleted; a destination key left out is a DataSync copy
    overwritten. Each side's ownership is decided in its own key space
    (`sides`: (bucket, prefix) of each), and a relative key either side's
    DataSync owns is left out of both."""
    checks = [owns for owns in (owned.within(bucket, prefix) for bucket, prefix in sides) if owns is not None]
    if not checks:
        return keep
    return lambda relative_key: keep(relative_key) and not any(owns(relative_key) for owns in checks)


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


def plan_step(run: Run, cursor: dict | None, settings: Settings, clients: RunClients,
              now: Callable[[], float] = time.monotonic) -> tuple[dict, bool]:
    """Plan from `cursor` for at most `settings.plan_seconds`.

    Returns (cursor, done). When done, the chunk indexes are written and the
    cursor's totals are the plan's totals. A side found out of order is
    sorted, and the plan starts again (see the module's docstring)."""
    cursor = cursor or new_cursor()
    sorted_listings = cursor.get("sorted") or {}
    if cursor["after"] is not None:
        # Resuming: a server other than AWS may apply StartAfter by its own
        # order and silently skip keys that sort after the cursor in UTF-8
        # order; such a side is read from its sorted listing instead.
        unsorted = [side for side in ("source", "destination")
                    if side not in sorted_listings and not _endpoint(run, side).on_aws]
        if unsorted:
            cursor = dict(cursor, sorted=dict(sorted_listings, **{side: _sort_side(run, side, settings, clients)
                                                                  for side in unsorted}))
            return cursor, False   # the next invocation plans with a whole time budget
    try:
        return _plan(run, cursor, settings, clients, now)
    except ListingOrderError as exc:
        if exc.side is None or exc.side in sorted_listings:
            raise   # a sorted listing out of order: never plan from it
        # Start again from the beginning, in the next invocation (the sort
        # took part of this one's time).
        return new_cursor(dict(sorted_listings, **{exc.side: _sort_side(run, exc.side, settings, clients)})), False


def _endpoint(run: Run, side: str):
    return run.source_endpoint if side == "source" else run.destination_endpoint


def _side(run: Run, side: str, clients: RunClients) -> tuple[str, str, object]:
    """(bucket, prefix, client) of one side."""
    request = run.request
    if side == "source":
        return request.source, request.source_prefix, clients.side(side)
    return request.destination, request.destination_prefix, clients.side(side)


def _sorted_key(run: Run, side: str) -> str:
    return f"{run.work_prefix}plan/listing-{side}.jsonl"


def _sort_side(run: Run, side: str, settings: Settings, clients: RunClients) -> str:
    """List the whole side, sort it on local disk, and write it to the work
    area as JSON Lines ([key, size, etag], increasing keys); its key. A key
    listed twice fails (DuplicateKeyError) as it would unsorted."""
    bucket, prefix, client = _side(run, side, clients)
    key = _sorted_key(run, side)
    listed = (entry for page in s3.list_pages(client, bucket, prefix, retry_seconds=settings.retry_seconds)
              for entry in page if entry.key)
    with s3.LineWriter(clients.work(), run.work_bucket, key) as out:
        for entry in check_order(sorting.external_sort(listed), f"{side} (sorted)"):
            interrupt.check("sorting")
            out.write(list(entry))
    return key


def _sorted_pages(run: Run, key: str, after: str | None, work) -> Iterator[list[Entry]]:
    """Pages of a sorted listing from the work area, keys after `after`."""
    page: list[Entry] = []
    for item in s3.read_lines(work, run.work_bucket, key):
        entry = Entry(*item)
        if after is not None and entry.key <= after:
            continue
        page.append(entry)
        if len(page) >= PAGE:
            yield page
            page = []
    yield page


def _pages(run: Run, side: str, cursor: dict, after: str | None, settings: Settings, clients: RunClients):
    sorted_key = (cursor.get("sorted") or {}).get(side)
    if sorted_key:
        return _sorted_pages(run, sorted_key, after, clients.work())
    bucket, prefix, client = _side(run, side, clients)
    return s3.list_pages(client, bucket, prefix, after, retry_seconds=settings.retry_seconds)


def _plan(run: Run, cursor: dict, settings: Settings, clients: RunClients,
          now: Callable[[], float]) -> tuple[dict, bool]:
    request = run.request
    keep = KeyFilter(request.include, request.exclude)
    work = clients.work()
    owned = OwnedKeys(read_run_file(work, run.work_bucket, run.owned_key) if run.owned_areas else ())

    def write(key, document):
        s3.put_json(work, run.work_bucket, key, document)

    copies = ChunkWriter(run, COPY, cursor["copy_chunks"], settings.chunk_actions, settings.chunk_bytes, write)
    deletes = ChunkWriter(run, DELETE, cursor["delete_chunks"], settings.chunk_actions, 1 << 62, write)
    same = ChunkWriter(run, UNCHANGED, cursor.get("unchanged_chunks", 0), UNCHANGED_CHUNK_ACTIONS, 1 << 62, write)
    totals = PlanTotals.from_dict(cursor["totals"])
    after = cursor["after"]
    deadline = now() + settings.plan_seconds

    in_scope = _not_owned(keep, owned, [(request.source, request.source_prefix),
                                        (request.destination, request.destination_prefix)])
    with Prefetch(_pages(run, "source", cursor, after, settings, clients)) as src_pages, \
         Prefetch(_pages(run, "destination", cursor, after, settings, clients)) as dst_pages:
        source = check_order(entries(src_pages, in_scope), "source", after)
        destination = check_order(entries(dst_pages, in_scope), "destination", after)
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
              "unchanged_chunks": same.number, "totals": totals.to_dict(), "sorted": cursor.get("sorted") or {}}
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
