"""The artifacts bucket: deploy's own, outside the stack (the stack's code
must be uploaded before the stack exists), and the code package's upload."""
from __future__ import annotations

import json

from botocore.exceptions import ClientError

from ..s3 import error_code
from . import package
from ..project.config import DeployConfig
from ..errors import DeployError
from .stack_names import partition_of


def artifacts_bucket(config: DeployConfig, account: str) -> str:
    return f"{config.stack_name.lower()[:20]}-artifacts-{account}-{config.region}"


def tls_only_policy(bucket: str, region: str) -> dict:
    """The artifacts bucket's policy: every request without TLS is refused
    (as the work bucket's, in the template)."""
    arn = f"arn:{partition_of(region)}:s3:::{bucket}"
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}


def ensure_bucket(s3, bucket: str, region: str, out) -> None:
    """The artifacts bucket (deploy's own, outside the stack: the stack's
    code must be uploaded before the stack exists): private, encrypted,
    TLS only. A bucket an earlier deploy made without a policy gets the
    TLS-only one; a policy someone put there is left as it is."""
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
            raise DeployError(f"artifacts bucket {bucket}: {exc}") from exc
        out(f"creating artifacts bucket {bucket}")
        kwargs = {"Bucket": bucket}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**kwargs)
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    if not s3.meta.endpoint_url.startswith("https://"):
        # An emulator reached over plain HTTP: a TLS-only policy would refuse
        # every later request of this very deploy (moto enforces it).
        return
    try:
        s3.get_bucket_policy(Bucket=bucket)
        return
    except ClientError as exc:
        if error_code(exc) != "NoSuchBucketPolicy":
            raise DeployError(f"artifacts bucket {bucket}: {exc}") from exc
    # A Deny is not a public policy: BlockPublicPolicy lets it in.
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(tls_only_policy(bucket, region)))


def upload_code(s3, bucket: str, data: bytes) -> tuple[str, bool]:
    """Upload the package under its content hash unless it is already there."""
    key = package.object_key(data)
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return key, False
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
            raise
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    return key, True
