"""The chunk loop (bucketsync/copy/chunk.py) and what decides before a
write (deadline.py, checking.py), their requests stubbed (botocore's
Stubber, no server)."""
import io
import time

import pytest
from botocore.stub import Stubber

from bucketsync import interrupt
from bucketsync.copy import checking
from bucketsync.copy.chunk import Copier
from bucketsync.copy.context import Ledger
from bucketsync.copy.deadline import INTERRUPTED, may_start
from bucketsync.diff import CHECK, COPY, META, CopyAction
from bucketsync.sync_request import SyncRequest
from bucketsync.s3 import STAMP
from bucketsync.work import Run
from tests.unit.test_copy_writers import ETAG, OTHER, SETTINGS, client, context

NEW = '"4124bc0a9335c27f086f24ba207a4912"'   # MD5 of b"aa"
COPY_PARAMS = {"Bucket": "dst", "Key": "k", "CopySource": {"Bucket": "src", "Key": "k"}, "TaggingDirective": "COPY"}


def copier(request=SyncRequest("src", "dst")):
    run = Run(id="r", request=request, source_region=None, destination_region=None, work_bucket="", work_prefix="")
    return Copier(run, SETTINGS, client(), client())


def test_a_source_changed_since_listed_is_copied_as_it_is_now():
    chunk = copier()
    with Stubber(chunk.ctx.src) as src, Stubber(chunk.dst) as dst:
        dst.add_client_error("copy_object", "PreconditionFailed", http_status_code=412,   # names no condition
                             expected_params=dict(COPY_PARAMS, CopySourceIfMatch=ETAG, IfNoneMatch="*"))
        src.add_response("head_object", {"ETag": NEW, "ContentLength": 2}, {"Bucket": "src", "Key": "k"})
        dst.add_response("copy_object", {"CopyObjectResult": {"ETag": NEW}},
                         dict(COPY_PARAMS, CopySourceIfMatch=NEW, IfNoneMatch="*"))
        result = chunk.copy_chunk([CopyAction(COPY, "k", 1, ETAG)])
        src.assert_no_pending_responses()
        dst.assert_no_pending_responses()
    assert (result.copied, result.bytes_copied, result.failed) == (1, 2, 0), result
    assert chunk.written == {"k": (2, NEW)}


def test_a_check_proven_by_the_stamp_is_not_copied():
    chunk = copier()
    with Stubber(chunk.ctx.src), Stubber(chunk.dst) as dst:
        dst.add_response("head_object", {"ETag": OTHER, "ContentLength": 1, "Metadata": {STAMP: ETAG.strip('"')}},
                         {"Bucket": "dst", "Key": "k"})
        result = chunk.copy_chunk([CopyAction(CHECK, "k", 1, ETAG, OTHER, 1)])
        dst.assert_no_pending_responses()
    assert (result.unchanged, result.copied) == (1, 0)
    assert result.actions[0].reason == "same content (proven by the source-ETag stamp)"
    assert chunk.written == {}


def test_a_dry_run_writes_nothing():
    chunk = copier(SyncRequest("src", "dst", dry_run=True))
    with Stubber(chunk.ctx.src), Stubber(chunk.dst):
        result = chunk.copy_chunk([CopyAction(COPY, "k", 1, ETAG)])
    assert [tuple(a) for a in result.actions] == [("k", 1, "would-copy", "new at the source")]
    assert result.copied == 1 and chunk.written == {}


def test_no_copy_starts_once_interrupted_or_out_of_time():
    ledger, action = Ledger(), CopyAction(COPY, "k", 1, ETAG)
    assert may_start(ledger, action, None) and may_start(ledger, action, time.monotonic() + 60)
    assert not may_start(ledger, action, time.monotonic() - 1)
    interrupt.request()
    try:
        assert not may_start(ledger, action, None)
    finally:
        interrupt.clear()
    assert [a.outcome for a in ledger.result.actions] == ["failed", "skipped"]
    assert ledger.result.actions[1].reason == INTERRUPTED
    assert "running out of time" in ledger.result.failures[0]["error"]


def test_with_check_metadata_different_tags_alone_are_updated():
    ctx = context()
    ctx.run = Run(id="r", request=SyncRequest("src", "dst", check_metadata=True), source_region=None,
                  destination_region=None, work_bucket="", work_prefix="")
    state = {"ETag": ETAG, "ContentLength": 1, "Metadata": {"a": "1"}, "ContentType": "text/plain", "TagCount": 1}
    first_byte = {"Key": "k", "IfMatch": ETAG, "Range": "bytes=0-0"}
    with Stubber(ctx.src) as src, Stubber(ctx.dst) as dst:
        dst.add_response("get_object", dict(state, Body=io.BytesIO(b"a")), dict(first_byte, Bucket="dst"))
        src.add_response("get_object", dict(state, Body=io.BytesIO(b"a")), dict(first_byte, Bucket="src"))
        src.add_response("get_object_tagging", {"TagSet": [{"Key": "t", "Value": "new"}]},
                         {"Bucket": "src", "Key": "k"})
        dst.add_response("get_object_tagging", {"TagSet": [{"Key": "t", "Value": "old"}]},
                         {"Bucket": "dst", "Key": "k"})
        dst.add_response("put_object_tagging", {}, {"Bucket": "dst", "Key": "k",
                                                    "Tagging": {"TagSet": [{"Key": "t", "Value": "new"}]}})
        assert checking.why_copy(ctx, CopyAction(META, "k", 1, ETAG, ETAG, 1), "k") is None
        src.assert_no_pending_responses()
        dst.assert_no_pending_responses()
    assert [tuple(a) for a in ctx.ledger.result.actions] == [("k", 1, "updated",
                                                              "same content and metadata, tags differ")]
