"""What the servers were seen to do (the results' `observed`, typed in
observed.py): the notes it gives the user."""
from __future__ import annotations

import dataclasses

from . import s3
from .observed import Observed, Seen
from .diff import PlanTotals


# Which side's server each finding of `observed` is about.
SERVER_FINDINGS = {"copy_source_if_match": "source", "tagging": "source", "conditional_writes": "destination",
                   "conditional_deletes": "destination", "stale_uploads": "destination"}


# The note each one-word finding gives, in the order the notes are given.
_FINDING_NOTES = [
    ("copy_source_if_match", Seen.IGNORED,
     "the source server ignores CopySourceIfMatch: a source object changed during the run "
     "was copied as it is now (the copy is still consistent; the plan's guarantee is void there)"),
    ("conditional_writes", Seen.REJECTED,
     "the destination server does not implement conditional writes (If-Match/If-None-Match): "
     "multipart copies were completed unconditionally; only the run lease protects them"),
    ("conditional_deletes", Seen.IGNORED,
     "the destination server ignores the ETag condition of deletes (it deleted a key whatever "
     "its ETag): an object changed by another writer during the run would be deleted; only the "
     "run lease protects against overlapping runs there"),
    ("conditional_deletes", Seen.REJECTED,
     "the destination server does not implement conditional deletes: deletes were unconditional; "
     "only the run lease protects them"),
    ("marker_metadata", Seen.DROPPED,
     "the destination server keeps no metadata or tags on folder markers ('dir/' keys): "
     "their metadata was not mended (a mend was tried and did not take)"),
    ("tagging", Seen.UNSUPPORTED,
     "the source server does not support object tagging: objects were copied without tags"),
]
_UNLISTED_NOTE = ("incomplete multipart uploads left by earlier runs could not be listed at the destination "
                  "(s3:ListBucketMultipartUploads missing, or not implemented): a lifecycle rule with "
                  "AbortIncompleteMultipartUpload removes them")


def notes(observed: Observed, plan_totals: PlanTotals, request, emulated: set[str] = frozenset()) -> list[str]:
    """Plain sentences for what the user should know about this run.
    `emulated`: the sides whose buckets are in the embedded emulator (`fab
    demo`): what it lacks says nothing about the user's servers, so it is
    no note (the report's `server` still records it)."""
    observed = dataclasses.replace(observed, **{name: None for name, side in SERVER_FINDINGS.items()
                                                if side in emulated})
    out = [text for name, seen, text in _FINDING_NOTES if getattr(observed, name) is seen]
    dropped = observed.stamp_dropped
    if dropped:
        out.append(f"{len(dropped)} object(s) have user metadata too close to S3's 2 KB limit for the "
                   f"'{s3.STAMP}' stamp; they were copied without it and are re-checked by a HEAD of both "
                   f"sides on the next run (first: {dropped[0]!r})")
    aborted = observed.stale_uploads_aborted
    if aborted:
        out.append(f"{len(aborted)} incomplete multipart upload(s) left by an earlier run were aborted "
                   f"(first: {aborted[0]!r})")
    if observed.stale_uploads is Seen.UNLISTED:
        out.append(_UNLISTED_NOTE)
    if request is not None and request.include and plan_totals.source_objects == 0:
        out.append(f"the include pattern(s) {list(request.include)} matched no source key")
    return out
