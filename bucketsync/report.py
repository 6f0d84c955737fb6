"""Sum the per-chunk result files into the run's summary and report.

Success is decided here, from the result files, not from the Map state's
status: a chunk without a result file is a failure (its Lambda never
finished), whatever the orchestrator says about it."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from . import clients, s3
from .plan import COPY, DELETE
from .work import Run

SUMMARY_FAILED_KEYS = 10
COPY_COUNTS = ("copied", "unchanged", "failed", "skipped", "bytes_copied")
DELETE_COUNTS = ("deleted", "failed")


def collect(run: Run, kind: str) -> dict:
    """Totals over `kind`'s result files, with every failure listed."""
    work = clients.work_client()
    index = s3.get_json(work, run.work_bucket, run.index_key(kind), missing=[])
    counts = COPY_COUNTS if kind == COPY else DELETE_COUNTS
    totals = dict.fromkeys(counts, 0)
    totals.update(failures=[], skipped_keys=[], missing_chunks=[])

    def read(item):
        number = item["number"]
        result = s3.get_json(work, run.work_bucket, run.result_key(kind, number), missing=None)
        if result is None:   # the chunk never finished: all of it failed
            chunk = s3.get_json(work, run.work_bucket, run.chunk_key(kind, number))
            keys = [action[1] if kind == COPY else action[0] for action in chunk["actions"]]
            return number, None, keys
        return number, result, None

    with ThreadPoolExecutor(16) as pool:
        for number, result, lost in pool.map(read, index):
            if result is None:
                totals["missing_chunks"].append(number)
                totals["failed"] += len(lost)
                totals["failures"].extend({"key": k, "error": f"{kind} chunk {number} did not finish"}
                                          for k in lost)
                continue
            for name in counts:
                totals[name] += result.get(name, 0)
            totals["failures"].extend(result.get("failures", ()))
            totals["skipped_keys"].extend(result.get("skipped_keys", ()))
    return totals


def copy_totals(run: Run) -> dict:
    """The copy results summed: Tally sums them once and keeps the sum; a
    report made before Tally (a failure earlier on) sums them itself."""
    work = clients.work_client()
    saved = s3.get_json(work, run.work_bucket, run.copy_totals_key, missing=None)
    if saved is not None:
        return saved
    totals = collect(run, COPY)
    s3.put_json(work, run.work_bucket, run.copy_totals_key, totals)
    return totals


def summarize(run: Run, plan_totals: dict, deletes_ran: bool, error: dict | None = None) -> tuple[dict, dict]:
    """(summary, report): the flat execution output and the full report.
    In a dry run, `deleted` is what the deletes would have been."""
    copies = copy_totals(run)
    request = run.request
    if deletes_ran:
        deletes = collect(run, DELETE)
    else:
        would = plan_totals.get("delete", 0) if request.dry_run and request.delete else 0
        deletes = {"deleted": would, "failed": 0, "failures": [], "missing_chunks": []}
    failures = copies["failures"] + deletes["failures"]
    summary = {
        "copied": copies["copied"],
        "deleted": deletes["deleted"],
        "unchanged": plan_totals.get("unchanged", 0) + copies["unchanged"],
        "failed": copies["failed"] + deletes["failed"],
        "skipped": copies["skipped"],
        "bytes_copied": copies["bytes_copied"],
        "dry_run": request.dry_run,
        "report": run.report_location,
        "run_id": run.id,
        "source": f"s3://{request.source}/{request.source_prefix}",
        "destination": f"s3://{request.destination}/{request.destination_prefix}",
        "source_objects": plan_totals.get("source_objects", 0),
        "destination_objects": plan_totals.get("destination_objects", 0),
        "failed_keys": [f["key"] for f in failures[:SUMMARY_FAILED_KEYS]],
    }
    if error:
        summary["error"] = error.get("Error")
        summary["cause"] = error.get("Cause")
    report = dict(summary, request=request.to_dict(), plan=plan_totals,
                  failures=failures, skipped_keys=copies["skipped_keys"],
                  missing_chunks={"copy": copies["missing_chunks"], "delete": deletes["missing_chunks"]})
    return summary, report


def write(run: Run, report: dict) -> None:
    s3.put_json(clients.work_client(), run.work_bucket, run.report_key, report)
