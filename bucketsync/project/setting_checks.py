"""Checks of the deploy settings one by one (config.check calls them): each
returns the setting's value, or raises ConfigError naming the setting and
what is wrong with it."""
from __future__ import annotations

import re

from .. import endpoints
from ..datasync.tasks import check_tasks
from ..errors import InvalidInputError
from ..sync_request import bucket_name_problem
from ..errors import ConfigError

LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)
# Lambda's instruction sets (a function's `Architectures` names exactly one).
# One code zip serves every function, with the awscrt wheel of this one.
LAMBDA_ARCHITECTURES = ("arm64", "x86_64")
KMS_KEY_ARN = re.compile(r"arn:aws(-cn|-us-gov|-iso|-iso-b)?:kms:[a-z0-9-]+:\d{12}:key/(mrk-)?[0-9a-f-]{32,36}")


def fail(where: str, name: str, problem: str):
    raise ConfigError(f"{where}: {name.upper()} {problem}")


def check_integer(values: dict, where: str, name: str, low: int, high: int | None = None) -> int | None:
    """The setting as an integer within [low, high], or None when unset."""
    value = values.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high and value > high):
        fail(where, name, f"must be an integer from {low}{f' to {high}' if high else ' up'}, got {value!r}")
    return value


def check_log_retention(values: dict, where: str) -> int:
    retention = values.get("log_retention_days", 30)
    if retention not in LOG_RETENTION_DAYS:
        fail(where, "log_retention_days", f"must be one of CloudWatch's values {LOG_RETENTION_DAYS}, got {retention!r}")
    return retention


def check_tags(values: dict, where: str) -> dict:
    tags = values.get("tags", {})
    if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        fail(where, "tags", f"must be a dict of strings to strings, got {tags!r}")
    return tags


def check_region(values: dict, where: str) -> str:
    region = values["region"]
    if not isinstance(region, str) or not re.fullmatch(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d", region):
        fail(where, "region", f"is not an AWS region name (like eu-west-1), got {region!r}")
    return region


def check_architecture(values: dict, where: str) -> str:
    architecture = values.get("lambda_architecture", "arm64")
    if architecture not in LAMBDA_ARCHITECTURES:
        fail(where, "lambda_architecture", f"must be {' or '.join(map(repr, LAMBDA_ARCHITECTURES))}, "
                                           f"got {architecture!r}")
    return architecture


def check_stack_name(values: dict, where: str) -> str:
    stack = values.get("stack_name", "bucketsync")
    if not isinstance(stack, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,39}", stack):
        fail(where, "stack_name", f"must be 1-40 letters, digits or hyphens, starting with a letter, got {stack!r}")
    return stack


def check_buckets(values: dict, where: str) -> dict[str, tuple[str, ...]]:
    buckets = {}
    for name in ("source_buckets", "destination_buckets"):
        value = values[name]
        if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
            fail(where, name, f"must be a non-empty list of bucket names, got {value!r}")
        for bucket in value:
            problem = bucket_name_problem(bucket) if isinstance(bucket, str) else "is not a string"
            if problem:
                fail(where, name, f"has {bucket!r}, which is not a valid bucket name: it {problem}")
        buckets[name] = tuple(value)
    return buckets


def check_notifications(values: dict, where: str) -> tuple[str | None, str | None, str]:
    email = values.get("notification_email")
    if email is not None and (not isinstance(email, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email)):
        fail(where, "notification_email", f"is not an email address, got {email!r}")
    topic = values.get("sns_topic_arn")
    if topic is not None and (not isinstance(topic, str)
                              or not re.fullmatch(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+", topic)):
        fail(where, "sns_topic_arn", f"is not an SNS topic ARN, got {topic!r}")
    notify_on = values.get("notify_on", "all")
    if notify_on not in ("all", "failure"):
        fail(where, "notify_on", f"must be \"all\" or \"failure\", got {notify_on!r}")
    return email, topic, notify_on


def check_kms_key_arns(values: dict, where: str) -> tuple[str, ...]:
    keys = values.get("kms_key_arns", [])
    if not isinstance(keys, (list, tuple)) or not all(isinstance(k, str) for k in keys):
        fail(where, "kms_key_arns", f"must be a list of KMS key ARNs, got {keys!r}")
    for key in keys:
        if not KMS_KEY_ARN.fullmatch(key):
            fail(where, "kms_key_arns", f"{key!r} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID; "
                                        f"an alias cannot scope a key policy grant)")
    return tuple(keys)


def check_datasync_tasks(values: dict, where: str) -> dict:
    try:
        tasks = check_tasks(values.get("datasync_tasks"))
    except InvalidInputError as exc:
        raise ConfigError(f"{where}: DATASYNC_TASKS: {exc}") from None
    distinct_ids(where, "datasync_tasks", list(tasks), "DataSyncTask")
    return tasks


def check_endpoint_secrets(values: dict, where: str) -> tuple[str, ...]:
    secrets = values.get("endpoint_secrets", [])
    if not isinstance(secrets, (list, tuple)):
        fail(where, "endpoint_secrets", f"must be a list of Secrets Manager secret names or ARNs, got {secrets!r}")
    for secret in secrets:
        try:
            endpoints.parse({"secret": secret}, "ENDPOINT_SECRETS entry")
        except InvalidInputError:
            fail(where, "endpoint_secrets", f"{secret!r} is not a Secrets Manager secret name or ARN")
        if "," in secret:
            fail(where, "endpoint_secrets", f"{secret!r}: a name with ',' cannot be listed")
    return tuple(secrets)


def distinct_ids(where: str, setting: str, names, prefix: str) -> None:
    """Names become resource names by their letters and digits: those must differ too."""
    ids = [logical_id(prefix, n) for n in names]
    if len(set(ids)) != len(ids):
        fail(where, setting, f"has names that differ only in punctuation: {sorted(names)}")


def logical_id(prefix: str, name: str) -> str:
    """A template resource name for a user-given name (letters and digits only)."""
    return prefix + re.sub(r"[^0-9A-Za-z]", "", name.title())
