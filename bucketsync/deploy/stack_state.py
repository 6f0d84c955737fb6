"""What CloudFormation says of a stack: its status, its events (printed
while waiting for a status), its outputs."""
from __future__ import annotations

import time

from botocore.exceptions import ClientError

from ..s3 import error_code

TERMINAL_OK = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
TERMINAL_BAD = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE",
                "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_FAILED", "IMPORT_ROLLBACK_COMPLETE"}


def stack_status(cfn, name: str) -> str | None:
    try:
        return cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    except ClientError as exc:
        # CloudFormation has no code of its own for a missing stack: it is a
        # ValidationError whose message says the stack "does not exist".
        if error_code(exc) == "ValidationError" and "does not exist" in str(exc):
            return None
        raise


def events(cfn, name: str) -> list[dict]:
    try:
        return cfn.describe_stack_events(StackName=name)["StackEvents"]
    except ClientError:
        return []


def wait_for_status(cfn, name: str, until: set, out, poll: float, seen: set) -> str | None:
    while True:
        for event in reversed(events(cfn, name)):
            if event["EventId"] not in seen:
                seen.add(event["EventId"])
                reason = f" {event['ResourceStatusReason']}" if event.get("ResourceStatusReason") else ""
                out(f"  {event['ResourceStatus']:<24} {event['LogicalResourceId']}{reason}")
        status = stack_status(cfn, name)
        if status in until or (status is None and None in until):
            return status
        time.sleep(poll)


def outputs(cfn, name: str) -> dict:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

