"""The counting proxy names and counts requests right, and passes bytes unchanged.

    .venv/bin/python -m pytest -q bench/test_counting_proxy.py
"""
from __future__ import annotations

import http.client
import http.server
import threading

import pytest

from bench.counting_proxy import CountingProxy, ProtocolError, RequestParser, operation

COPY = {"x-amz-copy-source": "/src/a"}


@pytest.mark.parametrize("method, target, headers, expected", [
    ("GET", "/", {}, "ListBuckets"),
    ("GET", "/src?list-type=2&max-keys=1000&encoding-type=url", {}, "ListObjectsV2"),
    ("GET", "/src?delimiter=%2F&prefix=", {}, "ListObjects"),
    ("GET", "/src?location", {}, "GetBucketLocation"),
    ("GET", "/src?uploads", {}, "ListMultipartUploads"),
    ("HEAD", "/src", {}, "HeadBucket"),
    ("PUT", "/dst", {}, "CreateBucket"),
    ("POST", "/dst?delete", {}, "DeleteObjects"),
    ("DELETE", "/dst", {}, "DeleteBucket"),
    ("HEAD", "/src/d0000/obj-0000001.bin", {}, "HeadObject"),
    ("GET", "/src/a%20b", {}, "GetObject"),
    ("GET", "/src/a?tagging", {}, "GetObjectTagging"),
    ("GET", "/src/a?uploadId=u", {}, "ListParts"),
    ("PUT", "/dst/a", {}, "PutObject"),
    ("PUT", "/dst/a", COPY, "CopyObject"),
    ("PUT", "/dst/a?tagging", {}, "PutObjectTagging"),
    ("PUT", "/dst/a?partNumber=2&uploadId=u", {}, "UploadPart"),
    ("PUT", "/dst/a?partNumber=2&uploadId=u", COPY, "UploadPartCopy"),
    ("POST", "/dst/a?uploads", {}, "CreateMultipartUpload"),
    ("POST", "/dst/a?uploadId=u", {}, "CompleteMultipartUpload"),
    ("DELETE", "/dst/a", {}, "DeleteObject"),
    ("DELETE", "/dst/a?uploadId=u", {}, "AbortMultipartUpload"),
    ("DELETE", "/dst/a?tagging", {}, "DeleteObjectTagging"),
    ("PATCH", "/dst/a", {}, "PATCH object"),
])
def test_operation_names(method, target, headers, expected):
    assert operation(method, target, headers) == expected


STREAM = (b"PUT /dst/a HTTP/1.1\r\nHost: h\r\nx-amz-copy-source: /src/a\r\nContent-Length: 0\r\n\r\n"
          b"POST /dst?delete HTTP/1.1\r\nHost: h\r\nContent-Length: 24\r\n\r\n<Delete>GET / HTTP/1.1\r\n"
          b"PUT /dst/b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
          b"a;ext=1\r\nHEAD / HTTP\r\n0\r\nx-amz-checksum-crc32: AAAA\r\n\r\n"
          b"HEAD /src/b HTTP/1.1\r\nHost: h\r\n\r\n")
# Bodies that look like request lines must not be counted.
EXPECTED = [("PUT", "/dst/a"), ("POST", "/dst?delete"), ("PUT", "/dst/b"), ("HEAD", "/src/b")]


@pytest.mark.parametrize("size", [1, 7, len(STREAM)])
def test_parser_finds_each_request_whatever_the_reads(size):
    parser = RequestParser()
    found = []
    for i in range(0, len(STREAM), size):
        found += parser.feed(STREAM[i:i + size])
    assert [(method, target) for method, target, _ in found] == EXPECTED
    assert found[0][2]["x-amz-copy-source"] == "/src/a"
    assert not parser.buffer and not parser.body and parser.chunked is None


def test_parser_refuses_what_is_not_http():
    with pytest.raises(ProtocolError):
        RequestParser().feed(b"\x16\x03\x01 hello\r\n\r\n")   # a TLS hello, say


class Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive: several requests on one connection

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = f"{self.command} {self.path} {self.rfile.read(length).decode()}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = _answer

    def log_message(self, *args):
        pass


def test_proxy_counts_and_passes_answers_unchanged():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with CountingProxy(f"http://127.0.0.1:{server.server_port}") as proxy:
            port = int(proxy.url.rsplit(":", 1)[1])
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            answers = []
            for method, path, body, headers in (("GET", "/src?list-type=2", None, {"User-Agent": "Boto3/1 x"}),
                                                ("PUT", "/dst/a", b"", {**COPY, "User-Agent": "aws-cli/1"}),
                                                ("POST", "/dst?delete", b"<Delete/>", {})):
                connection.request(method, path, body=body, headers=headers)
                answers.append(connection.getresponse().read())
            connection.close()
            counts = proxy.snapshot()
            assert proxy.cpu() > 0
        assert answers == [b"GET /src?list-type=2 ", b"PUT /dst/a ", b"POST /dst?delete <Delete/>"]
        # http.client sends no User-Agent: "-".
        assert counts == {("ListObjectsV2", "Boto3"): 1, ("CopyObject", "aws-cli"): 1, ("DeleteObjects", "-"): 1}
        assert not proxy.problems
    finally:
        server.shutdown()
        server.server_close()
