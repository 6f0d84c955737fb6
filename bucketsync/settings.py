"""Runtime settings, read from the environment.

On AWS these come from the Lambda functions' environment (set by the
template); the local engine sets them for its in-process run; tests set small
thresholds to exercise the multipart path with small objects."""
from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import SettingsError

MiB = 1024 * 1024
GiB = 1024 * MiB


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    work_bucket: str
    work_prefix: str
    # A data-plane endpoint (S3-compatible server). Deliberately not
    # AWS_ENDPOINT_URL_S3: the local engine must keep that away from the
    # interpreter, whose scratch reads must stay in memory.
    endpoint_url: str | None
    # Single-part sources at or above this size are copied with parallel
    # UploadPartCopy in parts of `part_size`. Multipart sources always keep
    # their own part layout (that keeps the ETag equal on AWS).
    multipart_threshold: int
    part_size: int
    copy_threads: int
    part_threads: int
    chunk_actions: int
    chunk_bytes: int
    plan_seconds: int
    sns_topic_arn: str | None
    # The run lease (bucketsync.lease): how long it lives unrenewed, and, for
    # local runs, the directory that holds it (else the work bucket).
    lease_seconds: int
    # How long one object's copy, one delete batch or one listing page keeps
    # being retried through throttling and outages before it counts as failed.
    retry_seconds: int
    lease_dir: str | None
    # The DataSync catch-up record's directory for local runs (else the work bucket).
    datasync_state_dir: str | None = None
    # Streamed copies (across endpoints) buffer at most this many bytes at once
    # in the whole process (transfer.ByteBudget).
    stream_buffer_bytes: int = 256 * MiB
    # Where the user gets the report, when not in the work area: a local
    # run's file on this machine (its scratch bucket is gone after the run).
    report_location: str | None = None
    # AWS S3 is the local engine's embedded emulator (moto: `fab demo`,
    # tests), not AWS: its gaps are not the user's servers'.
    emulated_aws: bool = False
    # How the user's buckets are reached: "crt" (the AWS Common Runtime's S3
    # client for the hot calls, s3/crt.py) or "botocore" (boto3 for every call).
    s3_transport: str = "crt"


def load() -> Settings:
    return Settings(
        work_bucket=os.environ.get("BUCKETSYNC_WORK_BUCKET", ""),
        work_prefix=os.environ.get("BUCKETSYNC_WORK_PREFIX", ""),
        endpoint_url=os.environ.get("BUCKETSYNC_S3_ENDPOINT_URL") or None,
        multipart_threshold=_int("BUCKETSYNC_MULTIPART_THRESHOLD", 5 * GiB),
        part_size=_int("BUCKETSYNC_PART_SIZE", 64 * MiB),
        copy_threads=_int("BUCKETSYNC_COPY_THREADS", 32),
        part_threads=_int("BUCKETSYNC_PART_THREADS", 8),
        chunk_actions=_int("BUCKETSYNC_CHUNK_ACTIONS", 1000),
        chunk_bytes=_int("BUCKETSYNC_CHUNK_BYTES", 50 * GiB),
        plan_seconds=_int("BUCKETSYNC_PLAN_SECONDS", 600),
        sns_topic_arn=os.environ.get("BUCKETSYNC_SNS_TOPIC_ARN") or None,
        lease_seconds=_int("BUCKETSYNC_LEASE_SECONDS", 1800),
        retry_seconds=_int("BUCKETSYNC_RETRY_SECONDS", 120),
        lease_dir=os.environ.get("BUCKETSYNC_LEASE_DIR") or None,
        datasync_state_dir=os.environ.get("BUCKETSYNC_DATASYNC_STATE_DIR") or None,
        stream_buffer_bytes=_int("BUCKETSYNC_STREAM_BUFFER_BYTES", 256 * MiB),
        report_location=os.environ.get("BUCKETSYNC_REPORT_LOCATION") or None,
        emulated_aws=os.environ.get("BUCKETSYNC_EMULATED_AWS") == "1",
        s3_transport=_transport(),
    )


TRANSPORTS = ("crt", "botocore")


def _transport() -> str:
    value = os.environ.get("BUCKETSYNC_S3_TRANSPORT") or "crt"
    if value not in TRANSPORTS:
        raise SettingsError(f"BUCKETSYNC_S3_TRANSPORT must be one of {', '.join(TRANSPORTS)}, got {value!r}")
    return value
