"""Transports for the hot S3 requests (issue 19): wall and client CPU per request.

One `rclone serve s3` endpoint; the source bucket is seeded on disk. Each round runs,
for every candidate in turn (the order rotates per round), on the same N keys:
CopyObject src -> dst of every object, HeadObject of every copy, ListObjectsV2 of
dst (1,000 keys a page), DeleteObjects of dst in batches of 1,000. Figures are
medians over the rounds. Every phase's result is checked (counts, listed keys), and
each candidate once answers: HEAD of a missing key -> 404, CopyObject with a failing
x-amz-copy-source-if-match -> 412, and (against a loopback stub) a 200 CopyObject
whose body is an <Error> -> an error, plus how many attempts it made for that and
for a HEAD answered 503.

Candidates:
  boto3        boto3 client as bucketsync makes it (standard retries, 10 attempts,
               32 connections, timestamps unparsed), 32 threads
  crt-s3       awscrt.s3.S3Client, S3RequestType.DEFAULT, SigV4 from static keys,
               up to --window requests in flight from one thread (callbacks); its
               own retries (defaults)
  crt-s3-sync  the same S3Client called as bucketsync calls boto3: 32 threads, each
               waiting for its own request (finished_future)
  sigv4-u3     botocore's S3SigV4Auth on an AWSRequest + a urllib3 connection pool
               (32), 32 threads; no botocore client
  crt-http     awscrt.http HTTP/1.1 connections (32) + awscrt.auth signing, driven
               by callbacks (each connection sends its next request when one ends)
All but boto3 parse the XML with ElementTree and check a copy's 200 body is a
CopyObjectResult. sigv4-u3 and crt-http retry here (send_retrying: no answer, 429,
5xx, a copy's 200 <Error>; 10 attempts, capped exponential backoff, full jitter).

Run: .venv/bin/python bench/transports.py [--objects 4000] [--rounds 3]
     [--candidates boto3,crt-s3,crt-s3-sync,sigv4-u3,crt-http] [--window 256]
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import random
import http.server
import statistics
import sys
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote, urlsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.server import ACCESS_KEY, OUT, REGION, SECRET_KEY, count_objects, key_name, rclone_s3, s3_client

SRC, DST = "src", "dst"
THREADS = 32
PHASES = ("copy", "head", "list", "delete")


# ---------------------------------------------------------------- wire format (shared)

def q(key: str) -> str:
    return quote(key, safe="/~")


def delete_body(keys: list[str]) -> bytes:
    objs = "".join(f"<Object><Key>{escape(k)}</Key></Object>" for k in keys)
    return f'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{objs}</Delete>'.encode()


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md5_b64(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode()


def tag(element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def copy_ok(status: int, body: bytes) -> bool:
    """A CopyObject is done only if the 200 body is a CopyObjectResult (S3 can
    answer 200 and put an <Error> in the body)."""
    if status != 200:
        return False
    try:
        return tag(ET.fromstring(body)) == "CopyObjectResult"
    except ET.ParseError:
        return False


def parse_list(body: bytes) -> tuple[list[str], str | None]:
    keys, truncated, token = [], False, None
    for child in ET.fromstring(body):
        name = tag(child)
        if name == "Contents":
            keys += [c.text for c in child if tag(c) == "Key"]
        elif name == "IsTruncated":
            truncated = child.text == "true"
        elif name == "NextContinuationToken":
            token = child.text
    return keys, token if truncated else None


def parse_delete(body: bytes) -> tuple[int, int]:
    """(deleted, errors); namespace-blind: rclone's DeleteResult has none."""
    root = ET.fromstring(body)
    if tag(root) != "DeleteResult":
        return 0, 1
    names = [tag(c) for c in root]
    return names.count("Deleted"), names.count("Error")


def batches(keys: list[str], size: int = 1000) -> list[list[str]]:
    return [keys[i:i + size] for i in range(0, len(keys), size)]


# ---------------------------------------------------------------- candidates
# Each: copy(keys) -> ok count; head(bucket, keys) -> {status: count};
# list(bucket) -> keys; delete(bucket, keys) -> deleted count;
# copy_if_match(key, etag) -> status; close().

class Boto3:
    name = "boto3"

    def __init__(self, endpoint: str, attempts: int = 10):
        import boto3
        import botocore.session
        from botocore.config import Config
        core = botocore.session.get_session()   # as bucketsync.clients does
        core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=str)
        session = boto3.session.Session(botocore_session=core)
        self.client = session.client(
            "s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(retries={"mode": "standard", "total_max_attempts": attempts},
                          max_pool_connections=THREADS, connect_timeout=5, read_timeout=120,
                          s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"))
        self.pool = ThreadPoolExecutor(THREADS)
        self.retry_log: list[int] = []   # list.append is atomic: safe from the threads

    @property
    def retries(self) -> int:
        return sum(self.retry_log)

    def _status(self, call) -> int:
        from botocore.exceptions import ClientError
        try:
            meta = call()["ResponseMetadata"]
            status = 200
        except ClientError as exc:
            meta = exc.response["ResponseMetadata"]
            status = int(meta.get("HTTPStatusCode") or 0)
        self.retry_log.append(meta.get("RetryAttempts", 0))
        return status

    def copy(self, keys):
        def one(key):
            return self._status(lambda: self.client.copy_object(
                Bucket=DST, Key=key, CopySource={"Bucket": SRC, "Key": key}))
        return sum(s == 200 for s in self.pool.map(one, keys))

    def copy_if_match(self, key, etag):
        return self._status(lambda: self.client.copy_object(
            Bucket=DST, Key=key, CopySource={"Bucket": SRC, "Key": key}, CopySourceIfMatch=etag))

    def head(self, bucket, keys):
        statuses = self.pool.map(lambda k: self._status(lambda: self.client.head_object(Bucket=bucket, Key=k)), keys)
        return tally(statuses)

    def list(self, bucket):
        out = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, MaxKeys=1000):
            out += [o["Key"] for o in page.get("Contents", [])]
        return out

    def delete(self, bucket, keys):
        done = 0
        for batch in batches(keys):
            resp = self.client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch]})
            self.retry_log.append(resp["ResponseMetadata"].get("RetryAttempts", 0))
            done += len(resp.get("Deleted", []))
        return done

    def close(self):
        self.pool.shutdown()


class _Raw:
    """The requests as (method, path, query, headers, body); subclasses send them
    and give back (status, body). Shared by the non-boto3 candidates."""

    attempts = 10   # as bucketsync's boto3 clients (standard mode)
    retries = 0

    def send_many(self, reqs: list[tuple]) -> list[tuple[int, bytes]]:
        raise NotImplementedError

    def send_retrying(self, reqs: list[tuple], copy: bool = False) -> list[tuple[int, bytes]]:
        """send_many, then again the requests that failed in a way worth retrying
        (no answer, 429, 5xx, or a copy's 200 with an <Error> body), with capped
        exponential backoff and full jitter, as botocore's standard mode."""
        results = self.send_many(reqs)
        for attempt in range(1, self.attempts):
            redo = [i for i, (s, b) in enumerate(results) if retryable(s, b, copy)]
            if not redo:
                break
            self.retries += len(redo)
            time.sleep(random.random() * min(20.0, 0.1 * 2 ** attempt))
            for i, result in zip(redo, self.send_many([reqs[i] for i in redo])):
                results[i] = result
        return results

    def send(self, req, copy: bool = False):
        return self.send_retrying([req], copy)[0]

    @staticmethod
    def _copy_req(key, extra=()):
        return ("PUT", f"/{DST}/{q(key)}", "", [("x-amz-copy-source", f"/{SRC}/{q(key)}"), *extra], b"")

    def copy(self, keys):
        results = self.send_retrying([self._copy_req(k) for k in keys], copy=True)
        failed = [(k, s, b[:300]) for k, (s, b) in zip(keys, results) if not copy_ok(s, b)]
        if failed and not getattr(self, "quiet", False):
            print(f"{self.name}: {len(failed)} copies failed, first: {failed[0]}", file=sys.stderr)
        return len(keys) - len(failed)

    def copy_if_match(self, key, etag):
        return self.send(self._copy_req(key, [("x-amz-copy-source-if-match", etag)]), copy=True)[0]

    def head(self, bucket, keys):
        return tally(s for s, _ in self.send_retrying([("HEAD", f"/{bucket}/{q(k)}", "", [], b"") for k in keys]))

    def list(self, bucket):
        out, token = [], None
        while True:
            query = "list-type=2&max-keys=1000" + (f"&continuation-token={quote(token, safe='')}" if token else "")
            status, body = self.send(("GET", f"/{bucket}", query, [], b""))
            if status != 200:
                raise RuntimeError(f"{self.name}: ListObjectsV2 answered {status}: {body[:200]!r}")
            keys, token = parse_list(body)
            out += keys
            if token is None:
                return out

    def delete(self, bucket, keys):
        done = 0
        for batch in batches(keys):
            body = delete_body(batch)
            status, resp = self.send(("POST", f"/{bucket}", "delete=", [("Content-MD5", md5_b64(body))], body))
            if status == 200:
                done += parse_delete(resp)[0]
        return done

    def close(self):
        pass


class CrtS3(_Raw):
    name = "crt-s3"
    attempts = 1   # the S3Client retries itself (retry_config) and does not say how often
    retries = None

    def __init__(self, endpoint: str, window: int = 256, max_retries: int = 0):
        from awscrt import auth, io, s3
        self.s3 = s3
        from awscrt import http as crt_http
        self.http = crt_http
        parts = urlsplit(endpoint)
        self.host = parts.netloc
        creds = auth.AwsCredentialsProvider.new_static(ACCESS_KEY, SECRET_KEY)
        self.client = s3.S3Client(
            bootstrap=io.ClientBootstrap.get_or_create_static_default(), region=REGION,
            tls_mode=s3.S3RequestTlsMode.DISABLED if parts.scheme == "http" else s3.S3RequestTlsMode.ENABLED,
            signing_config=s3.create_default_s3_signing_config(region=REGION, credential_provider=creds),
            retry_config=s3.S3RetryConfig(max_retries=max_retries))
        self.window = window

    OPS = {"PUT": "CopyObject", "HEAD": "HeadObject", "GET": "ListObjectsV2", "POST": "DeleteObjects"}

    def _start(self, req, finish):
        """Start one request; `finish((status, body))` is called on a CRT thread."""
        method, path, query, headers, body = req
        chunks: list[bytes] = []
        hdrs = [("Host", self.host), *_length(method, body), *headers]
        request = self.http.HttpRequest(method, path + (f"?{query}" if query else ""),
                                        self.http.HttpHeaders(hdrs), _stream(body))

        def on_body(chunk, offset=0, **kw):
            chunks.append(bytes(chunk))

        def on_done(error=None, error_body=None, status_code=None, **kw):
            if error is None:
                finish((status_code or 0, b"".join(chunks)))
            else:
                finish((status_code or -1, error_body or repr(error).encode()))

        return self.client.make_request(type=self.s3.S3RequestType.DEFAULT, request=request,
                                        operation_name=self.OPS[method], on_body=on_body, on_done=on_done)

    def send_many(self, reqs):
        results: list = [None] * len(reqs)
        slots = threading.Semaphore(self.window)
        left = [len(reqs)]
        done = threading.Event()
        lock = threading.Lock()
        keep = {}   # the S3Request objects must live until they finish
        if not reqs:
            return results

        for i, req in enumerate(reqs):
            slots.acquire()

            def finish(result, _i=i):
                results[_i] = result
                slots.release()
                with lock:
                    keep.pop(_i, None)
                    left[0] -= 1
                    if left[0] == 0:
                        done.set()

            made = self._start(req, finish)
            with lock:
                if results[i] is None:
                    keep[i] = made
        done.wait()
        return results


class CrtS3Sync(CrtS3):
    """The same S3Client, used as bucketsync uses boto3: 32 threads, each
    making one request and waiting for it (the request's finished_future)."""
    name = "crt-s3-sync"

    def __init__(self, endpoint: str, window: int = 256, max_retries: int = 0):
        super().__init__(endpoint, window, max_retries)
        self.pool = ThreadPoolExecutor(THREADS)

    def _one(self, req):
        out: list = []
        finished = threading.Event()
        made = self._start(req, lambda result: (out.append(result), finished.set()))
        try:   # a concurrent.futures.Future; set just before on_done runs
            made.finished_future.result()
        except Exception:   # noqa: BLE001 - an error answer: on_done records it
            pass
        finished.wait()
        return out[0]

    def send_many(self, reqs):
        return list(self.pool.map(self._one, reqs)) if len(reqs) > 1 else [self._one(reqs[0])]

    def close(self):
        self.pool.shutdown()


def _length(method: str, body: bytes) -> list:
    return [("Content-Length", str(len(body)))] if method in ("PUT", "POST") else []


def _stream(body: bytes):
    if not body:
        return None
    import io as _io
    return _io.BytesIO(body)


class SigV4Urllib3(_Raw):
    name = "sigv4-u3"

    def __init__(self, endpoint: str):
        import urllib3
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        self.endpoint = endpoint
        parts = urlsplit(endpoint)
        self.pool_http = urllib3.HTTPConnectionPool(parts.hostname, parts.port, maxsize=THREADS, block=True,
                                                    retries=False, timeout=urllib3.Timeout(connect=5, read=120))
        self.signer = S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION)
        self.AWSRequest = AWSRequest
        self.pool = ThreadPoolExecutor(THREADS)

    def _one(self, req):
        method, path, query, headers, body = req
        url = self.endpoint + path + (f"?{query}" if query else "")
        aws = self.AWSRequest(method=method, url=url, headers=dict(headers), data=body)
        self.signer.add_auth(aws)
        resp = self.pool_http.urlopen(method, path + (f"?{query}" if query else ""), body=body or None,
                                      headers=dict(aws.headers.items()), preload_content=True,
                                      assert_same_host=False)
        return resp.status, resp.data

    def send_many(self, reqs):
        return list(self.pool.map(self._one, reqs)) if len(reqs) > 1 else [self._one(reqs[0])]

    def close(self):
        self.pool.shutdown()


class CrtHttp(_Raw):
    name = "crt-http"

    def __init__(self, endpoint: str, connections: int = THREADS):
        from awscrt import auth, http as crt_http, io
        self.auth, self.http = auth, crt_http
        parts = urlsplit(endpoint)
        self.host = parts.netloc
        self.creds = auth.AwsCredentialsProvider.new_static(ACCESS_KEY, SECRET_KEY)
        bootstrap = io.ClientBootstrap.get_or_create_static_default()
        self._connect = lambda: crt_http.HttpClientConnection.new(parts.hostname, parts.port, bootstrap=bootstrap)
        self.conns = [f.result(10) for f in [self._connect() for _ in range(connections)]]
        self._config, self._config_at = None, 0.0

    def _signing_config(self):
        # The date is fixed when a config is made: a fresh one each minute.
        now = time.monotonic()
        if self._config is None or now - self._config_at > 60:
            a = self.auth
            self._config = a.AwsSigningConfig(
                algorithm=a.AwsSigningAlgorithm.V4, signature_type=a.AwsSignatureType.HTTP_REQUEST_HEADERS,
                credentials_provider=self.creds, region=REGION, service="s3",
                signed_body_value=a.AwsSignedBodyValue.UNSIGNED_PAYLOAD,
                signed_body_header_type=a.AwsSignedBodyHeaderType.X_AMZ_CONTENT_SHA_256,
                use_double_uri_encode=False, should_normalize_uri_path=False)
            self._config_at = now
        return self._config

    def send_many(self, reqs):
        results: list = [None] * len(reqs)
        lock = threading.Lock()
        nxt = [0]
        idle = [0]
        done = threading.Event()
        config = self._signing_config()
        slots = max(1, min(len(self.conns), len(reqs)))

        def start(j):
            """Connection j sends the next request (a closed connection is
            replaced first: servers close idle keep-alive connections)."""
            with lock:
                i = nxt[0]
                nxt[0] += 1
                if i >= len(reqs):
                    idle[0] += 1
                    if idle[0] == slots:
                        done.set()
                    return
            if self.conns[j].is_open():
                sign(j, i)
            else:
                self._connect().add_done_callback(lambda f: reconnected(j, i, f))

        def reconnected(j, i, fut):
            try:
                self.conns[j] = fut.result()
            except Exception as exc:   # noqa: BLE001 - recorded as a failed request
                results[i] = (-1, repr(exc).encode())
                return start(j)
            sign(j, i)

        def sign(j, i):
            method, path, query, headers, body = reqs[i]
            hdrs = [("Host", self.host), *_length(method, body), *headers]
            request = self.http.HttpRequest(method, path + (f"?{query}" if query else ""),
                                            self.http.HttpHeaders(hdrs), _stream(body))
            self.auth.aws_sign_request(request, config).add_done_callback(lambda f: signed(j, i, f))

        def signed(j, i, fut):
            try:
                chunks: list[bytes] = []
                stream = self.conns[j].request(fut.result(),
                                               on_body=lambda http_stream, chunk, **kw: chunks.append(bytes(chunk)))
                stream.completion_future.add_done_callback(lambda f: finished(j, i, f, chunks))
                stream.activate()
            except Exception as exc:   # noqa: BLE001 - recorded as a failed request
                results[i] = (-1, repr(exc).encode())
                start(j)

        def finished(j, i, fut, chunks):
            try:
                results[i] = (fut.result(), b"".join(chunks))
            except Exception as exc:   # noqa: BLE001
                results[i] = (-1, repr(exc).encode())
            start(j)

        for j in range(slots):
            start(j)
        done.wait()
        return results

    def close(self):
        for c in self.conns:
            c.close()


def retryable(status: int, body: bytes, copy: bool) -> bool:
    return status in (-1, 429) or status >= 500 or (copy and status == 200 and not copy_ok(status, body))


def tally(statuses) -> dict:
    out: dict = {}
    for s in statuses:
        out[s] = out.get(s, 0) + 1
    return out


FACTORIES = {"boto3": Boto3, "crt-s3": CrtS3, "crt-s3-sync": CrtS3Sync, "sigv4-u3": SigV4Urllib3,
             "crt-http": CrtHttp}


# ---------------------------------------------------------------- stub for the error checks

class _Stub(http.server.BaseHTTPRequestHandler):
    """PUT (CopyObject) -> 200 with an <Error> body, or 412 if it has
    x-amz-copy-source-if-match (as S3 answers a failing one); HEAD -> 503. Counts attempts."""
    hits: dict = {}
    protocol_version = "HTTP/1.1"

    def _answer(self, status, body=b""):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        _Stub.hits[self.command] = _Stub.hits.get(self.command, 0) + 1
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_PUT(self):
        if self.headers.get("x-amz-copy-source-if-match"):
            return self._answer(412, b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>'
                                     b"<Message>At least one of the pre-conditions you specified did not hold</Message>"
                                     b"<Condition>x-amz-copy-source-If-Match</Condition></Error>")
        self._answer(200, b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
                          b"<Message>We encountered an internal error. Please try again.</Message></Error>")

    def do_HEAD(self):
        self._answer(503)

    def log_message(self, *args):
        pass


def stub_checks(name: str) -> dict:
    """Against the stub, with retries cut to the fewest each candidate allows."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    kwargs = {"boto3": {"attempts": 2}, "crt-s3": {"max_retries": 1}, "crt-s3-sync": {"max_retries": 1}}.get(name, {})
    client = FACTORIES[name](endpoint, **kwargs)
    client.quiet = True   # the failures are the point here
    if not kwargs and isinstance(client, _Raw):
        client.attempts = kwargs["attempts"] = 2
    _Stub.hits = {}
    try:
        copied = client.copy(["k"])
        put_hits = _Stub.hits.get("PUT", 0)
        head = client.head(SRC, ["k"]) if name == "boto3" else client.send(("HEAD", f"/{SRC}/k", "", [], b""))
        head_hits = _Stub.hits.get("HEAD", 0)
        if_match = client.copy_if_match("k", '"00000000000000000000000000000000"')
        if_match_hits = _Stub.hits.get("PUT", 0) - put_hits
    finally:
        client.close()
        server.shutdown()
        server.server_close()
    return {"200-error copy counted ok": copied, "copy attempts": put_hits, "503 head": head,
            "head attempts": head_hits,
            "if-match 412": if_match, "if-match attempts": if_match_hits, "retry setting": kwargs}


# ---------------------------------------------------------------- the run

def run_round(client, keys: list[str], n: int) -> dict:
    times = {}
    expected = sorted(keys)

    def timed(phase, fn):
        retried = client.retries
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        times[phase] = (time.perf_counter() - w, time.process_time() - c,
                        None if retried is None else client.retries - retried)
        return out

    copied = timed("copy", lambda: client.copy(keys))
    heads = timed("head", lambda: client.head(DST, keys))
    listed = timed("list", lambda: client.list(DST))
    deleted = timed("delete", lambda: client.delete(DST, listed))
    problems = []
    if copied != n:
        problems.append(f"copied {copied} of {n}")
    if heads != {200: n}:
        problems.append(f"HEAD statuses {heads}")
    if sorted(listed) != expected:
        problems.append(f"listed {len(listed)} keys, not the {n} copied")
    if deleted != n:
        problems.append(f"deleted {deleted} of {n}")
    if problems:
        raise RuntimeError(f"{client.name}: " + "; ".join(problems))
    return times


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--objects", type=int, default=4000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--candidates", default=",".join(FACTORIES))
    ap.add_argument("--window", type=int, default=256, help="crt-s3: requests in flight")
    args = ap.parse_args(argv)
    names = args.candidates.split(",")
    n = args.objects
    keys = [key_name(i) for i in range(n)]
    requests = {"copy": n, "head": n, "list": -(-n // 1000), "delete": -(-n // 1000)}
    samples = {(c, p): [] for c in names for p in PHASES}
    with rclone_s3(OUT / "transports", [SRC, DST], seed_bucket=SRC, count=n) as endpoint:
        checker = s3_client(endpoint)
        clients = {}
        for name in names:
            kwargs = {"window": args.window} if name == "crt-s3" else {}
            clients[name] = client = FACTORIES[name](endpoint, **kwargs)
            etag = '"00000000000000000000000000000000"'
            checks = {"HEAD missing": client.head(SRC, ["no/such-key"]),
                      "copy if-match failing (rclone ignores it)": client.copy_if_match(keys[0], etag)}
            run_round(client, keys[:min(n, 200)], min(n, 200))   # warm-up, checked, untimed
            assert count_objects(checker, DST) == 0
            print(f"{name}: rclone: {checks}; stub: {stub_checks(name)}", flush=True)
        for r in range(args.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                t = run_round(clients[name], keys, n)
                assert count_objects(checker, DST) == 0
                for p in PHASES:
                    samples[(name, p)].append(t[p])
                print(f"round {r + 1} {name}: " + ", ".join(
                    f"{p} {w:.2f}s/{c:.2f}cpu/{x}retried" for p, (w, c, x) in t.items()), flush=True)
        for c in clients.values():
            c.close()
    for name in names:   # all four phases of one round, as one more row
        samples[(name, "all")] = [tuple(map(sum, zip(*(samples[(name, p)][r] for p in PHASES))))
                                  if samples[(name, "copy")][r][2] is not None else
                                  (*map(sum, zip(*(samples[(name, p)][r][:2] for p in PHASES))), None)
                                  for r in range(args.rounds)]
    requests["all"] = sum(requests.values())
    med = {k: (statistics.median(w for w, _, _ in v), statistics.median(c for _, c, _ in v),
               None if v[0][2] is None else sum(x for _, _, x in v)) for k, v in samples.items()}
    print(f"\n{n} objects x 1 KiB, median of {args.rounds} rounds; ratio = candidate / boto3; "
          f"retried = extra attempts over all rounds (crt-s3 does not report its own)")
    print("| request | candidate | calls | wall (s) | CPU (s) | CPU ms/call | wall / boto3 | CPU / boto3 | retried |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for p in (*PHASES, "all"):
        for name in names:
            w, c, x = med[(name, p)]
            base = med.get(("boto3", p))
            rw = f"{w / base[0]:.2f}" if base else "-"
            rc = f"{c / base[1]:.2f}" if base and base[1] else "-"
            print(f"| {p} | {name} | {requests[p]} | {w:.2f} | {c:.2f} | {1000 * c / requests[p]:.2f} | {rw} | {rc} | "
                  f"{'n/a' if x is None else x} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
