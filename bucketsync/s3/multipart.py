"""Multipart uploads: create, upload (or copy) parts, complete, abort, and
find the ones an earlier run left behind."""
from __future__ import annotations

import hashlib
from datetime import datetime

from ..diff import normalise_etag
from .calls import _call, _conditional
from .metadata import encode_tags, parse_time
from .objects import copy_source


def upload_part(client, bucket: str, key: str, upload_id: str, part_number: int, body: bytes,
                content_md5: str) -> str:
    with _call(f"UploadPart {bucket}/{key} part {part_number}"):
        return client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=part_number,
                                  Body=body, ContentMD5=content_md5)["ETag"]


def create_multipart(client, bucket: str, key: str, metadata: dict, tags: dict) -> str:
    kwargs = dict(metadata, Bucket=bucket, Key=key)
    if tags:
        kwargs["Tagging"] = encode_tags(tags)
    with _call(f"CreateMultipartUpload {bucket}/{key}"):
        return client.create_multipart_upload(**kwargs)["UploadId"]


def upload_part_copy(client, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str,
                     upload_id: str, part_number: int, first: int, last: int, if_match: str) -> str:
    with _call(f"UploadPartCopy {src_bucket}/{src_key} part {part_number}"):
        response = client.upload_part_copy(
            Bucket=dst_bucket, Key=dst_key, UploadId=upload_id, PartNumber=part_number,
            CopySource=copy_source(src_bucket, src_key), CopySourceRange=f"bytes={first}-{last}",
            CopySourceIfMatch=if_match)
    return response["CopyPartResult"]["ETag"]


def complete_multipart(client, bucket: str, key: str, upload_id: str, etags: list[str],
                       dst_condition: dict | None = None) -> str:
    """Complete an upload, optionally only if the destination key is still
    the object planned ({"IfMatch": etag}) or still absent ({"IfNoneMatch":
    "*"}). Errors as for `copy_object`; here every 412 is the destination's."""
    parts = [{"PartNumber": n, "ETag": etag} for n, etag in enumerate(etags, start=1)]
    what = f"CompleteMultipartUpload {bucket}/{key}"
    with _conditional(what, key, dst_condition, destination_only=True):
        return client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                                MultipartUpload={"Parts": parts},
                                                **(dst_condition or {}))["ETag"]


def multipart_etag(part_etags: list[str]) -> str | None:
    """The ETag S3 gives a completed multipart upload of these parts (the MD5
    of the parts' binary MD5s, and the part count)."""
    try:
        joined = b"".join(bytes.fromhex(normalise_etag(e)) for e in part_etags)
    except ValueError:   # a server whose part ETags are not MD5s
        return None
    return f'"{hashlib.md5(joined, usedforsecurity=False).hexdigest()}-{len(part_etags)}"'


def abort_multipart(client, bucket: str, key: str, upload_id: str) -> None:
    with _call(f"AbortMultipartUpload {bucket}/{key}"):
        client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


def stale_uploads(client, bucket: str, key: str, before: datetime) -> list[str]:
    """Upload IDs of incomplete multipart uploads of exactly `key` initiated
    before `before` (left by a killed or timed-out earlier run)."""
    kwargs = {"Bucket": bucket, "Prefix": key}
    found = []
    while True:
        with _call(f"ListMultipartUploads {bucket}/{key}"):
            page = client.list_multipart_uploads(**kwargs)
        found += [u["UploadId"] for u in page.get("Uploads", ())
                  if u.get("Key") == key and parse_time(u.get("Initiated")) < before]
        if not page.get("IsTruncated"):
            return found
        kwargs.update(KeyMarker=page.get("NextKeyMarker"), UploadIdMarker=page.get("NextUploadIdMarker"))
