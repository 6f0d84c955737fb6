"""A bucket's region, as `fab deploy` learns it before anything is created:
S3's x-amz-bucket-region header (also on a 301 or a 403, so the deployer
needs no right on the bucket), else GetBucketLocation."""
import pytest
from botocore.exceptions import ClientError

from bucketsync.deploy import region_checks
from bucketsync.errors import ConfigError


def _refused(status: int, region: str | None = None) -> ClientError:
    headers = {"x-amz-bucket-region": region} if region else {}
    return ClientError({"Error": {"Code": str(status)},
                        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers}}, "HeadBucket")


class _S3:
    def __init__(self, head, location=None):
        self.head, self.location = head, location

    def head_bucket(self, Bucket):
        if isinstance(self.head, Exception):
            raise self.head
        return {"ResponseMetadata": {"HTTPStatusCode": 200, "HTTPHeaders": self.head}}

    def get_bucket_location(self, Bucket):
        if isinstance(self.location, Exception):
            raise self.location
        return {"LocationConstraint": self.location}


@pytest.mark.parametrize("head", [{"x-amz-bucket-region": "us-west-2"}, _refused(301, "us-west-2"),
                                  _refused(403, "us-west-2")])
def test_the_header_names_the_region_whatever_the_status(head):
    assert region_checks.bucket_region(_S3(head, location=AssertionError("not asked")), "b", "label") == "us-west-2"


@pytest.mark.parametrize("constraint, region", [(None, "us-east-1"), ("", "us-east-1"), ("EU", "eu-west-1"),
                                                ("ap-south-1", "ap-south-1")])
def test_without_the_header_the_location_constraint_names_it(constraint, region):
    assert region_checks.bucket_region(_S3({}, constraint), "b", "label") == region


def test_a_region_no_answer_names_is_unknown():
    assert region_checks.bucket_region(_S3(_refused(403), _refused(403)), "b", "label") is None


def test_a_missing_bucket_is_a_config_error_naming_it():
    with pytest.raises(ConfigError, match="^MIRRORS entry 'x': source bucket 'gone' does not exist$"):
        region_checks.bucket_region(_S3(_refused(404)), "gone", "MIRRORS entry 'x'")
