"""The event mirror (bucketsync.mirror) on moto: reconciling each named key
makes duplicated, delayed and reordered events harmless; a key that always
fails ends in the dead-letter queue; `fab mirror-replay` runs it locally."""
import io
import json
import random

import boto3
import pytest

from bucketsync import mirror, settings
from bucketsync.local import direct, environment, handlers
from bucketsync.local.verify import differences, snapshot
from bucketsync.project.frontmatter import FUNCTIONS_DIR
from tests.backends import moto_backend
from tests.faults import always_fail

MiB = 1024 * 1024


@pytest.fixture
def backend(report_dir):
    with moto_backend(report_dir) as b:
        yield b


def event(kind, bucket, key, time="2026-11-23T10:00:00Z"):
    return {"version": "0", "id": f"{kind}-{key}-{random.random()}", "source": "aws.s3",
            "detail-type": {"created": "Object Created", "deleted": "Object Deleted"}[kind],
            "time": time, "region": "us-east-1", "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {"version": "0", "bucket": {"name": bucket}, "object": {"key": key}}}


def replay(tmp_path, events, source, destination, *more, lines=False, **options):
    path = tmp_path / f"events-{random.random()}.json"
    path.write_text("\n".join(json.dumps(e) for e in events) if lines else json.dumps(events))
    out, err = io.StringIO(), io.StringIO()
    status = direct.mirror_replay(str(path), source, destination, *more, as_json=True, out=out, err=err, **options)
    return status, json.loads(out.getvalue().strip().splitlines()[-1]), err.getvalue()


def test_duplicated_reordered_and_early_deletes_end_with_the_destination_equal(backend, tmp_path):
    source, destination = backend.buckets()
    backend.put(source, "a.txt", b"version 1", ContentType="text/plain", Metadata={"v": "1"}, Tagging="t=1")
    backend.put(source, "b.txt", b"b")
    backend.put(source, "c.txt", b"created after a delete event")
    backend.put_multipart(source, "big.bin", (5 * MiB, 10))
    backend.put(destination, "gone.txt", b"deleted at the source long ago")
    first = [event("created", source, "a.txt"), event("created", source, "b.txt"),
             event("deleted", source, "c.txt"), event("created", source, "big.bin"),
             event("deleted", source, "gone.txt")]
    status, summary, err = replay(tmp_path, first + first[::-1], source, destination)
    assert status == 0, err
    assert summary == {"copied": 4, "deleted": 1, "unchanged": 0, "failed": 0, "ignored": 0, "failures": []}

    # Overwrite a, delete b; the old events come again, late and out of order.
    # (Tagged: moto keeps an overwritten key's old tags through a CopyObject
    # of an untagged source, which AWS does not.)
    backend.put(source, "a.txt", b"version 2!", ContentType="text/csv", Metadata={"v": "2"}, Tagging="t=2")
    backend.client.delete_object(Bucket=source, Key="b.txt")
    late = [event("created", source, "b.txt"), event("created", source, "a.txt"), event("deleted", source, "b.txt"),
            event("created", source, "a.txt"), event("created", source, "c.txt")]
    status, summary, _ = replay(tmp_path, late, source, destination, lines=True)
    assert status == 0
    assert (summary["copied"], summary["deleted"], summary["unchanged"]) == (1, 1, 1)
    assert differences(snapshot(backend.client, source), snapshot(backend.client, destination)) == []

    # Everything again: nothing left to do.
    status, summary, _ = replay(tmp_path, first + late, source, destination)
    assert (summary["copied"], summary["deleted"], summary["failed"]) == (0, 0, 0)


def test_prefix_filters_and_url_encoded_keys(backend, tmp_path):
    source, destination = backend.buckets()
    backend.put(source, "in/a b.txt", b"space")
    backend.put(source, "in/c+d.txt", b"plus")
    backend.put(source, "out/x.txt", b"out of scope")
    events = [event("created", source, "in/a+b.txt"),   # S3's notification encoding of "in/a b.txt"
              event("created", source, "in/c+d.txt"), event("created", source, "out/x.txt"),
              event("created", "another-bucket", "in/a b.txt")]
    status, summary, _ = replay(tmp_path, events, source, destination, "in/")
    assert status == 0
    assert summary["copied"] == 2 and summary["ignored"] == 2 and summary["failed"] == 0
    assert set(backend.listing(destination)) == {"in/a b.txt", "in/c+d.txt"}


def test_replay_errors_are_one_line(backend, tmp_path):
    source, destination = backend.buckets()
    bad = tmp_path / "bad.json"
    bad.write_text("[{not json")
    for path, message in ((tmp_path / "missing.json", "cannot read the file"), (bad, "not a JSON array")):
        out, err = io.StringIO(), io.StringIO()
        status = direct.mirror_replay(str(path), source, destination, as_json=True, out=out, err=err)
        assert status == 2 and len(err.getvalue().strip().splitlines()) == 1 and message in err.getvalue()
        assert json.loads(out.getvalue().strip().splitlines()[-1])["copied"] == 0
    status, summary, err = replay(tmp_path, [{"source": "aws.ec2", "detail-type": "x"}], source, destination)
    assert status == 1 and summary["failed"] == 1 and "not an S3 object event" in err


def test_a_key_that_always_fails_goes_to_the_dead_letter_queue_and_the_lag_is_a_metric(backend, capsys):
    """The SQS event source mapping as Lambda runs it: batches of up to 10,
    failed messages (partial batch response) come back until maxReceiveCount,
    then the queue moves them to its dead-letter queue."""
    source, destination = backend.buckets()
    for key in ("ok-1.txt", "ok-2.txt", "refused.txt"):
        backend.put(source, key, key.encode())
    sqs = boto3.client("sqs", region_name="us-east-1")
    dlq = sqs.create_queue(QueueName="mirror-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(QueueName="mirror", Attributes={
        "VisibilityTimeout": "0", "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})})["QueueUrl"]
    for key in ("ok-1.txt", "refused.txt", "ok-2.txt", "ok-1.txt"):
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(event("created", source, key, "2026-11-23T00:00:00Z")))
    spec = mirror.check_mirror({"name": "m", "source": source, "destination": destination})
    handler = handlers.load_handler(FUNCTIONS_DIR / "mirror_keys.py")
    invocations = []
    with environment.environment({mirror.MIRRORS_VARIABLE: json.dumps([spec.to_dict()]),
                              "BUCKETSYNC_RETRY_SECONDS": "1"}), always_fail("refused.txt"):
        for _ in range(10):
            batch = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                break
            records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                        "eventSource": "aws:sqs"} for m in batch]
            response = handler({"Records": records}, None)
            invocations.append(response)
            failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
            for m in batch:
                if m["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"])["detail"]["object"]["key"] for m in dead] == ["refused.txt"]
    assert set(backend.listing(destination)) == {"ok-1.txt", "ok-2.txt"}
    assert len(invocations) >= 3, "the failing message was retried before it was dead-lettered"
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert metrics and all(m["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "bucketsync" for m in metrics)
    assert {m["Mirror"] for m in metrics} == {"m"} and all(m["MirrorLagSeconds"] > 0 for m in metrics)
    assert {d["Name"] for m in metrics for d in m["_aws"]["CloudWatchMetrics"][0]["Metrics"]} == {"MirrorLagSeconds"}


def test_a_malformed_message_fails_alone():
    response = mirror.handle_sqs({"Records": [{"messageId": "m1", "body": "not json"},
                                              {"messageId": "m2", "body": json.dumps(event("created", "b", "k"))}]},
                                 [], settings.load())
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}


def test_a_mirror_with_delete_off_keeps_destination_extras(backend, tmp_path):
    source, destination = backend.buckets()
    backend.put(destination, "kept.txt", b"only at the destination")
    spec = mirror.check_mirror({"name": "keep", "source": source, "destination": destination, "delete": False})
    tally, failed = mirror.handle([("e1", event("deleted", source, "kept.txt"))], [spec], settings.load())
    assert (tally.deleted, tally.unchanged, failed) == (0, 1, [])
    assert set(backend.listing(destination)) == {"kept.txt"}


def test_a_mirror_of_another_regions_bucket_is_refused_at_deploy_before_anything_is_created(monkeypatch):
    """An EventBridge rule sees only its own region's S3 events: a mirror of
    a bucket elsewhere would never fire. `fab deploy` refuses it in one line
    naming the rule, having created nothing."""
    from moto import mock_aws

    from bucketsync.deploy import region_checks, stack
    from bucketsync.project import config as config_mod
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    with mock_aws():
        for bucket, region in (("far-photos", "us-west-2"), ("near-photos", "eu-west-1")):
            boto3.client("s3", region_name=region).create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        near = {"name": "near", "source": "near-photos", "destination": "dst-bucket"}
        settings = {"region": "eu-west-1", "source_buckets": ["far-photos", "near-photos", "gone-photos"],
                    "destination_buckets": ["dst-bucket"], "mirrors": [near]}
        session = boto3.Session(region_name="eu-west-1")
        region_checks.check_mirror_regions(session.client("s3"), config_mod.check(settings))   # same region: fine
        far = config_mod.check(dict(settings, mirrors=[near, dict(near, name="far-photos", source="far-photos")]))
        with pytest.raises(config_mod.ConfigError) as caught:
            stack.deploy(session, far, out=lambda _: None)
        message = str(caught.value)
        assert "MirrorRuleFarPhotos" in message and "'far-photos' is in us-west-2, not in REGION eu-west-1" in message
        assert "never fire" in message and "\n" not in message
        assert sorted(b["Name"] for b in session.client("s3").list_buckets()["Buckets"]) == ["far-photos",
                                                                                            "near-photos"]
        gone = config_mod.check(dict(settings, mirrors=[dict(near, name="gone", source="gone-photos")]))
        with pytest.raises(config_mod.ConfigError, match="MirrorRuleGone.*'gone-photos' does not exist"):
            region_checks.check_mirror_regions(session.client("s3"), gone)


def test_replay_reaches_each_side_with_its_own_profile(backend, tmp_path, monkeypatch):
    """--source-profile/--destination-profile as for `fab sync`: every request
    to a side is signed with its profile's keys (two key sets on moto)."""
    from tests.faults import hooked
    config = tmp_path / "config"
    config.write_text("[profile src-keys]\naws_access_key_id = AKIASOURCE\naws_secret_access_key = s\n"
                      "[profile dst-keys]\naws_access_key_id = AKIADESTINATION\naws_secret_access_key = d\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    source, destination = backend.buckets()
    backend.put(source, "a.txt", b"a")
    backend.put(destination, "gone.txt", b"deleted at the source")
    signed = []

    def record(request, request_signer, operation_name, **_):
        key = request_signer._credentials.get_frozen_credentials().access_key
        signed.append((operation_name, request.url, key))
    with hooked("before-sign.s3", record):
        status, summary, err = replay(tmp_path, [event("created", source, "a.txt"), event("deleted", source, "gone.txt")],
                                      source, destination, source_profile="src-keys",
                                      destination_profile="dst-keys")
    assert status == 0, err
    assert (summary["copied"], summary["deleted"]) == (1, 1)
    assert set(backend.listing(destination)) == {"a.txt"}
    keys = {side: {key for _, url, key in signed if bucket in url} for side, bucket in
            (("source", source), ("destination", destination))}
    assert keys == {"source": {"AKIASOURCE"}, "destination": {"AKIADESTINATION"}}, signed
    status, summary, err = replay(tmp_path, [], source, destination, source_profile="nope")
    assert status == 2 and "profile 'nope'" in err
