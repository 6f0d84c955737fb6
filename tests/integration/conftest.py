import pytest

from tests.servers import SeaweedFS


@pytest.fixture(scope="session")
def seaweedfs():
    """One real SeaweedFS server per test process, on free loopback ports."""
    with SeaweedFS() as server:
        yield server


@pytest.fixture(scope="module")
def server_a():
    """Two servers of the module's own (two endpoints), not the session's
    shared one: SeaweedFS gives every bucket volumes of its own, and a module
    with many buckets would exhaust that server's volumes for the modules
    that run after it in the same process (PutObject: InternalError)."""
    with SeaweedFS() as server:
        yield server


@pytest.fixture(scope="module")
def server_b():
    with SeaweedFS() as server:
        yield server
