"""The DataSync notifier's messages: SUCCESS, ERROR without an error code,
a SUCCESS that transferred nothing, and events with fields missing."""
import pytest

from bucketsync.datasync import execution_events

EXECUTION = "arn:aws:datasync:eu-central-1:123456789012:task/task-0806c70094b09457b/execution/exec-0fcddf3728817690d"


def event(state):
    # As EventBridge delivers it: the execution ARN in resources, the state in detail, no counts.
    return {"version": "0", "detail-type": "DataSync Task Execution State Change", "source": "aws.datasync",
            "resources": [EXECUTION], "detail": {"State": state}}


class Recorder:
    def __init__(self, described=None, fails=False):
        self.described, self.fails, self.published = described, fails, []

    def describe_task_execution(self, TaskExecutionArn):
        if self.fails:
            raise RuntimeError("AccessDenied")
        return self.described

    def publish(self, **kwargs):
        self.published.append(kwargs)


def send(state, described, **kwargs):
    service = Recorder(described, fails=described is None)
    sent = execution_events.handle(event(state), service, service, topic="arn:aws:sns:eu-central-1:123456789012:t", **kwargs)
    return sent, service.published


def test_success_names_the_task_and_counts():
    sent, published = send("SUCCESS", {"Status": "SUCCESS", "StartTime": "2026-11-22T01:00:00Z",
                                       "EndTime": "2026-11-22T01:02:05Z", "FilesTransferred": 12,
                                       "BytesTransferred": 3456,
                                       "Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/2026-11-21/*"}]})
    assert sent
    body = published[0]["Message"]
    assert published[0]["Subject"] == "DataSync SUCCESS: task-0806c70094b09457b"
    for line in ("files transferred: 12", "bytes transferred: 3456", "duration: 125 s",
                 "start time: 2026-11-22T01:00:00+00:00", "include filter: /2026-11-21/*"):
        assert line in body
    assert "error" not in body


def test_error_without_an_error_code_is_told_as_absent():
    sent, published = send("ERROR", {"Status": "ERROR", "Result": {"ErrorDetail": "Unable to connect"}})
    assert sent
    body = published[0]["Message"]
    assert body.startswith("DataSync task arn:aws:datasync:eu-central-1:123456789012:task/task-0806c70094b09457b: ERROR")
    assert "error code: (absent)" in body and "error detail: Unable to connect" in body
    assert "start time: (absent)" in body and "files transferred: (absent)" in body


def test_an_event_whose_execution_cannot_be_described_still_goes_out():
    sent, published = send("ERROR", None)
    assert sent and "error code: (absent)" in published[0]["Message"]


EMPTY_DATED = {"FilesTransferred": 0, "BytesTransferred": 0,
               "Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/2026-11-21/*"}]}


@pytest.mark.parametrize("alert, subject", [(True, "DataSync SUCCESS, NOTHING TRANSFERRED"), (False, "DataSync SUCCESS:")])
def test_a_success_that_transferred_nothing(alert, subject):
    sent, published = send("SUCCESS", dict(EMPTY_DATED, Status="SUCCESS"), alert_empty=alert)
    assert sent and published[0]["Subject"].startswith(subject)
    assert ("transferred nothing" in published[0]["Message"]) is alert


def test_other_states_send_nothing():
    sent, published = send("TRANSFERRING", {"Status": "TRANSFERRING"})
    assert not sent and published == []


def test_notify_on_failure_keeps_quiet_about_successes(monkeypatch):
    monkeypatch.setenv("BUCKETSYNC_NOTIFY_ON", "failure")
    assert not send("SUCCESS", {"Status": "SUCCESS", "FilesTransferred": 3, "BytesTransferred": 9})[0]
    assert send("SUCCESS", dict(EMPTY_DATED, Status="SUCCESS"), alert_empty=True)[0]
    assert send("ERROR", {"Status": "ERROR"})[0]
    # A whole location that did not change (an EFS share every 5 minutes) is
    # the normal case: no alert, and quiet under "failure".
    assert not send("SUCCESS", {"Status": "SUCCESS", "FilesTransferred": 0, "BytesTransferred": 0},
                    alert_empty=True)[0]


def test_a_runs_message_carries_its_datasync_part():
    from bucketsync import notify
    summary = {"run_id": "r", "copied": 2, "failed": 0, "source": "s3://a/", "destination": "s3://b/",
               "datasync": {"task": "images", "status": "ERROR", "dates": ["2026-11-21"], "empty_dates": [],
                            "files_transferred": 0, "bytes_transferred": 0, "execution_arn": EXECUTION,
                            "error": {"Error": "DataSync.OpNotSupp", "Cause": "operation not supported"}}}
    subject, body = notify.message(summary, None, {"Error": "DataSync.OpNotSupp", "Cause": "operation not supported"})
    assert "FAILED" in subject
    for line in ("datasync task: images", "datasync status: ERROR", "datasync dates: 2026-11-21",
                 f"datasync execution arn: {EXECUTION}", "datasync error: DataSync.OpNotSupp: operation not supported"):
        assert line in body


def test_a_success_with_failed_files_says_so():
    sent, published = send("SUCCESS", {"Status": "SUCCESS", "FilesTransferred": 5, "BytesTransferred": 50,
                                       "FilesFailed": {"Prepare": 1, "Transfer": 2, "Verify": 0, "Delete": 0}})
    assert sent and published[0]["Subject"].startswith("DataSync SUCCESS, 3 FILE(S) FAILED")
    assert "files failed: 3" in published[0]["Message"]
