"""Where the user's buckets live in a test: moto (in memory) or a real
SeaweedFS server. The engine itself (scratch bucket, interpreter, Lambda
routing) always runs on moto in-process, as in `fab sync`."""
from __future__ import annotations

import contextlib
import uuid

import boto3
from moto import mock_aws

from bucketsync.local import engine

MiB = 1024 * 1024


class Backend:
    name = ""
    endpoint: str | None = None
    # AWS (and moto) give a layout-preserving multipart copy the source's ETag;
    # SeaweedFS does not (DESIGN.md section 7).
    equal_multipart_etags = True
    # Which destination conditions the server honours (DESIGN.md section 7).
    honours_conditional_deletes = True
    honours_conditional_copies = True

    def __init__(self, client, report_dir):
        self.client = client
        self.report_dir = report_dir

    def bucket(self) -> str:
        name = f"t-{uuid.uuid4().hex[:16]}"
        self.client.create_bucket(Bucket=name)
        return name

    def buckets(self) -> tuple[str, str]:
        return self.bucket(), self.bucket()

    def put(self, bucket, key, body=b"", **kwargs):
        return self.client.put_object(Bucket=bucket, Key=key, Body=body, **kwargs)

    def put_multipart(self, bucket, key, part_sizes, **kwargs):
        upload = self.client.create_multipart_upload(Bucket=bucket, Key=key, **kwargs)
        parts = []
        for number, size in enumerate(part_sizes, start=1):
            body = bytes([number % 251]) * size
            etag = self.client.upload_part(Bucket=bucket, Key=key, UploadId=upload["UploadId"],
                                           PartNumber=number, Body=body)["ETag"]
            parts.append({"PartNumber": number, "ETag": etag})
        self.client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"],
                                              MultipartUpload={"Parts": parts})

    def sync(self, execution_input: dict, **settings) -> engine.Outcome:
        env = {f"BUCKETSYNC_{name.upper()}": str(value) for name, value in settings.items()}
        return engine.run(execution_input, endpoint_url=self.endpoint, settings=env,
                          report_dir=self.report_dir)

    def listing(self, bucket, prefix=""):
        """{key: (size, etag)} straight from ListObjectsV2."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return {o["Key"]: (o["Size"], o["ETag"]) for p in pages for o in p.get("Contents", ())}


class MotoBackend(Backend):
    name = "moto"
    # moto 5.2.5 deletes whatever a DeleteObjects ETag says, and ignores
    # CopyObject's If-None-Match/If-Match on the destination.
    honours_conditional_deletes = False
    honours_conditional_copies = False


class SeaweedBackend(Backend):
    name = "seaweedfs"
    equal_multipart_etags = False

    def __init__(self, server, report_dir):
        super().__init__(server.client(), report_dir)
        self.endpoint = server.endpoint


@contextlib.contextmanager
def moto_backend(report_dir):
    with mock_aws(config=engine.moto_config()):
        yield MotoBackend(boto3.client("s3", region_name=engine.REGION), report_dir)


@contextlib.contextmanager
def seaweed_backend(server, report_dir):
    # The engine's scratch and interpreter stay in moto; SeaweedFS is never
    # intercepted, and the user's (here: dummy) credentials are kept.
    with mock_aws(config=engine.moto_config(real_credentials=True)):
        yield SeaweedBackend(server, report_dir)
