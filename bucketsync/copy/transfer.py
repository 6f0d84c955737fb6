"""Copies that stream through this process, for sides that no single
request can join (two endpoints, or two sets of credentials): GetObject from
the source, PutObject or UploadPart to the destination, nothing staged on disk.

Memory is bounded by one process-wide `ByteBudget`: every buffered object or
part holds its size in the budget from before its GET until its upload ends,
so however many copy and part threads run, buffered bytes never exceed the
limit (BUCKETSYNC_STREAM_BUFFER_BYTES).

Integrity, end to end:
- every upload carries Content-MD5 of the bytes read, so the destination
  refuses bytes that changed on the way to it (400 BadDigest);
- what was read is compared with the source's ETag where the ETag is a
  content hash: the MD5 of a single-part object, or (the source's part layout
  kept) the MD5 of its parts' MD5s. Encrypted objects (SSE-KMS, SSE-C) have
  ETags that are no hash of their content, and are checked per part only.
- every GET is conditional on the planned ETag (If-Match) and its length is
  checked, so parts of two versions are never joined.
"""
from __future__ import annotations

import base64
import collections
import hashlib
import re
import threading

from .. import threads

_MD5_ETAG = re.compile(r"^[0-9a-f]{32}$")
_MULTIPART_ETAG = re.compile(r"^([0-9a-f]{32})-(\d+)$")
ENCRYPTED = ("aws:kms", "aws:kms:dsse")


class ByteBudget:
    """Bytes buffered at once, over all threads of the process."""

    def __init__(self, limit: int):
        self.limit = limit
        self.held = 0
        self.peak = 0
        self._cond = threading.Condition()

    def share(self, size: int) -> int:
        """What a buffer of `size` bytes takes (a part larger than the whole
        budget takes all of it, and runs alone)."""
        return max(1, min(size, self.limit))

    def try_acquire(self, size: int) -> bool:
        size = self.share(size)
        with self._cond:
            if self.held + size > self.limit:
                return False
            self.held += size
            self.peak = max(self.peak, self.held)
            return True

    def acquire(self, size: int) -> None:
        size = self.share(size)
        with self._cond:
            self._cond.wait_for(lambda: self.held + size <= self.limit)
            self.held += size
            self.peak = max(self.peak, self.held)

    def release(self, size: int) -> None:
        with self._cond:
            self.held -= self.share(size)
            self._cond.notify_all()

    def wait(self, timeout: float = 1.0) -> None:
        """Until some bytes are released (or `timeout`)."""
        with self._cond:
            self._cond.wait(timeout)


_budgets: dict[int, ByteBudget] = {}
_budgets_lock = threading.Lock()


def budget(limit: int) -> ByteBudget:
    """The process's budget of this size (shared by every copier in it)."""
    with _budgets_lock:
        return _budgets.setdefault(limit, ByteBudget(limit))


def md5_base64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii")


def read_problem(source_etag: str, encryption: str | None, whole_md5: str | None = None,
                 part_md5s: list[bytes] | None = None) -> str | None:
    """Why what was read is not the source object (None: it is, or nothing
    can tell). `whole_md5`: hex MD5 of all bytes read; `part_md5s`: binary MD5
    of each part read in the source's own part layout."""
    if encryption in ENCRYPTED:
        return None   # the ETag of an SSE-KMS object is no hash of its bytes
    etag = (source_etag or "").strip().strip('"').lower()
    if whole_md5 is not None and _MD5_ETAG.match(etag) and whole_md5 != etag:
        return f"the bytes read hash to MD5 {whole_md5}, the source's ETag is {etag}"
    found = _MULTIPART_ETAG.match(etag)
    if part_md5s is not None and found and int(found.group(2)) == len(part_md5s):
        composite = hashlib.md5(b"".join(part_md5s), usedforsecurity=False).hexdigest()
        if composite != found.group(1):
            return f"the parts read make ETag {composite}-{len(part_md5s)}, the source's is {etag}"
    return None


def stream_parts(ranges: list[tuple[int, int]], fetch, upload, memory: ByteBudget, workers: int,
                 hash_whole: bool) -> tuple[list[str], str | None, list[bytes]]:
    # Long: every path's release of budgeted bytes is in one place, where it can be checked.
    """Copy parts: `fetch(first, last) -> bytes` (in parallel), then
    `upload(number, data, md5_base64) -> etag` (in parallel). Parts are
    handed to the uploads in order, so the whole object's MD5 can be computed
    on the way (`hash_whole`). Returns (part ETags, whole MD5 hex or None,
    binary MD5 of each part). Buffered bytes stay within `memory`.

    Only this thread waits on the budget, and it first hands fetched parts on
    (their uploads release bytes without waiting), so it cannot deadlock."""
    whole = hashlib.md5(usedforsecurity=False) if hash_whole else None
    part_md5s: list[bytes] = [b""] * len(ranges)
    fetched: collections.deque = collections.deque()   # (number, size, future), in part order
    uploads: list = []                                  # (size, future)
    upload_errors: list = []                            # the first failed upload stops the object

    def upload_one(number, data, size):
        try:
            return upload(number, data, base64.b64encode(part_md5s[number - 1]).decode("ascii"))
        except BaseException as exc:
            upload_errors.append(exc)
            raise
        finally:
            memory.release(size)

    def hand_on(putters):
        if upload_errors:   # stop now, not after every other part was read and sent
            raise upload_errors[0]
        number, size, future = fetched.popleft()
        try:
            data = future.result()
        except BaseException:
            memory.release(size)
            raise
        part_md5s[number - 1] = hashlib.md5(data, usedforsecurity=False).digest()
        if whole is not None:
            whole.update(data)
        uploads.append((size, putters.submit(upload_one, number, data, size)))

    unreleased: list[int] = []
    try:
        with threads.pool(workers) as getters, threads.pool(workers) as putters:
            try:
                for number, (first, last) in enumerate(ranges, start=1):
                    size = last - first + 1
                    while not memory.try_acquire(size):
                        if fetched:
                            hand_on(putters)
                        else:
                            memory.wait()
                    fetched.append((number, size, getters.submit(fetch, first, last)))
                    while len(fetched) > workers:   # no more parts read ahead than there are readers
                        hand_on(putters)
                while fetched:
                    hand_on(putters)
                etags = [future.result() for _, future in uploads]
            except BaseException:
                # Stop what has not started; the pools' exit waits for the rest.
                for _, _, future in fetched:
                    future.cancel()
                for size, future in uploads:
                    if future.cancel():   # never ran: its bytes are released here
                        memory.release(size)
                raise
            finally:
                unreleased = [size for _, size, _ in fetched]
                fetched.clear()
    finally:   # parts read ahead and never handed on, once their readers have stopped
        for size in unreleased:
            memory.release(size)
    return etags, whole.hexdigest() if whole is not None else None, part_md5s
