"""boto3 clients, one per (purpose, region), shared by threads.

Two purposes: `data` reaches the user's buckets (AWS, or the S3-compatible
endpoint in settings); `work` reaches the scratch area (the stack's work
bucket on AWS; an in-memory bucket in local runs) and never takes the data
endpoint, so scratch files never land on the user's server.
"""
from __future__ import annotations

import threading

import boto3
import botocore.session
from botocore.config import Config

from . import settings as settings_mod

_lock = threading.Lock()
_session: boto3.session.Session | None = None
_clients: dict = {}
_hooks: list = []   # (event name, handler): registered on every session made
_customizers: list = []   # called with (purpose, client) for every client made


def session() -> boto3.session.Session:
    """The one session all clients come from."""
    global _session
    with _lock:
        if _session is None:
            core = botocore.session.get_session()
            # Nothing here reads a timestamp from a response, and botocore's
            # dateutil parsing costs several percent of a copy's CPU.
            core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=str)
            _session = boto3.session.Session(botocore_session=core)
            for event, handler in _hooks:
                _session.events.register(event, handler)
        return _session


def add_hook(event: str, handler) -> None:
    """Register a botocore event handler on this and every later session, so
    it survives `reset()` (tests inject faults and count requests this way)."""
    with _lock:
        _hooks.append((event, handler))
        if _session is not None:
            _session.events.register(event, handler)


def add_customizer(customize) -> None:
    """Call `customize(purpose, client)` on every client made from now on
    (the local engine uses it to keep its emulator out of real endpoints' requests)."""
    with _lock:
        _customizers.append(customize)


def remove_customizer(customize) -> None:
    with _lock:
        _customizers.remove(customize)


def remove_hook(event: str, handler) -> None:
    with _lock:
        _hooks.remove((event, handler))
        if _session is not None:
            _session.events.unregister(event, handler)


def reset() -> None:
    """Forget clients and session (the local engine calls this when it
    switches between the emulator and real endpoints)."""
    global _session
    with _lock:
        _clients.clear()
        _session = None


def _config(pool: int, probe: bool = False) -> Config:
    # Standard retry mode retries throttling (503 SlowDown), 5xx and broken
    # connections with exponential backoff. Its retry quota is shared by all
    # of a client's threads and runs dry within seconds of an outage, so
    # outages longer than a burst are ridden out by `s3.retrying` instead.
    # A probe (the first contact with an endpoint) uses short timeouts and
    # few attempts, so a wrong or dead endpoint fails in seconds.
    return Config(
        retries={"mode": "standard", "total_max_attempts": 2 if probe else 10},
        max_pool_connections=pool,
        connect_timeout=3 if probe else 5,
        read_timeout=5 if probe else 120,
        s3={"addressing_style": "path"} if settings_mod.load().endpoint_url else {},
    )


def data_client(region: str | None = None):
    cfg = settings_mod.load()
    return _client("data", region, cfg.endpoint_url, max(10, min(cfg.copy_threads * 2, 128)))


def probe_client(region: str | None = None):
    """A data client for the first contact with an endpoint: fails fast."""
    return _client("data", region, settings_mod.load().endpoint_url, 4, probe=True)


def work_client():
    return _client("work", None, None, 32)


def _client(purpose: str, region: str | None, endpoint: str | None, pool: int, probe: bool = False):
    sess = session()
    key = (purpose, region, endpoint, pool, probe)
    with _lock:
        client = _clients.get(key)
        if client is None:
            kwargs = {"config": _config(pool, probe)}
            if region:
                kwargs["region_name"] = region
            elif not sess.region_name:
                kwargs["region_name"] = "us-east-1"
            if endpoint:
                kwargs["endpoint_url"] = endpoint
            client = _clients[key] = sess.client("s3", **kwargs)
            for customize in _customizers:
                customize(purpose, client)
        return client


_datasync = None   # a stand-in DataSync (the local engine's), else None for AWS's


def use_datasync(service) -> None:
    """Route `datasync_client()` to `service` (None: back to AWS)."""
    global _datasync
    _datasync = service


def datasync_client():
    """DataSync's API: AWS's (the functions' region), or the local stand-in."""
    if _datasync is not None:
        return _datasync
    sess = session()
    with _lock:
        client = _clients.get(("datasync",))
        if client is None:
            client = _clients[("datasync",)] = sess.client(
                "datasync", config=Config(retries={"mode": "standard", "total_max_attempts": 10}))
        return client
