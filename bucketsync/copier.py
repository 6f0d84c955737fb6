"""Copy one chunk of planned actions with a thread pool: server-side when one
client reaches both sides, else streamed through this process (transfer.py).

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
With `check_metadata`, same-content objects (META actions, and CHECKs proven
the same) are compared by one ranged GetObject per side, which answers the
metadata and the tag count; tags are read only when either side has some.
Different metadata is mended by copying the object again as above (S3 has no
other way to change it; the copy keeps the ETag equal); different tags alone
by one PutObjectTagging.
Every read of the source is conditional on the planned ETag. When the source
changed since it was listed, it is re-read once and copied as it is now; if
it vanished or keeps changing, it is reported and left for the next run.
A failed multipart copy is aborted: nothing is ever half-copied.
Across endpoints (or credentials) an object is streamed: one GET and one PUT
up to `part_size` (a multipart source keeps its layout when its parts fit the
memory budget), else ranged GETs and UploadPart in parallel; metadata, tags
and the stamp are written explicitly, uploads carry Content-MD5, and the
bytes read are checked against the source's ETag where it is their MD5.
"""
from __future__ import annotations

import base64
import hashlib
import threading
import time

from . import clients, interrupt, progress, readback, s3, threads, transfer
from .errors import (AccessDeniedError, BucketsyncError, DestinationChangedError, NoSuchKeyError,
                     PreconditionsUnsupportedError, RunInterrupted, S3Error, SourceChangedError, TransientError)
from .plan import CHECK, META, CopyAction, is_multipart_etag, normalise_etag
from .results import (COPIED, FAILED, SKIPPED, UNCHANGED, UPDATED, WOULD_COPY, WOULD_UPDATE, ActionResult,
                      CopyResult)
from .settings import Settings
from .work import Run

MAX_PARTS = 10_000
MIN_PART = 5 * 1024 * 1024


# No object copy starts later than this before the Lambda's time is up: the
# copies under way finish and the chunk's result is written, rather than the
# Lambda being killed mid-chunk (a timeout would lose the whole chunk's result).
TIME_RESERVE_SECONDS = 120
INTERRUPTED = "not copied: the run was interrupted; rerun to finish"
RESPELLED = ("not written: the destination does not list {key!r} as spelled, yet answers for it with an object "
             "(it stores the key under another spelling: '//' as '/', no leading '/', '\\' as '/'), and writing "
             "would overwrite that object. Exclude the key, or rename it at the source")
MARKER_METADATA_DROPPED = ("same content; metadata and tags not compared: the destination keeps none on "
                           "folder markers (a mend did not take)")


def start_deadline(remaining_ms: int | None) -> float | None:
    """The monotonic time after which no new copy starts, from the Lambda
    context's remaining time (None: no limit)."""
    if remaining_ms is None:
        return None
    remaining = remaining_ms / 1000
    return time.monotonic() + max(remaining - TIME_RESERVE_SECONDS, remaining / 2)


class Copier:
    def __init__(self, run: Run, settings: Settings, deadline: float | None = None):
        if settings.part_size > settings.stream_buffer_bytes // 2 and run.streamed:
            raise ValueError(f"BUCKETSYNC_PART_SIZE ({settings.part_size}) must be at most half of "
                             f"BUCKETSYNC_STREAM_BUFFER_BYTES ({settings.stream_buffer_bytes}) for streamed copies")
        self.run = run
        self.deadline = deadline
        self.request = run.request
        self.settings = settings
        self.src = clients.data_client(run.source_region, run.source_endpoint)
        # Server-side copies are requests to the destination: its region's client.
        self.dst = clients.data_client(run.destination_region, run.destination_endpoint)
        self._lock = threading.Lock()
        self.result = CopyResult()
        # Relative key -> (bytes, source ETag) of every object this copier
        # wrote: what the read-back (readback.py) must find at the destination.
        self.written: dict[str, tuple[int, str]] = {}
        # Relative key -> the source's state, for copies made to mend metadata
        # (`check_metadata`): read back after the copy, since a server may
        # not keep what it was given (SeaweedFS keeps none on folder markers).
        self._mends: dict[str, dict] = {}
        self.memory = transfer.budget(settings.stream_buffer_bytes)

    def copy_chunk(self, actions: list[CopyAction]) -> CopyResult:
        with threads.pool(self.settings.copy_threads) as pool:
            list(pool.map(self._one, actions))
        return self.result

    # ---- one action ----------------------------------------------------------
    def _one(self, action: CopyAction) -> None:
        try:
            s3.retrying(lambda: self._act(action), self.settings.retry_seconds)
        except Exception as exc:   # noqa: BLE001 - one object must not hide the other 999
            self._fail(action, f"{type(exc).__name__}: {exc}")

    def _act(self, action: CopyAction) -> None:
        if not self._may_start(action):
            return
        dst_key = self.request.destination_prefix + action.key
        why = self._why_copy(action, dst_key)
        if why is None:   # done with: proven the same, updated, or skipped
            return
        if self.request.dry_run:
            self._done(action, WOULD_COPY, why)
            return
        if self._another_spelling_is_there(action, dst_key):
            return
        try:
            copied = self._copy_as_planned_or_now(action)
        except RunInterrupted:   # a multipart copy stopped between parts (and aborted)
            self._skip(action, INTERRUPTED)
            return
        except DestinationChangedError as exc:
            if self._respellable(action, dst_key):
                # Most likely no other writer: this run wrote another key
                # that the server stores under the same spelling.
                self._fail(action, RESPELLED.format(key=dst_key))
            else:
                self._skip(action, f"changed at the destination during the run ({exc}); left for the next run")
            return
        if copied is not None:
            size, etag = copied
            if not self._mend_took(action, dst_key):
                return
            with self._lock:
                self.written[action.key] = (size, etag)
            self._done(action, COPIED, why, size)

    def _respellable(self, action: CopyAction, dst_key: str) -> bool:
        """A key that a server other than AWS may store under another
        spelling (`/lead` as `lead`, `a//b` as `a/b`: readback.py)."""
        return not (self.run.destination_endpoint.on_aws or _marker(action) or readback.path_like(dst_key))

    def _another_spelling_is_there(self, action: CopyAction, dst_key: str) -> bool:
        """Whether writing this key would overwrite another key's object: a
        respellable key planned as absent (not listed as spelled) whose HEAD
        finds an object would land on that object. Then it fails unwritten
        (one HEAD, only for such keys on such servers)."""
        if action.dst_etag is not None or not self._respellable(action, dst_key):
            return False
        try:
            s3.head_object(self.dst, self.request.destination, dst_key)
        except NoSuchKeyError:
            return False
        self._fail(action, RESPELLED.format(key=dst_key))
        return True

    def _mend_took(self, action: CopyAction, dst_key: str) -> bool:
        """After a copy made to mend metadata: whether the destination now has
        the source's metadata (one HEAD). A folder marker that does not keep it
        is a server's trait (noted once; later markers are not mended again
        in this chunk) and counts as unchanged; any other object fails."""
        with self._lock:
            source = self._mends.pop(action.key, None)
        if source is None:
            return True
        head = s3.head_object(self.dst, self.request.destination, dst_key)
        differences = s3.metadata_differences(source, head)
        if not differences:
            return True
        if _marker(action):
            self._observe("marker_metadata", "dropped")
            self._done(action, UNCHANGED, MARKER_METADATA_DROPPED, event="checked")
        else:
            self._fail(action, f"metadata mended, but the destination did not keep it (still differs: "
                               f"{', '.join(differences)})")
        return False

    def _may_start(self, action: CopyAction) -> bool:
        """False (and the action reported) once the run is interrupted or the
        Lambda's time is nearly up."""
        if interrupt.requested():
            self._skip(action, INTERRUPTED)
            return False
        if self.deadline is not None and time.monotonic() > self.deadline:
            self._fail(action, "not started: the copy chunk's Lambda was running out of time (chunks are "
                               "sized by BUCKETSYNC_CHUNK_ACTIONS and BUCKETSYNC_CHUNK_BYTES); the next run copies it")
            return False
        return True

    def _why_copy(self, action: CopyAction, dst_key: str) -> str | None:
        """Why the object must be copied, or None when it need not be. CHECK
        and META actions are proven here (by the stamp, or with
        `check_metadata` by comparing metadata and tags)."""
        if action.op in (CHECK, META) and self.request.check_metadata:
            return self._metadata_check(action, dst_key)
        if action.op == CHECK and self._stamped_same(dst_key, action.etag):
            self._done(action, UNCHANGED, "same content (proven by the source-ETag stamp)", event="checked")
            return None
        return _why(action)

    def _metadata_check(self, action: CopyAction, dst_key: str) -> str | None:
        """For `check_metadata`: None when the object is done with (the same
        in content, metadata and tags; its tags updated; or skipped), else why
        it must be copied (its content or its metadata differs)."""
        req = self.request
        src_key = req.source_prefix + action.key
        try:
            dst, dst_count = s3.object_state(self.dst, req.destination, dst_key, action.size, action.dst_etag,
                                             self.run.destination_endpoint.on_aws)
        except (SourceChangedError, NoSuchKeyError):   # If-Match on the destination's planned ETag failed
            self._skip(action, "changed at the destination during the run; left for the next run")
            return None
        if action.op == CHECK and not self._stamped_same(dst_key, action.etag, dst):
            return _why(action)
        try:
            src, src_count = s3.object_state(self.src, req.source, src_key, action.size, action.etag,
                                             self.run.source_endpoint.on_aws)
        except (SourceChangedError, NoSuchKeyError):
            return "changed at the source during the run"   # copied as it is now
        if _marker(action) and self.result.observed.get("marker_metadata") == "dropped":
            self._done(action, UNCHANGED, MARKER_METADATA_DROPPED, event="checked")
            return None
        differences = s3.metadata_differences(src, dst)
        if differences:
            with self._lock:
                self._mends[action.key] = src
            return f"same content, metadata differs ({', '.join(differences)})"
        if src_count == dst_count == 0:
            self._done(action, UNCHANGED, "same content, metadata and tags", event="checked")
            return None
        src_tags = self._tags(src_key) if src_count != 0 else {}
        if self.result.observed.get("tagging") == "unsupported":
            self._done(action, UNCHANGED, "same content and metadata (tags not compared: no tagging)",
                       event="checked")
            return None
        dst_tags = s3.get_tags(self.dst, req.destination, dst_key) if dst_count != 0 else {}
        if src_tags == dst_tags:
            self._done(action, UNCHANGED, "same content, metadata and tags", event="checked")
            return None
        if not req.dry_run:
            s3.put_tags(self.dst, req.destination, dst_key, src_tags)
            if _marker(action) and s3.get_tags(self.dst, req.destination, dst_key) != src_tags:
                self._observe("marker_metadata", "dropped")   # the mend did not take
                self._done(action, UNCHANGED, MARKER_METADATA_DROPPED, event="checked")
                return None
        self._done(action, WOULD_UPDATE if req.dry_run else UPDATED, "same content and metadata, tags differ",
                   event="checked")
        return None

    def _copy_as_planned_or_now(self, action: CopyAction) -> tuple[int, str] | None:
        """Copy the source as planned; if it changed since it was listed, once
        more as it is now. Returns the bytes and source ETag copied, None
        when skipped."""
        src_key = self.request.source_prefix + action.key
        dst_key = self.request.destination_prefix + action.key
        size, etag = action.size, action.etag
        for _ in range(2):
            try:
                self._copy(src_key, dst_key, size, etag, action)
                return size, etag
            except (SourceChangedError, NoSuchKeyError):
                pass
            current = self._reread(src_key)
            if current is None:
                self._skip(action, "vanished from the source during the run")
                return None
            if normalise_etag(current[1]) == normalise_etag(etag):
                # The source is as tried: the failed condition was the
                # destination's (a server that does not say which one
                # failed), unless the destination holds this very object:
                # our own copy, retried after its answer was lost, or made by
                # a server that ignored the source condition.
                self._ours(dst_key, etag)
                return size, etag
            size, etag = current
        self._skip(action, "changed at the source during the run; left for the next run")
        return None

    def _stamped_same(self, dst_key: str, etag: str, head: dict | None = None) -> bool:
        """Whether the destination is provably the planned source object: its
        stamp equals the source ETag (one HEAD, unless the destination's
        `head` is at hand). Without a stamp, only an
        object whose stamp was dropped for S3's metadata limit counts, when a
        HEAD of the source shows the same size and user metadata and the
        destination was written after the source's last change."""
        if head is None:
            try:
                head = s3.head_object(self.dst, self.request.destination, dst_key)
            except NoSuchKeyError:
                return False
        metadata = head.get("Metadata") or {}
        stamp = metadata.get(s3.STAMP)
        if stamp is not None:
            return normalise_etag(stamp) == normalise_etag(etag)
        if s3.stamp_fits(metadata):
            return False
        try:
            source = self._head_source(self.request.source_prefix + dst_key[len(self.request.destination_prefix):], etag)
        except (SourceChangedError, NoSuchKeyError):
            return False
        return (source["ContentLength"] == head["ContentLength"]
                and (source.get("Metadata") or {}) == metadata
                and s3.last_modified(head) >= s3.last_modified(source))

    def _reread(self, src_key: str):
        try:
            head = s3.head_object(self.src, self.request.source, src_key)
        except NoSuchKeyError:
            return None
        return head["ContentLength"], head["ETag"]

    def _copy(self, src_key: str, dst_key: str, size: int, etag: str, action: CopyAction) -> None:
        if self.run.streamed:
            if src_key.endswith("/") and size == 0:   # a folder marker (a directory on some servers)
                self._put_marker(src_key, dst_key, etag, action)
            elif is_multipart_etag(etag) or size > self.settings.part_size:
                self._stream_multipart(src_key, dst_key, size, etag, action)
            else:
                self._stream_whole(src_key, dst_key, size, etag, action)
            return
        if is_multipart_etag(etag) or size >= self.settings.multipart_threshold:
            self._multipart(src_key, dst_key, size, etag, action)
            return
        req = self.request
        try:
            new_etag = self._conditionally(
                lambda condition: s3.copy_object(self.dst, req.source, src_key, req.destination, dst_key, etag,
                                                 dst_condition=condition), action.dst_etag)
        except DestinationChangedError:
            if src_key.endswith("/") and size == 0:   # a marker: its directory may exist already
                self._put_marker(src_key, dst_key, etag, action)
                return
            new_etag = self._ours(dst_key, etag)
        except NoSuchKeyError:
            if src_key.endswith("/") and size == 0:
                self._put_marker(src_key, dst_key, etag, action)
                return
            raise
        if normalise_etag(new_etag) != normalise_etag(etag):
            # The ETags cannot match (SSE-KMS, a server's own habits): copy
            # again with the metadata given explicitly and the stamp,
            # conditional on the object just written. The source must still
            # be the planned object; if it is not, the server copied a
            # changed source although the copy was conditional on the planned
            # ETag: it ignores CopySourceIfMatch.
            try:
                head = self._head_source(src_key, etag)
            except SourceChangedError:
                self._observe("copy_source_if_match", "ignored")
                raise
            try:
                self._conditionally(
                    lambda condition: s3.copy_object(self.dst, req.source, src_key, req.destination, dst_key, etag,
                                                     metadata=self._metadata(head, etag, action),
                                                     dst_condition=condition), new_etag)
            except DestinationChangedError:
                self._ours(dst_key, etag, stamped_only=True)

    # ---- streamed copies (two endpoints, or two sets of credentials) ---------
    def _stream_whole(self, src_key: str, dst_key: str, size: int, etag: str, action: CopyAction) -> None:
        """One GET, one PUT with Content-MD5, the bytes held in the budget."""
        req = self.request
        self.memory.acquire(size)
        try:
            data, head = s3.get_bytes(self.src, req.source, src_key, etag)
            digest = hashlib.md5(data, usedforsecurity=False)
            self._check_read(src_key, etag, head, digest.hexdigest())
            metadata = self._metadata(head, etag, action)
            tags = self._source_tags(src_key, head)
            md5 = base64.b64encode(digest.digest()).decode("ascii")
            try:
                self._conditionally(
                    lambda condition: s3.put_object(self.dst, req.destination, dst_key, data, metadata, tags,
                                                    dst_condition=condition, content_md5=md5), action.dst_etag)
            except DestinationChangedError:
                self._ours(dst_key, etag, written=digest.hexdigest())
        finally:
            self.memory.release(size)

    def _check_read(self, src_key: str, etag: str, head: dict, md5_hex: str) -> None:
        """Raise IntegrityError unless the bytes read hash to the source's ETag
        (where it is their MD5). AWS documents a plain ETag as the MD5 of the
        content; another server's may not be: one that hashes differently on
        two reads is a corrupted read, one that keeps its (non-MD5) ETag is
        noted in the report and not compared again in this chunk."""
        if self.result.observed.get("source_etags") == "not MD5 of content":
            return
        problem = transfer.read_problem(etag, head.get("ServerSideEncryption"), whole_md5=md5_hex)
        if problem is None:
            return
        if not self.run.source_endpoint.on_aws:
            again, _ = s3.get_bytes(self.src, self.request.source, src_key, etag)
            if hashlib.md5(again, usedforsecurity=False).hexdigest() == md5_hex:
                self._observe("source_etags", "not MD5 of content")
                return
        raise transfer.IntegrityError(f"{src_key}: {problem}; not written")

    def _stream_multipart(self, src_key: str, dst_key: str, size: int, etag: str, action: CopyAction) -> None:
        """Ranged GETs and UploadPart in parallel, in the source's part layout
        when its parts fit the budget (the ETags can then match), else in
        `part_size` parts; the upload is aborted on any failure. A layout
        guessed from the first and last parts that the bytes read disprove
        (uneven middle parts) is asked part by part, and the object sent again."""
        try:
            self._stream_in_parts(src_key, dst_key, size, etag, action, exact=False)
        except _GuessedLayoutWrong:
            self._stream_in_parts(src_key, dst_key, size, etag, action, exact=True)

    def _stream_in_parts(self, src_key: str, dst_key: str, size: int, etag: str, action: CopyAction,
                         exact: bool) -> None:
        req = self.request
        head = self._head_source(src_key, etag)
        ranges, guessed = self._part_ranges(src_key, size, etag, exact=exact)
        kept_layout = is_multipart_etag(etag)
        sizes = [last - first + 1 for first, last in ranges]
        # The source's layout, unless its parts would not fit the budget or
        # break S3's 5 MiB minimum (servers that allow smaller parts exist).
        if max(sizes) > self.memory.limit // 2 or any(s < MIN_PART for s in sizes[:-1]):
            ranges, kept_layout, guessed = _even_ranges(size, self.settings.part_size), False, False
        tags = self._source_tags(src_key, head)
        def fetch(first, last):
            interrupt.check(f"the copy of {dst_key}")
            return s3.get_bytes(self.src, req.source, src_key, etag, first, last)[0]

        def write_parts(upload_id):
            def upload(number, data, md5):
                return s3.upload_part(self.dst, req.destination, dst_key, upload_id, number, data, md5)
            etags, whole, part_md5s = transfer.stream_parts(
                ranges, fetch, upload, self.memory, self.settings.part_threads,
                hash_whole=not is_multipart_etag(etag))
            unchecked = self.result.observed.get("source_etags") == "not MD5 of content"
            problem = None if unchecked else transfer.read_problem(
                etag, head.get("ServerSideEncryption"), whole, part_md5s if kept_layout else None)
            if problem and guessed:
                raise _GuessedLayoutWrong(problem)   # the upload is aborted; asked part by part
            if problem:
                raise transfer.IntegrityError(f"{src_key}: {problem}; not written")
            return etags

        self._upload_in_parts(dst_key, etag, action, head, tags, write_parts)

    def _source_tags(self, src_key: str, head: dict) -> dict:
        """The source's tags; none without a request where AWS's answer says
        so (it sends x-amz-tagging-count only for tagged objects)."""
        if self.run.source_endpoint.on_aws and head.get("TagCount") is None:
            return {}
        return self._tags(src_key)

    def _ours(self, dst_key: str, etag: str, stamped_only: bool = False, written: str | None = None) -> str:
        """After a failed destination condition: the destination's ETag if it
        holds this very source object (a write that succeeded but whose answer
        was lost is retried by the client, and the retry fails the condition
        against our own write): it has the source's ETag (unless
        `stamped_only`), our stamp of it, or the ETag our write makes
        (`written`); else DestinationChangedError stands."""
        try:
            head = s3.head_object(self.dst, self.request.destination, dst_key)
        except NoSuchKeyError:
            raise DestinationChangedError(f"{dst_key} vanished from the destination") from None
        proofs = {normalise_etag(written)} if written else set()
        if not stamped_only:
            proofs.add(normalise_etag(etag))
        stamp = (head.get("Metadata") or {}).get(s3.STAMP)
        if normalise_etag(head["ETag"]) in proofs or (stamp is not None and normalise_etag(stamp) == normalise_etag(etag)):
            return head["ETag"]
        raise DestinationChangedError(f"{dst_key} was written by another writer since it was planned")

    def _conditionally(self, write, dst_etag: str | None):
        """Run `write(condition)` conditional on the destination being as
        planned: absent (If-None-Match: *) or the planned object (If-Match),
        so that a stale plan never overwrites a concurrent writer's object.
        A server that does not implement the condition gets the write again
        without it, and from then on none (noted once in the report)."""
        if self.result.observed.get("conditional_writes") == "rejected":
            return write(None)
        condition = {"IfNoneMatch": "*"} if dst_etag is None else {"IfMatch": dst_etag}
        try:
            return write(condition)
        except PreconditionsUnsupportedError:
            self._observe("conditional_writes", "rejected")
            return write(None)

    def _metadata(self, head: dict, etag: str, action: CopyAction) -> dict:
        """The written metadata with the stamp, or without it (noted in the
        report) when the stamp would push user metadata over S3's limit."""
        metadata, stamped = s3.written_metadata(head, normalise_etag(etag))
        if not stamped:
            with self._lock:
                self.result.observed.setdefault("stamp_dropped", []).append(action.key)
        return metadata

    def _head_source(self, src_key: str, etag: str, part_number: int | None = None) -> dict:
        head = s3.head_object(self.src, self.request.source, src_key, part_number)
        # With a part number some servers (moto) answer the part's ETag, not the
        # object's: there the conditional part copies do the checking.
        if part_number is None and normalise_etag(head["ETag"]) != normalise_etag(etag):
            raise SourceChangedError(f"{src_key} changed since it was listed")
        return head

    def _tags(self, src_key: str) -> dict:
        """The source's tags; {} on a server without tagging (it answers
        NotImplemented, or, on an S3-compatible endpoint, a 5xx that outlasts
        the client's retries, as rclone does),
        which is noted once in the report."""
        if self.result.observed.get("tagging") == "unsupported":
            return {}
        try:
            return s3.get_tags(self.src, self.request.source, src_key)
        except (TransientError, S3Error) as exc:
            # AWS always has tagging: there a 5xx is an outage (retried by the
            # caller), never a reason to copy without tags.
            persistent_5xx = isinstance(exc, TransientError) and not self.run.source_endpoint.on_aws
            if not persistent_5xx and getattr(exc, "code", None) not in ("NotImplemented", "501"):
                raise
            self._observe("tagging", "unsupported")
            return {}

    def _put_marker(self, src_key: str, dst_key: str, etag: str, action: CopyAction) -> None:
        head = self._head_source(src_key, etag)
        metadata, _ = s3.written_metadata(head, normalise_etag(etag))
        tags = self._tags(src_key)
        try:
            self._conditionally(lambda condition: s3.put_object(self.dst, self.request.destination, dst_key, b"",
                                                                metadata, tags, dst_condition=condition),
                                action.dst_etag)
        except DestinationChangedError:
            # A server that keeps markers as directories makes "dir/" exist (an
            # empty answer to HEAD, yet no listed object) as soon as a key under
            # it is written, by this very run: the marker is written over it.
            # Nothing is lost: it is empty either way.
            try:
                empty = int(s3.head_object(self.dst, self.request.destination, dst_key).get("ContentLength", -1)) == 0
            except NoSuchKeyError:
                empty = False
            if not empty:
                self._ours(dst_key, etag, stamped_only=True)
                return
            s3.put_object(self.dst, self.request.destination, dst_key, b"", metadata, tags)

    def _multipart(self, src_key: str, dst_key: str, size: int, etag: str, action: CopyAction) -> None:
        req = self.request
        head = self._head_source(src_key, etag)
        ranges, _ = self._part_ranges(src_key, size, etag)
        tags = self._tags(src_key)

        def write_parts(upload_id):
            def part(numbered):
                interrupt.check(f"the copy of {dst_key}")
                number, (first, last) = numbered
                return s3.upload_part_copy(self.dst, req.source, src_key, req.destination, dst_key,
                                           upload_id, number, first, last, etag)
            with threads.pool(self.settings.part_threads) as pool:
                return list(pool.map(part, enumerate(ranges, start=1)))

        self._upload_in_parts(dst_key, etag, action, head, tags, write_parts)

    def _upload_in_parts(self, dst_key: str, etag: str, action: CopyAction, head: dict, tags: dict,
                         write_parts) -> None:
        """A multipart upload of the source's metadata and tags, whose parts
        `write_parts(upload_id)` writes (server-side or streamed), completed
        conditionally; aborted on any failure: never half-copied."""
        req = self.request
        self._abort_stale_uploads(dst_key)
        upload_id = s3.create_multipart(self.dst, req.destination, dst_key, self._metadata(head, etag, action), tags)
        try:
            self._complete(dst_key, upload_id, write_parts(upload_id), etag, action)
        except BaseException:
            try:
                s3.abort_multipart(self.dst, req.destination, dst_key, upload_id)
            except BucketsyncError:
                pass  # the lifecycle rule or the next run cleans it; the real error matters
            raise

    def _abort_stale_uploads(self, dst_key: str) -> None:
        """Abort incomplete uploads of this key that an earlier run left
        (killed, or timed out, between CreateMultipartUpload and its
        completion or abort): they hold billed storage until a lifecycle
        rule removes them. Only uploads initiated before this run started:
        runs of one destination are serialised by the lease, so none of those
        can belong to a live run. Best effort: a server that cannot list
        uploads is noted, and the copy goes on."""
        started = self.run.started and s3.parse_time(self.run.started)
        if not started or self.result.observed.get("stale_uploads") == "unlisted":
            return
        try:
            stale = s3.stale_uploads(self.dst, self.request.destination, dst_key, started)
        except (S3Error, AccessDeniedError):   # not implemented, or no s3:ListBucketMultipartUploads
            self._observe("stale_uploads", "unlisted")
            return
        except TransientError:
            return   # the copy matters more; the next run looks again
        for upload_id in stale:
            try:
                s3.abort_multipart(self.dst, self.request.destination, dst_key, upload_id)
            except BucketsyncError:   # gone meanwhile (NoSuchUpload), or an outage: the lifecycle rule remains
                continue
            with self._lock:
                self.result.observed.setdefault("stale_uploads_aborted", []).append(dst_key)

    def _complete(self, dst_key: str, upload_id: str, etags: list[str], etag: str, action: CopyAction) -> None:
        try:
            self._conditionally(
                lambda condition: s3.complete_multipart(self.dst, self.request.destination, dst_key, upload_id,
                                                        etags, dst_condition=condition), action.dst_etag)
        except DestinationChangedError:
            # Ours if the destination has exactly the ETag these parts make,
            # or carries our stamp (a completion whose answer was lost).
            self._ours(dst_key, etag, stamped_only=True, written=s3.multipart_etag(etags))

    def _part_ranges(self, src_key: str, size: int, etag: str,
                     exact: bool = False) -> tuple[list[tuple[int, int]], bool]:
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
        if is_multipart_etag(etag):
            # Metadata comes from a plain HEAD: some servers (moto) answer a
            # part HEAD with the part's own ETag and no metadata.
            head = self._head_source(src_key, etag, part_number=1)
            count = int(head.get("PartsCount") or 0)
        if count == 0:
            return _even_ranges(size, self.settings.part_size), False
        guessed = False
        if count == 1:
            sizes = [size]
        else:
            first = head["ContentLength"]
            sizes = [first] * (count - 1) + [size - first * (count - 1)]
            even = 0 < sizes[-1] <= first
            if even and count > 2 and self.run.streamed and not exact:
                even = self._head_source(src_key, etag, count)["ContentLength"] == sizes[-1]
                guessed = even
            if exact or not even:   # uneven parts: ask for each one
                sizes = [first] + [self._head_source(src_key, etag, n)["ContentLength"]
                                   for n in range(2, count + 1)]
                guessed = False
        ranges, offset = [], 0
        for length in sizes:
            ranges.append((offset, offset + length - 1))
            offset += length
        if offset != size:
            raise SourceChangedError(f"{src_key}: parts add up to {offset} bytes, object has {size}")
        return ranges, guessed

    # ---- bookkeeping -----------------------------------------------------------
    def _done(self, action: CopyAction, outcome: str, why: str, size: int | None = None,
              event: str | None = None) -> None:
        size = action.size if size is None else size
        with self._lock:
            if outcome == UNCHANGED:
                self.result.unchanged += 1
            elif outcome in (UPDATED, WOULD_UPDATE):
                self.result.updated += 1
            else:   # copied, or would-copy in a dry run (counted as copies, as the real run would)
                self.result.copied += 1
                self.result.bytes_copied += size
            self.result.actions.append(ActionResult(action.key, size, outcome, why))
        progress.emit(event or "copied", 1, size if outcome in (COPIED, WOULD_COPY) else 0)

    def _fail(self, action: CopyAction, error: str) -> None:
        with self._lock:
            self.result.failed += 1
            self.result.failures.append({"key": action.key, "error": error})
            self.result.actions.append(ActionResult(action.key, action.size, FAILED, error))
        progress.emit("failed", 1, action.size)

    def _skip(self, action: CopyAction, why: str) -> None:
        with self._lock:
            self.result.skipped += 1
            self.result.actions.append(ActionResult(action.key, action.size, SKIPPED, why))
        progress.emit("skipped", 1, action.size)

    def _observe(self, what: str, value: str) -> None:
        with self._lock:
            self.result.observed[what] = value


class _GuessedLayoutWrong(Exception):
    """The bytes read disprove the part layout guessed for a streamed copy."""


def _even_ranges(size: int, part_size: int) -> list[tuple[int, int]]:
    """Byte ranges of `part_size` parts (larger if 10,000 would not do; never
    below S3's 5 MiB minimum for every part but the last)."""
    part = max(part_size, MIN_PART, -(-size // MAX_PARTS))
    return [(offset, min(offset + part, size) - 1) for offset in range(0, size, part)] or [(0, -1)]


def _marker(action: CopyAction) -> bool:
    """A zero-byte "dir/" key, which some servers keep as a folder."""
    return action.key.endswith("/") and action.size == 0


def _why(action: CopyAction) -> str:
    if action.op == META:
        return "same content, metadata differs"
    if action.dst_etag is None:
        return "new at the source"
    if action.op == CHECK:
        return "same size, not provably the same content"
    return f"size differs ({action.dst_size} at the destination)"
