"""`fab sync` as a separate process, as a user runs it: it ends without the
interpreter's teardown (bucketsync.local.cli.exit_now), so its exit status
and its last JSON line are checked here from outside the process."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def fab_sync(seaweedfs, tmp_path, source, destination):
    env = dict(os.environ, BUCKETSYNC_REPORT_DIR=str(tmp_path / "reports"), BUCKETSYNC_STATE_DIR=str(tmp_path),
               AWS_ACCESS_KEY_ID=seaweedfs.access_key, AWS_SECRET_ACCESS_KEY=seaweedfs.secret_key)
    env.pop("PYTHONUNBUFFERED", None)   # as a user's shell has it: output buffered until the end
    done = subprocess.run([str(Path(sys.executable).parent / "fab"), "sync", "--source", source,
                           "--destination", destination, "--endpoint-url", seaweedfs.endpoint, "--json"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    return done.returncode, json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_fab_sync_processes_exit_with_their_status_and_summary(seaweedfs, tmp_path):
    client = seaweedfs.client()
    for name in ("proc-src-bucket", "proc-dst-bucket"):
        client.create_bucket(Bucket=name)
    for n in range(3):
        client.put_object(Bucket="proc-src-bucket", Key=f"k{n}", Body=b"x")
    status, summary, err = fab_sync(seaweedfs, tmp_path, "proc-src-bucket", "proc-dst-bucket")
    assert (status, summary["copied"]) == (0, 3), err
    assert Path(summary["report"]).stat().st_size > 0, "the report is written and closed before the exit"
    status, summary, err = fab_sync(seaweedfs, tmp_path, "proc-src-bucket", "proc-dst-bucket")
    assert (status, summary["copied"], summary["unchanged"]) == (0, 0, 3), err
    status, summary, err = fab_sync(seaweedfs, tmp_path, "proc-src-bucket", "proc-missing-bucket")
    assert (status, summary["error"]) == (1, "NoSuchBucketError"), err
    assert "error: NoSuchBucketError" in err
