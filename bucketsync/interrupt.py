"""A run asked to stop (SIGINT/SIGTERM in a local run).

The local engine's signal handler calls `request`; the steps look at it
between objects, parts, listing pages and delete batches, so an interrupted
run stops taking new work within one request's time, aborts the multipart
uploads it has open, runs no deletes and still writes its report. On AWS
nothing sets it (an execution is stopped by Step Functions instead)."""
from __future__ import annotations

import signal
import threading

from .errors import RunInterrupted

_requested = threading.Event()
_signal: list[int] = []


def request(signum: int = signal.SIGINT) -> None:
    _signal[:] = [signum]
    _requested.set()


def requested() -> bool:
    return _requested.is_set()


def signal_number() -> int | None:
    return _signal[0] if _signal and _requested.is_set() else None


def clear() -> None:
    _requested.clear()
    _signal.clear()


def check(what: str = "the run", deletes_ran: bool = False) -> None:
    """Raise RunInterrupted when a stop was asked for (`deletes_ran`: during
    the delete phase, whose deletes made so far stay made)."""
    if _requested.is_set():
        name = signal.Signals(_signal[0]).name if _signal else "a signal"
        left = ("the deletes not yet made were left" if deletes_ran else "no deletes were run")
        raise RunInterrupted(f"{what} was interrupted ({name}); {left}; rerun to finish")
