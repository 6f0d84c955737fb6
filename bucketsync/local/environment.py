"""The process environment of a local run (the functions read their settings
from it, as on Lambda) and the places on this machine that local runs keep:
reports, run leases, the DataSync catch-up record."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import boto3

from ..errors import ReportDirectoryError

REGION = "us-east-1"   # the engine's own clients (moto) and the functions' default
_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_LAMBDA",
                       "AWS_ENDPOINT_URL_SFN", "AWS_ENDPOINT_URL_STEPFUNCTIONS")


@contextlib.contextmanager
def environment(changes: dict):
    """Set (value) or remove (None) variables for the run, then restore."""
    saved = {name: os.environ.get(name) for name in changes}
    try:
        _set(changes)
        yield
    finally:
        _set(saved)


def _set(values: dict) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def run_environment(scratch: str, endpoint_url: str | None, sides: dict,
                    credentials_configured: bool | None = None) -> dict:
    """The functions' environment for one local run (None: unset).
    `credentials_configured`: whether a session finds credentials now (the
    caller may know it already; a session costs ~15 ms)."""
    env = {name: None for name in _ENDPOINT_VARIABLES}
    for side in ("source", "destination"):
        place = sides.get(side)
        env[f"BUCKETSYNC_{side.upper()}_ENDPOINT_URL"] = place.url if place else None
        env[f"BUCKETSYNC_{side.upper()}_PROFILE"] = place.profile if place else None
    env.update({"BUCKETSYNC_S3_ENDPOINT_URL": endpoint_url, "BUCKETSYNC_WORK_BUCKET": scratch,
                "BUCKETSYNC_LEASE_DIR": str(state_dir() / "leases"),
                "BUCKETSYNC_WORK_PREFIX": "", "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or REGION})
    if credentials_configured is None:
        credentials_configured = boto3.session.Session().get_credentials() is not None
    if not credentials_configured:
        # Nothing configured: moto (scratch) needs no real keys, and an
        # S3-compatible server without auth takes any; AWS will say no clearly.
        env.update(AWS_ACCESS_KEY_ID="bucketsync-local", AWS_SECRET_ACCESS_KEY="bucketsync-local")
    return env


def report_dir_of(report_dir: Path | None = None) -> Path:
    """Where local runs keep their reports: `report_dir`, else
    $BUCKETSYNC_REPORT_DIR, else .bucketsync/reports."""
    return Path(report_dir or os.environ.get("BUCKETSYNC_REPORT_DIR") or ".bucketsync/reports")


def usable_report_dir(report_dir: Path | None = None) -> Path:
    """The report directory, created if need be and proven writable (a file
    is created in it and removed), or ReportDirectoryError in one line."""
    directory = report_dir_of(report_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".bucketsync-probe-"):
            pass
    except OSError as exc:
        raise ReportDirectoryError(f"reports cannot be written to {directory} (BUCKETSYNC_REPORT_DIR): "
                                   f"{exc.strerror or exc}; nothing was run") from None
    return directory


def state_dir() -> Path:
    """What local runs keep between runs (run leases): $BUCKETSYNC_STATE_DIR,
    else ~/.cache/bucketsync, shared by every local run of this user on this
    machine wherever it is started from."""
    configured = os.environ.get("BUCKETSYNC_STATE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "bucketsync"


def datasync_state_dir() -> Path:
    """Where local runs keep the DataSync catch-up record: under
    $BUCKETSYNC_STATE_DIR, else .bucketsync/ next to the reports."""
    configured = os.environ.get("BUCKETSYNC_STATE_DIR")
    return (Path(configured) if configured else Path(".bucketsync")) / "datasync"
