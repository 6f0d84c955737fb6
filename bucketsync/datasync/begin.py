"""The DataSync branch's beginning, in ValidateInput (before anything is
written, and so that what DataSync owns in the run is known there): the
task, the execution's filters and dates, the guard against emptying the
destination, and the filters stowed in the work area."""
from __future__ import annotations

from datetime import datetime, timezone

from .. import bounds, s3
from ..stores import read_run_file
from ..errors import AccessDeniedError, DeleteGuardError, InvalidInputError
from . import filters
from .catchup import done_dates, record_store
from .expand import expand
from .request import DataSyncRequest
from .sources import folders_for, listable, selected_keys
from .tasks import TaskSpec, from_environment
from .templates import run_dates, target_date


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
        f"{bounds.clip(includes) or 'everything'}; exclude {bounds.clip(excludes) or 'nothing'}) but the "
        f"destination {spec.destination.uri} has objects there ({there}), and task {spec.name!r} has PreserveDeletedFiles REMOVE: the execution "
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


def stow_filters(state: dict, bucket: str, key: str) -> tuple[dict, dict]:
    """(the state to carry, the document to write at `key`): the carried
    state keeps the filters' beginnings, the work area their whole. A filter
    may take DataSync's 102,400 characters, too much to travel through every
    state of the run."""
    carried = dict(state, includes=bounds.clip(state["includes"]), excludes=bounds.clip(state["excludes"]),
                   filters_at={"bucket": bucket, "key": key})
    return carried, {"includes": state["includes"], "excludes": state["excludes"]}


def whole_filters(state: dict, work) -> tuple[str, str]:
    """The execution's (includes, excludes), whole: from the work area once
    stowed by ValidateInput, else from the state itself."""
    where = state.get("filters_at")
    if not where:
        return state["includes"], state["excludes"]
    document = read_run_file(work, where["bucket"], where["key"])
    return document["includes"], document["excludes"]
