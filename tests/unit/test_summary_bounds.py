"""The summary is the execution's output and SyncFailedError's cause (a Fail
state's cause holds at most 32,768 characters): its lists and texts are
bounded (bucketsync.report), whatever the keys and filters."""
import json

from bucketsync import report


def test_failed_keys_stay_within_the_cause_limit():
    worst = ["\x01" * 1024 + str(n) for n in range(50)]     # each 6,000+ characters as JSON
    kept = report.first_keys(worst)
    assert kept and len(json.dumps(kept)) <= report.SUMMARY_KEYS_CHARS + 10
    assert report.first_keys(f"k{n}" for n in range(50)) == [f"k{n}" for n in range(report.SUMMARY_FAILED_KEYS)]


def test_long_texts_are_clipped_and_say_so():
    text = "|".join(f"/2026-11-{n:02d}/*" for n in range(1, 31)) * 400   # a DataSync filter near its limit
    clipped = report.clip(text)
    assert len(clipped) < report.SUMMARY_TEXT_CHARS + 100 and f"{len(text):,} characters" in clipped
    assert report.clip("short") == "short"
