"""Conditional deletes: DeleteObjects batches, DeleteObject one by one, and
the probe of whether a server honours the per-key condition."""
from __future__ import annotations

from .. import errors
from ..errors import PreconditionsUnsupportedError
from .calls import _conditional


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
    except PreconditionsUnsupportedError:
        return "rejected"
    return "honoured" if refused else "ignored"
