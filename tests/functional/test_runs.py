"""Whole runs on moto: bad input, delete guards, faults, objects changing
during a run, and the `fab sync` command's contract (exit status, --json)."""
import io
import json
import time

import boto3
import pytest

from bucketsync import clients, report, steps
from bucketsync.work import Run
from bucketsync.local import cli, engine
from bucketsync.project import terminal
from bucketsync.local.verify import differences, snapshot
from tests.backends import moto_backend
from tests.faults import always_fail, flaky


@pytest.fixture
def backend(report_dir):
    with moto_backend(report_dir) as b:
        yield b


@pytest.fixture
def pair(backend):
    """A source with a few objects and a destination with one extra."""
    source, destination = backend.buckets()
    for n in range(6):
        backend.put(source, f"k{n}", f"body {n}".encode())
    backend.put(destination, "k0", b"body 0")
    backend.put(destination, "extra", b"x")
    return source, destination


def state(backend, *buckets):
    return {b: (backend.listing(b), snapshot(backend.client, b)) for b in buckets}


def run_cli(opts, **kwargs):
    out, err = io.StringIO(), io.StringIO()
    status = cli.sync(opts, embedded=True, out=out, err=err, **kwargs)
    return status, out.getvalue(), err.getvalue()


BAD_INPUTS = [
    ("missing-source", lambda s, d: {"destination": d}, "InvalidInputError", "'source' is missing"),
    ("missing-destination", lambda s, d: {"source": s}, "InvalidInputError", "'destination' is missing"),
    ("empty-source", lambda s, d: {"source": "", "destination": d}, "InvalidInputError", "must not be empty"),
    ("invalid-name", lambda s, d: {"source": "Bad_Name", "destination": d}, "InvalidInputError", "not a valid bucket name"),
    ("unknown-key", lambda s, d: {"source": s, "destination": d, "dryrun": True}, "InvalidInputError", "unknown input key(s): 'dryrun'"),
    ("wrong-type", lambda s, d: {"source": s, "destination": d, "dry_run": "false"}, "InvalidInputError", "'dry_run' must be true or false"),
    ("wrong-type-list", lambda s, d: {"source": [s], "destination": d}, "InvalidInputError", "'source' must be a string"),
    ("same-bucket-overlap", lambda s, d: {"source": s, "destination": s, "source_prefix": "a/", "destination_prefix": "a/b"},
     "InvalidInputError", "overlapping prefixes"),
    ("bad-max-delete", lambda s, d: {"source": s, "destination": d, "max_delete": "ten"}, "InvalidInputError", "'max_delete' must be"),
    ("missing-source-bucket", lambda s, d: {"source": "no-such-bucket-here", "destination": d}, "NoSuchBucketError", "does not exist"),
    ("missing-destination-bucket", lambda s, d: {"source": s, "destination": "no-such-bucket-here"}, "NoSuchBucketError", "does not exist"),
]


@pytest.mark.parametrize("make, error, text", [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_fails_the_execution_before_any_write(backend, pair, make, error, text):
    """Started from the console (or a schedule), bad input fails the first state."""
    before = state(backend, *pair)
    outcome = backend.sync(make(*pair))
    assert outcome.status == "FAILED"
    assert outcome.error == error
    assert text in outcome.cause and "\n" not in outcome.cause
    assert state(backend, *pair) == before


@pytest.mark.parametrize("opts, status, text", [
    (dict(destination="DEST"), 2, "'source' must not be empty"),
    (dict(source="SRC"), 2, "'destination' must not be empty"),
    (dict(source="SRC", destination="Not_Valid"), 2, "'destination' is not a valid bucket name"),
    (dict(source="SRC", destination="SRC"), 2, "overlapping prefixes"),
    (dict(source="SRC", destination="DEST", max_delete="-3"), 2, "'max_delete' must be"),
    (dict(source="SRC", destination="no-such-bucket-here"), 1, "NoSuchBucketError: bucket 'no-such-bucket-here' does not exist"),
])
def test_fab_sync_bad_input_is_one_line_and_writes_nothing(backend, pair, opts, status, text):
    source, destination = pair
    opts = {k: (source if v == "SRC" else destination if v == "DEST" else v) for k, v in opts.items()}
    before = state(backend, *pair)
    code, out, err = run_cli(cli.SyncOptions(**opts))
    assert code == status
    lines = err.strip().splitlines()
    assert lines[0].startswith("error: ") and text in lines[0]
    assert state(backend, *pair) == before


def test_empty_source_guard(backend):
    source, destination = backend.buckets()
    for n in range(3):
        backend.put(destination, f"d{n}", b"keep me")
    before = state(backend, source, destination)
    outcome = backend.sync({"source": source, "destination": destination, "max_delete": "100%"})
    assert (outcome.status, outcome.error) == ("FAILED", "DeleteGuardError")
    assert "lists no objects but the destination has 3" in outcome.cause
    assert state(backend, source, destination) == before
    allowed = backend.sync({"source": source, "destination": destination, "max_delete": "100%",
                            "allow_empty_source": True})
    assert allowed.ok and allowed.output["deleted"] == 3


@pytest.mark.parametrize("max_delete, allowed", [(11, False), (12, True), ("50%", False), ("90%", True)])
def test_max_delete_guard(backend, max_delete, allowed):
    source, destination = backend.buckets()
    for n in range(2):
        backend.put(source, f"s{n}", b"s")
        backend.put(destination, f"s{n}", b"s")
    for n in range(12):
        backend.put(destination, f"x{n:02d}", b"extra")
    backend.put(source, "new", b"new")
    before = backend.listing(destination)
    outcome = backend.sync({"source": source, "destination": destination, "max_delete": max_delete})
    if allowed:
        assert outcome.ok and outcome.output["deleted"] == 12
    else:
        assert (outcome.status, outcome.error) == ("FAILED", "DeleteGuardError")
        assert "12 deletes planned" in outcome.cause and "of 14 destination objects" in outcome.cause
        assert backend.listing(destination) == before, "a guarded run wrote nothing, copies included"


@pytest.mark.parametrize("source_keys, destination_keys, max_delete, allowed", [
    # 2 deletes of 3 objects (67 %): the default's floor of 10 allows tidying
    # a small destination while the source lists at least half as many objects.
    (("a", "d"), ("a", "b", "c"), None, True),
    # ... but not when the source lists far fewer: 1 of 11 kept looks like a
    # wrong prefix or bucket, not tidying.
    (("a",), ("a", "b", "c"), None, False),
    (("k00",), tuple(f"k{n:02d}" for n in range(11)), None, False),
    # A percentage the user gives has no floor.
    (tuple(f"k{n:02d}" for n in range(90)), tuple(f"k{n:02d}" for n in range(100)), "1%", False),
    (tuple(f"k{n:02d}" for n in range(90)), tuple(f"k{n:02d}" for n in range(100)), "10%", True),
])
def test_the_default_max_delete_floor_and_given_percentages(backend, source_keys, destination_keys, max_delete,
                                                           allowed):
    source, destination = backend.buckets()
    for key in source_keys:
        backend.put(source, key, b"a")
    for key in destination_keys:
        backend.put(destination, key, b"a")
    execution_input = {"source": source, "destination": destination}
    if max_delete is not None:
        execution_input["max_delete"] = max_delete
    before = backend.listing(destination)
    outcome = backend.sync(execution_input)
    deletes = len(set(destination_keys) - set(source_keys))
    if allowed:
        assert outcome.ok and outcome.output["deleted"] == deletes
    else:
        assert (outcome.status, outcome.error) == ("FAILED", "DeleteGuardError")
        assert f"{deletes} deletes planned" in outcome.cause
        assert ("(the default" in outcome.cause) is (max_delete is None), "the rule is named in full"
        assert backend.listing(destination) == before


def test_transient_s3_faults_are_retried(backend):
    source, destination = backend.buckets()
    for n in range(60):
        backend.put(source, f"obj/{n:03d}", f"payload {n}".encode() * 10)
    for n in range(5):
        backend.put(destination, f"stale/{n}", b"old")
    with flaky([source, destination], rate=0.05) as injected:
        outcome = backend.sync({"source": source, "destination": destination, "max_delete": 10}, chunk_actions=20)
    assert injected["503"] + injected["500"] > 0, injected
    assert outcome.ok, (outcome.error, outcome.cause)
    assert outcome.output["failed"] == 0 and outcome.output["copied"] == 60 and outcome.output["deleted"] == 5
    assert differences(snapshot(backend.client, source), snapshot(backend.client, destination)) == []


def test_one_object_that_always_fails(backend, pair):
    source, destination = pair
    backend.put(source, "poison.txt", b"cannot be written")
    with always_fail("poison.txt") as hits:
        code, out, err = run_cli(cli.SyncOptions(source=source, destination=destination, json=True))
    assert hits
    assert code == terminal.EXIT_FAILED
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["failed"] == 1 and summary["failed_keys"] == ["poison.txt"]
    assert summary["copied"] == 5 and summary["deleted"] == 0
    assert "extra" in backend.listing(destination), "no deletes run after a failed copy"
    assert "poison.txt" in err and "SyncFailedError" in err
    failed = [a for a in report.read(open(summary["report"]))["actions"] if a["outcome"] == "failed"]
    assert [a["key"] for a in failed] == ["poison.txt"] and "AccessDenied" in failed[0]["reason"]


def test_object_changed_during_the_run_is_copied_as_it_is_now(backend):
    source, destination = backend.buckets()
    backend.put(source, "moving", b"version 1")
    backend.put(source, "vanishing", b"here at listing time")
    writer = boto3.client("s3", region_name=engine.REGION)
    done = set()

    def change_before_copy(params, **_):
        key = params.get("Key")
        if key in ("moving", "vanishing") and key not in done:
            done.add(key)
            if key == "moving":
                writer.put_object(Bucket=source, Key="moving", Body=b"version 2, longer")
            else:
                writer.delete_object(Bucket=source, Key="vanishing")

    clients.add_hook("before-parameter-build.s3.CopyObject", change_before_copy)
    try:
        outcome = backend.sync({"source": source, "destination": destination})
    finally:
        clients.remove_hook("before-parameter-build.s3.CopyObject", change_before_copy)
    assert done == {"moving", "vanishing"}
    assert outcome.ok, (outcome.error, outcome.cause)
    assert outcome.output["copied"] == 1 and outcome.output["skipped"] == 1
    body = backend.client.get_object(Bucket=destination, Key="moving")["Body"].read()
    assert body == b"version 2, longer"
    assert "vanishing" not in backend.listing(destination)


def test_fab_sync_json_is_the_last_line_and_exit_zero(backend, pair):
    source, destination = pair
    code, out, err = run_cli(cli.SyncOptions(source=source, destination=destination, json=True))
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    for name in ("copied", "deleted", "unchanged", "failed", "bytes_copied"):
        assert isinstance(summary[name], int)
    assert (summary["copied"], summary["deleted"], summary["unchanged"], summary["failed"]) == (5, 1, 1, 0)
    assert summary["dry_run"] is False and summary["report"].endswith(".jsonl")
    code, out, _ = run_cli(cli.SyncOptions(source=source, destination=destination))
    assert code == 0 and "copied" in out and "unchanged" in out


def test_plan_resumes_through_its_cursor(backend):
    """A tiny time budget makes every Plan call stop after 1000 keys; the
    resumed plan must still be exact."""
    source, destination = backend.buckets()
    for n in range(2500):
        backend.client.put_object(Bucket=source, Key=f"k/{n:05d}", Body=b"")
    for n in range(0, 2500, 2):
        backend.client.put_object(Bucket=destination, Key=f"k/{n:05d}", Body=b"")
    backend.client.put_object(Bucket=destination, Key="k/99999", Body=b"")
    outcome = backend.sync({"source": source, "destination": destination}, plan_seconds=1, chunk_actions=300)
    assert outcome.ok, (outcome.error, outcome.cause)
    assert (outcome.output["copied"], outcome.output["unchanged"], outcome.output["deleted"]) == (1250, 1250, 1)
    assert set(backend.listing(destination)) == set(backend.listing(source))


def _chunked_pair(backend):
    """Six source objects in chunks of two, and one destination object the
    run would delete."""
    source, destination = backend.buckets()
    for n in range(6):
        backend.put(source, f"k{n}", f"body {n}".encode())
    backend.put(destination, "extra", b"x")
    return source, destination


def _assert_chunk_named_and_nothing_deleted(backend, outcome, destination):
    assert (outcome.status, outcome.error) == ("FAILED", "SyncFailedError")
    summary = outcome.output
    assert summary["unfinished_chunks"] == {"copy": [1]}
    assert summary["failed"] == 2 and sorted(summary["failed_keys"]) == ["k0", "k1"]
    assert summary["copied"] == 4 and summary["deleted"] == 0 and not summary["deletes_ran"]
    assert "extra" in backend.listing(destination), "no deletes after a chunk that did not finish"
    failed = [a for a in report.read(open(outcome.report_path))["actions"] if a["outcome"] == "failed"]
    assert sorted(a["key"] for a in failed) == ["k0", "k1"]
    assert all(a["reason"].startswith("copy chunk 1 did not finish") for a in failed)


def test_a_copy_chunk_whose_lambda_fails_is_named_with_its_keys_and_stops_the_deletes(backend, monkeypatch):
    """The Map tolerates failed children (every other chunk still runs);
    Tally and Report decide from the result files."""
    source, destination = _chunked_pair(backend)
    real = steps.copy_chunk

    def copy_chunk(event, *args):
        if event["chunk"]["number"] == 1:
            raise RuntimeError("the Lambda ran out of memory")
        return real(event, *args)

    monkeypatch.setattr(steps, "copy_chunk", copy_chunk)
    outcome = backend.sync({"source": source, "destination": destination}, chunk_actions=2)
    _assert_chunk_named_and_nothing_deleted(backend, outcome, destination)


def test_a_copy_chunk_without_a_result_file_is_a_failure(backend, monkeypatch):
    """A child that succeeded but left no result (it cannot happen unless
    something is wrong): its keys count as failed, whatever the Map says."""
    source, destination = _chunked_pair(backend)
    real = steps.copy_chunk

    def copy_chunk(event, *args):
        result = real(event, *args)
        if event["chunk"]["number"] == 1:
            run = Run.from_dict(event["run"])
            clients.work_client().delete_object(Bucket=run.work_bucket, Key=run.result_key("copy", 1))
        return result

    monkeypatch.setattr(steps, "copy_chunk", copy_chunk)
    outcome = backend.sync({"source": source, "destination": destination}, chunk_actions=2)
    _assert_chunk_named_and_nothing_deleted(backend, outcome, destination)


def test_copies_stop_starting_before_the_lambda_times_out(backend, monkeypatch):
    """A chunk whose Lambda runs short of time writes its result (the keys
    not started are failures that name why), rather than being killed."""
    source, destination = _chunked_pair(backend)
    remaining = []
    monkeypatch.setattr(steps, "start_deadline", lambda ms: remaining.append(ms) or 0.0)   # already past
    outcome = backend.sync({"source": source, "destination": destination})
    assert (outcome.status, outcome.error) == ("FAILED", "SyncFailedError")
    assert outcome.output["failed"] == 6 and outcome.output["copied"] == 0 and "unfinished_chunks" not in outcome.output
    assert list(backend.listing(destination)) == ["extra"], "nothing copied, nothing deleted"
    reasons = {a["reason"] for a in report.read(open(outcome.report_path))["actions"] if a["outcome"] == "failed"}
    assert len(reasons) == 1 and "running out of time" in reasons.pop()
    assert remaining and all(0 < ms <= 900_000 for ms in remaining), "the handler passes the Lambda's time left"


def test_the_copy_deadline_keeps_a_reserve():
    from bucketsync import copy as copier
    now = time.monotonic()
    assert copier.start_deadline(None) is None
    assert 900 - copier.TIME_RESERVE_SECONDS - 1 < copier.start_deadline(900_000) - now < 900 - copier.TIME_RESERVE_SECONDS + 1
    assert 29 < copier.start_deadline(60_000) - now < 31, "short timeouts: half the time"


@pytest.mark.parametrize("given", [["source", "destination"], "my-bucket", 42, None])
def test_an_input_that_is_no_object_fails_as_invalid_input(backend, given):
    """Any JSON value reaches ValidateInput and its Catch (the Start state
    wraps it): the run fails with InvalidInputError, not a States.Runtime
    error of the Catch itself, and the report still goes out."""
    from bucketsync.local import engine
    outcome = engine.run(given, report_dir=backend.report_dir)
    assert (outcome.status, outcome.error) == ("FAILED", "InvalidInputError"), (outcome.error, outcome.cause)
    assert "must be a JSON object" in outcome.cause
