"""Run the real state machine definition and the real Lambda handlers in this
process, on moto's Step Functions interpreter.

This is the one module that touches moto internals (pinned in
requirements.txt; covered by tests/functional/test_engine.py):
- Lambda Tasks: moto's no-Docker Lambda backend is told to call the handler
  file in-process instead of answering its canned reply;
- the interpreter's JSONPath parses are memoised (it re-parses on every
  evaluation, which caps a Distributed Map at a few items per second).

Routing (DESIGN.md section 6): the scratch bucket always lives in moto's
memory. User buckets are either in moto too (embedded: demo and tests), on an
S3-compatible endpoint (never intercepted by moto; handlers get it through
BUCKETSYNC_S3_ENDPOINT_URL and it is removed from the interpreter's
environment), or on AWS (requests for exactly those buckets pass through,
signed with the user's own credentials).
"""
from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import importlib.util
import io
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
import types
import traceback
import uuid
import zipfile
from pathlib import Path
from unittest import mock

import boto3

from .. import clients, interrupt, progress, report, work
from . import datasync as local_datasync
from ..datasync.catchup import STATE_DIR_VARIABLE
from ..datasync.tasks import TASKS_VARIABLE, to_environment
from ..errors import ReportDirectoryError
from ..outcome import Outcome, outcome_from
from ..deploy import definition
from ..deploy.frontmatter import FUNCTIONS_DIR, lambda_files

def _lighter_moto_import() -> None:
    """moto's interpreter imports `moto.batch.utils` for its Batch task
    integration, and the package's `__init__` drags in the whole Batch and
    EC2 models: about 1.1 s of every `fab sync`. An empty package with the
    real path keeps every submodule importable on demand (nothing here runs
    a Batch task)."""
    if "moto.batch" in sys.modules:
        return
    import moto
    package = types.ModuleType("moto.batch")
    package.__path__ = [str(Path(moto.__file__).parent / "batch")]
    sys.modules["moto.batch"] = package


_lighter_moto_import()

REGION = "us-east-1"
ACCOUNT = "123456789012"
FUNCTION_PREFIX = "bucketsync-"
MAP_CONCURRENCY = 8
_AWS_URL = re.compile(r"^https?://([a-z0-9.-]+\.)?amazonaws\.com(\.cn)?(:\d+)?(/|$)")
_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_LAMBDA",
                       "AWS_ENDPOINT_URL_SFN", "AWS_ENDPOINT_URL_STEPFUNCTIONS")


def moto_config(real_credentials: bool = False, passthrough_urls=(), passthrough_services=()) -> dict:
    """Configuration for `moto.mock_aws` around a local run.

    `real_credentials`: leave the user's credentials alone (real endpoint or AWS).
    `passthrough_urls`: regular expressions of requests that go to AWS for real.
    `passthrough_services`: services all of whose requests do (Secrets Manager,
    when an input names secrets)."""
    return {
        "lambda": {"use_docker": False},
        "stepfunctions": {"execute_state_machine": True},
        "core": {"mock_credentials": not real_credentials,
                 "passthrough": {"urls": list(passthrough_urls), "services": list(passthrough_services)},
                 "reset_boto3_session": True},
    }


def aws_passthrough_urls(buckets) -> list[str]:
    """Regular expressions (moto's `core.passthrough.urls`) matching the S3
    requests for exactly these buckets, virtual-hosted and path style, and
    nothing else: the scratch bucket stays in memory."""
    host = r"(?:[a-z0-9-]+\.)*amazonaws\.com(?:\.cn)?"
    patterns = []
    for bucket in buckets:
        name = re.escape(bucket)
        patterns.append(rf"^https?://{name}\.s3[.-]{host}(?::\d+)?(?:/|\?|$)")
        patterns.append(rf"^https?://s3[.-]{host}(?::\d+)?/{name}(?:/|\?|$)")
        patterns.append(rf"^https?://{name}\.s3\.amazonaws\.com(?::\d+)?(?:/|\?|$)")
    return patterns


class _Context:
    """The parts of the Lambda context object handlers may use."""

    def __init__(self, name: str, timeout: int):
        self.function_name = name
        self.aws_request_id = uuid.uuid4().hex
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _load_handler(path: Path):
    spec = importlib.util.spec_from_file_location(f"bucketsync_lambda_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


# The lambda_functions/ module whose handler is running (in this thread and
# in the threads it starts through bucketsync.threads), so that a test can
# check each AWS call against that function's role.
INVOKED: contextvars.ContextVar[str | None] = contextvars.ContextVar("bucketsync_invoked", default=None)


class _Handlers:
    """moto's Lambda invoke, answered by the handler file the function names.

    The function's `Handler` ("copy_chunk.handler") picks the file in
    lambda_functions/, so this serves the local engine's functions and those
    of a stack deployed into a moto server alike. A deployed function's
    environment variables are applied to this process before its handler
    runs (a process has one environment; a stack's functions share theirs)."""

    def __init__(self, directory: Path = FUNCTIONS_DIR):
        self.table = {f.module: (_load_handler(f.path), int(f.front_matter.get("Timeout", 900)))
                      for f in lambda_files(directory)}

    def handler_for(self, function, module: str):
        """The handler that answers `function` (moto's function object)."""
        return self.table[module][0]

    def invoke(self, backend, function_name, qualifier, body, headers, response_headers):
        function = backend.get_function(function_name, qualifier)
        module = (function.handler or "").split(".")[0]
        timeout = self.table[module][1]
        handler = self.handler_for(function, module)
        for name, value in (function.environment_vars or {}).items():
            os.environ[name] = str(value)
        event = json.loads(body) if body else {}
        token = INVOKED.set(module)
        try:
            result = handler(event, _Context(function.function_name, timeout))
            return json.dumps(result).encode("utf-8")
        except Exception as exc:   # reported the way Lambda reports it: errorType is the class name
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc),
                               "stackTrace": traceback.format_tb(exc.__traceback__)}).encode("utf-8")
        finally:
            INVOKED.reset(token)


@contextlib.contextmanager
def in_process_lambdas(handlers: _Handlers | None = None):
    """While active, every moto Lambda invoke (decorator or server mode) runs
    the real handler in this process, and the interpreter's JSONPath parses
    are memoised."""
    with _patched_moto(handlers or _Handlers()):
        yield


@contextlib.contextmanager
def _patched_moto(handlers: _Handlers):
    from jsonpath_ng.ext import parse
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.stepfunctions.parser.asl.utils import json_path

    def invoke(backend, function_name, qualifier, body, headers, response_headers):
        return handlers.invoke(backend, function_name, qualifier, body, headers, response_headers)

    with mock.patch.object(LambdaSimpleBackend, "invoke", invoke), \
         mock.patch.object(json_path, "parse", functools.lru_cache(maxsize=4096)(parse)):
        yield


@contextlib.contextmanager
def _endpoint_clients_bypass_moto():
    """moto never answers a custom endpoint's requests, but its stubber still
    inspects each one (a noticeable part of a copy's CPU): take it off the
    data clients that talk to such an endpoint."""
    from moto.core.models import botocore_stubber

    def customize(purpose, client):
        if purpose == "data" and not _AWS_URL.match(client.meta.endpoint_url or ""):
            client.meta.events.unregister("before-send", botocore_stubber)

    clients.add_customizer(customize)
    try:
        yield
    finally:
        clients.remove_customizer(customize)


@contextlib.contextmanager
def _environment(changes: dict):
    """Set (value) or remove (None) variables for the run, then restore."""
    saved = {name: os.environ.get(name) for name in changes}
    try:
        for name, value in changes.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def run(execution_input: dict, *, endpoint_url: str | None = None, settings: dict | None = None,
        report_dir: Path | None = None, listener=None, map_concurrency: int = MAP_CONCURRENCY,
        name: str | None = None, datasync_tasks: dict | None = None, sides: dict | None = None,
        emulated_aws: bool = False) -> Outcome:
    """Run one execution of the real definition; moto's mock must be active
    (started with `moto_config`). Scratch data lives in an in-memory bucket that
    is removed afterwards; the report is saved under `report_dir`.
    `endpoint_url` serves both sides; `sides` ({"source"/"destination":
    Endpoint with url and profile}) sets one side's endpoint or profile.
    `datasync_tasks` (DATASYNC_TASKS, checked) are run by the local DataSync.
    `emulated_aws`: the caller's buckets "on AWS" are in moto (the demo): the
    report then makes no notes of moto's gaps as if they were a server's."""
    scratch = f"bucketsync-scratch-{uuid.uuid4().hex[:12]}"
    name = name or f"sync-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    # Before anything is written: a report that cannot be kept would be found
    # out only after the copies and deletes.
    report_path = usable_report_dir(report_dir) / f"{name}.jsonl"
    handlers = _Handlers()
    interrupt.clear()
    # The run's settings last: they may override any default (tests do).
    environment = {**_run_environment(scratch, endpoint_url, sides or {}), **_datasync_environment(datasync_tasks),
                   # The report's own summary names the file the user gets, not the scratch.
                   "BUCKETSYNC_REPORT_LOCATION": str(report_path),
                   "BUCKETSYNC_EMULATED_AWS": "1" if emulated_aws else None, **(settings or {})}
    with _environment(environment), _patched_moto(handlers), _local_datasync(datasync_tasks), \
            _endpoint_clients_bypass_moto(), _signals():
        clients.reset()
        progress.listen(listener)
        # The engine's own clients only ever talk to moto.
        session = boto3.session.Session(region_name=REGION, aws_access_key_id="bucketsync-local",
                                        aws_secret_access_key="bucketsync-local")
        s3, sfn = session.client("s3"), session.client("stepfunctions")
        undo: list = []
        try:
            s3.create_bucket(Bucket=scratch)
            machine = _create_state_machine(session, scratch, map_concurrency, undo)
            execution = sfn.start_execution(stateMachineArn=machine, name=name,
                                            input=json.dumps(execution_input))["executionArn"]
            outcome = outcome_from(_wait(sfn, execution), execution)
            return _with_report(outcome, s3, scratch, name, report_path, execution_input)
        finally:
            progress.listen(None)
            _empty_bucket(s3, scratch)
            for step in reversed(undo):
                with contextlib.suppress(Exception):
                    step()
            clients.reset()


def _run_environment(scratch: str, endpoint_url: str | None, sides: dict) -> dict:
    """The functions' environment for one local run (None: unset)."""
    env = {name: None for name in _ENDPOINT_VARIABLES}
    for side in ("source", "destination"):
        place = sides.get(side)
        env[f"BUCKETSYNC_{side.upper()}_ENDPOINT_URL"] = place.url if place else None
        env[f"BUCKETSYNC_{side.upper()}_PROFILE"] = place.profile if place else None
    env.update({"BUCKETSYNC_S3_ENDPOINT_URL": endpoint_url, "BUCKETSYNC_WORK_BUCKET": scratch,
                "BUCKETSYNC_LEASE_DIR": str(state_dir() / "leases"),
                "BUCKETSYNC_WORK_PREFIX": "", "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or REGION})
    if boto3.session.Session().get_credentials() is None:
        # Nothing configured: moto (scratch) needs no real keys, and an
        # S3-compatible server without auth takes any; AWS will say no clearly.
        env.update(AWS_ACCESS_KEY_ID="bucketsync-local", AWS_SECRET_ACCESS_KEY="bucketsync-local")
    return env


def datasync_state_dir() -> Path:
    """Where local runs keep the DataSync catch-up record: under
    $BUCKETSYNC_STATE_DIR, else .bucketsync/ next to the reports."""
    configured = os.environ.get("BUCKETSYNC_STATE_DIR")
    return (Path(configured) if configured else Path(".bucketsync")) / "datasync"


def local_tasks(tasks: dict | None) -> dict:
    """DATASYNC_TASKS with the local DataSync's task ARNs."""
    return {name: dataclasses.replace(spec, arn=local_datasync.task_arn(name)) for name, spec in (tasks or {}).items()}


def _datasync_environment(tasks: dict | None) -> dict:
    return {TASKS_VARIABLE: to_environment(local_tasks(tasks)),
            STATE_DIR_VARIABLE: str(datasync_state_dir().resolve()),
            # The local DataSync's describe waits briefly for a change itself.
            "BUCKETSYNC_DATASYNC_POLL_SECONDS": "0"}


_datasync_service: local_datasync.LocalDataSync | None = None


@contextlib.contextmanager
def _local_datasync(tasks: dict | None):
    """The local DataSync answers the functions' DataSync calls; one per
    process, so that an execution running for one run is seen by the next."""
    global _datasync_service
    if _datasync_service is None:
        _datasync_service = local_datasync.LocalDataSync({})
    _datasync_service.add_tasks(local_tasks(tasks))
    clients.use_datasync(_datasync_service)
    try:
        yield _datasync_service
    finally:
        clients.use_datasync(None)


def _create_state_machine(session, scratch: str, map_concurrency: int, undo: list) -> str:
    """The functions (their code runs in-process) and the state machine of
    the real definition, in moto; `undo` gets what removes them."""
    iam, lam, sfn = session.client("iam"), session.client("lambda"), session.client("stepfunctions")
    role = iam.create_role(RoleName=f"bucketsync-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    undo.append(lambda: iam.delete_role(RoleName=role.rsplit("/", 1)[-1]))
    arns = {"MapConcurrency": map_concurrency, "Partition": "aws", "WorkBucket": scratch}
    code = _dummy_zip()
    for file in lambda_files():
        fn_name = FUNCTION_PREFIX + file.module
        with contextlib.suppress(lam.exceptions.ResourceConflictException):
            lam.create_function(FunctionName=fn_name, Runtime="python3.12", Role=role,
                                Handler=f"{file.module}.handler", Code={"ZipFile": code})
        arns[file.arn_placeholder] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn_name}"
    machine = sfn.create_state_machine(name=f"bucketsync-{uuid.uuid4().hex[:8]}", roleArn=role,
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


def report_dir_of(report_dir: Path | None = None) -> Path:
    """Where local runs keep their reports: `report_dir`, else
    $BUCKETSYNC_REPORT_DIR, else .bucketsync/reports."""
    return Path(report_dir or os.environ.get("BUCKETSYNC_REPORT_DIR") or ".bucketsync/reports")


def usable_report_dir(report_dir: Path | None = None) -> Path:
    """The report directory, created if need be and proven writable (a file
    is created in it and removed), or ReportDirectoryError in one line."""
    directory = report_dir_of(report_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".bucketsync-probe-"):
            pass
    except OSError as exc:
        raise ReportDirectoryError(f"reports cannot be written to {directory} (BUCKETSYNC_REPORT_DIR): "
                                   f"{exc.strerror or exc}; nothing was run") from None
    return directory


def state_dir() -> Path:
    """What local runs keep between runs (run leases): $BUCKETSYNC_STATE_DIR,
    else ~/.cache/bucketsync, shared by every local run of this user on this
    machine wherever it is started from."""
    configured = os.environ.get("BUCKETSYNC_STATE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "bucketsync"


def _wait(sfn, execution_arn: str) -> dict:
    delay = 0.02
    while True:
        description = sfn.describe_execution(executionArn=execution_arn)
        if description["status"] != "RUNNING":
            return description
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


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
