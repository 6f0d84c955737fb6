"""Copies streamed through this process, for sides that no single request
can join (two endpoints, or two sets of credentials): one GET and one PUT up
to `part_size` (a multipart source keeps its layout when its parts fit the
memory budget), else ranged GETs and UploadPart in parallel; metadata, tags
and the stamp are written explicitly, uploads carry Content-MD5, and the
bytes read are checked against the source's ETag where it is their MD5
(transfer.py)."""
from __future__ import annotations

import base64
import hashlib

from .. import interrupt, s3
from ..errors import DestinationChangedError, IntegrityError, LayoutGuessError, SettingsError
from ..observed import Seen
from ..diff import is_multipart_etag
from . import destination, multipart, source, transfer
from .context import CopyContext, Job


class StreamedWriter:
    def __init__(self, ctx: CopyContext):
        settings = ctx.settings
        if settings.part_size > settings.stream_buffer_bytes // 2:
            raise SettingsError(f"BUCKETSYNC_PART_SIZE ({settings.part_size}) must be at most half of "
                             f"BUCKETSYNC_STREAM_BUFFER_BYTES ({settings.stream_buffer_bytes}) for streamed copies")
        self.ctx = ctx
        self.memory = transfer.budget(settings.stream_buffer_bytes)

    def write(self, job: Job) -> None:
        if job.marker:   # a folder marker (a directory on some servers)
            destination.put_marker(self.ctx, job)
        elif is_multipart_etag(job.etag) or job.size > self.ctx.settings.part_size:
            self._multipart(job)
        else:
            self._whole(job)

    def _whole(self, job: Job) -> None:
        """One GET, one PUT with Content-MD5, the bytes held in the budget."""
        ctx, req = self.ctx, self.ctx.request
        self.memory.acquire(job.size)
        try:
            data, head = s3.get_bytes(ctx.src, req.source, job.src_key, job.etag)
            digest = hashlib.md5(data, usedforsecurity=False)
            self._check_read(job, head, digest.hexdigest())
            metadata = destination.stamped_metadata(ctx, head, job)
            tags = source.tags_of(ctx, job.src_key, head)
            md5 = base64.b64encode(digest.digest()).decode("ascii")
            try:
                destination.conditionally(
                    ctx, lambda condition: s3.put_object(ctx.dst, req.destination, job.dst_key, data, metadata, tags,
                                                         dst_condition=condition, content_md5=md5), job.dst_etag)
            except DestinationChangedError:
                destination.ours(ctx, job.dst_key, job.etag, written=digest.hexdigest())
        finally:
            self.memory.release(job.size)

    def _check_read(self, job: Job, head: dict, md5_hex: str) -> None:
        """Raise IntegrityError unless the bytes read hash to the source's ETag
        (where it is their MD5). AWS documents a plain ETag as the MD5 of the
        content; another server's may not be: one that hashes differently on
        two reads is a corrupted read, one that keeps its (non-MD5) ETag is
        noted in the report and not compared again in this chunk."""
        ctx = self.ctx
        if ctx.observed.source_etags is Seen.NOT_MD5:
            return
        problem = transfer.read_problem(job.etag, head.get("ServerSideEncryption"), whole_md5=md5_hex)
        if problem is None:
            return
        if not ctx.run.source_endpoint.on_aws:
            again, _ = s3.get_bytes(ctx.src, ctx.request.source, job.src_key, job.etag)
            if hashlib.md5(again, usedforsecurity=False).hexdigest() == md5_hex:
                ctx.ledger.observe(source_etags=Seen.NOT_MD5)
                return
        raise IntegrityError(f"{job.src_key}: {problem}; not written")

    def _multipart(self, job: Job) -> None:
        """Ranged GETs and UploadPart in parallel, in the source's part layout
        when its parts fit the budget (the ETags can then match), else in
        `part_size` parts; the upload is aborted on any failure. A layout
        guessed from the first and last parts that the bytes read disprove
        (uneven middle parts) is asked part by part, and the object sent again."""
        try:
            self._in_parts(job, exact=False)
        except LayoutGuessError:
            self._in_parts(job, exact=True)

    def _in_parts(self, job: Job, exact: bool) -> None:
        ctx = self.ctx
        head = source.head(ctx, job.src_key, job.etag)
        ranges, guessed = multipart.part_ranges(ctx, job, exact=exact)
        kept_layout = is_multipart_etag(job.etag)
        sizes = [last - first + 1 for first, last in ranges]
        # The source's layout, unless its parts would not fit the budget or
        # break S3's 5 MiB minimum (servers that allow smaller parts exist).
        if max(sizes) > self.memory.limit // 2 or any(s < multipart.MIN_PART for s in sizes[:-1]):
            ranges, kept_layout, guessed = multipart.even_ranges(job.size, ctx.settings.part_size), False, False
        tags = source.tags_of(ctx, job.src_key, head)

        def write_parts(upload_id: str) -> list[str]:
            return self._stream_parts(job, head, upload_id, ranges, kept_layout, guessed)

        multipart.upload_in_parts(ctx, job, head, tags, write_parts)

    def _stream_parts(self, job: Job, head: dict, upload_id: str, ranges: list[tuple[int, int]],
                      kept_layout: bool, guessed: bool) -> list[str]:
        """The parts read and uploaded; their ETags, once what was read is
        checked against the source's ETag."""
        ctx, req = self.ctx, self.ctx.request

        def fetch(first, last):
            interrupt.check(f"the copy of {job.dst_key}")
            return s3.get_bytes(ctx.src, req.source, job.src_key, job.etag, first, last)[0]

        def upload(number, data, md5):
            return s3.upload_part(ctx.dst, req.destination, job.dst_key, upload_id, number, data, md5)

        etags, whole, part_md5s = transfer.stream_parts(
            ranges, fetch, upload, self.memory, ctx.settings.part_threads, hash_whole=not is_multipart_etag(job.etag))
        unchecked = ctx.observed.source_etags is Seen.NOT_MD5
        problem = None if unchecked else transfer.read_problem(
            job.etag, head.get("ServerSideEncryption"), whole, part_md5s if kept_layout else None)
        if problem and guessed:
            raise LayoutGuessError(problem)   # the upload is aborted; asked part by part
        if problem:
            raise IntegrityError(f"{job.src_key}: {problem}; not written")
        return etags
