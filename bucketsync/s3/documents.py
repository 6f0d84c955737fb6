"""JSON documents in the work area: whole documents, JSON Lines written and
read with bounded memory."""
from __future__ import annotations

import contextlib
import json
from typing import Iterator

from botocore.exceptions import ClientError

from .. import errors
from .calls import _call, error_code, translate
from .multipart import complete_multipart


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


# ---- state documents: read-modify-write with conditional writes ---------------
# (stores.S3Store). A write that another writer beat answers 412 (the ETag
# changed), 409 (a concurrent write) or 404 (deleted meanwhile); the store
# then reads again. Only ClientErrors are translated here, as the store
# always did.

_BEATEN = (404, 409, 412)


def read_document(client, bucket: str, key: str) -> tuple[dict | None, str | None]:
    """(document, ETag) of a JSON document; (None, None) when absent."""
    try:
        response = client.get_object(Bucket=bucket, Key=key)
        return json.loads(response["Body"].read()), response["ETag"]
    except ClientError as exc:
        if error_code(exc) not in ("NoSuchKey", "404"):
            raise translate(exc, f"GetObject {bucket}/{key}") from exc
        return None, None


def put_document(client, bucket: str, key: str, document: dict, etag: str | None) -> bool:
    """Write the document only if the key still has `etag` (None: only if
    it is absent); False when another writer came first."""
    condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
    try:
        client.put_object(Bucket=bucket, Key=key, Body=json.dumps(document).encode(),
                          ContentType="application/json", **condition)
    except ClientError as exc:
        return _beaten(exc, f"PutObject {bucket}/{key}")
    return True


def delete_document(client, bucket: str, key: str, etag: str) -> bool:
    """Delete the document only if it still has `etag`; False when another
    writer came first."""
    try:
        client.delete_object(Bucket=bucket, Key=key, IfMatch=etag)
    except ClientError as exc:
        return _beaten(exc, f"DeleteObject {bucket}/{key}")
    return True


def _beaten(exc: ClientError, what: str) -> bool:
    """False for a conditional write another writer beat; raises otherwise."""
    if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") not in _BEATEN:
        raise translate(exc, what) from exc
    return False
