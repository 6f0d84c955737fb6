"""The Lambda side of the engine: the handler files of lambda_functions/,
loaded and called in this process as Lambda would call them."""
from __future__ import annotations

import contextvars
import importlib.util
import json
import os
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..project.frontmatter import FUNCTIONS_DIR, lambda_files


class LambdaContext:
    """The parts of the Lambda context object handlers may use."""

    def __init__(self, name: str, timeout: int):
        self.function_name = name
        self.aws_request_id = uuid.uuid4().hex
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_handler(path: Path):
    spec = importlib.util.spec_from_file_location(f"bucketsync_lambda_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


# The lambda_functions/ module whose handler is running (in this thread and
# in the threads it starts through bucketsync.threads), so that a test can
# check each AWS call against that function's role.
INVOKED: contextvars.ContextVar[str | None] = contextvars.ContextVar("bucketsync_invoked", default=None)


@dataclass(frozen=True)
class LocalFunction:
    """One of the engine's functions: the parts of moto's Lambda function
    that `Handlers.invoke` reads."""
    function_name: str
    handler: str                                   # "copy_chunk.handler"
    environment_vars: dict = field(default_factory=dict)


class LocalFunctions:
    """The engine's functions by ARN, standing in for moto's Lambda backend
    (`get_function`) where the interpreter calls them directly
    (bucketsync.local.emulator.local_functions): no function to create, no
    role to make for it."""

    def __init__(self, functions: dict[str, LocalFunction]):
        self.by_arn = functions
        self._by_name = {function.function_name: function for function in functions.values()}

    def get_function(self, function_name: str, qualifier=None) -> LocalFunction:
        return self._by_name[function_name]


class Handlers:
    """moto's Lambda invoke, answered by the handler file the function names.

    The function's `Handler` ("copy_chunk.handler") picks the file in
    lambda_functions/, so this serves the local engine's functions and those
    of a stack deployed into a moto server alike. A deployed function's
    environment variables are applied to this process before its handler
    runs (a process has one environment; a stack's functions share theirs)."""

    def __init__(self, directory: Path = FUNCTIONS_DIR, files=None):
        """`files`: lambda_files(directory), when the caller has read them.
        Each handler file is loaded at its first invocation, as Lambda loads
        it (a run that starts no DataSync task never loads that handler)."""
        self.table = {f.module: (f.path, int(f.front_matter.get("Timeout", 900)))
                      for f in (lambda_files(directory) if files is None else files)}
        self._loaded: dict = {}
        self._lock = threading.Lock()

    def handler_for(self, function, module: str):
        """The handler that answers `function` (moto's function object)."""
        with self._lock:
            if module not in self._loaded:
                self._loaded[module] = load_handler(self.table[module][0])
            return self._loaded[module]

    def invoke(self, backend, function_name, qualifier, body, headers, response_headers):
        function = backend.get_function(function_name, qualifier)
        module = (function.handler or "").split(".")[0]
        timeout = self.table[module][1]
        for name, value in (function.environment_vars or {}).items():
            os.environ[name] = str(value)
        event = json.loads(body) if body else {}
        token = INVOKED.set(module)
        try:
            # A file that fails to load fails its invocation, as on Lambda.
            handler = self.handler_for(function, module)
            result = handler(event, LambdaContext(function.function_name, timeout))
            return json.dumps(result).encode("utf-8")
        except Exception as exc:   # reported the way Lambda reports it: errorType is the class name
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc),
                               "stackTrace": traceback.format_tb(exc.__traceback__)}).encode("utf-8")
        finally:
            INVOKED.reset(token)
