"""Streamed copies on moto: a side with its own credentials (a Secrets
Manager secret) cannot be joined by one server-side request, so objects are
read and written through the engine. Integrity and secret handling."""
import json
from collections import Counter

import boto3
import pytest

from bucketsync import s3
from bucketsync.local import cli
from bucketsync.local.verify import differences, snapshot
from tests.backends import moto_backend
from tests.faults import hooked

MiB = 1024 * 1024


@pytest.fixture
def backend(report_dir):
    with moto_backend(report_dir) as b:
        boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="other-account", SecretString=json.dumps({"aws_access_key_id": "AKIAOTHER",
                                                           "aws_secret_access_key": "other-secret"}))
        yield b


def streamed_input(source, destination, **more):
    return dict(more, source=source, destination=destination, source_endpoint={"secret": "other-account"})


def test_objects_stream_with_content_md5_and_a_second_run_copies_nothing(backend):
    source, destination = backend.buckets()
    backend.put(source, "small.txt", b"hello", ContentType="text/plain", Metadata={"a": "1"}, Tagging="t=1")
    backend.put_multipart(source, "mp.bin", (5 * MiB, 5 * MiB, 100), ContentType="video/mp4")
    backend.put(source, "big.bin", b"z" * (6 * MiB))
    backend.put(source, "empty", b"")
    calls, md5s = Counter(), []

    def count(model, params, **_):
        if params.get("Bucket") in (source, destination):
            calls[model.name] += 1
            if model.name in ("PutObject", "UploadPart"):
                md5s.append(params.get("ContentMD5"))

    with hooked("before-parameter-build.s3", count):
        first = backend.sync(streamed_input(source, destination), part_size=5 * MiB)
    assert first.ok and first.output["copied"] == 4, (first.error, first.cause)
    assert calls["CopyObject"] == calls["UploadPartCopy"] == 0, "nothing server-side across credentials"
    assert calls["UploadPart"] == 3 + 2, "mp.bin in its own 3 parts, big.bin in 5 MiB parts"
    assert md5s and all(md5s), "every upload carries Content-MD5"
    assert differences(snapshot(backend.client, source), snapshot(backend.client, destination)) == []
    assert backend.listing(source)["mp.bin"] == backend.listing(destination)["mp.bin"], \
        "the source's part layout kept: the same ETag"
    second = backend.sync(streamed_input(source, destination), part_size=5 * MiB)
    assert second.ok and (second.output["copied"], second.output["deleted"]) == (0, 0)
    # big.bin's ETag cannot match (one part at the source, two here): proven
    # the same by its stamp, one HEAD.
    assert second.output["checked"] == 1, second.output


def test_bytes_that_do_not_hash_to_the_source_etag_are_never_written(backend, monkeypatch):
    """A read corrupted on the way (simulated) fails the object; nothing is
    written, the other objects are copied, and no delete runs."""
    source, destination = backend.buckets()
    backend.put(source, "good.txt", b"good")
    backend.put(source, "bad.txt", b"original bytes")
    backend.put(destination, "extra.txt", b"would be deleted")
    real = s3.get_bytes

    def corrupting(client, bucket, key, *args, **kwargs):
        data, answer = real(client, bucket, key, *args, **kwargs)
        return (data.replace(b"original", b"0riginal") if key == "bad.txt" else data), answer
    monkeypatch.setattr(s3, "get_bytes", corrupting)
    outcome = backend.sync(streamed_input(source, destination), retry_seconds=1)
    assert outcome.output["failed_keys"] == ["bad.txt"] and outcome.output["copied"] == 1
    assert outcome.output["deleted"] == 0
    assert set(backend.listing(destination)) == {"good.txt", "extra.txt"}


@pytest.mark.parametrize("endpoint,message", [
    ({"secret": "no-such-secret"}, "cannot read secret 'no-such-secret': no such secret"),
    ({"url": "ftp://x"}, "'source_endpoint.url' must be an http(s) URL"),
    ({"url": "https://key:secret@s3.example.com"}, "must not carry credentials"),
    ({"secret": "other-account", "profile": "p"}, "unknown key(s) 'profile'"),
])
def test_bad_endpoints_fail_in_one_line_before_anything_is_written(backend, endpoint, message, capsys):
    source, destination = backend.buckets()
    backend.put(source, "a", b"a")
    status = cli.sync(cli.SyncOptions(input=json.dumps({"source": source, "destination": destination,
                                                        "source_endpoint": endpoint})), embedded=True)
    err = capsys.readouterr().err.strip().splitlines()
    assert status != 0 and len(err) == 1 and message in err[0], err
    assert backend.listing(destination) == {}


def test_a_secret_outside_the_stacks_list_is_refused_by_name(backend, monkeypatch, capsys):
    monkeypatch.setenv("BUCKETSYNC_ENDPOINT_SECRETS", "arn:aws:secretsmanager:us-east-1:123456789012:secret:allowed-AbCdEf")
    source, destination = backend.buckets()
    outcome = backend.sync(streamed_input(source, destination))
    assert outcome.error == "InvalidInputError" and "ENDPOINT_SECRETS" in outcome.cause
