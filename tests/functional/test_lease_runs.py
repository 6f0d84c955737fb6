"""The run lease in whole runs (local engine), and its work-bucket store on
moto (which honours PutObject's If-None-Match and If-Match)."""
import json
import os
import subprocess
import sys

import boto3
import pytest

from bucketsync import lease, stores
from bucketsync.errors import DestinationBusyError
from bucketsync.local import environment
from bucketsync.local.verify import snapshot
from bucketsync.sync_request import SyncRequest
from bucketsync.settings import load
from bucketsync.work import Run
from tests.backends import moto_backend
from tests.faults import before_call


@pytest.fixture
def backend(report_dir):
    with moto_backend(report_dir) as b:
        yield b


def holder(destination, run_id="other-run", prefix="", pid=None):
    """A lease as another local run holds it (the engine's store)."""
    run = Run(run_id, SyncRequest("src", destination, destination_prefix=prefix), None, None, "w", "p/",
              started="2026-11-23T09:00:00Z")
    return lease.Lease(run, load(), stores.DirectoryStore(environment.state_dir() / "leases"),
                       pid=os.getpid() if pid is None else pid)


def seeded(backend):
    source, destination = backend.buckets()
    backend.put(source, "a/new", b"n")
    backend.put(destination, "a/old", b"o")
    return source, destination


def test_a_run_into_a_destination_another_live_run_holds_is_refused(backend):
    source, destination = seeded(backend)
    other = holder(destination, prefix="a/")
    other.acquire()
    before = snapshot(backend.client, destination)
    try:
        outcome = backend.sync({"source": source, "destination": destination, "max_delete": "100%"})
        assert (outcome.status, outcome.error) == ("FAILED", "DestinationBusyError")
        assert "run 'other-run'" in outcome.cause and "started 2026-11-23T09:00:00Z" in outcome.cause
        assert snapshot(backend.client, destination) == before
        elsewhere = backend.sync({"source": source, "destination": destination, "prefix": "b/"})
        assert elsewhere.ok, "a prefix that does not overlap is free"
        dry = backend.sync({"source": source, "destination": destination, "dry_run": True,
                            "max_delete": "100%"})
        assert dry.ok, "a dry run writes nothing and needs no lease"
    finally:
        other.release()
    outcome = backend.sync({"source": source, "destination": destination, "max_delete": "100%"})
    assert outcome.ok and (outcome.output["copied"], outcome.output["deleted"]) == (1, 1)
    assert not list((environment.state_dir() / "leases").glob(f"{destination}-*.json")), "released at the end"


def test_the_lease_of_a_killed_run_does_not_block_the_next(backend):
    source, destination = seeded(backend)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    holder(destination, pid=dead.pid).acquire()
    outcome = backend.sync({"source": source, "destination": destination, "max_delete": "100%"})
    assert outcome.ok, (outcome.error, outcome.cause)


def test_a_failed_run_releases_its_lease(backend):
    source, destination = seeded(backend)
    backend.put(destination, "a/x", b"1")
    backend.put(destination, "a/y", b"2")
    outcome = backend.sync({"source": source, "destination": destination, "max_delete": 0})
    assert outcome.error == "DeleteGuardError"
    assert backend.sync({"source": source, "destination": destination, "max_delete": "100%"}).ok


def s3_lease(client, bucket, run_id, prefix=""):
    run = Run(run_id, SyncRequest("src", "dst", destination_prefix=prefix), None, None, bucket, "runs/x/",
              started="2026-11-23T09:00:00Z")
    return lease.Lease(run, load(), stores.S3Store(client, bucket, "state/leases/"), host="lambda")


def test_work_bucket_store_creates_and_replaces_conditionally(backend):
    work = backend.bucket()
    first = s3_lease(backend.client, work, "first", "a/")
    first.acquire()
    with pytest.raises(DestinationBusyError):
        s3_lease(backend.client, work, "second", "a/b/").acquire()

    # Another run writes the document between our read and our write: the
    # conditional write fails, we read again and still see both holders.
    def concurrent(params):
        s3_lease(backend.client, work, "third", "c/").acquire()

    with before_call_on(backend.client, "PutObject", concurrent):
        s3_lease(backend.client, work, "fourth", "d/").acquire()
    key = backend.listing(work)
    document = json.loads(backend.client.get_object(Bucket=work, Key=next(iter(key)))["Body"].read())
    assert sorted(h["run_id"] for h in document["holders"]) == ["first", "fourth", "third"]
    for run_id, prefix in (("first", "a/"), ("third", "c/"), ("fourth", "d/")):
        s3_lease(backend.client, work, run_id, prefix).release()
    assert backend.listing(work) == {}


class before_call_on:
    """Run `action` once before `operation` on this client (not bucketsync's)."""

    def __init__(self, client, operation, action):
        self.client, self.event, self.action, self.done = client, f"before-call.s3.{operation}", action, False

    def hook(self, **_):
        if not self.done:
            self.done = True
            self.action(None)

    def __enter__(self):
        self.client.meta.events.register(self.event, self.hook)
        return self

    def __exit__(self, *exc):
        self.client.meta.events.unregister(self.event, self.hook)
