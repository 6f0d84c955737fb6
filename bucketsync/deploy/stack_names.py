"""Physical names and ARNs of a stack's resources: they follow from the
stack name, account and region (whose partition every ARN takes)."""
from __future__ import annotations

from ..project.config import DeployConfig
from ..project.frontmatter import LambdaFile

ALIAS = "live"


def partition_of(region: str) -> str:
    """The ARN partition of a region (aws, aws-cn, aws-us-gov, aws-iso...)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("us-isob-"):
        return "aws-iso-b"
    if region.startswith("us-iso-"):
        return "aws-iso"
    return "aws"


def console_host(region: str) -> str:
    partition = partition_of(region)
    if partition == "aws-cn":
        return "console.amazonaws.cn"
    if partition == "aws-us-gov":
        return "console.amazonaws-us-gov.com"
    return f"{region}.console.aws.amazon.com"


class Names:
    """Physical names and ARNs that follow from the stack name, account and
    region (whose partition every ARN takes)."""

    def __init__(self, config: DeployConfig, account: str):
        self.config, self.account = config, account
        self.partition = partition_of(config.region)
        self.stack = config.stack_name
        self.region = config.region

    def function(self, file: LambdaFile) -> str:
        return f"{self.stack}-{file.module.replace('_', '-')}"

    def arn(self, service: str, resource: str) -> str:
        """An ARN of this stack's partition, region and account."""
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"

    def function_arn(self, file: LambdaFile) -> str:
        return self.arn("lambda", f"function:{self.function(file)}")

    @property
    def state_machine(self) -> str:
        return self.stack

    @property
    def state_machine_arn(self) -> str:
        return self.arn("states", f"stateMachine:{self.stack}")

    @property
    def alias_arn(self) -> str:
        return f"{self.state_machine_arn}:{ALIAS}"

    def log_group_arn(self, name: str) -> str:
        return self.arn("logs", f"log-group:{name}:*")

    def bucket_arn(self, bucket: str) -> str:
        return f"arn:{self.partition}:s3:::{bucket}"

    @property
    def executions_arn(self) -> str:
        return self.arn("states", f"execution:{self.state_machine}")

    @property
    def schedule_group(self) -> str:
        # The stack's schedules live in a group of its own: schedule names
        # then need to be unique (and at most 64 characters) only within it.
        return self.stack

    @property
    def schedule_group_arn(self) -> str:
        return self.arn("scheduler", f"schedule-group/{self.schedule_group}")
