"""A run's outcome as the terminal shows it: the summary (a table, or one
JSON line with --json), errors as single lines, and the exit status."""
from __future__ import annotations

import json
import signal
from typing import TYPE_CHECKING

from .. import interrupt
from .outcome import Outcome

if TYPE_CHECKING:   # rich is imported where a table is drawn: a --json run needs none of it
    from rich.table import Table

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_INTERRUPTED = {signal.SIGINT: 130, signal.SIGTERM: 143}   # 128 + the signal, as shells report it


def fail_early(error: str, message: str, as_json: bool, out, err, status: int, counts: dict | None = None) -> int:
    """One line on stderr; with --json, also one JSON object as the last line
    of stdout, so scripts always have something to parse."""
    print(f"error: {error}: {message}", file=err)
    if as_json:
        print(json.dumps(dict(counts or {}, error=error, message=message), sort_keys=True), file=out, flush=True)
    return status


REPORT_NOT_WRITTEN = "ReportNotWritten"


def report_outcome(outcome: Outcome, as_json: bool, out, err) -> int:
    """Print the summary (table or JSON line) and errors as single lines;
    returns the exit status. With --json the last line of stdout is always
    one JSON object, also when the run failed before it had a summary. A
    report that could not be written costs nothing else: the counts are
    printed, and one line says why there is no report file (exit 1)."""
    summary = outcome.output
    if summary is not None and outcome.report_error:
        summary["report_error"] = outcome.report_error
    if summary is not None:
        if as_json:
            print(json.dumps(summary, sort_keys=True), file=out, flush=True)
        else:
            from rich.console import Console
            Console(file=out).print(summary_table(summary))
    for note in outcome.notes:
        print(f"note: {note}", file=err)
    if outcome.report_error and (summary is not None or not as_json):
        print(f"error: {REPORT_NOT_WRITTEN}: {outcome.report_error}", file=err)
    report_name = str(outcome.report_path) if outcome.report_path else "no report file"
    if outcome.status == "SUCCEEDED" and summary is not None and summary.get("failed") == 0:
        return EXIT_FAILED if outcome.report_error else EXIT_OK
    if outcome.error == "RunInterrupted":
        done = summary or {}
        deletes = (f"{done.get('deleted', 0):,} deleted before the stop" if done.get("deletes_ran")
                   else "no deletes were run")
        print(f"interrupted: {done.get('copied', 0):,} copied, {done.get('skipped', 0):,} left for later; "
              f"{deletes}; rerun to finish (report: {report_name})", file=err)
        return EXIT_INTERRUPTED.get(interrupt.signal_number(), 130)
    if outcome.error == "SyncFailedError" and summary:
        keys = ", ".join(repr(k) for k in summary.get("failed_keys", []))
        deletes = (f"{summary.get('deleted', 0):,} deleted" if summary.get("deletes_ran")
                   else "no deletes were run")
        print(f"error: SyncFailedError: {summary['failed']} object(s) failed ({keys}); "
              f"{deletes}; see {summary.get('report') or report_name}", file=err)
        return EXIT_FAILED
    cause = (outcome.cause or "").replace("\n", " ")
    error = outcome.error or outcome.status
    where = f" (report: {report_name})" if outcome.report_path or outcome.report_error else ""
    if summary is None and as_json:
        extra = {"report": str(outcome.report_path)} if outcome.report_path else {}
        if outcome.report_error:
            extra["report_error"] = outcome.report_error
        return fail_early(error, cause + where, True, out, err, EXIT_FAILED, extra)
    print(f"error: {error}: {cause}{where}", file=err)
    return EXIT_FAILED


def summary_table(summary: dict) -> Table:
    from rich.table import Table
    title = "bucketsync dry run (nothing written)" if summary.get("dry_run") else "bucketsync"
    table = Table(title=f"{title}: {summary.get('source')} -> {summary.get('destination')}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for name in ("copied", "deleted", "unchanged", "updated", "skipped", "failed"):
        if name == "updated" and not summary.get(name):
            continue   # only runs with check_metadata update tags
        label = ({"copied": "to copy", "deleted": "to delete", "updated": "tags to update"}.get(name, name)
                 if summary.get("dry_run") else {"updated": "tags updated"}.get(name, name))
        table.add_row(label, f"{summary.get(name, 0):,}")
    table.add_row("bytes copied", human_bytes(summary.get("bytes_copied", 0)))
    if summary.get("verified"):
        how = {"listing": "listed", "listing+head": "listed and HEAD"}.get(summary.get("verify"), "")
        table.add_row(f"verified ({how})", f"{summary['verified']:,}")
    table.add_row("report", summary.get("report") or "not written (see below)")
    for key in summary.get("failed_keys", []):
        table.add_row("failed key", key)
    datasync = summary.get("datasync")
    if datasync:   # what DataSync was (or, in a dry run, would be) asked to transfer
        for label, value in datasync_rows(datasync):
            table.add_row(label, value)
    return table


def datasync_rows(datasync: dict) -> list[tuple[str, str]]:
    """The DataSync part of the summary table: its task, status and filters
    (a dry run's main answer), dates and counts."""
    rows = [("DataSync task", str(datasync.get("task"))), ("DataSync status", str(datasync.get("status"))),
            ("DataSync include filter", datasync.get("includes") or "(none: the whole location)"),
            ("DataSync exclude filter", datasync.get("excludes") or "(none)"),
            ("DataSync dates", ", ".join(datasync.get("dates") or []) or "(none)")]
    if datasync.get("empty_dates"):
        rows.append(("DataSync dates with nothing yet", ", ".join(datasync["empty_dates"])))
    if datasync.get("status") != "DRY_RUN":
        rows += [("DataSync files transferred", f"{datasync.get('files_transferred', 0):,}"),
                 ("DataSync files deleted", f"{datasync.get('files_deleted', 0):,}")]
        if datasync.get("files_failed"):
            rows.append(("DataSync files failed", f"{datasync['files_failed']:,}"))
    if datasync.get("reason"):
        rows.append(("DataSync note", datasync["reason"]))
    return rows


def human_bytes(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{count} B"
