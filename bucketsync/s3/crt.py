"""The hot S3 calls on the AWS Common Runtime's S3 client (`awscrt`, the C
library under aws-cli v2 and boto3's CRT transfers): a fifth of boto3's
CPU per request (bench/RESULTS.md, "Transports").

`CrtClient` wraps one boto3 S3 client and answers the calls in `OPERATIONS`
itself, with boto3's names, arguments, answers and errors (`ClientError`
with the same `Error` and `ResponseMetadata`), so `s3/calls.py` turns them
into the same typed errors; every other attribute is the boto3 client's.
Its credentials, region and endpoint are the boto3 client's.

Retries: the CRT retries 500, 503, connection errors and the error codes
InternalError, SlowDown, RequestTimeout and RequestTimeTooSkewed (also in a
200 body) by itself, with exponential backoff and full jitter; here it is
given botocore's standard budget (10 attempts). It does not retry 429, 502,
504 or throttling codes on other statuses, which botocore's standard mode
does: those are retried here, with the same backoff. A 2xx whose XML is an
<Error> document, or is cut short, is a 500, as botocore reads it; one cut
short is retried here too (the CRT takes it for done).
"""
from __future__ import annotations

import random
import threading
import time
import xml.etree.ElementTree as ET

from botocore.exceptions import ClientError, HTTPClientError, ReadTimeoutError

from . import wire

OPERATIONS = {
    "head_object": "HeadObject", "get_object": "GetObject", "put_object": "PutObject",
    "copy_object": "CopyObject", "list_objects_v2": "ListObjectsV2", "delete_object": "DeleteObject",
    "delete_objects": "DeleteObjects", "get_object_tagging": "GetObjectTagging",
    "put_object_tagging": "PutObjectTagging", "delete_object_tagging": "DeleteObjectTagging",
    "create_multipart_upload": "CreateMultipartUpload", "upload_part": "UploadPart",
    "upload_part_copy": "UploadPartCopy", "complete_multipart_upload": "CompleteMultipartUpload",
    "abort_multipart_upload": "AbortMultipartUpload",
}
ATTEMPTS = 10                     # botocore's standard mode, as clients._config gives boto3
BACKOFF_SECONDS = 0.5             # the first retry's longest wait (doubled per retry, at most 20 s)
_OURS_TO_RETRY = {429, 502, 504}
_THROTTLING = {"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
               "TooManyRequestsException", "RequestLimitExceeded", "BandwidthLimitExceeded",
               "SlowDown", "RequestThrottled", "EC2ThrottledException", "PriorRequestNotComplete"}
# The CRT has no idle-read timeout for these requests: a request that has
# not finished after this long is cancelled and is a transient failure.
# A copy of 5 GB in one CopyObject, or a CompleteMultipartUpload, may take
# minutes on AWS (it keeps the connection alive meanwhile).
TIMEOUT_SECONDS = {"CopyObject": 900.0, "UploadPartCopy": 900.0, "CompleteMultipartUpload": 900.0}
DEFAULT_TIMEOUT_SECONDS = 120.0

# Called as hook(operation, params, status) after every call answered here
# (the rights contract records them; tests count requests).
CALL_HOOKS: list = []


class CrtClient:
    def __init__(self, boto_client, connections: int, connect_timeout: float = 5.0):
        from awscrt import auth, io, s3   # native: imported only when this transport is used
        self._boto = boto_client
        self.meta = boto_client.meta
        self._model = boto_client.meta.service_model
        self._endpoint = boto_client.meta.endpoint_url
        self._virtual = ".amazonaws.com" in self._endpoint and not _path_style(boto_client)
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
            retry_config=s3.S3RetryConfig(max_retries=ATTEMPTS - 1,
                                          backoff_scale_factor_ms=max(1, int(BACKOFF_SECONDS * 1000))),
            max_active_connections_override=connections, connect_timeout_ms=int(connect_timeout * 1000))

    def __getattr__(self, name):
        return getattr(self._boto, name)   # everything else: boto3's

    def call(self, name: str, params: dict, sleep=time.sleep) -> dict:
        """One call of operation `name` (boto3's name, e.g. "CopyObject")."""
        op = wire.operation(self._model, name)
        request = wire.build(op, params, self._endpoint, self._virtual)
        delay = BACKOFF_SECONDS
        for attempt in range(1, ATTEMPTS + 1):
            status, headers, body = self._send(op, request)
            parsed = _parsed(op, status, headers, body, params) if status < 300 else None
            if parsed is not None:
                _tell(name, params, status)
                return parsed
            if status < 300:
                status = 500   # botocore reads such a 2xx as a 500 too
            answer = wire.error_response(status, headers, body)
            if attempt < ATTEMPTS and _retryable(status, answer["Error"].get("Code")):
                sleep(random.uniform(0, delay))
                delay = min(delay * 2, 20.0)
                continue
            _tell(name, params, status)
            raise ClientError(answer, name)
        raise AssertionError("unreachable")

    def _send(self, op: wire.Operation, req: wire.Request) -> tuple[int, list, bytes]:
        """(status, headers, body) of one request, after the CRT's own retries."""
        http = self._http()
        answer: dict = {"headers": [], "chunks": []}
        finished = threading.Event()

        def on_headers(status_code, headers, **_):
            answer["status"], answer["headers"] = status_code, list(headers)

        def on_body(chunk, **_):
            answer["chunks"].append(bytes(chunk))

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
                                         on_done=on_done)
        if not finished.wait(TIMEOUT_SECONDS.get(op.name, DEFAULT_TIMEOUT_SECONDS)):
            made.cancel()
            finished.wait()
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


def _parsed(op: wire.Operation, status: int, headers: list, body: bytes, params: dict) -> dict | None:
    """boto3's answer of a 2xx, or None where botocore's reading of it is a
    500 (handlers._handle_200_error): an XML answer whose root is <Error>,
    or that was cut short (not XML at all)."""
    if op.xml_answer and wire.is_error_body(body):
        return None
    try:
        return wire.parse(op, status, headers, body, params)
    except ET.ParseError:
        return None


def _retryable(status: int, code: str) -> bool:
    """What botocore retries and the CRT does not. A 500 reaches here only
    from a 200 (the CRT retries real ones itself, then hands over no
    answer); its code is "500" when the body was no error document but an
    answer cut short, which botocore retries and the CRT takes as done."""
    return status in _OURS_TO_RETRY or code in _THROTTLING or (status == 500 and code == "500")


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
