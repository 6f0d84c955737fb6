"""Reads of the source object that both writers and the checks make: its
HEAD (conditional on the planned ETag), its current state, its tags."""
from __future__ import annotations

from .. import s3
from ..errors import NoSuchKeyError, S3Error, SourceChangedError, TransientError
from ..observed import Seen
from ..diff import normalise_etag
from .context import CopyContext


def head(ctx: CopyContext, src_key: str, etag: str, part_number: int | None = None) -> dict:
    """The source's HEAD; SourceChangedError unless it still has `etag`."""
    answer = s3.head_object(ctx.src, ctx.request.source, src_key, part_number)
    # With a part number some servers (moto) answer the part's ETag, not the
    # object's: there the conditional part copies do the checking.
    if part_number is None and normalise_etag(answer["ETag"]) != normalise_etag(etag):
        raise SourceChangedError(f"{src_key} changed since it was listed")
    return answer


def current(ctx: CopyContext, src_key: str) -> tuple[int, str] | None:
    """(size, ETag) of the source as it is now; None when it is gone."""
    try:
        answer = s3.head_object(ctx.src, ctx.request.source, src_key)
    except NoSuchKeyError:
        return None
    return answer["ContentLength"], answer["ETag"]


def tags(ctx: CopyContext, src_key: str) -> dict:
    """The source's tags; {} on a server without tagging (it answers
    NotImplemented, or, on an S3-compatible endpoint, a 5xx that outlasts
    the client's retries, as rclone does),
    which is noted once in the report."""
    if ctx.observed.tagging is Seen.UNSUPPORTED:
        return {}
    try:
        return s3.get_tags(ctx.src, ctx.request.source, src_key)
    except (TransientError, S3Error) as exc:
        # AWS always has tagging: there a 5xx is an outage (retried by the
        # caller), never a reason to copy without tags.
        persistent_5xx = isinstance(exc, TransientError) and not ctx.run.source_endpoint.on_aws
        if not persistent_5xx and getattr(exc, "code", None) not in ("NotImplemented", "501"):
            raise
        ctx.ledger.observe(tagging=Seen.UNSUPPORTED)
        return {}


def tags_of(ctx: CopyContext, src_key: str, answer: dict) -> dict:
    """The source's tags; none without a request where AWS's answer (a HEAD
    or GET) says so (it sends x-amz-tagging-count only for tagged objects)."""
    if ctx.run.source_endpoint.on_aws and answer.get("TagCount") is None:
        return {}
    return tags(ctx, src_key)
