"""Notifications: who gets a message, and what it says."""
import boto3
import pytest
from moto import mock_aws

from bucketsync import clients, notify
from bucketsync.sync_request import validate
from bucketsync.work import Run

OK = {"copied": 3, "deleted": 1, "unchanged": 5, "failed": 0, "skipped": 0, "bytes_copied": 30, "dry_run": False,
      "report": "s3://work/runs/r1/report.json", "run_id": "r1", "source": "s3://a-bucket/", "destination": "s3://b-bucket/"}


@pytest.fixture
def topic(monkeypatch):
    with mock_aws():
        clients.reset()
        sns = boto3.client("sns", region_name="eu-west-1")
        arn = sns.create_topic(Name="t")["TopicArn"]
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="work-bucket")
        monkeypatch.setenv("BUCKETSYNC_SNS_TOPIC_ARN", arn)
        monkeypatch.setenv("BUCKETSYNC_NOTIFY_ON", "all")
        monkeypatch.delenv("BUCKETSYNC_NOTIFY_AFTER_IDLE_RUNS", raising=False)
        from moto.sns.models import sns_backends
        yield sns_backends["123456789012"]["eu-west-1"].topics[arn]
        clients.reset()


def run():
    return Run("r1", validate({"source": "a-bucket", "destination": "b-bucket"}), None, None, "work-bucket",
               "runs/r1/", "2026-11-22T08:00:00Z")


def test_success_message(topic):
    assert notify.notify(OK, run())
    subject, body = topic.sent_notifications[-1][2], topic.sent_notifications[-1][1]
    assert subject == "bucketsync SUCCEEDED: s3://a-bucket/ -> s3://b-bucket/"
    assert "copied: 3" in body and "bytes_copied: 30" in body and "duration:" in body and "report: s3://work" in body


def test_failure_message_has_error_and_cause(topic, monkeypatch):
    monkeypatch.setenv("BUCKETSYNC_NOTIFY_ON", "failure")
    assert not notify.notify(OK, run())
    assert notify.notify(dict(OK, failed=1, failed_keys=["bad.txt"]), run())
    assert notify.notify({"failed": 0}, None, {"Error": "DeleteGuardError", "Cause": "too many deletes"})
    bodies = [n[1] for n in topic.sent_notifications]
    assert len(bodies) == 2 and "failed keys: bad.txt" in bodies[0]
    assert "error: DeleteGuardError" in bodies[1] and "cause: too many deletes" in bodies[1]


def test_idle_runs(topic, monkeypatch):
    monkeypatch.setenv("BUCKETSYNC_NOTIFY_ON", "failure")
    monkeypatch.setenv("BUCKETSYNC_NOTIFY_AFTER_IDLE_RUNS", "2")
    idle = dict(OK, copied=0)
    assert not notify.notify(idle, run())
    assert notify.notify(idle, run())
    assert not notify.notify(OK, run()), "a run that copied resets the count"
    assert "nothing was copied for 2 runs in a row" in topic.sent_notifications[-1][1]


def test_no_topic_no_message(monkeypatch):
    monkeypatch.delenv("BUCKETSYNC_SNS_TOPIC_ARN", raising=False)
    assert notify.notify(OK, None) is False
