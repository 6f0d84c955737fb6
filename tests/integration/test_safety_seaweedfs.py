"""Safety cases on a real SeaweedFS server; see tests/safety_cases.py."""
import pytest

from tests.backends import seaweed_backend
from tests.safety_cases import *  # noqa: F401,F403


@pytest.fixture
def backend(seaweedfs, report_dir):
    with seaweed_backend(seaweedfs, report_dir) as b:
        yield b
