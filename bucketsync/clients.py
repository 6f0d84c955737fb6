"""boto3 clients, one per (purpose, region, endpoint), shared by threads.

Two purposes: `data` reaches the user's buckets (AWS, or an S3-compatible
endpoint, each side with its own credentials: see endpoints.py); `work`
reaches the scratch area (the stack's work bucket on AWS; an in-memory bucket
in local runs) and never takes a data endpoint, so scratch files never land
on the user's server.
"""
from __future__ import annotations

import os
import sys
import threading
import urllib.request

import boto3
import botocore
import botocore.session
from botocore.config import Config

from . import secret_keys
from . import settings as settings_mod
from .endpoints import Endpoint
from .work import Run

_lock = threading.Lock()
_session: boto3.session.Session | None = None
_profiles: dict[str, boto3.session.Session] = {}
_clients: dict = {}
_crt_clients: dict = {}   # id(boto3 client) -> its CrtClient
_hooks: list = []   # (event name, handler): registered on every session made
_customizers: list = []   # called with (purpose, client) for every client made


def session(profile: str | None = None) -> boto3.session.Session:
    """The session clients come from: the default one, or a named profile's."""
    global _session
    with _lock:
        if profile is not None:
            if profile not in _profiles:
                _profiles[profile] = _new_session(profile)
            return _profiles[profile]
        if _session is None:
            _session = _new_session(None)
        return _session


def _new_session(profile: str | None) -> boto3.session.Session:
    core = botocore.session.get_session()
    # Nothing here reads a timestamp from a response, and botocore's
    # dateutil parsing costs several percent of a copy's CPU.
    core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=str)
    try:
        made = boto3.session.Session(botocore_session=core, profile_name=profile)
    except botocore.exceptions.ProfileNotFound as exc:
        from .errors import CredentialsError
        raise CredentialsError(f"profile {profile!r} is not in your AWS config or credentials file") from exc
    for event, handler in _hooks:
        made.events.register(event, handler)
    return made


def add_hook(event: str, handler) -> None:
    """Register a botocore event handler on this and every later session, so
    it survives `reset()` (tests inject faults and count requests this way)."""
    with _lock:
        _hooks.append((event, handler))
        for made in [_session, *_profiles.values()]:
            if made is not None:
                made.events.register(event, handler)


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
        for made in [_session, *_profiles.values()]:
            if made is not None:
                made.events.unregister(event, handler)


def reset() -> None:
    """Forget clients and session (the local engine calls this when it
    switches between the emulator and real endpoints)."""
    global _session
    with _lock:
        _clients.clear()
        _crt_clients.clear()
        _profiles.clear()
        _session = None
    secret_keys.forget()


def _config(pool: int, probe: bool = False, custom_endpoint: bool = False) -> Config:
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
        s3={"addressing_style": "path"} if custom_endpoint else {},
        # botocore adds a CRC32 checksum to every upload unless told "when
        # required"; several S3-compatible servers reject or mangle those
        # trailers. Uploads to them carry Content-MD5 instead (see copy/transfer.py).
        **({"request_checksum_calculation": "when_required",
            "response_checksum_validation": "when_required"} if custom_endpoint else {}),
    )


def data_client(region: str | None = None, endpoint: Endpoint | None = None):
    """A client for the user's buckets at `endpoint` (None: the run's one
    endpoint, BUCKETSYNC_S3_ENDPOINT_URL, or AWS): boto3's, its hot calls
    made by the CRT (s3/crt.py) unless the settings say "botocore" or moto
    answers this process's AWS requests in memory."""
    cfg = settings_mod.load()
    endpoint = _or_default(endpoint, cfg)
    pool = max(10, min(cfg.copy_threads * 2, 128))
    client = _client("data", region, endpoint, pool)
    if cfg.s3_transport != "crt":
        return client
    if (endpoint.on_aws or "amazonaws.com" in endpoint.url) and _moto_answers_aws():
        # moto answers "AWS" in memory: through its server on loopback when
        # one is set (route_aws_to), else boto3's calls it intercepts.
        return client if _aws_route is None else _crt_client(client, pool, _aws_route)
    return _crt_client(client, pool)


_aws_route: str | None = None
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def _crt_can_serve(client) -> bool:
    config = client.meta.config
    s3_options = config.s3 or {}
    if client._request_signer._credentials is None or config.signature_version == botocore.UNSIGNED:
        return False
    if config.use_fips_endpoint or config.use_dualstack_endpoint or s3_options.get("use_accelerate_endpoint") \
            or s3_options.get("use_dualstack_endpoint"):
        return False
    if "fips" in client.meta.endpoint_url or "dualstack" in client.meta.endpoint_url:
        return False   # set by AWS_USE_FIPS_ENDPOINT / a profile
    host = client.meta.endpoint_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    proxied = any(os.environ.get(name) for name in _PROXY_VARIABLES)
    return not proxied or urllib.request.proxy_bypass(host)


def route_aws_to(url: str | None) -> None:
    """Send the CRT's requests for AWS S3 to `url` (a moto server in this
    process, which shares moto's in-memory AWS) while moto's mock is on; None: stop."""
    global _aws_route
    with _lock:
        _aws_route = url
        _crt_clients.clear()


def _moto_answers_aws() -> bool:
    """Whether moto's in-process mock is on (tests, `fab demo`, the local
    engine's emulated buckets): it answers only botocore's requests, and
    the CRT's would go to AWS for real. (moto is never imported for this.)"""
    models = sys.modules.get("moto.core.models")
    return bool(models is not None and models.botocore_stubber.enabled)


def _crt_client(client, pool: int, endpoint_url: str | None = None):
    """The CRT transport over `client`, or `client` itself where the CRT
    cannot do what botocore does for it: no credentials or unsigned requests,
    endpoints chosen per request by botocore's rules (FIPS, dual-stack,
    Transfer Acceleration), and proxies (awscrt 0.38's S3Client takes none)."""
    if endpoint_url is None and not _crt_can_serve(client):
        return client
    from .s3.crt import CrtClient
    with _lock:
        made = _crt_clients.get(id(client))
        if made is None or made.meta is not client.meta:
            made = _crt_clients[id(client)] = CrtClient(client, pool, endpoint_url=endpoint_url)
        return made


def probe_client(region: str | None = None, endpoint: Endpoint | None = None):
    """A data client for the first contact with an endpoint: fails fast."""
    return _client("data", region, _or_default(endpoint, settings_mod.load()), 4, probe=True)


def _or_default(endpoint: Endpoint | None, cfg) -> Endpoint:
    return endpoint if endpoint is not None else Endpoint(url=cfg.endpoint_url)


def work_client():
    return _client("work", None, Endpoint(), 32)


class RunClients:
    """The clients one run's step is given: each side's (at its own endpoint,
    with its own keys) and the work area's. Each is made when first asked
    for, so a step that never reaches a side reads no secret for it."""

    def __init__(self, run: Run):
        self.run = run

    def side(self, side: str):
        """The data client of "source" or "destination"."""
        if side == "source":
            return data_client(self.run.source_region, self.run.source_endpoint)
        return data_client(self.run.destination_region, self.run.destination_endpoint)

    def work(self):
        return work_client()


def _client(purpose: str, region: str | None, endpoint: Endpoint, pool: int, probe: bool = False):
    sess = session(endpoint.profile)
    region = region or endpoint.region
    # A secret's clients are remade every few minutes, so a rotated key pair
    # is picked up by a warm Lambda without a restart.
    key = (purpose, region, endpoint, pool, probe, secret_keys.epoch() if endpoint.secret else None)
    with _lock:
        client = _clients.get(key)
    if client is not None:
        return client
    kwargs = {"config": _config(pool, probe, custom_endpoint=not endpoint.on_aws)}
    if region:
        kwargs["region_name"] = region
    elif not sess.region_name:
        kwargs["region_name"] = "us-east-1"
    if endpoint.url:
        kwargs["endpoint_url"] = endpoint.url
    if endpoint.secret:   # read now (cached), passed to this client only: never the environment
        kwargs.update(secret_keys.access_keys(session(), endpoint.secret))
    made = sess.client("s3", **kwargs)
    with _lock:
        if endpoint.secret:   # the clients of an earlier epoch (older keys) go
            for old in [k for k in _clients if k[:5] == key[:5] and k[5] != key[5]]:
                del _clients[old]
        client = _clients.setdefault(key, made)
        if client is made:
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
