"""Metadata and tags as S3 answers and takes them: pure logic, no calls."""
from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlencode

STAMP = "bucketsync-source-etag"   # user metadata key: the source ETag a copy was made from


# System metadata that HeadObject returns and CopyObject/CreateMultipartUpload
# accept; carried over whenever metadata has to be given explicitly.
SYSTEM_METADATA = ("ContentType", "CacheControl", "ContentDisposition",
                   "ContentEncoding", "ContentLanguage", "WebsiteRedirectLocation")


# S3 limits user-defined metadata to 2 KB, measured as the sum of the UTF-8
# bytes of each key and value (PUT and COPY answer 400 MetadataTooLarge).
USER_METADATA_LIMIT = 2048


def user_metadata_size(metadata: dict) -> int:
    return sum(len(k.encode("utf-8")) + len(str(v).encode("utf-8")) for k, v in metadata.items())


def stamp_fits(metadata: dict, stamp: str = "0" * 32) -> bool:
    """Whether the stamp fits beside this user metadata (a stamp is an
    ETag: 32 hex digits, or more with a "-N" part count)."""
    others = {k: v for k, v in metadata.items() if k != STAMP}
    return user_metadata_size(others) + len(STAMP) + len(stamp) <= USER_METADATA_LIMIT


def system_metadata(head: dict) -> dict:
    """The system metadata of a HEAD (or GET) answer that is set, by the
    names CopyObject/CreateMultipartUpload take."""
    args = {name: head[name] for name in SYSTEM_METADATA if head.get(name)}
    expires = head.get("ExpiresString") or head.get("Expires")
    if expires:
        args["Expires"] = expires
    return args


def user_metadata(head: dict) -> dict:
    """The user metadata of a HEAD (or GET) answer, our stamp aside."""
    return {k: v for k, v in (head.get("Metadata") or {}).items() if k != STAMP}


def written_metadata(head: dict, stamp: str) -> tuple[dict, bool]:
    """(arguments, stamped): CopyObject/CreateMultipartUpload arguments that
    reproduce the source's system and user metadata, plus the stamp of the
    source ETag unless it would push the user metadata over S3's limit (the
    stamp must never make a copy fail)."""
    args = system_metadata(head)
    metadata = user_metadata(head)
    stamped = stamp_fits(metadata, stamp)
    if stamped:
        metadata[STAMP] = stamp
    args["Metadata"] = metadata
    return args, stamped


def metadata_differences(source: dict, destination: dict) -> list[str]:
    """The names of the system and user metadata fields (HeadObject's names;
    user metadata as x-amz-meta-<name>) in which two objects differ; our
    stamp is not compared."""
    src_system, dst_system = system_metadata(source), system_metadata(destination)
    names = [n for n in sorted(set(src_system) | set(dst_system)) if src_system.get(n) != dst_system.get(n)]
    src_user, dst_user = user_metadata(source), user_metadata(destination)
    names += [f"x-amz-meta-{k}" for k in sorted(set(src_user) | set(dst_user)) if src_user.get(k) != dst_user.get(k)]
    return names


def last_modified(head: dict) -> datetime:
    """LastModified of a HEAD answer."""
    return parse_time(head.get("LastModified"))


def parse_time(value) -> datetime:
    """A time as S3 answers it (a string: our clients skip botocore's
    timestamp parsing; see clients.session), in RFC 1123 or ISO 8601."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def encode_tags(tags: dict[str, str]) -> str:
    return urlencode(tags, quote_via=quote)
