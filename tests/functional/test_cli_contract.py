"""`fab sync`'s output contract: --json always ends with one JSON object,
the report always exists and names every key, dry runs list what they would do."""
import io
import json
import os
import shutil
from pathlib import Path

import pytest

from bucketsync import report
from bucketsync.local import cli
from bucketsync.local.places import flag_places
from bucketsync.project import terminal
from tests.backends import moto_backend
from tests.faults import always_fail, before_call


@pytest.fixture
def backend(report_dir, monkeypatch):
    monkeypatch.setenv("BUCKETSYNC_REPORT_DIR", str(report_dir))
    with moto_backend(report_dir) as b:
        yield b


def run_cli(**opts):
    out, err = io.StringIO(), io.StringIO()
    status = cli.sync(cli.SyncOptions(**opts), embedded=True, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize("case, status, error", [
    ("bad-input", 2, "InvalidInputError"),
    ("missing-bucket", 1, "NoSuchBucketError"),
    ("guard", 1, "DeleteGuardError"),
    ("prefix", 2, "InvalidInputError"),
])
def test_json_on_every_early_error(backend, case, status, error):
    source, destination = backend.buckets()
    for n in range(12):
        backend.put(destination, f"x{n}", b"x")
    opts = {"bad-input": dict(source="Bad_Name", destination=destination),
            "missing-bucket": dict(source="no-such-bucket-here", destination=destination),
            "guard": dict(source=source, destination=destination, allow_empty_source=True, max_delete="5"),
            "prefix": dict(source=source, destination=source, prefix="p/")}[case]
    code, out, err = run_cli(json=True, **opts)
    assert code == status
    summary = last_json(out)
    assert summary["error"] == error and summary["message"]
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"error: {error}")
    if "report" in summary:
        assert Path(summary["report"]).exists(), "the report field names a file that exists"


def test_the_report_names_every_key_with_its_outcome(backend):
    source, destination = backend.buckets()
    for key in ("new", "same", "resized", "poison.txt"):
        backend.put(source, key, key.encode())
    backend.put(destination, "same", b"same")
    backend.put(destination, "resized", b"r")
    backend.put(destination, "extra", b"x")
    with always_fail("poison.txt"):
        code, out, err = run_cli(source=source, destination=destination, json=True)
    summary = last_json(out)
    assert "poison.txt" not in backend.listing(destination)
    assert code == terminal.EXIT_FAILED and "no deletes were run" in err
    full = report.read(open(summary["report"]))
    outcomes = {a["key"]: (a["outcome"], a["size"]) for a in full["actions"]}
    assert outcomes == {"new": ("copied", 3), "resized": ("copied", 7), "poison.txt": ("failed", 10),
                        "same": ("unchanged", 4)}
    assert "extra" not in outcomes, "no deletes after a failed copy"
    run = full["run"]
    for field in ("started", "ended", "duration_seconds", "endpoints", "versions", "request", "plan"):
        assert run[field] is not None, field
    assert full["summary"]["failed"] == 1

    code, out, err = run_cli(source=source, destination=destination, json=True)
    full = report.read(open(last_json(out)["report"]))
    assert code == 0
    assert {a["key"]: a["outcome"] for a in full["actions"]} == {
        "poison.txt": "copied", "new": "unchanged", "resized": "unchanged", "same": "unchanged", "extra": "deleted"}


def test_dry_run_lists_what_it_would_do(backend):
    source, destination = backend.buckets()
    for n in range(5):
        backend.put(source, f"k{n}", b"v")
    backend.put(destination, "old", b"o")
    code, out, err = run_cli(source=source, destination=destination, dry_run=True)
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("(dryrun)")]
    assert lines == [f"(dryrun) copy: s3://{source}/k{n} to s3://{destination}/k{n}" for n in range(5)] + \
        [f"(dryrun) delete: s3://{destination}/old"]
    assert backend.listing(destination).keys() == {"old"}


def test_dry_run_listing_stops_at_its_limit(backend, monkeypatch):
    monkeypatch.setattr(cli, "DRY_RUN_LINES", 3)
    source, destination = backend.buckets()
    for n in range(5):
        backend.put(source, f"k{n}", b"v")
    code, out, err = run_cli(source=source, destination=destination, dry_run=True)
    lines = [line for line in out.splitlines() if line.startswith("(dryrun)")]
    assert len(lines) == 4 and lines[-1].startswith("(dryrun) ... and 2 more; every action is in ")


def seeded(backend):
    source, destination = backend.buckets()
    for key in ("new", "same"):
        backend.put(source, key, key.encode())
    backend.put(destination, "same", b"same")
    backend.put(destination, "extra", b"x")
    return source, destination


@pytest.mark.parametrize("unusable", ["under-a-file", "unwritable"])
def test_an_unusable_report_dir_is_refused_before_anything_is_written(backend, tmp_path, monkeypatch, unusable):
    if unusable == "under-a-file":
        (tmp_path / "a-file").write_text("not a directory")
        directory = tmp_path / "a-file" / "reports"
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into any directory")
        directory = tmp_path / "read-only"
        directory.mkdir()
        directory.chmod(0o500)
    monkeypatch.setenv("BUCKETSYNC_REPORT_DIR", str(directory))
    source, destination = seeded(backend)
    before = backend.listing(destination)
    code, out, err = run_cli(source=source, destination=destination, json=True)
    assert code == terminal.EXIT_BAD_INPUT
    assert last_json(out)["error"] == "ReportDirectoryError" and str(directory) in last_json(out)["message"]
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ReportDirectoryError: ")
    assert backend.listing(destination) == before, "nothing was copied or deleted"


@pytest.mark.parametrize("as_json", [True, False])
def test_a_report_that_cannot_be_written_after_the_work_loses_no_counts(backend, report_dir, as_json):
    """The directory was fine at the start and is gone at the end (here: a
    file takes its place during the deletes)."""
    source, destination = seeded(backend)

    def break_the_report_dir(params):
        shutil.rmtree(report_dir)
        report_dir.write_text("in the way")

    with before_call("DeleteObjects", break_the_report_dir):
        code, out, err = run_cli(source=source, destination=destination, json=as_json)
    assert set(backend.listing(destination)) == {"new", "same"}, "the work was done"
    assert code == terminal.EXIT_FAILED
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith(f"error: ReportNotWritten: the report could not be written "
                                                     f"to {report_dir}/")
    assert "Traceback" not in err
    if as_json:
        summary = last_json(out)
        assert (summary["copied"], summary["deleted"], summary["unchanged"]) == (1, 1, 1)
        assert summary["report"] is None and summary["report_error"] == errors[0].split(": ", 2)[2]
    else:
        assert "copied" in out and "not written (see below)" in out


def test_the_report_names_itself_where_it_is(backend):
    """Not the run's scratch bucket, which is gone after a local run."""
    source, destination = seeded(backend)
    code, out, err = run_cli(source=source, destination=destination, json=True)
    summary = last_json(out)
    assert code == 0 and Path(summary["report"]).exists()
    assert report.read(open(summary["report"]))["summary"]["report"] == summary["report"]
    code, out, err = run_cli(source=source, destination=destination)
    assert "bucketsync-scratch" not in out + err


@pytest.mark.parametrize("how", ["--source-profile", "AWS_PROFILE"])
def test_an_endpoint_named_by_a_profile_is_that_sides_place(tmp_path, monkeypatch, how):
    """A profile whose configuration sends S3 requests elsewhere
    (`endpoint_url`) places its side there: a sync within one bucket of that
    endpoint, reached once by the profile and once by the URL, is refused as
    a sync onto itself (it would delete its own source)."""
    config = tmp_path / "config"
    config.write_text("[profile p1]\nregion = us-east-1\nendpoint_url = http://127.0.0.1:18333\n"
                      "aws_access_key_id = testing\naws_secret_access_key = testing\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    options = dict(source="s3://bkt/a/b/", destination="s3://bkt/a/", json=True,
                   destination_endpoint_url="http://localhost:18333")
    if how == "AWS_PROFILE":
        monkeypatch.setenv("AWS_PROFILE", "p1")
    else:
        options["source_profile"] = "p1"
    out, err = io.StringIO(), io.StringIO()
    code = cli.sync(cli.SyncOptions(**options), out=out, err=err)
    assert code == terminal.EXIT_BAD_INPUT and "same bucket" in err.getvalue(), err.getvalue()
    out, err = io.StringIO(), io.StringIO()
    code = cli.sync(cli.SyncOptions(**dict(options, source_profile="nope")), out=out, err=err)
    assert code == terminal.EXIT_BAD_INPUT and "profile 'nope'" in err.getvalue(), err.getvalue()


def test_mirror_replay_places_its_sides_as_fab_sync_does(monkeypatch):
    """AWS_ENDPOINT_URL_S3 (as for `fab sync`) places a side left without a
    flag: the mirror then knows its destination is not AWS, and checks a
    key's spelling by listing (a HEAD there may answer for another key)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:19333")
    places = flag_places("http://127.0.0.1:15000", None)
    assert places["source"].url == "http://127.0.0.1:15000"
    assert places["destination"].url == "http://127.0.0.1:19333" and not places["destination"].on_aws


def test_every_flag_that_places_a_side_exists_for_every_command_that_reaches_both():
    """`fab sync` and `fab mirror-replay` reach both sides from this machine:
    each takes each side's endpoint and profile (and documents them)."""
    import inspect

    from invoke import Task

    import fabfile
    places = {f"{side}_{what}" for side in ("source", "destination") for what in ("endpoint_url", "profile")}
    reaching = {}
    for name, task in vars(fabfile).items():
        if isinstance(task, Task):
            flags = set(inspect.signature(task.body).parameters)
            if flags & places:
                reaching[name] = (flags, set(task.help))
    assert set(reaching) == {"sync", "mirror_replay"}
    for name, (flags, documented) in reaching.items():
        assert places <= flags, (name, places - flags)
        assert {p.replace("_", "-") for p in places} <= documented, name
