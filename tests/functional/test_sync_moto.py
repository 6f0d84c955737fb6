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
