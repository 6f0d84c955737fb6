"""`fab deploy` end to end against an emulated account: a moto server in this
process (its CloudFormation cannot expand SAM, so the template is translated
locally), with the deployed Lambda handlers run in-process."""
import dataclasses
import io
import json
import os
import re
import socket

import boto3
from botocore.exceptions import ClientError
import pytest

from bucketsync import clients
import requests
from moto.server import ThreadedMotoServer

from bucketsync.project import config as config_mod
from bucketsync.deploy import artifacts, machine_versions, package, stack, stack_names, stack_state, tasks
from bucketsync.project.frontmatter import FUNCTIONS_DIR
from bucketsync.local import cli
from tests.emulated import emulated_account

REGION = "eu-west-1"
CONFIG = '''
REGION = "eu-west-1"
STACK_NAME = "bsync-test"
SOURCE_BUCKETS = ["deploy-src-bucket"]
DESTINATION_BUCKETS = ["deploy-dst-bucket"]
NOTIFICATION_EMAIL = "ops@example.com"
SCHEDULES = [{"name": "nightly", "expression": "cron(30 2 * * ? *)", "timezone": "Europe/Paris",
              "input": {"source": "deploy-src-bucket", "destination": "deploy-dst-bucket", "max_delete": 10}}]
'''


@pytest.fixture(scope="module")
def account(tmp_path_factory):
    """A moto server on a free port, the environment pointing at it, and a config file."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    saved = dict(os.environ)
    os.environ.update(MOTO_PORT=str(port), AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
                      AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION)
    # The deployed functions' clients start fresh, as in a new Lambda process
    # (an earlier test's cached clients know nothing of this server).
    clients.reset()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    requests.post(f"http://127.0.0.1:{port}/moto-api/config",
                  json={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}, timeout=10)
    path = tmp_path_factory.mktemp("config") / "fabfile_config.py"
    path.write_text(CONFIG)
    saved_file = config_mod.CONFIG_FILE
    config_mod.CONFIG_FILE = path
    try:
        with emulated_account():
            yield boto3.Session(region_name=REGION), config_mod.load(path)
    finally:
        config_mod.CONFIG_FILE = saved_file
        server.stop()
        os.environ.clear()
        os.environ.update(saved)
        clients.reset()


def run_quiet(function, *args, **kwargs):
    lines = []
    code = function(*args, out=lines.append, **kwargs)
    return code, "\n".join(lines)


@pytest.fixture(scope="module")
def first_deploy(account):
    session, cfg = account
    lines = []
    result = stack.deploy(session, cfg, out=lines.append, poll=0.1)
    return result, lines


def test_deploy_creates_stack_machine_version_alias_schedule_topic(account, first_deploy):
    session, cfg = account
    result, lines = first_deploy
    assert result.status == "created" and result.published and result.code_uploaded
    sfn = session.client("stepfunctions")
    machine = result.outputs["StateMachineArn"]
    assert machine.endswith(":stateMachine:bsync-test")
    assert machine_versions.alias_target(sfn, result.outputs["AliasArn"]) == f"{machine}:1"
    description = sfn.describe_state_machine(stateMachineArn=f"{machine}:1")["description"]
    assert description.startswith("deployed 20") and " code " in description and " definition " in description
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=machine)["definition"])
    assert definition["States"]["ValidateInput"]["Parameters"]["execution.$"] == "$$.Execution.Name"
    functions = {f["FunctionName"] for f in session.client("lambda").list_functions()["Functions"]}
    assert {"bsync-test-plan", "bsync-test-copy-chunk", "bsync-test-report"} <= functions
    # No MIRRORS, no DATASYNC_TASKS: nothing triggers these, so they are not deployed.
    assert not functions & {"bsync-test-mirror-keys", "bsync-test-datasync-notify"}
    topics = [t["TopicArn"] for t in session.client("sns").list_topics()["Topics"]]
    assert any(t.endswith(":bsync-test-notifications") for t in topics)
    # moto's CloudFormation has no model of AWS::Scheduler::Schedule: check the deployed template.
    deployed = session.client("cloudformation").get_template(StackName="bsync-test")["TemplateBody"]
    deployed = deployed if isinstance(deployed, dict) else json.loads(deployed)
    schedule = deployed["Resources"]["ScheduleNightly"]["Properties"]
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert schedule["Target"]["Arn"] == result.outputs["AliasArn"]
    assert json.loads(schedule["Target"]["Input"])["source"] == "deploy-src-bucket"
    assert any("creating stack bsync-test" in line for line in lines)


def test_artifacts_bucket_reached_over_plain_http_gets_no_tls_only_policy(account, first_deploy):
    """The emulator here is reached over http: a TLS-only policy would lock
    this very deploy out (moto enforces it), so none is put; over https
    (AWS) it is (tests/unit/test_artifacts_bucket.py)."""
    session, cfg = account
    s3 = session.client("s3")
    bucket = artifacts.artifacts_bucket(cfg, stack.account_id(session))
    with pytest.raises(ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=bucket)


def test_unchanged_deploy_publishes_nothing(account, first_deploy):
    session, cfg = account
    again = stack.deploy(session, cfg, out=lambda line: None, poll=0.1)
    assert (again.status, again.published, again.code_uploaded) == ("no changes", False, False)
    assert again.version_arn == first_deploy[0].version_arn


def number(version_arn: str) -> int:
    return int(version_arn.rsplit(":", 1)[-1])


def test_changed_definition_publishes_and_rollback_moves_the_alias_back(account, first_deploy):
    session, cfg = account
    sfn = session.client("stepfunctions")
    alias = first_deploy[0].outputs["AliasArn"]
    before = machine_versions.alias_target(sfn, alias)
    changed = stack.deploy(session, dataclasses.replace(cfg, map_concurrency=7), out=lambda line: None, poll=0.1)
    assert changed.status == "updated" and changed.published
    assert number(changed.version_arn) > number(before) and machine_versions.alias_target(sfn, alias) == changed.version_arn
    code, text = run_quiet(tasks.rollback_command, {}, None)
    assert code == 0 and f"version {number(before)}" in text
    assert machine_versions.alias_target(sfn, alias) == before
    code, text = run_quiet(tasks.rollback_command, {}, 999)
    assert code == 1
    err = io.StringIO()
    assert tasks.rollback_command({}, "previous", out=lambda line: None, err=err) == 1
    assert err.getvalue().count("\n") == 1 and "--to must be a version number" in err.getvalue()
    # Back to the configured definition: `live` already holds it, so nothing is published.
    restored = stack.deploy(session, cfg, out=lambda line: None, poll=0.1)
    assert restored.status == "updated" and not restored.published
    assert restored.version_arn == before and machine_versions.alias_target(sfn, alias) == restored.version_arn


def called_functions(sfn, version_arn: str) -> set[str]:
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=version_arn)["definition"])
    found = set()

    def walk(states):
        for state in states.values():
            if state["Type"] == "Task":
                found.add(state["Resource"])
            if "ItemProcessor" in state:
                walk(state["ItemProcessor"]["States"])
    walk(definition["States"])
    return found


def start_and_wait(session, cfg) -> dict:
    out, err = io.StringIO(), io.StringIO()
    opts = cli.SyncOptions(source=cfg.source_buckets[0], destination=cfg.destination_buckets[0], json=True)
    code = tasks.start_command({}, opts, wait=True, out=out, err=err, poll=0.1)
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_versions_pin_the_code_and_rollback_restores_it(account, first_execution, monkeypatch, tmp_path):
    """A code-only change publishes a new state machine version whose
    definition calls new function versions, and executions of `live` run
    the new code; rollback brings back the old definition and the old code."""
    session, cfg = account
    sfn = session.client("stepfunctions")
    alias = f"{stack_names.Names(cfg, '123456789012').state_machine_arn}:live"
    before = machine_versions.alias_target(sfn, alias)
    old_calls = called_functions(sfn, before)
    assert all(re.fullmatch(r"arn:aws:lambda:eu-west-1:123456789012:function:bsync-test-[a-z-]+:\d+", arn)
               for arn in old_calls), old_calls
    assert "code" not in start_and_wait(session, cfg)

    # New code: the Report handler marks the summary it returns.
    marked = tmp_path / "report.py"
    marked.write_text((FUNCTIONS_DIR / "report.py").read_text() +
                      "\n_original = handler\n\ndef handler(event, context):\n"
                      "    return dict(_original(event, context), code='new')\n")
    real_files = package.files
    monkeypatch.setattr(package, "files", lambda: [(name, marked if name == "report.py" else path)
                                                   for name, path in real_files()])
    new = stack.deploy(session, cfg, out=lambda line: None, poll=0.1)
    assert new.status == "updated" and new.published and new.code_uploaded
    assert number(new.version_arn) > number(before) and machine_versions.alias_target(sfn, alias) == new.version_arn
    new_calls = called_functions(sfn, new.version_arn)
    assert not new_calls & old_calls, "new code: the definition calls new function versions"
    assert start_and_wait(session, cfg)["code"] == "new"

    code, text = run_quiet(tasks.rollback_command, {}, number(before))
    assert code == 0 and machine_versions.alias_target(sfn, alias) == before
    assert "code" not in start_and_wait(session, cfg), "rollback restores the old code too"
    monkeypatch.undo()
    assert not stack.deploy(session, cfg, out=lambda line: None, poll=0.1).code_uploaded

    # Function versions are kept only while a kept state machine version calls them.
    lam = session.client("lambda")
    pruned = stack.deploy(session, dataclasses.replace(cfg, keep_versions=1), out=lambda line: None, poll=0.1)
    machine = pruned.outputs["StateMachineArn"]
    called = called_functions(sfn, machine)
    for version in machine_versions.list_versions(sfn, machine):
        called |= called_functions(sfn, version["arn"])
    kept = {v["FunctionArn"] for v in lam.list_versions_by_function(FunctionName="bsync-test-report")["Versions"]
            if v["Version"] != "$LATEST"}
    assert kept == {arn for arn in called if ":function:bsync-test-report:" in arn}
    assert old_calls - called and not (old_calls - called) & kept, "versions nothing calls are deleted"


@pytest.fixture(scope="module")
def first_execution(account, first_deploy):
    """One execution of the deployed `live` alias (15 new objects): tests that
    look at executions use it, whatever order they run in."""
    session, cfg = account
    s3 = session.client("s3")
    for bucket in cfg.source_buckets + cfg.destination_buckets:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    for n in range(15):
        s3.put_object(Bucket="deploy-src-bucket", Key=f"d/{n}", Body=f"object {n}".encode())
    out, err = io.StringIO(), io.StringIO()
    opts = cli.SyncOptions(source="deploy-src-bucket", destination="deploy-dst-bucket", json=True)
    code = tasks.start_command({}, opts, wait=True, out=out, err=err, poll=0.1)
    return code, out.getvalue(), err.getvalue()


def test_execution_on_the_alias_syncs_and_notifies(account, first_execution):
    session, cfg = account
    s3 = session.client("s3")
    code, out, err = first_execution
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["copied"] == 15 and summary["failed"] == 0
    assert summary["report"].startswith("s3://") and "bsync-test" in summary["report"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="deploy-dst-bucket")["Contents"]]
    assert len(keys) == 15
    from moto.sns.models import sns_backends
    topic = next(t for t in sns_backends["123456789012"][REGION].topics.values()
                 if t.arn.endswith(":bsync-test-notifications"))
    messages = [m[1] for m in topic.sent_notifications]
    assert any("SUCCEEDED" in m and "copied: 15" in m for m in messages), messages


def test_start_refuses_buckets_the_stack_may_not_touch(account, first_deploy):
    err = io.StringIO()
    opts = cli.SyncOptions(source="other-bucket", destination="deploy-dst-bucket")
    assert tasks.start_command({}, opts, wait=False, err=err) == 1
    assert "SOURCE_BUCKETS" in err.getvalue()


@pytest.mark.parametrize("text, message", [
    ("", "REGION is not set"),
    (CONFIG + "COLOUR = 'red'\n", "unknown setting(s) COLOUR"),
    (CONFIG.replace("cron(30 2 * * ? *)", "cron(30 2 * * *)"), "must have 6 fields"),
    (CONFIG.replace('"max_delete": 10', '"max_delete": "ten"'), "'max_delete' must be"),
    (CONFIG.replace('["deploy-dst-bucket"]', '["Deploy_Dst"]'), "not a valid bucket name"),
])
def test_bad_config_fails_before_anything_is_created(account, tmp_path, text, message):
    session, _ = account
    path = tmp_path / "fabfile_config.py"
    path.write_text(text.replace('STACK_NAME = "bsync-test"', 'STACK_NAME = "never-created"'))
    saved, config_mod.CONFIG_FILE = config_mod.CONFIG_FILE, path
    err = io.StringIO()
    try:
        code = tasks._run(lambda cfg, s: stack.deploy(s, cfg, out=lambda line: None, poll=0.1) and 0, {}, err)
    finally:
        config_mod.CONFIG_FILE = saved
    assert code == tasks.EXIT_BAD_CONFIG and message in err.getvalue()
    stacks = session.client("cloudformation").list_stacks()["StackSummaries"]
    assert not any(s["StackName"] == "never-created" for s in stacks)
    buckets = [b["Name"] for b in session.client("s3").list_buckets()["Buckets"]]
    assert not any(b.startswith("never-created") for b in buckets)


def test_a_stack_left_in_rollback_complete_is_replaced(account, first_deploy):
    """A first create that failed leaves ROLLBACK_COMPLETE, which cannot be
    updated: deploy deletes it and creates the stack again."""
    session, cfg = account
    cfn = session.client("cloudformation")
    cfn.create_stack(StackName="bsync-rb", TemplateBody=json.dumps(
        {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}))
    from moto.cloudformation.models import cloudformation_backends
    backend = cloudformation_backends["123456789012"][REGION]
    next(s for s in backend.stacks.values() if s.name == "bsync-rb").status = "ROLLBACK_COMPLETE"
    lines = []
    result = stack.deploy(session, dataclasses.replace(cfg, stack_name="bsync-rb", schedules=()),
                          out=lines.append, poll=0.1)
    assert result.status == "created"
    assert any("ROLLBACK_COMPLETE" in line and "deleting it first" in line for line in lines)
    assert stack_state.stack_status(cfn, "bsync-rb") == "CREATE_COMPLETE"


def test_status_and_versions_show_the_stack(account, first_execution):
    out = io.StringIO()
    assert tasks.status_command({}, limit=5, out=out) == 0
    assert "SUCCEEDED" in out.getvalue() and "15" in out.getvalue()
    out = io.StringIO()
    assert tasks.versions_command({}, out=out) == 0
    assert "deployed 20" in out.getvalue()


def test_destroy_asks_then_deletes_the_stack_and_keeps_the_work_bucket(account, first_deploy):
    session, cfg = account
    cfn = session.client("cloudformation")
    code, text = run_quiet(tasks.destroy_command, {}, False, False, ask=lambda prompt: "no")
    assert code == 1 and "nothing deleted" in text
    assert stack_state.stack_status(cfn, "bsync-test") is not None
    code, text = run_quiet(tasks.destroy_command, {}, False, False, ask=lambda prompt: "bsync-test")
    assert code == 0 and "deleted" in text
    assert stack_state.stack_status(cfn, "bsync-test") in (None, "DELETE_COMPLETE")


def test_a_datasync_task_with_no_end_in_the_stacks_region_is_refused_before_anything_is_created(monkeypatch):
    """AWS's CreateTask: one of a task's locations must be in the region
    where DataSync runs it. A task between two buckets of another region is
    refused in one line naming the task; one end here is enough."""
    from moto import mock_aws

    from bucketsync.deploy import region_checks, stack
    from bucketsync.project import config as config_mod
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    with mock_aws():
        for bucket, region in (("far-src", "us-west-2"), ("far-dst", "us-west-2"), ("near-dst", "eu-west-1")):
            boto3.client("s3", region_name=region).create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        settings = {"region": "eu-west-1", "source_buckets": ["far-src"], "destination_buckets": ["far-dst", "near-dst"],
                    "datasync_tasks": {"in": {"source": "s3://far-src/a/", "destination": "s3://near-dst/a/"}}}
        session = boto3.Session(region_name="eu-west-1")
        region_checks.check_datasync_regions(session.client("s3"), config_mod.check(settings))   # one end here: fine
        far = config_mod.check(dict(settings, datasync_tasks=dict(
            settings["datasync_tasks"], away={"source": "s3://far-src/b/", "destination": "s3://far-dst/b/"})))
        with pytest.raises(config_mod.ConfigError) as caught:
            stack.deploy(session, far, out=lambda _: None)
        message = str(caught.value)
        assert "DATASYNC_TASKS 'away'" in message and "none in REGION eu-west-1" in message and "\n" not in message
        assert sorted(b["Name"] for b in session.client("s3").list_buckets()["Buckets"]) == [
            "far-dst", "far-src", "near-dst"], "nothing was created"
