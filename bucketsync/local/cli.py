"""`fab sync`: build the execution input from flags, run the real state
machine in-process, show progress and a summary. Plain functions, so tests
call them without Fabric."""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from typing import NoReturn

from .. import report
from ..endpoints import SIDES, Endpoint
from ..errors import ConfigError, InvalidInputError, ReportDirectoryError
from ..execution_input import validate_input
from ..project.outcome import Outcome
from ..project.options import SyncOptions, execution_input
from ..project.terminal import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, fail_early, report_outcome
from .environment import usable_report_dir
from .places import endpoint_for, side_endpoints, where
from .progress_bars import progress_bars


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
    try:
        given = execution_input(opts)
        sides = side_endpoints(opts)
        # The same-bucket check compares the places the run will use: the
        # input's endpoints, else these flags (and AWS_ENDPOINT_URL_S3).
        inputs = validate_input(given, sides)
        tasks = datasync_tasks_for(inputs)
        # Before anything is written, not after the copies and deletes.
        usable_report_dir()
    except (InvalidInputError, ConfigError, ReportDirectoryError) as exc:
        return fail_early(type(exc).__name__, str(exc), opts.json, out, err, EXIT_BAD_INPUT)
    request = inputs.sync
    quiet_moto_logs()
    endpoint = endpoint_for(opts)
    err_console = None
    if not opts.json:   # rich only for a terminal's bars (its import is ~30 ms of start-up)
        from rich.console import Console
        err_console = Console(file=err)
    show_progress = err_console is not None and err_console.is_terminal
    from . import engine   # here, not at the top: a refused input is answered without importing moto
    try:
        with _mock(embedded, endpoint, aws_buckets(inputs, tasks, where(inputs, sides), endpoint),
                   secrets=any(place.secret for place in where(inputs, sides).values())), \
                progress_bars(err_console, show_progress) as listener:
            outcome = engine.run(given, endpoint_url=endpoint, settings=settings, listener=listener,
                                 datasync_tasks=tasks, sides=sides, emulated_aws=embedded)
    except KeyboardInterrupt:   # a second SIGINT: stop at once, but say so in one line
        return fail_early("RunInterrupted", "stopped at once by a second signal: no report was written, and the "
                          "deletes and copies under way may or may not have been made; multipart uploads left open "
                          "are aborted by the next run's copy of their key (or a lifecycle rule); rerun to finish",
                          opts.json, out, err, EXIT_INTERRUPTED[signal.SIGINT])
    except Exception as exc:   # a bug or an environment problem: still one readable line
        return fail_early(type(exc).__name__, str(exc), opts.json, out, err, EXIT_FAILED)
    if inputs.dry_run and request is not None and not opts.json:
        print_planned(outcome, request, out)
    return report_outcome(outcome, opts.json, out, err)


def exit_now(status: int) -> NoReturn:
    """End the `fab sync` process with `status` at once, its output flushed.
    Everything a run writes (report, lease, local state) is closed by then;
    what is skipped is the interpreter's teardown: freeing some 10^6 objects
    one by one after a last full collection, 0.3-0.8 s of a 20-object run.
    For the command line only (tests and the demo call `sync`)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):   # a closed or broken pipe: nothing left to say
            stream.flush()
    os._exit(status)


def datasync_tasks_for(inputs) -> dict:
    """DATASYNC_TASKS from fabfile_config.py when the input names a task
    (checked here, before anything starts, as ValidateInput will). The
    file, when there is one, is read for every run: a misspelt setting is
    refused (ConfigError), as `fab deploy` refuses it."""
    from ..project.config import load_datasync_tasks
    tasks = load_datasync_tasks()
    if inputs.datasync is None:
        return {}
    from ..datasync.begin import check_expandable, resolve_task
    from ..datasync.ownership import check_beside_sync
    from .datasync_runs import local_tasks
    spec = resolve_task(inputs.datasync, local_tasks(tasks))
    check_expandable(inputs.datasync, spec)
    check_beside_sync(inputs.sync, inputs.datasync, spec)
    return tasks


def aws_buckets(inputs, tasks: dict, places: dict[str, Endpoint], endpoint: str | None) -> set[str]:
    """The buckets the run reads or writes on AWS (their requests pass through
    the emulator; a custom endpoint's never reach it)."""
    buckets = set()
    if inputs.sync is not None:
        buckets |= {getattr(inputs.sync, side) for side in SIDES if places[side].on_aws}
    if not endpoint:   # the local DataSync works on the run's one endpoint
        for spec in tasks.values():
            buckets |= {location.bucket for location in (spec.source, spec.destination) if location.kind == "s3"}
    return buckets


@contextlib.contextmanager
def _mock(embedded: bool, endpoint: str | None, buckets: set[str], secrets: bool = False):
    """moto around a local run: the scratch stays in memory; requests for the
    user's AWS buckets (and Secrets Manager, when the input names secrets)
    pass through to AWS, signed with the user's own credentials."""
    if embedded:
        yield
        return
    from moto import mock_aws

    from .emulator import aws_passthrough_urls, moto_config
    config = moto_config(real_credentials=True, passthrough_urls=aws_passthrough_urls(buckets),
                         passthrough_services=["secretsmanager"] if secrets else [])
    with mock_aws(config=config):
        yield


DRY_RUN_LINES = 200


def print_planned(outcome: Outcome, request, out, limit: int | None = None) -> None:
    """What a dry run would do, one line per object as `aws s3 sync --dryrun`
    prints it; beyond `limit` lines, a count and the report's path."""
    if outcome.report_path is None:
        return
    limit = DRY_RUN_LINES if limit is None else limit
    source = f"s3://{request.source}/{request.source_prefix}"
    destination = f"s3://{request.destination}/{request.destination_prefix}"
    shown = more = 0
    with outcome.report_path.open(encoding="utf-8") as lines:
        for action in report.records(lines):
            if action.get("type") != "action":
                continue
            if action["outcome"] == "would-copy":
                text = f"(dryrun) copy: {source}{action['key']} to {destination}{action['key']}"
            elif action["outcome"] == "would-update":
                text = f"(dryrun) update tags: {destination}{action['key']}"
            elif action["outcome"] == "would-delete":
                text = f"(dryrun) delete: {destination}{action['key']}"
            else:
                continue
            if shown < limit:
                print(text, file=out)
                shown += 1
            else:
                more += 1
    if more:
        print(f"(dryrun) ... and {more:,} more; every action is in {outcome.report_path}", file=out)
