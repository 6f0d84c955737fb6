"""What keeps the state machine's payloads within Step Functions' limits:
a state of at most 256 KiB (past it, States.DataLimitExceeded, which no
Catch takes: no report, no lease release) and a Fail state's cause of at
most 32,768 characters. Whatever can grow with the input (DataSync's
filters, what DataSync owns, failed keys) lives in the work area, and the
state carries its count or its beginning."""
from __future__ import annotations

import functools
import json

from .errors import BucketsyncError, InvalidInputError

SUMMARY_TEXT_CHARS = 2_000    # one DataSync filter, or an error's cause, in a summary
# An error a step raises becomes the Catch's `$.error.Cause` beside the state
# (and a Fail state's cause, at most 32,768 characters): its message may
# quote the input (an unknown key, a filter), so it is clipped.
ERROR_CHARS = 8_000

# The largest state ValidateInput lets a run start with: room is left for
# what later states add (totals, Map outputs' locations, the summary).
STATE_BYTES = 160 * 1024


def clip(text: str, limit: int = SUMMARY_TEXT_CHARS) -> str:
    """`text`, or its beginning and how long it is."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters)"


def check_state_size(state: dict) -> None:
    """InvalidInputError, before anything is written, for a run whose state
    would not fit: what still grows with the input is the input itself (an
    execution input of up to 256 KiB travels in `run` and `datasync`)."""
    size = len(json.dumps(state, separators=(",", ":")).encode())
    if size > STATE_BYTES:
        raise InvalidInputError(
            f"the run's state would take {size:,} bytes, more than {STATE_BYTES:,} of Step Functions' 256 KiB: "
            f"the execution input is too large (shorten its include/exclude lists or templates)")


def bounded_errors(step):
    """A step whose errors carry at most ERROR_CHARS of message, the same
    exception (its class name is what the state machine's ErrorEquals match)."""
    @functools.wraps(step)
    def bounded(*args, **kwargs):
        try:
            return step(*args, **kwargs)
        except BucketsyncError as exc:
            text = str(exc)
            if len(text) > ERROR_CHARS:
                exc.args = (clip(text, ERROR_CHARS),)
            raise
    return bounded
