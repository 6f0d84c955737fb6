"""`fab sync`: build the execution input from flags, run the real state
machine in-process, show progress and a summary. Plain functions, so tests
call them without Fabric."""
from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .. import interrupt, report
from ..datasync.ownership import check_beside_sync
from ..datasync.begin import check_expandable, resolve_task
from ..deploy.errors import ConfigError
from ..endpoints import AWS, SIDES, Endpoint, check_url, place, resolve
from ..errors import InvalidInputError, ReportDirectoryError
from ..inputs import validate_input
from ..outcome import Outcome

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_INTERRUPTED = {signal.SIGINT: 130, signal.SIGTERM: 143}   # 128 + the signal, as shells report it


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
    check_metadata: bool = False
    verify: bool = False
    endpoint_url: str | None = None
    # One side's own endpoint and profile (the other side keeps --endpoint-url,
    # or AWS, and the default credentials).
    source_endpoint_url: str | None = None
    source_profile: str | None = None
    destination_endpoint_url: str | None = None
    destination_profile: str | None = None
    json: bool = False
    input: str | None = None          # a whole execution input: JSON, or @file.json


INPUT_FLAGS = ("source", "destination", "prefix", "source_prefix", "destination_prefix", "include", "exclude",
               "dry_run", "no_delete", "max_delete", "allow_empty_source", "check_metadata", "verify")


def execution_input(opts: SyncOptions) -> dict:
    """The execution input: `--input` as given (exactly what the console
    would start), or the one the flags build. Raises InvalidInputError."""
    if opts.input is None:
        return build_input(opts)
    given = [name.replace("_", "-") for name in INPUT_FLAGS if getattr(opts, name) not in (None, False, [])]
    if given:
        raise InvalidInputError(f"--input is the whole execution input: leave out --{', --'.join(given)} "
                                f"(put them in the input)")
    text = opts.input
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInputError(f"--input {opts.input}: cannot read the file: {exc.strerror}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidInputError(f"--input is not valid JSON: {exc}") from None


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
    if opts.check_metadata:
        data["check_metadata"] = True
    if opts.verify:
        data["verify"] = True
    return data


REPEATABLE_FLAGS = ("--include", "--exclude")


def flags_without_value(argv: list[str], flags=REPEATABLE_FLAGS) -> list[str]:
    """Repeatable flags given with no value (`--include` last, or followed by
    another flag; `--include=`, or an empty shell variable). Invoke reads
    them as an empty list, which would silently mean "no filter"."""
    missing = []
    for position, arg in enumerate(argv):
        name, equals, value = arg.partition("=")
        if name not in flags:
            continue
        following = argv[position + 1] if position + 1 < len(argv) else None
        if (equals and not value) or (not equals and (following is None or following.startswith("-")
                                                       or following == "")):
            missing.append(name)
    return sorted(set(missing))


def refuse_flags_without_value(argv: list[str], as_json: bool, out, err) -> int | None:
    """EXIT_BAD_INPUT (after saying why) when a repeatable flag has no value."""
    missing = flags_without_value(argv)
    if not missing:
        return None
    message = (f"{', '.join(missing)} given without a value (an unset shell variable?): give a glob, "
               f"or leave the flag out for no filter")
    return fail_early("InvalidInputError", message, as_json, out, err, EXIT_BAD_INPUT)


def fail_early(error: str, message: str, as_json: bool, out, err, status: int, counts: dict | None = None) -> int:
    """One line on stderr; with --json, also one JSON object as the last line
    of stdout, so scripts always have something to parse."""
    print(f"error: {error}: {message}", file=err)
    if as_json:
        print(json.dumps(dict(counts or {}, error=error, message=message), sort_keys=True), file=out, flush=True)
    return status


def endpoint_for(opts: SyncOptions) -> str | None:
    return opts.endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def side_endpoints(opts: SyncOptions) -> dict[str, Endpoint]:
    """Each side's place from the flags (see `flag_places`)."""
    return flag_places(opts.source_endpoint_url, opts.destination_endpoint_url, opts.endpoint_url,
                       opts.source_profile, opts.destination_profile)


def flag_places(source_url: str | None, destination_url: str | None, shared_url: str | None = None,
                source_profile: str | None = None, destination_profile: str | None = None) -> dict[str, Endpoint]:
    """Each side's place as its requests will really go: its own
    --<side>-endpoint-url, else the shared one (--endpoint-url, then
    AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL), else the endpoint its profile
    (or the default configuration) names, else AWS; and its own profile, if
    any. A place left out here would be taken for AWS while botocore sends
    its requests elsewhere: the same-bucket check and the lease would then
    compare the wrong places. Raises InvalidInputError for a URL that is not
    one, or a profile that does not exist."""
    shared = shared_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None
    sides = {}
    for side, url, profile in (("source", source_url, source_profile),
                               ("destination", destination_url, destination_profile)):
        for given, flag in ((url, f"--{side}-endpoint-url"), (shared_url, "--endpoint-url")):
            if given:
                check_url(given, flag)
        url = (url or shared or configured_url(profile) or "").rstrip("/") or None
        sides[side] = Endpoint(url=url, profile=profile or None)
    return sides


def configured_url(profile: str | None) -> str | None:
    """The S3 endpoint that a profile's configuration (`endpoint_url`, or a
    `services` section), or the default configuration's with no profile,
    sends requests to, when it is not AWS; None otherwise."""
    import botocore.session
    from botocore.exceptions import ProfileNotFound
    try:
        session = botocore.session.Session(profile=profile)
        scoped = session.get_scoped_config()
    except ProfileNotFound:
        raise InvalidInputError(f"profile {profile!r} is not in your AWS configuration") from None
    if "endpoint_url" not in scoped and "services" not in scoped:
        return None   # the common case, without building a client
    url = session.create_client("s3", region_name=session.get_config_variable("region") or "us-east-1").meta.endpoint_url
    return None if place(url) == AWS else url


def where(inputs, sides: dict[str, Endpoint]) -> dict[str, Endpoint]:
    """Each side's place as the run will resolve it: the input's
    `<side>_endpoint` first, else the flags'."""
    request = inputs.sync
    return {side: resolve(getattr(request, f"{side}_endpoint", None), side, sides) for side in SIDES}


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
        from . import engine   # here, not at the top: `fab start`/`fab status` share this module and need no moto
        # Before anything is written, not after the copies and deletes.
        engine.usable_report_dir()
    except (InvalidInputError, ConfigError, ReportDirectoryError) as exc:
        return fail_early(type(exc).__name__, str(exc), opts.json, out, err, EXIT_BAD_INPUT)
    request = inputs.sync
    quiet_moto_logs()
    endpoint = endpoint_for(opts)
    err_console = Console(file=err)
    show_progress = not opts.json and err_console.is_terminal
    try:
        with _mock(embedded, endpoint, aws_buckets(inputs, tasks, where(inputs, sides), endpoint),
                   secrets=any(place.secret for place in where(inputs, sides).values())), \
                _progress(err_console, show_progress) as listener:
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


def datasync_tasks_for(inputs) -> dict:
    """DATASYNC_TASKS from fabfile_config.py when the input names a task
    (checked here, before anything starts, as ValidateInput will). The
    file, when there is one, is read for every run: a misspelt setting is
    refused (ConfigError), as `fab deploy` refuses it."""
    from ..deploy.config import load_datasync_tasks
    tasks = load_datasync_tasks()
    if inputs.datasync is None:
        return {}
    from .engine import local_tasks
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

    from . import engine
    config = engine.moto_config(real_credentials=True, passthrough_urls=engine.aws_passthrough_urls(buckets),
                                passthrough_services=["secretsmanager"] if secrets else [])
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
    copied = bars.add_task("copy", total=None, detail="", visible=False)
    deleted = bars.add_task("deleted", total=None, detail="", visible=False)
    state = {"listed": 0, "done": 0, "copied": 0, "checked": 0, "other": 0, "bytes": 0, "planned": 0,
             "planned_bytes": 0, "deleted": 0}

    def listener(event: str, count: int, nbytes: int) -> None:
        if event == "listed":
            state["listed"] += count
            bars.update(listed, detail=f"{state['listed']:,} objects (both sides)")
        elif event == "planned":
            state["planned"], state["planned_bytes"] = count, nbytes
            bars.update(listed, total=1, completed=1)
            bars.update(copied, total=max(count, 1), visible=True,
                        detail=f"0/{count:,} objects, 0 B/{human_bytes(nbytes)}")
        elif event in ("copied", "checked", "skipped", "failed"):
            # Every planned copy ends as one of these; a check (proven the
            # same by one HEAD) is counted apart from a copy.
            state["done"] += count
            state["copied" if event == "copied" else "checked" if event == "checked" else "other"] += count
            state["bytes"] += nbytes
            bars.update(copied, completed=state["done"],
                        detail=f"{state['done']:,}/{state['planned']:,} planned: {state['copied']:,} copied, "
                               f"{state['checked']:,} checked same, {state['other']:,} skipped/failed; "
                               f"{human_bytes(state['bytes'])}/{human_bytes(state['planned_bytes'])}")
        elif event == "deleted":
            state["deleted"] += count
            bars.update(deleted, visible=True, detail=f"{state['deleted']:,} objects")

    with bars:
        yield listener


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


@contextlib.contextmanager
def _straight_to_the_buckets(variables: dict):
    """The functions' clients, with these variables (those given), talking to
    the buckets directly (AWS or the endpoints): no emulator in between, as
    for the commands that run one handler's logic rather than a state machine."""
    from .. import clients
    from .engine import _environment
    with _environment({name: value for name, value in variables.items() if value}):
        clients.reset()
        try:
            yield
        finally:
            clients.reset()


def datasync_preview(task: str, include: list[str], date: str = "yesterday", timezone: str = "UTC",
                     catch_up_days: int = 0, exclude: list[str] | None = None, endpoint_url: str | None = None,
                     as_json: bool = False, out=None, err=None) -> int:
    """`fab datasync-preview`: the expanded include filter and the source keys
    it selects, for a task of DATASYNC_TASKS; writes nothing."""
    from .datasync_preview import preview
    from ..datasync.request import validate_datasync
    from ..stores import DirectoryStore
    from ..deploy.config import load_datasync_tasks
    out, err = out or sys.stdout, err or sys.stderr
    try:
        days = int(catch_up_days) if str(catch_up_days).strip().lstrip("-").isdigit() else catch_up_days
        request = validate_datasync({"task": task, "include": list(include or []), "date": date,
                                     "timezone": timezone, "catch_up_days": days, "exclude": list(exclude or [])})
        tasks = load_datasync_tasks()
        spec = resolve_task(request, tasks)
        if spec is None:
            raise InvalidInputError(f"datasync task {task!r}: preview needs a task of DATASYNC_TASKS (its source)")
        check_expandable(request, spec)
        from .engine import datasync_state_dir
        store = DirectoryStore(datasync_state_dir())
        endpoint = endpoint_for(SyncOptions(endpoint_url=endpoint_url))
        with _straight_to_the_buckets({"BUCKETSYNC_S3_ENDPOINT_URL": endpoint}):
            shown = preview(request, spec, store=store)
    except (InvalidInputError, ConfigError) as exc:
        return fail_early(type(exc).__name__, str(exc), as_json, out, err, EXIT_BAD_INPUT)
    except Exception as exc:   # listing failed: access, endpoint, missing bucket
        return fail_early(type(exc).__name__, str(exc), as_json, out, err, EXIT_FAILED)
    if as_json:
        print(json.dumps(shown, sort_keys=True), file=out)
        return EXIT_OK
    print(f"task {shown['task']}: {shown['source']} -> {shown['destination']}", file=out)
    empty = f" (nothing at the source yet: {', '.join(shown['empty_dates'])})" if shown["empty_dates"] else ""
    print(f"dates: {', '.join(shown['dates']) or '(none)'}{empty}", file=out)
    print(f"include filter: {shown['includes'] or '(none: the whole location)'}", file=out)
    print(f"exclude filter: {shown['excludes'] or '(none)'}", file=out)
    if shown["note"]:
        print(f"note: {shown['note']}", file=out)
    print(f"selected source keys: {shown['count']:,} ({human_bytes(shown['bytes'])})", file=out)
    for key in shown["keys"]:
        print(f"  {key}", file=out)
    if shown["count"] > len(shown["keys"]):
        print(f"  ... and {shown['count'] - len(shown['keys']):,} more", file=out)
    return EXIT_OK


def mirror_replay(events_file: str, source: str, destination: str, prefix: str | None = None,
                  source_endpoint_url: str | None = None, destination_endpoint_url: str | None = None,
                  as_json: bool = False, out=None, err=None, source_profile: str | None = None,
                  destination_profile: str | None = None) -> int:
    """`fab mirror-replay`: recorded EventBridge S3 events through the mirror's
    handler, on the buckets themselves (AWS or the endpoints given), each side
    with its profile's keys when one is given (as for `fab sync`); the last
    line of --json is {"copied", "deleted", "unchanged", "failed", ...}."""
    from .. import mirror, settings as settings_mod
    out, err = out or sys.stdout, err or sys.stderr
    counts = {name: 0 for name in mirror.OUTCOMES}
    try:
        entry = {"name": "replay", "source": source or "", "destination": destination or ""}
        if prefix is not None:
            entry["prefix"] = prefix
        for url, flag in ((source_endpoint_url, "--source-endpoint-url"),
                          (destination_endpoint_url, "--destination-endpoint-url")):
            if url:
                check_url(url, flag)
        # One bucket name on two endpoints is two buckets (as for `fab sync`),
        # each side's place resolved as its requests will go.
        places = flag_places(source_endpoint_url, destination_endpoint_url, None, source_profile,
                             destination_profile)
        spec = mirror.check_mirror(entry, "mirror-replay", places)
        try:
            text = Path(events_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInputError(f"--events {events_file}: cannot read the file: {exc.strerror}") from None
        events = [(f"{events_file}:{n}", e) for n, e in enumerate(mirror.read_events(text), start=1)]
    except InvalidInputError as exc:
        return fail_early(type(exc).__name__, str(exc), as_json, out, err, EXIT_BAD_INPUT, counts)
    # The mirror's clients read each side's place from these, as the
    # functions of a `fab sync` run do (endpoints.defaults).
    environment = {f"BUCKETSYNC_{side.upper()}_{what}": value for side, place in places.items()
                   for what, value in (("ENDPOINT_URL", place.url), ("PROFILE", place.profile))}
    try:
        # Lag metrics are for CloudWatch; here they would only clutter the output.
        with _straight_to_the_buckets(environment), open(os.devnull, "w") as metrics:
            tally, failed = mirror.handle(events, [spec], settings_mod.load(), metrics=metrics)
    except KeyboardInterrupt:
        return fail_early("RunInterrupted", "the replay was interrupted; keys not yet reconciled were left "
                          "(replaying again is safe: each key is reconciled as it is then)", as_json, out, err,
                          EXIT_INTERRUPTED[signal.SIGINT], counts)
    except Exception as exc:   # an endpoint or credentials problem: one line
        return fail_early(type(exc).__name__, str(exc), as_json, out, err, EXIT_FAILED, counts)
    summary = tally.to_dict()
    for failure in tally.failures:
        print(f"failed: {failure.get('key') or failure.get('event')}: {failure['error']}", file=err)
    if as_json:
        print(json.dumps(summary, sort_keys=True), file=out)
    else:
        print(", ".join(f"{summary[name]:,} {name}" for name in mirror.OUTCOMES), file=out)
    return EXIT_OK if not failed else EXIT_FAILED
