"""Faults, the same through both transports (issue 19): a scripted S3 on
loopback (tests/stub_s3.py) answers each request as the case says, and the
boto3 client bucketsync makes and the CrtClient wrapping it must come to
the same typed error (or the same answer) through the `bucketsync.s3`
functions, retrying what is worth retrying.

The stub counts the attempts. They are pinned per transport in each case,
as measured: the CRT retries by itself (500, 503, connection errors, and
InternalError/SlowDown in a 200's body), CrtClient adds what botocore's
standard mode retries and the CRT does not; both give up after 10
attempts. Where the counts differ the case says why. The retries' waits
are cut to nothing, so that giving up takes milliseconds.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from botocore.config import Config
from botocore.retries import standard

from bucketsync import clients, s3
from bucketsync.s3 import crt
from tests.stub_s3 import CLOSE, CUT, HANG, OK_XML, Reply, Stub, error_xml
from tests.transports import equivalent, outcome, transport_pair

ETAG = '"0123456789abcdef0123456789abcdef"'
LIST_OK = OK_XML + (b"<ListBucketResult><Name>b</Name><Prefix></Prefix><KeyCount>1</KeyCount>"
                    b"<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><Contents><Key>k</Key>"
                    b"<LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>&quot;e&quot;</ETag>"
                    b"<Size>3</Size></Contents></ListBucketResult>")
COPY_OK = OK_XML + (b"<CopyObjectResult><ETag>&quot;c&quot;</ETag>"
                    b"<LastModified>2026-01-01T00:00:00.000Z</LastModified></CopyObjectResult>")
PART_OK = OK_XML + (b"<CopyPartResult><ETag>&quot;p&quot;</ETag>"
                    b"<LastModified>2026-01-01T00:00:00.000Z</LastModified></CopyPartResult>")
COMPLETE_OK = OK_XML + (b"<CompleteMultipartUploadResult><Location>http://x/b/k</Location><Bucket>b</Bucket>"
                        b"<Key>k</Key><ETag>&quot;m-1&quot;</ETag></CompleteMultipartUploadResult>")
HEAD_OK = Reply(200, headers={"ETag": ETAG, "Last-Modified": "Thu, 01 Jan 2026 00:00:00 GMT",
                              "x-amz-meta-color": "blue"})
GET_OK = Reply(200, b"abc", {"ETag": ETAG, "Last-Modified": "Thu, 01 Jan 2026 00:00:00 GMT"})


def head(c):
    return s3.head_object(c, "b", "k")


def get(c):
    return s3.get_bytes(c, "b", "k", ETAG)


def listing(c):
    return list(s3.list_pages(c, "b", ""))


def tags(c):
    return s3.get_tags(c, "b", "k")


def copy(c, **condition):
    return s3.copy_object(c, "b", "k", "b", "k2", ETAG, dst_condition=condition or None)


def part_copy(c):
    return s3.upload_part_copy(c, "b", "k", "b", "k2", "upload-1", 1, 0, 9, ETAG)


def complete(c, **condition):
    return s3.complete_multipart(c, "b", "k2", "upload-1", ['"p"'], dst_condition=condition or None)


def put_if_absent(c):
    return s3.put_object(c, "b", "k", b"abc", {}, {}, dst_condition={"IfNoneMatch": "*"})


@dataclass(frozen=True)
class Case:
    name: str
    call: object
    script: tuple
    result: str                 # "ok", or the bucketsync error both must raise
    attempts: tuple[int, int]   # (botocore, CRT) requests the stub saw
    # How the errors' causes compare: "same" (the same Error and status, or
    # the same exception), "gave up" (the CRT retried to the end and handed
    # over no answer: tests/transports.equivalent), "socket" (no whole
    # answer: the CRT names the closed socket).
    cause: str = "same"
    timeout: float = 5.0        # the CRT's deadline per request (its retries included)


CASES = [
    Case("404 HEAD without body", head, (Reply(404),), "NoSuchKeyError", (1, 1)),
    Case("404 GET with an XML body", get, (Reply(404, error_xml("NoSuchKey")),), "NoSuchKeyError", (1, 1)),
    Case("403 AccessDenied", listing, (Reply(403, error_xml("AccessDenied")),), "AccessDeniedError", (1, 1)),
    Case("412 naming If-None-Match on a conditional copy", lambda c: copy(c, IfNoneMatch="*"),
         (Reply(412, error_xml("PreconditionFailed", Condition="If-None-Match")),), "DestinationChangedError", (1, 1)),
    Case("412 naming the copy source's If-Match", copy,
         (Reply(412, error_xml("PreconditionFailed", Condition="x-amz-copy-source-If-Match")),),
         "SourceChangedError", (1, 1)),
    Case("412 on a conditional CompleteMultipartUpload", lambda c: complete(c, IfNoneMatch="*"),
         (Reply(412, error_xml("PreconditionFailed", Condition="If-None-Match")),), "DestinationChangedError", (1, 1)),
    Case("501 NotImplemented on a conditional write", put_if_absent, (Reply(501, error_xml("NotImplemented")),),
         "PreconditionsUnsupportedError", (1, 1)),
    Case("503 SlowDown, then 200", listing, (Reply(503, error_xml("SlowDown")), Reply(200, LIST_OK)), "ok", (2, 2)),
    Case("429, then 200", listing, (Reply(429), Reply(200, LIST_OK)), "ok", (2, 2)),
    Case("502, then 200", listing, (Reply(502), Reply(200, LIST_OK)), "ok", (2, 2)),
    Case("400 RequestTimeout, then 200", listing, (Reply(400, error_xml("RequestTimeout")), Reply(200, LIST_OK)),
         "ok", (2, 2)),
    Case("503 always", listing, (Reply(503, error_xml("SlowDown")),), "TransientError", (10, 10), cause="gave up"),
    Case("500 always", head, (Reply(500),), "TransientError", (10, 10), cause="gave up"),
    Case("CopyObject 200 <Error> InternalError, then 200", copy,
         (Reply(200, error_xml("InternalError")), Reply(200, COPY_OK)), "ok", (2, 2)),
    Case("UploadPartCopy 200 <Error> InternalError, then 200", part_copy,
         (Reply(200, error_xml("InternalError")), Reply(200, PART_OK)), "ok", (2, 2)),
    Case("CompleteMultipartUpload 200 <Error> InternalError, then 200", complete,
         (Reply(200, error_xml("InternalError")), Reply(200, COMPLETE_OK)), "ok", (2, 2)),
    Case("CopyObject 200 <Error> InternalError always", copy, (Reply(200, error_xml("InternalError")),),
         "TransientError", (10, 10), cause="gave up"),
    Case("CopyObject 200 <Error> Throttling always", copy, (Reply(200, error_xml("Throttling")),),
         "TransientError", (10, 10)),
    # botocore turns every 200 <Error> into a 500 and retries it whatever
    # its code; the CRT transport reads it as botocore does.
    Case("CopyObject 200 <Error> AccessDenied", copy, (Reply(200, error_xml("AccessDenied")),),
         "AccessDeniedError", (10, 10)),
    # Any answer in XML may be an <Error> (botocore checks them all): taken
    # for a listing, this one would be an empty bucket.
    Case("ListObjectsV2 200 <Error> AccessDenied", listing, (Reply(200, error_xml("AccessDenied")),),
         "AccessDeniedError", (10, 10)),
    Case("CopyObject 200 whose XML is cut short, then 200", copy, (Reply(200, COPY_OK[:60]), Reply(200, COPY_OK)),
         "ok", (2, 2)),
    # rclone answers GET ?tagging with the object itself.
    Case("GetObjectTagging 200 that is not XML", tags, (Reply(200, b"the object's bytes"),), "TransientError",
         (10, 10)),
    Case("CopyObject dropped mid-answer, then 200", copy, (CUT, Reply(200, COPY_OK)), "ok", (2, 2)),
    Case("CopyObject dropped mid-answer always", copy, (CUT,), "TransientError", (10, 10), cause="socket"),
    Case("HEAD connection closed, then 200", head, (CLOSE, HEAD_OK), "ok", (2, 2)),
    Case("HEAD connection closed always", head, (CLOSE,), "TransientError", (10, 10), cause="socket"),
    Case("GetObject connection closed, then 200", get, (CLOSE, GET_OK), "ok", (2, 2)),
    # botocore retries a read timeout; so does the CRT transport, its
    # timeout being the whole request's deadline (DEFAULT_TIMEOUT_SECONDS).
    Case("HEAD never answered", head, (HANG,), "TransientError", (10, 10), timeout=0.2),
]


@pytest.fixture(scope="module")
def stub():
    with Stub() as server:
        yield server


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    """Retries without waits (the CRT's: 1 ms doubled per retry); botocore's
    read timeout a fifth of a second."""
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    monkeypatch.setattr(crt, "BACKOFF_SECONDS", 0.001)
    made = clients._config
    monkeypatch.setattr(clients, "_config", lambda *a, **k: made(*a, **k).merge(Config(read_timeout=0.2)))
    yield
    clients.reset()


def attempt(stub, client, case: Case):
    stub.script(*case.script)
    result = outcome(lambda: case.call(client))
    return result, len(stub.requests)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_both_transports_meet_a_fault_alike(case, stub, monkeypatch):
    monkeypatch.setattr(crt, "DEFAULT_TIMEOUT_SECONDS", case.timeout)
    monkeypatch.setattr(crt, "TIMEOUT_SECONDS", {name: case.timeout for name in crt.TIMEOUT_SECONDS})
    # Fresh clients: botocore's retry quota and the CRT's are per client.
    boto, crt_client = transport_pair(stub.endpoint, monkeypatch)
    by_boto, boto_attempts = attempt(stub, boto, case)
    by_crt, crt_attempts = attempt(stub, crt_client, case)
    assert (boto_attempts, crt_attempts) == case.attempts, "attempts (botocore, CRT)"
    if case.result == "ok":
        assert by_boto.ok, by_boto.error
        assert by_crt == by_boto
        return
    assert (by_boto.error[0], by_crt.error[0]) == (case.result, case.result)
    if case.cause == "same":
        assert by_crt.error[2] == by_boto.error[2], "the server's error document (Error, HTTP status)"
    elif case.cause == "gave up":
        assert by_crt != by_boto and equivalent(by_boto, by_crt)
    else:
        assert by_crt.error[2] == "HTTPClientError" and "AWS_IO_SOCKET_CLOSED" in by_crt.error[1]


def test_a_body_cut_short_is_retried_by_the_crt_and_by_bucketsync_for_botocore(stub, monkeypatch):
    """A GetObject whose body stops halfway: botocore has already returned
    the answer when the body breaks, so it does not retry and get_bytes
    raises TransientError; the CRT reads bodies whole and retries. Through
    `s3.retrying`, as the copier calls get_bytes, both come to the bytes."""
    boto, crt_client = transport_pair(stub.endpoint, monkeypatch)
    case = Case("GetObject cut", get, (CUT, GET_OK), "", (0, 0))
    by_boto, boto_attempts = attempt(stub, boto, case)
    by_crt, crt_attempts = attempt(stub, crt_client, case)
    assert (boto_attempts, crt_attempts) == (1, 2)
    assert by_boto.error[0] == "TransientError" and by_crt.ok and by_crt.answer[0] == b"abc"
    for client in (boto, crt_client):
        stub.script(*case.script)
        data, _ = s3.retrying(lambda: get(client), 10, sleep=lambda seconds: None)
        assert data == b"abc"
