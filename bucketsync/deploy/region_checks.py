"""Checks that ask AWS, at `fab deploy` before anything is created: where
the buckets of MIRRORS and DATASYNC_TASKS are, against the stack's REGION."""
from __future__ import annotations

from ..errors import ConfigError
from ..project.config import DeployConfig


def check_mirror_regions(s3_client, config: DeployConfig) -> None:
    """ConfigError, in one line naming the rule, for a mirror whose source
    bucket is not in the stack's REGION: an EventBridge rule sees only the
    events of its own region, so that mirror would never fire, silently.
    Asks S3 (the deploy's client), before anything is created."""
    from .mirror_template import rule_id
    for found in config.mirrors:
        bucket = found.request.source
        label = f"MIRRORS entry {found.name!r} (EventBridge rule {rule_id(found)})"
        region = bucket_region(s3_client, bucket, label)
        if region is None:
            raise ConfigError(f"{label}: the region of source bucket {bucket!r} cannot be learned (HeadBucket and "
                              f"GetBucketLocation gave none); it must be REGION {config.region}")
        if region != config.region:
            raise ConfigError(
                f"{label}: source bucket {bucket!r} is in {region}, not in REGION {config.region}; an EventBridge "
                f"rule sees only its own region's S3 events, so this mirror would never fire: deploy it from a "
                f"stack in {region}")


def check_datasync_regions(s3_client, config: DeployConfig) -> None:
    """ConfigError, in one line naming the rule, for a DataSync task with
    neither end in the stack's REGION: AWS's CreateTask ("one of the two
    locations that you specify must reside in the Region where DataSync is
    being used"). An S3 end's region is asked of S3 (HeadBucket), an EFS
    end's is in its ARN; before anything is created."""
    for name, spec in sorted(config.datasync_tasks.items()):
        label = f"DATASYNC_TASKS {name!r}"
        regions = []
        for location in (spec.source, spec.destination):
            if location.kind == "s3":
                regions.append(bucket_region(s3_client, location.bucket, label, "bucket"))
            elif location.kind == "efs":
                regions.append(location.efs.split(":")[3])
        if config.region not in regions and None not in regions:
            raise ConfigError(
                f"{label}: its locations are in {' and '.join(sorted(set(regions)))}, none in REGION {config.region}; "
                f"DataSync runs a task in the region of one of its locations (CreateTask): deploy it from a stack "
                f"there (for another account's bucket, AWS's cross-account transfer runs in the destination's region)")


def bucket_region(client, bucket: str, label: str, what: str = "source bucket") -> str | None:
    """A bucket's region: S3 names it in HeadBucket's x-amz-bucket-region
    header, also when it answers 301 (another region) or 403 (no
    s3:ListBucket on it), so the deployer needs no right on the bucket;
    GetBucketLocation where a server leaves the header out."""
    from botocore.exceptions import ClientError
    try:
        response = client.head_bucket(Bucket=bucket)["ResponseMetadata"]
    except ClientError as exc:
        response = exc.response.get("ResponseMetadata", {})
        if response.get("HTTPStatusCode") == 404:
            raise ConfigError(f"{label}: {what} {bucket!r} does not exist") from None
    region = response.get("HTTPHeaders", {}).get("x-amz-bucket-region")
    if region:
        return region
    try:
        constraint = client.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    except ClientError:
        return None
    # AWS: no constraint is us-east-1, and "EU" is the old name of eu-west-1.
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(constraint, constraint)

