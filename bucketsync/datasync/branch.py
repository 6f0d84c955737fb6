"""The DataSync branch of the state machine: start the execution (or
adopt, or wait for, one already running), and follow it to its end; a Wait
state between polls, so no Lambda ever sleeps.

The branch's state, `$.datasync`, begun by ValidateInput (`begin.py`),
which also decides from it what DataSync owns in the run:
    request      the checked `datasync` input
    dry_run      filters are built and shown, nothing is started
    task, task_arn, dates, empty_dates
    includes, excludes  the execution's filters; after ValidateInput only
                 their beginnings (bounds.clip), the whole in the work area
                 at `filters_at` {"bucket", "key"} (`stow_filters`)
    execution_arn, status, files_transferred, bytes_transferred, ...
    files_failed files DataSync could not prepare, transfer, verify or
                 delete (FilesFailed): the run fails with them
    waiting_for  an execution of the task (other filters) that must end
                 first, when the task refuses queueing
    finished     true once there is nothing more to wait for
    wait_seconds the Wait state's time before the next poll
    error        {"Error", "Cause"} when the execution ended in ERROR
"""
from __future__ import annotations

import os
from datetime import date

from .. import bounds, clients, interrupt, lease
from .. import settings as settings_mod
from ..errors import InvalidInputError
from ..work import Run
from . import filters
from .begin import whole_filters
from .catchup import record_done, record_store
from .request import DataSyncRequest

TERMINAL = ("SUCCESS", "ERROR")
MAX_WAIT_SECONDS = 300


@bounds.bounded_errors
def step(event: dict, client=None) -> dict:
    """One pass of the DataSync loop: start on the first call (the state
    was begun by ValidateInput), then follow the execution. Returns the
    whole state, `datasync` updated."""
    # A local run asked to stop ends here (on AWS nothing sets it; Step
    # Functions stops an execution itself): never a success after a signal.
    interrupt.check("the DataSync part")
    state = dict(event["datasync"])
    state.setdefault("finished", False)
    state.setdefault("error", None)
    if "task" not in state:
        raise InvalidInputError("the DataSync state was not begun by ValidateInput (no filters): nothing started")
    if state["finished"]:       # nothing at the source for the run's dates: no execution
        return dict(event, datasync=state)
    # The object sync's lease, taken in ValidateInput, is kept while DataSync
    # runs (for hours, maybe): else it expires and the sync after it fails.
    max_wait = _renew_lease(event.get("run"))
    client = client or clients.datasync_client()
    request = DataSyncRequest.from_dict(state["request"])
    state.setdefault("base_wait_seconds", int(os.environ.get("BUCKETSYNC_DATASYNC_POLL_SECONDS") or 30))
    state.setdefault("wait_seconds", state["base_wait_seconds"])
    if not state.get("execution_arn") and state.get("dry_run"):
        state.update(status="DRY_RUN", finished=True)
        return dict(event, datasync=state)
    if not state.get("execution_arn"):
        _start_or_wait(state, client, *whole_filters(state, clients.work_client()))
    if state.get("execution_arn"):
        _follow(state, client, request)
    state["wait_seconds"] = min(state["wait_seconds"], max_wait)
    interrupt.check("the DataSync part")   # also when the signal came while following
    return dict(event, datasync=state)


def _renew_lease(run: dict | None) -> int:
    """Renew the run's lease when due (a run with an object sync that
    writes holds one); the longest Wait then allowed between polls: a third
    of the lease, so that a poll always comes before it expires."""
    if not run:
        return MAX_WAIT_SECONDS
    found = Run.from_dict(run)
    if not found.leased:
        return MAX_WAIT_SECONDS
    cfg = settings_mod.load()
    lease.renew_if_due(found, cfg)
    return max(1, min(MAX_WAIT_SECONDS, cfg.lease_seconds // 3))


def _start_or_wait(state: dict, client, includes: str, excludes: str) -> None:
    """Start the execution, unless one of the task is already running: with
    the same filters it is adopted (never a duplicate start); with other
    filters DataSync queues ours (TaskQueueing ENABLED, its default), or,
    when the task refuses queueing, this run waits for it to end."""
    # The task's own status says whether anything of it runs or waits: one
    # request, where listing its executions pages through the 30 days of them
    # DataSync keeps (a run every 5 minutes: about 87 requests).
    idle = client.describe_task(TaskArn=state["task_arn"]).get("Status") == "AVAILABLE"
    running = [] if idle else [e for e in _executions(client, state["task_arn"]) if e.get("Status") not in TERMINAL]
    for execution in running:
        described = client.describe_task_execution(TaskExecutionArn=execution["TaskExecutionArn"])
        if (filters.rule_value(described.get("Includes")) == includes
                and filters.rule_value(described.get("Excludes")) == excludes):
            state.update(execution_arn=execution["TaskExecutionArn"], adopted=True, waiting_for=None)
            return
        if (described.get("Options") or {}).get("TaskQueueing") == "DISABLED":
            state.update(status="WAITING", waiting_for=execution["TaskExecutionArn"])
            return
    response = client.start_task_execution(TaskArn=state["task_arn"],
                                           Includes=filters.filter_rules(includes),
                                           Excludes=filters.filter_rules(excludes))
    state.update(execution_arn=response["TaskExecutionArn"], adopted=False, waiting_for=None, status="QUEUED")


def _executions(client, task_arn: str):
    """Every execution DataSync lists for the task (all pages: it keeps 30 days of them)."""
    kwargs = {"TaskArn": task_arn}
    while True:
        page = client.list_task_executions(**kwargs)
        yield from page.get("TaskExecutions", ())
        if not page.get("NextToken"):
            return
        kwargs["NextToken"] = page["NextToken"]


def _follow(state: dict, client, request: DataSyncRequest) -> None:
    described = client.describe_task_execution(TaskExecutionArn=state["execution_arn"])
    status = described.get("Status")
    # FilesFailed (TaskExecutionFilesFailedDetail: Prepare, Transfer, Verify,
    # Delete) is reported by Enhanced-mode tasks; absent, it counts nothing.
    failed = sum(int(n or 0) for n in (described.get("FilesFailed") or {}).values())
    state.update(status=status,
                 files_transferred=described.get("FilesTransferred", 0),
                 bytes_transferred=described.get("BytesTransferred", 0),
                 files_deleted=described.get("FilesDeleted", 0),
                 files_skipped=described.get("FilesSkipped", 0),
                 files_failed=failed)
    if status not in TERMINAL:
        # Waits lengthen as the execution runs on (up to 5 minutes), so that
        # a transfer of days stays far below Step Functions' 25,000 history
        # events per execution (about ten per poll).
        state["polls"] = state.get("polls", 0) + 1
        state["wait_seconds"] = min(MAX_WAIT_SECONDS, state["base_wait_seconds"] * (1 + state["polls"] // 10))
        return
    state["finished"] = True
    if status == "SUCCESS" and failed:
        # Whatever DataSync calls it, a transfer that left files behind is
        # not a success: the run fails, and its dates stay missed.
        state["error"] = {"Error": "DataSync.FilesFailed",
                          "Cause": f"DataSync execution {state['execution_arn']} ended in SUCCESS but {failed} "
                                   f"file(s) failed ({described.get('FilesFailed')}): see the task's log"}
        return
    if status == "SUCCESS":
        if request.include:
            target = date.fromisoformat(state["target_date"])
            record_done(record_store(), request, [date.fromisoformat(d) for d in state["dates"]], target)
        return
    result = described.get("Result") or {}
    code, detail = result.get("ErrorCode"), result.get("ErrorDetail")
    cause = f"DataSync execution {state['execution_arn']} ended in ERROR"
    if code or detail:
        cause += f": {code or 'no error code'}: {detail or 'no detail'}"
    state["error"] = {"Error": f"DataSync.{code}" if code else "DataSyncError", "Cause": cause}


def summary(state: dict | None) -> dict | None:
    """The `datasync` part of the run's output, report and notification."""
    if not state:
        return None
    return {"task": state.get("task"), "status": state.get("status"), "includes": state.get("includes", ""),
            "excludes": state.get("excludes", ""), "dates": state.get("dates", []),
            "empty_dates": state.get("empty_dates", []),
            "files_transferred": state.get("files_transferred", 0),
            "bytes_transferred": state.get("bytes_transferred", 0),
            "files_deleted": state.get("files_deleted", 0),
            "files_failed": state.get("files_failed", 0),
            "execution_arn": state.get("execution_arn"), "adopted": state.get("adopted", False),
            "reason": state.get("reason"), "error": state.get("error")}
