"""What a result in RESULTS.md is recorded with: the command, the commit it ran
on, the time of day, the load average, the versions; and the medians."""
from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, version

from bench.server import ROOT


def commit() -> str:
    """The short commit of the checkout, with "+changes" when the work tree differs from it."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{head}+changes" if dirty else head


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def now() -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def versions(*names: str) -> str:
    found = []
    for name in names:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return f"Python {platform.python_version()}, " + ", ".join(found)


def command_line() -> str:
    """The command as typed from the repository root."""
    script = os.path.relpath(sys.argv[0], ROOT) if sys.argv[0].endswith(".py") else sys.argv[0]
    return " ".join([".venv/bin/python", script, *sys.argv[1:]])


def header(title: str, packages: tuple[str, ...]) -> str:
    return (f"## {title} ({now()}, commit {commit()})\n\n"
            f"Command: `{command_line()}`, from the repository root. Load average at the start: {load()} "
            f"({os.cpu_count()} cores). {versions(*packages)}.")


def median(values) -> float:
    return statistics.median(values)
