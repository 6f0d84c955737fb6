"""One function per Task state of `state_machines/sync_buckets.yaml`.

Each takes and returns the JSON the state machine passes; the handlers in
`lambda_functions/` only call them. The state carried between states is
small: {"run": ..., "cursor": ..., "plan": ...}; object lists live in the
work area."""
from __future__ import annotations

import dataclasses

from . import bounds, chunk_totals, clients, endpoints, interrupt, lease, notify, progress, report, s3
from . import run_summary
from . import settings as settings_mod
from .copy import Copier, readback, start_deadline, stamping
from .deleter import delete_chunk as delete_keys
from .errors import AccessDeniedError, BucketsyncError, CredentialsError, InvalidInputError
from .guards import check_delete_guards
from .planner import plan_step
from .diff import COPY, DELETE, PlanTotals, decode_action
from .datasync.ownership import check_beside_sync, owned as owned_area
from .datasync.begin import begin as begin_datasync, check_expandable, resolve_task, stow_filters, whole_filters
from .execution_input import validate_input as validate_execution
from .work import Run, run_prefix


@bounds.bounded_errors
def validate_input(event: dict) -> dict:
    """{"input": <execution input>, "execution": <name>} -> {"run", "cursor", "datasync"}."""
    inputs = validate_execution(event.get("input"))
    cfg = settings_mod.load()
    if not cfg.work_bucket:
        raise InvalidInputError("BUCKETSYNC_WORK_BUCKET is not set: the functions have no work area")
    execution = str(event.get("execution") or "run")
    request = inputs.sync
    regions: dict = {"source": None, "destination": None}
    places = {side: endpoints.resolve(getattr(request, f"{side}_endpoint", None), side) for side in endpoints.SIDES}
    if request is not None:
        for side in endpoints.SIDES:
            endpoints.check_secret_allowed(places[side], f"{side}_endpoint", endpoints.allowed_secrets())
        regions = _check_buckets(request, places)
    owned: tuple = ()
    datasync = None
    if inputs.datasync is not None:
        spec = resolve_task(inputs.datasync)
        check_expandable(inputs.datasync, spec)
        check_beside_sync(request, inputs.datasync, spec)
        # The execution's filters are decided here, once: what DataSync owns
        # in the run follows from them, and the DataSync step starts with them.
        datasync = begin_datasync(inputs.datasync, inputs.dry_run, event.get("started"), spec,
                                  object_sync=request is not None)
        if request is not None:
            owned = _owned(spec, datasync)
    run = Run(id=execution, request=request,
              source_region=regions["source"], destination_region=regions["destination"],
              work_bucket=cfg.work_bucket, work_prefix=run_prefix(cfg.work_prefix, execution),
              started=event.get("started"), owned_areas=len(owned),
              source_endpoint=places["source"], destination_endpoint=places["destination"])
    run = _decide_stamping(run)
    # DataSync's filters (up to 102,400 characters each) and what they own
    # wait in the work area (this run's scratch), not in the state (bounds.py),
    # written once the state is known to fit.
    files = {run.owned_key: list(owned)} if owned else {}
    if datasync is not None:
        datasync, files[run.datasync_filters_key] = stow_filters(datasync, run.work_bucket, run.datasync_filters_key)
    state = {"run": run.to_dict(), "cursor": None, "datasync": datasync}
    bounds.check_state_size(state)
    work = clients.work_client()
    for key, document in files.items():
        s3.put_json(work, run.work_bucket, key, document)
    if run.leased:
        lease.for_run(run, cfg).acquire()
    return state


def _check_buckets(request, places: dict) -> dict:
    """Each bucket's region; HeadBucket proves it exists, a one-key listing
    that we may read it (each side at its own endpoint, with its own keys)."""
    regions = {}
    for side, bucket in (("source", request.source), ("destination", request.destination)):
        place = places[side]
        try:
            region = s3.bucket_region(clients.probe_client(None, place), bucket)
            regions[side] = region
            next(s3.list_pages(clients.probe_client(region, place), bucket, "", page_size=1), None)
        except (AccessDeniedError, CredentialsError) as exc:
            raise type(exc)(f"cannot list {side} bucket {bucket!r} at {place.describe()}: {exc}") from exc
    return regions


def _decide_stamping(run: Run) -> Run:
    """The run with `copies_stamped` decided once, for every copy chunk, by
    the buckets' default encryption (copy/stamping.py). Only server-side
    copies of a run that writes need it: streamed copies always carry the
    stamp."""
    if run.request is None or run.dry_run or run.streamed:
        return run
    request = run.request
    sides = [(clients.probe_client(run.destination_region, run.destination_endpoint), request.destination),
             (clients.probe_client(run.source_region, run.source_endpoint), request.source)]
    decided = stamping.decide(sides, run.destination_endpoint.on_aws)
    return dataclasses.replace(run, request=dataclasses.replace(request, copies_stamped=decided))


def _owned(spec, datasync: dict) -> tuple:
    """The areas DataSync owns in this run, which the object-level sync
    leaves alone: what its execution transfers, at both of the task's ends;
    nothing when no execution starts (nothing at the source for its dates)."""
    if datasync.get("finished"):
        return ()
    areas = [owned_area(spec.source, datasync["includes"]), owned_area(spec.destination, datasync["includes"])]
    return tuple(a.to_dict() for a in areas if a is not None)


@bounds.bounded_errors
def plan(event: dict) -> dict:
    run = Run.from_dict(event["run"])
    cfg = settings_mod.load()
    lease.renew_if_due(run, cfg)
    cursor, done = plan_step(run, event.get("cursor"), cfg, clients.RunClients(run))
    result = {"run": event["run"], "cursor": cursor, "plan": {"done": done}, "datasync": event.get("datasync")}
    if done:
        progress.emit("planned", *PlanTotals.from_dict(cursor["totals"]).to_copy)
        result["cursor"] = None
        result["plan"].update(totals=cursor["totals"], copy_index=run.index_key(COPY),
                              delete_index=run.index_key(DELETE))
    return result


@bounds.bounded_errors
def guard(event: dict) -> dict:
    run = Run.from_dict(event["run"])
    check_delete_guards(run.request, PlanTotals.from_dict(event["plan"]["totals"]))
    return {"run": event["run"], "plan": event["plan"], "datasync": event.get("datasync")}


@bounds.bounded_errors
def copy_chunk(event: dict, remaining_ms: int | None = None) -> dict:
    """`remaining_ms`: the Lambda's time left; copies stop starting in time
    for the result to be written."""
    run = Run.from_dict(event["run"])
    cfg = settings_mod.load()
    lease.renew_if_due(run, cfg)
    number = event["chunk"]["number"]
    work = clients.work_client()
    chunk = s3.get_json(work, run.work_bucket, run.chunk_key(COPY, number))
    actions = [decode_action(COPY, item) for item in chunk["actions"]]
    copier = Copier(run, cfg, clients.data_client(run.source_region, run.source_endpoint),
                    clients.data_client(run.destination_region, run.destination_endpoint), start_deadline(remaining_ms),
                    stamping.for_chunk(run, work))
    result = copier.copy_chunk(actions)
    readback.prove(run, result, copier.written, copier.dst, cfg.copy_threads, cfg.retry_seconds)
    s3.put_json(work, run.work_bucket, run.result_key(COPY, number), result.to_dict())
    return {"number": number, "copied": result.copied, "failed": result.failed}


@bounds.bounded_errors
def tally(event: dict) -> dict:
    """After the copies: deletes run only when every copy chunk finished
    with no failure (and it is not a dry run)."""
    run = Run.from_dict(event["run"])
    copies = chunk_totals.copy_totals(run, (event.get("maps") or {}).get(COPY), clients.work_client())
    interrupt.check()   # an interrupted run stops here: no deletes
    request = run.request
    failed = copies["failed"] > 0 or bool(copies["missing_chunks"])
    delete_next = (request.delete and not request.dry_run and not failed
                   and PlanTotals.from_dict(event["plan"]["totals"]).delete > 0)
    if delete_next:   # deletes only under a lease that is still ours
        lease.renew_if_due(run, settings_mod.load(), force=True)
    return {"run": event["run"], "plan": event["plan"], "maps": event.get("maps") or {}, "delete_next": delete_next,
            "datasync": event.get("datasync")}


@bounds.bounded_errors
def delete_chunk(event: dict) -> dict:
    run = Run.from_dict(event["run"])
    cfg = settings_mod.load()
    lease.renew_if_due(run, cfg)
    number = event["chunk"]["number"]
    work = clients.work_client()
    chunk = s3.get_json(work, run.work_bucket, run.chunk_key(DELETE, number))
    destination = clients.data_client(run.destination_region, run.destination_endpoint)
    result = delete_keys(run, destination, [decode_action(DELETE, item) for item in chunk["actions"]],
                         cfg.retry_seconds)
    s3.put_json(work, run.work_bucket, run.result_key(DELETE, number), result.to_dict())
    return {"number": number, "deleted": result.deleted, "failed": result.failed}


@bounds.bounded_errors
def finish(event: dict) -> dict:
    """Write the report; the output is the flat summary of DESIGN.md section 2."""
    run = Run.from_dict(event["run"])
    if event.get("delete_next"):
        # Deletes left undone by an interrupt are a partial phase: the run
        # fails (ReportFailure writes the report with what was done).
        interrupt.check("the delete phase", deletes_ran=True)
    work = clients.work_client()
    summary, details = run_summary.summarize(run, PlanTotals.from_dict((event.get("plan") or {}).get("totals")),
                                             event.get("delete_next", False), work, event.get("maps"),
                                             datasync=event.get("datasync"))
    _write_report(run, summary, details, event.get("datasync"), work)
    _release(run)
    _notify(summary, run, None)
    return summary


def report_failure(event: dict) -> dict:
    """Catch handler: record what is known, then hand back the original error
    name and a readable cause for the Fail state."""
    error = event.get("error") or {}
    name = error.get("Error") or "States.Runtime"
    # The Fail state's cause holds at most 32,768 characters.
    cause = bounds.clip(chunk_totals.readable_cause(error.get("Cause")), bounds.ERROR_CHARS)
    run, summary = None, {"failed": 0}
    if isinstance(event.get("run"), dict):
        run = Run.from_dict(event["run"])
        totals = PlanTotals.from_dict((event.get("plan") or {}).get("totals"))
        try:
            work = clients.work_client()
            summary, details = run_summary.summarize(run, totals, event.get("delete_next", False), work,
                                                     event.get("maps"), {"Error": name, "Cause": cause},
                                                     datasync=event.get("datasync"))
            _write_report(run, summary, details, event.get("datasync"), work)
        finally:   # a report that cannot be written must not keep the destination locked
            _release(run)
    elif isinstance(event.get("input"), dict):
        # Failed validation: the raw input (wrapped by the Start state) is all there is.
        given = event["input"]
        summary = {side: given[side] if isinstance(given.get(side), str) else None
                   for side in ("source", "destination")}
        summary["failed"] = 0
    _notify(summary, run, {"Error": name, "Cause": cause})
    return {"Error": name, "Cause": cause}


def _write_report(run: Run, summary: dict, details: dict, datasync: dict | None, work) -> None:
    """The report, with DataSync's whole filters (the summary has their
    beginnings), or why they are not there: the report is written anyway."""
    if datasync and datasync.get("filters_at"):
        try:
            includes, excludes = whole_filters(datasync, work)
            details = dict(details, datasync_filters={"includes": includes, "excludes": excludes})
        except BucketsyncError as exc:
            details = dict(details, datasync_filters={"error": str(exc)})
    report.write(run, summary, details, work)


def _release(run: Run) -> None:
    """Release the run's lease; one that cannot be released expires."""
    if not run.leased:
        return
    try:
        lease.for_run(run, settings_mod.load()).release()
    except Exception as exc:   # noqa: BLE001 - the run's outcome stands
        print(f"bucketsync: lease not released (it expires by itself): {type(exc).__name__}: {exc}")


def _notify(summary: dict, run: Run | None, error: dict | None) -> None:
    """A notification that cannot be sent must not change the run's outcome."""
    try:
        notify.notify(summary, run, error)
    except Exception as exc:   # noqa: BLE001 - reported in the log, never raised
        print(f"bucketsync: notification not sent: {type(exc).__name__}: {exc}")
