"""`DATASYNC_TASKS`: the DataSync tasks a deployment defines (or a local run
emulates), checked (pure).

    {"<name>": {"source": "s3://bucket/prefix/" | "file:///local/dir"
                          | {"efs": <file system ARN>, "subnet": <subnet ARN>,
                             "security_groups": [<security group ARN>, ...], "path": "/dir"},
                "destination": "s3://bucket/prefix/",
                "options": {<DataSync Options by their API names>}}}

A `file://` source serves local runs: it stands in for EFS, whose deployed
form is the `efs` dict. The functions receive the checked tasks as JSON
(`BUCKETSYNC_DATASYNC_TASKS`), with each deployed task's ARN.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from urllib.parse import unquote, urlparse

from ..errors import InvalidInputError
from ..sync_request import bucket_name_problem

TASKS_VARIABLE = "BUCKETSYNC_DATASYNC_TASKS"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
TASK_ARN = re.compile(r"arn:aws[a-z-]*:datasync:[a-z0-9-]+:\d{12}:task/task-[0-9a-f]{17}")
EFS_ARN = re.compile(r"arn:aws[a-z-]*:elasticfilesystem:[a-z0-9-]+:\d{12}:file-system/fs-[0-9a-f]{8,40}")
EFS_ACCESS_POINT_ARN = re.compile(r"arn:aws[a-z-]*:elasticfilesystem:[a-z0-9-]+:\d{12}:access-point/fsap-[0-9a-f]{8,40}")
IAM_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}")
SUBNET_ARN = re.compile(r"arn:aws[a-z-]*:ec2:[a-z0-9-]+:\d{12}:subnet/subnet-[0-9a-f]{8,17}")
SECURITY_GROUP_ARN = re.compile(r"arn:aws[a-z-]*:ec2:[a-z0-9-]+:\d{12}:security-group/sg-[0-9a-f]{8,17}")

# DataSync's Options (API_Options.html): each name and the values it takes.
OPTIONS = {
    "TransferMode": ("CHANGED", "ALL"),
    "PreserveDeletedFiles": ("PRESERVE", "REMOVE"),
    "OverwriteMode": ("ALWAYS", "NEVER"),
    "VerifyMode": ("POINT_IN_TIME_CONSISTENT", "ONLY_FILES_TRANSFERRED", "NONE"),
    "LogLevel": ("OFF", "BASIC", "TRANSFER"),
    "TaskQueueing": ("ENABLED", "DISABLED"),
    "Atime": ("NONE", "BEST_EFFORT"),
    "Mtime": ("NONE", "PRESERVE"),
    "Uid": ("NONE", "INT_VALUE", "NAME", "BOTH"),
    "Gid": ("NONE", "INT_VALUE", "NAME", "BOTH"),
    "PosixPermissions": ("NONE", "PRESERVE"),
    "PreserveDevices": ("NONE", "PRESERVE"),
    "ObjectTags": ("PRESERVE", "NONE"),
    "BytesPerSecond": int,
}
DEFAULTS = {"TransferMode": "CHANGED", "PreserveDeletedFiles": "PRESERVE", "OverwriteMode": "ALWAYS",
            "TaskQueueing": "ENABLED", "ObjectTags": "PRESERVE"}


@dataclass(frozen=True)
class Location:
    """One end of a task: an S3 bucket and prefix ("" or ending in "/"), a
    local directory (local runs), or an EFS file system and path."""
    kind: str                       # "s3", "file" or "efs"
    bucket: str = ""
    prefix: str = ""
    path: str = ""                  # the local directory, or the path inside the file system
    efs: str = ""
    subnet: str = ""
    security_groups: tuple[str, ...] = ()
    # EFS: the access point and the IAM role DataSync mounts with, and TLS in
    # transit (a file system policy may require aws:SecureTransport, as
    # AWS's sample policy does; an access point or a role requires TLS).
    access_point: str = ""
    role: str = ""
    in_transit_encryption: str = ""

    @property
    def uri(self) -> str:
        if self.kind == "s3":
            return f"s3://{self.bucket}/{self.prefix}"
        if self.kind == "file":
            return f"file://{self.path}"
        return f"efs://{self.efs.rsplit('/', 1)[-1]}{self.path}"

    def key(self, path: str) -> str:
        """The S3 key of a DataSync path ("/a/b") under this location."""
        return self.prefix + path.lstrip("/")


@dataclass(frozen=True)
class TaskSpec:
    name: str
    source: Location
    destination: Location
    options: dict = field(default_factory=dict)
    arn: str | None = None          # set once deployed

    def option(self, name: str) -> str | int | None:
        return self.options.get(name, DEFAULTS.get(name))

    def to_dict(self) -> dict:
        """Locations without their empty fields: this travels in the
        functions' environment, which Lambda limits to 4 KB."""
        data = asdict(self)
        for end in ("source", "destination"):
            data[end] = {k: v for k, v in data[end].items() if v or k == "kind"}
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "TaskSpec":
        def location(d):
            return Location(**dict(d, security_groups=tuple(d.get("security_groups") or ())))
        return cls(name=data["name"], source=location(data["source"]), destination=location(data["destination"]),
                   options=dict(data.get("options") or {}), arn=data.get("arn"))


def check_tasks(value) -> dict[str, TaskSpec]:
    """DATASYNC_TASKS checked; raises InvalidInputError naming the task and
    the problem."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInputError(f"DATASYNC_TASKS must be a dict of task name to task, got {type(value).__name__}")
    return {name: check_task(name, entry) for name, entry in value.items()}


def check_task(name, entry) -> TaskSpec:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise InvalidInputError(f"DataSync task name {name!r} must be 1-64 letters, digits, '.', '_' or '-', "
                                f"starting with a letter or digit")
    label = f"DataSync task {name!r}"
    if not isinstance(entry, dict):
        raise InvalidInputError(f"{label} must be a dict with source, destination and options")
    unknown = sorted(set(entry) - {"source", "destination", "options"})
    if unknown:
        raise InvalidInputError(f"{label} has unknown key(s) {unknown}; allowed: destination, options, source")
    for key in ("source", "destination"):
        if key not in entry:
            raise InvalidInputError(f"{label} is missing {key!r}")
    source = _location(entry["source"], f"{label} source", allow_local=True)
    destination = _location(entry["destination"], f"{label} destination", allow_local=False)
    if source.kind == "s3" and destination.kind == "s3" and source.bucket == destination.bucket \
            and (source.prefix.startswith(destination.prefix) or destination.prefix.startswith(source.prefix)):
        raise InvalidInputError(f"{label}: source {source.uri} and destination {destination.uri} overlap")
    return TaskSpec(name, source, destination, _options(entry.get("options", {}), label, source))


def _location(value, label: str, allow_local: bool) -> Location:
    if isinstance(value, dict) and allow_local:
        return _efs(value, label)
    if not isinstance(value, str):
        raise InvalidInputError(f"{label} must be an s3:// URI{', a file:// URI or an efs dict' if allow_local else ''}, "
                                f"got {value!r}")
    if value.startswith("s3://"):
        bucket, _, prefix = value[len("s3://"):].partition("/")
        problem = bucket_name_problem(bucket)
        if problem:
            raise InvalidInputError(f"{label} {value!r}: bucket name {bucket!r} {problem}")
        if prefix.startswith("/") or "//" in prefix or "\\" in prefix or any(
                part in (".", "..") for part in prefix.split("/")):
            # DataSync's Subdirectory is a path ("/" + the prefix): an empty,
            # "." or ".." segment or a backslash names another folder than
            # the keys the object sync compares it with.
            raise InvalidInputError(f"{label} {value!r}: the folder must be a plain path (no leading '/', '//', "
                                    f"'.' or '..' segment, or backslash), e.g. s3://{bucket}/images/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"    # a DataSync S3 location's subdirectory is a folder
        return Location("s3", bucket=bucket, prefix=prefix)
    if value.startswith("file://") and allow_local:
        parsed = urlparse(value)
        path = unquote(parsed.path)
        # "file://relative/dir" parses as host "relative" and path "/dir":
        # a file:// source names no host, so anything there is a relative path.
        if parsed.netloc or not path.startswith("/"):
            raise InvalidInputError(f"{label} {value!r} must be an absolute path: file:///dir (three slashes; "
                                    f"a relative path names a different directory wherever fab runs)")
        return Location("file", path=path.rstrip("/") or "/")
    raise InvalidInputError(f"{label} {value!r} must start with s3://{' or file://' if allow_local else ''}")


def _efs(value: dict, label: str) -> Location:
    allowed = {"efs", "subnet", "security_groups", "path", "access_point", "role", "in_transit_encryption"}
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise InvalidInputError(f"{label} has unknown key(s) {unknown}; allowed: {', '.join(sorted(allowed))}")
    access_point, role = value.get("access_point", ""), value.get("role", "")
    if access_point and not (isinstance(access_point, str) and EFS_ACCESS_POINT_ARN.fullmatch(access_point)):
        raise InvalidInputError(f"{label}: 'access_point' must be an EFS access point ARN, got {access_point!r}")
    if role and not (isinstance(role, str) and IAM_ROLE_ARN.fullmatch(role)):
        raise InvalidInputError(f"{label}: 'role' must be an IAM role ARN, got {role!r}")
    tls = value.get("in_transit_encryption", "TLS1_2")   # TLS by default: it works whatever the file system's policy
    if tls not in ("TLS1_2", "NONE"):
        raise InvalidInputError(f"{label}: 'in_transit_encryption' must be \"TLS1_2\" or \"NONE\", got {tls!r}")
    if tls == "NONE" and (access_point or role):
        raise InvalidInputError(f"{label}: an access point or an IAM role needs in_transit_encryption \"TLS1_2\" "
                                f"(DataSync's rule for EFS locations)")
    for key, pattern in (("efs", EFS_ARN), ("subnet", SUBNET_ARN)):
        if not isinstance(value.get(key), str) or not pattern.fullmatch(value[key]):
            raise InvalidInputError(f"{label}: {key!r} must be an {'EFS file system' if key == 'efs' else 'EC2 subnet'} "
                                    f"ARN, got {value.get(key)!r}")
    groups = value.get("security_groups")
    if not isinstance(groups, (list, tuple)) or not 1 <= len(groups) <= 5 \
            or not all(isinstance(g, str) and SECURITY_GROUP_ARN.fullmatch(g) for g in groups):
        raise InvalidInputError(f"{label}: 'security_groups' must be a list of 1 to 5 security group ARNs, got {groups!r}")
    path = value.get("path", "/")
    if not isinstance(path, str) or not re.fullmatch(r"/[A-Za-z0-9_\-+./()$ ]*", path):
        raise InvalidInputError(f"{label}: 'path' must be an absolute path in the file system, got {path!r}")
    return Location("efs", path=path, efs=value["efs"], subnet=value["subnet"], security_groups=tuple(groups),
                    access_point=access_point, role=role, in_transit_encryption=tls)


def _options(options, label: str, source: Location) -> dict:
    if not isinstance(options, dict):
        raise InvalidInputError(f"{label}: options must be a dict of DataSync option names to values")
    for name, value in options.items():
        allowed = OPTIONS.get(name)
        if allowed is None:
            raise InvalidInputError(f"{label}: {name!r} is not a DataSync option; known: {', '.join(sorted(OPTIONS))}")
        if allowed is int:
            if isinstance(value, bool) or not isinstance(value, int) or value < -1 or value == 0:
                raise InvalidInputError(f"{label}: BytesPerSecond must be -1 (unlimited) or a positive integer")
        elif value not in allowed:
            raise InvalidInputError(f"{label}: {name} must be one of {', '.join(allowed)}, got {value!r}")
    merged = dict(DEFAULTS, **options)
    if merged["PreserveDeletedFiles"] == "REMOVE" and merged["TransferMode"] == "ALL":
        raise InvalidInputError(f"{label}: PreserveDeletedFiles REMOVE cannot be combined with TransferMode ALL "
                                f"(DataSync refuses it)")
    if ("Atime" in options or "Mtime" in options) and \
            (options.get("Atime", "BEST_EFFORT"), options.get("Mtime", "PRESERVE")) not in \
            (("BEST_EFFORT", "PRESERVE"), ("NONE", "NONE")):
        raise InvalidInputError(f"{label}: Atime and Mtime go together: BEST_EFFORT with PRESERVE, or NONE with NONE")
    if options.get("PreserveDevices") == "PRESERVE" and source.kind in ("efs", "file"):
        raise InvalidInputError(f"{label}: PreserveDevices PRESERVE is not supported for Amazon EFS")
    return dict(options)


def from_environment() -> dict[str, TaskSpec]:
    """The tasks the functions were given (deploy, or the local engine)."""
    raw = os.environ.get(TASKS_VARIABLE)
    if not raw:
        return {}
    return {name: TaskSpec.from_dict(data) for name, data in json.loads(raw).items()}


def to_environment(tasks: dict[str, TaskSpec]) -> str:
    return json.dumps({name: spec.to_dict() for name, spec in tasks.items()}, sort_keys=True)
