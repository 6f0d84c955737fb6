"""boto3 clients, one per (purpose, region), shared by threads.

Two purposes: `data` reaches the user's buckets (AWS, or the S3-compatible
endpoint in settings); `work` reaches the scratch area (the stack's work
bucket on AWS; an in-memory bucket in local runs) and never takes the data
endpoint, so scratch files never land on the user's server.
"""
from __future__ import annotations

import threading

import boto3
from botocore.config import Config

from . import settings as settings_mod

_lock = threading.Lock()
_session: boto3.session.Session | None = None
_clients: dict = {}
_hooks: list = []   # (event name, handler): registered on every session made


def session() -> boto3.session.Session:
    """The one session all clients come from."""
    global _session
    with _lock:
        if _session is None:
            _session = boto3.session.Session()
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


def _config(pool: int) -> Config:
    # Standard retry mode retries throttling (503 SlowDown) and 5xx with
    # exponential backoff; ten attempts outlast short bursts.
    return Config(
        retries={"mode": "standard", "max_attempts": 10},
        max_pool_connections=pool,
        connect_timeout=10,
        read_timeout=120,
        s3={"addressing_style": "path"} if settings_mod.load().endpoint_url else {},
    )


def data_client(region: str | None = None):
    cfg = settings_mod.load()
    return _client("data", region, cfg.endpoint_url, max(10, min(cfg.copy_threads * 2, 128)))


def work_client():
    return _client("work", None, None, 32)


def _client(purpose: str, region: str | None, endpoint: str | None, pool: int):
    sess = session()
    key = (purpose, region, endpoint, pool)
    with _lock:
        client = _clients.get(key)
        if client is None:
            kwargs = {"config": _config(pool)}
            if region:
                kwargs["region_name"] = region
            elif not sess.region_name:
                kwargs["region_name"] = "us-east-1"
            if endpoint:
                kwargs["endpoint_url"] = endpoint
            client = _clients[key] = sess.client("s3", **kwargs)
        return client
