"""Each part of the copy path alone, its requests stubbed (botocore's
Stubber, no server): one fault each, and what the part makes of it."""
import io

import boto3
import pytest
from botocore.stub import ANY, Stubber

from bucketsync.copy import multipart
from bucketsync.copy.context import CopyContext, Job
from bucketsync.copy.server_side import ServerSideWriter
from bucketsync.copy.streamed import StreamedWriter
from bucketsync.endpoints import Endpoint
from bucketsync.errors import DestinationChangedError, TransientError
from bucketsync.diff import COPY, CopyAction
from bucketsync.sync_request import SyncRequest
from bucketsync.s3 import STAMP
from bucketsync.settings import MiB, Settings
from bucketsync.work import Run

ETAG = '"0cc175b9c0f1b6a831c399e269772661"'   # MD5 of b"a"
OTHER = '"92eb5ffee6ae2fec3ad71c777531578f"'
SETTINGS = Settings(work_bucket="", work_prefix="", endpoint_url=None, multipart_threshold=64 * MiB,
                    part_size=8 * MiB, copy_threads=2, part_threads=2, chunk_actions=1000, chunk_bytes=1,
                    plan_seconds=1, sns_topic_arn=None, lease_seconds=1, retry_seconds=0, lease_dir=None,
                    stream_buffer_bytes=32 * MiB)


def client():
    return boto3.client("s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")


def context(streamed=False):
    destination = Endpoint(url="http://other.example:9000") if streamed else Endpoint()
    run = Run(id="r", request=SyncRequest("src", "dst"), source_region=None, destination_region=None,
              work_bucket="", work_prefix="", destination_endpoint=destination)
    return CopyContext(run, SETTINGS, client(), client())


def job(key="k", size=1, etag=ETAG):
    return Job(CopyAction(COPY, key, size, etag), key, key, size, etag)


@pytest.mark.parametrize("found, raised", [
    ({"ETag": OTHER, "Metadata": {}}, DestinationChangedError),                 # another writer's object
    ({"ETag": ETAG, "Metadata": {}}, None),                                     # our own copy, its answer lost
])
def test_server_side_copy_refused_412_is_ours_or_another_writers(found, raised):
    ctx = context()
    with Stubber(ctx.src), Stubber(ctx.dst) as dst:   # no request to the source client
        dst.add_client_error("copy_object", "PreconditionFailed", http_status_code=412,
                             service_error_meta={"Condition": "If-None-Match"},
                             expected_params={"Bucket": "dst", "Key": "k", "CopySource": {"Bucket": "src", "Key": "k"},
                                              "CopySourceIfMatch": ETAG, "TaggingDirective": "COPY",
                                              "IfNoneMatch": "*"})
        dst.add_response("head_object", dict(found, ContentLength=1), {"Bucket": "dst", "Key": "k"})
        if raised:
            with pytest.raises(raised, match="another writer"):
                ServerSideWriter(ctx).write(job())
        else:
            ServerSideWriter(ctx).write(job())
        dst.assert_no_pending_responses()


def test_streamed_short_read_writes_nothing_and_releases_its_memory():
    ctx = context(streamed=True)
    writer = StreamedWriter(ctx)
    with Stubber(ctx.src) as src, Stubber(ctx.dst):   # no request at all to the destination
        src.add_response("get_object", {"Body": io.BytesIO(b"ab"), "ContentLength": 3, "ETag": ETAG},
                         {"Bucket": "src", "Key": "k", "IfMatch": ETAG})
        with pytest.raises(TransientError, match="read 2 bytes of 3"):
            writer.write(job(size=3))
        src.assert_no_pending_responses()
    assert writer.memory.held == 0


def test_streamed_whole_object_is_put_with_content_md5_and_the_stamp():
    ctx = context(streamed=True)
    with Stubber(ctx.src) as src, Stubber(ctx.dst) as dst:
        src.add_response("get_object", {"Body": io.BytesIO(b"a"), "ContentLength": 1, "ETag": ETAG, "TagCount": 0},
                         {"Bucket": "src", "Key": "k", "IfMatch": ETAG})
        src.add_response("get_object_tagging", {"TagSet": []}, {"Bucket": "src", "Key": "k"})
        dst.add_response("put_object", {"ETag": ETAG},
                         {"Bucket": "dst", "Key": "k", "Body": b"a", "Metadata": {STAMP: ETAG.strip('"')},
                          "ContentMD5": "DMF1ucDxtqgxw5niaXcmYQ==", "IfNoneMatch": "*"})
        StreamedWriter(ctx).write(job())
        src.assert_no_pending_responses()
        dst.assert_no_pending_responses()


def test_failed_complete_aborts_the_upload():
    ctx = context()
    with Stubber(ctx.src), Stubber(ctx.dst) as dst:
        dst.add_response("create_multipart_upload", {"UploadId": "u1"}, {"Bucket": "dst", "Key": "k", "Metadata": ANY})
        dst.add_client_error("complete_multipart_upload", "InternalError", http_status_code=500,
                             expected_params={"Bucket": "dst", "Key": "k", "UploadId": "u1",
                                              "MultipartUpload": {"Parts": [{"PartNumber": 1, "ETag": OTHER}]},
                                              "IfNoneMatch": "*"})
        dst.add_response("abort_multipart_upload", {}, {"Bucket": "dst", "Key": "k", "UploadId": "u1"})
        with pytest.raises(TransientError, match="InternalError"):
            multipart.upload_in_parts(ctx, job(), {"ETag": ETAG, "Metadata": {}}, {}, lambda upload_id: [OTHER])
        dst.assert_no_pending_responses()


def test_even_ranges_respect_the_part_limits():
    assert multipart.even_ranges(0, 8 * MiB) == [(0, -1)]
    assert multipart.even_ranges(10, 1) == [(0, 9)]   # never below 5 MiB a part
    ranges = multipart.even_ranges(20 * MiB, 8 * MiB)
    assert ranges == [(0, 8 * MiB - 1), (8 * MiB, 16 * MiB - 1), (16 * MiB, 20 * MiB - 1)]
    assert len(multipart.even_ranges(100_000 * MiB, 5 * MiB)) <= multipart.MAX_PARTS
