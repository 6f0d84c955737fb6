"""Sync semantics on moto (in-process), through the real state machine."""
import pytest

from tests.backends import moto_backend
from tests.sync_cases import *  # noqa: F401,F403  (the shared, table-driven cases)


@pytest.fixture
def backend(report_dir):
    with moto_backend(report_dir) as b:
        yield b
