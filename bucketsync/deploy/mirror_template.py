"""MIRRORS in the template: per mirror an EventBridge rule for the source
bucket's "Object Created"/"Object Deleted" events (under its prefix), all
into one SQS queue with a dead-letter queue and an alarm on it, read by the
`mirror_keys` function with partial batch responses.

The source buckets must send their events to EventBridge (the bucket's
"Amazon EventBridge: On" setting, PutBucketNotificationConfiguration with
EventBridgeConfiguration); the README says so, and the rule sees nothing
until then."""
from __future__ import annotations

import json

from ..mirror import DETAIL_TYPES, Mirror
from .resources import Resources

# AWS: set the queue's visibility timeout to at least six times the
# function's timeout, so a message is not handed out again while a retried
# invocation still works on it.
VISIBILITY_FACTOR = 6
MAX_RECEIVES = 5      # attempts before a message goes to the dead-letter queue
BATCH_SIZE = 10
QUEUE = "MirrorQueue"
DEAD_LETTERS = "MirrorDeadLetterQueue"


def rule_id(mirror: Mirror) -> str:
    from ..project.setting_checks import logical_id
    return logical_id("MirrorRule", mirror.name)


def event_pattern(mirror: Mirror) -> dict:
    detail: dict = {"bucket": {"name": [mirror.request.source]}}
    if mirror.request.source_prefix:
        detail["object"] = {"key": [{"prefix": mirror.request.source_prefix}]}
    return {"source": ["aws.s3"], "detail-type": list(DETAIL_TYPES), "detail": detail}


def resources(config, function_timeout: int, alarm_actions: dict) -> dict:
    if not config.mirrors:
        return {}
    queue_arn = {"Fn::GetAtt": [QUEUE, "Arn"]}
    out = Resources({
        DEAD_LETTERS: {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": f"{config.stack_name}-mirror-dlq", "MessageRetentionPeriod": 1209600,
            "SqsManagedSseEnabled": True}},
        QUEUE: {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": f"{config.stack_name}-mirror", "SqsManagedSseEnabled": True,
            "VisibilityTimeout": VISIBILITY_FACTOR * function_timeout, "MessageRetentionPeriod": 345600,
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [DEAD_LETTERS, "Arn"]},
                              "maxReceiveCount": MAX_RECEIVES}}},
        "MirrorDeadLetterAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmDescription": f"bucketsync {config.stack_name}: a mirrored key failed {MAX_RECEIVES} times "
                                f"(its event is in the mirror's dead-letter queue; the next full sync mends it)",
            "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [DEAD_LETTERS, "QueueName"]}}],
            "Statistic": "Maximum", "Period": 300, "EvaluationPeriods": 1, "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching",
            **alarm_actions}},
        "MirrorQueuePolicy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {
            "Queues": [{"Ref": QUEUE}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage", "Resource": queue_arn,
                # Only this stack's rules may send (confused-deputy protection).
                "Condition": {"ArnEquals": {"aws:SourceArn": [{"Fn::GetAtt": [rule_id(m), "Arn"]}
                                                              for m in config.mirrors]}}}]}}},
    })
    for mirror in config.mirrors:
        out[rule_id(mirror)] = {"Type": "AWS::Events::Rule", "Properties": {
            "Description": f"bucketsync mirror {mirror.name}: s3://{mirror.request.source}/"
                           f"{mirror.request.source_prefix} -> s3://{mirror.request.destination}/"
                           f"{mirror.request.destination_prefix}"[:512],
            "EventPattern": event_pattern(mirror), "State": "ENABLED",
            "Targets": [{"Id": "mirror-queue", "Arn": queue_arn}]}}
    return out


def function_events(config) -> dict:
    """The mirror function's SQS event source (SAM `Events`), at most
    MIRROR_CONCURRENCY executions at once (AWS: 2 to 1,000; without it an
    SQS event source scales to 1,000 concurrent executions)."""
    return {"Queue": {"Type": "SQS", "Properties": {
        "Queue": {"Fn::GetAtt": [QUEUE, "Arn"]}, "BatchSize": BATCH_SIZE,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": config.mirror_concurrency}}}}


def function_statements(config) -> list[dict]:
    """What the Lambda service does with the function's role to poll the queue."""
    if not config.mirrors:
        return []
    return [{"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                                           "sqs:ChangeMessageVisibility"],
             "Resource": {"Fn::GetAtt": [QUEUE, "Arn"]}}]


def environment(config) -> str:
    return json.dumps([m.to_dict() for m in config.mirrors], separators=(",", ":"), sort_keys=True)
