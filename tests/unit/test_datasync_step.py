"""The DataSync step against a scripted DataSync API: waiting for a running
execution of a task that refuses queueing (every page of the task's
executions is read), one start only, and polls that lengthen."""
from datetime import datetime

from bucketsync.datasync import begin, branch, catchup
from bucketsync.datasync.request import validate_datasync
from bucketsync.datasync.tasks import TASKS_VARIABLE, check_tasks, to_environment

TASK = "arn:aws:datasync:eu-west-1:123456789012:task/task-0123456789abcdef0"


class ScriptedDataSync:
    def __init__(self):
        self.other_status = "TRANSFERRING"
        self.ours_status = "TRANSFERRING"
        self.started = []

    def list_task_executions(self, TaskArn, NextToken=None):
        if NextToken is None:
            return {"TaskExecutions": [{"TaskExecutionArn": f"{TASK}/execution/exec-old", "Status": "SUCCESS"}],
                    "NextToken": "page-2"}
        return {"TaskExecutions": [{"TaskExecutionArn": f"{TASK}/execution/exec-other", "Status": self.other_status}]}

    def describe_task(self, TaskArn):
        self.task_described = getattr(self, "task_described", 0) + 1
        return {"Status": "AVAILABLE" if self.other_status in ("SUCCESS", "ERROR") and not self.started
                else "RUNNING"}

    def describe_task_execution(self, TaskExecutionArn):
        if TaskExecutionArn.endswith("exec-other"):
            return {"Status": self.other_status, "Options": {"TaskQueueing": "DISABLED"},
                    "Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/somewhere-else/*"}]}
        return {"Status": self.ours_status, "FilesTransferred": 3, "BytesTransferred": 30}

    def start_task_execution(self, **kwargs):
        self.started.append(kwargs)
        return {"TaskExecutionArn": f"{TASK}/execution/exec-ours"}


def _one_task_with_a_dated_folder(tmp_path, monkeypatch):
    """Task "t" (ARN TASK): a directory with a folder for 2026-11-21 to S3."""
    (tmp_path / "share" / "2026-11-21").mkdir(parents=True)
    (tmp_path / "share" / "2026-11-21" / "a").write_bytes(b"a")
    tasks = check_tasks({"t": {"source": f"file://{tmp_path / 'share'}", "destination": "s3://dst-bucket/"}})
    tasks["t"] = tasks["t"].__class__(**{**tasks["t"].__dict__, "arn": TASK})
    monkeypatch.setenv(TASKS_VARIABLE, to_environment(tasks))
    monkeypatch.setenv(catchup.STATE_DIR_VARIABLE, str(tmp_path / "state"))


def test_waits_for_a_task_that_refuses_queueing_then_starts_once(tmp_path, monkeypatch):
    _one_task_with_a_dated_folder(tmp_path, monkeypatch)
    monkeypatch.setenv("BUCKETSYNC_DATASYNC_POLL_SECONDS", "30")
    api = ScriptedDataSync()
    request = validate_datasync({"task": "t", "include": ["/{date:%Y-%m-%d}/*"]})
    begun = begin.begin(request, False, "2026-11-22T02:00:00Z", begin.resolve_task(request), object_sync=False)
    event = {"run": None, "datasync": begun}
    state = branch.step(event, api)["datasync"]
    assert state["status"] == "WAITING" and state["waiting_for"].endswith("exec-other") and api.started == []
    assert state["includes"] == "/2026-11-21/*" and not state["finished"]
    state = branch.step(dict(event, datasync=state), api)["datasync"]
    assert api.started == [] and state["status"] == "WAITING"
    api.other_status = "SUCCESS"
    state = branch.step(dict(event, datasync=state), api)["datasync"]
    assert len(api.started) == 1 and state["execution_arn"].endswith("exec-ours")
    assert api.started[0]["Includes"] == [{"FilterType": "SIMPLE_PATTERN", "Value": "/2026-11-21/*"}]
    waits = []
    for _ in range(25):
        state = branch.step(dict(event, datasync=state), api)["datasync"]
        waits.append(state["wait_seconds"])
    assert len(api.started) == 1, "never a second start"
    assert waits[0] == 30 and waits[-1] > waits[0] and max(waits) <= branch.MAX_WAIT_SECONDS
    api.ours_status = "SUCCESS"
    state = branch.step(dict(event, datasync=state), api)["datasync"]
    assert state["finished"] and state["status"] == "SUCCESS" and state["files_transferred"] == 3
    assert catchup.done_dates(catchup.record_store(), catchup.DataSyncRequest.from_dict(event["datasync"]["request"])) == {
        datetime(2026, 11, 21).date()}


def test_a_success_that_left_files_behind_fails_the_run_and_keeps_its_dates_missed(tmp_path, monkeypatch):
    """FilesFailed (Enhanced mode's TaskExecutionFilesFailedDetail) with a
    SUCCESS status is no success."""
    _one_task_with_a_dated_folder(tmp_path, monkeypatch)
    api = ScriptedDataSync()
    api.other_status = api.ours_status = "SUCCESS"
    described = api.describe_task_execution
    api.describe_task_execution = lambda TaskExecutionArn: dict(
        described(TaskExecutionArn), FilesFailed={"Prepare": 0, "Transfer": 2, "Verify": 0, "Delete": 0})
    request = validate_datasync({"task": "t", "include": ["/{date:%Y-%m-%d}/*"]})
    begun = begin.begin(request, False, "2026-11-22T02:00:00Z", begin.resolve_task(request), object_sync=False)
    state = branch.step({"run": None, "datasync": begun}, api)["datasync"]
    assert state["finished"] and state["files_failed"] == 2
    assert state["error"]["Error"] == "DataSync.FilesFailed" and "2 file(s) failed" in state["error"]["Cause"]
    assert catchup.done_dates(catchup.record_store(), request) == set()
    assert branch.summary(state)["files_failed"] == 2


def test_polls_of_a_leased_run_come_within_a_third_of_the_lease(tmp_path, monkeypatch):
    """With an object sync after it, the Wait between polls never outlasts
    a third of the run's lease: each poll renews it before it expires."""
    from bucketsync import lease
    from bucketsync.sync_request import SyncRequest
    from bucketsync.settings import load
    from bucketsync.work import Run
    _one_task_with_a_dated_folder(tmp_path, monkeypatch)
    monkeypatch.setenv("BUCKETSYNC_DATASYNC_POLL_SECONDS", "300")
    monkeypatch.setenv("BUCKETSYNC_LEASE_SECONDS", "120")
    monkeypatch.setenv("BUCKETSYNC_LEASE_DIR", str(tmp_path / "leases"))
    run = Run("leased-run", SyncRequest("src-bucket", "dst-bucket"), None, None, "work", "runs/x/")
    lease.for_run(run, load()).acquire()
    api = ScriptedDataSync()
    api.other_status = "SUCCESS"
    request = validate_datasync({"task": "t", "include": ["/{date:%Y-%m-%d}/*"]})
    begun = begin.begin(request, False, "2026-11-22T02:00:00Z", begin.resolve_task(request), object_sync=True)
    state = branch.step({"run": run.to_dict(), "datasync": begun}, api)["datasync"]
    assert state["execution_arn"].endswith("exec-ours") and state["wait_seconds"] == 40
    state = branch.step({"run": None, "datasync": begun}, api)["datasync"]
    assert state["wait_seconds"] == 300, "no lease to keep: the configured wait"


def test_an_idle_task_is_started_without_listing_its_executions(tmp_path, monkeypatch):
    """DescribeTask says AVAILABLE: nothing of the task runs or waits, so its
    30 days of executions are not paged through (a run every 5 minutes would
    spend about 87 ListTaskExecutions on it)."""
    _one_task_with_a_dated_folder(tmp_path, monkeypatch)
    api = ScriptedDataSync()
    api.other_status = "SUCCESS"

    def never(**_):
        raise AssertionError("an idle task's executions were listed")
    api.list_task_executions = never
    request = validate_datasync({"task": "t", "include": ["/{date:%Y-%m-%d}/*"]})
    begun = begin.begin(request, False, "2026-11-22T02:00:00Z", begin.resolve_task(request), object_sync=False)
    state = branch.step({"run": None, "datasync": begun}, api)["datasync"]
    assert len(api.started) == 1 and api.task_described == 1 and state["execution_arn"].endswith("exec-ours")
