"""Small JSON documents that several runs update (run leases, the DataSync
catch-up record): one read-modify-write is atomic, in a local directory
under a file lock, or in the work bucket with S3's conditional writes
(If-None-Match: * to create, If-Match to replace; a 412/409/404 means another
writer came first, and the update is tried again on what it wrote); and a
run's own files, which ValidateInput writes once (`read_run_file`)."""
from __future__ import annotations

import contextlib
import fcntl
import json
import random
import time
from pathlib import Path
from typing import Callable

from . import clients, s3
from .errors import NoSuchKeyError, TransientError

# An update maps the current document (None: absent) to the new one (None:
# delete it); returning the very object it was given writes nothing.
Update = Callable[[dict | None], dict | None]


def state_store(local_dir: str | None, work_bucket: str, work_prefix: str, name: str):
    """The store of one kind of state document (`name`: leases, datasync):
    `local_dir` for local runs, else `state/<name>/` in the work bucket."""
    if local_dir:
        return DirectoryStore(Path(local_dir))
    return S3Store(clients.work_client(), work_bucket, f"{work_prefix}state/{name}/")


class DirectoryStore:
    """Documents in a local directory (local runs), each updated under an
    exclusive lock of its own lock file."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def read(self, name: str) -> dict | None:
        path = self.directory / name
        return json.loads(path.read_text()) if path.exists() else None

    def update(self, name: str, update: Update) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / name
        with open(path.with_suffix(".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            doc = json.loads(path.read_text()) if path.exists() else None
            new = update(doc)
            if new is doc and doc is not None:
                return
            if new is None:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            else:
                scratch = path.with_suffix(".tmp")
                scratch.write_text(json.dumps(new))
                scratch.replace(path)


class S3Store:
    """Documents in the work bucket, updated with conditional writes."""

    ATTEMPTS = 30

    def __init__(self, client, bucket: str, prefix: str):
        self.client, self.bucket, self.prefix = client, bucket, prefix

    def read(self, name: str) -> dict | None:
        return s3.get_json(self.client, self.bucket, self.prefix + name, missing=None)

    def update(self, name: str, update: Update) -> None:
        key = self.prefix + name
        for attempt in range(self.ATTEMPTS):
            doc, etag = s3.read_document(self.client, self.bucket, key)
            new = update(doc)
            if new is doc and doc is not None:
                return
            if new is None:
                if etag is None or s3.delete_document(self.client, self.bucket, key, etag):
                    return
            elif s3.put_document(self.client, self.bucket, key, new, etag):
                return
            time.sleep(random.uniform(0, min(0.05 * 2 ** attempt, 2.0)))   # another wrote first: read again
        raise TransientError(f"the document {key} kept changing; try again")


def read_run_file(work, bucket: str, key: str):
    """A file ValidateInput wrote in the run's work area. The work bucket
    expires a run's files after WORK_BUCKET_RETENTION_DAYS: a run that lasts
    longer (a DataSync transfer of days) finds them gone, and stops here."""
    document = s3.get_json(work, bucket, key, missing=None)
    if document is None:
        raise NoSuchKeyError(
            f"the run's file s3://{bucket}/{key} is gone: the work bucket expires a run's files after "
            f"WORK_BUCKET_RETENTION_DAYS, and this run lasted longer; raise it above your longest run")
    return document
