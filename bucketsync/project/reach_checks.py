"""What a deployed run may reach: a schedule's or a mirror's request
against SOURCE_BUCKETS/DESTINATION_BUCKETS and ENDPOINT_SECRETS; and the
MIRRORS setting, whose every entry is such a request."""
from __future__ import annotations

from .. import endpoints, mirror
from ..errors import InvalidInputError
from ..errors import ConfigError
from .setting_checks import distinct_ids, fail


def check_reachable(request, label: str, buckets: dict, secrets) -> None:
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


def check_mirrors(values: dict, buckets: dict, where: str, secrets) -> tuple:
    entries = values.get("mirrors", [])
    if not isinstance(entries, (list, tuple)):
        fail(where, "mirrors", f"must be a list, got {type(entries).__name__}")
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
        check_reachable(request, label, buckets, secrets)
        checked.append(found)
    distinct_ids(where, "mirrors", [m.name for m in checked], "MirrorRule")
    return tuple(checked)
