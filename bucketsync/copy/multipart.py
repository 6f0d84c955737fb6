"""The multipart upload that both writers fill: the part layout, the
upload created with the source's metadata and tags, completed conditionally,
aborted on any failure (nothing is ever half-copied), and incomplete uploads
that an earlier run left behind."""
from __future__ import annotations

from typing import Callable

from .. import s3
from ..errors import (AccessDeniedError, BucketsyncError, DestinationChangedError, S3Error, SourceChangedError,
                      TransientError)
from ..observed import Seen
from ..diff import is_multipart_etag
from . import destination, source
from .context import CopyContext, Job

MAX_PARTS = 10_000
MIN_PART = 5 * 1024 * 1024


def upload_in_parts(ctx: CopyContext, job: Job, head: dict, tags: dict,
                    write_parts: Callable[[str], list[str]]) -> None:
    """A multipart upload of the source's metadata and tags, whose parts
    `write_parts(upload_id)` writes (server-side or streamed), completed
    conditionally; aborted on any failure: never half-copied."""
    bucket = ctx.request.destination
    abort_stale_uploads(ctx, job.dst_key)
    upload_id = s3.create_multipart(ctx.dst, bucket, job.dst_key, destination.stamped_metadata(ctx, head, job), tags)
    try:
        complete(ctx, job, upload_id, write_parts(upload_id))
    except BaseException:
        try:
            s3.abort_multipart(ctx.dst, bucket, job.dst_key, upload_id)
        except BucketsyncError:
            pass  # the lifecycle rule or the next run cleans it; the real error matters
        raise


def complete(ctx: CopyContext, job: Job, upload_id: str, etags: list[str]) -> None:
    try:
        destination.conditionally(
            ctx, lambda condition: s3.complete_multipart(ctx.dst, ctx.request.destination, job.dst_key, upload_id,
                                                         etags, dst_condition=condition), job.dst_etag)
    except DestinationChangedError:
        # Ours if the destination has exactly the ETag these parts make,
        # or carries our stamp (a completion whose answer was lost).
        destination.ours(ctx, job.dst_key, job.etag, stamped_only=True, written=s3.multipart_etag(etags))


def abort_stale_uploads(ctx: CopyContext, dst_key: str) -> None:
    """Abort incomplete uploads of this key that an earlier run left
    (killed, or timed out, between CreateMultipartUpload and its
    completion or abort): they hold billed storage until a lifecycle
    rule removes them. Only uploads initiated before this run started:
    runs of one destination are serialised by the lease, so none of those
    can belong to a live run. Best effort: a server that cannot list
    uploads is noted, and the copy goes on."""
    started = ctx.run.started and s3.parse_time(ctx.run.started)
    if not started or ctx.observed.stale_uploads is Seen.UNLISTED:
        return
    try:
        stale = s3.stale_uploads(ctx.dst, ctx.request.destination, dst_key, started)
    except (S3Error, AccessDeniedError):   # not implemented, or no s3:ListBucketMultipartUploads
        ctx.ledger.observe(stale_uploads=Seen.UNLISTED)
        return
    except TransientError:
        return   # the copy matters more; the next run looks again
    for upload_id in stale:
        try:
            s3.abort_multipart(ctx.dst, ctx.request.destination, dst_key, upload_id)
        except BucketsyncError:   # gone meanwhile (NoSuchUpload), or an outage: the lifecycle rule remains
            continue
        ctx.ledger.stale_upload_aborted(dst_key)


def part_ranges(ctx: CopyContext, job: Job, exact: bool = False) -> tuple[list[tuple[int, int]], bool]:
    """(byte ranges of the parts, whether the layout is a guess): the
    source's own layout when it is multipart, else `part_size` parts (at
    most 10,000). S3 tells a part's size only by a HEAD with its number:
    the first part's size and, for streamed copies of three parts or
    more, the last one's are asked; parts in between are taken to be as
    large as the first (as uploaders make them) unless the sizes do not
    add up, or `exact`, when every part is asked. Server-side copies need
    no exact layout: a different one only makes the ETag differ (the
    copy is then stamped)."""
    count = 0
    if is_multipart_etag(job.etag):
        # Metadata comes from a plain HEAD: some servers (moto) answer a
        # part HEAD with the part's own ETag and no metadata.
        first_part = source.head(ctx, job.src_key, job.etag, part_number=1)
        count = int(first_part.get("PartsCount") or 0)
    if count == 0:
        return even_ranges(job.size, ctx.settings.part_size), False
    sizes, guessed = [job.size], False
    if count > 1:
        sizes, guessed = _part_sizes(ctx, job, count, first_part["ContentLength"], exact)
    ranges, offset = [], 0
    for length in sizes:
        ranges.append((offset, offset + length - 1))
        offset += length
    if offset != job.size:
        raise SourceChangedError(f"{job.src_key}: parts add up to {offset} bytes, object has {job.size}")
    return ranges, guessed


def _part_sizes(ctx: CopyContext, job: Job, count: int, first: int, exact: bool) -> tuple[list[int], bool]:
    """The sizes of a source's `count` (>1) parts, the first of `first`
    bytes, and whether they are a guess (see `part_ranges`)."""
    sizes = [first] * (count - 1) + [job.size - first * (count - 1)]
    even = 0 < sizes[-1] <= first
    guessed = False
    if even and count > 2 and ctx.run.streamed and not exact:
        even = source.head(ctx, job.src_key, job.etag, count)["ContentLength"] == sizes[-1]
        guessed = even
    if exact or not even:   # uneven parts: ask for each one
        sizes = [first] + [source.head(ctx, job.src_key, job.etag, n)["ContentLength"] for n in range(2, count + 1)]
        guessed = False
    return sizes, guessed


def even_ranges(size: int, part_size: int) -> list[tuple[int, int]]:
    """Byte ranges of `part_size` parts (larger if 10,000 would not do; never
    below S3's 5 MiB minimum for every part but the last)."""
    part = max(part_size, MIN_PART, -(-size // MAX_PARTS))
    return [(offset, min(offset + part, size) - 1) for offset in range(0, size, part)] or [(0, -1)]
