"""The artifacts bucket that `fab deploy` makes itself (outside the stack):
private, encrypted and TLS only, against a fake S3 client."""
import json
from types import SimpleNamespace

from botocore.exceptions import ClientError

from bucketsync.deploy import artifacts

BUCKET = "bsync-artifacts-123456789012-eu-west-1"


class FakeS3:
    def __init__(self, exists: bool, policy: str | None, endpoint: str = "https://s3.eu-west-1.amazonaws.com"):
        self.exists, self.policy, self.calls = exists, policy, []
        self.meta = SimpleNamespace(endpoint_url=endpoint)

    def head_bucket(self, Bucket):
        if not self.exists:
            raise ClientError({"Error": {"Code": "404"}, "ResponseMetadata": {"HTTPStatusCode": 404}}, "HeadBucket")

    def create_bucket(self, **kwargs):
        self.exists = True
        self.calls.append("create_bucket")

    def put_public_access_block(self, **kwargs):
        self.calls.append("put_public_access_block")

    def put_bucket_encryption(self, **kwargs):
        self.calls.append("put_bucket_encryption")

    def get_bucket_policy(self, Bucket):
        if self.policy is None:
            raise ClientError({"Error": {"Code": "NoSuchBucketPolicy"}}, "GetBucketPolicy")
        return {"Policy": self.policy}

    def put_bucket_policy(self, Bucket, Policy):
        self.policy = Policy
        self.calls.append("put_bucket_policy")


def test_a_new_artifacts_bucket_refuses_requests_without_tls():
    s3 = FakeS3(exists=False, policy=None)
    artifacts.ensure_bucket(s3, BUCKET, "eu-west-1", out=lambda line: None)
    assert s3.calls[0] == "create_bucket" and "put_public_access_block" in s3.calls
    deny = json.loads(s3.policy)["Statement"]
    assert deny == [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                     "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
                     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]


def test_an_earlier_deploys_bucket_gets_the_policy_and_someone_elses_policy_stays():
    s3 = FakeS3(exists=True, policy=None)
    artifacts.ensure_bucket(s3, BUCKET, "cn-north-1", out=lambda line: None)
    assert s3.calls == ["put_bucket_policy"]
    assert json.loads(s3.policy)["Statement"][0]["Resource"][0] == f"arn:aws-cn:s3:::{BUCKET}"
    theirs = json.dumps({"Version": "2012-10-17", "Statement": []})
    s3 = FakeS3(exists=True, policy=theirs)
    artifacts.ensure_bucket(s3, BUCKET, "eu-west-1", out=lambda line: None)
    assert s3.calls == [] and s3.policy == theirs


def test_an_emulator_over_plain_http_is_not_locked_out():
    s3 = FakeS3(exists=False, policy=None, endpoint="http://127.0.0.1:5000")
    artifacts.ensure_bucket(s3, BUCKET, "eu-west-1", out=lambda line: None)
    assert "put_bucket_policy" not in s3.calls and s3.policy is None
