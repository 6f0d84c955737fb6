"""Each side's place (endpoint and profile) as the flags of `fab sync` and
`fab mirror-replay` give it, and as the environment and AWS configuration
complete it."""
from __future__ import annotations

import os

from ..endpoints import AWS, SIDES, Endpoint, check_url, place, resolve
from ..errors import InvalidInputError
from ..project.options import SyncOptions


def endpoint_for(opts: SyncOptions) -> str | None:
    return opts.endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def side_endpoints(opts: SyncOptions) -> dict[str, Endpoint]:
    """Each side's place from the flags (see `flag_places`)."""
    return flag_places(opts.source_endpoint_url, opts.destination_endpoint_url, opts.endpoint_url,
                       opts.source_profile, opts.destination_profile)


def flag_places(source_url: str | None, destination_url: str | None, shared_url: str | None = None,
                source_profile: str | None = None, destination_profile: str | None = None) -> dict[str, Endpoint]:
    """Each side's place as its requests will really go: its own
    --<side>-endpoint-url, else the shared one (--endpoint-url, then
    AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL), else the endpoint its profile
    (or the default configuration) names, else AWS; and its own profile, if
    any. A place left out here would be taken for AWS while botocore sends
    its requests elsewhere: the same-bucket check and the lease would then
    compare the wrong places. Raises InvalidInputError for a URL that is not
    one, or a profile that does not exist."""
    shared = shared_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None
    sides = {}
    for side, url, profile in (("source", source_url, source_profile),
                               ("destination", destination_url, destination_profile)):
        for given, flag in ((url, f"--{side}-endpoint-url"), (shared_url, "--endpoint-url")):
            if given:
                check_url(given, flag)
        url = (url or shared or configured_url(profile) or "").rstrip("/") or None
        sides[side] = Endpoint(url=url, profile=profile or None)
    return sides


def configured_url(profile: str | None) -> str | None:
    """The S3 endpoint that a profile's configuration (`endpoint_url`, or a
    `services` section), or the default configuration's with no profile,
    sends requests to, when it is not AWS; None otherwise."""
    import botocore.session
    from botocore.exceptions import ProfileNotFound
    try:
        session = botocore.session.Session(profile=profile)
        scoped = session.get_scoped_config()
    except ProfileNotFound:
        raise InvalidInputError(f"profile {profile!r} is not in your AWS configuration") from None
    if "endpoint_url" not in scoped and "services" not in scoped:
        return None   # the common case, without building a client
    url = session.create_client("s3", region_name=session.get_config_variable("region") or "us-east-1").meta.endpoint_url
    return None if place(url) == AWS else url


def where(inputs, sides: dict[str, Endpoint]) -> dict[str, Endpoint]:
    """Each side's place as the run will resolve it: the input's
    `<side>_endpoint` first, else the flags'."""
    request = inputs.sync
    return {side: resolve(getattr(request, f"{side}_endpoint", None), side, sides) for side in SIDES}
