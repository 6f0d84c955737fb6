"""Never wrong, never silent: what a sync must do when the server or another
writer misbehaves, run on whichever backend the importing module provides
(moto in tests/functional, SeaweedFS in tests/integration). Each backend
says which conditions it honours (DESIGN.md section 7): SeaweedFS honours
every destination condition; moto ignores the per-key ETag of DeleteObjects
and CopyObject's destination conditions (it honours If-None-Match on
CompleteMultipartUpload)."""
from __future__ import annotations

import boto3
import pytest

from bucketsync import report
from bucketsync.local.verify import snapshot
from tests.faults import before_call, normalised_prefixes, s3_metadata_limit

MiB = 1024 * 1024


def run_report(outcome) -> dict:
    return report.read(outcome.report_path.open())


def writer(backend):
    """Another client, outside bucketsync's hooks: the concurrent writer."""
    return backend.client


def test_a_listing_outside_the_prefix_stops_the_run_before_any_write(backend):
    """A server that normalises a leading "/" answers keys outside the prefix
    asked for; stripping len(prefix) characters from them would plan the
    wrong keys (it used to delete an object the source has)."""
    source, destination = backend.buckets()
    backend.put(source, "a/kept", b"source copy")
    backend.put(source, "a/new", b"new")
    backend.put(destination, "a/kept", b"stale at the destination")
    backend.put(destination, "a/extra", b"x")
    before = snapshot(backend.client, destination)
    with normalised_prefixes() if backend.name == "moto" else _nothing():
        outcome = backend.sync({"source": source, "destination": destination, "prefix": "/a/",
                                "max_delete": "100%"})
    assert (outcome.status, outcome.error) == ("FAILED", "ListingPrefixError"), (outcome.error, outcome.cause)
    assert "does not start with that prefix" in outcome.cause and "'/a/'" in outcome.cause
    assert snapshot(backend.client, destination) == before


def test_a_delete_of_an_object_changed_since_planned_is_refused(backend):
    """Run A plans to delete a stale destination key; meanwhile it appears
    at the source and another run copies it. A's delete is conditional on
    the ETag it planned with: the new object survives (on a server that
    honours the condition; the report says when a server does not)."""
    source, destination = backend.buckets()
    backend.put(source, "keep", b"k")
    backend.put(destination, "keep", b"k")
    backend.put(destination, "stale", b"old")
    backend.put(destination, "gone", b"really stale")

    def other_run_copies(params):
        writer(backend).put_object(Bucket=destination, Key="stale", Body=b"copied by another run")

    with before_call("DeleteObjects", other_run_copies) as done:
        outcome = backend.sync({"source": source, "destination": destination, "max_delete": "100%"})
    assert done
    assert outcome.ok, (outcome.error, outcome.cause)
    server = run_report(outcome)["run"]["server"]
    actions = {a["key"]: a for a in run_report(outcome)["actions"]}
    assert actions["gone"]["outcome"] == "deleted"
    if backend.honours_conditional_deletes:
        assert server["conditional_deletes"] == "honoured"
        assert outcome.output["deleted"] == 1 and outcome.output["skipped"] == 1
        assert actions["stale"]["outcome"] == "skipped" and "changed at the destination" in actions["stale"]["reason"]
        body = backend.client.get_object(Bucket=destination, Key="stale")["Body"].read()
        assert body == b"copied by another run"
    else:
        assert server["conditional_deletes"] == "ignored"
        assert any("conditional deletes" in n or "ignores" in n for n in run_report(outcome)["run"]["notes"])


def test_a_copy_never_overwrites_an_object_written_since_planned(backend):
    """Copies of keys planned absent are conditional on their absence
    (If-None-Match: *), so an object another writer created meanwhile stays."""
    source, destination = backend.buckets()
    backend.put(source, "small", b"from the source")
    backend.put_multipart(source, "big", (5 * MiB, 100))

    def other_writer(params):
        writer(backend).put_object(Bucket=destination, Key=params["Key"], Body=b"written meanwhile")

    for operation, key, honoured in (("CompleteMultipartUpload", "big", True),
                                     ("CopyObject", "small", backend.honours_conditional_copies)):
        with before_call(operation, other_writer):
            outcome = backend.sync({"source": source, "destination": destination, "include": [key]})
        assert outcome.ok, (outcome.error, outcome.cause)
        body = backend.client.get_object(Bucket=destination, Key=key)["Body"].read()
        if honoured:
            assert (outcome.output["copied"], outcome.output["skipped"]) == (0, 1), outcome.output
            assert body == b"written meanwhile"
            assert not backend.client.list_multipart_uploads(Bucket=destination).get("Uploads")
        else:
            assert outcome.output["copied"] == 1


def test_user_metadata_near_the_2kb_limit_syncs_and_stays_synced(backend):
    """The stamp must never push user metadata over S3's 2 KB limit: it is
    left out (and the report says so), and later runs do not copy again."""
    source, destination = backend.buckets()
    full = {"note": "x" * 1996}                      # 4 + 1996 = 2,000 bytes
    backend.put_multipart(source, "mp.bin", (5 * MiB, 1000), Metadata=full)
    backend.put(source, "small.txt", b"s", Metadata=full)
    with s3_metadata_limit() as refused:
        first = backend.sync({"source": source, "destination": destination})
        second = backend.sync({"source": source, "destination": destination})
    assert not refused, refused
    assert first.ok and first.output["copied"] == 2, (first.error, first.cause, first.output)
    assert second.ok and (second.output["copied"], second.output["failed"]) == (0, 0), second.output
    head = backend.client.head_object(Bucket=destination, Key="mp.bin")
    assert head["Metadata"] == full
    if not backend.equal_multipart_etags:   # the ETags differ: the stamp would have been needed
        assert any("2 KB" in n for n in run_report(first)["run"]["notes"])


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_source_without_tagging_support(backend):
    """rclone answers GetObjectTagging with 500 forever. On an S3-compatible
    endpoint that means no tagging: copies are made without tags and the
    report says so. On AWS (moto here) tagging always exists, so a 500 is an
    outage and the object fails rather than silently losing its tags."""
    from tests.faults import error_response, injecting
    source, destination = backend.buckets()
    backend.put_multipart(source, "mp.bin", (5 * MiB, 10), Tagging="team=a")

    def no_tagging(request):
        if request.method == "GET" and "?tagging" in request.url:
            return error_response(request.url, 500, "InternalError", "tagging is not supported")
        return None

    with injecting(no_tagging):
        outcome = backend.sync({"source": source, "destination": destination}, retry_seconds=1)
    if backend.endpoint:
        assert outcome.ok and outcome.output["copied"] == 1, (outcome.error, outcome.cause)
        assert run_report(outcome)["run"]["server"]["tagging"] == "unsupported"
        assert any("does not support object tagging" in n for n in run_report(outcome)["run"]["notes"])
    else:
        assert outcome.output["failed"] == 1 and "mp.bin" not in backend.listing(destination)


def test_a_copy_aborts_the_incomplete_upload_an_earlier_run_left_of_its_key(backend):
    """A run killed (or a Lambda timed out) between CreateMultipartUpload and
    its completion leaves an upload that S3 bills until a lifecycle rule
    removes it; the next copy of that key aborts it first. Uploads of other
    keys are not the copy's business."""
    source, destination = backend.buckets()
    backend.put_multipart(source, "big.bin", (5 * MiB, 10))
    left = backend.client.create_multipart_upload(Bucket=destination, Key="big.bin")["UploadId"]
    backend.client.upload_part(Bucket=destination, Key="big.bin", UploadId=left, PartNumber=1, Body=b"x" * 100)
    other = backend.client.create_multipart_upload(Bucket=destination, Key="big.bin.other")["UploadId"]

    outcome = backend.sync({"source": source, "destination": destination})
    assert outcome.ok, (outcome.error, outcome.cause)
    assert outcome.output["copied"] == 1
    uploads = backend.client.list_multipart_uploads(Bucket=destination).get("Uploads", [])
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("big.bin.other", other)]
    assert any("incomplete multipart upload(s) left by an earlier run were aborted" in note
               for note in run_report(outcome)["run"]["notes"])


def test_a_server_that_ignores_copy_source_if_match_is_detected_and_the_copy_stays_consistent(backend):
    """rclone's S3 server ignores CopySourceIfMatch: a source changed after the
    listing is copied anyway. The copier sees the new ETag, says so in the
    report, and copies the source as it is now (never a mix of the two)."""
    source, destination = backend.buckets()
    backend.put(source, "k", b"as listed")

    def ignore_condition_and_change_source(params):
        params.pop("CopySourceIfMatch")   # the server ignores it...
        writer(backend).put_object(Bucket=source, Key="k", Body=b"changed meanwhile, longer")   # ...and it matters

    with before_call("CopyObject", ignore_condition_and_change_source):
        outcome = backend.sync({"source": source, "destination": destination})
    assert outcome.ok, (outcome.error, outcome.cause)
    assert outcome.output["copied"] == 1, [a for a in run_report(outcome)["actions"]]
    assert backend.client.get_object(Bucket=destination, Key="k")["Body"].read() == b"changed meanwhile, longer"
    run = run_report(outcome)["run"]
    assert run["server"].get("copy_source_if_match") == "ignored"
    assert any("ignores CopySourceIfMatch" in note for note in run["notes"])
    assert backend.sync({"source": source, "destination": destination}).output["copied"] == 0
