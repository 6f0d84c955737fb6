"""Listing a task's source folders, to expand templates (see expand.py):
an S3 location through ListObjectsV2, a local directory (the stand-in for
EFS in local runs) through the file system. An EFS file system cannot be
listed from here; its templates are passed as rendered."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

from .. import clients, s3
from . import filters
from ..errors import InvalidInputError, SourceUnreadableError
from .tasks import Location


class S3Folders:
    def __init__(self, location: Location, client=None):
        self.location = location
        self.client = client or clients.data_client()

    def children(self, path: str):
        return s3.list_folders(self.client, self.location.bucket, self.location.key(path))

    def exists(self, path: str) -> bool:
        return s3.any_key(self.client, self.location.bucket, self.location.key(path))


class DirectoryFolders:
    def __init__(self, location: Location):
        self.root = readable_root(location.path)

    def children(self, path: str):
        directory = self.root / path.strip("/")
        if not directory.is_dir():
            return []
        return [entry.name for entry in os.scandir(directory) if entry.is_dir()]

    def exists(self, path: str) -> bool:
        """Anything whose path starts with `path` (as DataSync's patterns read)."""
        if path.endswith("/"):
            directory = self.root / path.strip("/")
            return directory.is_dir() and any(os.scandir(directory))
        parent, _, start = path.rpartition("/")
        directory = self.root / parent.strip("/")
        return directory.is_dir() and any(entry.name.startswith(start) for entry in os.scandir(directory))


def readable_root(root: str | Path) -> Path:
    """The directory, or SourceUnreadableError naming it: a missing
    directory (a typo, a share not mounted) is no source, never an empty one."""
    base = Path(root)
    if not base.is_dir():
        what = "is not a directory" if base.exists() else "does not exist"
        raise SourceUnreadableError(f"the DataSync source directory {base} {what} (not mounted, or a typo?); "
                                    f"it is not read as empty")
    return base


def walk_files(root: str | Path):
    """("/relative/path", file) for every name under a local directory that
    is not a directory (a dangling symbolic link included: the reader finds
    it unreadable and says so). A directory that cannot be read raises
    SourceUnreadableError: os.walk would skip it silently, and its files
    would look deleted at the source."""
    base = readable_root(root)

    def unreadable(error: OSError):
        raise SourceUnreadableError(f"cannot read {error.filename} in the DataSync source directory {base}: "
                                    f"{error.strerror or error}") from error
    for directory, _, files in os.walk(base, onerror=unreadable):
        for name in files:
            path = Path(directory) / name
            yield "/" + path.relative_to(base).as_posix(), path


def file_size(file: Path) -> int | None:
    """The size of a file, or None when it cannot be read (a dangling
    symbolic link, a file gone or forbidden since it was listed)."""
    try:
        return file.stat().st_size
    except OSError:
        return None


def listable(location: Location) -> bool:
    """Whether its folders can be listed from here (not EFS)."""
    return location.kind in ("s3", "file")


def folders_for(location: Location):
    """The lister of `location`, or None when it cannot be listed (EFS)."""
    if not listable(location):
        return None
    if location.kind == "s3":
        return S3Folders(location)
    return DirectoryFolders(location)


def selected_keys(location: Location, includes: str, excludes: str) -> Iterator[tuple[str, int]]:
    """(key or path, size) of what the filters select at `location`, listing
    only below each include pattern's fixed part."""
    include_rx, exclude_rx = filters.compile_filter(includes), filters.compile_filter(excludes)
    roots = sorted({p.rstrip("*") for p in includes.split("|")}) if includes else ["/"]
    if location.kind != "s3":
        roots = ["/"]   # one walk sees every path
    # A root under another one would list its keys twice: keep the outer one.
    roots = [r for r in roots if not any(r != other and r.startswith(other) for other in roots)]
    for root in roots:
        for path, size in _listing(location, root):
            if filters.selects(path, include_rx, exclude_rx):
                yield (location.key(path) if location.kind == "s3" else location.path + path), size


def _listing(location: Location, root: str) -> Iterator[tuple[str, int]]:
    if location.kind == "s3":
        # An S3 prefix is a string prefix: the pattern's fixed part lists
        # exactly the keys it can select (and a few the filter then drops).
        prefix = location.key(root)
        for page in s3.list_pages(clients.data_client(), location.bucket, prefix):
            for entry in page:
                yield "/" + (prefix + entry.key)[len(location.prefix):], entry.size
    elif location.kind == "file":
        for path, file in walk_files(location.path):
            size = file_size(file)
            if size is not None:   # a dangling link is nothing to transfer (the execution reports it)
                yield path, size
    else:
        raise InvalidInputError(f"{location.uri} cannot be listed from here (EFS): only the filter is shown")
