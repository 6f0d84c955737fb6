"""The CRT transport and boto3 give the same answers and the same typed
errors (issue 19), against three real servers: moto in server mode,
SeaweedFS and `rclone serve s3`.

Each call runs through the boto3 client that bucketsync makes and through
the CrtClient that wraps it, each in buckets of its own holding the same
keys, and every outcome is compared (tests/transports.py says what is left
out: request ids, dates, upload ids, continuation tokens, bucket names).
The calls go through the `bucketsync.s3` functions where they exist, so
the errors compared are the typed ones the copier sees. Agreement alone
could hide two transports failing alike, so each test also asserts what the
server must answer; where a server gets something wrong or does not
implement it, the tables below say so and the test asserts that too.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import uuid

import pytest
from botocore.retries import standard

from bucketsync import s3
from bucketsync.diff import Entry, normalise_etag
from bucketsync.s3 import crt
from tests.servers import SeaweedFS
from tests.transports import differences, equivalent, moto_server, outcome, rclone_server, transport_pair

pytestmark = pytest.mark.integration

KEYS = ("testing", "testing")   # tests/conftest.py's; every server checks them where it can
LONG = "long/"   # the long key's name: S3's longest, 1,024 bytes (with its prefix), in parts a file system takes
ODD_KEYS = ("plain.txt", "with space.txt", "plus+sign", "amp&ersand=1?x", "pct%41", "unicodé/日本語.txt",
            "tab\tkey", "cr\rkey", "a//b/../c", "folder/", "deep/er/key", "zero-bytes", LONG)
METADATA = {"ContentType": "text/plain; charset=utf-8", "CacheControl": "max-age=60",
            "ContentDisposition": 'attachment; filename="x.txt"', "ContentEncoding": "identity",
            "ContentLanguage": "fr", "Expires": "Wed, 21 Oct 2037 07:28:00 GMT",
            "Metadata": {"color": "blue", "mixed-case": "a b  c"}}
TAGS = {"team": "data", "with space": "a+b=c/d:e@f"}   # the characters AWS allows in tags
WRONG_ETAG = '"00000000000000000000000000000000"'
MiB = 1024 * 1024

# What each server does differently from AWS, seen alike through both transports:
# keys it refuses: SeaweedFS answers 400 InvalidRequest to a key with "//" or "..";
# rclone stores keys as file paths and refuses such a key with InvalidArgument.
# moto's server answers 404 to a PUT of a key with a line feed.
REFUSED_KEYS = {"seaweedfs": {"a//b/../c": "InvalidRequest"}, "rclone": {"a//b/../c": "InvalidArgument"},
                "moto": {"lf\nkey": "404"}}
# SeaweedFS keeps a "folder/" key as a directory: no user metadata, no tags.
DIRECTORIES = {"seaweedfs": {"folder/"}}
# rclone has no tags: it answers GET ?tagging with the object itself, which
# botocore and the CRT both read as a 500 (a 200 that is not XML) and retry.
NO_TAGS = {"rclone"}
# Servers that do not check signatures: a wrong secret key goes through.
UNSIGNED = {"moto"}
# Conditions a server ignores: the write goes ahead.
IGNORES_COPY_SOURCE_IF_MATCH = {"moto", "rclone"}   # moto 5.2.5 checks only x-amz-copy-source-if-none-match
IGNORES_DESTINATION_CONDITIONS = {"moto": "copy", "rclone": "copy and complete"}
# Copies of a "folder/" marker: SeaweedFS answers NoSuchKey, rclone InvalidArgument.
COPY_REFUSED = {"seaweedfs": {"folder/": "NoSuchKeyError"}, "rclone": {"folder/": "S3Error"}}
# rclone (a file system) lists a "dir/" marker as "dir".
LISTED_AS = {"rclone": {"list/zz/": "list/zz"}}
# A failed destination condition: SeaweedFS's 412 names no Condition, so it
# stays SourceChangedError (the copier then re-reads the source: s3/calls.py).
DESTINATION_CONDITION_FAILED = {"seaweedfs": "SourceChangedError"}
# DeleteObjects' per-key ETag (s3.probe_conditional_delete's words), and
# DeleteObject's If-Match, which moto honours although it ignores the former.
DELETE_CONDITIONS = {"moto": "ignored", "seaweedfs": "honoured", "rclone": "ignored"}
DELETE_OBJECT_IF_MATCH = {"moto": True, "seaweedfs": True, "rclone": False}
# rclone ignores GetObject's If-Match: it answers the object whatever its ETag.
IGNORES_GET_IF_MATCH = {"rclone"}
# UploadPartCopy answers: AWS (and moto) the part's ETag; SeaweedFS one of
# its own for a large part ("…-2" for 5 MiB: its chunks); rclone takes it for
# an UploadPart of nothing and answers no CopyPartResult (s3.upload_part_copy: KeyError).
PART_COPY = {"moto": "the part's", "seaweedfs": "its own", "rclone": "none"}
# A part sent to an aborted upload: NoSuchUpload; moto answers 500 InternalError.
ABORTED_UPLOAD = {"moto": "TransientError"}


@pytest.fixture(scope="module", params=["moto", "seaweedfs", "rclone"])
def server(request, tmp_path_factory):
    """(name, endpoint) of a server of this module's own, checking KEYS
    where it can (moto checks no signature)."""
    if request.param == "moto":
        with moto_server() as endpoint:
            yield "moto", endpoint
    elif request.param == "seaweedfs":
        with SeaweedFS(access_key=KEYS[0], secret_key=KEYS[1]) as weed:
            yield "seaweedfs", weed.endpoint
    else:
        with rclone_server(tmp_path_factory.mktemp("rclone") / "data", *KEYS) as endpoint:
            yield "rclone", endpoint


class Both:
    """The two transports, each with a bucket (and a second one, for copies
    between buckets) of its own; calling it runs one call through each and
    asserts that the outcomes are equal."""

    def __init__(self, server, monkeypatch):
        self.server, self.endpoint = server
        self.boto, self.crt = transport_pair(self.endpoint, monkeypatch)
        tag = uuid.uuid4().hex[:8]
        self.buckets = (f"eq-{tag}-boto", f"eq-{tag}-crt0")
        self.other = {bucket: f"{bucket}-two" for bucket in self.buckets}
        for bucket in (*self.buckets, *self.other.values()):
            self.boto.create_bucket(Bucket=bucket)

    def __call__(self, what: str, call):
        """`call(client, bucket)` through each; the (equal) Outcome."""
        names = (*self.buckets, *self.other.values())
        by_boto = outcome(lambda: call(self.boto, self.buckets[0]), *names)
        by_crt = outcome(lambda: call(self.crt, self.buckets[1]), *names)
        assert equivalent(by_boto, by_crt), (f"{self.server}: {what}: the transports differ (botocore != CRT):\n"
                                   + "\n".join(differences(by_boto.__dict__, by_crt.__dict__)))
        return by_boto


@pytest.fixture(scope="module")
def both(server):
    """Retries without waits (rclone's tags are retried to the end), then
    the transports and their buckets, for the whole module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
        patch.setattr(crt, "BACKOFF_SECONDS", 0.001)
        yield Both(server, patch)


def key_in(prefix: str, name: str) -> str:
    """`prefix` + `name`; LONG becomes a key of 1,024 bytes in all."""
    if name != LONG:
        return prefix + name
    key = prefix + "/".join(["long" + "k" * 196] * 5)
    return key + "/" + "é" * ((1024 - len(key.encode()) - 1) // 2) + "e" * ((1024 - len(key.encode()) - 1) % 2)


def body_of(key: str) -> bytes:
    return b"" if key in ("zero-bytes", "folder/") else f"content of {key!r}\n".encode() * 3


def md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()


def put(both: Both, key: str, body: bytes | None = None, metadata=None, tags=None):
    body = body_of(key) if body is None else body
    metadata, tags = METADATA if metadata is None else metadata, TAGS if tags is None else tags
    written = both(f"PutObject {key!r}", lambda c, b: s3.put_object(c, b, key, body, metadata, tags,
                                                                     content_md5=md5(body)))
    refused = REFUSED_KEYS.get(both.server, {}).get(key.partition("/")[2])
    if refused:
        assert written.error[2][0]["Code"] == refused, written.error
        return None
    assert written.ok, f"{both.server}: PutObject {key!r}: {written.error}"
    assert normalise_etag(written.answer) == hashlib.md5(body).hexdigest()
    return written.answer


def expect_tags(both: Both, what: str, key: str, tags: dict, empty: bool = False):
    got = both(what, lambda c, b: s3.get_tags(c, b, key))
    if both.server in NO_TAGS and not empty:
        assert got.error[0] == "TransientError", f"{what}: {got}"
        assert got.error[2] == ({"Code": "500", "Message": "Internal Server Error"}, 500)
    elif both.server in NO_TAGS:   # the "tags" of an empty object: its empty body, read as no tags
        assert got.ok and got.answer == {}, f"{what}: {got}"
    else:
        assert got.ok and got.answer == tags, f"{what}: {got}"


def test_objects_their_metadata_and_tags(both):
    for name in ODD_KEYS:
        body, key = body_of(name), key_in("obj/", name)
        etag = put(both, key, body)
        if etag is None:
            continue
        head = both(f"HeadObject {key!r}", lambda c, b: s3.head_object(c, b, key))
        assert head.ok and head.answer["ContentLength"] == len(body)
        directory = name in DIRECTORIES.get(both.server, ())
        if not directory:
            # rclone answers user metadata names capitalised as Go writes
            # header names (Mixed-Case); both transports keep them as answered.
            assert {k.lower(): v for k, v in s3.user_metadata(head.answer).items()} == METADATA["Metadata"]
        assert s3.system_metadata(head.answer)["ContentType"] == METADATA["ContentType"]
        got = both(f"GetObject {key!r}", lambda c, b: s3.get_bytes(c, b, key, etag))
        assert got.ok and got.answer[0] == body
        if body:
            ranged = both(f"GetObject {key!r} bytes 1-3", lambda c, b: s3.get_bytes(c, b, key, etag, 1, 3))
            assert ranged.ok and ranged.answer[0] == body[1:4]
        state = both(f"object_state {key!r}",
                     lambda c, b: s3.object_state(c, b, key, len(body), etag, absent_count_is_zero=True))
        assert state.ok and state.answer[0]["ETag"] == etag
        expect_tags(both, f"GetObjectTagging {key!r}", key, {} if directory else TAGS, empty=not body)
    key = "obj/with space.txt"
    assert both("PutObjectTagging", lambda c, b: s3.put_tags(c, b, key, {"new": "1"})).ok
    if both.server in NO_TAGS:
        # rclone takes PutObjectTagging for a PutObject of the <Tagging>
        # document, and DeleteObjectTagging for a DeleteObject. (It keeps
        # the request's checksum header too: botocore's x-amz-checksum-crc32,
        # where the CRT sent Content-MD5; so only the bytes are compared.)
        got = both("GetObject after a PutObjectTagging", lambda c, b: c.get_object(Bucket=b, Key=key)["Body"].read())
        assert got.answer.startswith(b"<Tagging")
        assert both("DeleteObjectTagging", lambda c, b: s3.put_tags(c, b, key, {})).ok
        assert both("HeadObject after it", lambda c, b: s3.head_object(c, b, key)).error[0] == "NoSuchKeyError"
        return
    expect_tags(both, "GetObjectTagging after a PutObjectTagging", key, {"new": "1"})
    assert both("DeleteObjectTagging", lambda c, b: s3.put_tags(c, b, key, {})).ok
    expect_tags(both, "GetObjectTagging after a DeleteObjectTagging", key, {})


LISTED = ("a/1", "a/2", "a/b/3", "a/b/4", "a+b", "a b", "a%41", "b/é", "b/日本", "c", "d/1.txt", "d.txt",
          "tab\tx", "zz/", LONG)


def test_listings_prefixes_delimiters_and_pages(both):
    keys = sorted(key_in("list/", name) for name in LISTED)
    for key in keys:
        put(both, key, b"x", metadata={}, tags={})
    every = both("list_pages, 2 keys a page", lambda c, b: list(s3.list_pages(c, b, "list/", page_size=2)))
    assert every.ok and len(every.answer) >= len(keys) / 2
    renamed = LISTED_AS.get(both.server, {})
    assert sorted("list/" + entry.key for page in every.answer for entry in page) == sorted(
        renamed.get(key, key) for key in keys)
    assert all(isinstance(entry, Entry) for page in every.answer for entry in page)
    after = both("list_pages after a key, under a deeper prefix",
                 lambda c, b: list(s3.list_pages(c, b, "list/a/", start_after="1", page_size=1)))
    assert [entry.key for page in after.answer for entry in page] == ["2", "b/3", "b/4"]
    assert both("list_folders", lambda c, b: sorted(s3.list_folders(c, b, "list/"))).answer == [
        "a", "b", "d", "long" + "k" * 196, *(() if "list/zz/" in renamed else ("zz",))]
    assert both("any_key", lambda c, b: s3.any_key(c, b, "list/a+")).answer is True
    assert both("any_key of nothing", lambda c, b: s3.any_key(c, b, "list/none")).answer is False
    for kwargs in ({"Delimiter": "/"}, {"Delimiter": "/", "EncodingType": "url"}, {"StartAfter": "list/a/b/3"}):
        tokens: dict = {}   # bucket -> its next page's token

        def page(c, b):
            token = {"ContinuationToken": tokens[b]} if tokens.get(b) else {}
            answer = c.list_objects_v2(Bucket=b, Prefix="list/", MaxKeys=3, **kwargs, **token)
            tokens[b] = answer.get("NextContinuationToken")
            return answer

        pages = [both(f"ListObjectsV2 {kwargs}, page 1", page)]   # the raw answers: Contents, CommonPrefixes ...
        while pages[-1].answer.get("IsTruncated"):
            pages.append(both(f"ListObjectsV2 {kwargs}, page {len(pages) + 1}", page))
        assert len(pages) > 1 and all(tokens.get(b) is None for b in both.buckets)


COPIED = ("with space.txt", "plus+sign", "amp&ersand=1?x", "pct%41", "unicodé/日本語.txt", "tab\tkey", "cr\rkey",
          "folder/", LONG)


def test_copies_their_conditions_and_metadata(both):
    for name in COPIED:
        key = key_in("copy/", name)
        etag = put(both, key, body_of(name))
        other = lambda b: both.other[b]   # noqa: E731  (the transport's second bucket)
        copied = both(f"CopyObject {key!r}", lambda c, b: s3.copy_object(c, b, key, other(b), key, etag))
        refused = COPY_REFUSED.get(both.server, {}).get(name)
        if refused:
            assert copied.error[0] == refused
            continue
        assert copied.ok and normalise_etag(copied.answer) == normalise_etag(etag)
        head = both(f"HeadObject of the copy of {key!r}", lambda c, b: s3.head_object(c, other(b), key))
        assert head.ok and normalise_etag(head.answer["ETag"]) == normalise_etag(copied.answer)
    key = key_in("copy/", "with space.txt")
    source = both("HeadObject of the source", lambda c, b: s3.head_object(c, b, key)).answer
    written, stamped = s3.written_metadata(source, source["ETag"])
    assert stamped
    replaced = both("CopyObject, metadata replaced and stamped", lambda c, b: s3.copy_object(
        c, b, key, both.other[b], "copy/stamped", source["ETag"], metadata=written))
    assert replaced.ok
    head = both("HeadObject of it", lambda c, b: s3.head_object(c, both.other[b], "copy/stamped")).answer
    # (rclone capitalises the names, Bucketsync-Source-Etag, and adds its Mtime.)
    assert {k.lower(): v for k, v in head["Metadata"].items() if k != "Mtime"} == {
        **METADATA["Metadata"], s3.STAMP: source["ETag"]}
    assert s3.system_metadata(head) == s3.system_metadata(source)

    stale = both("CopyObject, the source's ETag no longer as planned",
                 lambda c, b: s3.copy_object(c, b, key, b, "copy/stale", WRONG_ETAG))
    if both.server in IGNORES_COPY_SOURCE_IF_MATCH:   # the copy is made whatever the source's ETag
        assert stale.ok
    else:
        assert stale.error[0] == "SourceChangedError"
    missing = both("CopyObject of a missing source", lambda c, b: s3.copy_object(c, b, "copy/none", b, "copy/x", etag))
    assert missing.error[0] == "NoSuchKeyError"
    for condition in ({"IfNoneMatch": "*"}, {"IfMatch": WRONG_ETAG}):
        onto = both(f"CopyObject onto an existing key, {condition}", lambda c, b: s3.copy_object(
            c, b, key, b, key_in("copy/", "plus+sign"), source["ETag"], dst_condition=condition))
        if "copy" in IGNORES_DESTINATION_CONDITIONS.get(both.server, ""):
            assert onto.ok
        else:
            assert onto.error[0] == DESTINATION_CONDITION_FAILED.get(both.server, "DestinationChangedError")


def test_multipart_uploads_and_part_copies(both):
    key, copy_key = "mp/key+é 1", "mp/copy+é 2"
    parts = [bytes([1]) * 5 * MiB, b"tail" * 256]
    ids = {}   # (bucket, key) -> its upload id, which differs between the transports' calls

    def create(c, b, name=key, metadata=METADATA, tags=TAGS):
        ids[b, name] = s3.create_multipart(c, b, name, metadata, tags)
        return bool(ids[b, name])

    assert both("CreateMultipartUpload", create).answer is True
    etags = [both(f"UploadPart {n}", lambda c, b: s3.upload_part(c, b, key, ids[b, key], n, body, md5(body))).answer
             for n, body in enumerate(parts, start=1)]
    done = both("CompleteMultipartUpload", lambda c, b: s3.complete_multipart(c, b, key, ids[b, key], etags))
    assert done.ok
    if both.server == "moto":   # AWS's multipart ETag; SeaweedFS and rclone have their own
        assert done.answer == s3.multipart_etag(etags)
    head = both("HeadObject of part 1", lambda c, b: s3.head_object(c, b, key, part_number=1))
    assert head.ok
    expect_tags(both, "GetObjectTagging of a multipart object", key, TAGS)

    both("CreateMultipartUpload for the part copies", lambda c, b: create(c, b, copy_key, {}, {}))
    ranges = [(0, 5 * MiB - 1), (5 * MiB, 5 * MiB + len(parts[1]) - 1)]
    copied = [both(f"UploadPartCopy {n}", lambda c, b: s3.upload_part_copy(
        c, b, key, b, copy_key, ids[b, copy_key], n, first, last, done.answer)).answer
        for n, (first, last) in enumerate(ranges, start=1)]
    if PART_COPY[both.server] == "none":
        assert copied == [None, None]
        assert both("the part copy again", lambda c, b: s3.upload_part_copy(
            c, b, key, b, copy_key, ids[b, copy_key], 1, 0, 9, done.answer)).error[0] == "KeyError"
    else:
        if PART_COPY[both.server] == "the part's":
            assert [normalise_etag(e) for e in copied] == [normalise_etag(e) for e in etags]
        finished = both("CompleteMultipartUpload, if the key is still absent", lambda c, b: s3.complete_multipart(
            c, b, copy_key, ids[b, copy_key], copied, dst_condition={"IfNoneMatch": "*"}))
        assert finished.ok
        got = both("GetObject of the copy", lambda c, b: s3.get_bytes(c, b, copy_key, finished.answer))
        assert got.ok and got.answer[0] == b"".join(parts)

    both("CreateMultipartUpload again", lambda c, b: create(c, b, copy_key, {}, {}))
    etag = both("UploadPart", lambda c, b: s3.upload_part(c, b, copy_key, ids[b, copy_key], 1, b"x", md5(b"x"))).answer
    again = both("CompleteMultipartUpload onto the existing key, if absent", lambda c, b: s3.complete_multipart(
        c, b, copy_key, ids[b, copy_key], [etag], dst_condition={"IfNoneMatch": "*"}))
    if "complete" in IGNORES_DESTINATION_CONDITIONS.get(both.server, ""):
        assert again.ok
    else:   # every 412 of a CompleteMultipartUpload is the destination's
        assert again.error[0] == "DestinationChangedError"
    both("CreateMultipartUpload to abort", lambda c, b: create(c, b, "mp/aborted", {}, {}))
    assert both("AbortMultipartUpload", lambda c, b: s3.abort_multipart(c, b, "mp/aborted", ids[b, "mp/aborted"])).ok
    gone = both("UploadPart to the aborted upload", lambda c, b: s3.upload_part(
        c, b, "mp/aborted", ids[b, "mp/aborted"], 1, b"x", md5(b"x")))
    if both.server in ABORTED_UPLOAD:
        assert gone.error[0] == ABORTED_UPLOAD[both.server]
    else:
        assert gone.error[0] == "S3Error" and gone.error[2][0]["Code"] == "NoSuchUpload"


def test_deletes_one_by_one_and_in_batches(both):
    names = ("plain", "with space", "plus+sign", "amp&ersand", "lt<gt>", "quote\"'", "tab\tkey", "cr\rkey", "lf\nkey",
             "unicodé 日本", LONG)
    keys = [key_in("del/", name) for name in names]
    etags = {key: etag for key in keys if (etag := put(both, key, b"x", metadata={}, tags={}))}
    keys = list(etags)
    refused = both("DeleteObjects, a wrong ETag each", lambda c, b: s3.delete_objects(c, b, [(k, WRONG_ETAG) for k in keys]))
    listed = both("listing", lambda c, b: sorted(e.key for p in s3.list_pages(c, b, "del/") for e in p)).answer
    if DELETE_CONDITIONS[both.server] == "honoured":
        assert sorted(key for key, _, _ in refused.answer) == sorted(keys) and len(listed) == len(keys)
    else:   # deleted whatever their ETag: put them back
        assert refused.answer == [] and listed == []
        etags = {key: put(both, key, b"x", metadata={}, tags={}) for key in keys}
        assert None not in etags.values()
    assert both("probe_conditional_delete", lambda c, b: s3.probe_conditional_delete(
        c, b, "del/probe " + uuid.uuid4().hex)).answer == DELETE_CONDITIONS[both.server]
    assert all(s3.xml_safe(key) for key in keys)
    deleted = both("DeleteObjects, the right ETags", lambda c, b: s3.delete_objects(c, b, list(etags.items())))
    assert deleted.ok and deleted.answer == []
    assert both("listing after", lambda c, b: list(s3.list_pages(c, b, "del/"))).answer == [[]]
    one = key_in("del/", "one by one+é")
    put(both, one, b"x", metadata={}, tags={})
    wrong = both("DeleteObject, a wrong ETag", lambda c, b: s3.delete_object(c, b, one, WRONG_ETAG))
    assert wrong.ok and (wrong.answer is not None) == DELETE_OBJECT_IF_MATCH[both.server]
    assert both("DeleteObject, unconditional", lambda c, b: s3.delete_object(c, b, one, None)).answer is None
    assert both("DeleteObject of a missing key", lambda c, b: s3.delete_object(c, b, one, None)).answer is None


def test_errors_of_missing_keys_buckets_and_stale_etags(both):
    key = "err/x+é"
    etag = put(both, key, b"abc", metadata={}, tags={})
    for what, call in (("HeadObject", lambda c, b: s3.head_object(c, b, "err/none")),
                       ("GetObject", lambda c, b: s3.get_bytes(c, b, "err/none", etag)),
                       ("CopyObject", lambda c, b: s3.copy_object(c, b, "err/none", b, "err/y", etag))):
        assert both(f"{what} of a missing key", call).error[0] == "NoSuchKeyError"
    if both.server not in NO_TAGS:
        assert both("GetObjectTagging of a missing key", lambda c, b: s3.get_tags(c, b, "err/none")).error[0] == "NoSuchKeyError"
    assert both("ListObjectsV2 of a missing bucket", lambda c, b: list(s3.list_pages(c, b + "-none", ""))
                ).error[0] == "NoSuchBucketError"
    assert both("HeadObject in a missing bucket", lambda c, b: s3.head_object(c, b + "-none", key)
                ).error[0] == "NoSuchKeyError"   # a HEAD's 404 has no body to name the bucket
    stale = [both("GetObject, a stale ETag", lambda c, b: s3.get_bytes(c, b, key, WRONG_ETAG)),
             both("object_state, a stale ETag", lambda c, b: s3.object_state(c, b, key, 3, WRONG_ETAG, True))]
    if both.server in IGNORES_GET_IF_MATCH:
        assert all(outcome.ok for outcome in stale)
    else:
        assert [outcome.error[0] for outcome in stale] == ["SourceChangedError"] * 2


def test_refused_credentials(both, monkeypatch):
    """A wrong secret key: 403 SignatureDoesNotMatch on servers that check
    (a CredentialsError; a HEAD's 403 has no body: AccessDeniedError)."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    wrong = copy.copy(both)
    wrong.boto, wrong.crt = transport_pair(both.endpoint, monkeypatch)
    listed = wrong("ListObjectsV2", lambda c, b: list(s3.list_pages(c, b, "")))
    head = wrong("HeadObject", lambda c, b: s3.head_object(c, b, "err/x+é"))
    if both.server in UNSIGNED:
        assert listed.ok and head.ok
    else:
        assert listed.error[0] == "CredentialsError" and head.error[0] == "AccessDeniedError"
