"""One SNS message per finished execution (when a topic is configured).

Settings: BUCKETSYNC_SNS_TOPIC_ARN, BUCKETSYNC_NOTIFY_ON ("all" or
"failure") and BUCKETSYNC_NOTIFY_AFTER_IDLE_RUNS (also notify once this many
runs in a row copied nothing; the count lives in the work bucket)."""
from __future__ import annotations

import os
from datetime import datetime, timezone

from . import clients, s3
from .work import Run

IDLE_KEY = "state/idle-runs/{source}/{destination}.json"


def message(summary: dict, run: Run | None, error: dict | None) -> tuple[str, str]:
    """(subject, body) for one finished run."""
    status = "FAILED" if error or summary.get("failed") else "SUCCEEDED"
    route = f"{summary.get('source', '?')} -> {summary.get('destination', '?')}"
    subject = f"bucketsync {status}: {route}"[:100]
    lines = [f"bucketsync run {summary.get('run_id', '?')}: {status}", f"route: {route}"]
    for name in ("copied", "deleted", "unchanged", "updated", "skipped", "failed", "bytes_copied"):
        if name in summary:
            lines.append(f"{name}: {summary[name]}")
    if run is not None and run.started:
        with_seconds = datetime.now(timezone.utc) - datetime.fromisoformat(run.started.replace("Z", "+00:00"))
        lines.append(f"duration: {int(with_seconds.total_seconds())} s")
    if summary.get("dry_run"):
        lines.append("dry run: nothing was written")
    lines.append(f"report: {summary.get('report', '-')}")
    if error:
        lines += [f"error: {error.get('Error')}", f"cause: {error.get('Cause')}"]
    if summary.get("failed_keys"):
        lines.append("failed keys: " + ", ".join(summary["failed_keys"]))
    lines += datasync_lines(summary.get("datasync"))
    return subject, "\n".join(lines) + "\n"


def sns_client(topic: str):
    """A client of the topic's own region."""
    return clients.session().client("sns", region_name=topic.split(":")[3])


def datasync_lines(datasync: dict | None) -> list[str]:
    """The DataSync part of a run's message (absent fields left out)."""
    if not datasync:
        return []
    lines = [f"datasync task: {datasync.get('task')}", f"datasync status: {datasync.get('status')}"]
    if datasync.get("dates"):
        lines.append("datasync dates: " + ", ".join(datasync["dates"]))
    if datasync.get("empty_dates"):
        lines.append("datasync dates with nothing at the source yet: " + ", ".join(datasync["empty_dates"]))
    for name in ("files_transferred", "bytes_transferred", "files_deleted", "execution_arn", "reason"):
        if datasync.get(name) not in (None, ""):
            lines.append(f"datasync {name.replace('_', ' ')}: {datasync[name]}")
    error = datasync.get("error")
    if error:
        lines.append(f"datasync error: {error.get('Error')}: {error.get('Cause')}")
    return lines


def idle_runs(run: Run, copied: int) -> int:
    """How many runs in a row (this one included) copied nothing."""
    key = IDLE_KEY.format(source=run.request.source, destination=run.request.destination)
    work = clients.work_client()
    count = (s3.get_json(work, run.work_bucket, key, missing={"count": 0})["count"] + 1) if copied == 0 else 0
    s3.put_json(work, run.work_bucket, key, {"count": count})
    return count


def notify(summary: dict, run: Run | None, error: dict | None = None) -> bool:
    """Publish when configured and wanted; returns whether a message went out."""
    topic = os.environ.get("BUCKETSYNC_SNS_TOPIC_ARN")
    if not topic:
        return False
    failed = bool(error) or summary.get("failed", 0) > 0
    wanted = failed or os.environ.get("BUCKETSYNC_NOTIFY_ON", "all") == "all"
    threshold = int(os.environ.get("BUCKETSYNC_NOTIFY_AFTER_IDLE_RUNS") or 0)
    if threshold and run is not None and run.request is not None and not failed and not summary.get("dry_run"):
        idle = idle_runs(run, summary.get("copied", 0))
        if idle >= threshold:
            wanted = True
            summary = dict(summary, idle_runs=idle)
    if not wanted:
        return False
    subject, body = message(summary, run, error)
    if summary.get("idle_runs"):
        body = f"nothing was copied for {summary['idle_runs']} runs in a row\n" + body
    sns_client(topic).publish(
        TopicArn=topic, Subject=subject, Message=body,
        MessageAttributes={"status": {"DataType": "String", "StringValue": "FAILED" if failed else "SUCCEEDED"}})
    return True
