"""The state machine's definition parsed once, not on every local run.

moto's interpreter turns a definition into a program with an ANTLR grammar
when the state machine is created, and again when each execution starts: the
first parse in a process costs ~0.3-0.8 s (ANTLR builds its decision tables
then). The program is plain Python objects, so it is kept pickled, keyed by
the sha256 of the definition's text and of what the pickle depends on (moto's
and Python's versions, this format): in memory for the runs of one process,
and on disk for the next process. Every use unpickles a fresh copy, so no
execution sees another's objects, exactly as with a parse of its own.

A changed definition has another key and is parsed again; an unreadable,
foreign or corrupt file is ignored (and replaced); a cache that cannot be
written costs only the parse. Nothing here imports moto: the engine passes the
parse function in (bucketsync.local.emulator.parsed_once).
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import tempfile
import threading
from pathlib import Path
from typing import Callable

FORMAT = 1      # bump when what is pickled changes shape
KEEP = 8        # files kept on disk (one per definition text: concurrency, scratch name)
_memory: dict[str, bytes] = {}
_lock = threading.Lock()


def key_of(text: str, versions: str) -> str:
    """The cache key of a definition text parsed by these library versions."""
    digest = hashlib.sha256()
    for part in (f"bucketsync-definition-{FORMAT}", versions, f"python-{sys.version_info[0]}.{sys.version_info[1]}",
                 text):
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()


class ParsedDefinitions:
    """Programs by definition text; `directory` None: this process only."""

    def __init__(self, directory: Path | None, versions: str):
        self.directory = directory
        self.versions = versions
        self.parsed = 0   # parses actually made (what the tests count)

    def program(self, text: str, parse: Callable[[str], object]):
        """A fresh program for `text`: unpickled from the cache, else parsed
        (`parse` raises for a bad definition, and nothing is kept)."""
        key = key_of(text, self.versions)
        blob = _memory.get(key) or self._read(key)
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
        self._write(key, blob)
        return program

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.pickle"

    def _read(self, key: str) -> bytes | None:
        """The file's bytes, only if this user owns it and no one else may
        write it: unpickling runs code, so only files we wrote are loaded."""
        if self.directory is None:
            return None
        try:
            with open(self._path(key), "rb") as file:
                status = os.fstat(file.fileno())
                if status.st_uid != os.getuid() or status.st_mode & 0o022:
                    return None
                return file.read()
        except OSError:
            return None

    def _write(self, key: str, blob: bytes) -> None:
        if self.directory is None:
            return
        temporary = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Whole or not at all: a concurrent run reads either no file or this one.
            with tempfile.NamedTemporaryFile(dir=self.directory, prefix=".parsing-", delete=False) as file:
                temporary = Path(file.name)
                file.write(blob)
            os.replace(temporary, self._path(key))
            temporary = None
            _prune(self.directory)
        except OSError:
            pass
        finally:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    temporary.unlink()


def _remember(key: str, blob: bytes) -> None:
    with _lock:
        _memory[key] = blob
        while len(_memory) > KEEP:
            _memory.pop(next(iter(_memory)))


def _prune(directory: Path) -> None:
    """Keep the KEEP most recently written programs."""
    files = sorted(directory.glob("*.pickle"), key=lambda path: path.stat().st_mtime, reverse=True)
    for stale in files[KEEP:]:
        with contextlib.suppress(OSError):
            stale.unlink()
