"""SIGINT and SIGTERM mid-run: stop new work, abort open multipart uploads,
run no deletes, write the report, say so and exit 130/143. The signals are
real ones, sent to this process while the run's copies are under way."""
import io
import json
import os
import signal

import pytest

from bucketsync import report
from bucketsync.local import cli
from tests.backends import moto_backend
from tests.faults import hooked

MiB = 1024 * 1024


@pytest.fixture
def backend(report_dir, monkeypatch):
    monkeypatch.setenv("BUCKETSYNC_REPORT_DIR", str(report_dir))
    with moto_backend(report_dir) as b:
        yield b


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_run_stops_cleanly(backend, signum, status):
    source, destination = backend.buckets()
    backend.put_multipart(source, "big.bin", (5 * MiB, 5 * MiB, 5 * MiB, 100))
    for n in range(40):
        backend.put(source, f"small/{n:02d}", b"s")
    backend.put(destination, "stale", b"would be deleted")
    sent = []

    def signal_on_the_first_part(params, **_):
        if not sent:
            sent.append(params["PartNumber"])
            os.kill(os.getpid(), signum)

    out, err = io.StringIO(), io.StringIO()
    with hooked("before-parameter-build.s3.UploadPartCopy", signal_on_the_first_part):
        code = cli.sync(cli.SyncOptions(source=source, destination=destination, json=True,
                                        max_delete="100%"),
                        embedded=True, out=out, err=err, settings={"BUCKETSYNC_PART_THREADS": "1",
                                                                   "BUCKETSYNC_COPY_THREADS": "1"})
    assert sent, (code, err.getvalue())
    assert code == status, err.getvalue()
    assert "interrupted:" in err.getvalue() and "rerun to finish" in err.getvalue()
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["error"] == "RunInterrupted"
    listing = backend.listing(destination)
    assert "stale" in listing, "no deletes after an interrupt"
    assert "big.bin" not in listing
    assert not backend.client.list_multipart_uploads(Bucket=destination).get("Uploads"), "the open upload was aborted"
    full = report.read(open(summary["report"]))
    outcomes = {a["key"]: a["outcome"] for a in full["actions"]}
    assert outcomes["big.bin"] == "skipped"
    assert set(outcomes) == {"big.bin"} | {f"small/{n:02d}" for n in range(40)}
    # One copy thread: big.bin (first in key order) is stopped between parts,
    # and no later object is started.
    assert (summary["copied"], summary["skipped"]) == (0, 41), summary

    code = cli.sync(cli.SyncOptions(source=source, destination=destination, max_delete="100%"), embedded=True,
                    out=io.StringIO(), err=io.StringIO())
    assert code == 0, "a rerun finishes"
    assert "stale" not in backend.listing(destination) and "big.bin" in backend.listing(destination)


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_the_deletes_fails_the_run(backend, signum, status):
    """Deletes left undone by a signal are a partial phase: exit 130/143, an
    `interrupted` line that says deletes ran, the undone ones counted as
    skipped; a rerun finishes them."""
    source, destination = backend.buckets()
    backend.put(source, "kept", b"k")
    # 12 delete chunks of 5 for the Map's 8 workers: chunks that start after
    # the signal exist whatever the timing (all of the first 8 may be under way).
    for n in range(60):
        backend.put(destination, f"stale/{n:02d}", b"x")
    sent = []

    def signal_on_the_first_delete(params, **_):
        keys = [o["Key"] for o in params["Delete"]["Objects"]]
        if not sent and not any("bucketsync-probe" in k for k in keys):
            sent.append(keys)
            os.kill(os.getpid(), signum)

    out, err = io.StringIO(), io.StringIO()
    with hooked("before-parameter-build.s3.DeleteObjects", signal_on_the_first_delete):
        code = cli.sync(cli.SyncOptions(source=source, destination=destination, json=True, max_delete="100%"),
                        embedded=True, out=out, err=err, settings={"BUCKETSYNC_CHUNK_ACTIONS": "5"})
    assert sent, err.getvalue()
    assert code == status, err.getvalue()
    assert "interrupted:" in err.getvalue() and "deleted before the stop" in err.getvalue()
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["error"] == "RunInterrupted" and summary["deletes_ran"]
    left = [k for k in backend.listing(destination) if k.startswith("stale/")]
    assert left and summary["skipped"] == len(left) and summary["deleted"] == 60 - len(left), summary

    code = cli.sync(cli.SyncOptions(source=source, destination=destination, max_delete="100%"), embedded=True,
                    out=io.StringIO(), err=io.StringIO())
    assert code == 0 and not [k for k in backend.listing(destination) if k.startswith("stale/")]


def test_a_second_sigint_stops_at_once_with_one_line(backend, monkeypatch):
    """The second signal does not wait for a clean stop; it still says so in
    one line (and one JSON line with --json), with the interrupt's status."""
    from bucketsync.local import engine
    source, destination = backend.buckets()

    def stopped_at_once(*args, **kwargs):
        raise KeyboardInterrupt   # what the engine's handler raises on a second SIGINT
    monkeypatch.setattr(engine, "run", stopped_at_once)
    out, err = io.StringIO(), io.StringIO()
    code = cli.sync(cli.SyncOptions(source=source, destination=destination, json=True), embedded=True,
                    out=out, err=err)
    assert code == 130
    assert err.getvalue().startswith("error: RunInterrupted: stopped at once") and len(err.getvalue().splitlines()) == 1
    assert json.loads(out.getvalue().strip().splitlines()[-1])["error"] == "RunInterrupted"
