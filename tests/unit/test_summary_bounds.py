"""The summary is the execution's output and SyncFailedError's cause (a Fail
state's cause holds at most 32,768 characters): its lists and texts are
bounded (bucketsync.run_summary), whatever the keys and filters."""
import json

from bucketsync import run_summary


def test_failed_keys_stay_within_the_cause_limit():
    worst = ["\x01" * 1024 + str(n) for n in range(50)]     # each 6,000+ characters as JSON
    kept = run_summary.first_keys(worst)
    assert kept and len(json.dumps(kept)) <= run_summary.SUMMARY_KEYS_CHARS + 10
    assert run_summary.first_keys(f"k{n}" for n in range(50)) == [f"k{n}" for n in range(run_summary.SUMMARY_FAILED_KEYS)]


def test_long_texts_are_clipped_and_say_so():
    text = "|".join(f"/2026-11-{n:02d}/*" for n in range(1, 31)) * 400   # a DataSync filter near its limit
    clipped = run_summary.clip(text)
    assert len(clipped) < run_summary.SUMMARY_TEXT_CHARS + 100 and f"{len(text):,} characters" in clipped
    assert run_summary.clip("short") == "short"


def test_a_run_state_too_large_for_step_functions_is_refused_before_anything_is_written():
    """A DataSync filter near its 102,400 characters travels in `datasync`
    and, as what DataSync owns, twice more in `run`: past 256 KiB Step
    Functions fails the run with States.DataLimitExceeded, which no Catch
    takes. ValidateInput refuses it, naming the filter, with InvalidInputError."""
    import pytest

    from bucketsync import steps
    from bucketsync.errors import InvalidInputError
    includes = "|".join(f"/project-{n:05d}/*" for n in range(4000))          # 67,999 characters
    owned = [{"bucket": "b", "prefix": "", "pattern": includes.replace("*", ".*")}] * 2
    state = {"run": {"owned": owned}, "cursor": None, "datasync": {"includes": includes}}
    with pytest.raises(InvalidInputError, match="the run's state would take .* DataSync include filter"):
        steps._check_state_size(state)
    steps._check_state_size({"run": {"owned": owned[:1]}, "cursor": None,
                             "datasync": {"includes": includes[:20_000]}})   # fits
