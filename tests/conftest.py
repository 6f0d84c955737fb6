import os
import tempfile

import pytest

from bucketsync.local.cli import quiet_moto_logs

# Tests never reach AWS: dummy credentials (assigned, so that a developer's
# real keys, or a session token of theirs, never sign a test's request) and a
# fixed region for every client.
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
for _name in ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
    os.environ.pop(_name, None)
quiet_moto_logs()
# Run leases and other local state of test runs stay out of the user's home.
os.environ["BUCKETSYNC_STATE_DIR"] = tempfile.mkdtemp(prefix="bucketsync-test-state-")


@pytest.fixture
def report_dir(tmp_path):
    return tmp_path / "reports"
