"""Where each side's buckets live and whose credentials reach them.

A side is on AWS (no `url`) or on an S3-compatible endpoint (`url`). Its
credentials are the functions' own (the role on AWS, the environment or
`AWS_PROFILE` locally), a named profile (`profile`, local runs only), or a
Secrets Manager secret holding an access key pair (`secret`, read at run time
by `clients`; only its name travels in the run's state, never its value).

The execution input may give `source_endpoint`/`destination_endpoint`
(`{"url", "region", "secret"}`); otherwise a side takes the run's defaults
(`fab sync --source-endpoint-url/--source-profile/...`, or `--endpoint-url`
for both sides), which reach the functions as BUCKETSYNC_* variables.
"""
from __future__ import annotations

import functools
import ipaddress
import os
import socket
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from .errors import InvalidInputError

SIDES = ("source", "destination")
INPUT_KEYS = ("url", "region", "secret")
# Secrets Manager: names of 1-512 characters from this set; or a full ARN.
_SECRET_RE = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
_SECRET_ARN_RE = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$")
_REGION_RE = re.compile(r"^[a-z0-9-]{1,32}$")


@dataclass(frozen=True)
class Endpoint:
    url: str | None = None       # None: AWS S3
    region: str | None = None    # the signing region of a custom endpoint (AWS: found per bucket)
    secret: str | None = None    # a Secrets Manager secret name or ARN holding the key pair
    profile: str | None = None   # a named profile (local runs)

    @property
    def on_aws(self) -> bool:
        return self.url is None

    def same_credentials_and_place(self, other: "Endpoint") -> bool:
        """Whether one client can reach both sides: then a copy is server-side
        (CopyObject), else it streams through us (GET -> PUT)."""
        return (place(self.url), self.secret, self.profile) == (place(other.url), other.secret, other.profile)

    def describe(self, region: str | None = None) -> str:
        """For reports and messages: where, never which key."""
        where = self.url or f"AWS S3 ({region or self.region or 'default region'})"
        if self.secret:
            return f"{where}, credentials from secret {self.secret}"
        if self.profile:
            return f"{where}, profile {self.profile}"
        return where

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict | None) -> "Endpoint":
        return cls(**(data or {}))


def parse(value, key: str) -> Endpoint:
    """An execution input's `source_endpoint`/`destination_endpoint`, or
    InvalidInputError naming what is wrong."""
    if not isinstance(value, dict):
        raise InvalidInputError(f"'{key}' must be an object like {{\"url\": \"https://...\", \"secret\": \"name\"}}, "
                                f"got {type(value).__name__}")
    unknown = sorted(set(value) - set(INPUT_KEYS))
    if unknown:
        raise InvalidInputError(f"'{key}' has unknown key(s) {', '.join(map(repr, unknown))}; "
                                f"allowed: {', '.join(INPUT_KEYS)}")
    for name in INPUT_KEYS:
        if name in value and not (isinstance(value[name], str) and value[name].strip()):
            raise InvalidInputError(f"'{key}.{name}' must be a non-empty string")
    url = value.get("url")
    if url is not None:
        check_url(url, f"'{key}.url'")
    region = value.get("region")
    if region is not None and not _REGION_RE.match(region):
        raise InvalidInputError(f"'{key}.region' is not a region name: {region!r}")
    secret = value.get("secret")
    if secret is not None and not (_SECRET_RE.match(secret) or _SECRET_ARN_RE.match(secret)):
        # Not echoed: a key pasted here by mistake must not reach the history or a report.
        raise InvalidInputError(f"'{key}.secret' must be the name or ARN of a Secrets Manager secret "
                                f"(letters, digits and /_+=.@-), not the key itself")
    return Endpoint(url=url.rstrip("/") if url else None, region=region, secret=secret)


def check_url(url: str, what: str) -> None:
    parts = urlsplit(url)
    if "@" in parts.netloc:
        # A key in the URL would travel in the execution history and reports (not echoed).
        raise InvalidInputError(f"{what} must not carry credentials; give them in a secret or a profile")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInputError(f"{what} must be an http(s) URL like https://s3.example.com, got {url!r}")
    try:
        parts.port
    except ValueError:
        raise InvalidInputError(f"{what} has no valid port: {url!r}") from None
    if "%" in parts.netloc or not parts.hostname:
        raise InvalidInputError(f"{what} must name its host plainly (no percent-encoding), got {url!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidInputError(f"{what} must be the endpoint alone (no path, query or fragment), got {url!r}")


def same_place(a: Endpoint | None, b: Endpoint | None) -> bool:
    """Whether two sides may be one store (None: not known, which may be
    either), so that no spelling hides a bucket synced onto itself (see
    `may_be_one`)."""
    if a is None or b is None:
        return True
    return may_be_one(a.url, b.url)


AWS = "aws"
LOOPBACK = "localhost"


@functools.lru_cache(maxsize=256)   # pure for a URL; asked per copied object (Run.streamed)
def place(url: str | None) -> str:
    """What identifies an endpoint, whatever its spelling: "aws" for AWS S3
    (no URL, or any amazonaws.com URL: bucket names are global there), else
    "host:port" with the host lowercased and without a trailing dot, the
    scheme's default port made explicit (the scheme itself is no identity: a
    port speaks one of them), and every name and address of this machine
    (localhost, 127.0.0.1, 127.1, 0x7f000001, ::1, ::ffff:127.0.0.1, 0.0.0.0,
    a host name that resolves to loopback) one host. Both the same-bucket
    check and the run lease use it, through `may_be_one`."""
    if url is None:
        return AWS
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    if host == "amazonaws.com" or host.endswith((".amazonaws.com", ".amazonaws.com.cn")):
        return AWS
    if host == LOOPBACK or host.endswith(".localhost") or any(_this_machine(a) for a in _addresses(host)):
        host = LOOPBACK
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    return f"{host}:{port}"


def may_be_one(a: str | None, b: str | None) -> bool:
    """Whether two endpoint URLs may reach one store: the same `place`, or
    the same port on hosts that resolve to a common address (a name and its
    IP address, two names of one server). In doubt, one: the same-bucket
    check then refuses, and the lease serialises, rather than let a run
    delete its own source or race another."""
    first, second = place(a), place(b)
    if first == second:
        return True
    if AWS in (first, second):
        return False
    (host_a, port_a), (host_b, port_b) = first.rsplit(":", 1), second.rsplit(":", 1)
    return port_a == port_b and bool(_addresses(host_a) & _addresses(host_b))


@functools.lru_cache(maxsize=256)
def _addresses(host: str) -> frozenset[str]:
    """The addresses a host stands for: itself when it is an address in any
    form the resolver accepts (inet_aton's 127.1 and 2130706433 included),
    else what it resolves to (nothing when it does not resolve)."""
    if not host:
        return frozenset()
    try:
        return frozenset({str(ipaddress.ip_address(host))})
    except ValueError:
        pass
    try:
        return frozenset({str(ipaddress.ip_address(socket.inet_aton(host)))})
    except OSError:
        pass
    try:
        return frozenset(info[4][0].split("%")[0] for info in socket.getaddrinfo(host, None))
    except (OSError, UnicodeError):
        return frozenset()


def _this_machine(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or ip.is_unspecified or bool(mapped and (mapped.is_loopback or mapped.is_unspecified))


# The deployed functions' defaults (the template sets no endpoint variables):
# a side the input does not place is AWS S3, reached with the role's keys.
DEPLOYED: dict[str, Endpoint] = {side: Endpoint() for side in SIDES}


def defaults(side: str, environ=os.environ) -> Endpoint:
    """A side's endpoint when the input gives none: BUCKETSYNC_<SIDE>_ENDPOINT_URL
    / _PROFILE, else BUCKETSYNC_S3_ENDPOINT_URL (both sides), else AWS."""
    upper = side.upper()
    url = environ.get(f"BUCKETSYNC_{upper}_ENDPOINT_URL") or environ.get("BUCKETSYNC_S3_ENDPOINT_URL") or None
    return Endpoint(url=url.rstrip("/") if url else None,
                    profile=environ.get(f"BUCKETSYNC_{upper}_PROFILE") or None)


def resolve(given: Endpoint | None, side: str, known: Mapping[str, Endpoint] | None = None) -> Endpoint:
    """The input's endpoint for the side, else the side's defaults: `known`
    when the caller has them (`fab sync` from its flags, `fab deploy` for the
    deployed functions), else the functions' environment."""
    if given is not None:
        return given
    return known[side] if known is not None else defaults(side)


def allowed_secrets(environ=os.environ) -> set[str] | None:
    """The secrets the deployed functions may read (BUCKETSYNC_ENDPOINT_SECRETS,
    comma-separated, set by the template from ENDPOINT_SECRETS); None: no list
    (local runs), any secret the credentials can read."""
    raw = environ.get("BUCKETSYNC_ENDPOINT_SECRETS")
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def check_secret_allowed(endpoint: Endpoint, key: str, allowed: set[str] | None) -> None:
    """Refuse, before any request, a secret the stack was not given access to
    (the functions' role may read only ENDPOINT_SECRETS; Secrets Manager
    would answer AccessDeniedException, which says less). `allowed`: the
    configured names or ARNs (None: no list, as in local runs)."""
    if endpoint.secret is None or allowed is None:
        return
    if not any(endpoint.secret == name or _names_secret(name, endpoint.secret) for name in allowed):
        listed = ", ".join(sorted(allowed)) or "none"
        raise InvalidInputError(f"'{key}.secret' {endpoint.secret!r} is not one of the stack's ENDPOINT_SECRETS "
                                f"({listed}): add it to fabfile_config.py and run fab deploy")


def _names_secret(configured: str, given: str) -> bool:
    """A configured ARN and a given name (or the reverse) of the same secret:
    an ARN ends with ':secret:<name>-<6 random characters>'."""
    arn, name = (configured, given) if configured.startswith("arn:") else (given, configured)
    if not arn.startswith("arn:") or name.startswith("arn:"):
        return False
    tail = arn.split(":secret:", 1)[-1]
    return tail == name or (tail[:-7] == name and tail[-7] == "-")
