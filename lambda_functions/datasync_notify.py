# ---
# Description: Email the outcome of DataSync task executions (EventBridge "DataSync Task Execution State Change").
# MemorySize: 256
# Timeout: 60
# Trigger: datasync-events
# Access:
#   notifications: [publish]
#   datasync: [follow]
# ---
"""Lambda handler for the DataSync notification rule (logic in bucketsync.datasync.execution_events)."""
import os

from bucketsync import clients, notify
from bucketsync.datasync import execution_events


def handler(event, context):
    topic = os.environ.get("BUCKETSYNC_SNS_TOPIC_ARN")
    sns = notify.sns_client(topic) if topic else None
    return {"sent": execution_events.handle(event, clients.datasync_client(), sns, topic)}
