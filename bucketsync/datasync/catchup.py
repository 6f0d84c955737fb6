"""The catch-up record of a DataSync task: which dates its executions have
transferred, so that a run asks only for the days still missed. It lives
in the work bucket on AWS, in a local directory for local runs."""
from __future__ import annotations

import hashlib
import json
from datetime import date

from .. import settings as settings_mod
from ..stores import state_store
from .request import DataSyncRequest

KEEP_DAYS = 400          # the record forgets dates older than this (catch_up_days is at most 366)
STATE_DIR_VARIABLE = "BUCKETSYNC_DATASYNC_STATE_DIR"


def record_store():
    """Where the transferred dates live: the work bucket on AWS, a local
    directory for local runs (BUCKETSYNC_DATASYNC_STATE_DIR, set by the engine)."""
    cfg = settings_mod.load()
    return state_store(cfg.datasync_state_dir, cfg.work_bucket, cfg.work_prefix, "datasync")


def record_name(request: DataSyncRequest) -> str:
    """One record per task and set of templates (other templates are other folders)."""
    digest = hashlib.sha256(json.dumps([request.task, sorted(request.include)]).encode()).hexdigest()[:16]
    name = request.task.rsplit("/", 1)[-1]
    return f"{name}-{digest}.json"


def done_dates(store, request: DataSyncRequest) -> set[date]:
    document = store.read(record_name(request)) or {}
    return {date.fromisoformat(d) for d in document.get("done", ())}


def record_done(store, request: DataSyncRequest, dates: list[date], today: date) -> None:
    """Add `dates` to the record (oldest forgotten past KEEP_DAYS)."""
    def update(document):
        done = set((document or {}).get("done", ())) | {d.isoformat() for d in dates}
        cutoff = date.fromordinal(today.toordinal() - KEEP_DAYS).isoformat()
        return {"task": request.task, "templates": sorted(request.include),
                "done": sorted(d for d in done if d >= cutoff)}
    store.update(record_name(request), update)
