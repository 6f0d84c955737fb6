"""The SeaweedFS fixture behaves like S3 for what bucketsync needs.

Where SeaweedFS 4.48 differs from AWS the tests assert what it really does,
with a comment saying what AWS does instead (DESIGN.md section 7)."""
import hashlib
import io
import os
import uuid
from pathlib import Path

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.servers import GRPC_OFFSET, HOST, SeaweedFS, port_is_free

pytestmark = pytest.mark.integration

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def server():
    with SeaweedFS() as s:
        yield s


@pytest.fixture(scope="module")
def s3(server):
    return server.client()


@pytest.fixture
def bucket(s3):
    name = f"t-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    return name


def error_of(call, **kwargs) -> tuple[str, int]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def md5_etag(body: bytes) -> str:
    return f'"{hashlib.md5(body).hexdigest()}"'


def keys_of(s3, bucket, **kwargs) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, **kwargs)
    return [o["Key"] for page in pages for o in page.get("Contents", ())]


def listening_ports(pid: int) -> set[tuple[str, int]]:
    """(ip, port) of the TCP sockets `pid` listens on, from /proc (IPv4 and IPv6)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:   # 0A: LISTEN
                address, port = local.split(":")
                ip = (".".join(str(b) for b in reversed(bytes.fromhex(address)))
                      if len(address) == 8 else address)
                found.add((ip, int(port, 16)))
    return found


# -- the server itself ------------------------------------------------------

@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
def test_listens_only_on_loopback_and_its_chosen_ports(server):
    # Parallel test processes each start a server: any port outside the
    # chosen pairs (a default like 8333, 23646, 8181, 7333) would clash.
    chosen = set(server.ports.values())
    expected = {(HOST, p) for p in chosen} | {(HOST, p + GRPC_OFFSET) for p in chosen}
    assert listening_ports(server.process.pid) == expected
    assert server.endpoint == f"http://{HOST}:{server.ports['s3']}"


def test_any_credentials_are_accepted_but_list_buckets_is_empty(server, bucket):
    # Without an identity SeaweedFS checks no signature at all. It then
    # answers ListBuckets with an empty list; AWS lists the caller's buckets.
    other = server.client(aws_access_key_id="someone", aws_secret_access_key="else")
    assert other.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert other.list_buckets()["Buckets"] == []


def test_with_credentials_signatures_are_checked_and_buckets_listed():
    with SeaweedFS(access_key="bucketsync", secret_key="bucketsync-secret") as server:
        s3 = server.client()
        s3.create_bucket(Bucket="listed-bucket")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["listed-bucket"]
        one_try = Config(retries={"max_attempts": 1})
        wrong_secret = server.client(aws_secret_access_key="wrong", config=one_try)
        assert error_of(wrong_secret.list_buckets) == ("SignatureDoesNotMatch", 403)
        unknown_key = server.client(aws_access_key_id="nobody", config=one_try)
        assert error_of(unknown_key.list_buckets) == ("InvalidAccessKeyId", 403)
        pid, tmp_dir, port = server.process.pid, server.tmp_dir, server.port
    # Stopped: process reaped, directory removed, port released.
    assert server.process is None and not tmp_dir.exists()
    assert not Path(f"/proc/{pid}").exists()
    assert port_is_free(port)


def test_client_never_sends_expect_100_continue(server, s3, bucket):
    # botocore adds `Expect: 100-continue` to every PUT with a file-like body;
    # the client from `SeaweedFS.client()` drops it before sending.
    sent = []

    def record(request, **_):   # runs after the client's own handler
        sent.append(dict(request.headers))

    s3.meta.events.register("before-send.s3", record)
    try:
        s3.put_object(Bucket=bucket, Key="streamed", Body=io.BytesIO(b"x" * 1000))
        s3.put_object(Bucket=bucket, Key="empty", Body=io.BytesIO(b""))
    finally:
        s3.meta.events.unregister("before-send.s3", record)
    assert len(sent) == 2
    assert not any("Expect" in headers for headers in sent)


# -- buckets and objects ------------------------------------------------------

def test_create_put_list_get(s3, bucket):
    # AWS in us-east-1 answers 200 to re-creating a bucket you own (other
    # regions: 409 BucketAlreadyOwnedByYou); SeaweedFS always answers 409.
    assert error_of(s3.create_bucket, Bucket=bucket) == ("BucketAlreadyOwnedByYou", 409)
    bodies = {"a.txt": b"hello", "dir/b.bin": os.urandom(3000), "dir/empty": b""}
    for key, body in bodies.items():
        assert s3.put_object(Bucket=bucket, Key=key, Body=body)["ETag"] == md5_etag(body)
    listing = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert {o["Key"]: (o["Size"], o["ETag"]) for o in listing} == {
        key: (len(body), md5_etag(body)) for key, body in bodies.items()}
    for key, body in bodies.items():
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    delimited = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in delimited["CommonPrefixes"]] == ["dir/"]
    assert [o["Key"] for o in delimited["Contents"]] == ["a.txt"]


def test_listing_pages(s3, bucket):
    keys = [f"p/{i:02d}" for i in range(7)]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    pages = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 3}))
    assert [len(page["Contents"]) for page in pages] == [3, 3, 1]
    assert keys_of(s3, bucket) == keys
    assert keys_of(s3, bucket, StartAfter="p/04") == keys[5:]


def test_copy_if_match(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="src", Body=b"payload")["ETag"]
    result = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"},
                            CopySourceIfMatch=etag)
    # AWS quotes the ETag in CopyObjectResult ("\"<md5>\""); SeaweedFS does not.
    assert result["CopyObjectResult"]["ETag"] == etag.strip('"')
    assert s3.head_object(Bucket=bucket, Key="dst")["ETag"] == etag
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"payload"

    wrong = md5_etag(b"something else")
    assert error_of(s3.copy_object, Bucket=bucket, Key="not-made",
                    CopySource={"Bucket": bucket, "Key": "src"},
                    CopySourceIfMatch=wrong) == ("PreconditionFailed", 412)
    assert error_of(s3.head_object, Bucket=bucket, Key="not-made") == ("404", 404)


def test_metadata_and_tags_round_trip(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", Metadata={"colour": "Blue", "x-y": "1"},
                  Tagging="team=data&env=test", ContentType="text/plain",
                  CacheControl="max-age=60", ContentDisposition="attachment")
    tags = [{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "data"}]

    def described(key):
        head = s3.head_object(Bucket=bucket, Key=key)
        tag_set = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
        return (head["Metadata"], head["ContentType"], head.get("CacheControl"),
                head.get("ContentDisposition"), sorted(tag_set, key=lambda t: t["Key"]))

    original = ({"colour": "Blue", "x-y": "1"}, "text/plain", "max-age=60", "attachment", tags)
    assert described("src") == original
    assert s3.head_object(Bucket=bucket, Key="src")["TagCount"] == 2

    source = {"Bucket": bucket, "Key": "src"}
    s3.copy_object(Bucket=bucket, Key="default", CopySource=source)
    s3.copy_object(Bucket=bucket, Key="copied", CopySource=source, TaggingDirective="COPY",
                   MetadataDirective="COPY")
    assert described("default") == original
    assert described("copied") == original

    s3.copy_object(Bucket=bucket, Key="replaced", CopySource=source, TaggingDirective="REPLACE",
                   Tagging="k=v", MetadataDirective="REPLACE", Metadata={"new": "m"},
                   ContentType="application/x-new")
    assert described("replaced") == ({"new": "m"}, "application/x-new", None, None,
                                     [{"Key": "k", "Value": "v"}])

    s3.put_object_tagging(Bucket=bucket, Key="replaced", Tagging={"TagSet": tags})
    assert described("replaced")[-1] == tags


def test_multipart_upload_and_upload_part_copy(s3, bucket):
    part1, part2 = b"a" * (5 * MiB), b"b" * MiB
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", Metadata={"m": "1"},
                                        Tagging="t=1")["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=n,
                            Body=body)["ETag"]
             for n, body in ((1, part1), (2, part2))]
    assert etags == [md5_etag(part1), md5_etag(part2)]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [upload]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]})
    aws_etag = hashlib.md5(hashlib.md5(part1).digest() + hashlib.md5(part2).digest()).hexdigest()
    assert done["ETag"] == f'"{aws_etag}-2"'
    head = s3.head_object(Bucket=bucket, Key="mp")
    assert (head["ETag"], head["ContentLength"], head["Metadata"]) == (done["ETag"], 6 * MiB,
                                                                       {"m": "1"})
    assert s3.get_object_tagging(Bucket=bucket, Key="mp")["TagSet"] == [{"Key": "t", "Value": "1"}]

    # The same layout again, server-side, with UploadPartCopy.
    copy = s3.create_multipart_upload(Bucket=bucket, Key="mp-copy")["UploadId"]
    source = {"Bucket": bucket, "Key": "mp"}
    copied = [s3.upload_part_copy(Bucket=bucket, Key="mp-copy", UploadId=copy, PartNumber=n,
                                  CopySource=source, CopySourceRange=byte_range,
                                  CopySourceIfMatch=head["ETag"])["CopyPartResult"]["ETag"]
              for n, byte_range in ((1, f"bytes=0-{5 * MiB - 1}"),
                                    (2, f"bytes={5 * MiB}-{6 * MiB - 1}"))]
    assert error_of(s3.upload_part_copy, Bucket=bucket, Key="mp-copy", UploadId=copy,
                    PartNumber=3, CopySource=source, CopySourceRange="bytes=0-9",
                    CopySourceIfMatch=md5_etag(b"other")) == ("PreconditionFailed", 412)
    # AWS: a copied part's ETag is the quoted MD5 of its bytes. SeaweedFS
    # leaves it unquoted and, for a part it stores in several chunks (over
    # 4 MiB), answers an MD5-of-chunk-MD5s "-N" ETag instead.
    assert copied[1] == md5_etag(part2).strip('"')
    assert copied[0] != md5_etag(part1).strip('"') and copied[0].endswith("-2")
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp-copy", UploadId=copy,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(copied, 1)]})
    assert s3.get_object(Bucket=bucket, Key="mp-copy")["Body"].read() == part1 + part2
    # AWS gives the copy the source's ETag (same bytes, same part layout).
    assert done["ETag"] != head["ETag"] and done["ETag"].endswith('-2"')

    # CopyObject of a multipart object: AWS answers the plain MD5 of the
    # whole object; SeaweedFS keeps the source's "-2" ETag (unquoted).
    result = s3.copy_object(Bucket=bucket, Key="mp-whole", CopySource=source)
    assert result["CopyObjectResult"]["ETag"] == head["ETag"].strip('"')

    aborted = s3.create_multipart_upload(Bucket=bucket, Key="gone")["UploadId"]
    s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=aborted)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


def test_delete_objects(s3, bucket):
    for key in ("d1", "d2", "keep"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"1")
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d1"}, {"Key": "d2"},
                                                                  {"Key": "never-existed"}]})
    # As on AWS, a missing key counts as deleted.
    assert sorted(d["Key"] for d in result["Deleted"]) == ["d1", "d2", "never-existed"]
    assert "Errors" not in result
    assert keys_of(s3, bucket) == ["keep"]
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "keep"}], "Quiet": True})
    assert "Deleted" not in quiet and "Errors" not in quiet
    assert keys_of(s3, bucket) == []


def test_missing_bucket(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    missing = f"missing-{uuid.uuid4().hex[:12]}"
    calls = [
        (s3.put_object, dict(Bucket=missing, Key="k", Body=b"x")),
        (s3.get_object, dict(Bucket=missing, Key="k")),
        (s3.list_objects_v2, dict(Bucket=missing)),
        (s3.get_object_tagging, dict(Bucket=missing, Key="k")),
        (s3.create_multipart_upload, dict(Bucket=missing, Key="k")),
        (s3.delete_objects, dict(Bucket=missing, Delete={"Objects": [{"Key": "k"}]})),
        (s3.copy_object, dict(Bucket=bucket, Key="k2", CopySource={"Bucket": missing, "Key": "k"})),
    ]
    for call, kwargs in calls:
        assert error_of(call, **kwargs) == ("NoSuchBucket", 404), call
    assert error_of(s3.head_bucket, Bucket=missing) == ("404", 404)
    # A copy INTO a missing bucket: AWS answers 404 NoSuchBucket, SeaweedFS
    # 500 InternalError (one attempt here: standard retries retry a 500).
    once = server.client(config=Config(retries={"max_attempts": 1}))
    assert error_of(once.copy_object, Bucket=missing, Key="k",
                    CopySource={"Bucket": bucket, "Key": "k"}) == ("InternalError", 500)
    # -s3.autoCreateBucket=false: nothing above created the bucket.
    assert error_of(s3.head_bucket, Bucket=missing) == ("404", 404)


SPECIAL_KEYS = [
    "with space.txt", "  leading and trailing  ", "plus+sign", "a+b c+d", "percent%20literal",
    "100%", "%", "%%41", "unicodé/日本語/ファイル.txt", "emoji 😀", "a&b=c?d#e", "x<y>&z",
    "tilde~quote'\"", "semi;colon,comma", "dir/sub dir/x+y%z", "tab\tand\nnewline",
]


@pytest.mark.parametrize("key", SPECIAL_KEYS)
def test_special_keys_round_trip(s3, bucket, key):
    body = key.encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body, Tagging="k=v")
    assert keys_of(s3, bucket) == [key]
    assert keys_of(s3, bucket, Prefix=key) == [key]
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    assert s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"] == [{"Key": "k", "Value": "v"}]
    s3.copy_object(Bucket=bucket, Key=key + ".copy", CopySource={"Bucket": bucket, "Key": key},
                   CopySourceIfMatch=md5_etag(body))
    assert s3.get_object(Bucket=bucket, Key=key + ".copy")["Body"].read() == body
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key},
                                                                  {"Key": key + ".copy"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == [key, key + ".copy"]
    assert keys_of(s3, bucket) == []


def test_backslash_in_key_becomes_slash(s3, bucket):
    # AWS keeps "\" as an ordinary character. SeaweedFS turns it into "/" in
    # the URL path (PUT, GET, DeleteObject) but not in a DeleteObjects body,
    # which then reports the key deleted and leaves the object in place.
    s3.put_object(Bucket=bucket, Key="back\\slash", Body=b"1")
    assert keys_of(s3, bucket) == ["back/slash"]
    assert s3.get_object(Bucket=bucket, Key="back\\slash")["Body"].read() == b"1"
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "back\\slash"}]})
    assert result["Deleted"] == [{"Key": "back\\slash"}]
    assert keys_of(s3, bucket) == ["back/slash"]
    s3.delete_object(Bucket=bucket, Key="back\\slash")
    assert keys_of(s3, bucket) == []
