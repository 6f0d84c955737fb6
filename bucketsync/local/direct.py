"""`fab datasync-preview` and `fab mirror-replay`: one function's logic run
on the buckets themselves (AWS or the endpoints given), with no emulator and
no state machine."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from pathlib import Path

from ..datasync.begin import check_expandable, resolve_task
from ..endpoints import check_url
from ..errors import ConfigError, InvalidInputError
from ..project.options import SyncOptions
from ..project.terminal import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, fail_early, human_bytes
from .places import endpoint_for, flag_places


@contextlib.contextmanager
def _straight_to_the_buckets(variables: dict):
    """The functions' clients, with these variables (those given), talking to
    the buckets directly (AWS or the endpoints): no emulator in between, as
    for the commands that run one handler's logic rather than a state machine."""
    from .. import clients
    from .environment import environment
    with environment({name: value for name, value in variables.items() if value}):
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
    from ..project.config import load_datasync_tasks
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
        from .environment import datasync_state_dir
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
        places, spec, events = _replay_inputs(events_file, source, destination, prefix,
                                              (source_endpoint_url, destination_endpoint_url),
                                              (source_profile, destination_profile))
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


def _replay_inputs(events_file: str, source: str, destination: str, prefix: str | None, urls: tuple, profiles: tuple):
    """Each side's place, the mirror and the (label, event) pairs that a
    replay's flags mean; InvalidInputError for any flag that is wrong."""
    from .. import mirror
    entry = {"name": "replay", "source": source or "", "destination": destination or ""}
    if prefix is not None:
        entry["prefix"] = prefix
    for url, flag in zip(urls, ("--source-endpoint-url", "--destination-endpoint-url")):
        if url:
            check_url(url, flag)
    # One bucket name on two endpoints is two buckets (as for `fab sync`),
    # each side's place resolved as its requests will go.
    places = flag_places(urls[0], urls[1], None, profiles[0], profiles[1])
    spec = mirror.check_mirror(entry, "mirror-replay", places)
    try:
        text = Path(events_file).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"--events {events_file}: cannot read the file: {exc.strerror}") from None
    events = [(f"{events_file}:{n}", e) for n, e in enumerate(mirror.read_events(text), start=1)]
    return places, spec, events
