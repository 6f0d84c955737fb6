"""Copy one chunk of planned actions, server-side, with a thread pool.

How an object is copied (fewest requests that keep it provably the same):
- single-part source below the multipart threshold: one CopyObject that copies
  metadata and tags; if the new ETag differs from the source's (SSE-KMS, or a
  server's own habits) the copy is redone with the metadata given explicitly
  plus the `bucketsync-source-etag` stamp, so the next run can prove sameness
  with one HEAD;
- multipart source, or at/above the threshold: parallel UploadPartCopy. A
  multipart source keeps its own part layout (on AWS the ETag is then equal);
  metadata and tags are carried over explicitly, with the stamp;
- a zero-byte "dir/" marker that a server refuses to copy (SeaweedFS keeps
  them as directories) is re-created with PutObject.
Every read of the source is conditional on the planned ETag. When the source
changed since it was listed, it is re-read once and copied as it is now; if
it vanished or keeps changing, it is reported and left for the next run.
A failed multipart copy is aborted: nothing is ever half-copied.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from . import clients, progress, s3
from .errors import BucketsyncError, NoSuchKeyError, S3Error, SourceChangedError
from .plan import CHECK, is_multipart_etag, normalise_etag
from .settings import Settings
from .work import Run

MAX_PARTS = 10_000
MIN_PART = 5 * 1024 * 1024


@dataclass
class CopyResult:
    copied: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped: int = 0          # changed or vanished at the source during the run
    bytes_copied: int = 0
    failures: list = field(default_factory=list)
    skipped_keys: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


class Copier:
    def __init__(self, run: Run, settings: Settings):
        self.run = run
        self.request = run.request
        self.settings = settings
        self.src = clients.data_client(run.source_region)
        # Copies are requests to the destination: its region's client.
        self.dst = clients.data_client(run.destination_region)
        self._lock = threading.Lock()
        self.result = CopyResult()

    def copy_chunk(self, actions: list) -> CopyResult:
        with ThreadPoolExecutor(self.settings.copy_threads) as pool:
            list(pool.map(self._one, actions))
        return self.result

    # ---- one action ----------------------------------------------------------
    def _one(self, action) -> None:
        op, key, size, etag = action
        src_key = self.request.source_prefix + key
        dst_key = self.request.destination_prefix + key
        try:
            if op == CHECK and self._stamped_same(dst_key, etag):
                self._count(unchanged=1)
                progress.emit("checked", 1)
                return
            if self.request.dry_run:
                self._count(copied=1, bytes_copied=size)
                progress.emit("copied", 1, size)
                return
            try:
                self._copy(src_key, dst_key, size, etag)
            except (SourceChangedError, NoSuchKeyError):
                current = self._reread(src_key)
                if current is None:
                    self._skip(key, "vanished from the source during the run")
                    return
                size, etag = current
                try:
                    self._copy(src_key, dst_key, size, etag)
                except (SourceChangedError, NoSuchKeyError):
                    self._skip(key, "changed at the source during the run; left for the next run")
                    return
            self._count(copied=1, bytes_copied=size)
            progress.emit("copied", 1, size)
        except BucketsyncError as exc:
            self._fail(key, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # an unexpected bug must not hide the other 999 objects
            self._fail(key, f"{type(exc).__name__}: {exc}")

    def _stamped_same(self, dst_key: str, etag: str) -> bool:
        try:
            head = s3.head_object(self.dst, self.request.destination, dst_key)
        except NoSuchKeyError:
            return False
        stamp = (head.get("Metadata") or {}).get(s3.STAMP)
        return stamp is not None and normalise_etag(stamp) == normalise_etag(etag)

    def _reread(self, src_key: str):
        try:
            head = s3.head_object(self.src, self.request.source, src_key)
        except NoSuchKeyError:
            return None
        return head["ContentLength"], head["ETag"]

    def _copy(self, src_key: str, dst_key: str, size: int, etag: str) -> None:
        if is_multipart_etag(etag) or size >= self.settings.multipart_threshold:
            self._multipart(src_key, dst_key, size, etag)
            return
        req = self.request
        try:
            new_etag = s3.copy_object(self.dst, req.source, src_key, req.destination, dst_key, etag)
        except NoSuchKeyError:
            if src_key.endswith("/") and size == 0:
                self._put_marker(src_key, dst_key, etag)
                return
            raise
        if normalise_etag(new_etag) != normalise_etag(etag):
            head = self._head_source(src_key, etag)
            s3.copy_object(self.dst, req.source, src_key, req.destination, dst_key, etag,
                           metadata=s3.written_metadata(head, normalise_etag(etag)))

    def _head_source(self, src_key: str, etag: str, part_number: int | None = None) -> dict:
        head = s3.head_object(self.src, self.request.source, src_key, part_number)
        # With a part number some servers (moto) answer the part's ETag, not the
        # object's: there the conditional part copies do the checking.
        if part_number is None and normalise_etag(head["ETag"]) != normalise_etag(etag):
            raise SourceChangedError(f"{src_key} changed since it was listed")
        return head

    def _tags(self, src_key: str) -> dict:
        try:
            return s3.get_tags(self.src, self.request.source, src_key)
        except S3Error as exc:
            if "NotImplemented" in str(exc):   # servers without tagging: nothing to keep
                return {}
            raise

    def _put_marker(self, src_key: str, dst_key: str, etag: str) -> None:
        head = self._head_source(src_key, etag)
        s3.put_object(self.dst, self.request.destination, dst_key, b"",
                      s3.written_metadata(head, normalise_etag(etag)), self._tags(src_key))

    def _multipart(self, src_key: str, dst_key: str, size: int, etag: str) -> None:
        req = self.request
        head = self._head_source(src_key, etag)
        ranges = self._part_ranges(src_key, size, etag)
        tags = self._tags(src_key)
        upload_id = s3.create_multipart(self.dst, req.destination, dst_key,
                                        s3.written_metadata(head, normalise_etag(etag)), tags)
        try:
            def part(numbered):
                number, (first, last) = numbered
                return s3.upload_part_copy(self.dst, req.source, src_key, req.destination, dst_key,
                                           upload_id, number, first, last, etag)
            with ThreadPoolExecutor(self.settings.part_threads) as pool:
                etags = list(pool.map(part, enumerate(ranges, start=1)))
            s3.complete_multipart(self.dst, req.destination, dst_key, upload_id, etags)
        except BaseException:
            try:
                s3.abort_multipart(self.dst, req.destination, dst_key, upload_id)
            except BucketsyncError:
                pass  # the lifecycle rule or the next run cleans it; the real error matters
            raise

    def _part_ranges(self, src_key: str, size: int, etag: str) -> list[tuple[int, int]]:
        """Byte ranges of the parts: the source's own layout when it is
        multipart, else `part_size` parts (at most 10,000)."""
        count = 0
        if is_multipart_etag(etag):
            # Metadata comes from a plain HEAD: some servers (moto) answer a
            # part HEAD with the part's own ETag and no metadata.
            head = self._head_source(src_key, etag, part_number=1)
            count = int(head.get("PartsCount") or 0)
        if count == 1:
            sizes = [size]
        elif count > 1:
            first = head["ContentLength"]
            sizes = [first] * (count - 1) + [size - first * (count - 1)]
            if not 0 < sizes[-1] <= first:   # uneven parts: ask for each one
                sizes = [first] + [self._head_source(src_key, etag, n)["ContentLength"]
                                   for n in range(2, count + 1)]
        else:
            part = max(self.settings.part_size, -(-size // MAX_PARTS), 1)
            sizes = [min(part, size - offset) for offset in range(0, size, part)] or [0]
        ranges, offset = [], 0
        for length in sizes:
            ranges.append((offset, offset + length - 1))
            offset += length
        if offset != size:
            raise SourceChangedError(f"{src_key}: parts add up to {offset} bytes, object has {size}")
        return ranges

    # ---- bookkeeping -----------------------------------------------------------
    def _count(self, **counts) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self.result, name, getattr(self.result, name) + value)

    def _fail(self, key: str, error: str) -> None:
        with self._lock:
            self.result.failed += 1
            self.result.failures.append({"key": key, "error": error})

    def _skip(self, key: str, why: str) -> None:
        with self._lock:
            self.result.skipped += 1
            self.result.skipped_keys.append({"key": key, "reason": why})
