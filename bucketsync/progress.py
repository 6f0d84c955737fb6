"""Progress events for a local run's progress bars.

Handlers call `emit`; on AWS nobody listens and it costs a lookup. The local
engine registers a listener for the duration of a run."""
from __future__ import annotations

from typing import Callable

_listener: Callable[[str, int, int], None] | None = None


def listen(listener: Callable[[str, int, int], None] | None) -> None:
    global _listener
    _listener = listener


def emit(event: str, count: int, nbytes: int = 0) -> None:
    listener = _listener
    if listener is not None:
        listener(event, count, nbytes)
