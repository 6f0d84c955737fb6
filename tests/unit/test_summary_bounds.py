"""The summary is the execution's output and SyncFailedError's cause (a Fail
state's cause holds at most 32,768 characters): its lists and texts are
bounded (bucketsync.run_summary, bucketsync.bounds), whatever the keys and filters."""
import json

from bucketsync import bounds, run_summary


def test_failed_keys_stay_within_the_cause_limit():
    worst = ["\x01" * 1024 + str(n) for n in range(50)]     # each 6,000+ characters as JSON
    kept = run_summary.first_keys(worst)
    assert kept and len(json.dumps(kept)) <= run_summary.SUMMARY_KEYS_CHARS + 10
    assert run_summary.first_keys(f"k{n}" for n in range(50)) == [f"k{n}" for n in range(run_summary.SUMMARY_FAILED_KEYS)]


def test_long_texts_are_clipped_and_say_so():
    text = "|".join(f"/2026-11-{n:02d}/*" for n in range(1, 31)) * 400   # a DataSync filter near its limit
    clipped = bounds.clip(text)
    assert len(clipped) < bounds.SUMMARY_TEXT_CHARS + 100 and f"{len(text):,} characters" in clipped
    assert bounds.clip("short") == "short"


def test_a_run_state_too_large_for_step_functions_is_refused_before_the_run_starts():
    """Past 256 KiB Step Functions fails a run with States.DataLimitExceeded,
    which no Catch takes. DataSync's filters and what they own wait in the
    work area; what still grows with the input is the input itself, and
    ValidateInput refuses a state that would not fit with InvalidInputError."""
    import pytest

    from bucketsync import bounds
    from bucketsync.errors import InvalidInputError
    templates = [f"/project-{n:05d}/*" for n in range(5000)]                 # 90,000 characters
    state = {"run": {"request": {"include": templates}}, "cursor": None, "datasync": {"request": {"include": templates}}}
    with pytest.raises(InvalidInputError, match="the run's state would take .* the execution input is too large"):
        bounds.check_state_size(state)
    bounds.check_state_size({"run": {"request": {"include": templates}}, "cursor": None, "datasync": None})   # fits
