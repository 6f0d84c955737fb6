"""Whether server-side copies carry the `bucketsync-source-etag` stamp from
their first copy: decided once per run, before anything is copied, where
that can be known; else found out by the copies and shared between chunks.

A copy whose ETag cannot equal its source's must carry the stamp, so that
the next run proves sameness with one HEAD. Made plain, such a copy is made
twice: once, then again with the stamp once its new ETag shows it (see
server_side.py). Stamped from the start it is made once (plus one HEAD of
the source, whose metadata the stamped copy gives explicitly).

On AWS the documented signal is each side's default encryption
(GetBucketEncryption). A copy made without encryption headers, as ours are,
is encrypted as the destination bucket's default says (CopyObject), and the
ETag of an object written by PUT or Copy is the MD5 of its bytes only under
SSE-S3 or no encryption, never under SSE-KMS or DSSE-KMS (S3 API reference,
Object: ETag). So the destination's SSE-KMS makes every new ETag differ from
its source's; and the source's SSE-KMS makes the source's ETags no MD5,
which a copy under SSE-S3 (an MD5) cannot equal either. Either side's
SSE-KMS: stamped from the start (`SyncRequest.copies_stamped`).

Without that answer (AccessDenied, a server that does not implement it, a
server whose ETags follow its own habits whatever it answers) the copies
find out: the first chunk whose copy's ETag differs writes a word in the
run's work area, and each chunk reads it as it starts (one GET per chunk of
up to 1,000 objects), so only the chunks already running then redo a copy.
The word is a hint: reading or writing it never fails a chunk, and a copy
stamped where it need not be is still correct (its ETag proves it).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import s3
from ..errors import BucketsyncError
from ..work import Run
from .context import Stamping

# Default encryptions whose new objects' ETags are no MD5 of their bytes.
KMS_ALGORITHMS = frozenset({"aws:kms", "aws:kms:dsse"})
# Those whose new objects' ETags are (None: no default encryption at all).
MD5_ALGORITHMS = frozenset({None, "AES256"})
UNANSWERED = "unanswered"   # a side that gave no answer (in neither set)


def verdict(answers: Iterable[str | None], on_aws: bool) -> bool | None:
    """`SyncRequest.copies_stamped` from each side's default encryption:
    True when a side's is SSE-KMS or DSSE-KMS; False when both sides are on
    AWS and answered SSE-S3 or none; None (not known) otherwise: another
    server's ETags follow its own habits, whatever it answers."""
    answers = list(answers)
    if any(answer in KMS_ALGORITHMS for answer in answers):
        return True
    if on_aws and all(answer in MD5_ALGORITHMS for answer in answers):
        return False
    return None


def decide(sides: Iterable[tuple[Any, str]], on_aws: bool) -> bool | None:
    """Ask each side's bucket ((client, bucket), the destination first) for
    its default encryption, and give the verdict. A side that does not
    answer leaves the question open, never fails the run: the copies then
    find out for themselves. The first SSE-KMS answer settles it."""
    answers: list[str | None] = []
    for client, bucket in sides:
        try:
            answers.append(s3.default_encryption(client, bucket))
        except BucketsyncError:   # AccessDenied, NotImplemented, ...
            answers.append(UNANSWERED)
        if answers[-1] in KMS_ALGORITHMS:
            break
    return verdict(answers, on_aws)


def hint_key(run: Run) -> str:
    """The run's word that its copies' ETags cannot match (scratch, beside
    the plan; not under results/, which holds the chunks' results only)."""
    return f"{run.work_prefix}copy/copies-stamped.json"


def for_chunk(run: Run, work) -> Stamping:
    """How one copy chunk's server-side copies start: stamped when the run
    decided so; else as an earlier chunk found (one GET of the hint), and
    telling the later chunks (one PUT) when a copy of this one finds out.
    Streamed copies always carry the stamp, and dry runs copy nothing."""
    if run.request.copies_stamped:
        return Stamping(from_start=True)
    if run.streamed or run.dry_run:
        return Stamping()
    key = hint_key(run)

    def found() -> None:
        try:
            s3.put_json(work, run.work_bucket, key, {"copies_stamped": True})
        except BucketsyncError:   # a hint: the later chunks find out themselves
            pass

    try:
        return Stamping(from_start=bool(s3.get_json(work, run.work_bucket, key, missing=None)), found=found)
    except BucketsyncError:   # unreadable: as if absent
        return Stamping(found=found)
