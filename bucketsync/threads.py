"""Worker threads that run in their creator's context.

Python's thread pools start each worker with an empty `contextvars`
context. Work done for one Lambda invocation on a pool's threads should see
what the invocation set (the local engine marks which function is running,
so that every AWS call can be checked against that function's role)."""
from __future__ import annotations

import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor


def pool(workers: int) -> ThreadPoolExecutor:
    """A thread pool whose workers start in a copy of the caller's context."""
    return ThreadPoolExecutor(workers, initializer=_enter, initargs=(contextvars.copy_context(),))


def thread(target, *args, daemon: bool = True) -> threading.Thread:
    """A thread (not started) that runs `target(*args)` in a copy of the caller's context."""
    return threading.Thread(target=contextvars.copy_context().run, args=(target, *args), daemon=daemon)


def _enter(context: contextvars.Context) -> None:
    for variable, value in context.items():
        variable.set(value)
