"""Sync between two endpoints (two real SeaweedFS servers, and SeaweedFS with
moto standing in for AWS, both directions): every copy streams GET -> PUT.
The shared semantics table runs here too (tests/sync_cases.py)."""
import pytest

from tests.backends import cross_backend
from tests.servers import SeaweedFS
from tests.sync_cases import *  # noqa: F401,F403  (the shared, table-driven cases)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def seaweedfs_b():
    """A second, independent SeaweedFS server (another endpoint)."""
    with SeaweedFS() as server:
        yield server


@pytest.fixture(params=["seaweedfs->seaweedfs", "aws->seaweedfs", "seaweedfs->aws"])
def backend(request, seaweedfs, seaweedfs_b, report_dir):
    with cross_backend(request.param, (seaweedfs, seaweedfs_b), report_dir) as b:
        yield b
