"""The state machine in the stack (its role and log group, the definition
with its substitutions) and the schedules that start it."""
from __future__ import annotations

import json

from ..project import definition
from .. import work
from ..project.config import DeployConfig
from .iam_policies import assume_role
from .notifications_template import alarm_actions
from .resources import Resources
from ..project.schedule_checks import Schedule
from .stack_names import ALIAS, Names


def state_machine(config: DeployConfig, names: Names, files, substitutions: dict) -> dict:
    """The state machine, its role and its log group."""
    resources = Resources()
    rendered = definition.render(dict({name: f"${{{name}}}" for name in substitutions},
                                      MapConcurrency=config.map_concurrency, Partition=names.partition))
    resources["StateMachineRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {"AssumeRolePolicyDocument": assume_role("states.amazonaws.com"), "Policies": [{
            "PolicyName": "least-privilege",
            "PolicyDocument": {"Version": "2012-10-17", "Statement": _role_statements(names, files)}}]},
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


def _role_statements(names: Names, files) -> list[dict]:
    """What the state machine's role may do."""
    executions = names.executions_arn
    work_objects = {"Fn::Sub": "${WorkBucket.Arn}/" + work.RUNS + "*"}
    map_results = {"Fn::Sub": "${WorkBucket.Arn}/" + work.MAP_RESULTS + "*"}
    return [
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
    ]


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


def schedules(config: DeployConfig, names: Names) -> dict:
    """The schedule group, its schedules, their role, and a dead-letter queue
    (with an alarm) for starts that fail after Scheduler's retries.

    Step Functions authorises StartExecution of an alias against the
    unqualified state machine ARN; the StateMachineQualifier condition keeps
    the role to the `live` alias. The trust policy admits only this
    account's schedules of this group (confused-deputy protection)."""
    resources = Resources(_schedule_plumbing(config, names))
    for schedule in config.schedules:
        resources[schedule.logical_name] = _schedule(schedule, names)
    return resources


def _schedule_plumbing(config: DeployConfig, names: Names) -> dict:
    """What every schedule shares: the group, the role, the dead-letter queue and its alarm."""
    return {
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
            **alarm_actions(config)}},
        "SchedulerRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": assume_role("scheduler.amazonaws.com", {
                    "StringEquals": {"aws:SourceAccount": names.account},
                    "ArnLike": {"aws:SourceArn": f"{names.schedule_group_arn}"}}),
                "Policies": [{"PolicyName": "start-sync", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": ["states:StartExecution"], "Resource": [names.state_machine_arn],
                     "Condition": {"StringEquals": {"states:StateMachineQualifier": ALIAS}}},
                    {"Effect": "Allow", "Action": ["sqs:SendMessage"],
                     "Resource": [{"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}]}]}}]},
        },
    }


def _schedule(schedule: Schedule, names: Names) -> dict:
    return {
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
