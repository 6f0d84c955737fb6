"""ListObjectsV2: a side's entries page by page, folders, single pages."""
from __future__ import annotations

from typing import Iterator

from .. import errors
from ..diff import Entry
from .calls import _call, retrying


def list_pages(client, bucket: str, prefix: str, start_after: str | None = None,
               page_size: int | None = None, retry_seconds: float = 0) -> Iterator[list[Entry]]:
    """Pages of entries under `prefix`, keys made relative to it, in listing
    order. `start_after` is a relative key.

    Every key must start with `prefix` exactly: some servers normalise a
    prefix (a leading "/", "//") and answer keys outside it, and stripping
    `len(prefix)` characters from those would plan copies and deletes of the
    wrong keys. Such a listing raises ListingPrefixError before anything is
    planned from it."""
    kwargs = {"Bucket": bucket, "Prefix": prefix}
    if start_after is not None:
        kwargs["StartAfter"] = prefix + start_after
    if page_size is not None:
        kwargs["MaxKeys"] = page_size
    cut = len(prefix)
    what = f"ListObjectsV2 {bucket}/{prefix}"
    def one_page():
        with _call(what):
            return client.list_objects_v2(**kwargs)

    while True:
        page = retrying(one_page, retry_seconds)
        entries = []
        for item in page.get("Contents", ()):
            key = item["Key"]
            if not key.startswith(prefix):
                raise errors.ListingPrefixError(
                    f"asked for keys under {prefix!r} in bucket {bucket!r}, the server answered {key!r}, "
                    f"which does not start with that prefix: it does not apply prefixes exactly "
                    f"(servers that normalise a leading '/' or '//' do this); nothing was planned or written. "
                    f"Give the prefix as the server stores keys")
            entries.append(Entry(key[cut:], item["Size"], item.get("ETag", "")))
        yield entries
        if not page.get("IsTruncated"):
            return
        token = page.get("NextContinuationToken")
        if not token:
            raise errors.S3Error(f"{what}: the listing is truncated but has no continuation token")
        kwargs["ContinuationToken"] = token


def list_folders(client, bucket: str, prefix: str) -> Iterator[str]:
    """The folder names directly under `prefix` (CommonPrefixes with "/" as
    the delimiter), over every page."""
    kwargs = {"Bucket": bucket, "Prefix": prefix, "Delimiter": "/"}
    what = f"ListObjectsV2 {bucket}/{prefix} (folders)"
    while True:
        with _call(what):
            page = client.list_objects_v2(**kwargs)
        for common in page.get("CommonPrefixes", ()):
            name = common["Prefix"][len(prefix):]
            if name.endswith("/") and len(name) > 1:
                yield name[:-1]
        if not page.get("IsTruncated"):
            return
        kwargs["ContinuationToken"] = page["NextContinuationToken"]


def list_page(client, bucket: str, prefix: str, start_after: str | None = None, delimiter: str | None = None,
              token: str | None = None) -> tuple[dict[str, int], list[str], str | None]:
    """One ListObjectsV2 page of full keys under `prefix` (after the full key
    `start_after`, or from a continuation `token`): ({key: size}, common
    prefixes, the next page's token or None). Keys are taken as the server
    answers them: the read-back compares them with what was written."""
    kwargs = {"Bucket": bucket, "Prefix": prefix}
    if start_after:
        kwargs["StartAfter"] = start_after
    if delimiter:
        kwargs["Delimiter"] = delimiter
    if token:
        kwargs["ContinuationToken"] = token
    with _call(f"ListObjectsV2 {bucket}/{prefix}"):
        page = client.list_objects_v2(**kwargs)
    token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
    if page.get("IsTruncated") and not token:
        raise errors.S3Error(f"ListObjectsV2 {bucket}/{prefix}: the listing is truncated but has no continuation token")
    return ({item["Key"]: item["Size"] for item in page.get("Contents", ())},
            [common["Prefix"] for common in page.get("CommonPrefixes", ())], token)


def any_key(client, bucket: str, prefix: str) -> bool:
    """Whether some key starts with `prefix` (one request)."""
    with _call(f"ListObjectsV2 {bucket}/{prefix}"):
        return bool(client.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1).get("Contents"))
