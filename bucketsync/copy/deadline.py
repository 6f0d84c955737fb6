"""Whether one more object copy may start: not once the run is interrupted,
nor when the Lambda's time is nearly up."""
from __future__ import annotations

import time

from .. import interrupt
from ..diff import CopyAction
from .context import Ledger

# No object copy starts later than this before the Lambda's time is up: the
# copies under way finish and the chunk's result is written, rather than the
# Lambda being killed mid-chunk (a timeout would lose the whole chunk's result).
TIME_RESERVE_SECONDS = 120
INTERRUPTED = "not copied: the run was interrupted; rerun to finish"


def start_deadline(remaining_ms: int | None) -> float | None:
    """The monotonic time after which no new copy starts, from the Lambda
    context's remaining time (None: no limit)."""
    if remaining_ms is None:
        return None
    remaining = remaining_ms / 1000
    return time.monotonic() + max(remaining - TIME_RESERVE_SECONDS, remaining / 2)


def may_start(ledger: Ledger, action: CopyAction, deadline: float | None) -> bool:
    """False (and the action reported) once the run is interrupted or the
    Lambda's time is nearly up."""
    if interrupt.requested():
        ledger.skip(action, INTERRUPTED)
        return False
    if deadline is not None and time.monotonic() > deadline:
        ledger.fail(action, "not started: the copy chunk's Lambda was running out of time (chunks are "
                            "sized by BUCKETSYNC_CHUNK_ACTIONS and BUCKETSYNC_CHUNK_BYTES); the next run copies it")
        return False
    return True
