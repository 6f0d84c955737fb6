"""The hot S3 calls on the AWS Common Runtime's S3 client (`awscrt`, the C
library under aws-cli v2 and boto3's CRT transfers): a fifth of boto3's
CPU per request (bench/RESULTS.md, "Transports").

`CrtClient` wraps one boto3 S3 client and answers the calls in `OPERATIONS`
itself, with boto3's names, arguments, answers and errors (`ClientError`
with the same `Error` and `ResponseMetadata`), so `s3/calls.py` turns them
into the same typed errors; every other attribute is the boto3 client's.
Its credentials, region and endpoint are the boto3 client's.

Retries, as botocore's standard mode makes them (`clients._config`): 5xx,
429, throttling and transient error codes (also in a 200 body, which AWS
documents for CopyObject, UploadPartCopy and CompleteMultipartUpload), and
connections that fail, with exponential backoff and full jitter. The policy
is ours, in `call`: the CRT's own retries cannot be switched off, so they
are set to the least it allows (one more attempt of a 500, 503, InternalError,
SlowDown, RequestTimeout or RequestTimeTooSkewed, or a broken connection),
and they count against the same budget of ATTEMPTS requests: botocore's
10. A 2xx whose XML is an <Error> document, or is cut short, is a 500, as
botocore reads it.
"""
from __future__ import annotations

import random
import threading
import time
import xml.etree.ElementTree as ET

from botocore.exceptions import ClientError, HTTPClientError, ReadTimeoutError

from .. import interrupt
from . import answers, wire

OPERATIONS = {
    "head_object": "HeadObject", "get_object": "GetObject", "put_object": "PutObject",
    "copy_object": "CopyObject", "list_objects_v2": "ListObjectsV2", "delete_object": "DeleteObject",
    "delete_objects": "DeleteObjects", "get_object_tagging": "GetObjectTagging",
    "put_object_tagging": "PutObjectTagging", "delete_object_tagging": "DeleteObjectTagging",
    "create_multipart_upload": "CreateMultipartUpload", "upload_part": "UploadPart",
    "abort_multipart_upload": "AbortMultipartUpload",
}
# Left to boto3 (by __getattr__): calls that take seconds to minutes each,
# whose CPU per request does not matter, and during which S3 may keep the
# connection quiet: the CRT's throughput monitor (aws-c-s3's default, not
# settable from Python) would cut such a connection after a few seconds.
# UploadPartCopy and CompleteMultipartUpload always; a CopyObject of at least
# LONG_COPY_BYTES (s3.copy_object sends it to `patient`).
LONG_COPY_BYTES = 64 * 1024 * 1024
ATTEMPTS = 10                     # requests per call at most: botocore's standard mode
BACKOFF_SECONDS = 0.5             # the first retry's longest wait (doubled per retry, at most 20 s)
# What the CRT retries once by itself (aws-c-s3): such a call was two requests.
_CRT_RETRIES_STATUS = {500, 503}
_CRT_RETRIES_CODES = {"InternalError", "SlowDown", "RequestTimeout", "RequestTimeTooSkewed"}
# botocore's standard mode: these statuses and codes are retried.
_RETRY_STATUS = {429, 500, 502, 503, 504}
_RETRY_CODES = {"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
                "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
                "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
                "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException", "RequestTimeout",
                "RequestTimeoutException", "InternalError"}
# An idle-read timeout, as botocore's read_timeout: a request during which
# no byte moved (sent or received) for this long is cancelled, a transient
# failure (retried). A run asked to stop cancels its requests at once.
TIMEOUT_SECONDS = {"CopyObject": 900.0}
DEFAULT_TIMEOUT_SECONDS = 120.0
_POLL_SECONDS = 0.5
_REDIRECTS = {"PermanentRedirect", "TemporaryRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"}

# Seams, as botocore's event hooks are for boto3's calls (registered through
# clients.add_hook's CRT counterparts in tests; nothing ships any):
# BEFORE_CALL: hook(operation, params) before the request is built (may change params);
# BEFORE_SEND: hook(operation, request) before each attempt, `request` with
#   url, method, headers (dict) and body; a hook may answer instead of the
#   server (an object with status_code, headers and content) or raise as a
#   broken connection does;
# CALL_HOOKS: hook(operation, params, status) after every call (the rights
#   contract records them; benchmarks count requests).
BEFORE_CALL: list = []
BEFORE_SEND: list = []
CALL_HOOKS: list = []


class CrtClient:
    def __init__(self, boto_client, connections: int, connect_timeout: float = 5.0, endpoint_url: str | None = None):
        """`endpoint_url`: send to it, path style, instead of the boto3
        client's endpoint (the local engine's emulator served on loopback)."""
        from awscrt import auth, io, s3   # native: imported only when this transport is used
        self._boto = boto_client
        self.meta = boto_client.meta
        self._model = boto_client.meta.service_model
        self._endpoint = endpoint_url or boto_client.meta.endpoint_url
        self._virtual = (endpoint_url is None and ".amazonaws.com" in self._endpoint
                         and not _path_style(boto_client))
        self._s3 = s3
        credentials = boto_client._request_signer._credentials   # botocore's, refreshed by botocore

        def current():
            frozen = credentials.get_frozen_credentials()
            return auth.AwsCredentials(frozen.access_key, frozen.secret_key, frozen.token)

        provider = auth.AwsCredentialsProvider.new_delegate(current)
        region = boto_client.meta.region_name or "us-east-1"
        https = self._endpoint.startswith("https:")
        self._client = s3.S3Client(
            bootstrap=io.ClientBootstrap.get_or_create_static_default(), region=region,
            tls_mode=s3.S3RequestTlsMode.ENABLED if https else s3.S3RequestTlsMode.DISABLED,
            tls_connection_options=_tls_options(boto_client, io) if https else None,
            signing_config=s3.create_default_s3_signing_config(region=region, credential_provider=provider),
            retry_config=s3.S3RetryConfig(max_retries=1,   # the least; see the module's docstring
                                          backoff_scale_factor_ms=max(1, int(BACKOFF_SECONDS * 1000))),
            max_active_connections_override=connections, connect_timeout_ms=int(connect_timeout * 1000))

    def __getattr__(self, name):
        return getattr(self._boto, name)   # everything else: boto3's

    @property
    def patient(self):
        """The boto3 client, for calls that may stay quiet for minutes."""
        return self._boto

    def call(self, name: str, params: dict, sleep=time.sleep) -> dict:
        """One call of operation `name` (boto3's name, e.g. "CopyObject")."""
        for hook in BEFORE_CALL:
            hook(name, params)
        op = wire.operation(self._model, name)
        request = wire.build(op, params, self._endpoint, self._virtual)
        delay, sent = BACKOFF_SECONDS, 0
        while True:
            try:
                status, headers, body = self._answer(op, request)
            except HTTPClientError as exc:   # no answer: after the CRT's one retry, or our deadline
                sent += 1 if isinstance(exc, ReadTimeoutError) else 2
                if sent >= ATTEMPTS:
                    raise
                delay = _backoff(sleep, delay)
                continue
            parsed = _parsed(op, status, headers, body, params) if status < 300 else None
            if parsed is not None:
                _tell(name, params, status)
                return parsed
            answer = answers.error_response(500 if status < 300 else status, headers, body)
            code = answer["Error"].get("Code")
            if status in (301, 307) or code in _REDIRECTS:   # the bucket is elsewhere: botocore's
                return getattr(self._boto, _SNAKE[name])(**params)   # region redirector follows it
            sent += 2 if status in _CRT_RETRIES_STATUS or code in _CRT_RETRIES_CODES else 1
            if sent < ATTEMPTS and (status < 300 or status in _RETRY_STATUS or code in _RETRY_CODES):
                delay = _backoff(sleep, delay)
                continue
            _tell(name, params, status)
            raise ClientError(answer, name)

    def _answer(self, op: wire.Operation, req: wire.Request) -> tuple[int, list, bytes]:
        if BEFORE_SEND:
            scheme = self._endpoint.split(":", 1)[0]
            view = _RequestView(f"{scheme}://{req.host}{req.path}", req.method, dict(req.headers), req.body)
            for hook in BEFORE_SEND:
                answered = hook(op.name, view)
                if answered is not None:
                    return answered.status_code, list(answered.headers.items()), answered.content
        return self._send(op, req)

    def _send(self, op: wire.Operation, req: wire.Request) -> tuple[int, list, bytes]:
        """(status, headers, body) of one request, after the CRT's own retries."""
        http = self._http()
        answer: dict = {"headers": [], "chunks": []}
        finished = threading.Event()

        moved = [time.monotonic()]

        def on_headers(status_code, headers, **_):
            answer["status"], answer["headers"] = status_code, list(headers)
            moved[0] = time.monotonic()

        def on_body(chunk, **_):
            answer["chunks"].append(bytes(chunk))
            moved[0] = time.monotonic()

        def on_progress(progress):
            moved[0] = time.monotonic()

        def on_done(error=None, error_headers=None, error_body=None, status_code=None, **_):
            answer["error"], answer["done_status"] = error, status_code
            if error is not None:
                answer["headers"] = list(error_headers or answer["headers"])
                answer["chunks"] = [bytes(error_body or b"")]
            finished.set()

        headers = [("Host", req.host), *req.headers]
        if req.body or req.method in ("PUT", "POST"):
            headers.append(("Content-Length", str(len(req.body))))
        request = http.HttpRequest(req.method, req.path, http.HttpHeaders(headers),
                                   _stream(req.body) if req.body else None)
        made = self._client.make_request(type=self._s3.S3RequestType.DEFAULT, request=request,
                                         operation_name=op.name, on_headers=on_headers, on_body=on_body,
                                         on_done=on_done, on_progress=on_progress)
        idle = TIMEOUT_SECONDS.get(op.name, DEFAULT_TIMEOUT_SECONDS)
        while not finished.wait(min(_POLL_SECONDS, idle)):
            if interrupt.requested() or time.monotonic() - moved[0] > idle:
                made.cancel()
                finished.wait()
                interrupt.check(f"{op.name} {req.path}")
                raise ReadTimeoutError(endpoint_url=f"{self._endpoint}{req.path}")
        status = answer.get("done_status") or answer.get("status") or 0
        if answer["error"] is not None and not status:   # no answer at all, after the retries
            raise HTTPClientError(error=f"{answer['error'].name}: {answer['error'].message}")
        return status, answer["headers"], b"".join(answer["chunks"])

    def _http(self):
        from awscrt import http
        return http


def _method(name: str):
    def call(self, **params):
        return self.call(name, params)
    call.__name__ = name
    return call


for _snake, _name in OPERATIONS.items():
    setattr(CrtClient, _snake, _method(_name))
_SNAKE = {name: snake for snake, name in OPERATIONS.items()}


def _parsed(op: wire.Operation, status: int, headers: list, body: bytes, params: dict) -> dict | None:
    """boto3's answer of a 2xx, or None where botocore's reading of it is a
    500 (handlers._handle_200_error): an XML answer whose root is <Error>,
    or that was cut short (not XML at all)."""
    if op.xml_answer and answers.is_error_body(body):
        return None
    try:
        return answers.parse(op, status, headers, body, params)
    except ET.ParseError:
        return None


def _backoff(sleep, delay: float) -> float:
    sleep(random.uniform(0, delay))   # full jitter, as botocore's standard mode
    return min(delay * 2, 20.0)


class _RequestView:
    def __init__(self, url: str, method: str, headers: dict, body: bytes):
        self.url, self.method, self.headers, self.body = url, method, headers, body


def _tell(name: str, params: dict, status: int) -> None:
    for hook in CALL_HOOKS:
        hook(name, params, status)


def _path_style(boto_client) -> bool:
    return (boto_client.meta.config.s3 or {}).get("addressing_style") == "path"


def _tls_options(boto_client, io):
    """The boto3 client's TLS trust: its CA bundle (AWS_CA_BUNDLE, a profile's
    ca_bundle), or verification switched off as it was told."""
    verify = boto_client._endpoint.http_session._verify
    options = io.TlsContextOptions()
    if verify is False:
        options.verify_peer = False
    elif isinstance(verify, str):
        options.override_default_trust_store_from_path(None, verify)
    return io.ClientTlsContext(options).new_connection_options()


def _stream(body: bytes):
    import io as stdio
    return stdio.BytesIO(body)
