"""Sort a listing that a server did not give in UTF-8 byte order, with
bounded memory: sorted runs of `run_entries` entries are spilled to files in
a temporary directory (local disk; /tmp in Lambda), then merged (an external
merge sort). Python orders str by code point, which is UTF-8 byte order."""
from __future__ import annotations

import heapq
import json
import os
import tempfile
from operator import itemgetter
from typing import Iterable, Iterator

from .diff import Entry

RUN_ENTRIES = 100_000   # about 20-30 MB of entries in memory at once


def external_sort(entries: Iterable[Entry], run_entries: int = RUN_ENTRIES,
                  directory: str | None = None) -> Iterator[Entry]:
    """`entries` in increasing key order. At most `run_entries` entries are
    held at once (plus one read buffer per spilled run); a listing that fits
    in one run never touches the disk. The files are removed when the
    iterator is exhausted or closed."""
    batch: list[Entry] = []
    with tempfile.TemporaryDirectory(prefix="bucketsync-sort-", dir=directory) as tmp:
        runs: list[str] = []
        for entry in entries:
            batch.append(entry)
            if len(batch) >= run_entries:
                runs.append(_spill(batch, tmp, len(runs)))
                batch = []
        batch.sort(key=itemgetter(0))
        if not runs:
            yield from batch
            return
        readers = [_read(path) for path in runs]
        if batch:
            readers.append(iter(batch))
        batch = []
        yield from heapq.merge(*readers, key=itemgetter(0))


def _spill(batch: list[Entry], directory: str, number: int) -> str:
    batch.sort(key=itemgetter(0))
    path = os.path.join(directory, f"run-{number:05d}.jsonl")
    with open(path, "w", encoding="utf-8") as out:
        for entry in batch:
            out.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
    return path


def _read(path: str) -> Iterator[Entry]:
    # Small buffers: a 50-million-key listing merges 500 runs at once.
    with open(path, encoding="utf-8", buffering=1 << 16) as lines:
        for line in lines:
            yield Entry(*json.loads(line))
