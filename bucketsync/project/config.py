"""Deploy settings: `fabfile_config.py` (copied from the documented
`fabfile_config_template.py`) loaded by name into a validated object.
Configuration flows one way: file, then command-line overrides, then checks.
Nothing is created anywhere before `load` has succeeded."""
from __future__ import annotations

import runpy
from dataclasses import dataclass, field, fields
from pathlib import Path

from ..errors import ConfigError
from .frontmatter import ROOT
from .reach_checks import check_mirrors
from .schedule_checks import Schedule, check_schedules
from .setting_checks import (check_architecture, check_buckets, check_datasync_tasks, check_endpoint_secrets, check_integer,
                             check_kms_key_arns, check_log_retention, check_notifications, check_region,
                             check_stack_name, check_tags)

CONFIG_FILE = ROOT / "fabfile_config.py"
TEMPLATE_FILE = ROOT / "fabfile_config_template.py"


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
    # The functions' instruction set, and so which awscrt wheel the one code zip carries.
    lambda_architecture: str = "arm64"

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
    return check_datasync_tasks({"datasync_tasks": _read(path).get("DATASYNC_TASKS")}, path.name)


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
    buckets = check_buckets(values, where)
    email, topic, notify_on = check_notifications(values, where)
    retention = check_log_retention(values, where)
    tags = check_tags(values, where)

    def integer(name, low, high=None):
        return check_integer(values, where, name, low, high)

    tasks = check_datasync_tasks(values, where)
    secrets = check_endpoint_secrets(values, where)
    mirrors = check_mirrors(values, buckets, where, secrets)

    return DeployConfig(
        region=check_region(values, where), profile=values.get("profile"), stack_name=check_stack_name(values, where),
        source_buckets=buckets["source_buckets"], destination_buckets=buckets["destination_buckets"],
        work_bucket_retention_days=integer("work_bucket_retention_days", 1, 3650) or 14,
        notification_email=email, sns_topic_arn=topic, notify_on=notify_on,
        notify_after_idle_runs=integer("notify_after_idle_runs", 1),
        schedules=check_schedules(values, buckets, where, tasks, secrets),
        lambda_concurrency=integer("lambda_concurrency", 1),
        map_concurrency=integer("map_concurrency", 1, 10000) or 40, log_retention_days=retention,
        tags=dict(tags), keep_versions=integer("keep_versions", 1, 1000) or 20,
        kms_key_arns=check_kms_key_arns(values, where), datasync_tasks=tasks, endpoint_secrets=secrets,
        mirrors=mirrors, mirror_concurrency=integer("mirror_concurrency", 2, 1000) or 5,
        lambda_architecture=check_architecture(values, where))

