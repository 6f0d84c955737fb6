"""The generated SAM template: cfn-lint clean, expanded by aws-sam-translator,
and least privilege (the code package: test_package.py)."""
import copy
import dataclasses
import json
import re

import cfnlint.api
import pytest

from bucketsync.deploy import environment_limit, sam, stack_names, template
from bucketsync.project import config
from bucketsync.datasync.tasks import TASKS_VARIABLE
from bucketsync.project.frontmatter import lambda_files

ACCOUNT = "123456789012"
SETTINGS = {
    "region": "eu-west-1", "source_buckets": ["src-bucket", "src-two"], "destination_buckets": ["dst-bucket"],
    "notification_email": "ops@example.com", "lambda_concurrency": 50,
    "schedules": [{"name": "nightly", "expression": "cron(30 2 * * ? *)", "timezone": "Europe/Paris",
                   "input": {"source": "src-bucket", "destination": "dst-bucket"}},
                  {"name": "hourly-photos", "expression": "rate(1 hour)", "timezone": "UTC",
                   "input": {"source": "src-two", "destination": "dst-bucket", "prefix": "photos/"}}],
}


@pytest.fixture(scope="module")
def built():
    cfg = config.check(dict(SETTINGS))
    tpl = template.build(cfg, ACCOUNT, "artifacts-bucket", "code/abc.zip")
    return cfg, tpl, sam.translate(tpl, cfg.region)


def lint(tpl, region="eu-west-1") -> list[str]:
    return [str(m) for m in cfnlint.api.lint(json.dumps(tpl), regions=[region])]


def test_cfn_lint_clean(built):
    _, tpl, translated = built
    assert lint(tpl) == []
    assert lint(translated) == []


def test_cfn_lint_is_really_checking(built):
    _, tpl, _ = built
    broken = copy.deepcopy(tpl)
    broken["Resources"]["PlanFunction"]["Properties"]["Timeout"] = 5000
    broken["Resources"]["PlanFunction"]["Properties"]["Runtime"] = "python2.7"
    assert lint(broken)


def test_every_lambda_file_becomes_a_function(built_everything):
    _, tpl, translated = built_everything
    for file in lambda_files():
        fn = tpl["Resources"][f"{file.logical_name}Function"]
        assert fn["Type"] == "AWS::Serverless::Function"
        props = fn["Properties"]
        assert props["Handler"] == f"{file.module}.handler"
        assert props["Timeout"] == file.front_matter["Timeout"]
        assert props["MemorySize"] == file.front_matter["MemorySize"]
        assert props["Runtime"] >= "python3.12"
        assert translated["Resources"][f"{file.logical_name}Function"]["Type"] == "AWS::Lambda::Function"
    assert tpl["Resources"]["CopyChunkFunction"]["Properties"]["ReservedConcurrentExecutions"] == 50


def test_definition_calls_pinned_function_versions(built):
    """Every Task calls a version of the stack's own function (through
    DefinitionSubstitutions, filled in by CloudFormation); nothing else is
    left to substitute, and every substitution is used."""
    _, tpl, translated = built
    props = tpl["Resources"]["StateMachine"]["Properties"]
    text, substitutions = props["DefinitionString"], props["DefinitionSubstitutions"]
    assert "$$.Execution.Name" in text
    assert set(re.findall(r"\$\{([A-Za-z0-9]+)\}", text)) == set(substitutions)
    definition = json.loads(text)
    assert definition["States"]["Plan"]["Resource"] == "${PlanFunctionArn}"
    assert definition["States"]["Copy"]["MaxConcurrency"] == 40
    assert substitutions["WorkBucket"] == {"Ref": "WorkBucket"}
    for file in filter(lambda f: f.is_state, lambda_files()):
        version = substitutions[file.arn_placeholder]["Ref"]
        for resources in (tpl["Resources"], translated["Resources"]):
            resource = resources[version]
            assert resource["Type"] == "AWS::Lambda::Version"
            assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
            assert resource["Properties"]["FunctionName"] == {"Ref": f"{file.logical_name}Function"}
    assert translated["Resources"]["StateMachine"]["Properties"]["DefinitionSubstitutions"] == substitutions


def versions(tpl):
    return {k for k, v in tpl["Resources"].items() if v["Type"] == "AWS::Lambda::Version"}


def test_a_version_is_published_exactly_when_code_or_configuration_changes(built):
    cfg, tpl, _ = built
    assert versions(template.build(cfg, ACCOUNT, "artifacts-bucket", "code/abc.zip")) == versions(tpl)
    new_code = versions(template.build(cfg, ACCOUNT, "artifacts-bucket", "code/def.zip"))
    assert not new_code & versions(tpl), "new code: every function gets a new version"
    settings = dataclasses.replace(cfg, notify_after_idle_runs=3)   # an environment variable
    changed = versions(template.build(settings, ACCOUNT, "artifacts-bucket", "code/abc.zip")) - versions(tpl)
    assert changed and not changed & versions(tpl)


def test_a_concurrency_change_publishes_no_version_a_memory_change_does(built, monkeypatch):
    """ReservedConcurrentExecutions is the function's, not a version's: a
    new AWS::Lambda::Version over unchanged code and configuration fails
    ("Lambda doesn't publish a version if the function's configuration and
    code haven't changed") and rolls the whole update back."""
    cfg, tpl, _ = built
    for concurrency in (60, None):
        other = template.build(dataclasses.replace(cfg, lambda_concurrency=concurrency), ACCOUNT,
                               "artifacts-bucket", "code/abc.zip")
        assert other["Resources"]["CopyChunkFunction"]["Properties"].get("ReservedConcurrentExecutions") != 50
        assert versions(other) == versions(tpl)
    files = lambda_files()
    copier = next(f for f in files if f.module == "copy_chunk")
    bigger = dataclasses.replace(copier, front_matter=dict(copier.front_matter, MemorySize=2048))
    monkeypatch.setattr(template, "lambda_files", lambda: [bigger if f is copier else f for f in files])
    changed = versions(template.build(cfg, ACCOUNT, "artifacts-bucket", "code/abc.zip")) - versions(tpl)
    assert [name.split("FunctionVersion")[0] for name in changed] == ["CopyChunk"]


def statements(translated):
    for name, resource in translated["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            assert not resource["Properties"].get("ManagedPolicyArns"), f"{name} uses managed policies"
            for policy in resource["Properties"].get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    yield name, statement


def as_list(value):
    return value if isinstance(value, list) else [value]


def test_least_privilege(built):
    cfg, _, translated = built
    allowed_buckets = {f"arn:aws:s3:::{b}" for b in cfg.source_buckets + cfg.destination_buckets}
    found = list(statements(translated))
    assert found
    for role, statement in found:
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{role}: wildcard action {action}"
            assert not action.endswith("FullAccess")
        for resource in as_list(statement["Resource"]):
            if resource == "*":
                # Only CloudWatch Logs delivery, which AWS accepts on "*" alone.
                assert role == "StateMachineRole" and all(a.startswith("logs:") for a in statement["Action"]), role
                continue
            if isinstance(resource, str) and resource.startswith("arn:aws:s3:::"):
                assert resource.removesuffix("/*") in allowed_buckets, f"{role}: {resource}"
            if isinstance(resource, str) and resource.startswith("arn:aws:lambda"):
                assert ":function:bucketsync-" in resource


def role_actions(translated, role):
    return {(a, json.dumps(r, sort_keys=True)) for name, s in statements(translated) if name == role
            for a in as_list(s["Action"]) for r in as_list(s["Resource"])}


def test_rights_follow_front_matter(built):
    _, _, translated = built
    guard = role_actions(translated, "GuardRole")
    assert {a for a, _ in guard} == {"logs:CreateLogStream", "logs:PutLogEvents"}
    delete = role_actions(translated, "DeleteChunkRole")
    assert ("s3:DeleteObject", '"arn:aws:s3:::dst-bucket/*"') in delete
    assert not any(r.startswith('"arn:aws:s3:::src') for _, r in delete), "the delete function never touches sources"
    copy_rights = role_actions(translated, "CopyChunkRole")
    assert ("s3:PutObject", '"arn:aws:s3:::dst-bucket/*"') in copy_rights
    assert ("s3:PutObject", '"arn:aws:s3:::src-bucket/*"') not in copy_rights, "sources are read-only"
    machine = role_actions(translated, "StateMachineRole")
    assert {a for a, _ in machine if not a.startswith("logs:")} == {
        "lambda:InvokeFunction", "s3:GetObject", "s3:PutObject", "s3:ListMultipartUploadParts",
        "s3:AbortMultipartUpload", "states:StartExecution", "states:DescribeExecution", "states:StopExecution"}


def test_work_bucket_is_private_encrypted_and_expiring(built):
    cfg, tpl, _ = built
    props = tpl["Resources"]["WorkBucket"]["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    rule = props["LifecycleConfiguration"]["Rules"][0]
    assert rule["Status"] == "Enabled" and rule["ExpirationInDays"] == cfg.work_bucket_retention_days


def test_work_bucket_outlives_the_stack_but_not_a_failed_first_create(built):
    """Kept with its reports on `fab destroy`; deleted (empty) when the first
    create rolls back, so that a failed first deploy leaves no bucket behind."""
    _, tpl, translated = built
    for resources in (tpl["Resources"], translated["Resources"]):
        bucket = resources["WorkBucket"]
        assert bucket["DeletionPolicy"] == "RetainExceptOnCreate"
        assert bucket["UpdateReplacePolicy"] == "Retain"


def test_schedules_target_the_alias_with_their_input(built):
    cfg, tpl, _ = built
    schedules = {r["Properties"]["Name"]: r["Properties"] for r in tpl["Resources"].values()
                 if r["Type"] == "AWS::Scheduler::Schedule"}
    assert set(schedules) == {"nightly", "hourly-photos"}
    nightly = schedules["nightly"]
    assert nightly["GroupName"] == {"Ref": "ScheduleGroup"}
    assert tpl["Resources"]["ScheduleGroup"]["Properties"]["Name"] == "bucketsync"
    assert nightly["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert nightly["Target"]["Arn"].endswith(":stateMachine:bucketsync:live")
    assert json.loads(nightly["Target"]["Input"]) == {"source": "src-bucket", "destination": "dst-bucket"}
    # Starts that fail after Scheduler's retries land in a queue with an alarm.
    assert nightly["Target"]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}}
    assert 0 < nightly["Target"]["RetryPolicy"]["MaximumRetryAttempts"] <= 185
    alarm = tpl["Resources"]["ScheduleDeadLetterAlarm"]["Properties"]
    assert alarm["AlarmActions"] == [{"Ref": "NotificationTopic"}]


def test_scheduler_role_is_authorised_as_aws_authorises_aliases(built):
    """Step Functions authorises StartExecution of an alias against the
    unqualified state machine ARN, narrowed by states:StateMachineQualifier;
    a policy on the alias ARN alone allows nothing."""
    _, tpl, _ = built
    role = tpl["Resources"]["SchedulerRole"]["Properties"]
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    start = next(s for s in statements if s["Action"] == ["states:StartExecution"])
    assert start["Resource"] == [f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:bucketsync"]
    assert start["Condition"] == {"StringEquals": {"states:StateMachineQualifier": "live"}}
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
    assert trust["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert trust["ArnLike"] == {"aws:SourceArn": f"arn:aws:scheduler:eu-west-1:{ACCOUNT}:schedule-group/bucketsync"}


def test_failed_timed_out_and_aborted_executions_raise_an_alarm(built):
    """The alarm says "failed, timed out or was aborted": it watches the sum
    of the three metrics, each filled with 0 where it has no data."""
    _, tpl, _ = built
    alarm = tpl["Resources"]["FailedExecutionsAlarm"]["Properties"]
    assert "timed out" in alarm["AlarmDescription"] and "aborted" in alarm["AlarmDescription"]
    assert "MetricName" not in alarm and "Namespace" not in alarm
    watched = {}
    for query in alarm["Metrics"]:
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            assert metric["Namespace"] == "AWS/States" and query["ReturnData"] is False
            assert metric["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": "StateMachine"}}]
            assert (query["MetricStat"]["Stat"], query["MetricStat"]["Period"]) == ("Sum", 300)
            watched[query["Id"]] = metric["MetricName"]
    assert sorted(watched.values()) == ["ExecutionsAborted", "ExecutionsFailed", "ExecutionsTimedOut"]
    [total] = [q for q in alarm["Metrics"] if q.get("ReturnData")]
    terms = total["Expression"].split(" + ")
    assert sorted(terms) == sorted(f"FILL({query_id}, 0)" for query_id in watched)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert alarm["AlarmActions"] == [{"Ref": "NotificationTopic"}]


@pytest.mark.parametrize("region, partition", [("us-gov-west-1", "aws-us-gov"), ("cn-north-1", "aws-cn")])
def test_every_arn_takes_the_regions_partition(region, partition):
    cfg = config.check(dict(SETTINGS, region=region, stack_name="x" * 40,
                            schedules=[dict(SETTINGS["schedules"][0], name="n" * 64)]))
    tpl = template.build(cfg, ACCOUNT, "artifacts-bucket", "code/abc.zip")
    text = json.dumps(tpl)
    assert "arn:aws:" not in text
    assert f"arn:{partition}:states:::s3:getObject" in text   # the ItemReader, inside the definition
    assert f"arn:{partition}:lambda:{region}:" in text
    assert lint(tpl, region) == []


def test_printed_template_has_no_yaml_aliases_and_lints_as_printed(built):
    """CloudFormation rejects YAML anchors and aliases; the printed text
    itself (not the dict it came from) is what must lint clean."""
    from bucketsync.deploy import tasks
    _, tpl, _ = built
    text = tasks.template_yaml(tpl)
    assert "&id" not in text and "*id" not in text
    assert [str(m) for m in cfnlint.api.lint(text, regions=["eu-west-1"])] == []


def test_schedule_names_follow_schedulers_rules():
    too_long = dict(SETTINGS["schedules"][0], name="n" * 65)
    with pytest.raises(config.ConfigError, match="1-64"):
        config.check(dict(SETTINGS, schedules=[too_long]))
    clash = [dict(SETTINGS["schedules"][0], name="a-b"), dict(SETTINGS["schedules"][0], name="a_b")]
    with pytest.raises(config.ConfigError, match="punctuation"):
        config.check(dict(SETTINGS, schedules=clash))


def test_kms_keys_are_granted_through_s3_only_to_the_functions_that_read_or_write_content(built):
    cfg, _, _ = built
    keys = ("arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab")
    mirrored = config.check(dict(SETTINGS, mirrors=MIRROR_SETTINGS["mirrors"][:1]))   # the mirror function too
    translated = sam.translate(template.build(dataclasses.replace(mirrored, kms_key_arns=keys), ACCOUNT,
                                              "artifacts-bucket", "code/abc.zip"), cfg.region)
    kms = {}
    for role, statement in statements(translated):
        if any(a.startswith("kms:") for a in as_list(statement["Action"])) and \
                statement["Resource"] != {"Fn::GetAtt": ["NotificationKey", "Arn"]}:   # the topic's own key
            kms.setdefault(role, []).append(statement)
    assert set(kms) == {"CopyChunkRole", "MirrorKeysRole"}, "deletes, listings and the work bucket need no key"
    for role in kms:   # both read and write object content
        grants = {(tuple(s["Action"]), tuple(s["Resource"]), s["Condition"]["StringEquals"]["kms:ViaService"])
                  for s in kms[role]}
        assert grants == {(("kms:Decrypt", "kms:GenerateDataKey"), (keys[0],), "s3.eu-west-1.amazonaws.com"),
                          (("kms:Decrypt", "kms:GenerateDataKey"), (keys[1],), "s3.us-east-1.amazonaws.com")}
    assert not any(a.startswith("kms:") for _, s in statements(built[2]) for a in as_list(s["Action"])
                   if s["Resource"] != {"Fn::GetAtt": ["NotificationKey", "Arn"]}), "no keys configured: no KMS rights"


@pytest.mark.parametrize("value", [["alias/my-key"], ["arn:aws:kms:eu-west-1:123456789012:alias/my-key"], "arn", [3]])
def test_kms_key_arns_must_be_key_arns(value):
    with pytest.raises(config.ConfigError, match="KMS_KEY_ARNS"):
        config.check(dict(SETTINGS, kms_key_arns=value))


EFS = {"efs": "arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-0123abcd",
       "subnet": "arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-0123abcd",
       "security_groups": ["arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0123abcd"], "path": "/share"}
DATASYNC_SETTINGS = dict(SETTINGS, datasync_tasks={
    "images": {"source": "s3://src-bucket/images/", "destination": "s3://dst-bucket/images/"},
    "efs-share": {"source": EFS, "destination": "s3://dst-bucket/share/", "options": {"PreserveDeletedFiles": "REMOVE"}},
    "vehicles": {"source": "s3://src-two/topics/", "destination": "s3://partner-bucket/topics/"}},
    schedules=SETTINGS["schedules"] + [
        {"name": "share-every-5-minutes", "expression": "rate(5 minutes)", "timezone": "UTC",
         "input": {"datasync": {"task": "efs-share"}}},
        {"name": "images-nightly", "expression": "cron(0 1 * * ? *)", "timezone": "Europe/Paris",
         "input": {"source": "src-bucket", "destination": "dst-bucket",
                   "datasync": {"task": "images", "include": ["/{date:%Y-%m-%d}/*"], "timezone": "Europe/Paris",
                                "catch_up_days": 3}}}])


@pytest.fixture(scope="module")
def built_datasync():
    cfg = config.check(dict(DATASYNC_SETTINGS))
    tpl = template.build(cfg, ACCOUNT, "artifacts-bucket", "code/abc.zip")
    return cfg, tpl, sam.translate(tpl, cfg.region)


def test_datasync_stack_lints_clean(built_datasync):
    _, tpl, translated = built_datasync
    assert lint(tpl) == [] and lint(translated) == []
    types = {r["Type"] for r in tpl["Resources"].values()}
    assert {"AWS::DataSync::Task", "AWS::DataSync::LocationS3", "AWS::DataSync::LocationEFS",
            "AWS::Logs::ResourcePolicy", "AWS::Events::Rule"} <= types


def test_datasync_tasks_locations_and_roles(built_datasync):
    _, tpl, _ = built_datasync
    res = tpl["Resources"]
    task = res["DataSyncTaskEfsShare"]["Properties"]
    assert task["Options"] == {"LogLevel": "BASIC", "PreserveDeletedFiles": "REMOVE"}
    assert "Includes" not in task, "filters are passed per execution, never saved on the task"
    assert res["DataSyncTaskEfsShareSource"]["Type"] == "AWS::DataSync::LocationEFS"
    assert res["DataSyncTaskImagesSource"]["Properties"]["Subdirectory"] == "/images/"
    trust = res["DataSyncTaskImagesRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "datasync.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT},
                                  "ArnLike": {"aws:SourceArn": f"arn:aws:datasync:eu-west-1:{ACCOUNT}:*"}}
    granted = {r: s["Action"] for s in res["DataSyncTaskImagesRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
               for r in as_list(s["Resource"])}
    assert "s3:PutObject" not in granted["arn:aws:s3:::src-bucket/images/*"], "the source is read-only to DataSync"
    assert "s3:DeleteObject" in granted["arn:aws:s3:::dst-bucket/images/*"]
    assert "arn:aws:s3:::dst-bucket/*" not in granted, "objects only under the task's folder"
    policy = json.loads(res["DataSyncTasksLogPolicy"]["Properties"]["PolicyDocument"])["Statement"][0]
    assert policy["Principal"] == {"Service": "datasync.amazonaws.com"}
    assert policy["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}


def test_datasync_function_rights_are_the_tasks_only(built_datasync):
    _, _, translated = built_datasync
    rights = role_actions(translated, "DataSyncRole")
    starts = {r for a, r in rights if a == "datasync:StartTaskExecution"}
    assert starts == {json.dumps({"Ref": f"DataSyncTask{n}"}) for n in ("EfsShare", "Images", "Vehicles")}
    assert ("datasync:ListTaskExecutions", '"*"') in rights        # it takes no resource
    assert not any("src" in r for a, r in rights if a.startswith("s3:"))   # it lists no source
    # ValidateInput begins the DataSync state: it lists the tasks' S3 ends
    # (expanding templates, and the empty-source guard), and starts nothing.
    validate = role_actions(translated, "ValidateInputRole")
    assert {r for a, r in validate if a == "s3:ListBucket" and "src" in r} == {'"arn:aws:s3:::src-bucket"',
                                                                            '"arn:aws:s3:::src-two"'}
    assert not any(a.startswith("datasync:") for a, _ in validate)
    notifier = role_actions(translated, "DatasyncNotifyRole")
    assert {a for a, _ in notifier} == {"logs:CreateLogStream", "logs:PutLogEvents", "sns:Publish",
                                        "kms:GenerateDataKey", "kms:Decrypt",   # the topic's key
                                        "datasync:DescribeTaskExecution"}
    for role in ("CopyChunkRole", "PlanRole", "StateMachineRole"):
        assert not any(a.startswith("datasync:") for a, _ in role_actions(translated, role)), role


def test_datasync_notifications_and_schedules(built_datasync):
    _, tpl, _ = built_datasync
    res = tpl["Resources"]
    pattern = res["DataSyncNotificationRule"]["Properties"]["EventPattern"]
    assert pattern["detail-type"] == ["DataSync Task Execution State Change"]
    assert pattern["detail"] == {"State": ["SUCCESS", "ERROR"]}
    assert {"prefix": {"Fn::Sub": "${DataSyncTaskImages}/execution/"}} in pattern["resources"]
    assert res["DataSyncNotificationRule"]["Properties"]["Targets"][0]["Arn"] == {
        "Fn::GetAtt": ["DatasyncNotifyFunction", "Arn"]}
    schedule = res["ScheduleShareEvery5Minutes"]["Properties"]
    assert schedule["ScheduleExpression"] == "rate(5 minutes)"
    assert json.loads(schedule["Target"]["Input"]) == {"datasync": {"task": "efs-share"}}
    environment = res["DataSyncFunction"]["Properties"]["Environment"]["Variables"]["BUCKETSYNC_DATASYNC_TASKS"]
    assert '"arn":"${DataSyncTaskImages}"' in environment["Fn::Sub"]


def test_datasync_config_errors():
    with pytest.raises(config.ConfigError, match="a file:// source serves local runs only"):
        template.build(config.check(dict(SETTINGS, datasync_tasks={
            "t": {"source": "file:///srv/share", "destination": "s3://dst-bucket/"}})), ACCOUNT, "b", "k")
    with pytest.raises(config.ConfigError, match="datasync task 'nope' is not in DATASYNC_TASKS"):
        config.check(dict(SETTINGS, schedules=[{"name": "n", "expression": "rate(1 hour)", "timezone": "UTC",
                                                "input": {"datasync": {"task": "nope"}}}]))


def test_cross_account_bucket_policy_names_the_tasks_role(built_datasync):
    cfg, _, _ = built_datasync
    names = stack_names.Names(cfg, ACCOUNT)
    role = f"arn:aws:iam::{ACCOUNT}:role/bucketsync-DataSyncTaskVehiclesRole-ABC"
    policy = template.datasync_template.bucket_policy(cfg, names, "vehicles", role)["Statement"][0]
    assert policy["Principal"] == {"AWS": role}
    assert policy["Resource"] == ["arn:aws:s3:::partner-bucket", "arn:aws:s3:::partner-bucket/*"]
    assert {"s3:PutObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:DeleteObject"} <= set(policy["Action"])


def test_datasync_policy_command_refuses_an_unknown_task_in_one_line(tmp_path, monkeypatch, capsys):
    from bucketsync.deploy import tasks
    path = tmp_path / "fabfile_config.py"
    path.write_text("REGION = 'eu-west-1'\nSOURCE_BUCKETS = ['src-bucket']\nDESTINATION_BUCKETS = ['dst-bucket']\n")
    monkeypatch.setattr(config, "CONFIG_FILE", path)
    monkeypatch.setattr(tasks.stack, "account_id", lambda session: ACCOUNT)
    assert tasks.datasync_policy_command({}, "nope") == tasks.EXIT_FAILED
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "datasync task 'nope' is not in DATASYNC_TASKS" in err


SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:partner/keys-AbC123"
SECRETS_SETTINGS = dict(SETTINGS, endpoint_secrets=["bucketsync/lyve", SECRET_ARN],
                        kms_key_arns=["arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
                        schedules=SETTINGS["schedules"] + [
                            {"name": "to-lyve", "expression": "rate(1 hour)", "timezone": "UTC",
                             "input": {"source": "src-bucket", "destination": "lyve-archive",
                                       "destination_endpoint": {"url": "https://s3.eu-west-1.lyvecloud.seagate.com",
                                                                "region": "eu-west-1", "secret": "bucketsync/lyve"}}}])


def test_endpoint_secrets_are_granted_exactly_to_the_functions_that_reach_buckets():
    cfg = config.check(dict(MIRROR_SETTINGS))   # the secrets, and mirrors for the mirror function
    tpl = template.build(cfg, ACCOUNT, "artifacts-bucket", "code/abc.zip")
    translated = sam.translate(tpl, cfg.region)
    assert lint(tpl) == [] and lint(translated) == []
    grants = {}
    for role, statement in statements(translated):
        if any(a.startswith("secretsmanager:") or "secretsmanager" in json.dumps(statement.get("Condition", {}))
               for a in as_list(statement["Action"])):
            grants.setdefault(role, []).append(statement)
    assert set(grants) == {"ValidateInputRole", "PlanRole", "CopyChunkRole", "DeleteChunkRole", "MirrorKeysRole"}
    for role, found in grants.items():
        by_action = {tuple(as_list(s["Action"])): s for s in found}
        assert sorted(by_action[("secretsmanager:GetSecretValue",)]["Resource"]) == sorted([
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bucketsync/lyve-??????", SECRET_ARN]), role
        kms = by_action[("kms:Decrypt",)]
        assert kms["Condition"] == {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}
    plan = tpl["Resources"]["PlanFunction"]["Properties"]
    assert plan["EphemeralStorage"] == {"Size": 4096}, "the external sort spills to /tmp"
    environment = tpl["Globals"]["Function"]["Environment"]["Variables"] if "Globals" in tpl else \
        plan["Environment"]["Variables"]
    assert environment["BUCKETSYNC_ENDPOINT_SECRETS"] == f"bucketsync/lyve,{SECRET_ARN}"
    no_secrets = config.check(dict(SETTINGS))
    assert not any("secretsmanager" in json.dumps(s) for _, s in
                   statements(sam.translate(template.build(no_secrets, ACCOUNT, "a", "k"), no_secrets.region)))


@pytest.mark.parametrize("settings,message", [
    (dict(SECRETS_SETTINGS, endpoint_secrets=["not a name!"]), "ENDPOINT_SECRETS"),
    (dict(SECRETS_SETTINGS, endpoint_secrets=[]), "not one of the stack's ENDPOINT_SECRETS"),
    (dict(SETTINGS, schedules=[{"name": "x", "expression": "rate(1 hour)", "timezone": "UTC",
                                "input": {"source": "src-bucket", "destination": "elsewhere"}}]),
     "not in DESTINATION_BUCKETS"),
])
def test_endpoint_secret_config_errors(settings, message):
    with pytest.raises(config.ConfigError, match=re.escape(message)):
        config.check(settings)


MIRROR_SETTINGS = dict(SECRETS_SETTINGS, mirrors=[
    {"name": "photos", "source": "s3://src-bucket/photos/", "destination": "s3://dst-bucket/photos/"},
    {"name": "to-lyve", "source": "src-two", "destination": "lyve-archive", "exclude": ["*.tmp"],
     "destination_endpoint": {"url": "https://s3.eu-west-1.lyvecloud.seagate.com", "secret": "bucketsync/lyve"}}])


def test_mirrors_deploy_rules_a_queue_with_dead_letters_and_an_alarm():
    cfg = config.check(dict(MIRROR_SETTINGS))
    tpl = template.build(cfg, ACCOUNT, "artifacts-bucket", "code/abc.zip")
    translated = sam.translate(tpl, cfg.region)
    assert lint(tpl) == [] and lint(translated) == []
    resources = tpl["Resources"]
    rule = resources["MirrorRulePhotos"]["Properties"]
    assert rule["EventPattern"] == {"source": ["aws.s3"], "detail-type": ["Object Created", "Object Deleted"],
                                    "detail": {"bucket": {"name": ["src-bucket"]},
                                               "object": {"key": [{"prefix": "photos/"}]}}}
    assert "object" not in resources["MirrorRuleToLyve"]["Properties"]["EventPattern"]["detail"]
    queue = resources["MirrorQueue"]["Properties"]
    function = resources["MirrorKeysFunction"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * function["Timeout"], "AWS: at least six times the function timeout"
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
    assert function["Events"]["Queue"]["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # Bounded: an SQS event source otherwise scales to 1,000 concurrent functions.
    assert function["Events"]["Queue"]["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 5}
    mappings = [r["Properties"] for r in translated["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert [m["ScalingConfig"] for m in mappings] == [{"MaximumConcurrency": 5}]
    bounded = config.check(dict(MIRROR_SETTINGS, mirror_concurrency=50))
    assert template.build(bounded, ACCOUNT, "a", "k")["Resources"]["MirrorKeysFunction"]["Properties"]["Events"][
        "Queue"]["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 50}
    policy = resources["MirrorQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert policy["Principal"] == {"Service": "events.amazonaws.com"}
    assert sorted(a["Fn::GetAtt"][0] for a in policy["Condition"]["ArnEquals"]["aws:SourceArn"]) == \
        ["MirrorRulePhotos", "MirrorRuleToLyve"]
    alarm = resources["MirrorDeadLetterAlarm"]["Properties"]
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["MirrorDeadLetterQueue", "QueueName"]}
    mirrors = json.loads(function["Environment"]["Variables"]["BUCKETSYNC_MIRRORS"])
    assert [m["name"] for m in mirrors] == ["photos", "to-lyve"]
    assert "secret_access_key" not in json.dumps(tpl)
    role = {json.dumps(s["Resource"], sort_keys=True): s["Action"] for _, s in statements(translated)
            if _ in ("MirrorKeysRole",)}
    assert any("MirrorQueue" in r for r in role), "the Lambda service polls the queue as the function's role"
    # No mirrors: no queue, no rules, no event source.
    plain = template.build(config.check(dict(SETTINGS)), ACCOUNT, "a", "k")
    assert not any(k.startswith("Mirror") and k not in ("MirrorKeysFunction", "MirrorKeysRole", "MirrorKeysLogGroup")
                   for k in plain["Resources"])
    assert "MirrorKeysFunction" not in plain["Resources"]


def test_triggered_functions_are_deployed_only_when_something_triggers_them(built, built_everything):
    """The mirror function (with its role, log group, queues, rules) only
    with MIRRORS; the DataSync notifier (with its rule and permission) only
    with DATASYNC_TASKS and a topic. The state machine's functions always."""
    cfg, tpl, translated = built
    assert not cfg.mirrors and not cfg.datasync_tasks
    state_functions = {f"{f.logical_name}Function" for f in lambda_files() if f.is_state}
    for resources in (tpl["Resources"], translated["Resources"]):
        assert not [k for k in resources if k.startswith(("Mirror", "DatasyncNotify", "DataSyncNotification",
                                                          "DataSyncTask"))]
        functions = {k for k, r in resources.items() if r["Type"].endswith("::Function")}
        assert functions == state_functions
    for file in lambda_files():   # their front matter still says who triggers them
        assert file.is_state or file.front_matter["Trigger"] in ("mirror-queue", "datasync-events")
    everything = built_everything[1]["Resources"]
    assert {"MirrorKeysFunction", "MirrorKeysRole", "MirrorQueue", "DatasyncNotifyFunction", "DatasyncNotifyRole",
            "DataSyncNotificationRule", "DataSyncNotificationPermission"} <= set(everything)
    no_topic = config.check(dict(DATASYNC_SETTINGS, notification_email=None))
    resources = template.build(no_topic, ACCOUNT, "a", "k")["Resources"]
    assert "DataSyncTaskImages" in resources
    assert not [k for k in resources if k.startswith(("DatasyncNotify", "DataSyncNotification"))], \
        "nothing to notify: no notifier"


@pytest.fixture(scope="module")
def built_everything():
    """MIRRORS, DATASYNC_TASKS, a topic: every function is deployed."""
    cfg = config.check(dict(MIRROR_SETTINGS, datasync_tasks=DATASYNC_SETTINGS["datasync_tasks"]))
    tpl = template.build(cfg, ACCOUNT, "artifacts-bucket", "code/abc.zip")
    return cfg, tpl, sam.translate(tpl, cfg.region)


@pytest.mark.parametrize("entry,message", [
    ({"name": "x", "source": "elsewhere", "destination": "dst-bucket"}, "not in SOURCE_BUCKETS"),
    ({"name": "x", "source": "src-bucket", "destination": "nope"}, "not in DESTINATION_BUCKETS"),
    ({"name": "x y", "source": "src-bucket", "destination": "dst-bucket"}, "'name' must be"),
    ({"name": "x", "source": "src-bucket", "destination": "dst-bucket", "max_delete": 5}, "unknown key"),
    ({"name": "x", "source": "src-bucket", "destination": "ext", "destination_endpoint": {
        "url": "https://s3.example.com", "secret": "unlisted"}}, "ENDPOINT_SECRETS"),
])
def test_mirror_config_errors(entry, message):
    with pytest.raises(config.ConfigError, match=re.escape(message)):
        config.check(dict(SECRETS_SETTINGS, mirrors=[entry]))


@pytest.mark.parametrize("value", [1, 1001, "5", True, 2.5])
def test_mirror_concurrency_is_what_an_sqs_event_source_takes(value):
    """ScalingConfig.MaximumConcurrency: 2 to 1,000 (AWS)."""
    with pytest.raises(config.ConfigError, match="MIRROR_CONCURRENCY must be an integer from 2 to 1000"):
        config.check(dict(MIRROR_SETTINGS, mirror_concurrency=value))


def test_alarms_can_publish_to_the_stacks_own_topic(built):
    """A CloudWatch alarm cannot publish to a topic under the AWS managed
    key alias/aws/sns (its policy cannot admit CloudWatch): the topic has a
    customer managed key, rotated, whose policy admits CloudWatch for this
    account's alarms, and the account's IAM policies (the functions' roles)."""
    _, tpl, _ = built
    res = tpl["Resources"]
    topic = res["NotificationTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": ["NotificationKey", "Arn"]}
    key = res["NotificationKey"]["Properties"]
    assert res["NotificationKey"]["Type"] == "AWS::KMS::Key" and key["EnableKeyRotation"] is True
    policy = key["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in policy if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert len(cloudwatch) == 1 and cloudwatch[0]["Effect"] == "Allow"
    assert set(cloudwatch[0]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert cloudwatch[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    root = [s for s in policy if s["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}]
    assert root and root[0]["Action"] == "kms:*", "without it no IAM policy can grant the key (nor anyone manage it)"
    assert not [s for s in policy if s["Principal"] not in ({"Service": "cloudwatch.amazonaws.com"},
                                                            {"AWS": f"arn:aws:iam::{ACCOUNT}:root"})]
    for name, resource in res.items():   # every alarm notifies the topic whose key admits CloudWatch
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            assert resource["Properties"]["AlarmActions"] == [{"Ref": "NotificationTopic"}], name


def test_the_functions_that_publish_get_exactly_the_topics_key(built):
    _, tpl, translated = built
    publishers = {f"{f.logical_name}Role" for f in lambda_files()
                  if "notifications" in (f.front_matter.get("Access") or {})}
    deployed = {name for name, r in tpl["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    assert publishers & deployed >= {"ReportRole", "ReportFailureRole"}
    key = json.dumps({"Fn::GetAtt": ["NotificationKey", "Arn"]}, sort_keys=True)
    for role, statement in statements(translated):
        kms = [a for a in as_list(statement["Action"]) if a.startswith("kms:")]
        if not kms:
            continue
        assert role in publishers, f"{role} gets a KMS key it has no use for"
        assert (sorted(kms), json.dumps(statement["Resource"], sort_keys=True)) == (
            ["kms:Decrypt", "kms:GenerateDataKey"], key)
        assert statement["Condition"] == {"StringEquals": {"kms:ViaService": "sns.eu-west-1.amazonaws.com"}}
    for role in publishers & deployed:
        assert ("kms:GenerateDataKey", key) in role_actions(translated, role), role
    # A topic of the user's own (SNS_TOPIC_ARN): no key of ours, none granted.
    cfg = config.check(dict(SETTINGS, notification_email=None,
                            sns_topic_arn=f"arn:aws:sns:eu-west-1:{ACCOUNT}:theirs"))
    theirs = template.build(cfg, ACCOUNT, "artifacts-bucket", "code/abc.zip")
    assert "NotificationKey" not in theirs["Resources"] and "NotificationTopic" not in theirs["Resources"]
    assert "kms:" not in json.dumps(theirs)


def test_every_functions_environment_fits_lambdas_4_kb_after_substitution():
    """Lambda refuses a function whose variables take more than 4 KB in all.
    Counted per function, with every placeholder at its longest resolved
    value: eight DataSync tasks and three mirrors (4,403 bytes once their
    ARNs are filled in) are refused as the template is built, naming the
    function; the README's configurations fit."""
    for settings in (DATASYNC_SETTINGS, MIRROR_SETTINGS):
        tpl = template.build(config.check(settings), ACCOUNT, "a", "k")
        for name, resource in tpl["Resources"].items():
            if resource["Type"] == "AWS::Serverless::Function":
                variables = resource["Properties"]["Environment"]["Variables"]
                assert environment_limit.environment_bytes(variables) <= environment_limit.ENVIRONMENT_BYTES, name
    tasks = {f"images-{n}": {"source": f"s3://src-bucket/camera-{n}/images/",
                             "destination": f"s3://dst-bucket/camera-{n}/images/"} for n in range(8)}
    mirrors = [{"name": f"photos-{n}", "source": f"s3://src-bucket/photos-{n}/",
                "destination": f"s3://dst-bucket/photos-{n}/"} for n in range(3)]
    # The task definitions go only to the functions that reach DataSync, the
    # mirrors only to the mirror function: eight tasks and three mirrors fit.
    crowded = config.check(dict(MIRROR_SETTINGS, datasync_tasks=tasks, mirrors=MIRROR_SETTINGS["mirrors"] + mirrors))
    functions = {resource["Properties"]["FunctionName"]: resource["Properties"]["Environment"]["Variables"]
                 for resource in template.build(crowded, ACCOUNT, "a", "k")["Resources"].values()
                 if resource["Type"] == "AWS::Serverless::Function"}
    given = sorted(name for name, variables in functions.items() if TASKS_VARIABLE in variables)
    assert given == ["bucketsync-data-sync", "bucketsync-datasync-notify", "bucketsync-validate-input"], given
    tasks.update({f"more-{n}": {"source": f"s3://src-bucket/camera-{n}/more/",
                                "destination": f"s3://dst-bucket/camera-{n}/more/"} for n in range(4)})
    with pytest.raises(config.ConfigError, match=r"function bucketsync-\S+: its environment variables would take up"):
        template.build(config.check(dict(MIRROR_SETTINGS, datasync_tasks=tasks)), ACCOUNT, "a", "k")
    # A task ARN resolves to about 75 characters, not the 20 of its placeholder.
    assert environment_limit.environment_bytes({"V": {"Fn::Sub": "${DataSyncTaskA}"}}) > 70


def test_datasync_roles_get_exactly_the_configured_keys_through_s3():
    """DataSync reads and writes SSE-KMS buckets with its bucket-access role:
    it needs the keys (create-s3-location), through S3 only; with no keys,
    no KMS rights at all."""
    keys = ("arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab")
    for configured in ((), keys):
        cfg = dataclasses.replace(config.check(DATASYNC_SETTINGS), kms_key_arns=configured)
        resources = template.build(cfg, ACCOUNT, "a", "k")["Resources"]
        roles = {name: r for name, r in resources.items()
                 if name.startswith("DataSyncTask") and r["Type"] == "AWS::IAM::Role"}
        assert len(roles) == 3
        for name, role in roles.items():
            kms = [s for policy in role["Properties"]["Policies"] for s in policy["PolicyDocument"]["Statement"]
                   if any(a.startswith("kms:") for a in as_list(s["Action"]))]
            grants = {(tuple(s["Action"]), tuple(s["Resource"]), s["Condition"]["StringEquals"]["kms:ViaService"])
                      for s in kms}
            expected = {(("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"), (key,),
                         f"s3.{key.split(':')[3]}.amazonaws.com") for key in configured}
            assert grants == expected, name


ACCESS_POINT = "arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-0123456789abcdef0"
EFS_ROLE = "arn:aws:iam::123456789012:role/datasync-efs"


def test_efs_locations_mount_with_tls_and_may_use_an_access_point_and_a_role():
    """A file system whose policy requires aws:SecureTransport (AWS's own
    sample policy) can be mounted: TLS in transit by default; an access point
    and an IAM role are passed on, and need TLS."""
    def location(efs):
        cfg = config.check(dict(SETTINGS, datasync_tasks={"share": {"source": efs, "destination": "s3://dst-bucket/s/"}}))
        resources = template.build(cfg, ACCOUNT, "a", "k")["Resources"]
        return next(r["Properties"] for r in resources.values() if r["Type"] == "AWS::DataSync::LocationEFS")
    plain = location(EFS)
    assert plain["InTransitEncryption"] == "TLS1_2" and "AccessPointArn" not in plain
    full = location(dict(EFS, access_point=ACCESS_POINT, role=EFS_ROLE))
    assert (full["AccessPointArn"], full["FileSystemAccessRoleArn"], full["InTransitEncryption"]) == (
        ACCESS_POINT, EFS_ROLE, "TLS1_2")
    assert location(dict(EFS, in_transit_encryption="NONE"))["InTransitEncryption"] == "NONE"
    for bad, message in ((dict(EFS, access_point=ACCESS_POINT, in_transit_encryption="NONE"), "needs in_transit"),
                         (dict(EFS, role="not-an-arn"), "IAM role ARN"), (dict(EFS, tls=True), "unknown key")):
        with pytest.raises(config.ConfigError, match=message):
            config.check(dict(SETTINGS, datasync_tasks={"share": {"source": bad, "destination": "s3://dst-bucket/s/"}}))


def test_a_partner_can_name_the_datasync_role_before_the_first_deploy(tmp_path, monkeypatch, capsys):
    """The cross-account order (AWS's tutorial): the partner's bucket policy
    names the task's role first, then the stack creates the location. The
    role's name follows from the configuration (stack, region, task), so
    `fab datasync-policy` prints it with no stack, and the template names the
    role so (which needs CAPABILITY_NAMED_IAM)."""
    from bucketsync.deploy import change_sets, tasks
    cfg = config.check(DATASYNC_SETTINGS)
    resources = template.build(cfg, ACCOUNT, "a", "k")["Resources"]
    names = {r["Properties"]["RoleName"] for n, r in resources.items()
             if n.startswith("DataSyncTask") and r["Type"] == "AWS::IAM::Role"}
    assert f"bucketsync-eu-west-1-datasync-vehicles" in names and all(len(n) <= 64 for n in names)
    assert "CAPABILITY_NAMED_IAM" in change_sets.CAPABILITIES
    long_cfg = dataclasses.replace(cfg, stack_name="a-very-long-stack-name-for-the-company-wide-sync")
    long_name = template.datasync_template.role_name(long_cfg, "vehicles-from-the-partner-fleet")
    assert len(long_name) == 64 and long_name != template.datasync_template.role_name(long_cfg, "vehicles-other-fleet")

    path = tmp_path / "fabfile_config.py"
    path.write_text("REGION = 'eu-west-1'\nSOURCE_BUCKETS = ['src-bucket']\nDESTINATION_BUCKETS = ['partner-bucket']\n"
                    "DATASYNC_TASKS = {'vehicles': {'source': 's3://src-bucket/topics/', "
                    "'destination': 's3://partner-bucket/topics/'}}\n")
    monkeypatch.setattr(config, "CONFIG_FILE", path)
    monkeypatch.setattr(tasks.stack, "account_id", lambda session: ACCOUNT)
    assert tasks.datasync_policy_command({}, "vehicles") == tasks.EXIT_OK   # no stack anywhere
    policy = json.loads(capsys.readouterr().out)["Statement"][0]
    assert policy["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:role/bucketsync-eu-west-1-datasync-vehicles"}


def test_the_environment_is_measured_as_lambda_measures_it():
    """Lambda measures the variables as one compact JSON object ("String
    measured: {...}"), quotes and escapes included: ten ordinary mirrors with
    a few excludes fit as names plus values, not as JSON."""
    mirrors = [{"name": f"photos-{n}", "source": f"s3://src-bucket/photos-{n}/",
                "destination": f"s3://dst-bucket/photos-{n}/", "exclude": ["*.tmp", "*.part", "*.swp", "~*"]}
               for n in range(10)]
    variables = {"A": "x", "B": '{"k":"v"}'}
    assert environment_limit.environment_bytes(variables) == len('{"A":"x","B":"{\\"k\\":\\"v\\"}"}')
    with pytest.raises(config.ConfigError, match="environment variables would take up to"):
        template.build(config.check(dict(SETTINGS, mirrors=mirrors)), ACCOUNT, "a", "k")


@pytest.mark.parametrize("settings", [
    dict(SETTINGS, schedules=SETTINGS["schedules"] + [
        {"name": "dead-letter-alarm", "expression": "rate(1 hour)", "timezone": "UTC",
         "input": {"source": "src-bucket", "destination": "dst-bucket"}}]),
    dict(SETTINGS, datasync_tasks={"a": {"source": "s3://src-bucket/a/", "destination": "s3://dst-bucket/a/"},
                                   "a-role": {"source": "s3://src-bucket/b/", "destination": "s3://dst-bucket/b/"}}),
])
def test_a_name_that_makes_an_id_the_stack_already_uses_is_refused(settings):
    """A schedule "dead-letter-alarm" would silently replace the alarm of that
    ID; task "a-role"'s task would take task "a"'s role's ID."""
    cfg = config.check(settings)
    with pytest.raises(config.ConfigError, match="two resources of the stack would both be named"):
        template.build(cfg, ACCOUNT, "a", "k")


def test_validate_input_lists_only_the_task_buckets_it_reads():
    """ValidateInput lists a task's S3 source ('*' folder names, the empty-source
    guard) and, for a REMOVE task whose source it can list, the destination
    the guard compares; no grant on a destination it never lists (a partner's
    bucket, or an EFS task's), least privilege."""
    tasks = dict(DATASYNC_SETTINGS["datasync_tasks"],
                 mirror={"source": "s3://src-bucket/m/", "destination": "s3://removed-here/m/",
                         "options": {"PreserveDeletedFiles": "REMOVE"}})
    cfg = config.check(dict(DATASYNC_SETTINGS, datasync_tasks=tasks,
                            destination_buckets=["dst-bucket", "removed-here"]))
    role = template.build(cfg, ACCOUNT, "a", "k")["Resources"]["ValidateInputRole"]
    statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    listed = [s["Resource"] for s in statements if s["Action"] == ["s3:ListBucket"]]
    datasync_list = listed[-1]
    assert sorted(arn.rsplit(":", 1)[-1] for arn in datasync_list) == ["removed-here", "src-bucket", "src-two"]
