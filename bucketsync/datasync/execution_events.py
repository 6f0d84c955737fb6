"""Notifications for DataSync task executions, from EventBridge's "DataSync
Task Execution State Change" events (any execution of the configured tasks,
also those started outside bucketsync, such as DataSync's own schedules).

The event says little: `resources[0]` is the execution ARN and
`detail.State` its new state; there are no counts. The notifier asks
DescribeTaskExecution for the rest. Every field may be absent (an ERROR
without an ErrorCode, an execution that never started transferring): an
absent field is printed as absent, never a crash. A SUCCESS that
transferred nothing can raise its own alert (BUCKETSYNC_DATASYNC_ALERT_EMPTY).
"""
from __future__ import annotations

import os
from datetime import datetime

from .. import s3
from . import filters
from .tasks import from_environment

ABSENT = "(absent)"


def task_name(execution_arn: str) -> str:
    """The configured name of the execution's task, else its ARN."""
    task = execution_arn.split("/execution/", 1)[0]
    for name, spec in from_environment().items():
        if spec.arn == task:
            return name
    return task


def _time(value) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return value if isinstance(value, datetime) else s3.parse_time(value)
    except ValueError:
        return None


def _duration(described: dict) -> str:
    start, end = _time(described.get("StartTime")), _time(described.get("EndTime"))
    total = (described.get("Result") or {}).get("TotalDuration")
    if start and end:
        return f"{int((end - start).total_seconds())} s"
    return ABSENT if total is None else f"{int(total) // 1000} s"


def message(event: dict, described: dict | None, alert_empty: bool = False) -> tuple[str, str, str] | None:
    """(status, subject, body) for one event; None when there is nothing to
    say (a state other than SUCCESS or ERROR)."""
    resources = event.get("resources") or []
    execution = resources[0] if resources else (described or {}).get("TaskExecutionArn") or ABSENT
    described = described or {}
    state = str((event.get("detail") or {}).get("State") or described.get("Status") or "").upper()
    if state not in ("SUCCESS", "ERROR"):
        return None
    name = task_name(execution) if execution != ABSENT else ABSENT
    files, size = described.get("FilesTransferred"), described.get("BytesTransferred")
    # Nothing transferred is news only where folders were asked for (a dated
    # folder missing); a whole location that did not change is the normal
    # case of a frequent schedule, and never an alert.
    asked_for_folders = bool(filters.rule_value(described.get("Includes")))
    empty = state == "SUCCESS" and files == 0 and not size and asked_for_folders
    status = "SUCCESS, NOTHING TRANSFERRED" if empty and alert_empty else state
    # FilesFailed (Enhanced mode): a success that left files behind says so in its subject.
    failed = sum(int(n or 0) for n in (described.get("FilesFailed") or {}).values())
    if failed and state == "SUCCESS":
        status = f"SUCCESS, {failed} FILE(S) FAILED"
    start, result = _time(described.get("StartTime")), described.get("Result") or {}
    duration = _duration(described)
    lines = [f"DataSync task {name}: {status}",
             f"execution: {execution}",
             f"start time: {start.isoformat() if start else ABSENT}",
             f"duration: {duration}",
             f"files transferred: {ABSENT if files is None else files}",
             f"bytes transferred: {ABSENT if size is None else size}"]
    for field in ("FilesDeleted", "FilesSkipped"):
        if described.get(field) is not None:
            lines.append(f"{'files deleted' if field == 'FilesDeleted' else 'files skipped'}: {described[field]}")
    if failed:
        lines.append(f"files failed: {failed} ({described['FilesFailed']})")
    include = filters.rule_value(described.get("Includes"))
    if include:
        lines.append(f"include filter: {include}")
    if state == "ERROR":
        lines.append(f"error code: {result.get('ErrorCode') or ABSENT}")
        lines.append(f"error detail: {result.get('ErrorDetail') or ABSENT}")
    if empty and alert_empty:
        lines.append("the execution succeeded but transferred nothing: is the source's folder missing, or was "
                     "it already transferred?")
    subject = f"DataSync {status}: {name.rsplit('/', 1)[-1]}"[:100]
    return status, subject, "\n".join(lines) + "\n"


def handle(event: dict, datasync, sns, topic: str | None, alert_empty: bool | None = None) -> bool:
    """Publish the event's message to `topic` with the `sns` client;
    returns whether one went out."""
    if alert_empty is None:
        alert_empty = os.environ.get("BUCKETSYNC_DATASYNC_ALERT_EMPTY", "true").lower() == "true"
    resources = event.get("resources") or []
    described = None
    if resources:
        try:
            described = datasync.describe_task_execution(TaskExecutionArn=resources[0])
        except Exception as exc:   # noqa: BLE001 - the event alone is still worth sending
            print(f"bucketsync: DescribeTaskExecution failed: {type(exc).__name__}: {exc}")
    said = message(event, described, alert_empty)
    if said is None or not topic:
        return False
    status, subject, body = said
    if os.environ.get("BUCKETSYNC_NOTIFY_ON", "all") == "failure" and status == "SUCCESS":
        return False   # failures and empty successes only
    sns.publish(TopicArn=topic, Subject=subject, Message=body)
    return True
