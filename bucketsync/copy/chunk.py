"""Copy one chunk of planned actions with a thread pool: each object
proven the same, or copied by the chunk's writer: server-side when one
client reaches both sides (server_side.py), else streamed through this
process (streamed.py).

Every read of the source is conditional on the planned ETag. When the source
changed since it was listed, it is re-read once and copied as it is now; if
it vanished or keeps changing, it is reported and left for the next run.
"""
from __future__ import annotations

from .. import s3, threads
from ..errors import DestinationChangedError, NoSuchKeyError, RunInterrupted, SourceChangedError
from ..diff import CopyAction, normalise_etag
from ..chunk_results import WOULD_COPY, CopyResult
from ..settings import Settings
from ..work import Run
from . import checking, destination, readback, sameness, source
from .context import CopyContext, Job, Stamping, Writer
from .deadline import INTERRUPTED, may_start
from .server_side import ServerSideWriter
from .streamed import StreamedWriter

RESPELLED = ("not written: the destination does not list {key!r} as spelled, yet answers for it with an object "
             "(it stores the key under another spelling: '//' as '/', no leading '/', '\\' as '/'), and writing "
             "would overwrite that object. Exclude the key, or rename it at the source")


class Copier:
    """`src` and `dst`: the clients of the source's and the destination's
    buckets (server-side copies are requests to the destination: its
    region's client)."""

    def __init__(self, run: Run, settings: Settings, src, dst, deadline: float | None = None,
                 stamping: Stamping | None = None):
        """`stamping`: how server-side copies start (stamping.for_chunk);
        None: plain, each copy finding out for itself (the mirror)."""
        self.ctx = CopyContext(run, settings, src, dst, stamping=stamping or Stamping())
        self.deadline = deadline
        self.writer: Writer = StreamedWriter(self.ctx) if run.streamed else ServerSideWriter(self.ctx)

    @property
    def dst(self):
        return self.ctx.dst

    @property
    def result(self) -> CopyResult:
        return self.ctx.ledger.result

    @property
    def written(self) -> dict[str, tuple[int, str]]:
        """Relative key -> (bytes, source ETag) of what was written (for readback.prove)."""
        return self.ctx.ledger.written

    def copy_chunk(self, actions: list[CopyAction]) -> CopyResult:
        with threads.pool(self.ctx.settings.copy_threads) as pool:
            list(pool.map(self._one, actions))
        return self.result

    def _one(self, action: CopyAction) -> None:
        try:
            s3.retrying(lambda: self._act(action), self.ctx.settings.retry_seconds)
        except Exception as exc:   # noqa: BLE001 - one object must not hide the other 999
            self.ctx.ledger.fail(action, f"{type(exc).__name__}: {exc}")

    def _act(self, action: CopyAction) -> None:
        ctx, ledger = self.ctx, self.ctx.ledger
        if not may_start(ledger, action, self.deadline):
            return
        dst_key = ctx.request.destination_prefix + action.key
        why = checking.why_copy(ctx, action, dst_key)
        if why is None:   # done with: proven the same, updated, or skipped
            return
        if ctx.request.dry_run:
            ledger.done(action, WOULD_COPY, why)
            return
        if self._another_spelling_is_there(action, dst_key):
            return
        try:
            copied = self._copy_as_planned_or_now(action)
        except RunInterrupted:   # a multipart copy stopped between parts (and aborted)
            ledger.skip(action, INTERRUPTED)
            return
        except DestinationChangedError as exc:
            if self._respellable(action, dst_key):
                # Most likely no other writer: this run wrote another key
                # that the server stores under the same spelling.
                ledger.fail(action, RESPELLED.format(key=dst_key))
            else:
                ledger.skip(action, f"changed at the destination during the run ({exc}); left for the next run")
            return
        if copied is not None and checking.mend_took(ctx, action, dst_key):
            ledger.copied(action, why, *copied)

    def _respellable(self, action: CopyAction, dst_key: str) -> bool:
        """A key that a server other than AWS may store under another
        spelling (`/lead` as `lead`, `a//b` as `a/b`: readback.py)."""
        return not (self.ctx.run.destination_endpoint.on_aws or sameness.is_marker(action)
                    or readback.path_like(dst_key))

    def _another_spelling_is_there(self, action: CopyAction, dst_key: str) -> bool:
        """Whether writing this key would overwrite another key's object: a
        respellable key planned as absent (not listed as spelled) whose HEAD
        finds an object would land on that object. Then it fails unwritten
        (one HEAD, only for such keys on such servers)."""
        if action.dst_etag is not None or not self._respellable(action, dst_key):
            return False
        try:
            s3.head_object(self.ctx.dst, self.ctx.request.destination, dst_key)
        except NoSuchKeyError:
            return False
        self.ctx.ledger.fail(action, RESPELLED.format(key=dst_key))
        return True

    def _copy_as_planned_or_now(self, action: CopyAction) -> tuple[int, str] | None:
        """Copy the source as planned; if it changed since it was listed, once
        more as it is now. Returns the bytes and source ETag copied, None
        when skipped."""
        req = self.ctx.request
        job = Job(action, req.source_prefix + action.key, req.destination_prefix + action.key, action.size,
                  action.etag)
        for _ in range(2):
            try:
                self.writer.write(job)
                return job.size, job.etag
            except (SourceChangedError, NoSuchKeyError):
                pass
            now = source.current(self.ctx, job.src_key)
            if now is None:
                self.ctx.ledger.skip(action, "vanished from the source during the run")
                return None
            if normalise_etag(now[1]) == normalise_etag(job.etag):
                # The source is as tried: the failed condition was the
                # destination's (a server that does not say which one
                # failed), unless the destination holds this very object:
                # our own copy, retried after its answer was lost, or made by
                # a server that ignored the source condition.
                destination.ours(self.ctx, job.dst_key, job.etag)
                return job.size, job.etag
            job = Job(action, job.src_key, job.dst_key, *now)
        self.ctx.ledger.skip(action, "changed at the source during the run; left for the next run")
        return None
