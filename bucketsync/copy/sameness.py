"""Whether a destination object is provably the source object: pure
functions over HEAD answers (no requests). The copier asks them before
copying (a CHECK action), after a failed destination condition (is what is
there our own write?), and the read-back asks them of what a chunk wrote
(`verify`).

`proof(head, etag)` of a destination HEAD against the source ETag `etag`:

    destination ETag      stamp (bucketsync-source-etag)   user metadata        proof
    the one looked for¹   any                              any                  ETAG
    another               = etag                           any                  STAMP
    another               another ETag                     any                  DIFFERENT
    another               none                             the stamp would fit  DIFFERENT
    another               none                             too large for it²    UNSTAMPED

¹ `etag` itself (unless `by_etag` is False: a CHECK's ETags differ by plan,
  and a completed multipart copy's ETag is another one), or `written`, the
  ETag the write itself makes.
² The copy was made without the stamp for S3's 2 KB metadata limit (the
  report says so): only `unstamped_same` with a HEAD of the source can tell.
"""
from __future__ import annotations

from enum import Enum

from .. import s3
from ..diff import CHECK, META, CopyAction, normalise_etag


class Proof(Enum):
    ETAG = "the destination has the ETag looked for"
    STAMP = "the destination's stamp is the source ETag"
    DIFFERENT = "not the source object"
    UNSTAMPED = "no stamp: it would not fit beside the user metadata"


def proof(head: dict, etag: str, by_etag: bool = True, written: str | None = None) -> Proof:
    """What a destination HEAD proves about it being the source object of
    ETag `etag` (see the table above)."""
    wanted = {normalise_etag(written)} if written else set()
    if by_etag:
        wanted.add(normalise_etag(etag))
    if normalise_etag(head.get("ETag", "")) in wanted:
        return Proof.ETAG
    metadata = head.get("Metadata") or {}
    stamp = metadata.get(s3.STAMP)
    if stamp is not None:
        return Proof.STAMP if normalise_etag(stamp) == normalise_etag(etag) else Proof.DIFFERENT
    return Proof.DIFFERENT if s3.stamp_fits(metadata) else Proof.UNSTAMPED


def proven(head: dict, etag: str, by_etag: bool = True, written: str | None = None) -> bool:
    """Whether the ETag or the stamp proves the destination is the source object."""
    return proof(head, etag, by_etag, written) in (Proof.ETAG, Proof.STAMP)


def unstamped_same(destination: dict, source: dict) -> bool:
    """For an UNSTAMPED destination: the same object when both HEADs show
    the same size and user metadata and the destination was written after
    the source's last change."""
    return (source["ContentLength"] == destination["ContentLength"]
            and (source.get("Metadata") or {}) == (destination.get("Metadata") or {})
            and s3.last_modified(destination) >= s3.last_modified(source))


def verify_problem(head: dict, size: int, etag: str) -> str | None:
    """For `verify`: why the destination HEAD is not provably the source
    object copied (size, and ETag or stamp equal to the source ETag), or None.
    An UNSTAMPED object is checked by its size only."""
    if int(head.get("ContentLength", -1)) != size:
        return f"written with {size} bytes, but a HEAD of the destination answers {head.get('ContentLength')}"
    if proof(head, etag) is not Proof.DIFFERENT:
        return None
    return (f"the destination's ETag {head.get('ETag')} is not the source's {etag} and it carries no stamp "
            f"of it: not provably the object copied")


def is_marker(action: CopyAction) -> bool:
    """A zero-byte "dir/" key, which some servers keep as a folder."""
    return action.key.endswith("/") and action.size == 0


def why_copy(action: CopyAction) -> str:
    """Why the plan copies the object (the report's reason for a copy)."""
    if action.op == META:
        return "same content, metadata differs"
    if action.dst_etag is None:
        return "new at the source"
    if action.op == CHECK:
        return "same size, not provably the same content"
    return f"size differs ({action.dst_size} at the destination)"
