"""The one module that calls S3. Every function takes its client (injected),
and every `ClientError` becomes one of the project's errors, raised `from` it.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import random
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Iterator
from urllib.parse import quote, urlencode

from botocore.exceptions import (BotoCoreError, ClientError, ConnectionClosedError, ConnectTimeoutError,
                                 EndpointConnectionError, NoCredentialsError, ReadTimeoutError)

from . import errors, interrupt
from .plan import Entry, normalise_etag

STAMP = "bucketsync-source-etag"   # user metadata key: the source ETag a copy was made from
_THROTTLE = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout",
             "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable", "503", "500"}


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


# The server refused the credentials, not an action (S3 error codes).
CREDENTIAL_CODES = {
    "InvalidAccessKeyId": "the access key ID does not exist on this server",
    "SignatureDoesNotMatch": "the secret key does not match the access key ID",
    "ExpiredToken": "the session token has expired: refresh your credentials",
    "TokenRefreshRequired": "the session token must be refreshed",
    "InvalidToken": "the session token is malformed or invalid",
    "InvalidSecurity": "the security credentials are invalid",
}


def translate(exc: ClientError, what: str) -> errors.BucketsyncError:
    code = error_code(exc)
    message = exc.response.get("Error", {}).get("Message", "") or code
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    text = f"{what}: {code or status}: {message}"
    if code in CREDENTIAL_CODES:
        return errors.CredentialsError(f"credentials refused ({code}): {CREDENTIAL_CODES[code]}; {what}")
    if code == "NoSuchBucket":
        return errors.NoSuchBucketError(text)
    if code in ("NoSuchKey", "404", "NotFound"):
        return errors.NoSuchKeyError(text)
    if code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled", "AccountProblem"):
        return errors.AccessDeniedError(text)
    if code in ("PreconditionFailed", "412") or status == 412:
        return errors.SourceChangedError(text)
    if code in _THROTTLE or status >= 500:
        return errors.TransientError(text)
    return errors.S3Error(text, code or str(status))


@contextlib.contextmanager
def _call(what: str):
    try:
        yield
    except ClientError as exc:
        raise translate(exc, what) from exc
    except NoCredentialsError as exc:
        raise errors.CredentialsError(f"{what}: no credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID)") from exc
    except BotoCoreError as exc:   # connection errors that outlasted retries
        raise errors.TransientError(f"{what}: {exc}") from exc


def retrying(operation, seconds: float, sleep=time.sleep, now=time.monotonic):
    """`operation()`, called again after a TransientError (throttling, 5xx,
    broken connections that outlasted the client's own retries) with
    exponential backoff until `seconds` have passed: long enough to ride out
    an outage of a minute. A run asked to stop stops retrying."""
    deadline = now() + seconds
    delay = 1.0
    while True:
        try:
            return operation()
        except errors.TransientError:
            if now() + delay > deadline or interrupt.requested():
                raise
            sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, 15.0)


# ---- buckets ---------------------------------------------------------------

def bucket_region(client, bucket: str) -> str | None:
    """The bucket's region (None when the server does not say, as some
    S3-compatible servers don't). Raises NoSuchBucketError, AccessDeniedError,
    CredentialsError, or EndpointUnreachableError when the server cannot be
    reached at all (give it a client with short timeouts and few retries)."""
    try:
        response = client.head_bucket(Bucket=bucket)
        headers = response["ResponseMetadata"].get("HTTPHeaders", {})
        return headers.get("x-amz-bucket-region")
    except ClientError as exc:
        headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404 or error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
            raise errors.NoSuchBucketError(f"bucket {bucket!r} does not exist") from exc
        if status == 301 and headers.get("x-amz-bucket-region"):
            return headers["x-amz-bucket-region"]
        if status in (400, 403):
            # HEAD answers carry no body, so no error code: a request that
            # has one tells a refused credential from a missing permission.
            _explain_refusal(client, bucket)
            raise errors.AccessDeniedError(f"access to bucket {bucket!r} is denied") from exc
        raise translate(exc, f"HeadBucket {bucket}") from exc
    except NoCredentialsError as exc:
        raise errors.CredentialsError("no credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID)") from exc
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError) as exc:
        raise errors.EndpointUnreachableError(f"cannot reach {client.meta.endpoint_url}: {exc}") from exc
    except BotoCoreError as exc:
        raise errors.TransientError(f"HeadBucket {bucket}: {exc}") from exc


def _explain_refusal(client, bucket: str) -> None:
    """Raise CredentialsError when a one-key listing names a credential code."""
    try:
        client.list_objects_v2(Bucket=bucket, MaxKeys=1)
    except ClientError as exc:
        if error_code(exc) in CREDENTIAL_CODES:
            raise translate(exc, f"at {client.meta.endpoint_url}") from exc
    except BotoCoreError:
        pass


# ---- listing ---------------------------------------------------------------

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


def object_state(client, bucket: str, key: str, size: int, etag: str,
                 absent_count_is_zero: bool) -> tuple[dict, int | None]:
    """(head, tag count) of an object that must still have `etag`, in one
    request: a GetObject of its first byte answers the metadata HeadObject
    would, plus the tag count. AWS sends x-amz-tagging-count only when the
    object has tags (`absent_count_is_zero`); other servers may never send
    it. The head's ContentLength is the object's size. The count is None
    when unknown (no header where absence proves nothing, or an archived
    object, which only HeadObject can read).
    Raises SourceChangedError when the ETag is no longer `etag`."""
    kwargs = {"Bucket": bucket, "Key": key, "IfMatch": etag}
    if size:   # a range of an empty object is unsatisfiable; it is read whole
        kwargs["Range"] = "bytes=0-0"
    with _call(f"GetObject {bucket}/{key}"):
        try:
            response = client.get_object(**kwargs)
            response.pop("Body").close()
        except ClientError as exc:
            if error_code(exc) != "InvalidObjectState":
                raise
            response = None
    if response is None:
        head = head_object(client, bucket, key)   # archived: no GET before a restore
        if normalise_etag(head["ETag"]) != normalise_etag(etag):
            raise errors.SourceChangedError(f"{bucket}/{key} changed since it was listed") from None
        return head, None
    response["ContentLength"] = size
    count = response.get("TagCount")
    if count is None:
        return response, 0 if absent_count_is_zero else None
    return response, int(count)


def put_tags(client, bucket: str, key: str, tags: dict[str, str]) -> None:
    """Replace the object's tag set; no tags: DeleteObjectTagging, the
    documented way to remove them all."""
    if not tags:
        with _call(f"DeleteObjectTagging {bucket}/{key}"):
            client.delete_object_tagging(Bucket=bucket, Key=key)
        return
    with _call(f"PutObjectTagging {bucket}/{key}"):
        client.put_object_tagging(Bucket=bucket, Key=key,
                                  Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})


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


def copy_object(client, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str,
                if_match: str, metadata: dict | None = None, dst_condition: dict | None = None) -> str:
    """Server-side copy; with `metadata` the metadata is replaced by it (tags
    are always copied). `dst_condition` ({"IfNoneMatch": "*"} or {"IfMatch":
    etag}) makes it conditional on the destination too. Returns the new ETag."""
    kwargs = {"Bucket": dst_bucket, "Key": dst_key,
              "CopySource": copy_source(src_bucket, src_key),
              "CopySourceIfMatch": if_match, "TaggingDirective": "COPY"}
    if metadata is not None:
        kwargs.update(metadata, MetadataDirective="REPLACE")
    what = f"CopyObject {src_bucket}/{src_key} -> {dst_bucket}/{dst_key}"
    with _conditional(what, dst_key, dst_condition):
        return client.copy_object(**kwargs, **(dst_condition or {}))["CopyObjectResult"]["ETag"]


@contextlib.contextmanager
def _conditional(what: str, key: str, condition: dict | None, destination_only: bool = False):
    """Errors of a request that may carry a destination condition.

    A failed destination condition is DestinationChangedError (412; or 409
    ConditionalRequestConflict: written or deleted meanwhile); a server that
    does not implement the condition raises PreconditionsUnsupportedError. AWS
    names the failed condition in the error's `Condition`; a 412 that names
    none (other servers) stays SourceChangedError, and the copier tells the
    two apart by re-reading the source. A request with no source
    (`destination_only`: PutObject, CompleteMultipartUpload) has every 412
    for the destination."""
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        named = str(exc.response.get("Error", {}).get("Condition", "")).lower()
        if condition and (code == "ConditionalRequestConflict" or status == 409
                          or (status == 412 and named in ("if-match", "if-none-match"))):
            raise errors.DestinationChangedError(f"{key} is no longer as planned ({code or status})") from exc
        if condition and (status == 501 or code in _NOT_IMPLEMENTED):
            raise errors.PreconditionsUnsupportedError(f"{what}: {code or status}") from exc
        translated = translate(exc, what)
        if destination_only and isinstance(translated, errors.SourceChangedError):
            raise errors.DestinationChangedError(f"{key} is no longer as planned ({translated})") from exc
        raise translated from exc
    except NoCredentialsError as exc:
        raise errors.CredentialsError(f"{what}: no credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID)") from exc
    except BotoCoreError as exc:
        raise errors.TransientError(f"{what}: {exc}") from exc


def put_object(client, bucket: str, key: str, body: bytes, metadata: dict, tags: dict,
               dst_condition: dict | None = None, content_md5: str | None = None) -> str:
    """One PutObject; `content_md5` (base64) makes the server check what it
    received; `dst_condition` as for `copy_object`. Returns the ETag."""
    kwargs = dict(metadata, Bucket=bucket, Key=key, Body=body)
    if tags:
        kwargs["Tagging"] = encode_tags(tags)
    if content_md5:
        kwargs["ContentMD5"] = content_md5
    with _conditional(f"PutObject {bucket}/{key}", key, dst_condition, destination_only=True):
        return client.put_object(**kwargs, **(dst_condition or {}))["ETag"]


def get_bytes(client, bucket: str, key: str, if_match: str, first: int | None = None,
              last: int | None = None) -> tuple[bytes, dict]:
    """(body, answer) of a GetObject of the object that must still have ETag
    `if_match`, whole or bytes first..last. A body shorter or longer than the
    answer's Content-Length (a connection cut mid-stream) is a TransientError.
    Raises SourceChangedError when the ETag is no longer `if_match`."""
    kwargs = {"Bucket": bucket, "Key": key, "IfMatch": if_match}
    if first is not None:
        kwargs["Range"] = f"bytes={first}-{last}"
    what = f"GetObject {bucket}/{key}" + (f" bytes {first}-{last}" if first is not None else "")
    with _call(what):
        response = client.get_object(**kwargs)
        body = response.pop("Body")
        try:
            data = body.read()
        finally:
            body.close()
    expected = response.get("ContentLength")
    if expected is not None and len(data) != int(expected):
        raise errors.TransientError(f"{what}: read {len(data)} bytes of {expected}")
    return data, response


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


# Answers of servers that do not implement conditional writes.
_NOT_IMPLEMENTED = {"NotImplemented", "501", "InvalidArgument", "InvalidRequest"}


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


def delete_objects(client, bucket: str, targets: list[tuple[str, str | None]]) -> list[tuple[str, str, str]]:
    """Delete up to 1000 (key, etag) in one request, each only if the object
    still has that ETag (etag None: unconditionally). Returns (key, code,
    message) for each key the service refused. Raises
    PreconditionsUnsupportedError when the server does not implement the per-key
    condition."""
    assert len(targets) <= 1000
    objects = [{"Key": key, "ETag": etag} if etag else {"Key": key} for key, etag in targets]
    conditional = {"ETag": True} if any(etag for _, etag in targets) else None
    with _conditional(f"DeleteObjects {bucket}", bucket, conditional):
        response = client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
    return [(e.get("Key", ""), str(e.get("Code", "")), e.get("Message", "")) for e in response.get("Errors", ())]


def xml_safe(key: str) -> bool:
    """Whether a key can travel in an XML 1.0 body (DeleteObjects): not
    with control characters other than tab, line feed and carriage return,
    nor surrogates or U+FFFE/U+FFFF. S3 names such keys "XML-incompatible";
    they are deleted one by one (DeleteObject takes the key in the URL)."""
    return all(c in "\t\n\r" or "\x20" <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd" or c >= "\U00010000"
               for c in key)


def delete_object(client, bucket: str, key: str, etag: str | None) -> tuple[str, str] | None:
    """One DeleteObject, only if the object still has `etag` (None:
    unconditionally); None when deleted, else (code, message) as a
    DeleteObjects error names a refused key. Raises PreconditionsUnsupportedError
    when the server does not implement the condition."""
    what = f"DeleteObject {bucket}/{key}"
    kwargs = {"Bucket": bucket, "Key": key}
    if etag:
        kwargs["IfMatch"] = etag
    try:
        with _conditional(what, key, {"IfMatch": etag} if etag else None, destination_only=True):
            client.delete_object(**kwargs)
    except errors.DestinationChangedError as exc:
        return "PreconditionFailed", str(exc)
    except errors.NoSuchKeyError as exc:
        return "NoSuchKey", str(exc)
    return None


def probe_conditional_delete(client, bucket: str, key: str) -> str:
    """Whether the server honours DeleteObjects' per-key ETag: a delete of a
    key that does not exist (`key` is a fresh random name), conditional on an
    ETag it cannot have. A server that checks the condition refuses it
    (NoSuchKey, or PreconditionFailed): "honoured"; one that ignores it
    reports the key deleted (nothing existed, nothing is lost): "ignored";
    one without conditions refuses the request: "rejected"."""
    try:
        refused = delete_objects(client, bucket, [(key, '"00000000000000000000000000000000"')])
    except errors.PreconditionsUnsupportedError:
        return "rejected"
    return "honoured" if refused else "ignored"


# ---- JSON documents (the work area) -----------------------------------------

def put_json(client, bucket: str, key: str, document) -> None:
    body = json.dumps(document, separators=(",", ":")).encode("utf-8")
    with _call(f"PutObject {bucket}/{key}"):
        client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")


class LineWriter:
    """Write JSON Lines into one object with bounded memory: a single
    PutObject when small, else a multipart upload in parts of `part_size`
    (S3's minimum part is 5 MiB); aborted if the writing fails."""

    def __init__(self, client, bucket: str, key: str, part_size: int = 8 * 1024 * 1024):
        self.client, self.bucket, self.key, self.part_size = client, bucket, key, part_size
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.etags: list[str] = []

    def write(self, record) -> None:
        self.buffer += json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"
        if len(self.buffer) >= self.part_size:
            self._part()

    def _part(self) -> None:
        with _call(f"UploadPart {self.bucket}/{self.key}"):
            if self.upload_id is None:
                self.upload_id = self.client.create_multipart_upload(
                    Bucket=self.bucket, Key=self.key, ContentType="application/x-ndjson")["UploadId"]
            etag = self.client.upload_part(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                                           PartNumber=len(self.etags) + 1, Body=bytes(self.buffer))["ETag"]
        self.etags.append(etag)
        self.buffer = bytearray()

    def __enter__(self) -> "LineWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            if self.upload_id is not None:
                with contextlib.suppress(Exception):
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
            return
        if self.upload_id is None:
            with _call(f"PutObject {self.bucket}/{self.key}"):
                self.client.put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self.buffer),
                                       ContentType="application/x-ndjson")
            return
        if self.buffer:
            self._part()
        complete_multipart(self.client, self.bucket, self.key, self.upload_id, self.etags)


def read_lines(client, bucket: str, key: str) -> Iterator:
    """The parsed JSON Lines of an object, streamed (bounded memory)."""
    with _call(f"GetObject {bucket}/{key}"):
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
    try:
        with _call(f"GetObject {bucket}/{key} (reading)"):
            for line in body.iter_lines(chunk_size=1 << 20):
                if line:
                    yield json.loads(line)
    finally:
        body.close()


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
