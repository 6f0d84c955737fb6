"""Safety cases on moto (in-process); see tests/safety_cases.py."""
import pytest

from tests.backends import moto_backend
from tests.safety_cases import *  # noqa: F401,F403


@pytest.fixture
def backend(report_dir):
    with moto_backend(report_dir) as b:
        yield b
