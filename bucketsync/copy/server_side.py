"""Copies that one client makes at the destination, the source read by
the server itself (both sides at one endpoint, with one set of credentials):

- single-part source below the multipart threshold: one CopyObject that copies
  metadata and tags; if the new ETag differs from the source's (SSE-KMS, or a
  server's own habits) the copy is redone with the metadata given explicitly
  plus the `bucketsync-source-etag` stamp, so the next run can prove sameness
  with one HEAD; the chunk's later copies then carry the stamp from the start
  (one copy each, not two), and so do the run's later chunks (stamping.py).
  When the run knows beforehand (SSE-KMS: `SyncRequest.copies_stamped`), or
  an earlier chunk found out, every copy carries the stamp from the first;
- multipart source, or at/above the threshold: parallel UploadPartCopy. A
  multipart source keeps its own part layout (on AWS the ETag is then equal);
  metadata and tags are carried over explicitly, with the stamp;
- a zero-byte "dir/" marker that a server refuses to copy (SeaweedFS keeps
  them as directories) is re-created with PutObject.
"""
from __future__ import annotations

from .. import interrupt, s3, threads
from ..errors import DestinationChangedError, NoSuchKeyError, SourceChangedError
from ..observed import Seen
from ..diff import is_multipart_etag, normalise_etag
from . import destination, multipart, source
from .context import CopyContext, Job


class ServerSideWriter:
    def __init__(self, ctx: CopyContext):
        self.ctx = ctx
        # Set from the start (the run's decision, or an earlier chunk's
        # finding), or once a copy's ETag differs from its source's: the
        # destination rewrites ETags (SSE-KMS, a server's own habits), so the
        # later copies carry the stamp from the start, one CopyObject each,
        # rather than a copy redone. (A flag set once: a race costs at most
        # one more redone copy per thread.)
        self.rewrites_etags = ctx.stamping.from_start

    def write(self, job: Job) -> None:
        if is_multipart_etag(job.etag) or job.size >= self.ctx.settings.multipart_threshold:
            self._in_parts(job)
            return
        if self.rewrites_etags and not job.marker:
            self._stamped_copy(job)
            return
        try:
            new_etag = self._copy_object(job, None, job.dst_etag)
        except DestinationChangedError:
            if job.marker:   # a marker: its directory may exist already
                destination.put_marker(self.ctx, job)
                return
            new_etag = destination.ours(self.ctx, job.dst_key, job.etag)
        except NoSuchKeyError:
            if job.marker:
                destination.put_marker(self.ctx, job)
                return
            raise
        if normalise_etag(new_etag) != normalise_etag(job.etag):
            self._found_rewritten()
            self._stamped_copy(job, redoing=new_etag)

    def _found_rewritten(self) -> None:
        """Note that the destination's ETags cannot match, and tell the run's
        later chunks (two threads finding it at once tell it twice: the same
        word, harmless)."""
        if self.rewrites_etags:
            return
        self.rewrites_etags = True
        if self.ctx.stamping.found is not None:
            self.ctx.stamping.found()

    def _stamped_copy(self, job: Job, redoing: str | None = None) -> None:
        """One CopyObject with the metadata given explicitly and the stamp,
        conditional on the planned destination, or, when `redoing` a copy
        whose ETag cannot match (SSE-KMS, a server's own habits), on the
        object just written (its ETag). The source must still be the
        planned object: when it is not, SourceChangedError (the chunk loop
        re-reads it); after a first copy that was conditional on the planned
        ETag, that also shows the server ignores CopySourceIfMatch."""
        try:
            head = source.head(self.ctx, job.src_key, job.etag)
        except SourceChangedError:
            if redoing is not None:
                self.ctx.ledger.observe(copy_source_if_match=Seen.IGNORED)
            raise
        try:
            self._copy_object(job, destination.stamped_metadata(self.ctx, head, job),
                              job.dst_etag if redoing is None else redoing)
        except DestinationChangedError:
            destination.ours(self.ctx, job.dst_key, job.etag, stamped_only=redoing is not None)

    def _copy_object(self, job: Job, metadata: dict | None, dst_etag: str | None) -> str:
        """One conditional CopyObject (the source's metadata and tags, or
        `metadata` given explicitly); the new ETag."""
        ctx, req = self.ctx, self.ctx.request
        return destination.conditionally(
            ctx, lambda condition: s3.copy_object(ctx.dst, req.source, job.src_key, req.destination, job.dst_key,
                                                  job.etag, metadata, dst_condition=condition,
                                                  size=job.size), dst_etag)

    def _in_parts(self, job: Job) -> None:
        """Parallel UploadPartCopy, each part conditional on the source's ETag."""
        ctx, req = self.ctx, self.ctx.request
        head = source.head(ctx, job.src_key, job.etag)
        ranges, _ = multipart.part_ranges(ctx, job)
        tags = source.tags(ctx, job.src_key)

        def write_parts(upload_id: str) -> list[str]:
            def part(numbered):
                interrupt.check(f"the copy of {job.dst_key}")
                number, (first, last) = numbered
                return s3.upload_part_copy(ctx.dst, req.source, job.src_key, req.destination, job.dst_key,
                                           upload_id, number, first, last, job.etag)
            with threads.pool(ctx.settings.part_threads) as pool:
                return list(pool.map(part, enumerate(ranges, start=1)))

        multipart.upload_in_parts(ctx, job, head, tags, write_parts)
