"""Writes to the destination that both writers make: conditional on the
destination being as planned, with the stamp in the metadata, and the proof,
after a failed condition, that what is there is our own write."""
from __future__ import annotations

from .. import s3
from ..errors import DestinationChangedError, NoSuchKeyError, PreconditionsUnsupportedError
from ..observed import Seen
from ..diff import normalise_etag
from . import sameness, source
from .context import CopyContext, Job


def conditionally(ctx: CopyContext, write, dst_etag: str | None):
    """Run `write(condition)` conditional on the destination being as
    planned: absent (If-None-Match: *) or the planned object (If-Match),
    so that a stale plan never overwrites a concurrent writer's object.
    A server that does not implement the condition gets the write again
    without it, and from then on none (noted once in the report)."""
    if ctx.observed.conditional_writes is Seen.REJECTED:
        return write(None)
    condition = {"IfNoneMatch": "*"} if dst_etag is None else {"IfMatch": dst_etag}
    try:
        return write(condition)
    except PreconditionsUnsupportedError:
        ctx.ledger.observe(conditional_writes=Seen.REJECTED)
        return write(None)


def ours(ctx: CopyContext, dst_key: str, etag: str, stamped_only: bool = False, written: str | None = None) -> str:
    """After a failed destination condition: the destination's ETag if it
    holds this very source object (a write that succeeded but whose answer
    was lost is retried by the client, and the retry fails the condition
    against our own write): it has the source's ETag (unless
    `stamped_only`), our stamp of it, or the ETag our write makes
    (`written`); else DestinationChangedError stands."""
    try:
        head = s3.head_object(ctx.dst, ctx.request.destination, dst_key)
    except NoSuchKeyError:
        raise DestinationChangedError(f"{dst_key} vanished from the destination") from None
    if sameness.proven(head, etag, by_etag=not stamped_only, written=written):
        return head["ETag"]
    raise DestinationChangedError(f"{dst_key} was written by another writer since it was planned")


def stamped_metadata(ctx: CopyContext, head: dict, job: Job) -> dict:
    """The written metadata with the stamp, or without it (noted in the
    report) when the stamp would push user metadata over S3's limit."""
    metadata, stamped = s3.written_metadata(head, normalise_etag(job.etag))
    if not stamped:
        ctx.ledger.stamp_dropped(job.action.key)
    return metadata


def put_marker(ctx: CopyContext, job: Job) -> None:
    """Write a folder marker with PutObject (a server that keeps markers as
    directories refuses to copy them)."""
    head = source.head(ctx, job.src_key, job.etag)
    metadata, _ = s3.written_metadata(head, normalise_etag(job.etag))
    tags = source.tags(ctx, job.src_key)
    destination, dst_key = ctx.request.destination, job.dst_key
    try:
        conditionally(ctx, lambda condition: s3.put_object(ctx.dst, destination, dst_key, b"", metadata, tags,
                                                           dst_condition=condition), job.dst_etag)
    except DestinationChangedError:
        # A server that keeps markers as directories makes "dir/" exist (an
        # empty answer to HEAD, yet no listed object) as soon as a key under
        # it is written, by this very run: the marker is written over it.
        # Nothing is lost: it is empty either way.
        try:
            empty = int(s3.head_object(ctx.dst, destination, dst_key).get("ContentLength", -1)) == 0
        except NoSuchKeyError:
            empty = False
        if not empty:
            ours(ctx, dst_key, job.etag, stamped_only=True)
            return
        s3.put_object(ctx.dst, destination, dst_key, b"", metadata, tags)
