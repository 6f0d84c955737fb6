"""The CRT transport makes the same requests as boto3 (issue 19): a small
`fab sync` against SeaweedFS, first into an empty bucket and then again
with nothing to do, sends the same number of each S3 request per object
with BUCKETSYNC_S3_TRANSPORT=crt as with botocore.

Requests are counted as bench/requests.py counts them: botocore's hooks on
every session (one count per API call, whatever its retries), plus
`crt.CALL_HOOKS` for the calls the CrtClient answers itself, which never
reach botocore.
"""
from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections import Counter
from types import SimpleNamespace

import pytest
from botocore.handlers import BUILTIN_HANDLERS

from bench.requests import RequestCounter
from bucketsync.local import cli
from bucketsync.project.options import SyncOptions
from bucketsync.s3 import crt

pytestmark = pytest.mark.integration

MiB = 1024 * 1024
OBJECTS = {   # key -> (size, tags)
    **{f"small/{i:02d}.txt": (100 + i, {}) for i in range(12)},
    "zero-bytes": (0, {}),
    "folder/": (0, {}),
    "odd/with space+plus&amp%41é\t.txt": (10, {}),
    "tagged/a.txt": (20, {"team": "data"}),
    "tagged/b.txt": (30, {"team": "ops", "tier": "1"}),
    "large/six-mib.bin": (6 * MiB, {}),   # above the threshold below: UploadPartCopy, 5 MiB parts
}


class CrtCountingCounter(RequestCounter):
    """bench's counter, told of the CrtClient's calls as well."""

    def count_crt(self, operation: str, params: dict, status: int) -> None:
        context: dict = {}
        self._before(params, SimpleNamespace(name=operation), context)
        error = {"Error": {"Code": str(status)}} if status >= 300 else {}
        self._after({"ResponseMetadata": {"RetryAttempts": 0}, **error}, context)


@pytest.fixture
def counter():
    counting = CrtCountingCounter()
    counting.install()
    crt.CALL_HOOKS.append(counting.count_crt)
    yield counting
    crt.CALL_HOOKS.remove(counting.count_crt)
    BUILTIN_HANDLERS.remove(("before-parameter-build.s3", counting._before))
    BUILTIN_HANDLERS.remove(("after-call.s3", counting._after))


def seed(client, bucket: str) -> None:
    for key, (size, tags) in OBJECTS.items():
        body = hashlib.sha256(key.encode()).digest() * (size // 32 + 1)
        extra = {"Tagging": "&".join(f"{k}={v}" for k, v in tags.items())} if tags else {}
        client.put_object(Bucket=bucket, Key=key, Body=body[:size], ContentType="text/plain",
                          Metadata={"origin": "seed"}, **extra)


def sync(endpoint: str, source: str, destination: str, counter: RequestCounter) -> tuple[dict, Counter, Counter]:
    """One `fab sync`: its summary, the calls (and refusals) on the user's
    buckets per operation, and the calls the CrtClient answered."""
    counter.clear()
    crt_calls: Counter = Counter()
    hook = lambda operation, params, status: crt_calls.update([operation])  # noqa: E731
    crt.CALL_HOOKS.append(hook)
    out = io.StringIO()
    try:
        status = cli.sync(SyncOptions(source=source, destination=destination, endpoint_url=endpoint, json=True),
                          out=out, err=io.StringIO())
    finally:
        crt.CALL_HOOKS.remove(hook)
    assert status == 0, out.getvalue()
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    user = Counter({op: n for (where, op), n in counter.calls.items() if where == "user"})
    # Refusals count as calls, and are compared too (SeaweedFS cannot
    # CopyObject a "folder/" marker: NoSuchKey; the copier then writes it).
    # (By operation only: the CRT's hook is told the status, botocore's the code.)
    user.update(f"{op} refused" for (where, op, _), n in counter.errors.items() if where == "user" for _ in range(n))
    return summary, user, crt_calls


def test_the_same_requests_per_object_with_either_transport(seaweedfs, counter, monkeypatch, tmp_path):
    monkeypatch.setenv("BUCKETSYNC_REPORT_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("BUCKETSYNC_MULTIPART_THRESHOLD", str(5 * MiB))
    monkeypatch.setenv("BUCKETSYNC_PART_SIZE", str(5 * MiB))
    client = seaweedfs.client()
    source = f"counts-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=source)
    seed(client, source)
    seen = {}
    for transport in ("botocore", "crt"):
        monkeypatch.setenv("BUCKETSYNC_S3_TRANSPORT", transport)
        destination = f"{source}-{transport}"
        client.create_bucket(Bucket=destination)
        first = sync(seaweedfs.endpoint, source, destination, counter)
        again = sync(seaweedfs.endpoint, source, destination, counter)
        assert first[0]["copied"] == len(OBJECTS) and first[0]["failed"] == 0
        assert again[0]["copied"] == 0 and again[0]["failed"] == 0
        seen[transport] = first, again
    for run in (0, 1):   # the first sync, then the no-op one
        (_, by_boto, crt_by_boto), (_, by_crt, crt_by_crt) = seen["botocore"][run], seen["crt"][run]
        assert by_crt == by_boto, f"{('first', 'no-op')[run]} sync: requests on the user's buckets, per operation"
        assert not crt_by_boto, "BUCKETSYNC_S3_TRANSPORT=botocore sends nothing through the CRT"
        hot = {op: n for op, n in by_crt.items() if op in crt.OPERATIONS.values()}
        # Every hot call went through the CRT but ValidateInput's first
        # listing of each side, made by the probe client (clients.probe_client:
        # boto3's, short timeouts, few attempts).
        assert Counter(hot) - crt_by_crt == Counter({"ListObjectsV2": 2}) and not crt_by_crt - Counter(hot)
    first_calls = seen["crt"][0][1]
    assert first_calls["CopyObject"] == len(OBJECTS) - 1 and first_calls["UploadPartCopy"] == 2
