"""Version bookkeeping against a fake Step Functions client with the APIs
moto lacks (ListStateMachineVersions, DeleteStateMachineVersion, map runs)."""
import io

import pytest

from botocore.exceptions import ClientError

from bucketsync.deploy import machine_versions, tasks

MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:bs"


class FakeSfn:
    def __init__(self, count, alias_version):
        self.versions = {n: f"deployed v{n}" for n in range(1, count + 1)}
        self.alias = alias_version
        self.deleted = []

    def list_state_machine_versions(self, stateMachineArn, nextToken=None):
        numbers = sorted(self.versions, reverse=True)
        start = int(nextToken or 0)
        page = numbers[start:start + 3]
        result = {"stateMachineVersions": [{"stateMachineVersionArn": f"{MACHINE}:{n}"} for n in page]}
        if start + 3 < len(numbers):
            result["nextToken"] = str(start + 3)
        return result

    def describe_state_machine(self, stateMachineArn):
        number = int(stateMachineArn.rsplit(":", 1)[-1])
        if number not in self.versions:
            raise ClientError({"Error": {"Code": "StateMachineDoesNotExist"}}, "DescribeStateMachine")
        return {"description": self.versions[number]}

    def describe_state_machine_alias(self, stateMachineAliasArn):
        return {"routingConfiguration": [{"stateMachineVersionArn": f"{MACHINE}:{self.alias}", "weight": 100}]}

    def delete_state_machine_version(self, stateMachineVersionArn):
        number = int(stateMachineVersionArn.rsplit(":", 1)[-1])
        self.deleted.append(number)
        del self.versions[number]

    def list_map_runs(self, executionArn):
        return {"mapRuns": [{"mapRunArn": "copy"}, {"mapRunArn": "delete"}]}

    def describe_map_run(self, mapRunArn):
        return {"itemCounts": {"total": 4, "succeeded": 3, "failed": 0, "running": 1}}


def test_list_versions_pages_newest_first():
    sfn = FakeSfn(7, alias_version=7)
    assert [v["number"] for v in machine_versions.list_versions(sfn, MACHINE)] == [7, 6, 5, 4, 3, 2, 1]


def test_prune_keeps_the_newest_and_the_alias_target():
    sfn = FakeSfn(8, alias_version=2)     # rolled back to an old version
    deleted = machine_versions.prune_versions(sfn, MACHINE, keep=3, out=lambda line: None)
    assert sorted(sfn.deleted) == [1, 3, 4, 5] and len(deleted) == 4
    assert sorted(sfn.versions) == [2, 6, 7, 8]


def test_rollback_goes_to_the_version_before_the_alias():
    class Moving(FakeSfn):
        def update_state_machine_alias(self, stateMachineAliasArn, routingConfiguration):
            self.alias = int(routingConfiguration[0]["stateMachineVersionArn"].rsplit(":", 1)[-1])
    sfn = Moving(5, alias_version=5)
    machine_versions.rollback(sfn, MACHINE, None, out=lambda line: None)
    assert sfn.alias == 4
    machine_versions.rollback(sfn, MACHINE, 2, out=lambda line: None)
    assert sfn.alias == 2


def test_map_run_item_counts_for_wait_progress():
    counts = tasks._map_counts(FakeSfn(1, 1), "exec")
    assert counts == {"chunks total": 8, "chunks succeeded": 6, "chunks failed": 0, "chunks running": 2}


class _FailingChangeSets:
    """A CloudFormation client whose change sets fail as AWS's do on a
    template or permission error (status FAILED with a reason)."""

    def __init__(self, status, reason):
        self.status, self.reason, self.calls = status, reason, []

    def describe_stacks(self, StackName):
        if self.status is None:
            from botocore.exceptions import ClientError
            raise ClientError({"Error": {"Code": "ValidationError", "Message": f"Stack {StackName} does not exist"}},
                              "DescribeStacks")
        return {"Stacks": [{"StackStatus": self.status}]}

    def describe_stack_events(self, StackName, **_):
        return {"StackEvents": []}

    def create_change_set(self, **kwargs):
        self.calls.append(("create_change_set", kwargs["ChangeSetType"]))

    def describe_change_set(self, **_):
        return {"Status": "FAILED", "StatusReason": self.reason, "Changes": []}

    def delete_change_set(self, **_):
        self.calls.append(("delete_change_set",))

    def delete_stack(self, **_):
        self.calls.append(("delete_stack",))


@pytest.mark.parametrize("status, kind", [(None, "CREATE"), ("UPDATE_COMPLETE", "UPDATE")])
def test_a_failed_change_set_is_an_error_with_its_reason_and_leaves_nothing_stuck(status, kind):
    from bucketsync.deploy import change_sets
    from bucketsync.project import config
    cfg = config.check({"region": "eu-west-1", "source_buckets": ["src-bucket"], "destination_buckets": ["dst-bucket"]})
    cfn = _FailingChangeSets(status, "Requires capabilities : [CAPABILITY_NAMED_IAM]")
    with pytest.raises(change_sets.DeployError, match="CAPABILITY_NAMED_IAM.*nothing was changed"):
        change_sets.apply_stack(cfn, None, cfg, {"Resources": {}}, "artifacts", out=lambda line: None, poll=0)
    assert ("create_change_set", kind) in cfn.calls and ("delete_change_set",) in cfn.calls
    # A failed first change set leaves an empty REVIEW_IN_PROGRESS stack: it is removed.
    assert (("delete_stack",) in cfn.calls) == (kind == "CREATE")


def test_a_change_set_without_changes_is_no_change():
    from bucketsync.deploy import change_sets
    from bucketsync.project import config
    cfg = config.check({"region": "eu-west-1", "source_buckets": ["src-bucket"], "destination_buckets": ["dst-bucket"]})
    cfn = _FailingChangeSets("UPDATE_COMPLETE", "The submitted information didn't contain changes. "
                                                "Submit different information to create a change set.")
    assert change_sets.apply_stack(cfn, None, cfg, {"Resources": {}}, "artifacts", out=lambda line: None, poll=0) == "no changes"
    assert ("delete_stack",) not in cfn.calls
