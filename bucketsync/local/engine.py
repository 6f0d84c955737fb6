"""Run the real state machine definition and the real Lambda handlers in this
process, on moto's Step Functions interpreter (the patches that needs:
bucketsync.local.emulator).

Routing (DESIGN.md section 6): the scratch bucket always lives in moto's
memory. User buckets are either in moto too (embedded: demo and tests), on an
S3-compatible endpoint (never intercepted by moto; handlers get it through
BUCKETSYNC_S3_ENDPOINT_URL and it is removed from the interpreter's
environment), or on AWS (requests for exactly those buckets pass through,
signed with the user's own credentials).
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
import uuid
from functools import lru_cache
from pathlib import Path

import boto3

from .. import clients, interrupt, progress, report, work
from ..project.outcome import Outcome, outcome_from
from ..project import definition
from ..project.frontmatter import lambda_files
from . import emulator
from .datasync_runs import datasync_environment, local_datasync
from .definition_cache import ParsedDefinitions
from .environment import REGION, environment, run_environment, state_dir, usable_report_dir
from .handlers import Handlers, LocalFunction, LocalFunctions

ACCOUNT = "123456789012"
FUNCTION_PREFIX = "bucketsync-"
MAP_CONCURRENCY = 8
# One scratch bucket name for every run (a run's files lie under its own
# prefix, and moto's memory is this process's): the rendered definition, which
# names it, is then the same text from run to run, and its parse is cached by
# that text (definition_cache). An input that names it gets a random one.
SCRATCH = "bucketsync-scratch-local"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/bucketsync-local"   # named in the execution's context; never checked


def run(execution_input: dict, *, endpoint_url: str | None = None, settings: dict | None = None,
        report_dir: Path | None = None, listener=None, map_concurrency: int = MAP_CONCURRENCY,
        name: str | None = None, datasync_tasks: dict | None = None, sides: dict | None = None,
        emulated_aws: bool = False) -> Outcome:
    """Run one execution of the real definition; moto's mock must be active
    (started with `emulator.moto_config`). Scratch data lives in an in-memory bucket that
    is removed afterwards; the report is saved under `report_dir`.
    `endpoint_url` serves both sides; `sides` ({"source"/"destination":
    Endpoint with url and profile}) sets one side's endpoint or profile.
    `datasync_tasks` (DATASYNC_TASKS, checked) are run by the local DataSync.
    `emulated_aws`: the caller's buckets "on AWS" are in moto (the demo): the
    report then makes no notes of moto's gaps as if they were a server's."""
    scratch = scratch_bucket(execution_input, datasync_tasks)
    name = name or f"sync-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    # Before anything is written: a report that cannot be kept would be found
    # out only after the copies and deletes.
    report_path = usable_report_dir(report_dir) / f"{name}.jsonl"
    handlers = Handlers(files=_lambda_files())
    interrupt.clear()
    # One session for the engine's clients, the interpreter's (boto3's default
    # session, when there is none yet) and the credentials check: each session
    # costs ~15 ms of start-up (botocore registers its ~130 handlers on it).
    session = boto3.session.Session()
    variables = {**run_environment(scratch, endpoint_url, sides or {}, session.get_credentials() is not None),
                 **_run_variables(datasync_tasks, report_path, emulated_aws), **(settings or {})}
    functions = local_functions()
    with environment(variables), _interpreter(handlers, functions, session), local_datasync(datasync_tasks), \
            _signals():
        clients.reset()
        progress.listen(listener)
        # The engine's own clients only ever talk to moto.
        s3, sfn = (session.client(service, region_name=REGION, aws_access_key_id="bucketsync-local",
                                  aws_secret_access_key="bucketsync-local") for service in ("s3", "stepfunctions"))
        undo: list = []
        try:
            s3.create_bucket(Bucket=scratch)
            machine = _create_state_machine(sfn, scratch, map_concurrency, functions, undo)
            execution = sfn.start_execution(stateMachineArn=machine, name=name,
                                            input=json.dumps(execution_input))["executionArn"]
            outcome = outcome_from(wait(sfn, execution), execution)
            return _with_report(outcome, s3, scratch, name, report_path, execution_input)
        finally:
            progress.listen(None)
            _empty_bucket(s3, scratch)
            for step in reversed(undo):
                with contextlib.suppress(Exception):
                    step()
            clients.reset()


def _run_variables(datasync_tasks: dict | None, report_path: Path, emulated_aws: bool) -> dict:
    """The run's variables besides run_environment's (the caller's settings
    come last: they may override any of them, tests do)."""
    return {**datasync_environment(datasync_tasks),
            # The report's own summary names the file the user gets, not the scratch.
            "BUCKETSYNC_REPORT_LOCATION": str(report_path), "BUCKETSYNC_EMULATED_AWS": "1" if emulated_aws else None}


def scratch_bucket(execution_input: dict, datasync_tasks: dict | None) -> str:
    """SCRATCH, unless the run names a bucket of that name (requests for a
    user's bucket pass through to AWS, and the scratch must stay in memory)."""
    named = json.dumps(execution_input) + repr(datasync_tasks or {})
    return f"bucketsync-scratch-{uuid.uuid4().hex[:12]}" if SCRATCH in named else SCRATCH


def local_functions() -> LocalFunctions:
    """The definition's functions, one per lambda_functions/ file, called in
    this process (their ARNs are the definition's Task resources)."""
    return LocalFunctions({
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION_PREFIX}{file.module}":
            LocalFunction(FUNCTION_PREFIX + file.module, f"{file.module}.handler")
        for file in _lambda_files()})


def parsed_definitions() -> ParsedDefinitions:
    """Parsed definitions kept between runs, with the other local state."""
    return ParsedDefinitions(state_dir() / "definitions", emulator.moto_version())


def _create_state_machine(sfn, scratch: str, map_concurrency: int, functions: LocalFunctions, undo: list) -> str:
    """The state machine of the real definition, in moto; `undo` gets what
    removes it. Its Tasks name the `functions` (called in-process)."""
    arns = {"MapConcurrency": map_concurrency, "Partition": "aws", "WorkBucket": scratch}
    by_module = {function.handler.split(".")[0]: arn for arn, function in functions.by_arn.items()}
    for file in _lambda_files():
        arns[file.arn_placeholder] = by_module[file.module]
    machine = sfn.create_state_machine(name=f"bucketsync-{uuid.uuid4().hex[:8]}", roleArn=ROLE,
                                       definition=json.dumps(definition.render(arns)))["stateMachineArn"]
    undo.append(lambda: sfn.delete_state_machine(stateMachineArn=machine))
    return machine


def _with_report(outcome: Outcome, s3, scratch: str, name: str, path: Path, execution_input: dict) -> Outcome:
    """The outcome with its report saved on this machine, its notes, and (for
    a failed run) the counts known so far. A report that cannot be written
    now (the directory went away meanwhile, the disk is full) loses nothing
    else: the counts and notes come from the report in memory, and
    `report_error` says why there is no file."""
    body = _report_body(s3, scratch, name, outcome, execution_input)
    lines = body.decode("utf-8").splitlines()
    outcome.notes = _notes(lines)
    if outcome.output is None:   # a failed run: the counts known so far, from its report
        outcome.output = _failed_summary(lines)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        outcome.report_path = path
    except OSError as exc:
        outcome.report_error = f"the report could not be written to {path}: {exc.strerror or exc}"
    if outcome.output:
        outcome.output["report"] = str(outcome.report_path) if outcome.report_path else None
    return outcome


def wait(sfn, execution_arn: str) -> dict:
    """The execution's description once it has ended (tests wrap this to
    read its history before the run's state machine is removed). Woken by
    the execution's end, not by a clock: it reads the status again only then,
    or after WAKE_ANYWAY_SECONDS (a crashed worker leaves it RUNNING). A
    signal still runs its handler at once: the kernel interrupts the main
    thread's wait, and the wait goes on."""
    with emulator.end_of(execution_arn) as ended:
        while True:
            description = sfn.describe_execution(executionArn=execution_arn)
            if description["status"] != "RUNNING":
                return description
            ended.wait(WAKE_ANYWAY_SECONDS)


WAKE_ANYWAY_SECONDS = 0.25


def _report_body(s3, scratch: str, name: str, outcome: Outcome, execution_input: dict) -> bytes:
    """The run's report from the scratch bucket. A run that failed before it
    wrote one (bad input, say) gets a report of what is known, so that the
    path printed always names a file that exists."""
    try:
        return s3.get_object(Bucket=scratch, Key=work.report_key("", name))["Body"].read()
    except s3.exceptions.NoSuchKey:
        lines = [{"type": "run", "run_id": name, "input": execution_input, "status": outcome.status},
                 {"type": "summary", "run_id": name, "error": outcome.error, "cause": outcome.cause}]
        return "".join(json.dumps(line) + "\n" for line in lines).encode("utf-8")


def _failed_summary(lines: list[str]) -> dict | None:
    """The summary line of a failed run's report, when it got as far as counting."""
    summary = None
    for record in report.records(lines):   # the summary is the last line
        summary = record
    if not summary or summary.pop("type", None) != "summary" or "copied" not in summary:
        return None
    summary.setdefault("message", summary.get("cause"))
    return summary


@contextlib.contextmanager
def _interpreter(handlers: Handlers, functions: LocalFunctions, session):
    """moto's interpreter as a local run uses it (bucketsync.local.emulator)."""
    with emulator.local_functions(handlers, functions), emulator.parsed_once(parsed_definitions()), \
            emulator.execution_ends(), emulator.endpoint_clients_bypass_moto(), _default_session(session):
        yield


@contextlib.contextmanager
def _default_session(session):
    """`session` as boto3's default one for the run, if there is none yet:
    the interpreter's clients (ItemReader, ResultWriter) come from it."""
    if boto3.DEFAULT_SESSION is not None:
        yield
        return
    boto3.DEFAULT_SESSION = session
    try:
        yield
    finally:
        if boto3.DEFAULT_SESSION is session:
            boto3.DEFAULT_SESSION = None


@contextlib.contextmanager
def _signals():
    """SIGINT and SIGTERM ask the run to stop cleanly (bucketsync.interrupt);
    a second one stops the process at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if interrupt.requested():
            signal.signal(signum, signal.SIG_DFL)
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            os.kill(os.getpid(), signum)
            return
        interrupt.request(signum)

    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _notes(lines: list[str]) -> list[str]:
    run = json.loads(lines[0]) if lines else {}
    return list(run.get("notes") or ())


def _empty_bucket(s3, bucket: str) -> None:
    with contextlib.suppress(Exception):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", ())]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})
        s3.delete_bucket(Bucket=bucket)


@lru_cache(maxsize=1)
def _lambda_files():
    """lambda_files(), read once per process (their front matter is YAML)."""
    return tuple(lambda_files())
