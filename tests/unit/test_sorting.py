"""The external merge sort of out-of-order listings (bucketsync.sorting)."""
import os
import random

import pytest

from bucketsync import sorting
from bucketsync.diff import Entry, check_order
from bucketsync.errors import DuplicateKeyError

ALPHABET = ["a", "b", "d", "-", ".", "/", "0", "é", "日", "🚀", " ", "+", "%", "\x7f", "\u00ff", "\uffff"]


def keys(count, seed=1):
    rng = random.Random(seed)
    made = set()
    while len(made) < count:
        made.add("".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 12))))
    return list(made)


def utf8_order(entries):
    return sorted(entries, key=lambda e: e.key.encode("utf-8"))


@pytest.mark.parametrize("count,run_entries", [(0, 10), (1, 10), (10, 10), (11, 10), (999, 10), (1000, 7), (500, 1000)])
def test_sorted_in_utf8_byte_order_whatever_the_runs(count, run_entries, tmp_path):
    entries = [Entry(k, i, f'"{i:032x}"') for i, k in enumerate(keys(count))]
    random.Random(2).shuffle(entries)
    result = list(sorting.external_sort(entries, run_entries=run_entries, directory=str(tmp_path)))
    assert result == utf8_order(entries)
    assert list(check_order(result, "source")) == result
    assert os.listdir(tmp_path) == [], "the spilled runs are removed"


def test_memory_is_one_run_plus_a_buffer_per_run(tmp_path):
    """The sort never holds more than `run_entries` entries of its input."""
    held = []

    def source():
        for i, k in enumerate(keys(5000, seed=3)):
            yield Entry(k, i, "e")

    def spill_watch(batch, directory, number, spill=sorting._spill):
        held.append(len(batch))
        return spill(batch, directory, number)

    sorting_spill, sorting._spill = sorting._spill, spill_watch
    try:
        result = list(sorting.external_sort(source(), run_entries=300, directory=str(tmp_path)))
    finally:
        sorting._spill = sorting_spill
    assert len(result) == 5000 and max(held) == 300 and len(held) == 5000 // 300


def test_files_removed_when_the_reader_stops_early(tmp_path):
    entries = [Entry(k, 1, "e") for k in keys(100)]
    iterator = sorting.external_sort(entries, run_entries=10, directory=str(tmp_path))
    next(iterator)
    assert os.listdir(tmp_path) != []
    iterator.close()
    assert os.listdir(tmp_path) == []


def test_a_key_listed_twice_still_fails_after_sorting():
    entries = [Entry("b", 1, "x"), Entry("a", 1, "y"), Entry("b", 1, "x")]
    with pytest.raises(DuplicateKeyError):
        list(check_order(sorting.external_sort(entries, run_entries=2), "source"))
