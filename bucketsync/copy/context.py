"""What every part of a chunk's copy shares: the injected clients, the run,
the settings, and the ledger of outcomes (with what the servers were seen to
do), plus the typed data handed between the parts: a `Job` (one object to
copy), the `Writer` interface that copies it, and the chunk's `Stamping`."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .. import progress
from ..observed import Observed, Seen
from ..diff import CopyAction
from ..sync_request import SyncRequest
from ..chunk_results import COPIED, FAILED, SKIPPED, UNCHANGED, UPDATED, WOULD_COPY, WOULD_UPDATE, ActionResult, CopyResult
from ..settings import Settings
from ..work import Run


@dataclass(frozen=True)
class Job:
    """One object to copy, as it is to be copied now: the source's keys on
    both sides, its size and ETag (the planned ones, or the source's current
    ones when it changed since it was listed), and the planned action."""
    action: CopyAction
    src_key: str
    dst_key: str
    size: int
    etag: str

    @property
    def dst_etag(self) -> str | None:
        """The destination's ETag as planned (None: absent then)."""
        return self.action.dst_etag

    @property
    def marker(self) -> bool:
        """A zero-byte "dir/" key: a folder marker (a directory on some servers)."""
        return self.src_key.endswith("/") and self.size == 0


class Writer(Protocol):
    """Copies one job's object to the destination, or raises (the chunk
    loop turns the errors into the object's outcome)."""

    def write(self, job: Job) -> None: ...


class Ledger:
    """The chunk's outcomes, kept by many threads: the result (counts, one
    line per key, what the servers were seen to do), what was written (for
    the read-back) and the metadata mends awaiting their check."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.result = CopyResult()
        # Relative key -> (bytes, source ETag) of every object this copier
        # wrote: what the read-back (readback.py) must find at the destination.
        self.written: dict[str, tuple[int, str]] = {}
        # Relative key -> the source's state, for copies made to mend metadata
        # (`check_metadata`): read back after the copy, since a server may
        # not keep what it was given (SeaweedFS keeps none on folder markers).
        self._mends: dict[str, dict] = {}

    @property
    def observed(self) -> Observed:
        return self.result.observed

    def done(self, action: CopyAction, outcome: str, why: str, size: int | None = None,
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

    def copied(self, action: CopyAction, why: str, size: int, etag: str) -> None:
        with self._lock:
            self.written[action.key] = (size, etag)
        self.done(action, COPIED, why, size)

    def fail(self, action: CopyAction, error: str) -> None:
        with self._lock:
            self.result.failed += 1
            self.result.failures.append({"key": action.key, "error": error})
            self.result.actions.append(ActionResult(action.key, action.size, FAILED, error))
        progress.emit("failed", 1, action.size)

    def skip(self, action: CopyAction, why: str) -> None:
        with self._lock:
            self.result.skipped += 1
            self.result.actions.append(ActionResult(action.key, action.size, SKIPPED, why))
        progress.emit("skipped", 1, action.size)

    def observe(self, **findings: Seen) -> None:
        """Note what a server was seen to do (`tagging=Seen.UNSUPPORTED`)."""
        with self._lock:
            for name, seen in findings.items():
                setattr(self.result.observed, name, seen)

    def stamp_dropped(self, key: str) -> None:
        with self._lock:
            self.result.observed.stamp_dropped.append(key)

    def stale_upload_aborted(self, key: str) -> None:
        with self._lock:
            self.result.observed.stale_uploads_aborted.append(key)

    def await_mend(self, key: str, source: dict) -> None:
        with self._lock:
            self._mends[key] = source

    def take_mend(self, key: str) -> dict | None:
        """The source's state a copy of `key` was made to mend, if it was."""
        with self._lock:
            return self._mends.pop(key, None)


@dataclass(frozen=True)
class Stamping:
    """How a chunk's server-side copies start (stamping.py): with the stamp
    from their first copy (`from_start`: the run decided so, or an earlier
    chunk found that the destination's ETags cannot match), or plain until
    a copy's ETag differs from its source's; `found` (if given) is then
    called once, to tell the run's later chunks."""
    from_start: bool = False
    found: Callable[[], None] | None = None


@dataclass
class CopyContext:
    """The run, the settings and the clients (given by the caller: the
    source's, and the destination's, to which server-side copies are
    requests), with the chunk's ledger and how its copies start stamping."""
    run: Run
    settings: Settings
    src: Any
    dst: Any
    ledger: Ledger = field(default_factory=Ledger)
    stamping: Stamping = field(default_factory=Stamping)

    @property
    def request(self) -> SyncRequest:
        return self.run.request

    @property
    def observed(self) -> Observed:
        return self.ledger.observed
