"""One object: read its state, bytes and tags; copy or put it, optionally
conditional on the destination."""
from __future__ import annotations

from botocore.exceptions import ClientError

from .. import errors
from ..diff import normalise_etag
from .calls import _call, _conditional, error_code
from .crt import LONG_COPY_BYTES
from .metadata import encode_tags


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


def copy_object(client, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str,
                if_match: str, metadata: dict | None = None, dst_condition: dict | None = None,
                size: int = 0) -> str:
    """Server-side copy; with `metadata` the metadata is replaced by it (tags
    are always copied). `dst_condition` ({"IfNoneMatch": "*"} or {"IfMatch":
    etag}) makes it conditional on the destination too. A copy of `size`
    bytes that may take long goes by the client's `patient` transport (s3/crt.py).
    Returns the new ETag."""
    if size >= LONG_COPY_BYTES:
        client = getattr(client, "patient", client)
    kwargs = {"Bucket": dst_bucket, "Key": dst_key,
              "CopySource": copy_source(src_bucket, src_key),
              "CopySourceIfMatch": if_match, "TaggingDirective": "COPY"}
    if metadata is not None:
        kwargs.update(metadata, MetadataDirective="REPLACE")
    what = f"CopyObject {src_bucket}/{src_key} -> {dst_bucket}/{dst_key}"
    with _conditional(what, dst_key, dst_condition):
        return client.copy_object(**kwargs, **(dst_condition or {}))["CopyObjectResult"]["ETag"]


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
