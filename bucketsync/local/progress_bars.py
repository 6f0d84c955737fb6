"""The progress bars of `fab sync` on a terminal, fed by the run's progress
events (bucketsync.progress)."""
from __future__ import annotations

import contextlib

from ..project.terminal import human_bytes


@contextlib.contextmanager
def progress_bars(console, enabled: bool):
    """Bars for objects listed, copies done (objects and bytes) and deletes
    on `console` (rich's, imported only then)."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    bars = Progress(TextColumn("{task.description:<8}"), BarColumn(), TextColumn("{task.fields[detail]}"),
                    TimeElapsedColumn(), console=console)
    listed = bars.add_task("listed", total=None, detail="")
    copied = bars.add_task("copy", total=None, detail="", visible=False)
    deleted = bars.add_task("deleted", total=None, detail="", visible=False)
    state = {"listed": 0, "done": 0, "copied": 0, "checked": 0, "other": 0, "bytes": 0, "planned": 0,
             "planned_bytes": 0, "deleted": 0}

    def listener(event: str, count: int, nbytes: int) -> None:
        if event == "listed":
            state["listed"] += count
            bars.update(listed, detail=f"{state['listed']:,} objects (both sides)")
        elif event == "planned":
            state["planned"], state["planned_bytes"] = count, nbytes
            bars.update(listed, total=1, completed=1)
            bars.update(copied, total=max(count, 1), visible=True,
                        detail=f"0/{count:,} objects, 0 B/{human_bytes(nbytes)}")
        elif event in ("copied", "checked", "skipped", "failed"):
            # Every planned copy ends as one of these; a check (proven the
            # same by one HEAD) is counted apart from a copy.
            state["done"] += count
            state["copied" if event == "copied" else "checked" if event == "checked" else "other"] += count
            state["bytes"] += nbytes
            bars.update(copied, completed=state["done"],
                        detail=f"{state['done']:,}/{state['planned']:,} planned: {state['copied']:,} copied, "
                               f"{state['checked']:,} checked same, {state['other']:,} skipped/failed; "
                               f"{human_bytes(state['bytes'])}/{human_bytes(state['planned_bytes'])}")
        elif event == "deleted":
            state["deleted"] += count
            bars.update(deleted, visible=True, detail=f"{state['deleted']:,} objects")

    with bars:
        yield listener
