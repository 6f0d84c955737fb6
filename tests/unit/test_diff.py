"""The pure merge/compare core and the filters."""
import pytest

from bucketsync.errors import DuplicateKeyError, ListingOrderError
from bucketsync.filters import KeyFilter
from bucketsync.diff import CHECK, COPY, DELETE, UNCHANGED, Entry, check_order, compare, merge

MD5_A = '"0cc175b9c0f1b6a831c399e269772661"'
MD5_B = '"92eb5ffee6ae2fec3ad71c777531578f"'
MULTI = '"9b2cf535f27731c974343645a3985328-2"'


@pytest.mark.parametrize("source, destination, action", [
    (Entry("k", 1, MD5_A), Entry("k", 1, MD5_A), UNCHANGED),          # unchanged
    (Entry("k", 1, MD5_A), Entry("k", 1, MD5_A.upper()), UNCHANGED),  # ETag case does not matter
    (Entry("k", 1, MD5_A), Entry("k", 2, MD5_A), COPY),               # size changed
    (Entry("k", 1, MD5_A), Entry("k", 1, MD5_B), CHECK),              # same size, other ETag: prove or copy
    (Entry("k", 10, MULTI), Entry("k", 10, MD5_A), CHECK),            # multipart vs plain: prove with the stamp
    (Entry("k", 10, MULTI), Entry("k", 10, MULTI), UNCHANGED),        # same layout, same ETag
    (Entry("k", 0, MD5_A), Entry("k", 0, '"dir-etag"'), UNCHANGED),   # two empty objects are the same bytes
])
def test_compare(source, destination, action):
    assert compare(source, destination) == action


def test_merge_decides_every_key_once_in_order():
    source = [Entry("a", 1, MD5_A), Entry("b", 1, MD5_A), Entry("d", 1, MD5_A), Entry("é", 1, MD5_A)]
    destination = [Entry("b", 1, MD5_A), Entry("c", 1, MD5_A), Entry("d", 2, MD5_A), Entry("z", 1, MD5_A)]
    decisions = [(d.action, d.key) for d in merge(source, destination)]
    assert decisions == [(COPY, "a"), (UNCHANGED, "b"), (DELETE, "c"), (COPY, "d"), (DELETE, "z"), (COPY, "é")]


def test_merge_of_empty_sides():
    assert [d.action for d in merge([], [Entry("x", 1, MD5_A)])] == [DELETE]
    assert [d.action for d in merge([Entry("x", 1, MD5_A)], [])] == [COPY]
    assert list(merge([], [])) == []


def test_merge_streams():
    """Memory independent of size: merge consumes generators lazily."""
    def gen(n):
        for i in range(n):
            yield Entry(f"{i:09d}", 1, MD5_A)
    first = next(merge(gen(10**12), gen(10**12)))
    assert first.action == UNCHANGED


def test_check_order_uses_utf8_binary_order():
    keys = ["A", "Z", "a", "z", "~", "é", "日", "😀"]  # UTF-8 byte order
    assert sorted(keys, key=lambda k: k.encode()) == keys
    assert [e.key for e in check_order((Entry(k, 0, "") for k in keys), "source")] == keys
    with pytest.raises(ListingOrderError, match="came after"):
        list(check_order([Entry("b", 0, ""), Entry("a", 0, "")], "source"))
    with pytest.raises(DuplicateKeyError, match="returned the key 'a' twice"):
        list(check_order([Entry("a", 0, ""), Entry("a", 0, "")], "source"))
    with pytest.raises(ListingOrderError):   # resuming: nothing at or before the cursor
        list(check_order([Entry("a", 0, "")], "source", after="b"))


@pytest.mark.parametrize("include, exclude, key, kept", [
    ((), (), "any/key", True),
    (("*.txt",), (), "deep/dir/a.txt", True),
    (("*.txt",), (), "a.jpg", False),
    ((), ("*.tmp",), "x/y.tmp", False),
    ((), ("logs/*",), "logs/a/b", False),
    ((), ("logs/*",), "logs2/a", True),
    (("photos/*",), ("*.raw",), "photos/a.raw", False),
    (("photos/*",), ("*.raw",), "photos/a.jpg", True),
    (("[ab]*",), (), "b1", True),
    (("A*",), (), "a1", False),          # case-sensitive, as S3 keys are
    (("*",), (), "line\nbreak", True),
])
def test_filters(include, exclude, key, kept):
    assert KeyFilter(include, exclude)(key) is kept
