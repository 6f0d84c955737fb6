"""Compare two bucket prefixes object by object: keys, sizes, content hashes,
system and user metadata, and tags. Used by `fab demo` and the tests."""
from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

from ..s3 import SYSTEM_METADATA, user_metadata


class ObjectState(NamedTuple):
    size: int
    sha256: str
    system: tuple
    metadata: tuple
    tags: tuple


def snapshot(client, bucket: str, prefix: str = "", tags: bool = True) -> dict[str, ObjectState]:
    """Every object under `prefix`, keyed by its key relative to `prefix`.
    Our own `bucketsync-source-etag` stamp is left out: it is bookkeeping."""
    keys = [item["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", ())]

    def read(key):
        response = client.get_object(Bucket=bucket, Key=key)
        body = response["Body"].read()
        metadata = user_metadata(response)
        system = tuple((name, response.get(name)) for name in SYSTEM_METADATA if response.get(name))
        tag_set = ()
        if tags:
            tag_set = tuple(sorted((t["Key"], t["Value"]) for t in
                                   client.get_object_tagging(Bucket=bucket, Key=key).get("TagSet", ())))
        return key[len(prefix):], ObjectState(len(body), hashlib.sha256(body).hexdigest(), system,
                                              tuple(sorted(metadata.items())), tag_set)

    with ThreadPoolExecutor(16) as pool:
        return dict(pool.map(read, keys))


def differences(source: dict[str, ObjectState], destination: dict[str, ObjectState]) -> list[str]:
    """Human-readable differences; empty when the destination equals the source."""
    problems = []
    for key in sorted(set(source) | set(destination)):
        a, b = source.get(key), destination.get(key)
        if b is None:
            problems.append(f"missing at destination: {key!r}")
        elif a is None:
            problems.append(f"extra at destination: {key!r}")
        else:
            for field in ObjectState._fields:
                if getattr(a, field) != getattr(b, field):
                    problems.append(f"{field} differs for {key!r}: {getattr(a, field)!r} != {getattr(b, field)!r}")
    return problems
