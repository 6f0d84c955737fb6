"""Reconciling one key of an event mirror (mirror.py): read both sides now
and do what the full sync would do for that key (diff.compare: copy, or
delete, or nothing), with the same copier and the same conditional delete."""
from __future__ import annotations

from . import s3
from .copy import Copier, readback
from .deleter import ALREADY_GONE, delete_batch
from .errors import NoSuchKeyError
from .diff import CHECK, COPY, UNCHANGED, CopyAction, Entry, compare
from .chunk_results import COPIED, DELETED, UNCHANGED as SAME, DeleteResult
from .settings import Settings
from .work import Run


class Reconciler:
    """Brings one mirror's destination key in line with its source key."""

    def __init__(self, run: Run, settings: Settings, src, dst, deadline: float | None = None):
        """`run`: the mirror's (its request, each side's endpoint); `src`,
        `dst`: each side's client."""
        self.run, self.settings, self.deadline = run, settings, deadline
        self.src, self.dst = src, dst

    def reconcile(self, relative: str) -> tuple[str, str]:
        """(outcome, reason): copied, deleted, unchanged or failed."""
        request = self.run.request
        try:
            source = _entry(self.src, request.source, request.source_prefix, relative,
                            self.run.source_endpoint.on_aws)
            destination = _entry(self.dst, request.destination, request.destination_prefix, relative,
                                 self.run.destination_endpoint.on_aws)
        except Exception as exc:   # noqa: BLE001 - reported per key; the message is retried
            return "failed", f"{type(exc).__name__}: {exc}"
        if source is None and destination is None:
            return "unchanged", "absent on both sides"
        if source is None:
            if not request.delete:   # "delete": false: extras stay, as in the full sync
                return "unchanged", "absent at the source; kept (delete is off)"
            return self._delete(destination)
        action = COPY if destination is None else compare(source, destination)
        if action == UNCHANGED:
            return "unchanged", "same size and ETag" if source.size else "both empty"
        assert action in (COPY, CHECK)
        copier = Copier(self.run, self.settings, self.src, self.dst, self.deadline)
        result = copier.copy_chunk([CopyAction(action, relative, source.size, source.etag,
                                               destination.etag if destination else None,
                                               destination.size if destination else None)])
        if request.verify or not self.run.destination_endpoint.on_aws:
            # What a server other than AWS stored may be another spelling of
            # the key (see copy/readback.py): only its listing proves the copy.
            readback.prove(self.run, result, copier.written, copier.dst, 1, self.settings.retry_seconds)
        done = result.actions[-1]
        if done.outcome == COPIED:
            return "copied", done.reason
        if done.outcome == SAME:   # a CHECK proven the same by the stamp
            return "unchanged", done.reason
        # Skipped (changed meanwhile) or failed: the message is retried, and
        # the next attempt reconciles the key as it is then.
        return "failed", f"{done.outcome}: {done.reason}"

    def _delete(self, destination: Entry) -> tuple[str, str]:
        request = self.run.request
        key = request.destination_prefix + destination.key
        outcome = delete_batch(self.dst, request.destination, [(key, destination.etag)], DeleteResult(),
                               self.settings.retry_seconds)
        state, why = outcome.get(key, (DELETED, "absent at the source"))
        if state == DELETED:
            return "deleted", why
        if why == ALREADY_GONE:
            return "unchanged", why
        return "failed", why


def _entry(client, bucket: str, prefix: str, relative: str, on_aws: bool) -> Entry | None:
    """The object at `prefix + relative`, or None. AWS keeps every key as
    spelled, so its HEAD is the answer; another server may answer a HEAD of
    `/lead` or `a//b` with the object it stores as `lead` or `a/b`, which
    must not be taken for this key (deleted, or overwritten): there the key
    must also be listed exactly so spelled (see copy/readback.py)."""
    key = prefix + relative
    try:
        head = s3.head_object(client, bucket, key)
    except NoSuchKeyError:
        return None
    if not on_aws and key not in readback.listed_sizes(client, bucket, prefix, {key}, on_aws=False):
        return None
    return Entry(relative, int(head["ContentLength"]), head["ETag"])
