"""What the servers were seen to do (bucketsync/observed.py): typed in the
code, words in the JSON, the worst finding kept over chunks."""
import pytest

from bucketsync.observed import Observed, Seen


def test_json_holds_only_what_was_seen_in_words():
    assert Observed().to_dict() == {}
    observed = Observed(tagging=Seen.UNSUPPORTED, source_etags=Seen.NOT_MD5, stamp_dropped=["a"])
    document = {"tagging": "unsupported", "source_etags": "not MD5 of content", "stamp_dropped": ["a"]}
    assert observed.to_dict() == document
    assert Observed.from_dict(document) == observed
    assert Observed.from_dict(None) == Observed()


@pytest.mark.parametrize("first, second, kept", [
    (Seen.HONOURED, Seen.REJECTED, Seen.REJECTED),
    (Seen.REJECTED, Seen.HONOURED, Seen.REJECTED),
    (Seen.IGNORED, Seen.REJECTED, Seen.IGNORED),
    (Seen.HONOURED, Seen.IGNORED, Seen.IGNORED),
    (None, Seen.HONOURED, Seen.HONOURED),
    (Seen.HONOURED, None, Seen.HONOURED),
])
def test_merge_keeps_the_finding_that_needs_attention(first, second, kept):
    merged = Observed(conditional_deletes=first)
    merged.merge(Observed(conditional_deletes=second))
    assert merged.conditional_deletes is kept


def test_merge_joins_lists():
    merged = Observed(stamp_dropped=["a"])
    merged.merge(Observed(stamp_dropped=["b"], stale_uploads_aborted=["c"]))
    assert merged.to_dict() == {"stamp_dropped": ["a", "b"], "stale_uploads_aborted": ["c"]}


def test_an_unknown_finding_is_refused():
    with pytest.raises(AttributeError):
        Observed.from_dict({"no_such_finding": "ignored"})
