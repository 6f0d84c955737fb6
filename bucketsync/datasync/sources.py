"""Listing a task's source folders, to expand templates (see expand.py):
an S3 location through ListObjectsV2, a local directory (the stand-in for
EFS in local runs) through the file system. An EFS file system cannot be
listed from here; its templates are passed as rendered."""
from __future__ import annotations

import os
from pathlib import Path

from .. import clients, s3
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
        self.root = Path(location.path)

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


def walk_files(root: str | Path):
    """("/relative/path", file) for every file under a local directory."""
    base = Path(root)
    for directory, _, files in os.walk(base):
        for name in files:
            path = Path(directory) / name
            yield "/" + path.relative_to(base).as_posix(), path


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
