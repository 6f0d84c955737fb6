import pytest

from tests.servers import SeaweedFS


@pytest.fixture(scope="session")
def seaweedfs():
    """One real SeaweedFS server per test process, on free loopback ports."""
    with SeaweedFS() as server:
        yield server
