"""The one module that calls S3. Every function takes its client (injected),
and every `ClientError` becomes one of the project's errors, raised `from` it.
"""
from __future__ import annotations

import contextlib
import json
from typing import Iterator
from urllib.parse import quote, urlencode

from botocore.exceptions import BotoCoreError, ClientError

from . import errors
from .plan import Entry

STAMP = "bucketsync-source-etag"   # user metadata key: the source ETag a copy was made from
_THROTTLE = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout",
             "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable", "503", "500"}


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def translate(exc: ClientError, what: str) -> errors.BucketsyncError:
    code = error_code(exc)
    message = exc.response.get("Error", {}).get("Message", "") or code
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    text = f"{what}: {code or status}: {message}"
    if code == "NoSuchBucket":
        return errors.NoSuchBucketError(text)
    if code in ("NoSuchKey", "404", "NotFound"):
        return errors.NoSuchKeyError(text)
    if code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled",
                "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccountProblem"):
        return errors.AccessDeniedError(text)
    if code in ("PreconditionFailed", "412") or status == 412:
        return errors.SourceChangedError(text)
    if code in _THROTTLE or status >= 500:
        return errors.TransientError(text)
    return errors.S3Error(text)


@contextlib.contextmanager
def _call(what: str):
    try:
        yield
    except ClientError as exc:
        raise translate(exc, what) from exc
    except BotoCoreError as exc:   # connection errors that outlasted retries
        raise errors.TransientError(f"{what}: {exc}") from exc


# ---- buckets ---------------------------------------------------------------

def bucket_region(client, bucket: str) -> str | None:
    """The bucket's region (None when the server does not say, as some
    S3-compatible servers don't). Raises NoSuchBucketError/AccessDeniedError."""
    try:
        response = client.head_bucket(Bucket=bucket)
        headers = response["ResponseMetadata"].get("HTTPHeaders", {})
        return headers.get("x-amz-bucket-region")
    except ClientError as exc:
        headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404 or error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
            raise errors.NoSuchBucketError(f"bucket {bucket!r} does not exist") from exc
        if status == 403:
            code = error_code(exc)
            detail = f" ({code})" if code not in ("", "403", "Forbidden", "AccessDenied") else ""
            raise errors.AccessDeniedError(f"access to bucket {bucket!r} is denied{detail}") from exc
        if status == 301 and headers.get("x-amz-bucket-region"):
            return headers["x-amz-bucket-region"]
        raise translate(exc, f"HeadBucket {bucket}") from exc
    except BotoCoreError as exc:
        raise errors.TransientError(f"HeadBucket {bucket}: {exc}") from exc


# ---- listing ---------------------------------------------------------------

def list_pages(client, bucket: str, prefix: str, start_after: str | None = None,
               page_size: int | None = None) -> Iterator[list[Entry]]:
    """Pages of entries under `prefix`, keys made relative to it, in listing
    order. `start_after` is a relative key."""
    kwargs = {"Bucket": bucket, "Prefix": prefix}
    if start_after is not None:
        kwargs["StartAfter"] = prefix + start_after
    if page_size is not None:
        kwargs["MaxKeys"] = page_size
    cut = len(prefix)
    paginator = client.get_paginator("list_objects_v2")
    with _call(f"ListObjectsV2 {bucket}/{prefix}"):
        for page in paginator.paginate(**kwargs):
            yield [Entry(item["Key"][cut:], item["Size"], item.get("ETag", ""))
                   for item in page.get("Contents", ())]


# ---- objects ---------------------------------------------------------------

def head_object(client, bucket: str, key: str, part_number: int | None = None) -> dict:
    kwargs = {"Bucket": bucket, "Key": key}
    if part_number:
        kwargs["PartNumber"] = part_number
    with _call(f"HeadObject {bucket}/{key}"):
        return client.head_object(**kwargs)


def get_tags(client, bucket: str, key: str) -> dict[str, str]:
    with _call(f"GetObjectTagging {bucket}/{key}"):
        response = client.get_object_tagging(Bucket=bucket, Key=key)
    return {t["Key"]: t["Value"] for t in response.get("TagSet", ())}


def copy_source(bucket: str, key: str) -> dict:
    return {"Bucket": bucket, "Key": key}


# System metadata that HeadObject returns and CopyObject/CreateMultipartUpload
# accept; carried over whenever metadata has to be given explicitly.
SYSTEM_METADATA = ("ContentType", "CacheControl", "ContentDisposition",
                   "ContentEncoding", "ContentLanguage", "WebsiteRedirectLocation")


def written_metadata(head: dict, stamp: str) -> dict:
    """CopyObject/CreateMultipartUpload arguments that reproduce the source's
    system and user metadata, plus the stamp of the source ETag."""
    args = {name: head[name] for name in SYSTEM_METADATA if head.get(name)}
    if head.get("ExpiresString"):
        args["Expires"] = head["ExpiresString"]
    elif head.get("Expires"):
        args["Expires"] = head["Expires"]
    metadata = dict(head.get("Metadata") or {})
    metadata[STAMP] = stamp
    args["Metadata"] = metadata
    return args


def encode_tags(tags: dict[str, str]) -> str:
    return urlencode(tags, quote_via=quote)


def copy_object(client, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str,
                if_match: str, metadata: dict | None = None) -> str:
    """Server-side copy; with `metadata` the metadata is replaced by it (tags
    are always copied). Returns the new ETag."""
    kwargs = {"Bucket": dst_bucket, "Key": dst_key,
              "CopySource": copy_source(src_bucket, src_key),
              "CopySourceIfMatch": if_match, "TaggingDirective": "COPY"}
    if metadata is not None:
        kwargs.update(metadata, MetadataDirective="REPLACE")
    with _call(f"CopyObject {src_bucket}/{src_key} -> {dst_bucket}/{dst_key}"):
        return client.copy_object(**kwargs)["CopyObjectResult"]["ETag"]


def put_object(client, bucket: str, key: str, body: bytes, metadata: dict, tags: dict) -> str:
    kwargs = dict(metadata, Bucket=bucket, Key=key, Body=body)
    if tags:
        kwargs["Tagging"] = encode_tags(tags)
    with _call(f"PutObject {bucket}/{key}"):
        return client.put_object(**kwargs)["ETag"]


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


def complete_multipart(client, bucket: str, key: str, upload_id: str, etags: list[str]) -> str:
    parts = [{"PartNumber": n, "ETag": etag} for n, etag in enumerate(etags, start=1)]
    with _call(f"CompleteMultipartUpload {bucket}/{key}"):
        return client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})["ETag"]


def abort_multipart(client, bucket: str, key: str, upload_id: str) -> None:
    with _call(f"AbortMultipartUpload {bucket}/{key}"):
        client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


def delete_objects(client, bucket: str, keys: list[str]) -> list[tuple[str, str]]:
    """Delete up to 1000 keys in one request; returns (key, error) for each
    key the service refused."""
    assert len(keys) <= 1000
    with _call(f"DeleteObjects {bucket}"):
        response = client.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True})
    return [(e.get("Key", ""), f"{e.get('Code', '')}: {e.get('Message', '')}")
            for e in response.get("Errors", ())]


# ---- JSON documents (the work area) -----------------------------------------

def put_json(client, bucket: str, key: str, document) -> None:
    body = json.dumps(document, separators=(",", ":")).encode("utf-8")
    with _call(f"PutObject {bucket}/{key}"):
        client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")


def get_json(client, bucket: str, key: str, missing=...):
    """The parsed document; `missing` (when given) instead of NoSuchKeyError."""
    try:
        with _call(f"GetObject {bucket}/{key}"):
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except errors.NoSuchKeyError:
        if missing is ...:
            raise
        return missing
    return json.loads(body)
