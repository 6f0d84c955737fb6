"""`fab demo`: the whole product on the embedded emulator.

Seeds a source with a few hundred tricky objects and a destination with
stale, changed and extra ones, runs the real state machine, verifies that
the destination equals the source, then runs again to show zero copies."""
from __future__ import annotations

import sys

import boto3
from rich.console import Console

from ..errors import ConfigError
from ..project.config import load_datasync_tasks
from ..project.options import SyncOptions, build_input
from ..project.terminal import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, fail_early, report_outcome
from . import cli, engine
from .emulator import moto_config
from .verify import differences, snapshot

SOURCE, DESTINATION = "demo-source", "demo-destination"
MiB = 1024 * 1024


def seed(s3) -> None:
    s3.create_bucket(Bucket=SOURCE)
    s3.create_bucket(Bucket=DESTINATION)
    put = s3.put_object
    for year in (2024, 2025):
        for month in range(1, 13):
            for n in range(10):
                put(Bucket=SOURCE, Key=f"photos/{year}/{month:02d}/img-{n:03d}.jpg",
                    Body=f"jpeg {year}-{month}-{n} ".encode() * (n + 1), ContentType="image/jpeg",
                    Metadata={"camera": f"cam-{n % 3}"})
    for n in range(40):
        put(Bucket=SOURCE, Key=f"logs/app/{n:04d}.log", Body=f"log line {n}\n".encode() * 20,
            ContentType="text/plain", CacheControl="max-age=60", Tagging=f"retention=short&n={n}")
    special = ["folder/", "folder/nested/", "empty.txt", "with space/file name.txt", "plus+sign.txt",
               "percent%20literal.txt", "café/naïve résumé.txt", "日本語/ファイル.txt", "emoji/🚀.txt",
               "a//double-slash.txt", "q?uery&amp.txt", "x" * 200 + "/" + "y" * 200 + ".bin"]
    for key in special:
        body = b"" if key.endswith("/") or key == "empty.txt" else f"content of {key}".encode()
        put(Bucket=SOURCE, Key=key, Body=body, Metadata={"origin": "demo"}, Tagging="kind=special")
    # A multipart object (two 5 MiB parts and a tail), copied keeping its part layout.
    key = "big/multipart.bin"
    upload = s3.create_multipart_upload(Bucket=SOURCE, Key=key, ContentType="application/octet-stream",
                                        Metadata={"parts": "3"})
    parts = []
    for number, size in enumerate((5 * MiB, 5 * MiB, 123_456), start=1):
        etag = s3.upload_part(Bucket=SOURCE, Key=key, UploadId=upload["UploadId"], PartNumber=number,
                              Body=bytes([number]) * size)["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    s3.complete_multipart_upload(Bucket=SOURCE, Key=key, UploadId=upload["UploadId"],
                                 MultipartUpload={"Parts": parts})
    # Destination: in sync, stale (other size), changed (same size, other bytes) and extra objects.
    for n in range(10):
        s3.copy_object(Bucket=DESTINATION, Key=f"photos/2024/01/img-{n:03d}.jpg",
                       CopySource={"Bucket": SOURCE, "Key": f"photos/2024/01/img-{n:03d}.jpg"})
    put(Bucket=DESTINATION, Key="logs/app/0000.log", Body=b"stale")
    original = s3.get_object(Bucket=SOURCE, Key="logs/app/0001.log")["Body"].read()
    put(Bucket=DESTINATION, Key="logs/app/0001.log", Body=bytes(reversed(original)))
    for n in range(8):
        put(Bucket=DESTINATION, Key=f"old/removed-{n}.txt", Body=b"no longer at the source")


def main(out=None, err=None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        # The demo uses no setting, but a misspelt one in fabfile_config.py is
        # refused by every task that reads the file, as `fab deploy` refuses it.
        load_datasync_tasks()
    except ConfigError as exc:
        return fail_early(type(exc).__name__, str(exc), False, out, err, EXIT_BAD_INPUT)
    try:
        return _demo(out, err)
    except Exception as exc:   # a bug or an environment problem: one readable line, as every task
        return fail_early(type(exc).__name__, str(exc), False, out, err, EXIT_FAILED)


def _demo(out, err) -> int:
    console = Console(file=out)
    cli.quiet_moto_logs()
    from moto import mock_aws
    with mock_aws(config=moto_config()):
        s3 = boto3.client("s3", region_name=engine.REGION)
        seed(s3)
        count = sum(1 for _ in snapshot(s3, SOURCE, tags=False))
        console.print(f"Seeded s3://{SOURCE} with {count} objects and s3://{DESTINATION} with "
                      f"stale, changed and extra objects (embedded emulator).")
        opts = SyncOptions(source=SOURCE, destination=DESTINATION)
        console.rule("first run")
        status = cli.sync(opts, embedded=True, out=out, err=err)
        if status != EXIT_OK:
            console.print("demo failed: the first run did not succeed")
            return status
        problems = differences(snapshot(s3, SOURCE), snapshot(s3, DESTINATION))
        if problems:
            console.print("demo FAILED: the destination differs from the source:")
            for line in problems[:20]:
                console.print(f"  {line}", markup=False)
            return EXIT_FAILED
        console.print(f"verified: s3://{DESTINATION} equals s3://{SOURCE} ({count} objects: keys, sizes, "
                      f"content hashes, metadata and tags)")
        console.rule("second run (nothing to do)")
        outcome = engine.run(build_input(opts), emulated_aws=True)
        report_outcome(outcome, False, out, err)
        if not outcome.ok or outcome.output["copied"] != 0 or outcome.output["deleted"] != 0:
            console.print("demo FAILED: the second run was not a no-op")
            return EXIT_FAILED
        console.print("second run copied 0 and deleted 0 objects: the destination was already in sync")
    return EXIT_OK
