"""A directory of pickles that local runs keep between processes (the
parsed definition, botocore's decoded data files), keyed by the sha256 of
what they were made from and of what the pickle depends on.

Unpickling runs code, so a file is read only if this user owns it and no one
else may write it. Writes are whole or not at all (a concurrent process reads
either no file or this one); only the `keep` most recent files stay. Any
failure to read or write is a miss: the caller makes the object again.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
from pathlib import Path

PYTHON = f"python-{sys.version_info[0]}.{sys.version_info[1]}"


class PickleFiles:
    """Pickled bytes by key in `directory` (None: nothing is kept)."""

    def __init__(self, directory: Path | None, versions: str, keep: int):
        self.directory = directory
        self.versions = versions   # what the pickles depend on ("moto-5.2.5"): part of every key
        self.keep = keep

    def key_of(self, text: str) -> str:
        digest = hashlib.sha256()
        for part in (self.versions, PYTHON, text):
            digest.update(part.encode("utf-8") + b"\0")
        return digest.hexdigest()

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.pickle"

    def read(self, key: str) -> bytes | None:
        """The file's bytes, if this user wrote it (see the module's docstring)."""
        if self.directory is None:
            return None
        try:
            with open(self.path(key), "rb") as file:
                status = os.fstat(file.fileno())
                if status.st_uid != os.getuid() or status.st_mode & 0o022:
                    return None
                return file.read()
        except OSError:
            return None

    def write(self, key: str, blob: bytes) -> None:
        if self.directory is None:
            return
        temporary = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.directory, prefix=".writing-", delete=False) as file:
                temporary = Path(file.name)
                file.write(blob)
            os.replace(temporary, self.path(key))
            temporary = None
            self._prune()
        except OSError:
            pass
        finally:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    temporary.unlink()

    def _prune(self) -> None:
        """Keep the `keep` most recently written files."""
        files = sorted(self.directory.glob("*.pickle"), key=lambda path: path.stat().st_mtime, reverse=True)
        for stale in files[self.keep:]:
            with contextlib.suppress(OSError):
                stale.unlink()
