"""Change detection when ETags cannot match by construction, and buckets in
different regions (DESIGN.md section 3)."""
import hashlib
import threading

import boto3
import pytest

from bucketsync import clients
from bucketsync.local import engine
from bucketsync.local.verify import differences, snapshot
from tests.backends import moto_backend


@pytest.fixture
def backend(report_dir):
    with moto_backend(report_dir) as b:
        yield b


class KmsLikeEtags:
    """Make the destination behave like an SSE-KMS bucket: every ETag it
    reports (listings and copy results) is not the MD5 of the content."""

    def __init__(self, destination):
        self.destination = destination
        self.heads = 0
        self.copies = 0
        self.lock = threading.Lock()

    @staticmethod
    def scramble(etag):
        return '"' + hashlib.sha256(etag.encode()).hexdigest()[:32] + '"'

    def before_call(self, params, context, **_):
        context["bucketsync_bucket"] = params.get("Bucket")

    def after_call(self, http_response, parsed, model, context=None, **_):
        if (context or {}).get("bucketsync_bucket") != self.destination:
            return
        with self.lock:
            if model.name == "ListObjectsV2":
                for item in parsed.get("Contents", ()):
                    item["ETag"] = self.scramble(item["ETag"])
            elif model.name == "CopyObject":
                self.copies += 1
                parsed["CopyObjectResult"]["ETag"] = self.scramble(parsed["CopyObjectResult"]["ETag"])
            elif model.name == "HeadObject":
                self.heads += 1

    def __enter__(self):
        clients.add_hook("before-parameter-build.s3", self.before_call)
        clients.add_hook("after-call.s3", self.after_call)
        return self

    def __exit__(self, *exc):
        clients.remove_hook("before-parameter-build.s3", self.before_call)
        clients.remove_hook("after-call.s3", self.after_call)


def test_encrypted_destination_second_run_copies_nothing_with_one_head_per_object(backend):
    source, destination = backend.buckets()
    for n in range(12):
        backend.put(source, f"f{n}", f"content {n}".encode(), Metadata={"n": str(n)}, Tagging=f"n={n}")
    with KmsLikeEtags(destination) as kms:
        # One chunk, copied one object at a time: its first copy shows the
        # ETags differ and is redone with the stamp; the other eleven carry
        # the stamp from the start (with threads, the copies already in
        # flight when the first answer comes are redone too).
        first = backend.sync({"source": source, "destination": destination}, copy_threads=1)
        assert first.ok and first.output["copied"] == 12
        assert kms.copies == 13, kms.copies
        assert differences(snapshot(backend.client, source), snapshot(backend.client, destination)) == []
        kms.heads = 0
        second = backend.sync({"source": source, "destination": destination})
        assert second.ok
        assert (second.output["copied"], second.output["unchanged"]) == (0, 12)
        assert kms.heads == 12, "exactly one HEAD per object whose ETag cannot match"
        # A real change is still found.
        backend.put(source, "f3", b"content X")   # same size, other bytes
        third = backend.sync({"source": source, "destination": destination})
        assert (third.output["copied"], third.output["unchanged"]) == (1, 11)
    assert backend.client.get_object(Bucket=destination, Key="f3")["Body"].read() == b"content X"


def test_buckets_in_different_regions(backend):
    west = boto3.client("s3", region_name="eu-west-1")
    west.create_bucket(Bucket="src-in-ireland", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    tokyo = boto3.client("s3", region_name="ap-northeast-1")
    tokyo.create_bucket(Bucket="dst-in-tokyo", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"})
    for n in range(5):
        west.put_object(Bucket="src-in-ireland", Key=f"k{n}", Body=b"x" * n)
    urls = []
    hook = lambda request, operation_name=None, **_: urls.append(request.url)  # noqa: E731
    clients.add_hook("before-send.s3.CopyObject", hook)
    try:
        outcome = engine.run({"source": "src-in-ireland", "destination": "dst-in-tokyo"},
                             report_dir=backend.report_dir)
    finally:
        clients.remove_hook("before-send.s3.CopyObject", hook)
    assert outcome.ok and outcome.output["copied"] == 5
    assert len(urls) == 5 and all("ap-northeast-1" in url for url in urls), urls
    assert differences(snapshot(west, "src-in-ireland"), snapshot(tokyo, "dst-in-tokyo")) == []
