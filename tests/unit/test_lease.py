"""The run lease's rules (bucketsync.lease), on the local directory store."""
import os
import subprocess
import sys

import pytest

from bucketsync import lease, stores
from bucketsync.errors import DestinationBusyError, LeaseLostError
from bucketsync.sync_request import SyncRequest
from bucketsync.settings import load
from bucketsync.work import Run


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


def make(tmp_path, run_id, prefix="", clock=None, pid=None, host="this-host", bucket="dst"):
    run = Run(run_id, SyncRequest("src", bucket, destination_prefix=prefix), None, None, "work", "runs/x/",
              started="2026-11-23T10:00:00Z")
    settings = load()
    return lease.Lease(run, settings, stores.DirectoryStore(tmp_path), now=clock or Clock(),
                       pid=os.getpid() if pid is None else pid, host=host)


@pytest.mark.parametrize("held, wanted, conflict", [
    ("", "", True), ("", "a/", True), ("a/", "", True), ("a/", "a/b/", True), ("a/b/", "a/", True),
    ("a", "ab/", True),          # raw prefixes: "a" covers "ab/"
    ("a/", "b/", False), ("a/", "ab/", False),
])
def test_overlapping_destination_prefixes_conflict(tmp_path, held, wanted, conflict):
    make(tmp_path, "first", held).acquire()
    second = make(tmp_path, "second", wanted)
    if conflict:
        with pytest.raises(DestinationBusyError) as caught:
            second.acquire()
        assert "run 'first'" in str(caught.value) and "started 2026-11-23T10:00:00Z" in str(caught.value)
        assert "this-host" in str(caught.value)
    else:
        second.acquire()


def test_other_buckets_and_endpoints_do_not_conflict(tmp_path):
    make(tmp_path, "first", bucket="one").acquire()
    make(tmp_path, "second", bucket="two").acquire()


def test_a_released_lease_frees_the_destination(tmp_path):
    first = make(tmp_path, "first")
    first.acquire()
    first.release()
    make(tmp_path, "second").acquire()
    assert list(tmp_path.glob("*.json")), "the second holder is recorded"
    make(tmp_path, "second").release()
    assert not list(tmp_path.glob("*.json")), "no holders: no document"


def test_a_lease_whose_holder_stopped_renewing_expires(tmp_path):
    clock = Clock()
    make(tmp_path, "first", clock=clock, host="other-host").acquire()
    with pytest.raises(DestinationBusyError):
        make(tmp_path, "second", clock=clock).acquire()
    clock.now += load().lease_seconds + 1
    make(tmp_path, "second", clock=clock).acquire()
    with pytest.raises(LeaseLostError):
        make(tmp_path, "first", clock=clock, host="other-host").renew()


def test_a_lease_of_a_killed_local_process_is_free_at_once(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    make(tmp_path, "killed", pid=dead.pid).acquire()
    make(tmp_path, "next").acquire()


def test_renewing_extends_only_when_a_third_has_passed(tmp_path):
    clock = Clock()
    holder = make(tmp_path, "first", clock=clock, host="other-host")
    holder.acquire()
    document = next(tmp_path.glob("*.json")).read_text()
    clock.now += 60
    holder.renew()
    assert next(tmp_path.glob("*.json")).read_text() == document, "fresh: nothing written"
    clock.now += load().lease_seconds * 0.6
    holder.renew()
    clock.now += load().lease_seconds * 0.6   # past the first expiry, within the renewed one
    with pytest.raises(DestinationBusyError):
        make(tmp_path, "second", clock=clock).acquire()
