"""What the servers were seen to do (the results' `observed`): merged
across chunks, and the notes it gives the user."""
from __future__ import annotations

from . import s3
from .plan import PlanTotals

# When results disagree about a server, the finding that needs attention wins.
_OBSERVED_RANK = {"honoured": 0, "supported": 0, "rejected": 1, "ignored": 2, "unsupported": 2}


def merge_observed(into: dict, new: dict) -> None:
    for name, value in new.items():
        if isinstance(value, list):
            into[name] = (into.get(name) or []) + value
        elif _OBSERVED_RANK.get(value, 0) >= _OBSERVED_RANK.get(into.get(name), -1):
            into[name] = value


# Which side's server each finding of `observed` is about.
SERVER_FINDINGS = {"copy_source_if_match": "source", "tagging": "source", "conditional_writes": "destination",
                   "conditional_deletes": "destination", "stale_uploads": "destination"}


def notes(observed: dict, plan_totals: PlanTotals, request, emulated: set[str] = frozenset()) -> list[str]:
    """Plain sentences for what the user should know about this run.
    `emulated`: the sides whose buckets are in the embedded emulator (`fab
    demo`): what it lacks says nothing about the user's servers, so it is
    no note (the report's `server` still records it)."""
    observed = {name: value for name, value in observed.items() if SERVER_FINDINGS.get(name) not in emulated}
    out = []
    if observed.get("copy_source_if_match") == "ignored":
        out.append("the source server ignores CopySourceIfMatch: a source object changed during the run "
                   "was copied as it is now (the copy is still consistent; the plan's guarantee is void there)")
    if observed.get("conditional_writes") == "rejected":
        out.append("the destination server does not implement conditional writes (If-Match/If-None-Match): "
                   "multipart copies were completed unconditionally; only the run lease protects them")
    if observed.get("conditional_deletes") == "ignored":
        out.append("the destination server ignores the ETag condition of deletes (it deleted a key whatever "
                   "its ETag): an object changed by another writer during the run would be deleted; only the "
                   "run lease protects against overlapping runs there")
    if observed.get("conditional_deletes") == "rejected":
        out.append("the destination server does not implement conditional deletes: deletes were unconditional; "
                   "only the run lease protects them")
    if observed.get("marker_metadata") == "dropped":
        out.append("the destination server keeps no metadata or tags on folder markers ('dir/' keys): "
                   "their metadata was not mended (a mend was tried and did not take)")
    if observed.get("tagging") == "unsupported":
        out.append("the source server does not support object tagging: objects were copied without tags")
    dropped = observed.get("stamp_dropped") or []
    if dropped:
        out.append(f"{len(dropped)} object(s) have user metadata too close to S3's 2 KB limit for the "
                   f"'{s3.STAMP}' stamp; they were copied without it and are re-checked by a HEAD of both "
                   f"sides on the next run (first: {dropped[0]!r})")
    aborted = observed.get("stale_uploads_aborted") or []
    if aborted:
        out.append(f"{len(aborted)} incomplete multipart upload(s) left by an earlier run were aborted "
                   f"(first: {aborted[0]!r})")
    if observed.get("stale_uploads") == "unlisted":
        out.append("incomplete multipart uploads left by earlier runs could not be listed at the destination "
                   "(s3:ListBucketMultipartUploads missing, or not implemented): a lifecycle rule with "
                   "AbortIncompleteMultipartUpload removes them")
    if request is not None and request.include and plan_totals.source_objects == 0:
        out.append(f"the include pattern(s) {list(request.include)} matched no source key")
    return out
