"""Runtime settings come from the environment; a malformed one is refused
with a typed error naming the variable (its class name is what a function
reports to Step Functions)."""
import pytest

from bucketsync import settings
from bucketsync.errors import BucketsyncError, SettingsError


def test_a_set_number_is_read_and_an_unset_one_is_the_default(monkeypatch):
    monkeypatch.setenv("BUCKETSYNC_COPY_THREADS", "4")
    monkeypatch.delenv("BUCKETSYNC_PART_THREADS", raising=False)
    loaded = settings.load()
    assert (loaded.copy_threads, loaded.part_threads) == (4, 8)


@pytest.mark.parametrize("raw, problem", [("abc", "must be an integer, got 'abc'"),
                                          ("0", "must be positive, got '0'"),
                                          ("-3", "must be positive, got '-3'")])
def test_a_malformed_number_is_a_settings_error_naming_the_variable(monkeypatch, raw, problem):
    monkeypatch.setenv("BUCKETSYNC_PART_SIZE", raw)
    with pytest.raises(SettingsError, match=f"BUCKETSYNC_PART_SIZE {problem}") as caught:
        settings.load()
    assert isinstance(caught.value, BucketsyncError) and isinstance(caught.value, ValueError)
