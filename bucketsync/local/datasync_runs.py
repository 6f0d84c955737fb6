"""The local DataSync as local runs use it: DATASYNC_TASKS with local task
ARNs, the functions' environment for them, and the one service per process."""
from __future__ import annotations

import contextlib
import dataclasses

from .. import clients
from . import datasync as stand_in
from ..datasync.catchup import STATE_DIR_VARIABLE
from ..datasync.tasks import TASKS_VARIABLE, to_environment
from .environment import datasync_state_dir


def local_tasks(tasks: dict | None) -> dict:
    """DATASYNC_TASKS with the local DataSync's task ARNs."""
    return {name: dataclasses.replace(spec, arn=stand_in.task_arn(name)) for name, spec in (tasks or {}).items()}


def datasync_environment(tasks: dict | None) -> dict:
    return {TASKS_VARIABLE: to_environment(local_tasks(tasks)),
            STATE_DIR_VARIABLE: str(datasync_state_dir().resolve()),
            # The local DataSync's describe waits briefly for a change itself.
            "BUCKETSYNC_DATASYNC_POLL_SECONDS": "0"}


_datasync_service: stand_in.LocalDataSync | None = None


def datasync_service() -> stand_in.LocalDataSync | None:
    """The process's local DataSync (None before the first run that uses it)."""
    return _datasync_service


@contextlib.contextmanager
def local_datasync(tasks: dict | None):
    """The local DataSync answers the functions' DataSync calls; one per
    process, so that an execution running for one run is seen by the next."""
    global _datasync_service
    if _datasync_service is None:
        _datasync_service = stand_in.LocalDataSync({})
    _datasync_service.add_tasks(local_tasks(tasks))
    clients.use_datasync(_datasync_service)
    try:
        yield _datasync_service
    finally:
        clients.use_datasync(None)
