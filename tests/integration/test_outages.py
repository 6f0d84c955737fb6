"""Endpoints that are down: fail fast when never reachable, ride out an
outage that starts mid-run (a real proxy in front of a real server)."""
import io
import json
import socket
import threading
import time

import pytest

from bucketsync.local import cli
from bucketsync.project import terminal
from tests.backends import SeaweedBackend, seaweed_backend
from tests.faults import before_call
from tests.proxy import Proxy


@pytest.fixture(autouse=True)
def reports_in_tmp(report_dir, monkeypatch):
    monkeypatch.setenv("BUCKETSYNC_REPORT_DIR", str(report_dir))


def run_cli(**opts):
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    status = cli.sync(cli.SyncOptions(json=True, **opts), out=out, err=err)
    return status, out.getvalue(), err.getvalue(), time.monotonic() - started


def test_a_closed_port_fails_within_seconds():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]   # closed once the block ends
    status, out, err, seconds = run_cli(source="a-bucket", destination="b-bucket",
                                        endpoint_url=f"http://127.0.0.1:{port}")
    assert status == terminal.EXIT_FAILED and seconds < 15, (seconds, err)
    assert json.loads(out.splitlines()[-1])["error"] == "EndpointUnreachableError"
    assert err.startswith("error: EndpointUnreachableError: cannot reach") and err.count("\n") == 1


def test_a_server_that_never_answers_fails_within_15_seconds():
    silent = socket.create_server(("127.0.0.1", 0))
    accepted = []
    stop = threading.Event()

    def accept():
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(silent.accept()[0])   # and never answer
            except OSError:
                pass

    threading.Thread(target=accept, daemon=True).start()
    try:
        status, out, err, seconds = run_cli(source="a-bucket", destination="b-bucket",
                                            endpoint_url=f"http://127.0.0.1:{silent.getsockname()[1]}")
    finally:
        stop.set()
        for sock in accepted:
            sock.close()
        silent.close()
    assert status == terminal.EXIT_FAILED and seconds < 15, (seconds, err)
    assert json.loads(out.splitlines()[-1])["error"] == "EndpointUnreachableError"


def test_an_outage_of_20_seconds_mid_run_is_ridden_out(seaweedfs, report_dir):
    with Proxy(seaweedfs.port) as proxy, seaweed_backend(seaweedfs, report_dir) as backend:
        backend.endpoint = proxy.endpoint
        source, destination = backend.buckets()
        for n in range(30):
            backend.put(source, f"k{n:02d}", f"v{n}".encode())
        with before_call("CopyObject", lambda params: proxy.outage(20)):
            started = time.monotonic()
            outcome = backend.sync({"source": source, "destination": destination})
            took = time.monotonic() - started
        assert proxy.dropped > 0, "the outage was real"
        assert took >= 20
        assert outcome.ok, (outcome.error, outcome.cause, outcome.output)
        assert outcome.output["copied"] == 30
        assert set(backend.listing(destination)) == set(backend.listing(source))


def test_refused_credentials_are_named(monkeypatch):
    """A wrong secret or an unknown key is a credentials problem, not
    "access denied" (HeadBucket's bare 403 is looked behind)."""
    from tests.servers import SeaweedFS
    with SeaweedFS(access_key="right-key", secret_key="right-secret") as server:
        server.client().create_bucket(Bucket="a-bucket")
        server.client().create_bucket(Bucket="b-bucket")
        for key, secret, code in (("right-key", "wrong-secret", "SignatureDoesNotMatch"),
                                  ("unknown-key", "whatever", "InvalidAccessKeyId")):
            monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
            monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
            status, out, err, _ = run_cli(source="a-bucket", destination="b-bucket", endpoint_url=server.endpoint)
            summary = json.loads(out.splitlines()[-1])
            assert status == terminal.EXIT_FAILED and summary["error"] == "CredentialsError", err
            assert f"credentials refused ({code})" in summary["message"]
