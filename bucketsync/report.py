"""The run's report, written into the work area and read back.

The report is a JSON Lines file, streamed (memory does not grow with the
bucket): a `run` line (times, endpoints, versions, request, plan totals,
what the servers were seen to do, notes), one `action` line per key the run
looked at (copied, unchanged, updated, skipped, failed, deleted, would-copy,
would-update, would-delete; each with size and reason), and a `summary` line last.
Its totals and summary are made in chunk_totals.py and run_summary.py.
"""
from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from typing import Iterator

from . import __version__, s3
from .chunk_totals import chunk_results, unfinished
from .diff import COPY, DELETE, UNCHANGED, PlanTotals, decode_action
from .chunk_results import FAILED, WOULD_DELETE
from .chunk_results import UNCHANGED as SAME
from .work import Run


def write(run: Run, summary: dict, details: dict, work) -> None:
    """Stream the report (JSON Lines) into the work area (`work`: its client)."""
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
    with s3.LineWriter(work, run.work_bucket, run.report_key) as out:
        out.write(head)
        for line in action_lines(run, PlanTotals.from_dict(details["plan"]), summary["deletes_ran"], work,
                                 details.get("chunk_errors")):
            out.write(line)
        out.write(dict(summary, type="summary"))


def action_lines(run: Run, plan_totals: PlanTotals, deletes_ran: bool, work,
                 chunk_errors_seen: dict | None = None) -> Iterator[dict]:
    """Every key the run looked at, one line each (DataSync reports counts,
    not keys: its part is the summary's `datasync`)."""
    request = run.request
    if request is None:
        return
    for kind in (COPY, DELETE):
        if kind == DELETE and not deletes_ran:
            if run.dry_run and request.delete:   # what the real run would delete
                for action in _planned(run, DELETE, work):
                    yield _line(action.key, action.size, WOULD_DELETE, "absent at the source")
            continue
        errors = {int(n): why for n, why in (chunk_errors_seen or {}).get(kind, {}).items()}
        for number, result, lost in chunk_results(run, kind, work):
            if result is None:
                for action in lost:
                    yield _line(action.key, action.size, FAILED, unfinished(kind, number, errors))
                continue
            for done in result.actions:
                yield _line(*done)
    for action in _planned(run, UNCHANGED, work):
        yield _line(action.key, action.size, SAME, action.why)
    if not request.delete and plan_totals.delete:
        yield {"type": "note", "text": f"{plan_totals.delete} destination object(s) absent at the source were "
                                       f"kept (delete is off)"}


def _planned(run: Run, kind: str, work) -> Iterator:
    """The planned actions of `kind`, chunk by chunk."""
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
