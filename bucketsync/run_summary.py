"""The run's summary (the execution's output) and what the report's run
line adds, from the chunk totals and the plan; its lists and texts are
bounded."""
from __future__ import annotations

import json

from . import settings as settings_mod

from .chunk_totals import collect, copy_totals, empty_totals
from .datasync.branch import summary as datasync_summary
from .endpoints import SIDES
from .diff import COPY, DELETE, PlanTotals
from .observed import Observed
from .server_findings import notes
from .work import Run

SUMMARY_FAILED_KEYS = 10
# The summary is the execution's output, and the cause of SyncFailedError (a
# Fail state's cause holds at most 32,768 characters; a state 256 KiB): its
# lists and texts are bounded, their whole in the report.
SUMMARY_KEYS_CHARS = 8_000    # failed_keys, as JSON (a 1,024-byte key can take 6,144)
SUMMARY_LIST_ITEMS = 100      # unfinished chunk numbers per kind


def summarize(run: Run, plan_totals: PlanTotals, deletes_ran: bool, work, maps: dict | None = None,
              error: dict | None = None, datasync: dict | None = None) -> tuple[dict, dict]:
    """(summary, details): the flat execution output, and what the report's
    run line adds. In a dry run, `deleted` is what the deletes would be.
    `maps` holds the Distributed Maps' outputs ({"copy": ..., "delete": ...});
    `datasync` the DataSync branch's state, when the input had one; `work`
    the work area's client."""
    # A DataSync-only run has no object-level sync to sum.
    copies = copy_totals(run, (maps or {}).get(COPY), work) if run.request is not None else empty_totals(COPY)
    dry_run = run.dry_run or bool((datasync or {}).get("dry_run"))
    deletes = _delete_totals(run, plan_totals, deletes_ran, maps, work)
    summary = _counts(run, plan_totals, copies, deletes, dry_run, deletes_ran, datasync)
    unfinished = {kind: totals["missing_chunks"] for kind, totals in ((COPY, copies), (DELETE, deletes))
                  if totals["missing_chunks"]}
    if unfinished:   # chunks whose Lambda never finished: their keys are in failed_keys and the report
        summary["unfinished_chunks"] = {kind: numbers[:SUMMARY_LIST_ITEMS] for kind, numbers in unfinished.items()}
    if datasync:   # its filters are their beginnings (stowed by ValidateInput), the whole in the report
        summary["datasync"] = datasync_summary(datasync)
    if error:
        summary["error"] = error.get("Error")
        summary["cause"] = summary["message"] = error.get("Cause")
    return summary, _details(run, plan_totals, copies, deletes)


def _delete_totals(run: Run, plan_totals: PlanTotals, deletes_ran: bool, maps: dict | None, work) -> dict:
    if deletes_ran:
        # The delete results are read here for the totals the report's first
        # line needs, and again by `action_lines`: twice a GET per thousand
        # deletes, where holding every line instead would grow with the bucket.
        return collect(run, DELETE, (maps or {}).get(DELETE), work)
    deletes = empty_totals(DELETE)
    deletes["deleted"] = plan_totals.delete if run.dry_run and run.request.delete else 0
    return deletes


def _counts(run: Run, plan_totals: PlanTotals, copies: dict, deletes: dict, dry_run: bool, deletes_ran: bool,
            datasync: dict | None) -> dict:
    """The summary's counts, places and first failed keys."""
    request = run.request
    failures = copies["failures"] + deletes["failures"]
    return {
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


def _details(run: Run, plan_totals: PlanTotals, copies: dict, deletes: dict) -> dict:
    """What the report's run line adds: the plan, what the servers were seen
    to do and the notes it gives, the chunks without a result and why."""
    observed = Observed.from_dict(copies.get("observed"))
    observed.merge(Observed.from_dict(deletes.get("observed")))
    emulated = {side for side in SIDES if getattr(run, f"{side}_endpoint").on_aws} \
        if settings_mod.load().emulated_aws else set()
    return {"plan": plan_totals.to_dict(), "server": observed.to_dict(),
            "notes": notes(observed, plan_totals, run.request, emulated),
            "missing_chunks": {"copy": copies["missing_chunks"], "delete": deletes["missing_chunks"]},
            "chunk_errors": {COPY: copies.get("chunk_errors") or {}, DELETE: deletes.get("chunk_errors") or {}}}


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
