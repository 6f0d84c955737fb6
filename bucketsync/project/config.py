"""Deploy settings: `fabfile_config.py` (copied from the documented
`fabfile_config_template.py`) loaded by name into a validated object.
Configuration flows one way: file, then command-line overrides, then checks.
Nothing is created anywhere before `load` has succeeded."""
from __future__ import annotations

import json
import re
import runpy
import zoneinfo
from dataclasses import dataclass, field, fields
from pathlib import Path

from .. import endpoints, mirror
from ..datasync.ownership import check_beside_sync
from ..datasync.tasks import check_tasks
from ..errors import InvalidInputError
from ..inputs import validate_input
from ..request import bucket_name_problem
from ..errors import ConfigError
from .frontmatter import ROOT

CONFIG_FILE = ROOT / "fabfile_config.py"
TEMPLATE_FILE = ROOT / "fabfile_config_template.py"
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)


def logical_id(prefix: str, name: str) -> str:
    """A template resource name for a user-given name (letters and digits only)."""
    return prefix + re.sub(r"[^0-9A-Za-z]", "", name.title())


def _distinct_ids(where: str, setting: str, names, prefix: str) -> None:
    """Names become resource names by their letters and digits: those must differ too."""
    ids = [logical_id(prefix, n) for n in names]
    if len(set(ids)) != len(ids):
        _fail(where, setting, f"has names that differ only in punctuation: {sorted(names)}")


@dataclass(frozen=True)
class Schedule:
    name: str
    expression: str
    timezone: str
    input: dict
    enabled: bool = True

    @property
    def logical_name(self) -> str:
        """Its resource's name in the template (letters and digits only)."""
        return logical_id("Schedule", self.name)


@dataclass(frozen=True)
class DeployConfig:
    region: str
    source_buckets: tuple[str, ...]
    destination_buckets: tuple[str, ...]
    profile: str | None = None
    stack_name: str = "bucketsync"
    work_bucket_retention_days: int = 14
    notification_email: str | None = None
    sns_topic_arn: str | None = None
    notify_on: str = "all"
    notify_after_idle_runs: int | None = None
    schedules: tuple[Schedule, ...] = ()
    lambda_concurrency: int | None = None
    map_concurrency: int = 40
    log_retention_days: int = 30
    tags: dict = field(default_factory=dict)
    keep_versions: int = 20
    kms_key_arns: tuple[str, ...] = ()
    datasync_tasks: dict = field(default_factory=dict)   # name -> datasync.tasks.TaskSpec
    # Secrets Manager secrets (names or ARNs) holding other endpoints' key
    # pairs, that inputs may name in source_endpoint/destination_endpoint.
    endpoint_secrets: tuple[str, ...] = ()
    mirrors: tuple = ()   # mirror.Mirror: event-driven key-by-key mirrors
    # The mirror function's most concurrent executions (its SQS event
    # source's ScalingConfig): unbounded, SQS would scale it to 1,000 and
    # drain the pool that MAP_CONCURRENCY was sized against.
    mirror_concurrency: int = 5

    @property
    def notifications(self) -> bool:
        return bool(self.notification_email or self.sns_topic_arn)


SETTING_NAMES = {f.name.upper(): f.name for f in fields(DeployConfig)}
REQUIRED = ("REGION", "SOURCE_BUCKETS", "DESTINATION_BUCKETS")


def _read(path: Path) -> dict:
    """The file's settings, by their upper-case names; ConfigError for a
    name that is no setting (a typo would otherwise be silently ignored),
    for `fab deploy` and local runs alike."""
    try:
        namespace = runpy.run_path(str(path))
    except Exception as exc:
        raise ConfigError(f"{path.name} could not be read: {type(exc).__name__}: {exc}") from None
    settings = {name: value for name, value in namespace.items() if name.isupper() and not name.startswith("_")}
    unknown = sorted(set(settings) - set(SETTING_NAMES))
    if unknown:
        raise ConfigError(f"{path.name}: unknown setting(s) {', '.join(unknown)}; the settings are "
                          f"those of {TEMPLATE_FILE.name}: {', '.join(sorted(SETTING_NAMES))}")
    return settings


def load_datasync_tasks(path: Path | None = None) -> dict:
    """DATASYNC_TASKS alone, for local runs (which need no REGION or
    buckets): {} when there is no settings file or no such setting. The
    file's names are checked as `fab deploy` checks them."""
    path = Path(path or CONFIG_FILE)
    if not path.exists():
        return {}
    return _datasync_tasks({"datasync_tasks": _read(path).get("DATASYNC_TASKS")}, path.name)


def load(path: Path | None = None, overrides: dict | None = None) -> DeployConfig:
    """Read and check the settings file (default: fabfile_config.py in the
    project); `overrides` (lower-case names, from command-line flags) win over
    the file. Raises ConfigError."""
    path = Path(path or CONFIG_FILE)
    if not path.exists():
        raise ConfigError(f"{path.name} not found: copy {TEMPLATE_FILE.name} to {path.name} "
                          f"and set at least {', '.join(REQUIRED)}")
    settings = _read(path)
    values = {SETTING_NAMES[name]: value for name, value in settings.items()}
    for name, value in (overrides or {}).items():
        if name not in SETTING_NAMES.values():
            raise ConfigError(f"unknown override {name!r}")
        if value is not None:
            values[name] = value
    return check(values, path.name)


def check(values: dict, where: str = "config") -> DeployConfig:
    """The settings (lower-case names) checked into a DeployConfig; raises
    ConfigError naming the first setting that is wrong and why."""
    for name in REQUIRED:
        if values.get(name.lower()) in (None, "", [], ()):
            raise ConfigError(f"{where}: {name} is not set")
    buckets = _buckets(values, where)
    email, topic, notify_on = _notifications(values, where)
    retention = values.get("log_retention_days", 30)
    if retention not in LOG_RETENTION_DAYS:
        _fail(where, "log_retention_days", f"must be one of CloudWatch's values {LOG_RETENTION_DAYS}, got {retention!r}")
    tags = values.get("tags", {})
    if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        _fail(where, "tags", f"must be a dict of strings to strings, got {tags!r}")

    def integer(name, low, high=None):
        return _integer(values, where, name, low, high)

    tasks = _datasync_tasks(values, where)
    secrets = _endpoint_secrets(values, where)
    mirrors = _mirrors(values, buckets, where, secrets)

    return DeployConfig(
        region=_region(values, where), profile=values.get("profile"), stack_name=_stack_name(values, where),
        source_buckets=buckets["source_buckets"], destination_buckets=buckets["destination_buckets"],
        work_bucket_retention_days=integer("work_bucket_retention_days", 1, 3650) or 14,
        notification_email=email, sns_topic_arn=topic, notify_on=notify_on,
        notify_after_idle_runs=integer("notify_after_idle_runs", 1),
        schedules=_schedules(values, buckets, where, tasks, secrets), lambda_concurrency=integer("lambda_concurrency", 1),
        map_concurrency=integer("map_concurrency", 1, 10000) or 40, log_retention_days=retention,
        tags=dict(tags), keep_versions=integer("keep_versions", 1, 1000) or 20,
        kms_key_arns=_kms_key_arns(values, where), datasync_tasks=tasks, endpoint_secrets=secrets,
        mirrors=mirrors, mirror_concurrency=integer("mirror_concurrency", 2, 1000) or 5)


def _fail(where: str, name: str, problem: str):
    raise ConfigError(f"{where}: {name.upper()} {problem}")


def _integer(values: dict, where: str, name: str, low: int, high: int | None = None) -> int | None:
    """The setting as an integer within [low, high], or None when unset."""
    value = values.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high and value > high):
        _fail(where, name, f"must be an integer from {low}{f' to {high}' if high else ' up'}, got {value!r}")
    return value


def _region(values: dict, where: str) -> str:
    region = values["region"]
    if not isinstance(region, str) or not re.fullmatch(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d", region):
        _fail(where, "region", f"is not an AWS region name (like eu-west-1), got {region!r}")
    return region


def _stack_name(values: dict, where: str) -> str:
    stack = values.get("stack_name", "bucketsync")
    if not isinstance(stack, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,39}", stack):
        _fail(where, "stack_name", f"must be 1-40 letters, digits or hyphens, starting with a letter, got {stack!r}")
    return stack


def _buckets(values: dict, where: str) -> dict[str, tuple[str, ...]]:
    buckets = {}
    for name in ("source_buckets", "destination_buckets"):
        value = values[name]
        if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
            _fail(where, name, f"must be a non-empty list of bucket names, got {value!r}")
        for bucket in value:
            problem = bucket_name_problem(bucket) if isinstance(bucket, str) else "is not a string"
            if problem:
                _fail(where, name, f"has {bucket!r}, which is not a valid bucket name: it {problem}")
        buckets[name] = tuple(value)
    return buckets


def _notifications(values: dict, where: str) -> tuple[str | None, str | None, str]:
    email = values.get("notification_email")
    if email is not None and (not isinstance(email, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email)):
        _fail(where, "notification_email", f"is not an email address, got {email!r}")
    topic = values.get("sns_topic_arn")
    if topic is not None and (not isinstance(topic, str)
                              or not re.fullmatch(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+", topic)):
        _fail(where, "sns_topic_arn", f"is not an SNS topic ARN, got {topic!r}")
    notify_on = values.get("notify_on", "all")
    if notify_on not in ("all", "failure"):
        _fail(where, "notify_on", f"must be \"all\" or \"failure\", got {notify_on!r}")
    return email, topic, notify_on


def _schedules(values: dict, buckets: dict, where: str, tasks: dict, secrets=()) -> tuple[Schedule, ...]:
    schedules = values.get("schedules", [])
    if not isinstance(schedules, (list, tuple)):
        _fail(where, "schedules", f"must be a list, got {type(schedules).__name__}")
    checked = tuple(check_schedule(s, buckets, where, tasks, secrets) for s in schedules)
    # Names are unique within the stack's schedule group; their letters and
    # digits alone also name the template resources, so those must differ too.
    names = [s.name for s in checked]
    if len(set(names)) != len(names):
        _fail(where, "schedules", f"has duplicate names: {sorted({n for n in names if names.count(n) > 1})}")
    _distinct_ids(where, "schedules", names, "Schedule")
    return checked


def _kms_key_arns(values: dict, where: str) -> tuple[str, ...]:
    keys = values.get("kms_key_arns", [])
    if not isinstance(keys, (list, tuple)) or not all(isinstance(k, str) for k in keys):
        _fail(where, "kms_key_arns", f"must be a list of KMS key ARNs, got {keys!r}")
    for key in keys:
        if not KMS_KEY_ARN.fullmatch(key):
            _fail(where, "kms_key_arns", f"{key!r} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID; "
                                         f"an alias cannot scope a key policy grant)")
    return tuple(keys)


def _datasync_tasks(values: dict, where: str) -> dict:
    try:
        tasks = check_tasks(values.get("datasync_tasks"))
    except InvalidInputError as exc:
        raise ConfigError(f"{where}: DATASYNC_TASKS: {exc}") from None
    _distinct_ids(where, "datasync_tasks", list(tasks), "DataSyncTask")
    return tasks


def _mirrors(values: dict, buckets: dict, where: str, secrets) -> tuple:
    entries = values.get("mirrors", [])
    if not isinstance(entries, (list, tuple)):
        _fail(where, "mirrors", f"must be a list, got {type(entries).__name__}")
    checked = []
    for entry in entries:
        label = f"{where}: MIRRORS entry {entry.get('name', '?') if isinstance(entry, dict) else entry!r}"
        try:
            found = mirror.check_mirror(entry, label, endpoints.DEPLOYED)
        except InvalidInputError as exc:
            raise ConfigError(str(exc)) from None
        request = found.request
        if request.source_endpoint is not None:
            raise ConfigError(f"{label}: the source must be an AWS bucket (its events come from S3 through EventBridge)")
        _check_reachable(request, label, buckets, secrets)
        checked.append(found)
    _distinct_ids(where, "mirrors", [m.name for m in checked], "MirrorRule")
    return tuple(checked)


def _check_reachable(request, label: str, buckets: dict, secrets) -> None:
    """What a deployed run of `request` (a schedule's, a mirror's) may reach:
    its AWS buckets are in SOURCE_BUCKETS/DESTINATION_BUCKETS (IAM reaches
    only AWS's buckets; another endpoint's keys decide there), and the
    secrets it names are in ENDPOINT_SECRETS."""
    for side, setting, verb in (("source", "SOURCE_BUCKETS", "read"), ("destination", "DESTINATION_BUCKETS", "write")):
        place = getattr(request, f"{side}_endpoint")
        if place is not None:
            try:
                endpoints.check_secret_allowed(place, f"{side}_endpoint", set(secrets))
            except InvalidInputError as exc:
                raise ConfigError(f"{label}: {exc}") from None
        bucket = getattr(request, side)
        if (place is None or place.on_aws) and bucket not in buckets[setting.lower()]:
            raise ConfigError(f"{label}: {side} {bucket!r} is not in {setting}, so the stack may not {verb} it")


def _endpoint_secrets(values: dict, where: str) -> tuple[str, ...]:
    secrets = values.get("endpoint_secrets", [])
    if not isinstance(secrets, (list, tuple)):
        _fail(where, "endpoint_secrets", f"must be a list of Secrets Manager secret names or ARNs, got {secrets!r}")
    for secret in secrets:
        try:
            endpoints.parse({"secret": secret}, "ENDPOINT_SECRETS entry")
        except InvalidInputError:
            _fail(where, "endpoint_secrets", f"{secret!r} is not a Secrets Manager secret name or ARN")
        if "," in secret:
            _fail(where, "endpoint_secrets", f"{secret!r}: a name with ',' cannot be listed")
    return tuple(secrets)


KMS_KEY_ARN = re.compile(r"arn:aws(-cn|-us-gov|-iso|-iso-b)?:kms:[a-z0-9-]+:\d{12}:key/(mrk-)?[0-9a-f-]{32,36}")
SCHEDULE_KEYS = {"name", "expression", "timezone", "input", "enabled"}


def check_schedule(entry, buckets: dict, where: str, tasks: dict | None = None, secrets=()) -> Schedule:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: each SCHEDULES entry must be a dict, got {entry!r}")
    label = f"{where}: schedule {entry.get('name', '?')!r}"
    unknown = sorted(set(entry) - SCHEDULE_KEYS)
    if unknown:
        raise ConfigError(f"{label} has unknown key(s) {unknown}; allowed: {sorted(SCHEDULE_KEYS)}")
    for key in ("name", "expression", "timezone", "input"):
        if key not in entry:
            raise ConfigError(f"{label} is missing {key!r}")
    name = entry["name"]
    if not isinstance(name, str) or not re.fullmatch(r"[0-9A-Za-z_.-]{1,64}", name):
        raise ConfigError(f"{label}: name must be 1-64 letters, digits, '.', '_' or '-' (EventBridge Scheduler's rule)")
    problem = expression_problem(entry["expression"])
    if problem:
        raise ConfigError(f"{label}: expression {entry['expression']!r} {problem}")
    timezone = entry["timezone"]
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigError(f"{label}: timezone {timezone!r} is not an IANA time zone name (like Europe/Paris or UTC)") from None
    try:
        inputs = validate_input(entry["input"], endpoints.DEPLOYED)
    except InvalidInputError as exc:
        raise ConfigError(f"{label}: input is not valid: {exc}") from None
    if inputs.sync is not None:
        _check_reachable(inputs.sync, label, buckets, secrets)
    if inputs.datasync is not None and not inputs.datasync.by_arn and inputs.datasync.task not in (tasks or {}):
        raise ConfigError(f"{label}: datasync task {inputs.datasync.task!r} is not in DATASYNC_TASKS")
    if inputs.datasync is not None and not inputs.datasync.by_arn:
        try:
            check_beside_sync(inputs.sync, inputs.datasync, tasks[inputs.datasync.task])
        except InvalidInputError as exc:
            raise ConfigError(f"{label}: {exc}") from None
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{label}: enabled must be true or false")
    return Schedule(name, entry["expression"], timezone, json.loads(json.dumps(entry["input"])), enabled)


_CRON_FIELD = re.compile(r"^[0-9A-Za-z*?,/#L W-]+$")


def expression_problem(expression) -> str | None:
    """Why an EventBridge Scheduler expression is malformed, or None."""
    if not isinstance(expression, str):
        return "must be a string"
    if m := re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression):
        value, unit = int(m.group(1)), m.group(2)
        if value < 1:
            return "must have a rate of at least 1"
        if (value == 1) != (not unit.endswith("s")):
            return "must use a singular unit for 1 and a plural one otherwise (rate(1 hour), rate(2 hours))"
        return None
    if re.fullmatch(r"at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)", expression):
        return None
    if m := re.fullmatch(r"cron\((.*)\)", expression):
        parts = m.group(1).split()
        if len(parts) != 6:
            return "must have 6 fields: minutes hours day-of-month month day-of-week year"
        if not all(_CRON_FIELD.match(p) for p in parts):
            return "has characters a cron field cannot hold"
        day_of_month, day_of_week = parts[2], parts[4]
        if (day_of_month == "?") == (day_of_week == "?"):
            return "must have '?' in exactly one of day-of-month and day-of-week"
        for value, low, high, what in ((parts[0], 0, 59, "minutes"), (parts[1], 0, 23, "hours")):
            for number in re.findall(r"\d+", value):
                if not low <= int(number) <= high:
                    return f"has {what} {number} outside {low}-{high}"
        return None
    return "must be cron(...), rate(...) or at(...)"
