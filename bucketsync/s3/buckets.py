"""A bucket's region, whether we may reach it at all, and its default encryption."""
from __future__ import annotations

from botocore.exceptions import (BotoCoreError, ClientError, ConnectionClosedError, ConnectTimeoutError,
                                 EndpointConnectionError, NoCredentialsError, ReadTimeoutError)

from .. import errors
from .calls import CREDENTIAL_CODES, _call, error_code, translate


def bucket_region(client, bucket: str) -> str | None:
    """The bucket's region (None when the server does not say, as some
    S3-compatible servers don't). Raises NoSuchBucketError, AccessDeniedError,
    CredentialsError, or EndpointUnreachableError when the server cannot be
    reached at all (give it a client with short timeouts and few retries)."""
    try:
        response = client.head_bucket(Bucket=bucket)
        headers = response["ResponseMetadata"].get("HTTPHeaders", {})
        return headers.get("x-amz-bucket-region")
    except ClientError as exc:
        headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404 or error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
            raise errors.NoSuchBucketError(f"bucket {bucket!r} does not exist") from exc
        if status == 301 and headers.get("x-amz-bucket-region"):
            return headers["x-amz-bucket-region"]
        if status in (400, 403):
            # HEAD answers carry no body, so no error code: a request that
            # has one tells a refused credential from a missing permission.
            _explain_refusal(client, bucket)
            raise errors.AccessDeniedError(f"access to bucket {bucket!r} is denied") from exc
        raise translate(exc, f"HeadBucket {bucket}") from exc
    except NoCredentialsError as exc:
        raise errors.CredentialsError("no credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID)") from exc
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError) as exc:
        raise errors.EndpointUnreachableError(f"cannot reach {client.meta.endpoint_url}: {exc}") from exc
    except BotoCoreError as exc:
        raise errors.TransientError(f"HeadBucket {bucket}: {exc}") from exc


def _explain_refusal(client, bucket: str) -> None:
    """Raise CredentialsError when a one-key listing names a credential code."""
    try:
        client.list_objects_v2(Bucket=bucket, MaxKeys=1)
    except ClientError as exc:
        if error_code(exc) in CREDENTIAL_CODES:
            raise translate(exc, f"at {client.meta.endpoint_url}") from exc
    except BotoCoreError:
        pass


# GetBucketEncryption's answer for a bucket without a default encryption
# configuration: AWS's before it encrypted every bucket by default (January
# 2023; it now answers AES256), and moto 5.2's and other servers' still.
_NO_ENCRYPTION_CONFIGURATION = "ServerSideEncryptionConfigurationNotFoundError"


def default_encryption(client, bucket: str) -> str | None:
    """The algorithm of the bucket's default encryption, as
    GetBucketEncryption names it ("AES256": SSE-S3, "aws:kms": SSE-KMS,
    "aws:kms:dsse": DSSE-KMS), or None when the bucket has no default
    encryption configuration (or the answer names none). Needs
    s3:GetEncryptionConfiguration; raises the project's errors otherwise
    (AccessDeniedError; from a server that does not implement it, S3Error,
    or TransientError for its 501)."""
    with _call(f"GetBucketEncryption {bucket}"):
        try:
            response = client.get_bucket_encryption(Bucket=bucket)
        except ClientError as exc:
            if error_code(exc) == _NO_ENCRYPTION_CONFIGURATION:
                return None
            raise
    rules = response.get("ServerSideEncryptionConfiguration", {}).get("Rules") or ()
    algorithms = [r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for r in rules]
    return next((a for a in algorithms if a), None)
