"""An endpoint is one place whatever its spelling (endpoints.place), on real
SeaweedFS servers reached as http://127.0.0.1:PORT and http://localhost:PORT:
the run lease sees one destination, and the same-bucket check one bucket;
the same bucket name on two servers is two buckets."""
import io
import json
import os
import uuid

import pytest
from moto import mock_aws

from bucketsync import lease, stores
from bucketsync.endpoints import Endpoint
from bucketsync.local import cli, emulator, engine, environment
from bucketsync.project import terminal
from bucketsync.sync_request import SyncRequest
from bucketsync.settings import load
from bucketsync.work import Run
from tests.servers import HOST

pytestmark = pytest.mark.integration


@pytest.fixture
def in_process(report_dir, monkeypatch):
    """The engine's moto (scratch, interpreter), with the servers' requests
    left to the servers, as `fab sync` runs."""
    monkeypatch.setenv("BUCKETSYNC_REPORT_DIR", str(report_dir))
    with mock_aws(config=emulator.moto_config(real_credentials=True)):
        yield


def other_spelling(url: str) -> str:
    """The same server by its other loopback name, with a trailing slash."""
    assert url.startswith(f"http://{HOST}:")
    return url.replace(HOST, "localhost") + "/"


def new_bucket(server, name=None) -> str:
    name = name or f"t-{uuid.uuid4().hex[:16]}"
    server.client().create_bucket(Bucket=name)
    return name


def keys(server, bucket) -> list[str]:
    return [o["Key"] for o in server.client().list_objects_v2(Bucket=bucket).get("Contents", ())]


def sync(**opts) -> tuple[int, dict, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli.sync(cli.SyncOptions(json=True, **opts), embedded=True, out=out, err=err)
    return status, json.loads(out.getvalue().strip().splitlines()[-1]), err.getvalue()


def test_a_second_run_into_one_destination_spelled_otherwise_is_refused(server_a, in_process, report_dir):
    source, destination = new_bucket(server_a), new_bucket(server_a)
    server_a.client().put_object(Bucket=source, Key="a/new", Body=b"n")
    # A live local run into the destination, reached as http://127.0.0.1:PORT.
    first = Run("first-run", SyncRequest(source, destination, destination_prefix="a/"), None, None, "w", "p/",
                started="2026-12-03T09:00:00Z", destination_endpoint=Endpoint(url=server_a.endpoint))
    holder = lease.Lease(first, load(), stores.DirectoryStore(environment.state_dir() / "leases"), pid=os.getpid())
    holder.acquire()
    try:
        outcome = engine.run({"source": source, "destination": destination}, report_dir=report_dir,
                             sides={"source": Endpoint(url=server_a.endpoint),
                                    "destination": Endpoint(url=other_spelling(server_a.endpoint))})
        assert (outcome.status, outcome.error) == ("FAILED", "DestinationBusyError"), outcome.cause
        assert "run 'first-run'" in outcome.cause
        assert keys(server_a, destination) == [], "nothing was written"
    finally:
        holder.release()
    status, summary, err = sync(source=source, destination=destination,
                                endpoint_url=other_spelling(server_a.endpoint))
    assert status == terminal.EXIT_OK, err
    assert summary["copied"] == 1 and keys(server_a, destination) == ["a/new"], "the other spelling reaches it"


def test_one_bucket_name_on_two_servers_is_two_buckets(server_a, server_b, in_process):
    name = f"migrate-{uuid.uuid4().hex[:12]}"
    new_bucket(server_a, name)
    new_bucket(server_b, name)
    server_a.client().put_object(Bucket=name, Key="photos/1.jpg", Body=b"jpeg")
    status, summary, err = sync(source=name, destination=name, source_endpoint_url=server_a.endpoint,
                                destination_endpoint_url=server_b.endpoint)
    assert status == terminal.EXIT_OK, err
    assert summary["copied"] == 1 and keys(server_b, name) == ["photos/1.jpg"]


@pytest.mark.parametrize("how", ["flags", "input"])
def test_one_server_spelled_two_ways_is_one_bucket(server_a, in_process, how):
    name = new_bucket(server_a)
    server_a.client().put_object(Bucket=name, Key="a/x", Body=b"x")
    if how == "flags":
        opts = dict(source=f"s3://{name}/a/", destination=f"s3://{name}/a/b/",
                    source_endpoint_url=server_a.endpoint, destination_endpoint_url=other_spelling(server_a.endpoint))
    else:
        opts = dict(input=json.dumps({"source": f"s3://{name}/a/", "destination": f"s3://{name}/a/b/",
                                      "source_endpoint": {"url": server_a.endpoint},
                                      "destination_endpoint": {"url": other_spelling(server_a.endpoint)}}))
    status, summary, err = sync(**opts)
    assert status == terminal.EXIT_BAD_INPUT
    assert summary["error"] == "InvalidInputError" and "same bucket" in summary["message"]
    assert len(err.strip().splitlines()) == 1
    assert keys(server_a, name) == ["a/x"], "nothing was written"
