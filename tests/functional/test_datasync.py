"""DataSync on moto's S3: the local DataSync's semantics (options, statuses,
counts), and whole runs with a `datasync` input through `fab sync --input`."""
import io
import json
import threading
import time

import boto3
import pytest

from bucketsync import clients, lease, report
from bucketsync.datasync import begin, branch
from bucketsync.local import datasync as local
from bucketsync.datasync.tasks import check_tasks
from bucketsync.local import cli, datasync_runs, direct
from bucketsync.project import terminal
from tests.backends import moto_backend


@pytest.fixture
def backend(report_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("BUCKETSYNC_STATE_DIR", str(tmp_path / "state"))
    with moto_backend(report_dir) as b:
        yield b


def service(tasks):
    clients.reset()
    return local.LocalDataSync(check_tasks(tasks))


def run_execution(svc, name, includes="", excludes=""):
    rules = lambda v: [{"FilterType": "SIMPLE_PATTERN", "Value": v}] if v else []   # noqa: E731
    arn = svc.start_task_execution(TaskArn=local.task_arn(name), Includes=rules(includes),
                                   Excludes=rules(excludes))["TaskExecutionArn"]
    svc.executions[arn].done.wait(30)
    return svc.describe_task_execution(TaskExecutionArn=arn)


def seed(backend, bucket, objects):
    for key, body in objects.items():
        backend.put(bucket, key, body)


def test_transfer_modes_and_status_sequence(backend):
    src, dst = backend.buckets()
    seed(backend, src, {"d/a.txt": b"a", "d/b.txt": b"bb", "e/c.txt": b"ccc"})
    svc = service({"t": {"source": f"s3://{src}/", "destination": f"s3://{dst}/"}})
    seen = []
    original = svc._status
    svc._status = lambda execution, status: (seen.append(status), original(execution, status))
    first = run_execution(svc, "t", includes="/d")
    assert first["Status"] == "SUCCESS"
    assert seen == ["LAUNCHING", "PREPARING", "TRANSFERRING", "VERIFYING", "SUCCESS"]
    assert (first["FilesTransferred"], first["BytesTransferred"]) == (2, 3)
    assert sorted(backend.listing(dst)) == ["d/a.txt", "d/b.txt"]
    assert first["Includes"] == [{"FilterType": "SIMPLE_PATTERN", "Value": "/d"}]
    again = run_execution(svc, "t", includes="/d")                      # CHANGED: nothing changed
    assert again["FilesTransferred"] == 0
    svc.tasks[local.task_arn("t")] = check_tasks(
        {"t": {"source": f"s3://{src}/", "destination": f"s3://{dst}/", "options": {"TransferMode": "ALL"}}})["t"]
    assert run_execution(svc, "t", includes="/d")["FilesTransferred"] == 2   # ALL: everything again


@pytest.mark.parametrize("options, expected", [
    ({}, {"d/a.txt": b"new", "d/gone.txt": b"x", "keep/z.txt": b"z"}),
    ({"PreserveDeletedFiles": "REMOVE"}, {"d/a.txt": b"new", "keep/z.txt": b"z"}),    # only within the filter
    ({"OverwriteMode": "NEVER"}, {"d/a.txt": b"old", "d/gone.txt": b"x", "keep/z.txt": b"z"}),
])
def test_remove_and_overwrite_options(backend, options, expected):
    src, dst = backend.buckets()
    seed(backend, src, {"d/a.txt": b"new", "keep/z.txt": b"source copy not included"})
    seed(backend, dst, {"d/a.txt": b"old", "d/gone.txt": b"x", "keep/z.txt": b"z"})
    svc = service({"t": {"source": f"s3://{src}/", "destination": f"s3://{dst}/", "options": options}})
    answer = run_execution(svc, "t", includes="/d/*")
    assert answer["Status"] == "SUCCESS"
    body = lambda key: backend.client.get_object(Bucket=dst, Key=key)["Body"].read()   # noqa: E731
    assert {key: body(key) for key in backend.listing(dst)} == expected
    assert answer["FilesDeleted"] == (1 if options.get("PreserveDeletedFiles") == "REMOVE" else 0)
    assert answer["FilesSkipped"] == (1 if options.get("OverwriteMode") == "NEVER" else 0)


def test_an_execution_that_fails_reports_error(backend):
    dst = backend.bucket()
    svc = service({"t": {"source": "s3://no-such-source-bucket/", "destination": f"s3://{dst}/"}})
    answer = run_execution(svc, "t")
    assert answer["Status"] == "ERROR"
    assert answer["Result"]["ErrorCode"] and "NoSuchBucket" in answer["Result"]["ErrorDetail"]


def test_local_directory_to_bucket(backend, tmp_path):
    share = tmp_path / "share"
    (share / "sub").mkdir(parents=True)
    (share / "sub" / "a.txt").write_bytes(b"aaa")
    (share / "b.txt").write_bytes(b"b")
    dst = backend.bucket()
    seed(backend, dst, {"share/old.txt": b"deleted at the source"})
    svc = service({"t": {"source": f"file://{share}", "destination": f"s3://{dst}/share/",
                         "options": {"PreserveDeletedFiles": "REMOVE"}}})
    answer = run_execution(svc, "t")
    assert (answer["FilesTransferred"], answer["FilesDeleted"]) == (2, 1)
    assert sorted(backend.listing(dst)) == ["share/b.txt", "share/sub/a.txt"]
    assert run_execution(svc, "t")["FilesTransferred"] == 0


# ---- whole runs through `fab sync --input` ----------------------------------------

def write_config(tmp_path, monkeypatch, tasks):
    path = tmp_path / "fabfile_config.py"
    path.write_text(f"DATASYNC_TASKS = {tasks!r}\n")
    monkeypatch.setattr("bucketsync.project.config.CONFIG_FILE", path)


def sync_input(execution_input, **options):
    out, err = io.StringIO(), io.StringIO()
    opts = cli.SyncOptions(input=json.dumps(execution_input), json=True, **options)
    status = cli.sync(opts, embedded=True, out=out, err=err)
    lines = out.getvalue().strip().splitlines()
    return status, (json.loads(lines[-1]) if lines else None), err.getvalue()


DATED = "/{date:%Y-%m-%d}/*"


def held_transfers(monkeypatch) -> threading.Event:
    """The local DataSync's transfers wait (at most 30 s) until the event
    returned is set: an execution that stays running meanwhile."""
    gate = threading.Event()
    original = local._Transfer.transfer

    def slow(self):
        gate.wait(30)
        original(self)
    monkeypatch.setattr(local._Transfer, "transfer", slow)
    return gate


def test_dated_folders_go_through_datasync_and_the_rest_through_the_sync(backend, tmp_path, monkeypatch):
    src, dst = backend.buckets()
    seed(backend, src, {f"images/2026-11-{d}/cam.jpg": b"jpeg" * d for d in (18, 21, 22)})
    seed(backend, src, {"docs/readme.txt": b"read me", "images/index.html": b"<html>"})
    # An old day that the source no longer has: a dated folder of another day is the object sync's.
    seed(backend, dst, {"images/2026-10-01/cam.jpg": b"old", "stale.txt": b"gone at the source"})
    write_config(tmp_path, monkeypatch, {"images": {"source": f"s3://{src}/images/",
                                                     "destination": f"s3://{dst}/images/"}})
    request = {"source": src, "destination": dst, "max_delete": "100%",
               "datasync": {"task": "images", "include": [DATED], "date": "2026-11-22", "catch_up_days": 2}}
    status, summary, err = sync_input(request)
    assert status == terminal.EXIT_OK, err
    datasync = summary["datasync"]
    assert datasync["status"] == "SUCCESS"
    assert datasync["dates"] == ["2026-11-21", "2026-11-22"]          # 2026-11-20 had nothing
    assert datasync["empty_dates"] == ["2026-11-20"]
    assert datasync["includes"] == "/2026-11-21/*|/2026-11-22/*"
    assert datasync["files_transferred"] == 2
    # DataSync owns this run's folders only: the sync copied the rest, the
    # old 2026-11-18 folder included, and deleted what the source lacks.
    assert (summary["copied"], summary["deleted"]) == (3, 2)
    assert sorted(backend.listing(dst)) == ["docs/readme.txt", "images/2026-11-18/cam.jpg",
                                            "images/2026-11-21/cam.jpg", "images/2026-11-22/cam.jpg",
                                            "images/index.html"]

    # The next day: 2026-11-20's folder arrived late and is caught up by DataSync; done days are not
    # asked for again, and what changed in them since (a late file, a deleted one) is the object sync's.
    seed(backend, src, {"images/2026-11-20/cam.jpg": b"late", "images/2026-11-23/cam.jpg": b"new",
                        "images/2026-11-21/late.jpg": b"landed after its day was transferred"})
    backend.client.delete_object(Bucket=src, Key="images/2026-11-22/cam.jpg")
    next_day = dict(request, datasync=dict(request["datasync"], date="2026-11-23", catch_up_days=3))
    status, summary, err = sync_input(next_day)
    assert status == terminal.EXIT_OK, err
    assert summary["datasync"]["dates"] == ["2026-11-20", "2026-11-23"]
    assert summary["datasync"]["files_transferred"] == 2
    assert (summary["copied"], summary["deleted"]) == (1, 1)
    assert "images/2026-11-21/late.jpg" in backend.listing(dst)
    assert "images/2026-11-22/cam.jpg" not in backend.listing(dst)

    status, summary, err = sync_input(next_day)                       # a second run copies nothing
    assert status == terminal.EXIT_OK, err
    assert summary["copied"] == 0 and summary["deleted"] == 0


def test_a_datasync_only_run_picks_up_late_files_within_its_window(backend, tmp_path, monkeypatch):
    """No object sync to pick a late file up: with TransferMode CHANGED every
    day of the window is included again, and DataSync copies what changed."""
    src, dst = backend.buckets()
    seed(backend, src, {"2026-11-21/a.jpg": b"a", "2026-11-22/b.jpg": b"b"})
    write_config(tmp_path, monkeypatch, {"daily": {"source": f"s3://{src}/", "destination": f"s3://{dst}/"}})
    request = {"datasync": {"task": "daily", "include": [DATED], "date": "2026-11-22", "catch_up_days": 2}}
    status, summary, err = sync_input(request)
    assert status == terminal.EXIT_OK, err
    assert summary["datasync"]["files_transferred"] == 2
    seed(backend, src, {"2026-11-21/late.jpg": b"late", "2026-11-23/c.jpg": b"c"})
    status, summary, err = sync_input({"datasync": dict(request["datasync"], date="2026-11-23")})
    assert status == terminal.EXIT_OK, err
    assert summary["datasync"]["dates"] == ["2026-11-21", "2026-11-22", "2026-11-23"]
    assert summary["datasync"]["files_transferred"] == 2                # the late file and the new day
    assert sorted(backend.listing(dst)) == ["2026-11-21/a.jpg", "2026-11-21/late.jpg", "2026-11-22/b.jpg",
                                            "2026-11-23/c.jpg"]


def test_datasync_dry_run_starts_nothing(backend, tmp_path, monkeypatch):
    src, dst = backend.buckets()
    seed(backend, src, {"2026-11-21/a": b"a"})
    write_config(tmp_path, monkeypatch, {"t": {"source": f"s3://{src}/", "destination": f"s3://{dst}/"}})
    status, summary, _ = sync_input({"datasync": {"task": "t", "include": [DATED], "date": "2026-11-21"},
                                     "dry_run": True})
    assert status == terminal.EXIT_OK
    assert summary["datasync"]["status"] == "DRY_RUN" and summary["datasync"]["includes"] == "/2026-11-21/*"
    assert summary["dry_run"] is True and backend.listing(dst) == {}


def test_datasync_only_from_a_local_directory_with_remove(backend, tmp_path, monkeypatch):
    share = tmp_path / "share"
    share.mkdir()
    (share / "report.pdf").write_bytes(b"pdf")
    dst = backend.bucket()
    seed(backend, dst, {"share/deleted-at-source.pdf": b"old"})
    write_config(tmp_path, monkeypatch, {"efs-share": {"source": f"file://{share}", "destination": f"s3://{dst}/share/",
                                                       "options": {"PreserveDeletedFiles": "REMOVE"}}})
    status, summary, err = sync_input({"datasync": {"task": "efs-share"}})
    assert status == terminal.EXIT_OK, err
    assert summary["datasync"]["status"] == "SUCCESS" and summary["datasync"]["files_transferred"] == 1
    assert summary["datasync"]["files_deleted"] == 1
    assert summary["destination"] == f"s3://{dst}/share/"
    assert sorted(backend.listing(dst)) == ["share/report.pdf"]


def test_a_running_execution_is_adopted_not_started_twice(backend, tmp_path, monkeypatch):
    src, dst = backend.buckets()
    seed(backend, src, {"2026-11-21/a": b"a"})
    tasks = {"t": {"source": f"s3://{src}/", "destination": f"s3://{dst}/"}}
    write_config(tmp_path, monkeypatch, tasks)
    release = held_transfers(monkeypatch)
    # An execution with the run's very filters is already running (a schedule's, say).
    with datasync_runs.local_datasync(check_tasks(tasks)) as svc:
        clients.reset()
        first = svc.start_task_execution(
            TaskArn=local.task_arn("t"),
            Includes=[{"FilterType": "SIMPLE_PATTERN", "Value": "/2026-11-21/*"}])["TaskExecutionArn"]
    asked = svc.list_task_executions

    def list_then_release(**kwargs):   # the running execution ends once the run has seen it running
        answer = asked(**kwargs)
        release.set()
        return answer
    monkeypatch.setattr(svc, "list_task_executions", list_then_release)
    status, summary, err = sync_input({"datasync": {"task": "t", "include": [DATED], "date": "2026-11-21"}})
    assert status == terminal.EXIT_OK, err
    assert summary["datasync"]["execution_arn"] == first and summary["datasync"]["adopted"] is True
    assert len(asked(TaskArn=local.task_arn("t"))["TaskExecutions"]) == 1


def test_a_datasync_execution_longer_than_the_lease_keeps_it_for_the_object_sync(backend, tmp_path, monkeypatch):
    """The lease ValidateInput takes for the object sync is renewed by the
    DataSync polls: an execution that runs over three lease lengths (on a
    fake clock), then the object sync, keeps the lease and finishes."""
    src, dst = backend.buckets()
    seed(backend, src, {"images/2026-11-21/cam.jpg": b"jpeg", "docs/readme.txt": b"read me"})
    write_config(tmp_path, monkeypatch, {"images": {"source": f"s3://{src}/images/",
                                                     "destination": f"s3://{dst}/images/"}})
    monkeypatch.setenv("BUCKETSYNC_LEASE_SECONDS", "60")
    now = [time.time()]
    monkeypatch.setattr(lease, "clock", lambda: now[0])
    monkeypatch.setattr(lease, "monotonic", lambda: now[0])
    transferred = held_transfers(monkeypatch)
    polls = []
    follow = branch._follow

    def a_poll_later(state, client, request):   # each poll 25 s after the last: a lease needs renewing every 40
        now[0] += 25
        polls.append(now[0])
        if len(polls) == 8:                     # 200 s: more than three lease lengths
            transferred.set()
        follow(state, client, request)
    monkeypatch.setattr(branch, "_follow", a_poll_later)
    status, summary, err = sync_input({"source": src, "destination": dst,
                                       "datasync": {"task": "images", "include": [DATED], "date": "2026-11-21"}})
    assert status == terminal.EXIT_OK, err
    assert len(polls) >= 8 and summary["datasync"]["status"] == "SUCCESS"
    assert summary["datasync"]["files_transferred"] == 1 and summary["copied"] == 1
    assert sorted(backend.listing(dst)) == ["docs/readme.txt", "images/2026-11-21/cam.jpg"]


def test_a_datasync_error_fails_the_run_with_its_code_and_keeps_the_day_missed(backend, tmp_path, monkeypatch):
    src, dst = backend.buckets()
    seed(backend, src, {"2026-11-21/a": b"a"})
    write_config(tmp_path, monkeypatch, {"t": {"source": f"s3://{src}/", "destination": f"s3://{dst}/"}})

    def broken(self):
        raise RuntimeError("destination refused the write")
    monkeypatch.setattr(local._Transfer, "transfer", broken)
    request = {"datasync": {"task": "t", "include": [DATED], "date": "2026-11-21"}}
    status, summary, err = sync_input(request)
    assert status == terminal.EXIT_FAILED
    assert summary["error"] == "DataSync.RuntimeError"
    assert "destination refused the write" in summary["message"]
    assert summary["datasync"]["status"] == "ERROR"
    monkeypatch.undo()
    monkeypatch.setenv("BUCKETSYNC_STATE_DIR", str(tmp_path / "state"))
    write_config(tmp_path, monkeypatch, {"t": {"source": f"s3://{src}/", "destination": f"s3://{dst}/"}})
    status, summary, err = sync_input(dict(request, datasync=dict(request["datasync"], date="2026-11-22",
                                                                  catch_up_days=1)))
    assert status == terminal.EXIT_OK, err
    assert summary["datasync"]["dates"] == ["2026-11-21"]                 # retried; 2026-11-22 is empty
    assert sorted(backend.listing(dst)) == ["2026-11-21/a"]


@pytest.mark.parametrize("request_, message", [
    ({"datasync": {"task": "nope"}}, "'nope' is not in DATASYNC_TASKS"),
    ({"datasync": {"task": "t", "include": ["/x/*/y/{date:%Y}/*"]}, "source": "aa-bucket", "destination": "bb-bucket"},
     None),
])
def test_bad_datasync_requests_start_nothing(backend, tmp_path, monkeypatch, request_, message):
    write_config(tmp_path, monkeypatch, {"t": {"source": "s3://src-bucket/", "destination": "s3://dst-bucket/"}})
    status, summary, err = sync_input(request_)
    if message is None:   # a valid request whose buckets do not exist: fails at validation
        assert status == terminal.EXIT_FAILED and "NoSuchBucket" in err
    else:
        assert status == terminal.EXIT_BAD_INPUT and message in err


def test_folder_wildcards_expand_over_many_listing_pages(backend):
    src = backend.bucket()
    for n in range(1100):     # more than one ListObjectsV2 page of common prefixes
        backend.put(src, f"topics/p{n:04d}/year=2026/month=11/day=21/part.json", b"{}")
    spec = check_tasks({"t": {"source": f"s3://{src}/", "destination": "s3://dst-bucket/"}})["t"]
    clients.reset()
    from datetime import datetime, timezone
    from bucketsync.datasync.request import validate_datasync
    request = validate_datasync({"task": "t", "include": ["/topics/*/year={date:%Y}/month={date:%m}/day={date:%d}/*"],
                                 "date": "2026-11-21"})
    state = begin.prepare(request, datetime(2026, 11, 22, tzinfo=timezone.utc), spec)
    patterns = state["includes"].split("|")
    assert len(patterns) == 1100 and patterns[-1] == "/topics/p1099/year=2026/month=11/day=21/*"
    assert boto3.client  # the listing above went through moto's S3


def preview(*args, **kwargs):
    out, err = io.StringIO(), io.StringIO()
    status = direct.datasync_preview(*args, out=out, err=err, **kwargs)
    return status, out.getvalue(), err.getvalue()


def test_preview_shows_the_filter_and_the_keys_and_writes_nothing(backend, tmp_path, monkeypatch):
    src, dst = backend.buckets()
    seed(backend, src, {"topics/car/year=2026/month=11/day=21/a.json": b"{}", "topics/bus/year=2026/month=11/day=21/b.json": b"[]",
                        "topics/bus/year=2026/month=11/day=20/old.json": b"{}", "topics/bus/readme": b"r"})
    write_config(tmp_path, monkeypatch, {"vehicles": {"source": f"s3://{src}/", "destination": f"s3://{dst}/"}})
    template = "/topics/*/year={date:%Y}/month={date:%m}/day={date:%d}/*"
    status, out, err = preview("vehicles", [template], date="2026-11-21", as_json=True)
    assert status == terminal.EXIT_OK, err
    shown = json.loads(out.strip().splitlines()[-1])
    assert shown["includes"] == ("/topics/bus/year=2026/month=11/day=21/*|"
                                 "/topics/car/year=2026/month=11/day=21/*")
    assert shown["keys"] == ["topics/bus/year=2026/month=11/day=21/b.json", "topics/car/year=2026/month=11/day=21/a.json"]
    assert (shown["count"], shown["bytes"]) == (2, 4)
    assert backend.listing(dst) == {}
    assert not (tmp_path / "state" / "datasync").exists()          # the catch-up record is only read
    status, out, _ = preview("vehicles", [template], date="2026-11-21")
    assert "include filter: /topics/bus/year=2026" in out and "selected source keys: 2 (4 B)" in out


@pytest.mark.parametrize("args, kwargs, message", [
    (("nope", ["/{date:%Y}/*"]), {}, "'nope' is not in DATASYNC_TASKS"),
    (("vehicles", ["/{date:%Y}/*.json"]), {}, "accept '*' only at the end"),
    (("vehicles", ["/{date:%Y}/*"]), {"date": "yesterday-ish"}, "'datasync.date'"),
    (("vehicles", ["/{date:%Y}/*"]), {"catch_up_days": "three"}, "catch_up_days"),
])
def test_preview_refuses_bad_requests_in_one_line(backend, tmp_path, monkeypatch, args, kwargs, message):
    write_config(tmp_path, monkeypatch, {"vehicles": {"source": "s3://src-bucket/", "destination": "s3://dst-bucket/"}})
    status, out, err = preview(*args, **kwargs)
    assert status == terminal.EXIT_BAD_INPUT
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("as_json", [False, True])
def test_preview_catch_up_days_that_is_not_a_number_is_one_line_through_fab(as_json):
    """Through `fab` itself: invoke types a flag by its task's default, so a
    number default turned `--catch-up-days abc` into a raw ValueError."""
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    argv = [str(Path(sys.executable).parent / "fab"), "datasync-preview", "--task", "vehicles",
            "--include", "/{date:%Y}/*", "--catch-up-days", "abc"] + (["--json"] if as_json else [])
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == terminal.EXIT_BAD_INPUT, done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: InvalidInputError: 'datasync.catch_up_days' must be an integer from 0 to 366, got 'abc'"]
    if as_json:
        assert json.loads(done.stdout.strip().splitlines()[-1])["error"] == "InvalidInputError"


@pytest.mark.parametrize("source", ["file://relative/dir", "file://./share"])
def test_a_relative_file_source_is_refused_when_the_config_is_read(backend, tmp_path, monkeypatch, source):
    write_config(tmp_path, monkeypatch, {"share": {"source": source, "destination": "s3://dst-bucket/"}})
    status, summary, err = sync_input({"datasync": {"task": "share"}})
    assert status == terminal.EXIT_BAD_INPUT
    assert "must be an absolute path: file:///dir" in err and len(err.strip().splitlines()) == 1
    assert summary["error"] in ("ConfigError", "InvalidInputError")


def test_a_dry_runs_summary_table_shows_the_datasync_filter(backend, tmp_path, monkeypatch):
    src, dst = backend.buckets()
    seed(backend, src, {"2026-11-21/a": b"a", "other/b": b"b"})
    write_config(tmp_path, monkeypatch, {"t": {"source": f"s3://{src}/", "destination": f"s3://{dst}/"}})
    out, err = io.StringIO(), io.StringIO()
    execution_input = {"source": src, "destination": dst, "dry_run": True,
                       "datasync": {"task": "t", "include": [DATED], "exclude": ["*.tmp"], "date": "2026-11-21"}}
    status = cli.sync(cli.SyncOptions(input=json.dumps(execution_input)), embedded=True, out=out, err=err)
    assert status == terminal.EXIT_OK, err.getvalue()
    table = out.getvalue()
    assert "DataSync include filter" in table and "/2026-11-21/*" in table
    assert "DataSync exclude filter" in table and "*.tmp" in table and "DRY_RUN" in table
    assert backend.listing(dst) == {}


def test_ownership_holds_on_both_sides_when_the_sync_and_the_task_map_prefixes_differently(backend, tmp_path,
                                                                                          monkeypatch):
    """The object sync writes s3://src/ to s3://dst/mirror/; the task writes
    s3://src/images/ to s3://dst/images/. A dated key DataSync owns at the
    source is left out of both sides (its copy under mirror/ is not read as
    absent at the source and deleted)."""
    src, dst = backend.buckets()
    seed(backend, src, {"images/2026-11-21/cam.jpg": b"jpeg", "docs/readme.txt": b"read me"})
    seed(backend, dst, {"mirror/images/2026-11-21/cam.jpg": b"jpeg", "mirror/docs/readme.txt": b"read me"})
    write_config(tmp_path, monkeypatch, {"images": {"source": f"s3://{src}/images/",
                                                     "destination": f"s3://{dst}/images/"}})
    status, summary, err = sync_input({"source": src, "destination": dst, "destination_prefix": "mirror/",
                                       "max_delete": "100%",
                                       "datasync": {"task": "images", "include": [DATED], "date": "2026-11-21"}})
    assert status == terminal.EXIT_OK, err
    assert summary["deleted"] == 0 and summary["copied"] == 0
    assert sorted(backend.listing(dst)) == ["images/2026-11-21/cam.jpg", "mirror/docs/readme.txt",
                                            "mirror/images/2026-11-21/cam.jpg"]


# ---- a source that cannot be read, an empty source, a file that cannot be read ------------

def share_task(share, dst, **options):
    return {"share": {"source": f"file://{share}", "destination": f"s3://{dst}/share/",
                      "options": dict({"PreserveDeletedFiles": "REMOVE"}, **options)}}


def test_a_missing_source_directory_is_an_error_never_an_empty_source(backend, tmp_path, monkeypatch):
    dst = backend.bucket()
    seed(backend, dst, {"share/report.pdf": b"pdf", "share/2026-11-21/a": b"a"})
    missing = tmp_path / "not-mounted"
    # The local DataSync itself: the execution fails, nothing is deleted.
    answer = run_execution(service(share_task(missing, dst)), "share")
    assert answer["Status"] == "ERROR" and answer["Result"]["ErrorCode"] == "SourceUnreadableError"
    assert str(missing) in answer["Result"]["ErrorDetail"] and answer["FilesDeleted"] == 0
    # A whole run, with and without templates: refused before anything starts.
    write_config(tmp_path, monkeypatch, share_task(missing, dst))
    for datasync in ({"task": "share"}, {"task": "share", "include": [DATED], "date": "2026-11-21"}):
        status, summary, err = sync_input({"datasync": datasync})
        assert status == terminal.EXIT_FAILED, err
        assert summary["error"] == "SourceUnreadableError" and str(missing) in summary["message"]
        assert "does not exist" in err and len(err.strip().splitlines()) == 1
    assert sorted(backend.listing(dst)) == ["share/2026-11-21/a", "share/report.pdf"]


def test_an_empty_source_with_remove_needs_consent(backend, tmp_path, monkeypatch):
    share = tmp_path / "share"
    share.mkdir()                                   # mounted, and empty
    dst = backend.bucket()
    seed(backend, dst, {"share/report.pdf": b"pdf"})
    write_config(tmp_path, monkeypatch, share_task(share, dst))
    started = lambda: [e for e in (datasync_runs.datasync_service().executions.values() if datasync_runs.datasync_service() else ())  # noqa: E731
                       if e.task.name == "share"]
    before = len(started())
    status, summary, err = sync_input({"datasync": {"task": "share"}})
    assert status == terminal.EXIT_FAILED
    assert summary["error"] == "DeleteGuardError" and len(err.strip().splitlines()) == 1
    assert len(started()) == before                                  # refused in ValidateInput: nothing started
    for words in (f"the DataSync source file://{share} has nothing", "PreserveDeletedFiles REMOVE",
                  "share/report.pdf", "set datasync.allow_empty_source to allow it"):
        assert words in summary["message"]
    assert sorted(backend.listing(dst)) == ["share/report.pdf"]
    status, summary, err = sync_input({"datasync": {"task": "share", "allow_empty_source": True}})
    assert status == terminal.EXIT_OK, err
    assert summary["datasync"]["files_deleted"] == 1 and backend.listing(dst) == {}
    # An empty destination has nothing to lose: no consent needed.
    status, summary, err = sync_input({"datasync": {"task": "share"}})
    assert status == terminal.EXIT_OK, err


def test_an_s3_source_that_lists_nothing_with_remove_needs_consent(backend, tmp_path, monkeypatch):
    src, dst = backend.buckets()
    seed(backend, src, {"elsewhere/x": b"x"})
    seed(backend, dst, {"in/a": b"a"})
    write_config(tmp_path, monkeypatch, {"t": {"source": f"s3://{src}/in/", "destination": f"s3://{dst}/in/",
                                               "options": {"PreserveDeletedFiles": "REMOVE"}}})
    status, summary, err = sync_input({"datasync": {"task": "t"}})
    assert status == terminal.EXIT_FAILED and summary["error"] == "DeleteGuardError", err
    assert "set datasync.allow_empty_source" in summary["message"]
    assert sorted(backend.listing(dst)) == ["in/a"]
    status, summary, err = sync_input({"datasync": {"task": "t", "allow_empty_source": "yes"}})
    assert status == terminal.EXIT_BAD_INPUT and "'datasync.allow_empty_source' must be true or false" in err


def test_a_dangling_symlink_is_reported_and_the_rest_transferred(backend, tmp_path, monkeypatch):
    share = tmp_path / "share"
    (share / "sub").mkdir(parents=True)
    (share / "sub" / "a.txt").write_bytes(b"aaa")
    (share / "broken.txt").symlink_to(tmp_path / "nowhere")
    dst = backend.bucket()
    # A copy of the unreadable file from before: not proven gone, so REMOVE keeps it.
    seed(backend, dst, {"share/broken.txt": b"an earlier copy", "share/gone.txt": b"deleted at the source"})
    answer = run_execution(service(share_task(share, dst)), "share")
    assert answer["Status"] == "ERROR" and answer["Result"]["ErrorCode"] == "FilesFailed"
    assert "/broken.txt (dangling symbolic link)" in answer["Result"]["ErrorDetail"]
    assert answer["FilesFailed"]["Prepare"] == 1
    assert (answer["FilesTransferred"], answer["FilesDeleted"]) == (1, 1)
    assert sorted(backend.listing(dst)) == ["share/broken.txt", "share/sub/a.txt"]
    # A whole run says so, and fails: a partial transfer is not a success.
    write_config(tmp_path, monkeypatch, share_task(share, dst))
    status, summary, err = sync_input({"datasync": {"task": "share"}})
    assert status == terminal.EXIT_FAILED
    assert summary["error"] == "DataSync.FilesFailed" and "/broken.txt" in summary["message"]
    assert summary["datasync"]["files_failed"] == 1 and "broken.txt" in err
    out, err = io.StringIO(), io.StringIO()
    status = cli.sync(cli.SyncOptions(input=json.dumps({"datasync": {"task": "share"}})), embedded=True,
                      out=out, err=err)
    assert status == terminal.EXIT_FAILED and "DataSync files failed" in out.getvalue()


def test_a_task_that_writes_into_the_syncs_destination_under_another_mapping_is_refused(backend, tmp_path,
                                                                                      monkeypatch):
    """The task writes s3://src/images/ to s3://dst/archive/images/, inside the
    object sync's destination s3://dst/, which the sync fills from s3://src/:
    the earlier days DataSync wrote there would have no counterpart at the
    source, and the next run's object sync would delete them. Refused before
    anything is written; the sync's own mapping runs."""
    src, dst = backend.buckets()
    seed(backend, src, {"images/2026-11-20/a.jpg": b"a", "images/2026-11-21/b.jpg": b"b"})
    seed(backend, dst, {"archive/images/2026-11-20/a.jpg": b"a"})
    write_config(tmp_path, monkeypatch, {"images": {"source": f"s3://{src}/images/",
                                                     "destination": f"s3://{dst}/archive/images/"}})
    status, summary, err = sync_input({"source": src, "destination": dst, "max_delete": "100%",
                                       "datasync": {"task": "images", "include": [DATED], "date": "2026-11-21"}})
    assert status == terminal.EXIT_BAD_INPUT, err
    assert "archive/images/" in err and "would have no counterpart at the source" in err
    assert sorted(backend.listing(dst)) == ["archive/images/2026-11-20/a.jpg"]
    # No template: DataSync owns its whole location every run; nothing of it can look extra.
    status, summary, err = sync_input({"source": src, "destination": dst, "max_delete": "100%",
                                       "datasync": {"task": "images"}})
    assert status == terminal.EXIT_OK, err
    assert "archive/images/2026-11-20/a.jpg" in backend.listing(dst)


def test_a_signal_during_the_datasync_part_fails_the_run(backend, tmp_path, monkeypatch):
    """SIGTERM while the local DataSync copies: it stops between files, the
    run fails as interrupted (exit 143), never as a success, and a rerun
    finishes."""
    import os
    import signal

    from tests.faults import hooked
    dst = backend.bucket()
    share = tmp_path / "share"
    share.mkdir()
    for n in range(30):
        (share / f"f{n:02d}").write_bytes(b"x")
    write_config(tmp_path, monkeypatch, {"share": {"source": f"file://{share}", "destination": f"s3://{dst}/"}})
    sent = []

    def signal_on_the_first_upload(**_):
        if not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGTERM)

    with hooked("before-parameter-build.s3.PutObject", signal_on_the_first_upload):
        status, summary, err = sync_input({"datasync": {"task": "share"}})
    assert sent and status == 143, err
    assert summary["error"] == "RunInterrupted" and "interrupted:" in err
    assert len(backend.listing(dst)) < 30
    status, summary, err = sync_input({"datasync": {"task": "share"}})
    assert status == terminal.EXIT_OK, err
    assert len(backend.listing(dst)) == 30


def test_a_filter_near_datasyncs_limit_runs_beside_an_object_sync(backend, tmp_path, monkeypatch):
    """A filter of ~100,000 characters (DataSync takes 102,400) and what it
    owns wait in the work area, not in the state (Step Functions' 256 KiB):
    the run starts DataSync with the whole filter, the object sync leaves
    its folders alone, and the report holds the whole filter."""
    src, dst = backend.buckets()
    folders = [f"project-{n:04d}-{'x' * 84}" for n in range(1000)]
    seed(backend, src, {f"data/{folder}/a.bin": b"a" for folder in folders})
    seed(backend, src, {"data/other/c.bin": b"c"})
    # DataSync's (its task keeps what the source lacks): the object sync must not delete it.
    seed(backend, dst, {f"data/{folders[-1]}/kept.bin": b"k"})
    write_config(tmp_path, monkeypatch, {"t": {"source": f"s3://{src}/data/", "destination": f"s3://{dst}/data/"}})
    started, original = [], local.LocalDataSync.start_task_execution
    monkeypatch.setattr(local.LocalDataSync, "start_task_execution",
                        lambda self, **kw: started.append(kw) or original(self, **kw))
    include = [f"/{folder}/*" for folder in folders]
    status, summary, err = sync_input({"source": src, "destination": dst,
                                       "datasync": {"task": "t", "include": include}})
    assert status == terminal.EXIT_OK, err
    whole = "|".join(include)
    assert len(whole) > 99_000
    assert [rule["Value"] for rule in started[0]["Includes"]] == [whole]
    assert summary["datasync"]["files_transferred"] == 1000 and summary["copied"] == 1   # data/other/c.bin
    assert len(summary["datasync"]["includes"]) < 2_100 and f"{len(whole):,} characters" in summary["datasync"]["includes"]
    assert backend.listing(dst).keys() == backend.listing(src).keys() | {f"data/{folders[-1]}/kept.bin"}
    assert summary["deleted"] == 0
    assert report.read(open(summary["report"]))["run"]["datasync_filters"] == {"includes": whole, "excludes": ""}
