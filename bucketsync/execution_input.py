"""The whole execution input: an object-level sync (`source`, `destination`
and their options, see sync_request.py), a DataSync transfer (`datasync`, see
datasync/request.py), or both. Pure; the same check runs in the state
machine's first state, in `fab sync` and on schedule inputs at deploy."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .datasync.request import DataSyncRequest, validate_datasync
from .endpoints import Endpoint
from .errors import InvalidInputError
from .sync_request import ALLOWED_KEYS, SyncRequest, validate, _bool


@dataclass(frozen=True)
class ExecutionInput:
    sync: SyncRequest | None
    datasync: DataSyncRequest | None
    dry_run: bool = False


def validate_input(data, known: Mapping[str, Endpoint] | None = None) -> ExecutionInput:
    """The checked input, or InvalidInputError naming the first problem.
    `known`: each side's place when the input gives none (request.validate)."""
    if not isinstance(data, dict) or "datasync" not in data:
        sync = validate(data, known)
        return ExecutionInput(sync, None, sync.dry_run)
    rest = {k: v for k, v in data.items() if k != "datasync"}
    datasync = validate_datasync(data["datasync"])
    if "source" in rest or "destination" in rest:
        sync = validate(rest, known)
        return ExecutionInput(sync, datasync, sync.dry_run)
    unknown = sorted(set(rest) - set(ALLOWED_KEYS))
    if unknown:
        raise InvalidInputError(f"unknown input key(s): {', '.join(map(repr, unknown))}; allowed: "
                                f"datasync, {', '.join(ALLOWED_KEYS)}")
    sync_only = sorted(set(rest) - {"dry_run"})
    if sync_only:
        raise InvalidInputError(f"{', '.join(map(repr, sync_only))} apply to the object-level sync: give 'source' "
                                f"and 'destination' too, or leave them out for a DataSync-only run")
    return ExecutionInput(None, datasync, _bool(rest, "dry_run", False))
