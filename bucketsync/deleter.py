"""Delete one chunk of destination keys with DeleteObjects (up to 1000 a
request), each conditional on the ETag the plan saw.

A key whose object changed since it was planned (another writer, or an
overlapping run that copied it meanwhile) fails its condition and is kept:
reported as skipped, never as deleted. S3 checks the per-object `ETag` for
general purpose buckets and needs s3:GetObject besides s3:DeleteObject for
it; a server that refuses the condition as not implemented gets the batch
again without it, and the report says so."""
from __future__ import annotations

import uuid

from . import interrupt, progress, s3
from .errors import BucketsyncError, PreconditionsUnsupportedError
from .observed import Seen
from .diff import DeleteAction
from .chunk_results import DELETED, FAILED, SKIPPED, ActionResult, DeleteResult
from .work import Run

BATCH = 1000
ALREADY_GONE = "already gone from the destination"


def delete_chunk(run: Run, client, actions: list[DeleteAction], retry_seconds: float = 0) -> DeleteResult:
    """Delete the chunk's keys with `client`, the destination's."""
    request = run.request
    result = DeleteResult()
    # Once per chunk: does the server honour the condition at all? (moto,
    # for one, deletes whatever the ETag says.) Reported, never fatal: the
    # run lease is the other defence.
    probe = f"{request.destination_prefix}.bucketsync-probe-{uuid.uuid4().hex}"
    try:
        result.observed.conditional_deletes = Seen(s3.probe_conditional_delete(client, request.destination, probe))
    except BucketsyncError:
        pass   # the deletes themselves will say what is wrong
    for start in range(0, len(actions), BATCH):
        batch = actions[start:start + BATCH]
        if interrupt.requested():   # deletes done stay done; the rest waits for the next run
            for action in batch:
                result.skipped += 1
                result.actions.append(ActionResult(action.key, action.size, SKIPPED,
                                                   "not deleted: the run was interrupted"))
            continue
        targets = [(request.destination_prefix + a.key, a.etag) for a in batch]
        outcome = delete_batch(client, request.destination, targets, result, retry_seconds)
        for action in batch:
            state, why = outcome.get(request.destination_prefix + action.key, (DELETED, "absent at the source"))
            if state == DELETED:
                result.deleted += 1
            elif state == SKIPPED:
                result.skipped += 1
            else:
                result.failed += 1
                result.failures.append({"key": action.key, "error": why})
            result.actions.append(ActionResult(action.key, action.size, state, why))
        progress.emit("deleted", sum(1 for a in batch if outcome.get(request.destination_prefix + a.key) is None))
    return result


def delete_batch(client, bucket: str, targets: list[tuple[str, str]], result: DeleteResult,
                 retry_seconds: float) -> dict:
    """Delete up to 1000 (key, ETag), each only if it still has that ETag;
    {key: (outcome, reason)} for every key not simply deleted. A server that
    rejects the condition is noted in `result.observed` and asked again
    without it."""
    conditional = result.observed.conditional_deletes is not Seen.REJECTED
    sent = targets if conditional else [(k, None) for k, _ in targets]
    batched = [(key, etag) for key, etag in sent if s3.xml_safe(key)]
    alone = [(key, etag) for key, etag in sent if not s3.xml_safe(key)]

    def delete():
        refused = s3.delete_objects(client, bucket, batched) if batched else []
        for key, etag in alone:   # XML cannot carry the key: one request each
            answer = s3.delete_object(client, bucket, key, etag)
            if answer is not None:
                refused.append((key, *answer))
        return refused
    try:
        refused = s3.retrying(delete, retry_seconds)
    except PreconditionsUnsupportedError:
        result.observed.conditional_deletes = Seen.REJECTED
        return delete_batch(client, bucket, targets, result, retry_seconds)
    except BucketsyncError as exc:
        return {key: (FAILED, f"{type(exc).__name__}: {exc}") for key, _ in targets}
    outcome = {}
    for key, code, message in refused:
        if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
            outcome[key] = (SKIPPED, "changed at the destination since it was planned; kept")
        elif code in ("NoSuchKey", "404"):
            outcome[key] = (SKIPPED, ALREADY_GONE)
        else:
            outcome[key] = (FAILED, f"{code}: {message}")
    return outcome
