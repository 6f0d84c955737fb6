"""The read-back of a chunk's writes (bucketsync/copy/readback.py): which keys it
finds as written, and how many LIST requests it spends, against a fake
ListObjectsV2 that behaves as AWS documents it (UTF-8 order, StartAfter,
Delimiter, 1,000 keys a page)."""
import pytest

from bucketsync.copy import readback
from bucketsync.chunk_results import COPIED, FAILED, ActionResult, CopyResult


class FakeListing:
    """ListObjectsV2 over a fixed {key: size}, as AWS answers it."""

    def __init__(self, objects: dict[str, int], page: int = 1000):
        self.objects, self.page, self.calls = objects, page, []

    def list_objects_v2(self, Bucket, Prefix="", StartAfter="", Delimiter=None, ContinuationToken=None):
        self.calls.append({"Prefix": Prefix, "StartAfter": StartAfter, "Delimiter": Delimiter})
        after = ContinuationToken or StartAfter
        contents, folders = [], []
        for key in sorted(self.objects):
            if not key.startswith(Prefix) or key <= after:
                continue
            rest = key[len(Prefix):]
            if Delimiter and Delimiter in rest:
                folder = Prefix + rest[:rest.index(Delimiter) + 1]
                if folder not in folders and folder > after:
                    folders.append(folder)
                continue
            contents.append({"Key": key, "Size": self.objects[key]})
        entries = sorted([(c["Key"], c) for c in contents] + [(f, None) for f in folders])
        shown = entries[:self.page]
        answer = {"Contents": [c for _, c in shown if c is not None],
                  "CommonPrefixes": [{"Prefix": k} for k, c in shown if c is None],
                  "IsTruncated": len(entries) > self.page}
        if answer["IsTruncated"]:
            answer["NextContinuationToken"] = shown[-1][0]
        return answer


def test_a_dense_chunk_costs_one_list_per_page_on_aws():
    objects = {f"k/{n:05d}": 1 for n in range(5000)}
    fake = FakeListing(objects)
    written = {f"k/{n:05d}" for n in range(1000, 3000)}
    found = readback.listed_sizes(fake, "b", "", written, on_aws=True)
    assert set(found) == written
    assert len(fake.calls) <= 3, fake.calls


def test_a_sparse_chunk_costs_at_most_one_list_per_written_key():
    objects = {f"k/{n:06d}": 1 for n in range(20_000)}
    fake = FakeListing(objects)
    written = {f"k/{n:06d}" for n in range(0, 20_000, 2_500)}
    found = readback.listed_sizes(fake, "b", "", written, on_aws=True)
    assert set(found) == written
    assert len(fake.calls) <= len(written), fake.calls


def test_keys_at_page_ends_and_beyond_the_listing_are_told_apart():
    objects = {f"a{n:04d}": n for n in range(2500)}
    fake = FakeListing(objects)
    written = {"a0999", "a1000", "a1999", "a2499", "a2500", "a0000"}   # a2500 was never stored
    found = readback.listed_sizes(fake, "b", "", written, on_aws=True)
    assert set(found) == written - {"a2500"}
    assert found["a1999"] == 1999


@pytest.mark.parametrize("on_aws", [True, False])
def test_unicode_and_odd_keys(on_aws):
    objects = {"é/1": 1, "e/1": 2, "z": 3, "dir/": 0, "a b+c%": 4, "x/y/z": 5}
    fake = FakeListing(objects)
    found = readback.listed_sizes(fake, "b", "", set(objects), on_aws=on_aws)
    assert found == objects


def test_other_servers_list_each_folder_and_never_jump_on_respellable_keys():
    objects = {"a/b.txt": 1, "lead.txt": 2, "win/path.txt": 3, "f/0": 1, "f/1": 1}
    fake = FakeListing(objects)
    written = {"a//b.txt", "/lead.txt", "win\\path.txt", "f/1"}
    found = readback.listed_sizes(fake, "b", "", written, on_aws=False)
    assert found == {"f/1": 1}
    assert all(call["Delimiter"] == "/" for call in fake.calls)
    respellable = [c for c in fake.calls if c["Prefix"] in ("a//", "/", "")]
    assert respellable and all(not c["StartAfter"] for c in respellable), fake.calls


@pytest.mark.parametrize("key, plain", [("a/b.txt", True), ("b", True), ("a//b", False), ("/a", False),
                                        ("a\\b", False), ("a/./b", False), ("a/../b", False), ("dir/", False)])
def test_path_like(key, plain):
    assert readback.path_like(key) is plain


def test_problems_name_the_rule():
    assert readback.listing_problem("k", 5, 5) is None
    assert "lists no object 'k'" in readback.listing_problem("k", 5, None)
    assert "lists 0" in readback.listing_problem("dir/", 9, 0)


def test_unproven_copies_become_failures():
    result = CopyResult(copied=2, bytes_copied=15)
    result.actions = [ActionResult("a", 5, COPIED, "new"), ActionResult("b", 10, COPIED, "new")]
    result.unproven({"b": "not listed"})
    assert (result.copied, result.bytes_copied, result.failed) == (1, 5, 1)
    assert result.actions[1] == ActionResult("b", 10, FAILED, "not listed")
    assert result.failures == [{"key": "b", "error": "not listed"}]
