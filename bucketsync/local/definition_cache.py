"""The state machine's definition parsed once, not on every local run.

moto's interpreter turns a definition into a program with an ANTLR grammar
when the state machine is created, and again when each execution starts: the
first parse in a process costs ~0.3-0.8 s (ANTLR builds its decision tables
then). The program is plain Python objects, so it is kept pickled, keyed by
the sha256 of the definition's text and of what the pickle depends on (moto's
and Python's versions, this format): in memory for the runs of one process,
and on disk for the next process (bucketsync.local.pickle_files). Every use unpickles a fresh copy, so no
execution sees another's objects, exactly as with a parse of its own.

A changed definition has another key and is parsed again; an unreadable,
foreign or corrupt file is ignored (and replaced); a cache that cannot be
written costs only the parse. Nothing here imports moto: the engine passes the
parse function in (bucketsync.local.emulator.parsed_once).
"""
from __future__ import annotations

import pickle
import threading
from pathlib import Path
from typing import Callable

from .pickle_files import PickleFiles

FORMAT = 1      # bump when what is pickled changes shape
KEEP = 8        # programs kept on disk and in memory (one per definition text: concurrency, scratch name)
_memory: dict[str, bytes] = {}
_lock = threading.Lock()


def key_of(text: str, versions: str) -> str:
    """The cache key of a definition text parsed by these library versions."""
    return _files(None, versions).key_of(text)


def _files(directory: Path | None, versions: str) -> PickleFiles:
    return PickleFiles(directory, f"bucketsync-definition-{FORMAT}\0{versions}", KEEP)


class ParsedDefinitions:
    """Programs by definition text; `directory` None: this process only."""

    def __init__(self, directory: Path | None, versions: str):
        self.files = _files(directory, versions)
        self.parsed = 0   # parses actually made (what the tests count)

    def program(self, text: str, parse: Callable[[str], object]):
        """A fresh program for `text`: unpickled from the cache, else parsed
        (`parse` raises for a bad definition, and nothing is kept)."""
        key = self.files.key_of(text)
        blob = _memory.get(key) or self.files.read(key)
        if blob is not None:
            try:
                program = pickle.loads(blob)
                _remember(key, blob)
                return program
            except Exception:   # a foreign or truncated pickle: parse again, overwrite it
                _memory.pop(key, None)
        program = parse(text)
        self.parsed += 1
        try:
            blob = pickle.dumps(program, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:   # a program another moto made unpicklable: parsed every time, as before
            return program
        _remember(key, blob)
        self.files.write(key, blob)
        return program


def _remember(key: str, blob: bytes) -> None:
    with _lock:
        _memory[key] = blob
        while len(_memory) > KEEP:
            _memory.pop(next(iter(_memory)))
