"""`fab sync`: build the execution input from flags, run the real state
machine in-process, show progress and a summary. Plain functions, so tests
call them without Fabric."""
from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..errors import InvalidInputError
from ..request import validate
from . import engine

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


@dataclass
class SyncOptions:
    source: str | None = None
    destination: str | None = None
    prefix: str | None = None
    source_prefix: str | None = None
    destination_prefix: str | None = None
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    dry_run: bool = False
    no_delete: bool = False
    max_delete: str | None = None
    allow_empty_source: bool = False
    endpoint_url: str | None = None
    json: bool = False


def build_input(opts: SyncOptions) -> dict:
    """The execution input these flags mean (validated later, by the same
    validator the state machine uses)."""
    data = {"source": opts.source if opts.source is not None else "",
            "destination": opts.destination if opts.destination is not None else ""}
    for name in ("prefix", "source_prefix", "destination_prefix"):
        if getattr(opts, name) is not None:
            data[name] = getattr(opts, name)
    if opts.include:
        data["include"] = list(opts.include)
    if opts.exclude:
        data["exclude"] = list(opts.exclude)
    if opts.dry_run:
        data["dry_run"] = True
    if opts.no_delete:
        data["delete"] = False
    if opts.max_delete is not None:
        data["max_delete"] = opts.max_delete
    if opts.allow_empty_source:
        data["allow_empty_source"] = True
    return data


def endpoint_for(opts: SyncOptions) -> str | None:
    return opts.endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def quiet_moto_logs() -> None:
    # The interpreter logs every caught Task error with its full state; the
    # user gets one readable line from us instead.
    for name in ("moto", "moto.stepfunctions", "botocore.credentials"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def sync(opts: SyncOptions, *, embedded: bool = False, settings: dict | None = None,
         out=None, err=None) -> int:
    """Run one sync; returns the exit status. `embedded`: the caller has
    started moto and the buckets live there (demo, tests)."""
    out = out or sys.stdout
    err = err or sys.stderr
    execution_input = build_input(opts)
    try:
        request = validate(execution_input)
    except InvalidInputError as exc:
        print(f"error: InvalidInputError: {exc}", file=err)
        return EXIT_BAD_INPUT
    quiet_moto_logs()
    endpoint = endpoint_for(opts)
    err_console = Console(file=err)
    show_progress = not opts.json and err_console.is_terminal
    try:
        with _mock(embedded, endpoint, request), _progress(err_console, show_progress) as listener:
            outcome = engine.run(execution_input, endpoint_url=endpoint, settings=settings, listener=listener)
    except Exception as exc:   # a bug or an environment problem: still one readable line
        print(f"error: {type(exc).__name__}: {exc}", file=err)
        return EXIT_FAILED
    return report_outcome(outcome, opts.json, out, err)


@contextlib.contextmanager
def _mock(embedded: bool, endpoint: str | None, request):
    if embedded:
        yield
        return
    from moto import mock_aws
    if endpoint:   # moto never intercepts a custom endpoint; only the scratch stays in memory
        config = engine.moto_config(real_credentials=True)
    else:          # AWS: exactly the user's two buckets pass through
        config = engine.moto_config(real_credentials=True, passthrough_urls=engine.aws_passthrough_urls(
            {request.source, request.destination}))
    with mock_aws(config=config):
        yield


@contextlib.contextmanager
def _progress(console: Console, enabled: bool):
    """Bars for objects listed, copies done (objects and bytes) and deletes."""
    if not enabled:
        yield None
        return
    bars = Progress(TextColumn("{task.description:<8}"), BarColumn(), TextColumn("{task.fields[detail]}"),
                    TimeElapsedColumn(), console=console)
    listed = bars.add_task("listed", total=None, detail="")
    copied = bars.add_task("copied", total=None, detail="", visible=False)
    deleted = bars.add_task("deleted", total=None, detail="", visible=False)
    state = {"listed": 0, "copied": 0, "bytes": 0, "planned": 0, "planned_bytes": 0, "deleted": 0}

    def listener(event: str, count: int, nbytes: int) -> None:
        if event == "listed":
            state["listed"] += count
            bars.update(listed, detail=f"{state['listed']:,} objects (both sides)")
        elif event == "planned":
            state["planned"], state["planned_bytes"] = count, nbytes
            bars.update(listed, total=1, completed=1)
            bars.update(copied, total=max(count, 1), visible=True,
                        detail=f"0/{count:,} objects, 0 B/{human_bytes(nbytes)}")
        elif event in ("copied", "checked"):   # checked: planned, then proven unchanged
            state["copied"] += count
            state["bytes"] += nbytes
            bars.update(copied, completed=state["copied"],
                        detail=f"{state['copied']:,}/{state['planned']:,} objects, "
                               f"{human_bytes(state['bytes'])}/{human_bytes(state['planned_bytes'])}")
        elif event == "deleted":
            state["deleted"] += count
            bars.update(deleted, visible=True, detail=f"{state['deleted']:,} objects")

    with bars:
        yield listener


def report_outcome(outcome: engine.Outcome, as_json: bool, out, err) -> int:
    """Print the summary (table or JSON line) and errors as single lines;
    returns the exit status."""
    summary = outcome.output
    if summary is not None:
        if as_json:
            print(json.dumps(summary, sort_keys=True), file=out, flush=True)
        else:
            Console(file=out).print(summary_table(summary))
    if outcome.status == "SUCCEEDED" and summary is not None and summary.get("failed") == 0:
        return EXIT_OK
    if outcome.error == "SyncFailedError" and summary:
        keys = ", ".join(repr(k) for k in summary.get("failed_keys", []))
        print(f"error: SyncFailedError: {summary['failed']} object(s) failed ({keys}); "
              f"no deletes were run; see {summary.get('report')}", file=err)
    else:
        cause = (outcome.cause or "").replace("\n", " ")
        print(f"error: {outcome.error or outcome.status}: {cause}", file=err)
        if outcome.report_path:
            print(f"report: {outcome.report_path}", file=err)
    return EXIT_FAILED


def summary_table(summary: dict) -> Table:
    title = "bucketsync dry run (nothing written)" if summary.get("dry_run") else "bucketsync"
    table = Table(title=f"{title}: {summary.get('source')} -> {summary.get('destination')}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for name in ("copied", "deleted", "unchanged", "skipped", "failed"):
        label = {"copied": "to copy", "deleted": "to delete"}.get(name, name) if summary.get("dry_run") else name
        table.add_row(label, f"{summary.get(name, 0):,}")
    table.add_row("bytes copied", human_bytes(summary.get("bytes_copied", 0)))
    table.add_row("report", str(summary.get("report")))
    for key in summary.get("failed_keys", []):
        table.add_row("failed key", key)
    return table


def human_bytes(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{count} B"
