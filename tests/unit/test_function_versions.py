"""Pruning function versions after a deploy (deploy/machine_versions.py), against
Lambda's documented answers: moto lists no versions for a function that
does not exist, where AWS answers ResourceNotFoundException (404)."""
import boto3
from botocore.stub import Stubber

from bucketsync.deploy import machine_versions

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:bsync-report"


class _Machine:
    """A state machine that calls version 2 of the function."""
    def describe_state_machine(self, stateMachineArn):
        return {"definition": f'{{"Resource": "{ARN}:2"}}'}


def test_versions_nothing_calls_are_deleted_and_a_missing_function_is_skipped():
    lam = boto3.client("lambda", region_name="eu-west-1", aws_access_key_id="k", aws_secret_access_key="s")
    with Stubber(lam) as stub:
        stub.add_client_error("list_versions_by_function", "ResourceNotFoundException", http_status_code=404,
                              expected_params={"FunctionName": "bsync-gone"})
        stub.add_response("list_versions_by_function", {"Versions": [
            {"FunctionArn": f"{ARN}:$LATEST", "Version": "$LATEST"},
            {"FunctionArn": f"{ARN}:1", "Version": "1"}, {"FunctionArn": f"{ARN}:2", "Version": "2"}]},
            {"FunctionName": "bsync-report"})
        stub.add_response("delete_function", {}, {"FunctionName": "bsync-report", "Qualifier": "1"})
        said = []
        deleted = machine_versions.prune_function_versions(_Machine(), lam, "machine", [], ["bsync-gone", "bsync-report"],
                                                said.append)
        stub.assert_no_pending_responses()
    assert deleted == [f"{ARN}:1"]
    assert said == ["deleted 1 function version(s) no kept state machine version calls"]
