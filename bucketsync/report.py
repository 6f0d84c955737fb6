"""The run's report and summary, from the per-chunk result files.

Success is decided here, from the result files, not from the Map state's
status: a chunk without a result file is a failure (its Lambda never
finished), whatever the orchestrator says about it.

The report is a JSON Lines file, streamed (memory does not grow with the
bucket): a `run` line (times, endpoints, versions, request, plan totals,
what the servers were seen to do, notes), one `action` line per key the run
looked at (copied, unchanged, updated, skipped, failed, deleted, would-copy,
would-update, would-delete; each with size and reason), and a `summary` line last.
"""
from __future__ import annotations

import dataclasses
import json
import platform
from datetime import datetime, timezone
from typing import Iterator

from . import __version__, clients, s3, threads
from . import settings as settings_mod
from .datasync.steps import summary as datasync_summary
from .endpoints import SIDES
from .observed import Observed, Seen
from .plan import COPY, DELETE, UNCHANGED, PlanTotals, decode_action
from .results import FAILED, WOULD_DELETE, ChunkResult, CopyResult, DeleteResult
from .results import UNCHANGED as SAME
from .work import Run

SUMMARY_FAILED_KEYS = 10
# The summary is the execution's output, and the cause of SyncFailedError (a
# Fail state's cause holds at most 32,768 characters; a state 256 KiB): its
# lists and texts are bounded, their whole in the report.
SUMMARY_KEYS_CHARS = 8_000    # failed_keys, as JSON (a 1,024-byte key can take 6,144)
SUMMARY_TEXT_CHARS = 2_000    # one DataSync filter, or an error's cause
SUMMARY_LIST_ITEMS = 100      # unfinished chunk numbers per kind
KEPT_FAILURES = 1000        # failures kept in totals; the report lists every one
RESULTS: dict[str, type[ChunkResult]] = {COPY: CopyResult, DELETE: DeleteResult}


def _results(run: Run, kind: str) -> Iterator[tuple[int, ChunkResult | None, list | None]]:
    """(number, result, None) per finished chunk of `kind`, in order, or
    (number, None, actions) for a chunk without a result file."""
    work = clients.work_client()
    index = s3.get_json(work, run.work_bucket, run.index_key(kind), missing=[])

    def read(item):
        number = item["number"]
        result = s3.get_json(work, run.work_bucket, run.result_key(kind, number), missing=None)
        if result is None:   # the chunk never finished: all of it failed
            chunk = s3.get_json(work, run.work_bucket, run.chunk_key(kind, number))
            return number, None, [decode_action(kind, item) for item in chunk["actions"]]
        return number, RESULTS[kind].from_dict(result), None

    with threads.pool(16) as pool:
        yield from pool.map(read, index)


def chunk_errors(map_output: dict | None) -> dict[int, str]:
    """{chunk number: "Error: Cause"} for the children of a Distributed Map
    that failed, from what its ResultWriter wrote: `manifest.json` names the
    FAILED_n.json files, each a JSON array of child executions whose `Input`
    holds the chunk. Best effort: the chunks' own result files decide the
    outcome; this only says why a chunk has none."""
    details = (map_output or {}).get("ResultWriterDetails") or {}
    if not details.get("Bucket") or not details.get("Key"):
        return {}
    work = clients.work_client()
    errors: dict[int, str] = {}
    try:
        manifest = s3.get_json(work, details["Bucket"], details["Key"], missing=None) or {}
        for file in (manifest.get("ResultFiles") or {}).get("FAILED") or ():
            for child in s3.get_json(work, details["Bucket"], file["Key"], missing=None) or ():
                number = _chunk_number(child.get("Input"))
                if number is not None:
                    cause = readable_cause(child.get("Cause"))
                    errors[number] = f"{child.get('Error') or 'failed'}: {cause}" if cause else str(child.get("Error"))
    except Exception as exc:   # noqa: BLE001 - the outcome stands without the reasons
        print(f"bucketsync: map results not read: {type(exc).__name__}: {exc}")
    return errors


def _chunk_number(child_input) -> int | None:
    if isinstance(child_input, str):
        try:
            child_input = json.loads(child_input)
        except ValueError:
            return None
    chunk = child_input.get("chunk") if isinstance(child_input, dict) else None
    number = chunk.get("number") if isinstance(chunk, dict) else None
    return number if isinstance(number, int) else None


def readable_cause(cause) -> str:
    """Lambda errors arrive as a JSON string with errorMessage; keep only that."""
    if isinstance(cause, str):
        try:
            parsed = json.loads(cause)
        except ValueError:
            return cause
        if isinstance(parsed, dict) and "errorMessage" in parsed:
            return str(parsed["errorMessage"])
        return cause
    return "" if cause is None else json.dumps(cause)


def _unfinished(kind: str, number: int, errors: dict[int, str]) -> str:
    why = f"{kind} chunk {number} did not finish"
    return f"{why} ({errors[number]})" if number in errors else why


def empty_totals(kind: str) -> dict:
    """The totals of `kind` with no result yet."""
    return dict(dict.fromkeys(RESULTS[kind].COUNTS, 0), failures=[], missing_chunks=[], observed={}, chunk_errors={})


def collect(run: Run, kind: str, map_output: dict | None) -> dict:
    """Totals over `kind`'s result files: counts, the first failures, chunks
    without a result (with why: the Map's FAILED results, read only when a
    chunk is missing), and what the servers were seen to do."""
    counts = RESULTS[kind].COUNTS
    totals = empty_totals(kind)
    observed = Observed()
    errors = None
    for number, result, lost in _results(run, kind):
        if result is None:
            if errors is None:
                errors = chunk_errors(map_output)
            totals["missing_chunks"].append(number)
            totals["failed"] += len(lost)
            if number in errors:
                totals["chunk_errors"][str(number)] = errors[number]
            failures = [{"key": a.key, "error": _unfinished(kind, number, errors)} for a in lost]
        else:
            for name in counts:
                totals[name] += getattr(result, name)
            failures = result.failures
            observed.merge(result.observed)
        totals["failures"].extend(failures[:KEPT_FAILURES - len(totals["failures"])])
    totals["observed"] = observed.to_dict()
    return totals


def copy_totals(run: Run, map_output: dict | None) -> dict:
    """The copy results summed: Tally sums them once and keeps the sum; a
    report made before Tally (a failure earlier on) sums them itself."""
    work = clients.work_client()
    saved = s3.get_json(work, run.work_bucket, run.copy_totals_key, missing=None)
    if saved is not None:
        return saved
    totals = collect(run, COPY, map_output)
    s3.put_json(work, run.work_bucket, run.copy_totals_key, totals)
    return totals


def summarize(run: Run, plan_totals: PlanTotals, deletes_ran: bool, maps: dict | None = None,
              error: dict | None = None, datasync: dict | None = None) -> tuple[dict, dict]:
    """(summary, details): the flat execution output, and what the report's
    run line adds. In a dry run, `deleted` is what the deletes would be.
    `maps` holds the Distributed Maps' outputs ({"copy": ..., "delete": ...});
    `datasync` the DataSync branch's state, when the input had one."""
    request = run.request
    # A DataSync-only run has no object-level sync to sum.
    copies = copy_totals(run, (maps or {}).get(COPY)) if request is not None else empty_totals(COPY)
    dry_run = run.dry_run or bool((datasync or {}).get("dry_run"))
    if deletes_ran:
        # The delete results are read here for the totals the report's first
        # line needs, and again by `action_lines`: twice a GET per thousand
        # deletes, where holding every line instead would grow with the bucket.
        deletes = collect(run, DELETE, (maps or {}).get(DELETE))
    else:
        deletes = empty_totals(DELETE)
        deletes["deleted"] = plan_totals.delete if run.dry_run and request.delete else 0
    failures = copies["failures"] + deletes["failures"]
    summary = {
        "copied": copies["copied"],
        "deleted": deletes["deleted"],
        "unchanged": plan_totals.unchanged + copies["unchanged"],
        "checked": copies["unchanged"],
        "updated": copies.get("updated", 0),
        # Copies read back at the destination as written (copy/readback.py): by
        # listing, and with `verify` also by a HEAD against the source ETag.
        "verified": copies.get("verified", 0),
        "verify": "none" if dry_run or request is None else ("listing+head" if request.verify else "listing"),
        "failed": copies["failed"] + deletes["failed"],
        "skipped": copies["skipped"] + deletes["skipped"],
        "bytes_copied": copies["bytes_copied"],
        "dry_run": dry_run,
        "deletes_ran": deletes_ran,
        "report": settings_mod.load().report_location or run.report_location,
        "run_id": run.id,
        "source": f"s3://{request.source}/{request.source_prefix}" if request else (datasync or {}).get("source"),
        "destination": (f"s3://{request.destination}/{request.destination_prefix}" if request
                        else (datasync or {}).get("destination")),
        "source_objects": plan_totals.source_objects,
        "destination_objects": plan_totals.destination_objects,
        "failed_keys": first_keys(f["key"] for f in failures),
    }
    unfinished = {kind: totals["missing_chunks"] for kind, totals in ((COPY, copies), (DELETE, deletes))
                  if totals["missing_chunks"]}
    if unfinished:   # chunks whose Lambda never finished: their keys are in failed_keys and the report
        summary["unfinished_chunks"] = {kind: numbers[:SUMMARY_LIST_ITEMS] for kind, numbers in unfinished.items()}
    if datasync:
        summary["datasync"] = datasync_summary(datasync)
        for name in ("includes", "excludes"):
            summary["datasync"][name] = clip(summary["datasync"][name] or "")
    if error:
        summary["error"] = error.get("Error")
        summary["cause"] = summary["message"] = error.get("Cause")
    observed = Observed.from_dict(copies.get("observed"))
    observed.merge(Observed.from_dict(deletes.get("observed")))
    emulated = {side for side in SIDES if getattr(run, f"{side}_endpoint").on_aws} \
        if settings_mod.load().emulated_aws else set()
    details = {"plan": plan_totals.to_dict(), "server": observed.to_dict(),
               "notes": notes(observed, plan_totals, request, emulated),
               "missing_chunks": {"copy": copies["missing_chunks"], "delete": deletes["missing_chunks"]},
               "chunk_errors": {COPY: copies.get("chunk_errors") or {}, DELETE: deletes.get("chunk_errors") or {}}}
    return summary, details


# Which side's server each finding of `observed` is about.
SERVER_FINDINGS = {"copy_source_if_match": "source", "tagging": "source", "conditional_writes": "destination",
                   "conditional_deletes": "destination", "stale_uploads": "destination"}


def first_keys(keys) -> list[str]:
    """The first failed keys, at most SUMMARY_FAILED_KEYS of them and
    SUMMARY_KEYS_CHARS characters of JSON."""
    kept, size = [], 0
    for key in keys:
        size += len(json.dumps(key))
        if len(kept) == SUMMARY_FAILED_KEYS or size > SUMMARY_KEYS_CHARS:
            break
        kept.append(key)
    return kept


def clip(text: str, limit: int = SUMMARY_TEXT_CHARS) -> str:
    """`text`, or its beginning and how long it is (the whole is in the report)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters; the whole is in the report)"


def notes(observed: Observed, plan_totals: PlanTotals, request, emulated: set[str] = frozenset()) -> list[str]:
    """Plain sentences for what the user should know about this run.
    `emulated`: the sides whose buckets are in the embedded emulator (`fab
    demo`): what it lacks says nothing about the user's servers, so it is
    no note (the report's `server` still records it)."""
    observed = dataclasses.replace(observed, **{name: None for name, side in SERVER_FINDINGS.items()
                                                if side in emulated})
    out = []
    if observed.copy_source_if_match is Seen.IGNORED:
        out.append("the source server ignores CopySourceIfMatch: a source object changed during the run "
                   "was copied as it is now (the copy is still consistent; the plan's guarantee is void there)")
    if observed.conditional_writes is Seen.REJECTED:
        out.append("the destination server does not implement conditional writes (If-Match/If-None-Match): "
                   "multipart copies were completed unconditionally; only the run lease protects them")
    if observed.conditional_deletes is Seen.IGNORED:
        out.append("the destination server ignores the ETag condition of deletes (it deleted a key whatever "
                   "its ETag): an object changed by another writer during the run would be deleted; only the "
                   "run lease protects against overlapping runs there")
    if observed.conditional_deletes is Seen.REJECTED:
        out.append("the destination server does not implement conditional deletes: deletes were unconditional; "
                   "only the run lease protects them")
    if observed.marker_metadata is Seen.DROPPED:
        out.append("the destination server keeps no metadata or tags on folder markers ('dir/' keys): "
                   "their metadata was not mended (a mend was tried and did not take)")
    if observed.tagging is Seen.UNSUPPORTED:
        out.append("the source server does not support object tagging: objects were copied without tags")
    dropped = observed.stamp_dropped
    if dropped:
        out.append(f"{len(dropped)} object(s) have user metadata too close to S3's 2 KB limit for the "
                   f"'{s3.STAMP}' stamp; they were copied without it and are re-checked by a HEAD of both "
                   f"sides on the next run (first: {dropped[0]!r})")
    aborted = observed.stale_uploads_aborted
    if aborted:
        out.append(f"{len(aborted)} incomplete multipart upload(s) left by an earlier run were aborted "
                   f"(first: {aborted[0]!r})")
    if observed.stale_uploads is Seen.UNLISTED:
        out.append("incomplete multipart uploads left by earlier runs could not be listed at the destination "
                   "(s3:ListBucketMultipartUploads missing, or not implemented): a lifecycle rule with "
                   "AbortIncompleteMultipartUpload removes them")
    if request is not None and request.include and plan_totals.source_objects == 0:
        out.append(f"the include pattern(s) {list(request.include)} matched no source key")
    return out


def write(run: Run, summary: dict, details: dict) -> None:
    """Stream the report (JSON Lines) into the work area."""
    ended = datetime.now(timezone.utc)
    try:
        started = s3.parse_time(run.started) if run.started else None
    except ValueError:
        started = None
    head = {
        "type": "run", "run_id": run.id, "started": run.started,
        "ended": ended.isoformat().replace("+00:00", "Z"),
        "duration_seconds": round((ended - started).total_seconds(), 3) if started else None,
        "source": summary["source"], "destination": summary["destination"],
        "endpoints": {"source": run.source_endpoint.describe(run.source_region),
                      "destination": run.destination_endpoint.describe(run.destination_region)},
        "versions": versions(), "request": run.request.to_dict() if run.request else None, **details,
    }
    with s3.LineWriter(clients.work_client(), run.work_bucket, run.report_key) as out:
        out.write(head)
        for line in action_lines(run, PlanTotals.from_dict(details["plan"]), summary["deletes_ran"],
                                 details.get("chunk_errors")):
            out.write(line)
        out.write(dict(summary, type="summary"))


def action_lines(run: Run, plan_totals: PlanTotals, deletes_ran: bool,
                 chunk_errors_seen: dict | None = None) -> Iterator[dict]:
    """Every key the run looked at, one line each (DataSync reports counts,
    not keys: its part is the summary's `datasync`)."""
    request = run.request
    if request is None:
        return
    for kind in (COPY, DELETE):
        if kind == DELETE and not deletes_ran:
            if run.dry_run and request.delete:   # what the real run would delete
                for action in _planned(run, DELETE):
                    yield _line(action.key, action.size, WOULD_DELETE, "absent at the source")
            continue
        errors = {int(n): why for n, why in (chunk_errors_seen or {}).get(kind, {}).items()}
        for number, result, lost in _results(run, kind):
            if result is None:
                for action in lost:
                    yield _line(action.key, action.size, FAILED, _unfinished(kind, number, errors))
                continue
            for done in result.actions:
                yield _line(*done)
    for action in _planned(run, UNCHANGED):
        yield _line(action.key, action.size, SAME, action.why)
    if not request.delete and plan_totals.delete:
        yield {"type": "note", "text": f"{plan_totals.delete} destination object(s) absent at the source were "
                                       f"kept (delete is off)"}


def _planned(run: Run, kind: str) -> Iterator:
    """The planned actions of `kind`, chunk by chunk."""
    work = clients.work_client()
    for item in s3.get_json(work, run.work_bucket, run.index_key(kind), missing=[]):
        chunk = s3.get_json(work, run.work_bucket, run.chunk_key(kind, item["number"]))
        yield from (decode_action(kind, a) for a in chunk["actions"])


def _line(key: str, size: int, outcome: str, why: str) -> dict:
    return {"type": "action", "key": key, "size": size, "outcome": outcome, "reason": why}


def versions() -> dict:
    import boto3
    import botocore
    return {"bucketsync": __version__, "python": platform.python_version(),
            "boto3": boto3.__version__, "botocore": botocore.__version__}


def records(lines) -> Iterator[dict]:
    """A report file's records, one at a time (memory does not grow with it)."""
    for line in lines:
        if line.strip():
            yield json.loads(line)


def read(lines) -> dict:
    """A whole report as {"run": ..., "actions": [...], "notes": [...], "summary": ...}
    (for tests and small reports; stream large ones with `records`)."""
    report = {"run": None, "actions": [], "notes": [], "summary": None}
    for record in records(lines):
        kind = record.pop("type", None)
        if kind == "action":
            report["actions"].append(record)
        elif kind == "note":
            report["notes"].append(record["text"])
        elif kind in ("run", "summary"):
            report[kind] = record
    return report
