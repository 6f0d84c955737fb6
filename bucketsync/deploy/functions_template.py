"""The stack's Lambda functions, one per lambda_functions/ file that is
deployed: its role, log group, function and (for the state machine's
functions) the version the definition calls."""
from __future__ import annotations

import hashlib
import json

from ..datasync.tasks import TASKS_VARIABLE
from ..mirror import MIRRORS_VARIABLE
from . import datasync_template, mirror_template
from ..errors import FrontMatterError
from ..project.config import DeployConfig
from .environment_limit import check_environment
from ..project.frontmatter import LambdaFile
from .iam_policies import access_statements, assume_role
from .notifications_template import topic_ref
from .resources import Resources
from .stack_names import Names

RUNTIME = "python3.12"


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
    topic = topic_ref(config)
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


def _environment_for(file: LambdaFile, environment: dict) -> dict:
    """What one function is given: the task definitions only to the functions
    that reach DataSync (their front matter's `datasync` access), so that a
    DATASYNC_TASKS edit publishes new versions of those alone, and the
    others keep their 4 KB of variables."""
    if "datasync" in (file.front_matter.get("Access") or {}):
        return environment
    return {name: value for name, value in environment.items() if name != TASKS_VARIABLE}


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
        return bool(config.datasync_tasks) and topic_ref(config) is not None
    return True


def resources(config: DeployConfig, names: Names, files, code_bucket: str, code_key: str) -> tuple[dict, dict]:
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
        resources[f"{logical}Role"] = _role(file, config, names, log_group)
        resources[f"{logical}LogGroup"] = {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": log_group, "RetentionInDays": config.log_retention_days},
        }
        properties = function_properties(file, config, name, _environment_for(file, environment),
                                         code_bucket, code_key)
        check_environment(name, properties["Environment"]["Variables"])
        resources[f"{logical}Function"] = {"Type": "AWS::Serverless::Function",
                                           "DependsOn": f"{logical}LogGroup", "Properties": properties}
        if not file.is_state:   # run by its trigger, unqualified: no version to pin
            continue
        version = function_version(logical, properties)
        resources[version] = _version(logical, version)
        substitutions[file.arn_placeholder] = {"Ref": version}
    return resources, substitutions


def _role(file: LambdaFile, config: DeployConfig, names: Names, log_group: str) -> dict:
    """The function's own role: its log group, and what its `Access` grants."""
    statements = [{"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                   "Resource": names.log_group_arn(log_group)}]
    statements += access_statements(file, config, names)
    if file.front_matter.get("Trigger") == "mirror-queue":   # the Lambda service polls the queue as the role
        statements += mirror_template.function_statements(config)
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {"AssumeRolePolicyDocument": assume_role("lambda.amazonaws.com"),
                       "Policies": [{"PolicyName": "least-privilege",
                                     "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}]},
    }


def function_properties(file: LambdaFile, config: DeployConfig, name: str, environment: dict,
                        code_bucket: str, code_key: str) -> dict:
    """The function's SAM properties: its front matter over the defaults."""
    logical = file.logical_name
    front = file.front_matter
    properties = {
        "FunctionName": name,
        "CodeUri": {"Bucket": code_bucket, "Key": code_key},
        "Handler": f"{file.module}.handler",
        "Runtime": front.get("Runtime", RUNTIME),
        "Architectures": architectures(file, config),
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
    return properties


def architectures(file: LambdaFile, config: DeployConfig) -> list[str]:
    """LAMBDA_ARCHITECTURE, the one instruction set of the code zip's awscrt
    wheel: a front matter naming another would get a native library it
    cannot load, since one zip serves every function."""
    configured = [config.lambda_architecture]
    named = file.front_matter.get("Architectures", configured)
    if named != configured:
        raise FrontMatterError(f"{file.path.name}: Architectures {named!r} differs from LAMBDA_ARCHITECTURE "
                               f"{config.lambda_architecture!r}; the one code zip carries awscrt for that one only")
    return configured


def _version(logical: str, version: str) -> dict:
    return {
        "Type": "AWS::Lambda::Version",
        # Kept when a newer version replaces it: older state machine
        # versions (rollback targets) still call it. `fab deploy` deletes
        # the versions that no kept state machine version calls.
        "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
        "Properties": {"FunctionName": {"Ref": f"{logical}Function"},
                       "Description": f"bucketsync {version[len(logical) + len('FunctionVersion'):]}"},
    }
