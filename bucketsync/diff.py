"""The pure core of the sync: merge two sorted listings and decide, per key,
what to do. No I/O; never raises for control flow (it returns decisions),
except on a listing that is out of order, which would make every later
decision wrong.

Decision rules (DESIGN.md section 3):
- missing at the destination            -> COPY
- sizes differ                          -> COPY
- both zero bytes                       -> unchanged (nothing to differ)
- ETags equal                           -> unchanged
- ETags differ, same size               -> CHECK: the copy step reads the
  destination's stamped `bucketsync-source-etag` (one HEAD) and copies only if
  it does not equal the source ETag. This covers ETags that cannot match by
  construction (multipart layouts that differ, SSE-KMS, servers with their own
  ETag habits) at exactly one extra request per such object.
- missing at the source                 -> DELETE
With `check_metadata`, keys the listings show unchanged are planned as META:
the copy step compares their metadata and tags (DESIGN.md's sameness is
about content; this opt-in extends it to what describes the content).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Iterable, Iterator, NamedTuple

from .errors import DuplicateKeyError, ListingOrderError

COPY = "copy"
CHECK = "check"
DELETE = "delete"
UNCHANGED = "unchanged"
META = "meta"        # a copy-chunk op: same content; compare metadata and tags


class Entry(NamedTuple):
    """One listed object; `key` is relative to its side's prefix."""
    key: str
    size: int
    etag: str


class CopyAction(NamedTuple):
    """A planned copy (or CHECK, or META). `dst_etag`/`dst_size` are the destination's
    as planned (None: absent then); copies are completed conditionally on
    that state where S3 allows it."""
    op: str
    key: str
    size: int
    etag: str
    dst_etag: str | None = None
    dst_size: int | None = None


class DeleteAction(NamedTuple):
    """A planned delete of a destination key, conditional on the ETag seen."""
    key: str
    size: int
    etag: str


class UnchangedAction(NamedTuple):
    """A key found the same on both sides by the plan (kept for the report)."""
    key: str
    size: int
    why: str


_ACTIONS = {}   # filled below: kind -> action class


def encode_action(action: CopyAction | DeleteAction | UnchangedAction) -> list:
    """The one encoder for chunk files' actions: a JSON list of the fields."""
    return list(action)


def decode_action(kind: str, item: list) -> CopyAction | DeleteAction | UnchangedAction:
    """The one decoder for chunk files' actions."""
    return _ACTIONS[kind](*item)


@dataclass
class PlanTotals:
    """What the plan found and decided, summed over the whole listing. It
    travels as a JSON object (`to_dict`) in the planner's cursor and in the
    state machine's `$.plan.totals`, and lands in the report's run line."""
    source_objects: int = 0
    source_bytes: int = 0
    destination_objects: int = 0
    destination_bytes: int = 0
    copy: int = 0              # COPY actions: absent at the destination, or a different size
    copy_bytes: int = 0
    check: int = 0             # CHECK actions: same size, different ETags
    check_bytes: int = 0
    delete: int = 0            # destination keys absent at the source (planned only with delete on)
    delete_bytes: int = 0
    unchanged: int = 0         # same size and ETag (or both empty)
    meta: int = 0              # same content, metadata and tags to compare (check_metadata)

    @property
    def to_copy(self) -> tuple[int, int]:
        """(objects, bytes) the copy chunks will look at."""
        return self.copy + self.check + self.meta, self.copy_bytes + self.check_bytes

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, document: dict | None) -> "PlanTotals":
        """Tolerant of absent fields: a run that failed before planning has none."""
        document = document or {}
        return cls(**{f.name: int(document.get(f.name) or 0) for f in fields(cls)})


@dataclass(frozen=True)
class Decision:
    action: str
    key: str
    source: Entry | None = None
    destination: Entry | None = None


_ACTIONS.update({COPY: CopyAction, DELETE: DeleteAction, UNCHANGED: UnchangedAction})


def compare(source: Entry, destination: Entry) -> str:
    """What to do with a key present on both sides."""
    if source.size != destination.size:
        return COPY
    if source.size == 0:
        return UNCHANGED
    if normalise_etag(source.etag) == normalise_etag(destination.etag):
        return UNCHANGED
    return CHECK


def normalise_etag(etag: str) -> str:
    return (etag or "").strip().strip('"').lower()


def is_multipart_etag(etag: str) -> bool:
    return "-" in normalise_etag(etag)


def check_order(entries: Iterable[Entry], side: str, after: str | None = None) -> Iterator[Entry]:
    """Yield entries, raising DuplicateKeyError for a key listed twice and
    ListingOrderError unless keys strictly increase.

    Python compares str by code point, which is the same order as UTF-8 bytes,
    the order ListObjectsV2 promises."""
    previous = after
    for entry in entries:
        if previous is not None and entry.key == previous:
            raise DuplicateKeyError(
                f"{side} listing returned the key {entry.key!r} twice: the server's listing is inconsistent "
                f"(no sync can be planned from it; nothing was written)")
        if previous is not None and entry.key < previous:
            raise ListingOrderError(
                f"{side} listing is not in increasing UTF-8 order: {entry.key!r} came after {previous!r}", side)
        previous = entry.key
        yield entry


def merge(source: Iterable[Entry], destination: Iterable[Entry]) -> Iterator[Decision]:
    """Merge two sorted listings in one streaming pass (memory O(1))."""
    src_iter = iter(source)
    dst_iter = iter(destination)
    src = next(src_iter, None)
    dst = next(dst_iter, None)
    while src is not None or dst is not None:
        if dst is None or (src is not None and src.key < dst.key):
            yield Decision(COPY, src.key, src, None)
            src = next(src_iter, None)
        elif src is None or dst.key < src.key:
            yield Decision(DELETE, dst.key, None, dst)
            dst = next(dst_iter, None)
        else:
            yield Decision(compare(src, dst), src.key, src, dst)
            src = next(src_iter, None)
            dst = next(dst_iter, None)
