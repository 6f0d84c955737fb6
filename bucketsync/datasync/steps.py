"""The DataSync branch of the state machine: prepare the execution's
filters, start it (or adopt, or wait for, one already running), and follow
it to its end; a Wait state between polls, so no Lambda ever sleeps.

The branch's state, `$.datasync`, begun by ValidateInput (`begin`), which
also decides from it what DataSync owns in the run:
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

import hashlib
import json
import os
from datetime import date, datetime, timezone

from .. import bounds, clients, interrupt, lease, s3
from .. import settings as settings_mod
from ..errors import AccessDeniedError, DeleteGuardError, InvalidInputError
from ..stores import state_store
from ..work import Run
from . import filters
from .expand import expand
from .request import DataSyncRequest
from .sources import folders_for, listable, selected_keys
from .tasks import TaskSpec, from_environment
from .templates import run_dates, target_date

TERMINAL = ("SUCCESS", "ERROR")
MAX_WAIT_SECONDS = 300
KEEP_DAYS = 400          # the catch-up record forgets dates older than this (catch_up_days is at most 366)
STATE_DIR_VARIABLE = "BUCKETSYNC_DATASYNC_STATE_DIR"


def resolve_task(request: DataSyncRequest, tasks: dict[str, TaskSpec] | None = None) -> TaskSpec | None:
    """The task's definition: by name from DATASYNC_TASKS, by ARN from the
    configured tasks when it is one of them; None for another account's or
    another stack's task (started as it is, its locations unknown here)."""
    tasks = from_environment() if tasks is None else tasks
    if not request.by_arn:
        if request.task not in tasks:
            known = ", ".join(sorted(tasks)) or "none are configured"
            raise InvalidInputError(f"datasync task {request.task!r} is not in DATASYNC_TASKS ({known})")
        return tasks[request.task]
    for spec in tasks.values():
        if spec.arn == request.task:
            return spec
    return None


def check_expandable(request: DataSyncRequest, spec: TaskSpec | None) -> None:
    """A '*' for a folder name is expanded by listing the task's source:
    refused up front where that source cannot be listed from here."""
    if spec is not None and listable(spec.source):
        return
    for template in request.include:
        if "*" in template.rsplit("/", 1)[0]:
            where = "an EFS file system" if spec is not None else "a task outside DATASYNC_TASKS"
            raise InvalidInputError(
                f"datasync template {template!r} has '*' for a folder name, which is expanded by listing the "
                f"task's source; the source of {request.task!r} is {where}, which cannot be listed: name the "
                f"folders (DataSync accepts '*' only at a pattern's end)")


# ---- the catch-up record -------------------------------------------------------

def record_store():
    """Where the transferred dates live: the work bucket on AWS, a local
    directory for local runs (BUCKETSYNC_DATASYNC_STATE_DIR, set by the engine)."""
    cfg = settings_mod.load()
    return state_store(cfg.datasync_state_dir, cfg.work_bucket, cfg.work_prefix, "datasync")


def record_name(request: DataSyncRequest) -> str:
    """One record per task and set of templates (other templates are other folders)."""
    digest = hashlib.sha256(json.dumps([request.task, sorted(request.include)]).encode()).hexdigest()[:16]
    name = request.task.rsplit("/", 1)[-1]
    return f"{name}-{digest}.json"


def done_dates(store, request: DataSyncRequest) -> set[date]:
    document = store.read(record_name(request)) or {}
    return {date.fromisoformat(d) for d in document.get("done", ())}


def record_done(store, request: DataSyncRequest, dates: list[date], today: date) -> None:
    """Add `dates` to the record (oldest forgotten past KEEP_DAYS)."""
    def update(document):
        done = set((document or {}).get("done", ())) | {d.isoformat() for d in dates}
        cutoff = date.fromordinal(today.toordinal() - KEEP_DAYS).isoformat()
        return {"task": request.task, "templates": sorted(request.include),
                "done": sorted(d for d in done if d >= cutoff)}
    store.update(record_name(request), update)


# ---- planning the execution ------------------------------------------------------

def prepare(request: DataSyncRequest, now: datetime, spec: TaskSpec | None, store=None,
            object_sync: bool = False) -> dict:
    """The execution's filters and dates, checked against DataSync's rules;
    starts nothing.

    Which days: the target date, and the days of the catch-up window not yet
    transferred. With an object-level sync (`object_sync`), that is all: a
    file that lands later in a transferred day's folder is the object sync's
    (DataSync owns only this run's folders). A DataSync-only run has no one
    else to pick it up, so with TransferMode CHANGED it includes every day of
    the window again (DataSync then copies only what changed, at the cost of
    comparing the rest); with ALL that would copy the window again each run,
    so only days not yet transferred, as for a task whose options are unknown
    here (an ARN outside DATASYNC_TASKS)."""
    target = target_date(request.date, now, request.timezone)
    done = done_dates(store, request) if store is not None else set()
    if not object_sync and spec is not None and spec.option("TransferMode") == "CHANGED":
        done = set()
    dates = run_dates(target, request.catch_up_days, done)
    folders = folders_for(spec.source) if spec is not None else None
    if request.include:
        expansion = expand(request.include, dates, folders)
        patterns, covered, empty = expansion.patterns, expansion.dates, expansion.empty_dates
    else:   # no template: the whole location, every time
        patterns, covered, empty = [], dates, []
    state = {
        "task": spec.name if spec is not None else request.task,
        "task_arn": (spec.arn if spec is not None else None) or request.task,
        "includes": filters.join(patterns, filters.INCLUDE),
        "excludes": filters.join(request.exclude, filters.EXCLUDE),
        "dates": [d.isoformat() for d in covered],
        "empty_dates": [d.isoformat() for d in empty],
        "target_date": target.isoformat(),
        "source": spec.source.uri if spec is not None else None,
        "destination": spec.destination.uri if spec is not None else None,
    }
    if request.include and not patterns:
        # DataSync with no include filter would transfer the whole location.
        state.update(status="SKIPPED", finished=True,
                     reason=f"nothing at the source for {', '.join(d.isoformat() for d in dates)}: "
                            f"no execution started (the dates stay missed until their folders appear)")
    return state


def check_empty_source(request: DataSyncRequest, spec: TaskSpec | None, state: dict) -> None:
    """DeleteGuardError when the execution would empty the destination: with
    PreserveDeletedFiles REMOVE, a source with nothing within the execution's
    filters while the destination has something there is refused unless
    `datasync.allow_empty_source` (the object sync's rule, DataSync's side).
    A destination that cannot be listed from here is not proven empty.

    DataSync itself would go ahead and delete. An EFS source cannot be
    listed from here: DataSync alone decides there, as on AWS."""
    if state.get("finished") or spec is None or request.allow_empty_source:
        return
    if spec.option("PreserveDeletedFiles") != "REMOVE" or not listable(spec.source):
        return
    includes, excludes = state["includes"], state["excludes"]
    if _first_selected(spec.source, includes, excludes) is not None:
        return
    try:
        there = _first_selected(spec.destination, includes, excludes)
    except AccessDeniedError:
        there = "(the destination cannot be listed from here, so it is not known to be empty)"
    if there is None:
        return
    raise DeleteGuardError(
        f"the DataSync source {spec.source.uri} has nothing within the execution's filters (include "
        f"{includes or 'everything'}; exclude {excludes or 'nothing'}) but the destination {spec.destination.uri} "
        f"has objects there ({there}), and task {spec.name!r} has PreserveDeletedFiles REMOVE: the execution "
        f"would delete them all; nothing was started (set datasync.allow_empty_source to allow it)")


def _first_selected(location, includes: str, excludes: str) -> str | None:
    """The first file or object (not a folder marker) the filters select."""
    for key, _ in selected_keys(location, includes, excludes):
        if not key.endswith("/"):
            return key
    return None


def begin(request: DataSyncRequest, dry_run: bool, started: str | None, spec: TaskSpec | None,
          object_sync: bool) -> dict:
    """The branch's first state, built in ValidateInput (before anything is
    written, and so that what DataSync owns in the run is known there): the
    execution's filters and dates, guarded against emptying the destination."""
    now = s3.parse_time(started) if started else datetime.now(timezone.utc)
    state = {"request": request.to_dict(), "dry_run": dry_run,
             **prepare(request, now, spec, record_store(), object_sync)}
    check_empty_source(request, spec, state)
    return state


def stow_filters(state: dict, work, bucket: str, key: str) -> dict:
    """The state to carry: the filters' beginnings, the whole written to the
    work area. A filter may take DataSync's 102,400 characters, too much to
    travel through every state of the run."""
    s3.put_json(work, bucket, key, {"includes": state["includes"], "excludes": state["excludes"]})
    return dict(state, includes=bounds.clip(state["includes"]), excludes=bounds.clip(state["excludes"]),
                filters_at={"bucket": bucket, "key": key})


def whole_filters(state: dict, work=None) -> tuple[str, str]:
    """The execution's (includes, excludes), whole: from the work area once
    stowed by ValidateInput, else from the state itself."""
    where = state.get("filters_at")
    if not where:
        return state["includes"], state["excludes"]
    document = s3.get_json(work or clients.work_client(), where["bucket"], where["key"])
    return document["includes"], document["excludes"]


# ---- the state machine's step ------------------------------------------------------

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
        _start_or_wait(state, client, *whole_filters(state))
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
