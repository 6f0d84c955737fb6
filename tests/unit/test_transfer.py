"""Streamed copies' building blocks (bucketsync.copy.transfer): the memory budget,
the part pipeline and the integrity rules."""
import hashlib
import threading
import time

import pytest

from bucketsync.copy import transfer


def md5(data):
    return hashlib.md5(data).hexdigest()


def test_read_problem_rules():
    body = b"hello world"
    assert transfer.read_problem(f'"{md5(body)}"', None, whole_md5=md5(body)) is None
    assert "MD5" in transfer.read_problem(f'"{md5(body)}"', None, whole_md5=md5(b"hellO world"))
    # SSE-KMS ETags are no hash of the content: nothing to compare.
    assert transfer.read_problem(f'"{md5(body)}"', "aws:kms", whole_md5=md5(b"other")) is None
    parts = [b"a" * 10, b"b" * 3]
    digests = [hashlib.md5(p).digest() for p in parts]
    composite = hashlib.md5(b"".join(digests)).hexdigest()
    assert transfer.read_problem(f'"{composite}-2"', None, part_md5s=digests) is None
    assert "parts" in transfer.read_problem(f'"{composite}-2"', None, part_md5s=digests[::-1])
    # Another layout than the source's: its composite cannot be compared.
    assert transfer.read_problem(f'"{composite}-3"', None, part_md5s=digests) is None


def test_stream_parts_uploads_every_part_in_order_and_hashes_the_whole():
    data = bytes(range(256)) * 100
    ranges = [(i, min(i + 999, len(data) - 1)) for i in range(0, len(data), 1000)]
    uploaded = {}
    memory = transfer.ByteBudget(3000)

    def fetch(first, last):
        time.sleep(0.001 * (first % 3))   # finish out of order
        return data[first:last + 1]

    def upload(number, body, md5_b64):
        import base64
        assert base64.b64decode(md5_b64) == hashlib.md5(body).digest()
        uploaded[number] = body
        return f'"{md5(body)}"'

    etags, whole, part_md5s = transfer.stream_parts(ranges, fetch, upload, memory, 4, hash_whole=True)
    assert b"".join(uploaded[n] for n in sorted(uploaded)) == data
    assert whole == md5(data)
    assert etags == [f'"{md5(data[a:b + 1])}"' for a, b in ranges]
    assert part_md5s == [hashlib.md5(data[a:b + 1]).digest() for a, b in ranges]
    assert memory.peak <= 3000 and memory.held == 0


def test_budget_bounds_parts_held_across_objects_and_is_released_on_failure():
    memory = transfer.ByteBudget(2500)
    live, most = [0], [0]
    lock = threading.Lock()

    def fetch(first, last):
        with lock:
            live[0] += last - first + 1
            most[0] = max(most[0], live[0])
        time.sleep(0.002)
        return b"x" * (last - first + 1)

    def upload(number, body, md5_b64):
        time.sleep(0.002)
        with lock:
            live[0] -= len(body)
        return "e"

    ranges = [(i * 1000, i * 1000 + 999) for i in range(20)]
    workers = [threading.Thread(target=transfer.stream_parts, args=(ranges, fetch, upload, memory, 4, False))
               for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert most[0] <= 2500 and memory.peak <= 2500 and memory.held == 0

    def failing_upload(number, body, md5_b64):
        if number == 3:
            raise RuntimeError("connection reset")
        return "e"
    with pytest.raises(RuntimeError):
        transfer.stream_parts(ranges, fetch, failing_upload, memory, 4, False)
    assert memory.held == 0, "a failed copy gives its bytes back"


def test_a_part_larger_than_the_budget_runs_alone():
    memory = transfer.ByteBudget(100)
    etags, _, _ = transfer.stream_parts([(0, 499), (500, 999)], lambda a, b: b"y" * (b - a + 1),
                                        lambda n, body, m: "e", memory, 2, False)
    assert etags == ["e", "e"] and memory.held == 0
