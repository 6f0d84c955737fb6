"""The pure proof of sameness (bucketsync/copy/sameness.py): its truth table,
row by row, and the checks built on it."""
from datetime import datetime, timedelta, timezone

import pytest

from bucketsync.copy.sameness import Proof, proof, proven, unstamped_same, verify_problem, why_copy
from bucketsync.diff import CHECK, COPY, META, CopyAction
from bucketsync.s3 import STAMP

SOURCE = '"0cc175b9c0f1b6a831c399e269772661"'
OTHER = '"92eb5ffee6ae2fec3ad71c777531578f"'
WRITTEN = '"9b2cf535f27731c974343645a3985328-2"'
FULL = {"m": "x" * 2000}   # user metadata that leaves no room for the stamp


def head(etag, metadata=None, size=1):
    return {"ETag": etag, "Metadata": metadata or {}, "ContentLength": size}


@pytest.mark.parametrize("destination, by_etag, written, expected", [
    (head(SOURCE), True, None, Proof.ETAG),                                   # the source's ETag
    (head(SOURCE.upper()), True, None, Proof.ETAG),                           # whatever its case
    (head(WRITTEN), True, WRITTEN, Proof.ETAG),                               # the ETag our write makes
    (head(WRITTEN), False, WRITTEN, Proof.ETAG),                              # ... also when stamped only
    (head(SOURCE), False, None, Proof.DIFFERENT),                             # a CHECK: the ETag proves nothing
    (head(OTHER, {STAMP: SOURCE.strip('"')}), True, None, Proof.STAMP),       # another ETag, our stamp
    (head(SOURCE, {STAMP: OTHER.strip('"')}), True, None, Proof.ETAG),        # the ETag wins over the stamp
    (head(OTHER, {STAMP: OTHER.strip('"')}), True, None, Proof.DIFFERENT),    # a stamp of another source
    (head(OTHER, {STAMP: SOURCE, **FULL}), True, None, Proof.STAMP),          # a stamp is a stamp, whatever beside it
    (head(OTHER), True, None, Proof.DIFFERENT),                               # no stamp, though it would fit
    (head(OTHER, FULL), True, None, Proof.UNSTAMPED),                         # no stamp: it would not fit
    (head(OTHER, FULL), False, None, Proof.UNSTAMPED),
])
def test_proof(destination, by_etag, written, expected):
    assert proof(destination, SOURCE, by_etag=by_etag, written=written) is expected
    assert proven(destination, SOURCE, by_etag=by_etag, written=written) is (expected in (Proof.ETAG, Proof.STAMP))


def test_unstamped_same_needs_size_metadata_and_a_later_write():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    source = dict(head(SOURCE, FULL, 5), LastModified=now)
    assert unstamped_same(dict(head(OTHER, FULL, 5), LastModified=now + timedelta(seconds=1)), source)
    assert unstamped_same(dict(head(OTHER, FULL, 5), LastModified=now), source)
    assert not unstamped_same(dict(head(OTHER, FULL, 5), LastModified=now - timedelta(seconds=1)), source)
    assert not unstamped_same(dict(head(OTHER, FULL, 6), LastModified=now), source)
    assert not unstamped_same(dict(head(OTHER, {"m": "y"}, 5), LastModified=now), source)


def test_verify_problem():
    assert verify_problem(head(SOURCE, size=3), 3, SOURCE) is None
    assert verify_problem(head(OTHER, {STAMP: SOURCE}, size=3), 3, SOURCE) is None
    assert verify_problem(head(OTHER, FULL, size=3), 3, SOURCE) is None   # unstamped: its size only
    assert "answers 4" in verify_problem(head(SOURCE, size=4), 3, SOURCE)
    assert "not provably the object copied" in verify_problem(head(OTHER, size=3), 3, SOURCE)


@pytest.mark.parametrize("action, why", [
    (CopyAction(META, "k", 1, SOURCE, SOURCE, 1), "same content, metadata differs"),
    (CopyAction(COPY, "k", 1, SOURCE), "new at the source"),
    (CopyAction(CHECK, "k", 1, SOURCE, OTHER, 1), "same size, not provably the same content"),
    (CopyAction(COPY, "k", 1, SOURCE, OTHER, 2), "size differs (2 at the destination)"),
])
def test_why_copy(action, why):
    assert why_copy(action) == why
