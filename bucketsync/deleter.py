"""Delete one chunk of destination keys with DeleteObjects (up to 1000 a request)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from . import clients, progress, s3
from .errors import BucketsyncError
from .work import Run

BATCH = 1000


@dataclass
class DeleteResult:
    deleted: int = 0
    failed: int = 0
    failures: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def delete_chunk(run: Run, keys: list[str]) -> DeleteResult:
    request = run.request
    client = clients.data_client(run.destination_region)
    result = DeleteResult()
    for start in range(0, len(keys), BATCH):
        batch = [request.destination_prefix + key for key in keys[start:start + BATCH]]
        try:
            refused = s3.delete_objects(client, request.destination, batch)
        except BucketsyncError as exc:
            refused = [(key, f"{type(exc).__name__}: {exc}") for key in batch]
        cut = len(request.destination_prefix)
        for key, error in refused:
            result.failures.append({"key": key[cut:], "error": error})
        result.failed += len(refused)
        result.deleted += len(batch) - len(refused)
        progress.emit("deleted", len(batch) - len(refused))
    return result
