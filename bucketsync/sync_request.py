"""The execution input: validation and normalisation (pure, no I/O).

The same validator runs as the state machine's first state, in `fab sync`
before anything starts, and (later) on schedule inputs at deploy time, so bad
input is rejected the same way everywhere and never reaches an S3 write.
"""
from __future__ import annotations

import ipaddress
import re
from fractions import Fraction
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from . import endpoints
from .endpoints import Endpoint
from .errors import InvalidInputError

ALLOWED_KEYS = (
    "source", "destination", "prefix", "source_prefix", "destination_prefix",
    "delete", "dry_run", "max_delete", "allow_empty_source", "include", "exclude", "check_metadata",
    "verify", "source_endpoint", "destination_endpoint",
)
DEFAULT_MAX_DELETE = "50%"
# The default's floor: a small destination may lose up to this many objects
# even above half of them (replacing 6 objects with 3 others is no accident), but only
# while the source lists at least half as many objects as the destination
# holds: a source that lists far fewer looks like a wrong prefix or bucket.
# A max_delete the user gives has no floor.
DEFAULT_FLOOR = 10
MAX_KEY_BYTES = 1024

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PERCENT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
_COUNT_RE = re.compile(r"^\s*(\d+)\s*$")


@dataclass(frozen=True)
class SyncRequest:
    """A validated sync request. Prefixes are raw key prefixes (end them with
    "/" to mean a folder); a key's relative name is the key minus its side's
    prefix, and relative names are what the two sides are matched on."""

    source: str
    destination: str
    source_prefix: str = ""
    destination_prefix: str = ""
    delete: bool = True
    dry_run: bool = False
    # None: not given, the default (DEFAULT_MAX_DELETE with DEFAULT_FLOOR;
    # see delete_limit); the execution input's contract: absent means default.
    max_delete: str | int | None = None
    allow_empty_source: bool = False
    include: tuple[str, ...] = field(default_factory=tuple)
    exclude: tuple[str, ...] = field(default_factory=tuple)
    # Also compare system metadata, user metadata and tags of objects whose
    # content is the same, and bring them in line (costs requests per object).
    check_metadata: bool = False
    # Also read each written object back with one HEAD (ETag or stamp equal
    # to the source's); every run already lists what it wrote (copy/readback.py).
    verify: bool = False
    # Each side's endpoint and credentials as the input gives them (None: the
    # run's defaults, see endpoints.resolve). Never a key, only a secret's name.
    source_endpoint: Endpoint | None = None
    destination_endpoint: Endpoint | None = None
    # Never an input key: decided once per run by ValidateInput
    # (copy/stamping.py) and carried to every copy chunk. True: a side's
    # default encryption is SSE-KMS or DSSE-KMS, so no copy's ETag can match
    # its source's and every server-side copy carries the stamp from the
    # start; False: both sides (on AWS) answered SSE-S3 or none; None: not
    # asked or no answer. Unless True, the copies find out themselves.
    copies_stamped: bool | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["include"] = list(self.include)
        data["exclude"] = list(self.exclude)
        for side in endpoints.SIDES:
            given = getattr(self, f"{side}_endpoint")
            data[f"{side}_endpoint"] = given.to_dict() if given else None
        if self.copies_stamped is None:   # undecided: the request as given (a mirror's, in its environment)
            del data["copies_stamped"]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "SyncRequest":
        data = dict(data)
        data["include"] = tuple(data.get("include", ()))
        data["exclude"] = tuple(data.get("exclude", ()))
        for side in endpoints.SIDES:
            given = data.get(f"{side}_endpoint")
            data[f"{side}_endpoint"] = Endpoint.from_dict(given) if given else None
        return cls(**data)


def bucket_name_problem(name: str) -> str | None:
    """Why `name` is not a valid S3 general purpose bucket name, or None."""
    if not 3 <= len(name) <= 63:
        return "must be 3 to 63 characters long"
    if not _BUCKET_RE.match(name):
        return ("may contain only lowercase letters, digits, dots and hyphens, "
                "and must begin and end with a letter or digit")
    if ".." in name or ".-" in name or "-." in name:
        return "must not contain '..', '.-' or '-.'"
    try:
        ipaddress.IPv4Address(name)
        return "must not be formatted as an IP address"
    except ValueError:
        pass
    for bad in ("xn--", "sthree-", "amzn-s3-demo-"):
        if name.startswith(bad):
            return f"must not start with '{bad}'"
    for bad in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if name.endswith(bad):
            return f"must not end with '{bad}'"
    return None


def _bucket_and_path(value, key: str) -> tuple[str, str]:
    """Accept 'bucket' or 's3://bucket[/prefix]'."""
    if not isinstance(value, str):
        raise InvalidInputError(f"'{key}' must be a string (a bucket name), got {_type(value)}")
    text = value.strip()
    path = ""
    if text.startswith("s3://"):
        text, _, path = text[len("s3://"):].partition("/")
    if not text:
        raise InvalidInputError(f"'{key}' must not be empty: give a bucket name")
    problem = bucket_name_problem(text)
    if problem:
        raise InvalidInputError(f"'{key}' is not a valid bucket name ({text!r}): it {problem}")
    return text, path


def _type(value) -> str:
    return "null" if value is None else type(value).__name__


def _bool(data: dict, key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise InvalidInputError(f"'{key}' must be true or false, got {_type(value)} {value!r}")
    return value


def _prefix(data: dict, key: str) -> str | None:
    if key not in data:
        return None
    value = data[key]
    if not isinstance(value, str):
        raise InvalidInputError(f"'{key}' must be a string, got {_type(value)}")
    if len(value.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidInputError(f"'{key}' is longer than {MAX_KEY_BYTES} bytes")
    return value


def _patterns(data: dict, key: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        raise InvalidInputError(f"'{key}' must be a list of non-empty glob strings, got {value!r}")
    return tuple(value)


def parse_max_delete(value) -> str | int:
    """A count (int >= 0, or its digits as a string) or a percentage "N%" (0-100)."""
    if isinstance(value, bool):
        raise InvalidInputError(f"'max_delete' must be a count or a percentage like \"10%\", got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise InvalidInputError(f"'max_delete' must not be negative, got {value}")
        return value
    if isinstance(value, str):
        if m := _COUNT_RE.match(value):
            return int(m.group(1))
        if m := _PERCENT_RE.match(value):
            if float(m.group(1)) > 100:
                raise InvalidInputError(f"'max_delete' percentage must be at most 100%, got {value!r}")
            return f"{m.group(1)}%"
    raise InvalidInputError(
        f"'max_delete' must be a count (e.g. 1000) or a percentage of destination objects (e.g. \"10%\"), got {value!r}")


def delete_limit(max_delete: str | int | None, destination_count: int, source_count: int) -> int:
    """How many deletes `max_delete` allows for a destination of this size
    (None: the default, whose floor needs the source's count)."""
    if max_delete is None:
        half = delete_limit(DEFAULT_MAX_DELETE, destination_count, source_count)
        return max(half, DEFAULT_FLOOR) if 2 * source_count >= destination_count else half
    if isinstance(max_delete, int):
        return max_delete
    # Exact decimal arithmetic: 18.4% of 375 is 69, which floats make 68.
    return int(destination_count * Fraction(max_delete.rstrip("%")) / 100)


def describe_max_delete(max_delete: str | int | None) -> str:
    """The whole rule of `max_delete`, for messages."""
    if max_delete is None:
        return (f"max_delete {DEFAULT_MAX_DELETE!r} (the default: half of the destination's objects, "
                f"or up to {DEFAULT_FLOOR} while the source lists at least half as many objects as the destination)")
    if isinstance(max_delete, int):
        return f"max_delete {max_delete}"
    return f"max_delete {max_delete!r} (of the destination's objects, rounded down)"


def prefixes_may_overlap(a: str, b: str) -> bool:
    """Whether two key prefixes of one bucket may cover common keys: one is
    a prefix of the other as given, or as a path-based server may store them
    (SeaweedFS stores `/a//b` and `a\\b` as `a/b`)."""
    def stored(prefix: str) -> str:
        return re.sub("/+", "/", prefix.replace("\\", "/")).lstrip("/")
    return any(x.startswith(y) or y.startswith(x) for x, y in ((a, b), (stored(a), stored(b))))


def validate(data, known: Mapping[str, Endpoint] | None = None) -> SyncRequest:
    """Normalise an execution input into a SyncRequest or raise InvalidInputError
    naming the first problem found. `known`: each side's place when the input
    gives none, as the run will resolve it (endpoints.resolve: None means
    the functions' environment, as in ValidateInput)."""
    _check_keys(data)
    source, source_path = _bucket_and_path(data["source"], "source")
    destination, destination_path = _bucket_and_path(data["destination"], "destination")
    source_prefix, destination_prefix = _prefixes(data, source_path, destination_path)
    source_endpoint = endpoints.parse(data["source_endpoint"], "source_endpoint") if "source_endpoint" in data else None
    destination_endpoint = (endpoints.parse(data["destination_endpoint"], "destination_endpoint")
                            if "destination_endpoint" in data else None)
    _check_not_itself(source, destination, source_prefix, destination_prefix,
                      source_endpoint, destination_endpoint, known)
    return SyncRequest(
        source=source,
        destination=destination,
        source_prefix=source_prefix,
        destination_prefix=destination_prefix,
        delete=_bool(data, "delete", True),
        dry_run=_bool(data, "dry_run", False),
        max_delete=parse_max_delete(data["max_delete"]) if "max_delete" in data else None,
        allow_empty_source=_bool(data, "allow_empty_source", False),
        include=_patterns(data, "include"),
        exclude=_patterns(data, "exclude"),
        check_metadata=_bool(data, "check_metadata", False),
        verify=_bool(data, "verify", False),
        source_endpoint=source_endpoint,
        destination_endpoint=destination_endpoint,
    )


def _check_keys(data) -> None:
    if not isinstance(data, dict):
        raise InvalidInputError(f"the input must be a JSON object, got {_type(data)}")
    unknown = sorted(set(data) - set(ALLOWED_KEYS))
    if unknown:
        raise InvalidInputError(
            f"unknown input key(s): {', '.join(map(repr, unknown))}; allowed: {', '.join(ALLOWED_KEYS)}")
    for key in ("source", "destination"):
        if key not in data:
            raise InvalidInputError(f"'{key}' is missing: the input needs both 'source' and 'destination' bucket names")


def _prefixes(data: dict, source_path: str, destination_path: str) -> tuple[str, str]:
    """Each side's prefix: `prefix` for both, or `source_prefix` and
    `destination_prefix`, or the path of an s3:// URL; one way per side."""
    prefix = _prefix(data, "prefix")
    source_prefix = _prefix(data, "source_prefix")
    destination_prefix = _prefix(data, "destination_prefix")
    if prefix is not None and (source_prefix is not None or destination_prefix is not None):
        raise InvalidInputError("'prefix' scopes both sides and cannot be combined with 'source_prefix' or 'destination_prefix'")
    if prefix is not None:
        source_prefix = destination_prefix = prefix
    if source_path and source_prefix is not None:
        raise InvalidInputError("give the source prefix either in 's3://bucket/prefix' or in 'source_prefix', not both")
    if destination_path and destination_prefix is not None:
        raise InvalidInputError("give the destination prefix either in 's3://bucket/prefix' or in 'destination_prefix', not both")
    return (source_prefix if source_prefix is not None else source_path,
            destination_prefix if destination_prefix is not None else destination_path)


def _check_not_itself(source: str, destination: str, source_prefix: str, destination_prefix: str,
                      source_endpoint: Endpoint | None, destination_endpoint: Endpoint | None,
                      known: Mapping[str, Endpoint] | None) -> None:
    """Buckets of one name on two endpoints are two buckets: compare the
    places the run will resolve (the input's endpoint, else the run's
    defaults), each in its canonical form, so that no spelling hides a
    bucket synced onto itself. Checked before the options, as it always was."""
    source_place, destination_place = (endpoints.resolve(given, side, known) for given, side in
                                       ((source_endpoint, "source"), (destination_endpoint, "destination")))
    if (source == destination and endpoints.same_place(source_place, destination_place)
            and prefixes_may_overlap(source_prefix, destination_prefix)):
        raise InvalidInputError(
            f"source and destination are the same bucket ({source!r} at {endpoints.place(source_place.url)}) "
            f"with overlapping prefixes ({source_prefix!r} and {destination_prefix!r}): a sync would overwrite "
            f"or delete its own source")
