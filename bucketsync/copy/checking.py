"""Whether a planned object must be copied at all: CHECK actions proven
the same by the stamp (one HEAD), and with `check_metadata` same-content
objects (META actions, and CHECKs proven the same) compared by one ranged
GetObject per side, which answers the metadata and the tag count; tags are
read only when either side has some. Different metadata is mended by
copying the object again (S3 has no other way to change it; the copy keeps
the ETag equal); different tags alone by one PutObjectTagging. The verdicts
themselves are sameness.py's; this module makes the requests."""
from __future__ import annotations

from .. import s3
from ..errors import NoSuchKeyError, SourceChangedError
from ..observed import Seen
from ..diff import CHECK, META, CopyAction
from ..chunk_results import UNCHANGED, UPDATED, WOULD_UPDATE
from . import sameness, source
from .context import CopyContext

MARKER_METADATA_DROPPED = ("same content; metadata and tags not compared: the destination keeps none on "
                           "folder markers (a mend did not take)")


def why_copy(ctx: CopyContext, action: CopyAction, dst_key: str) -> str | None:
    """Why the object must be copied, or None when it need not be. CHECK
    and META actions are proven here (by the stamp, or with
    `check_metadata` by comparing metadata and tags)."""
    if action.op in (CHECK, META) and ctx.request.check_metadata:
        return _metadata_check(ctx, action, dst_key)
    if action.op == CHECK and stamped_same(ctx, dst_key, action.etag):
        ctx.ledger.done(action, UNCHANGED, "same content (proven by the source-ETag stamp)", event="checked")
        return None
    return sameness.why_copy(action)


def stamped_same(ctx: CopyContext, dst_key: str, etag: str, head: dict | None = None) -> bool:
    """Whether the destination is provably the planned source object: its
    stamp equals the source ETag (one HEAD, unless the destination's
    `head` is at hand). Without a stamp, only an
    object whose stamp was dropped for S3's metadata limit counts, when a
    HEAD of the source shows the same size and user metadata and the
    destination was written after the source's last change."""
    if head is None:
        try:
            head = s3.head_object(ctx.dst, ctx.request.destination, dst_key)
        except NoSuchKeyError:
            return False
    proof = sameness.proof(head, etag, by_etag=False)
    if proof is not sameness.Proof.UNSTAMPED:
        return proof is sameness.Proof.STAMP
    try:
        src = source.head(ctx, ctx.request.source_prefix + dst_key[len(ctx.request.destination_prefix):], etag)
    except (SourceChangedError, NoSuchKeyError):
        return False
    return sameness.unstamped_same(head, src)


def _metadata_check(ctx: CopyContext, action: CopyAction, dst_key: str) -> str | None:
    """For `check_metadata`: None when the object is done with (the same
    in content, metadata and tags; its tags updated; or skipped), else why
    it must be copied (its content or its metadata differs)."""
    req = ctx.request
    src_key = req.source_prefix + action.key
    try:
        dst, dst_count = s3.object_state(ctx.dst, req.destination, dst_key, action.size, action.dst_etag,
                                         ctx.run.destination_endpoint.on_aws)
    except (SourceChangedError, NoSuchKeyError):   # If-Match on the destination's planned ETag failed
        ctx.ledger.skip(action, "changed at the destination during the run; left for the next run")
        return None
    if action.op == CHECK and not stamped_same(ctx, dst_key, action.etag, dst):
        return sameness.why_copy(action)
    try:
        src, src_count = s3.object_state(ctx.src, req.source, src_key, action.size, action.etag,
                                         ctx.run.source_endpoint.on_aws)
    except (SourceChangedError, NoSuchKeyError):
        return "changed at the source during the run"   # copied as it is now
    if sameness.is_marker(action) and ctx.observed.marker_metadata is Seen.DROPPED:
        ctx.ledger.done(action, UNCHANGED, MARKER_METADATA_DROPPED, event="checked")
        return None
    differences = s3.metadata_differences(src, dst)
    if differences:
        ctx.ledger.await_mend(action.key, src)
        return f"same content, metadata differs ({', '.join(differences)})"
    if src_count == dst_count == 0:
        ctx.ledger.done(action, UNCHANGED, "same content, metadata and tags", event="checked")
        return None
    _check_tags(ctx, action, dst_key, src_count, dst_count)
    return None


def _check_tags(ctx: CopyContext, action: CopyAction, dst_key: str, src_count: int | None,
                dst_count: int | None) -> None:
    """Same content and metadata: compare the tags (either side has some,
    or cannot tell), and bring the destination's in line."""
    req = ctx.request
    src_tags = source.tags(ctx, req.source_prefix + action.key) if src_count != 0 else {}
    if ctx.observed.tagging is Seen.UNSUPPORTED:
        ctx.ledger.done(action, UNCHANGED, "same content and metadata (tags not compared: no tagging)",
                        event="checked")
        return
    dst_tags = s3.get_tags(ctx.dst, req.destination, dst_key) if dst_count != 0 else {}
    if src_tags == dst_tags:
        ctx.ledger.done(action, UNCHANGED, "same content, metadata and tags", event="checked")
        return
    if not req.dry_run:
        s3.put_tags(ctx.dst, req.destination, dst_key, src_tags)
        if sameness.is_marker(action) and s3.get_tags(ctx.dst, req.destination, dst_key) != src_tags:
            ctx.ledger.observe(marker_metadata=Seen.DROPPED)   # the mend did not take
            ctx.ledger.done(action, UNCHANGED, MARKER_METADATA_DROPPED, event="checked")
            return
    ctx.ledger.done(action, WOULD_UPDATE if req.dry_run else UPDATED, "same content and metadata, tags differ",
                    event="checked")


def mend_took(ctx: CopyContext, action: CopyAction, dst_key: str) -> bool:
    """After a copy made to mend metadata: whether the destination now has
    the source's metadata (one HEAD). A folder marker that does not keep it
    is a server's trait (noted once; later markers are not mended again
    in this chunk) and counts as unchanged; any other object fails."""
    src = ctx.ledger.take_mend(action.key)
    if src is None:
        return True
    head = s3.head_object(ctx.dst, ctx.request.destination, dst_key)
    differences = s3.metadata_differences(src, head)
    if not differences:
        return True
    if sameness.is_marker(action):
        ctx.ledger.observe(marker_metadata=Seen.DROPPED)
        ctx.ledger.done(action, UNCHANGED, MARKER_METADATA_DROPPED, event="checked")
    else:
        ctx.ledger.fail(action, f"metadata mended, but the destination did not keep it (still differs: "
                                f"{', '.join(differences)})")
    return False
