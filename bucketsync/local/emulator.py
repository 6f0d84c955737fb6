"""The one module that touches moto internals (moto is pinned in
requirements.txt; covered by the functional tests, which run everything
through it):
- Lambda Tasks: moto's no-Docker Lambda backend is told to call the handler
  file in-process instead of answering its canned reply;
- the interpreter's JSONPath parses are memoised (it re-parses on every
  evaluation, which caps a Distributed Map at a few items per second);
- moto's stubber is taken off the clients of a custom endpoint;
- its Batch models are not imported.
"""
from __future__ import annotations

import contextlib
import functools
import re
import sys
import types
from pathlib import Path
from unittest import mock

from .. import clients
from .handlers import Handlers

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
    from jsonpath_ng.ext import parse
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.stepfunctions.parser.asl.utils import json_path

    def invoke(backend, function_name, qualifier, body, headers, response_headers):
        return handlers.invoke(backend, function_name, qualifier, body, headers, response_headers)

    with mock.patch.object(LambdaSimpleBackend, "invoke", invoke), \
         mock.patch.object(json_path, "parse", functools.lru_cache(maxsize=4096)(parse)):
        yield


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
