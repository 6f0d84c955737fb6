"""Small JSON documents that several runs update (run leases, the DataSync
catch-up record): one read-modify-write is atomic, in a local directory
under a file lock, or in the work bucket with S3's conditional writes
(If-None-Match: * to create, If-Match to replace; a 412/409/404 means another
writer came first, and the update is tried again on what it wrote)."""
from __future__ import annotations

import contextlib
import fcntl
import json
import random
import time
from pathlib import Path
from typing import Callable

from botocore.exceptions import ClientError

from . import clients, s3
from .errors import TransientError

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
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=key)
                doc, etag = json.loads(response["Body"].read()), response["ETag"]
            except ClientError as exc:
                if s3.error_code(exc) not in ("NoSuchKey", "404"):
                    raise s3.translate(exc, f"GetObject {self.bucket}/{key}") from exc
                doc, etag = None, None
            new = update(doc)
            if new is doc and doc is not None:
                return
            try:
                if new is None:
                    if etag is not None:
                        self.client.delete_object(Bucket=self.bucket, Key=key, IfMatch=etag)
                    return
                condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
                self.client.put_object(Bucket=self.bucket, Key=key, Body=json.dumps(new).encode(),
                                       ContentType="application/json", **condition)
                return
            except ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if status not in (404, 409, 412):
                    raise s3.translate(exc, f"PutObject {self.bucket}/{key}") from exc
            time.sleep(random.uniform(0, min(0.05 * 2 ** attempt, 2.0)))   # another wrote first: read again
        raise TransientError(f"the document {key} kept changing; try again")
