"""Where the user's buckets live in a test: moto (in memory) or a real
SeaweedFS server. The engine itself (scratch bucket, interpreter, Lambda
routing) always runs on moto in-process, as in `fab sync`."""
from __future__ import annotations

import contextlib
import uuid

import boto3
from moto import mock_aws

from bucketsync.local import emulator, engine

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
    with mock_aws(config=emulator.moto_config()):
        yield MotoBackend(boto3.client("s3", region_name=engine.REGION), report_dir)


@contextlib.contextmanager
def seaweed_backend(server, report_dir):
    # The engine's scratch and interpreter stay in moto; SeaweedFS is never
    # intercepted, and the user's (here: dummy) credentials are kept.
    with mock_aws(config=emulator.moto_config(real_credentials=True)):
        yield SeaweedBackend(server, report_dir)


class RoutingClient:
    """A boto3 S3 client stand-in that sends each call to the client of the
    bucket it names (tests read and seed two endpoints through one object)."""

    def __init__(self, by_bucket: dict, default):
        self.by_bucket, self.default = by_bucket, default

    def _for(self, kwargs):
        return self.by_bucket.get(kwargs.get("Bucket"), self.default)

    def get_paginator(self, name):
        router = self

        class Paginator:
            def paginate(self, **kwargs):
                return router._for(kwargs).get_paginator(name).paginate(**kwargs)
        return Paginator()

    def __getattr__(self, name):
        def call(*args, **kwargs):
            return getattr(self._for(kwargs), name)(*args, **kwargs)
        return call


class CrossBackend(Backend):
    """Source buckets on one endpoint, destination buckets on another: every
    copy streams through the engine (GET from one, PUT to the other)."""

    def __init__(self, source: Backend, destination: Backend, report_dir):
        self.source_side, self.destination_side = source, destination
        self.name = f"{source.name}->{destination.name}"
        self.equal_multipart_etags = False   # the ETags of two servers' uploads need not agree
        self.honours_conditional_deletes = destination.honours_conditional_deletes
        self.honours_conditional_copies = destination.honours_conditional_copies
        self._buckets: dict = {}
        super().__init__(RoutingClient(self._buckets, destination.client), report_dir)
        self.endpoint = None

    def buckets(self) -> tuple[str, str]:
        source, destination = self.source_side.bucket(), self.destination_side.bucket()
        self._buckets.update({source: self.source_side.client, destination: self.destination_side.client})
        return source, destination

    def bucket(self) -> str:
        name = self.destination_side.bucket()
        self._buckets[name] = self.destination_side.client
        return name

    def put(self, bucket, key, body=b"", **kwargs):
        # Servers default a missing Content-Type differently, and SeaweedFS
        # replaces "application/octet-stream" with a type it sniffs (text/plain):
        # seeded objects name AWS's default type (binary/octet-stream) explicitly.
        kwargs.setdefault("ContentType", "binary/octet-stream")
        return super().put(bucket, key, body, **kwargs)

    def put_multipart(self, bucket, key, part_sizes, **kwargs):
        kwargs.setdefault("ContentType", "binary/octet-stream")
        return super().put_multipart(bucket, key, part_sizes, **kwargs)

    def sides(self) -> dict:
        from bucketsync.endpoints import Endpoint
        return {"source": Endpoint(url=self.source_side.endpoint), "destination": Endpoint(url=self.destination_side.endpoint)}

    def sync(self, execution_input: dict, **settings) -> engine.Outcome:
        env = {f"BUCKETSYNC_{name.upper()}": str(value) for name, value in settings.items()}
        return engine.run(execution_input, settings=env, report_dir=self.report_dir, sides=self.sides())


@contextlib.contextmanager
def cross_backend(kind: str, servers, report_dir):
    """`kind`: "seaweedfs->seaweedfs" (two servers), "aws->seaweedfs" or
    "seaweedfs->aws" (moto standing in for AWS on one side)."""
    first, second = servers
    with mock_aws(config=emulator.moto_config(real_credentials=True)):
        aws = MotoBackend(boto3.client("s3", region_name=engine.REGION), report_dir)
        sides = {"seaweedfs->seaweedfs": (SeaweedBackend(first, report_dir), SeaweedBackend(second, report_dir)),
                 "aws->seaweedfs": (aws, SeaweedBackend(first, report_dir)),
                 "seaweedfs->aws": (SeaweedBackend(first, report_dir), aws)}[kind]
        yield CrossBackend(*sides, report_dir)
