"""The AWS SAM template of a bucketsync stack, generated from the Lambda
files' front matter, the state machine definition and the deploy settings.

Least privilege by construction: every function has a role of its own whose
statements come from its front matter's `Access` and name only the
configured buckets and the stack's own work bucket; the state machine may
invoke only its own functions and read only its work bucket.

Versions pin code (DESIGN.md section 4): every function has
an `AWS::Lambda::Version` whose logical ID carries a hash of the function's
code and versioned configuration (VERSIONED_PROPERTIES), kept on stack
updates (`Retain`). The definition
calls those version ARNs (through `DefinitionSubstitutions`), so a code or
configuration change changes the definition, `fab deploy` publishes a state
machine version for it, and `fab rollback` brings back old definition and
old code together. Everything else in the definition is rendered here."""
from __future__ import annotations

import hashlib
import json
import re

from ..project import definition
from . import datasync_template, mirror_template
from .. import work
from ..mirror import MIRRORS_VARIABLE
from ..datasync.tasks import TASKS_VARIABLE
from ..errors import ConfigError
from ..project.config import DeployConfig
from .resources import Resources
from ..project.frontmatter import LambdaFile, lambda_files

RUNTIME = "python3.12"
ARCHITECTURE = "arm64"
ALIAS = "live"

S3_RIGHTS = {   # right -> (bucket-level actions, object-level actions)
    "list": (["s3:ListBucket"], []),   # also what turns a GET/HEAD of a missing key into 404, not 403
    "read": ([], ["s3:GetObject"]),
    "tags": ([], ["s3:GetObjectTagging"]),
    "write": ([], ["s3:PutObject"]),
    "retag": ([], ["s3:PutObjectTagging", "s3:DeleteObjectTagging"]),   # writes that carry or change tags
    # Aborting a failed copy's upload, and uploads of the key an earlier run left.
    "multipart": (["s3:ListBucketMultipartUploads"], ["s3:AbortMultipartUpload"]),
    "abort": ([], ["s3:AbortMultipartUpload"]),
    "tagged": ([], ["s3:PutObjectTagging"]),   # writes that carry the source's tags, never a tag change alone   # a failed copy's upload only (the mirror: no lease, no sweep)
    "delete": ([], ["s3:DeleteObject"]),
}


# SSE-KMS objects: what S3 asks KMS for, on the caller's behalf, for a
# function that reads object content (`decrypt`) or writes it (`encrypt`:
# a data key, which multipart writes also decrypt: UploadPartCopy,
# CompleteMultipartUpload). Conditional deletes read no content: no KMS.
KMS_RIGHTS = {
    "decrypt": ("kms:Decrypt",),
    "encrypt": ("kms:GenerateDataKey", "kms:Decrypt"),
}


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


def _assume(service: str, condition: dict | None = None) -> dict:
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def _work_arn(objects: bool):
    return {"Fn::Sub": "${WorkBucket.Arn}/*"} if objects else {"Fn::GetAtt": ["WorkBucket", "Arn"]}


def _topic_ref(config: DeployConfig):
    if config.sns_topic_arn:
        return config.sns_topic_arn
    return {"Ref": "NotificationTopic"} if config.notification_email else None


def _own_topic(config: DeployConfig) -> bool:
    """The stack makes its own topic (and the key that encrypts it)."""
    return bool(config.notification_email and not config.sns_topic_arn)


TOPIC_KEY = "NotificationKey"


def topic_key_statements(config: DeployConfig) -> list[dict]:
    """What a function that publishes to the stack's own topic needs of its
    key: SNS encrypts each message with a data key it asks KMS for on the
    publisher's behalf (and with the publisher's rights), so publishing
    needs kms:GenerateDataKey and kms:Decrypt on the topic's key, through
    SNS only (kms:ViaService, which AWS documents for SNS)."""
    if not _own_topic(config):
        return []   # SNS_TOPIC_ARN: its key, if any, is its owner's to grant
    return [{"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": {"Fn::GetAtt": [TOPIC_KEY, "Arn"]},
             "Condition": {"StringEquals": {"kms:ViaService": f"sns.{config.region}.amazonaws.com"}}}]


def access_statements(file: LambdaFile, config: DeployConfig, names: Names) -> list[dict]:
    """IAM statements for a function's front matter `Access`."""
    statements = []
    kms_actions: set[str] = set()
    buckets = {"source": config.source_buckets, "destination": config.destination_buckets}
    for target, rights in (file.front_matter.get("Access") or {}).items():
        if target == "notifications":
            topic = _topic_ref(config)
            if topic:
                statements.append({"Effect": "Allow", "Action": ["sns:Publish"], "Resource": topic})
                statements += topic_key_statements(config)
            continue
        if target == "datasync":
            statements += datasync_template.function_statements(rights, config.datasync_tasks, names)
            continue
        if target == "secrets":
            statements += secret_statements(config, names)
            continue
        bucket_actions = sorted({a for r in rights if r in S3_RIGHTS for a in S3_RIGHTS[r][0]})
        object_actions = sorted({a for r in rights if r in S3_RIGHTS for a in S3_RIGHTS[r][1]})
        if target == "work":   # SSE-S3: no KMS key
            bucket_res, object_res = [_work_arn(False)], [_work_arn(True)]
        else:
            bucket_res = [names.bucket_arn(b) for b in buckets[target]]
            object_res = [names.bucket_arn(b) + "/*" for b in buckets[target]]
        if bucket_actions:
            statements.append({"Effect": "Allow", "Action": bucket_actions, "Resource": bucket_res})
        if object_actions:
            statements.append({"Effect": "Allow", "Action": object_actions, "Resource": object_res})
        kms_actions |= {a for r in rights for a in KMS_RIGHTS.get(r, ())}
    statements += kms_statements(sorted(kms_actions), config.kms_key_arns)
    return statements


def secret_arn(secret: str, names: Names) -> str:
    """The ARN that grants exactly this secret: as given, or for a name, its
    ARN with the 6 random characters Secrets Manager appends (`-??????`, the
    form AWS's IAM guide for Secrets Manager gives for a name)."""
    if secret.startswith("arn:"):
        # A complete ARN ends with "-" and 6 characters; a partial one (which
        # GetSecretValue accepts) would match no real ARN in IAM.
        return secret if re.search(r"-[A-Za-z0-9]{6}$", secret) else f"{secret}-??????"
    return names.arn("secretsmanager", f"secret:{secret}-??????")


def secret_statements(config: DeployConfig, names: Names) -> list[dict]:
    """GetSecretValue on exactly ENDPOINT_SECRETS; kms:Decrypt on KMS_KEY_ARNS
    through Secrets Manager only (a secret under a customer managed key)."""
    if not config.endpoint_secrets:
        return []
    statements = [{"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                   "Resource": sorted(secret_arn(s, names) for s in config.endpoint_secrets)}]
    by_region: dict[str, list[str]] = {}
    for key in config.kms_key_arns:
        by_region.setdefault(key.split(":")[3], []).append(key)
    statements += [{"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": sorted(arns),
                    "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}}
                   for region, arns in sorted(by_region.items())]
    return statements


def kms_statements(actions: list[str], keys) -> list[dict]:
    """KMS use only through S3 in each key's own region (a bucket's key
    lives in the bucket's region; S3 calls KMS on the caller's behalf)."""
    if not actions or not keys:
        return []
    by_region: dict[str, list[str]] = {}
    for key in keys:
        by_region.setdefault(key.split(":")[3], []).append(key)
    # AWS documents the ViaService value as s3.REGION.amazonaws.com in every partition.
    return [{"Effect": "Allow", "Action": actions, "Resource": sorted(arns),
             "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}}
            for region, arns in sorted(by_region.items())]


# What a published version captures of a function: its code (the package's
# content-hashed key) and its versioned configuration. Not in it, and so not
# hashed: ReservedConcurrentExecutions (a setting of the function, shared by
# all its versions), event sources, the name. AWS: "Lambda doesn't publish a
# version if the function's configuration and code haven't changed since the
# last version" -- a new AWS::Lambda::Version resource over a function with
# nothing new fails, and the whole update rolls back. So the version's
# logical ID must change exactly when one of these does. The function's
# Description is left out on purpose: it changes nothing a version runs, and
# whether Lambda counts it as new configuration is not documented; left out,
# a description-only change publishes nothing and cannot fail the update.
VERSIONED_PROPERTIES = ("CodeUri", "Runtime", "Handler", "MemorySize", "Timeout", "Environment", "Layers",
                        "Architectures", "EphemeralStorage", "Role", "VpcConfig",
                        "DeadLetterQueue", "Tracing", "KmsKeyArn", "FileSystemConfigs", "LoggingConfig",
                        "SnapStart", "RuntimeManagementConfig", "ImageConfig", "PackageType")


def function_version(logical: str, properties: dict) -> str:
    """The logical ID of a function's version: it changes exactly when the
    code or the versioned configuration does (VERSIONED_PROPERTIES), so
    that CloudFormation publishes a version then and only then."""
    versioned = {key: value for key, value in properties.items() if key in VERSIONED_PROPERTIES}
    digest = hashlib.sha256(json.dumps(versioned, sort_keys=True).encode()).hexdigest()[:12]
    return f"{logical}FunctionVersion{digest}"


def function_environment(config: DeployConfig) -> dict:
    variables = {"BUCKETSYNC_WORK_BUCKET": {"Ref": "WorkBucket"}, "BUCKETSYNC_WORK_PREFIX": ""}
    topic = _topic_ref(config)
    if topic:
        variables["BUCKETSYNC_SNS_TOPIC_ARN"] = topic
        variables["BUCKETSYNC_NOTIFY_ON"] = config.notify_on
    if config.notify_after_idle_runs:
        variables["BUCKETSYNC_NOTIFY_AFTER_IDLE_RUNS"] = str(config.notify_after_idle_runs)
    if config.datasync_tasks:
        variables[TASKS_VARIABLE] = datasync_template.tasks_environment(config.datasync_tasks)
    # The names the functions accept in an input (never a secret's value).
    variables["BUCKETSYNC_ENDPOINT_SECRETS"] = ",".join(config.endpoint_secrets)
    return variables


# Lambda refuses a function whose environment variables take more than 4 KB
# in all (CreateFunction/UpdateFunctionConfiguration: "Lambda was unable to
# configure your environment variables because the environment variables you
# have provided exceeded the 4KB limit. String measured: {...}"), counted
# here as Lambda measures it: the variables as one compact JSON object. Values CloudFormation fills in count at the longest
# they can resolve to, so a stack that passes here cannot fail there.
ENVIRONMENT_BYTES = 4096
_LONGEST_ARN = len("arn:aws-iso-b:datasync:us-isob-east-1:123456789012:task/task-0123456789abcdef0")
_LONGEST_RESOLVED = {"Ref": 256, "Fn::GetAtt": 256}   # a bucket name (63), a topic ARN (at most 256)


def environment_bytes(variables: dict) -> int:
    """The size Lambda measures of these variables: the map as compact JSON
    (its error quotes the "String measured", braces, quotes and escapes
    included), placeholders resolved at their longest (`${X}` in Fn::Sub: a
    DataSync task's ARN), non-ASCII text counted escaped or not, whichever
    is longer."""
    def resolved(value) -> str:
        if isinstance(value, str):
            return value
        (function, argument), = value.items()
        if function == "Fn::Sub":
            text = argument if isinstance(argument, str) else argument[0]
            return re.sub(r"\$\{[^}]+\}", "x" * _LONGEST_ARN, text)
        return "x" * _LONGEST_RESOLVED[function]
    measured = {name: resolved(value) for name, value in variables.items()}
    return max(len(json.dumps(measured, separators=(",", ":"), ensure_ascii=ascii).encode()) for ascii in (True, False))


def check_environment(function: str, variables: dict) -> None:
    size = environment_bytes(variables)
    if size > ENVIRONMENT_BYTES:
        largest = max(variables, key=lambda name: environment_bytes({name: variables[name]}))
        raise ConfigError(f"function {function}: its environment variables would take up to {size:,} bytes, more "
                          f"than Lambda's 4 KB ({ENVIRONMENT_BYTES:,}); the largest is {largest} (from "
                          f"DATASYNC_TASKS or MIRRORS: use fewer or shorter entries)")


def deployed(file: LambdaFile, config: DeployConfig) -> bool:
    """Whether the stack has this function. A function run by a trigger
    exists (with its role, queue, rule, permission) only when something
    triggers it: the mirror function with MIRRORS, the DataSync notifier
    with DATASYNC_TASKS and a topic to notify. The state machine's
    functions always exist."""
    trigger = file.front_matter.get("Trigger")
    if trigger == "mirror-queue":
        return bool(config.mirrors)
    if trigger == "datasync-events":
        return bool(config.datasync_tasks) and _topic_ref(config) is not None
    return True


def build(config: DeployConfig, account: str, code_bucket: str, code_key: str) -> dict:
    names = Names(config, account)
    files = [file for file in lambda_files() if deployed(file, config)]
    resources = Resources(_work_bucket(config))
    functions, substitutions = _functions(config, names, files, code_bucket, code_key)
    resources.update(functions)
    resources.update(_state_machine(config, names, files, substitutions))
    resources.update(_topic(config, names))
    resources.update(_alarms(config, names))
    notifier = next((f"{f.logical_name}Function" for f in files if f.front_matter.get("Trigger") == "datasync-events"),
                    None)
    resources.update(datasync_template.resources(config, names, notifier))
    if config.schedules:
        resources.update(_schedules(config, names))
    mirror_function = next((f for f in files if f.front_matter.get("Trigger") == "mirror-queue"), None)
    if mirror_function:
        resources.update(mirror_template.resources(config, int(mirror_function.front_matter.get("Timeout", 60)),
                                                   _alarm_actions(config)))

    outputs = {
        "StateMachineArn": {"Value": {"Ref": "StateMachine"}},
        "AliasArn": {"Value": names.alias_arn},
        "WorkBucketName": {"Value": {"Ref": "WorkBucket"}},
        "ConsoleUrl": {"Value": f"https://{console_host(config.region)}/states/home?region="
                                f"{config.region}#/statemachines/view/{names.alias_arn}"},
    }
    if _topic_ref(config):
        outputs["NotificationTopicArn"] = {"Value": _topic_ref(config)}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": f"bucketsync {config.stack_name}: one-way S3 bucket sync on Step Functions",
        "Resources": dict(resources),   # a plain dict again: SAM rewrites it in place
        "Outputs": outputs,
    }




def _work_bucket(config: DeployConfig) -> dict:
    """The stack's own bucket: scratch files, reports, map results."""
    resources = Resources()
    resources["WorkBucket"] = {
        "Type": "AWS::S3::Bucket",
        # Kept when the stack is deleted (`fab destroy` empties it only when
        # told to), except when the stack's first create fails and rolls back:
        # then CloudFormation deletes it (still empty) rather than orphan it.
        # UpdateReplacePolicy has no such value: a replaced bucket is kept.
        "DeletionPolicy": "RetainExceptOnCreate",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {"Rules": [{
                "Id": f"expire-{prefix.rstrip('/')}", "Status": "Enabled", "Prefix": prefix,
                "ExpirationInDays": config.work_bucket_retention_days,
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}} for prefix in (work.RUNS, work.MAP_RESULTS)]},
        },
    }
    resources["WorkBucketPolicy"] = {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {"Bucket": {"Ref": "WorkBucket"}, "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [_work_arn(False), _work_arn(True)],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}},
    }
    return resources


def _functions(config: DeployConfig, names: Names, files, code_bucket: str, code_key: str) -> tuple[dict, dict]:
    """Per lambda_functions/ file: its role, log group, function and
    version; and the definition's substitutions (the version ARNs)."""
    resources = Resources()
    environment = function_environment(config)
    # Filled in by CloudFormation: the function versions the definition calls, the work bucket.
    substitutions: dict = {"WorkBucket": {"Ref": "WorkBucket"}}
    for file in files:
        logical = file.logical_name
        name = names.function(file)
        log_group = f"/aws/lambda/{name}"
        statements = [{"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                       "Resource": names.log_group_arn(log_group)}]
        statements += access_statements(file, config, names)
        if file.front_matter.get("Trigger") == "mirror-queue":   # the Lambda service polls the queue as the role
            statements += mirror_template.function_statements(config)
        resources[f"{logical}Role"] = {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": _assume("lambda.amazonaws.com"),
                           "Policies": [{"PolicyName": "least-privilege",
                                         "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}]},
        }
        resources[f"{logical}LogGroup"] = {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": log_group, "RetentionInDays": config.log_retention_days},
        }
        front = file.front_matter
        properties = {
            "FunctionName": name,
            "CodeUri": {"Bucket": code_bucket, "Key": code_key},
            "Handler": f"{file.module}.handler",
            "Runtime": front.get("Runtime", RUNTIME),
            "Architectures": front.get("Architectures", [ARCHITECTURE]),
            "MemorySize": front.get("MemorySize", 256),
            "Timeout": front.get("Timeout", 60),
            "Role": {"Fn::GetAtt": [f"{logical}Role", "Arn"]},
            "Environment": {"Variables": dict(environment, **(front.get("Environment") or {}).get("Variables", {}))},
        }
        for key in ("Description", "EphemeralStorage", "ReservedConcurrentExecutions"):
            if key in front:
                properties[key] = front[key]
        if file.module == "copy_chunk" and config.lambda_concurrency:
            properties["ReservedConcurrentExecutions"] = config.lambda_concurrency
        if front.get("Trigger") == "mirror-queue":   # deployed only with MIRRORS
            properties["Events"] = mirror_template.function_events(config)
            properties["Environment"]["Variables"][MIRRORS_VARIABLE] = mirror_template.environment(config)
        check_environment(name, properties["Environment"]["Variables"])
        resources[f"{logical}Function"] = {"Type": "AWS::Serverless::Function",
                                           "DependsOn": f"{logical}LogGroup", "Properties": properties}
        if not file.is_state:   # run by its trigger, unqualified: no version to pin
            continue
        version = function_version(logical, properties)
        resources[version] = {
            "Type": "AWS::Lambda::Version",
            # Kept when a newer version replaces it: older state machine
            # versions (rollback targets) still call it. `fab deploy` deletes
            # the versions that no kept state machine version calls.
            "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
            "Properties": {"FunctionName": {"Ref": f"{logical}Function"},
                           "Description": f"bucketsync {version[len(logical) + len('FunctionVersion'):]}"},
        }
        substitutions[file.arn_placeholder] = {"Ref": version}
    return resources, substitutions


def _state_machine(config: DeployConfig, names: Names, files, substitutions: dict) -> dict:
    """The state machine, its role and its log group."""
    resources = Resources()
    rendered = definition.render(dict({name: f"${{{name}}}" for name in substitutions},
                                      MapConcurrency=config.map_concurrency, Partition=names.partition))
    executions = names.executions_arn
    work_objects = {"Fn::Sub": "${WorkBucket.Arn}/" + work.RUNS + "*"}
    map_results = {"Fn::Sub": "${WorkBucket.Arn}/" + work.MAP_RESULTS + "*"}
    resources["StateMachineRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {"AssumeRolePolicyDocument": _assume("states.amazonaws.com"), "Policies": [{
            "PolicyName": "least-privilege", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                # The definition calls function versions only (function:NAME:N);
                # Lambda authorises a qualified call against the qualified ARN.
                {"Effect": "Allow", "Action": ["lambda:InvokeFunction"],
                 "Resource": sorted(names.function_arn(file) + ":*" for file in files if file.is_state)},
                # The Distributed Maps' ItemReader reads the chunk indexes.
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [work_objects]},
                # Their ResultWriter writes the child executions' results
                # (multipart when large), under a prefix of its own.
                {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts",
                                               "s3:AbortMultipartUpload"], "Resource": [map_results]},
                # A Distributed Map runs its items as child executions of this state machine.
                {"Effect": "Allow", "Action": ["states:StartExecution"], "Resource": [names.state_machine_arn]},
                {"Effect": "Allow", "Action": ["states:DescribeExecution", "states:StopExecution"],
                 "Resource": [f"{executions}:*", f"{executions}/*"]},
                # CloudWatch Logs delivery: AWS accepts these only on "*".
                {"Effect": "Allow", "Action": ["logs:CreateLogDelivery", "logs:GetLogDelivery",
                                               "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
                                               "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                                               "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"],
                 "Resource": "*"},
            ]}}]},
    }
    resources["StateMachineLogGroup"] = {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {"LogGroupName": f"/aws/vendedlogs/states/{names.state_machine}",
                       "RetentionInDays": config.log_retention_days},
    }
    resources["StateMachine"] = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "StateMachineName": names.state_machine,
            "StateMachineType": "STANDARD",
            "RoleArn": {"Fn::GetAtt": ["StateMachineRole", "Arn"]},
            "DefinitionString": json.dumps(rendered, sort_keys=True),
            "DefinitionSubstitutions": substitutions,
            "LoggingConfiguration": {"Level": "ERROR", "IncludeExecutionData": False, "Destinations": [
                {"CloudWatchLogsLogGroup": {"LogGroupArn": {"Fn::GetAtt": ["StateMachineLogGroup", "Arn"]}}}]},
        },
    }
    return resources


def _topic(config: DeployConfig, names: Names) -> dict:
    """The notification topic, when the stack makes its own, and its key.

    AWS: a CloudWatch alarm cannot publish to a topic encrypted with the AWS
    managed key `alias/aws/sns` (its key policy, which no one can change,
    does not admit cloudwatch.amazonaws.com): the alarm's notification is
    dropped without an error anywhere. So the topic has a customer managed
    key whose policy admits CloudWatch. The functions that publish get the
    key through their roles (topic_key_statements), which the first
    statement (the account's IAM policies may grant the key) makes work. No
    EventBridge rule targets the topic, so events.amazonaws.com is not
    admitted (were one to, note that EventBridge sends no aws:SourceAccount
    or aws:SourceArn to KMS: conditions on them would drop its events)."""
    resources = Resources()
    if _own_topic(config):
        resources[TOPIC_KEY] = {"Type": "AWS::KMS::Key", "Properties": {
            "Description": f"bucketsync {config.stack_name}: encrypts the notification topic",
            "EnableKeyRotation": True,
            "KeyPolicy": {"Version": "2012-10-17", "Statement": [
                {"Sid": "AccountAdministersAndIAMPoliciesGrant", "Effect": "Allow",
                 "Principal": {"AWS": f"arn:{names.partition}:iam::{names.account}:root"},
                 "Action": "kms:*", "Resource": "*"},
                # AWS's SNS guide (encrypted topics and event sources from AWS
                # services); confused-deputy protection: this account's alarms only.
                {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow",
                 "Principal": {"Service": "cloudwatch.amazonaws.com"},
                 "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
                 "Condition": {"StringEquals": {"aws:SourceAccount": names.account}}}]}}}
        resources["NotificationTopic"] = {"Type": "AWS::SNS::Topic",
                                          "Properties": {"TopicName": f"{config.stack_name}-notifications",
                                                         "KmsMasterKeyId": {"Fn::GetAtt": [TOPIC_KEY, "Arn"]}}}
        resources["NotificationSubscription"] = {
            "Type": "AWS::SNS::Subscription",
            "Properties": {"TopicArn": {"Ref": "NotificationTopic"}, "Protocol": "email",
                           "Endpoint": config.notification_email}}
    return resources


def _alarm_actions(config: DeployConfig) -> dict:
    topic = _topic_ref(config)
    return {"AlarmActions": [topic]} if topic else {}


# The executions that did not succeed: Step Functions counts each ending in
# its own metric, so the alarm sums the three.
UNSUCCESSFUL_EXECUTIONS = ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted")


def _alarms(config: DeployConfig, names: Names) -> dict:
    """One alarm for executions that failed, timed out or were aborted (of
    every version and alias: Step Functions reports them under the state
    machine's ARN): metric math over the three metrics. FILL(m, 0): a
    metric with no data point in a period (no such ending) would otherwise
    leave the sum with none either, and hide the other two."""
    queries = [{"Id": metric.removeprefix("Executions").lower(), "ReturnData": False, "MetricStat": {
        "Metric": {"Namespace": "AWS/States", "MetricName": metric,
                   "Dimensions": [{"Name": "StateMachineArn", "Value": {"Ref": "StateMachine"}}]},
        "Period": 300, "Stat": "Sum"}} for metric in UNSUCCESSFUL_EXECUTIONS]
    total = " + ".join(f"FILL({query['Id']}, 0)" for query in queries)
    return {"FailedExecutionsAlarm": {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": f"bucketsync {config.stack_name}: an execution failed, timed out or was aborted",
            "Metrics": queries + [{"Id": "unsuccessful", "Expression": total, "ReturnData": True,
                                   "Label": "Executions failed, timed out or aborted"}],
            "EvaluationPeriods": 1, "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching",
            **_alarm_actions(config)}}}


def schedule_description(execution_input: dict) -> str:
    parts = []
    if "source" in execution_input:
        parts.append(f"{execution_input['source']} -> {execution_input['destination']}")
    if isinstance(execution_input.get("datasync"), dict):
        parts.append(f"DataSync task {execution_input['datasync'].get('task')}")
    return f"bucketsync {' and '.join(parts)}"[:512]


# How long Scheduler keeps retrying a start that fails (throttling, a
# missing permission) before the event goes to the dead-letter queue.
SCHEDULE_RETRY = {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10}


def _schedules(config: DeployConfig, names: Names) -> dict:
    """The schedule group, its schedules, their role, and a dead-letter queue
    (with an alarm) for starts that fail after Scheduler's retries.

    Step Functions authorises StartExecution of an alias against the
    unqualified state machine ARN; the StateMachineQualifier condition keeps
    the role to the `live` alias. The trust policy admits only this
    account's schedules of this group (confused-deputy protection)."""
    resources = Resources({
        "ScheduleGroup": {"Type": "AWS::Scheduler::ScheduleGroup", "Properties": {"Name": names.schedule_group}},
        "ScheduleDeadLetterQueue": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": f"{config.stack_name}-schedule-dlq", "MessageRetentionPeriod": 1209600,
            "SqsManagedSseEnabled": True}},
        "ScheduleDeadLetterAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmDescription": f"bucketsync {config.stack_name}: a scheduled sync could not be started "
                                f"(see the messages in the dead-letter queue)",
            "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "QueueName"]}}],
            "Statistic": "Maximum", "Period": 300, "EvaluationPeriods": 1, "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching",
            **_alarm_actions(config)}},
        "SchedulerRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": _assume("scheduler.amazonaws.com", {
                    "StringEquals": {"aws:SourceAccount": names.account},
                    "ArnLike": {"aws:SourceArn": f"{names.schedule_group_arn}"}}),
                "Policies": [{"PolicyName": "start-sync", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": ["states:StartExecution"], "Resource": [names.state_machine_arn],
                     "Condition": {"StringEquals": {"states:StateMachineQualifier": ALIAS}}},
                    {"Effect": "Allow", "Action": ["sqs:SendMessage"],
                     "Resource": [{"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}]}]}}]},
        },
    })
    for schedule in config.schedules:
        resources[schedule.logical_name] = {
            "Type": "AWS::Scheduler::Schedule",
            "Properties": {
                "Name": schedule.name,
                "GroupName": {"Ref": "ScheduleGroup"},
                "Description": schedule_description(schedule.input),
                "ScheduleExpression": schedule.expression,
                "ScheduleExpressionTimezone": schedule.timezone,
                "FlexibleTimeWindow": {"Mode": "OFF"},
                "State": "ENABLED" if schedule.enabled else "DISABLED",
                "Target": {"Arn": names.alias_arn, "RoleArn": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
                           "Input": json.dumps(schedule.input, sort_keys=True),
                           "RetryPolicy": dict(SCHEDULE_RETRY),
                           "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}}},
            },
        }
    return resources
