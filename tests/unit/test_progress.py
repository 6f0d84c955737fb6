"""The progress bars of `fab sync`: checks are counted apart from copies."""
import io

from rich.console import Console

from bucketsync.local import progress_bars


def test_checks_skips_and_failures_are_counted_apart_from_copies():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=200)
    with progress_bars.progress_bars(console, True) as listener:
        listener("listed", 10, 0)
        listener("planned", 5, 5000)
        listener("copied", 1, 1000)
        listener("copied", 1, 2000)
        listener("checked", 1, 0)
        listener("skipped", 1, 1000)
        listener("deleted", 3, 0)
    text = out.getvalue()
    assert "4/5 planned: 2 copied, 1 checked same, 1 skipped/failed" in text
    assert "3.9 KiB/4.9 KiB" in text   # bytes done, skipped ones included, of the bytes planned
    assert "3 objects" in text


def test_no_bars_without_a_terminal():
    with progress_bars.progress_bars(Console(file=io.StringIO()), False) as listener:
        assert listener is None
