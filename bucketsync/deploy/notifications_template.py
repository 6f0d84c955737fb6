"""Notifications in the stack: the topic (when the stack makes its own) and
the key that encrypts it, and the alarm on executions that did not succeed."""
from __future__ import annotations

from ..project.config import DeployConfig
from .resources import Resources
from .stack_names import Names


def topic_ref(config: DeployConfig):
    if config.sns_topic_arn:
        return config.sns_topic_arn
    return {"Ref": "NotificationTopic"} if config.notification_email else None


def own_topic(config: DeployConfig) -> bool:
    """The stack makes its own topic (and the key that encrypts it)."""
    return bool(config.notification_email and not config.sns_topic_arn)


TOPIC_KEY = "NotificationKey"


def topic_key_statements(config: DeployConfig) -> list[dict]:
    """What a function that publishes to the stack's own topic needs of its
    key: SNS encrypts each message with a data key it asks KMS for on the
    publisher's behalf (and with the publisher's rights), so publishing
    needs kms:GenerateDataKey and kms:Decrypt on the topic's key, through
    SNS only (kms:ViaService, which AWS documents for SNS)."""
    if not own_topic(config):
        return []   # SNS_TOPIC_ARN: its key, if any, is its owner's to grant
    return [{"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": {"Fn::GetAtt": [TOPIC_KEY, "Arn"]},
             "Condition": {"StringEquals": {"kms:ViaService": f"sns.{config.region}.amazonaws.com"}}}]


def topic_resources(config: DeployConfig, names: Names) -> dict:
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
    if own_topic(config):
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


def alarm_actions(config: DeployConfig) -> dict:
    topic = topic_ref(config)
    return {"AlarmActions": [topic]} if topic else {}


# The executions that did not succeed: Step Functions counts each ending in
# its own metric, so the alarm sums the three.
UNSUCCESSFUL_EXECUTIONS = ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted")


def failed_executions_alarm(config: DeployConfig, names: Names) -> dict:
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
            **alarm_actions(config)}}}
