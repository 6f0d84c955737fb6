"""Sync between two endpoints (two real SeaweedFS servers, and SeaweedFS with
moto standing in for AWS, both directions): every copy streams GET -> PUT.
The shared semantics table runs here too (tests/sync_cases.py)."""
import pytest

from tests.backends import cross_backend
from tests.faults import on_send
from tests.servers import SeaweedFS
from tests.sync_cases import *  # noqa: F401,F403  (the shared, table-driven cases)

pytestmark = pytest.mark.integration


@pytest.fixture(params=["seaweedfs->seaweedfs", "aws->seaweedfs", "seaweedfs->aws"])
def backend(request, server_a, server_b, report_dir):
    with cross_backend(request.param, (server_a, server_b), report_dir) as b:
        yield b


# ---- cases only a streamed copy has ----------------------------------------

import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import io  # noqa: E402
import tracemalloc  # noqa: E402
import dataclasses  # noqa: E402
from pathlib import Path  # noqa: E402

import boto3  # noqa: E402
from botocore.exceptions import EndpointConnectionError  # noqa: E402

from bucketsync import clients, report  # noqa: E402
from bucketsync.copy import transfer  # noqa: E402
from bucketsync.local import cli, direct, emulator, engine  # noqa: E402

MiB = 1024 * 1024


@pytest.fixture
def two_servers(server_a, server_b, report_dir):
    with cross_backend("seaweedfs->seaweedfs", (server_a, server_b), report_dir) as b:
        yield b


def test_a_failure_mid_object_aborts_the_upload_and_leaves_nothing(two_servers):
    """Part 2's GET keeps failing: the object fails, the multipart upload is
    aborted, and the destination has neither the object nor an upload."""
    source, destination = two_servers.buckets()
    two_servers.put(source, "big.bin", os.urandom(12 * MiB))
    two_servers.put(source, "small.txt", b"fine")

    def cut(request, **_):
        asked = request.headers.get("Range") or ""
        asked = asked.decode() if isinstance(asked, bytes) else asked
        if request.method == "GET" and "big.bin" in request.url and asked.startswith(f"bytes={5 * MiB}-"):
            raise EndpointConnectionError(endpoint_url=request.url)
    with on_send(cut, "GetObject"):
        outcome = two_servers.sync({"source": source, "destination": destination},
                                   part_size=5 * MiB, retry_seconds=1)
    assert outcome.output["failed"] == 1 and outcome.output["failed_keys"] == ["big.bin"]
    assert outcome.output["copied"] == 1 and outcome.output["deleted"] == 0, "no deletes after a failed copy"
    assert set(two_servers.listing(destination)) == {"small.txt"}
    assert two_servers.client.list_multipart_uploads(Bucket=destination).get("Uploads", []) == []

    again = two_servers.sync({"source": source, "destination": destination}, part_size=5 * MiB)
    assert again.ok and again.output["copied"] == 1
    assert differences(snapshot(two_servers.client, source), snapshot(two_servers.client, destination)) == []


@pytest.mark.parametrize("transport", ["botocore", "crt"])
def test_memory_stays_flat_as_the_object_grows(two_servers, transport):
    """Objects of 16 and 80 MiB, streamed in 5 MiB parts with an 11 MiB
    budget: the buffered bytes never exceed the budget, and the process's
    traced peak (which also counts botocore's models and the engine) grows by
    less than a part when the object grows fivefold: nothing holds an object.
    The traced peak is measured on boto3's transport only: under tracemalloc
    the CRT's native threads crash CPython 3.11 (a segmentation fault in a
    thread with no Python frame, every time; not without tracemalloc); on
    the CRT the budget's own peak is checked."""
    traced = transport == "botocore"
    source, destination = two_servers.buckets()
    bodies = {"small.bin": os.urandom(16 * MiB), "large.bin": os.urandom(80 * MiB)}
    for key, body in bodies.items():
        two_servers.put(source, key, body)
    budget = transfer.budget(11 * MiB)
    peaks = {}
    for key in ("small.bin", "small.bin", "large.bin"):   # the first run warms caches up
        budget.peak = 0
        if traced:
            tracemalloc.start()
        try:
            outcome = two_servers.sync({"source": source, "destination": destination, "include": [key],
                                        "delete": False},
                                       part_size=5 * MiB, stream_buffer_bytes=11 * MiB, part_threads=4,
                                       s3_transport=transport)
            peaks[key] = tracemalloc.get_traced_memory()[1] if traced else 0
        finally:
            if traced:
                tracemalloc.stop()
        assert outcome.ok, (outcome.error, outcome.cause)
        assert 0 < budget.peak <= 11 * MiB or outcome.output["copied"] == 0
        two_servers.client.delete_object(Bucket=destination, Key=key)
    growth = peaks["large.bin"] - peaks["small.bin"]
    print(f"traced peak: 16 MiB object {peaks['small.bin'] / MiB:.1f} MiB, 80 MiB object "
          f"{peaks['large.bin'] / MiB:.1f} MiB (budget 11 MiB, parts 5 MiB)")
    assert growth < 5 * MiB, f"peak grew by {growth / MiB:.1f} MiB for 64 MiB more object"


SECRET_KEY = "s3cr3t-Key-That-Must-Never-Leak-0123456789"


@pytest.fixture(scope="module")
def guarded_server():
    """A SeaweedFS server that checks signatures: only its own keys work."""
    with SeaweedFS(access_key="LYVEKEYID0001", secret_key=SECRET_KEY) as server:
        yield server


def test_secret_keys_reach_the_endpoint_and_nowhere_else(guarded_server, server_b, report_dir, caplog,
                                                          monkeypatch):
    """The source's keys come from a Secrets Manager secret named in the
    input: the sync works (the server refuses other keys), and the key is in
    none of the output, the report, the execution's history, the logs or the
    environment (during and after the run)."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("BUCKETSYNC_REPORT_DIR", str(report_dir))
    guarded = guarded_server.client()
    guarded.create_bucket(Bucket="guarded-src")
    guarded.put_object(Bucket="guarded-src", Key="a/secret-plans.txt", Body=b"plans", Metadata={"m": "1"})
    server_b.client().create_bucket(Bucket="open-dst")
    histories, environments = [], []
    real_wait = engine.wait

    def wait_and_keep_history(sfn, arn):
        done = real_wait(sfn, arn)
        histories.append(json.dumps(sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"],
                                    default=str))
        return done
    monkeypatch.setattr(engine, "wait", wait_and_keep_history)
    seen = lambda request, **_: environments.append(json.dumps(dict(os.environ)))  # noqa: E731
    sending = on_send(seen)
    sending.__enter__()
    execution_input = {"source": "guarded-src", "destination": "open-dst",
                       "source_endpoint": {"url": guarded_server.endpoint, "secret": "bucketsync/lyve"}}
    try:
        from moto import mock_aws
        with mock_aws(config=emulator.moto_config(real_credentials=True)):
            boto3.client("secretsmanager", region_name="us-east-1").create_secret(
                Name="bucketsync/lyve",
                SecretString=json.dumps({"access_key_id": "LYVEKEYID0001", "secret_access_key": SECRET_KEY}))
            caplog.clear()   # the test's own CreateSecret request is logged at DEBUG
            runs = []
            for _ in range(2):
                out, err = io.StringIO(), io.StringIO()
                status = cli.sync(cli.SyncOptions(input=json.dumps(execution_input), json=True,
                                                  destination_endpoint_url=server_b.endpoint),
                                  embedded=True, out=out, err=err)
                runs.append((status, out.getvalue(), err.getvalue()))
    finally:
        sending.__exit__(None, None, None)
    (status, out, err), (status2, out2, _) = runs
    summary = json.loads(out.strip().splitlines()[-1])
    assert status == 0 and summary["copied"] == 1, (out, err)
    assert json.loads(out2.strip().splitlines()[-1])["copied"] == 0, "the second run copies nothing"
    assert server_b.client().get_object(Bucket="open-dst", Key="a/secret-plans.txt")["Body"].read() == b"plans"
    report_text = Path(summary["report"]).read_text()
    assert "bucketsync/lyve" in report_text, "the report names the secret it used"
    logs = "\n".join(r.getMessage() for r in caplog.records)
    places = {"stdout": out + out2, "stderr": err, "report": report_text, "history": "".join(histories),
              "logs": logs, "environment during the run": "".join(environments),
              "environment after": json.dumps(dict(os.environ))}
    assert histories and environments
    for place, text in places.items():
        assert SECRET_KEY not in text, f"the secret key is in the {place}"

    # The same input without the secret cannot read the source: the keys mattered.
    without = dict(execution_input, source_endpoint={"url": guarded_server.endpoint})
    out, err = io.StringIO(), io.StringIO()
    with mock_aws(config=emulator.moto_config(real_credentials=True)):
        status = cli.sync(cli.SyncOptions(input=json.dumps(without), json=True,
                                          destination_endpoint_url=server_b.endpoint), embedded=True, out=out, err=err)
    assert status != 0 and "source bucket 'guarded-src'" in err.getvalue() and "InvalidAccessKeyId" in err.getvalue()


def test_mirror_replay_between_two_servers(server_a, server_b, tmp_path):
    """`fab mirror-replay` from one server to another: creates, an overwrite,
    a delete before its create, duplicates; the destination ends equal."""
    src, dst = server_a.client(), server_b.client()
    src.create_bucket(Bucket="mirror-src")
    dst.create_bucket(Bucket="mirror-dst")
    for key, body in (("a.txt", b"one"), ("dir/b.txt", b"two"), ("c d.txt", b"three"), ("d.txt", b"4")):
        src.put_object(Bucket="mirror-src", Key=key, Body=body, ContentType="text/plain", Metadata={"k": key})
    dst.put_object(Bucket="mirror-dst", Key="gone.txt", Body=b"x")
    dst.put_object(Bucket="mirror-dst", Key="a.txt", Body=b"old!")

    def ev(kind, key):
        return {"source": "aws.s3", "detail-type": kind, "time": "2026-11-23T00:00:00Z",
                "detail": {"bucket": {"name": "mirror-src"}, "object": {"key": key}}}
    events = [ev("Object Deleted", "d.txt"), ev("Object Created", "a.txt"), ev("Object Created", "dir/b.txt"),
              ev("Object Created", "c+d.txt"), ev("Object Deleted", "gone.txt"), ev("Object Created", "d.txt"),
              ev("Object Created", "a.txt")]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events))
    out, err = io.StringIO(), io.StringIO()
    status = direct.mirror_replay(str(path), "mirror-src", "mirror-dst", None, server_a.endpoint,
                               server_b.endpoint, as_json=True, out=out, err=err)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert status == 0, err.getvalue()
    assert (summary["copied"], summary["deleted"], summary["failed"]) == (4, 1, 0), summary
    assert differences(snapshot(src, "mirror-src"), snapshot(dst, "mirror-dst")) == []


def test_a_resumed_plan_on_another_endpoint_reads_a_sorted_listing(two_servers, monkeypatch):
    """A plan that runs out of time resumes from its cursor. On a server other
    than AWS, StartAfter may follow the server's own order and skip keys, so
    the resumed plan reads those sides from sorted listings: every key is
    planned exactly once."""
    from bucketsync import planner, settings as settings_mod
    from bucketsync.diff import PlanTotals
    from bucketsync.work import Run
    from bucketsync.sync_request import validate
    source, destination = two_servers.buckets()
    keys = [f"k{i:04d}" for i in range(2500)] + ["d.txt", "d/1.txt"]
    for key in keys:
        two_servers.source_side.client.put_object(Bucket=source, Key=key, Body=b"x")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "any")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "any")
    clients.reset()
    scratch = boto3.client("s3", region_name="us-east-1")
    scratch.create_bucket(Bucket="plan-scratch")
    sides = two_servers.sides()
    run = Run(id="r", request=validate({"source": source, "destination": destination}), source_region=None,
              destination_region=None, work_bucket="plan-scratch", work_prefix="runs/r/",
              source_endpoint=sides["source"], destination_endpoint=sides["destination"])
    cfg = settings_mod.load()
    ticks = iter(range(10 ** 6))
    cursor, done, steps = None, False, 0
    while not done:
        # A clock that runs out after the first 1,000 decisions of each step.
        cursor, done = planner.plan_step(run, cursor, dataclasses.replace(cfg, plan_seconds=1),
                                         clients.RunClients(run), now=lambda: next(ticks) * 0.6)
        steps += 1
        assert steps < 20
    totals = PlanTotals.from_dict(cursor["totals"])
    assert steps >= 3 and set(cursor["sorted"]) == {"source", "destination"}
    assert (totals.source_objects, totals.copy) == (len(keys), len(keys))
