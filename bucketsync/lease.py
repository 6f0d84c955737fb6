"""One run per destination at a time: a lease on destination bucket + prefix.

Runs that share a work area (every execution of a stack; local runs on one
machine) take a lease before they write anything, renew it while they live,
and release it at their end. A run whose destination prefix overlaps a
prefix held by another live run of the same destination is refused with
DestinationBusyError naming the holder. A lease whose holder dies expires:
after `BUCKETSYNC_LEASE_SECONDS` (default 30 min; a Lambda runs at most 15,
and every step renews it), or at once when the holder was a local process
on this machine that no longer exists.

All holders of one destination bucket live in one small JSON document, so
that checking for overlaps and adding oneself is one atomic step: in the
work bucket it is written with S3's conditional writes (If-None-Match: * to
create, If-Match to replace; a 412/409/404 means someone else wrote first,
and the step is tried again), locally under an exclusive file lock.
Dry runs write nothing and take no lease.
"""
from __future__ import annotations

import hashlib
import os
import socket
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Callable

from . import endpoints
from .errors import DestinationBusyError, LeaseLostError
from .settings import Settings
from .stores import state_store
from .sync_request import prefixes_may_overlap
from .work import Run

# The clocks, looked up at each call so that tests can stand in for them: the
# wall clock dates leases in the shared document (other hosts read them);
# the monotonic one paces this process's renewals.
clock: Callable[[], float] = time.time
monotonic: Callable[[], float] = time.monotonic


@dataclass(frozen=True)
class Holder:
    run_id: str
    prefix: str
    started: str           # ISO 8601, UTC
    expires: float         # epoch seconds
    host: str
    pid: int | None        # a local process; None on AWS
    # The destination's endpoint URL as this holder reaches it ("aws": AWS
    # S3); runs conflict only where the endpoints may be one store
    # (endpoints.may_be_one). None (a holder written before this field): any.
    endpoint: str | None = None

    def alive(self, now: float, this_host: str, pid_alive: Callable[[int], bool]) -> bool:
        if now >= self.expires:
            return False
        if self.pid is not None and self.host == this_host:
            return pid_alive(self.pid)
        return True


def overlaps(a: str, b: str) -> bool:
    """Key prefixes overlap when one is a prefix of the other, as given or
    as a path-based server stores them (request.prefixes_may_overlap)."""
    return prefixes_may_overlap(a, b)


def lease_name(bucket: str) -> str:
    """One document per destination bucket name, whatever endpoint it lives
    on: a spelling of an endpoint (an IP address for a name, 127.1 for
    localhost) can then never lead to a document of its own. Each holder
    records its endpoint, and runs on endpoints that cannot be one store
    (the same name on two servers is two buckets) do not conflict."""
    digest = hashlib.sha256(bucket.encode()).hexdigest()[:16]
    return f"{bucket}-{digest}.json"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Lease:
    """The lease of one run (pure rules; storage is injected)."""

    def __init__(self, run: Run, settings: Settings, store, now: Callable[[], float] | None = None,
                 pid: int | None = None, host: str | None = None):
        self.run, self.settings, self.store = run, settings, store
        self.now: Callable[[], float] = now or (lambda: clock())
        self.pid = pid
        self.host = host or socket.gethostname()
        self.name = lease_name(run.request.destination)
        self.endpoint = run.destination_endpoint.url or endpoints.AWS

    def _holders(self, doc: dict | None) -> list[Holder]:
        now = self.now()
        holders = [Holder(**h) for h in (doc or {}).get("holders", ())]
        return [h for h in holders if h.alive(now, self.host, _pid_alive)]

    def _me(self) -> Holder:
        started = self.run.started or datetime.now(timezone.utc).isoformat()
        return Holder(self.run.id, self.run.request.destination_prefix, str(started),
                      self.now() + self.settings.lease_seconds, self.host, self.pid, self.endpoint)

    def _conflicts(self, other: Holder) -> bool:
        """Whether another live holder's run may write where this one does."""
        if not overlaps(other.prefix, self.run.request.destination_prefix):
            return False
        if other.endpoint is None:
            return True
        def url(endpoint):
            return None if endpoint == endpoints.AWS else endpoint
        return endpoints.may_be_one(url(other.endpoint), url(self.endpoint))

    def acquire(self) -> None:
        """Take the lease, or raise DestinationBusyError naming the holder."""
        def update(doc):
            holders = [h for h in self._holders(doc) if h.run_id != self.run.id]
            for other in holders:
                if self._conflicts(other):
                    where = f"on {other.host}" + (f" (pid {other.pid})" if other.pid else "")
                    raise DestinationBusyError(
                        f"another run is syncing into s3://{self.run.request.destination}/{other.prefix}, which "
                        f"overlaps s3://{self.run.request.destination}/{self.run.request.destination_prefix}: "
                        f"run {other.run_id!r} {where}, started {other.started}; nothing was written. "
                        f"Wait for it to end (its lease expires "
                        f"{_iso(other.expires)} if it died)")
            return {"holders": [asdict(h) for h in holders + [self._me()]]}
        self.store.update(self.name, update)

    def renew(self) -> None:
        """Extend the lease when a third of its time has passed (many chunk
        functions renew at once: reading does not contend, only the first
        writes); LeaseLostError when it is no longer ours (it expired and
        another run took the destination)."""
        def update(doc):
            holders = self._holders(doc)
            mine = [h for h in holders if h.run_id == self.run.id]
            if not mine:
                raise LeaseLostError(
                    f"this run's lease on s3://{self.run.request.destination}/{self.run.request.destination_prefix} "
                    f"expired or was taken over; it stops before writing more (rerun to finish)")
            if mine[0].expires - self.now() > self.settings.lease_seconds * 2 / 3:
                return doc   # fresh enough: nothing to write
            others = [h for h in holders if h.run_id != self.run.id]
            return {"holders": [asdict(h) for h in others + [self._me()]]}
        self.store.update(self.name, update)

    def release(self) -> None:
        def update(doc):
            holders = self._holders(doc)
            if not any(h.run_id == self.run.id for h in holders):
                return doc   # not ours (refused, or already expired): leave it
            others = [h for h in holders if h.run_id != self.run.id]
            return {"holders": [asdict(h) for h in others]} if others else None
        self.store.update(self.name, update)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def for_run(run: Run, settings: Settings) -> Lease:
    """The run's lease in its work area: a local directory for local runs
    (BUCKETSYNC_LEASE_DIR, set by the local engine), else the work bucket."""
    store = state_store(settings.lease_dir, run.work_bucket, settings.work_prefix, "leases")
    return Lease(run, settings, store, pid=os.getpid() if settings.lease_dir else None)


_renewed: dict[str, float] = {}   # run id -> when this process last renewed its lease


def renew_if_due(run: Run, settings: Settings, force: bool = False) -> None:
    """Renew the run's lease when a third of its time has passed since this
    process last did (each step calls this; it costs nothing in between).
    Every state that can outlast the lease calls it, the DataSync poll loop
    included: a lease not renewed there expires while DataSync runs, and
    the object sync after it stops with LeaseLostError."""
    if not run.leased:
        return
    now = monotonic()
    if not force and now - _renewed.get(run.id, float("-inf")) < settings.lease_seconds / 3:
        return
    for_run(run, settings).renew()
    _renewed[run.id] = now
