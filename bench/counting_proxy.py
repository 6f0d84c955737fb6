"""A counting TCP proxy in front of the benchmark endpoint, shared by every tool.

What it counts: HTTP requests as the server receives them, one per request
line on the client's side of each connection (so every retry, every HEAD and
every listing page is a request), named by S3 operation from the method, the
path-style target, the query and the `x-amz-copy-source` header (`operation`).
It also keeps each request's User-Agent product (the first token before "/"),
which says which transport sent it (`Boto3`, `aws-cli`, `aws-sdk-go`, ...).

How: one upstream connection per client connection; bytes are forwarded as
they arrive, both ways, unchanged; the client-to-server stream is also fed to
`RequestParser` (request line, headers, then a body of Content-Length bytes or
chunked), the server's answers are not parsed. Clients therefore see the same
server, one loopback hop further; the proxy's own CPU (Python, one thread) is
reported by `cpu()` so that its share of the shared machine is known.
"""
from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024   # request headers larger than this are not HTTP/1.1 from these clients


class ProtocolError(Exception):
    """The client's stream is not HTTP/1.1 as this parser knows it (counts would be wrong)."""


def operation(method: str, target: str, headers: dict[str, str]) -> str:
    """The S3 operation of one path-style request (the endpoint is an IP address,
    so no client can use virtual hosts)."""
    path, _, query = target.partition("?")
    names = {item.split("=", 1)[0] for item in query.split("&") if item}
    bucket, _, key = path.lstrip("/").partition("/")
    copy = "x-amz-copy-source" in headers
    if not bucket:
        return "ListBuckets" if method == "GET" else f"{method} /"
    if not key:
        table = {"GET": "ListObjectsV2" if "list-type" in names else "GetBucketLocation" if "location" in names
                 else "ListMultipartUploads" if "uploads" in names else "ListObjects",
                 "HEAD": "HeadBucket", "PUT": "CreateBucket",
                 "POST": "DeleteObjects" if "delete" in names else "POST bucket", "DELETE": "DeleteBucket"}
    else:
        table = {"HEAD": "HeadObject",
                 "GET": "GetObjectTagging" if "tagging" in names else "ListParts" if "uploadId" in names
                 else "GetObject",
                 "PUT": "PutObjectTagging" if "tagging" in names
                 else ("UploadPartCopy" if copy else "UploadPart") if "partNumber" in names
                 else "CopyObject" if copy else "PutObject",
                 "POST": "CreateMultipartUpload" if "uploads" in names
                 else "CompleteMultipartUpload" if "uploadId" in names else "POST object",
                 "DELETE": "DeleteObjectTagging" if "tagging" in names
                 else "AbortMultipartUpload" if "uploadId" in names else "DeleteObject"}
    return table.get(method, f"{method} {'object' if key else 'bucket'}")


class RequestParser:
    """Requests in a client's byte stream: `feed` returns (method, target,
    headers) for each request whose headers are complete."""

    def __init__(self):
        self.buffer = bytearray()
        self.body = 0            # body bytes still to skip
        self.chunked = None      # None, "size" (a chunk-size line next), "trailer"

    def feed(self, data: bytes) -> list[tuple[str, str, dict[str, str]]]:
        self.buffer += data
        found = []
        while True:
            if self.body:
                taken = min(self.body, len(self.buffer))
                del self.buffer[:taken]
                self.body -= taken
                if self.body:
                    return found
            if self.chunked is not None:
                if not self._chunk_step():
                    return found
                continue
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD:
                    raise ProtocolError("no end of request headers within 64 KiB")
                return found
            head = bytes(self.buffer[:end]).decode("latin-1")
            del self.buffer[:end + 4]
            found.append(self._request(head))

    def _request(self, head: str) -> tuple[str, str, dict[str, str]]:
        line, *fields = head.split("\r\n")
        parts = line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise ProtocolError(f"not an HTTP/1.x request line: {line[:200]!r}")
        headers = {}
        for field in fields:
            name, _, value = field.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self.chunked = "size"
        else:
            self.body = int(headers.get("content-length") or 0)
        return parts[0], parts[1], headers

    def _chunk_step(self) -> bool:
        """One step through a chunked body; False when more bytes are needed."""
        end = self.buffer.find(b"\r\n")
        if end < 0:
            return False
        line = bytes(self.buffer[:end])
        del self.buffer[:end + 2]
        if self.chunked == "trailer":
            if not line:   # the empty line after the trailers ends the request
                self.chunked = None
            return True
        size = int(line.split(b";")[0], 16)
        if size == 0:
            self.chunked = "trailer"
        else:
            self.body = size + 2   # the chunk and its CRLF
        return True


class CountingProxy:
    """`with CountingProxy(upstream_url) as proxy:` clients use `proxy.url`;
    `proxy.snapshot()` is a Counter of (operation, agent) -> requests so far."""

    def __init__(self, upstream: str):
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname, parts.port)
        self.lock = threading.Lock()
        self.counts: Counter = Counter()
        self.problems: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="counting-proxy", daemon=True)
        self.url = ""
        self.connections: set[asyncio.Task] = set()

    def __enter__(self) -> "CountingProxy":
        self.thread.start()
        server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024), self.loop).result(10)
        self.server = server
        self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def _close(self) -> None:
        """Stop listening; cut the connections clients left open (idle keep-alives)."""
        self.server.close()
        for task in self.connections:
            task.cancel()
        await asyncio.gather(*self.connections, return_exceptions=True)

    def snapshot(self) -> Counter:
        with self.lock:
            return Counter(self.counts)

    def cpu(self) -> float:
        """CPU seconds the proxy's thread has used so far."""
        async def thread_time():
            return time.thread_time()
        return asyncio.run_coroutine_threadsafe(thread_time(), self.loop).result(10)

    def _count(self, method: str, target: str, headers: dict[str, str]) -> None:
        agent = headers.get("user-agent", "-").split("/", 1)[0].split(" ", 1)[0] or "-"
        with self.lock:
            self.counts[operation(method, target, headers), agent] += 1

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self.connections.add(task)
        try:
            await self._connection(reader, writer)
        finally:
            self.connections.discard(task)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError as exc:
            self.problems.append(f"upstream connection failed: {exc}")
            writer.close()
            return
        answers = asyncio.ensure_future(self._pipe(up_reader, writer))
        try:
            await self._requests(reader, up_writer, answers)
            await asyncio.wait_for(answers, 30)   # the server's last answer, then its close
        except (ConnectionError, asyncio.TimeoutError):
            pass
        finally:
            answers.cancel()
            writer.close()
            up_writer.close()

    async def _requests(self, reader, up_writer, answers) -> None:
        parser = RequestParser()
        while not answers.done():
            try:
                data = await reader.read(65536)
            except ConnectionError:
                return
            if not data:
                if up_writer.can_write_eof():
                    up_writer.write_eof()
                return
            try:
                for request in parser.feed(data):
                    self._count(*request)
            except (ProtocolError, ValueError) as exc:
                self.problems.append(str(exc))
                parser = RequestParser()   # counts from here on are suspect: reported
            up_writer.write(data)
            await up_writer.drain()

    @staticmethod
    async def _pipe(reader, writer) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()
