"""Change detection when ETags cannot match by construction, and buckets in
different regions (DESIGN.md section 3)."""
import contextlib
import hashlib
import threading

import boto3
import pytest

from bucketsync import clients
from bucketsync.local import engine
from bucketsync.local.verify import differences, snapshot
from tests.backends import moto_backend
from tests.faults import error_response, injecting


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


def kms_default(client, bucket, algorithm="aws:kms"):
    client.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": algorithm}}]})


def seed(backend, source, count=12):
    for n in range(count):
        backend.put(source, f"f{n}", f"content {n}".encode(), Metadata={"n": str(n)}, Tagging=f"n={n}")


def second_and_third_runs(backend, source, destination, kms):
    """A second run copies nothing, with exactly one HEAD per object; a
    real change is still found."""
    kms.heads = 0
    second = backend.sync({"source": source, "destination": destination})
    assert second.ok
    assert (second.output["copied"], second.output["unchanged"]) == (0, 12)
    assert kms.heads == 12, "exactly one HEAD per object whose ETag cannot match"
    backend.put(source, "f3", b"content X")   # same size, other bytes
    third = backend.sync({"source": source, "destination": destination})
    assert (third.output["copied"], third.output["unchanged"]) == (1, 11)
    assert backend.client.get_object(Bucket=destination, Key="f3")["Body"].read() == b"content X"


@pytest.mark.parametrize("side, algorithm", [("destination", "aws:kms"), ("destination", "aws:kms:dsse"),
                                             ("source", "aws:kms")])
def test_kms_bucket_copies_each_object_once_and_second_run_copies_nothing(backend, side, algorithm):
    """The buckets' default encryption is read once, by ValidateInput:
    every chunk (three here, in parallel, with threads) stamps from its
    first copy, so no object is copied twice. (An SSE-KMS source's ETags
    are no MD5, so no copy's can equal them: the differing ETags stand for
    that there.)"""
    source, destination = backend.buckets()
    kms_default(backend.client, source if side == "source" else destination, algorithm)
    seed(backend, source)
    with KmsLikeEtags(destination) as kms:
        first = backend.sync({"source": source, "destination": destination}, chunk_actions=4)
        assert first.ok and first.output["copied"] == 12
        assert kms.copies == 12, kms.copies
        assert differences(snapshot(backend.client, source), snapshot(backend.client, destination)) == []
        second_and_third_runs(backend, source, destination, kms)


@contextlib.contextmanager
def encryption_unanswered(refusal):
    """GetBucketEncryption refused on every bucket with `refusal` ((status,
    code): a missing right, a server that does not implement it), or
    answered as moto does (None: no configuration); yields the URLs asked
    (each refused one twice: `injecting` decides for a retry beforehand)."""
    asked = []

    def decide(request):
        if request.method == "GET" and "?encryption" in request.url:
            asked.append(request.url)
            return error_response(request.url, *refusal, "no answer") if refusal else None
        return None
    with injecting(decide):
        yield asked


@pytest.mark.parametrize("answer", ["AccessDenied", "NotImplemented", "no configuration"])
def test_without_the_answer_one_chunk_finds_out_and_tells_the_later_ones(backend, answer):
    """No usable answer about encryption (refused, not implemented, or
    moto's "no configuration" while the ETags differ anyway): the first
    chunk's first copy finds the ETags differ and is redone with the stamp;
    its word in the work area makes the later chunks stamp from their
    first copy (one at a time here, so the count is exact)."""
    source, destination = backend.buckets()
    seed(backend, source)
    refusal = {"AccessDenied": (403, "AccessDenied"), "NotImplemented": (501, "NotImplemented")}.get(answer)
    with KmsLikeEtags(destination) as kms, encryption_unanswered(refusal) as asked:
        env = {"BUCKETSYNC_CHUNK_ACTIONS": "4", "BUCKETSYNC_COPY_THREADS": "1"}
        first = engine.run({"source": source, "destination": destination}, settings=env,
                           report_dir=backend.report_dir, map_concurrency=1)
        assert first.ok and first.output["copied"] == 12
        assert len(set(asked)) == 2, asked   # both sides asked, by ValidateInput
        assert kms.copies == 13, kms.copies
        assert differences(snapshot(backend.client, source), snapshot(backend.client, destination)) == []
        second_and_third_runs(backend, source, destination, kms)


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
