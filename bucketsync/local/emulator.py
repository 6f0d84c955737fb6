"""The one module that touches moto internals (moto is pinned in
requirements.txt; covered by the functional tests, which run everything
through it):
- Lambda Tasks: the engine's own functions are called in-process by the
  interpreter (no emulated IAM role or Lambda function); functions deployed
  into moto (tests of a deployed stack) are answered by moto's no-Docker
  Lambda backend told to call the handler file in-process;
- the definition is parsed once (bucketsync.local.definition_cache), and
  the end of an execution wakes whoever waits for it;
- the interpreter's JSONPath parses are memoised (it re-parses on every
  evaluation, which caps a Distributed Map at a few items per second);
- moto's stubber is taken off the clients of a custom endpoint;
- its Batch models are not imported.
"""
from __future__ import annotations

import contextlib
import functools
import io
import re
import sys
import threading
import types
from pathlib import Path
from unittest import mock

from .. import clients
from .definition_cache import ParsedDefinitions
from .handlers import Handlers, LocalFunctions

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

_AWS_URL = re.compile(r"^https?://([a-z0-9.-]+\.)?amazonaws\.com(\.cn)?(:\d+)?(/|$)")


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


@contextlib.contextmanager
def in_process_lambdas(handlers: Handlers | None = None):
    """While active, every moto Lambda invoke (decorator or server mode) runs
    the real handler in this process, and the interpreter's JSONPath parses
    are memoised."""
    handlers = handlers or Handlers()
    from moto.awslambda_simple.models import LambdaSimpleBackend

    def invoke(backend, function_name, qualifier, body, headers, response_headers):
        return handlers.invoke(backend, function_name, qualifier, body, headers, response_headers)

    with mock.patch.object(LambdaSimpleBackend, "invoke", invoke), memoised_json_paths():
        yield


@contextlib.contextmanager
def memoised_json_paths():
    """While active, the interpreter's JSONPath parses come from _parse_json_path."""
    from moto.stepfunctions.parser.asl.utils import json_path
    with mock.patch.object(json_path, "parse", _parse_json_path):
        yield


_json_path_parser = threading.local()


@functools.lru_cache(maxsize=4096)
def _parse_json_path(path: str):
    """jsonpath_ng.ext.parse, memoised for the process (a parsed path is
    immutable; the interpreter asks for the same few paths again and again),
    on one parser per thread (jsonpath_ng.ext.parse builds a parser for each call)."""
    from jsonpath_ng.ext.parser import ExtendedJsonPathParser
    parser = getattr(_json_path_parser, "parser", None)
    if parser is None:
        parser = _json_path_parser.parser = ExtendedJsonPathParser()
    return parser.parse(path)


@contextlib.contextmanager
def local_functions(handlers: Handlers, functions: LocalFunctions):
    """While active, the interpreter's Lambda Tasks on `functions` (by ARN)
    call their handler in this process as Lambda would (a JSON payload in,
    the handler's JSON or its error out), without a Lambda client, moto's
    Lambda backend or an IAM role; any other ARN goes to moto as before.
    JSONPath parses are memoised too."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    real = lambda_eval_utils._invoke_lambda_function

    def invoke(parameters: dict, region: str, state_credentials):
        function = functions.by_arn.get(parameters["FunctionName"])
        if function is None:
            return real(parameters=parameters, region=region, state_credentials=state_credentials)
        response_headers: dict = {}
        body = handlers.invoke(functions, function.function_name, None, parameters["Payload"], {}, response_headers)
        # What moto's Lambda answers (lambda_eval_utils reads these keys).
        response = {"StatusCode": 200, "ExecutedVersion": "$LATEST",
                    "Payload": lambda_eval_utils._from_payload(io.BytesIO(body))}
        if "x-amz-function-error" in response_headers:
            response["FunctionError"] = response_headers["x-amz-function-error"]
        return response

    with mock.patch.object(lambda_eval_utils, "_invoke_lambda_function", invoke), memoised_json_paths():
        yield


@contextlib.contextmanager
def parsed_once(cache: ParsedDefinitions):
    """While active, the two parses of moto that only need the program
    (CreateStateMachine's check, each execution's start) take it from `cache`.
    A definition the parser refuses is refused as moto refuses it (its own
    check runs again for the error). Other parses (the static analysers of
    DescribeStateMachine, which walk the parse tree) are moto's own."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend
    real_check = StepFunctionsParserBackend._validate_definition

    def program(definition: str):
        return cache.program(definition, lambda text: AmazonStateLanguageParser.parse(text)[0])

    def check(definition: str) -> None:
        try:
            program(definition)
        except Exception:
            real_check(definition)   # raises moto's InvalidDefinition for it
            raise

    def entrypoint(worker):
        return program(worker._evaluation_details.state_machine_details.definition)

    with mock.patch.object(StepFunctionsParserBackend, "_validate_definition", staticmethod(check)), \
            mock.patch.object(ExecutionWorker, "_get_evaluation_entrypoint", entrypoint):
        yield


def moto_version() -> str:
    import moto
    return f"moto-{moto.__version__}"


_ended: dict[str, threading.Event] = {}
_ended_lock = threading.Lock()


@contextlib.contextmanager
def execution_ends():
    """While active, the worker of each execution started sets its waiter's
    Event (end_of) when its program has ended (the status is then final) or
    crashed (then it stays RUNNING, as moto leaves it)."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    real = ExecutionWorker._execution_logic

    def execution_logic(self):
        try:
            real(self)
        finally:
            with _ended_lock:
                event = _ended.get(self._evaluation_details.execution_details.arn)
            if event is not None:
                event.set()

    with mock.patch.object(ExecutionWorker, "_execution_logic", execution_logic):
        yield


@contextlib.contextmanager
def end_of(execution_arn: str):
    """An Event set when this execution's worker ends (under execution_ends).
    Enter it before reading the status, so that an end in between is not missed."""
    with _ended_lock:
        event = _ended.setdefault(execution_arn, threading.Event())
    try:
        yield event
    finally:
        with _ended_lock:
            _ended.pop(execution_arn, None)


@contextlib.contextmanager
def endpoint_clients_bypass_moto():
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
