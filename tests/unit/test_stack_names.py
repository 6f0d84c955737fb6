"""Every ARN of the stack takes its region's partition; the console link
its partition's host."""
import pytest

from bucketsync.project.config import DeployConfig
from bucketsync.deploy.stack_names import Names, console_host, partition_of


@pytest.mark.parametrize("region, partition, host", [
    ("eu-west-1", "aws", "eu-west-1.console.aws.amazon.com"),
    ("cn-north-1", "aws-cn", "console.amazonaws.cn"),
    ("us-gov-west-1", "aws-us-gov", "console.amazonaws-us-gov.com"),
    ("us-iso-east-1", "aws-iso", "us-iso-east-1.console.aws.amazon.com"),
    ("us-isob-east-1", "aws-iso-b", "us-isob-east-1.console.aws.amazon.com"),
])
def test_partition_and_console_host_of_a_region(region, partition, host):
    assert partition_of(region) == partition
    assert console_host(region) == host


def test_names_follow_from_stack_account_and_region():
    names = Names(DeployConfig(region="cn-north-1", source_buckets=("a",), destination_buckets=("b",),
                               stack_name="sync"), "123456789012")
    assert names.state_machine_arn == "arn:aws-cn:states:cn-north-1:123456789012:stateMachine:sync"
    assert names.alias_arn == "arn:aws-cn:states:cn-north-1:123456789012:stateMachine:sync:live"
    assert names.bucket_arn("b") == "arn:aws-cn:s3:::b"
    assert names.schedule_group_arn == "arn:aws-cn:scheduler:cn-north-1:123456789012:schedule-group/sync"
