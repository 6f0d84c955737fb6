"""Sync semantics on moto (in-process), through the real state machine."""
import pytest

from tests.backends import moto_backend
from tests.sync_cases import *  # noqa: F401,F403  (the shared, table-driven cases)


@pytest.fixture
def backend(report_dir):
    with moto_backend(report_dir) as b:
        yield b


def test_check_metadata_costs_one_ranged_get_per_side_when_nothing_differs(backend):
    """The fewest requests: one GetObject of the first byte per side answers
    metadata and tag count; tags are read only where a side has some; the
    objects' data is never read whole."""
    from collections import Counter

    from tests.faults import hooked
    source, destination = backend.buckets()
    for key in ("a", "b", "c"):
        for bucket in (source, destination):
            backend.put(bucket, key, key.encode() * 100, ContentType="text/plain", Metadata={"m": key})
    for bucket in (source, destination):
        backend.put(bucket, "tagged", b"t", Tagging="x=1")
    calls, ranges = Counter(), []

    def count(model, params, **_):
        if params.get("Bucket") not in (source, destination):
            return   # the work area's own requests
        calls[model.name] += 1
        if model.name == "GetObject":
            ranges.append(params.get("Range"))

    with hooked("before-parameter-build.s3", count):
        outcome = backend.sync({"source": source, "destination": destination, "check_metadata": True})
    assert outcome.ok and outcome.output["unchanged"] == 4 and outcome.output["copied"] == 0
    assert calls["GetObject"] == 8 and set(ranges) == {"bytes=0-0"}
    assert calls["GetObjectTagging"] == 2, "tags are read only for the object that has some"
    assert calls["HeadObject"] == 0 and calls["CopyObject"] == 0 and calls["PutObjectTagging"] == 0


@pytest.mark.parametrize("deep", [False, True])
def test_verify_reads_each_copy_back_with_a_head(backend, deep):
    """Another writer replaces a just-copied object with other content of the
    same size before the read-back: the listing (size) cannot tell, the HEAD
    of `verify` can (neither the source's ETag nor its stamp). The object
    fails and no delete runs."""
    from tests.faults import hooked
    source, destination = backend.buckets()
    backend.put(source, "a.txt", b"original")
    backend.put(source, "b.txt", b"kept")
    backend.put(destination, "stale", b"x")
    replaced, copying = [], []

    def note(params, **_):
        copying.append(params.get("Key"))

    def other_writer(**_):   # one copy thread: the copy just answered is the last one asked
        if copying[-1] == "a.txt" and not replaced:
            replaced.append(True)
            backend.client.put_object(Bucket=destination, Key="a.txt", Body=b"imposter")

    with hooked("before-parameter-build.s3.CopyObject", note), hooked("after-call.s3.CopyObject", other_writer):
        outcome = backend.sync({"source": source, "destination": destination, "verify": deep,
                                "max_delete": "100%"}, copy_threads=1)
    assert replaced
    out = outcome.output
    assert out["verify"] == ("listing+head" if deep else "listing")
    if deep:
        assert not outcome.ok and out["failed_keys"] == ["a.txt"] and out["deleted"] == 0
        assert out["verified"] == 1 and out["copied"] == 1
    else:
        assert outcome.ok and out["verified"] == 2 and out["deleted"] == 1
