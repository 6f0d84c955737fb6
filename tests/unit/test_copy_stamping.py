"""Whether copies carry the stamp from their first copy (bucketsync/copy/
stamping.py): the run's decision from the buckets' default encryption, a
chunk's finding told to the later chunks, and the server-side writer
starting as told. Requests stubbed (botocore's Stubber, no server)."""
import io

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from bucketsync.copy import stamping
from bucketsync.copy.context import CopyContext, Stamping
from bucketsync.copy.server_side import ServerSideWriter
from bucketsync.endpoints import Endpoint
from bucketsync.s3 import STAMP
from bucketsync.sync_request import SyncRequest
from bucketsync.work import Run
from tests.unit.test_copy_writers import ETAG, OTHER, SETTINGS, client, job

COPY_PARAMS = {"Bucket": "dst", "Key": "k", "CopySource": {"Bucket": "src", "Key": "k"}, "TaggingDirective": "COPY",
               "CopySourceIfMatch": ETAG, "IfNoneMatch": "*"}
STAMPED_PARAMS = dict(COPY_PARAMS, MetadataDirective="REPLACE", Metadata={"n": "1", STAMP: ETAG.strip('"')})
SOURCE_HEAD = {"ETag": ETAG, "ContentLength": 1, "Metadata": {"n": "1"}}


def encryption(algorithm):
    return {"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault":
                                                             {"SSEAlgorithm": algorithm}}]}}


@pytest.mark.parametrize("answers, on_aws, stamped", [
    (["aws:kms", "AES256"], True, True), (["AES256", "aws:kms:dsse"], True, True),   # either side's SSE-KMS
    (["aws:kms", stamping.UNANSWERED], False, True),           # SSE-KMS anywhere: no ETag can match
    (["AES256", None], True, False), ([None, None], True, False),   # SSE-S3 or none, on AWS: MD5s
    (["AES256", stamping.UNANSWERED], True, None),             # one side did not answer
    (["AES256", "AES256"], False, None),                       # another server's ETags are its own
    (["aws:fsx", "AES256"], True, None),                       # an algorithm this code does not know
])
def test_verdict(answers, on_aws, stamped):
    assert stamping.verdict(answers, on_aws) is stamped


def _answer(stub, bucket, answer):
    if isinstance(answer, tuple):   # an error: (code, status)
        stub.add_client_error("get_bucket_encryption", answer[0], http_status_code=answer[1],
                              expected_params={"Bucket": bucket})
    else:
        stub.add_response("get_bucket_encryption", encryption(answer), {"Bucket": bucket})


@pytest.mark.parametrize("destination, source, stamped", [
    ("aws:kms", None, True),   # the destination's SSE-KMS settles it: the source is not asked
    ("AES256", "aws:kms", True),   # an SSE-KMS source's ETags are no MD5: no copy's can equal them
    ("AES256", "AES256", False),
    (("ServerSideEncryptionConfigurationNotFoundError", 404), "AES256", False),   # no default encryption
    (("AccessDenied", 403), "AES256", None),   # s3:GetEncryptionConfiguration not granted
    (("NotImplemented", 501), ("NotImplemented", 501), None),   # a server without it
])
def test_decide_asks_the_destination_then_the_source(destination, source, stamped):
    dst, src = client(), client()
    asked = []
    src.meta.events.register("provide-client-params.s3", lambda **_: asked.append("src"))
    with Stubber(dst) as dst_stub, Stubber(src) as src_stub:
        _answer(dst_stub, "dst", destination)
        if source is not None:
            _answer(src_stub, "src", source)
        assert stamping.decide([(dst, "dst"), (src, "src")], on_aws=True) is stamped
        dst_stub.assert_no_pending_responses()
        src_stub.assert_no_pending_responses()
    assert len(asked) == (source is not None)


def context(stamping_=Stamping()):
    run = Run(id="r", request=SyncRequest("src", "dst"), source_region=None, destination_region=None,
              work_bucket="", work_prefix="")
    return CopyContext(run, SETTINGS, client(), client(), stamping=stamping_)


def test_a_writer_told_to_stamp_copies_once_with_the_stamp():
    ctx = context(Stamping(from_start=True))
    with Stubber(ctx.src) as src, Stubber(ctx.dst) as dst:
        src.add_response("head_object", SOURCE_HEAD, {"Bucket": "src", "Key": "k"})
        dst.add_response("copy_object", {"CopyObjectResult": {"ETag": OTHER}}, STAMPED_PARAMS)
        ServerSideWriter(ctx).write(job())
        src.assert_no_pending_responses()
        dst.assert_no_pending_responses()


def test_a_writer_that_finds_out_redoes_one_copy_and_tells_once():
    told = []
    ctx = context(Stamping(found=lambda: told.append(1)))
    writer = ServerSideWriter(ctx)
    with Stubber(ctx.src) as src, Stubber(ctx.dst) as dst:
        # The first copy's ETag differs: redone with the stamp (conditional
        # on the object just written), and the run's later chunks are told.
        dst.add_response("copy_object", {"CopyObjectResult": {"ETag": OTHER}}, COPY_PARAMS)
        src.add_response("head_object", SOURCE_HEAD, {"Bucket": "src", "Key": "k"})
        dst.add_response("copy_object", {"CopyObjectResult": {"ETag": OTHER}},
                         {**{k: v for k, v in STAMPED_PARAMS.items() if k != "IfNoneMatch"}, "IfMatch": OTHER})
        writer.write(job())
        # The next copy is stamped from the start; nothing more is told.
        src.add_response("head_object", SOURCE_HEAD, {"Bucket": "src", "Key": "k"})
        dst.add_response("copy_object", {"CopyObjectResult": {"ETag": OTHER}}, STAMPED_PARAMS)
        writer.write(job())
        src.assert_no_pending_responses()
        dst.assert_no_pending_responses()
    assert told == [1]


def chunk_run(copies_stamped=None, streamed=False, dry_run=False):
    request = SyncRequest("src", "dst", dry_run=dry_run, copies_stamped=copies_stamped)
    return Run(id="r", request=request, source_region=None, destination_region=None, work_bucket="work",
               work_prefix="runs/r/", destination_endpoint=Endpoint(url="http://other:9000") if streamed else Endpoint())


def test_a_chunk_of_a_run_decided_stamped_reads_no_hint():
    work = client()
    with Stubber(work):   # no request
        assert stamping.for_chunk(chunk_run(copies_stamped=True), work).from_start


@pytest.mark.parametrize("kwargs", [{"streamed": True}, {"dry_run": True}])
def test_streamed_and_dry_runs_need_no_hint(kwargs):
    work = client()
    with Stubber(work):
        assert stamping.for_chunk(chunk_run(**kwargs), work) == Stamping()


@pytest.mark.parametrize("copies_stamped", [None, False])
def test_an_undecided_chunk_starts_as_an_earlier_chunk_found(copies_stamped):
    """False (SSE-S3 on both sides) reads the hint too: an object written
    with its own SSE-KMS headers, at a side whose default is SSE-S3, has an
    ETag no copy can equal."""
    run, work = chunk_run(copies_stamped), client()
    key = {"Bucket": "work", "Key": "runs/r/copy/copies-stamped.json"}
    with Stubber(work) as stub:
        stub.add_client_error("get_object", "NoSuchKey", http_status_code=404, expected_params=key)
        absent = stamping.for_chunk(run, work)
        stub.add_response("put_object", {"ETag": ETAG}, dict(key, Body=b'{"copies_stamped":true}',
                                                              ContentType="application/json"))
        absent.found()
        stub.add_client_error("put_object", "AccessDenied", http_status_code=403)
        absent.found()   # a hint that cannot be written fails nothing
        stub.add_client_error("get_object", "AccessDenied", http_status_code=403, expected_params=key)
        unreadable = stamping.for_chunk(run, work)   # a hint that cannot be read fails nothing either
        stub.add_response("get_object", {"Body": _body(b'{"copies_stamped":true}')}, key)
        present = stamping.for_chunk(run, work)
        stub.assert_no_pending_responses()
    assert (absent.from_start, unreadable.from_start, present.from_start) == (False, False, True)


def _body(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))
