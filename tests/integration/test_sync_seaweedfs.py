"""Sync semantics against a real S3-compatible server (SeaweedFS): the same
table as tests/functional, over HTTP, with real multipart and concurrency.
The engine's scratch bucket stays in memory: nothing but synced objects may
appear on the server."""
import io
import json
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

import pytest

from bucketsync import report
from bucketsync.local import cli, engine
from bucketsync.project import terminal
from tests.backends import seaweed_backend
from tests.faults import on_send
from tests.sync_cases import *  # noqa: F401,F403  (the shared, table-driven cases)

pytestmark = pytest.mark.integration


@pytest.fixture
def backend(seaweedfs, report_dir):
    with seaweed_backend(seaweedfs, report_dir) as b:
        yield b


def test_no_scratch_data_on_the_users_server(backend, monkeypatch):
    """Every request bucketsync sends to the server names only the two
    buckets, and the run's scratch bucket does not exist there."""
    scratches = []
    run_environment = engine.run_environment

    def recorded(scratch, *args):
        scratches.append(scratch)
        return run_environment(scratch, *args)

    monkeypatch.setattr(engine, "run_environment", recorded)
    source, destination = backend.buckets()
    backend.put(source, "a", b"a")
    seen = []
    hook = lambda request, **_: seen.append(request.url)  # noqa: E731
    with on_send(hook):
        outcome = backend.sync({"source": source, "destination": destination})
    assert outcome.ok
    on_server = {urlsplit(url).path.split("/")[1] for url in seen if url.startswith(backend.endpoint)}
    assert on_server == {source, destination}
    [scratch] = scratches
    assert scratch.startswith("bucketsync-scratch-")
    assert report.read(outcome.report_path.open())["summary"]["report"] == str(outcome.report_path), \
        "the report names the file the user has, not the scratch"
    with pytest.raises(ClientError):
        backend.client.head_bucket(Bucket=scratch)
    assert set(backend.listing(destination)) == set(backend.listing(source)) == {"a"}


def test_fab_sync_with_endpoint_url(seaweedfs, capsys):
    """`fab sync --endpoint-url` as a user runs it: moto only holds the scratch."""
    client = seaweedfs.client()
    for name in ("cli-src-bucket", "cli-dst-bucket"):
        client.create_bucket(Bucket=name)
    client.put_object(Bucket="cli-src-bucket", Key="x/y.txt", Body=b"hello")
    opts = cli.SyncOptions(source="cli-src-bucket", destination="cli-dst-bucket",
                           endpoint_url=seaweedfs.endpoint, json=True)
    assert cli.sync(opts) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["copied"] == 1
    assert client.get_object(Bucket="cli-dst-bucket", Key="x/y.txt")["Body"].read() == b"hello"
    assert cli.sync(opts) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["copied"] == 0


def test_datasync_input_on_an_s3_compatible_server(backend, tmp_path, monkeypatch):
    """`fab sync --input ... --endpoint-url`: the local DataSync copies the
    run's dated folder on the server, the object sync the rest (another
    day's folder included: DataSync owns only this run's)."""
    monkeypatch.setenv("BUCKETSYNC_STATE_DIR", str(tmp_path / "state"))
    source, destination = backend.buckets()
    backend.put(source, "2026-11-21/a.jpg", b"jpeg")
    backend.put(source, "2026-11-20/old.jpg", b"not in the window: the object sync's")
    backend.put(source, "index.html", b"<html>")
    config_file = tmp_path / "fabfile_config.py"
    config_file.write_text(f"DATASYNC_TASKS = {{'d': {{'source': 's3://{source}/', 'destination': 's3://{destination}/'}}}}\n")
    monkeypatch.setattr("bucketsync.project.config.CONFIG_FILE", config_file)
    execution_input = {"source": source, "destination": destination,
                       "datasync": {"task": "d", "include": ["/{date:%Y-%m-%d}/*"], "date": "2026-11-21"}}
    out, err = io.StringIO(), io.StringIO()
    status = cli.sync(cli.SyncOptions(input=json.dumps(execution_input), json=True, endpoint_url=backend.endpoint),
                      out=out, err=err)
    assert status == terminal.EXIT_OK, err.getvalue()
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["datasync"]["files_transferred"] == 1 and summary["copied"] == 2
    assert sorted(backend.listing(destination)) == ["2026-11-20/old.jpg", "2026-11-21/a.jpg", "index.html"]
