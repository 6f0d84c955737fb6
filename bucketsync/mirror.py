"""The event mirror: keep a destination in step with a source key by key, as
S3 events name keys, between full syncs.

An event is a hint, never an instruction. For each key it names, the mirror
reads both sides now (one HEAD each) and does what the full sync would do for
that key (diff.compare: copy, or delete, or nothing), with the same copier
(conditional writes, stamps, streaming across endpoints) and the same
conditional delete. So duplicated, delayed and reordered events cannot corrupt
the destination: a delete event that arrives before its create finds the
object at the source and copies it; a stale create finds it gone and deletes
it. A scheduled full sync stays the safety net for events that never came.

Keys in S3's classic notifications are URL-encoded ("a b" arrives as "a+b");
where a key differs once decoded, both spellings are reconciled: reconciling a
key is always correct, whichever event caused it.

On AWS: S3 -> EventBridge ("Object Created", "Object Deleted") -> SQS (with a
dead-letter queue) -> the `mirror_keys` function, which reports each failed
message (SQS partial batch response) so that only it is retried, and prints
the lag from the event's time to the key's reconciliation as a CloudWatch
metric in the embedded metric format. `fab mirror-replay` runs the same
handler on recorded events, locally.
"""
from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from urllib.parse import unquote_plus

from . import clients, endpoints, s3
from .endpoints import Endpoint
from .errors import EventError, InvalidInputError
from .filters import KeyFilter
from .reconcile import Reconciler
from .sync_request import SyncRequest, validate
from .settings import Settings
from .work import Run

DETAIL_TYPES = ("Object Created", "Object Deleted")
MIRRORS_VARIABLE = "BUCKETSYNC_MIRRORS"
METRIC_NAMESPACE = "bucketsync"
LAG_METRIC = "MirrorLagSeconds"
OUTCOMES = ("copied", "deleted", "unchanged", "failed", "ignored")


@dataclass(frozen=True)
class Mirror:
    """One MIRRORS entry: source bucket (and prefix) -> destination bucket
    (and prefix), optionally on another endpoint, with include/exclude."""
    name: str
    request: SyncRequest

    def to_dict(self) -> dict:
        return {"name": self.name, "request": self.request.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> "Mirror":
        return cls(data["name"], SyncRequest.from_dict(data["request"]))

    def relative(self, bucket: str, key: str) -> str | None:
        """The key relative to the source prefix when this mirror covers it."""
        request = self.request
        if bucket != request.source or not key.startswith(request.source_prefix):
            return None
        relative = key[len(request.source_prefix):]
        if not relative or not KeyFilter(request.include, request.exclude)(relative):
            return None
        return relative


MIRROR_KEYS = ("name", "source", "destination", "prefix", "source_prefix", "destination_prefix",
               "include", "exclude", "destination_endpoint", "delete")


def check_mirror(entry, where: str = "MIRRORS", known: Mapping[str, Endpoint] | None = None) -> Mirror:
    """A MIRRORS entry checked by the execution input's own rules; raises
    InvalidInputError naming the problem. `known`: each side's place when the
    entry gives none (request.validate)."""
    if not isinstance(entry, dict):
        raise InvalidInputError(f"{where}: each entry must be a dict, got {entry!r}")
    unknown = sorted(set(entry) - set(MIRROR_KEYS))
    if unknown:
        raise InvalidInputError(f"{where}: unknown key(s) {unknown}; allowed: {list(MIRROR_KEYS)}")
    name = entry.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,39}", name):
        raise InvalidInputError(f"{where}: 'name' must be 1-40 letters, digits or '-', got {name!r}")
    request = validate({k: v for k, v in entry.items() if k != "name"}, known)
    return Mirror(name, request)


def load_mirrors(text: str | None) -> tuple[Mirror, ...]:
    """The mirrors of the functions' environment (BUCKETSYNC_MIRRORS)."""
    return tuple(Mirror.from_dict(m) for m in json.loads(text or "[]"))


# ---- events -------------------------------------------------------------------

@dataclass(frozen=True)
class KeyEvent:
    bucket: str
    key: str
    kind: str            # "Object Created" or "Object Deleted"
    time: float | None   # epoch seconds of the event, when it says


def key_event(event) -> KeyEvent:
    """The bucket, key and time an EventBridge S3 event names."""
    if not isinstance(event, dict):
        raise EventError(f"an event must be a JSON object, got {type(event).__name__}")
    if event.get("source") != "aws.s3" or event.get("detail-type") not in DETAIL_TYPES:
        raise EventError(f"not an S3 object event (source {event.get('source')!r}, "
                         f"detail-type {event.get('detail-type')!r}); expected source aws.s3 and "
                         f"detail-type {' or '.join(DETAIL_TYPES)}")
    detail = event.get("detail") or {}
    bucket = (detail.get("bucket") or {}).get("name")
    key = (detail.get("object") or {}).get("key")
    if not isinstance(bucket, str) or not isinstance(key, str) or not bucket or not key:
        raise EventError("the event has no detail.bucket.name or detail.object.key")
    return KeyEvent(bucket, key, event["detail-type"], _epoch(event.get("time")))


def _epoch(value) -> float | None:
    try:
        return s3.parse_time(value).timestamp() if value else None
    except (TypeError, ValueError):
        return None


def read_events(text: str) -> list:
    """Recorded events: a JSON array, or one JSON event per line."""
    stripped = text.strip()
    if not stripped:
        return []
    if stripped.startswith("["):
        try:
            events = json.loads(stripped)
        except ValueError as exc:
            raise EventError(f"the events file is not a JSON array: {exc}") from None
        return list(events)
    events = []
    for number, line in enumerate(stripped.splitlines(), start=1):
        if line.strip():
            try:
                events.append(json.loads(line))
            except ValueError as exc:
                raise EventError(f"line {number} of the events file is not JSON: {exc}") from None
    return events


def spellings(key: str) -> list[str]:
    """The key as given and, when different, URL-decoded (S3 notifications'
    encoding): each is reconciled."""
    decoded = unquote_plus(key)
    return [key] if decoded == key else [key, decoded]


# ---- a batch of events --------------------------------------------------------

@dataclass
class Tally:
    copied: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0
    ignored: int = 0     # events for keys no mirror covers
    failures: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def reconciler(mirror: Mirror, settings: Settings, deadline: float | None = None) -> Reconciler:
    """The reconciler of one mirror, given each side's client (at its own endpoint)."""
    request = mirror.request
    run = Run(id=f"mirror-{mirror.name}", request=request, source_region=None, destination_region=None,
              work_bucket="", work_prefix="",
              source_endpoint=endpoints.resolve(request.source_endpoint, "source"),
              destination_endpoint=endpoints.resolve(request.destination_endpoint, "destination"))
    return Reconciler(run, settings, clients.data_client(None, run.source_endpoint),
                      clients.data_client(None, run.destination_endpoint), deadline)


def handle(events: list[tuple[str, object]], mirrors, settings: Settings, now=time.time,
           metrics=None, deadline: float | None = None) -> tuple[Tally, list[str]]:
    """Reconcile every key the events name, for every mirror that covers it;
    each distinct (mirror, key) once per batch. `events` are (id, event);
    returns the tally and the ids of events with a key that failed (or that
    are malformed), to be retried."""
    tally = Tally()
    failed: set[str] = set()
    work: dict[tuple[str, str], dict] = {}   # (mirror name, relative key) -> {"ids", "time"}
    by_name = {m.name: m for m in mirrors}
    for event_id, event in events:
        try:
            named = key_event(event)
        except EventError as exc:
            failed.add(event_id)
            tally.failed += 1
            tally.failures.append({"event": event_id, "error": str(exc)})
            continue
        covered = False
        for mirror in mirrors:
            for key in spellings(named.key):
                relative = mirror.relative(named.bucket, key)
                if relative is None:
                    continue
                covered = True
                item = work.setdefault((mirror.name, relative), {"ids": set(), "time": named.time})
                item["ids"].add(event_id)
                if named.time is not None and (item["time"] is None or named.time < item["time"]):
                    item["time"] = named.time
        if not covered:
            tally.ignored += 1
    reconcilers: dict[str, Reconciler] = {}
    for (name, relative), item in work.items():
        if name not in reconcilers:
            reconcilers[name] = reconciler(by_name[name], settings, deadline)
        outcome, why = reconcilers[name].reconcile(relative)
        setattr(tally, outcome, getattr(tally, outcome) + 1)
        if outcome == "failed":
            failed |= item["ids"]
            tally.failures.append({"mirror": name, "key": relative, "error": why})
        elif item["time"] is not None:
            emit_lag(name, now() - item["time"], metrics)
    return tally, sorted(failed)


def emit_lag(mirror: str, seconds: float, out=None) -> None:
    """One CloudWatch embedded-metric-format line on stdout (Lambda's log
    stream turns it into the metric bucketsync/MirrorLagSeconds, per mirror)."""
    out = out or sys.stdout
    record = {"_aws": {"Timestamp": int(time.time() * 1000),
                       "CloudWatchMetrics": [{"Namespace": METRIC_NAMESPACE, "Dimensions": [["Mirror"]],
                                              "Metrics": [{"Name": LAG_METRIC, "Unit": "Seconds"}]}]},
              "Mirror": mirror, LAG_METRIC: round(max(seconds, 0.0), 3)}
    print(json.dumps(record, separators=(",", ":")), file=out, flush=True)


def handle_sqs(event: dict, mirrors, settings: Settings, deadline: float | None = None) -> dict:
    """The SQS event source's batch (each body an EventBridge event) ->
    the partial batch response: only failed messages are retried (and, after
    the queue's maxReceiveCount, moved to its dead-letter queue)."""
    events = []
    for record in event.get("Records", ()):
        try:
            body = json.loads(record.get("body") or "")
        except ValueError:
            body = None
        events.append((record["messageId"], body))
    _, failed = handle(events, mirrors, settings, deadline=deadline)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}

