"""Read an iterator ahead in a background thread, so the two listings of a
plan are fetched concurrently while the merge consumes them."""
from __future__ import annotations

import queue
import threading
from typing import Iterator, TypeVar

from . import threads

T = TypeVar("T")
_DONE = object()


class Prefetch:
    """Iterate over `source` with up to `depth` items fetched ahead.

    Exceptions raised by `source` are re-raised in the consumer. Call
    `close()` (or use `with`) when stopping early, so the thread ends."""

    def __init__(self, source: Iterator[T], depth: int = 2):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threads.thread(self._run, source)
        self._thread.start()

    def _run(self, source):
        try:
            for item in source:
                if not self._put((True, item)):
                    return
            self._put((True, _DONE))
        except BaseException as exc:  # handed to the consumer
            self._put((False, exc))

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self):
        return self

    def __next__(self) -> T:
        ok, item = self._queue.get()
        if not ok:
            self._queue.put((False, item))   # stay failed
            raise item
        if item is _DONE:
            self._queue.put((True, _DONE))
            raise StopIteration
        return item

    def close(self):
        self._stop.set()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
