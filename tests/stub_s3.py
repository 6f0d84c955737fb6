"""A scripted S3 on loopback: each request gets the next scripted answer
(the last one again once the script is used up), and every request is
recorded, so a test sees how many attempts a client made.

An answer is `Reply(status, body, headers)`, or one of the faults: `CUT`
(the answer stops after a few bytes of its body and the connection is
closed), `CLOSE` (the connection is closed without a byte of answer) and
`HANG` (no answer until the stub stops).
"""
from __future__ import annotations

import http.server
import socket
import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    headers: dict = field(default_factory=dict)


CUT, CLOSE, HANG = "cut", "close", "hang"

OK_XML = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def error_xml(code: str, message: str = "", **more: str) -> bytes:
    extra = "".join(f"<{k}>{v}</{k}>" for k, v in more.items())
    return OK_XML + (f"<Error><Code>{code}</Code><Message>{message or code}</Message>{extra}"
                     f"<RequestId>stub-request</RequestId><HostId>stub-host</HostId></Error>").encode()


class Stub:
    """The stub server; `with Stub() as stub:`, then `stub.script(...)`."""

    def __init__(self):
        self.requests: list[tuple[str, str]] = []   # (method, path and query) of every request
        self._answers: list = [Reply(200)]
        self._lock = threading.Lock()
        self._released = threading.Event()
        handler = type("Handler", (_Handler,), {"stub": self})
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"

    def script(self, *answers) -> None:
        """Answer the next requests with these, in order; forget the requests seen."""
        with self._lock:
            self._answers = list(answers)
            self.requests = []

    def next_answer(self, method: str, path: str):
        with self._lock:
            self.requests.append((method, path))
            return self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]

    def __enter__(self) -> "Stub":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._released.set()   # hung answers end
        self._server.shutdown()
        self._server.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, as S3: a cut answer must not look like a complete one
    stub: Stub

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without this, Nagle holds
        # the body until the client's delayed ACK (40 ms an answer).
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        answer = self.stub.next_answer(self.command, self.path)
        if answer == HANG:
            self.stub._released.wait()
            self.close_connection = True
            return
        if answer == CLOSE:
            self.close_connection = True
            return
        if answer == CUT:
            self._cut()
            return
        self.send_response(answer.status)
        for name, value in {"Content-Length": str(len(answer.body)), **answer.headers}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    def _cut(self):
        # (Not for a HEAD: cut inside its headers, http.client takes what
        # came for a whole answer, and botocore returns a 200 without them.)
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nETag: \"x\"\r\n\r\n" + OK_XML[:20])
        self.wfile.flush()
        self.close_connection = True

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _answer

    def log_message(self, *args):
        pass
