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

from . import datasync_template, functions_template, mirror_template, notifications_template
from . import state_machine_template
from .. import work
from ..project.config import DeployConfig
from ..project.frontmatter import lambda_files
from .iam_policies import work_bucket_arn
from .notifications_template import alarm_actions, topic_ref
from .resources import Resources
from .stack_names import Names, console_host


def build(config: DeployConfig, account: str, code_bucket: str, code_key: str) -> dict:
    names = Names(config, account)
    files = [file for file in lambda_files() if functions_template.deployed(file, config)]
    resources = Resources(_work_bucket(config))
    functions, substitutions = functions_template.resources(config, names, files, code_bucket, code_key)
    resources.update(functions)
    resources.update(state_machine_template.state_machine(config, names, files, substitutions))
    resources.update(notifications_template.topic_resources(config, names))
    resources.update(notifications_template.failed_executions_alarm(config, names))
    notifier = next((f"{f.logical_name}Function" for f in files if f.front_matter.get("Trigger") == "datasync-events"),
                    None)
    resources.update(datasync_template.resources(config, names, notifier))
    if config.schedules:
        resources.update(state_machine_template.schedules(config, names))
    mirror_function = next((f for f in files if f.front_matter.get("Trigger") == "mirror-queue"), None)
    if mirror_function:
        resources.update(mirror_template.resources(config, int(mirror_function.front_matter.get("Timeout", 60)),
                                                   alarm_actions(config)))
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": f"bucketsync {config.stack_name}: one-way S3 bucket sync on Step Functions",
        "Resources": dict(resources),   # a plain dict again: SAM rewrites it in place
        "Outputs": _outputs(config, names),
    }


def _outputs(config: DeployConfig, names: Names) -> dict:
    outputs = {
        "StateMachineArn": {"Value": {"Ref": "StateMachine"}},
        "AliasArn": {"Value": names.alias_arn},
        "WorkBucketName": {"Value": {"Ref": "WorkBucket"}},
        "ConsoleUrl": {"Value": f"https://{console_host(config.region)}/states/home?region="
                                f"{config.region}#/statemachines/view/{names.alias_arn}"},
    }
    if topic_ref(config):
        outputs["NotificationTopicArn"] = {"Value": topic_ref(config)}
    return outputs


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
            "Resource": [work_bucket_arn(False), work_bucket_arn(True)],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}},
    }
    return resources
