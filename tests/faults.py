"""Fault injection on the clients bucketsync makes (botocore `before-send`
hooks, registered through bucketsync.clients so they survive the engine's
client reset, and their counterparts on the CRT transport, s3/crt.py, for
runs against real endpoints). Only requests to the user's buckets are touched."""
from __future__ import annotations

import contextlib
import random
import threading

from botocore.awsrequest import AWSResponse

from bucketsync import clients
from bucketsync.s3 import crt


class _Raw:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_):
        yield self.body


def error_response(url: str, status: int, code: str, message: str) -> AWSResponse:
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return AWSResponse(url, status, {"Content-Type": "application/xml"}, _Raw(body.encode()))


@contextlib.contextmanager
def hooked(event: str, handler):
    """`handler` on bucketsync's clients for the duration of the block."""
    clients.add_hook(event, handler)
    try:
        yield
    finally:
        clients.remove_hook(event, handler)


@contextlib.contextmanager
def crt_hooked(hooks: list, hook):
    """`hook` in one of the CRT transport's hook lists for the block."""
    hooks.append(hook)
    try:
        yield
    finally:
        hooks.remove(hook)


@contextlib.contextmanager
def on_send(handler, operation: str | None = None):
    """`handler(request=...)` before each S3 request bucketsync sends (of
    `operation`, or all), on either transport: botocore's `before-send`
    (its AWSPreparedRequest) and the CRT's (url, method, headers, body).
    It may raise as a broken connection does."""
    def crt_send(name, request):
        if operation in (None, name):
            return handler(request=request)
        return None

    event = "before-send.s3" + (f".{operation}" if operation else "")
    with hooked(event, handler), crt_hooked(crt.BEFORE_SEND, crt_send):
        yield


@contextlib.contextmanager
def injecting(decide):
    """Answer requests for which `decide(request)` returns a response with
    that response, and never deliver them.

    moto's own `before-send` handler runs first and would carry a request
    out whatever a later handler answers, so the decision is taken before
    it: at `before-sign` for a request's first attempt, and, because
    botocore signs once and sends the same request again on a retry, when
    the previous attempt is answered for the next one. A doomed attempt is
    pointed at a host moto does not intercept; its answer is then ours."""
    def doom(request):
        response = decide(request)
        original = request.context.setdefault("bucketsync_url", request.url)
        request.context["bucketsync_fault"] = response
        request.url = original if response is None else "https://fault-injected.invalid/" + original.split("://", 1)[-1]

    def sign(request, **_):
        doom(request)

    def send(request, **_):
        response = request.context.pop("bucketsync_fault", None)
        if response is not None:
            request.url = request.context["bucketsync_url"]
            doom(request)   # the next attempt, if the client retries
        return response

    def crt_send(operation, request):   # the CRT's requests: answered before they are sent
        return decide(request)

    with hooked("before-sign.s3", sign), hooked("before-send.s3", send), crt_hooked(crt.BEFORE_SEND, crt_send):
        yield


def _is_user_request(request, buckets) -> bool:
    return any(f"/{b}" in request.url or f"//{b}." in request.url for b in buckets)


@contextlib.contextmanager
def flaky(buckets, rate=0.05, seed=1234):
    """Answer `rate` of the requests to `buckets` with 503 SlowDown or 500."""
    rng = random.Random(seed)
    lock = threading.Lock()
    injected = {"503": 0, "500": 0, "requests": 0}

    def decide(request):
        if not _is_user_request(request, buckets):
            return None
        with lock:
            injected["requests"] += 1
            roll = rng.random()
        if roll < rate / 2:
            injected["503"] += 1
            return error_response(request.url, 503, "SlowDown", "Please reduce your request rate.")
        if roll < rate:
            injected["500"] += 1
            return error_response(request.url, 500, "InternalError", "We encountered an internal error.")
        return None

    with injecting(decide):
        yield injected


@contextlib.contextmanager
def always_fail(key_fragment: str, status=403, code="AccessDenied"):
    """Every write of an object whose URL contains `key_fragment` fails."""
    hits = []

    def decide(request):
        if key_fragment in request.url and request.method == "PUT":
            hits.append(request.url)
            return error_response(request.url, status, code, "Access Denied")
        return None

    with injecting(decide):
        yield hits


@contextlib.contextmanager
def s3_metadata_limit(limit=2048):
    """Enforce AWS's rule that moto and SeaweedFS do not: user-defined
    metadata (the sum of the UTF-8 bytes of each key and value, without the
    `x-amz-meta-` prefix) is at most 2 KB; more is 400 MetadataTooLarge."""
    refused = []

    def decide(request):
        size = sum(len(name[len("x-amz-meta-"):].encode()) + len(_text(value))
                   for name, value in request.headers.items() if name.lower().startswith("x-amz-meta-"))
        if size > limit:
            refused.append(request.url)
            return error_response(request.url, 400, "MetadataTooLarge",
                                  "Your metadata headers exceed the maximum allowed metadata size")
        return None

    with injecting(decide):
        yield refused


def _text(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


@contextlib.contextmanager
def normalised_prefixes():
    """A server that normalises listing prefixes (as SeaweedFS does with a
    leading "/"): the prefix it applies is not the one asked for."""
    def hook(params, **_):
        if params.get("Prefix", "").startswith("/"):
            params["Prefix"] = params["Prefix"].lstrip("/")

    def crt_hook(operation, params):
        if operation == "ListObjectsV2":
            hook(params)

    with hooked("before-parameter-build.s3.ListObjectsV2", hook), crt_hooked(crt.BEFORE_CALL, crt_hook):
        yield


@contextlib.contextmanager
def before_call(operation: str, action):
    """Run `action(params)` once, just before the first `operation` request
    that bucketsync sends (e.g. another writer acting mid-run)."""
    done = []

    def hook(params, **_):
        if not done:
            done.append(params)
            action(params)

    def crt_hook(name, params):
        if name == operation:
            hook(params)

    with hooked(f"before-parameter-build.s3.{operation}", hook), crt_hooked(crt.BEFORE_CALL, crt_hook):
        yield done
