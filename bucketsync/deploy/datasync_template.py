"""The DataSync part of the stack, for DATASYNC_TASKS (datasync/tasks.py):
per task its locations, its task and the role DataSync uses on its buckets;
one log group (with the resource policy DataSync needs to write to it) and
the EventBridge rule that sends the tasks' execution outcomes to the
notifier function. The functions' DataSync rights are here too.

AWS's documents followed: create-s3-location.html (the bucket-access role's
actions, source and destination), cross-service-confused-deputy-prevention.html
(its trust: aws:SourceAccount and aws:SourceArn), configure-logging.html (the
log group's resource policy), events.html ("DataSync Task Execution State
Change", whose `resources` hold the execution ARN).
"""
from __future__ import annotations

import hashlib
import json

from ..datasync.tasks import Location, TaskSpec
from ..project.setting_checks import logical_id
from ..errors import ConfigError
from .resources import Resources

EVENTS = ("SUCCESS", "ERROR")

# DataSync's bucket-access role (create-s3-location.html#create-s3-location-required-permissions).
SOURCE_BUCKET_ACTIONS = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
SOURCE_OBJECT_ACTIONS = ["s3:GetObject", "s3:GetObjectTagging", "s3:GetObjectVersion", "s3:GetObjectVersionTagging",
                         "s3:ListMultipartUploadParts"]
DESTINATION_BUCKET_ACTIONS = SOURCE_BUCKET_ACTIONS
DESTINATION_OBJECT_ACTIONS = ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:GetObjectTagging",
                              "s3:GetObjectVersion", "s3:GetObjectVersionTagging", "s3:ListMultipartUploadParts",
                              "s3:PutObject", "s3:PutObjectTagging"]

KMS_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]


def role_name(config, name: str) -> str:
    """The task's bucket-access role's name, known before any deploy: a
    partner's bucket policy must name the role before the stack creates the
    task's locations (tutorial_s3-s3-cross-account-transfer.html applies it
    first), so `fab datasync-policy` prints it from the configuration alone.
    IAM names are global to the account: the region is in it, and a name over
    IAM's 64 characters keeps its start and a digest of the whole."""
    full = f"{config.stack_name}-{config.region}-datasync-{name}"
    if len(full) <= 64:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:10]
    return f"{full[:53]}-{digest}"


def role_arn(config, names, name: str) -> str:
    return f"arn:{names.partition}:iam::{names.account}:role/{role_name(config, name)}"


def logical(name: str) -> str:
    """The task's resource name; its role and locations add a suffix."""
    return logical_id("DataSyncTask", name)


def task_ref(name: str) -> dict:
    return {"Ref": logical(name)}


def check_deployable(tasks: dict[str, TaskSpec]) -> None:
    for name, spec in tasks.items():
        if spec.source.kind == "file":
            raise ConfigError(f"DATASYNC_TASKS {name!r}: a file:// source serves local runs only; deploy an EFS "
                              f"source ({{\"efs\": ..., \"subnet\": ..., \"security_groups\": [...]}})")


def tasks_environment(tasks: dict[str, TaskSpec]):
    """BUCKETSYNC_DATASYNC_TASKS for the functions, each task's ARN filled
    in by CloudFormation."""
    document = {name: dict(spec.to_dict(), arn=f"${{{logical(name)}}}") for name, spec in tasks.items()}
    # Its size, with every other variable of each function, is checked
    # against Lambda's 4 KB as the template is built (environment_limit.check_environment).
    return {"Fn::Sub": json.dumps(document, sort_keys=True, separators=(",", ":"))}


def listed_buckets(spec: TaskSpec) -> set[str]:
    """The buckets ValidateInput lists for a task: an S3 source (a template's
    '*' folder names, and whether the source is empty); the destination only
    where an empty source would make a REMOVE task delete it (the guard
    compares, and needs to list it: datasync.begin.check_empty_source)."""
    buckets = {spec.source.bucket} if spec.source.kind == "s3" else set()
    if (spec.destination.kind == "s3" and spec.option("PreserveDeletedFiles") == "REMOVE"
            and spec.source.kind in ("s3", "file")):
        buckets.add(spec.destination.bucket)
    return buckets


def function_statements(rights, tasks: dict[str, TaskSpec], names) -> list[dict]:
    """A function's DataSync rights: `list` (ListBucket on the buckets
    `listed_buckets` names), `start`
    (StartTaskExecution and DescribeTask on the tasks; ListTaskExecutions,
    which takes no resource), `follow` (DescribeTaskExecution on their executions)."""
    if not tasks or not rights:
        return []
    refs = [task_ref(name) for name in sorted(tasks)]
    statements = []
    if "start" in rights:
        statements += [
            {"Effect": "Allow", "Action": ["datasync:StartTaskExecution", "datasync:DescribeTask"], "Resource": refs},
            {"Effect": "Allow", "Action": ["datasync:ListTaskExecutions"], "Resource": "*"},
        ]
    if "list" in rights:
        ends = sorted({bucket for spec in tasks.values() for bucket in listed_buckets(spec)})
        if ends:
            statements.append({"Effect": "Allow", "Action": ["s3:ListBucket"],
                               "Resource": [names.bucket_arn(b) for b in ends]})
    if {"start", "follow"} & set(rights):
        statements.append({"Effect": "Allow", "Action": ["datasync:DescribeTaskExecution"],
                           "Resource": [{"Fn::Sub": f"${{{logical(name)}}}/execution/*"} for name in sorted(tasks)]})
    return statements


def resources(config, names, notifier_function: str | None) -> dict:
    tasks = config.datasync_tasks
    if not tasks:
        return {}
    check_deployable(tasks)
    log_group = f"/aws/datasync/{config.stack_name}"
    out = Resources({
        "DataSyncTasksLogGroup": {"Type": "AWS::Logs::LogGroup",
                             "Properties": {"LogGroupName": log_group, "RetentionInDays": config.log_retention_days}},
        "DataSyncTasksLogPolicy": {"Type": "AWS::Logs::ResourcePolicy", "Properties": {
            "PolicyName": f"{config.stack_name}-datasync",
            "PolicyDocument": json.dumps({"Version": "2012-10-17", "Statement": [{
                "Sid": "DataSyncLogsToCloudWatchLogs", "Effect": "Allow",
                "Principal": {"Service": "datasync.amazonaws.com"},
                "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
                "Resource": names.log_group_arn(log_group),
                "Condition": {"ArnLike": {"aws:SourceArn": names.arn("datasync", "task/*")},
                              "StringEquals": {"aws:SourceAccount": names.account}}}]}, sort_keys=True)}},
    })
    for name, spec in sorted(tasks.items()):
        out.update(_task(config, names, name, spec))
    if notifier_function:
        out.update(_notification_rule(config, names, notifier_function))
    return out


def _task(config, names, name: str, spec: TaskSpec) -> dict:
    prefix = logical(name)
    out = Resources()
    statements = []
    for location, bucket_actions, object_actions in (
            (spec.source, SOURCE_BUCKET_ACTIONS, SOURCE_OBJECT_ACTIONS),
            (spec.destination, DESTINATION_BUCKET_ACTIONS, DESTINATION_OBJECT_ACTIONS)):
        if location.kind != "s3":
            continue
        # Objects only under the location's folder (DataSync reads and writes
        # nothing else); the bucket-level actions (listing, location) take the
        # bucket itself as their resource.
        statements += [{"Effect": "Allow", "Action": bucket_actions, "Resource": names.bucket_arn(location.bucket)},
                       {"Effect": "Allow", "Action": object_actions,
                        "Resource": f"{names.bucket_arn(location.bucket)}/{location.prefix}*"}]
    if any(location.kind == "s3" for location in (spec.source, spec.destination)):
        # SSE-KMS buckets: DataSync reads and writes with this role, so it
        # needs the keys (create-s3-location.html, "server-side encryption":
        # kms:Decrypt, kms:Encrypt, kms:GenerateDataKey), through S3 only.
        # A key in another account must also name this role in its key policy.
        from .iam_policies import kms_statements   # here: iam_policies imports this module
        statements += kms_statements(KMS_ACTIONS, config.kms_key_arns)
    out[f"{prefix}Role"] = {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": role_name(config, name),
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "datasync.amazonaws.com"}, "Action": "sts:AssumeRole",
            # The location's ARN is not known when the role is made: the
            # account's DataSync resources in this region (as AWS documents).
            "Condition": {"StringEquals": {"aws:SourceAccount": names.account},
                          "ArnLike": {"aws:SourceArn": names.arn("datasync", "*")}}}]},
        "Policies": [{"PolicyName": "bucket-access",
                      "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}]}}
    out[f"{prefix}Source"] = _location(spec.source, prefix, names)
    out[f"{prefix}Destination"] = _location(spec.destination, prefix, names)
    options = dict({"LogLevel": "BASIC"}, **spec.options)
    out[prefix] = {"Type": "AWS::DataSync::Task", "DependsOn": "DataSyncTasksLogPolicy", "Properties": {
        "Name": f"{config.stack_name}-{name}",
        "SourceLocationArn": {"Ref": f"{prefix}Source"},
        "DestinationLocationArn": {"Ref": f"{prefix}Destination"},
        "CloudWatchLogGroupArn": {"Fn::GetAtt": ["DataSyncTasksLogGroup", "Arn"]},
        "Options": options}}
    return out


def _location(location: Location, prefix: str, names) -> dict:
    if location.kind == "efs":
        properties = {"EfsFilesystemArn": location.efs, "Subdirectory": location.path,
                      "Ec2Config": {"SubnetArn": location.subnet, "SecurityGroupArns": list(location.security_groups)},
                      "InTransitEncryption": location.in_transit_encryption or "TLS1_2"}
        if location.access_point:
            properties["AccessPointArn"] = location.access_point
        if location.role:
            properties["FileSystemAccessRoleArn"] = location.role
        return {"Type": "AWS::DataSync::LocationEFS", "Properties": properties}
    return {"Type": "AWS::DataSync::LocationS3", "Properties": {
        "S3BucketArn": names.bucket_arn(location.bucket), "Subdirectory": "/" + location.prefix,
        "S3Config": {"BucketAccessRoleArn": {"Fn::GetAtt": [f"{prefix}Role", "Arn"]}}}}


def _notification_rule(config, names, function: str) -> dict:
    """Every SUCCESS or ERROR of the stack's tasks' executions (also those
    started outside bucketsync) goes to the notifier."""
    return {
        "DataSyncNotificationRule": {"Type": "AWS::Events::Rule", "Properties": {
            "Description": f"bucketsync {config.stack_name}: DataSync task executions that ended",
            "EventPattern": {
                "source": ["aws.datasync"], "detail-type": ["DataSync Task Execution State Change"],
                "detail": {"State": list(EVENTS)},
                "resources": [{"prefix": {"Fn::Sub": f"${{{logical(name)}}}/execution/"}}
                              for name in sorted(config.datasync_tasks)]},
            "Targets": [{"Id": "notifier", "Arn": {"Fn::GetAtt": [function, "Arn"]}}]}},
        "DataSyncNotificationPermission": {"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction", "FunctionName": {"Ref": function},
            "Principal": "events.amazonaws.com",
            "SourceArn": {"Fn::GetAtt": ["DataSyncNotificationRule", "Arn"]}}},
    }


def bucket_policy(config, names, name: str, role_arn: str) -> dict:
    """The bucket policy another account applies to a task's destination
    bucket (tutorial_s3-s3-cross-account-transfer.html)."""
    spec = config.datasync_tasks[name]
    bucket = names.bucket_arn(spec.destination.bucket)
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "DataSyncCreateS3LocationAndTaskAccess", "Effect": "Allow", "Principal": {"AWS": role_arn},
        "Action": sorted(set(DESTINATION_BUCKET_ACTIONS) | {a for a in DESTINATION_OBJECT_ACTIONS
                                                            if "Version" not in a}),
        "Resource": [bucket, bucket + "/*"]}]}
